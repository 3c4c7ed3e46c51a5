"""Table cells formatted the same way in every view of the report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prefc.artefacts import KappaEstimate
from prefc.numbers import DASH, fmt_number

__all__ = ["accuracy_cells", "kappa_text"]


def kappa_text(k: KappaEstimate | None) -> str:
    """An estimated kappa with its 95% interval, ``≤``/``≥`` marking an end at the bound of [0, 1].

    Args:
        k: The estimate (None for a dash).
    """
    if k is None:
        return DASH
    lo = ("≤" if k.ci_low_at_bound else "") + fmt_number(k.ci_low)
    hi = ("≥" if k.ci_high_at_bound else "") + fmt_number(k.ci_high)
    return f"{fmt_number(k.estimate)} [{lo}, {hi}]"


def accuracy_cells(
    labels: Sequence[str],
    accuracy: Mapping[str, float | None],
    base: Mapping[str, float | None] | None,
    *,
    trained: str | None,
) -> list[dict[str, Any]]:
    """One cell per compared preference: the accuracy, its change from the base model's, and whether
    it is the preference the agent was trained on.

    Args:
        labels: The preferences, in column order.
        accuracy: The agent's accuracy per preference.
        base: The base model's (None for the base model itself: no change is shown).
        trained: The preference the agent was trained on (None for the base model).
    """
    cells = []
    for lab in labels:
        v = accuracy.get(lab)
        b = base.get(lab) if base is not None else None
        delta = v - b if v is not None and b is not None else None
        cells.append(
            {
                "label": lab,
                "value": fmt_number(v),
                "delta": fmt_number(delta, signed=True) if delta is not None else "",
                "trained": lab == trained,
            }
        )
    return cells
