"""SFT datasets: rows in TRL's conversational prompt-completion format plus a ``meta`` object."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from prefc.compiler.check import CheckedBuild, CheckedSpec
from prefc.compiler.emit import sampling
from prefc.compiler.emit.fmt import canonical, dumps
from prefc.compiler.emit.prompts import PromptRenderer
from prefc.compiler.emit.reasoning import completion_text
from prefc.compiler.emit.situations import EmitError, Solutions, situations
from prefc.compiler.emit.templates import DEFAULT_WORDINGS
from prefc.compiler.ir import SpecIR
from prefc.numbers import plain_number

SPLIT_ORDER = ("train", "val", "test")


@dataclass
class DatasetResult:
    """A built dataset: JSONL lines per split, the header and the counts for the card.

    Attributes:
        lines: split -> JSONL lines (without newlines).
        header: The ``dataset.json`` content.
        counts: (game, preference, split) -> rows.
        skipped: (game, preference) -> parameter points without a pure answer.
        prompt_keys: Every (situation, wording) the dataset's rows ask, in any split.
        labels: split -> the preference label of each line, aligned with ``lines``.
    """

    lines: dict[str, list[str]]
    header: dict[str, Any]
    counts: Counter
    skipped: Counter = field(default_factory=Counter)
    prompt_keys: frozenset = frozenset()
    labels: dict[str, list[str]] = field(default_factory=dict)


def parameter_points(ir: SpecIR, game: str) -> list[tuple[tuple[str, Fraction], ...]]:
    """Every parameter point of a game (the product of each parameter's values).

    Args:
        ir: The spec's IR.
        game: The game's name.
    """
    import itertools

    params = ir.games[game].params
    names = list(params)
    return [tuple(zip(names, combo, strict=False)) for combo in itertools.product(*(params[n].values for n in names))]


def paraphrase_numbers(build: CheckedBuild) -> list[int]:
    """The paraphrase numbers a build uses.

    Args:
        build: The build block.
    """
    return list(range(build.ast.paraphrases or 1))


def build_dataset(
    spec: CheckedSpec,
    ir: SpecIR,
    build: CheckedBuild,
    solutions: Solutions,
    renderer: PromptRenderer,
    *,
    seed: int,
    fmt: str = "trl",
    progress=None,
) -> DatasetResult:
    """Sample, split and render a dataset block.

    Args:
        spec: The checked spec.
        ir: Its IR.
        build: The dataset block.
        solutions: The solution cache.
        renderer: The prompt renderer.
        seed: The sampling seed.
        fmt: ``trl`` (prompt/completion), ``messages`` or ``openai`` (``messages`` rows; the
            per-preference OpenAI files are written by the build).
        progress: Optional callable ``advance(n)`` for a progress display.
    """
    paras = paraphrase_numbers(build)
    if build.ast.template in (None, "default") and len(paras) > DEFAULT_WORDINGS:
        raise EmitError(
            f"the default templates have {DEFAULT_WORDINGS} distinct wordings; `paraphrases {len(paras)}` asks for more"
        )
    per_pref = build.ast.samples or 100
    skipped: Counter = Counter()
    chosen: dict[str, list[sampling.PromptKey]] = {}
    for pref in build.preferences:
        pools: dict[str, sampling.Pool] = {}
        for game in build.games:
            by_role: dict[str, dict] = {}
            for point in parameter_points(ir, game):
                sol = solutions.solve(game, pref, point)
                if sol.answer is None:
                    skipped[(game, pref.label)] += 1
                    continue
                for s in situations(ir.games[game], point):
                    by_role.setdefault(s.role, {}).setdefault(point, []).append(s)
            pools[game] = sampling.Pool(game, by_role)
        sizes = {g: p.size(paras) for g, p in pools.items()}
        try:
            if build.ast.samples_per == "game":
                short = {g: n for g, n in sizes.items() if n < per_pref}
                if short:
                    raise EmitError(
                        f"{per_pref} rows per game asked for, but only "
                        + ", ".join(f"{g}: {n}" for g, n in short.items())
                        + " distinct rows exist"
                    )
                quota = {g: per_pref for g in sizes}
            else:
                quota = sampling.quotas(per_pref, sizes)
        except EmitError as exc:
            raise EmitError(
                f"dataset `{build.name}`, preference `{pref.label}`: {exc}; lower `samples` "
                "or add parameter values, games or paraphrases",
                span=exc.span or build.ast.settings_spans.get("samples", build.ast.name.span),
            ) from exc
        keys: list[sampling.PromptKey] = []
        for game in build.games:
            rng = random.Random(f"{seed}:{build.name}:{pref.label}:{game}")
            keys.extend(sampling.balanced_order(pools[game], paras, rng)[: quota[game]])
        chosen[pref.label] = keys
    distinct = list(dict.fromkeys(k for pref in build.preferences for k in chosen[pref.label]))
    fractions = {ident.name: value for ident, value in build.ast.split} or {"train": Fraction(1)}
    splits = sampling.assign_splits(distinct, fractions, build.ast, random.Random(f"{seed}:{build.name}:splits"))

    base_meta = {"spec": spec.name, "spec_sha256": spec.sha256, "dataset": build.name}
    lines: dict[str, list[str]] = {}
    labels: dict[str, list[str]] = {}
    counts: Counter = Counter()
    situation_meta: dict = {}  # situation -> its meta fields (shared by every preference and wording)
    for pref in build.preferences:
        bound = ir.preference(pref)
        pref_meta = {
            **base_meta,
            "preference": pref.label,
            "preference_name": pref.name,
            "preference_params": canonical(dict(pref.values)),
        }
        answered: dict = {}  # situation -> (completion JSON, answer meta): the same for every wording
        for key in chosen[pref.label]:
            situation, paraphrase = key
            if situation not in answered:
                decided = solutions.decide(situation, pref)
                if decided is None:
                    answered[situation] = None
                else:
                    text = completion_text(bound, decided.decision, decided.answer)
                    extra = {"answer": canonical(decided.answer)}
                    if decided.alternatives:
                        extra["alternatives"] = canonical(decided.alternatives)
                    answered[situation] = (text, dumps([{"role": "assistant", "content": text}]), extra)
            if answered[situation] is None:
                continue
            text, completion, extra = answered[situation]
            if situation not in situation_meta:
                fields = {"game": situation.game, "role": situation.role, "params": canonical(dict(situation.point))}
                if situation.history:
                    fields["seen"] = _seen(ir, situation)
                situation_meta[situation] = fields
            split = splits[key]
            meta = dumps({**pref_meta, **situation_meta[situation], **extra, "split": split, "paraphrase": paraphrase})
            # The line is assembled from cached JSON parts in sorted-key order: byte-identical to
            # ``dumps(row)`` (a test checks this), without re-serialising the shared prompt.
            if fmt in ("messages", "openai"):
                assistant = dumps({"role": "assistant", "content": text})
                line = (
                    '{"messages":'
                    + renderer.messages_json(situation, paraphrase)[:-1]
                    + ","
                    + assistant
                    + '],"meta":'
                    + meta
                    + "}"
                )
            else:
                line = (
                    '{"completion":'
                    + completion
                    + ',"meta":'
                    + meta
                    + ',"prompt":'
                    + renderer.messages_json(situation, paraphrase)
                    + "}"
                )
            lines.setdefault(split, []).append(line)
            labels.setdefault(split, []).append(pref.label)
            counts[(situation.game, pref.label, split)] += 1
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
        "games": list(build.games),
        "paraphrases": len(paras),
        "split": {k: plain_number(v) for k, v in fractions.items()},
        "holdout": {
            "games": [g.name for g in build.ast.holdout_games],
            "paraphrases": list(build.ast.holdout_paraphrases),
            "where": [_pretty(c) for c in build.ast.holdout_where],
        },
        "counts": {s: sum(n for (g, p, sp), n in counts.items() if sp == s) for s in SPLIT_ORDER if s in lines},
        "skipped_points": {f"{g}/{p}": n for (g, p), n in sorted(skipped.items())},
    }
    return DatasetResult(lines, header, counts, skipped, frozenset(distinct), labels)


def _pretty(expr) -> str:
    from prefc.compiler import pretty

    return pretty.expr(expr)


def _seen(ir: SpecIR, situation) -> dict[str, Any]:
    out = {}
    game = ir.games[situation.game]
    for key, value in situation.history:
        act = game.action_by_key(key)
        out[game.action_label(act)] = act.labels[int(value)] if act.kind == "labels" else plain_number(value)
    return out
