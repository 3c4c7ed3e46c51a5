"""Compile sympy expressions into fast Python closures that keep exact arithmetic.

``sympy.lambdify`` prints rationals as float divisions; the finite-game solvers need exact values
(comparisons at a threshold must not depend on rounding). :func:`compile_exact` walks the expression
once and returns a closure over :class:`fractions.Fraction` values: additions, products, integer
powers and piecewise choices stay exact; transcendental functions (exp, log, sqrt of non-squares)
fall back to floats.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from functools import reduce

import sympy as sp

Value = Fraction | float
Env = Mapping[sp.Symbol, Value]


class NotCompilable(TypeError):
    """The expression holds a construct the exact compiler does not know."""


_MAX_EXACT_EXPONENT = 4096
"""Integer powers beyond this are computed in floating point (exact ones could take minutes)."""


def _sqrt(v: Value) -> Value:
    if isinstance(v, Fraction) and v >= 0:
        n, d = math.isqrt(v.numerator), math.isqrt(v.denominator)
        if n * n == v.numerator and d * d == v.denominator:
            return Fraction(n, d)
    if v < 0:
        return math.nan  # not a real number: callers refuse non-finite values
    return math.sqrt(v)


def _pow(a: Value, b: Value) -> Value:
    if isinstance(b, Fraction) and b.denominator == 1:
        if a == 0 and b < 0:
            return math.inf
        if abs(b) <= _MAX_EXACT_EXPONENT or a in (0, 1, -1):
            return a ** int(b)
    if isinstance(b, Fraction) and b == Fraction(1, 2):
        return _sqrt(a)
    try:
        out = float(a) ** float(b)
    except (OverflowError, ZeroDivisionError):
        return math.inf
    return out if isinstance(out, float) else math.nan  # a negative base to a fractional power is complex


def _log(v: Value) -> float:
    if v == 0:
        return -math.inf
    return math.log(v) if v > 0 else math.nan


def _exp(v: Value) -> float:
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


_FUNCS: dict[type, Callable[..., Value]] = {
    sp.log: _log,
    sp.exp: _exp,
    sp.Abs: abs,
}


def compile_exact(expr: sp.Basic) -> Callable[[Env], Value | bool]:
    """Compile ``expr`` into ``f(env) -> value`` with exact arithmetic where possible.

    Args:
        expr: A sympy expression or boolean built from symbols, rationals, +, *, powers, Min/Max,
            Abs, exp, log, Piecewise and relations.

    Raises:
        NotCompilable: for anything else.
    """
    if expr is sp.true or expr is True:
        return lambda env: True
    if expr is sp.false or expr is False:
        return lambda env: False
    if isinstance(expr, sp.Symbol):
        symbol = expr
        return lambda env: env[symbol]
    if isinstance(expr, sp.Rational):
        v = Fraction(int(expr.p), int(expr.q))
        return lambda env: v
    if isinstance(expr, sp.Float):
        f = float(expr)
        return lambda env: f
    if expr is sp.E:
        return lambda env: math.e
    if expr in (sp.oo, -sp.oo):
        f = float(expr)
        return lambda env: f
    if isinstance(expr, sp.Add):
        parts = [compile_exact(a) for a in expr.args]
        return lambda env: sum((p(env) for p in parts), Fraction(0))
    if isinstance(expr, sp.Mul):
        parts = [compile_exact(a) for a in expr.args]

        def product(env):
            values = [p(env) for p in parts]
            if any(isinstance(v, Fraction) and v == 0 for v in values):
                return Fraction(0)  # an exact zero weight removes its term, as in the symbolic form: 0 * log(0) = 0
            return reduce(lambda x, y: x * y, values, Fraction(1))  # type: ignore[arg-type, return-value]

        return product
    if isinstance(expr, sp.Pow):
        base, exp = compile_exact(expr.base), compile_exact(expr.exp)
        return lambda env: _pow(base(env), exp(env))
    if isinstance(expr, (sp.Min, sp.Max)):
        parts = [compile_exact(a) for a in expr.args]
        pick = min if isinstance(expr, sp.Min) else max
        return lambda env: pick(p(env) for p in parts)
    if type(expr) in _FUNCS:
        fn, arg = _FUNCS[type(expr)], compile_exact(expr.args[0])
        return lambda env: fn(arg(env))
    if isinstance(expr, sp.Piecewise):
        pieces = [(compile_exact(e), compile_exact(c)) for e, c in expr.args]

        def piecewise(env):
            for value, cond in pieces:
                if cond(env):
                    return value(env)
            return math.nan

        return piecewise
    if isinstance(expr, sp.ITE):
        c, a, b = (compile_exact(x) for x in expr.args)
        return lambda env: a(env) if c(env) else b(env)
    if isinstance(expr, sp.core.relational.Relational):
        a, b = compile_exact(expr.lhs), compile_exact(expr.rhs)
        op = {
            "==": lambda x, y: x == y,
            "!=": lambda x, y: x != y,
            "<": lambda x, y: x < y,
            "<=": lambda x, y: x <= y,
            ">": lambda x, y: x > y,
            ">=": lambda x, y: x >= y,
        }[expr.rel_op]
        return lambda env: op(a(env), b(env))
    if isinstance(expr, sp.And):
        parts = [compile_exact(a) for a in expr.args]
        return lambda env: all(p(env) for p in parts)
    if isinstance(expr, sp.Or):
        parts = [compile_exact(a) for a in expr.args]
        return lambda env: any(p(env) for p in parts)
    if isinstance(expr, sp.Not):
        inner = compile_exact(expr.args[0])
        return lambda env: not inner(env)
    raise NotCompilable(f"cannot compile {type(expr).__name__}: {expr}")
