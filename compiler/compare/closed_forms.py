"""A side's solution in closed form: the game's concept derives it (:meth:`..solve.Concept.closed_form`)
with this side's free preference parameters as symbols and its own constants put in."""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from prefc.compiler.compare.sides import Side
from prefc.compiler.lower import LoweringError
from prefc.compiler.solve import SolveError, concept_for
from prefc.compiler.solve.closed import ClosedForm, SignOracle
from prefc.compiler.solve.concepts.backward import Backward
from prefc.compiler.solve.utility import symbolic_preference

__all__ = ["closed_form"]


def closed_form(
    side: Side, *, consts: dict[str, Fraction], ranges: dict[sp.Symbol, tuple[float, float]], sign_of: SignOracle
) -> ClosedForm | None:
    """A side's solution in closed form, or None where its concept has none.

    Args:
        side: The side.
        consts: Game parameters substituted by this side's own value.
        ranges: Ranges of the parameter symbols (game and free preference parameters), for sign
            decisions of the symbolic solvers.
        sign_of: The sign of an expression at every grid point (None when it changes or vanishes).
    """
    game, pref = side.game, side.pref
    free = [sp.Symbol(k, real=True) for k in side.free]
    fixed = dict(side.fixed)
    values: dict[str, sp.Expr] = {}
    for k, default in pref.defaults.items():
        if k in side.free:
            values[k] = sp.Symbol(k, real=True)
        else:
            v = fixed.get(k, default)
            if v is None:
                return None
            values[k] = sp.Rational(v.numerator, v.denominator)
    lowerer = symbolic_preference(pref, values)
    try:
        cls = concept_for(game)
    except SolveError:
        return None
    kw = {"pref": pref} if cls is Backward else {}
    try:
        return cls.closed_form(game, lowerer, free=free, consts=consts, ranges=ranges, sign_of=sign_of, **kw)
    except (NotImplementedError, TypeError, ValueError, LoweringError, RecursionError, SolveError):
        return None
