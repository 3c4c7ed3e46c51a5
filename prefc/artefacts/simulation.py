"""``prefc simulate``'s output: the rows of ``rounds.jsonl`` and the document ``simulation.json``.

``rounds.jsonl`` is written in the version of :class:`SimulationSummary` (``schema_version`` of the
``simulation.json`` beside it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import Document, Part, Row

__all__ = ["AgentMove", "AgentSummary", "Benchmarks", "CollusionIndex", "RoundRecord", "SimulationSummary"]


class AgentMove(Part):
    """One agent's part of a round (a line of ``rounds.jsonl`` holds one per agent)."""

    agent: str
    """The agent's name."""
    price: float
    """The price in the market this round (the held one when the answer failed)."""
    held: bool
    """True when the agent gave no valid price and its previous price was kept."""
    raw: str | None
    """The agent's raw answer (None for theory players)."""
    error: str | None
    """Why the answer was rejected, or None."""
    share: float | None
    """The firm's share (or quantity) from the game's helper, None if it has none."""
    profit: float
    """The firm's material payoff."""


class RoundRecord(Row):
    """One round: ``{"round": t, "agents": [AgentMove, AgentMove]}``."""

    NOUN: ClassVar[str] = "round"

    round: int
    """The round number, from 1."""
    agents: list[AgentMove]
    """Both agents' moves, in play order."""


class AgentSummary(Part):
    """One agent over the run."""

    name: str
    """The agent's name."""
    kind: str
    """``theory`` or ``agent`` (anything that answers prompts)."""
    preference: str | None
    """The theory player's preference label, else None."""
    mean_price_last: float | None
    """Mean price over the last rounds."""
    mean_profit_last: float | None
    """Mean profit over the last rounds."""
    mean_share_last: float | None
    """Mean share over the last rounds (None without a share helper)."""
    failures: int
    """Rounds whose answer could not be read (the price was held)."""
    parse_rate: float | None
    """Share of rounds with a valid answer."""
    benchmark_price: float | None
    """The symmetric equilibrium price of a theory player's type, else None."""


class Benchmarks(Part):
    """Theory benchmarks of the market."""

    nash_price: float
    """The symmetric Nash price (homo economicus)."""
    monopoly_price: float
    """The common price maximising joint profit (= homo moralis at kappa 1)."""
    nash_profit: float
    """A firm's profit when both charge the Nash price."""
    monopoly_profit: float
    """A firm's profit when both charge the joint-profit price."""
    moralis: dict[str, float]
    """kappa (as text, e.g. ``"0.5"``) -> homo moralis symmetric price."""


class CollusionIndex(Part):
    """``(profit - Nash profit) / (monopoly profit - Nash profit)`` over the last rounds."""

    per_agent: list[float | None]
    """One index per agent, in play order."""
    joint: float | None
    """The index of the two firms' mean profit."""


class SimulationSummary(Document):
    """``simulation.json``: the run's settings, each agent's means, the benchmarks."""

    WHAT: ClassVar[str] = "a prefc simulation"

    spec: str
    """The spec's name."""
    spec_sha256: str
    """SHA-256 of the spec's source."""
    game: str
    """The game played."""
    rounds: int
    """Rounds played."""
    rounds_requested: int
    """Rounds asked for (more when interrupted)."""
    last: int
    """Rounds (the last ones) averaged."""
    interrupted: bool
    """Whether the run stopped early (Ctrl-C or a failing agent)."""
    elapsed_s: float
    """Wall time of the rounds."""
    params: dict[str, Any]
    """The run's settings: ``game_params``, ``action``, ``bounds``, ``initial``, ``initial_price``,
    ``history``, ``max_new_tokens``, ``seed``, ``paraphrase``, ``reply``."""
    agents: list[AgentSummary]
    """Both agents, in play order."""
    benchmarks: Benchmarks
    """The theory benchmarks."""
    collusion_index: CollusionIndex
    """The collusion index over the last rounds."""
