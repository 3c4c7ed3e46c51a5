"""What the solvers return: solutions with their derivations, as plain typed data.

Solutions are the boundary between the compiler's mathematics and everything downstream (datasets,
rubrics, explain, diff, the theory agent): they hold JSON-friendly values only.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ActionValue = str | int | float


class OptionValue(BaseModel):
    """One option of a finite decision and its utility for the decider."""

    model_config = ConfigDict(frozen=True)

    value: ActionValue
    utility: float | None
    exact: str | None = None


class Decision(BaseModel):
    """One step of a derivation: a player choosing one action.

    Attributes:
        player: The decider (a role, or ``member[i]`` in a group game).
        action: The action's name.
        kind: ``labels``, ``integers`` or ``interval``.
        given: What the decider takes as given (observed earlier moves, the others' equilibrium play).
        options: For finite actions: every option with its utility.
        utility: For continuous actions: the utility as a function of the own action (numbers filled in).
        marginal: For continuous actions: the marginal utility (at the symmetric point for symmetric games).
        regime: The closed-form condition of the regime that applies, if known.
        regime_check: The sides of the regime's condition at the parameter values
            (``m = 1.6, 2*n/(n + 1) = 2*6/(6 + 1) = 1.7143``), when every side is a number there.
        chosen: The chosen value.
        ties: Other values that are exactly as good.
    """

    player: str
    action: str
    kind: str
    given: dict[str, ActionValue] = Field(default_factory=dict)
    options: list[OptionValue] | None = None
    utility: str | None = None
    marginal: str | None = None
    marginal_value: float | None = None
    regime: str | None = None
    regime_check: str | None = None
    chosen: ActionValue
    ties: list[ActionValue] = Field(default_factory=list)


class Verification(BaseModel):
    """How a solution was checked, independently of the method that found it.

    Attributes:
        method: The check, in words (``no profitable pure deviation, exact``, ``deviation grid of
            2001 points including both bounds, and the first-order condition``, ...).
        deviations: How many deviations were evaluated.
        max_gain: The largest gain of any deviation (0 or below for an equilibrium; a small
            positive number within the stated tolerance for numeric checks).
        tolerance: The tolerance the numeric check allowed (0 for exact checks).
    """

    model_config = ConfigDict(frozen=True)

    method: str
    deviations: int
    max_gain: float
    tolerance: float = 0.0


class Equilibrium(BaseModel):
    """One equilibrium (or optimum) of a game.

    Attributes:
        path: The actions actually played, ``{player: {action: value}}`` (empty for a mixed
            equilibrium: its play is ``probabilities``).
        strategy: Full plans of sequential movers, ``{player: {action: {history: value}}}`` or a rule.
        probabilities: For mixed equilibria, ``{player: {action: {option: probability}}}``.
        utilities: Each player's utility under the preference.
        symmetric: Whether every player plays alike.
        mixture_gain: For a pure equilibrium of the game in its declared actions that a mixed
            strategy beats under the strategy-level Kantian term: what the best mixture gains
            (None: no mixture gains, or mixtures do not apply).
    """

    path: dict[str, dict[str, ActionValue]] = Field(default_factory=dict)
    strategy: dict[str, dict[str, Any]] | None = None
    probabilities: dict[str, dict[str, dict[str, float]]] | None = None
    utilities: dict[str, float | None] = Field(default_factory=dict)
    symmetric: bool = False
    mixture_gain: float | None = None

    @property
    def is_pure(self) -> bool:
        return self.probabilities is None


class Solution(BaseModel):
    """The solution of one game for one preference at one parameter point.

    Attributes:
        game: Game name.
        preference: Preference label (``moralis(kappa=0.5)``).
        preference_params: The preference's parameter values.
        params: Every game parameter's value used.
        concept: The solution concept (``symmetric-nash``, ``nash``, ``backward-induction``, ``argmax``).
        kantian: The Kantian convention, in words.
        equilibria: Every equilibrium found (all, for finite two-player games).
        selected: Index of the equilibrium datasets use (None when none is suitable, e.g. mixed only).
        selection: The rule that picked it.
        derivation: The decisions that justify the selected equilibrium.
        exact: Whether the values are exact (finite games) or numeric.
        verified: The independent check every reported equilibrium passed.
        mixing: How mixed strategies are evaluated under the Kantian term (``strategy-level``:
            ``kantian(X)`` is the expectation of X when every player draws from the evaluator's
            mixture), where the preference uses it and mixed strategies are considered.
        notes: What the solution does not cover (for instance equilibria that are not enumerated).
    """

    game: str
    preference: str
    preference_params: dict[str, float | int] = Field(default_factory=dict)
    params: dict[str, float | int]
    concept: str
    kantian: str
    equilibria: list[Equilibrium]
    selected: int | None = 0
    selection: str = ""
    derivation: list[Decision] = Field(default_factory=list)
    exact: bool = True
    verified: Verification | None = None
    mixing: str | None = None
    notes: list[str] = Field(default_factory=list)

    @property
    def answer(self) -> Equilibrium | None:
        """The selected equilibrium, if any."""
        return self.equilibria[self.selected] if self.selected is not None and self.equilibria else None
