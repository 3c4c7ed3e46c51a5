"""prefc in Inspect AI: the task ``prefc/rubric`` and the scorer ``prefc/preferences``.

Inspect finds them through prefc's ``inspect_ai`` entry point (``pip install 'prefc[inspect]'``)::

    inspect eval prefc/rubric -T rubric=build/paper/eval.jsonl --model openai/gpt-4o-mini
    inspect view

Each rubric item is a sample (its system and user messages; the target is the first preference's
answer line). The scorer reads the reply's ``ANSWER: {json}`` line and scores it against the
target of *every* preference with the rubric's tolerance; a sample's score is a dict of 1/0 per
preference label plus ``parsed``. Metrics:

* ``accuracy`` — one value per preference (accuracy against its targets; unparsed answers count
  as wrong, as in ``prefc eval``) and ``parsed`` (the parse rate);
* ``nearest_type`` — the preference the answers match best, shown as its label with the accuracy
  margin over the runner-up (``none`` when nothing parsed or matched);
* ``kappa`` — the maximum-likelihood kappa of the rubric's family with its 95% interval
  (``estimate``, ``ci_low``, ``ci_high``; NaN where the answers carry no information).

Everything is computed by :mod:`prefc.interop.rubric`, the same code as ``prefc eval``.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, GenerateConfig
from inspect_ai.scorer import Score, Target, metric, scorer
from inspect_ai.solver import TaskState, generate

from prefc.interop.rubric import (
    ItemOutcome,
    Rubric,
    load_rubric,
    outcome_from_json,
    reference_answer,
    score_answer,
    summarize,
)

__all__ = ["rubric", "preferences", "accuracy", "nearest_type", "kappa"]

PARSED = "parsed"


@functools.lru_cache(maxsize=8)
def _load(path: str) -> Rubric:
    return load_rubric(path)


def _messages(item: dict[str, Any]) -> list[Any]:
    kinds = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
    return [kinds[m["role"]](content=m["content"]) for m in item["prompt"]]


def _summary(scores: list[Any]):
    paths = {(s.score.metadata or {}).get("rubric") for s in scores} - {None}
    if len(paths) != 1:
        return None
    rub = _load(paths.pop())
    by_id = {str(item["id"]): item for item in rub.items}
    items, outcomes = [], []
    for sample_score in scores:
        meta = sample_score.score.metadata or {}
        if "outcome" not in meta:
            continue
        outcome: ItemOutcome = outcome_from_json(meta["outcome"])
        items.append(by_id[outcome.id])
        outcomes.append(outcome)
    return summarize(rub, items, outcomes) if outcomes else None


@metric
def accuracy():
    """Accuracy against each preference's targets, and the parse rate."""

    def compute(scores: list[Any]) -> dict[str, float]:
        if not scores:
            return {}
        keys = [k for k in scores[0].score.value if k != PARSED]
        out = {k: sum(float(s.score.value.get(k, 0.0)) for s in scores) / len(scores) for k in keys}
        out[PARSED] = sum(float(s.score.value.get(PARSED, 0.0)) for s in scores) / len(scores)
        return out

    return compute


@metric
def nearest_type():
    """The preference the answers match best, as ``{label: margin over the runner-up}``."""

    def compute(scores: list[Any]) -> dict[str, float]:
        summary = _summary(scores)
        nearest = summary.nearest if summary is not None else None
        if nearest is None:
            return {"none": 0.0}
        return {nearest.label: float(nearest.margin) if nearest.margin is not None else 0.0}

    return compute


@metric
def kappa():
    """The maximum-likelihood kappa with its 95% interval (``estimate``, ``ci_low``, ``ci_high``)."""

    def compute(scores: list[Any]) -> dict[str, float]:
        summary = _summary(scores)
        est = summary.kappa if summary is not None else None
        if est is None:
            return {"estimate": math.nan, "ci_low": math.nan, "ci_high": math.nan}
        return {"estimate": est.estimate, "ci_low": est.ci_low, "ci_high": est.ci_high}

    return compute


@scorer(metrics=[accuracy(), nearest_type(), kappa()])
def preferences(rubric: str):
    """Score each answer against the target of every preference of a prefc rubric.

    Args:
        rubric: The rubric's ``.jsonl`` path (its header gives the preferences and the tolerance).
    """
    rub = _load(rubric)
    by_id = {str(item["id"]): item for item in rub.items}

    async def score(state: TaskState, target: Target) -> Score:
        item = by_id[str(state.sample_id)]
        text = state.output.completion if state.output is not None else ""
        outcome = score_answer(item, text, rubric=rub)
        value: dict[str, float] = {label: float(outcome.correct.get(label, False)) for label in rub.preferences}
        value[PARSED] = float(outcome.ok)
        explanation = (
            f"answer {json.dumps(outcome.value)}; right for "
            + (", ".join(k for k, v in outcome.correct.items() if v) or "no preference")
            if outcome.ok
            else f"no answer: {outcome.error}"
        )
        return Score(
            value=value,
            answer=json.dumps(outcome.value) if outcome.ok else None,
            explanation=explanation,
            metadata={"outcome": outcome.model_dump_json(), "rubric": str(rubric)},
        )

    return score


@task
def rubric(rubric: str, max_tokens: int = 256) -> Task:
    """A prefc rubric as an Inspect task.

    Args:
        rubric: A rubric ``.jsonl`` written by ``prefc compile`` (e.g. ``build/paper/eval.jsonl``).
        max_tokens: The answer budget in tokens.
    """
    path = str(Path(rubric).resolve())
    rub = _load(path)
    first = rub.preferences[0]
    samples = [
        Sample(
            id=str(item["id"]),
            input=_messages(item),
            target=reference_answer(item, first) if first in item["targets"] else "",
            metadata={"game": item["game"], "role": item.get("role"), "params": item.get("params", {})},
        )
        for item in rub.items
    ]
    return Task(
        dataset=MemoryDataset(samples, name=f"{rub.header.get('spec')}/{rub.header.get('rubric')}"),
        solver=generate(),
        scorer=preferences(path),
        config=GenerateConfig(max_tokens=max_tokens, temperature=0.0),
        metadata={
            "spec": rub.header.get("spec"),
            "spec_sha256": rub.spec_sha256,
            "preferences": rub.preferences,
            "tolerance": rub.tolerance,
        },
    )
