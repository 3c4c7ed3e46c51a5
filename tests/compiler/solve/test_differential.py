"""Differential tests: random games written as users write them, solved by prefc and by an
independent reference (nashpy's vertex enumeration for two players, brute-force enumeration for
three players and for sequential games, best-reply iteration for quadratic duopolies). Bounded and
seeded; ``bench/solver_differential.py`` runs thousands."""

from __future__ import annotations

import itertools
import random
import shutil
from fractions import Fraction as F
from pathlib import Path

import nashpy
import numpy as np
import pytest
import randgames
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefc.compiler.check import PreferencePoint, check_file
from prefc.compiler.ir import lower_spec
from prefc.compiler.solve import GameSolver

SPECS = Path(__file__).resolve().parents[3] / "specs"


def compile_game(text: str, where: Path):
    where.mkdir(parents=True, exist_ok=True)
    shutil.copy(SPECS / "preferences.pref", where / "preferences.pref")
    (where / "g.pref").write_text(text)
    ir = lower_spec(check_file(str(where / "g.pref")))
    return ir, ir.games["g"]


def solve(ir, game, pref="economicus", **values):
    point = PreferencePoint(pref, tuple((k, F(v)) for k, v in values.items()))
    return GameSolver(game, ir.preference(point)).solve()


def as_profile(eq, roles, actions, labels):
    """An equilibrium as one probability vector per role, from its path or probabilities."""
    out = []
    for r, a, labs in zip(roles, actions, labels, strict=False):
        if eq.probabilities:
            probs = eq.probabilities[r][a]
            out.append(tuple(round(probs.get(lab, 0.0), 8) for lab in labs))
        else:
            out.append(tuple(1.0 if eq.path[r][a] == lab else 0.0 for lab in labs))
    return tuple(out)


def nashpy_set(game: randgames.FiniteGame):
    A = np.array([[game.payoffs[0][(i, j)] for j in range(game.sizes[1])] for i in range(game.sizes[0])], dtype=float)
    B = np.array([[game.payoffs[1][(i, j)] for j in range(game.sizes[1])] for i in range(game.sizes[0])], dtype=float)
    return {
        (tuple(np.round(x, 8) + 0.0), tuple(np.round(y, 8) + 0.0)) for x, y in nashpy.Game(A, B).vertex_enumeration()
    }


def assert_nash(game: randgames.FiniteGame, x: np.ndarray, y: np.ndarray) -> None:
    A = np.array([[game.payoffs[0][(i, j)] for j in range(game.sizes[1])] for i in range(game.sizes[0])], dtype=float)
    B = np.array([[game.payoffs[1][(i, j)] for j in range(game.sizes[1])] for i in range(game.sizes[0])], dtype=float)
    assert max(A @ y) <= x @ A @ y + 1e-7 and max(x @ B) <= x @ B @ y + 1e-7


@pytest.mark.parametrize("shared", [False, True])
def test_two_role_games_agree_with_nashpy(tmp_path: Path, shared: bool):
    """Every equilibrium of 3x3 (and other) bimatrix games, with distinct or shared action names."""
    rng = random.Random(11 if shared else 7)
    for n in range(20):
        game = randgames.finite_game(rng, sizes=[3, 3] if n < 10 else None, shared=shared)
        ir, g = compile_game(game.text, tmp_path / f"g{n}")
        sol = solve(ir, g)
        actions = ["move", "move"] if shared else ["a0", "a1"]
        labels = [
            [f"x{j}" for j in range(s)] if shared else [f"o{i}_{j}" for j in range(s)] for i, s in enumerate(game.sizes)
        ]
        got = {as_profile(e, game.roles, actions, labels) for e in sol.equilibria}
        expected = nashpy_set(game)
        degenerate = any("degenerate" in n for n in sol.notes)
        if degenerate:
            # nashpy's halfspace intersection can miss vertices of degenerate polytopes: everything it
            # finds must be found, and everything found must be a best reply (checked here)
            assert expected <= got, game.text
            for x, y in got:
                assert_nash(game, np.array(x), np.array(y))
        else:
            assert got == expected, game.text
        assert sol.verified is not None and sol.verified.max_gain <= 0


def test_three_role_games_pure_equilibria_by_brute_force(tmp_path: Path):
    rng = random.Random(3)
    for n in range(12):
        game = randgames.finite_game(rng, players=3, shared=n % 2 == 0, sizes=[2, 3, 2] if n % 2 else None)
        ir, g = compile_game(game.text, tmp_path / f"g{n}")
        sol = solve(ir, g)
        expected = set()
        for prof in itertools.product(*(range(s) for s in game.sizes)):
            if all(
                game.payoffs[i][prof] >= game.payoffs[i][prof[:i] + (d,) + prof[i + 1 :]]
                for i in range(3)
                for d in range(game.sizes[i])
            ):
                expected.add(prof)
        shared = n % 2 == 0
        actions = ["move"] * 3 if shared else ["a0", "a1", "a2"]
        labels = [
            [f"x{j}" for j in range(s)] if shared else [f"o{i}_{j}" for j in range(s)] for i, s in enumerate(game.sizes)
        ]
        got = {tuple(labels[i].index(e.path[r][actions[i]]) for i, r in enumerate(game.roles)) for e in sol.equilibria}
        assert got == expected
        assert any("not enumerated" in note for note in sol.notes)


