"""The Python API: the command line's loop in a few calls.

    import prefc
    spec = prefc.load("specs/paper.pref")          # or prefc.load(spec_text)
    build = spec.compile("build")
    adapter = prefc.train(build.dataset("sft"), preference="moralis(kappa=0.5)", out="adapters/moralis")
    summary = prefc.evaluate(build.rubric("eval"), agent=f"local:smollm2-135m-instruct?adapter={adapter}",
                             out="results/moralis")

Every mistake raises a :class:`prefc.PrefcError` (:mod:`prefc.errors`): a spec with errors a
:class:`prefc.CompileError` carrying every diagnostic, an unknown name a :class:`prefc.UnknownGame`,
:class:`prefc.UnknownPreference` or :class:`prefc.UnknownBlock`, a bad parameter or preference
application a :class:`prefc.SelectionError`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefc.compiler.check import CheckedSpec, check_file
from prefc.errors import UnknownBlock, UnknownGame, UnknownPreference

if TYPE_CHECKING:
    from prefc.artefacts import Summary
    from prefc.compiler.solution import Solution
    from prefc.compiler.solve.explain import Explanation
    from prefc.runtime.protocol import Agent

__all__ = ["Build", "Spec", "load", "train", "evaluate"]


@dataclass
class Build:
    """A compiled spec on disk (``prefc compile``'s output directory, ``DIR/<spec>/``).

    Attributes:
        directory: The build directory.
    """

    directory: Path

    def dataset(self, name: str) -> Path:
        """The directory of a dataset block (``train.jsonl``, ``val.jsonl``, ``dataset.json``).

        Args:
            name: The dataset block's name.

        Raises:
            prefc.UnknownBlock: The build holds no such dataset.
        """
        path = self.directory / name
        if not (path / "train.jsonl").exists():
            known = sorted(p.parent.name for p in self.directory.glob("*/train.jsonl"))
            raise UnknownBlock("dataset", name, known, str(self.directory))
        return path

    def rubric(self, name: str) -> Path:
        """The items file of a rubric block (``<name>.jsonl``).

        Args:
            name: The rubric block's name.

        Raises:
            prefc.UnknownBlock: The build holds no such rubric.
        """
        path = self.directory / f"{name}.jsonl"
        if not path.exists():
            known = sorted(p.stem for p in self.directory.glob("*.jsonl") if (p.with_suffix(".json")).exists())
            raise UnknownBlock("rubric", name, known, str(self.directory))
        return path


@dataclass
class Spec:
    """A checked .pref spec (what :func:`load` returns).

    Attributes:
        checked: The checker's result: games, preferences, builds, sources, warnings.
    """

    checked: CheckedSpec

    @property
    def name(self) -> str:
        """The spec's name (its ``spec`` header, else its file name)."""
        return self.checked.name

    @property
    def games(self) -> list[str]:
        """The names of the spec's games, in declaration order."""
        return list(self.checked.games)

    @property
    def preferences(self) -> list[str]:
        """The names of the preferences the spec declares or imports."""
        return list(self.checked.preferences)

    def _game(self, game: str) -> str:
        if game not in self.checked.games:
            raise UnknownGame(game, list(self.checked.games), f"spec {self.name}")
        return game

    def _preference(self, preference: str) -> Any:
        from prefc.compiler.select import select_preferences

        name = preference.split("(", 1)[0].strip()
        if name not in self.checked.preferences:
            raise UnknownPreference(name, list(self.checked.preferences), f"spec {self.name}")
        return select_preferences(self.checked, preference)[0]

    def solve(self, game: str, preference: str = "economicus", **params: Any) -> Solution:
        """Solve one game for one preference at a parameter point.

        Args:
            game: The game's name.
            preference: A preference application such as ``moralis(kappa=0.5)`` (a bare name takes
                the preference's defaults).
            **params: Game parameter values (numbers, or strings like ``"1/3"``); the others keep
                their defaults.

        Raises:
            prefc.UnknownGame: No such game.
            prefc.UnknownPreference: No such preference.
            prefc.SelectionError: A parameter the game lacks, or a value outside its domain.
        """
        from prefc.compiler.ir import lower_spec
        from prefc.compiler.select import parse_settings
        from prefc.compiler.solve import GameSolver

        self._game(game)
        point = self._preference(preference)
        values = parse_settings(self.checked, game, [f"{k}={v}" for k, v in params.items()]) if params else {}
        ir = lower_spec(self.checked)
        return GameSolver(ir.games[game], ir.preference(point)).solve(dict(values))

    def explain(self, game: str, preference: str) -> Explanation:
        """The solution of a game as closed-form regimes in the parameters.

        Args:
            game: The game's name.
            preference: A preference name (its parameters stay symbolic), or an application such
                as ``moralis(kappa=0.5)`` (those parameters fixed).

        Raises:
            prefc.UnknownGame: No such game.
            prefc.UnknownPreference: No such preference.
            prefc.SelectionError: A malformed application or a value outside the domain.
            prefc.compiler.solve.SolveError: The game has no closed form for this preference.
        """
        from prefc.compiler.ir import lower_spec
        from prefc.compiler.solve.explain import explain

        self._game(game)
        point = self._preference(preference)
        fixed = {k: Fraction(v) for k, v in point.values} if "(" in preference else {}
        return explain(lower_spec(self.checked).games[game], self.checked.preferences[point.name], fixed=fixed)

    def compile(self, out: str | Path = "build", *, fmt: str = "trl", seed: int | None = None) -> Build:
        """Write solutions, datasets and rubrics under ``out/<spec>/``.

        Args:
            out: Output root.
            fmt: ``trl``, ``messages`` or ``openai`` rows.
            seed: Overrides every block's seed.

        Raises:
            prefc.SpecError: A block cannot be built (too few distinct rows, a template error,
                work above the limits).
        """
        from prefc.compiler.emit.build import compile_spec

        return Build(compile_spec(self.checked, out, fmt=fmt, seed=seed).directory)


def load(source: str | os.PathLike[str]) -> Spec:
    """Load and check a spec: a ``.pref`` file, or the text of one.

    A :class:`~pathlib.Path`, or a string without a newline that names an existing file or ends in
    ``.pref``, is a file; any other string is spec text (``use "preferences.pref"`` in it finds
    the standard library; diagnostics point into ``spec.pref``).

    Args:
        source: The spec file, or spec text.

    Raises:
        prefc.CompileError: With every diagnostic, if the spec has errors (or the file is missing).
    """
    if isinstance(source, os.PathLike) or ("\n" not in source and (source.endswith(".pref") or Path(source).is_file())):
        return Spec(check_file(os.fspath(source)))
    with tempfile.TemporaryDirectory(prefix="prefc-spec-") as tmp:
        path = Path(tmp) / "spec.pref"
        path.write_text(source, encoding="utf-8")
        return Spec(check_file(str(path)))


def train(
    dataset: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    preference: str | None = None,
    model: str | None = None,
    **config: Any,
) -> Path:
    """Fine-tune a model on a compiled dataset; returns the adapter directory.

    Progress goes to standard error (:mod:`prefc.progress`); the run's record is
    ``out/prefc_train.json``.

    Args:
        dataset: A dataset directory (``Build.dataset(name)``) or one JSONL file of rows.
        out: Where the adapter goes.
        preference: The preference whose rows to train on.
        model: Base model (default: the embedded SmolLM2-135M-Instruct).
        **config: Any other :class:`prefc.runtime.train.TrainConfig` field (``max_steps``, ``lora_r``, ...).

    Raises:
        prefc.runtime.train.TrainError: A missing or malformed dataset, no rows of the preference,
            a model that cannot be loaded, or checkpoints of an earlier run in ``out``.
    """
    from prefc.runtime.train import TrainConfig
    from prefc.runtime.train import train as _train

    result = _train(Path(dataset), Path(out), config=TrainConfig(model=model, preference=preference, **config))
    return result.out_dir


def evaluate(
    rubric: str | os.PathLike[str], *, agent: str | Agent, out: str | os.PathLike[str], **options: Any
) -> Summary:
    """Run an agent on a rubric and score it; returns the summary (also ``out/summary.json``).

    ``summary.nearest`` is the nearest type, or None (a tie, or no answer matched any preference:
    ``summary.nearest_note`` says which); ``summary.kappa`` is the estimate with its 95% interval
    (None without a moralis family), ``summary.kappa.profile`` its profile likelihood.

    Args:
        rubric: A rubric ``.jsonl`` (``Build.rubric(name)``).
        agent: An agent object or an agent spec string (``theory:...``, ``local:...``, ``openai:...``).
        out: Results directory.
        **options: ``scoring``, ``batch_size``, ``max_new_tokens``, ``limit``, ``numeric``,
            ``progress`` (see :func:`prefc.runtime.evaluate.evaluate`).

    Raises:
        prefc.runtime.evaluate.RubricError: The rubric file is missing or malformed.
        prefc.runtime.protocol.AgentError: The agent string names no usable agent.
        prefc.runtime.evaluate.EvalError: Bad options, or an agent that misbehaves.
    """
    from prefc.runtime.agents import make_agent
    from prefc.runtime.evaluate import evaluate as _evaluate

    made = make_agent(agent) if isinstance(agent, str) else agent
    return _evaluate(rubric, made, out, **options).summary
