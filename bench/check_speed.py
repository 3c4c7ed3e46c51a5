"""How fast `prefc check` is on the spec library, as a user runs it.

Measures, in one run:

1. the wall time of ``prefc check specs/*.pref`` in a fresh subprocess (median of several runs);
2. two baselines in fresh subprocesses: a bare interpreter (``python -c pass``) and
   ``python -c "import prefc"``, so a reader sees how much of the total is Python itself;
3. the in-process check time of each spec (after a first, warming check: parser construction
   and imports are paid once per process);
4. which heavy packages a check loads: a subprocess checks every spec and reports whether torch,
   transformers, trl, peft, matplotlib or sympy are in ``sys.modules`` afterwards.

Usage: ``python bench/check_speed.py [--repeat N] [--importtime]``. With ``--importtime`` it also
lists the imports of a CLI run that take over 10 ms (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs").glob("*.pref"))
HEAVY = ("torch", "transformers", "trl", "peft", "matplotlib", "sympy")

MODULES_PROBE = f"""
import json, sys
from prefc.cli import main
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(["check", *sys.argv[1:]])
heavy = {{name: name in sys.modules for name in {HEAVY!r}}}
print(json.dumps({{"exit": code, "heavy": heavy, "modules": len(sys.modules)}}))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def wall_time(argv: list[str], *, repeat: int) -> tuple[float, list[float]]:
    """Median and all wall times of a command run in a fresh subprocess.

    Args:
        argv: The command.
        repeat: How many runs (one extra, unmeasured run warms the file cache first).
    """
    subprocess.run(argv, cwd=ROOT, env=_env(), capture_output=True, check=False)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=ROOT, env=_env(), capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0,):
            raise SystemExit(f"error: `{' '.join(argv)}` exited with {proc.returncode}:\n{proc.stderr.decode()}")
    return statistics.median(times), times


def in_process_times(*, repeat: int) -> tuple[float, float, dict[str, float]]:
    """The import of the checker, the first check in this process (it loads the parser), then the
    median check time of every spec.

    Args:
        repeat: Runs per spec.
    """
    start = time.perf_counter()
    from prefc.compiler.check import check_file

    imported = time.perf_counter() - start
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        start = time.perf_counter()
        check_file(SPECS[0])
        cold = time.perf_counter() - start
        per_spec = {}
        for spec in SPECS:
            runs = []
            for _ in range(repeat):
                start = time.perf_counter()
                check_file(spec)
                runs.append(time.perf_counter() - start)
            per_spec[spec] = statistics.median(runs)
    finally:
        os.chdir(cwd)
    return imported, cold, per_spec


def heavy_modules() -> dict:
    """Run a check of every spec in a fresh interpreter and report which heavy packages it loaded."""
    proc = subprocess.run(
        [sys.executable, "-c", MODULES_PROBE, *SPECS], cwd=ROOT, env=_env(), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"error: the module probe failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def slowest_imports(argv: list[str], *, threshold_ms: float = 10.0) -> list[tuple[float, float, str]]:
    """The imports of a command that take at least ``threshold_ms`` (cumulative), from
    ``python -X importtime``, in import order; nesting is kept as indentation of the name.

    Args:
        argv: The arguments after ``python -X importtime``.
        threshold_ms: The smallest cumulative time listed.
    """
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], cwd=ROOT, env=_env(), capture_output=True, text=True, check=False
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative, name = line[len("import time:") :].split("|", 2)
        if int(cumulative) >= threshold_ms * 1000:
            rows.append((int(cumulative) / 1000, int(self_us) / 1000, name[1:].rstrip()))
    # importtime prints a module after its children; show parents first
    return list(reversed(rows))


def main() -> None:
    """Run every measurement and print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement (median reported)")
    parser.add_argument("--importtime", action="store_true", help="also list the slowest imports of the CLI")
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    console = Console()
    prefc_bin = str(Path(sys.executable).with_name("prefc"))
    cli = [prefc_bin, "check", *SPECS] if Path(prefc_bin).exists() else [sys.executable, "-m", "prefc", "check", *SPECS]

    bare, _ = wall_time([sys.executable, "-c", "pass"], repeat=args.repeat)
    imp, _ = wall_time([sys.executable, "-c", "import prefc"], repeat=args.repeat)
    total, runs = wall_time(cli, repeat=args.repeat)
    imported, cold, per_spec = in_process_times(repeat=args.repeat)
    probe = heavy_modules()

    table = Table(title=f"prefc check {' '.join(SPECS)}  (median of {args.repeat})")
    table.add_column("measurement")
    table.add_column("seconds", justify="right")
    table.add_column("x bare python", justify="right")
    table.add_row("bare interpreter: python -c pass", f"{bare:.3f}", "1.0")
    table.add_row('python -c "import prefc"', f"{imp:.3f}", f"{imp / bare:.1f}")
    table.add_row("prefc check (fresh process, CLI)", f"{total:.3f}", f"{total / bare:.1f}")
    table.add_row("  of which above bare interpreter", f"{total - bare:.3f}", "")
    table.add_row("in-process: import prefc.compiler.check", f"{imported:.3f}", "")
    table.add_row(f"in-process: first check ({SPECS[0]}, loads the parser)", f"{cold:.3f}", "")
    for spec, t in per_spec.items():
        table.add_row(f"in-process: check {spec}", f"{t:.4f}", "")
    console.print(table)
    console.print(f"CLI runs: {', '.join(f'{t:.3f}' for t in runs)} s")
    loaded = [name for name, present in probe["heavy"].items() if present]
    ml = [name for name in ("torch", "transformers", "trl", "peft") if probe["heavy"][name]]
    console.print(
        f"modules loaded by a check: {probe['modules']}; heavy packages loaded: "
        f"{', '.join(loaded) if loaded else 'none'}"
    )
    console.print(
        "torch/transformers/trl/peft not imported: "
        + ("[green]yes[/green]" if not ml else f"[red]NO ({', '.join(ml)})[/red]")
    )
    console.print(f"under one second: {'yes' if total < 1.0 else 'no'} ({total:.3f} s)")
    if args.importtime:
        imports = Table(title="imports of `prefc check` over 10 ms (python -X importtime)")
        imports.add_column("module")
        imports.add_column("cumulative ms", justify="right")
        imports.add_column("self ms", justify="right")
        for cumulative, self_ms, name in slowest_imports(["-m", "prefc", "check", *SPECS]):
            imports.add_row(name, f"{cumulative:.1f}", f"{self_ms:.1f}")
        console.print(imports)


if __name__ == "__main__":
    main()
