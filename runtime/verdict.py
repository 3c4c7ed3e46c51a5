"""How sure a nearest-type verdict is: accuracy margins between preferences with bootstrap intervals.

An evaluation's nearest type is the preference its answers match most often. Whether that verdict
means anything depends on the items that tell the two leading preferences apart: where both have the
same target an answer counts for both or for neither. The margin ``accuracy(a) - accuracy(b)`` is
given with a percentile bootstrap interval over items (items resampled with replacement, both
accuracies recomputed on every resample, so the interval reflects their pairing). Two preferences
are *distinguishable* when the interval lies above zero; otherwise the verdict says
"not distinguishable". Unparsed answers count as wrong for every preference, as in the accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["Margin", "Verdict", "margin", "verdict"]

RESAMPLES = 4000
"""Bootstrap resamples per margin."""


@dataclass(frozen=True)
class Margin:
    """The accuracy lead of one preference over another on the same items.

    Attributes:
        a: The leading preference's label.
        b: The other preference's label.
        margin: ``accuracy(a) - accuracy(b)``.
        low: Lower end of the bootstrap interval.
        high: Upper end of the bootstrap interval.
        level: The interval's coverage (0.95).
        items: Items scored.
        telling: Items where exactly one of the two was matched (the only ones that move the margin).
    """

    a: str
    b: str
    margin: float
    low: float
    high: float
    level: float
    items: int
    telling: int

    @property
    def distinguishable(self) -> bool:
        """Whether the interval lies entirely above zero."""
        return self.low > 0

    def text(self) -> str:
        """``+0.21 [0.12, 0.30] over b`` or ``... : not distinguishable``."""
        body = f"{self.margin:+.2f} [{self.low:+.2f}, {self.high:+.2f}] over {self.b}"
        return body if self.distinguishable else f"{body}: not distinguishable"

    def to_json(self) -> dict[str, Any]:
        """The margin as a JSON object (with ``distinguishable``)."""
        return {**asdict(self), "distinguishable": self.distinguishable}


@dataclass(frozen=True)
class Verdict:
    """An evaluation's nearest type and its margin over the runner-up.

    Attributes:
        nearest: The preference matched most often (None when nothing was matched).
        runner_up: The next one.
        lead: The nearest type's margin over the runner-up (None without a runner-up).
    """

    nearest: str | None
    runner_up: str | None
    lead: Margin | None

    def text(self) -> str:
        """One line: the nearest type and its lead, or why there is none."""
        if self.nearest is None:
            return "no nearest type (no answer matched any preference)"
        if self.lead is None:
            return f"nearest {self.nearest}"
        return f"nearest {self.nearest}, {self.lead.text()}"


def _hits(records: Sequence[Mapping[str, Any]], label: str) -> np.ndarray:
    return np.array([1.0 if (r.get("correct") or {}).get(label, False) else 0.0 for r in records])


def margin(
    records: Sequence[Mapping[str, Any]],
    a: str,
    b: str,
    *,
    resamples: int = RESAMPLES,
    level: float = 0.95,
    seed: int = 0,
) -> Margin:
    """The accuracy margin of ``a`` over ``b`` with a paired percentile bootstrap interval.

    Args:
        records: The evaluation's ``results.jsonl`` records (``correct`` maps labels to booleans).
        a: A preference label.
        b: Another preference label.
        resamples: Bootstrap resamples.
        level: Interval coverage.
        seed: Seed of the resampling.

    Raises:
        ValueError: No records, or fewer than 2 resamples.
    """
    if not records:
        raise ValueError("no items to compare preferences on")
    if resamples < 2:
        raise ValueError("at least 2 resamples are needed")
    diff = _hits(records, a) - _hits(records, b)
    n = len(diff)
    rng = np.random.default_rng(seed)
    stats = np.empty(resamples)
    for start in range(0, resamples, 500):  # bounded memory: 500 resamples of n items at a time
        k = min(500, resamples - start)
        stats[start : start + k] = diff[rng.integers(0, n, size=(k, n))].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(stats, [tail, 1 - tail])
    return Margin(a, b, float(diff.mean()), float(low), float(high), level, n, int(np.count_nonzero(diff)))


def verdict(records: Sequence[Mapping[str, Any]], labels: Sequence[str], *, seed: int = 0) -> Verdict:
    """The nearest type among ``labels`` (highest accuracy; ties keep the earlier label) and its
    margin over the runner-up.

    Args:
        records: The evaluation's ``results.jsonl`` records.
        labels: The compared preference labels.
        seed: Seed of the resampling.
    """
    if not records or not labels:
        return Verdict(None, None, None)
    accuracy = {label: float(_hits(records, label).mean()) for label in labels}
    ranked = sorted(labels, key=lambda label: -accuracy[label])
    if accuracy[ranked[0]] == 0:
        return Verdict(None, None, None)
    if len(ranked) == 1:
        return Verdict(ranked[0], None, None)
    return Verdict(ranked[0], ranked[1], margin(records, ranked[0], ranked[1], seed=seed))
