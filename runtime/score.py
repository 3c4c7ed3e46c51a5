"""Scoring an agent's answers against a rubric: pure functions over parsed results (no torch).

Conventions (also shown in every ``summary.json``):

* **Correctness.** Choice and integer actions must equal the target exactly; number actions must lie
  within ``tolerance * (max - min)`` of the target, where ``min``/``max`` come from the item's answer
  schema. A target may carry ``"alternatives"`` (equally good answers): matching any one counts.
  An item with several actions is correct when every action is.
* **Distance** (numeric actions only): ``|answer - target| / (max - min)``, averaged over the item's
  numeric actions, the smallest over the target and its alternatives.
* **Soft answers.** When an agent's choice distribution over the item's ``family.options`` is known
  (log-probability scoring), the answer is the most probable option, ``expected_correct`` is the
  probability mass on correct options, and the kappa estimator uses the whole distribution.
* **Nearest type.** The preference with the highest accuracy; ties (within 1e-9) are broken by the
  smaller mean distance. ``margin`` is the accuracy lead over the runner-up.
* **Kappa.** Maximum likelihood under logit choice, ``P(option | kappa, lambda) =
  softmax(lambda * u(kappa))`` with ``u(kappa)`` interpolated linearly between the family grid
  points. The precision ``lambda >= 0`` is profiled out exactly (the log-likelihood is concave in
  lambda); kappa is maximised on a fine grid and refined with a bounded scalar optimiser. The 95%
  interval is the profile-likelihood (likelihood-ratio) set ``2 * (max - profile(kappa)) <= 3.841``,
  reported as its outermost crossings inside the grid. Unparsed answers are excluded and counted.
* **Incentive sensitivity.** Per game, role and first action: the OLS slopes (with an intercept, all
  varying numeric parameters jointly when the design allows, else one at a time) of the agent's
  numeric choice (choice actions: 1 for the schema's first option, else 0; soft answers: the
  expected value) on the item parameters, next to the same regression of each preference's targets
  (over all items of the group; with ties, the mean of the equally good answers).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

CHI2_1_95 = 3.841458820694124
"""The 95% quantile of the chi-square distribution with one degree of freedom."""

_TIE = 1e-9

Item = Mapping[str, Any]


# --------------------------------------------------------------------------------------------------
# Result objects


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


class PreferenceScore(BaseModel):
    """How well the answers match one preference's targets."""

    label: str
    n: int
    accuracy: float | None
    expected_accuracy: float | None
    accuracy_by_game: dict[str, float]
    mean_distance: float | None
    n_numeric: int


class NearestType(BaseModel):
    """The preference the answers match best."""

    label: str
    accuracy: float | None
    mean_distance: float | None
    runner_up: str | None
    margin: float | None
    tie_broken_by_distance: bool


class ProfilePoint(BaseModel):
    """One point of the kappa profile log-likelihood (precision maximised out)."""

    kappa: float
    loglik: float


class KappaEstimate(BaseModel):
    """Maximum-likelihood estimate of the family parameter under logit choice."""

    family: str
    param: str
    estimate: float
    precision: float
    precision_at_bound: bool
    ci_low: float
    ci_high: float
    ci_low_at_bound: bool
    ci_high_at_bound: bool
    loglik: float
    loglik_uniform: float
    n_used: int
    n_soft: int
    n_unparsed: int
    n_unmatched: int
    grid: list[float]
    profile: list[ProfilePoint]


class SlopeSE(BaseModel):
    """An OLS slope and its standard error (None where it cannot be estimated)."""

    slope: float | None
    se: float | None


class BinPoint(BaseModel):
    """Mean choice of the agent and of each preference's targets at one parameter value."""

    x: float
    n: int
    agent: float | None
    targets: dict[str, float]


class IncentiveSlope(BaseModel):
    """Sensitivity of the choices in one game/role/action to one parameter."""

    game: str
    role: str
    action: str
    param: str
    kind: str
    method: Literal["joint", "single"]
    n: int
    agent: SlopeSE
    targets: dict[str, SlopeSE]
    points: list[BinPoint]


