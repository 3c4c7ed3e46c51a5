"""PNG plots of ``prefc diff`` results (matplotlib's Agg canvas; imported only when plotting).

* spec and preference diffs: ``diff_<game>.png`` per game, a map of the grid (rows: the swept game
  parameter combinations; columns: the free preference parameter's values) coloured by whether the
  two sides' equilibria are the same, overlap or differ, with the closed-form boundaries marked;
  one panel per compared preference when a spec diff compares several;
* results diffs: ``diff_results.png``, accuracy against every preference for both runs (grouped
  bars, significant differences starred) and each game's choices (option shares for discrete
  actions, means with the median marked for numeric ones).

Every file is written to a temporary name in the output directory first, then moved into place.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from prefc.numbers import fmt_number

from .plots import new_figure, save_png, wrap_title

_STATUS = {"same": 0, "overlap": 1, "differ": 2, "error": 3}
_COLOURS = ["#e8e8e8", "#f4a742", "#c0392b", "#333333"]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "game"


def _boundary_edges(entry: dict[str, Any]) -> list[tuple[int, float]]:
    """(row, value) of each closed-form boundary the panel draws: with one free parameter, the
    interval ends strictly inside its swept range."""
    free = list((entry.get("grid") or {}).get("free") or {})
    points = entry.get("points") or []
    if len(free) != 1 or not points:
        return []
    values = sorted({float(p["free"][free[0]]) for p in points if free[0] in p["free"]})
    if not values:
        return []
    edges = []
    for i, b in enumerate((entry.get("closed_form") or {}).get("boundaries") or []):
        for iv in b.get("intervals") or []:
            for edge in sorted({iv["lo"], iv["hi"]}):
                if values[0] < edge < values[-1]:
                    edges.append((i, edge))
    return edges


def _panel(ax: Any, entry: dict[str, Any]) -> None:
    from matplotlib.colors import ListedColormap

    points = entry.get("points") or []
    free = list((entry.get("grid") or {}).get("free") or {})
    rows: list[tuple] = []
    cols: list[tuple] = []
    for p in points:
        r = tuple(p["params"].items())
        c = tuple(p["free"].items())
        if r not in rows:
            rows.append(r)
        if c not in cols:
            cols.append(c)
    grid = [[float("nan")] * len(cols) for _ in rows]
    for p in points:
        grid[rows.index(tuple(p["params"].items()))][cols.index(tuple(p["free"].items()))] = _STATUS[p["status"]]
    cmap = ListedColormap(_COLOURS)
    ax.imshow(grid, aspect="auto", cmap=cmap, vmin=-0.5, vmax=3.5, interpolation="nearest")
    ax.set_yticks(
        range(len(rows)),
        [", ".join(f"{k}={fmt_number(v, style='general', digits=6)}" for k, v in r) or "defaults" for r in rows],
        fontsize="small",
    )
    if len(free) == 1:
        values = [c[0][1] for c in cols]
        step = max(1, len(values) // 10)
        ax.set_xticks(
            range(0, len(values), step),
            [fmt_number(values[i], style="general", digits=6) for i in range(0, len(values), step)],
            fontsize="small",
        )
        ax.set_xlabel(free[0])
        lo_v, hi_v = float(values[0]), float(values[-1])
        span = (hi_v - lo_v) or 1.0
        for i, edge in _boundary_edges(entry):
            x = (edge - lo_v) / span * (len(values) - 1)
            ax.plot([x, x], [i - 0.45, i + 0.45], color="black", linewidth=1.5)
    else:
        ax.set_xticks(
            range(len(cols)),
            [", ".join(f"{k}={fmt_number(v, style='general', digits=6)}" for k, v in c) or "—" for c in cols],
            fontsize="small",
            rotation=90 if len(cols) > 6 else 0,
        )
    a, b = entry["a"], entry["b"]
    share = entry.get("share_differ")
    title = f"{a['name']} vs {b['name']}" if a["name"] != b["name"] else a["name"]
    if a["preference"] == b["preference"] and a["name"] != a["preference"]:
        title += f" ({a['preference']})"
    ax.set_title(f"{title}: {share:.0%} of the grid differs" if share is not None else title, fontsize="medium")


BOUNDARY = "closed-form boundary"


def legend_entries(entries: list[dict[str, Any]]) -> list[str]:
    """The legend of a game's diff plot: the statuses its points have, and the boundary line when
    one is drawn (never an entry for something the plot does not show).

    Args:
        entries: The game's diff entries.
    """
    present = {p.get("status") for e in entries for p in e.get("points") or []}
    labels = [s for s in _STATUS if s in present]
    if any(_boundary_edges(e) for e in entries):
        labels.append(BOUNDARY)
    return labels


def plot_spec_diff(data: dict[str, Any], out_dir: str | os.PathLike[str]) -> list[Path]:
    """One PNG per game of a spec or preference diff (``diff_<game>.png``).

    Args:
        data: The diff's JSON (``kind`` ``specs`` or ``preferences``).
        out_dir: The output directory (created).

    Returns:
        The files written.
    """
    from matplotlib.patches import Patch

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_game: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in data.get("games") or []:
        if entry.get("points"):
            by_game[entry["game"]].append(entry)
    written = []
    for game, entries in by_game.items():
        n_rows = max(len({tuple(p["params"].items()) for p in e["points"]}) for e in entries)
        height = min(3.0 + 0.28 * n_rows, 12.0)
        fig = new_figure(8.0, height * len(entries) if len(entries) <= 2 else 4.0 * len(entries))
        axes = fig.subplots(len(entries), 1, squeeze=False)[:, 0]
        for ax, entry in zip(axes, entries, strict=True):
            _panel(ax, entry)
        from matplotlib.lines import Line2D

        fig.suptitle(wrap_title(f"{game}: where the equilibria differ (lines: closed-form boundaries)", 8.0))
        colour = dict(zip(_STATUS, _COLOURS, strict=True))
        handles: list[Any] = [
            Line2D([], [], color="black", linewidth=1.5, label=label)
            if label == BOUNDARY
            else Patch(color=colour[label], label=label)
            for label in legend_entries(entries)
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize="small")
        written.append(save_png(fig, out / f"diff_{_safe(game)}.png"))
    return written


def plot_results_diff(data: dict[str, Any], out_dir: str | os.PathLike[str]) -> Path | None:
    """Accuracy per preference and each game's choices for two runs (``diff_results.png``).

    Args:
        data: The diff's JSON (``kind`` ``results``).
        out_dir: The output directory (created).

    Returns:
        The file written, or None when there is nothing to plot.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = [i["agent"] for i in data["inputs"]]
    if names[0] == names[1]:
        names = [f"{names[0]} ({Path(i['path']).name})" for i in data["inputs"]]
    acc = [t for t in data.get("overall") or [] if str(t["what"]).startswith("accuracy vs ")]
    groups = data.get("games") or []
    if not acc and not groups:
        return None
    n_panels = 1 + len(groups)
    cols = min(3, n_panels)
    rows = (n_panels + cols - 1) // cols
    fig = new_figure(5.0 * cols, 3.8 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    colours = ["#2c7fb8", "#d95f0e"]
    ax = axes[0]
    labels = [t["what"].removeprefix("accuracy vs ") for t in acc]
    for s in range(2):
        vals = [(t["a"] if s == 0 else t["b"]) or 0.0 for t in acc]
        ax.bar([i - 0.2 + 0.4 * s for i in range(len(acc))], vals, width=0.4, color=colours[s], label=names[s])
    for i, t in enumerate(acc):
        if t["significant"]:
            ax.text(i, max(t["a"] or 0, t["b"] or 0) + 0.03, "*", ha="center", fontsize="large")
    ax.set_xticks(range(len(acc)), labels, rotation=20, ha="right", fontsize="small")
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("accuracy")
    ax.set_title("accuracy per preference (* beyond noise)", fontsize="medium")
    ax.legend(fontsize="small", loc="best", framealpha=0.9)
    for ax, g in zip(axes[1:], groups, strict=False):
        star = " *" if g["choice"]["significant"] else ""
        ax.set_title(f"{g['game']}: {g['role']}.{g['action']}{star}", fontsize="medium")
        if g["kind"] == "discrete":
            options = list(g["a"].get("counts") or {})
            for s, side in enumerate((g["a"], g["b"])):
                props = [(side.get("proportions") or {}).get(o) or 0.0 for o in options]
                ax.bar([i - 0.2 + 0.4 * s for i in range(len(options))], props, width=0.4, color=colours[s])
            ax.set_xticks(range(len(options)), options, fontsize="small")
            ax.set_ylim(0, 1.05)
            ax.set_ylabel("share of answers")
        else:
            for s, side in enumerate((g["a"], g["b"])):
                if side.get("mean") is None:
                    continue
                err = side.get("sd") or 0.0
                ax.bar([s], [side["mean"]], yerr=[err], color=colours[s], capsize=4)
                ax.plot([s - 0.3, s + 0.3], [side["median"]] * 2, color="black", linewidth=2)
            ax.set_xticks([0, 1], names, fontsize="small")
            ax.set_ylabel(f"{g['action']} (bar: mean ± sd, line: median)")
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    fig.suptitle(f"{names[0]} vs {names[1]}")
    return save_png(fig, out / "diff_results.png")
