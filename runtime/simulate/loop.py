"""The loop: both players answer every round, the market settles, each round is flushed to
``rounds.jsonl``; the summary is written even when the run stops early."""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefc.artefacts import AgentMove, RoundRecord, SimulationSummary, write_document

from ..agents import AgentError
from ..answers import parse_answer
from .market import PricingMarket, SimulationError, eligible_games, load_ir
from .output import SimulationResult, plot_prices, plot_profits, print_simulation, summarize_agents, theory_benchmarks
from .players import Player, TheoryPricer, make_player, shared_local_players
from .prompts import PricePrompter, answer_opening, continues_replies

if TYPE_CHECKING:
    from prefc.compiler.check import CheckedSpec
    from prefc.compiler.ir import SpecIR

__all__ = [
    "DEFAULT_HISTORY",
    "DEFAULT_LAST",
    "DEFAULT_MAX_NEW_TOKENS",
    "DEFAULT_ROUNDS",
    "INITIAL_RULES",
    "RAW_LIMIT",
    "REPLY_MODES",
    "simulate",
]

DEFAULT_HISTORY = 3
"""Rounds of history shown to a language-model agent."""

DEFAULT_LAST = 50
"""Rounds averaged for the summary (the last ones)."""

DEFAULT_MAX_NEW_TOKENS = 20
"""Tokens a language-model agent may generate per round: the answer line (13 to 15 tokens for
SmolLM2) and a few more. Agents that reason before answering need more (``max_new_tokens``)."""

REPLY_MODES = ("direct", "free")
"""How a local model's reply starts: ``direct`` feeds the opening of the answer line
(``ANSWER: {"p": ``) as the start of its turn, so it writes the price at once (a few tokens per
round); ``free`` lets it write anything (reasoning first needs a larger ``max_new_tokens``).
Agents that cannot be continued (hosted endpoints) always answer freely."""

DEFAULT_ROUNDS = 300
"""Rounds played when neither the caller nor the game (``repeat N rounds``) says how many."""

RAW_LIMIT = 4000
"""Characters of each raw answer kept in ``rounds.jsonl``."""

INITIAL_RULES = ("low", "mid", "high", "nash", "monopoly")
"""Named initial prices: the action's lower bound (marginal cost in the Bertrand game), the
midpoint, the upper bound, the Nash price, the joint-profit price."""


def _accelerated(agent: Any) -> Any:
    """A local transformers agent wrapped in :class:`prefc.runtime.generate.PrefixCachedLocal`; any
    other agent as it is."""
    generate_mod = sys.modules.get("prefc.runtime.generate")
    if generate_mod is not None and isinstance(agent, generate_mod.LocalAgent):
        return generate_mod.PrefixCachedLocal(agent)
    return agent


def _initial_price(initial: str | float, market: PricingMarket) -> float:
    if isinstance(initial, int | float) and not isinstance(initial, bool):
        value = float(initial)
    else:
        text = str(initial).strip().lower()
        rules: dict[str, Callable[[], float]] = {
            "low": lambda: market.lo,
            "mid": lambda: (market.lo + market.hi) / 2,
            "high": lambda: market.hi,
            "nash": market.nash_price,
            "monopoly": market.monopoly_price,
        }
        if text in rules:
            return float(rules[text]())
        try:
            value = float(text)
        except ValueError:
            raise SimulationError(
                f"initial price {initial!r}: expected a number or one of {', '.join(INITIAL_RULES)}"
            ) from None
    if not (math.isfinite(value) and market.lo <= value <= market.hi):
        raise SimulationError(f"initial price {value:g} is outside [{market.lo:g}, {market.hi:g}]")
    return value


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


@contextmanager
def _progress(total: int, enabled: bool, label: str) -> Iterator[Callable[[str], None]]:
    from prefc.progress import progress as show

    with show(label, total, enabled=enabled, unit="rounds") as advance:
        yield lambda text: advance(1, text)


