"""The values the continuous solvers take: numbers, numpy arrays and sympy numbers for parameters,
parameter domains, and their conversions (never from a string)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeAlias, Union

import sympy

from prefc.compiler.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy", globals(), "np")

__all__ = ["Domain", "Number", "Value", "as_expr", "as_symbols", "scalar_args", "to_float_array"]


Number: TypeAlias = float | int | Fraction
Value: TypeAlias = Union[Number, "np.ndarray", sympy.Basic]  # noqa: UP007 - numpy is named, not loaded, here
Domain = Mapping[sympy.Symbol, tuple[Number, Number]]


def scalar_args(args: tuple[sympy.Symbol, ...], values: Mapping[sympy.Symbol, Value]) -> list[float] | None:
    """The argument values as floats when all are scalars (the fast path), else None."""
    out = []
    for s in args:
        if s not in values:
            raise ValueError(f"no value given for {s}")
        v = values[s]
        if isinstance(v, np.ndarray) and v.ndim > 0:
            return None
        out.append(float(v))
    return out


def to_float_array(value: Value) -> np.ndarray:
    if isinstance(value, Fraction):
        return np.asarray(value.numerator / value.denominator)
    if isinstance(value, sympy.Basic):
        return np.asarray(float(value))
    return np.asarray(value, dtype=float)


def as_expr(value: Any, name: str) -> sympy.Expr:
    """A sympy number or expression from a sympy object or a Python number (never a string)."""
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number or a sympy expression, got {value!r}")
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, float):
        return sympy.Float(value)
    raise TypeError(f"{name} must be a number or a sympy expression, got {type(value).__name__}")


def as_symbols(other: sympy.Symbol | Sequence[sympy.Symbol]) -> tuple[sympy.Symbol, ...]:
    if isinstance(other, sympy.Symbol):
        return (other,)
    return tuple(other)
