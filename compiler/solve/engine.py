"""Stage 4: solving. Picks the solution concept for a game, solves it symbolically once per
(game, preference), and evaluates parameter points through compiled closures.

Concepts, by the shape of the game:

``symmetric-nash``  symmetric simultaneous games: every player holds the preference. Finite
                    two-player games get *all* equilibria (mixed included); larger finite groups
                    their symmetric pure equilibria; continuous actions the symmetric equilibria
                    from the first-order condition (closed form where sympy finds one, otherwise
                    numeric root finding, always verified against a grid of deviations).
``nash``            simultaneous games with distinct roles (finite): all equilibria of the game
                    in the roles' utilities, or, with a Kantian preference, the symmetric
                    equilibria of the ex-ante game whose strategies are plans for every role.
``backward-induction``  sequential games: the last mover's best reply to every history, then
                    the earlier movers' best choice given those replies (subgame perfection).
``argmax``          a single mover, or a mover against a declared ``belief``.

Ties are kept: a decision lists every option that is exactly as good, and the dataset answer is
chosen by a stated rule (the lowest option among ties for a single decision; among equilibria, a
symmetric pure one with the highest utility, then the first in option order).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import sympy as sp

from prefc.compiler.ir import (
    ActionIR,
    BoundPreference,
    GameIR,
    role_utility,
    symmetric_utility,
    to_plain,
)
from prefc.compiler.lower import LoweringError, rational
from prefc.compiler.solution import Decision, Equilibrium, OptionValue, Solution
from prefc.compiler.solve import continuous, finite
from prefc.compiler.solve.exact import compile_exact

MAX_OPTIONS = 200
MAX_PLANS = 400


class SolveError(ValueError):
    """A game/preference pair that cannot be solved, with a message saying which limit was hit."""


def _fmt_num(v) -> str:
    if isinstance(v, Fraction):
        if v.denominator == 1:
            return str(v.numerator)
        f = float(v)
        return f"{f:.6g}"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _plain(v) -> float | int | None:
    return to_plain(v)


def _num(v) -> float:
    return float(v)


def _env(game: GameIR, values: dict[str, Fraction]) -> dict[sp.Symbol, Fraction]:
    return {game.params[n].symbol: Fraction(v) for n, v in values.items() if n in game.params}


def _subs_params(game: GameIR, values: dict[str, Fraction]) -> dict[sp.Symbol, sp.Rational]:
    return {game.params[n].symbol: rational(v) for n, v in values.items() if n in game.params}


def _label_value(action: ActionIR, code) -> str | int | float:
    return action.display(code)


def _pretty_expr(e: sp.Expr) -> str:
    text = sp.sstr(sp.nsimplify(e) if e.is_number else e)
    return text.replace("**", "^")


def _figure(v: sp.Expr) -> str:
    """A number as a derivation shows it: exact integers as they are, else 4 decimals at most."""
    if v.is_Integer:
        return str(int(v))
    text = f"{float(v):.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _regime_check(cond: sp.Basic, subs: dict) -> str | None:
    """The sides of a regime condition evaluated at the point, in the order they appear:
    ``m = 1.6, 2*n/(n + 1) = 2*6/(6 + 1) = 1.7143`` for ``m < 2*n/(n + 1)`` (a formula is shown
    with the numbers put in, then its value; sides that are constants are left out), or None when
    a side is not a number there or the condition is not a comparison (or an ``and``/``or`` of
    comparisons)."""
    if cond is sp.true or cond is sp.false:
        return None
    atoms = cond.args if isinstance(cond, (sp.And, sp.Or)) else (cond,)
    parts: dict[str, str] = {}
    for atom in atoms:
        if not isinstance(atom, sp.core.relational.Relational):
            return None
        for side in (atom.lhs, atom.rhs):
            value = side.subs(subs)
            if not (value.is_number and value.is_real):
                return None
            if side.is_number:
                continue
            shown = _pretty_expr(side)
            if side.is_Symbol:
                parts.setdefault(shown, _figure(value))
            else:  # the expression with the numbers put in, then its value: 2*n/(n + 1) = 2*6/(6 + 1) = 1.7143
                names = {s: sp.Symbol(_figure(subs[s])) for s in side.free_symbols if s in subs}
                filled = _pretty_expr(side.xreplace(names))
                parts.setdefault(shown, f"{filled} = {_figure(value)}")
    return ", ".join(f"{k} = {v}" for k, v in parts.items()) or None


def _tidy(e: sp.Expr) -> sp.Expr:
    """A readable form for derivations: simplified when cheap (rational functions), else rounded."""
    if e.has(sp.exp, sp.log, sp.Float, sp.Piecewise, sp.Max, sp.Min):
        return e.xreplace({f: sp.Float(f, 6) for f in e.atoms(sp.Float)})
    return sp.simplify(e)


def _argmaxes(utils: list) -> list[int]:
    best = max(utils)
    return [i for i, u in enumerate(utils) if u == best or (isinstance(u, float) and math.isclose(u, best, rel_tol=1e-12, abs_tol=1e-12))]


class GameSolver:
    """Solves one game for one preference point; symbolic work happens once and is cached.

    Args:
        game: The game's IR.
        pref: The preference with its parameter values.
    """

    def __init__(self, game: GameIR, pref: BoundPreference):
        self.game = game
        self.pref = pref
        self.kind = self._classify()
        self._derive = True

    # -- classification ------------------------------------------------------------------
    def _classify(self) -> str:
        g = self.game
        concept = g.checked.ast.concept.name if g.checked.ast.concept is not None else None
        if g.checked.ast.beliefs or concept == "argmax":
            return "argmax"
        if g.symmetric:
            if g.n_stages > 1:
                raise SolveError(f"game `{g.name}`: sequential symmetric games are not supported; "
                                 "declare the roles without `symmetric`")
            per_player = {a.name for a in g.actions}
            if len(per_player) != 1:
                raise SolveError(f"game `{g.name}`: symmetric games with several actions per player are not "
                                 "supported yet (one action per player)")
            return "symmetric-finite" if g.actions[0].finite else "symmetric-continuous"
        movers_per_stage = [len(g.movers(s)) for s in range(g.n_stages)]
        if g.n_stages > 1 or movers_per_stage == [1]:
            if any(m != 1 for m in movers_per_stage):
                raise SolveError(f"game `{g.name}`: sequential games need exactly one move per stage")
            return "sequential"
        if all(a.finite for a in g.actions) and len(g.roles) == 2 and movers_per_stage == [2]:
            return "roles-finite"
        raise SolveError(f"game `{g.name}`: simultaneous moves by distinct roles are supported for finite "
                         "two-role games")

    @property
    def concept(self) -> str:
        return {"symmetric-finite": "symmetric-nash", "symmetric-continuous": "symmetric-nash",
                "sequential": "backward-induction" if self.game.n_stages > 1 else "argmax",
                "roles-finite": "nash", "argmax": "argmax"}[self.kind]

    # -- entry ---------------------------------------------------------------------------
    def solve(self, values: dict[str, Fraction] | None = None, *, derive: bool = True) -> Solution:
        """Solve at one parameter point.

        Args:
            values: Game parameter values; missing ones take their defaults.
            derive: Also write the derivation (the readable steps, with numbers filled in). Sweeps
                that only need the equilibria can skip it.
        """
        self._derive = derive
        point = self.game.defaults()
        for k, v in (values or {}).items():
            if k not in self.game.params:
                raise SolveError(f"game `{self.game.name}` has no parameter `{k}`")
            point[k] = Fraction(v)
        try:
            method = getattr(self, "_solve_" + self.kind.replace("-", "_"))
            equilibria, derivation, selected, selection, exact = method(point)
        except LoweringError as exc:
            raise SolveError(f"game `{self.game.name}`: {exc}") from exc
        except finite.GameTooLarge as exc:
            raise SolveError(f"game `{self.game.name}`: {exc}") from exc
        return Solution(
            game=self.game.name, preference=self.pref.label,
            preference_params={k: _plain(v) for k, v in self.pref.point.values},
            params={k: _plain(v) for k, v in point.items()}, concept=self.concept,
            kantian=self.game.describe_kantian() if self.pref.uses_kantian else "not used by this preference",
            equilibria=equilibria, selected=selected, selection=selection, derivation=derivation, exact=exact,
        )

    # -- symmetric finite ----------------------------------------------------------------------
    @cached_property
    def _sym_syms(self) -> tuple[sp.Symbol, sp.Symbol]:
        return sp.Symbol("own_", real=True), sp.Symbol("rest_", real=True)

    @cached_property
    def _sym_utility(self) -> sp.Expr:
        a, b = self._sym_syms
        act = self.game.actions[0].name
        return symmetric_utility(self.game, self.pref.lowerer, own={act: a}, rest={act: b})

    @cached_property
    def _sym_compiled(self):
        return compile_exact(self._sym_utility)

    def _n_players(self, point) -> int:
        g = self.game
        if g.group is None:
            return len(g.roles)
        return int(g.group_size.subs(_subs_params(g, point)))

    def _players(self, point) -> list[str]:
        g = self.game
        if g.group is None:
            return list(g.roles)
        return [f"{g.group}[{i}]" for i in range(1, self._n_players(point) + 1)]

    def _sym_matrix(self, point) -> tuple[list, list[list]]:
        """The options and the own-utility matrix ``A[own][others]`` of a symmetric finite game."""
        g, action = self.game, self.game.actions[0]
        env = _env(g, point)
        options = action.options(_subs_params(g, point), limit=MAX_OPTIONS)
        a, b = self._sym_syms
        u = self._sym_compiled

        def util(i: int, j: int):
            return u({**env, a: Fraction(options[i].p, options[i].q), b: Fraction(options[j].p, options[j].q)})

        return options, [[util(i, j) for j in range(len(options))] for i in range(len(options))]

    def option_utilities_against_mix(self, values: dict[str, Fraction], mix: Sequence[float]) -> list[float]:
        """Expected utility of each own option when the other player mixes over the options.

        Used where a symmetric two-player finite game has only a mixed symmetric equilibrium: every
        option in its support is then equally good.

        Args:
            values: Game parameter values (missing ones take their defaults).
            mix: The other player's probability of each option, in option order.
        """
        if self.kind != "symmetric-finite":
            raise SolveError(f"game `{self.game.name}` is not a symmetric finite game")
        point = {**self.game.defaults(), **{k: Fraction(v) for k, v in values.items()}}
        _, A = self._sym_matrix(point)
        if len(mix) != len(A):
            raise SolveError(f"a mix over {len(mix)} options for a game with {len(A)}")
        return [float(sum(float(A[i][j]) * q for j, q in enumerate(mix))) for i in range(len(A))]

    def _solve_symmetric_finite(self, point):
        action = self.game.actions[0]
        options, A = self._sym_matrix(point)
        k = len(options)
        players = self._players(point)
        equilibria: list[Equilibrium] = []
        if len(players) == 2:
            eqs = finite.bimatrix_equilibria(A, [[A[j][i] for j in range(k)] for i in range(k)])
            for eq in eqs:
                equilibria.append(self._finite_eq(eq, options, players))
        else:
            for i in finite.symmetric_pure_equilibria(lambda own, others: A[own][others[0]], k, len(players)):
                val = action.display(options[i])
                equilibria.append(Equilibrium(path={p: {action.name: val} for p in players},
                                              utilities={p: _plain(A[i][i]) for p in players}, symmetric=True))
        selected, rule = _select(equilibria)
        derivation = []
        if selected is not None:
            chosen = equilibria[selected].path[players[0]][action.name]
            j = next(i for i, o in enumerate(options) if action.display(o) == chosen)
            utils = [A[i][j] for i in range(k)]
            best = _argmaxes(utils)
            derivation.append(Decision(
                player=players[0], action=action.name, kind=action.kind,
                given={"others": chosen},
                options=[OptionValue(value=action.display(o), utility=_plain(utils[i]),
                                     exact=_fmt_num(utils[i])) for i, o in enumerate(options)],
                chosen=chosen, ties=[action.display(options[i]) for i in best if i != j],
            ))
        return equilibria, derivation, selected, rule, True

    def _finite_eq(self, eq: finite.MixedEquilibrium, options, players) -> Equilibrium:
        action = self.game.actions[0]
        prof = eq.pure_profile()
        if prof is not None:
            return Equilibrium(
                path={p: {action.name: action.display(options[prof[i]])} for i, p in enumerate(players)},
                utilities={p: _plain(eq.payoffs[i]) for i, p in enumerate(players)},
                symmetric=len(set(prof)) == 1,
            )
        probs = {p: {action.name: {str(action.display(o)): float(q) for o, q in zip(options, eq.strategies[i])}}
                 for i, p in enumerate(players)}
        modal = {p: {action.name: action.display(options[max(range(len(options)), key=lambda t: eq.strategies[i][t])])}
                 for i, p in enumerate(players)}
        return Equilibrium(path=modal, probabilities=probs,
                           utilities={p: _plain(eq.payoffs[i]) for i, p in enumerate(players)},
                           symmetric=eq.strategies[0] == eq.strategies[1])

    # -- symmetric continuous --------------------------------------------------------------------
    @cached_property
    def _cont_syms(self) -> tuple[sp.Symbol, sp.Symbol]:
        return sp.Symbol("x", real=True), sp.Symbol("y", real=True)

    @cached_property
    def _cont_utility(self) -> sp.Expr:
        x, y = self._cont_syms
        act = self.game.actions[0].name
        return symmetric_utility(self.game, self.pref.lowerer, own={act: x}, rest={act: y})

    @cached_property
    def _cont_compiled(self):
        return compile_exact(self._cont_utility)

    @cached_property
    def _regime_actions(self) -> list[Callable]:
        assert self.symbolic is not None
        return [compile_exact(r.action) for r in self.symbolic.regimes]

    def _param_domain(self) -> dict[sp.Symbol, tuple[float, float]]:
        dom = {}
        for p in self.game.params.values():
            vals = [float(v) for v in p.values]
            lo, hi = min(vals), max(vals)
            dom[p.symbol] = (lo, hi) if lo < hi else (lo, lo)
        return dom

    @cached_property
    def symbolic(self) -> continuous.SymbolicSolution | None:
        """The closed-form symmetric equilibrium (continuous games), or None if sympy finds none."""
        if self.kind != "symmetric-continuous":
            return None
        x, y = self._cont_syms
        action = self.game.actions[0]
        params = [p.symbol for p in self.game.params.values()]
        try:
            return continuous.solve_symmetric_symbolic(self._cont_utility, own=x, other=y, lo=action.lo,
                                                       hi=action.hi, params=params, domain=self._param_domain())
        except (NotImplementedError, TypeError, ValueError):
            return None

    def _solve_symmetric_continuous(self, point):
        g, action = self.game, self.game.actions[0]
        x, y = self._cont_syms
        subs = _subs_params(g, point)
        players = self._players(point)
        sol = self.symbolic
        regime_text = regime_check = None
        exact = False
        env = _env(g, point)
        if sol is not None:
            idx = sol.regime_index({s: float(v) for s, v in subs.items()})
            if idx >= 0:
                regime = sol.regimes[idx]
                value = self._regime_actions[idx](env)
                exact = isinstance(value, Fraction)
                value = sp.Rational(value.numerator, value.denominator) if exact else float(value)
                regime_text = (_pretty_expr(regime.condition) if regime.condition is not sp.true else "always") \
                    if self._derive else None
                regime_check = _regime_check(regime.condition, subs) if self._derive else None
                actions = [value]
            else:
                sol = None
        if sol is None:
            u = self._cont_utility.subs(subs)
            lo, hi = action.lo.subs(subs), action.hi.subs(subs)
            try:
                found = continuous.solve_symmetric_numeric(u, own=x, other=y, lo=lo, hi=hi, values={})
            except continuous.NoConvergence as exc:
                raise SolveError(f"game `{g.name}` at {point}: {exc}") from exc
            actions = [e.action for e in found]
        equilibria = []
        for v in actions:
            fv = Fraction(int(v.p), int(v.q)) if isinstance(v, sp.Rational) else float(v)
            uval = self._cont_compiled({**env, x: fv, y: fv})
            equilibria.append(Equilibrium(path={p: {action.name: _plain(v)} for p in players},
                                          utilities={p: _plain(uval) for p in players}, symmetric=True))
        selected, rule = _select(equilibria)
        derivation = []
        if equilibria and self._derive:
            v = actions[selected or 0]
            u_at = self._cont_utility.subs(subs).subs(y, v)
            marginal_sym = _tidy(sp.diff(u_at, x))  # of the utility shown: the best-response condition
            derivation.append(Decision(
                player=players[0], action=action.name, kind=action.kind, given={"others": _plain(v)},
                utility=_pretty_expr(_tidy(u_at)), marginal=_pretty_expr(marginal_sym),
                marginal_value=_plain(marginal_sym.subs(x, v)) if marginal_sym.free_symbols <= {x} else None,
                regime=regime_text, regime_check=regime_check, chosen=_plain(v),
            ))
        return equilibria, derivation, selected, rule, exact

    # -- sequential (and single movers) ----------------------------------------------------------
    def _role_value(self, role: str, values: dict[str, dict[str, sp.Expr]], subs) -> sp.Expr:
        return role_utility(self.game, self.pref.lowerer, role=role, actual=values, self_play=values,
                            params={n: v for n, v in ((n, subs[p.symbol]) for n, p in self.game.params.items())})

    @cached_property
    def _stage_actions(self) -> list[ActionIR]:
        return [self.game.movers(s)[0] for s in range(self.game.n_stages)]

    def _profile(self, assignment: dict[str, sp.Expr]) -> dict[str, dict[str, sp.Expr]]:
        values: dict[str, dict[str, sp.Expr]] = {r: {} for r in self.game.roles}
        for a in self.game.actions:
            if a.name in assignment:
                values[a.owner][a.name] = assignment[a.name]
        return values

    def _solve_sequential(self, point):
        g = self.game
        subs = _subs_params(g, point)
        stages = self._stage_actions
        exact = all(a.finite for a in stages)

        env = _env(g, point)
        closed = self._sequential_closed_form
        if closed is not None:
            regime = next((r for r in closed if r[0](env)), None)
            if regime is not None:
                return self._sequential_from_regime(point, subs, env, regime)

        def best(k: int, history: dict[str, sp.Expr]) -> tuple[sp.Expr, list, list]:
            """Best choice at stage k after ``history``; returns (choice, options, utilities)."""
            act = stages[k]
            if act.finite:
                opts = act.options(subs, {n: v for n, v in history.items()}, limit=MAX_OPTIONS)
                utils = []
                for o in opts:
                    full = self._continue(k + 1, {**history, act.name: o}, best)
                    utils.append(self._role_value_fast(act.owner, full, env))
                if not opts:
                    raise SolveError(f"action `{act.name}` has no options at {point}")
                winners = _argmaxes(utils)
                return opts[winners[0]], opts, utils
            z = sp.Symbol(f"{act.name}", real=True)
            lo = act.lo.subs(subs).subs(history)
            hi = act.hi.subs(subs).subs(history)
            full = self._continue_symbolic(k + 1, {**history, act.name: z}, subs)
            val = self._role_value(act.owner, self._profile(full), subs)
            choice = _argmax_continuous(val, z, lo, hi)
            return choice, [], [val]

        path: dict[str, sp.Expr] = {}
        derivation: list[Decision] = []
        for k, act in enumerate(stages):
            choice, opts, utils = best(k, dict(path))
            given = {name: _label_or_plain(self._action(name), v) for name, v in path.items()}
            if act.finite:
                winners = _argmaxes(utils)
                derivation.append(Decision(
                    player=act.owner, action=act.name, kind=act.kind, given=given,
                    options=[OptionValue(value=act.display(o), utility=_plain(u), exact=_fmt_num(u))
                             for o, u in zip(opts, utils)],
                    chosen=act.display(choice), ties=[act.display(opts[i]) for i in winners[1:]],
                ))
            else:
                z = sp.Symbol(act.name, real=True)
                val = utils[0]
                derivation.append(Decision(
                    player=act.owner, action=act.name, kind=act.kind, given=given,
                    utility=_pretty_expr(_tidy(val)), marginal=_pretty_expr(_tidy(sp.diff(val, z))),
                    chosen=_plain(choice),
                ))
            path[act.name] = choice
        values = self._profile(path)
        utilities = {r: _plain(self._role_value(r, values, subs)) for r in g.roles}
        strategy = self._strategies(subs, best) if self._derive else {}
        eq = Equilibrium(path={r: {a: _label_or_plain(self._action(a), v) for a, v in acts.items()}
                               for r, acts in values.items() if acts},
                         strategy=strategy or None, utilities=utilities)
        rule = "lowest option among exact ties" if any(d.ties for d in derivation) else "unique optimum"
        return [eq], derivation, 0, rule, exact

    @cached_property
    def _role_compiled(self) -> dict[str, Callable]:
        """Each role's utility over all action symbols and parameters, compiled once."""
        syms = {a.name: sp.Symbol(a.name, real=True) for a in self.game.actions}
        prof = self._profile(syms)
        return {r: compile_exact(role_utility(self.game, self.pref.lowerer, role=r, actual=prof, self_play=prof))
                for r in self.game.roles}

    def _role_value_fast(self, role: str, assignment: dict[str, sp.Expr], env: dict) -> Fraction | float:
        local = dict(env)
        for name, v in assignment.items():
            local[sp.Symbol(name, real=True)] = Fraction(int(v.p), int(v.q)) if v.is_Rational else float(v)
        value = self._role_compiled[role](local)
        return value

    @cached_property
    def _sequential_closed_form(self):
        """Backward induction solved once with the game parameters symbolic (every move continuous):
        a list of (compiled condition, compiled actions, symbolic regime)."""
        if self.kind != "sequential" or any(a.finite for a in self._stage_actions):
            return None
        params = [p.symbol for p in self.game.params.values()]
        try:
            regimes = symbolic_backward(self.game, self.pref.lowerer, params=params, domain=self._param_domain())
        except (NotImplementedError, TypeError, ValueError, SolveError, LoweringError):
            return None
        if regimes is None:
            return None
        return [(compile_exact(cond), {n: compile_exact(e) for n, e in policy.items()}, (cond, replies))
                for cond, policy, replies in regimes]

    def _sequential_from_regime(self, point, subs, env, regime):
        _, actions, (cond, replies) = regime
        stages = self._stage_actions
        path: dict[str, sp.Expr] = {}
        derivation: list[Decision] = []
        for k, act in enumerate(stages):
            value = actions[act.name](env)
            value = sp.Rational(value.numerator, value.denominator) if isinstance(value, Fraction) else sp.Float(value)
            z = sp.Symbol(act.name, real=True)
            later: dict[str, sp.Expr] = {}
            for a in stages[k + 1:]:  # later replies as functions of this move
                later[a.name] = replies[a.name].subs(subs).subs(path).subs(later)
            if not self._derive:
                path[act.name] = value
                continue
            val = self._role_value(act.owner, self._profile({**path, act.name: z, **later}), subs)
            derivation.append(Decision(
                player=act.owner, action=act.name, kind=act.kind,
                given={name: _label_or_plain(self._action(name), v) for name, v in path.items()},
                utility=_pretty_expr(_tidy(val)), marginal=_pretty_expr(_tidy(sp.diff(val, z))),
                regime=_pretty_expr(cond) if cond is not sp.true else "always",
                regime_check=_regime_check(cond, subs), chosen=_plain(value),
            ))
            path[act.name] = value
        values = self._profile(path)
        utilities = {r: _plain(self._role_value_fast(r, path, env)) for r in self.game.roles}
        strategy = {a.owner: {a.name: f"{a.name} = {_pretty_expr(replies[a.name].subs(subs))}"}
                    for a in stages[1:]} if self._derive else {}
        eq = Equilibrium(path={r: {a: _plain(v) for a, v in acts.items()} for r, acts in values.items() if acts},
                         strategy=strategy or None, utilities=utilities)
        return [eq], derivation, 0, "closed form", all(isinstance(actions[a.name](env), Fraction) for a in stages)

    def _action(self, name: str) -> ActionIR:
        return next(a for a in self.game.actions if a.name == name)

    def _continue(self, k: int, history: dict[str, sp.Expr], best) -> dict[str, sp.Expr]:
        """Play stages k.. by their best replies (finite stages)."""
        full = dict(history)
        for j in range(k, len(self._stage_actions)):
            choice, _, _ = best(j, dict(full))
            full[self._stage_actions[j].name] = choice
        return full

    def _continue_symbolic(self, k: int, history: dict[str, sp.Expr], subs) -> dict[str, sp.Expr]:
        """Later continuous stages as functions of the (symbolic) history."""
        full = dict(history)
        for j in range(k, len(self._stage_actions)):
            act = self._stage_actions[j]
            if act.finite:
                raise SolveError(f"game `{self.game.name}`: a finite move after a continuous one is not supported")
            z = sp.Symbol(f"{act.name}", real=True)
            lo, hi = act.lo.subs(subs).subs(full), act.hi.subs(subs).subs(full)
            inner = self._continue_symbolic(j + 1, {**full, act.name: z}, subs)
            val = self._role_value(act.owner, self._profile(inner), subs)
            policy = _policy_continuous(val, z, lo, hi)
            full[act.name] = policy
        return full

    def _strategies(self, subs, best) -> dict[str, dict]:
        """Full plans of later movers (every history) for finite sequential games."""
        stages = self._stage_actions
        out: dict[str, dict] = {}
        if len(stages) < 2 or not all(a.finite for a in stages[:-1]):
            if len(stages) >= 2 and not stages[-1].finite:
                for act in stages[1:]:
                    z = {a.name: sp.Symbol(a.name, real=True) for a in stages}
                    full = self._continue_symbolic(stages.index(act), {a.name: z[a.name] for a in stages
                                                                       if a.stage < act.stage}, subs)
                    out.setdefault(act.owner, {})[act.name] = f"{act.name} = {_pretty_expr(full[act.name])}"
            return out
        last = stages[-1]
        earlier = stages[:-1]
        if len(earlier) != 1:
            return out
        first = earlier[0]
        plan = {}
        for o in first.options(subs, limit=MAX_OPTIONS):
            choice, opts, utils = best(len(stages) - 1, {first.name: o})
            plan[str(first.display(o))] = last.display(choice)
        out[last.owner] = {last.name: plan}
        return out

    # -- argmax against beliefs ----------------------------------------------------------------------
    def _solve_argmax(self, point):
        g = self.game
        if g.symmetric or len(g.actions) < 1:
            raise SolveError(f"game `{g.name}`: `solve argmax` needs named roles")
        subs = _subs_params(g, point)
        low = g.lowerer({n: subs[p.symbol] for n, p in g.params.items()})
        believed: dict[str, sp.Expr] = {}
        for b in g.checked.ast.beliefs:
            act = self._action(b.ref.action.name)
            believed[act.name] = low.expr(b.value, None, {})
        free = [a for a in g.actions if a.name not in believed]
        if len(free) != 1:
            raise SolveError(f"game `{g.name}`: `solve argmax` needs beliefs about every action but one "
                             f"({len(free)} are free)")
        act = free[0]
        if act.finite:
            opts = act.options(subs, limit=MAX_OPTIONS)
            utils = [_exactify(self._role_value(act.owner, self._profile({**believed, act.name: o}), subs))
                     for o in opts]
            winners = _argmaxes(utils)
            choice = opts[winners[0]]
            decision = Decision(player=act.owner, action=act.name, kind=act.kind,
                                given={k: _label_or_plain(self._action(k), v) for k, v in believed.items()},
                                options=[OptionValue(value=act.display(o), utility=_plain(u), exact=_fmt_num(u))
                                         for o, u in zip(opts, utils)],
                                chosen=act.display(choice), ties=[act.display(opts[i]) for i in winners[1:]])
        else:
            z = sp.Symbol(act.name, real=True)
            val = self._role_value(act.owner, self._profile({**believed, act.name: z}), subs)
            choice = _argmax_continuous(val, z, act.lo.subs(subs), act.hi.subs(subs))
            decision = Decision(player=act.owner, action=act.name, kind=act.kind,
                                given={k: _label_or_plain(self._action(k), v) for k, v in believed.items()},
                                utility=_pretty_expr(_tidy(val)), marginal=_pretty_expr(_tidy(sp.diff(val, z))),
                                chosen=_plain(choice))
        path = {act.owner: {act.name: _label_or_plain(act, choice)}}
        eq = Equilibrium(path=path, utilities={act.owner: _plain(
            self._role_value(act.owner, self._profile({**believed, act.name: choice}), subs))})
        return [eq], [decision], 0, "best reply to the declared beliefs", act.finite

    # -- simultaneous roles, finite ------------------------------------------------------------------
    def _solve_roles_finite(self, point):
        g = self.game
        subs = _subs_params(g, point)
        r1, r2 = g.roles
        a1 = next(a for a in g.actions if a.owner == r1)
        a2 = next(a for a in g.actions if a.owner == r2)
        o1, o2 = a1.options(subs, limit=MAX_OPTIONS), a2.options(subs, limit=MAX_OPTIONS)
        if not self.pref.uses_kantian:
            A = [[_exactify(self._role_value(r1, self._profile({a1.name: x, a2.name: y}), subs)) for y in o2] for x in o1]
            B = [[_exactify(self._role_value(r2, self._profile({a1.name: x, a2.name: y}), subs)) for y in o2] for x in o1]
            eqs = finite.bimatrix_equilibria(A, B)
            equilibria = []
            for eq in eqs:
                prof = eq.pure_profile()
                if prof is not None:
                    equilibria.append(Equilibrium(path={r1: {a1.name: a1.display(o1[prof[0]])},
                                                        r2: {a2.name: a2.display(o2[prof[1]])}},
                                                  utilities={r1: _plain(eq.payoffs[0]), r2: _plain(eq.payoffs[1])}))
                else:
                    equilibria.append(Equilibrium(
                        path={r1: {a1.name: a1.display(o1[max(range(len(o1)), key=lambda t: eq.strategies[0][t])])},
                              r2: {a2.name: a2.display(o2[max(range(len(o2)), key=lambda t: eq.strategies[1][t])])}},
                        probabilities={r1: {a1.name: {str(a1.display(o)): float(p) for o, p in zip(o1, eq.strategies[0])}},
                                       r2: {a2.name: {str(a2.display(o)): float(p) for o, p in zip(o2, eq.strategies[1])}}},
                        utilities={r1: _plain(eq.payoffs[0]), r2: _plain(eq.payoffs[1])}))
            selected, rule = _select(equilibria, require_symmetric=False)
            return equilibria, [], selected, rule, True
        # Kantian preference: the ex-ante game in plans (one action for each role)
        plans = list(itertools.product(range(len(o1)), range(len(o2))))
        if len(plans) > MAX_PLANS:
            raise SolveError(f"game `{g.name}` has {len(plans)} plans; the plan game is limited to {MAX_PLANS}")
        w = {r: g.role_weights[r].subs(subs) for r in g.roles}

        def ex_ante(me, other) -> Fraction:
            (x1, x2), (y1, y2) = plans[me], plans[other]
            mine = self._profile({a1.name: o1[x1], a2.name: o2[x2]})
            as_r1 = role_utility(g, self.pref.lowerer, role=r1, actual=self._profile({a1.name: o1[x1], a2.name: o2[y2]}),
                                 self_play=mine, params={n: subs[p.symbol] for n, p in g.params.items()})
            as_r2 = role_utility(g, self.pref.lowerer, role=r2, actual=self._profile({a1.name: o1[y1], a2.name: o2[x2]}),
                                 self_play=mine, params={n: subs[p.symbol] for n, p in g.params.items()})
            return _exactify(w[r1] * as_r1 + w[r2] * as_r2)

        U = [[ex_ante(i, j) for j in range(len(plans))] for i in range(len(plans))]
        sym = finite.symmetric_mixed_equilibria_2p(U)
        equilibria = []
        for eq in sym:
            if eq.is_pure:
                i = eq.pure_profile()[0]
                x1, x2 = plans[i]
                equilibria.append(Equilibrium(path={r1: {a1.name: a1.display(o1[x1])}, r2: {a2.name: a2.display(o2[x2])}},
                                              strategy={"plan": {a1.name: a1.display(o1[x1]), a2.name: a2.display(o2[x2])}},
                                              utilities={"ex-ante": _plain(eq.payoffs[0])}, symmetric=True))
        selected, rule = _select(equilibria, require_symmetric=False)
        return equilibria, [], selected, rule + " (symmetric pure equilibria of the plan game)", True


