"""Exact solvers for finite normal-form games.

Payoffs arrive already evaluated at a parameter point, as ints, ``fractions.Fraction`` or sympy
Rationals (floats are refused: results must be exact). All arithmetic is rational; internally the
two-player solvers scale and shift each payoff matrix to positive integers, which changes neither
best responses nor equilibria, and solve the small linear systems fraction-free (Bareiss), so the
hot loop runs on Python integers.

Two-player games are solved by enumerating the vertices of the best-response polytopes
``P = {x >= 0 : B^T x <= 1}`` and ``Q = {y >= 0 : A y <= 1}``. A vertex of ``P`` is found as a
support ``I`` of the row player together with an equally large set ``K`` of the column player's
actions made indifferent (the tight constraints), which is support enumeration with the
indifference set decoupled from the opponent's support. A pair of vertices is an equilibrium when
it is completely labelled: every action played is a best response. This returns

* for a nondegenerate game: every Nash equilibrium (the set is finite);
* for a degenerate game: every *extreme* equilibrium, i.e. every vertex of every maximal convex
  set of equilibria (Nash subset); the whole equilibrium set is the union of the convex hulls of
  those vertices taken within each Nash subset. Equilibria that are not extreme (points inside a
  continuum) are not listed. ``solve_bimatrix`` reports whether the game was degenerate.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations, product
from math import comb, gcd, lcm
from typing import Any

from prefc.compiler.limits import GameTooLarge

__all__ = [
    "best_responses",
    "bimatrix_equilibria",
    "BimatrixSolution",
    "GameTooLarge",
    "is_degenerate",
    "is_equilibrium",
    "MixedEquilibrium",
    "pure_equilibria",
    "solve_bimatrix",
    "solve_integer",
    "symmetric_mixed_equilibria_2p",
    "symmetric_pure_equilibria",
    "to_fraction",
]

Matrix = Sequence[Sequence[Any]]
FractionMatrix = tuple[tuple[Fraction, ...], ...]

DEFAULT_MAX_ACTIONS = 12
DEFAULT_MAX_SUPPORT_PAIRS = 100_000
DEFAULT_MAX_PROFILES = 200_000


@dataclass(frozen=True)
class MixedEquilibrium:
    """A Nash equilibrium in (possibly) mixed strategies, with exact probabilities.

    Attributes:
        strategies: one probability vector per player, indexed by action.
        payoffs: the expected payoff (utility) of each player at the equilibrium.
    """

    strategies: tuple[tuple[Fraction, ...], ...]
    payoffs: tuple[Fraction, ...]

    @property
    def supports(self) -> tuple[tuple[int, ...], ...]:
        """The actions each player plays with positive probability."""
        return tuple(tuple(a for a, p in enumerate(s) if p > 0) for s in self.strategies)

    @property
    def is_pure(self) -> bool:
        """Whether every player plays a single action with probability one."""
        return all(len(s) == 1 for s in self.supports)

    def pure_profile(self) -> tuple[int, ...] | None:
        """The action profile of a pure equilibrium, or ``None`` for a mixed one."""
        supports = self.supports
        if all(len(s) == 1 for s in supports):
            return tuple(s[0] for s in supports)
        return None


@dataclass(frozen=True)
class BimatrixSolution:
    """The result of solving a two-player game.

    Attributes:
        equilibria: all equilibria (nondegenerate game) or all extreme equilibria (degenerate
            game), pure first in lexicographic order, then mixed by support size.
        degenerate: whether some mixed strategy with support size k has more than k pure best
            responses; then equilibria can form continua of which only the vertices are listed.
    """

    equilibria: tuple[MixedEquilibrium, ...]
    degenerate: bool


# ---------------------------------------------------------------------------------------------
# conversion


def to_fraction(value: Any) -> Fraction:
    """Convert an exact number (int, Fraction, sympy Rational, numpy integer) to a Fraction.

    Args:
        value: the number. Floats (Python, numpy or sympy) are refused because they are inexact.

    Returns:
        The same number as a ``fractions.Fraction``.

    Raises:
        TypeError: if ``value`` is not an exact rational number.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if getattr(value, "is_Rational", False) is True:  # sympy Integer / Rational
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, numbers.Integral):
        return Fraction(int(value))
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    raise TypeError(f"payoffs must be exact (int, Fraction or sympy Rational), got {type(value).__name__} {value!r}")


