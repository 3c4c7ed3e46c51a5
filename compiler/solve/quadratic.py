"""Exact equilibria of two-player finite games whose utilities are quadratic in the own mixture.

Under the strategy-level Kantian term (Alger & Weibull 2013) a player who mixes with ``x`` while
the other mixes with ``y`` gets

    u(x, y) = x' M y + x' G x

where ``M[a][b]`` is the part of the utility that depends on the actual profile (own action ``a``,
the other's ``b``) and ``G[a][b]`` the Kantian part evaluated on the universalised profile in which
both players draw from ``x`` (own draw ``a``, the other's ``b``). With ``G = 0`` this is an ordinary
bimatrix game. The own utility is no longer linear in the own mixture, so pure deviations do not
suffice to check a mixed equilibrium, and an equilibrium need not be a vertex of a best-response
polytope. Two algorithms, exact in rational arithmetic:

* :func:`simplex_max` maximises a quadratic over the simplex by enumerating its faces: on the
  relative interior of each face the maximiser is a stationary point of the restriction, a linear
  system; the global maximum is the best of these and the vertices (a face whose system is
  singular has its stationary set meeting a smaller face at the same value). It is the
  certificate's best-reply check.
* :func:`equilibria` enumerates pairs of supports and solves the joint Karush-Kuhn-Tucker system on
  each (linear in ``x``, ``y`` and the two multipliers, since the gradient ``M y + (G + G') x`` is
  linear), then keeps the solutions that are global best replies by :func:`simplex_max`. For a
  nondegenerate game this lists every equilibrium; a support pair whose system is singular is
  reported (``degenerate``), and equilibria in its continuum are not listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from math import lcm

from prefc.compiler.limits import GameTooLarge
from prefc.compiler.solve.finite import MixedEquilibrium, solve_integer

__all__ = ["QuadraticSolution", "equilibria", "simplex_max", "solve_linear", "symmetric_equilibria", "value"]

Matrix = Sequence[Sequence[Fraction]]
MAX_SUPPORT_PAIRS = 40_000


def solve_linear(a: list[list[Fraction]], b: list[Fraction]) -> list[Fraction] | None:
    """The unique solution of ``a x = b`` (square, exact), or None when ``a`` is singular.

    Each row is scaled to integers and the system solved fraction-free (Bareiss), which is much
    faster than Gaussian elimination on Fractions.

    Args:
        a: The matrix (rows).
        b: The right-hand side.
    """
    system = []
    for row, rhs in zip(a, b, strict=False):
        entries = [Fraction(v) for v in row] + [Fraction(rhs)]
        scale = lcm(*(v.denominator for v in entries))
        system.append([int(v * scale) for v in entries])
    solved = solve_integer(system)
    if solved is None:
        return None
    d, numerators = solved
    return [Fraction(num, d) for num in numerators]


def value(x: Sequence[Fraction], y: Sequence[Fraction], M: Matrix, G: Matrix) -> Fraction:
    """``x' M y + x' G x``.

    Args:
        x: The own mixture.
        y: The other's mixture.
        M: The actual part, ``[own][other]``.
        G: The Kantian part, ``[own draw][other draw]``.
    """
    lin = sum((x[a] * M[a][b] * y[b] for a in range(len(x)) if x[a] for b in range(len(y)) if y[b]), Fraction(0))
    quad = sum((x[a] * G[a][b] * x[b] for a in range(len(x)) if x[a] for b in range(len(x)) if x[b]), Fraction(0))
    return lin + quad


def simplex_max(c: Sequence[Fraction], Q: Matrix) -> tuple[Fraction, tuple[Fraction, ...]]:
    """The maximum of ``c' x + x' Q x`` over the probability simplex, exactly, and a maximiser.

    Args:
        c: The linear coefficients.
        Q: The quadratic form (need not be symmetric or definite).
    """
    k = len(c)
    H = [[Q[i][j] + Q[j][i] for j in range(k)] for i in range(k)]
    best: tuple[Fraction, tuple[Fraction, ...]] | None = None
    for size in range(1, k + 1):
        for face in combinations(range(k), size):
            if size == 1:
                x = [Fraction(0)] * k
                x[face[0]] = Fraction(1)
            else:
                # stationarity on the face: c_i + (H x)_i = mu for i in face, sum x = 1
                rows = [[H[i][j] for j in face] + [Fraction(-1)] for i in face]
                rows.append([Fraction(1)] * size + [Fraction(0)])
                rhs = [-c[i] for i in face] + [Fraction(1)]
                sol = solve_linear(rows, rhs)
                if sol is None or any(v <= 0 for v in sol[:size]):
                    continue
                x = [Fraction(0)] * k
                for i, v in zip(face, sol[:size], strict=False):
                    x[i] = v
            val = sum((c[i] * x[i] for i in range(k)), Fraction(0)) + sum(
                (x[i] * Q[i][j] * x[j] for i in range(k) if x[i] for j in range(k) if x[j]), Fraction(0)
            )
            if best is None or val > best[0]:
                best = (val, tuple(x))
    assert best is not None
    return best


@dataclass(frozen=True)
class QuadraticSolution:
    """Equilibria of a two-player game with quadratic own terms.

    Attributes:
        equilibria: Every equilibrium found (pure first).
        degenerate: Whether some support pair had a singular system (equilibria in a continuum
            are then not all listed).
    """

    equilibria: tuple[MixedEquilibrium, ...]
    degenerate: bool


def _mix(support: tuple[int, ...], values: Sequence[Fraction], size: int) -> tuple[Fraction, ...]:
    x = [Fraction(0)] * size
    for i, v in zip(support, values, strict=False):
        x[i] = v
    return tuple(x)


def _best_reply(x: Sequence[Fraction], y: Sequence[Fraction], M: Matrix, G: Matrix) -> bool:
    own = value(x, y, M, G)
    c = [sum((M[a][b] * y[b] for b in range(len(y)) if y[b]), Fraction(0)) for a in range(len(x))]
    best, _ = simplex_max(c, G)
    return best <= own


def equilibria(
    M1: Matrix, G1: Matrix, M2: Matrix, G2: Matrix, *, max_pairs: int = MAX_SUPPORT_PAIRS
) -> QuadraticSolution:
    """Every equilibrium of the game ``u1(x, y) = x'M1 y + x'G1 x``, ``u2(y, x) = y'M2 x + y'G2 y``.

    Args:
        M1: Player 1's actual part, ``[own][other]`` (k1 x k2).
        G1: Player 1's Kantian part (k1 x k1).
        M2: Player 2's actual part, ``[own][other]`` (k2 x k1).
        G2: Player 2's Kantian part (k2 x k2).
        max_pairs: The most support pairs enumerated.

    Raises:
        GameTooLarge: when there are more support pairs than ``max_pairs``.
    """
    k1, k2 = len(M1), len(M2)
    pairs = (2**k1 - 1) * (2**k2 - 1)
    if pairs > max_pairs:
        raise GameTooLarge(
            f"{k1} x {k2} options give {pairs:,} support pairs; mixed equilibria under the "
            f"Kantian term are enumerated up to {max_pairs:,}"
        )
    H1 = [[G1[i][j] + G1[j][i] for j in range(k1)] for i in range(k1)]
    H2 = [[G2[i][j] + G2[j][i] for j in range(k2)] for i in range(k2)]
    found: list[MixedEquilibrium] = []
    degenerate = False
    seen: set[tuple] = set()
    for s1 in range(1, k1 + 1):
        for S in combinations(range(k1), s1):
            for s2 in range(1, k2 + 1):
                for T in combinations(range(k2), s2):
                    # unknowns: x_S, y_T, l1, l2
                    n = s1 + s2 + 2
                    rows: list[list[Fraction]] = []
                    rhs: list[Fraction] = []
                    for i in S:  # (M1 y + H1 x)_i - l1 = 0
                        rows.append([H1[i][a] for a in S] + [M1[i][b] for b in T] + [Fraction(-1), Fraction(0)])
                        rhs.append(Fraction(0))
                    rows.append([Fraction(1)] * s1 + [Fraction(0)] * s2 + [Fraction(0), Fraction(0)])
                    rhs.append(Fraction(1))
                    for j in T:  # (M2 x + H2 y)_j - l2 = 0
                        rows.append([M2[j][a] for a in S] + [H2[j][b] for b in T] + [Fraction(0), Fraction(-1)])
                        rhs.append(Fraction(0))
                    rows.append([Fraction(0)] * s1 + [Fraction(1)] * s2 + [Fraction(0), Fraction(0)])
                    rhs.append(Fraction(1))
                    assert len(rows) == n
                    sol = solve_linear(rows, rhs)
                    if sol is None:
                        if s1 > 1 or s2 > 1:
                            degenerate = True
                        continue
                    xs, ys = sol[:s1], sol[s1 : s1 + s2]
                    if any(v <= 0 for v in xs) or any(v <= 0 for v in ys):
                        continue
                    x, y = _mix(S, xs, k1), _mix(T, ys, k2)
                    if (x, y) in seen:
                        continue
                    if not (_best_reply(x, y, M1, G1) and _best_reply(y, x, M2, G2)):
                        continue
                    seen.add((x, y))
                    found.append(MixedEquilibrium((x, y), (value(x, y, M1, G1), value(y, x, M2, G2))))
    found.sort(key=lambda e: (not e.is_pure, tuple(len(s) for s in e.supports), e.supports))
    return QuadraticSolution(tuple(found), degenerate)


def symmetric_equilibria(M: Matrix, G: Matrix) -> QuadraticSolution:
    """The symmetric equilibria ``(x, x)`` of a symmetric game ``u(x, y) = x'M y + x'G x``.

    Args:
        M: The actual part, ``[own][other]``.
        G: The Kantian part.
    """
    k = len(M)
    H = [[M[i][j] + G[i][j] + G[j][i] for j in range(k)] for i in range(k)]
    found: list[MixedEquilibrium] = []
    degenerate = False
    for size in range(1, k + 1):
        for S in combinations(range(k), size):
            rows = [[H[i][a] for a in S] + [Fraction(-1)] for i in S]
            rows.append([Fraction(1)] * size + [Fraction(0)])
            sol = solve_linear(rows, [Fraction(0)] * size + [Fraction(1)])
            if sol is None:
                degenerate = degenerate or size > 1
                continue
            if any(v <= 0 for v in sol[:size]):
                continue
            x = _mix(S, sol[:size], k)
            if _best_reply(x, x, M, G):
                u = value(x, x, M, G)
                found.append(MixedEquilibrium((x, x), (u, u)))
    return QuadraticSolution(tuple(found), degenerate)
