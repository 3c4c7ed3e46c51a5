"""The README's commands run as written, and every spec in specs/ compiles.

Every command line in the README's ``bash`` and ``console`` blocks (``$P ...``, ``.venv/bin/prefc
...``) runs, in README order, through the real command line in a scratch directory holding a copy
of ``specs/``; a ``console`` block's shown output must appear in what the command prints. Three
kinds of command are changed, each for a stated reason:

- ``train`` gets ``--model TINY`` and ``--max-steps 2``, and ``local:smollm2-135m-instruct``
  agents become ``local:TINY`` (``eval`` with ``--max-new-tokens 8``: a random model never ends
  an answer by itself): the embedded SmolLM2 needs minutes per adapter on a CPU, the tiny random
  model (tests/tiny_model.py) runs the same commands, files and formats in seconds;
- ``simulate`` between two language-model agents gets ``--rounds 2`` (300 rounds take 8.5 minutes);
- the Python API snippet runs with the tiny model, ``max_steps=2``, ``limit=8`` and
  ``max_new_tokens=8``, into its own
  adapter and results directories (the commands before it have used the README's).

Skipped: ``bash scripts/setup.sh && ...`` (sets up the environment this suite runs in; its
``prefc run`` is the 13-minute main job that ``bench/main_job.py`` measures), the test suite
itself and ``bash scripts/check.sh`` (lint and type checks, which ``.ci/run`` runs).
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import re
import shlex
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from prefc.cli import main

pytestmark = pytest.mark.slow  # minutes on a 2-core CPU: two compiles of the paper spec, tiny training

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SPECS = ROOT / "specs"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
TINY = "{tiny}"
BOX = re.compile("[\u2500-\u257f]")


@dataclass
class Command:
    """One README command line.

    Attributes:
        text: The line as the README writes it (continuations joined).
        argv: The arguments given to ``prefc`` (after the changes above), or None when skipped.
        expected: Output lines a ``console`` block shows for it.
        why: For a changed or skipped command, the reason.
    """

    text: str
    argv: list[str] | None
    expected: list[str]
    why: str = ""


def _prefc_args(line: str) -> list[str] | None:
    words = shlex.split(line, comments=True)
    if words and words[0] in ("$P", ".venv/bin/prefc"):
        return words[1:]
    return None


def _change(args: list[str]) -> tuple[list[str], str]:
    args = list(args)
    why = ""
    joined = " ".join(args)
    if args[0] == "train":
        args = [a if a != "60" else "2" for a in args] + ["--model", TINY]
        why = "tiny model, 2 steps (SmolLM2 needs minutes per adapter on a CPU)"
    if "local:smollm2-135m-instruct" in joined:
        args = [a.replace("local:smollm2-135m-instruct", f"local:{TINY}") for a in args]
        if args[0] == "eval":
            args += ["--max-new-tokens", "8"]
        why = why or "tiny model, 8 new tokens an answer (it never ends an answer by itself)"
    if args[0] == "simulate" and f"local:{TINY}" in " ".join(args):
        args += ["--rounds", "2"]
        why = "tiny model, 2 rounds (300 rounds take 8.5 minutes)"
    return args, why


def readme_commands() -> list[Command]:
    """Every command of the README's bash and console blocks, in order."""
    commands: list[Command] = []
    for tag, body in FENCE.findall(README.read_text(encoding="utf-8")):
        if tag not in ("bash", "console"):
            continue
        lines = body.replace("\\\n", " ").splitlines()
        current: Command | None = None
        for line in lines:
            if tag == "console" and not line.startswith("$ "):
                if current is not None and line.strip() and line.strip() != "...":
                    current.expected.append(line.strip())
                continue
            line = line[2:] if tag == "console" else line
            stripped = line.strip()
            if not stripped or stripped.startswith("#") or re.match(r"^[A-Z_]+=\S+$", stripped):
                continue
            if stripped.startswith("bash scripts/setup.sh"):
                why = (
                    "runs this test suite"
                    if "pytest" in stripped
                    else "sets up the environment this suite runs in; its `prefc run` is the 13-minute main job "
                    "that bench/main_job.py measures"
                )
                commands.append(Command(stripped, None, [], why))
                continue
            if stripped.startswith("bash scripts/check.sh"):
                commands.append(Command(stripped, None, [], "lint and type checks, which .ci/run runs"))
                continue
            args = _prefc_args(stripped)
            if args is None:
                raise AssertionError(f"README command not understood by this test: {stripped}")
            args, why = _change(args)
            current = Command(stripped, args, [], why)
            commands.append(current)
    return commands


