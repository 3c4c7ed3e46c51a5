"""SFT datasets: rows in TRL's conversational prompt-completion format plus a ``meta`` object."""

from __future__ import annotations

import os
import random
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
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


def plan_dataset(
    spec: CheckedSpec,
    ir: SpecIR,
    build: CheckedBuild,
    solutions: Solutions,
    renderer: PromptRenderer,
    *,
    seed: int,
    fmt: str = "trl",
    progress=None,
) -> DatasetPlan:
    """Sample, split and answer a dataset block; its lines are rendered when they are written
    (:meth:`DatasetPlan.lines`), so a compile never holds them all.

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
            unanswered = [g for g in build.games if sizes[g] == 0 and skipped[(g, pref.label)]]
            why = (
                f" ({', '.join(unanswered)}: no parameter point has an answer to teach, such as a pure equilibrium; "
                "`prefc solve` shows what the solver found)"
                if unanswered
                else ""
            )
            raise EmitError(
                f"dataset `{build.name}`, preference `{pref.label}`: {exc}{why}; lower `samples` "
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

    plan = DatasetPlan(
        build=build, renderer=renderer, fmt=fmt, seed=seed, keys=distinct, labels=[p.label for p in build.preferences]
    )
    plan.fill(spec, ir, solutions, chosen, splits, progress=progress)
    plan.header = {
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
        "counts": {
            s: sum(n for (g, p, sp), n in plan.counts.items() if sp == s) for s in SPLIT_ORDER if s in plan.rows
        },
        "skipped_points": {f"{g}/{p}": n for (g, p), n in sorted(skipped.items())},
    }
    plan.skipped = skipped
    return plan


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
    """Sample, split and render a dataset block, every line in memory (see :func:`plan_dataset`
    for the streaming form a compile writes).

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
    plan = plan_dataset(spec, ir, build, solutions, renderer, seed=seed, fmt=fmt, progress=progress)
    lines: dict[str, list[str]] = {}
    labels: dict[str, list[str]] = {}
    for split in plan.rows:
        pairs = list(plan.lines(split))
        labels[split] = [label for label, _ in pairs]
        lines[split] = [line.decode("utf-8") for _, line in pairs]
    return DatasetResult(lines, plan.header, plan.counts, plan.skipped, frozenset(plan.keys), labels)


