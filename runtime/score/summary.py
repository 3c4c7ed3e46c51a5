"""Everything reported about one evaluation, in one :class:`prefc.artefacts.Summary`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prefc.artefacts import Summary

from .accuracy import nearest_note, nearest_type, preference_scores
from .conventions import CONVENTIONS
from .correctness import Item, ItemOutcome
from .incentives import incentive_slopes
from .kappa import estimate_kappa

__all__ = ["summarize"]


def summarize(
    items: Sequence[Item],
    outcomes: Sequence[ItemOutcome],
    *,
    labels: Sequence[str],
    tolerance: float = 0.05,
    family: Mapping[str, Any] | None = None,
    agent: str | None = None,
    header: Mapping[str, Any] | None = None,
    scoring: str = "generate",
    n_rubric_items: int | None = None,
    selection: str = "all",
) -> Summary:
    """Everything reported about one evaluation: parse rate, accuracy, nearest type, kappa, slopes.

    Args:
        items: The rubric items, aligned with ``outcomes``.
        outcomes: The scored answers.
        labels: The compared preference labels (the rubric header's ``preferences``).
        tolerance: The rubric's tolerance (reported).
        family: The header's ``family`` object (``name``, ``param``, ``grid``); no kappa without it.
        agent: The agent's name (reported).
        header: The rubric header, for provenance (``spec``, ``spec_sha256``, ``rubric``).
        scoring: ``generate`` or ``logprob`` (reported).
        n_rubric_items: Items in the whole rubric, when ``items`` are a subset of it (reported as
            ``48 of 200 items``).
        selection: How ``items`` were chosen: ``all`` or ``stratified``.
    """

    if len(items) != len(outcomes):
        raise ValueError(f"{len(items)} items but {len(outcomes)} outcomes")
    header = header or {}
    n_parsed = sum(o.ok for o in outcomes)
    scores = preference_scores(outcomes, labels)
    kappa = None
    if family and family.get("grid"):
        kappa = estimate_kappa(
            items,
            outcomes,
            grid=family["grid"],
            family=str(family.get("name", "moralis")),
            param=str(family.get("param", "kappa")),
        )
    return Summary(
        agent=agent,
        spec=header.get("spec"),
        spec_sha256=header.get("spec_sha256"),
        rubric=header.get("rubric"),
        scoring=scoring,
        n_items=len(outcomes),
        n_rubric_items=n_rubric_items if n_rubric_items is not None else len(outcomes),
        selection=selection if n_rubric_items not in (None, len(outcomes)) else "all",
        n_parsed=n_parsed,
        parse_rate=n_parsed / len(outcomes) if outcomes else None,
        tolerance=tolerance,
        preferences=scores,
        nearest=nearest_type(scores, outcomes=outcomes),
        nearest_note=nearest_note(scores),
        kappa=kappa,
        incentives=incentive_slopes(items, outcomes, labels=labels),
        conventions=CONVENTIONS,
    )
