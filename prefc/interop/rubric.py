"""The public interface for running a prefc rubric in another tool (Inspect, lm-eval, your own loop).

A tool that asks the model itself needs four things, all here and all stable:

* :func:`load_rubric` reads ``<rubric>.jsonl`` and its header; :class:`Rubric` has the items, the
  compared ``preferences``, the ``tolerance`` and the kappa ``family``;
* :func:`prompt_messages` gives an item's chat messages (system, user);
* :func:`score_answer` reads the model's text (the last ``ANSWER: {json}`` line, checked against
  the item's schema) and scores it against the target of *every* preference, with the rubric's
  tolerance: an :class:`ItemOutcome` (``ok``, ``value``, ``error``, ``correct`` and ``distance``
  per preference label);
* :func:`summarize` turns the outcomes into a :class:`Summary`: parse rate, accuracy per
  preference, the nearest type with its margin, and kappa by maximum likelihood with its 95%
  interval (the conventions are in ``Summary.conventions`` and docs/runtime.md).

:func:`reference_answer` is the text a preference would answer (its ``ANSWER:`` line), for tests
and for showing targets. Outcomes round-trip through JSON (``outcome.model_dump_json()`` and
:func:`outcome_from_json`), so a tool may score in one process and summarise in another.

Example::

    from prefc.interop.rubric import load_rubric, prompt_messages, score_answer, summarize

    rubric = load_rubric("build/paper/eval.jsonl")
    outcomes = [score_answer(item, my_model(prompt_messages(item)), rubric=rubric) for item in rubric.items]
    summary = summarize(rubric, rubric.items, outcomes)
    print(summary.nearest.label if summary.nearest else "no type", summary.kappa)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prefc.runtime.answers import format_answer, parse_answer
from prefc.runtime.evaluate import Rubric, RubricError, load_rubric
from prefc.runtime.score import ItemOutcome, Summary, score_item
from prefc.runtime.score import summarize as _summarize

__all__ = [
    "ItemOutcome",
    "Rubric",
    "RubricError",
    "Summary",
    "load_rubric",
    "outcome_from_json",
    "prompt_messages",
    "reference_answer",
    "score_answer",
    "summarize",
]


def prompt_messages(item: Mapping[str, Any]) -> list[dict[str, str]]:
    """The chat messages of a rubric item (a system and a user message).

    Args:
        item: A rubric item.
    """
    return [{"role": str(m["role"]), "content": str(m["content"])} for m in item["prompt"]]


def score_answer(
    item: Mapping[str, Any], text: str, *, rubric: Rubric | None = None, tolerance: float | None = None
) -> ItemOutcome:
    """Read a model's answer to an item and score it against every preference's target.

    Args:
        item: A rubric item.
        text: The model's whole reply; its last ``ANSWER: {json}`` line is the answer.
        rubric: The item's rubric, for its tolerance (an item's own ``tolerance`` wins).
        tolerance: The tolerance when no rubric is given (default 0.05): how far a number may lie
            from the target, as a fraction of the action's range.

    Returns:
        The outcome: ``ok`` (the answer parsed), ``value``, ``error`` (why it did not parse),
        ``correct`` and ``distance`` per preference label.
    """
    tol = rubric.tolerance if rubric is not None else (0.05 if tolerance is None else float(tolerance))
    parsed = parse_answer(str(text), item["schema"])
    return score_item(item, value=parsed.value if parsed.ok else None, error=parsed.error, tolerance=tol)


def summarize(
    rubric: Rubric, items: Sequence[Mapping[str, Any]], outcomes: Sequence[ItemOutcome], *, agent: str | None = None
) -> Summary:
    """Parse rate, accuracy per preference, nearest type and kappa of scored answers.

    Args:
        rubric: The rubric the items come from (preferences, tolerance, family).
        items: The items answered (any subset of the rubric), aligned with ``outcomes``.
        outcomes: Their outcomes from :func:`score_answer`.
        agent: The answering model's name, for the summary.
    """
    return _summarize(
        items,
        outcomes,
        labels=rubric.preferences,
        tolerance=rubric.tolerance,
        family=rubric.family,
        agent=agent,
        header=rubric.header,
    )


def reference_answer(item: Mapping[str, Any], preference: str) -> str:
    """The ``ANSWER:`` line a preference gives to an item (its target).

    Args:
        item: A rubric item.
        preference: One of the item's target labels, e.g. ``moralis(kappa=0.5)``.

    Raises:
        KeyError: The item has no target for that preference (the message lists those it has).
    """
    targets = item["targets"]
    if preference not in targets:
        raise KeyError(f"item {item.get('id')!r} has no target for {preference!r}; it has {', '.join(targets)}")
    target = {k: v for k, v in targets[preference].items() if k != "alternatives"}
    return format_answer(target, schema=item["schema"])


def outcome_from_json(text: str) -> ItemOutcome:
    """An outcome back from ``outcome.model_dump_json()``.

    Args:
        text: The JSON text.
    """
    return ItemOutcome.model_validate_json(text)
