"""The solver facade: one game, one preference point; validates the parameter point, lets the game's
concept find the equilibria, has them certified, and returns a :class:`..solution.Solution`.

Everything a concept cannot do becomes a :class:`.concept.SolveError` that names the game and the
point (too large, a utility that is not a finite real number, no equilibrium verified, a failed
certificate); nothing uncertified is returned.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from prefc.compiler.ir import BoundPreference, GameIR, to_plain
from prefc.compiler.limits import GameTooLarge
from prefc.compiler.lower import LoweringError
from prefc.compiler.solution import Solution
from prefc.compiler.solve.certify import CertificateError
from prefc.compiler.solve.concept import Concept, Found, Judged, Point, SolveError
from prefc.compiler.solve.concepts import concept_for
from prefc.compiler.solve.continuous import NoConvergence
from prefc.compiler.solve.derive import NonFinite
from prefc.compiler.solve.points import point_text, validate_point

if TYPE_CHECKING:
    from prefc.compiler.solve.sweep import SweepResult

__all__ = ["GameSolver", "point_text", "validate_point"]

_FOUND_CACHE = 4096


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
