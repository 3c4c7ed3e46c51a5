"""``run.json``: what ``prefc run`` trained and measured."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from .base import Document, Part
from .results import KappaEstimate

__all__ = ["RunAgent", "RunPairing", "RunPairingTest", "RunRecord", "RunTransfer"]


class RunAgent(Part):
    """One evaluated agent of the run."""

    agent: str
    """The agent's name (the base model's, with ``[preference]`` for an adapter)."""
    adapter: str | None
    """The adapter directory (None for the base model)."""
    results: str
    """Its evaluation directory."""
    parse_rate: float | None
    """Share of answers that parsed."""
    accuracy: dict[str, float | None]
    """Preference label -> accuracy."""
    nearest: str | None
    """The nearest type (None on a tie or without matches)."""
    kappa: KappaEstimate | None
    """The kappa estimate."""
    evaluated: str | None = None
    """What was evaluated (``48 of 200 items``)."""
    label: str | None = None
    """``base`` or the preference the model was trained on."""
    accuracy_by_game: dict[str, dict[str, float]] | None = None
    """Preference label -> game -> accuracy."""
    verdict: dict[str, Any] | None = None
    """The nearest type, the runner-up, the lead over it and (a trained model) the margin over every
    other trained preference, each with its bootstrap interval (``prefc.runtime.verdict``)."""


class RunTransfer(Part):
    """The run's agents evaluated on the rubric of another spec, which no dataset of the run taught
    (``prefc run --transfer``): an application such as ``specs/av_dilemma.pref``."""

    spec: str
    """The transfer spec's name."""
    spec_sha256: str
    """SHA-256 of its source."""
    rubric: dict[str, Any]
    """Its rubric: name and the header's ``selection``."""
    build: str
    """Where it was compiled."""
    agents: list[RunAgent]
    """The run's agents on that rubric, base model first."""


class RunPairing(Part):
    """Two of the run's trained agents playing the repeated market against each other
    (``prefc run --play``): one simulation directory."""

    agents: list[str]
    """The two agents' labels (the preferences they were trained on)."""
    game: str
    """The game played."""
    simulation: str
    """Its simulation directory (``simulation.json``, ``rounds.jsonl``, plots)."""
    rounds: int
    """Rounds played."""
    last: int
    """Rounds (the last ones) averaged."""
    mean_price: float
    """Both firms' mean price over the last rounds."""
    prices: list[float | None]
    """Each firm's mean price over the last rounds."""
    profits: list[float | None]
    """Each firm's mean profit over the last rounds."""
    benchmarks: list[float | None]
    """Each firm's benchmark: the symmetric price of the preference it was trained on."""
    collusion_index: float | None
    """The pair's collusion index (0 at the Nash profit, 1 at the joint-profit one)."""
    parse_rates: list[float | None]
    """Share of each firm's answers that parsed."""


class RunPairingTest(Part):
    """Whether two pairings' mean prices over the last rounds differ (Welch's t-test; consecutive
    rounds are correlated, so the p-value is optimistic)."""

    a: list[str]
    """One pairing's agents."""
    b: list[str]
    """The other's."""
    mean_a: float
    """``a``'s mean price."""
    mean_b: float
    """``b``'s mean price."""
    t: float
    """Welch's t statistic."""
    p: float
    """Its two-sided p-value."""


class RunRecord(Document):
    """``run.json``, written last: its presence marks a finished run."""

    WHAT: ClassVar[str] = "a prefc run record"

    spec: str
    """The spec's name."""
    spec_sha256: str
    """SHA-256 of the spec's source."""
    build: str
    """The build directory."""
    adapters: dict[str, str]
    """Preference label -> adapter directory."""
    seconds: dict[str, float] = Field(default_factory=dict)
    """Wall time of each stage (``compile``, ``train LABEL``, ``eval LABEL``); reused adapters have no
    training entry."""
    agents: list[RunAgent]
    """The evaluated agents, base model first."""
    settings: dict[str, Any] | None = None
    """The run's settings (steps, learning rate, format, seed, items, scoring, threads, ...)."""
    rubric: dict[str, Any] | None = None
    """The rubric evaluated on: its name and its header's ``selection``."""
    transfer: list[RunTransfer] = Field(default_factory=list)
    """The same agents on the rubrics of the ``--transfer`` specs (empty without the option)."""
    pairings: list[RunPairing] = Field(default_factory=list)
    """The trained agents in the repeated market, each against itself and each two against each other
    (empty without ``--play``)."""
    pairing_tests: list[RunPairingTest] = Field(default_factory=list)
    """Welch's test between every two pairings."""
