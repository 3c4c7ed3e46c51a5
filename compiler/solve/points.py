"""Parameter points of a game: checking a point as the checker checks a value written in the spec, and
writing one for a message."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy as sp

from prefc.compiler.check import MAX_GROUP_SIZE, NotConstant, eval_const
from prefc.compiler.ir import GameIR, to_plain
from prefc.compiler.solve.concept import Point, SolveError

__all__ = ["point_text", "validate_point"]


def point_text(point: dict[str, Fraction]) -> str:
    """``T = 5, R = 3`` (or ``the defaults`` for a game without parameters).

    Args:
        point: Parameter values.
    """
    return ", ".join(f"{k} = {to_plain(v)}" for k, v in point.items()) or "no parameters"


def validate_point(game: GameIR, values: dict[str, Any] | None) -> Point:
    """Every parameter's value at a point: the defaults with ``values`` put in, each checked as the
    checker checks a value written in the spec.

    Args:
        game: The game.
        values: Parameter values to set (numbers).

    Raises:
        SolveError: for an unknown parameter, a value outside its domain, a group size that is not a
            whole number in 1..64, or an action whose interval is empty at the point.
    """
    point = game.defaults()
    for k, v in (values or {}).items():
        if k not in game.params:
            known = ", ".join(game.params) or "none"
            raise SolveError(f"game `{game.name}` has no parameter `{k}` (its parameters: {known})", game=game)
        try:
            point[k] = Fraction(v)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
            raise SolveError(f"`{k}` = {v!r} is not a finite number", game=game) from exc
    for name, p in game.params.items():
        dom = game.checked.params[name].domain
        value = point[name]
        if dom is not None:
            bounds: tuple[Fraction, Fraction] | None
            try:
                bounds = eval_const(dom.lo, point), eval_const(dom.hi, point)
            except NotConstant:
                bounds = None
            if bounds is not None and not bounds[0] <= value <= bounds[1]:
                raise SolveError(
                    f"`{name}` = {to_plain(value)} is outside its domain "
                    f"[{to_plain(bounds[0])}, {to_plain(bounds[1])}]",
                    game=game,
                    span=dom.span,
                )
        if p.integer and value.denominator != 1:
            raise SolveError(f"`{name}` is a whole number; {to_plain(value)} is not", game=game)
    subs = {p.symbol: sp.Rational(point[n].numerator, point[n].denominator) for n, p in game.params.items()}
    if game.group_size is not None:
        size = game.group_size.xreplace(subs)
        if not size.is_Integer or not 1 <= int(size) <= MAX_GROUP_SIZE:
            raise SolveError(
                f"the group `{game.group}` has {size} members at {point_text(point)}; a group has a "
                f"whole number of members from 1 to {MAX_GROUP_SIZE}",
                game=game,
            )
    for a in game.actions:
        if a.kind == "labels" or a.lo is None or a.hi is None:
            continue
        lo, hi = a.lo.xreplace(subs), a.hi.xreplace(subs)
        if lo.is_number and hi.is_number:
            if not (lo.is_finite and hi.is_finite):
                raise SolveError(f"the bounds of `{a.key}` are not finite at {point_text(point)}", game=game)
            if lo > hi:
                raise SolveError(
                    f"`{a.key}` has no values at {point_text(point)}: its interval "
                    f"[{to_plain(lo)}, {to_plain(hi)}] is empty",
                    game=game,
                    span=None,
                )
    return point
