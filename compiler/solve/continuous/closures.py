"""Closed forms as fast numeric functions: each sympy expression compiled once by
:func:`sympy.lambdify` (numpy) and cached, and regime conditions compiled to vectorised tests
with a relative rounding slack."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import sympy

from prefc.compiler.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy", globals(), "np")

__all__ = ["compile_condition", "lambdify_once", "sort_symbols"]


def sort_symbols(symbols: Any) -> tuple[sympy.Symbol, ...]:
    return tuple(sorted(symbols, key=lambda s: (s.name, repr(s))))


@lru_cache(maxsize=4096)
def lambdify_once(expr: sympy.Basic, args: tuple[sympy.Symbol, ...]) -> Callable[..., Any]:
    """``lambdify`` once per (expression, argument list)."""
    return sympy.lambdify(args, expr, modules="numpy", dummify=True)


_REL_SLACK = 1e-12


def compile_condition(cond: sympy.Basic, args: tuple[sympy.Symbol, ...]) -> Callable[..., Any]:
    if cond is sympy.true or cond == True:  # noqa: E712 - sympy.true compares equal to True
        return lambda *a: True
    if cond is sympy.false or cond == False:  # noqa: E712
        return lambda *a: False
    if isinstance(cond, (sympy.And, sympy.Or)):
        parts = [compile_condition(c, args) for c in cond.args]
        reduce = np.logical_and if isinstance(cond, sympy.And) else np.logical_or

        def combined(*a: Any) -> Any:
            acc = parts[0](*a)
            for p in parts[1:]:
                acc = reduce(acc, p(*a))
            return acc

        return combined
    if isinstance(cond, sympy.Not):
        inner = compile_condition(cond.args[0], args)
        return lambda *a: np.logical_not(inner(*a))
    if isinstance(cond, sympy.core.relational.Relational):
        lhs = lambdify_once(cond.lhs, args)
        rhs = lambdify_once(cond.rhs, args)
        op = cond.rel_op

        def relation(*a: Any) -> Any:
            left = np.asarray(lhs(*a), dtype=float)
            right = np.asarray(rhs(*a), dtype=float)
            diff = left - right
            slack = _REL_SLACK * (1.0 + np.abs(left) + np.abs(right))
            if op == "==":
                return np.abs(diff) <= slack
            if op == "!=":
                return np.abs(diff) > slack
            if op in (">", ">="):
                return diff > slack if op == ">" else diff >= -slack
            return diff < -slack if op == "<" else diff <= slack

        return relation
    raise TypeError(f"cannot evaluate condition {cond!r}")
