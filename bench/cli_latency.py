"""Cold latency of the commands a researcher runs while iterating, against a nashpy script.

Each command runs in a fresh subprocess (a cold interpreter: nothing imported, nothing cached in
memory) several times; the figure is the median wall time. In the same run, and interleaved with
the prefc commands so that the machine's load falls on both alike, a ``python -c`` script imports
numpy and nashpy and enumerates the equilibria of the same 2x2 game (the prisoner's dilemma of
specs/paper.pref at its defaults T=5, R=3, P=1, S=0). Printed: each command's median, its ratio to
the nashpy script, the goal, and the load average before and after.

Bytecode: a first, untimed run of every command writes the ``.pyc`` files an installed package
has; a process started with ``PYTHONDONTWRITEBYTECODE=1`` would otherwise recompile prefc's own
modules on every run (site-packages, nashpy included, are compiled when pip installs them).

    python bench/cli_latency.py [--repeat 7] [--json]
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

NASHPY = """
import numpy as np
import nashpy as nash
A = np.array([[3, 0], [5, 1]])
game = nash.Game(A, A.T)
for row, col in game.support_enumeration():
    print(row, col, row @ A @ col)
"""


def _prefc() -> list[str]:
    script = Path(sys.executable).with_name("prefc")
    return [str(script)] if script.exists() else [sys.executable, "-m", "prefc"]


def commands() -> dict[str, tuple[list[str], float | None]]:
    """The timed commands and their goals (seconds; None: a reference, no goal)."""
    prefc = _prefc()
    return {
        "python -c pass": ([sys.executable, "-c", "pass"], None),
        "prefc --version": ([*prefc, "--version"], None),
        "nashpy script": ([sys.executable, "-c", NASHPY], None),
        "prefc solve 2x2": (
            [*prefc, "solve", "specs/paper.pref", "--game", "prisoners_dilemma", "--preference", "economicus"],
            0.3,
        ),
        "prefc solve 2x2 --json": (
            [
                *prefc,
                "solve",
                "specs/paper.pref",
                "--game",
                "prisoners_dilemma",
                "--preference",
                "economicus",
                "--json",
            ],
            0.3,
        ),
        "prefc explain": (
            [*prefc, "explain", "specs/paper.pref", "--game", "prisoners_dilemma", "--preference", "moralis"],
            0.5,
        ),
        "prefc check specs/*.pref": ([*prefc, "check", *SPECS], 0.3),
    }


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def _run(argv: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"`{' '.join(argv)}` exited {proc.returncode}:\n{proc.stderr.decode(errors='replace')}")
    return elapsed


def main() -> None:
    """Run every command ``--repeat`` times (round-robin) and print medians and ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="timed cold runs of each command")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    cmds = commands()
    load_before = os.getloadavg()
    for argv, _ in cmds.values():  # untimed: writes bytecode, warms the disk cache
        _run(argv)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(args.repeat):  # round-robin, so a burst of load hits every command alike
        for name, (argv, _) in cmds.items():
            times[name].append(_run(argv))
    load_after = os.getloadavg()

    base = statistics.median(times["nashpy script"])
    rows = []
    for name, (_argv, goal) in cmds.items():
        med = statistics.median(times[name])
        rows.append(
            {
                "command": name,
                "median_s": round(med, 4),
                "min_s": round(min(times[name]), 4),
                "ratio_to_nashpy": round(med / base, 3),
                "goal_s": goal,
                "meets_goal": None if goal is None else med <= goal,
            }
        )
    solve = next(r for r in rows if r["command"] == "prefc solve 2x2")
    result = {
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "commands": rows,
        "solve_ratio_goal": 1.0,
        "solve_meets_ratio": solve["ratio_to_nashpy"] <= 1.0,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"cold wall time, median of {args.repeat} runs; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after ({os.cpu_count()} CPUs)"
    )
    print(f"{'command':28} {'median':>9} {'min':>9} {'x nashpy':>9} {'goal':>8}")
    for r in rows:
        goal = "" if r["goal_s"] is None else f"{r['goal_s']:.1f} s " + ("ok" if r["meets_goal"] else "MISS")
        print(f"{r['command']:28} {r['median_s']:8.3f}s {r['min_s']:8.3f}s {r['ratio_to_nashpy']:9.2f} {goal:>8}")
    print(
        f"prefc solve 2x2 / nashpy script = {solve['ratio_to_nashpy']:.2f} (goal <= 1.0: "
        f"{'ok' if result['solve_meets_ratio'] else 'MISS'})"
    )


if __name__ == "__main__":
    main()
