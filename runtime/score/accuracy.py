"""Accuracy against each preference, and the nearest type."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from prefc.artefacts import NearestType, PreferenceScore

from .correctness import ItemOutcome

__all__ = ["TIE", "nearest_note", "nearest_type", "preference_scores"]

TIE = 1e-9
"""Accuracies closer than this are a tie."""


def preference_scores(outcomes: Sequence[ItemOutcome], labels: Sequence[str]) -> list[PreferenceScore]:
    """Accuracy (overall and per game) and mean distance against each preference.

    Unparsed answers count as wrong in the accuracy; distances average over parsed numeric items.

    Args:
        outcomes: The scored items.
        labels: The preference labels, in report order.
    """
    result = []
    for label in labels:
        rel = [o for o in outcomes if label in o.correct or not o.ok]
        n = len(rel)
        hits = [1.0 if o.correct.get(label, False) else 0.0 for o in rel]
        soft = [
            (o.expected_correct or {}).get(label, 0.0) if o.expected_correct is not None else h
            for o, h in zip(rel, hits, strict=True)
        ]
        by_game: dict[str, list[float]] = defaultdict(list)
        for o, h in zip(rel, hits, strict=True):
            by_game[o.game].append(h)
        dists = [o.distance[label] for o in rel if label in o.distance]
        result.append(
            PreferenceScore(
                label=label,
                n=n,
                accuracy=float(np.mean(hits)) if n else None,
                expected_accuracy=float(np.mean(soft)) if n else None,
                accuracy_by_game={g: float(np.mean(v)) for g, v in sorted(by_game.items())},
                mean_distance=float(np.mean(dists)) if dists else None,
                n_numeric=len(dists),
            )
        )
    return result


def _ranked(scores: Sequence[PreferenceScore]) -> list[PreferenceScore]:
    ranked = [s for s in scores if s.accuracy is not None]
    ranked.sort(key=lambda s: (-(s.accuracy or 0.0), s.mean_distance if s.mean_distance is not None else math.inf))
    return ranked


def nearest_note(scores: Sequence[PreferenceScore]) -> str | None:
    """Why there is no nearest type (None when there is one).

    Args:
        scores: Per-preference scores from :func:`preference_scores`.
    """
    ranked = _ranked(scores)
    if not ranked:
        return "no item was scored against any preference"
    best = ranked[0]
    if not best.accuracy:
        return "no answer matched any preference"
    tied = [s.label for s in ranked if abs((s.accuracy or 0.0) - (best.accuracy or 0.0)) <= TIE]
    if len(tied) > 1:
        return f"a tie: {', '.join(tied)} at accuracy {best.accuracy:.3f}"
    return None


def _margin_se(outcomes: Sequence[ItemOutcome], best: str, second: str) -> float | None:
    """Standard error of the accuracy lead of ``best`` over ``second``, from the per-item
    differences of their hits over the items both are scored on (unparsed answers: 0 and 0)."""
    diffs = []
    for o in outcomes:
        both = (best in o.correct and second in o.correct) or not o.ok
        if both:
            diffs.append(float(o.correct.get(best, False)) - float(o.correct.get(second, False)))
    if len(diffs) < 2:
        return None
    return float(np.std(diffs, ddof=1) / math.sqrt(len(diffs)))


def nearest_type(
    scores: Sequence[PreferenceScore], *, outcomes: Sequence[ItemOutcome] | None = None
) -> NearestType | None:
    """The preference with the highest accuracy, when it leads every other one.

    None on a tie (accuracies within :data:`TIE`) and when no answer matched any preference: an
    agent that matched nothing, or matched two types equally, is no one type (:func:`nearest_note`
    says which).

    Args:
        scores: Per-preference scores from :func:`preference_scores`.
        outcomes: The scored items, for the margin's standard error (none without them).
    """
    if nearest_note(scores) is not None:
        return None
    ranked = _ranked(scores)
    best = ranked[0]
    second = ranked[1] if len(ranked) > 1 else None
    return NearestType(
        label=best.label,
        accuracy=best.accuracy,
        mean_distance=best.mean_distance,
        runner_up=second.label if second else None,
        margin=(best.accuracy or 0) - (second.accuracy or 0) if second else None,
        margin_se=_margin_se(outcomes, best.label, second.label) if second and outcomes is not None else None,
    )
