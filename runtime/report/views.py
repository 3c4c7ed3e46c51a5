"""View models: the loaded inputs as plain data for the page's template, numbers formatted once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prefc.artefacts import RunAgent as RunAgentRecord
from prefc.artefacts import Summary
from prefc.numbers import DASH, fmt_number

from .cells import accuracy_cells, kappa_text
from .inputs import BuildInput, DiffInput, EvalInput, RunInput, SimulationInput, TrainInput
from .load import compact
from .transfer_view import transfer_view

__all__ = [
    "build_view",
    "diff_view",
    "eval_view",
    "run_view",
    "simulation_view",
    "summary_view",
    "train_view",
]


def _short(sha: object) -> str:
    return str(sha)[:12] if sha else DASH


def _value(v: object) -> str:
    """Any JSON value for a table cell: numbers formatted, structures as compact JSON."""
    if v is None or isinstance(v, bool | int | float):
        return fmt_number(v, style="auto", digits=4)
    return compact(v)


def _slope(slope: float | None, se: float | None) -> str:
    if slope is None:
        return DASH
    text = fmt_number(slope, style="general", digits=3, snap=1e-9)
    return text + (f" ± {fmt_number(se, style='general', digits=2, snap=1e-9)}" if se is not None else "")


def _badge(ev: EvalInput) -> dict[str, str]:
    """What the evaluation covered: ``unfinished``, ``all 200 items`` or ``48 of 200 items``."""
    s = ev.summary
    if s is None:
        return {"text": "unfinished", "class": "partial"}
    whole = s.n_rubric_items is None or s.n_rubric_items == s.n_items
    return {"text": s.evaluated, "class": "complete" if whole else "subset"}


def _accuracies(ev: EvalInput | None, recorded: RunAgentRecord | None = None) -> dict[str, float | None]:
    if ev is not None and ev.summary is not None:
        return {p.label: p.accuracy for p in ev.summary.preferences}
    if ev is not None and ev.provisional is not None:
        return dict(ev.provisional["accuracy"])
    return dict(recorded.accuracy) if recorded is not None else {}


def _parse_text(s: Summary) -> str:
    return f"{fmt_number(s.parse_rate)} ({s.n_parsed}/{s.n_items})"


def eval_view(ev: EvalInput, *, anchor: str) -> dict[str, Any]:
    """One evaluation: scores per preference and game, nearest type, kappa, slopes, samples.

    Args:
        ev: The loaded evaluation.
        anchor: The section's id in the page.
    """
    s = ev.summary
    view: dict[str, Any] = {
        "anchor": anchor,
        "path": str(ev.path),
        "agent": ev.agent,
        "complete": ev.complete,
        "badge": _badge(ev),
        "notes": list(ev.notes),
        "plots": [{"name": pl.name, "uri": pl.data_uri} for pl in ev.plots],
        "samples": ev.samples,
        "n_records": ev.n_records,
        "training": train_view(ev.training) if ev.training is not None else None,
    }
    if s is None:
        prov = ev.provisional or {"n": 0, "n_parsed": 0, "parse_rate": None, "accuracy": {}}
        view.update(
            spec=DASH,
            spec_sha=DASH,
            rubric=DASH,
            scoring=DASH,
            evaluated=f"{prov['n']} answers on disk",
            parse=f"{fmt_number(prov['parse_rate'])} ({prov['n_parsed']}/{prov['n']})",
            preferences=[
                {
                    "label": lab,
                    "n": DASH,
                    "accuracy": fmt_number(a),
                    "expected": DASH,
                    "distance": DASH,
                    "nearest": False,
                    "by_game": [],
                }
                for lab, a in prov["accuracy"].items()
            ],
            logprob=False,
            nearest=None,
            nearest_note=None,
            kappa=None,
            incentives=[],
            games=[],
            conventions="",
        )
        return view
    nearest = s.nearest.label if s.nearest is not None else None
    games = sorted({g for p in s.preferences for g in p.accuracy_by_game})
    view.update(
        spec=s.spec or DASH,
        spec_sha=s.spec_sha256 or DASH,
        rubric=s.rubric or DASH,
        scoring=s.scoring,
        evaluated=s.evaluated + (", stratified by game and role" if s.selection == "stratified" else ""),
        parse=_parse_text(s),
        logprob=s.scoring == "logprob",
        games=games,
        preferences=[
            {
                "label": p.label,
                "n": p.n,
                "accuracy": fmt_number(p.accuracy),
                "expected": fmt_number(p.expected_accuracy),
                "distance": fmt_number(p.mean_distance),
                "nearest": p.label == nearest,
                "by_game": [fmt_number(p.accuracy_by_game.get(g)) for g in games],
            }
            for p in s.preferences
        ],
        nearest=(
            {
                "label": s.nearest.label,
                "accuracy": fmt_number(s.nearest.accuracy),
                "runner_up": s.nearest.runner_up or DASH,
                "margin": fmt_number(s.nearest.margin)
                + (f" ± {fmt_number(s.nearest.margin_se)}" if s.nearest.margin_se is not None else ""),
            }
            if s.nearest is not None
            else None
        ),
        nearest_note=s.nearest_note or ("no answer matched any preference" if s.nearest is None else None),
        kappa=(
            {
                "param": s.kappa.param,
                "family": s.kappa.family,
                "text": kappa_text(s.kappa),
                "estimate": fmt_number(s.kappa.estimate),
                "ci_low": fmt_number(s.kappa.ci_low),
                "ci_high": fmt_number(s.kappa.ci_high),
                "precision": "at its bound (deterministic answers)"
                if s.kappa.precision_at_bound
                else fmt_number(s.kappa.precision, style="general"),
                "n_used": s.kappa.n_used,
                "n_soft": s.kappa.n_soft,
                "n_unparsed": s.kappa.n_unparsed,
                "n_unmatched": s.kappa.n_unmatched,
                "loglik": fmt_number(s.kappa.loglik, digits=2),
                "loglik_uniform": fmt_number(s.kappa.loglik_uniform, digits=2),
            }
            if s.kappa
            else None
        ),
        incentives=[
            {
                "game": inc.game,
                "role": inc.role,
                "action": inc.action,
                "param": inc.param,
                "n": inc.n,
                "method": inc.method,
                "agent": _slope(inc.agent.slope, inc.agent.se),
                "targets": [
                    _slope(inc.targets[lab].slope, inc.targets[lab].se) if lab in inc.targets else DASH
                    for lab in [p.label for p in s.preferences]
                ],
            }
            for inc in s.incentives
        ],
        conventions=s.conventions,
    )
    return view


def build_view(b: BuildInput, *, anchor: str) -> dict[str, Any]:
    """One build: its files, dataset and rubric blocks.

    Args:
        b: The loaded build.
        anchor: The section's id in the page.
    """
    m = b.manifest
    files = [
        {"path": f.path, "rows": fmt_number(f.rows), "bytes": fmt_number(f.bytes), "sha": _short(f.sha256)}
        for f in m.files
    ]
    datasets = [
        {
            "name": name,
            "counts": ", ".join(f"{k} {fmt_number(v)}" for k, v in d.counts.items()) or DASH,
            "preferences": ", ".join(d.preferences) or DASH,
            "games": ", ".join(d.games) or DASH,
            "seed": fmt_number(d.seed),
            "skipped": compact(d.skipped_points) if d.skipped_points else DASH,
            "holdout": compact(d.holdout.model_dump()),
        }
        for name, d in b.datasets
    ]
    rubrics = [
        {
            "name": name,
            "n_items": fmt_number(r.items),
            "preferences": ", ".join(r.preferences) or DASH,
            "games": ", ".join(r.games) or DASH,
            "tolerance": fmt_number(r.tolerance),
            "family": f"{r.family.name} ({r.family.param}, {len(r.family.grid)} grid points)" if r.family else DASH,
        }
        for name, r in b.rubrics
    ]
    return {
        "anchor": anchor,
        "path": str(b.path),
        "spec": m.spec,
        "spec_sha": m.spec_sha256,
        "version": m.prefc_version,
        "format": m.format,
        "blocks": ", ".join(f"{bl.kind} {bl.name} (seed {bl.seed})" for bl in m.blocks) or DASH,
        "files": files,
        "datasets": datasets,
        "rubrics": rubrics,
        "notes": list(b.notes),
    }


def train_view(t: TrainInput) -> dict[str, Any]:
    """One adapter: what it was trained on and how it went.

    Args:
        t: The loaded adapter directory.
    """
    m = t.metadata
    common = {
        "dir": t.path.name,
        "path": str(t.path),
        "preference": t.preference or DASH,
        "complete": m is not None,
        "checkpoints": ", ".join(t.checkpoints) or DASH,
        "notes": list(t.notes),
    }
    if m is None:
        return {
            **common,
            "steps": DASH,
            "rows": DASH,
            "train_loss": DASH,
            "val_loss": DASH,
            "seconds": DASH,
            "tokens": DASH,
            "tps": DASH,
            "device": DASH,
            "kind": DASH,
            "config": [],
        }
    return {
        **common,
        "steps": fmt_number(m.steps),
        "rows": f"{fmt_number(m.rows.train)} / {fmt_number(m.rows.val)}",
        "train_loss": fmt_number(m.train_loss, digits=4),
        "val_loss": fmt_number(m.val_loss, digits=4),
        "seconds": fmt_number(m.seconds, digits=1),
        "tokens": fmt_number(m.tokens),
        "tps": fmt_number(m.tokens_per_second, digits=1),
        "device": f"{m.device}{', bf16' if m.bf16 else ''}",
        "kind": "LoRA adapter" if m.adapter else "full model",
        "config": [{"key": str(k), "value": compact(v)} for k, v in sorted(m.config.items())],
    }


def run_view(r: RunInput, *, anchor: str) -> dict[str, Any]:
    """One run: the behaviour shift of every adapter against the base model, training, agents.

    Args:
        r: The loaded run.
        anchor: The section's id in the page.
    """
    labels: list[str] = []
    for a in r.agents:
        for lab in _accuracies(a.eval, a.recorded):
            if lab not in labels:
                labels.append(lab)
    base = next((a for a in r.agents if a.adapter is None), None)
    base_acc = _accuracies(base.eval, base.recorded) if base else {}
    shift = []
    headline = []
    for a in r.agents:
        acc = _accuracies(a.eval, a.recorded)
        s = a.eval.summary if a.eval else None
        if s is not None:
            parse = _parse_text(s)
            nearest = s.nearest.label if s.nearest is not None else "none"
            kappa = kappa_text(s.kappa)
        elif a.eval is not None and a.eval.provisional is not None:
            prov = a.eval.provisional
            parse = f"{fmt_number(prov['parse_rate'])} ({prov['n_parsed']}/{prov['n']}, provisional)"
            nearest, kappa = DASH, DASH
        else:
            rec = a.recorded
            parse = fmt_number(rec.parse_rate if rec else None)
            nearest = (rec.nearest or DASH) if rec else DASH
            kappa = kappa_text(rec.kappa if rec else None)
        cells = accuracy_cells(labels, acc, None if a is base else base_acc, trained=a.preference)
        shift.append(
            {
                "agent": a.name,
                "preference": a.preference or ("base model" if a is base else DASH),
                "parse": parse,
                "cells": cells,
                "nearest": nearest,
                "kappa": kappa,
                "evaluated": s.evaluated if s is not None else DASH,
                "complete": bool(a.eval and a.eval.complete),
            }
        )
        if a is not base:
            own = acc.get(a.preference) if a.preference else None
            b = base_acc.get(a.preference) if a.preference else None
            headline.append(
                {
                    "agent": a.name,
                    "preference": a.preference or DASH,
                    "nearest": nearest,
                    "accuracy": fmt_number(own),
                    "base": fmt_number(b),
                    "gain": fmt_number(own - b, signed=True) if own is not None and b is not None else DASH,
                }
            )
    # the run shows its adapters' training once, above its agents: not again in each agent's evaluation
    agents = [
        {
            "name": a.name,
            "eval": {**eval_view(a.eval, anchor=f"{anchor}-agent{i}"), "training": None} if a.eval else None,
            "adapter": a.adapter or DASH,
        }
        for i, a in enumerate(r.agents)
    ]
    spec = (r.run.spec if r.run else None) or (r.build.manifest.spec if r.build else None) or r.path.name
    sha = (r.run.spec_sha256 if r.run else None) or (r.build.manifest.spec_sha256 if r.build else None)
    return {
        "anchor": anchor,
        "path": str(r.path),
        "complete": r.run is not None,
        "spec": spec,
        "spec_sha": sha or DASH,
        "labels": labels,
        "shift": shift,
        "headline": headline,
        "base_name": base.name if base else None,
        "training": [train_view(t) for t in r.adapters],
        "transfer": [transfer_view(t) for t in (r.run.transfer if r.run else [])],
        "agents": agents,
        "build": build_view(r.build, anchor=f"{anchor}-build") if r.build else None,
        "notes": list(r.notes),
    }


def _kv_rows(obj: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"key": str(k), "value": _value(v)} for k, v in obj.items()]


def simulation_view(sim: SimulationInput, *, anchor: str) -> dict[str, Any]:
    """One simulation: each agent's means, the collusion index and the benchmarks.

    Args:
        sim: The loaded simulation.
        anchor: The section's id in the page.
    """
    d = sim.data
    per_agent = d.collusion_index.per_agent
    agents = [
        {
            "name": a.name,
            "preference": _value(a.preference),
            "price": fmt_number(a.mean_price_last, digits=4),
            "profit": fmt_number(a.mean_profit_last, digits=4),
            "benchmark": fmt_number(a.benchmark_price, digits=4),
            "failures": _value(a.failures),
            "share": fmt_number(a.mean_share_last),
            "parse": fmt_number(a.parse_rate),
            "collusion": fmt_number(per_agent[i]) if i < len(per_agent) else DASH,
        }
        for i, a in enumerate(d.agents)
    ]
    bench = d.benchmarks
    return {
        "anchor": anchor,
        "path": str(sim.path),
        "spec": d.spec,
        "spec_sha": d.spec_sha256,
        "game": d.game,
        "rounds": _value(d.rounds),
        "last": _value(d.last),
        "n_rounds": fmt_number(sim.n_rounds),
        "params": _kv_rows(d.params),
        "agents": agents,
        "benchmarks": _kv_rows(bench.model_dump(exclude={"moralis"})),
        "moralis": _kv_rows(bench.moralis),
        "joint": fmt_number(d.collusion_index.joint),
        "plots": [{"name": pl.name, "uri": pl.data_uri} for pl in sim.plots],
        "notes": list(sim.notes),
    }


def _is_scalar(v: object) -> bool:
    return not isinstance(v, Mapping | list)


def _json_blocks(value: object, depth: int = 0) -> list[dict[str, Any]]:
    """A JSON value as nested blocks: key/value tables, side-by-side tables of flat objects, record
    tables for lists of objects, and titled sub-sections for the rest (compact JSON below depth 3)."""
    if isinstance(value, Mapping):
        scalars = {k: v for k, v in value.items() if _is_scalar(v) or depth >= 3}
        flat = {
            k: v
            for k, v in value.items()
            if k not in scalars and isinstance(v, Mapping) and v and all(_is_scalar(x) for x in v.values())
        }
        rest = {k: v for k, v in value.items() if k not in scalars and k not in flat}
        blocks: list[dict[str, Any]] = []
        if scalars:
            blocks.append({"type": "kv", "rows": _kv_rows(scalars)})
        if flat:
            fields: list[str] = []
            for obj in flat.values():
                for k in obj:
                    if str(k) not in fields:
                        fields.append(str(k))
            named = {name: {str(k): v for k, v in obj.items()} for name, obj in flat.items()}
            blocks.append(
                {
                    "type": "table",
                    "columns": ["", *[str(n) for n in flat]],
                    "rows": [[f, *[_value(named[n][f]) if f in named[n] else "" for n in flat]] for f in fields],
                }
            )
        for k, v in rest.items():
            blocks.append({"type": "section", "title": str(k), "children": _json_blocks(v, depth + 1)})
        return blocks
    if isinstance(value, list):
        if not value:
            return [{"type": "text", "value": "none"}]
        if all(isinstance(x, Mapping) for x in value):
            cols: list[str] = []
            for x in value:
                for k in x:
                    if str(k) not in cols:
                        cols.append(str(k))
            rows = []
            for x in value:
                named_row = {str(k): v for k, v in x.items()}
                rows.append([_value(named_row[c]) if c in named_row else "" for c in cols])
            return [{"type": "table", "columns": cols, "rows": rows}]
        if all(_is_scalar(x) for x in value):
            return [{"type": "list", "items": [_value(x) for x in value]}]
        return [{"type": "text", "value": compact(value, 2000)}]
    return [{"type": "text", "value": _value(value)}]


def diff_view(diff: DiffInput, *, anchor: str) -> dict[str, Any]:
    """One diff: a region summary per game, grid details collapsed (:mod:`.diff_view`).

    Args:
        diff: The loaded diff.
        anchor: The section's id in the page.
    """
    from .diff_view import diff_view as view

    return view(diff, anchor=anchor, blocks=_json_blocks)


def summary_view(views: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Headline lines and a comparison of every standalone evaluation.

    Args:
        views: ``(kind, view)`` of every section, in page order.
    """
    lines: list[str] = []
    compare_labels: list[str] = []
    compare: list[dict[str, Any]] = []
    for kind, v in views:
        if kind == "run":
            state = "" if v["complete"] else " (unfinished)"
            lines.append(
                f"Run of spec {v['spec']}{state}: {len(v['shift'])} agent(s) evaluated, "
                f"{len(v['training'])} adapter(s) trained."
            )
        elif kind == "eval":
            if v["complete"]:
                near = v["nearest"]["label"] if v["nearest"] else "none"
                k = f"; {v['kappa']['param']} {v['kappa']['text']}" if v["kappa"] else ""
                lines.append(
                    f"{v['agent']} on rubric {v['rubric']} of spec {v['spec']} ({v['badge']['text']}): "
                    f"parse rate {v['parse']}, nearest type {near}{k}."
                )
            else:
                lines.append(f"{v['agent']}: unfinished evaluation, {v['n_records']} answers on disk.")
            for p in v["preferences"]:
                if p["label"] not in compare_labels:
                    compare_labels.append(p["label"])
        elif kind == "simulation":
            lines.append(
                f"Simulation of {v['game']} ({v['rounds']} rounds, spec {v['spec']}): "
                f"joint collusion index {v['joint']}."
            )
        elif kind == "diff":
            n_games = len(v["games"]) + len(v["other"])
            lines.append(f"Diff ({v['kind']}) with {n_games} game entr{'y' if n_games == 1 else 'ies'}.")
        elif kind == "build":
            lines.append(
                f"Build of spec {v['spec']}: {len(v['files'])} files, {len(v['datasets'])} dataset(s), "
                f"{len(v['rubrics'])} rubric(s)."
            )
    for kind, v in views:
        if kind != "eval":
            continue
        acc = {p["label"]: p["accuracy"] for p in v["preferences"]}
        compare.append(
            {
                "agent": v["agent"],
                "anchor": v["anchor"],
                "parse": v["parse"],
                "cells": [acc.get(lab, DASH) for lab in compare_labels],
                "nearest": v["nearest"]["label"] if v["nearest"] else DASH,
                "kappa": v["kappa"]["text"] if v["kappa"] else DASH,
                "complete": v["complete"],
                "badge": v["badge"],
            }
        )
    return {"lines": lines, "labels": compare_labels, "compare": compare}
