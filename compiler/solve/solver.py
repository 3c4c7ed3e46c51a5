"""The solver facade: one game, one preference point; validates the parameter point, lets the game's
concept find the equilibria, has them certified, and returns a :class:`..solution.Solution`.

Everything a concept cannot do becomes a :class:`.concept.SolveError` that names the game and the
point (too large, a utility that is not a finite real number, no equilibrium verified, a failed
certificate); nothing uncertified is returned.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import sympy as sp

from prefc.compiler.check import MAX_GROUP_SIZE, NotConstant, eval_const
from prefc.compiler.ir import BoundPreference, GameIR, to_plain
from prefc.compiler.limits import GameTooLarge
from prefc.compiler.lower import LoweringError
from prefc.compiler.solution import Solution
from prefc.compiler.solve.certify import CertificateError
from prefc.compiler.solve.concept import Concept, Found, Judged, Point, SolveError
from prefc.compiler.solve.concepts import concept_for
from prefc.compiler.solve.continuous import NoConvergence
from prefc.compiler.solve.derive import NonFinite

if TYPE_CHECKING:
    from prefc.compiler.solve.sweep import SweepResult

__all__ = ["GameSolver", "point_text", "validate_point"]

_FOUND_CACHE = 4096


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


class GameSolver:
    """Solves one game for one preference point; symbolic work is done once and cached.

    Args:
        game: The game's IR.
        pref: The preference with its parameter values.

    Raises:
        SolveError: when no concept solves a game of this shape.
    """

    def __init__(self, game: GameIR, pref: BoundPreference):
        self.game = game
        self.pref = pref
        self.concept: Concept = concept_for(game)(game, pref)
        self._found: OrderedDict[tuple, Found] = OrderedDict()
        self._sweep_plan: Any = None

    @property
    def concept_name(self) -> str:
        """The concept as solutions name it."""
        return getattr(self.concept, "label", self.concept.name)

    def _point(self, values: dict[str, Any] | None) -> Point:
        return validate_point(self.game, values)

    def found(self, values: dict[str, Any] | None = None, *, derive: bool = True) -> tuple[Point, Found]:
        """The certified equilibria at a point (cached), before they become a :class:`Solution`.

        Args:
            values: Parameter values; missing ones take their defaults.
            derive: Also write the derivation.
        """
        point = self._point(values)
        key = (tuple(point.items()), derive)
        hit = self._found.get(key) or (self._found.get((key[0], True)) if not derive else None)
        if hit is not None:
            return point, hit
        where = f"game `{self.game.name}` at {point_text(point)}"
        try:
            found = self.concept.find(point, derive=derive)
            verification = self.concept.certify(point, found)
        except SolveError as exc:
            if exc.game is None:
                raise SolveError(f"{where}: {exc}", game=self.game) from exc
            raise
        except CertificateError as exc:
            raise SolveError(f"{where}: the solution failed its independent check: {exc}", game=self.game) from exc
        except (LoweringError, GameTooLarge, NonFinite, NoConvergence) as exc:
            raise SolveError(f"{where}: {exc}", game=self.game, span=getattr(exc, "span", None)) from exc
        except (ZeroDivisionError, OverflowError, RecursionError) as exc:
            raise SolveError(
                f"{where}: the utilities cannot be evaluated ({type(exc).__name__}: {exc})", game=self.game
            ) from exc
        found.verification = verification
        self._found[key] = found
        if len(self._found) > _FOUND_CACHE:
            self._found.popitem(last=False)
        return point, found

    def solve(self, values: dict[str, Any] | None = None, *, derive: bool = True) -> Solution:
        """Solve at one parameter point.

        Args:
            values: Game parameter values; missing ones take their defaults.
            derive: Also write the derivation (sweeps that only need the equilibria skip it).

        Raises:
            SolveError: with the game and the point, for anything that cannot be solved or certified.
        """
        point, found = self.found(values, derive=derive)
        return Solution(
            game=self.game.name,
            preference=self.pref.label,
            preference_params={k: to_plain(v) for k, v in self.pref.point.values},  # type: ignore[misc]
            params={k: to_plain(v) for k, v in point.items()},  # type: ignore[misc]
            concept=self.concept_name,
            kantian=self.game.describe_kantian() if self.pref.uses_kantian else "not used by this preference",
            equilibria=found.equilibria,
            selected=found.selected,
            selection=found.selection,
            derivation=found.derivation,
            exact=found.exact,
            verified=found.verification,
            mixing=found.mixing,
            notes=found.notes,
        )

    def sweep(self, points: Mapping[str, Any]) -> SweepResult:
        """Solve at many points at once: the closed form evaluated as numpy arrays where the game has
        one, each answer certified as arrays, the rest by :meth:`solve` (:mod:`.sweep`).

        Args:
            points: Parameter name -> an array of values, one per point (parameters left out take
                their defaults).

        Raises:
            SolveError: for a point :meth:`solve` refuses.
        """
        from prefc.compiler.solve.sweep import plan_sweep, run_sweep

        if self._sweep_plan is None:
            self._sweep_plan = plan_sweep(self)
        return run_sweep(self, self._sweep_plan, points)

    def judge(
        self, values: dict[str, Any], *, role: str, action: str, history: tuple[tuple[str, Any], ...] = ()
    ) -> Judged | None:
        """The decision a prompt asks for, with the decider's utility of its options.

        Args:
            values: Parameter values.
            role: The decider.
            action: The action's name.
            history: Earlier actions by key and value.
        """
        point, found = self.found(values)
        try:
            return self.concept.judge(point, role=role, action=action, history=history, found=found)
        except (LoweringError, GameTooLarge, NonFinite, NoConvergence) as exc:
            raise SolveError(
                f"game `{self.game.name}` at {point_text(point)}: {exc}",
                game=self.game,
                span=getattr(exc, "span", None),
            ) from exc

    def utilities_against_mix(self, values: dict[str, Any]) -> list[float] | None:
        """The representative player's utility of each option against the others' equilibrium
        mixture, where every symmetric equilibrium is mixed (None otherwise).

        Args:
            values: Parameter values.
        """
        point, found = self.found(values)
        return self.concept.utilities_against_mix(point, found)
