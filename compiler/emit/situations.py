"""What one prompt asks: a decision of one role at one parameter point (after an observed history),
and the solver's answer to it for a preference.

Solutions are cached per (game, preference, point); decisions of later movers at histories off the
equilibrium path are computed from the same solver (the mover's utility of every option there).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from prefc.compiler.check import PreferencePoint
from prefc.compiler.diagnostics import LocatedError
from prefc.compiler.ir import ActionIR, GameIR, SpecIR
from prefc.compiler.solution import ActionValue, Decision, Solution
from prefc.compiler.solve import GameSolver, SolveError
from prefc.compiler.solve_cache import SolveCache, decision_consistent, point_key, recertify, situation_key
from prefc.numbers import plain_number

Point = tuple[tuple[str, Fraction], ...]
History = tuple[tuple[str, Fraction | int], ...]
CONTINUOUS_HISTORY_STEPS = 10
MAX_FINITE_HISTORIES = 60


class EmitError(LocatedError):
    """A compile error of the emission stage (a solver failure, too many rows), located where the
    spec says where (a solver failure keeps the solver's span)."""


@dataclass(frozen=True)
class Situation:
    """One decision a prompt asks for.

    Attributes:
        game: Game name.
        role: The role asked (a named role, or the group's name for a symmetric group game).
        stage: The stage of the decision.
        action: The action chosen.
        point: Game parameter values.
        history: Earlier actions the mover observed, ``((action key, value), ...)`` (keys are
            ``owner.name``; label codes for labels).
    """

    game: str
    role: str
    stage: int
    action: str
    point: Point
    history: History = ()

    @property
    def key(self) -> tuple:
        return (self.game, self.role, self.stage, self.point, self.history)

    def __hash__(self) -> int:
        # Situations key every cache of a compile; hashing their Fractions each time dominated.
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash(self.key)
            object.__setattr__(self, "_hash", cached)
        return cached


@dataclass
class Decided:
    """A preference's decision in a situation.

    Attributes:
        decision: The decision (options and utilities, or the utility function), as the solver reports it.
        answer: ``{action: value}``.
        alternatives: Equally good answers.
        utility: The decider's utility of any option value (None when not available).
        stored: Read from the solved-games cache (``utility`` is then None: ask the solver).
    """

    decision: Decision
    answer: dict[str, ActionValue]
    alternatives: list[dict[str, ActionValue]]
    utility: Callable[[object], float] | None
    stored: bool = False


@dataclass
class Solutions:
    """Solvers and solutions of a spec, cached per (game, preference, point).

    Args:
        ir: The spec's IR.
        store: The solved-games cache (:mod:`prefc.compiler.solve_cache`): answers are read from it
            (each solution certified again) and computed ones added; None: solve everything.
    """

    ir: SpecIR
    store: SolveCache | None = None
    _solvers: dict[tuple[str, str], GameSolver] = field(default_factory=dict)
    _solutions: dict[tuple[str, str, Point], Solution] = field(default_factory=dict)
    _decided: dict[tuple[Situation, str], Decided | None] = field(default_factory=dict)

    def solver(self, game: str, pref: PreferencePoint) -> GameSolver:
        """The (cached) solver of a game for a preference.

        Args:
            game: Game name.
            pref: The preference point.
        """
        key = (game, pref.label)
        if key not in self._solvers:
            try:
                self._solvers[key] = GameSolver(self.ir.games[game], self.ir.preference(pref))
            except SolveError as exc:
                raise EmitError(
                    f"cannot solve game `{game}` for preference `{pref.label}`: {exc}", span=exc.span
                ) from exc
        return self._solvers[key]

    def solve(self, game: str, pref: PreferencePoint, point: Point) -> Solution:
        """The (cached) solution at a point.

        Args:
            game: Game name.
            pref: The preference point.
            point: Parameter values.
        """
        key = (game, pref.label, point)
        if key not in self._solutions:
            stored = self._stored_solution(game, pref, point)
            if stored is not None:
                self._solutions[key] = stored
                return stored
            try:
                self._solutions[key] = self.solver(game, pref).solve(dict(point))
            except SolveError as exc:
                raise EmitError(
                    f"cannot solve game `{game}` for preference `{pref.label}` at {_point_text(point)}: {exc}",
                    span=exc.span,
                ) from exc
            if self.store is not None:
                self._entry(game, pref).put("solutions", point_key(point), self._solutions[key].model_dump(mode="json"))
        return self._solutions[key]

    def _entry(self, game: str, pref: PreferencePoint):
        assert self.store is not None
        return self.store.entry(self.ir.games[game], self.ir.preference(pref))

    def _stored_solution(self, game: str, pref: PreferencePoint, point: Point) -> Solution | None:
        """The cached solution at a point, certified again (None: not stored, or it failed)."""
        if self.store is None:
            return None
        entry = self._entry(game, pref)
        at = point_key(point)
        data = entry.get("solutions", at)
        if data is None:
            return None
        from prefc.compiler.solve.solver import validate_point

        try:
            solution = Solution.model_validate(data)
            solver = self.solver(game, pref)
            full = validate_point(solver.game, dict(point))
        except (ValueError, EmitError):
            entry.drop(at)
            return None
        if not recertify(solver, full, solution):
            entry.drop(at)
            return None
        return solution

    def all_solutions(self) -> list[Solution]:
        """Every solution computed so far, sorted by game, preference and point."""
        return [self._solutions[k] for k in sorted(self._solutions, key=lambda k: (k[0], k[1], k[2]))]

    def decide(self, situation: Situation, pref: PreferencePoint) -> Decided | None:
        """The preference's decision in a situation (None when the solution has no pure answer).

        Args:
            situation: The situation.
            pref: The preference point.
        """
        key = (situation, pref.label)
        if key not in self._decided:
            if self.store is None:
                self._decided[key] = self._decide(situation, pref)
                return self._decided[key]
            sol = self.solve(situation.game, pref, situation.point)  # certified before its decisions are read
            entry = self._entry(situation.game, pref)
            at = _situation_key(situation)
            if entry.has("decisions", at):
                data = entry.get("decisions", at)
                decided = _stored_decided(data, sol, later=bool(situation.history))
                if decided is not False:
                    self._decided[key] = decided  # type: ignore[assignment]
                    return self._decided[key]
            self._decided[key] = self._decide(situation, pref)
            done = self._decided[key]
            entry.put("decisions", at, None if done is None else done.decision.model_dump(mode="json"))
        return self._decided[key]

    def option_utilities(
        self, situation: Situation, pref: PreferencePoint, options: list[object]
    ) -> list[float | None]:
        """The decider's utility of each option value.

        Where the preference has a pure answer, utilities are taken against it; in a symmetric
        finite game whose only symmetric equilibria are mixed, against the others' equilibrium
        mixture. None where neither applies.

        Args:
            situation: The situation.
            pref: The preference point.
            options: The option values, in order.
        """
        if self.store is None:
            return self._option_utilities(situation, pref, options)
        entry = self._entry(situation.game, pref)
        at = _situation_key(situation) + "|" + json.dumps(options, sort_keys=True)
        data = entry.get("utilities", at)
        if (
            isinstance(data, list)
            and len(data) == len(options)
            and all(u is None or (isinstance(u, (int, float)) and not isinstance(u, bool)) for u in data)
        ):
            self.solve(situation.game, pref, situation.point)  # the point's solution passes its check first
            if entry.has("utilities", at):  # (a failed check forgets the point's utilities)
                return data
        utils = self._option_utilities(situation, pref, options)
        entry.put("utilities", at, utils)
        return utils

    def _option_utilities(
        self, situation: Situation, pref: PreferencePoint, options: list[object]
    ) -> list[float | None]:
        decided = self.decide(situation, pref)
        if decided is not None and decided.stored:
            decided = self._decide(situation, pref)
        if decided is not None and decided.utility is not None:
            return [plain_number(decided.utility(o)) for o in options]
        if situation.history:
            return [None for _ in options]
        try:
            utils = self.solver(situation.game, pref).utilities_against_mix(dict(situation.point))
        except SolveError as exc:
            raise EmitError(
                f"cannot solve game `{situation.game}` for preference `{pref.label}` "
                f"at {_point_text(situation.point)}: {exc}"
            ) from exc
        if utils is None or len(utils) != len(options):
            return [None for _ in options]
        return [plain_number(u) for u in utils]

    def _decide(self, situation: Situation, pref: PreferencePoint) -> Decided | None:
        sol = self.solve(situation.game, pref, situation.point)
        if sol.answer is None and not situation.history:
            return None
        try:
            judged = self.solver(situation.game, pref).judge(
                dict(situation.point), role=situation.role, action=situation.action, history=situation.history
            )
        except SolveError as exc:
            raise EmitError(
                f"cannot solve game `{situation.game}` for preference `{pref.label}` "
                f"at {_point_text(situation.point)}: {exc}"
            ) from exc
        if judged is None:
            return None
        return _decided(judged.decision, judged.utility)


def _situation_key(situation: Situation) -> str:
    return situation_key(situation.role, situation.stage, situation.action, situation.point, situation.history)


def _stored_decided(data: object, solution: Solution, *, later: bool) -> Decided | None | bool:
    """A cached decision, checked against its certified solution (False: not usable)."""
    if data is None:
        return None if later or solution.answer is None else False
    try:
        decision = Decision.model_validate(data)
    except ValueError:
        return False
    if not decision_consistent(decision, solution, later=later):
        return False
    decided = _decided(decision, None)
    decided.stored = True
    return decided


def _point_text(point: Point) -> str:
    return ", ".join(f"{k} = {plain_number(v)}" for k, v in point) or "the defaults"


def _decided(decision: Decision, utility) -> Decided:
    answer = {decision.action: decision.chosen}
    alternatives = [{decision.action: t} for t in decision.ties]
    return Decided(decision, answer, alternatives, utility)


def situation_action(game: GameIR, situation: Situation) -> ActionIR:
    """The action a situation asks for (its role's action of that name).

    Args:
        game: The game.
        situation: The situation.
    """
    return game.action(situation.role, situation.action)


def seen_name(game: GameIR, key: str) -> str:
    """How prompts and rows name an observed action (its bare name unless two roles share it).

    Args:
        game: The game.
        key: The action's key.
    """
    return game.action_label(game.action_by_key(key))


_VALUES: dict[tuple[sp.Expr, Point], sp.Expr] = {}
_VALUES_MAX = 1 << 16


def value_at(game: GameIR, expr: sp.Expr, point: Point) -> sp.Expr:
    """A parameter expression of a game (group size, step) evaluated at a point, cached: prompts
    and schemas ask for the same few values many times.

    Args:
        game: The game whose parameters the expression uses.
        expr: The expression.
        point: Parameter values.
    """
    key = (expr, point)
    hit = _VALUES.get(key)
    if hit is None:
        subs = {game.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in point}
        hit = expr.subs(subs)
        if len(_VALUES) >= _VALUES_MAX:
            _VALUES.clear()
        _VALUES[key] = hit
    return hit


def action_bounds(game: GameIR, action: ActionIR, point: Point, history: History = ()) -> tuple[float, float] | None:
    """The numeric bounds of a numeric action at a point (after a history), or None for labels.

    Args:
        game: The game.
        action: The action.
        point: Parameter values.
        history: Earlier actions' values, by key.
    """
    if action.kind == "labels":
        return None
    subs = {game.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in point}
    hist = {
        game.action_by_key(k).symbol: sp.Rational(Fraction(v).numerator, Fraction(v).denominator) for k, v in history
    }
    lo = action.lo.xreplace(subs).xreplace(hist)  # type: ignore[union-attr]
    hi = action.hi.xreplace(subs).xreplace(hist)  # type: ignore[union-attr]
    return float(lo), float(hi)


def histories(game: GameIR, point: Point) -> list[History]:
    """The observed histories a last mover is asked about: every option of a finite first move,
    or an evenly spaced grid over a continuous one (histories that leave no choice are dropped).

    Args:
        game: A two-stage game.
        point: Parameter values.
    """
    first = game.movers(0)[0]
    subs = {game.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in point}
    if first.finite:
        opts = first.options(subs)[:MAX_FINITE_HISTORIES]
        values: list = [int(o) if o.is_Integer else Fraction(int(o.p), int(o.q)) for o in opts]
    else:
        lo, hi = first.lo.xreplace(subs), first.hi.xreplace(subs)  # type: ignore[union-attr]
        lo_f, hi_f = Fraction(int(lo.p), int(lo.q)), Fraction(int(hi.p), int(hi.q))
        values = [
            lo_f + (hi_f - lo_f) * Fraction(i, CONTINUOUS_HISTORY_STEPS) for i in range(CONTINUOUS_HISTORY_STEPS + 1)
        ]
    last = game.movers(game.n_stages - 1)[0]
    out: list[History] = []
    for v in values:
        h = ((first.key, v),)
        if last.kind != "labels":
            bounds = action_bounds(game, last, point, h)
            if bounds is not None and bounds[0] >= bounds[1]:
                continue
        out.append(h)
    return out


def situations(game: GameIR, point: Point) -> list[Situation]:
    """Every decision asked about a game at a point: each mover of a sequential game (later movers
    after each history), the representative player of a symmetric game.

    Args:
        game: The game.
        point: Parameter values.
    """
    if game.symmetric or game.n_stages == 1:
        act = game.actions[0]
        role = game.group or act.owner
        if game.group is None and game.symmetric:
            role = game.roles[0]
        return [Situation(game.name, role, 0, act.name, point)]
    if game.n_stages != 2:
        first = game.movers(0)[0]
        return [Situation(game.name, first.owner, 0, first.name, point)]
    first, last = game.movers(0)[0], game.movers(1)[0]
    out = [Situation(game.name, first.owner, 0, first.name, point)]
    out.extend(Situation(game.name, last.owner, 1, last.name, point, h) for h in histories(game, point))
    return out
