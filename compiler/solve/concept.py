"""The interface every solution concept implements, and the registry that picks one for a game.

A *concept* is one way of solving one shape of game (one module each under ``compiler/solve/``):

=========================  ====================================================================
``argmax``                 one mover against declared ``belief``\\ s (:mod:`.argmax`)
``backward-induction``     sequential moves, and single movers (:mod:`.backward`)
``symmetric-nash``         simultaneous moves, symmetric finite game (:mod:`.symmetric_finite`)
``symmetric-nash``         simultaneous moves, symmetric continuous game (:mod:`.symmetric_continuous`)
``nash``                   simultaneous moves by distinct roles, finite (:mod:`.role_finite`)
``nash``                   simultaneous moves by distinct roles, continuous (:mod:`.role_continuous`)
=========================  ====================================================================

Concepts register themselves with :func:`concept` in the order they are tried; :func:`.concepts.concept_for`
returns the first whose :meth:`Concept.fits` accepts the game. A concept *finds* equilibria
(:meth:`Concept.find`); the solver facade (:mod:`.solver`) then has them certified by a check that
does not depend on how they were found (:meth:`Concept.certify`, built on :mod:`.certify`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar

from prefc.compiler.diagnostics import LocatedError
from prefc.compiler.ir import BoundPreference, GameIR
from prefc.compiler.solution import Decision, Equilibrium, Verification

__all__ = [
    "Concept",
    "Found",
    "Judged",
    "Point",
    "SolveError",
    "concept",
    "registered",
    "unsupported",
]

Point = dict[str, Fraction]
"""Game parameter name -> value (every parameter present)."""


class SolveError(LocatedError, ValueError):
    """A game that cannot be solved (or a solution that failed its certificate), with the game named.

    Attributes:
        game: The game's name.
        span: Where in the spec the problem is (the game's name when nothing better is known).
    """

    def __init__(self, message: str, *, game: GameIR | None = None, span: Any = None):
        super().__init__(
            message, span=span if span is not None else (game.checked.ast.name.span if game is not None else None)
        )
        self.game = game.name if game is not None else None


@dataclass
class Found:
    """What a concept found at one parameter point, before certification.

    Attributes:
        equilibria: Every equilibrium found.
        derivation: The decisions that justify the selected equilibrium.
        selected: Index of the equilibrium datasets use (None: none is suitable).
        selection: The rule that picked it.
        exact: Whether the values are exact.
        notes: What the solution does not cover (equilibria not enumerated, degenerate games, ...).
        mixing: How mixed strategies are evaluated under the Kantian term, when it matters.
        witness: Concept-private data the certificate uses (full strategies of sequential games).
        verification: The certificate, once checked.
    """

    equilibria: list[Equilibrium]
    derivation: list[Decision]
    selected: int | None
    selection: str
    exact: bool
    notes: list[str] = field(default_factory=list)
    mixing: str | None = None
    witness: Any = None
    verification: Verification | None = None


@dataclass
class Judged:
    """A decision a prompt asks for, with the decider's utility of any of its options.

    Attributes:
        decision: The decision (options and utilities, or the utility function).
        utility: The decider's utility of an option value (None where it is not available).
    """

    decision: Decision
    utility: Callable[[Any], float | None] | None


class Concept(ABC):
    """One solution concept for one game and one preference point; symbolic work is cached.

    Args:
        game: The game's IR.
        pref: The preference with its parameter values.
    """

    name: ClassVar[str]
    """The concept as solutions name it (``symmetric-nash``, ``nash``, ``backward-induction``, ``argmax``)."""

    def __init__(self, game: GameIR, pref: BoundPreference):
        self.game = game
        self.pref = pref

    @classmethod
    @abstractmethod
    def fits(cls, game: GameIR) -> bool:
        """Whether this concept solves games of this shape.

        Args:
            game: The game's IR.
        """

    @abstractmethod
    def find(self, point: Point, *, derive: bool) -> Found:
        """Every equilibrium at one point (certification is the caller's).

        Args:
            point: Every game parameter's value.
            derive: Also write the derivation (sweeps that need only the equilibria skip it).
        """

    @abstractmethod
    def certify(self, point: Point, found: Found) -> Verification:
        """Check what :meth:`find` returned by a method independent of how it was found.

        Args:
            point: The parameter point.
            found: What was found.

        Raises:
            SolveError: naming the equilibrium, the player and the profitable deviation.
        """

    @classmethod
    def closed_form(
        cls, game: GameIR, lowerer: Any, *, free: list, consts: dict[str, Fraction], ranges: dict, sign_of: Callable
    ) -> Any:
        """The solution as sympy conditions in the parameters (:class:`..closed.ClosedForm`), or None
        where this concept has no closed form (``prefc explain`` then sweeps, ``prefc diff`` uses its grid).

        Args:
            game: The game.
            lowerer: The preference with its free parameters as symbols.
            free: The free preference parameters' symbols.
            consts: Game parameters to substitute by a value.
            ranges: Symbol -> (low, high) ranges for sign decisions of the symbolic solvers.
            sign_of: The sign oracle for isolating a free parameter (:func:`..closed.isolate`).
        """
        return None

    def judge(
        self, point: Point, *, role: str, action: str, history: tuple[tuple[str, Any], ...], found: Found
    ) -> Judged | None:
        """The decision a prompt asks for (``role`` choosing ``action`` after ``history``).

        The default reads the derivation of the selected equilibrium (first movers, simultaneous
        moves); concepts with later movers override it.

        Args:
            point: The parameter point.
            role: The decider.
            action: The action's name.
            history: Earlier actions by key (``owner.name``) and value.
            found: The solution at the point.
        """
        if found.selected is None or not found.derivation or history:
            return None
        decision = next((d for d in found.derivation if d.action == action), found.derivation[0])
        if decision.options is not None:
            table = {o.value: o.utility for o in decision.options}
            return Judged(decision, table.get)
        return Judged(decision, None)

    def utilities_against_mix(self, point: Point, found: Found) -> list[float] | None:
        """The representative player's utility of each own option against the others' equilibrium
        mixture, where the only symmetric equilibria are mixed (None where that does not apply).

        Args:
            point: The parameter point.
            found: The solution at the point.
        """
        return None


_REGISTRY: list[type[Concept]] = []


def concept(cls: type[Concept]) -> type[Concept]:
    """Register a concept (class decorator); concepts are tried in registration order.

    Args:
        cls: The concept class.
    """
    _REGISTRY.append(cls)
    return cls


def unsupported(game: GameIR) -> str:
    """Why no concept solves a game, in words.

    Args:
        game: The game's IR.
    """
    stages = [len(game.movers(s)) for s in range(game.n_stages)]
    if game.symmetric and game.n_stages > 1:
        return "sequential symmetric games are not supported; declare the roles without `symmetric`"
    if game.n_stages > 1 and any(m != 1 for m in stages):
        return (
            "sequential games need exactly one move per stage (a stage with several movers needs a "
            "simultaneous sub-game, which is not supported)"
        )
    kinds = {a.finite for a in game.actions}
    if len(kinds) > 1:
        return "simultaneous moves mixing finite and continuous actions are not supported"
    return "no solution concept applies to a game of this shape"


def registered() -> tuple[type[Concept], ...]:
    """The registered concepts, in the order they are tried (:mod:`.concepts` registers them)."""
    return tuple(_REGISTRY)