@dataclass
class DatasetPlan:
    """A sampled dataset before its lines are rendered: per split, each row as a code
    ``key index * preferences + preference index`` in generation order (8 bytes a row), and what
    the rows share (answers per situation, meta per situation). :meth:`lines` renders the rows
    in their final (shuffled) order, from memory or through a scratch file.

    Attributes:
        build: The dataset block.
        renderer: The prompt renderer.
        fmt: The row format.
        seed: The sampling seed.
        keys: The distinct prompt keys sampled.
        labels: The preference labels, in order.
        rows: split -> row codes in generation order.
        header: The ``dataset.json`` content.
        counts: (game, preference, split) -> rows.
        skipped: (game, preference) -> parameter points without a pure answer.
    """

    build: CheckedBuild
    renderer: PromptRenderer
    fmt: str
    seed: int
    keys: list
    labels: list[str]
    rows: dict[str, array] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    _splits: dict = field(default_factory=dict)
    _answers: dict = field(default_factory=dict)
    _meta: dict = field(default_factory=dict)
    _pref_meta: list[dict[str, Any]] = field(default_factory=list)

    @property
    def prompt_keys(self) -> frozenset:
        """Every (situation, wording) the dataset's rows ask, in any split."""
        return frozenset(self.keys)

    def fill(self, spec: CheckedSpec, ir: SpecIR, solutions: Solutions, chosen, splits, *, progress=None) -> None:
        """Answer every sampled row and record it in its split (no prompt is rendered here).

        Args:
            spec: The checked spec.
            ir: Its IR.
            solutions: The solution cache.
            chosen: Preference label -> its sampled prompt keys, in order.
            splits: Prompt key -> split.
            progress: Optional callable ``advance(n)``.
        """
        self._splits = splits
        index = {k: i for i, k in enumerate(self.keys)}
        base_meta = {"spec": spec.name, "spec_sha256": spec.sha256, "dataset": self.build.name}
        n_prefs = len(self.labels)
        for pi, pref in enumerate(self.build.preferences):
            bound = ir.preference(pref)
            pref_meta = {
                **base_meta,
                "preference": pref.label,
                "preference_name": pref.name,
                "preference_params": canonical(dict(pref.values)),
            }
            self._pref_meta.append(pref_meta)
            for key in chosen[pref.label]:
                situation, _ = key
                at = (pi, situation)
                if at not in self._answers:
                    decided = solutions.decide(situation, pref)
                    if decided is None:
                        self._answers[at] = None
                    else:
                        text = completion_text(bound, decided.decision, decided.answer)
                        extra = {"answer": canonical(decided.answer)}
                        if decided.alternatives:
                            extra["alternatives"] = canonical(decided.alternatives)
                        self._answers[at] = (text, dumps([{"role": "assistant", "content": text}]), extra)
                if self._answers[at] is None:
                    continue
                if situation not in self._meta:
                    fields = {
                        "game": situation.game,
                        "role": situation.role,
                        "params": canonical(dict(situation.point)),
                    }
                    if situation.history:
                        fields["seen"] = _seen(ir, situation)
                    self._meta[situation] = fields
                split = splits[key]
                self.rows.setdefault(split, array("q")).append(index[key] * n_prefs + pi)
                self.counts[(situation.game, pref.label, split)] += 1
                if progress is not None:
                    progress(1)

    def _line(self, code: int, prompt: str | None = None) -> bytes:
        """One row's JSONL line (UTF-8, no newline)."""
        key_index, pi = divmod(code, len(self.labels))
        key = self.keys[key_index]
        situation, paraphrase = key
        text, completion, extra = self._answers[(pi, situation)]
        if prompt is None:
            prompt = self.renderer.messages_json(situation, paraphrase)
        # The line is assembled from cached JSON parts in sorted-key order: byte-identical to
        # ``dumps(row)`` (a test checks this), without re-serialising the shared prompt.
        meta = dumps(
            {
                **self._pref_meta[pi],
                **self._meta[situation],
                **extra,
                "split": self._splits[key],
                "paraphrase": paraphrase,
            }
        )
        if self.fmt in ("messages", "openai"):
            assistant = dumps({"role": "assistant", "content": text})
            line = '{"messages":' + prompt[:-1] + "," + assistant + '],"meta":' + meta + "}"
        else:
            line = '{"completion":' + completion + ',"meta":' + meta + ',"prompt":' + prompt + "}"
        return line.encode("utf-8")

    def order(self, split: str) -> array:
        """The split's row codes in their final order (the seeded shuffle of the generation order)."""
        codes = self.rows[split]
        perm = array("q", range(len(codes)))
        random.Random(f"{self.seed}:{self.build.name}:{split}:order").shuffle(perm)
        return array("q", (codes[i] for i in perm))

    def lines(self, split: str, *, scratch: Path | None = None) -> Iterator[tuple[str, bytes]]:
        """The split's rows in their final order, as ``(preference label, line)``.

        Args:
            split: The split.
            scratch: A scratch file for rows rendered prompt by prompt (each prompt rendered once,
                kept only while its rows are written; removed at the end); None renders them in
                memory with the renderer's prompt cache.
        """
        final = self.order(split)
        n_prefs = len(self.labels)
        if scratch is None:
            for code in final:
                yield self.labels[code % n_prefs], self._line(code)
            return
        yield from self._spilled(final, scratch)

    def _spilled(self, final: array, scratch: Path) -> Iterator[tuple[str, bytes]]:
        import numpy as np

        n_prefs, n = len(self.labels), len(final)
        # rows grouped by prompt key (8 bytes a row, like every array here: no list of the rows)
        by_key = array("q")
        if n:
            codes = np.frombuffer(final, dtype=np.int64)
            by_key.frombytes(np.argsort(codes // n_prefs, kind="stable").astype(np.int64).tobytes())
        starts = array("q", bytes(8 * n))
        ends = array("q", bytes(8 * n))
        try:
            with open(scratch, "wb", buffering=1 << 20) as fh:
                pos, last, prompt = 0, -1, ""
                for i in by_key:
                    code = final[i]
                    key_index = code // n_prefs
                    if key_index != last:
                        situation, paraphrase = self.keys[key_index]
                        prompt = self.renderer.messages_json(situation, paraphrase, keep=False)
                        last = key_index
                    data = self._line(code, prompt)
                    starts[i] = pos
                    pos += len(data)
                    ends[i] = pos
                    fh.write(data)
            if not n:
                return
            # positioned reads, not a memory map: mapped pages of the scratch file would count
            # in the process's resident memory, and it grows with the rows
            fd = os.open(scratch, os.O_RDONLY)
            try:
                for i, code in enumerate(final):
                    yield self.labels[code % n_prefs], os.pread(fd, ends[i] - starts[i], starts[i])
            finally:
                os.close(fd)
        finally:
            scratch.unlink(missing_ok=True)


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
