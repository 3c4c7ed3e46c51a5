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
    fig = new_figure(max(6.0, 1.2 * len(games) * max(1, len(prefs)) / 2), 4.0)
    ax = fig.add_subplot()
    width = 0.8 / len(prefs)
    for k, p in enumerate(prefs):
        values = [p.accuracy_by_game.get(g, float("nan")) for g in games[:-1]] + [p.accuracy or 0.0]
        xs = [i - 0.4 + width * (k + 0.5) for i in range(len(games))]
        ax.bar(xs, values, width=width, label=p.label)
    ax.set_xticks(range(len(games)), games)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy")
    nearest = f"; nearest: {summary.nearest.label}" if summary.nearest else ""
    ax.set_title(f"{summary.agent or 'agent'}: accuracy per preference{nearest}")
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
    fig = new_figure(6.0, 4.0)
    ax = fig.add_subplot()
    xs = [p.kappa for p in k.profile]
    ys = [p.loglik - k.loglik for p in k.profile]
    ax.plot(xs, ys, color="C0", label="profile log-likelihood (max = 0)")
    ax.axhline(-CHI2_1_95 / 2, color="grey", linestyle="--", linewidth=1, label="95% likelihood-ratio cut")
    ax.axvspan(k.ci_low, k.ci_high, color="C0", alpha=0.15, label=f"95% CI [{k.ci_low:.3f}, {k.ci_high:.3f}]")
    ax.axvline(k.estimate, color="C3", label=f"estimate {k.estimate:.3f}")
    low = min(ys)
    ax.set_ylim(max(low, -6 * CHI2_1_95), 0.5)
    ax.set_xlabel(k.param)
    ax.set_ylabel("log-likelihood - max")
    ax.set_title(f"{k.family}: {k.param} by logit maximum likelihood ({k.n_used} items)")
    ax.legend(fontsize="small", loc="lower center")
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
    fig = new_figure(4.2 * cols, 3.2 * rows)
    axes: list[Any] = [fig.add_subplot(rows, cols, i + 1) for i in range(len(panels))]
    for ax, s in zip(axes, panels, strict=True):
        xs = [p.x for p in s.points]
        labels = sorted({lab for p in s.points for lab in p.targets})
        for j, lab in enumerate(labels):
            ys = [p.targets.get(lab, float("nan")) for p in s.points]
            ax.plot(xs, ys, linestyle="--", marker=".", color=f"C{j + 1}", label=lab)
        agent = [(p.x, p.agent) for p in s.points if p.agent is not None]
        if agent:
            ax.plot(
                [a for a, _ in agent],
                [b for _, b in agent],
                "o-",
                color="C0",
                linewidth=2,
                label=summary.agent or "agent",
            )
        slope = s.agent.slope
        ax.set_title(
            f"{s.game}/{s.role}: {s.action} vs {s.param}" + (f" (slope {slope:.3g})" if slope is not None else ""),
            fontsize="small",
        )
        ax.set_xlabel(s.param)
        ax.set_ylabel(f"P({s.action} = first option)" if s.kind == "choice" else s.action)
    axes[0].legend(fontsize="x-small")
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
