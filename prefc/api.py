"""The Python API: the command line's loop in a few calls.

    import prefc
    spec = prefc.load("specs/paper.pref")
    build = spec.compile("build")
    adapter = prefc.train(build.dataset("sft"), preference="moralis(kappa=0.5)", out="adapters/moralis")
    summary = prefc.evaluate(build.rubric("eval"), agent=f"local:smollm2-135m-instruct?adapter={adapter}",
                             out="results/moralis")
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from prefc.compiler.check import CheckedSpec, check_file


@dataclass
class Build:
    """A compiled spec on disk (``prefc compile``'s output directory)."""

    directory: Path

    def dataset(self, name: str) -> Path:
        """The directory of a dataset block.

        Args:
            name: The dataset block's name.
        """
        path = self.directory / name
        if not (path / "train.jsonl").exists():
            raise FileNotFoundError(f"no dataset `{name}` in {self.directory}")
        return path

    def rubric(self, name: str) -> Path:
        """The items file of a rubric block.

        Args:
            name: The rubric block's name.
        """
        path = self.directory / f"{name}.jsonl"
        if not path.exists():
            raise FileNotFoundError(f"no rubric `{name}` in {self.directory}")
        return path


@dataclass
class Spec:
    """A checked .pref spec."""

    checked: CheckedSpec

    @property
    def name(self) -> str:
        return self.checked.name

    def solve(self, game: str, preference: str = "economicus", **params: Any):
        """Solve one game for one preference at a parameter point.

        Args:
            game: The game's name.
            preference: A preference application such as ``moralis(kappa=0.5)``.
            **params: Game parameter values (numbers or strings like ``"1/3"``).
        """
        from prefc.compiler.ir import lower_spec
        from prefc.compiler.select import select_preferences
        from prefc.compiler.solve import GameSolver

        ir = lower_spec(self.checked)
        point = select_preferences(self.checked, preference)[0]
        return GameSolver(ir.games[game], ir.preference(point)).solve({k: Fraction(str(v)) for k, v in params.items()})

    def explain(self, game: str, preference: str):
        """The solution of a game as closed-form regimes in the parameters.

        Args:
            game: The game's name.
            preference: A preference name (its parameters stay symbolic).
        """
        from prefc.compiler.ir import lower_spec
        from prefc.compiler.solve.explain import explain

        return explain(lower_spec(self.checked).games[game], self.checked.preferences[preference])

    def compile(self, out: str | Path = "build", *, fmt: str = "trl", seed: int | None = None) -> Build:
        """Write solutions, datasets and rubrics under ``out/<spec>/``.

        Args:
            out: Output root.
            fmt: ``trl`` or ``messages`` rows.
            seed: Overrides every block's seed.
        """
        from prefc.compiler.emit.build import compile_spec

        return Build(compile_spec(self.checked, out, fmt=fmt, seed=seed).directory)


def load(path: str | Path) -> Spec:
    """Load and check a .pref file.

    Args:
        path: The spec file.

    Raises:
        prefc.compiler.diagnostics.CompileError: with every diagnostic if the spec has errors.
    """
    return Spec(check_file(str(path)))


def train(dataset: str | Path, *, out: str | Path, preference: str | None = None, model: str | None = None,
          **config: Any) -> Path:
    """Fine-tune a model on a compiled dataset; returns the adapter directory.

    Args:
        dataset: A dataset directory (``Build.dataset(name)``).
        out: Where the adapter goes.
        preference: The preference whose rows to train on.
        model: Base model (default: the embedded SmolLM2-135M-Instruct).
        **config: Any other :class:`prefc.runtime.train.TrainConfig` field (``max_steps``, ``lora_r``, ...).
    """
    from prefc.runtime.train import TrainConfig
    from prefc.runtime.train import train as _train

    result = _train(Path(dataset), Path(out), config=TrainConfig(model=model, preference=preference, **config))
    return result.out_dir


def evaluate(rubric: str | Path, *, agent: Any, out: str | Path, **options: Any):
    """Run an agent on a rubric and score it; returns the summary.

    Args:
        rubric: A rubric ``.jsonl`` (``Build.rubric(name)``).
        agent: An agent object or an agent spec string (``theory:...``, ``local:...``, ``openai:...``).
        out: Results directory.
        **options: ``scoring``, ``batch_size``, ``max_new_tokens``, ``limit``.
    """
    from prefc.runtime.agents import make_agent
    from prefc.runtime.evaluate import evaluate as _evaluate

    if isinstance(agent, str):
        agent = make_agent(agent)
    return _evaluate(rubric, agent, out, **options).summary
