"""Exact finite-game solvers checked against outside references.

References: closed forms from the literature (prisoner's dilemma, matching pennies, battle of the
sexes, homo moralis thresholds of Alger & Weibull 2013 / arXiv 2507.20796, the public goods
threshold, the volunteer's dilemma), nashpy's vertex enumeration on random nondegenerate games,
and a floating-point polytope computation for degeneracy.
"""

from __future__ import annotations

import time
import warnings
from fractions import Fraction
from itertools import combinations

import nashpy
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from nashpy.polytope import build_halfspaces, labels
from scipy.spatial import HalfspaceIntersection

from prefc.compiler.solve.finite import (
    GameTooLarge,
    MixedEquilibrium,
    best_responses,
    bimatrix_equilibria,
    is_degenerate,
    is_equilibrium,
    pure_equilibria,
    solve_bimatrix,
    symmetric_mixed_equilibria_2p,
    symmetric_pure_equilibria,
    to_fraction,
)

F = Fraction
TOL = 1e-9


# ---------------------------------------------------------------------------------------------
# independent references written for the tests


def degenerate_reference(A: np.ndarray, B: np.ndarray) -> bool:
    """Floating-point check: is some point of a best-response polytope on more than m facets?

    P = {x >= 0 : B'^T x <= 1} with B' = B shifted positive (the row player's polytope) and
    likewise Q for the column player. The game is degenerate iff P or Q is not simple, which
    happens iff some vertex (a feasible basic solution of m tight constraints) makes more than m
    constraints tight.
    """

    def not_simple(C: np.ndarray) -> bool:  # rows: own actions, columns: opponent responses
        C = C.astype(float) - C.min() + 1.0
        m, n = C.shape
        normals = np.vstack([np.eye(m), C.T])  # constraint i: normals[i] @ z (>= or <=) rhs[i]
        rhs = np.concatenate([np.zeros(m), np.ones(n)])
        bases = np.array(list(combinations(range(m + n), m)))
        M, b = normals[bases], rhs[bases]
        regular = np.abs(np.linalg.det(M)) > 1e-9
        z = np.linalg.solve(M[regular], b[regular][..., None])[..., 0]  # basic solutions
        feasible = (z >= -1e-9).all(axis=1) & (z @ C <= 1 + 1e-9).all(axis=1)
        tight = (np.abs(z @ normals.T - rhs) < 1e-9).sum(axis=1)
        return bool(np.any(feasible & (tight > m)))

    return not_simple(np.asarray(B)) or not_simple(np.asarray(A).T)


def exact_best_response_check(A, B, eq: MixedEquilibrium) -> bool:
    """Every action in each support earns the maximal expected payoff (own Fraction arithmetic)."""
    x, y = eq.strategies
    m, n = len(A), len(A[0])
    assert all(p >= 0 for p in x) and sum(x) == 1 and len(x) == m
    assert all(q >= 0 for q in y) and sum(y) == 1 and len(y) == n
    rows = [sum(F(A[i][j]) * y[j] for j in range(n)) for i in range(m)]
    cols = [sum(F(B[i][j]) * x[i] for i in range(m)) for j in range(n)]
    return all(rows[i] == max(rows) for i in range(m) if x[i] > 0) and all(
        cols[j] == max(cols) for j in range(n) if y[j] > 0
    )


def pure_reference(A, B) -> list[tuple[int, int]]:
    """Pure equilibria by brute force."""
    m, n = len(A), len(A[0])
    return [
        (i, j)
        for i in range(m)
        for j in range(n)
        if all(A[i][j] >= A[k][j] for k in range(m)) and all(B[i][j] >= B[i][k] for k in range(n))
    ]


