"""Mutation fuzzing of the spec library through the real command line: check, solve, compile.

Each library spec is first made light (two values per sweep, a handful of rows), then mutated
with a seeded random source: a token deleted, duplicated, swapped with its neighbour or replaced
by another token of the same file, a number replaced by a hostile one (``1e5000``, a 5,000-digit
literal, ``0``, ``-1``, ``10000``), bytes inserted, a line duplicated, the file truncated. Tokens
are found with a plain regular expression, independent of the project's lexer.

Every mutant is checked with ``prefc check``; one that checks clean is solved (``prefc solve``, one
of its games under one of its preferences) and compiled (``prefc compile --quiet``). Each run goes
through :func:`prefc.cli.main` in this process, with its output captured and a time limit. An
outcome is one of:

- ``ok`` / ``diagnostic`` / ``refused``: exit 0, exit 1 with diagnostics, exit 1 with E0501;
- ``internal``: exit 70, an internal error reported with its location (a bug, but no traceback);
- ``traceback``: a Python traceback on the output, or an exception out of ``main``;
- ``hang``: the run took longer than the time limit.

``tests/compiler/test_robustness.py`` runs a few hundred mutants; ``bench/fuzz.py`` runs thousands and
prints the counts per stage.
"""

from __future__ import annotations

import contextlib
import io
import random
import re
import signal
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
LIBRARY = SPECS / "preferences.pref"

TOKEN = re.compile(
    rb'"[^"\n]*"|#[^\n]*|[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|\.\.|==|!=|<=|>=|\S'
)
NUMBER = re.compile(rb"(?<![A-Za-z_0-9.])[0-9]+(?:\.[0-9]+)?(?![A-Za-z_0-9])")
HOSTILE_NUMBERS = [
    b"0",
    b"-1",
    b"1e5000",
    b"9" * 5000,
    b"1e400",
    b"1e-400",
    b"10000",
    b"1000000000",
    b"0.5",
    b"2^2^2^2^2^2^2",
    b"1e999999999",
    b"3.5",
    b"100",
]
NOISE = [
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"{",
    b"}",
    b"(",
    b"[",
    b'"',
    b"#",
    b"..",
    b"^",
    b"kantian",
    b"then",
    b"payoff(self)",
    b"\r",
    b"\t",
    b"\xe2\x80\xa8",
    b"\xef\xbb\xbf",
    b"\xe2\x80\xae",
    b"\xd0\xb0",
    b"\xd9\xa5",
    b'use "/etc/passwd"\n',
    b'use "../x.pref"\n',
    b"rubric manifest for economicus { games g }\n",
    b"exp(1000 * ",
    b" vary 0..10000",
    b" samples 1000000000",
    b"-" * 300,
]
OPERATORS = ["delete", "duplicate", "swap", "replace", "number", "insert", "line", "truncate"]

OUTCOMES = ("ok", "diagnostic", "refused", "internal", "traceback", "hang")
# The parser library's own wording, which a diagnostic must never show.
LARK_WORDING = re.compile(r"unexpected an? |__ANON|\$END|Expected one of|Token\(")


def light(text: str) -> str:
    """A library spec made cheap to compile: two values per sweep, a few rows, two wordings.

    Args:
        text: The spec's text.
    """
    text = re.sub(r"vary \{\s*([^,}]+),\s*([^,}]+)[^}]*\}", r"vary {\1, \2}", text)
    text = re.sub(r"vary (-?[0-9.]+)\.\.(-?[0-9.]+)(?: step [0-9.]+)?", r"vary {\1}", text)
    text = re.sub(r"samples [0-9]+", "samples 3", text)
    text = re.sub(r"items [0-9]+", "items 4", text)
    text = re.sub(r"paraphrases [0-9]+", "paraphrases 2", text)
    text = re.sub(r"\(kappa = ([0-9.]+)(?:, [0-9.]+)+\)", r"(kappa = \1)", text)  # no kappa grid to tabulate
    return text


def sources() -> dict[str, bytes]:
    """The light library specs, by file name."""
    return {p.name: light(p.read_text(encoding="utf-8")).encode("utf-8") for p in sorted(SPECS.glob("*.pref"))}


@dataclass(frozen=True)
class Mutant:
    """One mutated spec.

    Attributes:
        id: ``SEED:INDEX``, enough to make it again.
        source: The library file it came from.
        op: The mutation.
        text: The mutated bytes.
    """

    id: str
    source: str
    op: str
    text: bytes


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """Apply one random mutation.

    Args:
        data: The spec's bytes.
        rng: The seeded random source.
    """
    op = rng.choice(OPERATORS)
    toks = [m.span() for m in TOKEN.finditer(data)]
    if not toks:
        return "insert", data + rng.choice(NOISE)
    if op == "delete":
        a, b = rng.choice(toks)
        return op, data[:a] + data[b:]
    if op == "duplicate":
        a, b = rng.choice(toks)
        return op, data[:b] + b" " + data[a:b] + data[b:]
    if op == "swap" and len(toks) > 1:
        i = rng.randrange(len(toks) - 1)
        (a1, b1), (a2, b2) = toks[i], toks[i + 1]
        return op, data[:a1] + data[a2:b2] + data[b1:a2] + data[a1:b1] + data[b2:]
    if op == "replace":
        (a, b), (c, d) = rng.choice(toks), rng.choice(toks)
        return op, data[:a] + data[c:d] + data[b:]
    if op == "number":
        numbers = [m.span() for m in NUMBER.finditer(data)]
        if numbers:
            a, b = rng.choice(numbers)
            return op, data[:a] + rng.choice(HOSTILE_NUMBERS) + data[b:]
    if op == "line":
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            return op, b"\n".join(lines[:i] + [lines[i]] + lines[i:])
        return op, b"\n".join(lines[:i] + lines[i + 1 :])
    if op == "truncate":
        return op, data[: rng.randrange(len(data) + 1)]
    at = rng.randrange(len(data) + 1)
    noise = rng.choice(NOISE) if rng.random() < 0.8 else bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return "insert", data[:at] + noise + data[at:]