def _clean(text: Any) -> str:
    s = text if isinstance(text, str) else repr(text)
    return s.encode("utf-8", errors="replace").decode("utf-8")[:RAW_LIMIT]


def _unique_names(players: Sequence[Player]) -> list[str]:
    names = [str(getattr(p, "name", type(p).__name__)) for p in players]
    if len(set(names)) < len(names):
        names = [f"{n}#{i + 1}" for i, n in enumerate(names)]
    return names


def simulate(
    spec: str | os.PathLike[str] | CheckedSpec | SpecIR,
    agents: Sequence[str | Player],
    *,
    out_dir: str | os.PathLike[str],
    rounds: int | None = None,
    game: str | None = None,
    params: Mapping[str, Fraction | int | float] | None = None,
    history: int = DEFAULT_HISTORY,
    last: int = DEFAULT_LAST,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    initial: str | float = "low",
    seed: int = 0,
    paraphrase: int = 0,
    progress: bool = True,
    plot: bool = True,
    prefix_cache: bool = True,
    reply: str = "direct",
    allow_large: bool = False,
    table: bool = True,
) -> SimulationResult:
    """Play a symmetric two-player pricing game repeatedly between two agents.

    Args:
        spec: A ``.pref`` path, a checked spec or its IR.
        agents: Two players: agent specs (``theory:economicus``, ``theory:moralis(kappa=0.5)``,
            ``local:smollm2-135m-instruct[?adapter=DIR]``, ``openai:URL?model=NAME``), or built
            players (:class:`TheoryPricer`, any agent with ``respond``). The same spec twice, or
            the same object twice, is one agent answering both prompts in one batch; two
            ``local:`` specs of one model with different adapters, or two agents of one
            :class:`prefc.runtime.adapter_bank.AdapterBank`, answer in one batch too, each prompt
            with its own adapter.
        out_dir: Directory for ``rounds.jsonl``, ``simulation.json`` and ``prices.png`` (created).
        rounds: Rounds to play (default: the game's ``repeat N rounds``, else 300).
        game: The game (default ``bertrand``, or the spec's only eligible game).
        params: Game parameter values; missing ones take their defaults.
        history: Rounds of history shown to language-model agents.
        last: Rounds (the last ones) averaged for the summary.
        max_new_tokens: Tokens a language-model agent may generate per round.
        initial: The price before the first round (held by an agent until its first valid answer,
            and answered by the theory players in round 1): a number, or ``low`` (the action's lower
            bound: marginal cost in the Bertrand game), ``mid``, ``high``, ``nash``, ``monopoly``.
        seed: Seeds Python's, numpy's and (when loaded) torch's random streams.
        paraphrase: The prompt template's wording number.
        progress: Show a progress bar and print the result table.
        plot: Write ``prices.png`` and ``profits.png``.
        prefix_cache: Let local transformers agents reuse the key/value cache of the prompt prefix
            shared by every round (:class:`prefc.runtime.generate.PrefixCachedLocal`; same answers,
            less prompt work).
        reply: ``direct`` or ``free`` (see :data:`REPLY_MODES`).
        allow_large: Play more rounds than :data:`prefc.compiler.budget.LIMITS` allows (whether
            asked for here or by the game's ``repeat N rounds``).
        table: With ``progress``, print the result table on standard output at the end.

    Returns:
        The :class:`SimulationResult`.

    Raises:
        SimulationError: For bad input (game, parameters, agents, sizes), an agent that fails to
            answer at all (an unreachable endpoint) or returns the wrong number of answers; the
            rounds played before a failure are on disk with their summary.
        KeyboardInterrupt: Re-raised after the rounds so far and their summary are written.
    """
    if len(agents) != 2:
        raise SimulationError(f"simulate needs exactly two agents, got {len(agents)}")
    for label, value, low in (
        ("history", history, 0),
        ("last", last, 1),
        ("max_new_tokens", max_new_tokens, 1),
        ("paraphrase", paraphrase, 0),
    ):
        if not isinstance(value, int) or value < low:
            raise SimulationError(f"{label} must be an integer >= {low}, got {value!r}")
    if reply not in REPLY_MODES:
        raise SimulationError(f"reply must be one of {', '.join(REPLY_MODES)}, got {reply!r}")
    ir = load_ir(spec)
    if game is None:
        usable = eligible_games(ir)
        if "bertrand" in ir.games:
            game = "bertrand"
        elif len(usable) == 1:
            game = usable[0]
        else:
            raise SimulationError(
                f"spec `{ir.spec.name}` has "
                + (
                    f"several games to simulate ({', '.join(usable)}); choose one"
                    if usable
                    else "no symmetric two-player game with one continuous action"
                )
            )
    market = PricingMarket(ir, game, params=params)
    n_rounds = rounds if rounds is not None else (market.game.rounds or DEFAULT_ROUNDS)
    if not isinstance(n_rounds, int) or n_rounds < 1:
        raise SimulationError(f"rounds must be an integer >= 1, got {n_rounds!r}")
    from prefc.compiler.budget import check_rounds

    check_rounds(
        n_rounds,
        allow_large=allow_large,
        source=None if rounds is not None else f"game `{market.game.name}`'s `repeat` setting",
    )
    players: list[Player] = []
    built: dict[str, Player] = {}
    if all(isinstance(a, str) for a in agents):
        banked = shared_local_players([str(a) for a in agents])
        if banked is not None:
            built = dict(zip([str(a) for a in agents], banked, strict=True))
    for a in agents:
        if isinstance(a, str):
            if a not in built:
                built[a] = make_player(a, market)
            players.append(built[a])
        elif isinstance(a, TheoryPricer) or callable(getattr(a, "respond", None)):
            players.append(a)
        else:
            raise SimulationError(f"{a!r} is neither an agent spec, a TheoryPricer nor an agent with respond()")
    start = _initial_price(initial, market)
    names = _unique_names(players)
    if prefix_cache:
        wrapped: dict[int, Any] = {}
        players = [p if isinstance(p, TheoryPricer) else wrapped.setdefault(id(p), _accelerated(p)) for p in players]
    theory = [p for p in players if isinstance(p, TheoryPricer)]
    benchmarks = theory_benchmarks(market, theory)
    prompter = (
        PricePrompter(market, history=history, paraphrase=paraphrase)
        if any(not isinstance(p, TheoryPricer) for p in players)
        else None
    )
    schema = prompter.schema if prompter is not None else None
    opening = answer_opening(schema) if schema is not None and reply == "direct" else ""
    continued = {id(p) for p in players if opening and not isinstance(p, TheoryPricer) and continues_replies(p)}
    _seed_everything(seed)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rounds_path, summary_path, plot_path = out / "rounds.jsonl", out / "simulation.json", out / "prices.png"
    run_params: dict[str, Any] = {
        "game_params": {k: (v.numerator if v.denominator == 1 else float(v)) for k, v in market.point.items()},
        "action": market.action.name,
        "bounds": [market.lo, market.hi],
        "initial": initial if isinstance(initial, str) else float(initial),
        "initial_price": start,
        "history": history,
        "max_new_tokens": max_new_tokens,
        "seed": seed,
        "paraphrase": paraphrase,
        "reply": reply,
    }
    played: list[RoundRecord] = []
    last_price = [start, start]
    interrupted = False
    failure: SimulationError | None = None
    began = time.perf_counter()
    label = f"simulate {names[0]} vs {names[1]}"
    with rounds_path.open("w", encoding="utf-8") as fh, _progress(n_rounds, progress, label) as advance:
        try:
            for t in range(1, n_rounds + 1):
                answers: dict[int, str] = {}
                groups: dict[int, list[int]] = {}
                for i, p in enumerate(players):
                    if not isinstance(p, TheoryPricer):
                        groups.setdefault(id(getattr(p, "bank", p)), []).append(i)
                for members in groups.values():
                    agent = players[members[0]]
                    assert prompter is not None
                    prompts = [prompter.messages(t, i, played) for i in members]
                    options: dict[str, Any] = {"max_new_tokens": max_new_tokens}
                    if id(agent) in continued:
                        options.update(reply_prefix=opening, stop=("}",))
                    try:
                        bank = getattr(agent, "bank", None)
                        if bank is not None:  # agents of one adapter bank: one batch, each with its adapter
                            adapters = [players[i].adapter for i in members]  # type: ignore[union-attr]
                            texts = list(bank.respond(prompts, adapters=adapters, **options))
                        else:
                            texts = list(agent.respond(prompts, **options))  # type: ignore[union-attr]
                    except AgentError as exc:
                        raise SimulationError(f"agent {names[members[0]]!r} failed in round {t}: {exc}") from None
                    if len(texts) != len(prompts):
                        raise SimulationError(
                            f"agent {names[members[0]]!r} returned {len(texts)} answers for {len(prompts)} prompts"
                        )
                    answers.update(zip(members, texts, strict=True))
                prices: list[float] = []
                meta: list[tuple[bool, str | None, str | None]] = []
                for i, p in enumerate(players):
                    if isinstance(p, TheoryPricer):
                        prices.append(p.best_response(last_price[1 - i]))
                        meta.append((False, None, None))
                        continue
                    raw = _clean(answers[i])
                    assert schema is not None
                    parsed = parse_answer(answers[i] if isinstance(answers[i], str) else raw, schema)
                    if parsed.ok and parsed.value is not None:
                        prices.append(float(parsed.value[market.action.name]))
                        meta.append((False, raw, None))
                    else:
                        prices.append(last_price[i])
                        meta.append((True, raw, parsed.error or "no answer"))
                moves = []
                for i in range(2):
                    held, shown, error = meta[i]
                    moves.append(
                        AgentMove(
                            agent=names[i],
                            price=prices[i],
                            held=held,
                            raw=shown,
                            error=error,
                            share=market.share(prices[i], prices[1 - i]),
                            profit=market.profit(prices[i], prices[1 - i]),
                        )
                    )
                record = RoundRecord(round=t, agents=moves)
                fh.write(json.dumps(record.model_dump(mode="json"), ensure_ascii=False, allow_nan=False) + "\n")
                fh.flush()
                played.append(record)
                last_price = prices
                advance(f"round {t}: {prices[0]:.3f} / {prices[1]:.3f}")
        except KeyboardInterrupt:
            interrupted = True
        except SimulationError as exc:
            failure = exc
    elapsed = time.perf_counter() - began
    agent_summaries, index = summarize_agents(played, players, names, benchmarks, last)
    summary = SimulationSummary(
        spec=ir.spec.name,
        spec_sha256=ir.spec.sha256,
        game=market.name,
        rounds=len(played),
        rounds_requested=n_rounds,
        last=min(last, len(played)),
        interrupted=interrupted or failure is not None,
        elapsed_s=round(elapsed, 3),
        params=run_params,
        agents=agent_summaries,
        benchmarks=benchmarks,
        collusion_index=index,
    )
    write_document(summary_path, summary)
    written = plot_prices(summary, played, plot_path) if plot else None
    if plot:
        plot_profits(summary, played, out / "profits.png")
    if failure is not None:
        raise SimulationError(f"{failure} ({len(played)} rounds kept in {rounds_path})")
    if interrupted:
        raise KeyboardInterrupt
    if progress and table:
        print_simulation(summary)
    return SimulationResult(
        summary=summary,
        rounds=played,
        out_dir=out,
        rounds_path=rounds_path,
        summary_path=summary_path,
        plot_path=written,
    )
