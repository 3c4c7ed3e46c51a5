"""What one prompt asks: a decision of one role at one parameter point (after an observed history),
and the solver's answer to it for a preference.

Solutions are cached per (game, preference, point); decisions of later movers at histories off the
equilibrium path are computed from the same solver (the mover's utility of every option there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from prefc.compiler.check import PreferencePoint
from prefc.compiler.ir import ActionIR, GameIR, SpecIR
from prefc.compiler.solution import Decision, OptionValue, Solution
from prefc.compiler.solve.engine import GameSolver, SolveError, _argmax_continuous, _argmaxes, _exactify
from prefc.compiler.emit.fmt import plain_number

Point = tuple[tuple[str, Fraction], ...]
History = tuple[tuple[str, Fraction | int], ...]
CONTINUOUS_HISTORY_STEPS = 10
MAX_FINITE_HISTORIES = 60


class EmitError(Exception):
    """A compile error that is not located in the spec text (a solver failure, too many rows)."""


@dataclass(frozen=True)
class Situation:
    """One decision a prompt asks for.

    Attributes:
        game: Game name.
        role: The role asked (a named role, or the group's name for a symmetric group game).
        stage: The stage of the decision.
        action: The action chosen.
        point: Game parameter values.
        history: Earlier actions the mover observed, ``((action, value), ...)`` (label codes for labels).
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
    """

    decision: Decision
    answer: dict[str, object]
    alternatives: list[dict[str, object]]
    utility: Callable[[object], float] | None


@dataclass
class Solutions:
    """Solvers and solutions of a spec, cached per (game, preference, point).

    Args:
        ir: The spec's IR.
    """

    ir: SpecIR
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
                raise EmitError(f"cannot solve game `{game}` for preference `{pref.label}`: {exc}") from exc
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
            try:
                self._solutions[key] = self.solver(game, pref).solve(dict(point))
            except SolveError as exc:
                raise EmitError(f"cannot solve game `{game}` for preference `{pref.label}` "
                                f"at {_point_text(point)}: {exc}") from exc
        return self._solutions[key]

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
            self._decided[key] = self._decide(situation, pref)
        return self._decided[key]

    def option_utilities(self, situation: Situation, pref: PreferencePoint,
                         options: list[object]) -> list[float | None]:
        """The decider's utility of each option value.

        Where the preference has a pure answer, utilities are taken against it; in a symmetric
        two-player finite game whose only symmetric equilibrium is mixed, against the other
        player's equilibrium mix (every option in its support is then equally good). None where
        neither applies.

        Args:
            situation: The situation.
            pref: The preference point.
            options: The option values, in order.
        """
        decided = self.decide(situation, pref)
        if decided is not None and decided.utility is not None:
            return [plain_number(decided.utility(o)) for o in options]
        sol = self.solve(situation.game, pref, situation.point)
        solver = self.solver(situation.game, pref)
        mixed = next((e for e in sol.equilibria if e.probabilities and e.symmetric), None)
        if situation.history or mixed is None or solver.kind != "symmetric-finite":
            return [None for _ in options]
        (probs,) = list(mixed.probabilities.values())[1].values()
        if len(options) != len(probs):
            return [None for _ in options]
        mix = [probs.get(str(v), 0.0) for v in options]
        utils = solver.option_utilities_against_mix(dict(situation.point), mix)
        return [plain_number(u) for u in utils]

    def _decide(self, situation: Situation, pref: PreferencePoint) -> Decided | None:
        sol = self.solve(situation.game, pref, situation.point)
        if sol.answer is None or not sol.derivation:
            return None
        solver = self.solver(situation.game, pref)
        game = solver.game
        subs = {game.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in situation.point}
        if not situation.history:
            decision = next((d for d in sol.derivation if d.action == situation.action), sol.derivation[0])
            return _decided(decision, _utility_fn(solver, decision, subs, situation))
        return _later_decision(solver, situation, subs)


def _point_text(point: Point) -> str:
    return ", ".join(f"{k} = {plain_number(v)}" for k, v in point) or "the defaults"


def _decided(decision: Decision, utility) -> Decided:
    answer = {decision.action: decision.chosen}
    alternatives = [{decision.action: t} for t in decision.ties]
    return Decided(decision, answer, alternatives, utility)


def _action(game: GameIR, name: str) -> ActionIR:
    return next(a for a in game.actions if a.name == name)


def _utility_fn(solver: GameSolver, decision: Decision, subs, situation: Situation):
    """The decider's utility as a function of its own option value."""
    if decision.options is not None:
        table = {o.value: o.utility for o in decision.options}
        return lambda v: table.get(v)
    game = solver.game
    act = _action(game, decision.action)
    try:
        if solver.kind == "symmetric-continuous":
            x, y = solver._cont_syms
            expr = solver._cont_utility.subs(subs).subs(y, sp.nsimplify(decision.chosen))
            z = x
        elif solver.kind == "sequential" and not situation.history and act.stage == 0:
            z = sp.Symbol(act.name, real=True)
            full = solver._continue_symbolic(1, {act.name: z}, subs)
            expr = solver._role_value(act.owner, solver._profile(full), subs)
        else:
            return None
    except (SolveError, TypeError, ValueError):
        return None
    return _numeric(expr, z)


def _numeric(expr: sp.Expr, z: sp.Symbol):
    def value(v):
        try:
            out = expr.subs(z, sp.nsimplify(v))
            return float(out)
        except (TypeError, ValueError):
            return None

    return value


def _later_decision(solver: GameSolver, situation: Situation, subs) -> Decided | None:
    """The last mover's decision after an observed history (any history, on or off the path)."""
    game = solver.game
    act = _action(game, situation.action)
    if act.stage != game.n_stages - 1:
        raise EmitError(f"game `{game.name}`: prompts after a history are supported for the last mover only")
    history = {k: sp.nsimplify(v) if not isinstance(v, int) else sp.Integer(v) for k, v in situation.history}
    given = {k: _action(game, k).display(v) for k, v in history.items()}
    if act.finite:
        opts = act.options(subs, history)
        utils = [_exactify(solver._role_value(act.owner, solver._profile({**history, act.name: o}), subs))
                 for o in opts]
        winners = _argmaxes(utils)
        decision = Decision(
            player=act.owner, action=act.name, kind=act.kind, given=given,
            options=[OptionValue(value=act.display(o), utility=float(u), exact=str(plain_number(u)))
                     for o, u in zip(opts, utils)],
            chosen=act.display(opts[winners[0]]), ties=[act.display(opts[i]) for i in winners[1:]])
        table = {act.display(o): float(u) for o, u in zip(opts, utils)}
        return _decided(decision, lambda v: table.get(v))
    z = sp.Symbol(act.name, real=True)
    hist_syms = {sp.Symbol(k, real=True): v for k, v in history.items()}
    lo, hi = act.lo.subs(subs).subs(hist_syms), act.hi.subs(subs).subs(hist_syms)
    val = sp.simplify(solver._role_value(act.owner, solver._profile({**history, act.name: z}), subs))
    choice = _argmax_continuous(val, z, lo, hi)
    deriv = sp.simplify(sp.diff(val, z))
    decision = Decision(player=act.owner, action=act.name, kind=act.kind, given=given,
                        utility=_sstr(val), marginal=_sstr(deriv),
                        marginal_value=float(deriv) if deriv.is_number else None,
                        chosen=plain_number(choice))
    return _decided(decision, _numeric(val, z))


def _sstr(e: sp.Expr) -> str:
    return sp.sstr(e).replace("**", "^")


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


def action_bounds(game: GameIR, action: str, point: Point, history: History = ()) -> tuple[float, float] | None:
    """The numeric bounds of a numeric action at a point (after a history), or None for labels.

    Args:
        game: The game.
        action: The action's name.
        point: Parameter values.
        history: Earlier actions' values.
    """
    act = _action(game, action)
    if act.kind == "labels":
        return None
    subs = {game.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in point}
    hist = {sp.Symbol(k, real=True): sp.nsimplify(v) for k, v in history}
    lo = act.lo.subs(subs).subs(hist)
    hi = act.hi.subs(subs).subs(hist)
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
        values: list = [int(o) if o.is_Integer else Fraction(str(sp.nsimplify(o))) for o in opts]
    else:
        lo, hi = sp.nsimplify(first.lo.subs(subs)), sp.nsimplify(first.hi.subs(subs))
        values = [Fraction(str(lo + (hi - lo) * sp.Rational(i, CONTINUOUS_HISTORY_STEPS)))
                  for i in range(CONTINUOUS_HISTORY_STEPS + 1)]
    last = game.movers(game.n_stages - 1)[0]
    out: list[History] = []
    for v in values:
        h = ((first.name, v),)
        if last.kind != "labels":
            bounds = action_bounds(game, last.name, point, h)
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
