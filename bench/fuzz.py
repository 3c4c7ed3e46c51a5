"""The long mutation fuzz: thousands of mutants of the spec library through check, solve and compile.

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python bench/fuzz.py [--mutants 5000] [--seed 2026] [--timeout 30] [--json]

Prints, per stage, how many runs ended ok, with diagnostics, refused by the work estimate (E0501),
as an internal error (exit 70, located, no traceback), with a traceback, or in a hang (over the
time limit), and then every mutant that went wrong with the place it went wrong. The mutation
engine and the classification are in ``tests/mutants.py`` (the test suite runs a few hundred of
the same mutants). The exit status is 1 when any run printed a traceback or hung.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.mutants import OUTCOMES, Report, mutants, run_mutant  # noqa: E402


def _place(run) -> str:
    """Where a run went wrong: the internal error's location, else its last line of output."""
    if run.where:
        return run.where
    lines = run.stderr.strip().splitlines()
    return f"{run.outcome}: {lines[-1][:160]}" if lines else run.outcome


def main(argv: list[str] | None = None) -> int:
    """Run the fuzz and print the counts.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per command before it is a hang")
    parser.add_argument("--json", action="store_true", help="print the counts and failures as JSON")
    args = parser.parse_args(argv)

    report = Report()
    start = time.monotonic()
    last = start
    for i, mutant in enumerate(mutants(args.seed, args.mutants), 1):
        run_mutant(mutant, report, timeout=args.timeout)
        now = time.monotonic()
        if now - last > 10 or i == args.mutants:
            bad = sum(report.counts[s][o] for s in report.counts for o in ("internal", "traceback", "hang"))
            print(
                f"fuzz: {i}/{args.mutants} mutants, {bad} went wrong, {now - start:.0f} s", file=sys.stderr, flush=True
            )
            last = now
    elapsed = time.monotonic() - start
    sites = Counter(_place(run) for _, _, run in report.failures)
    if args.json:
        print(
            json.dumps(
                {
                    "mutants": args.mutants,
                    "seed": args.seed,
                    "seconds": round(elapsed, 1),
                    "counts": {stage: {o: c[o] for o in OUTCOMES} for stage, c in report.counts.items()},
                    "failures": [
                        {"mutant": m, "stage": s, "outcome": r.outcome, "where": r.where, "stderr": r.stderr[-800:]}
                        for m, s, r in report.failures
                    ],
                },
                indent=2,
            )
        )
    else:
        print(f"{args.mutants} mutants (seed {args.seed}) in {elapsed:.0f} s; per stage:")
        print(f"  {'stage':<8}" + "".join(f"{o:>12}" for o in OUTCOMES))
        for stage, c in report.counts.items():
            print(f"  {stage:<8}" + "".join(f"{c[o]:>12,}" for o in OUTCOMES))
        if report.failures:
            print("\nwhat went wrong, by place:")
            for where, n in sites.most_common():
                print(f"  {n:>5}  {where}")
            print("\nmutants (rebuild one with tests.mutants.mutants(SEED, INDEX + 1)):")
            for m, s, r in report.failures:
                print(f"  {m:<12} {s:<8} {r.outcome:<10} {r.where}")
    bad = sum(report.counts[s][o] for s in report.counts for o in ("traceback", "hang"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
