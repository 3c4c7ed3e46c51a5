"""The base of every artefact model: strict fields, a schema version, one way to write the text.

Two kinds of artefacts exist. A *document* is one JSON object per file (``manifest.json``,
``summary.json``, ...): it carries its ``schema_version`` as a field. A *row* is one line of a
JSONL file (``solutions.jsonl``, dataset rows, rubric items, ``results.jsonl``, ``rounds.jsonl``):
its schema version is a property of the model, recorded once per file (with the model's name) by
the document written with it (``manifest.json`` for the files of a build, ``summary.json`` for ``results.jsonl``,
``simulation.json`` for ``rounds.jsonl``), so rows stay as small as they are.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

__all__ = [
    "ActionValue",
    "Document",
    "Number",
    "Part",
    "Row",
]


def _finite_number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _action_value(value: object) -> object:
    if isinstance(value, str):
        return value
    return _finite_number(value)


Number = Annotated[int | float, BeforeValidator(_finite_number)]
"""A finite JSON number, kept an int when it is one (artefacts write integral values as ints)."""

ActionValue = Annotated[str | int | float, BeforeValidator(_action_value)]
"""An action's value: an option label or a finite number."""


class Part(BaseModel):
    """A nested object of an artefact: unknown fields are errors, fields are documented."""

    model_config = ConfigDict(
        extra="forbid", use_attribute_docstrings=True, protected_namespaces=(), allow_inf_nan=False
    )


class Row(Part):
    """One line of a JSONL artefact.

    Class attributes:
        SCHEMA_VERSION: The version of this row format.
        NOUN: How messages name one row (``item``, ``row``).
    """

    SCHEMA_VERSION: ClassVar[int] = 1
    NOUN: ClassVar[str] = "row"


class Document(Part):
    """A JSON document artefact (one object per file) with its schema version.

    Class attributes:
        SCHEMA_VERSION: The newest version this model reads and writes.
        WHAT: How messages name the document (``a prefc build manifest``).
        STYLE: ``sorted`` (keys sorted, ASCII: compiled artefacts, byte-stable) or ``ordered``
            (the model's field order: the runtime's result files).
    """

    SCHEMA_VERSION: ClassVar[int] = 1
    WHAT: ClassVar[str] = "a prefc artefact"
    STYLE: ClassVar[Literal["sorted", "ordered"]] = "ordered"

    schema_version: int = Field(default=1, ge=1)
    """The artefact format's version. Files written before artefacts were versioned have none and
    read as version 1."""

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value > cls.SCHEMA_VERSION:
            raise ValueError(
                f"schema version {value} is newer than this prefc reads ({cls.SCHEMA_VERSION}); upgrade prefc"
            )
        return value

    def to_text(self) -> str:
        """The file's text: indented JSON and a final newline, in the model's :attr:`STYLE`."""
        if self.STYLE == "sorted":
            return json.dumps(self.to_data(), indent=2, sort_keys=True) + "\n"
        return self.model_dump_json(indent=2, by_alias=True) + "\n"

    def to_data(self) -> dict[str, Any]:
        """The document as plain JSON data (what :meth:`to_text` writes)."""
        return self.model_dump(mode="json", by_alias=True)
