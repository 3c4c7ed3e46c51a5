"""What the solvers return, and the rows of ``solutions.jsonl``: solutions with their derivations.

Solutions are the boundary between the compiler's mathematics and everything downstream (datasets,
rubrics, explain, diff, the theory agent): they hold JSON-friendly values only. The compiler builds
them (``prefc.compiler.solution`` names the same classes); ``solutions.jsonl`` holds one per line
with its provenance.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from .base import Part, Row

__all__ = [
    "ActionValue",
    "Decision",
    "Equilibrium",
    "OptionValue",
    "Provenance",
    "Solution",
    "SolutionRow",
    "Verification",
]

ActionValue = str | int | float
"""An action's value in a solution: an option label or a number."""

_SOLUTION_CONFIG = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class OptionValue(BaseModel):
    """One option of a finite decision and its utility for the decider."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    value: ActionValue
    """The option."""
    utility: float | None
    """The decider's utility of it (None where it is undefined)."""
    exact: str | None = None
    """The utility as an exact expression, when it is not an integer."""


class Decision(BaseModel):
    """One step of a derivation: a player choosing one action."""

    model_config = _SOLUTION_CONFIG

    player: str
    """The decider (a role, or ``member[i]`` in a group game)."""
    action: str
    """The action's name."""
    kind: str
    """``labels``, ``integers`` or ``interval``."""
    given: dict[str, ActionValue] = Field(default_factory=dict)
    """What the decider takes as given (observed earlier moves, the others' equilibrium play)."""
    options: list[OptionValue] | None = None
    """For finite actions: every option with its utility."""
    utility: str | None = None
    """For continuous actions: the utility as a function of the own action (numbers filled in)."""
    marginal: str | None = None
    """For continuous actions: the marginal utility (at the symmetric point for symmetric games)."""
    marginal_value: float | None = None
    """The marginal utility's value where it is a constant."""
    regime: str | None = None
    """The closed-form condition of the regime that applies, if known."""
    regime_check: str | None = None
    """The sides of the regime's condition at the parameter values
    (``m = 1.6, 2*n/(n + 1) = 2*6/(6 + 1) = 1.7143``), when every side is a number there."""
    chosen: ActionValue
    """The chosen value."""
    ties: list[ActionValue] = Field(default_factory=list)
    """Other values that are exactly as good."""


class Verification(BaseModel):
    """How a solution was checked, independently of the method that found it."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    method: str
    """The check, in words (``no profitable deviation, exact: every pure deviation``, ``deviation grid
    of 2001 points over the bounds ...``)."""
    deviations: int
    """How many deviations were evaluated."""
    max_gain: float
    """The largest gain of any deviation (0 or below for an equilibrium; within ``tolerance`` for
    numeric checks)."""
    tolerance: float = 0.0
    """The relative gain the check allowed (0 for exact checks)."""


class Equilibrium(BaseModel):
    """One equilibrium (or optimum) of a game."""

    model_config = _SOLUTION_CONFIG

    path: dict[str, dict[str, ActionValue]] = Field(default_factory=dict)
    """The actions actually played, ``{player: {action: value}}`` (empty for a mixed equilibrium,
    whose play is ``probabilities``)."""
    strategy: dict[str, dict[str, Any]] | None = None
    """Full plans of sequential movers, ``{player: {action: {history: value}}}`` or a rule."""
    probabilities: dict[str, dict[str, dict[str, float]]] | None = None
    """For mixed equilibria, ``{player: {action: {option: probability}}}``."""
    utilities: dict[str, float | None] = Field(default_factory=dict)
    """Each player's utility under the preference."""
    symmetric: bool = False
    """Whether every player plays alike."""
    mixture_gain: float | None = None
    """For a pure equilibrium of the game in its declared actions that a mixed strategy beats under the
    strategy-level Kantian term: what the best mixture gains (None: no mixture gains, or mixtures do not
    apply)."""

    @property
    def is_pure(self) -> bool:
        """Whether every player plays one action for sure."""
        return self.probabilities is None


class Solution(BaseModel):
    """The solution of one game for one preference at one parameter point."""

    model_config = _SOLUTION_CONFIG

    game: str
    """Game name."""
    preference: str
    """Preference label (``moralis(kappa=0.5)``)."""
    preference_params: dict[str, float | int] = Field(default_factory=dict)
    """The preference's parameter values."""
    params: dict[str, float | int]
    """Every game parameter's value used."""
    concept: str
    """The solution concept (``symmetric-nash``, ``nash``, ``backward-induction``, ``argmax``)."""
    kantian: str
    """The Kantian convention, in words."""
    equilibria: list[Equilibrium]
    """Every equilibrium found (all, for finite two-player games)."""
    selected: int | None = 0
    """Index of the equilibrium datasets use (None when none is suitable, e.g. mixed only)."""
    selection: str = ""
    """The rule that picked it."""
    derivation: list[Decision] = Field(default_factory=list)
    """The decisions that justify the selected equilibrium."""
    exact: bool = True
    """Whether the values are exact (finite games) or numeric."""
    verified: Verification | None = None
    """The independent check every reported equilibrium passed."""
    mixing: str | None = None
    """How mixed strategies are evaluated under the Kantian term (``strategy-level``: ``kantian(X)`` is
    the expectation of X when every player draws from the evaluator's mixture), where it matters."""
    notes: list[str] = Field(default_factory=list)
    """What the solution does not cover (equilibria not enumerated, degenerate games, ...)."""

    @property
    def answer(self) -> Equilibrium | None:
        """The selected equilibrium, if any."""
        return self.equilibria[self.selected] if self.selected is not None and self.equilibria else None


class Provenance(Part):
    """Where a solution row comes from."""

    spec: str
    """The spec's name."""
    spec_sha256: str
    """SHA-256 of the spec's source."""


class SolutionRow(Solution, Row):
    """One line of ``solutions.jsonl``: a solution and its provenance."""

    NOUN: ClassVar[str] = "solution"

    provenance: Provenance
    """The spec it was solved for."""
