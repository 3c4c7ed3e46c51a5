"""Solve the paper spec's games for both dataset preferences over many parameter points.

Three paths, each timed in the same run:

* vectorised: ``GameSolver.sweep`` (one numpy evaluation of the closed form over every point, each
  answer certified as arrays, undecidable points left to the per-point solver);
* compiled per point: one GameSolver per game x preference, ``solve`` at every point (symbolic work
  once, every point through compiled closures);
* from scratch: lowering, utility construction and symbolic solving repeated per point, as a naive
  implementation would (timed on a subsample and reported per point).

Prints points/s for each and the ratios. The vectorised path is timed twice: a first sweep by new
solvers (closed forms compiled, every fallback and distinct point solved per point), then the same
solvers on new points (what a repeated sweep costs; per-point answers the solvers hold are reused).

    python bench/solve_sweep.py [--points 10000] [--sweep-points 100000] [--baseline 40] [--spec specs/paper.pref]
"""

from __future__ import annotations

import argparse
import random
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

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


def draw_arrays(game, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """``n`` points drawn as :func:`draw` draws one, as arrays.

    Args:
        game: The game's IR.
        rng: The random generator.
        n: The number of points.
    """
    out = {}
    for name, p in game.params.items():
        values = [float(v) for v in p.values]
        if p.integer or len(values) == 1:
            out[name] = rng.choice(np.array(values), size=n)
        else:
            lo, hi = min(values), max(values)
            out[name] = np.round(lo + (hi - lo) * rng.integers(0, 101, size=n) / 100, 12)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(ROOT / "specs" / "paper.pref"))
    ap.add_argument("--points", type=int, default=10_000, help="parameter points in total")
    ap.add_argument("--sweep-points", type=int, default=100_000, help="points per pair for the vectorised path")
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

    nrng = np.random.default_rng(args.seed)
    grids = {(g, pref.label): draw_arrays(ir.games[g], nrng, args.sweep_points) for g, pref in pairs}
    fresh = {(g, pref.label): GameSolver(ir.games[g], pref) for g, pref in pairs}
    t0 = time.perf_counter()  # cold: closed forms compiled, every fallback and distinct point solved
    for g, pref in pairs:
        fresh[(g, pref.label)].sweep(grids[(g, pref.label)])
    cold = time.perf_counter() - t0
    grids = {(g, pref.label): draw_arrays(ir.games[g], nrng, args.sweep_points) for g, pref in pairs}
    t0 = time.perf_counter()  # warm: the same solvers on new points
    results = [fresh[(g, pref.label)].sweep(grids[(g, pref.label)]) for g, pref in pairs]
    vector = time.perf_counter() - t0
    swept = sum(r.size for r in results)

    fast_rate = solved / fast
    slow_rate = base_solved / slow
    vector_rate = swept / vector
    print(f"spec {spec.name}: {len(pairs)} game x preference pairs")
    print(f"vectorised    : {vector:8.2f} s  {vector_rate:10.1f} points/s  ({swept} new points, solvers planned)")
    print(f"  first sweep : {cold:8.2f} s  {swept / cold:10.1f} points/s  (planning and per-point solves included)")
    for r in results:
        print(
            f"  {r.game:>18} {r.preference:<20} {r.method:<10} fallbacks {r.fallbacks:6d}  "
            f"answered per point {r.solved_per_point:6d} ({r.solves} solves)  taught {int(r.answered.sum()):6d}"
        )
    print(f"compiled path : {fast:8.2f} s  {fast_rate:10.1f} points/s  ({solved} points, equilibria only)")
    print(f"  + derivation: {with_derivation:8.2f} s  {derived / with_derivation:10.1f} points/s  ({derived} points)")
    print(f"from scratch  : {slow:8.2f} s  {slow_rate:10.1f} points/s  ({base_solved} points)")
    print(f"vectorised / from scratch : {vector_rate / slow_rate:10.1f}x")
    print(f"vectorised / compiled     : {vector_rate / fast_rate:10.1f}x")
    print(f"compiled / from scratch   : {fast_rate / slow_rate:10.1f}x")


if __name__ == "__main__":
    main()