def _to_matrix(matrix: Matrix | Any, name: str) -> FractionMatrix:
    rows = matrix.tolist() if hasattr(matrix, "tolist") else matrix
    out = tuple(tuple(to_fraction(v) for v in row) for row in rows)
    if not out or not out[0]:
        raise ValueError(f"payoff matrix {name} is empty")
    width = len(out[0])
    if any(len(row) != width for row in out):
        raise ValueError(f"payoff matrix {name} is not rectangular")
    return out


def _to_strategy(strategy: Sequence[Any], size: int, name: str) -> tuple[Fraction, ...]:
    probs = tuple(to_fraction(p) for p in strategy)
    if len(probs) != size:
        raise ValueError(f"strategy {name} has {len(probs)} entries, the game has {size} actions")
    if any(p < 0 for p in probs) or sum(probs) != 1:
        raise ValueError(f"strategy {name} is not a probability vector: {probs}")
    return probs


def _transpose(matrix: FractionMatrix) -> FractionMatrix:
    return tuple(zip(*matrix, strict=True))


def _positive_integer(matrix: FractionMatrix) -> list[list[int]]:
    """Scale by the common denominator and shift so that every entry is an integer >= 1."""
    denominator = lcm(*(v.denominator for row in matrix for v in row))
    scaled = [[v.numerator * (denominator // v.denominator) for v in row] for row in matrix]
    shift = 1 - min(min(row) for row in scaled)
    return [[v + shift for v in row] for row in scaled]


# ---------------------------------------------------------------------------------------------
# best responses and checks


def _expected(row: Sequence[Fraction], strategy: Sequence[Fraction]) -> Fraction:
    return sum((a * p for a, p in zip(row, strategy, strict=True)), Fraction(0))


def best_responses(payoffs: Matrix | Any, opponent_strategy: Sequence[Any]) -> tuple[int, ...]:
    """The pure best responses to an opponent's mixed strategy, computed exactly.

    Args:
        payoffs: the responding player's payoffs, one row per own action and one column per
            opponent action (for the column player of ``(A, B)`` pass ``B`` transposed).
        opponent_strategy: the opponent's probability vector over the columns.

    Returns:
        The own actions (row indices, ascending) that maximise the expected payoff.
    """
    matrix = _to_matrix(payoffs, "payoffs")
    strategy = _to_strategy(opponent_strategy, len(matrix[0]), "of the opponent")
    values = [_expected(row, strategy) for row in matrix]
    best = max(values)
    return tuple(i for i, v in enumerate(values) if v == best)


def is_equilibrium(A: Matrix | Any, B: Matrix | Any, x: Sequence[Any], y: Sequence[Any]) -> bool:
    """Whether ``(x, y)`` is a Nash equilibrium of the bimatrix game ``(A, B)``, exactly.

    Args:
        A: the row player's payoffs (rows = row actions, columns = column actions).
        B: the column player's payoffs, same shape as ``A``.
        x: the row player's probability vector.
        y: the column player's probability vector.

    Returns:
        True when every action played with positive probability is a best response.
    """
    a, b = _to_matrix(A, "A"), _to_matrix(B, "B")
    _check_shapes(a, b)
    xs = _to_strategy(x, len(a), "x")
    ys = _to_strategy(y, len(a[0]), "y")
    rows = best_responses(a, ys)
    cols = best_responses(_transpose(b), xs)
    return all(i in rows for i, p in enumerate(xs) if p > 0) and all(j in cols for j, q in enumerate(ys) if q > 0)


def _check_shapes(a: FractionMatrix, b: FractionMatrix) -> None:
    if (len(a), len(a[0])) != (len(b), len(b[0])):
        raise ValueError(f"payoff matrices differ in shape: A is {len(a)} x {len(a[0])}, B is {len(b)} x {len(b[0])}")


# ---------------------------------------------------------------------------------------------
# vertex enumeration of a best-response polytope


@dataclass(frozen=True)
class _Vertex:
    probs: tuple[Fraction, ...]
    support: int  # bit mask over own actions
    tight: int  # bit mask over the opponent's best responses to this strategy


def solve_integer(system: list[list[int]]) -> tuple[int, list[int]] | None:
    """Fraction-free Gauss-Jordan (Bareiss) on a k x (k+1) augmented integer system.

    Returns ``(d, numerators)`` with solution ``numerators[i] / d``, or None when singular.
    """
    n = len(system)
    previous = 1
    for k in range(n):
        if system[k][k] == 0:
            for i in range(k + 1, n):
                if system[i][k] != 0:
                    system[k], system[i] = system[i], system[k]
                    break
            else:
                return None
        pivot_row = system[k]
        pivot = pivot_row[k]
        for i in range(n):
            if i != k:
                row = system[i]
                factor = row[k]
                system[i] = [(pivot * v - factor * w) // previous for v, w in zip(row, pivot_row, strict=False)]
        previous = pivot
    return previous, [system[i][n] for i in range(n)]


def _vertex_count(own: int, other: int) -> int:
    return comb(own + other, own) - 1


def _vertices(payoff_of_response: list[list[int]]) -> list[_Vertex]:
    """Nonzero vertices of ``{z >= 0 : sum_s C[s][r] z_s <= 1 for every r}`` for positive C.

    ``C[s][r]`` is the opponent's payoff from response ``r`` against own action ``s``. Each vertex
    is returned normalised to a probability vector, with its support and its set of tight
    constraints (the opponent's pure best responses to it).
    """
    own = len(payoff_of_response)
    other = len(payoff_of_response[0])
    columns = [[payoff_of_response[s][r] for s in range(own)] for r in range(other)]
    found: dict[tuple[int, ...], _Vertex] = {}
    for size in range(1, min(own, other) + 1):
        for support in combinations(range(own), size):
            restricted = [[col[s] for s in support] for col in columns]
            for tight_set in combinations(range(other), size):
                solved = solve_integer([restricted[r] + [1] for r in tight_set])
                if solved is None:
                    continue
                det, nums = solved
                if det < 0:
                    det, nums = -det, [-v for v in nums]
                if min(nums) <= 0:
                    continue
                tight = 0
                for r, col in enumerate(restricted):
                    value = sum(c * v for c, v in zip(col, nums, strict=False))
                    if value > det:
                        break
                    if value == det:
                        tight |= 1 << r
                else:
                    total = sum(nums)
                    common = gcd(*nums)
                    key = (*support, *(v // common for v in nums))
                    if key not in found:
                        probs = [Fraction(0)] * own
                        for s, v in zip(support, nums, strict=False):
                            probs[s] = Fraction(v, total)
                        mask = sum(1 << s for s in support)
                        found[key] = _Vertex(tuple(probs), mask, tight)
    return list(found.values())


def _has_extra_labels(vertices: list[_Vertex]) -> bool:
    return any(v.tight.bit_count() > v.support.bit_count() for v in vertices)


def _check_limits(rows: int, cols: int, max_actions: int, max_support_pairs: int, *, polytopes: int = 2) -> None:
    if rows > max_actions or cols > max_actions:
        raise GameTooLarge(
            f"game has {rows} x {cols} actions; exact support enumeration is limited to {max_actions} per player"
        )
    pairs = polytopes * _vertex_count(rows, cols)
    if pairs > max_support_pairs:
        raise GameTooLarge(
            f"game has {rows} x {cols} actions, that is {pairs} support pairs to enumerate; "
            f"exact support enumeration is limited to {max_support_pairs} support pairs"
        )


def _sort_key(eq: MixedEquilibrium) -> tuple[Any, ...]:
    supports = eq.supports
    profile = eq.pure_profile()
    if profile is not None:
        return (0, profile)
    sizes = tuple(len(s) for s in supports)
    return (1, sum(sizes), sizes, supports, eq.strategies)


def _equilibrium(
    a: FractionMatrix, b: FractionMatrix, x: tuple[Fraction, ...], y: tuple[Fraction, ...]
) -> MixedEquilibrium:
    ay = [_expected(row, y) for row in a]
    by = [_expected(row, y) for row in b]
    return MixedEquilibrium((x, y), (_expected(ay, x), _expected(by, x)))


# ---------------------------------------------------------------------------------------------
# two-player games


def solve_bimatrix(
    A: Matrix | Any,
    B: Matrix | Any,
    *,
    max_actions: int = DEFAULT_MAX_ACTIONS,
    max_support_pairs: int = DEFAULT_MAX_SUPPORT_PAIRS,
) -> BimatrixSolution:
    """All (extreme) Nash equilibria of a two-player game, with a degeneracy flag.

    Args:
        A: the row player's payoffs, ``A[i][j]`` for row action i and column action j.
        B: the column player's payoffs, same shape.
        max_actions: the largest number of actions allowed for either player.
        max_support_pairs: the largest number of (support, indifference set) pairs to enumerate,
            over both players; a game of m x n actions needs ``2 * (C(m+n, m) - 1)``.

    Returns:
        The equilibria (see the module docstring for what a degenerate game returns) and whether
        the game is degenerate.

    Raises:
        GameTooLarge: above either limit, before any enumeration.
    """
    a, b = _to_matrix(A, "A"), _to_matrix(B, "B")
    _check_shapes(a, b)
    _check_limits(len(a), len(a[0]), max_actions, max_support_pairs)
    row_vertices = _vertices(_positive_integer(b))  # C[s][r] = B[s][r]
    col_vertices = _vertices(_positive_integer(_transpose(a)))  # C[s][r] = A[r][s]
    equilibria = [
        _equilibrium(a, b, vx.probs, vy.probs)
        for vx in row_vertices
        for vy in col_vertices
        if vx.support & ~vy.tight == 0 and vy.support & ~vx.tight == 0
    ]
    equilibria.sort(key=_sort_key)
    degenerate = _has_extra_labels(row_vertices) or _has_extra_labels(col_vertices)
    return BimatrixSolution(tuple(equilibria), degenerate)


def bimatrix_equilibria(
    A: Matrix | Any,
    B: Matrix | Any,
    *,
    max_actions: int = DEFAULT_MAX_ACTIONS,
    max_support_pairs: int = DEFAULT_MAX_SUPPORT_PAIRS,
) -> list[MixedEquilibrium]:
    """All Nash equilibria (pure and mixed) of a two-player game, exact.

    Nondegenerate games: the full finite set. Degenerate games: every extreme equilibrium (each
    vertex of each maximal convex set of equilibria), found by support enumeration in which the
    opponent's indifference set may differ from its support; every returned profile is an exact
    equilibrium. Order: pure equilibria first (lexicographic by profile), then mixed ones by total
    support size, then by supports.

    Args:
        A: the row player's payoffs, ``A[i][j]`` for row action i and column action j.
        B: the column player's payoffs, same shape.
        max_actions: the largest number of actions allowed for either player.
        max_support_pairs: the largest number of support pairs to enumerate (both players).

    Returns:
        The equilibria as ``MixedEquilibrium`` values (strategies ``(x, y)``).

    Raises:
        GameTooLarge: above either limit.
    """
    return list(solve_bimatrix(A, B, max_actions=max_actions, max_support_pairs=max_support_pairs).equilibria)


def is_degenerate(
    A: Matrix | Any,
    B: Matrix | Any,
    *,
    max_actions: int = DEFAULT_MAX_ACTIONS,
    max_support_pairs: int = DEFAULT_MAX_SUPPORT_PAIRS,
) -> bool:
    """Whether some mixed strategy with support size k has more than k pure best responses.

    Args:
        A: the row player's payoffs.
        B: the column player's payoffs, same shape.
        max_actions: as in ``solve_bimatrix``.
        max_support_pairs: as in ``solve_bimatrix``.

    Returns:
        True for a degenerate game (a best-response polytope is not simple).
    """
    a, b = _to_matrix(A, "A"), _to_matrix(B, "B")
    _check_shapes(a, b)
    _check_limits(len(a), len(a[0]), max_actions, max_support_pairs)
    return _has_extra_labels(_vertices(_positive_integer(b))) or _has_extra_labels(
        _vertices(_positive_integer(_transpose(a)))
    )


def symmetric_mixed_equilibria_2p(
    A: Matrix | Any,
    *,
    max_actions: int = DEFAULT_MAX_ACTIONS,
    max_support_pairs: int = DEFAULT_MAX_SUPPORT_PAIRS,
) -> list[MixedEquilibrium]:
    """Symmetric equilibria ``(x, x)`` of the symmetric two-player game ``(A, A^T)``.

    A strategy x is returned when every action it plays is a best response to x itself. For a
    nondegenerate game these are all symmetric equilibria; for a degenerate one, the extreme
    points of the set of symmetric equilibria.

    Args:
        A: the square payoff matrix: a player gets ``A[a][b]`` playing a against b.
        max_actions: the largest number of actions allowed.
        max_support_pairs: the largest number of support pairs to enumerate.

    Returns:
        The symmetric equilibria, pure first (by action), then mixed by support size.

    Raises:
        GameTooLarge: above either limit.
        ValueError: if ``A`` is not square.
    """
    a = _to_matrix(A, "A")
    if len(a) != len(a[0]):
        raise ValueError(f"a symmetric game needs a square matrix, got {len(a)} x {len(a[0])}")
    _check_limits(len(a), len(a), max_actions, max_support_pairs, polytopes=1)
    b = _transpose(a)
    equilibria = [
        _equilibrium(a, b, v.probs, v.probs) for v in _vertices(_positive_integer(b)) if v.support & ~v.tight == 0
    ]
    equilibria.sort(key=_sort_key)
    return equilibria


# ---------------------------------------------------------------------------------------------
# n-player games


def _product_size(counts: Sequence[int], limit: int) -> int:
    size = 1
    for c in counts:
        size *= c
        if size > limit:
            return size
    return size


def pure_equilibria(
    utility: Callable[[int, tuple[int, ...]], Any],
    action_counts: Sequence[int],
    *,
    max_profiles: int = DEFAULT_MAX_PROFILES,
) -> list[tuple[int, ...]]:
    """Pure Nash equilibria of an n-player finite game, by exhaustive exact check.

    Args:
        utility: ``utility(i, profile)`` is player i's utility (an exact number) at the profile.
        action_counts: the number of actions of each player.
        max_profiles: the largest number of action profiles to enumerate.

    Returns:
        The equilibrium profiles in lexicographic order. ``utility`` is called once per player
        and profile.

    Raises:
        GameTooLarge: if the game has more than ``max_profiles`` profiles (checked first).
        ValueError: if a player has no action.
    """
    counts = [int(c) for c in action_counts]
    if not counts or min(counts) < 1:
        raise ValueError(f"every player needs at least one action, got {counts}")
    size = _product_size(counts, max_profiles)
    if size > max_profiles:
        shape = " x ".join(str(c) for c in counts)
        raise GameTooLarge(
            f"game has {shape} actions (more than {max_profiles} profiles); exact pure "
            f"equilibrium enumeration is limited to {max_profiles} profiles"
        )
    profiles = list(product(*(range(c) for c in counts)))
    stable = [True] * size
    stride = size
    for player, count in enumerate(counts):
        stride //= count
        for base in range(size):
            if (base // stride) % count != 0:
                continue
            indices = [base + a * stride for a in range(count)]
            values = [to_fraction(utility(player, profiles[k])) for k in indices]
            best = max(values)
            for k, v in zip(indices, values, strict=False):
                if v != best:
                    stable[k] = False
    return [profiles[k] for k in range(size) if stable[k]]


def symmetric_pure_equilibria(
    utility_own: Callable[[int, tuple[int, ...]], Any],
    n_actions: int,
    n_players: int,
    *,
    max_profiles: int = 1_000_000,
) -> list[int]:
    """Symmetric pure equilibria of a symmetric n-player game.

    Args:
        utility_own: ``utility_own(a_own, a_others)`` is a player's utility when it plays
            ``a_own`` and the others play the tuple ``a_others`` (length ``n_players - 1``).
        n_actions: the number of actions of each player.
        n_players: the number of players (at least 1).
        max_profiles: the largest number of (own action, common action) pairs to check,
            ``n_actions ** 2``.

    Returns:
        The actions a (ascending) such that everyone playing a is an equilibrium: no player gains
        by a unilateral deviation. Uses ``n_actions ** 2`` utility calls.

    Raises:
        GameTooLarge: if ``n_actions ** 2`` exceeds ``max_profiles``.
        ValueError: for fewer than one action or player.
    """
    if n_actions < 1 or n_players < 1:
        raise ValueError(f"need at least one action and one player, got {n_actions}, {n_players}")
    if n_actions * n_actions > max_profiles:
        raise GameTooLarge(
            f"game has {n_actions} actions per player ({n_actions * n_actions} deviation checks); "
            f"the symmetric pure equilibrium check is limited to {max_profiles}"
        )
    result = []
    for a in range(n_actions):
        others = (a,) * (n_players - 1)
        stay = to_fraction(utility_own(a, others))
        if all(to_fraction(utility_own(d, others)) <= stay for d in range(n_actions) if d != a):
            result.append(a)
    return result
