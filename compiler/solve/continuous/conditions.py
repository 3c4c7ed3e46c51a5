"""Regime conditions: a sign condition rewritten as a threshold on a parameter (``kappa > t``) where
the sign of its coefficient is known, and conjunctions that keep only the tightest bound on a symbol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy

from .signs import sign_of, simplify_small, tidy

__all__ = ["conjunction", "sign_condition"]


_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}


def _relation(op: str, lhs: sympy.Expr, rhs: sympy.Expr) -> sympy.Basic:
    return sympy.core.relational.Relational(lhs, rhs, op)


def sign_condition(
    diff: sympy.Expr,
    op: str,
    candidates: Sequence[sympy.Symbol],
    box: Mapping[sympy.Symbol, tuple[float, float]] | None,
) -> sympy.Basic:
    """``diff <op> 0`` rewritten as ``p <op'> threshold`` for the first parameter ``p`` of
    ``candidates`` in which ``diff`` is linear with a coefficient whose sign is decided over the
    parameter box (a number, ``true`` or ``false`` where ``diff`` is one).

    Unlike :func:`prefc.compiler.solve.closed.isolate`, which assumes the sign an oracle gives and
    records it, this one only rewrites where the sign holds on the whole box, and leaves the
    condition as it is elsewhere.

    Args:
        diff: The left-hand side, compared with 0.
        op: The relation (``<``, ``<=``, ``>``, ``>=``, ``==``, ``!=``).
        candidates: Parameters to isolate, tried in order.
        box: Each parameter's range, where known.
    """
    diff = simplify_small(diff)
    if diff.is_number:
        return sympy.true if bool(_relation(op, diff, sympy.Integer(0))) else sympy.false
    for p in candidates:
        if p not in diff.free_symbols:
            continue
        a = simplify_small(sympy.diff(diff, p))
        if a.has(p) or a == 0:
            continue
        sign = sign_of(a, box)
        if sign is None:
            continue
        b = simplify_small(diff - a * p)
        threshold = tidy(-b / a)
        return _relation(op if sign > 0 else _FLIP[op], p, threshold)
    return _relation(op, diff, sympy.Integer(0))


def conjunction(conds: Sequence[sympy.Basic]) -> sympy.Basic:
    """``And`` of the conditions, keeping only the tightest of several bounds ``p > t`` (or
    ``p < t``) on one symbol by numbers."""
    tightest: dict[tuple[sympy.Symbol, str], sympy.Basic] = {}
    rest: list[sympy.Basic] = []
    combined = sympy.And(*conds)
    if combined is sympy.true or combined is sympy.false:
        return combined
    # ``And`` of equal conditions is that one condition, whose ``args`` are its sides, not parts
    for cond in combined.args if isinstance(combined, sympy.And) else (combined,):
        if (
            isinstance(cond, sympy.core.relational.Relational)
            and cond.rel_op in _FLIP
            and cond.rel_op not in ("==", "!=")
            and isinstance(cond.lhs, sympy.Symbol)
            and cond.rhs.is_number
        ):
            upper = cond.rel_op in (">", ">=")
            key = (cond.lhs, "lower" if upper else "upper")
            old = tightest.get(key)
            if old is None:
                tightest[key] = cond
            else:
                better = cond.rhs > old.rhs if upper else cond.rhs < old.rhs
                if better == True or (cond.rhs == old.rhs and cond.rel_op in (">", "<")):  # noqa: E712
                    tightest[key] = cond
        else:
            rest.append(cond)
    kept = list(tightest.values()) + rest
    return sympy.And(*kept) if kept else sympy.true