def mutants(seed: int, count: int) -> Iterator[Mutant]:
    """``count`` mutants of the light library, the same ones for the same seed.

    Args:
        seed: The random seed.
        count: How many.
    """
    library = sources()
    names = sorted(n for n in library if n != "preferences.pref") + ["preferences.pref"]
    rng = random.Random(seed)
    for i in range(count):
        name = names[i % len(names)]
        op, text = mutate(library[name], rng)
        if rng.random() < 0.25:  # a second mutation now and then
            op2, text = mutate(text, rng)
            op = f"{op}+{op2}"
        yield Mutant(f"{seed}:{i}", name, op, text)


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException, so no ``except Exception`` in prefc swallows it."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    def on_alarm(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Run:
    """One command's outcome.

    Attributes:
        outcome: One of :data:`OUTCOMES`.
        code: The exit code (None for a hang or an escaped exception).
        stderr: What it wrote to standard error (cut to 4,000 characters).
        where: For ``internal``: the ``at FILE:LINE in FUNCTION`` line of the report.
    """

    outcome: str
    code: int | None
    stderr: str
    where: str = ""


def run_cli(argv: list[str], *, timeout: float) -> Run:
    """Run ``prefc ARGV`` in this process and classify what happened.

    Args:
        argv: The arguments.
        timeout: Seconds before the run counts as a hang.
    """
    from prefc.cli import main

    out, err = io.StringIO(), io.StringIO()
    code: int | None = None
    escaped = ""
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _time_limit(timeout):
            code = main(argv)
    except _Timeout:
        return Run("hang", None, err.getvalue()[-4000:])
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 2
    except Exception as exc:  # noqa: BLE001 - an exception out of main is the failure being looked for
        escaped = f"{type(exc).__name__}: {exc}"
    text = err.getvalue() + out.getvalue()
    if escaped or "Traceback (most recent call last)" in text:
        return Run("traceback", code, (escaped + "\n" + err.getvalue())[-4000:])
    if code == 70:
        where = next((line.strip() for line in err.getvalue().splitlines() if line.strip().startswith("at ")), "")
        return Run("internal", code, err.getvalue()[-4000:], where)
    if code == 0:
        return Run("ok", code, "")
    if code in (1, 2):
        return Run("refused" if "[E0501]" in err.getvalue() else "diagnostic", code, err.getvalue()[-4000:])
    return Run("traceback", code, err.getvalue()[-4000:])


@dataclass
class Report:
    """Counts per stage and the mutants that went wrong.

    Attributes:
        counts: stage -> outcome -> count.
        failures: (mutant id, stage, run) for every internal error, traceback and hang.
    """

    counts: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in ("check", "solve", "compile")})
    failures: list[tuple[str, str, Run]] = field(default_factory=list)
    wording: list[tuple[str, str]] = field(default_factory=list)

    def add(self, mutant: Mutant, stage: str, run: Run) -> None:
        self.counts[stage][run.outcome] += 1
        if run.outcome in ("internal", "traceback", "hang"):
            self.failures.append((mutant.id, stage, run))
        for line in run.stderr.splitlines():
            if LARK_WORDING.search(line):
                self.wording.append((mutant.id, line))


def _pick_solve(spec_path: Path, rng: random.Random) -> list[str] | None:
    """``solve`` arguments for one game and one preference of a checked spec (None if it has none)."""
    from prefc.compiler.check import check_file

    spec = check_file(str(spec_path))
    if not spec.games or not spec.preferences:
        return None
    game = rng.choice(sorted(spec.games))
    points = [p.label for b in spec.builds.values() for p in b.preferences] or sorted(
        n for n, p in spec.preferences.items() if all(v is not None for v in p.defaults.values())
    )
    if not points:
        return None
    return ["solve", str(spec_path), "--game", game, "--preference", rng.choice(points)]


def run_mutant(mutant: Mutant, report: Report, *, timeout: float = 30.0, compile_: bool = True) -> None:
    """Check a mutant; when it checks clean, solve one game and compile it.

    Args:
        mutant: The mutant.
        report: Where the outcomes go.
        timeout: Seconds per command before it counts as a hang.
        compile_: Also compile the mutants that check clean.
    """
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        main_file = directory / "main.pref"
        main_file.write_bytes(mutant.text)
        if mutant.source != "preferences.pref":
            (directory / "preferences.pref").write_bytes(LIBRARY.read_bytes())
        checked = run_cli(["check", str(main_file)], timeout=timeout)
        report.add(mutant, "check", checked)
        if checked.outcome != "ok":
            return
        rng = random.Random(mutant.id)
        solve_args = _pick_solve(main_file, rng)
        if solve_args is not None:
            report.add(mutant, "solve", run_cli(solve_args, timeout=timeout))
        if compile_:
            report.add(
                mutant,
                "compile",
                run_cli(["compile", str(main_file), "-o", str(directory / "out"), "--quiet"], timeout=timeout),
            )
