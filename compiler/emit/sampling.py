"""Sampling: balanced over games, roles and parameter points; seeded; splits and hold-outs.

A *prompt key* is (situation, paraphrase): rows of different preferences with the same key share
the same prompt, so splits are assigned per prompt key and no prompt appears in two splits.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from prefc.compiler import ast
from prefc.compiler.check.constants import NotConstant, evaluate_condition
from prefc.compiler.emit.situations import EmitError, Point, Situation

PromptKey = tuple[Situation, int]


def held_out(build: ast.Build, key: PromptKey) -> bool:
    """Whether a prompt belongs to the test split by a hold-out (game, region or paraphrase).

    Args:
        build: The dataset block.
        key: The prompt key.
    """
    situation, paraphrase = key
    if situation.game in {g.name for g in build.holdout_games}:
        return True
    if paraphrase in build.holdout_paraphrases:
        return True
    env = dict(situation.point)
    for cond in build.holdout_where:
        names = {n.id for n in _names(cond)}
        if not names <= set(env):
            continue  # the condition is about another game's parameters
        try:
            if evaluate_condition(cond, env):
                return True
        except NotConstant as exc:
            raise EmitError(
                "hold-out condition cannot be evaluated at "
                f"{dict((k, str(v)) for k, v in situation.point)}: {exc.message}",
                span=cond.span,
            ) from exc
    return False


def _names(expr):
    if isinstance(expr, ast.Name):
        yield expr
    for value in expr.__dict__.values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, ast.Node) and not isinstance(item, ast.Ident):
                yield from _names(item)


@dataclass(frozen=True)
class Pool:
    """The prompt keys one game offers, grouped by role and point (for balanced draws).

    Attributes:
        game: Game name.
        by_role: role -> point -> situations at that point.
    """

    game: str
    by_role: dict[str, dict[Point, list[Situation]]]

    def size(self, paraphrases: Sequence[int]) -> int:
        """How many distinct prompt keys the pool holds.

        Args:
            paraphrases: The paraphrase numbers in use.
        """
        return sum(len(s) for pts in self.by_role.values() for s in pts.values()) * len(paraphrases)


def balanced_order(pool: Pool, paraphrases: Sequence[int], rng: random.Random) -> list[PromptKey]:
    """Every prompt key of a pool in an order whose every prefix is balanced: across roles first,
    then across parameter points, then histories, then paraphrases.

    Args:
        pool: The pool.
        paraphrases: The paraphrase numbers in use.
        rng: The seeded random source.
    """
    per_role: list[list[PromptKey]] = []
    for role in sorted(pool.by_role):
        points = list(pool.by_role[role])
        rng.shuffle(points)
        queues = []
        for p in points:
            sits = list(pool.by_role[role][p])
            rng.shuffle(sits)
            queues.append(sits)
        units = [s for layer in itertools.zip_longest(*queues) for s in layer if s is not None]
        keys: list[PromptKey] = []
        paras = [list(paraphrases) for _ in units]
        for order in paras:
            rng.shuffle(order)
        for r in range(len(paraphrases)):
            keys.extend((u, paras[i][r]) for i, u in enumerate(units))
        per_role.append(keys)
    return [k for layer in itertools.zip_longest(*per_role) for k in layer if k is not None]


def quotas(total: int, capacities: dict[str, int]) -> dict[str, int]:
    """Split ``total`` over games as evenly as their capacities allow (largest remainders first).

    Args:
        total: Rows wanted.
        capacities: Game -> distinct rows available.

    Raises:
        EmitError: If the games hold fewer distinct rows than wanted.
    """
    available = sum(capacities.values())
    if total > available:
        detail = ", ".join(f"{g}: {c}" for g, c in capacities.items())
        raise EmitError(f"{total} rows asked for, but only {available} distinct rows exist ({detail})")
    out = {g: 0 for g in capacities}
    left = total
    open_games = [g for g in capacities if capacities[g] > 0]
    while left > 0 and open_games:
        share, extra = divmod(left, len(open_games))
        for i, g in enumerate(open_games):
            want = share + (1 if i < extra else 0)
            take = min(want, capacities[g] - out[g])
            out[g] += take
            left -= take
        open_games = [g for g in open_games if out[g] < capacities[g]]
    return out


def assign_splits(
    keys: Sequence[PromptKey], fractions: dict[str, Fraction], build: ast.Build, rng: random.Random
) -> dict[PromptKey, str]:
    """The split of every prompt key: hold-outs go to ``test``, the rest by the split fractions.

    Args:
        keys: The distinct prompt keys sampled (in a deterministic order).
        fractions: Split name -> fraction (summing to 1).
        build: The dataset block (hold-outs).
        rng: The seeded random source.
    """
    out: dict[PromptKey, str] = {}
    rest = []
    for k in keys:
        if held_out(build, k):
            out[k] = "test"
        else:
            rest.append(k)
    rng.shuffle(rest)
    names = list(fractions)
    counts = [int(fractions[n] * len(rest)) for n in names]
    remainders = sorted(range(len(names)), key=lambda i: -(fractions[names[i]] * len(rest) - counts[i]))
    for i in remainders[: len(rest) - sum(counts)]:
        counts[i] += 1
    pos = 0
    for name, count in zip(names, counts, strict=False):
        for k in rest[pos : pos + count]:
            out[k] = name
        pos += count
    return out
