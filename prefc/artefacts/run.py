"""``run.json``: what ``prefc run`` trained and measured."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from .base import Document, Part
from .results import KappaEstimate

__all__ = ["RunAgent", "RunRecord"]


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
