"""The comparison of one game: the grid of points, the closed-form region, and their agreement."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp

from prefc.compiler.check import PreferencePoint
from prefc.compiler.compare.closed_forms import closed_form
from prefc.compiler.compare.outcomes import Outcome, num_key, outcome_of, status_of
from prefc.compiler.compare.regions import Part, Space, interval_text, intervals, region_parts, simplify_on_grid
from prefc.compiler.compare.sides import DEFAULT_STEPS, Grid, Side, build_grid
from prefc.compiler.exact import NotCompilable, compile_exact
from prefc.compiler.ir import BoundPreference, to_plain
from prefc.compiler.lower import LoweringError
from prefc.compiler.solve import GameSolver, SolveError
from prefc.compiler.solve.closed import ClosedForm, text
from prefc.numbers import fraction_text

# ----------------------------------------------------------------------------- the comparison


@dataclass
class PointResult:
    """The comparison at one grid point."""

    params: dict[str, Fraction]
    free: dict[str, Fraction]
    status: str
    a: str
    b: str
    closed: str | None = None


@dataclass
class GameDiff:
    """Where two sides part on one game."""

    game: str
    a: Side
    b: Side
    grid: Grid
    points: list[PointResult]
    method: str = ""
    closed_form: dict[str, Any] | None = None
    closed_form_note: str = ""
    agreement: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        out = {"same": 0, "overlap": 0, "differ": 0, "error": 0}
        for p in self.points:
            out[p.status] += 1
        return out

    @property
    def share(self) -> float | None:
        """The fraction of grid points where the equilibrium sets are not the same."""
        n = len([p for p in self.points if p.status != "error"])
        return (sum(p.status in ("overlap", "differ") for p in self.points) / n) if n else None

    @property
    def example(self) -> PointResult | None:
        """A differing point (disjoint first), for the report."""
        for status in ("differ", "overlap"):
            for p in self.points:
                if p.status == status:
                    return p
        return None

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly dict (``diff.json``'s per-game entry)."""
        ex = self.example
        return {
            "game": self.game,
            "a": {"name": self.a.name, "spec": self.a.spec, "preference": self.a.label, "free": list(self.a.free)},
            "b": {"name": self.b.name, "spec": self.b.spec, "preference": self.b.label, "free": list(self.b.free)},
            "error": self.error,
            "grid": {
                "params": {k: [to_plain(v) for v in vs] for k, vs in self.grid.axes.items()},
                "shared": {k: to_plain(v) for k, v in self.grid.shared.items()},
                "own": [{k: to_plain(v) for k, v in d.items()} for d in self.grid.own],
                "free": {k: [to_plain(v) for v in vs] for k, vs in self.grid.free.items()},
                "domains": {k: [to_plain(lo), to_plain(hi)] for k, (lo, hi) in self.grid.domains.items()},
                "notes": self.grid.notes,
            },
            "counts": self.counts,
            "share_differ": self.share,
            "status": overall_status(self.counts),
            "example": _point_json(ex) if ex else None,
            "closed_form": self.closed_form,
            "closed_form_note": self.closed_form_note,
            "agreement": self.agreement,
            "points": [_point_json(p) for p in self.points],
        }


def overall_status(counts: dict[str, int]) -> str:
    if counts["differ"] or counts["overlap"]:
        return "differ" if counts["differ"] else "overlap"
    return "error" if counts["error"] and not counts["same"] else "same"


def _point_json(p: PointResult) -> dict[str, Any]:
    out = {
        "params": {k: to_plain(v) for k, v in p.params.items()},
        "free": {k: to_plain(v) for k, v in p.free.items()},
        "status": p.status,
        "a": p.a,
        "b": p.b,
    }
    if p.closed is not None:
        out["closed_form"] = p.closed
    return out


class _Evaluator:
    """One side's solvers: compiled once per preference point, evaluated at every game point."""

    def __init__(self, side: Side, own: dict[str, Fraction]):
        self.side = side
        self.own = own
        self.solvers: dict[PreferencePoint, GameSolver] = {}
        self.cache: dict[tuple, Outcome] = {}

    def outcome(self, params: dict[str, Fraction], free: dict[str, Fraction]) -> Outcome:
        game = self.side.game
        values = {k: v for k, v in params.items() if k in game.params}
        point = self.side.values(free)
        key = (tuple(sorted(values.items())), point)
        if key in self.cache:
            return self.cache[key]
        try:
            solver = self.solvers.get(point)
            if solver is None:
                solver = self.solvers[point] = GameSolver(game, BoundPreference(point, self.side.pref))
            out = outcome_of(solver.solve(values, derive=False), game)
        except (SolveError, LoweringError, ValueError, ZeroDivisionError) as exc:
            out = Outcome(frozenset(), f"unsolved: {exc}", None, None, error=str(exc))
        self.cache[key] = out
        return out


