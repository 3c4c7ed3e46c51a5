"""Solve the paper spec's games for both dataset preferences over many parameter points.

Compares the compiled path (one GameSolver per game x preference: symbolic work once, every point
through compiled closures) with solving each point from scratch (lowering, utility construction and
symbolic solving repeated per point, as a naive implementation would). Prints points/s for both and
the speed-up. The from-scratch baseline is timed on a subsample and reported per point.

    python bench/solve_sweep.py [--points 10000] [--baseline 40] [--spec specs/paper.pref]
"""

from __future__ import annotations

import argparse
import random
import time
from fractions import Fraction
from pathlib import Path

from prefc.compiler.check import check_file
from prefc.compiler.ir import lower_game, lower_spec
from prefc.compiler.solve import GameSolver

ROOT = Path(__file__).resolve().parent.parent


def draw(game, rng: random.Random) -> dict[str, Fraction]:
    """A parameter point: integer parameters from their sweep, others uniform on their sweep's range."""
    point = {}
    for name, p in game.params.items():
        values = p.values
        if p.integer or len(values) == 1:
            point[name] = rng.choice(values)
        else:
            lo, hi = min(values), max(values)
            point[name] = lo + (hi - lo) * Fraction(rng.randrange(0, 101), 100)
    return point


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(ROOT / "specs" / "paper.pref"))
    ap.add_argument("--points", type=int, default=10_000, help="parameter points in total")
    ap.add_argument("--baseline", type=int, default=40, help="points solved from scratch (subsample)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    spec = check_file(args.spec)
    ir = lower_spec(spec)
    build = next(b for b in spec.builds.values() if b.kind == "dataset")
    pairs = [(g, ir.preference(p)) for g in ir.games for p in build.preferences]
    rng = random.Random(args.seed)
    per_pair = max(1, args.points // len(pairs))
    points = {(g, pref.label): [draw(ir.games[g], rng) for _ in range(per_pair)] for g, pref in pairs}

    solvers = {(g, pref.label): GameSolver(ir.games[g], pref) for g, pref in pairs}
    t0 = time.perf_counter()
    solved = 0
    for g, pref in pairs:
        solver = solvers[(g, pref.label)]
        for point in points[(g, pref.label)]:
            solver.solve(point, derive=False)
            solved += 1
    fast = time.perf_counter() - t0

    derive_points = max(1, per_pair // 10)
    t0 = time.perf_counter()
    derived = 0
    for g, pref in pairs:
        for point in points[(g, pref.label)][:derive_points]:
            solvers[(g, pref.label)].solve(point, derive=True)
            derived += 1
    with_derivation = time.perf_counter() - t0

    base_points = max(1, args.baseline // len(pairs))
    t0 = time.perf_counter()
    base_solved = 0
    for g, pref in pairs:
        for point in points[(g, pref.label)][:base_points]:
            GameSolver(lower_game(spec.games[g]), pref).solve(point, derive=False)
            base_solved += 1
    slow = time.perf_counter() - t0

    fast_rate = solved / fast
    slow_rate = base_solved / slow
    print(f"spec {spec.name}: {len(pairs)} game x preference pairs, {solved} points")
    print(f"compiled path : {fast:8.2f} s  {fast_rate:10.1f} points/s  (equilibria only)")
    print(f"  + derivation: {with_derivation:8.2f} s  {derived / with_derivation:10.1f} points/s  ({derived} points)")
    print(f"from scratch  : {slow:8.2f} s  {slow_rate:10.1f} points/s  ({base_solved} points)")
    print(f"speed-up      : {fast_rate / slow_rate:8.1f}x")


if __name__ == "__main__":
    main()
