"""Per-item scoring: is an answer correct for a preference's target, how far is it, which family
option is it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeGuard

import numpy as np
from pydantic import BaseModel, Field

__all__ = [
    "Item",
    "ItemOutcome",
    "acceptable_answers",
    "answer_distance",
    "answer_matches",
    "choice_options",
    "is_number",
    "score_item",
    "snap_to_option",
]

Item = Mapping[str, Any]
"""A rubric item as read from ``<rubric>.jsonl`` (validated against :class:`prefc.artefacts.RubricItem`)."""


class ItemOutcome(BaseModel):
    """One rubric item scored: the answer, its correctness and distance per preference."""

    id: str
    game: str
    role: str
    params: dict[str, Any] = Field(default_factory=dict)
    scoring: Literal["generate", "logprob"] = "generate"
    ok: bool
    value: dict[str, Any] | None = None
    error: str | None = None
    correct: dict[str, bool] = Field(default_factory=dict)
    expected_correct: dict[str, float] | None = None
    distance: dict[str, float] = Field(default_factory=dict)
    option_probs: list[float] | None = None
    option_index: int | None = None


def is_number(x: object) -> TypeGuard[int | float]:
    """Whether a value is a finite number (not a bool).

    Args:
        x: Any value.
    """
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(float(x))


def acceptable_answers(target: Mapping[str, Any]) -> list[dict[str, Any]]:
    """All answers a target accepts: the target itself and its ``alternatives``.

    Args:
        target: A target object such as ``{"move": "defect", "alternatives": [{"move": "cooperate"}]}``.
    """
    main = {k: v for k, v in target.items() if k != "alternatives"}
    alts = target.get("alternatives") or []
    return [main, *[dict(a) for a in alts if isinstance(a, Mapping)]]


def _range(spec: Mapping[str, Any]) -> float:
    lo, hi = spec.get("min"), spec.get("max")
    if is_number(lo) and is_number(hi) and float(hi) > float(lo):
        return float(hi) - float(lo)
    return 1.0


def _action_match(kind: str, spec: Mapping[str, Any], answer: object, target: object, tolerance: float) -> bool:
    if kind == "number":
        if not (is_number(answer) and is_number(target)):
            return False
        return abs(float(answer) - float(target)) <= tolerance * _range(spec) + 1e-12
    if kind == "integer":
        return is_number(answer) and is_number(target) and float(answer) == float(target)
    return answer == target


def answer_matches(
    value: Mapping[str, Any], target: Mapping[str, Any], schema: Mapping[str, Any], *, tolerance: float
) -> bool:
    """Whether an answer is correct for one target (any of its alternatives, every action).

    Args:
        value: The parsed answer, one entry per action name.
        target: The preference's target, possibly with ``alternatives``.
        schema: The item's answer schema (action name -> kind, options or bounds).
        tolerance: Allowed error for number actions, as a fraction of the action's range.
    """
    for accepted in acceptable_answers(target):
        if all(
            name in value
            and name in accepted
            and _action_match(str(spec.get("kind")), spec, value[name], accepted[name], tolerance)
            for name, spec in schema.items()
        ):
            return True
    return False


def answer_distance(value: Mapping[str, Any], target: Mapping[str, Any], schema: Mapping[str, Any]) -> float | None:
    """Mean normalised distance ``|answer - target| / range`` over the numeric actions.

    The smallest value over the target and its alternatives. None when the schema has no numeric
    action or the answer lacks one.

    Args:
        value: The parsed answer.
        target: The preference's target, possibly with ``alternatives``.
        schema: The item's answer schema.
    """
    numeric = [(n, s) for n, s in schema.items() if s.get("kind") in ("integer", "number")]
    if not numeric or not all(is_number(value.get(n)) for n, _ in numeric):
        return None
    best: float | None = None
    for accepted in acceptable_answers(target):
        if not all(is_number(accepted.get(n)) for n, _ in numeric):
            continue
        d = sum(abs(float(value[n]) - float(accepted[n])) / _range(s) for n, s in numeric) / len(numeric)
        best = d if best is None else min(best, d)
    return best


def snap_to_option(
    value: Mapping[str, Any], options: Sequence[Mapping[str, Any]], schema: Mapping[str, Any]
) -> int | None:
    """Index of the family option nearest to an answer (None when no option has its choice labels).

    Choice actions must match exactly; numeric actions are compared by normalised distance.

    Args:
        value: The parsed answer.
        options: The item's ``family.options``.
        schema: The item's answer schema.
    """
    best, best_d = None, math.inf
    for j, opt in enumerate(options):
        d = 0.0
        for name, spec in schema.items():
            a, o = value.get(name), opt.get(name)
            if spec.get("kind") in ("integer", "number"):
                if not (is_number(a) and is_number(o)):
                    d = math.inf
                    break
                d += abs(float(a) - float(o)) / _range(spec)
            elif a != o:
                d = math.inf
                break
        if d < best_d:
            best, best_d = j, d
    return best


def choice_options(item: Item) -> list[dict[str, Any]]:
    """The discrete answers an item is scored over: its ``family.options``, else (one choice action)
    the schema's labels.

    Args:
        item: A rubric item.
    """
    options = (item.get("family") or {}).get("options")
    if options:
        return [dict(o) for o in options]
    schema = item.get("schema") or {}
    if len(schema) == 1:
        ((name, spec),) = schema.items()
        if spec.get("kind") == "choice":
            return [{name: label} for label in spec.get("options") or []]
    return []


def score_item(
    item: Item,
    *,
    value: Mapping[str, Any] | None,
    error: str | None = None,
    option_probs: Sequence[float] | None = None,
    tolerance: float = 0.05,
    scoring: Literal["generate", "logprob"] = "generate",
) -> ItemOutcome:
    """Score one answer against every preference's target.

    Args:
        item: The rubric item (``id``, ``game``, ``role``, ``params``, ``schema``, ``targets``,
            optionally ``family`` and ``tolerance``).
        value: The parsed answer, or None when the output did not parse.
        error: Why the output did not parse.
        option_probs: The agent's probability of each :func:`choice_options` entry (soft
            scoring); the answer then is the most probable option.
        tolerance: Default tolerance for number actions when the item has none.
        scoring: How the answer was obtained.
    """
    schema: Mapping[str, Any] = item.get("schema") or {}
    targets: Mapping[str, Any] = item.get("targets") or {}
    tol = float(item["tolerance"]) if item.get("tolerance") is not None else float(tolerance)
    options = choice_options(item)
    probs: list[float] | None = None
    option_index: int | None = None
    expected: dict[str, float] | None = None
    if option_probs is not None:
        if len(option_probs) != len(options) or not options:
            raise ValueError(f"item {item.get('id')}: {len(option_probs)} probabilities for {len(options)} options")
        probs = [float(p) for p in option_probs]
        option_index = int(np.argmax(probs))
        value = dict(options[option_index])
        error = None
        expected = {
            label: float(
                sum(p for p, opt in zip(probs, options, strict=True) if answer_matches(opt, t, schema, tolerance=tol))
            )
            for label, t in targets.items()
        }
    ok = value is not None
    correct: dict[str, bool] = {}
    distance: dict[str, float] = {}
    if value is not None:
        for label, t in targets.items():
            correct[label] = answer_matches(value, t, schema, tolerance=tol)
            d = answer_distance(value, t, schema)
            if d is not None:
                distance[label] = d
        if option_index is None and options:
            option_index = snap_to_option(value, options, schema)
    return ItemOutcome(
        id=str(item.get("id")),
        game=str(item.get("game")),
        role=str(item.get("role")),
        params=dict(item.get("params") or {}),
        scoring=scoring,
        ok=ok,
        value=dict(value) if value is not None else None,
        error=None if ok else (error or "unparsed"),
        correct=correct,
        expected_correct=expected,
        distance=distance,
        option_probs=probs,
        option_index=option_index,
    )
