"""Closed forms: a game's solution as sympy conditions in the parameters, shared by ``prefc explain``
and ``prefc diff``.

Two shapes:

``conditions`` (symmetric finite games)
    option -> the exact condition under which everyone playing it is an equilibrium (no pure
    deviation gains); with two options and the strategy-level Kantian term also the condition
    against every mixture, and the symmetric mixed equilibrium with the region where it exists.
``regimes`` (continuous closed forms: symmetric games, sequential games)
    (condition, {action: expression}, indifferent) pieces, mutually exclusive.

A preference parameter is isolated in a relation (``kappa >= (T - R)/(T - P)``) where the relation
is linear in it and the sign of its coefficient is known: :func:`isolate` takes that sign from an
oracle (``prefc explain`` reads it at the default values, ``prefc diff`` requires it to be the same
at every grid point) and records it as an assumption.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

__all__ = ["ClosedForm", "fewest_minus", "isolate", "isolate_all", "MixedRegime", "SignOracle", "simplify", "text"]

SignOracle = Callable[[sp.Expr], int | None]
"""The sign (+1 / -1) of an expression over the parameters considered, or None when it is not fixed."""

_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


@dataclass
class MixedRegime:
    """The symmetric mixed equilibrium of a two-option symmetric game, in closed form.

    Attributes:
        condition: Where it exists (strictly inside the simplex, a best reply to itself).
        probability: The probability of the first option, as an expression.
        first: The first option.
        second: The second option.
    """

    condition: sp.Basic
    probability: sp.Expr
    first: Any
    second: Any


@dataclass
class ClosedForm:
    """A solution as sympy conditions in the parameters.

    Attributes:
        kind: ``conditions`` or ``regimes`` (see the module docstring).
        method: How it was derived.
        conditions: For ``conditions``: option -> condition (no pure deviation gains).
        against_mixtures: For ``conditions`` under the strategy-level Kantian term: option ->
            condition that no mixture gains either.
        mixed: For ``conditions``: the symmetric mixed equilibrium, where there is one in closed form.
        regimes: For ``regimes``: (condition, {action: expression}, indifferent).
        reasons: For ``regimes``: one line on why each regime holds (parallel to ``regimes``).
        assumptions: Signs assumed when isolating a preference parameter.
        utility: The utility, in words.
        notes: What the closed form says beyond its pieces (the first-order condition, ...).
    """

    kind: str
    method: str
    conditions: dict[Any, sp.Basic] = field(default_factory=dict)
    against_mixtures: dict[Any, sp.Basic] = field(default_factory=dict)
    mixed: list[MixedRegime] = field(default_factory=list)
    regimes: list[tuple[sp.Basic, dict[str, sp.Expr], bool]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    assumptions: list[sp.Basic] = field(default_factory=list)
    utility: str = ""
    notes: list[str] = field(default_factory=list)


def simplify(e: sp.Basic) -> sp.Basic:
    """``sympy.simplify``, except that a rational function (the usual case: payoffs polynomial in
    the parameters) is put in lowest terms by ``sympy.cancel``, a fraction of the cost. Callers
    factor or isolate the result, so the closed forms they print are the same either way (checked
    on every finite game of the library).

    Args:
        e: An expression or relation.
    """
    if isinstance(e, sp.Expr) and e.is_rational_function():
        return sp.cancel(e)
    return sp.simplify(e)


def isolate(rel: sp.Basic, free: Sequence[sp.Symbol], sign_of: SignOracle, assumptions: list[sp.Basic]) -> sp.Basic:
    """``lhs op rhs`` rewritten as a bound on a free preference parameter it is linear in, when the
    sign of that parameter's coefficient is known (the sign is recorded as an assumption unless it
    is a number).

    Args:
        rel: A relation.
        free: The parameters to isolate, tried in order.
        sign_of: The sign of the coefficient.
        assumptions: Receives the assumed signs.
    """
    if not isinstance(rel, sp.core.relational.Relational) or not free:
        return rel
    expr = sp.expand(rel.lhs - rel.rhs)
    for k in free:
        if not expr.has(k) or not expr.is_polynomial(k):
            continue
        poly = sp.Poly(expr, k)
        if poly.degree() != 1:
            continue
        c1, c0 = poly.all_coeffs()
        sign = int(sp.sign(c1)) if c1.is_number else sign_of(c1)
        if not sign:
            continue
        if not c1.is_number:
            assumptions.append(sp.simplify(c1 > 0) if sign > 0 else sp.simplify(c1 < 0))
        threshold = sp.factor(simplify(-c0 / c1))
        return sp.Rel(k, threshold, rel.rel_op if sign > 0 else _FLIP[rel.rel_op])
    return rel


def isolate_all(
    cond: sp.Basic, free: Sequence[sp.Symbol], sign_of: SignOracle, assumptions: list[sp.Basic]
) -> sp.Basic:
    """:func:`isolate` applied to every relation of an and/or/not of relations.

    Args:
        cond: The condition.
        free: The parameters to isolate.
        sign_of: The sign oracle.
        assumptions: Receives the assumed signs.
    """
    if isinstance(cond, sp.core.relational.Relational):
        return isolate(cond, free, sign_of, assumptions)
    if isinstance(cond, (sp.And, sp.Or, sp.Not)):
        return cond.func(*[isolate_all(c, free, sign_of, assumptions) for c in cond.args])
    return cond


def text(e: Any) -> str:
    """A sympy boolean or expression as readable text (``kappa >= (T - R)/(T - P)``).

    Args:
        e: The expression.
    """
    if isinstance(e, sp.core.relational.Relational):
        op = {"==": "=", "!=": "!="}.get(e.rel_op, e.rel_op)
        return f"{text(e.lhs)} {op} {text(e.rhs)}"
    if isinstance(e, (sp.And, sp.Or)):
        joiner = " and " if isinstance(e, sp.And) else " or "
        args = sorted(e.args, key=sp.default_sort_key)
        return joiner.join(f"({text(a)})" if isinstance(a, (sp.And, sp.Or)) else text(a) for a in args)
    if isinstance(e, sp.Not):
        return f"not ({text(e.args[0])})"
    if e is sp.true or e is True:
        return "always"
    if e is sp.false or e is False:
        return "never"
    if isinstance(e, sp.Basic):
        s = sp.sstr(sp.nsimplify(e) if e.is_number and not e.is_Rational else fewest_minus(e))
        return s.replace("**", "^")
    return str(e)


def fewest_minus(e: sp.Basic) -> sp.Basic:
    """The same rational expression written with as few leading minus signs as sympy allows:
    ``(T - R)/(T - P)`` rather than ``-(T - R)/(P - T)``."""
    if not isinstance(e, sp.Expr) or not e.free_symbols or not e.is_rational_function():
        return e
    num, den = sp.fraction(sp.factor(e))
    candidates = [e, sp.factor(e)]
    for n_, d_ in ((num, den), (-num, -den)):
        n_, d_ = sp.expand(n_), sp.expand(d_)
        candidates.append(n_ / d_ if d_ != 1 else n_)
        candidates.append(n_ / sp.factor(d_) if d_ != 1 else n_)

    def score(c: sp.Basic) -> tuple[int, int, int]:
        s = sp.sstr(c)
        return s.count("(-") + 2 * s.startswith("-") + s.count("+ -"), -s.count("*("), len(s)

    return min(candidates, key=score)