def compare(
    a: Side, b: Side, *, steps: int = DEFAULT_STEPS, closed: bool = True, progress: Callable[[int], None] | None = None
) -> GameDiff:
    """Compare two sides of one game on the grid and, where both have one, in closed form.

    Args:
        a: The first side.
        b: The second side.
        steps: Intervals in the grid over each free preference parameter.
        closed: Also derive the closed-form region.
        progress: Called with the number of grid points just evaluated.

    Raises:
        DiffError: The sides cannot be compared (different games' shapes are fine; a free parameter
            with conflicting domains is not).
    """
    grid = build_grid(a, b, steps=steps)
    ev = (_Evaluator(a, grid.own[0]), _Evaluator(b, grid.own[1]))
    game_points = grid.game_points()
    free_points = grid.free_points()
    results: list[PointResult] = []
    outcomes: list[tuple[Outcome, Outcome]] = []
    for gp in game_points:
        for fp in free_points:
            oa, ob = ev[0].outcome(gp, fp), ev[1].outcome(gp, fp)
            results.append(PointResult(gp, fp, status_of(oa, ob), oa.text, ob.text))
            outcomes.append((oa, ob))
        if progress is not None:
            progress(len(free_points))
    diff = GameDiff(a.game.name, a, b, grid, results)
    if not closed:
        return diff
    try:
        _closed_form(diff, outcomes)
    except (NotCompilable, NotImplementedError, TypeError, ValueError, RecursionError) as exc:
        diff.closed_form = None
        diff.closed_form_note = f"no closed form: {exc}"
    return diff


def _closed_form(diff: GameDiff, outcomes: list[tuple[Outcome, Outcome]]) -> None:
    a, b, grid = diff.a, diff.b, diff.grid
    symbols = {n: p.symbol for g in (a.game, b.game) for n, p in g.params.items()}
    space = Space(grid, symbols)
    game_points, free_points = space.points, space.free_points

    def sign_of(expr: sp.Expr) -> int | None:
        try:
            f = compile_exact(expr)
            signs = set()
            for i in range(len(game_points)):
                for fp in free_points:
                    v = f(space.env_at(i, fp))
                    signs.add(0 if v == 0 else (1 if v > 0 else -1))
        except (NotCompilable, KeyError, TypeError, ZeroDivisionError):
            return None
        return signs.pop() if len(signs) == 1 and 0 not in signs else None

    ranges: dict[sp.Symbol, tuple[float, float]] = {}
    for n, s in symbols.items():
        vals = grid.axes.get(n) or ([grid.shared[n]] if n in grid.shared else [d[n] for d in grid.own if n in d])
        ranges[s] = (float(min(vals)), float(max(vals)))
    for k, (lo, hi) in grid.domains.items():
        ranges[sp.Symbol(k, real=True)] = (float(lo), float(hi))
    forms = [
        closed_form(side, consts=own, ranges=ranges, sign_of=sign_of)
        for side, own in zip((a, b), grid.own, strict=False)
    ]
    missing = [side.name for side, f in zip((a, b), forms, strict=False) if f is None]
    if missing:
        diff.closed_form_note = f"no closed form for {' and '.join(missing)}; the grid is the answer"
        return
    fa, fb = forms
    assert fa is not None and fb is not None
    parts = region_parts(fa, fb)
    if parts is None:
        diff.closed_form_note = "the two sides' closed forms have different shapes; the grid is the answer"
        return
    notes: list[str] = []
    overall_general = sp.Or(*[p.general for p in parts])
    overall = Part("*", "the solutions differ", overall_general, overall_general)
    for p in [*parts, overall]:
        p.region = simplify_on_grid(p.general, space, notes)
        if p.a_only is not None:
            p.a_only = simplify_on_grid(p.a_only, space, notes)
            p.b_only = simplify_on_grid(p.b_only, space, notes)
        if space.mode != "grid":
            for i, gp in enumerate(game_points):
                s = space.set_of(p.general, i)
                entry: dict[str, Any] = {"params": {k: to_plain(v) for k, v in gp.items()}}
                if space.mode == "interval":
                    entry["intervals"] = intervals(s)
                    entry["text"] = interval_text(entry["intervals"], space.free[0].name)
                else:
                    entry["differ"] = bool(s)
                p.boundaries.append(entry)
    agreement = _agreement(diff, fa, fb, space, outcomes)
    diff.agreement = agreement
    assumptions = sorted({f"{text(x)} at every grid point" for x in fa.assumptions + fb.assumptions})
    indiff = []
    for side, f in ((a, fa), (b, fb)):
        for cond, acts, ind in f.regimes:
            if ind:
                indiff.append(
                    f"{side.name}: where {text(cond)} every level of "
                    f"{', '.join(acts)} is optimal; the solver selects the lower bound"
                )
    diff.method = f"{a.name}: {fa.method}; {b.name}: {fb.method}"
    diff.closed_form = {
        "kind": fa.kind,
        "method": diff.method,
        "region": text(overall.region),
        "region_general": text(overall.general),
        "free": [s.name for s in space.free],
        "assumptions": assumptions,
        "facts": sorted(set(notes)),
        "indifference": indiff,
        "boundaries": overall.boundaries,
        "parts": [
            {
                "name": p.name,
                "description": p.description,
                "region": text(p.region),
                "region_general": text(p.general),
                **({"only_a": text(p.a_only), "only_b": text(p.b_only)} if p.a_only is not None else {}),
                "boundaries": p.boundaries,
            }
            for p in parts
        ],
        "sides": {"a": _side_json(fa), "b": _side_json(fb)},
    }
    idx = 0
    for i in range(len(game_points)):
        for fp in free_points:
            env = space.env_at(i, fp)
            diff.points[idx].closed = "differ" if _truth(overall.general, env) else "same"
            idx += 1


