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


class Equilibrium(BaseModel):
    """One equilibrium (or optimum) of a game.

    Attributes:
        path: The actions actually played, ``{player: {action: value}}``.
        strategy: Full plans of sequential movers, ``{player: {action: {history: value}}}`` or a rule.
        probabilities: For mixed equilibria, ``{player: {action: {option: probability}}}``.
        utilities: Each player's utility under the preference.
        symmetric: Whether every player plays alike.
    """

    path: dict[str, dict[str, ActionValue]]
    strategy: dict[str, dict[str, Any]] | None = None
    probabilities: dict[str, dict[str, dict[str, float]]] | None = None
    utilities: dict[str, float | None] = Field(default_factory=dict)
    symmetric: bool = False

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

    @property
    def answer(self) -> Equilibrium | None:
        """The selected equilibrium, if any."""
        return self.equilibria[self.selected] if self.selected is not None and self.equilibria else None