COMMANDS = readme_commands()


@dataclass
class Result:
    code: int
    out: str
    err: str
    seconds: float = 0.0


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> dict[int, Result]:
    """Run every README command in order in one scratch directory; results by command index."""
    work = tmp_path_factory.mktemp("readme")
    shutil.copytree(SPECS, work / "specs")
    results: dict[int, Result] = {}
    previous = os.getcwd()
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "200"  # tables as wide as the README's excerpts, cells unwrapped
    os.chdir(work)
    try:
        for i, command in enumerate(COMMANDS):
            if command.argv is None:
                continue
            argv = [a.replace(TINY, str(tiny_model_dir)) for a in command.argv]
            argv = [m for a in argv for m in (sorted(glob.glob(a)) or [a] if "*" in a else [a])]
            out, err = io.StringIO(), io.StringIO()
            start = time.monotonic()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 2
            results[i] = Result(code, out.getvalue(), err.getvalue(), time.monotonic() - start)
    finally:
        os.chdir(previous)
        if columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = columns
    results[-1] = Result(0, str(work), "")
    return results


def test_the_readme_has_commands_to_run():
    runnable = [c for c in COMMANDS if c.argv is not None]
    assert len(runnable) >= 20
    assert {c.argv[0] for c in runnable} >= {
        "check",
        "explain",
        "solve",
        "compile",
        "train",
        "eval",
        "diff",
        "simulate",
        "report",
    }


@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=[c.text[:70] for c in COMMANDS])
def test_readme_command_runs(index: int, readme_run: dict[int, Result]):
    command = COMMANDS[index]
    if command.argv is None:
        pytest.skip(command.why)
    result = readme_run[index]
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert result.code == 0, f"{command.text}\n{result.err[-3000:]}"
    shown = " ".join(BOX.sub(" ", result.out).split())  # table borders aside, the words the README shows
    for line in command.expected:
        assert " ".join(line.split()) in shown, f"{command.text}: the README shows `{line}`"


def test_readme_python_api_runs(readme_run: dict[int, Result], tiny_model_dir: Path, monkeypatch):
    """The API snippet, with the tiny model, 2 training steps and 8 items."""
    block = next(body for tag, body in FENCE.findall(README.read_text(encoding="utf-8")) if tag == "python")
    code = (
        block.replace("max_steps=60", f"max_steps=2, model={str(tiny_model_dir)!r}")
        .replace("local:smollm2-135m-instruct", f"local:{tiny_model_dir}")
        .replace('out="adapters/moralis"', 'out="adapters/api"')
        .replace('out="results/moralis")', 'out="results/api", limit=8, max_new_tokens=8)')
    )
    assert code != block
    monkeypatch.chdir(readme_run[-1].out)
    printed = io.StringIO()
    scope: dict = {}
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README's own snippet, not spec text
    assert scope["summary"].nearest is None  # the tiny model parses nothing: the case the snippet must survive
    assert "no nearest type" in printed.getvalue()


@pytest.mark.parametrize("spec", sorted(SPECS.glob("*.pref")), ids=lambda p: p.name)
def test_every_spec_in_specs_compiles(spec: Path, readme_run: dict[int, Result], tmp_path: Path, capsys):
    """The README compiles its specs into build/; a spec it does not compile is compiled here."""
    from prefc.compiler.check import check_file

    name = check_file(str(spec)).name
    built = Path(readme_run[-1].out) / "build" / name
    if not built.is_dir():
        assert main(["compile", str(spec), "-o", str(tmp_path), "--quiet"]) == 0, capsys.readouterr().err
        built = tmp_path / name
    manifest = (built / "manifest.json").read_text()
    assert '"spec_sha256"' in manifest
    if check_file(str(spec)).builds:
        assert any(
            p.suffix == ".jsonl" and p.stat().st_size > 0 and p.name != "solutions.jsonl"
            for p in built.rglob("*.jsonl")
        )
