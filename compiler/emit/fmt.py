"""Canonical number and JSON formatting for artefacts: the same values always give the same bytes."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any


def plain_number(value: Any) -> Any:
    """A JSON number for an artefact: an int when integral, else a float rounded to 4 decimals.

    Args:
        value: An int, float, Fraction or sympy number; anything else is returned unchanged.
    """
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        value = float(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return value
    r = round(f, 4)
    if r == int(r):
        return int(r)
    return r


def number_text(value: Any) -> str:
    """A number as people read it in a prompt: ``10``, ``1.6``, ``-0.25``.

    Args:
        value: A number (labels are returned as they are).
    """
    v = plain_number(value)
    if isinstance(v, float):
        return f"{v:.4f}".rstrip("0").rstrip(".")
    return str(v)


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
