"""Differential run of the solver on thousands of random games against independent references.

For each family, random games are written as ``.pref`` text the way users write them, solved by
prefc, and compared with a reference that shares no code with it:

* ``bimatrix``: two-role finite games (2 to 4 options each, distinct action names) against nashpy's
  vertex enumeration (every extreme equilibrium, degenerate games included);
* ``bimatrix-shared``: the same with both roles naming their action ``move``;
* ``three-player``: pure equilibria of three-role games against brute-force enumeration;
* ``symmetric-moralis``: symmetric games under homo moralis: pure equilibria against brute force in
  actions, mixed ones against a best-reply check over mixtures (strategy-level Kantian term);
* ``duopoly``: quadratic duopolies with binding bounds against best-reply iteration;
* ``two-stage``: sequential finite games against brute-force backward induction.

Prints the agreement rate per family (100% expected) and the time per game, e.g.

    python bench/solver_differential.py --games 500
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "compiler" / "solve")]

import numpy as np  # noqa: E402
import randgames  # noqa: E402
import test_differential as T  # noqa: E402


def _bimatrix(rng, where, shared):
    game = randgames.finite_game(rng, shared=shared)
    ir, g = T.compile_game(game.text, where)
    sol = T.solve(ir, g)
    actions = ["move", "move"] if shared else ["a0", "a1"]
    labels = [
        [f"x{j}" for j in range(s)] if shared else [f"o{i}_{j}" for j in range(s)] for i, s in enumerate(game.sizes)
    ]
    got = {T.as_profile(e, game.roles, actions, labels) for e in sol.equilibria}
    expected = T.nashpy_set(game)
    if any("degenerate" in n for n in sol.notes):
        # nashpy can miss vertices of degenerate polytopes: it must find nothing prefc does not,
        # and everything prefc finds must be a best reply
        for x, y in got:
            T.assert_nash(game, np.array(x), np.array(y))
        return expected <= got
    return got == expected


def _three(rng, where):
    import itertools

    game = randgames.finite_game(rng, players=3)
    ir, g = T.compile_game(game.text, where)
    sol = T.solve(ir, g)
    expected = {
        prof
        for prof in itertools.product(*(range(s) for s in game.sizes))
        if all(
            game.payoffs[i][prof] >= game.payoffs[i][prof[:i] + (d,) + prof[i + 1 :]]
            for i in range(3)
            for d in range(game.sizes[i])
        )
    }
    labels = [[f"o{i}_{j}" for j in range(s)] for i, s in enumerate(game.sizes)]
    got = {tuple(labels[i].index(e.path[r][f"a{i}"]) for i, r in enumerate(game.roles)) for e in sol.equilibria}
    return got == expected


def _symmetric(rng, where):
    from fractions import Fraction as F

    text, A = randgames.symmetric_game(rng, size=rng.choice([2, 3]))
    k = rng.choice([F(0), F(1, 4), F(1, 3), F(1, 2), F(2, 3), F(1)])
    ir, g = T.compile_game(text, where)
    sol = T.solve(ir, g, "moralis", kappa=k)
    size = len(A)
    pure = {
        (a, b)
        for a in range(size)
        for b in range(size)
        if all((1 - k) * A[a][b] + k * A[a][a] >= (1 - k) * A[d][b] + k * A[d][d] for d in range(size))
        and all((1 - k) * A[b][a] + k * A[b][b] >= (1 - k) * A[d][a] + k * A[d][d] for d in range(size))
    }
    labels = [f"s{j}" for j in range(size)]
    got = {(labels.index(e.path["a"]["move"]), labels.index(e.path["b"]["move"])) for e in sol.equilibria if e.is_pure}
    if got != pure:
        return False
    M = np.array(A, dtype=float)
    for e in sol.equilibria:
        if not e.is_pure:
            x = np.array([e.probabilities["a"]["move"][lab] for lab in labels])
            y = np.array([e.probabilities["b"]["move"][lab] for lab in labels])
            if T._strategy_level_best_reply(M, float(k), x, y) > 1e-9:
                return False
    return True


def _duopoly(rng, where):
    d = randgames.duopoly(rng)
    while d.c[0] * d.c[1] >= 4 * d.b[0] * d.b[1]:
        d = randgames.duopoly(rng)
    ir, g = T.compile_game(d.text, where)
    sol = T.solve(ir, g)
    ref = T._duopoly_reference(d)
    eq = sol.equilibria[0]
    return (
        len(sol.equilibria) == 1 and abs(eq.path["f1"]["q"] - ref[0]) < 1e-7 and abs(eq.path["f2"]["q"] - ref[1]) < 1e-7
    )


def _two_stage(rng, where):
    t = randgames.two_stage(rng)
    ir, g = T.compile_game(t.text, where)
    sol = T.solve(ir, g)
    reply = {x: max(range(t.k2), key=lambda y: (t.payoffs[1][(x, y)], -y)) for x in range(t.k1)}
    lead = max(range(t.k1), key=lambda x: (t.payoffs[0][(x, reply[x])], -x))
    eq = sol.equilibria[0]
    return (eq.path["leader"]["m"], eq.path["follower"]["m"]) == (lead, reply[lead])


FAMILIES = {
    "bimatrix": lambda rng, w: _bimatrix(rng, w, False),
    "bimatrix-shared": lambda rng, w: _bimatrix(rng, w, True),
    "three-player": _three,
    "symmetric-moralis": _symmetric,
    "duopoly": _duopoly,
    "two-stage": _two_stage,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=500, help="games per family")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--family", action="append", choices=sorted(FAMILIES), help="only these families")
    args = parser.parse_args()
    total_ok = total = 0
    print(f"{'family':<20}{'games':>8}{'agree':>8}{'rate':>9}{'ms/game':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.family or list(FAMILIES):
            rng = random.Random(f"{args.seed}-{name}")
            ok = 0
            start = time.perf_counter()
            failures = []
            for i in range(args.games):
                try:
                    good = FAMILIES[name](rng, Path(tmp) / f"{name}-{i}")
                except Exception as exc:  # noqa: BLE001 - a crash is a disagreement, reported below
                    good = False
                    failures.append(f"{type(exc).__name__}: {exc}")
                ok += bool(good)
                if (i + 1) % 100 == 0:
                    print(f"  {name}: {i + 1}/{args.games}", file=sys.stderr, flush=True)
            ms = 1000 * (time.perf_counter() - start) / max(args.games, 1)
            print(f"{name:<20}{args.games:>8}{ok:>8}{ok / max(args.games, 1):>9.1%}{ms:>10.1f}")
            for f in failures[:3]:
                print(f"    {f}")
            total_ok += ok
            total += args.games
    print(f"{'all':<20}{total:>8}{total_ok:>8}{total_ok / max(total, 1):>9.1%}")
    return 0 if total_ok == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
