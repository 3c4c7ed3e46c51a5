"""Pairings of trained agents in a repeated market: each agent against itself, then every two
agents against each other, one :func:`prefc.runtime.simulate.simulate` each.

The paper's applications claim that agents aligned to different preferences produce distinct
outcomes when they meet repeatedly. Two agents of one type should settle near their type's symmetric
benchmark (the Nash price for homo economicus, the homo moralis price of its kappa), and two
types should differ from each other. :func:`play_pairings` plays the pairings and
:func:`compare_pairings` tests, with Welch's t-test, whether two pairings' mean prices over the last
rounds differ (consecutive rounds are correlated, so its p-values are optimistic: read them with
the price paths).
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefc.artefacts import SimulationSummary

from ..files import label_slug
from .loop import simulate

__all__ = ["PairingResult", "PairingTest", "compare_pairings", "pair_prices", "pairings", "play_pairings", "welch"]


def pairings(labels: Sequence[str]) -> list[tuple[str, str]]:
    """Every agent against itself (in the order given), then every two agents against each other.

    Args:
        labels: The agents' labels, each once.

    Raises:
        ValueError: A label appears twice, or there is none.
    """
    if not labels:
        raise ValueError("no agents to pair")
    if len(set(labels)) != len(labels):
        raise ValueError(f"agents named twice: {', '.join(labels)}")
    return [(x, x) for x in labels] + list(itertools.combinations(labels, 2))


def pair_prices(rounds: Sequence[Any], last: int) -> list[float]:
    """Both firms' mean price in each of the last ``last`` rounds.

    Args:
        rounds: The rounds played (:class:`prefc.artefacts.RoundRecord` or the simulation's own).
        last: How many of the last rounds.
    """
    return [sum(m.price for m in r.agents) / len(r.agents) for r in list(rounds)[-last:]]


def welch(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Welch's t statistic and two-sided p-value for the difference of two samples' means.

    Two samples without spread are different (t infinite, p 0) when their means differ and the
    same (t 0, p 1) when not.

    Args:
        a: One sample (at least two values).
        b: The other (at least two values).
    """
    from scipy import stats

    if statistics.pvariance(a) == 0 and statistics.pvariance(b) == 0:
        return (float("inf"), 0.0) if statistics.mean(a) != statistics.mean(b) else (0.0, 1.0)
    res = stats.ttest_ind(list(a), list(b), equal_var=False)
    return float(res.statistic), float(res.pvalue)


@dataclass
class PairingResult:
    """One pairing played.

    Args:
        agents: The two agents' labels.
        directory: Its simulation directory (``rounds.jsonl``, ``simulation.json``, plots).
        summary: Its :class:`prefc.artefacts.SimulationSummary`.
        prices: Both firms' mean price in each of the last rounds (:func:`pair_prices`).
        seconds: Wall time of its play.
    """

    agents: tuple[str, str]
    directory: Path
    summary: SimulationSummary
    prices: list[float]
    seconds: float

    @property
    def mean_price(self) -> float:
        """Both firms' mean price over the last rounds."""
        return statistics.mean(self.prices)

    @property
    def benchmarks(self) -> list[float | None]:
        """Each agent's benchmark price: its trained preference's symmetric price (None when unknown)."""
        return [a.benchmark_price for a in self.summary.agents]


@dataclass
class PairingTest:
    """Whether two pairings' mean prices over the last rounds differ (Welch's t-test).

    Args:
        a: One pairing's agents.
        b: The other's.
        mean_a: ``a``'s mean price.
        mean_b: ``b``'s mean price.
        t: Welch's t statistic.
        p: Its two-sided p-value.
    """

    a: tuple[str, str]
    b: tuple[str, str]
    mean_a: float
    mean_b: float
    t: float
    p: float


def play_pairings(
    spec: Any,
    agents: Mapping[str, Any],
    out: Path,
    *,
    game: str,
    rounds: int | None = None,
    history: int,
    last: int,
    max_new_tokens: int,
    seed: int = 0,
    progress: bool = True,
    on_pairing: Callable[[tuple[str, str]], None] | None = None,
) -> list[PairingResult]:
    """Play every pairing of :func:`pairings` over ``agents``, each into ``out/<a>-<b>``.

    Args:
        spec: The spec (a path, checked spec or IR, as :func:`simulate` takes).
        agents: Label -> agent (anything :func:`simulate` takes as a player); agents that share a
            model and an :class:`prefc.runtime.adapter_bank.AdapterBank` answer a round in one batch.
        out: The directory of the pairings' simulation directories.
        game: The game to play.
        rounds: Rounds per pairing (None: the game's ``repeat N rounds``).
        history: Rounds of history each prompt shows (as the training rows did).
        last: Rounds averaged for the summary (at most the rounds played).
        max_new_tokens: Tokens an agent may write per round.
        seed: Seeds each simulation's random streams.
        progress: Show each simulation's progress.
        on_pairing: Called with each pairing's labels before it is played.

    Raises:
        SimulationError: As :func:`simulate` does.
    """
    results = []
    for a, b in pairings(list(agents)):
        if on_pairing is not None:
            on_pairing((a, b))
        directory = out / f"{label_slug(a)}-{label_slug(b)}"
        clock = time.perf_counter()
        played = simulate(
            spec,
            [agents[a], agents[b]],
            out_dir=directory,
            game=game,
            rounds=rounds,
            history=history,
            last=last,
            max_new_tokens=max_new_tokens,
            seed=seed,
            progress=progress,
            table=False,
        )
        summary = played.summary
        prices = pair_prices(played.rounds, summary.last)
        results.append(PairingResult((a, b), directory, summary, prices, time.perf_counter() - clock))
    return results


def compare_pairings(results: Sequence[PairingResult]) -> list[PairingTest]:
    """Welch's test between every two pairings of ``results`` with at least two rounds averaged.

    Args:
        results: Pairings played (:func:`play_pairings`).
    """
    tests = []
    for x, y in itertools.combinations([r for r in results if len(r.prices) >= 2], 2):
        t, p = welch(x.prices, y.prices)
        tests.append(PairingTest(x.agents, y.agents, x.mean_price, y.mean_price, t, p))
    return tests
