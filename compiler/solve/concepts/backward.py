# Over 600 lines: one solution concept, with its symbolic path, its numeric path and its certificate.
"""``backward-induction`` for sequential games (one move per stage), and ``argmax`` for a single mover.

Subgame-perfect play: the last mover's best reply to every history it can observe, then each
earlier mover's best choice given the replies that follow. Finite stages are enumerated; a
continuous stage is maximised exactly where sympy finds the stationary points, numerically
otherwise (a composite of later replies is searched on a grid refined around its best point). When
every move is continuous, the whole game is first solved in closed form with the parameters as
symbols (:func:`symbolic_backward`: each reply a piecewise function of the history), and each point
picks its regime.

The Kantian term uses role randomisation (:func:`..utility.role_utility`): a mover in role ``r``
weighs the others' roles by ``w_rho / w_r`` under self-play, and the self-play path is the actual
path with every later reply as the equilibrium prescribes (everyone uses the same plan).

Every solution is certified by the one-shot deviation principle at every subgame of a finite game,
and at a grid of histories of a continuous one (:meth:`Backward.certify`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sympy as sp

from prefc.compiler.exact import NotCompilable, compile_exact
from prefc.compiler.ir import ActionIR, GameIR, action_value, to_plain
from prefc.compiler.lazy import lazy_module
from prefc.compiler.limits import MAX_OPTIONS, MAX_PROFILES
from prefc.compiler.lower import LoweringError
from prefc.compiler.solution import Decision, Equilibrium, OptionValue, Verification
from prefc.compiler.solve import certify, continuous, univariate
from prefc.compiler.solve.closed import ClosedForm, isolate_all
from prefc.compiler.solve.concept import Concept, Found, Judged, Point, SolveError, concept
from prefc.compiler.solve.derive import NonFinite, argmaxes, exact_value, pretty, regime_check, shown, tidy
from prefc.compiler.solve.utility import role_utility
from prefc.numbers import utility_text

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy", globals(), "np")

__all__ = ["Backward", "symbolic_backward"]

History = tuple[tuple[str, Any], ...]
CONTINUOUS_SEARCH = 201
"""Grid points of a continuous move whose value depends on later replies."""

CERTIFY_HISTORIES = 11
"""Histories of a continuous move at which later replies are certified."""


def _explicit(game: GameIR) -> str | None:
    return game.checked.ast.concept.name if game.checked.ast.concept is not None else None


def profile_of(game: GameIR, assignment: dict[str, sp.Expr]) -> dict[str, dict[str, sp.Expr]]:
    """role -> action name -> value, from values keyed by action key.

    Args:
        game: The game.
        assignment: Action key -> value.
    """
    values: dict[str, dict[str, sp.Expr]] = {r: {} for r in game.roles}
    for a in game.actions:
        if a.key in assignment:
            values[a.owner][a.name] = assignment[a.key]
    return values


def symbolic_backward(game: GameIR, lowerer, *, params, domain, free=(), pref=None):
    """Backward induction in closed form when every move is continuous.

    Returns a list of (condition, {action key: expression}, {action key: reply}) over the
    parameters, where the replies are the movers' choices as functions of the earlier moves; or
    None when a reply has no closed form or a later reply's regime depends on an earlier move.

    Args:
        game: A sequential game with one continuous move per stage.
        lowerer: The preference (its parameters symbolic or fixed).
        params: Parameter symbols (game and free preference parameters).
        domain: Parameter ranges for sign decisions.
        free: Preference parameters to isolate in conditions.
        pref: The checked preference (for the domains of ``free``).
    """
    stages = [game.movers(k)[0] for k in range(game.n_stages)]

    def policies(k: int, history: dict):
        if k == len(stages):
            return [(sp.true, {}, {})]
        act = stages[k]
        z = act.symbol
        later = policies(k + 1, {**history, act.key: z})
        if later is None:
            return None
        out = []
        for cond_l, pol, replies in later:
            if cond_l.has(z):
                return None
            assign = {**history, act.key: z, **pol}
            prof = profile_of(game, assign)
            value = role_utility(game, lowerer, role=act.owner, actual=prof, self_play=prof)
            hist_syms = [game.action_by_key(n).symbol for n in history]
            lo, hi = act.lo, act.hi
            sol = continuous.solve_argmax_symbolic(
                value, own=z, lo=lo, hi=hi, params=list(params) + hist_syms, domain=domain, solve_for=list(free) or None
            )
            if sol is None:
                found = _interior_or_corner(value, z, lo, hi, domain)
                if found is None:
                    return None
                pieces = found
            else:
                pieces = [(r.condition, r.action) for r in sol.regimes]
            for cond, action in pieces:
                if pref is not None and _infeasible(cond, free, pref):
                    continue
                if cond is sp.false:
                    continue
                out.append(
                    (
                        sp.And(cond_l, cond),
                        {act.key: action, **{n: e.subs(z, action) for n, e in pol.items()}},
                        {act.key: action, **replies},
                    )
                )
        return out

    return policies(0, {})


def _infeasible(cond, free, pref) -> bool:
    """True when a condition on preference parameters alone cannot hold inside their domains."""
    if cond is sp.true or not free or not cond.free_symbols or not cond.free_symbols <= set(free):
        return False
    if len(cond.free_symbols) != 1:
        return False
    k = next(iter(cond.free_symbols))
    dom = pref.domains.get(k.name) or (0, 1)
    try:
        return sp.solveset(cond, k, sp.Interval(sp.Rational(dom[0]), sp.Rational(dom[1]))) is sp.S.EmptySet
    except (NotImplementedError, TypeError, ValueError):
        return False


def _interior_or_corner(value, z, lo, hi, domain):
    """A concave utility with one stationary point: the interior optimum, clipped to the bounds."""
    d1 = sp.diff(value, z)
    try:
        roots = sp.solve(sp.Eq(d1, 0), z)
    except (NotImplementedError, TypeError, ValueError):
        return None
    if len(roots) != 1:
        return None
    root = sp.simplify(roots[0])
    mid = {s: sp.nsimplify((lo_ + hi_) / 2) for s, (lo_, hi_) in (domain or {}).items()}
    d2 = sp.diff(d1, z).subs(z, root).subs(mid)
    if not (d2.is_number and d2 < 0):
        return None
    return [(sp.And(sp.Ge(root, lo), sp.Le(root, hi)), root), (sp.Lt(root, lo), lo), (sp.Gt(root, hi), hi)]


def _num(v: Any) -> sp.Expr:
    if isinstance(v, sp.Basic):
        return v
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    if isinstance(v, int):
        return sp.Integer(v)
    return sp.Float(v)


def _frac(v: sp.Expr) -> Fraction | float:
    return Fraction(int(v.p), int(v.q)) if isinstance(v, sp.Rational) else float(v)


@concept
class Backward(Concept):
    """Sequential games, and games with a single mover."""

    name = "backward-induction"

    @classmethod
    def fits(cls, game: GameIR) -> bool:
        if game.symmetric or game.group is not None or game.checked.ast.beliefs or _explicit(game) == "argmax":
            return False
        per_stage = [len(game.movers(s)) for s in range(game.n_stages)]
        return all(m == 1 for m in per_stage)

    @property
    def label(self) -> str:
        return "backward-induction" if self.game.n_stages > 1 else "argmax"

    @cached_property
    def stages(self) -> list[ActionIR]:
        return [self.game.movers(s)[0] for s in range(self.game.n_stages)]

    @cached_property
    def _symbols(self) -> dict[str, sp.Symbol]:
        return {a.key: a.symbol for a in self.game.actions}

    @cached_property
    def utilities(self) -> dict[str, sp.Expr]:
        """Each role's utility over every action symbol and parameter (self-play = the actual path)."""
        prof = profile_of(self.game, self._symbols)
        return {
            r: role_utility(self.game, self.pref.lowerer, role=r, actual=prof, self_play=prof) for r in self.game.roles
        }

    @cached_property
    def _compiled(self) -> dict[str, Callable | None]:
        out: dict[str, Callable | None] = {}
        for r, e in self.utilities.items():
            try:
                out[r] = compile_exact(e)
            except NotCompilable:
                out[r] = None
        return out

    def _reported(self, role: str, assignment: dict[str, Any], env: dict) -> int | float | None:
        """A role's utility as a solution reports it (None where it is not a finite number: the
        recipient's log(0) when the dictator keeps everything)."""
        try:
            return to_plain(self._u(role, assignment, env))
        except NonFinite:
            return None

    def _u(self, role: str, assignment: dict[str, Any], env: dict) -> Fraction | float:
        """A role's utility at a full path (exact where the compiled closure is)."""
        local = dict(env)
        for key, v in assignment.items():
            local[self._symbols[key]] = _frac(_num(v)) if not isinstance(v, (Fraction, float)) else v
        fn = self._compiled[role]
        value: Any = None
        if fn is not None:
            try:
                value = fn(local)
            except (ZeroDivisionError, ValueError, OverflowError):
                value = None
        if value is None or isinstance(value, bool):
            value = self.utilities[role].xreplace({k: _num(v) for k, v in local.items()})
        if isinstance(value, Fraction) or (isinstance(value, float) and math.isfinite(value)):
            return value
        return exact_value(value, f"`{role}` at {self._path_text(assignment)}")

    def _path_text(self, assignment: dict[str, Any]) -> str:
        parts = []
        for a in self.stages:
            if a.key in assignment:
                parts.append(f"{self.game.action_label(a)} = {shown(a, _num(assignment[a.key]))}")
        return "(" + ", ".join(parts) + ")"

    # -- symbolic (every move continuous) -------------------------------------------------------------
    @cached_property
    def _closed(self):
        """Backward induction solved once with the parameters symbolic (every move continuous): a list
        of (compiled condition, compiled actions, (condition, replies))."""
        if any(a.finite for a in self.stages):
            return None
        params = [p.symbol for p in self.game.params.values()]
        from prefc.compiler.solve.concepts.symmetric_continuous import declared_domains

        try:
            regimes = symbolic_backward(
                self.game, self.pref.lowerer, params=params, domain=declared_domains(self.game) or None
            )
        except (NotImplementedError, TypeError, ValueError, SolveError, LoweringError, RecursionError):
            return None
        if regimes is None:
            return None
        try:
            return [
                (compile_exact(cond), {n: compile_exact(e) for n, e in policy.items()}, (cond, replies))
                for cond, policy, replies in regimes
            ]
        except NotCompilable:
            return None

    # -- finding ----------------------------------------------------------------------------------------
    def _bounds(self, act: ActionIR, subs, history: dict[str, Any]) -> tuple[sp.Expr, sp.Expr]:
        hist = {self._symbols[k]: _num(v) for k, v in history.items()}
        lo = act.lo.xreplace(subs).xreplace(hist)  # type: ignore[union-attr]
        hi = act.hi.xreplace(subs).xreplace(hist)  # type: ignore[union-attr]
        if not (lo.is_number and hi.is_number) or lo > hi:
            from prefc.numbers import fmt_number

            numbers = lo.is_number and hi.is_number
            ends = ", ".join(fmt_number(float(v), style="general", digits=6) if numbers else str(v) for v in (lo, hi))
            why = ", an empty range: write bounds that hold after every earlier move" if numbers else ""
            raise SolveError(
                f"game `{self.game.name}`: the bounds of `{act.key}` are [{ends}] "
                f"after {self._path_text(history)}{why}",
                game=self.game,
            )
        return lo, hi

    def _options(self, act: ActionIR, subs, history: dict[str, Any]) -> list[sp.Expr]:
        earlier = {k: _frac(_num(v)) for k, v in history.items()}
        opts = act.options(subs, earlier, limit=MAX_OPTIONS)
        if not opts:
            raise SolveError(
                f"game `{self.game.name}`: `{act.key}` has no options after {self._path_text(history)}", game=self.game
            )
        return opts

    class _Solver:
        """Backward induction at one point, memoised by history."""

        def __init__(self, outer: Backward, point: Point):
            self.o = outer
            g = outer.game
            self.subs = {g.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in point.items()}
            self.env = {g.params[n].symbol: v for n, v in point.items()}
            self.memo: dict[History, tuple[dict[str, Any], list, list]] = {}
            self.nodes = 0

        def play(self, k: int, history: dict[str, Any]) -> dict[str, Any]:
            """The subgame-perfect continuation from stage k after ``history`` (values by key)."""
            full = dict(history)
            for j in range(k, len(self.o.stages)):
                choice, _, _ = self.decide(j, full)
                full[self.o.stages[j].key] = choice
            return full

        def decide(self, k: int, history: dict[str, Any]) -> tuple[Any, list, list]:
            """(choice, options, utilities) of the stage-k mover after ``history``."""
            key = tuple(sorted((h, str(v)) for h, v in history.items()))
            hit = self.memo.get(key)
            if hit is not None:
                return hit
            self.nodes += 1
            if self.nodes > MAX_PROFILES:
                raise SolveError(
                    f"game `{self.o.game.name}` has more than {MAX_PROFILES:,} subgames at this point", game=self.o.game
                )
            act = self.o.stages[k]
            if act.finite:
                opts = self.o._options(act, self.subs, history)
                utils = [self.o._u(act.owner, self.play(k + 1, {**history, act.key: o}), self.env) for o in opts]
                choice = opts[argmaxes(utils)[0]]
                out = (choice, opts, utils)
            else:
                out = (self._continuous(k, history), [], [])
            self.memo[key] = out
            return out

        def _continuous(self, k: int, history: dict[str, Any]) -> sp.Expr:
            act = self.o.stages[k]
            lo, hi = self.o._bounds(act, self.subs, history)
            z = act.symbol
            if k == len(self.o.stages) - 1:
                hist = {self.o._symbols[h]: _num(v) for h, v in history.items()}
                val = self.o.utilities[act.owner].xreplace(self.subs).xreplace(hist)
                return univariate.argmax(val, z, lo, hi)
            # the value depends on later replies: search the composite on a grid, then refine
            flo, fhi = float(lo), float(hi)

            def f(v: float) -> float:
                try:
                    return float(self.o._u(act.owner, self.play(k + 1, {**history, act.key: sp.Float(v)}), self.env))
                except Exception:  # noqa: BLE001 - a failed evaluation is no candidate
                    return -math.inf

            grid = np.linspace(flo, fhi, CONTINUOUS_SEARCH) if fhi > flo else np.array([flo])
            vals = [f(float(v)) for v in grid]
            i = int(np.argmax(vals))
            best, where = vals[i], float(grid[i])
            if fhi > flo:
                from scipy import optimize

                a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
                res = optimize.minimize_scalar(
                    lambda v: -f(float(v)),
                    bounds=(a, b),
                    method="bounded",
                    options={"xatol": 1e-12 * max(1.0, fhi - flo)},
                )
                if res.success and -res.fun > best:
                    where = float(res.x)
            return univariate.snap(f, where, flo, fhi)

    def find(self, point: Point, *, derive: bool) -> Found:
        env = {self.game.params[n].symbol: v for n, v in point.items()}
        closed = self._closed
        if closed is not None:
            for cond, actions, symbolic in closed:
                try:
                    hit = cond(env)
                except (ZeroDivisionError, ValueError):
                    hit = False
                if hit:
                    return self._from_regime(point, env, actions, symbolic, derive)
        solver = self._Solver(self, point)
        path: dict[str, Any] = {}
        derivation: list[Decision] = []
        notes: list[str] = []
        for k, act in enumerate(self.stages):
            choice, opts, utils = solver.decide(k, dict(path))
            if derive:
                derivation.append(self._decision(k, path, choice, opts, utils, solver))
            if not act.finite and k == len(self.stages) - 1:
                notes += self._flat_top(k, path, choice, solver)
            path[act.key] = choice
        utilities = {r: self._reported(r, path, env) for r in self.game.roles}
        strategy = self._strategy(solver) if derive else {}
        eq = Equilibrium(path=self._shown_path(path), strategy=strategy or None, utilities=utilities)
        ties = any(d.ties for d in derivation)
        rule = (
            "the lowest of several optima" if notes else "lowest option among exact ties" if ties else "unique optimum"
        )
        exact = all(a.finite for a in self.stages)
        return Found([eq], derivation, 0, rule, exact, notes=notes, witness=solver)

    def _flat_top(self, k: int, history: dict[str, Any], choice: sp.Expr, solver) -> list[str]:
        """A note when the last mover's utility is as high elsewhere as at its choice (a flat top,
        as inequity aversion has at its knife edge): every maximiser, so no answer calls it unique."""
        act = self.stages[k]
        val = self._value_expr(k, history, solver)
        if val is None:
            return []
        lo, hi = self._bounds(act, solver.subs, history)
        try:
            runs = univariate.optimal_set(val, act.symbol, lo, hi, choice)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return []
        if not runs:
            return []
        where = ", ".join(
            f"{a:.6g}" if b - a <= 1e-9 * max(1.0, abs(a)) else f"every value from {a:.6g} to {b:.6g}" for a, b in runs
        )
        return [
            f"`{act.owner}`'s {act.name}: {where} is as good as {shown(act, _num(choice))}; the lowest is the answer"
        ]

    def _shown_path(self, path: dict[str, Any]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for a in self.stages:
            out.setdefault(a.owner, {})[a.name] = shown(a, _num(path[a.key]))
        return out

    def _decision(self, k: int, history: dict[str, Any], choice, opts, utils, solver) -> Decision:
        act = self.stages[k]
        given = {
            self.game.action_label(self.game.action_by_key(h)): shown(self.game.action_by_key(h), _num(v))
            for h, v in history.items()
        }
        if act.finite:
            winners = argmaxes(utils)
            return Decision(
                player=act.owner,
                action=act.name,
                kind=act.kind,
                given=given,
                options=[
                    OptionValue(value=shown(act, o), utility=to_plain(u), exact=utility_text(u))
                    for o, u in zip(opts, utils, strict=False)
                ],
                chosen=shown(act, choice),
                ties=[shown(act, opts[i]) for i in winners[1:]],
            )
        val = self._value_expr(k, history, solver)
        z = act.symbol
        text = pretty(tidy(val)) if val is not None else None
        marginal = pretty(tidy(sp.diff(val, z))) if val is not None else None
        return Decision(
            player=act.owner,
            action=act.name,
            kind=act.kind,
            given=given,
            utility=text,
            marginal=marginal,
            chosen=action_value(choice),
        )

    def _value_expr(self, k: int, history: dict[str, Any], solver) -> sp.Expr | None:
        """The stage-k mover's utility as a function of its own action, when later moves are none or
        have closed-form replies (None otherwise)."""
        act = self.stages[k]
        hist = {self._symbols[h]: _num(v) for h, v in history.items()}
        expr = self.utilities[act.owner].xreplace(solver.subs).xreplace(hist)
        if k == len(self.stages) - 1:
            return expr
        return None

    def _strategy(self, solver) -> dict[str, dict[str, Any]]:
        """Full plans of later movers in a two-stage game with a finite first move."""
        if len(self.stages) != 2 or not self.stages[0].finite:
            return {}
        first, last = self.stages
        plan = {}
        for o in self._options(first, solver.subs, {}):
            choice, _, _ = solver.decide(1, {first.key: o})
            plan[str(shown(first, o))] = shown(last, choice)
        return {last.owner: {last.name: plan}}

    def _from_regime(self, point: Point, env, actions, symbolic, derive: bool) -> Found:
        cond, replies = symbolic
        subs = {self.game.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in point.items()}
        path: dict[str, Any] = {}
        derivation: list[Decision] = []
        for k, act in enumerate(self.stages):
            value = actions[act.key](env)
            value = sp.Rational(value.numerator, value.denominator) if isinstance(value, Fraction) else sp.Float(value)
            if derive:
                later: dict[sp.Symbol, sp.Expr] = {}
                hist = {self._symbols[h]: v for h, v in path.items()}
                for a in self.stages[k + 1 :]:  # later replies as functions of this move
                    later[a.symbol] = replies[a.key].xreplace(subs).xreplace(hist).xreplace(later)
                val = self.utilities[act.owner].xreplace(subs).xreplace(hist).xreplace(later)
                z = act.symbol
                derivation.append(
                    Decision(
                        player=act.owner,
                        action=act.name,
                        kind=act.kind,
                        given={
                            self.game.action_label(self.game.action_by_key(h)): action_value(v) for h, v in path.items()
                        },
                        utility=pretty(tidy(val)),
                        marginal=pretty(tidy(sp.diff(val, z))),
                        regime=pretty(cond) if cond is not sp.true else "always",
                        regime_check=regime_check(cond, subs),
                        chosen=action_value(value),
                    )
                )
            path[act.key] = value
        utilities = {r: self._reported(r, path, env) for r in self.game.roles}
        strategy = (
            {
                a.owner: {a.name: f"{self.game.action_label(a)} = {pretty(replies[a.key].xreplace(subs))}"}
                for a in self.stages[1:]
            }
            if derive
            else {}
        )
        eq = Equilibrium(path=self._shown_path(path), strategy=strategy or None, utilities=utilities)
        exact = all(isinstance(actions[a.key](env), Fraction) for a in self.stages)
        keys = [a.key for a in self.stages]
        witness = {
            a.key: sp.lambdify([self._symbols[key] for key in keys[:j]], replies[a.key].xreplace(subs), modules="numpy")
            for j, a in enumerate(self.stages)
            if j > 0
        }
        return Found([eq], derivation, 0, "closed form", exact, witness=witness)

    @classmethod
    def closed_form(cls, game: GameIR, lowerer, *, free, consts, ranges, sign_of, pref=None) -> ClosedForm | None:
        if any(a.finite for a in game.actions):
            return None
        subs = {
            game.params[n].symbol: sp.Rational(v.numerator, v.denominator)
            for n, v in consts.items()
            if n in game.params
        }
        params = [p.symbol for p in game.params.values() if p.symbol not in subs] + list(free)
        domain = {s: r for s, r in ranges.items() if s in params}
        try:
            result = symbolic_backward(game, lowerer, params=params, domain=domain or None, free=free, pref=pref)
        except (NotImplementedError, TypeError, ValueError, LoweringError, RecursionError, SolveError):
            return None
        if result is None:
            return None
        stages = [game.movers(s)[0] for s in range(game.n_stages)]
        assumptions: list[sp.Basic] = []
        regimes = []
        for cond, pol, _ in result:
            cond = isolate_all(sp.simplify(cond.xreplace(subs)), free, sign_of, assumptions)
            if cond is sp.false:
                continue
            regimes.append((cond, {a.key: sp.simplify(pol[a.key].xreplace(subs)) for a in stages}, False))
        return ClosedForm(
            "regimes",
            "closed form (backward induction, every reply solved symbolically)",
            regimes=regimes,
            assumptions=assumptions,
        )

    # -- certificate ------------------------------------------------------------------------------------
    def certify(self, point: Point, found: Found) -> Verification:
        g = self.game
        subs = {g.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in point.items()}
        solver = found.witness if isinstance(found.witness, Backward._Solver) else self._Solver(self, point)
        checked = [0]
        worst = [0.0]

        def direct(role: str, full: dict[str, Any]) -> Fraction | float:
            # the utility lowered with symbols (so terms with a zero weight vanish, as they do in
            # the game's definition) and the reported values put in by substitution
            v = self.utilities[role].xreplace(subs).xreplace({self._symbols[k]: _num(x) for k, x in full.items()})
            if isinstance(v, sp.Rational):
                return Fraction(int(v.p), int(v.q))
            return exact_value(v, f"`{role}` at {self._path_text(full)}")

        reported = {a.key: found.equilibria[0].path[a.owner][a.name] for a in self.stages}

        def prescribed_here(k: int, history: dict[str, Any]) -> float:
            """The solution's choice at stage k after ``history`` (the reported play at the root)."""
            act = self.stages[k]
            if k == 0:
                return float(reported[act.key])
            reply = replies.get(act.key)
            if reply is not None:
                return float(reply(*[float(history[a.key]) for a in self.stages[:k]]))
            return float(solver.decide(k, history)[0])

        def node(k: int, history: dict[str, Any]) -> None:
            act = self.stages[k]
            if act.finite:
                prescribed = solver.play(k, history)
                mine = direct(act.owner, prescribed)
                alternatives = self._options(act, subs, history)
                for o in alternatives:
                    full = solver.play(k + 1, {**history, act.key: o})
                    gain = direct(act.owner, full) - mine
                    checked[0] += 1
                    if gain > (0 if isinstance(gain, Fraction) else 1e-9 * max(1.0, abs(float(mine)))):
                        raise certify.CertificateError(
                            f"`{act.owner}` gains {float(gain):.6g} by choosing {act.name} = {shown(act, o)} instead "
                            f"of {shown(act, _num(prescribed[act.key]))} after {self._path_text(history)}"
                        )
                    worst[0] = max(worst[0], float(gain))
                if k + 1 < len(self.stages):
                    for o in alternatives:
                        node(k + 1, {**history, act.key: o})
                return
            lo, hi = self._bounds(act, subs, history)
            x_star = prescribed_here(k, history)
            grid_n = certify.CONTINUOUS_GRID if k == len(self.stages) - 1 else CONTINUOUS_SEARCH

            def f(z: np.ndarray) -> np.ndarray:
                fast = vector_value(act.owner, k, history, z)
                if fast is not None:
                    return fast
                zs = np.atleast_1d(z)
                out = []
                for v in zs:
                    full = (
                        solver.play(k + 1, {**history, act.key: sp.Float(float(v))})
                        if k + 1 < len(self.stages)
                        else {**history, act.key: sp.Float(float(v))}
                    )
                    try:
                        out.append(float(self._u(act.owner, full, solver.env)))
                    except Exception:  # noqa: BLE001
                        out.append(-math.inf)
                arr = np.asarray(out)
                return arr if np.ndim(z) else arr[0]

            flo, fhi = float(lo), float(hi)
            grid = np.linspace(flo, fhi, grid_n) if fhi > flo else np.array([flo])
            with np.errstate(all="ignore"):
                vals = np.where(np.isnan(f(grid)), -np.inf, f(grid))
                base = float(f(np.asarray(x_star)))
            gain = float(np.max(vals)) - base
            checked[0] += len(grid)
            if not math.isfinite(base):
                raise certify.CertificateError(
                    f"`{act.owner}`'s utility is not a finite number ({base:.6g}) at {act.name} = {x_star:.6g} "
                    f"after {self._path_text(history)}, so no choice there can be checked as a best reply "
                    "(a logarithm or a division at a payoff of 0?)"
                )
            if gain > certify.CONTINUOUS_TOL * max(1.0, abs(base)):
                where = float(grid[int(np.argmax(vals))])
                raise certify.CertificateError(
                    f"`{act.owner}` gains {gain:.3g} by choosing {act.name} = {where:.6g} "
                    f"instead of {x_star:.6g} after {self._path_text(history)}"
                )
            worst[0] = max(worst[0], gain)
            if k + 1 < len(self.stages):
                for v in np.linspace(flo, fhi, CERTIFY_HISTORIES) if fhi > flo else [flo]:
                    node(k + 1, {**history, act.key: sp.Float(float(v))})

        # vectorised evaluation where every later move has a closed-form reply (the solution's own
        # replies, each put in as a function of the history) or there is no later move
        keys = [a.key for a in self.stages]
        vector = {
            r: sp.lambdify([self._symbols[key] for key in keys], self.utilities[r].xreplace(subs), modules="numpy")
            for r in g.roles
        }
        replies = found.witness if isinstance(found.witness, dict) else {}

        def vector_value(role: str, k: int, history: dict[str, Any], z: np.ndarray) -> np.ndarray | None:
            full: dict[str, Any] = {key: float(v) for key, v in history.items()}
            full[self.stages[k].key] = np.asarray(z, dtype=float)
            for j in range(k + 1, len(self.stages)):
                reply = replies.get(self.stages[j].key)
                if reply is None:
                    return None
                full[self.stages[j].key] = reply(*[full[key] for key in keys[:j]])
            with np.errstate(all="ignore"):
                out = vector[role](*[np.asarray(full[key], dtype=float) for key in keys])
            return (
                np.broadcast_to(np.asarray(out, dtype=float), np.shape(z)).copy()
                if np.ndim(z)
                else np.asarray(out, dtype=float)
            )

        def run() -> tuple[int, float]:
            node(0, {})
            return checked[0], worst[0]

        finite = all(a.finite for a in self.stages)
        method = (
            "one-shot deviation at every subgame (subgame perfection), exact; utilities rebuilt from the reported play"
            if finite
            else f"one-shot deviation at the root and at {CERTIFY_HISTORIES} histories of every continuous move, "
            f"on grids of deviations (both bounds included)"
        )
        return certify.sequential(run, method)

    # -- prompts ----------------------------------------------------------------------------------------
    def judge(self, point: Point, *, role: str, action: str, history, found: Found) -> Judged | None:
        k = next((i for i, a in enumerate(self.stages) if a.owner == role and a.name == action), None)
        if k is None:
            return None
        if not history and k == 0:
            if not found.derivation:
                return None
            decision = found.derivation[0]
            if decision.options is not None:
                table = {o.value: o.utility for o in decision.options}
                return Judged(decision, table.get)
            return Judged(decision, self._utility_fn(point, 0, {}))
        solver = found.witness if isinstance(found.witness, Backward._Solver) else self._Solver(self, point)
        hist = {h: _num(v) for h, v in history}
        choice, opts, utils = solver.decide(k, hist)
        decision = self._decision(k, hist, choice, opts, utils, solver)
        if decision.options is not None:
            table = {o.value: o.utility for o in decision.options}
            return Judged(decision, table.get)
        return Judged(decision, self._utility_fn(point, k, hist))

    def _utility_fn(self, point: Point, k: int, history: dict[str, Any]) -> Callable[[Any], float | None]:
        solver = self._Solver(self, point)
        act = self.stages[k]

        def value(v: Any) -> float | None:
            try:
                full = (
                    solver.play(k + 1, {**history, act.key: _num(Fraction(v) if isinstance(v, int) else v)})
                    if k + 1 < len(self.stages)
                    else {**history, act.key: _num(v)}
                )
                return float(self._u(act.owner, full, solver.env))
            except Exception:  # noqa: BLE001 - an option whose utility is undefined has none
                return None

        return value
