"""The numeric path: roots of the symmetric first-order condition (a bracketing grid and Brent's
method) and the corners, each candidate verified against unilateral deviations on a fine grid
refined by a bounded local search; and the best response of a single mover at one point."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sympy

from prefc.compiler.lazy import lazy_module

from .closures import lambdify_once, sort_symbols
from .results import NoConvergence, NumericEquilibrium
from .values import Number, Value, as_expr, as_symbols, to_float_array

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy", globals(), "np")

__all__ = [
    "DEFAULT_BRACKET_GRID",
    "DEFAULT_TOL",
    "DEFAULT_VERIFY_GRID",
    "best_response",
    "passing_intervals",
    "solve_symmetric_numeric",
    "verify_argmax",
    "verify_symmetric",
]


def _optimize():
    """scipy.optimize, imported on first use: finite games never need it, and it costs a cold
    command a third of a second."""
    from scipy import optimize

    return optimize


DEFAULT_BRACKET_GRID = 401
DEFAULT_VERIFY_GRID = 2001
DEFAULT_TOL = 1e-10


def _point(
    u: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr, actions: Sequence[sympy.Symbol], values: Mapping[sympy.Symbol, Value]
) -> tuple[tuple[sympy.Symbol, ...], tuple[float, ...], float, float]:
    """The parameter symbols of ``u`` and the bounds, their float values, and the bounds."""
    params = sort_symbols((u.free_symbols | lo.free_symbols | hi.free_symbols) - set(actions))
    missing = [s for s in params if s not in values]
    if missing:
        raise ValueError(f"no value given for {', '.join(map(str, missing))}")
    vals = tuple(float(to_float_array(values[s])) for s in params)
    a = float(lambdify_once(lo, params)(*vals))
    b = float(lambdify_once(hi, params)(*vals))
    if not (math.isfinite(a) and math.isfinite(b)) or a > b:
        raise ValueError(f"empty or infinite action bounds [{a}, {b}]")
    return params, vals, a, b


def _deviation_gain(
    f: Callable[[np.ndarray], np.ndarray], a: float, b: float, x_star: float, grid_points: int
) -> tuple[float, float, float]:
    """(utility at x*, best deviation utility, best deviation) on a grid refined locally."""
    with np.errstate(all="ignore"):
        base = float(f(np.asarray(x_star)))
        grid = np.linspace(a, b, max(grid_points, 2))
        vals = np.broadcast_to(np.asarray(f(grid), dtype=float), grid.shape)
    finite = np.where(np.isnan(vals), -np.inf, vals)
    i = int(np.argmax(finite))
    best, where = float(finite[i]), float(grid[i])
    if b > a and math.isfinite(best):
        left, right = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        if right > left:
            with np.errstate(all="ignore"):
                res = _optimize().minimize_scalar(
                    lambda z: -float(f(np.asarray(z))),
                    bounds=(left, right),
                    method="bounded",
                    options={"xatol": 1e-13 * max(1.0, abs(b - a))},
                )
            if res.success and math.isfinite(res.fun) and -res.fun > best:
                best, where = -float(res.fun), float(res.x)
    return base, best, where


EDGE_TOL = 1e-15
"""The relative tolerance that locates the ends of a continuum of symmetric equilibria."""

CONTINUUM_PROBES = 65
"""Common actions, evenly spaced over the bounds, at which :func:`solve_symmetric_numeric` checks
for symmetric equilibria that are not roots of the first-order condition (a continuum)."""


def passing_intervals(
    probes: Sequence[float],
    passes: Callable[[float], bool],
    *,
    edge_passes: Callable[[float], bool] | None = None,
    keep: Callable[[int, int], bool] = lambda i, j: True,
    steps: int = 48,
) -> list[tuple[float, float]]:
    """The intervals where ``passes`` holds, from a sorted grid of ``probes``: each run of
    consecutive passing probes, its ends moved by bisection (``steps`` halvings, with
    ``edge_passes``, default ``passes``) to the last value that passes before the neighbouring
    probe that fails. A run ``keep(i, j)`` refuses (probe indices) is skipped before any bisection.

    Args:
        probes: The grid, ascending.
        passes: The test.
        edge_passes: The test the ends are located with (a stricter one, say).
        keep: Whether to widen the run of probes ``i`` to ``j``.
        steps: Bisection steps per end.
    """
    at_edge = edge_passes or passes

    def edge(inside: float, outside: float) -> float:
        for _ in range(steps):
            mid = (inside + outside) / 2
            if mid in (inside, outside):
                break
            inside, outside = (mid, outside) if at_edge(mid) else (inside, mid)
        return inside

    hits = [passes(x) for x in probes]
    runs: list[tuple[float, float]] = []
    i = 0
    while i < len(probes):
        if not hits[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(probes) and hits[j + 1]:
            j += 1
        if keep(i, j):
            lo = probes[i] if i == 0 else edge(probes[i], probes[i - 1])
            hi = probes[j] if j == len(probes) - 1 else edge(probes[j], probes[j + 1])
            runs.append((lo, hi))
        i = j + 1
    return runs


def _with_continua(
    found: list[NumericEquilibrium],
    full: Callable[..., Any],
    vals: tuple[float, ...],
    a: float,
    b: float,
    n_others: int,
    grid_points: int,
    tol: float,
) -> list[NumericEquilibrium]:
    """``found`` with the symmetric equilibria root finding cannot see: where the utility has a kink
    at the common action (inequity aversion at equal payoffs), the first-order condition has no
    root, and every common action in an interval can be an equilibrium.

    Each of :data:`CONTINUUM_PROBES` common actions over ``[a, b]`` is checked against deviations
    like every candidate (a grid first, then the refined check). A run of probes that pass (other
    than a strict equilibrium already found, alone) is widened by bisection, on each side,
    to the last action that passes (at :data:`EDGE_TOL`) before the next probe that fails. An interval wider than a
    ten-thousandth of the range is a continuum: its two ends and its payoff-dominant point (the
    highest utility of everyone playing it, among the passing probes and the ends) replace the
    equilibria found inside it, each marked with the interval; a narrower one is one more
    equilibrium.
    """
    span = b - a

    def utility_at(x: float) -> tuple[float, float, float]:
        fixed = [x] * n_others
        return _deviation_gain(lambda z: full(z, *fixed, *vals), a, b, x, grid_points)

    def holds(x: float, tol: float = tol) -> bool:
        fixed = [x] * n_others
        with np.errstate(all="ignore"):
            base = float(full(np.asarray(x), *fixed, *vals))
            grid = np.linspace(a, b, max(grid_points, 2))
            dev = np.broadcast_to(np.asarray(full(grid, *fixed, *vals), dtype=float), grid.shape)
        if not math.isfinite(base) or not _gain_ok(base, float(np.nanmax(np.append(dev, base))), tol):
            return False
        base, best, _ = utility_at(x)
        return _gain_ok(base, best, tol)

    probes = [float(x) for x in np.linspace(a, b, CONTINUUM_PROBES)]
    width = 1e-4 * span

    def near_found(x: float) -> bool:
        return any(abs(x - e.action) <= 1e-3 * span for e in found)

    def keep(i: int, j: int) -> bool:
        # a strict equilibrium already found, alone on its probe: nothing around it to widen
        x = probes[i]
        return not (i == j and near_found(x)) or any(holds(z) for z in (x - 2 * width, x + 2 * width) if a <= z <= b)

    # the ends are located at a stricter tolerance than the check's: just outside a continuum the
    # gain of deviating grows with the square of the distance, so the check's would reach past the end
    runs = passing_intervals(probes, holds, edge_passes=lambda x: holds(x, tol=EDGE_TOL), keep=keep, steps=32)
    intervals = [(lo, hi) for lo, hi in runs if not (hi - lo <= width and near_found(lo))]
    if not intervals:
        return found
    out = [e for e in found if not any(lo - 1e-9 * span <= e.action <= hi + 1e-9 * span for lo, hi in intervals)]
    for lo, hi in intervals:
        if hi - lo <= width:
            base, best, _ = utility_at(lo)
            out.append(NumericEquilibrium(lo, base, "interior", max(best - base, 0.0)))
            continue
        inner = [x for x in probes if lo <= x <= hi]
        with np.errstate(all="ignore"):
            common = {x: float(full(np.asarray(x), *([x] * n_others), *vals)) for x in [lo, hi, *inner]}
        top = max(common, key=lambda x: (common[x], -x))
        for x in sorted({lo, hi, top}):
            base, best, _ = utility_at(x)
            kind = "lower-bound" if x == a else "upper-bound" if x == b else "interior"
            out.append(NumericEquilibrium(x, base, kind, max(best - base, 0.0), interval=(lo, hi)))
    return sorted(out, key=lambda e: e.action)


def _gain_ok(base: float, best: float, tol: float) -> bool:
    if not math.isfinite(base):
        return False
    return best - base <= tol * max(1.0, abs(base))


def verify_symmetric(
    u: sympy.Expr,
    *,
    own: sympy.Symbol,
    other: sympy.Symbol | Sequence[sympy.Symbol],
    lo: sympy.Expr | Number,
    hi: sympy.Expr | Number,
    values: Mapping[sympy.Symbol, Value],
    x_star: float,
    grid_points: int = DEFAULT_VERIFY_GRID,
    tol: float = 1e-9,
) -> bool:
    """Whether everyone playing ``x_star`` is a symmetric equilibrium at one parameter point.

    No unilateral deviation (the others stay at ``x_star``) on a grid of ``grid_points`` over
    ``[lo, hi]``, refined by a bounded local search around the best grid point, improves the
    utility by more than ``tol * max(1, |u(x_star)|)``.

    Args:
        u: the focal player's utility.
        own: the focal player's action symbol.
        other: the other players' action symbol(s).
        lo: lower bound of the action.
        hi: upper bound of the action.
        values: a value for every parameter.
        x_star: the candidate common action.
        grid_points: size of the deviation grid.
        tol: allowed (relative) gain of a deviation.

    Returns:
        True when the candidate is within the bounds and no deviation gains more than the slack.
    """
    others = as_symbols(other)
    lo_e, hi_e = as_expr(lo, "lo"), as_expr(hi, "hi")
    params, vals, a, b = _point(u, lo_e, hi_e, (own, *others), values)
    span = max(1.0, abs(b - a))
    if not (a - 1e-12 * span <= x_star <= b + 1e-12 * span):
        return False
    x_star = min(max(x_star, a), b)
    full = lambdify_once(u, (own, *others, *params))
    fixed = [x_star] * len(others)

    def f(z: np.ndarray) -> np.ndarray:
        return full(z, *fixed, *vals)

    base, best, _ = _deviation_gain(f, a, b, x_star, grid_points)
    return _gain_ok(base, best, tol)


def verify_argmax(
    u: sympy.Expr,
    *,
    own: sympy.Symbol,
    lo: sympy.Expr | Number,
    hi: sympy.Expr | Number,
    values: Mapping[sympy.Symbol, Value],
    x_star: float,
    grid_points: int = DEFAULT_VERIFY_GRID,
    tol: float = 1e-9,
) -> bool:
    """Whether ``x_star`` maximises ``u`` over ``[lo, hi]`` at one parameter point (grid check).

    Args:
        u: the mover's utility.
        own: the mover's action symbol.
        lo: lower bound of the action.
        hi: upper bound of the action.
        values: a value for every other symbol in ``u`` and the bounds.
        x_star: the candidate action.
        grid_points: size of the deviation grid.
        tol: allowed (relative) gain of another action.

    Returns:
        True when no action on the refined grid is better by more than the slack.
    """
    lo_e, hi_e = as_expr(lo, "lo"), as_expr(hi, "hi")
    params, vals, a, b = _point(u, lo_e, hi_e, (own,), values)
    span = max(1.0, abs(b - a))
    if not (a - 1e-12 * span <= x_star <= b + 1e-12 * span):
        return False
    x_star = min(max(x_star, a), b)
    full = lambdify_once(u, (own, *params))
    base, best, _ = _deviation_gain(lambda z: full(z, *vals), a, b, x_star, grid_points)
    return _gain_ok(base, best, tol)


def best_response(
    u: sympy.Expr,
    *,
    own: sympy.Symbol,
    lo: sympy.Expr | Number,
    hi: sympy.Expr | Number,
    values: Mapping[sympy.Symbol, Value],
    grid_points: int = DEFAULT_VERIFY_GRID,
) -> float:
    """The argmax of ``u`` over ``[lo, hi]`` at one point (single mover, or against beliefs).

    A grid of ``grid_points`` plus a bounded Brent refinement around the best grid point; on
    exact ties the smallest maximiser on the grid is returned.

    Args:
        u: the mover's utility.
        own: the mover's action symbol.
        lo: lower bound of the action.
        hi: upper bound of the action.
        values: a value for every other symbol (parameters, believed actions of others).
        grid_points: size of the search grid.

    Returns:
        The maximising action.
    """
    lo_e, hi_e = as_expr(lo, "lo"), as_expr(hi, "hi")
    params, vals, a, b = _point(u, lo_e, hi_e, (own,), values)
    full = lambdify_once(u, (own, *params))
    _, best, where = _deviation_gain(lambda z: full(z, *vals), a, b, a, grid_points)
    if not math.isfinite(best):
        raise NoConvergence(f"utility is not finite anywhere on the grid of {grid_points} points over [{a}, {b}]")
    return _polish(u, own, params, vals, a, b, where, best, grid_points)


def _polish(
    u: sympy.Expr,
    own: sympy.Symbol,
    params: tuple[sympy.Symbol, ...],
    vals: tuple[float, ...],
    a: float,
    b: float,
    where: float,
    best: float,
    grid_points: int,
) -> float:
    """Sharpen an interior maximiser to a root of ``du/dx`` (a value-based search only reaches
    about the square root of machine precision); kept only if the utility does not drop."""
    step = (b - a) / max(grid_points - 1, 1)
    left, right = max(a, where - step), min(b, where + step)
    if not (a < where < b) or right <= left:
        return where
    try:
        g = lambdify_once(sympy.diff(u, own), (own, *params))
        with np.errstate(all="ignore"):
            gl, gr = float(g(left, *vals)), float(g(right, *vals))
            if not (math.isfinite(gl) and math.isfinite(gr) and gl > 0 > gr):
                return where
            root = _optimize().brentq(
                lambda z: float(g(z, *vals)), left, right, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200
            )
            value = float(lambdify_once(u, (own, *params))(root, *vals))
    except (TypeError, ValueError, NameError, RuntimeError, NotImplementedError):
        return where
    return float(root) if value >= best - 1e-12 * max(1.0, abs(best)) else where


def _symmetric_foc(
    u: sympy.Expr, own: sympy.Symbol, others: tuple[sympy.Symbol, ...], params: tuple[sympy.Symbol, ...]
) -> Callable[..., Any] | None:
    try:
        g = sympy.diff(u, own).xreplace({o: own for o in others})
        return lambdify_once(g, (own, *params))
    except (TypeError, ValueError, NotImplementedError, NameError):
        return None


def solve_symmetric_numeric(
    u: sympy.Expr,
    *,
    own: sympy.Symbol,
    other: sympy.Symbol | Sequence[sympy.Symbol],
    lo: sympy.Expr | Number,
    hi: sympy.Expr | Number,
    values: Mapping[sympy.Symbol, Value],
    grid: int = DEFAULT_BRACKET_GRID,
    grid_points: int = DEFAULT_VERIFY_GRID,
    tol: float = DEFAULT_TOL,
) -> list[NumericEquilibrium]:
    """All verified symmetric equilibria at one parameter point, by root finding.

    Candidates are the roots of the symmetric first-order condition ``g(x) = du/dx at y = x``
    (every sign change on a bracketing grid of ``grid`` points, solved by Brent's method; grid
    points where ``g`` vanishes exactly), plus both bounds. Each candidate is kept only if it
    passes :func:`verify_symmetric` with ``grid_points`` deviations and tolerance ``tol``.

    Args:
        u: the focal player's utility (sympy expression).
        own: the focal player's action symbol.
        other: the other players' action symbol(s).
        lo: lower bound of the action.
        hi: upper bound of the action.
        values: a value for every parameter.
        grid: size of the bracketing grid for the first-order condition.
        grid_points: size of the deviation grid used in verification.
        tol: allowed (relative) gain of a deviation.

    Returns:
        The verified equilibria, sorted by action (several when the game has several).

    Raises:
        NoConvergence: no candidate verified; the message names the grid and the tolerance.
    """
    others = as_symbols(other)
    lo_e, hi_e = as_expr(lo, "lo"), as_expr(hi, "hi")
    params, vals, a, b = _point(u, lo_e, hi_e, (own, *others), values)
    full = lambdify_once(u, (own, *others, *params))
    candidates: list[float] = [a, b]
    g = _symmetric_foc(u, own, others, params)
    if g is None or b <= a:
        g_of = None
    else:

        def g_of(z: Any) -> Any:
            return g(z, *vals)

    if g_of is not None:
        xs = np.linspace(a, b, max(grid, 3))
        with np.errstate(all="ignore"):
            gs = np.broadcast_to(np.asarray(g_of(xs), dtype=float), xs.shape).copy()
        finite = np.isfinite(gs)
        for i in range(len(xs)):
            if finite[i] and gs[i] == 0.0:
                candidates.append(float(xs[i]))
        for i in range(len(xs) - 1):
            if finite[i] and finite[i + 1] and gs[i] * gs[i + 1] < 0:
                try:
                    root = _optimize().brentq(
                        lambda z: float(g_of(z)),
                        xs[i],
                        xs[i + 1],
                        xtol=1e-15,
                        rtol=4 * np.finfo(float).eps,
                        maxiter=200,
                    )
                except (ValueError, RuntimeError):
                    continue
                candidates.append(float(root))
    found: list[NumericEquilibrium] = []
    worst = (math.inf, a, a)
    for x in sorted(set(candidates)):
        if any(abs(x - e.action) <= 1e-9 * max(1.0, abs(b - a)) for e in found):
            continue
        fixed = [x] * len(others)

        def at_fixed(z: Any, fixed: list[float] = fixed) -> Any:
            return full(z, *fixed, *vals)

        base, best, where = _deviation_gain(
            at_fixed,
            a,
            b,
            x,
            grid_points,
        )
        gain = best - base if math.isfinite(base) else math.inf
        if _gain_ok(base, best, tol):
            kind = "lower-bound" if x == a else "upper-bound" if x == b else "interior"
            found.append(NumericEquilibrium(x, base, kind, max(gain, 0.0)))
        elif gain < worst[0]:
            worst = (gain, x, where)
    if found and b > a:
        found = _with_continua(found, full, vals, a, b, len(others), grid_points, tol)
    if not found:
        raise NoConvergence(
            f"no symmetric equilibrium verified on [{a:g}, {b:g}]: {len(set(candidates))} "
            f"candidates (first-order-condition roots on a {grid}-point bracketing grid and the "
            f"two bounds) all fail the deviation check on a {grid_points}-point grid at "
            f"tolerance {tol:g}; the closest, x = {worst[1]:.6g}, is beaten by deviating to "
            f"{worst[2]:.6g} (gain {worst[0]:.3g})"
        )
    return found
