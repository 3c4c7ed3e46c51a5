"""The best value of one continuous action on an interval at a parameter point: exact where sympy
finds the stationary points, numeric (grid and Brent, :func:`.continuous.best_response`) otherwise."""

from __future__ import annotations

import math

import sympy as sp

from prefc.compiler.solve import continuous
from prefc.compiler.solve.continuous.numeric import passing_intervals

__all__ = ["argmax", "argmax_exact", "optimal_set", "snap"]


def snap(f, x: float, lo: float, hi: float) -> sp.Expr:
    """A numerically found optimum ``x`` of ``f``, replaced by the simplest nearby fraction (denominator
    up to 1000, within 1e-6 of the range) when that is at least as good: a value search reaches
    only about the square root of machine precision, and optima are often simple numbers.

    Args:
        f: The objective (float -> float).
        x: The optimum found.
        lo: The lower bound.
        hi: The upper bound.
    """
    from fractions import Fraction

    span = max(1.0, abs(hi - lo))
    near = Fraction(x).limit_denominator(1000)
    if float(near) == x:
        return sp.Rational(near.numerator, near.denominator)
    if abs(float(near) - x) <= 1e-6 * span and lo <= float(near) <= hi:
        try:
            here, there = f(x), f(float(near))
        except (ValueError, ZeroDivisionError, OverflowError):
            return sp.Float(x)
        if there >= here:  # only where it is no worse: a flat optimum must not move
            return sp.Rational(near.numerator, near.denominator)
    return sp.Float(x)


