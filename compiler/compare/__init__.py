"""Where two solutions part: one game played by two preferences, or by one preference in two specs.

A comparison has two *sides*, each a game of a spec played by a preference whose parameters are
either fixed (``moralis(kappa=0.5)``) or left *free* (``moralis``: kappa is swept over its domain
as well). :func:`compare` answers in two independent ways and checks that they agree:

* **Closed form.** Each side's solution is derived symbolically from the IR, like ``prefc explain``
  does, but kept as sympy booleans: for symmetric finite games the condition under which everyone
  playing an option is an equilibrium; for symmetric continuous games and sequential games with
  continuous moves the regimes of the closed-form solution. The region where the sides part is
  built from these conditions with sympy's relational logic (never from text): for conditions,
  an option is an equilibrium on one side and not on the other; for regimes, both regimes hold
  and their actions differ. The region is stated in general (``region_general``) and, simplified
  on the swept parameter values, as ``region``: atoms in the game parameters alone that do not
  change sign over the swept values are settled, and terms that change nothing at any swept point
  are dropped (exact in the free preference parameter when there is one: its sets are intervals).
  A preference parameter is isolated in a condition (``kappa >= (T - R)/(T - P)``) only where the
  sign of its coefficient is the same at every grid point; that sign is stated as an assumption.
* **Grid.** Every side is compiled once per preference point (:class:`GameSolver`) and evaluated at
  every combination of the swept game parameters (``vary``) and of a grid over each free
  preference parameter. At each point the *sets* of equilibrium paths are compared: ``same``,
  ``overlap`` (they share some equilibria, e.g. both defect but one may also cooperate) or
  ``differ`` (disjoint).

The agreement check compares, at every grid point and for both sides, what the closed form
predicts (the set of symmetric pure equilibria, or the selected action of the regime that applies;
an indifference regime predicts its selected action, the lower bound, as the solver does) with
what the solver found.

Game parameters: a parameter swept in either spec is a shared coordinate; one that is constant and
equal in both stays a shared symbol; one whose constant value differs between two specs, or that
only one spec has, is fixed per side at that side's value (and said so).
"""

from prefc.compiler.compare.closed_forms import closed_form
from prefc.compiler.compare.game import GameDiff, PointResult, compare
from prefc.compiler.compare.outcomes import Outcome, describe_equilibrium, equilibrium_key, status_of
from prefc.compiler.compare.regions import Part, interval_text, intervals, region_parts, simplify_on_grid
from prefc.compiler.compare.sides import DEFAULT_STEPS, DiffError, Grid, Side, build_grid, make_side
from prefc.compiler.compare.specs import (
    PreferenceChoice,
    SpecDiff,
    build_points,
    diff_pairs,
    preference_pairs,
    spec_pairs,
    total_points,
)

__all__ = [
    "DEFAULT_STEPS",
    "DiffError",
    "GameDiff",
    "Grid",
    "Outcome",
    "Part",
    "PointResult",
    "PreferenceChoice",
    "Side",
    "SpecDiff",
    "build_grid",
    "build_points",
    "closed_form",
    "compare",
    "describe_equilibrium",
    "diff_pairs",
    "equilibrium_key",
    "interval_text",
    "intervals",
    "make_side",
    "preference_pairs",
    "region_parts",
    "simplify_on_grid",
    "spec_pairs",
    "status_of",
    "total_points",
]
