"""``prefc eval``'s output: the rows of ``results.jsonl`` and the document ``summary.json``.

``results.jsonl`` is written in the version of :class:`Summary` (``schema_version`` of the
``summary.json`` beside it).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from .base import Document, Part, Row

__all__ = [
    "BinPoint",
    "IncentiveSlope",
    "KappaEstimate",
    "NearestType",
    "PreferenceScore",
    "ProfilePoint",
    "ResultRecord",
    "SlopeSE",
    "Summary",
]


class ResultRecord(Row):
    """One answered rubric item (a line of ``results.jsonl``)."""

    NOUN: ClassVar[str] = "record"

    id: str
    """The rubric item's id."""
    game: str
    """Its game."""
    role: str
    """Its decider's role."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Its parameter values."""
    scoring: Literal["generate", "logprob"] = "generate"
    """How the answer was obtained."""
    raw: str
    """The agent's output (cut at 100,000 characters)."""
    raw_chars: int
    """The output's full length."""
    parsed: dict[str, Any] | None
    """The answer read from the ``ANSWER:`` line, or None when it did not parse."""
    parse_error: str | None
    """Why it did not parse."""
    correct: dict[str, bool]
    """Preference label -> whether the answer matches its target."""
    distance: dict[str, float] = Field(default_factory=dict)
    """Preference label -> normalised distance to its target (numeric actions)."""
    option_index: int | None = None
    """The family option the answer is (or snaps to)."""
    option_probs: list[float] | None = None
    """Log-probability scoring: the normalised probability of each option."""
    expected_correct: dict[str, float] | None = None
    """Log-probability scoring: the probability mass on each preference's correct options."""
    option_texts: list[str] | None = None
    """Log-probability scoring: the answer text scored for each option."""
    option_logprobs: list[float] | None = None
    """Log-probability scoring: each option text's log-probability."""
    agent: str | None = None
    """The agent's name."""


class PreferenceScore(Part):
    """How well the answers match one preference's targets."""

    label: str
    """The preference label."""
    n: int
    """Items with a target for it (unparsed answers included)."""
    accuracy: float | None
    """Share of those answered correctly (unparsed answers count as wrong)."""
    expected_accuracy: float | None
    """The same with soft answers counted by their probability of being correct."""
    accuracy_by_game: dict[str, float]
    """Accuracy per game."""
    mean_distance: float | None
    """Mean normalised distance over parsed numeric answers."""
    n_numeric: int
    """Answers the distance averages over."""


class NearestType(Part):
    """The preference the answers match best, when one leads."""

    label: str
    """The preference with the highest accuracy."""
    accuracy: float | None
    """Its accuracy."""
    mean_distance: float | None
    """Its mean distance."""
    runner_up: str | None
    """The next preference."""
    margin: float | None
    """The accuracy lead over the runner-up (positive: a tie declares no nearest type)."""
    margin_se: float | None = None
    """Standard error of the margin (paired over the items both preferences score)."""


class ProfilePoint(Part):
    """One point of the kappa profile log-likelihood (precision maximised out)."""

    kappa: float
    """The parameter value."""
    loglik: float
    """The profile log-likelihood there (its upper envelope where it jumps)."""


class KappaEstimate(Part):
    """Maximum-likelihood estimate of the family parameter under logit choice."""

    family: str
    """The family's preference name."""
    param: str
    """The parameter estimated."""
    estimate: float
    """The maximum-likelihood value."""
    precision: float
    """The logit precision lambda at the estimate."""
    precision_at_bound: bool
    """Whether lambda reached its bound (the answers are best replies at the estimate: deterministic play)."""
    ci_low: float
    """Lower end of the 95% interval."""
    ci_high: float
    """Upper end of the 95% interval."""
    ci_low_at_bound: bool
    """Whether the interval reaches the grid's lower end."""
    ci_high_at_bound: bool
    """Whether the interval reaches the grid's upper end."""
    loglik: float
    """The maximum log-likelihood."""
    loglik_uniform: float
    """The log-likelihood of uniformly random answers, for comparison."""
    n_used: int
    """Items in the likelihood."""
    n_soft: int
    """Of those, items with a choice distribution (log-probability scoring)."""
    n_unparsed: int
    """Items left out because the answer did not parse."""
    n_unmatched: int
    """Items left out because they have no usable family."""
    grid: list[float]
    """The family grid."""
    profile: list[ProfilePoint]
    """The profile log-likelihood along the grid's range."""


class SlopeSE(Part):
    """An OLS slope and its standard error (None where it cannot be estimated)."""

    slope: float | None
    """The slope."""
    se: float | None
    """Its standard error."""


class BinPoint(Part):
    """Mean choice of the agent and of each preference's targets at one parameter value."""

    x: float
    """The parameter value (a bin centre for many distinct values)."""
    n: int
    """Items there."""
    agent: float | None
    """The agent's mean choice."""
    targets: dict[str, float]
    """Each preference's mean target."""


class IncentiveSlope(Part):
    """Sensitivity of the choices in one game/role/action to one parameter."""

    game: str
    """The game."""
    role: str
    """The role."""
    action: str
    """The action (the first of the item's schema)."""
    param: str
    """The parameter."""
    kind: str
    """The action's kind."""
    method: Literal["joint", "single"]
    """All varying parameters regressed jointly, or this one alone."""
    n: int
    """Answers in the regression."""
    agent: SlopeSE
    """The agent's slope."""
    targets: dict[str, SlopeSE]
    """Each preference's slope over the same items."""
    points: list[BinPoint]
    """Means per parameter value, for the plot."""


class Summary(Document):
    """``summary.json``: everything reported about one evaluation."""

    WHAT: ClassVar[str] = "an evaluation summary"

    agent: str | None = None
    """The agent's name."""
    trained: str | None = None
    """For a ``local:`` agent trained by ``prefc train``: the adapter (or fully fine-tuned model)
    directory, absolute; its ``prefc_train.json`` holds the training configuration."""
    spec: str | None = None
    """The spec the rubric was compiled from."""
    spec_sha256: str | None = None
    """Its SHA-256."""
    rubric: str | None = None
    """The rubric's name."""
    scoring: str = "generate"
    """``generate`` or ``logprob``."""
    n_items: int
    """Items evaluated."""
    n_rubric_items: int | None = None
    """Items in the rubric (more than ``n_items`` for a subset)."""
    selection: Literal["all", "stratified"] = "all"
    """How the evaluated items were chosen: the whole rubric, or a subset taken round-robin over
    (game, role) in file order."""
    n_parsed: int
    """Answers that parsed."""
    parse_rate: float | None
    """``n_parsed / n_items``."""
    tolerance: float
    """The rubric's tolerance."""
    preferences: list[PreferenceScore]
    """Scores against each compared preference."""
    nearest: NearestType | None
    """The nearest type; None on a tie or when no answer matched any preference."""
    nearest_note: str | None = None
    """Why there is no nearest type."""
    kappa: KappaEstimate | None
    """The family parameter estimate (None without a family or usable answers)."""
    incentives: list[IncentiveSlope]
    """Incentive slopes."""
    conventions: str = ""
    """How everything above is computed, in words."""

    @property
    def evaluated(self) -> str:
        """What was evaluated, in words: ``all 200 items`` or ``48 of 200 items``."""
        total = self.n_rubric_items
        if total is None or total == self.n_items:
            return f"all {self.n_items} items" if total is not None else f"{self.n_items} items"
        return f"{self.n_items} of {total} items"
