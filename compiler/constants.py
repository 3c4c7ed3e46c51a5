"""Constant expressions: exact evaluation of numbers and parameters (domains, bounds, sizes), with
a bound on how large an exact value may grow, and the size of powers of plain numbers measured
without computing them.
"""

from __future__ import annotations

from fractions import Fraction

from prefc.compiler import ast

__all__ = ["NotConstant", "ValueTooLarge", "MAX_CONSTANT_BITS", "MAX_LITERAL_MAGNITUDE", "eval_const",
           "literal_magnitude", "magnitude_text"]


class NotConstant(Exception):
    """The expression depends on something other than numbers and known parameters."""


class ValueTooLarge(NotConstant):
    """The expression is constant, but its exact value is too large to compute with (beyond about
    10^300, numerator or denominator)."""


# Exact constants are kept below this many bits (about 10^301), so a chain of powers of parameters
# (`a = 10^50, b = a^64, c = b^64, ...`) stops at once instead of writing out a huge number.
MAX_CONSTANT_BITS = 1000


def _bounded(v: Fraction) -> Fraction:
    if v.numerator.bit_length() > MAX_CONSTANT_BITS or v.denominator.bit_length() > MAX_CONSTANT_BITS:
        raise ValueTooLarge("value too large")
    return v


def eval_const(expr: ast.Expr, env: dict[str, Fraction]) -> Fraction:
    """Evaluate an expression of numbers and parameters exactly (for domains, bounds and sizes).

    Args:
        expr: The expression.
        env: Parameter values.

    Raises:
        NotConstant: if the expression uses anything else (actions, functions other than min/max/abs).
    """
    if isinstance(expr, ast.Number):
        return expr.value
    if isinstance(expr, ast.Name):
        if expr.id in env:
            return env[expr.id]
        raise NotConstant(expr.id)
    if isinstance(expr, ast.Neg):
        return -eval_const(expr.operand, env)
    if isinstance(expr, ast.BinOp):
        a, b = eval_const(expr.left, env), eval_const(expr.right, env)
        if expr.op == "+":
            return _bounded(a + b)
        if expr.op == "-":
            return _bounded(a - b)
        if expr.op == "*":
            return _bounded(a * b)
        if expr.op == "/":
            if b == 0:
                raise NotConstant("division by zero")
            return _bounded(a / b)
        if expr.op == "^" and b.denominator == 1 and abs(b) <= 64 and (a != 0 or b >= 0):
            if max(a.numerator.bit_length(), a.denominator.bit_length()) * abs(int(b)) > MAX_CONSTANT_BITS:
                raise ValueTooLarge("power too large")
            return a ** int(b)
        raise NotConstant("power")
    if isinstance(expr, ast.Call) and expr.func.name in ("min", "max", "abs") and expr.args:
        vals = [eval_const(a, env) for a in expr.args]
        return {"min": min, "max": max}[expr.func.name](vals) if expr.func.name != "abs" else abs(vals[0])
    raise NotConstant(type(expr).__name__)


MAX_LITERAL_MAGNITUDE = 300


def literal_magnitude(expr: ast.Expr) -> float | None:
    """The base-10 logarithm of the size of an expression of plain numbers (``inf`` when even that
    overflows), or None when it uses anything but numbers, ``+ - * /``, unary minus and ``^``.

    Computed with logarithms, so ``2^2^2^2^2^2^2`` is measured without being computed.

    Args:
        expr: An expression.
    """
    import math

    def log_abs(e) -> float | None:  # log10 |value|; -inf for zero
        if isinstance(e, ast.Number):
            v = abs(e.value)
            return -math.inf if v == 0 else math.log10(v.numerator) - math.log10(v.denominator)
        if isinstance(e, ast.Neg):
            return log_abs(e.operand)
        if isinstance(e, ast.BinOp):
            a, b = log_abs(e.left), log_abs(e.right)
            if a is None or b is None:
                return None
            if e.op in "+-":
                return max(a, b) + math.log10(2)
            if e.op == "*":
                return a + b
            if e.op == "/":
                return a - b if b != -math.inf else None
            if e.op == "^":
                exponent = value(e.right)
                if exponent is None:
                    return None
                if a == -math.inf:
                    return -math.inf if exponent > 0 else None
                try:
                    return a * exponent
                except OverflowError:  # pragma: no cover - float products do not raise
                    return math.inf
        return None

    def value(e) -> float | None:  # the exponent's value, as a float (inf when too large)
        lg = log_abs(e)
        if lg is None:
            return None
        if lg == -math.inf:
            return 0.0
        sign = -1.0 if _negative(e) else 1.0
        return sign * (math.inf if lg > 300 else 10 ** lg)

    lg = log_abs(expr)
    return None if lg is None else lg


def _negative(e) -> bool:
    if isinstance(e, ast.Number):
        return e.value < 0
    if isinstance(e, ast.Neg):
        return not _negative(e.operand)
    if isinstance(e, ast.BinOp) and e.op in "*/":
        return _negative(e.left) != _negative(e.right)
    return False


def magnitude_text(lg: float) -> str:
    return "∞" if lg == float("inf") else f"{lg:,.0f}"
