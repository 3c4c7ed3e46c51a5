"""Kappa by maximum likelihood under logit choice, with a profile-likelihood interval."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from prefc.artefacts import KappaEstimate, ProfilePoint

from .correctness import Item, ItemOutcome

__all__ = ["CHI2_1_95", "estimate_kappa"]

CHI2_1_95 = 3.841458820694124
"""The 95% quantile of the chi-square distribution with one degree of freedom."""

PRECISION_SPAN = 1e12
"""The precision's bound times the items' median utility spread: at the bound the odds of a
better option over a worse one are beyond any floating-point meaning (deterministic play)."""

SIDE = 1e-9
"""Where the profile's one-sided limits are taken, as a fraction of the grid's range."""

JUMP = 1e-3
"""A one-sided limit this much above the profile's value is a jump (a real one is at least log 2)."""

FLAT = 1e-6
"""Profile values this close to the maximum are on it (a flat top: deterministic answers that fit
a whole range of kappas)."""


class _Block:
    """Items with the same number of options: utilities (items x grid x options) and weights."""

    def __init__(self, u: np.ndarray, w: np.ndarray) -> None:
        self.u = u
        self.w = w


class _LogitData:
    """Utilities and observed option weights for the estimator, grouped by option count."""

    def __init__(self, utilities: list[np.ndarray], weights: list[np.ndarray], grid: np.ndarray) -> None:
        by_size: dict[int, list[int]] = defaultdict(list)
        for i, u in enumerate(utilities):
            by_size[u.shape[1]].append(i)
        self.grid = grid
        self.blocks = [
            _Block(np.stack([utilities[i] for i in idx]), np.stack([weights[i] for i in idx]))
            for _, idx in sorted(by_size.items())
        ]
        self.n_options = np.array([u.shape[1] for u in utilities])
        spread = np.concatenate([(b.u.max(axis=2) - b.u.min(axis=2)).ravel() for b in self.blocks])
        positive = spread[spread > 1e-12]
        scale = float(np.median(positive)) if positive.size else 1.0
        self.lambda_max = PRECISION_SPAN / scale

    def at(self, kappas: np.ndarray) -> list[np.ndarray]:
        """Utilities interpolated at each kappa, per block: (K, items, options), each item centred.

        Args:
            kappas: Parameter values within the grid.
        """
        g = self.grid
        k = np.clip(kappas, g[0], g[-1])
        idx = np.clip(np.searchsorted(g, k, side="right") - 1, 0, len(g) - 2)
        t = ((k - g[idx]) / (g[idx + 1] - g[idx]))[:, None, None]
        out = []
        for b in self.blocks:
            u = (1 - t) * b.u[:, idx, :].transpose(1, 0, 2) + t * b.u[:, idx + 1, :].transpose(1, 0, 2)
            out.append(u - u.max(axis=2, keepdims=True))
        return out

    def _stats(self, us: list[np.ndarray], lam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ll = np.zeros(len(lam))
        grad = np.zeros(len(lam))
        hess = np.zeros(len(lam))
        for b, u in zip(self.blocks, us, strict=True):
            s = lam[:, None, None] * u
            m = s.max(axis=2, keepdims=True)
            e = np.exp(s - m)
            z = e.sum(axis=2, keepdims=True)
            p = e / z
            lse = (m + np.log(z))[..., 0]
            pu = p * u
            eu = pu.sum(axis=2)
            var = (pu * u).sum(axis=2) - eu**2
            wu = (b.w[None] * u).sum(axis=2)
            ll += (lam[:, None] * wu - lse).sum(axis=1)
            grad += (wu - eu).sum(axis=1)
            hess -= var.sum(axis=1)
        return ll, grad, hess

    def profile(self, kappas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Log-likelihood maximised over lambda in [0, lambda_max] at each kappa, and that lambda.

        The log-likelihood is concave in lambda, so its derivative is decreasing: a safeguarded
        Newton iteration (bisection where a Newton step leaves the bracket) finds the root.

        Args:
            kappas: Parameter values within the grid.
        """
        u = self.at(np.asarray(kappas, dtype=float))
        k = len(kappas)
        lo, hi = np.zeros(k), np.full(k, self.lambda_max)
        _, g_lo, _ = self._stats(u, lo)
        _, g_hi, _ = self._stats(u, hi)
        interior = (g_lo > 0) & (g_hi < 0)
        lam = np.where(g_lo <= 0, 0.0, np.where(g_hi >= 0, hi, np.minimum(1.0, hi / 2)))
        active = interior.copy()
        for _ in range(200):
            if not active.any():
                break
            sel = np.nonzero(active)[0]
            _, g, h = self._stats([x[sel] for x in u], lam[sel])
            lo[sel] = np.where(g > 0, lam[sel], lo[sel])
            hi[sel] = np.where(g <= 0, lam[sel], hi[sel])
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                newton = lam[sel] - g / h
            ok = np.isfinite(newton) & (newton > lo[sel]) & (newton < hi[sel])
            # bisect geometrically across the wide bracket (the bound is many decades above 1)
            middle = np.where(lo[sel] > 0, np.sqrt(lo[sel] * hi[sel]), hi[sel] / 2)
            step = np.where(ok, newton, middle)
            done = (np.abs(step - lam[sel]) <= 1e-9 * (1 + lam[sel])) | (hi[sel] - lo[sel] <= 1e-12 * (1 + hi[sel]))
            lam[sel] = step
            active[sel[done]] = False
        ll, _, _ = self._stats(u, lam)
        return ll, lam


def _item_family_data(item: Item, outcome: ItemOutcome, n_grid: int) -> tuple[np.ndarray, np.ndarray] | None:
    family = item.get("family") or {}
    options = family.get("options") or []
    utilities = family.get("utilities") or []
    if len(options) < 2 or len(utilities) != n_grid:
        return None
    u = np.asarray(utilities, dtype=float)
    if u.shape != (n_grid, len(options)) or not np.isfinite(u).all():
        return None
    if outcome.option_probs is not None:
        w = np.asarray(outcome.option_probs, dtype=float)
        if w.shape != (len(options),) or not np.isfinite(w).all() or w.sum() <= 0:
            return None
        return u, w / w.sum()
    if outcome.option_index is None:
        return None
    w = np.zeros(len(options))
    w[outcome.option_index] = 1.0
    return u, w


def estimate_kappa(
    items: Sequence[Item],
    outcomes: Sequence[ItemOutcome],
    *,
    grid: Sequence[float],
    family: str = "moralis",
    param: str = "kappa",
    fine: int = 201,
) -> KappaEstimate | None:
    """Estimate the family parameter by maximum likelihood under logit choice, with a 95% interval.

    Returns None when no parsed item carries a usable family (or the grid has fewer than 2 points).

    Args:
        items: The rubric items, aligned with ``outcomes``.
        outcomes: The scored answers (hard answers snapped to options, or option distributions).
        grid: The family parameter grid the items' ``family.utilities`` rows are given on (ascending).
        family: The family's preference name, for the report.
        param: The family's parameter name, for the report.
        fine: Number of evenly spaced points at which the profile is evaluated before refinement.
    """
    from scipy.optimize import brentq, minimize_scalar

    g = np.asarray(grid, dtype=float)
    if g.ndim != 1 or len(g) < 2 or not np.all(np.diff(g) > 0):
        return None
    utilities, weights = [], []
    n_unparsed = n_unmatched = n_soft = 0
    for item, outcome in zip(items, outcomes, strict=True):
        if not outcome.ok:
            n_unparsed += 1
            continue
        data = _item_family_data(item, outcome, len(g))
        if data is None:
            n_unmatched += 1
            continue
        utilities.append(data[0])
        weights.append(data[1])
        n_soft += outcome.option_probs is not None
    if not utilities:
        return None
    model = _LogitData(utilities, weights, g)
    ks = np.linspace(g[0], g[-1], fine)
    side = SIDE * float(g[-1] - g[0])
    raw, lam_raw = model.profile(ks)
    # The profile jumps only where its precision runs to the bound (a finite precision makes it
    # continuous): there and next to it, its limits from either side are taken too.
    left, right = raw.copy(), raw.copy()
    lam_left, lam_right = lam_raw.copy(), lam_raw.copy()
    bound = lam_raw >= 1e-3 * model.lambda_max
    near = np.nonzero(bound | np.roll(bound, 1) | np.roll(bound, -1))[0]
    if near.size:
        left[near], lam_left[near] = model.profile(np.maximum(ks[near] - side, g[0]))
        right[near], lam_right[near] = model.profile(np.minimum(ks[near] + side, g[-1]))
    hull = np.maximum(raw, np.maximum(left, right))  # the profile's upper envelope on the fine grid

    def profile_at(k: float) -> float:
        return float(model.profile(np.array([k]))[0][0])

    i = int(np.argmax(hull))
    best_k, best_ll = float(ks[i]), float(hull[i])
    lo_i, hi_i = i, i  # the run of grid points on the maximum (deterministic answers: a flat top)
    while lo_i > 0 and hull[lo_i - 1] >= best_ll - FLAT:
        lo_i -= 1
    while hi_i < len(ks) - 1 and hull[hi_i + 1] >= best_ll - FLAT:
        hi_i += 1
    at_limit = False
    if hi_i > lo_i:  # every kappa of the flat top fits equally: its midpoint
        best_k = float((ks[lo_i] + ks[hi_i]) / 2)
        best_ll = max(best_ll, profile_at(best_k))
        best_lam = float(model.profile(np.array([best_k]))[1][0])
    elif raw[i] >= hull[i] - JUMP:  # no jump at the best grid point: refine between its neighbours
        a, b = ks[max(i - 1, 0)], ks[min(i + 1, len(ks) - 1)]
        if b > a:
            res = minimize_scalar(lambda k: -profile_at(k), bounds=(a, b), method="bounded", options={"xatol": 1e-6})
            if -float(res.fun) > best_ll:
                best_k, best_ll = float(res.x), -float(res.fun)
        best_lam = float(model.profile(np.array([best_k]))[1][0])
    else:  # the maximum is a limit at a jump, approached with the precision running to its bound
        at_limit = True
        best_lam = model.lambda_max
    threshold = best_ll - CHI2_1_95 / 2

    inside = np.nonzero(hull >= threshold)[0]
    if not inside.size:
        inside = np.array([i])

    def crossing(outer: int, inner: int, at_bound: bool) -> tuple[float, bool]:
        """Where the likelihood-ratio set ends between a grid point outside it and one inside."""
        if at_bound:
            return float(ks[inner]), True
        a_k, b_k = float(ks[outer]), float(ks[inner])
        if raw[inner] < threshold:  # inside only through a one-sided limit
            towards = b_k - side if a_k < b_k else b_k + side
            if profile_at(towards) < threshold:
                return b_k, False  # the set reaches this point from the other side only
            b_k = towards
        if profile_at(a_k) - threshold >= 0:
            return a_k, False
        return float(brentq(lambda k: profile_at(k) - threshold, min(a_k, b_k), max(a_k, b_k), xtol=1e-7)), False

    i0, i1 = int(inside.min()), int(inside.max())
    low = crossing(i0 - 1, i0, i0 == 0)
    high = crossing(i1 + 1, i1, i1 == len(ks) - 1)

    (ci_low, low_at_bound), (ci_high, high_at_bound) = low, high
    ll_uniform = float(-np.log(model.n_options).sum())
    step = max(1, (len(ks) - 1) // 200)
    profile = [ProfilePoint(kappa=float(k), loglik=float(v)) for k, v in zip(ks[::step], hull[::step], strict=True)]
    return KappaEstimate(
        family=family,
        param=param,
        estimate=best_k,
        precision=best_lam,
        precision_at_bound=at_limit or best_lam >= model.lambda_max * (1 - 1e-9),
        ci_low=min(ci_low, best_k),
        ci_high=max(ci_high, best_k),
        ci_low_at_bound=low_at_bound,
        ci_high_at_bound=high_at_bound,
        loglik=best_ll,
        loglik_uniform=ll_uniform,
        n_used=len(utilities),
        n_soft=n_soft,
        n_unparsed=n_unparsed,
        n_unmatched=n_unmatched,
        grid=[float(x) for x in g],
        profile=profile,
    )
