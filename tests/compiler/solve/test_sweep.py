"""Vectorised sweeps (``GameSolver.sweep``) against the per-point solver: the paper's games and
random games with parameters, points at regime boundaries and ties (left to the per-point
solver), and bad input."""

from __future__ import annotations

import itertools
import random
import shutil
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest
import randgames
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefc.compiler.check import PreferencePoint, check_file
from prefc.compiler.ir import lower_spec
from prefc.compiler.solve import GameSolver, SolveError
from prefc.compiler.solve.sweep import answer_of, exact

ROOT = Path(__file__).resolve().parents[3]
SPECS = ROOT / "specs"


@pytest.fixture(scope="module")
def paper():
    spec = check_file(str(SPECS / "paper.pref"))
    return spec, lower_spec(spec)


def compile_game(text: str, where: Path):
    where.mkdir(parents=True, exist_ok=True)
    shutil.copy(SPECS / "preferences.pref", where / "preferences.pref")
    (where / "g.pref").write_text(text)
    ir = lower_spec(check_file(str(where / "g.pref")))
    return ir, ir.games["g"]


def draw(game, rng: random.Random, n: int) -> dict[str, np.ndarray]:
    """Random points on each parameter's sweep range (hundredths), and every point of the sweep
    grid itself (where the paper's regimes meet: T = 5 under moralis(kappa=0.5), k = 2, ...)."""
    rows = []
    for _ in range(n):
        row = {}
        for name, p in game.params.items():
            values = p.values
            if p.integer or len(values) == 1:
                row[name] = float(rng.choice(values))
            else:
                lo, hi = min(values), max(values)
                row[name] = float(lo + (hi - lo) * F(rng.randrange(0, 101), 100))
        rows.append(row)
    grid = list(itertools.product(*[[float(v) for v in p.values] for p in game.params.values()]))
    rows += [dict(zip(game.params, g, strict=True)) for g in rng.sample(grid, min(len(grid), 16))]
    return {k: np.array([r[k] for r in rows]) for k in game.params}


def assert_matches(solver: GameSolver, points: dict[str, np.ndarray]):
    """The sweep's answer at every point is the per-point solver's (label indices exactly,
    numbers to float rounding of the same exact value)."""
    result = solver.sweep(points)
    n = len(next(iter(points.values()))) if points else 1
    assert result.size == n
    for i in range(n):
        ref = answer_of(solver.game, solver.solve({k: exact(v[i]) for k, v in points.items()}, derive=False))
        got = result.answer(i)
        where = {k: float(v[i]) for k, v in points.items()}
        assert (ref is None) == (got is None), (solver.game.name, solver.pref.label, where, ref, got)
        if ref is None:
            continue
        assert set(ref) == set(got)
        for k, v in ref.items():
            if k in result.labels:
                assert got[k] == v, (where, ref, got)
            else:
                assert got[k] == pytest.approx(v, rel=1e-12, abs=1e-12), (where, ref, got)
    return result


PAPER_PREFS = ["economicus", "moralis(kappa=0.5)", "moralis(kappa=0.25)"]


def _pref(ir, label: str):
    if label == "economicus":
        return ir.preference(PreferencePoint("economicus", ()))
    kappa = F(label.split("=")[1].rstrip(")"))
    return ir.preference(PreferencePoint("moralis", (("kappa", kappa),)))


@pytest.mark.parametrize("game", ["dictator", "trust", "prisoners_dilemma", "public_goods", "ultimatum"])
def test_paper_games_match_the_per_point_solver(paper, game: str):
    _, ir = paper
    rng = random.Random(17)
    methods = set()
    for label in PAPER_PREFS if game != "ultimatum" else PAPER_PREFS[:2]:
        solver = GameSolver(ir.games[game], _pref(ir, label))
        result = assert_matches(solver, draw(ir.games[game], rng, 24))
        methods.add(result.method)
        assert result.solved_per_point == int(result.per_point.sum())
    expected = {"prisoners_dilemma": "conditions", "ultimatum": "distinct"}.get(game, "regimes")
    assert methods == {expected}


def test_boundary_points_go_to_the_per_point_solver_and_are_right(paper):
    """Points where the closed form's regimes meet (an indifferent member of the public goods game
    at m = 2n/(n + 1), the trust game at k = 2) are the per-point solver's, counted as fallbacks."""
    _, ir = paper
    pg = GameSolver(ir.games["public_goods"], _pref(ir, "moralis(kappa=0.5)"))
    points = {"n": np.array([3.0, 3.0, 5.0, 4.0]), "m": np.array([1.5, 1.6, 5 / 3, 1.2])}
    result = assert_matches(pg, points)
    assert list(result.fallback) == [True, False, True, False]
    assert result.fallbacks == 2
    trust = GameSolver(ir.games["trust"], _pref(ir, "moralis(kappa=0.5)"))
    result = assert_matches(trust, {"k": np.array([2.0, 3.0, 2.0]), "E": np.array([10.0, 10.0, 7.5])})
    assert list(result.fallback) == [True, False, True]


