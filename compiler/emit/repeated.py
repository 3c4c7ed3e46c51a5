"""Repeated datasets (``repeat N rounds [history H]``): rows that are rounds of a repeated market.

Each row's prompt is exactly what the simulation shows a language-model player in round ``t``
(:class:`prefc.compiler.emit.repeated_prompt.RepeatedPrompt`: the market, the last ``H`` rounds
with prices, share and profits), and its completion is the answer line with the preference's best
response to the rival's last price, found by the solver (:meth:`prefc.compiler.solve.market.Market.best_response`);
a row of round 1, with no history (at most one per wording), answers the preference's symmetric
equilibrium price.

Histories are drawn so the rows cover what play will show: each player's price path settles,
flat or converging from elsewhere, near a level drawn from the market's benchmarks (the lower
bound where play starts, the Nash price, the joint-profit price, each listed preference's
symmetric price), near the best response to the rival's level, or anywhere in the range the
benchmarks span. Every preference answers the same prompts, so the rows differ only where the
preferences do.
"""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction
from typing import Any

from prefc.compiler.check import REPEAT_HISTORY, CheckedBuild, CheckedSpec
from prefc.compiler.emit.dataset import DatasetResult
from prefc.compiler.emit.fmt import answer_json, canonical, dumps
from prefc.compiler.emit.repeated_prompt import RepeatedPrompt, ShownRound
from prefc.compiler.emit.situations import EmitError
from prefc.compiler.emit.templates import DEFAULT_WORDINGS, TemplateSet
from prefc.compiler.ir import SpecIR
from prefc.compiler.solve.market import Market, MarketError, market_refusal
from prefc.numbers import plain_number

__all__ = ["ANSWER_DIGITS", "FIRST_ROUND_SHARE", "Drawn", "build_repeated_dataset", "draw_histories", "price_levels"]

ANSWER_DIGITS = 2
"""Decimals of the prices in a repeated row (the history table shows two)."""

FIRST_ROUND_SHARE = 0.05
"""The chance that a draw asks round 1 (no history yet) while its wording has no such row: a
round-1 prompt exists once per wording."""


class Drawn:
    """One drawn prompt of a repeated dataset: the round asked and the history shown.

    Args:
        game: The game's name.
        t: The round asked (1-based).
        history: The rounds shown, oldest first.
        paraphrase: The wording number.
    """

    __slots__ = ("game", "history", "paraphrase", "t")

    def __init__(self, game: str, t: int, history: list[ShownRound], paraphrase: int) -> None:
        self.game = game
        self.t = t
        self.history = history
        self.paraphrase = paraphrase


def _round(x: float) -> float:
    return round(float(x), ANSWER_DIGITS)


def price_levels(market: Market, build: CheckedBuild) -> tuple[list[float], tuple[float, float]]:
    """The benchmark prices histories settle near, and the range they span (with a margin above).

    Args:
        market: The market.
        build: The dataset block (its preferences' symmetric prices are benchmarks).
    """
    levels = [market.lo, market.nash_price(), market.monopoly_price()]
    for pref in build.preferences:
        try:
            levels.append(market.symmetric_price(pref))
        except MarketError:
            continue
    lo = market.lo
    top = max(levels)
    hi = min(market.hi, top + 0.6 * (top - lo))
    return sorted(set(levels)), (lo, hi)


def _level(rng: random.Random, levels: list[float], span: tuple[float, float]) -> float:
    lo, hi = span
    if rng.random() < 0.7:
        return rng.choice(levels) + rng.gauss(0.0, 0.05 * (hi - lo))
    return rng.uniform(lo, hi)


def _path(rng: random.Random, level: float, k: int, span: tuple[float, float], market: Market) -> list[float]:
    """``k`` prices settling at ``level``: flat with small noise, or converging from a random start."""
    lo, hi = span
    noise = 0.02 * (hi - lo)
    if rng.random() < 0.5:
        start = rng.uniform(lo, hi)
        raw = [level + (start - level) * 0.5 ** (k - 1 - j) for j in range(k)]
    else:
        raw = [level] * k
    return [_round(market.clip(x + rng.gauss(0.0, noise))) for x in raw]


