"""The main job's last stage under ``prefc run --play``: the trained agents meet in the repeated
market of their dataset's game, each against itself and each two against each other, and the
pairings' prices are set beside each preference's symmetric benchmark.

The game is the first game of the trained dataset that the simulation can play (a symmetric
two-player game with one continuous action); the rounds are ``--play N`` or the game's own
``repeat N rounds``; each prompt shows as many rounds of history as the dataset's ``repeat ...
history H`` rows did. LoRA adapters share one base model (:class:`prefc.runtime.adapter_bank.AdapterBank`),
so a round's two prompts run as one batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from prefc.artefacts import RunPairing, RunPairingTest
    from prefc.compiler.check import CheckedBuild, CheckedSpec, PreferencePoint

__all__ = ["PlayPlan", "PlayResult", "plan_play", "play_trained"]


@dataclass
class PlayPlan:
    """What ``--play`` will play, settled before any training so a spec that cannot play costs no run.

    Args:
        ir: The spec's IR.
        game: The game.
        rounds: Rounds per pairing.
        history: Rounds of history per prompt.
        last: Rounds (the last ones) averaged.
    """

    ir: Any
    game: str
    rounds: int
    history: int
    last: int


@dataclass
class PlayResult:
    """The pairings played and the tests between them (the records ``run.json`` keeps).

    Args:
        pairings: One record per pairing.
        tests: Welch's test between every two pairings.
        directories: The pairings' simulation directories (for the report).
    """

    pairings: list[RunPairing] = field(default_factory=list)
    tests: list[RunPairingTest] = field(default_factory=list)
    directories: list[Path] = field(default_factory=list)


def plan_play(spec: CheckedSpec, dataset: CheckedBuild, *, rounds: int | None) -> PlayPlan:
    """The game, rounds and history of ``--play`` for a run trained on ``dataset``.

    Args:
        spec: The checked spec.
        dataset: The dataset block the run trains on.
        rounds: ``--play N`` (None: the game's own ``repeat N rounds``, else 300).

    Raises:
        ValueError: No game of the dataset can be played repeatedly, or ``rounds`` is below 2, or
            more than the round limit allows.
    """
    from prefc.compiler.budget import check_rounds
    from prefc.compiler.check.builds import REPEAT_HISTORY
    from prefc.errors import WorkTooLarge
    from prefc.runtime.simulate.loop import DEFAULT_LAST, DEFAULT_ROUNDS
    from prefc.runtime.simulate.market import SimulationError, eligible_games, load_ir

    try:
        ir = load_ir(spec)
    except SimulationError as exc:
        raise ValueError(str(exc)) from exc
    usable = set(eligible_games(ir))
    games = [g for g in dataset.games if g in usable]
    if not games:
        raise ValueError(
            f"--play: no game of dataset `{dataset.name}` ({', '.join(dataset.games)}) can be played "
            "repeatedly (a symmetric two-player game with one continuous action)"
        )
    game = games[0]
    n = rounds if rounds is not None else (ir.games[game].rounds or DEFAULT_ROUNDS)
    if n < 2:
        raise ValueError(f"--play needs at least 2 rounds, got {n}")
    try:
        check_rounds(n, allow_large=False, source=None if rounds is not None else f"game `{game}`'s `repeat` setting")
    except WorkTooLarge as exc:
        raise ValueError(str(exc)) from exc
    history = REPEAT_HISTORY
    if dataset.ast.repeat_rounds is not None and dataset.ast.repeat_history is not None:
        history = dataset.ast.repeat_history
    return PlayPlan(ir=ir, game=game, rounds=n, history=history, last=min(DEFAULT_LAST, n // 2))


def play_trained(
    plan: PlayPlan,
    trained: Mapping[str, Path],
    points: Mapping[str, PreferencePoint],
    out: Path,
    *,
    model: str | None,
    full: bool,
    seed: int,
    seconds: dict[str, float],
    console: Console,
) -> PlayResult:
    """Play every pairing of the trained models and print their prices beside the benchmarks.

    Args:
        plan: From :func:`plan_play`.
        trained: Preference label -> adapter (or, with ``full``, model) directory.
        points: Preference label -> its preference point (for the benchmark prices).
        out: The directory of the pairings' simulation directories.
        model: The base model.
        full: The trained models are full models, not adapters.
        seed: Seeds every simulation's random streams.
        seconds: The run's stage times, added to (``play A vs B``).
        console: Where to print.
    """
    from prefc.artefacts import RunPairing, RunPairingTest
    from prefc.runtime.simulate.market import PricingMarket
    from prefc.runtime.simulate.pairings import compare_pairings, play_pairings

    agents = _agents(trained, model=model, full=full)
    market = PricingMarket(plan.ir, plan.game)
    benchmark = {label: _benchmark(market, point) for label, point in points.items()}
    console.print(
        f"   playing `{plan.game}` for {plan.rounds} rounds a pairing ({plan.history} rounds of history a "
        f"prompt; prices averaged over the last {plan.last})"
    )

    def started(pair: tuple[str, str]) -> None:
        console.print(f"   {pair[0]} vs {pair[1]}")

    played = play_pairings(
        plan.ir,
        agents,
        out,
        game=plan.game,
        rounds=plan.rounds,
        history=plan.history,
        last=plan.last,
        max_new_tokens=_MAX_NEW_TOKENS,
        seed=seed,
        progress=True,
        on_pairing=started,
    )
    result = PlayResult(directories=[p.directory for p in played])
    for p in played:
        seconds[f"play {p.agents[0]} vs {p.agents[1]}"] = round(p.seconds, 2)
        s = p.summary
        result.pairings.append(
            RunPairing(
                agents=list(p.agents),
                game=plan.game,
                simulation=str(p.directory),
                rounds=s.rounds,
                last=s.last,
                mean_price=p.mean_price,
                prices=[a.mean_price_last for a in s.agents],
                profits=[a.mean_profit_last for a in s.agents],
                benchmarks=[benchmark[label] for label in p.agents],
                collusion_index=s.collusion_index.joint,
                parse_rates=[a.parse_rate for a in s.agents],
            )
        )
    result.tests = [
        RunPairingTest(a=list(t.a), b=list(t.b), mean_a=t.mean_a, mean_b=t.mean_b, t=t.t, p=t.p)
        for t in compare_pairings(played)
    ]
    console.print(pairing_table(result, nash=market.nash_price(), joint=market.monopoly_price()))
    return result


_MAX_NEW_TOKENS = 20
"""Tokens an agent may write a round (the simulation's default: an answer line with its number)."""


def pairing_table(result: PlayResult, *, nash: float, joint: float) -> Any:
    """The pairings as a rich table: mean prices, each side's benchmark, collusion index, parse rates,
    and below it Welch's test between every two pairings.

    Args:
        result: The pairings played.
        nash: The Nash price.
        joint: The joint-profit price.
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from prefc.numbers import fmt_number

    table = Table(
        title=f"repeated play (Nash price {nash:.4f}, joint-profit price {joint:.4f})",
        title_justify="left",
    )
    for name in ("pairing", "mean price", "benchmarks", "prices", "collusion index", "parsed"):
        table.add_column(name, justify="left" if name == "pairing" else "right")
    for p in result.pairings:
        table.add_row(
            " vs ".join(p.agents),
            f"{p.mean_price:.4f}",
            " / ".join(fmt_number(b, digits=4, missing="-") for b in p.benchmarks),
            " / ".join(fmt_number(x, digits=4, missing="-") for x in p.prices),
            fmt_number(p.collusion_index, digits=3, missing="-"),
            " / ".join(fmt_number(x, digits=2, missing="-") for x in p.parse_rates),
        )
    lines = [
        f"{' vs '.join(t.a)} {t.mean_a:.4f} against {' vs '.join(t.b)} {t.mean_b:.4f}: Welch t {t.t:.2f}, "
        f"p {t.p:.3g}" + (" (differ at 1%)" if t.p < 0.01 else " (not different at 1%)")
        for t in result.tests
    ]
    return Group(table, *(Text(line) for line in lines))


def _agents(trained: Mapping[str, Path], *, model: str | None, full: bool) -> dict[str, Any]:
    """One agent per trained model; adapters share one base model so a round is one batch."""
    if full:
        from prefc.runtime.generate import LocalAgent

        return {label: LocalAgent(str(path)) for label, path in trained.items()}
    from prefc.runtime.adapter_bank import AdapterBank

    bank = AdapterBank(model, adapters=list(trained.values()))
    return dict(zip(trained, bank.agents, strict=True))


def _benchmark(market: Any, point: PreferencePoint) -> float | None:
    """The symmetric price of ``point`` in ``market`` (None where the solver finds none)."""
    from prefc.runtime.simulate.market import SimulationError

    try:
        return float(market.symmetric_price(point))
    except SimulationError:  # the market's own error: no verified symmetric equilibrium
        return None