def test_ties_of_a_finite_game_are_decided_exactly(paper):
    """Under moralis(kappa=0.5) the prisoner's dilemma ties at T = 5 (cooperating against
    cooperation pays (P + T)/2 = R) and at S = -1: the vectorised path decides those points from
    the exact payoff table, and they agree with the per-point solver."""
    _, ir = paper
    solver = GameSolver(ir.games["prisoners_dilemma"], _pref(ir, "moralis(kappa=0.5)"))
    points = {"T": np.array([5.0, 5.0, 6.0, 4.5]), "S": np.array([0.0, -1.0, -1.0, -0.5])}
    result = assert_matches(solver, points)
    assert result.fallbacks == 0
    assert result.labels["row.move"][int(result.values["row.move"][0])] == "cooperate"


def _parametric_symmetric(rng: random.Random, size: int) -> str:
    labels = [f"s{j}" for j in range(size)]
    cells = "; ".join(
        f"{labels[i]}, {labels[j]}: {rng.randint(-4, 4)} + {rng.randint(-2, 2)} * x"
        for i in range(size)
        for j in range(size)
    )
    return (
        f'spec rand\nuse "preferences.pref"\ngame g {{\n    players a, b symmetric\n'
        f"    param x = 0 vary {{-2, 2}}\n"
        f"    each player chooses move in {{{', '.join(labels)}}}\n"
        f"    payoff a = table(a.move, b.move) {{ {cells} }}\n}}\n"
    )


@pytest.mark.parametrize("kappa", ["0", "1/2", "3/4"])
def test_random_symmetric_games_with_a_parameter(tmp_path: Path, kappa: str):
    """Payoff tables linear in a parameter swept on quarters (ties and several equilibria are common)."""
    rng = random.Random(int(F(kappa) * 8) + 3)
    xs = np.arange(-8, 9) / 4
    for n in range(6):
        ir, g = compile_game(_parametric_symmetric(rng, 2 if n < 4 else 3), tmp_path / f"g{n}")
        pref = ir.preference(PreferencePoint("moralis", (("kappa", F(kappa)),)))
        result = assert_matches(GameSolver(g, pref), {"x": xs})
        assert result.method == "conditions"


def _sequential(rng: random.Random) -> str:
    a, b, c, d = (rng.randint(-2, 3) for _ in range(4))
    return (
        'spec rand\nuse "preferences.pref"\ngame g {\n    players p1, p2\n'
        "    param E = 10 vary {5, 20}, k = 2 vary {1, 2, 3, 4}\n"
        "    p1 chooses x in [0, E]\n"
        "    then p2 sees x and chooses y in [0, k * x]\n"
        f"    payoff p1 = E - x + ({a}) * y + ({b}) * x\n"
        f"    payoff p2 = k * x * ({c}) - y + ({d}) * y\n}}\n"
    )


def test_random_sequential_continuous_games(tmp_path: Path):
    """Two-stage games with continuous moves and linear payoffs (corners that switch with k)."""
    rng = random.Random(5)
    for n in range(4):
        ir, g = compile_game(_sequential(rng), tmp_path / f"g{n}")
        for pref in ("economicus", "moralis(kappa=0.5)"):
            result = assert_matches(GameSolver(g, _pref(ir, pref)), draw(g, rng, 12))
            assert result.method == "regimes"


def test_games_without_a_closed_form_are_solved_once_per_distinct_point(tmp_path: Path):
    """A two-stage finite game and a quadratic duopoly: the per-point solver answers each distinct
    point once and the answer is shared by every copy of it."""
    rng = random.Random(11)
    ir, g = compile_game(randgames.two_stage(rng).text, tmp_path / "two")
    result = assert_matches(GameSolver(g, _pref(ir, "economicus")), {})
    assert result.method == "distinct"
    duo = randgames.duopoly(rng)
    ir, g = compile_game(duo.text, tmp_path / "duo")
    points = {"cap": np.array([1.0, 2.0, 1.0, 3.0, 2.0, 1.0]), "a1": np.array([4.0, 6.0, 4.0, 8.0, 6.0, 4.0])}
    result = assert_matches(GameSolver(g, _pref(ir, "economicus")), points)
    assert result.method == "distinct" and result.solved_per_point == 6 and result.solves == 3
    assert result.fallbacks == 0


def test_bad_points_are_refused_like_the_per_point_solver(paper):
    _, ir = paper
    solver = GameSolver(ir.games["public_goods"], _pref(ir, "economicus"))
    with pytest.raises(SolveError, match="has no parameter `q`"):
        solver.sweep({"q": np.array([1.0])})
    with pytest.raises(SolveError, match="outside its domain"):
        solver.sweep({"m": np.array([1.5, 30.0])})
    with pytest.raises(SolveError, match="whole number"):
        solver.sweep({"n": np.array([2.0, 2.5])})
    with pytest.raises(SolveError, match="different numbers of points"):
        solver.sweep({"n": np.array([2.0, 3.0]), "m": np.array([1.5])})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    T=st.lists(st.integers(32, 64), min_size=1, max_size=6),
    S=st.integers(-16, 0),
    kappa=st.sampled_from(["0", "1/4", "1/2", "3/4", "1"]),
)
def test_property_prisoners_dilemma_sweeps_match(paper, T: list[int], S: int, kappa: str):
    """Any eighths of T and S, any kappa: the sweep agrees with the per-point solver."""
    _, ir = paper
    solver = GameSolver(ir.games["prisoners_dilemma"], _pref(ir, f"moralis(kappa={kappa})"))
    assert_matches(solver, {"T": np.array(T) / 8, "S": np.full(len(T), S / 8)})
