"""Sign facts the symbolic path needs (strict concavity, the sign of a coefficient): settled by
sympy's assumptions on the symbols, by interval arithmetic over the parameter domain, or checked
on a deterministic sample of it; and the cheap canonical forms those tests start from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import sympy

from prefc.compiler.lazy import lazy_module

from .closures import lambdify_once, sort_symbols
from .values import Domain

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy", globals(), "np")

__all__ = [
    "PROVED",
    "SAMPLED",
    "box_bounds",
    "decided",
    "interval_of",
    "sample_box",
    "sign_negative",
    "sign_of",
    "simplify_small",
    "tidy",
]


_SIMPLIFY_LIMIT = 150


@lru_cache(maxsize=4096)
def simplify_small(expr: sympy.Expr) -> sympy.Expr:
    """A cheap canonical form (one reduced fraction, ``sympy.cancel``; exact zero test for
    rational functions) for expressions small enough; large ones are returned as they are."""
    if not isinstance(expr, sympy.Expr) or sympy.count_ops(expr) > _SIMPLIFY_LIMIT:
        return expr
    return sympy.cancel(sympy.together(expr))


@lru_cache(maxsize=4096)
def tidy(expr: sympy.Expr) -> sympy.Expr:
    """A readable form for results (factored) of a small expression."""
    if not isinstance(expr, sympy.Expr) or sympy.count_ops(expr) > _SIMPLIFY_LIMIT:
        return expr
    return sympy.factor(sympy.cancel(sympy.together(expr)))


PROVED, SAMPLED = "proved", "sampled"


def box_bounds(
    domain: Domain | None, own: Sequence[sympy.Symbol], lo: sympy.Expr, hi: sympy.Expr
) -> dict[sympy.Symbol, tuple[float, float]] | None:
    """Numeric ranges for the parameters and the action symbols, from the parameter domain."""
    if not domain:
        return None
    box = {s: (float(a), float(b)) for s, (a, b) in domain.items()}
    lo_range = interval_of(lo, box)
    hi_range = interval_of(hi, box)
    if lo_range is None or hi_range is None:
        return box
    for s in own:
        box[s] = (lo_range[0], hi_range[1])
    return box


def interval_of(expr: sympy.Expr, box: Mapping[sympy.Symbol, tuple[float, float]]) -> tuple[float, float] | None:
    """A conservative range of ``expr`` over the box (interval arithmetic), or None."""
    if not expr.free_symbols <= set(box):
        return None
    subs = {
        s: (sympy.AccumBounds(sympy.Float(a), sympy.Float(b)) if a < b else sympy.Float(a))
        for s, (a, b) in box.items()
        if s in expr.free_symbols
    }
    try:
        val = expr.xreplace(subs)
        val = val.doit() if hasattr(val, "doit") else val
        if isinstance(val, sympy.AccumBounds):
            low, high = val.min, val.max
        else:
            low = high = val
        if low.is_extended_real and high.is_extended_real and not low.has(sympy.nan):
            return float(low), float(high)
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, NotImplementedError):
        return None
    return None


def sample_box(
    box: Mapping[sympy.Symbol, tuple[float, float]],
    symbols: Sequence[sympy.Symbol],
    lo: sympy.Expr,
    hi: sympy.Expr,
    actions: Sequence[sympy.Symbol],
    count: int,
    seed: int = 0,
) -> list[dict[sympy.Symbol, float]]:
    """Deterministic sample points: parameters uniform in the box, actions inside their bounds."""
    rng = np.random.default_rng(seed)
    params = [s for s in symbols if s not in actions]
    lo_f = lambdify_once(lo, tuple(params))
    hi_f = lambdify_once(hi, tuple(params))
    points = []
    for _ in range(count):
        point = {s: float(rng.uniform(*box[s])) for s in params}
        a = float(lo_f(*(point[s] for s in params)))
        b = float(hi_f(*(point[s] for s in params)))
        for s in actions:
            point[s] = float(a + (b - a) * rng.uniform(0.01, 0.99))
        points.append(point)
    return points


def sign_negative(
    expr: sympy.Expr,
    box: Mapping[sympy.Symbol, tuple[float, float]] | None,
    lo: sympy.Expr,
    hi: sympy.Expr,
    actions: Sequence[sympy.Symbol],
) -> str | None:
    """Whether ``expr < 0`` holds everywhere: proved, sampled (true on a sample), or unknown."""
    expr = simplify_small(expr)
    if expr.is_negative:
        return PROVED
    if expr.is_nonnegative:
        return None
    if box is None:
        return None
    rng = interval_of(expr, box)
    if rng is not None and rng[1] < 0:
        return PROVED
    if not expr.free_symbols <= set(box) or not (lo.free_symbols | hi.free_symbols) <= set(box):
        return None
    symbols = sort_symbols(expr.free_symbols | {s for s in box if s not in actions})
    f = lambdify_once(expr, symbols)
    for point in sample_box(box, symbols, lo, hi, actions, 256, seed=1):
        with np.errstate(all="ignore"):
            v = float(f(*(point[s] for s in symbols)))
        if not v < 0:
            return None
    return SAMPLED


def sign_of(expr: sympy.Expr, box: Mapping[sympy.Symbol, tuple[float, float]] | None) -> int | None:
    """+1 / -1 when ``expr`` is provably positive / negative (assumptions or box), else None."""
    if expr.is_positive:
        return 1
    if expr.is_negative:
        return -1
    if box is not None:
        rng = interval_of(expr, box)
        if rng is not None:
            if rng[0] > 0:
                return 1
            if rng[1] < 0:
                return -1
    return None


def decided(cond: sympy.Basic, box: Mapping[sympy.Symbol, tuple[float, float]] | None) -> bool | None:
    """Whether a relational condition is provably true/false everywhere on the box."""
    if cond is sympy.true or cond is sympy.false:
        return bool(cond)
    if not isinstance(cond, sympy.core.relational.Relational):
        return None
    diff = simplify_small(cond.lhs - cond.rhs)
    if diff.is_number:
        return bool(cond.func(diff, 0))
    sign = sign_of(diff, box)
    if sign is None:
        return None
    op = cond.rel_op
    if op in (">", ">="):
        return sign > 0
    if op in ("<", "<="):
        return sign < 0
    return op != "=="
