"""Incentive sensitivity: OLS slopes of the agent's and each preference's choices on the parameters."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from prefc.artefacts import BinPoint, IncentiveSlope, SlopeSE

from .correctness import Item, ItemOutcome, acceptable_answers, choice_options, is_number

__all__ = ["incentive_slopes", "numeric_choice", "ols"]


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
    return float(a) if is_number(a) else None


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
        names = sorted({k for i in idx for k, v in (items[i].get("params") or {}).items() if is_number(v)})
        varying = []
        for name in names:
            vals = [(items[i].get("params") or {}).get(name) for i in idx]
            numbers = [v for v in vals if is_number(v)]
            if len(numbers) == len(vals) and len({float(v) for v in numbers}) > 1:
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
