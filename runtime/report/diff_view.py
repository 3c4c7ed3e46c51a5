"""The view of a diff: regions first, grid details collapsed.

A spec or preference diff is summarised per game by its regions: where the compared preferences'
optimal actions differ (the closed-form condition, one row per part of the answer), each side's
regimes (condition and outcome, one row per regime), the share of the grid that differs and an
example. The per-point boundaries and every grid point are kept, as readable text (``k = 2,
kappa = 0.55``, never raw JSON cells), in collapsed ``<details>``. A results diff (two agents'
answers) keeps its tables of tests, each game in its own collapsed block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefc.numbers import fmt_number

from .inputs import DiffInput

__all__ = ["diff_view", "point_text"]


def point_text(*parts: Mapping[str, Any] | None) -> str:
    """Parameter values as ``k = 2, kappa = 0.55`` (``defaults`` when there are none).

    Args:
        parts: Mappings of parameter name to value (merged in order).
    """
    merged: dict[str, Any] = {}
    for p in parts:
        merged.update(p or {})
    return ", ".join(f"{k} = {_number(v)}" for k, v in merged.items()) or "defaults"


def _number(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    return fmt_number(v, style="general", digits=4)


def _outcome(outcome: Any) -> str:
    if isinstance(outcome, Mapping):
        return ", ".join(f"{k} = {v}" for k, v in outcome.items())
    return str(outcome)


def _sides(cf: Mapping[str, Any], names: tuple[str, str]) -> list[dict[str, Any]]:
    """Each side's regimes: one row per (condition, outcome)."""
    rows = []
    for key, name in zip(("a", "b"), names, strict=True):
        side = (cf.get("sides") or {}).get(key) or {}
        for r in side.get("regimes") or []:
            rows.append(
                {
                    "side": name,
                    "condition": str(r.get("condition", "")),
                    "outcome": _outcome(r.get("outcome")),
                    "indifferent": bool(r.get("indifferent")),
                }
            )
    return rows


def _game(entry: Mapping[str, Any]) -> dict[str, Any]:
    a, b = entry.get("a") or {}, entry.get("b") or {}
    names = (str(a.get("name", "A")), str(b.get("name", "B")))
    same_pref = a.get("preference") == b.get("preference")
    compared = str(a.get("preference")) if same_pref else f"{a.get('preference')} vs {b.get('preference')}"
    cf = entry.get("closed_form") or None
    counts = entry.get("counts") or {}
    share = entry.get("share_differ")
    grid = entry.get("grid") or {}
    swept = {**(grid.get("params") or {}), **(grid.get("free") or {})}
    example = entry.get("example")
    regions: list[dict[str, str]] = []
    boundaries: list[dict[str, str]] = []
    if cf:
        parts = cf.get("parts") or []
        for part in parts or [cf]:
            regions.append(
                {
                    "part": str(part.get("name") or part.get("description") or "answer"),
                    "region": str(part.get("region", "")),
                    "general": str(part.get("region_general", ""))
                    if part.get("region_general") != part.get("region")
                    else "",
                }
            )
        for bd in cf.get("boundaries") or []:
            boundaries.append({"where": point_text(bd.get("params")), "text": str(bd.get("text", ""))})
    points = [
        {
            "where": point_text(p.get("params"), p.get("free")),
            "status": str(p.get("status", "")),
            "a": str(p.get("a", "")),
            "b": str(p.get("b", "")),
            "closed_form": str(p.get("closed_form") or ""),
        }
        for p in entry.get("points") or []
    ]
    agreement = entry.get("agreement") or {}
    return {
        "title": str(entry.get("game", "game")),
        "names": names,
        "compared": compared,
        "status": str(entry.get("status", "")),
        "error": entry.get("error"),
        "share": "—" if share is None else f"{share:.0%}",
        "counts": ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "—",
        "n_points": sum(int(n) for n in counts.values() if isinstance(n, int)),
        "swept": "; ".join(f"{k} in {{{', '.join(_number(x) for x in v)}}}" for k, v in swept.items()) or "defaults",
        "grid_notes": [str(n) for n in grid.get("notes") or []],
        "region": str(cf.get("region", "")) if cf else "",
        "closed_form_note": str(entry.get("closed_form_note") or ""),
        "method": str(cf.get("method", "")) if cf else "",
        "regions": regions,
        "regimes": _sides(cf, names) if cf else [],
        "facts": [str(x) for x in (cf or {}).get("facts") or []],
        "assumptions": [str(x) for x in (cf or {}).get("assumptions") or []],
        "indifference": [str(x) for x in (cf or {}).get("indifference") or []],
        "boundaries": boundaries,
        "example": None
        if not example
        else {
            "where": point_text(example.get("params"), example.get("free")),
            "a": str(example.get("a", "")),
            "b": str(example.get("b", "")),
        },
        "agreement": (
            ""
            if not agreement
            else f"the grid and the closed form agree at all {agreement.get('checked')} points"
            if agreement.get("agree")
            else f"the grid and the closed form disagree at {agreement.get('mismatched')} of "
            f"{agreement.get('checked')} points"
        ),
        "points": points,
    }


def diff_view(diff: DiffInput, *, anchor: str, blocks: Any) -> dict[str, Any]:
    """One diff: a region summary per game, grid details collapsed.

    Args:
        diff: The loaded diff.
        anchor: The section's id in the page.
        blocks: The function writing any JSON value as nested table blocks (for results diffs).
    """
    d = diff.data.to_data()
    entries = d.get("games") or []
    spec_like = d.get("kind") != "results"
    games = [_game(g) for g in entries] if spec_like else []
    other = (
        []
        if spec_like
        else [
            {
                "title": " / ".join(str(g[k]) for k in ("game", "role", "action") if g.get(k)) or f"entry {i + 1}",
                "blocks": blocks(g, 1),
            }
            for i, g in enumerate(entries)
        ]
    )
    rest = {k: v for k, v in d.items() if k not in ("kind", "inputs", "games", "schema_version", "summary", "skipped")}
    inputs = [f"{i.get('spec') or i.get('agent') or ''} ({i.get('path', '')})" for i in d.get("inputs") or []]
    return {
        "anchor": anchor,
        "path": str(diff.path),
        "kind": str(d.get("kind")),
        "inputs": inputs,
        "overview": [
            {
                "game": g["title"],
                "compared": g["compared"],
                "region": g["region"] or g["closed_form_note"] or "—",
                "share": g["share"],
                "status": g["status"],
            }
            for g in games
        ],
        "skipped": [f"{s.get('game')}: {s.get('reason')}" for s in d.get("skipped") or []],
        "games": games,
        "other": other,
        "rest": blocks(rest) if rest else [],
        "plots": {pl.name: {"name": pl.name, "uri": pl.data_uri} for pl in diff.plots},
        "extra_plots": [
            {"name": pl.name, "uri": pl.data_uri}
            for pl in diff.plots
            if pl.name not in {f"diff_{g['title']}.png" for g in games}
        ],
        "notes": list(diff.notes),
    }
