"""What a simulation leaves: per-agent means, the collusion index and benchmarks, the price plot
and the result table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from prefc.artefacts import AgentSummary, Benchmarks, CollusionIndex, RoundRecord, SimulationSummary
from prefc.numbers import fmt_number

from .market import REFERENCE_KAPPAS, PricingMarket
from .players import Player, TheoryPricer

__all__ = [
    "SimulationResult",
    "plot_prices",
    "plot_profits",
    "print_simulation",
    "summarize_agents",
    "theory_benchmarks",
]


@dataclass
class SimulationResult:
    """What :func:`simulate` produced.

    Attributes:
        summary: The summary (also in ``simulation.json``).
        rounds: Every round played.
        out_dir: The output directory.
        rounds_path: ``rounds.jsonl``.
        summary_path: ``simulation.json``.
        plot_path: ``prices.png`` (None when plots were off).
    """

    summary: SimulationSummary
    rounds: list[RoundRecord]
    out_dir: Path
    rounds_path: Path
    summary_path: Path
    plot_path: Path | None


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _index(profit: float | None, b: Benchmarks) -> float | None:
    span = b.monopoly_profit - b.nash_profit
    if profit is None or abs(span) < 1e-12:
        return None
    return (profit - b.nash_profit) / span


def _kappa_key(k: Fraction) -> str:
    return f"{float(k):g}"


def theory_benchmarks(market: PricingMarket, theory: Sequence[TheoryPricer]) -> Benchmarks:
    """The market's benchmarks: Nash and joint-profit prices and profits, and the homo moralis
    symmetric price at kappa 0.25, 0.5, 0.75 and at every theory player's kappa.

    Args:
        market: The market.
        theory: The theory players taking part.
    """
    nash, mono = market.nash_price(), market.monopoly_price()
    kappas = set(REFERENCE_KAPPAS)
    for p in theory:
        if p.point.name == "moralis":
            kappas.add(Fraction(dict(p.point.values).get("kappa", Fraction(1, 2))))
    moralis: dict[str, float] = {}
    for k in sorted(kappas):
        point = market.moralis_point(k)
        if point is not None:
            moralis[_kappa_key(k)] = market.symmetric_price(point)
    return Benchmarks(
        nash_price=nash,
        monopoly_price=mono,
        nash_profit=market.profit(nash, nash),
        monopoly_profit=market.profit(mono, mono),
        moralis=moralis,
    )


def summarize_agents(
    rounds: Sequence[RoundRecord], players: Sequence[Player], names: Sequence[str], benchmarks: Benchmarks, last: int
) -> tuple[list[AgentSummary], CollusionIndex]:
    """Each agent's means over the last rounds, and the collusion index.

    Args:
        rounds: The rounds played.
        players: The players, in play order.
        names: Their names in the results.
        benchmarks: The market's benchmarks.
        last: Rounds (the last ones) averaged.
    """
    window = list(rounds[-last:]) if rounds else []
    agents = []
    for i, (player, name) in enumerate(zip(players, names, strict=True)):
        moves = [r.agents[i] for r in rounds]
        recent = [r.agents[i] for r in window]
        theory = player if isinstance(player, TheoryPricer) else None
        failures = sum(1 for m in moves if m.error is not None)
        agents.append(
            AgentSummary(
                name=name,
                kind="theory" if theory else "agent",
                preference=theory.preference if theory else None,
                mean_price_last=_mean([m.price for m in recent]),
                mean_profit_last=_mean([m.profit for m in recent]),
                mean_share_last=_mean([m.share for m in recent]),
                failures=failures,
                parse_rate=(1 - failures / len(moves)) if moves else None,
                benchmark_price=theory.market.symmetric_price(theory.point) if theory else None,
            )
        )
    joint = _mean([_mean([m.profit for m in r.agents]) for r in window])
    index = CollusionIndex(
        per_agent=[_index(a.mean_profit_last, benchmarks) for a in agents], joint=_index(joint, benchmarks)
    )
    return agents, index


def plot_prices(summary: SimulationSummary, rounds: Sequence[RoundRecord], path: Path) -> Path:
    """Price paths of both agents with the benchmark prices as horizontal lines, as a PNG.

    Args:
        summary: The simulation summary (benchmarks, agents).
        rounds: The rounds played.
        path: Where to write the PNG (atomically).

    Returns:
        The path written.
    """
    from ..plots import new_figure, save_png, wrap_title

    fig = new_figure(8.0, 4.5)
    ax = fig.add_subplot()
    start = summary.params.get("initial_price")
    xs = ([0] if start is not None else []) + [r.round for r in rounds]
    colours = ["tab:blue", "tab:orange"]
    for i, agent in enumerate(summary.agents):
        ys = ([start] if start is not None else []) + [r.agents[i].price for r in rounds]
        ax.plot(xs, ys, color=colours[i % 2], linewidth=1.3, label=f"{agent.name}")
        held = [(r.round, r.agents[i].price) for r in rounds if r.agents[i].held]
        if held:
            ax.plot(
                [h[0] for h in held],
                [h[1] for h in held],
                linestyle="none",
                marker="x",
                markersize=4,
                color=colours[i % 2],
                label=f"{agent.name}: held ({len(held)})",
            )
    b = summary.benchmarks
    drawn: list[float] = []

    def hline(y: float, label: str, **style: Any) -> None:
        if any(abs(y - d) < 1e-6 for d in drawn):
            return
        drawn.append(y)
        ax.axhline(y, linewidth=1.0, label=f"{label} {y:.4f}", **style)

    hline(b.nash_price, "Nash", color="black", linestyle="--")
    hline(b.monopoly_price, "joint profit", color="tab:red", linestyle="--")
    for agent in summary.agents:
        if agent.benchmark_price is not None:
            hline(agent.benchmark_price, f"{agent.preference}", color="tab:green", linestyle=":")
    ax.set_xlabel("round")
    ax.set_ylabel(summary.params.get("action", "price"))
    ax.set_title(
        wrap_title(f"{summary.game}: {summary.agents[0].name} vs {summary.agents[1].name}", 5.5, size=10),
        fontsize="medium",
    )
    ax.set_xlim(0, max(xs + [1]))
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return save_png(fig, path)


def plot_profits(summary: SimulationSummary, rounds: Sequence[RoundRecord], path: Path) -> Path | None:
    """Each agent's profit per round with the Nash and joint-profit benchmarks, and the collusion
    index per round (the joint profit's place between Nash, 0, and joint-profit maximisation, 1)
    with its running mean over the summary's window, as a PNG.

    Args:
        summary: The simulation summary (benchmarks, agents, ``last``).
        rounds: The rounds played.
        path: Where to write the PNG (atomically).

    Returns:
        The path written, or None when no round was played.
    """
    from ..plots import new_figure, save_png, wrap_title

    if not rounds:
        return None
    b = summary.benchmarks
    fig = new_figure(8.0, 6.0)
    top, bottom = fig.subplots(2, 1, sharex=True)
    xs = [r.round for r in rounds]
    colours = ["tab:blue", "tab:orange"]
    styles = ["-", (0, (4, 2))]  # the second agent dashed: a profit path under the other's stays visible
    for i, agent in enumerate(summary.agents):
        top.plot(
            xs,
            [r.agents[i].profit for r in rounds],
            color=colours[i % 2],
            linestyle=styles[i % 2],
            linewidth=1.3,
            label=agent.name,
        )
    top.axhline(b.nash_profit, color="black", linestyle="--", linewidth=1.0, label=f"Nash {b.nash_profit:.4f}")
    top.axhline(
        b.monopoly_profit, color="tab:red", linestyle="--", linewidth=1.0, label=f"joint profit {b.monopoly_profit:.4f}"
    )
    top.set_ylabel("profit")
    top.set_title(wrap_title(f"{summary.game}: profit and collusion index per round", 5.5, size=10), fontsize="medium")
    top.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    span = b.monopoly_profit - b.nash_profit
    if abs(span) > 1e-12:
        index = [(sum(m.profit for m in r.agents) / len(r.agents) - b.nash_profit) / span for r in rounds]
        window = max(1, summary.last)
        running = [
            sum(index[max(0, k - window + 1) : k + 1]) / len(index[max(0, k - window + 1) : k + 1])
            for k in range(len(index))
        ]
        bottom.plot(xs, index, color="tab:purple", linewidth=1.0, alpha=0.6, label="per round")
        bottom.plot(xs, running, color="black", linewidth=1.5, label=f"mean of the last {window} rounds")
        bottom.axhline(0.0, color="black", linestyle="--", linewidth=0.8, label="Nash (0)")
        bottom.axhline(1.0, color="tab:red", linestyle="--", linewidth=0.8, label="joint profit (1)")
        bottom.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    bottom.set_ylabel("collusion index")
    bottom.set_xlabel("round")
    bottom.set_xlim(0, max(xs + [1]))
    return save_png(fig, path)


def print_simulation(summary: SimulationSummary, *, console: Any = None) -> None:
    """Print the result table: mean prices and profits, collusion index, failures, benchmarks.

    Args:
        summary: The simulation summary.
        console: A ``rich.console.Console`` (default: a new one on stdout).
    """
    from rich.table import Table

    from prefc.console import table_console

    con = console or table_console()
    table = Table(title=f"{summary.game}: {summary.rounds} rounds, means over the last {summary.last}")
    table.add_column("agent", no_wrap=True)
    for col in ("price", "profit", "collusion", "failures", "benchmark"):
        table.add_column(col, justify="right", min_width=len(col))
    for agent, index in zip(summary.agents, summary.collusion_index.per_agent, strict=True):
        table.add_row(
            agent.name,
            fmt_number(agent.mean_price_last, digits=4, missing="-"),
            fmt_number(agent.mean_profit_last, digits=4, missing="-"),
            fmt_number(index, missing="-"),
            f"{agent.failures}/{summary.rounds}",
            fmt_number(agent.benchmark_price, digits=4, missing="-"),
        )
    con.print(table)
    b = summary.benchmarks
    moralis = ", ".join(f"kappa {k}: {fmt_number(v, digits=4)}" for k, v in b.moralis.items())
    con.print(
        f"Nash {fmt_number(b.nash_price, digits=4)} (profit {fmt_number(b.nash_profit, digits=4)}); joint profit "
        f"{fmt_number(b.monopoly_price, digits=4)} (profit {fmt_number(b.monopoly_profit, digits=4)})"
        + (f"; homo moralis {moralis}" if moralis else "")
    )
    joint = fmt_number(summary.collusion_index.joint, missing="-")
    con.print(f"joint collusion index {joint}" + ("  (interrupted)" if summary.interrupted else ""))