# ----------------------------------------------------------------------------- helpers


def _exactify(v: sp.Expr):
    v = sp.nsimplify(v) if not v.is_Rational and v.is_number and v.is_finite is False else v
    if v.is_Rational:
        return Fraction(int(v.p), int(v.q))
    if v in (sp.zoo, sp.nan):
        return -math.inf
    if v is sp.oo:
        return math.inf
    if v is -sp.oo:
        return -math.inf
    if not v.is_number:
        raise LoweringError(f"utility did not reduce to a number: {v}")
    return float(v)


def _label_or_plain(action: ActionIR, v):
    return action.display(v) if action.kind == "labels" else _plain(v)


def _argmax_continuous(val: sp.Expr, z: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    """Argmax over [lo, hi] at a numeric point: exact candidates (bounds and stationary points) when
    sympy finds them, else the numeric best response."""
    exact = _argmax_by_candidates(val, z, lo, hi)
    if exact is not None:
        return exact
    sol = continuous.solve_argmax_symbolic(val, own=z, lo=lo, hi=hi, params=[])
    if sol is not None:
        for regime in sol.regimes:
            cond = regime.condition
            if cond is sp.true or bool(sp.simplify(cond)) is True:
                return sp.nsimplify(regime.action) if regime.action.is_number else regime.action
    return sp.Float(continuous.best_response(val, own=z, lo=lo, hi=hi, values={}))


def _argmax_by_candidates(val: sp.Expr, z: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr | None:
    """Exact argmax of a univariate utility on [lo, hi]: compare the bounds with the stationary points.

    Returns None when the stationary points cannot be found exactly (the caller goes numeric).
    """
    if not (lo.is_number and hi.is_number) or val.free_symbols - {z}:
        return None
    if lo == hi:
        return lo
    deriv = sp.diff(val, z)
    if deriv.free_symbols == set():
        return hi if deriv > 0 else lo
    try:
        roots = sp.solve(sp.Eq(deriv, 0), z)
    except (NotImplementedError, TypeError, ValueError):
        return None
    candidates = [lo, hi] + [r for r in roots if r.is_real and lo < r < hi]

    def value(c):
        v = sp.limit(val, z, c, "+" if c == lo else "-") if c in (lo, hi) else val.subs(z, c)
        return -sp.oo if v in (sp.zoo, sp.nan) else v

    scored = [(value(c), i, c) for i, c in enumerate(candidates)]
    if any(not v.is_comparable and v not in (sp.oo, -sp.oo) for v, _, _ in scored):
        return None
    best = max(scored, key=lambda t: (t[0], -t[1]))
    return best[2]


def symbolic_backward(game: GameIR, lowerer, *, params, domain, free=(), pref=None):
    """Backward induction in closed form when every move is continuous.

    Returns a list of (condition, {action: expression}, {action: reply}) over the parameters, where
    the replies are the movers' choices as functions of the earlier moves; or None when a reply has
    no closed form or a later reply's regime depends on an earlier move.

    Args:
        game: A sequential game with one continuous move per stage.
        lowerer: The preference (its parameters symbolic or fixed).
        params: Parameter symbols (game and free preference parameters).
        domain: Parameter ranges for sign decisions.
        free: Preference parameters to isolate in conditions.
        pref: The checked preference (for the domains of ``free``).
    """
    stages = [game.movers(k)[0] for k in range(game.n_stages)]
    syms = {a.name: sp.Symbol(a.name, real=True) for a in stages}

    def profile(assign):
        values = {r: {} for r in game.roles}
        for a in game.actions:
            if a.name in assign:
                values[a.owner][a.name] = assign[a.name]
        return values

    def policies(k: int, history: dict):
        if k == len(stages):
            return [(sp.true, {}, {})]
        act = stages[k]
        z = syms[act.name]
        later = policies(k + 1, {**history, act.name: z})
        if later is None:
            return None
        out = []
        for cond_l, pol, replies in later:
            if cond_l.has(z):
                return None
            assign = {**history, act.name: z, **pol}
            value = role_utility(game, lowerer, role=act.owner, actual=profile(assign), self_play=profile(assign))
            hist_syms = [syms[n] for n in history]
            sol = continuous.solve_argmax_symbolic(value, own=z, lo=act.lo, hi=act.hi, params=list(params) + hist_syms,
                                                   domain=domain, solve_for=list(free) or None)
            if sol is None:
                found = _interior_or_corner(value, z, act.lo, act.hi, domain)
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
                out.append((sp.And(cond_l, cond), {act.name: action, **{n: e.subs(z, action) for n, e in pol.items()}},
                            {act.name: action, **replies}))
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


def _policy_continuous(val: sp.Expr, z: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    """A later mover's reply as a function of the history (a Piecewise expression)."""
    history = sorted((val.free_symbols | lo.free_symbols | hi.free_symbols) - {z}, key=str)
    sol = continuous.solve_argmax_symbolic(val, own=z, lo=lo, hi=hi, params=history)
    if sol is None:
        raise SolveError("no closed-form reply of a continuous later mover; make the later move finite")
    pieces = [(r.action, r.condition) for r in sol.regimes]
    if len(pieces) == 1:
        return pieces[0][0]
    return sp.Piecewise(*pieces)


def _select(equilibria: list[Equilibrium], *, require_symmetric: bool = True) -> tuple[int | None, str]:
    """The equilibrium datasets use: symmetric pure first, highest utility, then option order."""
    pure = [i for i, e in enumerate(equilibria) if e.is_pure and (e.symmetric or not require_symmetric)]
    if not pure:
        return None, "no pure equilibrium to teach"
    if len(pure) == 1:
        return pure[0], "unique pure equilibrium" if len([e for e in equilibria if e.is_pure]) == 1 \
            else "the only symmetric pure equilibrium"

    def score(i: int) -> float:
        vals = [v for v in equilibria[i].utilities.values() if v is not None]
        return sum(vals) / len(vals) if vals else -math.inf

    best = max(pure, key=lambda i: (score(i), -i))
    return best, "payoff-dominant symmetric pure equilibrium (ties: first in option order)"


@dataclass
class SpecSolver:
    """Solvers for every (game, preference) pair of a spec, built on first use."""

    ir: "object"

    def __post_init__(self):
        self._cache: dict[tuple[str, str], GameSolver] = {}

    def solver(self, game: str, pref: BoundPreference) -> GameSolver:
        """The (cached) solver of a game for a preference point.

        Args:
            game: Game name.
            pref: Bound preference.
        """
        key = (game, pref.label)
        if key not in self._cache:
            self._cache[key] = GameSolver(self.ir.games[game], pref)  # type: ignore[attr-defined]
        return self._cache[key]


Evaluator = Callable[[dict[str, Fraction]], Solution]
