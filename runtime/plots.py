"""PNG plots of an evaluation summary (matplotlib's Agg canvas; imported only when plotting).

* ``accuracy.png``: accuracy against each preference, per game and overall (grouped bars);
* ``kappa_profile.png``: the profile log-likelihood of the family parameter, with the estimate and
  the 95% likelihood-ratio interval;
* ``incentives.png``: the agent's mean choice against each varying parameter, with each
  preference's theory line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .files import atomic_write_with
from .score import CHI2_1_95, Summary

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> Figure:
    """A matplotlib figure drawn off-screen (no display, no pyplot state).

    Args:
        width: Width in inches (100 dpi).
        height: Height in inches.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def wrap_title(text: str, width_in: float, *, size: float = 12.0) -> str:
    """A title broken into lines that fit a figure ``width_in`` inches wide (matplotlib cuts a
    title wider than its figure instead of wrapping it).

    Args:
        text: The title.
        width_in: The figure's (or panel's) width in inches.
        size: The font size in points.
    """
    import textwrap

    per_line = max(20, int(width_in * 72 / (0.55 * size)))
    return "\n".join(textwrap.wrap(text, per_line, break_long_words=False, break_on_hyphens=False)) or text


def save_png(fig: Figure, path: Path) -> Path:
    """Write a figure as a PNG, atomically.

    Args:
        fig: The figure.
        path: The target file.
    """
    return atomic_write_with(path, lambda tmp: fig.savefig(tmp, format="png"), suffix=".png")


def plot_accuracy(summary: Summary, path: Path) -> Path | None:
    """Bars of accuracy against each preference, per game and overall.

    Args:
        summary: The evaluation summary.
        path: Where to write the PNG.

    Returns:
        The path written, or None when there is nothing to plot.
    """
    prefs = [p for p in summary.preferences if p.accuracy is not None]
    if not prefs:
        return None
    games = sorted({g for p in prefs for g in p.accuracy_by_game}) + ["all"]
    fig_width = max(6.0, 1.2 * len(games) * max(1, len(prefs)) / 2)
    fig = new_figure(fig_width, 4.0)
    ax = fig.add_subplot()
    width = 0.8 / len(prefs)
    for k, p in enumerate(prefs):
        values = [p.accuracy_by_game.get(g, float("nan")) for g in games[:-1]] + [p.accuracy or 0.0]
        xs = [i - 0.4 + width * (k + 0.5) for i in range(len(games))]
        # an accuracy of 0 is a bar of no height: a marker on the axis shows it is there
        ax.bar(xs, values, width=width, label=p.label, color=f"C{k}")
        zeros = [x for x, v in zip(xs, values, strict=True) if v == 0]
        if zeros:
            ax.plot(
                zeros,
                [0.0] * len(zeros),
                linestyle="none",
                marker="_",
                markersize=12,
                markeredgewidth=3,
                color=f"C{k}",
                clip_on=False,
            )
    ax.set_xticks(range(len(games)), games)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy")
    nearest = f"; nearest: {summary.nearest.label}" if summary.nearest else ""
    ax.set_title(wrap_title(f"{summary.agent or 'agent'}: accuracy per preference{nearest}", fig_width * 0.75))
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    save_png(fig, path)
    return path


def plot_kappa_profile(summary: Summary, path: Path) -> Path | None:
    """The profile log-likelihood of the family parameter with the estimate and its interval.

    Args:
        summary: The evaluation summary.
        path: Where to write the PNG.

    Returns:
        The path written, or None without a kappa estimate.
    """
    k = summary.kappa
    if k is None or not k.profile:
        return None
    fig = new_figure(6.0, 4.6)
    ax = fig.add_subplot()
    xs = [p.kappa for p in k.profile]
    ys = [p.loglik - k.loglik for p in k.profile]
    cut = -CHI2_1_95 / 2
    ax.axvspan(k.ci_low, k.ci_high, color="C0", alpha=0.15, zorder=1)
    ax.axvline(k.estimate, color="C3", linewidth=1, zorder=2, label=f"estimate {k.estimate:.3f}")
    ax.axhline(cut, color="grey", linestyle="--", linewidth=1, zorder=2, label="95% likelihood-ratio cut")
    ax.plot(xs, ys, color="C0", zorder=3, label="profile log-likelihood (max = 0)")
    # the interval as a bar on the cut line, with end caps: visible however narrow it is
    ax.plot(
        [k.ci_low, k.ci_high],
        [cut, cut],
        color="C2",
        linewidth=3,
        marker="|",
        markersize=14,
        markeredgewidth=2,
        zorder=4,
        label=f"95% CI [{k.ci_low:.3f}, {k.ci_high:.3f}]",
    )
    low = min(ys)
    ax.set_ylim(max(low, -6 * CHI2_1_95), 0.5)
    ax.set_xlabel(k.param)
    ax.set_ylabel("log-likelihood - max")
    ax.set_title(wrap_title(f"{k.family}: {k.param} by logit maximum likelihood ({k.n_used} items)", 6.0))
    fig.legend(fontsize="small", loc="outside lower center", ncols=2)
    save_png(fig, path)
    return path


