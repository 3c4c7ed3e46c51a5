"""Eval rubrics: items with the answer schema and the target of every compared preference, plus
option utilities over a preference family's parameter grid (for logit estimation)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from prefc.compiler.check import CheckedBuild, CheckedSpec, PreferencePoint
from prefc.compiler.emit import sampling
from prefc.compiler.emit.dataset import parameter_points
from prefc.compiler.emit.fmt import canonical, dumps
from prefc.compiler.emit.prompts import PromptRenderer
from prefc.compiler.emit.situations import EmitError, Situation, Solutions, situations
from prefc.compiler.emit.templates import DEFAULT_WORDINGS
from prefc.compiler.ir import SpecIR
from prefc.numbers import plain_number

GRID_STEPS = 20
CONTINUOUS_OPTIONS = 11
DEFAULT_TOLERANCE = Fraction(5, 100)


@dataclass
class Family:
    """A one-parameter preference family compared by a rubric (e.g. moralis over kappa)."""

    name: str
    param: str
    grid: list[Fraction]
    fixed: tuple[tuple[str, Fraction], ...]

    def point(self, value: Fraction) -> PreferencePoint:
        """The family member at a parameter value.

        Args:
            value: The parameter value.
        """
        return PreferencePoint(self.name, tuple((k, value if k == self.param else v) for k, v in self.fixed))

    def header(self) -> dict[str, Any]:
        """The ``family`` entry of the rubric header."""
        return {"name": self.name, "param": self.param, "grid": [plain_number(g) for g in self.grid]}


def find_family(spec: CheckedSpec, build: CheckedBuild) -> Family | None:
    """The preference family a rubric compares: a preference listed at two or more values of one
    parameter with a bounded domain (the grid spans the domain in 20 steps).

    Args:
        spec: The checked spec.
        build: The rubric block.
    """
    by_name: dict[str, list[PreferencePoint]] = {}
    for p in build.preferences:
        by_name.setdefault(p.name, []).append(p)
    for name, points in by_name.items():
        if len(points) < 2:
            continue
        varying = [k for k, _ in points[0].values if len({dict(p.values)[k] for p in points}) > 1]
        if len(varying) != 1:
            continue
        param = varying[0]
        domain = spec.preferences[name].domains.get(param)
        if domain is None:
            continue
        lo, hi = domain
        grid = [lo + (hi - lo) * Fraction(i, GRID_STEPS) for i in range(GRID_STEPS + 1)]
        return Family(name, param, grid, points[0].values)
    return None


def _options(schema: dict[str, Any]) -> list[Any]:
    (spec,) = schema.values()
    if spec["kind"] == "choice":
        return list(spec["options"])
    lo, hi = Fraction(str(spec["min"])), Fraction(str(spec["max"]))
    if spec["kind"] == "integer":
        step = Fraction(str(spec.get("step", 1)))
        count = int((hi - lo) / step) + 1
        if count <= 101:
            return [plain_number(lo + i * step) for i in range(count)]
    return [plain_number(lo + (hi - lo) * Fraction(i, CONTINUOUS_OPTIONS - 1)) for i in range(CONTINUOUS_OPTIONS)]


def family_utilities(
    solutions: Solutions, family: Family, situation: Situation, options: list[Any]
) -> list[list[float | None]]:
    """The decider's utility of each option at every grid value of the family's parameter.

    Args:
        solutions: The solution cache.
        family: The family.
        situation: The situation.
        options: The option values.
    """
    return [solutions.option_utilities(situation, family.point(value), options) for value in family.grid]


class Selection:
    """Which situations a rubric's items may ask (``select all`` or ``select discriminating``), and
    how many of them tell the rubric's preferences apart.

    Two preferences' targets *differ* in a situation when no answer is correct for both: their
    accepted answers (target and alternatives) share no choice label, and numeric answers lie more
    than twice the tolerance apart (an answer within the tolerance of both would count for both).
    A situation is *discriminating* when the targets of at least two compared preferences differ.

    Args:
        build: The rubric block.
        solutions: The solution cache.
        renderer: The prompt renderer (answer schemas).
        tolerance: The rubric's tolerance, as a fraction of a numeric action's range.
    """

    def __init__(
        self, build: CheckedBuild, solutions: Solutions, renderer: PromptRenderer, tolerance: Fraction
    ) -> None:
        self.build, self.solutions, self.renderer, self.tolerance = build, solutions, renderer, tolerance
        self.rule = build.ast.select.name if build.ast.select is not None else "all"
        prefs = build.preferences
        self.pairs = [(a, b) for i, a in enumerate(prefs) for b in prefs[i + 1 :]]
        self._differing: dict[Situation, tuple[int, ...]] = {}
        self.candidates = self.discriminating = 0
        self.emitted = [0] * len(self.pairs)

    def differing(self, situation: Situation) -> tuple[int, ...]:
        """Indices (into :attr:`pairs`) of the preference pairs whose targets differ in a situation.

        Args:
            situation: The situation.
        """
        if situation not in self._differing:
            schema = self.renderer.schema(situation)
            decided = {p.label: self.solutions.decide(situation, p) for p in self.build.preferences}
            self._differing[situation] = tuple(
                i
                for i, (a, b) in enumerate(self.pairs)
                if decided[a.label] is not None
                and decided[b.label] is not None
                and not _share_an_answer(decided[a.label], decided[b.label], schema, self.tolerance)
            )
        return self._differing[situation]

    def apply(self, orders: dict[str, list[sampling.PromptKey]]) -> dict[str, list[sampling.PromptKey]]:
        """Count the candidate prompts and keep those the rule selects (order unchanged).

        Args:
            orders: Game -> candidate prompt keys in sampling order.

        Raises:
            EmitError: Under ``select discriminating``, a game of the rubric has no situation that
                tells its preferences apart.
        """
        out: dict[str, list[sampling.PromptKey]] = {}
        for game, keys in orders.items():
            telling = [k for k in keys if self.differing(k[0])]
            self.candidates += len(keys)
            self.discriminating += len(telling)
            if self.rule == "discriminating":
                if keys and not telling:
                    raise EmitError(
                        f"rubric `{self.build.name}`: no situation of game `{game}` tells "
                        f"{', '.join(p.label for p in self.build.preferences)} apart "
                        "(`select discriminating`); remove the game or vary its parameters"
                    )
                out[game] = telling
            else:
                out[game] = keys
        return out

    def count(self, situation: Situation) -> None:
        """Record an emitted item's situation for the per-pair counts.

        Args:
            situation: The item's situation.
        """
        for i in self.differing(situation):
            self.emitted[i] += 1

    def header(self) -> dict[str, Any]:
        """The ``selection`` entry of the rubric header: the rule, the candidate prompts, how many
        of them are discriminating (and their share), and per preference pair the items whose
        targets differ."""
        share = self.discriminating / self.candidates if self.candidates else 0.0
        return {
            "rule": self.rule,
            "candidates": self.candidates,
            "discriminating": self.discriminating,
            "share": round(share, 4),
            "pairs": [
                {"preferences": [a.label, b.label], "differ": n}
                for (a, b), n in zip(self.pairs, self.emitted, strict=True)
            ],
        }


def _share_an_answer(a: Any, b: Any, schema: dict[str, Any], tolerance: Fraction) -> bool:
    """Whether some answer is correct for both decisions (see :class:`Selection`)."""

    def close(spec: dict[str, Any], x: Any, y: Any) -> bool:
        if spec["kind"] == "number":
            width = Fraction(str(spec["max"])) - Fraction(str(spec["min"]))
            return abs(Fraction(str(x)) - Fraction(str(y))) <= 2 * tolerance * width
        return x == y

    return any(
        all(k in x and k in y and close(spec, x[k], y[k]) for k, spec in schema.items())
        for x in [a.answer, *a.alternatives]
        for y in [b.answer, *b.alternatives]
    )


def build_rubric(
    spec: CheckedSpec,
    ir: SpecIR,
    build: CheckedBuild,
    solutions: Solutions,
    renderer: PromptRenderer,
    *,
    seed: int,
    progress=None,
    exclude: frozenset | set = frozenset(),
) -> tuple[list[str], dict[str, Any]]:
    """Sample and render a rubric block.

    Items never ask a prompt in ``exclude`` (the prompts of the spec's datasets rendered with the
    same templates), so a rubric measures behaviour on prompts no model trained on.

    Args:
        spec: The checked spec.
        ir: Its IR.
        build: The rubric block.
        solutions: The solution cache.
        renderer: The prompt renderer.
        seed: The sampling seed.
        progress: Optional callable ``advance(n)``.
        exclude: Prompt keys (situation, wording) that items must not use.

    Returns:
        The JSONL lines and the header.
    """
    if build.ast.paraphrases is not None:
        paras = list(range(build.ast.paraphrases))
    else:
        paras = list(range(DEFAULT_WORDINGS if build.ast.template in (None, "default") else 1))
    tolerance = build.ast.tolerance if build.ast.tolerance is not None else DEFAULT_TOLERANCE
    pools: dict[str, sampling.Pool] = {}
    for game in build.games:
        by_role: dict[str, dict] = {}
        for point in parameter_points(ir, game):
            if any(solutions.solve(game, p, point).answer is None for p in build.preferences):
                continue
            for s in situations(ir.games[game], point):
                by_role.setdefault(s.role, {}).setdefault(point, []).append(s)
        pools[game] = sampling.Pool(game, by_role)
    wanted = build.ast.items or 100
    orders = {
        game: [
            k
            for k in sampling.balanced_order(pools[game], paras, random.Random(f"{seed}:{build.name}:{game}"))
            if k not in exclude
        ]
        for game in build.games
    }
    selection = Selection(build, solutions, renderer, tolerance)
    orders = selection.apply(orders)
    try:
        quota = sampling.quotas(wanted, {g: len(order) for g, order in orders.items()})
    except EmitError as exc:
        raise EmitError(
            f"rubric `{build.name}`: {exc} (prompts of the spec's datasets excluded); lower `items` "
            "or add parameter values, games or paraphrases",
            span=exc.span or build.ast.settings_spans.get("items", build.ast.name.span),
        ) from exc
    keys: list[sampling.PromptKey] = []
    for game in build.games:
        keys.extend(orders[game][: quota[game]])
    family = find_family(spec, build)
    family_cache: dict[Situation, dict[str, Any]] = {}
    lines = []
    for i, (situation, paraphrase) in enumerate(keys, start=1):
        schema = renderer.schema(situation)
        targets: dict[str, Any] = {}
        for pref in build.preferences:
            decided = solutions.decide(situation, pref)
            if decided is None:
                raise EmitError(f"rubric `{build.name}`: no pure answer for `{pref.label}` in {situation.game}")
            target: dict[str, Any] = dict(decided.answer)
            if decided.alternatives:
                target["alternatives"] = decided.alternatives
            targets[pref.label] = target
        item: dict[str, Any] = {
            "id": f"{build.name}-{i:04d}",
            "game": situation.game,
            "role": situation.role,
            "params": dict(situation.point),
            "prompt": renderer.messages(situation, paraphrase),
            "schema": schema,
            "targets": targets,
            "tolerance": tolerance,
            "meta": {
                "spec": spec.name,
                "spec_sha256": spec.sha256,
                "rubric": build.name,
                "paraphrase": paraphrase,
                "varied": [n for n, p in ir.games[situation.game].params.items() if len(p.values) > 1],
            },
        }
        if situation.history:
            seen_in = ir.games[situation.game]
            item["seen"] = {
                seen_in.action_label(seen_in.action_by_key(k)): (
                    seen_in.action_by_key(k).labels[int(v)]
                    if isinstance(v, int) and seen_in.action_by_key(k).kind == "labels"
                    else v
                )
                for k, v in situation.history
            }
        if family is not None:
            if situation not in family_cache:
                options = _options(schema)
                action = next(iter(schema))
                family_cache[situation] = {
                    "options": [{action: o} for o in options],
                    "utilities": family_utilities(solutions, family, situation, options),
                }
            item["family"] = family_cache[situation]
        lines.append(dumps(canonical(item)))
        selection.count(situation)
        if progress is not None:
            progress(1)
    header = {
        "spec": spec.name,
        "spec_sha256": spec.sha256,
        "rubric": build.name,
        "preferences": [p.label for p in build.preferences],
        "tolerance": plain_number(tolerance),
        "games": list(build.games),
        "items": len(lines),
        "seed": seed,
        "excluded_dataset_prompts": len(exclude),
        "selection": selection.header(),
        "family": family.header() if family is not None else None,
    }
    return lines, canonical(header)
