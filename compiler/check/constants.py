"""Constant expressions: exact evaluation of numbers and parameters (domains, bounds, sizes) and of
conditions on them (hold-outs), one evaluator for both, with a bound on how large an exact value may
grow; and the size of powers of plain numbers, measured without computing them.
"""

from __future__ import annotations

from fractions import Fraction

from prefc.compiler import ast

__all__ = [
    "MAX_CONSTANT_BITS",
    "MAX_LITERAL_MAGNITUDE",
    "NotConstant",
    "ValueTooLarge",
    "eval_const",
    "evaluate_condition",
    "literal_magnitude",
    "magnitude_text",
]


class NotConstant(Exception):
    """The expression depends on something other than numbers and known parameters.

    ``str()`` of it is short (a name, or what is unsupported); :attr:`message` says it in a sentence.
    """

    def __init__(self, what: str, message: str = ""):
        super().__init__(what)
        self.message = message or what


class ValueTooLarge(NotConstant):
    """The expression is constant, but its exact value is too large to compute with (beyond about
    10^300, numerator or denominator)."""


# Exact constants are kept below this many bits (about 10^301), so a chain of powers of parameters
# (`a = 10^50, b = a^64, c = b^64, ...`) stops at once instead of writing out a huge number.
MAX_CONSTANT_BITS = 1000


def _bounded(v: Fraction) -> Fraction:
    if v.numerator.bit_length() > MAX_CONSTANT_BITS or v.denominator.bit_length() > MAX_CONSTANT_BITS:
        raise ValueTooLarge("value too large", "the value is too large to compute with")
    return v


def eval_const(expr: ast.Expr, env: dict[str, Fraction]) -> Fraction:
    """Evaluate an expression of numbers and parameters exactly (for domains, bounds and sizes).

    Args:
        expr: The expression.
        env: Parameter values.

    Raises:
        NotConstant: if the expression uses anything else (actions, functions other than min/max/abs).
    """
    return _number(_evaluate(expr, env, conditions=False))


def evaluate_condition(expr: ast.Expr, env: dict[str, Fraction]) -> bool:
    """Evaluate a condition (``holdout where``) exactly on a point, never through ``eval``: comparisons,
    ``and``/``or``/``not`` over the arithmetic of :func:`eval_const`.

    Args:
        expr: The condition.
        env: Parameter values.

    Raises:
        NotConstant: if it cannot be evaluated there (its :attr:`~NotConstant.message` says why).
    """
    return _truth(_evaluate(expr, env, conditions=True))


def _number(v: Fraction | bool) -> Fraction:
    if isinstance(v, bool):
        raise NotConstant("condition", "a truth value is used as a number")
    return v


def _truth(v: Fraction | bool) -> bool:
    if not isinstance(v, bool):
        raise NotConstant("number", "a number is used as a condition")
    return v


_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _evaluate(expr: ast.Expr, env: dict[str, Fraction], *, conditions: bool) -> Fraction | bool:
    """The one exact evaluator: arithmetic always, truth values only where ``conditions``."""
    if isinstance(expr, ast.Number):
        return expr.value
    if isinstance(expr, ast.Name):
        if expr.id in env:
            return env[expr.id]
        raise NotConstant(expr.id, f"`{expr.id}` has no value here")
    if isinstance(expr, ast.Neg):
        return -_number(_evaluate(expr.operand, env, conditions=conditions))
    if isinstance(expr, ast.BinOp):
        a = _number(_evaluate(expr.left, env, conditions=conditions))
        b = _number(_evaluate(expr.right, env, conditions=conditions))
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
                raise ValueTooLarge("power too large", "the power is too large to compute with")
            return a ** int(b)
        raise NotConstant("power", "unsupported power")
    if conditions and isinstance(expr, ast.Compare):
        a = _number(_evaluate(expr.left, env, conditions=True))
        b = _number(_evaluate(expr.right, env, conditions=True))
        return _COMPARE[expr.op](a, b)
    if conditions and isinstance(expr, ast.BoolOp):
        left = _truth(_evaluate(expr.left, env, conditions=True))
        if expr.op == "and":
            return left and _truth(_evaluate(expr.right, env, conditions=True))
        return left or _truth(_evaluate(expr.right, env, conditions=True))
    if conditions and isinstance(expr, ast.Not):
        return not _truth(_evaluate(expr.operand, env, conditions=True))
    if isinstance(expr, ast.Call) and expr.func.name in ("min", "max", "abs") and expr.args:
        vals = [_number(_evaluate(a, env, conditions=conditions)) for a in expr.args]
        if expr.func.name == "abs":
            return abs(vals[0])
        return min(vals) if expr.func.name == "min" else max(vals)
    kind = type(expr).__name__
    raise NotConstant(kind, f"`{kind}` is not allowed in a hold-out condition" if conditions else "")


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
        return sign * (math.inf if lg > 300 else 10**lg)

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
