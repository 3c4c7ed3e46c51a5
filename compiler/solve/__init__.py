"""Solvers: optimal actions and equilibria, each certified by an independent check.

The facade is :class:`GameSolver` (one game, one preference point). Each solution concept is a
module of :mod:`prefc.compiler.solve.concepts`; the algorithms they share are modules of their own
(:mod:`.finite` bimatrix vertex enumeration, :mod:`.quadratic` strategy-level Kantian mixing,
:mod:`.group` symmetric group games, :mod:`.continuous` closed forms and root finding,
:mod:`.univariate` one-dimensional optima) and :mod:`.certify` checks every answer.
"""

from prefc.compiler.solve.concept import Concept, Found, Judged, SolveError
from prefc.compiler.solve.concepts import concept_for
from prefc.compiler.solve.solver import GameSolver, point_text, validate_point

__all__ = ["Concept", "Found", "GameSolver", "Judged", "SolveError", "concept_for", "point_text", "validate_point"]