class Summary(BaseModel):
    """Everything ``summary.json`` holds about one evaluation."""

    agent: str | None = None
    spec: str | None = None
    spec_sha256: str | None = None
    rubric: str | None = None
    scoring: str = "generate"
    n_items: int
    n_parsed: int
    parse_rate: float | None
    tolerance: float
    preferences: list[PreferenceScore]
    nearest: NearestType | None
    kappa: KappaEstimate | None
    incentives: list[IncentiveSlope]
    conventions: str = Field(default_factory=lambda: (__doc__ or "").strip())


# --------------------------------------------------------------------------------------------------
# Per-item scoring


def _is_number(x: object) -> bool:
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
    if _is_number(lo) and _is_number(hi) and float(hi) > float(lo):
        return float(hi) - float(lo)
    return 1.0


def _action_match(kind: str, spec: Mapping[str, Any], answer: object, target: object, tolerance: float) -> bool:
    if kind == "number":
        if not (_is_number(answer) and _is_number(target)):
            return False
        return abs(float(answer) - float(target)) <= tolerance * _range(spec) + 1e-12
    if kind == "integer":
        return _is_number(answer) and _is_number(target) and float(answer) == float(target)
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
    if not numeric or not all(_is_number(value.get(n)) for n, _ in numeric):
        return None
    best: float | None = None
    for accepted in acceptable_answers(target):
        if not all(_is_number(accepted.get(n)) for n, _ in numeric):
            continue
        d = sum(abs(float(value[n]) - float(accepted[n])) / _range(s) for n, s in numeric) / len(numeric)
        best = d if best is None else min(best, d)
    return best


def snap_to_option(value: Mapping[str, Any], options: Sequence[Mapping[str, Any]], schema: Mapping[str, Any]) -> int | None:
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
                if not (_is_number(a) and _is_number(o)):
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
        (name, spec), = schema.items()
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
    tol = float(item.get("tolerance", tolerance))
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
            label: float(sum(p for p, opt in zip(probs, options, strict=True) if answer_matches(opt, t, schema, tolerance=tol)))
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


# --------------------------------------------------------------------------------------------------
# Accuracy and nearest type


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


def nearest_type(scores: Sequence[PreferenceScore]) -> NearestType | None:
    """The preference with the highest accuracy, ties broken by the smaller mean distance.

    None when no answer matched any preference and no distance could be measured (an agent that
    never produced a parseable answer is no type at all).

    Args:
        scores: Per-preference scores from :func:`preference_scores`.
    """
    ranked = [s for s in scores if s.accuracy is not None]
    if not ranked:
        return None

    def key(s: PreferenceScore) -> tuple[float, float]:
        return (-(s.accuracy or 0.0), s.mean_distance if s.mean_distance is not None else math.inf)

    ranked.sort(key=key)
    best = ranked[0]
    if not best.accuracy and best.mean_distance is None:
        return None  # no answer matched any preference and none was measurable: no evidence of a type
    second = ranked[1] if len(ranked) > 1 else None
    tie = second is not None and abs((best.accuracy or 0) - (second.accuracy or 0)) <= _TIE
    return NearestType(
        label=best.label,
        accuracy=best.accuracy,
        mean_distance=best.mean_distance,
        runner_up=second.label if second else None,
        margin=(best.accuracy or 0) - (second.accuracy or 0) if second else None,
        tie_broken_by_distance=bool(
            tie
            and second is not None
            and best.mean_distance is not None
            and (second.mean_distance is None or best.mean_distance < second.mean_distance)
        ),
    )


# --------------------------------------------------------------------------------------------------
# Kappa by maximum likelihood under logit choice


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
        self.lambda_max = 200.0 / scale

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
        for _ in range(100):
            if not active.any():
                break
            sel = np.nonzero(active)[0]
            _, g, h = self._stats([x[sel] for x in u], lam[sel])
            lo[sel] = np.where(g > 0, lam[sel], lo[sel])
            hi[sel] = np.where(g <= 0, lam[sel], hi[sel])
            with np.errstate(divide="ignore", invalid="ignore"):
                newton = lam[sel] - g / h
            ok = np.isfinite(newton) & (newton > lo[sel]) & (newton < hi[sel])
            step = np.where(ok, newton, (lo[sel] + hi[sel]) / 2)
            done = (np.abs(step - lam[sel]) <= 1e-9 * (1 + lam[sel])) | (hi[sel] - lo[sel] <= 1e-12 * (1 + hi[sel]))
            lam[sel] = step
            active[sel[done]] = False
        ll, _, _ = self._stats(u, lam)
        return ll, lam


