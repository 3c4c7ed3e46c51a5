"""The solution concepts, one module each, registered in the order they are tried; and the choice
of the concept that solves a game."""

from __future__ import annotations

from prefc.compiler.ir import GameIR
from prefc.compiler.solve.concept import Concept, SolveError, registered, unsupported
from prefc.compiler.solve.concepts.argmax import Argmax
from prefc.compiler.solve.concepts.backward import Backward
from prefc.compiler.solve.concepts.role_continuous import RoleContinuous
from prefc.compiler.solve.concepts.role_finite import RoleFinite
from prefc.compiler.solve.concepts.symmetric_continuous import SymmetricContinuous
from prefc.compiler.solve.concepts.symmetric_finite import SymmetricFinite

__all__ = [
    "Argmax",
    "Backward",
    "RoleContinuous",
    "RoleFinite",
    "SymmetricContinuous",
    "SymmetricFinite",
    "concept_for",
]


def concept_for(game: GameIR) -> type[Concept]:
    """The concept that solves a game: the first registered one that fits it.

    Args:
        game: The game's IR.

    Raises:
        SolveError: when no concept fits, saying why.
    """
    for cls in registered():
        if cls.fits(game):
            return cls
    raise SolveError(f"game `{game.name}`: {unsupported(game)}", game=game)