def draw_histories(
    market: Market,
    build: CheckedBuild,
    *,
    n: int,
    rounds: int,
    history: int,
    paraphrases: list[int],
    rng: random.Random,
) -> list[Drawn]:
    """``n`` distinct prompts of a repeated market: the round asked and the rounds shown.

    Args:
        market: The market.
        build: The dataset block.
        n: How many.
        rounds: The rounds of the repeated market (``repeat N rounds``).
        history: Rounds shown at most.
        paraphrases: The wording numbers to draw from.
        rng: The seeded random source.
    """
    levels, span = price_levels(market, build)
    out: list[Drawn] = []
    seen: set[tuple] = set()
    firsts = {p for p in paraphrases}
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 100 * n + 1000:
            raise EmitError(f"only {len(out)} distinct histories of `{market.name}` found, {n} asked for")
        paraphrase = rng.choice(paraphrases)
        if firsts and paraphrase in firsts and rng.random() < FIRST_ROUND_SHARE:
            firsts.discard(paraphrase)  # round 1 has one prompt per wording
            out.append(Drawn(market.name, 1, [], paraphrase))
            continue
        t = rng.randint(2, rounds)
        k = min(history, t - 1)
        rival_level = _level(rng, levels, span)
        if rng.random() < 0.5:
            pref = rng.choice(build.preferences)
            own_level = market.best_response(pref, market.clip(rival_level))
        else:
            own_level = _level(rng, levels, span)
        own, rival = _path(rng, own_level, k, span, market), _path(rng, rival_level, k, span, market)
        key = (t, paraphrase, tuple(own), tuple(rival))
        if key in seen:
            continue
        seen.add(key)
        shown = [
            ShownRound(
                t - k + j,
                own[j],
                rival[j],
                market.share(own[j], rival[j]),
                market.profit(own[j], rival[j]),
                market.profit(rival[j], own[j]),
            )
            for j in range(k)
        ]
        out.append(Drawn(market.name, t, shown, paraphrase))
    return out


def _splits(n: int, fractions: dict[str, Fraction], rng: random.Random) -> list[str]:
    """A split name for each of ``n`` prompts, in the fractions' proportions (largest remainders)."""
    names = list(fractions)
    counts = [int(fractions[s] * n) for s in names]
    for i in sorted(range(len(names)), key=lambda i: -(fractions[names[i]] * n - counts[i]))[: n - sum(counts)]:
        counts[i] += 1
    out = [s for s, c in zip(names, counts, strict=True) for _ in range(c)]
    rng.shuffle(out)
    return out


def _market(ir: SpecIR, build: CheckedBuild, game: str) -> Market:
    span = build.ast.settings_spans.get("repeat", build.ast.name.span)
    g = ir.games[game]
    why = market_refusal(g, g.defaults())
    if why is not None:
        raise EmitError(
            f"dataset `{build.name}` repeats game `{game}`, which is not a repeated market at its defaults: {why}",
            span=span,
            code="E0312",
        )
    try:
        return Market(ir, game)
    except MarketError as exc:
        raise EmitError(f"dataset `{build.name}`: {exc}", span=span, code="E0312") from None


