"""Table cells formatted the same way in every view of the report."""

from __future__ import annotations

from prefc.artefacts import KappaEstimate
from prefc.numbers import DASH, fmt_number

__all__ = ["kappa_text"]


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
