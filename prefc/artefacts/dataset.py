"""SFT dataset artefacts: the rows of ``<dataset>/train.jsonl`` (``val.jsonl``, ``test.jsonl``) and
the header ``<dataset>/dataset.json``."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from .base import ActionValue, Document, Number, Part, Row

__all__ = [
    "DatasetHeader",
    "DatasetMeta",
    "DatasetRow",
    "Holdout",
    "Message",
    "OpenAIRow",
    "RepeatSetting",
    "RoundContext",
    "HistoryRound",
]


class Message(Part):
    """One chat message, as in the OpenAI and TRL conversational formats."""

    role: Literal["system", "user", "assistant"]
    """Who speaks."""
    content: str
    """What is said."""


class OpenAIRow(Row):
    """One line of an OpenAI fine-tuning file (``<dataset>/openai/<preference>.<split>.jsonl``): the
    messages alone, no other key (the published format; ``compiler/emit/openai_jsonl.py`` checks
    its finer rules)."""

    messages: list[Message]
    """System, user and assistant messages."""


class HistoryRound(Part):
    """One earlier round of a repeated market as the row's player saw it."""

    round: int = Field(ge=1)
    """The round's number."""
    own: float
    """The player's action."""
    rival: float
    """The rival's action."""


class RoundContext(Part):
    """Where a row of a repeated dataset (``repeat N rounds``) stands in the repeated market."""

    round: int = Field(ge=1)
    """The round asked (1-based)."""
    history: list[HistoryRound]
    """The earlier rounds the prompt shows, oldest first (the completion answers the last rival action)."""


class RepeatSetting(Part):
    """A repeated dataset's ``repeat N rounds history H``."""

    rounds: int = Field(ge=2)
    """Rounds of the repeated market."""
    history: int = Field(ge=1)
    """Rounds of history each row shows (the simulation's ``--history`` to play with them)."""


class DatasetMeta(Part):
    """Where a dataset row comes from and what it answers (ignored by trainers)."""

    spec: str
    """The spec's name."""
    spec_sha256: str
    """SHA-256 of the spec's source."""
    dataset: str
    """The dataset block's name."""
    preference: str
    """The preference label the completion answers for (``moralis(kappa=0.5)``)."""
    preference_name: str
    """The preference's name without values (``moralis``)."""
    preference_params: dict[str, Number]
    """The preference's parameter values."""
    game: str
    """The game."""
    role: str
    """The decider's role."""
    params: dict[str, Number]
    """The game's parameter values at this point."""
    seen: dict[str, ActionValue] | None = None
    """For a later mover: the earlier moves it observed."""
    answer: dict[str, ActionValue]
    """The answer the completion ends with, per action."""
    alternatives: list[dict[str, ActionValue]] | None = None
    """Other answers exactly as good (ties; the answer is the lowest option)."""
    split: Literal["train", "val", "test"]
    """The file the row is in."""
    paraphrase: int = Field(ge=0)
    """The prompt's wording number."""
    repeated: RoundContext | None = None
    """For a repeated dataset's row: the round and the history its prompt shows."""


class DatasetRow(Row):
    """One SFT row: TRL's conversational prompt-completion form (``--format trl``) or one
    ``messages`` list (``--format messages``), with its ``meta``."""

    prompt: list[Message] | None = None
    """``trl`` rows: the system and user messages."""
    completion: list[Message] | None = None
    """``trl`` rows: the assistant's reply, a reasoning trace ending in ``ANSWER: {json}``."""
    messages: list[Message] | None = None
    """``messages`` rows: system, user and assistant messages in one list."""
    meta: DatasetMeta
    """Provenance and the answer."""

    @model_validator(mode="after")
    def _one_form(self) -> DatasetRow:
        trl = self.prompt is not None or self.completion is not None
        if trl and self.messages is not None:
            raise ValueError("a row has either prompt and completion or messages, not both")
        if trl and (not self.prompt or not self.completion):
            raise ValueError("a prompt-completion row needs a non-empty prompt and completion")
        if not trl and not self.messages:
            raise ValueError("a row needs prompt and completion, or messages")
        return self

    @property
    def answer_turns(self) -> list[Message]:
        """The assistant turns a model learns to write."""
        if self.completion is not None:
            return list(self.completion)
        return [m for m in self.messages or [] if m.role == "assistant"][-1:]


class Holdout(Part):
    """What a dataset keeps out of training and puts in ``test.jsonl``."""

    games: list[str]
    """Games held out entirely."""
    paraphrases: list[int]
    """Wordings held out."""
    where: list[str]
    """Conditions on the parameters, as written in the spec."""


class DatasetHeader(Document):
    """``<dataset>/dataset.json``: how a dataset block was built and how many rows it has."""

    WHAT: ClassVar[str] = "a prefc dataset header"
    STYLE: ClassVar[Literal["sorted", "ordered"]] = "sorted"

    spec: str
    """The spec's name."""
    spec_sha256: str
    """SHA-256 of the spec's source."""
    dataset: str
    """The block's name."""
    format: Literal["trl", "messages", "openai"]
    """The rows' form (``openai``: ``messages`` rows plus one OpenAI fine-tuning file per preference)."""
    seed: int
    """The seed of every random draw."""
    preferences: list[str]
    """The preference labels, one completion each per prompt."""
    games: list[str]
    """The games sampled."""
    paraphrases: int = Field(ge=1)
    """Wordings used."""
    split: dict[str, Number]
    """The split fractions (``{"train": 0.9, "val": 0.1}``)."""
    holdout: Holdout
    """What is held out."""
    counts: dict[str, int]
    """Rows per split file."""
    skipped_points: dict[str, int]
    """``game/preference`` -> parameter points skipped (only mixed equilibria)."""
    repeat: RepeatSetting | None = None
    """A repeated dataset's rounds and history (rows are rounds of the repeated market)."""