def _strategy_level_best_reply(A: np.ndarray, k: float, x: np.ndarray, y: np.ndarray) -> float:
    """What the best mixture gains against y under u(x, y) = (1-k) x'Ay + k x'Ax (grid of two options,
    or random mixtures for more)."""

    def u(z):
        return (1 - k) * z @ A @ y + k * z @ A @ z

    rng = np.random.default_rng(0)
    trials = [np.eye(len(x))[i] for i in range(len(x))] + list(rng.dirichlet(np.ones(len(x)), 20000))
    if len(x) == 2:
        trials += [np.array([q, 1 - q]) for q in np.linspace(0, 1, 20001)]
    return max(u(z) for z in trials) - u(x)


@pytest.mark.parametrize("kappa", ["0", "1/4", "1/2", "3/4"])
def test_symmetric_games_under_moralis(tmp_path: Path, kappa: str):
    """Symmetric 2x2 and 3x3 games: pure equilibria against pure deviations (the game in actions),
    and every mixed equilibrium a best reply over mixtures at the strategy level."""
    k = F(kappa)
    rng = random.Random(int(k * 100) + 1)
    for n in range(12):
        text, A = randgames.symmetric_game(rng, size=2 if n < 8 else 3)
        ir, g = compile_game(text, tmp_path / f"g{n}")
        sol = solve(ir, g, "moralis", kappa=k)
        M = np.array(A, dtype=float)
        kf = float(k)
        size = len(A)
        # pure: u(a | b) = (1 - k) A[a][b] + k A[a][a]
        pure = {
            (a, b)
            for a in range(size)
            for b in range(size)
            if all((1 - k) * A[a][b] + k * A[a][a] >= (1 - k) * A[d][b] + k * A[d][d] for d in range(size))
            and all((1 - k) * A[b][a] + k * A[b][b] >= (1 - k) * A[d][a] + k * A[d][d] for d in range(size))
        }
        labels = [f"s{j}" for j in range(size)]
        got_pure = {
            (labels.index(e.path["a"]["move"]), labels.index(e.path["b"]["move"])) for e in sol.equilibria if e.is_pure
        }
        assert got_pure == pure, text
        for e in sol.equilibria:
            if e.is_pure:
                continue
            x = np.array([e.probabilities["a"]["move"][lab] for lab in labels])
            y = np.array([e.probabilities["b"]["move"][lab] for lab in labels])
            assert _strategy_level_best_reply(M, kf, x, y) <= 1e-9
            assert _strategy_level_best_reply(M.T.T, kf, y, x) <= 1e-9


def _duopoly_reference(d: randgames.Duopoly) -> tuple[float, float]:
    q = [d.cap / 2, d.cap / 2]
    for _ in range(5000):
        new = [min(max((d.a[i] - d.c[i] * q[1 - i]) / (2 * d.b[i]), 0.0), float(d.cap)) for i in range(2)]
        q = [0.5 * q[i] + 0.5 * new[i] for i in range(2)]
    return q[0], q[1]


def test_quadratic_duopolies_agree_with_best_reply_iteration(tmp_path: Path):
    """Continuous games of distinct roles that share the action name ``q``, with bounds that bind."""
    rng = random.Random(5)
    checked = 0
    for n in range(12):
        d = randgames.duopoly(rng)
        # best-reply iteration converges where the reaction functions are a contraction
        if d.c[0] * d.c[1] >= 4 * d.b[0] * d.b[1]:
            continue
        ir, g = compile_game(d.text, tmp_path / f"g{n}")
        sol = solve(ir, g)
        assert len(sol.equilibria) == 1
        eq = sol.equilibria[0]
        ref = _duopoly_reference(d)
        assert (eq.path["f1"]["q"], eq.path["f2"]["q"]) == pytest.approx(ref, abs=1e-7)
        checked += 1
    assert checked >= 8


def test_two_stage_games_agree_with_brute_force(tmp_path: Path):
    rng = random.Random(9)
    for n in range(15):
        t = randgames.two_stage(rng)
        ir, g = compile_game(t.text, tmp_path / f"g{n}")
        sol = solve(ir, g)
        reply = {x: max(range(t.k2), key=lambda y: (t.payoffs[1][(x, y)], -y)) for x in range(t.k1)}
        lead = max(range(t.k1), key=lambda x: (t.payoffs[0][(x, reply[x])], -x))
        eq = sol.equilibria[0]
        assert (eq.path["leader"]["m"], eq.path["follower"]["m"]) == (lead, reply[lead])
        assert eq.strategy["follower"]["m"] == {str(x): reply[x] for x in range(t.k1)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), kappa=st.sampled_from(["0", "1/3", "1/2", "2/3", "1"]))
def test_every_reported_equilibrium_is_a_best_reply(tmp_path: Path, seed: int, kappa: str):
    """Property: whatever the game, every equilibrium the solver reports passes a numpy best-reply
    check written here (pure deviations for the game in actions, mixtures at the strategy level)."""
    rng = random.Random(seed)
    text, A = randgames.symmetric_game(rng, size=rng.choice([2, 3]))
    ir, g = compile_game(text, tmp_path / f"p{seed}")
    k = float(F(kappa))
    sol = solve(ir, g, "moralis", kappa=F(kappa))
    M = np.array(A, dtype=float)
    labels = [f"s{j}" for j in range(len(A))]
    for e in sol.equilibria:
        if e.is_pure:
            a, b = labels.index(e.path["a"]["move"]), labels.index(e.path["b"]["move"])
            for i, j in ((a, b), (b, a)):
                mine = (1 - k) * M[i][j] + k * M[i][i]
                assert all((1 - k) * M[d][j] + k * M[d][d] <= mine + 1e-12 for d in range(len(A)))
        else:
            x = np.array([e.probabilities["a"]["move"][lab] for lab in labels])
            y = np.array([e.probabilities["b"]["move"][lab] for lab in labels])
            assert _strategy_level_best_reply(M, k, x, y) <= 1e-9
