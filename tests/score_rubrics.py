"""Rubrics built from closed forms (the prisoner's dilemma's and the public-goods game's kappa
thresholds), logit agents over them, and a rubric written to disk as the compiler writes it: shared
by the scoring and evaluation tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from prefc.runtime import score

GRID = [round(0.05 * i, 2) for i in range(21)]
LABELS = ["economicus", "moralis(kappa=0.3)", "moralis(kappa=0.65)", "moralis(kappa=0.9)"]
KAPPA_OF = {"economicus": 0.0, "moralis(kappa=0.3)": 0.3, "moralis(kappa=0.65)": 0.65, "moralis(kappa=0.9)": 0.9}
PD_MOVES = ["cooperate", "defect"]


def pd_utilities(kappa: float, *, T: float, R: float, P: float, S: float, opponent: str) -> list[float]:
    """Homo moralis utility of each own move against a known opponent move."""
    a = {("cooperate", "cooperate"): R, ("cooperate", "defect"): S, ("defect", "cooperate"): T, ("defect", "defect"): P}
    return [(1 - kappa) * a[(m, opponent)] + kappa * a[(m, m)] for m in PD_MOVES]


def pg_utilities(kappa: float, gives: list[float], *, n: int, m: float, e: float) -> list[float]:
    """Homo moralis utility of each contribution when the others give e/2 each."""
    others = (n - 1) * e / 2
    return [(1 - kappa) * (e - g + m / n * (g + others)) + kappa * (e - g + m * g) for g in gives]


def _target(options: list[dict[str, Any]], utils: list[float]) -> dict[str, Any]:
    best = max(utils)
    winners = [o for o, u in zip(options, utils, strict=True) if u >= best - 1e-9]
    target = dict(winners[0])
    if len(winners) > 1:
        target["alternatives"] = [dict(w) for w in winners[1:]]
    return target


def _prompt(text: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "You are a player. Reply with your reasoning, then one line ANSWER: {json}."},
        {"role": "user", "content": text},
    ]


def pd_item(i: int, *, T: float, S: float, opponent: str, R: float = 3, P: float = 1) -> dict[str, Any]:
    """One prisoner's dilemma rubric item with targets and a kappa family from the closed form."""
    options = [{"move": m} for m in PD_MOVES]
    util = [pd_utilities(k, T=T, R=R, P=P, S=S, opponent=opponent) for k in GRID]
    targets = {
        lab: _target(options, pd_utilities(k, T=T, R=R, P=P, S=S, opponent=opponent)) for lab, k in KAPPA_OF.items()
    }
    return {
        "id": f"eval-{i:04d}",
        "game": "prisoners_dilemma",
        "role": "row",
        "params": {"T": T, "R": R, "P": P, "S": S, "opponent": opponent},
        "prompt": _prompt(f"T={T}, R={R}, P={P}, S={S}. The other player will {opponent}. Your move?"),
        "schema": {"move": {"kind": "choice", "options": PD_MOVES}},
        "targets": targets,
        "tolerance": 0.05,
        "family": {"options": options, "utilities": util, "grid": GRID},
        "meta": {"spec_sha256": "f" * 64, "rubric": "eval", "varied": ["T", "S"]},
    }


def pg_item(i: int, *, n: int, m: float = 1.6, e: float = 20) -> dict[str, Any]:
    """One public-goods rubric item (continuous contribution, 11 family options on [0, e])."""
    gives = [round(e * j / 10, 6) for j in range(11)]
    options = [{"give": g} for g in gives]
    util = [pg_utilities(k, gives, n=n, m=m, e=e) for k in GRID]
    targets = {lab: _target(options, pg_utilities(k, gives, n=n, m=m, e=e)) for lab, k in KAPPA_OF.items()}
    return {
        "id": f"eval-{i:04d}",
        "game": "public_goods",
        "role": "member",
        "params": {"n": n, "m": m, "e": e},
        "prompt": _prompt(f"{n} players, multiplier {m}, endowment {e}. How much do you give?"),
        "schema": {"give": {"kind": "number", "min": 0, "max": e}},
        "targets": targets,
        "tolerance": 0.05,
        "family": {"options": options, "utilities": util, "grid": GRID},
        "meta": {"spec_sha256": "f" * 64, "rubric": "eval", "varied": ["n"]},
    }


def build_items(n_items: int = 300, *, seed: int = 0, pg_share: float = 0.3) -> list[dict[str, Any]]:
    """A mixed rubric: PD items over a grid of T, S and opponent moves, and public-goods items."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n_items):
        if rng.random() < pg_share:
            items.append(pg_item(i, n=int(rng.integers(2, 9))))
        else:
            items.append(
                pd_item(
                    i,
                    T=float(rng.choice([4, 5, 6, 8])),
                    S=float(rng.choice([0, -1, -2])),
                    opponent=str(rng.choice(PD_MOVES)),
                )
            )
    return items


def header(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The rubric header matching :func:`build_items`."""
    return {
        "spec": "paper",
        "spec_sha256": "f" * 64,
        "rubric": "eval",
        "preferences": LABELS,
        "tolerance": 0.05,
        "games": sorted({it["game"] for it in items}),
        "family": {"name": "moralis", "param": "kappa", "grid": GRID},
    }


def logit_choices(items: list[dict[str, Any]], *, kappa: float, temperature: float, seed: int) -> list[dict[str, Any]]:
    """Reference sampler: option drawn with probability softmax(u(kappa) / temperature)."""
    rng = np.random.default_rng(seed)
    out = []
    for it in items:
        u = np.array([np.interp(kappa, GRID, col) for col in np.array(it["family"]["utilities"]).T])
        p = np.exp((u - u.max()) / temperature)
        p /= p.sum()
        out.append(it["family"]["options"][int(rng.choice(len(p), p=p))])
    return out


def score_all(items: list[dict[str, Any]], values: list[dict[str, Any] | None]) -> list[score.ItemOutcome]:
    return [score.score_item(it, value=v, error=None if v else "unparsed") for it, v in zip(items, values, strict=True)]


# ------------------------------------------------------------------------------------------------


def write_rubric(
    tmp: Path, items: list[dict[str, Any]], *, name: str = "eval", head: dict[str, Any] | None = None
) -> Path:
    """Write ``<name>.jsonl`` and its ``<name>.json`` header as the compiler does."""
    path = tmp / f"{name}.jsonl"
    path.write_text("".join(json.dumps(it) + "\n" for it in items), encoding="utf-8")
    (tmp / f"{name}.json").write_text(json.dumps(head or header(items)), encoding="utf-8")
    return path
