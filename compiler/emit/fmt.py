"""Canonical JSON for artefacts: sorted keys, numbers through :func:`prefc.numbers.plain_number`; the
same values always give the same bytes."""

from __future__ import annotations

import json
from typing import Any

from prefc.numbers import plain_number


def canonical(value: Any) -> Any:
    """Recursively normalise numbers (see :func:`plain_number`) inside dicts and lists.

    Args:
        value: A JSON-like value.
    """
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return plain_number(value)


def dumps(value: Any) -> str:
    """Compact JSON with sorted keys (one artefact line).

    Args:
        value: A JSON-like value, already canonical.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def answer_json(answer: dict[str, Any]) -> str:
    """The JSON after ``ANSWER:``: compact, keys in the action order given.

    Args:
        answer: Action name -> value.
    """
    return json.dumps(canonical(answer), separators=(", ", ": "), ensure_ascii=False)
