"""Eval rubric artefacts: the items of ``<rubric>.jsonl`` and the header ``<rubric>.json``.

The models describe what the compiler writes and what ``prefc eval`` accepts; a hand-written rubric
needs only ``id``, ``game``, ``prompt``, ``schema`` and ``targets`` per item, and ``spec_sha256``
and ``preferences`` in its header.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from .base import ActionValue, Document, Number, Part, Row
from .dataset import Message

__all__ = [
    "AnswerSpec",
    "FamilyHeader",
    "ItemFamily",
    "ItemMeta",
    "PairCount",
    "RubricHeader",
    "RubricItem",
    "RubricSelection",
]


class AnswerSpec(Part):
    """How one action is answered: a choice among labels, an integer or a number in a range."""

    kind: Literal["choice", "integer", "number"]
    """The answer's kind."""
    options: list[str] | None = None
    """``choice``: the labels."""
    min: Number | None = None
    """``integer`` and ``number``: the smallest answer."""
    max: Number | None = None
    """``integer`` and ``number``: the largest answer."""
    step: Number | None = None
    """``integer``: the spacing of the allowed answers from ``min`` (1 if absent)."""

    @model_validator(mode="after")
    def _complete(self) -> AnswerSpec:
        if self.kind == "choice" and not self.options:
            raise ValueError("a choice needs its options")
        return self


class ItemFamily(Part):
    """The decider's utility of each option along a preference family's parameter grid, for the
    kappa estimator and logit agents."""

    options: list[dict[str, ActionValue]] = Field(min_length=1)
    """The discrete answers scored (a choice action's options, 11 values of a continuous one)."""
    utilities: list[list[float | None]]
    """One row per grid value of the header's ``family.grid``, one utility per option; ``null``
    where nothing determines it (no equilibrium to take it against)."""
    grid: list[float] | None = None
    """The parameter grid, when the header has none (hand-written rubrics)."""

    @field_validator("utilities", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
            raise ValueError("family utilities must be rows of numbers")
        for row in value:
            for x in row:
                if x is not None and (isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x)):
                    raise ValueError("family utilities must be finite numbers (or null where there is no solution)")
        return value

    @model_validator(mode="after")
    def _rows(self) -> ItemFamily:
        if not all(len(r) == len(self.options) for r in self.utilities):
            raise ValueError(f"family utilities must be rows of {len(self.options)} numbers")
        return self


class ItemMeta(Part):
    """Where an item comes from."""

    spec: str | None = None
    """The spec's name."""
    spec_sha256: str | None = None
    """SHA-256 of the spec's source (must match the header's)."""
    rubric: str | None = None
    """The rubric block's name."""
    paraphrase: int | None = None
    """The prompt's wording number."""
    varied: list[str] | None = None
    """The game's parameters that vary across items."""


class RubricItem(Row):
    """One eval item: a prompt, how it is answered, and every compared preference's target."""

    NOUN: ClassVar[str] = "item"

    id: str
    """Unique within the rubric (``eval-0001``)."""
    game: str
    """The game."""
    role: str | None = None
    """The decider's role."""
    params: dict[str, ActionValue] = Field(default_factory=dict)
    """The game's parameter values at this point."""
    prompt: list[Message] = Field(min_length=1)
    """The system and user messages."""
    answer_schema: dict[str, AnswerSpec] = Field(alias="schema", min_length=1)
    """Action name -> how it is answered."""
    targets: dict[str, dict[str, ActionValue | list[dict[str, ActionValue]]]]
    """Preference label -> its answer; ties add ``"alternatives": [{...}]``."""
    tolerance: Number | None = None
    """Allowed error of number actions, as a fraction of their range (the header's if absent)."""
    family: ItemFamily | None = None
    """Option utilities along the header's family grid."""
    seen: dict[str, ActionValue] | None = None
    """For a later mover: the earlier moves it observed."""
    meta: ItemMeta | None = None
    """Provenance."""


class FamilyHeader(Part):
    """The one-parameter preference family a rubric compares (moralis over kappa)."""

    name: str
    """The preference's name."""
    param: str
    """The parameter that varies."""
    grid: list[Number] = Field(min_length=2)
    """Its values, ascending (the domain in 20 steps), one utility row per value in every item."""


class PairCount(Part):
    """How many of a rubric's items tell two compared preferences apart."""

    preferences: list[str] = Field(min_length=2, max_length=2)
    """The two preference labels."""
    differ: int
    """Items where their targets differ (no answer is correct for both)."""


class RubricSelection(Part):
    """The ``select`` rule of a rubric and the share of candidate prompts that discriminate."""

    rule: Literal["all", "discriminating"]
    """``all``: any situation; ``discriminating``: only where two compared preferences' targets differ."""
    candidates: int
    """Prompts the rubric could ask (dataset prompts excluded)."""
    discriminating: int
    """Of them, those where the targets of at least two compared preferences differ."""
    share: float
    """``discriminating / candidates``."""
    pairs: list[PairCount] = Field(default_factory=list)
    """Per pair of compared preferences, the rubric's items that tell them apart."""


class RubricHeader(Document):
    """``<rubric>.json``: the compared preferences and how items are scored."""

    WHAT: ClassVar[str] = "a prefc rubric header"
    STYLE: ClassVar[Literal["sorted", "ordered"]] = "sorted"

    spec: str | None = None
    """The spec's name."""
    spec_sha256: str
    """SHA-256 of the spec's source."""
    rubric: str | None = None
    """The block's name."""
    preferences: list[str] = Field(min_length=1)
    """The compared preference labels, in report order."""
    tolerance: Number = 0.05
    """Allowed error of number actions, as a fraction of their range."""
    games: list[str] = Field(default_factory=list)
    """The games sampled."""
    items: int | None = None
    """How many items the rubric has."""
    seed: int | None = None
    """The seed of every random draw."""
    excluded_dataset_prompts: int | None = None
    """Prompts of the spec's datasets that items were kept from asking."""
    selection: RubricSelection | None = None
    """Which situations items may ask, and how many of them tell the preferences apart."""
    family: FamilyHeader | None = None
    """The family the kappa estimate runs over (none: no estimate)."""
