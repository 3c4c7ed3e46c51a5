"""Where everything in a report comes from: specs and their hashes, base models, adapters, rubrics,
agents, and the inputs as given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefc.numbers import DASH, fmt_number
from prefc.version import __version__

from .inputs import BuildInput, EvalInput, LoadedInput, RunInput, SimulationInput, TrainInput
from .views import train_view

__all__ = ["provenance"]


def provenance(loaded: Sequence[LoadedInput], given: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The provenance section: every spec (warning when one appears with several hashes), base model,
    adapter, rubric and agent the inputs name.

    Args:
        loaded: The loaded inputs.
        given: ``(path as given, kind)`` of each input.
    """
    specs: dict[tuple[str, str], list[str]] = {}

    def spec(name: object, sha: object, where: str) -> None:
        if name is None and sha is None:
            return
        key = (str(name or DASH), str(sha or DASH))
        specs.setdefault(key, [])
        if where not in specs[key]:
            specs[key].append(where)

    models: dict[tuple[str, str, str], list[str]] = {}
    adapters: list[dict[str, Any]] = []
    rubrics: dict[tuple[str, str, str], dict[str, Any]] = {}
    versions: set[str] = set()
    agents: list[dict[str, str]] = []

    def add_eval(ev: EvalInput, where: str) -> None:
        s = ev.summary
        if s is not None:
            spec(s.spec, s.spec_sha256, where)
            key = (str(s.spec or DASH), str(s.rubric or DASH), str(s.spec_sha256 or DASH))
            rubrics.setdefault(
                key,
                {
                    "spec": key[0],
                    "rubric": key[1],
                    "sha": key[2],
                    "file_sha": DASH,
                    "tolerance": fmt_number(s.tolerance),
                    "used_by": [],
                },
            )["used_by"].append(ev.agent)
        agents.append(
            {
                "agent": ev.agent,
                "scoring": s.scoring if s else DASH,
                "path": str(ev.path),
                "status": s.evaluated if s else "partial",
            }
        )
        if ev.training is not None:
            add_adapter(ev.training)

    def add_adapter(t: TrainInput) -> None:
        if any(a["path"] == str(t.path) for a in adapters):
            return
        m = t.metadata
        if m is not None:
            spec(m.spec, m.spec_sha256, str(t.path))
            bm = m.base_model
            models.setdefault((bm.name, bm.path, bm.config_sha256), []).append(t.path.name)
        adapters.append(train_view(t))

    def add_build(b: BuildInput, where: str) -> None:
        m = b.manifest
        spec(m.spec, m.spec_sha256, where)
        versions.add(m.prefc_version)
        for name, r in b.rubrics:
            key = (m.spec, name, m.spec_sha256)
            entry = rubrics.setdefault(
                key,
                {
                    "spec": key[0],
                    "rubric": key[1],
                    "sha": key[2],
                    "file_sha": DASH,
                    "tolerance": fmt_number(r.tolerance),
                    "used_by": [],
                },
            )
            f = m.entry(f"{name}.jsonl")
            if f is not None:
                entry["file_sha"] = f.sha256

    for item in loaded:
        where = str(item.path)
        if isinstance(item, EvalInput):
            add_eval(item, where)
        elif isinstance(item, BuildInput):
            add_build(item, where)
        elif isinstance(item, RunInput):
            if item.run is not None:
                spec(item.run.spec, item.run.spec_sha256, where)
            if item.build is not None:
                add_build(item.build, str(item.build.path))
            for t in item.adapters:
                add_adapter(t)
            for a in item.agents:
                if a.eval is not None:
                    add_eval(a.eval, str(a.eval.path))
        elif isinstance(item, SimulationInput):
            spec(item.data.spec, item.data.spec_sha256, where)
    by_name: dict[str, set[str]] = {}
    for name, sha in specs:
        by_name.setdefault(name, set()).add(sha)
    warnings = [
        f"spec {name!s} appears with {len(shas)} different sha256 values: the inputs come from different versions of it"
        for name, shas in sorted(by_name.items())
        if len(shas - {DASH}) > 1
    ]
    return {
        "version": __version__,
        "build_versions": ", ".join(sorted(versions)) or DASH,
        "specs": [{"name": n, "sha": s, "where": w} for (n, s), w in sorted(specs.items())],
        "models": [
            {"name": n, "path": p, "sha": s, "used_by": ", ".join(u)} for (n, p, s), u in sorted(models.items())
        ],
        "adapters": adapters,
        "rubrics": [{**v, "used_by": ", ".join(v["used_by"]) or DASH} for _, v in sorted(rubrics.items())],
        "agents": agents,
        "inputs": [{"given": g, "kind": k} for g, k in given],
        "warnings": warnings,
    }