def as_floats(eqs: list[MixedEquilibrium]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [tuple(np.array([float(p) for p in s]) for s in eq.strategies) for eq in eqs]


def same_sets(mine, theirs) -> bool:
    """Equal as sets of strategy pairs, up to TOL (duplicates in `theirs` collapsed)."""
    unique: list[tuple[np.ndarray, np.ndarray]] = []
    for x, y in theirs:
        if not any(np.allclose(x, a, atol=TOL) and np.allclose(y, b, atol=TOL) for a, b in unique):
            unique.append((np.asarray(x), np.asarray(y)))
    if len(unique) != len(mine):
        return False
    return all(any(np.allclose(x, a, atol=TOL) and np.allclose(y, b, atol=TOL) for a, b in unique) for x, y in mine)


def polytope_vertices(M: np.ndarray) -> list[tuple[np.ndarray, set]]:
    """Nonzero vertices of {z >= 0 : M z <= 1} (M > 0) with their labels, by nashpy's polytope
    code; the interior point scipy needs is z = 1 / (2 max row sum), not nashpy's LP."""
    halfspaces = build_halfspaces(M)
    interior = np.full(M.shape[1], 0.5 / M.sum(axis=1).max())
    hull = HalfspaceIntersection(halfspaces, interior)
    return [(v, labels(v, halfspaces)) for v in hull.intersections if not np.all(np.isclose(v, 0)) and max(v) < np.inf]


def nashpy_vertex(A, B):
    """nashpy's vertex enumeration (Algorithm 3.5 of Nisan et al. 2007, nashpy's polytope and
    label functions), with each polytope's vertices computed once instead of once per outer
    vertex as ``nashpy.Game.vertex_enumeration`` does: same result, several times faster."""
    A = np.asarray(A, float)
    B = np.asarray(B, float)
    A = A - A.min() + 1
    B = B - B.min() + 1
    m, n = A.shape
    full = set(range(m + n))
    rows = polytope_vertices(B.T)
    cols = polytope_vertices(A)
    out = []
    for row_v, row_l in rows:
        shifted = {(label + m) % (m + n) for label in row_l}
        for col_v, col_l in cols:
            if shifted | set(col_l) == full:
                out.append((row_v / row_v.sum(), col_v / col_v.sum()))
    return out


def moralis(A: np.ndarray, kappa: Fraction) -> list[list[Fraction]]:
    """Homo moralis utility of playing a against b: (1 - kappa) A[a, b] + kappa A[a, a]."""
    k = len(A)
    return [[(1 - kappa) * int(A[a][b]) + kappa * int(A[a][a]) for b in range(k)] for a in range(k)]


def transpose(M):
    return [list(r) for r in zip(*M, strict=False)]


# ---------------------------------------------------------------------------------------------
# textbook games


PD = [[3, 0], [5, 1]]  # (T, R, P, S) = (5, 3, 1, 0); action 0 = cooperate, 1 = defect


def test_prisoners_dilemma_unique_defection():
    eqs = bimatrix_equilibria(PD, transpose(PD))
    assert len(eqs) == 1
    assert eqs[0].is_pure and eqs[0].pure_profile() == (1, 1)
    assert eqs[0].payoffs == (1, 1)
    assert not solve_bimatrix(PD, transpose(PD)).degenerate


def test_matching_pennies_unique_mixed():
    A = [[1, -1], [-1, 1]]
    B = [[-1, 1], [1, -1]]
    eqs = bimatrix_equilibria(A, B)
    assert len(eqs) == 1
    eq = eqs[0]
    assert eq.strategies == ((F(1, 2), F(1, 2)), (F(1, 2), F(1, 2)))
    assert eq.payoffs == (0, 0)
    assert not eq.is_pure and eq.pure_profile() is None


@pytest.mark.parametrize("a,b", [(3, 2), (2, 1), (5, 4), (7, 3)])
def test_battle_of_the_sexes_closed_form(a, b):
    # Row prefers (0, 0) paying (a, b); column prefers (1, 1) paying (b, a); miscoordination 0.
    # Mixed equilibrium: row plays 0 w.p. a/(a+b) (makes column indifferent: b p = a (1-p)),
    # column plays 0 w.p. b/(a+b); both expect ab/(a+b).
    A = [[a, 0], [0, b]]
    B = [[b, 0], [0, a]]
    eqs = bimatrix_equilibria(A, B)
    assert [e.pure_profile() for e in eqs[:2]] == [(0, 0), (1, 1)]
    assert len(eqs) == 3
    mixed = eqs[2]
    assert mixed.strategies == ((F(a, a + b), F(b, a + b)), (F(b, a + b), F(a, a + b)))
    assert mixed.payoffs == (F(a * b, a + b), F(a * b, a + b))


def test_degenerate_game_extreme_equilibria():
    # A degenerate 3 x 2 game (the nondegenerate example of von Stengel's "Computing equilibria
    # for two-person games" with B[0][1] raised from 2 to 3). Worked by hand: row 0 has two best
    # replies, giving the continuum {(1,0,0)} x {y : y_0 >= 2/3} (row 0 stays a best reply iff
    # 3 >= 2 y_0 + 5 y_1 and 3 >= 6 y_1); the only other equilibrium is
    # ((0, 1/3, 2/3), (1/3, 2/3)). Extreme equilibria: the continuum's two ends and that one.
    A = [[3, 3], [2, 5], [0, 6]]
    B = [[3, 3], [2, 6], [3, 1]]
    solution = solve_bimatrix(A, B)
    assert solution.degenerate
    got = {e.strategies for e in solution.equilibria}
    assert got == {
        ((F(1), F(0), F(0)), (F(1), F(0))),
        ((F(1), F(0), F(0)), (F(2, 3), F(1, 3))),
        ((F(0), F(1, 3), F(2, 3)), (F(1, 3), F(2, 3))),
    }
    assert solution.equilibria[0].pure_profile() == (0, 0)
    assert degenerate_reference(np.array(A), np.array(B))
    # the nondegenerate original: three equilibria, also from nashpy
    B0 = [[3, 2], [2, 6], [3, 1]]
    assert not is_degenerate(A, B0)
    assert same_sets(as_floats(bimatrix_equilibria(A, B0)), nashpy_vertex(A, B0))
    assert len(bimatrix_equilibria(A, B0)) == 3


# ---------------------------------------------------------------------------------------------
# random games against nashpy


def random_nondegenerate_games(seed: int, count: int, low: int, high: int):
    rng = np.random.default_rng(seed)
    kept, skipped = [], 0
    while len(kept) < count:
        m, n = (int(v) for v in rng.integers(2, 5, size=2))
        A = rng.integers(low, high + 1, size=(m, n))
        B = rng.integers(low, high + 1, size=(m, n))
        if degenerate_reference(A, B):
            skipped += 1
            continue
        kept.append((A, B))
    return kept, skipped


def test_reference_helper_equals_nashpy_vertex_enumeration():
    games, _ = random_nondegenerate_games(seed=11, count=8, low=-50, high=50)
    for A, B in games:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            direct = list(nashpy.Game(A, B).vertex_enumeration())
        assert same_sets(as_floats(bimatrix_equilibria(A, B)), direct)
        assert same_sets([(np.asarray(x), np.asarray(y)) for x, y in direct], nashpy_vertex(A, B))


def test_random_nondegenerate_games_match_nashpy():
    games, skipped = random_nondegenerate_games(seed=20250722, count=200, low=-50, high=50)
    assert skipped <= 0.1 * len(games), f"{skipped} degenerate draws skipped"
    sizes = {A.shape for A, _ in games}
    assert (2, 2) in sizes and (4, 4) in sizes and (2, 4) in sizes
    mixed_seen = 0
    for A, B in games:
        solution = solve_bimatrix(A, B)
        assert not solution.degenerate
        eqs = list(solution.equilibria)
        assert len(eqs) % 2 == 1  # nondegenerate games have an odd number of equilibria
        assert same_sets(as_floats(eqs), nashpy_vertex(A, B)), (A, B)
        assert [e.pure_profile() for e in eqs if e.is_pure] == pure_reference(A, B)
        mixed_seen += sum(not e.is_pure for e in eqs)
    assert mixed_seen > 50


def test_degeneracy_flag_matches_reference():
    rng = np.random.default_rng(7)
    counts = {True: 0, False: 0}
    for _ in range(150):
        m, n = (int(v) for v in rng.integers(2, 5, size=2))
        A = rng.integers(-8, 9, size=(m, n))
        B = rng.integers(-8, 9, size=(m, n))
        expected = degenerate_reference(A, B)
        assert is_degenerate(A, B) == expected, (A, B)
        counts[expected] += 1
    assert counts[True] > 20 and counts[False] > 20


@pytest.mark.parametrize("kappa", [F(0), F(1, 4), F(1, 3), F(1, 2), F(3, 4)])
def test_homo_moralis_random_symmetric_games(kappa):
    rng = np.random.default_rng(1000 + int(kappa * 12))
    kept = skipped = 0
    while kept < 50:
        k = int(rng.integers(2, 5))
        A = rng.integers(-50, 51, size=(k, k))
        U = moralis(A, kappa)
        V = transpose(U)  # the column player's utility: U[b][a] at profile (a, b)
        if degenerate_reference(np.array(U, float), np.array(V, float)):
            skipped += 1
            continue
        kept += 1
        eqs = bimatrix_equilibria(U, V)
        assert same_sets(as_floats(eqs), nashpy_vertex(U, V)), (A, kappa)
        # the symmetric equilibria are exactly those with x == y
        symmetric = symmetric_mixed_equilibria_2p(U)
        assert {e.strategies for e in symmetric} == {e.strategies for e in eqs if e.strategies[0] == e.strategies[1]}
        for e in eqs:
            assert all(isinstance(p, Fraction) for s in e.strategies for p in s)
    assert skipped <= 15


def pd_moralis_pure(kappa: Fraction) -> set[tuple[int, int]]:
    A = np.array(PD)
    U = moralis(A, kappa)
    return {e.pure_profile() for e in bimatrix_equilibria(U, transpose(U)) if e.is_pure}


@pytest.mark.parametrize(
    "kappa,cc,dd",
    [
        (F(0), False, True),
        (F(1, 3), False, True),
        (F(1, 3) + F(1, 1000), False, False),
        (F(1, 2) - F(1, 1000), False, False),
        (F(1, 2), True, False),
        (F(3, 4), True, False),
        (F(1), True, False),
    ],
)
def test_prisoners_dilemma_moralis_thresholds(kappa, cc, dd):
    # Alger & Weibull (2013): with (T,R,P,S) = (5,3,1,0), (C, C) is an equilibrium among homo
    # moralis iff kappa >= (T-R)/(T-P) = 1/2, and (D, D) iff kappa <= (P-S)/(R-S) = 1/3.
    pure = pd_moralis_pure(kappa)
    assert ((0, 0) in pure) == cc
    assert ((1, 1) in pure) == dd
    U = moralis(np.array(PD), kappa)
    symmetric = symmetric_pure_equilibria(lambda a, others: U[a][others[0]], 2, 2)
    assert symmetric == [a for a, ok in ((0, cc), (1, dd)) if ok]


def public_goods_moralis(n: int, m: Fraction, kappa: Fraction, e: int = 20):
    """Linear public goods game on {0, e}: pi_i = e - g_i + m/n sum(g); homo moralis utility."""

    def material(own: int, others: tuple[int, ...]) -> Fraction:
        gifts = [own * e] + [o * e for o in others]
        return e - own * e + m / n * sum(gifts)

    def utility_own(own: int, others: tuple[int, ...]) -> Fraction:
        return (1 - kappa) * material(own, others) + kappa * material(own, (own,) * len(others))

    return utility_own


@pytest.mark.parametrize("n,m", [(4, F(8, 5)), (2, F(3, 2)), (5, F(2)), (3, F(6, 5)), (8, F(3))])
def test_public_goods_full_contribution_threshold(n, m):
    threshold = (n - m) / (m * (n - 1))  # full contribution iff kappa >= (n - m) / (m (n - 1))
    if (n, m) == (4, F(8, 5)):
        assert threshold == F(1, 2)
    for kappa in (threshold - F(1, 1000), threshold, threshold + F(1, 1000), F(0), F(1)):
        util = public_goods_moralis(n, m, kappa)
        symmetric = symmetric_pure_equilibria(util, 2, n)
        assert (1 in symmetric) == (kappa >= threshold), (n, m, kappa)
        if n <= 5:  # the full n-player game agrees on the symmetric profiles

            def utility(i: int, profile: tuple[int, ...], util=util) -> Fraction:
                return util(profile[i], profile[:i] + profile[i + 1 :])

            pure = pure_equilibria(utility, [2] * n)
            assert [a for a in (0, 1) if (a,) * n in pure] == symmetric


def test_pure_equilibria_volunteers_dilemma():
    # Volunteer's dilemma (Diekmann 1985): benefit b if anyone volunteers, cost c < b for a
    # volunteer. Pure equilibria: exactly one volunteer.
    b, c, n = 10, 3, 4

    def utility(i: int, profile: tuple[int, ...]) -> int:
        return (b if any(profile) else 0) - c * profile[i]

    assert pure_equilibria(utility, [2] * n) == sorted(tuple(int(j == i) for j in range(n)) for i in range(n))


def test_pure_equilibria_agree_with_nashpy_on_two_player_games():
    games, _ = random_nondegenerate_games(seed=99, count=40, low=-9, high=9)
    for A, B in games:
        pure = pure_equilibria(lambda i, p, A=A, B=B: int((A, B)[i][p]), list(A.shape))
        ref = [
            (int(np.argmax(x)), int(np.argmax(y)))
            for x, y in nashpy_vertex(A, B)
            if np.isclose(x.max(), 1) and np.isclose(y.max(), 1)
        ]
        assert pure == sorted(set(ref))


# ---------------------------------------------------------------------------------------------
# properties


payoff = st.integers(min_value=-6, max_value=6)


@st.composite
def bimatrix(draw):
    m = draw(st.integers(1, 4))
    n = draw(st.integers(1, 4))
    A = draw(st.lists(st.lists(payoff, min_size=n, max_size=n), min_size=m, max_size=m))
    B = draw(st.lists(st.lists(payoff, min_size=n, max_size=n), min_size=m, max_size=m))
    return A, B


@settings(max_examples=200, deadline=None)
@given(bimatrix())
def test_every_equilibrium_is_exact(game):
    A, B = game
    eqs = bimatrix_equilibria(A, B)
    assert eqs, "every finite game has an equilibrium"
    assert len({e.strategies for e in eqs}) == len(eqs)
    for eq in eqs:
        assert exact_best_response_check(A, B, eq)
        assert is_equilibrium(A, B, *eq.strategies)
        x, y = eq.strategies
        xAy = sum(F(A[i][j]) * x[i] * y[j] for i in range(len(A)) for j in range(len(A[0])))
        xBy = sum(F(B[i][j]) * x[i] * y[j] for i in range(len(A)) for j in range(len(A[0])))
        assert eq.payoffs == (xAy, xBy)
    # pure equilibria are always extreme, so all of them are listed, first and in order
    pure = [e.pure_profile() for e in eqs if e.is_pure]
    assert pure == pure_reference(A, B)
    assert [e.is_pure for e in eqs] == sorted((e.is_pure for e in eqs), reverse=True)


@settings(max_examples=60, deadline=None)
@given(bimatrix(), st.integers(1, 50))
def test_solutions_invariant_to_positive_affine_payoffs(game, scale):
    A, B = game
    base = {e.strategies for e in bimatrix_equilibria(A, B)}
    A2 = [[F(v * scale, 7) - 3 for v in row] for row in A]
    B2 = [[sympy.Rational(v, scale) + 5 for v in row] for row in B]
    assert {e.strategies for e in bimatrix_equilibria(A2, B2)} == base


def test_best_responses_and_is_equilibrium():
    A = [[3, 0], [0, 2]]
    assert best_responses(A, [F(2, 5), F(3, 5)]) == (0, 1)
    assert best_responses(A, [1, 0]) == (0,)
    assert is_equilibrium(A, [[2, 0], [0, 3]], [F(3, 5), F(2, 5)], [F(2, 5), F(3, 5)])
    assert not is_equilibrium(A, [[2, 0], [0, 3]], [F(1, 2), F(1, 2)], [F(2, 5), F(3, 5)])
    with pytest.raises(ValueError):
        is_equilibrium(A, A, [F(1, 2), F(1, 3)], [1, 0])


def test_exact_inputs_only():
    assert to_fraction(sympy.Rational(-3, 7)) == F(-3, 7)
    assert to_fraction(np.int64(4)) == 4
    with pytest.raises(TypeError, match="exact"):
        bimatrix_equilibria([[0.5, 1]], [[1, 0]])
    with pytest.raises(TypeError):
        to_fraction(sympy.Float(0.5))
    with pytest.raises(ValueError, match="shape"):
        bimatrix_equilibria([[1, 2]], [[1], [2]])


# ---------------------------------------------------------------------------------------------
# limits and speed


def test_game_too_large_is_quick_and_clear():
    big = [[i * j for j in range(20)] for i in range(20)]
    start = time.perf_counter()
    with pytest.raises(GameTooLarge, match=r"20 x 20 actions.*limited to 12 per player"):
        bimatrix_equilibria(big, big)
    with pytest.raises(GameTooLarge, match="support pairs"):
        bimatrix_equilibria(big[:12], big[:12], max_actions=20, max_support_pairs=10_000)
    with pytest.raises(GameTooLarge):
        symmetric_mixed_equilibria_2p(big)
    ten = [row[:10] for row in big[:10]]  # 2 * (C(20, 10) - 1) = 369510 support pairs
    with pytest.raises(GameTooLarge, match=r"10 x 10 actions, that is 369510 support pairs"):
        bimatrix_equilibria(ten, ten)

    def never(*_):
        raise AssertionError("utility called on a game that is too large")

    with pytest.raises(GameTooLarge, match=r"10 x 10 x 10 x 10 x 10 x 10.*200000 profiles"):
        pure_equilibria(never, [10] * 6)
    with pytest.raises(GameTooLarge):
        symmetric_pure_equilibria(never, 5000, 3)
    assert issubclass(GameTooLarge, ValueError)
    assert time.perf_counter() - start < 0.5


def test_four_by_four_is_fast():
    games, _ = random_nondegenerate_games(seed=3, count=60, low=-50, high=50)
    square = [(A, B) for A, B in games if A.shape == (4, 4)] or games
    start = time.perf_counter()
    for A, B in square:
        bimatrix_equilibria(A, B)
    per_game = (time.perf_counter() - start) / len(square)
    assert per_game < 0.05  # typically about 2 ms; generous for loaded machines