def plot_incentives(summary: Summary, path: Path, *, max_panels: int = 12) -> Path | None:
    """The agent's mean choice against each varying parameter, with theory lines per preference.

    Args:
        summary: The evaluation summary.
        path: Where to write the PNG.
        max_panels: Plot at most this many (game, action, parameter) panels.

    Returns:
        The path written, or None without varying parameters.
    """
    panels = [s for s in summary.incentives if s.points][:max_panels]
    if not panels:
        return None
    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig = new_figure(4.2 * cols, 3.2 * rows + 0.6)
    axes: list[Any] = [fig.add_subplot(rows, cols, i + 1) for i in range(len(panels))]
    every = sorted({lab for s in panels for p in s.points for lab in p.targets})
    colour = {lab: f"C{j + 1}" for j, lab in enumerate(every)}  # one colour per preference in every panel
    handles: dict[str, Any] = {}
    agent_name = summary.agent or "agent"
    for ax, s in zip(axes, panels, strict=True):
        xs = [p.x for p in s.points]
        agent = [(p.x, p.agent) for p in s.points if p.agent is not None]
        if agent:  # drawn first, wide and pale: the theory lines on top of it stay visible
            (line,) = ax.plot(
                [a for a, _ in agent],
                [b for _, b in agent],
                "o-",
                color="C0",
                linewidth=5,
                markersize=8,
                alpha=0.45,
                zorder=2,
                label=agent_name,
            )
            handles.setdefault(agent_name, line)
        # theory lines that coincide are stacked, the first widest: each shows as a band around the next
        series: dict[tuple[float, ...], list[str]] = {}
        for lab in every:
            if not any(lab in p.targets for p in s.points):
                continue
            ys = tuple(p.targets.get(lab, float("nan")) for p in s.points)
            series.setdefault(tuple(round(y, 9) if y == y else float("inf") for y in ys), []).append(lab)
        for key, labs in series.items():
            heights = [float("nan") if y == float("inf") else y for y in key]
            for i, lab in enumerate(labs):
                (line,) = ax.plot(
                    xs,
                    heights,
                    linestyle="--" if i == len(labs) - 1 else "-",
                    marker=".",
                    color=colour[lab],
                    linewidth=1.5 + 2.5 * (len(labs) - 1 - i),
                    zorder=3 + i,
                    label=lab,
                )
                handles.setdefault(lab, line)
        slope = s.agent.slope
        ax.set_title(
            wrap_title(
                f"{s.game}/{s.role}: {s.action} vs {s.param}" + (f" (slope {slope:.3g})" if slope is not None else ""),
                4.2,
                size=10,
            ),
            fontsize="small",
        )
        ax.set_xlabel(s.param)
        ax.set_ylabel(f"P({s.action} = first option)" if s.kind == "choice" else s.action)
    from matplotlib.lines import Line2D

    for lab in every:  # legend entries as the lines look alone (a stacked line is drawn wider)
        if lab in handles:
            handles[lab] = Line2D([], [], linestyle="--", marker=".", color=colour[lab], linewidth=1.5)
    order = [agent_name, *every]
    shown = [lab for lab in order if lab in handles]
    fig.legend(
        handles=[handles[lab] for lab in shown],
        labels=shown,
        fontsize="small",
        loc="outside lower center",
        ncols=min(5, len(shown)),
    )
    save_png(fig, path)
    return path


def write_plots(summary: Summary, out_dir: Path) -> list[Path]:
    """Write every plot that has data into ``out_dir``.

    Args:
        summary: The evaluation summary.
        out_dir: The evaluation's output directory.

    Returns:
        The PNG files written.
    """
    out = Path(out_dir)
    made = [
        plot_accuracy(summary, out / "accuracy.png"),
        plot_kappa_profile(summary, out / "kappa_profile.png"),
        plot_incentives(summary, out / "incentives.png"),
    ]
    return [p for p in made if p is not None]