def build_repeated_dataset(
    spec: CheckedSpec,
    ir: SpecIR,
    build: CheckedBuild,
    templates: TemplateSet,
    *,
    seed: int,
    fmt: str = "trl",
    progress=None,
) -> DatasetResult:
    """Draw, split and render a repeated dataset block (``repeat N rounds``).

    Args:
        spec: The checked spec.
        ir: Its IR.
        build: The dataset block.
        templates: Its template set.
        seed: The sampling seed.
        fmt: ``trl`` (prompt/completion), ``messages`` or ``openai``.
        progress: Optional callable ``advance(n)`` for a progress display.
    """
    assert build.ast.repeat_rounds is not None
    rounds = build.ast.repeat_rounds
    history = build.ast.repeat_history if build.ast.repeat_history is not None else REPEAT_HISTORY
    paras = list(range(build.ast.paraphrases or 1))
    if build.ast.template in (None, "default") and len(paras) > DEFAULT_WORDINGS:
        raise EmitError(
            f"the default templates have {DEFAULT_WORDINGS} distinct wordings; `paraphrases {len(paras)}` asks for more"
        )
    per_pref = build.ast.samples or 100
    games = list(build.games)
    quota = {g: per_pref if build.ast.samples_per == "game" else per_pref // len(games) for g in games}
    for g in games[: 0 if build.ast.samples_per == "game" else per_pref % len(games)]:
        quota[g] += 1
    fractions = {ident.name: value for ident, value in build.ast.split} or {"train": Fraction(1)}
    base_meta = {"spec": spec.name, "spec_sha256": spec.sha256, "dataset": build.name}
    lines: dict[str, list[str]] = {}
    labels: dict[str, list[str]] = {}
    counts: Counter = Counter()
    action = ""
    for game in games:
        market = _market(ir, build, game)
        action = market.action.name
        rng = random.Random(f"{seed}:{build.name}:{game}:repeat")
        drawn = draw_histories(market, build, n=quota[game], rounds=rounds, history=history, paraphrases=paras, rng=rng)
        splits = _splits(len(drawn), fractions, random.Random(f"{seed}:{build.name}:{game}:splits"))
        prompts = {
            p: RepeatedPrompt(
                market.game,
                market.point,
                templates=templates,
                history=history,
                paraphrase=p,
                share_name=market.share_name,
            )
            for p in paras
        }
        params = canonical(dict(market.point))
        role = market.game.group if market.game.group is not None else market.game.roles[0]
        for d, split in zip(drawn, splits, strict=True):
            messages = prompts[d.paraphrase].messages(d.t, d.history)
            repeated = {
                "round": d.t,
                "history": [{"round": r.round, "own": r.own, "rival": r.rival} for r in d.history],
            }
            for pref in build.preferences:
                if d.history:
                    value = _round(market.best_response(pref, d.history[-1].rival))
                else:
                    value = _round(market.symmetric_price(pref))
                answer = {action: value}
                text = "ANSWER: " + answer_json(answer)
                meta = {
                    **base_meta,
                    "preference": pref.label,
                    "preference_name": pref.name,
                    "preference_params": canonical(dict(pref.values)),
                    "game": game,
                    "role": role,
                    "params": params,
                    "answer": canonical(answer),
                    "split": split,
                    "paraphrase": d.paraphrase,
                    "repeated": canonical(repeated),
                }
                assistant = {"role": "assistant", "content": text}
                row: dict[str, Any] = (
                    {"messages": [*messages, assistant], "meta": meta}
                    if fmt in ("messages", "openai")
                    else {"prompt": messages, "completion": [assistant], "meta": meta}
                )
                lines.setdefault(split, []).append(dumps(row))
                labels.setdefault(split, []).append(pref.label)
                counts[(game, pref.label, split)] += 1
                if progress is not None:
                    progress(1)
    for split, rows in lines.items():
        random.Random(f"{seed}:{build.name}:{split}:order").shuffle(rows)
        random.Random(f"{seed}:{build.name}:{split}:order").shuffle(labels[split])  # the same permutation
    header = {
        "spec": spec.name,
        "spec_sha256": spec.sha256,
        "dataset": build.name,
        "format": fmt,
        "seed": seed,
        "preferences": [p.label for p in build.preferences],
        "games": games,
        "paraphrases": len(paras),
        "split": {k: plain_number(v) for k, v in fractions.items()},
        "holdout": {"games": [], "paraphrases": [], "where": []},
        "counts": {s: len(lines[s]) for s in ("train", "val", "test") if s in lines},
        "skipped_points": {},
        "repeat": {"rounds": rounds, "history": history},
    }
    return DatasetResult(lines, header, counts, Counter(), frozenset(), labels)