def _item_family_data(
    item: Item, outcome: ItemOutcome, n_grid: int
) -> tuple[np.ndarray, np.ndarray] | None:
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
    prof, _ = model.profile(ks)

    def neg(k: float) -> float:
        return -float(model.profile(np.array([k]))[0][0])

    i = int(np.argmax(prof))
    a, b = ks[max(i - 1, 0)], ks[min(i + 1, len(ks) - 1)]
    best_k, best_ll = float(ks[i]), float(prof[i])
    if b > a:
        res = minimize_scalar(neg, bounds=(a, b), method="bounded", options={"xatol": 1e-6})
        if -float(res.fun) > best_ll:
            best_k, best_ll = float(res.x), -float(res.fun)
    best_lam = float(model.profile(np.array([best_k]))[1][0])
    threshold = best_ll - CHI2_1_95 / 2

    inside = np.nonzero(prof >= threshold)[0]
    if not inside.size:
        inside = np.array([i])

    def f(k: float) -> float:
        return -neg(k) - threshold

    def crossing(outer: int, inner: int, at_bound: bool) -> tuple[float, bool]:
        if at_bound:
            return float(ks[inner]), True
        a_k, b_k = float(ks[outer]), float(ks[inner])
        if f(a_k) * f(b_k) > 0:
            return b_k, False
        return float(brentq(f, min(a_k, b_k), max(a_k, b_k), xtol=1e-7)), False

    i0, i1 = int(inside.min()), int(inside.max())
    low = crossing(i0 - 1, i0, i0 == 0)
    high = crossing(i1 + 1, i1, i1 == len(ks) - 1)

    (ci_low, low_at_bound), (ci_high, high_at_bound) = low, high
    ll_uniform = float(-np.log(model.n_options).sum())
    step = max(1, (len(ks) - 1) // 200)
    profile = [ProfilePoint(kappa=float(k), loglik=float(v)) for k, v in zip(ks[::step], prof[::step], strict=True)]
    return KappaEstimate(
        family=family,
        param=param,
        estimate=best_k,
        precision=best_lam,
        precision_at_bound=best_lam >= model.lambda_max * (1 - 1e-9),
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


# --------------------------------------------------------------------------------------------------
# Incentive sensitivity


def ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Ordinary least squares with an intercept: slopes and their classical standard errors.

    Args:
        x: Regressors, shape (n, p) (no intercept column; it is added).
        y: Responses, shape (n,).

    Returns:
        The p slopes and their standard errors (None when n <= p + 1). Raises ``ValueError`` for a
        rank-deficient design.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n, p = x.shape
    design = np.column_stack([np.ones(n), x])
    if n < p + 1 or np.linalg.matrix_rank(design) < p + 1:
        raise ValueError("rank-deficient design")
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    if n <= p + 1:
        return coef[1:], None
    resid = y - design @ coef
    sigma2 = float(resid @ resid) / (n - p - 1)
    cov = sigma2 * np.linalg.inv(design.T @ design)
    return coef[1:], np.sqrt(np.clip(np.diag(cov)[1:], 0.0, None))


def numeric_choice(value: Mapping[str, Any], action: str, spec: Mapping[str, Any]) -> float | None:
    """The number a choice stands for in slope regressions (choice: 1 for the first option).

    Args:
        value: An answer.
        action: The action name.
        spec: The action's schema entry.
    """
    a = value.get(action)
    if spec.get("kind") == "choice":
        opts = spec.get("options") or []
        return (1.0 if a == opts[0] else 0.0) if opts and a is not None else None
    return float(a) if _is_number(a) else None


def _agent_choice(outcome: ItemOutcome, item: Item, action: str, spec: Mapping[str, Any]) -> float | None:
    if outcome.option_probs is not None:
        options = choice_options(item)
        vals = [numeric_choice(o, action, spec) for o in options]
        if any(v is None for v in vals):
            return None
        return float(sum(p * v for p, v in zip(outcome.option_probs, vals, strict=True) if v is not None))
    if not outcome.ok or outcome.value is None:
        return None
    return numeric_choice(outcome.value, action, spec)


def _target_choice(target: Mapping[str, Any], action: str, spec: Mapping[str, Any]) -> float | None:
    vals = [numeric_choice(a, action, spec) for a in acceptable_answers(target)]
    vals_f = [v for v in vals if v is not None]
    return float(np.mean(vals_f)) if vals_f else None


def _fit(xs: np.ndarray, y: np.ndarray, col: int, joint: bool) -> SlopeSE:
    mask = np.isfinite(y)
    x, yy = (xs if joint else xs[:, [col]])[mask], y[mask]
    try:
        coef, se = ols(x, yy)
    except ValueError:
        return SlopeSE(slope=None, se=None)
    j = col if joint else 0
    return SlopeSE(slope=float(coef[j]), se=float(se[j]) if se is not None else None)


def _bins(x: np.ndarray, agent: np.ndarray, targets: dict[str, np.ndarray]) -> list[BinPoint]:
    distinct = np.unique(x)
    if len(distinct) <= 25:
        keys, centres = x, distinct
    else:
        edges = np.linspace(x.min(), x.max(), 11)
        keys = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, 9)
        centres = (edges[:-1] + edges[1:]) / 2
        keys = centres[keys]
    points = []
    for c in centres:
        sel = keys == c
        if not sel.any():
            continue
        a = agent[sel]
        a = a[np.isfinite(a)]
        tg = {lab: float(np.nanmean(v[sel])) for lab, v in targets.items() if np.isfinite(v[sel]).any()}
        points.append(BinPoint(x=float(c), n=int(sel.sum()), agent=float(a.mean()) if a.size else None, targets=tg))
    return points


def incentive_slopes(
    items: Sequence[Item], outcomes: Sequence[ItemOutcome], *, labels: Sequence[str]
) -> list[IncentiveSlope]:
    """Slopes of the agent's and each preference's choices on every varying parameter.

    Args:
        items: The rubric items, aligned with ``outcomes``.
        outcomes: The scored answers.
        labels: Preference labels whose target slopes are reported.
    """
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        schema = item.get("schema") or {}
        if schema:
            action = next(iter(schema))
            groups[(str(item.get("game")), str(item.get("role")), action)].append(i)
    result: list[IncentiveSlope] = []
    for (game, role, action), idx in groups.items():
        spec = (items[idx[0]].get("schema") or {})[action]
        names = sorted({k for i in idx for k, v in (items[i].get("params") or {}).items() if _is_number(v)})
        varying = []
        for name in names:
            vals = [(items[i].get("params") or {}).get(name) for i in idx]
            if all(_is_number(v) for v in vals) and len({float(v) for v in vals}) > 1:
                varying.append(name)
        if not varying:
            continue
        xs = np.array([[float(items[i]["params"][p]) for p in varying] for i in idx])
        agent = np.array([_agent_choice(outcomes[i], items[i], action, spec) for i in idx], dtype=float)
        tgt: dict[str, np.ndarray] = {}
        for label in labels:
            vals = []
            for i in idx:
                t = (items[i].get("targets") or {}).get(label)
                vals.append(_target_choice(t, action, spec) if isinstance(t, Mapping) else None)
            tgt[label] = np.array([np.nan if v is None else v for v in vals], dtype=float)
        joint = True
        try:
            ols(xs[np.isfinite(agent)], agent[np.isfinite(agent)])
        except ValueError:
            joint = False
        for col, name in enumerate(varying):
            result.append(
                IncentiveSlope(
                    game=game,
                    role=role,
                    action=action,
                    param=name,
                    kind=str(spec.get("kind")),
                    method="joint" if joint else "single",
                    n=int(np.isfinite(agent).sum()),
                    agent=_fit(xs, agent, col, joint),
                    targets={lab: _fit(xs, v, col, joint) for lab, v in tgt.items()},
                    points=_bins(xs[:, col], agent, tgt),
                )
            )
    return result


# --------------------------------------------------------------------------------------------------
# Summary


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
        n_parsed=n_parsed,
        parse_rate=n_parsed / len(outcomes) if outcomes else None,
        tolerance=tolerance,
        preferences=scores,
        nearest=nearest_type(scores),
        kappa=kappa,
        incentives=incentive_slopes(items, outcomes, labels=labels),
    )