def argmax(val: sp.Expr, z: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    """The maximiser of ``val`` over ``z`` in ``[lo, hi]`` (numbers only besides ``z``).

    Exact candidates (the bounds and the stationary points) when sympy finds them, else the closed
    form of :func:`.continuous.solve_argmax_symbolic`, else the numeric best response. Ties go to
    the lowest maximiser.

    Args:
        val: The utility.
        z: The action's symbol.
        lo: The lower bound (a number).
        hi: The upper bound (a number).
    """
    exact = argmax_exact(val, z, lo, hi)
    if exact is not None:
        return exact
    sol = continuous.solve_argmax_symbolic(val, own=z, lo=lo, hi=hi, params=[])
    if sol is not None:
        for regime in sol.regimes:
            cond = regime.condition
            if cond is sp.true or bool(sp.simplify(cond)) is True:
                return sp.nsimplify(regime.action) if regime.action.is_number else regime.action
    x = continuous.best_response(val, own=z, lo=lo, hi=hi, values={})
    fn = sp.lambdify(z, val, modules=["math"])
    return snap(lambda v: float(fn(v)), x, float(lo), float(hi))


def argmax_exact(val: sp.Expr, z: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr | None:
    """Exact argmax of a univariate utility on ``[lo, hi]``: the bounds, the kinks and the stationary
    points of every smooth piece, compared exactly (ties go to the lowest maximiser).

    Returns None when the stationary points cannot be found exactly (the caller goes numeric).

    Args:
        val: The utility.
        z: The action's symbol.
        lo: The lower bound.
        hi: The upper bound.
    """
    if not (lo.is_number and hi.is_number) or val.free_symbols - {z}:
        return None
    if lo == hi:
        return lo
    pieces = _pieces(val, z)
    if pieces is None:
        return None
    points: set[sp.Expr] = {lo, hi}
    for expr, cond in pieces:
        deriv = sp.diff(expr, z)
        if deriv.free_symbols:
            try:
                roots = sp.solve(sp.Eq(deriv, 0), z, rational=not deriv.has(sp.Float))
            except (NotImplementedError, TypeError, ValueError):
                return None
            points.update(r for r in roots if r.is_number and r.is_real)
        for rel in cond.atoms(sp.core.relational.Relational) if cond not in (sp.true, True) else ():
            try:
                edges = sp.solve(sp.Eq(rel.lhs - rel.rhs, 0), z, rational=not rel.has(sp.Float))
            except (NotImplementedError, TypeError, ValueError):
                return None
            points.update(e for e in edges if e.is_number and e.is_real)
    candidates = sorted((c for c in points if lo <= c <= hi), key=lambda c: float(c))

    def value(c: sp.Expr) -> sp.Expr:
        v = val.subs(z, c)
        if v in (sp.zoo, sp.nan) or v.has(sp.I, sp.zoo, sp.nan):
            if _falls_without_bound(val, z, c, lo, hi):
                return -sp.oo
            try:
                v = sp.limit(val, z, c, "+" if c == lo else "-")
            except (NotImplementedError, ValueError, TypeError):
                return -sp.oo
        return -sp.oo if v in (sp.zoo, sp.nan) or v.has(sp.I) else v

    scored = [(value(c), i, c) for i, c in enumerate(candidates)]
    if any(not v.is_comparable and v not in (sp.oo, -sp.oo) for v, _, _ in scored):
        return None
    best = max(scored, key=lambda t: (t[0], -t[1]))
    return best[2]


def _falls_without_bound(val: sp.Expr, z: sp.Symbol, c: sp.Expr, lo: sp.Expr, hi: sp.Expr) -> bool:
    """Whether ``val`` plainly falls toward minus infinity as ``z`` approaches ``c`` from inside
    ``[lo, hi]`` (a logarithm of 0 at a bound), judged on points 1e-4, 1e-8 and 1e-12 of the span
    away: each lower than the last by more than 1. A point the utility falls toward without bound
    cannot be a maximiser, and this spares the symbolic limit (a tenth of a second each) for it;
    anything less plain (a removable singularity, a slow fall) still goes to the limit.
    """
    span = float(hi - lo)
    side = 1.0 if c == lo else -1.0
    try:
        fn = sp.lambdify(z, val, modules=["math"])
        values = [float(fn(float(c) + side * t * span)) for t in (1e-4, 1e-8, 1e-12)]
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return False
    if not all(math.isfinite(x) for x in values):
        return False
    return values[1] < values[0] - 1 and values[2] < values[1] - 1


def _pieces(val: sp.Expr, z: sp.Symbol) -> list[tuple[sp.Expr, sp.Basic]] | None:
    """The smooth pieces of a piecewise utility (max, min, abs and if folded into one Piecewise)."""
    if not val.has(sp.Piecewise, sp.Max, sp.Min, sp.Abs):
        return [(val, sp.true)]
    try:
        folded = sp.piecewise_fold(val.rewrite(sp.Piecewise))
    except (NotImplementedError, TypeError, ValueError):
        return None
    out = [(e, c) for e, c in folded.args] if isinstance(folded, sp.Piecewise) else [(folded, sp.true)]
    if any(e.has(sp.Piecewise, sp.Max, sp.Min, sp.Abs) for e, _ in out):
        return None
    return out


OPTIMUM_PROBES = 129
"""Values of the action, evenly spaced over its bounds, at which :func:`optimal_set` looks for
other maximisers."""


def optimal_set(val: sp.Expr, z: sp.Symbol, lo: sp.Expr, hi: sp.Expr, best: sp.Expr) -> list[tuple[float, float]]:
    """Where ``val`` is as high as at ``best`` on ``[lo, hi]``, when that is more than ``best``
    itself: the intervals (or single points) of maximisers, ``[(l, h), ...]``; empty when ``best``
    is the only one.

    :func:`argmax` picks the lowest maximiser; a utility that is flat at its top (inequity aversion
    at its knife edge, a linear utility with a zero slope) has a whole interval of them, which an
    answer should not call unique. Each of :data:`OPTIMUM_PROBES` values that is within a relative
    1e-12 of the best utility counts, and the ends of a run of such values are located by
    bisection against the neighbouring values that fall short.

    Args:
        val: The utility (numbers only besides ``z``).
        z: The action's symbol.
        lo: The lower bound (a number).
        hi: The upper bound (a number).
        best: The maximiser :func:`argmax` found.
    """
    import numpy as np

    a, b = float(lo), float(hi)
    if not b > a:
        return []
    fn = sp.lambdify(z, val, modules=["numpy"])
    with np.errstate(all="ignore"):
        top = float(fn(float(best)))
    if not math.isfinite(top):
        return []
    slack = 1e-12 * max(1.0, abs(top))

    def ties(x: float) -> bool:
        with np.errstate(all="ignore"):
            v = float(fn(x))
        return math.isfinite(v) and v >= top - slack

    span, at = b - a, float(best)
    runs = passing_intervals([float(x) for x in np.linspace(a, b, OPTIMUM_PROBES)], ties)
    others = [r for r in runs if not (r[0] - 1e-3 * span <= at <= r[1] + 1e-3 * span and r[1] - r[0] <= 1e-3 * span)]
    return runs if others else []