def _side_json(f: ClosedForm) -> dict[str, Any]:
    if f.kind == "conditions":
        return {"kind": f.kind, "conditions": {str(k): text(c) for k, c in f.conditions.items()}}
    return {
        "kind": f.kind,
        "regimes": [
            {"condition": text(c), "outcome": {k: text(v) for k, v in o.items()}, "indifferent": ind}
            for c, o, ind in f.regimes
        ],
    }


def _truth(expr: sp.Basic, env: dict[sp.Symbol, Fraction]) -> bool:
    return bool(compile_exact(expr)(env))


def _agreement(
    diff: GameDiff, fa: ClosedForm, fb: ClosedForm, space: Space, outcomes: list[tuple[Outcome, Outcome]]
) -> dict[str, Any]:
    """Check, at every grid point and for both sides, the closed form against the solver."""
    checked = mismatched = 0
    examples: list[str] = []
    compiled: list[Any] = []
    for f in (fa, fb):
        if f.kind == "conditions":
            compiled.append({k: compile_exact(c) for k, c in f.conditions.items()})
        else:
            compiled.append([(compile_exact(c), {k: compile_exact(e) for k, e in o.items()}) for c, o, _ in f.regimes])
    idx = 0
    for i in range(len(space.points)):
        for fp in space.free_points:
            env = space.env_at(i, fp)
            for s, (f, comp) in enumerate(zip((fa, fb), compiled, strict=False)):
                found = outcomes[idx][s]
                if found.error:
                    continue
                if f.kind == "conditions":
                    predicted: Any = frozenset(k for k, c in comp.items() if c(env))
                    actual: Any = found.symmetric_pure
                else:
                    hit = next((o for c, o in comp if c(env)), None)
                    predicted = None if hit is None else {k: num_key(float(e(env))) for k, e in hit.items()}
                    actual = found.selected
                    if predicted is not None and actual is not None:
                        actual = {k: actual.get(k) for k in predicted}
                checked += 1
                if not _close(predicted, actual):
                    mismatched += 1
                    if len(examples) < 5:
                        where = ", ".join(
                            f"{k} = {fraction_text(v)}"
                            for k, v in {**diff.points[idx].params, **diff.points[idx].free}.items()
                        )
                        examples.append(
                            f"{(diff.a, diff.b)[s].name} at {where or 'the defaults'}: closed form "
                            f"{_show(predicted)}, solver {_show(actual)}"
                        )
            idx += 1
    return {
        "checked": checked,
        "mismatched": mismatched,
        "agree": mismatched == 0,
        "examples": examples,
        "compared": "symmetric pure equilibria" if fa.kind == "conditions" else "the selected solution",
    }


def _close(x: Any, y: Any) -> bool:
    if isinstance(x, dict) and isinstance(y, dict):
        if set(x) != set(y):
            return False
        return all(_close(x[k], y[k]) for k in x)
    if isinstance(x, float) and isinstance(y, float):
        return math.isclose(x, y, rel_tol=1e-7, abs_tol=1e-7)
    return x == y


def _show(v: Any) -> str:
    if isinstance(v, frozenset):
        return "{" + ", ".join(sorted(map(str, v))) + "}"
    if isinstance(v, dict):
        return ", ".join(f"{k} = {x}" for k, x in v.items())
    return str(v)
