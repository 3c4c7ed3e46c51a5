"""The significance tests of a results diff: McNemar's exact test, the pooled two-proportion
z-test, Stuart-Maxwell marginal homogeneity, Holm's adjustment, and the record of one test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["TestResult", "holm", "json_number", "mcnemar_exact", "stuart_maxwell", "two_proportions"]


@dataclass
class TestResult:
    """One difference and the test that judges it.

    Attributes:
        what: The measure (``choice``, ``accuracy vs economicus``, ``parse rate``, ``kappa``).
        scope: Where (``all`` or ``game/role.action``).
        test: The test's name.
        statistic: Its statistic (None for exact tests without one).
        p: The two-sided p-value (None when no test applies, e.g. no data).
        p_adjusted: The Holm-adjusted p-value.
        significant: Whether ``p_adjusted < alpha``.
        a, b: The measure on each side.
        n: Observations used (pairs for paired tests).
        note: Why no test, or a caveat.
    """

    what: str
    scope: str
    test: str
    p: float | None
    a: Any = None
    b: Any = None
    statistic: float | None = None
    n: int | None = None
    note: str = ""
    p_adjusted: float | None = None
    significant: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "scope": self.scope,
            "test": self.test,
            "statistic": json_number(self.statistic),
            "p": json_number(self.p),
            "p_adjusted": json_number(self.p_adjusted),
            "significant": self.significant,
            "a": self.a,
            "b": self.b,
            "n": self.n,
            "note": self.note,
        }


def json_number(x: float | None) -> float | None:
    """A statistic as JSON allows it: None for a missing or non-finite value.

    Args:
        x: The value.
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return float(x)


def mcnemar_exact(x: Sequence[bool], y: Sequence[bool]) -> tuple[float, int, int]:
    """McNemar's exact test on paired binary outcomes.

    Args:
        x: The first run's outcomes.
        y: The second run's outcomes, aligned with ``x``.

    Returns:
        (two-sided p-value, pairs with x only, pairs with y only).
    """
    from scipy.stats import binomtest

    b = sum(1 for u, v in zip(x, y, strict=True) if u and not v)
    c = sum(1 for u, v in zip(x, y, strict=True) if v and not u)
    if b + c == 0:
        return 1.0, 0, 0
    return float(binomtest(min(b, c), b + c, 0.5).pvalue), b, c


def two_proportions(k1: int, n1: int, k2: int, n2: int) -> tuple[float | None, float | None]:
    """Two-proportion z-test with the pooled variance.

    Args:
        k1: Successes in the first sample.
        n1: Size of the first sample.
        k2: Successes in the second sample.
        n2: Size of the second sample.

    Returns:
        (z, two-sided p-value); (None, None) for an empty sample; p = 1 when both proportions are
        0 or both are 1.
    """
    from scipy.stats import norm

    if n1 == 0 or n2 == 0:
        return None, None
    pooled = (k1 + k2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return 0.0, 1.0
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (k1 / n1 - k2 / n2) / se
    return z, float(2 * norm.sf(abs(z)))


def stuart_maxwell(x: Sequence[Any], y: Sequence[Any], categories: Sequence[Any]) -> tuple[float, float, int]:
    """Stuart-Maxwell test of marginal homogeneity for paired categorical outcomes.

    Args:
        x: The first run's categories.
        y: The second run's categories, aligned with ``x``.
        categories: Every category.

    Returns:
        (chi-square statistic, p-value, degrees of freedom).
    """
    import numpy as np
    from scipy.stats import chi2

    k = len(categories)
    index = {c: i for i, c in enumerate(categories)}
    n = np.zeros((k, k))
    for u, v in zip(x, y, strict=True):
        n[index[u], index[v]] += 1
    d = (n.sum(axis=1) - n.sum(axis=0))[:-1]
    s = -(n + n.T)
    np.fill_diagonal(s, n.sum(axis=1) + n.sum(axis=0) - 2 * np.diag(n))
    s = s[:-1, :-1]
    if not d.any():
        return 0.0, 1.0, k - 1
    df = int(np.linalg.matrix_rank(s))
    if df == 0:
        return 0.0, 1.0, 0
    stat = float(d @ np.linalg.pinv(s) @ d)
    return stat, float(chi2.sf(stat, df)), df


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment (None entries are left out and stay None).

    Args:
        pvalues: The raw p-values.
    """
    present = {i: float(p) for i, p in enumerate(pvalues) if p is not None}
    idx = sorted(present, key=present.__getitem__)
    m = len(idx)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(idx):
        running = max(running, min(1.0, (m - rank) * present[i]))
        out[i] = running
    return out
