"""The strategic form of a simultaneous finite game with named players, at one parameter point.

Players are the game's roles (or, for the plan game of a role game with a Kantian preference, two
ex-ante players choosing plans). A player's *strategies* are every combination of the options of
the actions it chooses. Utilities are the preference's, built by :mod:`.utility` from the game's
payoffs, compiled once per (game, preference) and evaluated exactly at each profile; a utility
that is not a finite real number is refused with the profile named.

Where the preference is affine in its ``kantian`` terms each utility also comes split into the
part that depends on the actual profile and the part that depends on the universalised one, so
mixed strategies can be evaluated at the strategy level (:mod:`.quadratic`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeVar, cast

import sympy as sp

from prefc.compiler.exact import NotCompilable, compile_exact
from prefc.compiler.ir import ActionIR, BoundPreference, GameIR
from prefc.compiler.limits import MAX_OPTIONS, MAX_PLANS, MAX_PROFILES, GameTooLarge
from prefc.compiler.lower import LoweringError
from prefc.compiler.solution import ActionValue
from prefc.compiler.solve.derive import NonFinite, exact_value, shown
from prefc.compiler.solve.utility import named_split, named_utility, plan_split, plan_utility

__all__ = ["checked_value", "CompiledForm", "strategic_form", "StrategicForm", "strategies_of", "Strategy"]

Env = dict[sp.Symbol, Fraction]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Strategy:
    """One pure strategy: a value for each action the player chooses.

    Attributes:
        values: role -> action name -> value (label codes for labels); a plan has every role.
        text: How it is shown (``defect``, ``(send = 5, back = 0)``).
        shown: role -> action name -> shown value (labels as labels).
    """

    values: dict[str, dict[str, sp.Expr]]
    text: str
    shown: dict[str, dict[str, ActionValue]]


@dataclass
class StrategicForm:
    """Players, their strategies, and exact utilities of every pure profile.

    Attributes:
        names: The players' names (roles, or ``plan`` players).
        strategies: Each player's strategies.
        plan_game: Whether the players are the two ex-ante players of a plan game.
        symmetric: Whether the game is symmetric (players interchangeable, same strategies).
        pure: ``pure(i, profile)`` is player i's utility at a profile of strategy indices.
        split: ``split(i)`` gives (actual, universal) where ``actual(profile)`` and
            ``universal(own, other)`` are the two parts of player i's utility in a two-player game
            (None: the preference is not affine in its Kantian terms, or no Kantian term).
    """

    names: list[str]
    strategies: list[list[Strategy]]
    plan_game: bool
    symmetric: bool
    pure: Callable[[int, tuple[int, ...]], Fraction | float]
    split: Callable[
        [int], tuple[Callable[[tuple[int, ...]], Fraction | float], Callable[[int, int], Fraction | float]] | None
    ]
    uses_kantian: bool
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.names)

    def matrices(self) -> tuple[list[list], list[list]]:
        """Pure-utility matrices of a two-player game: ``A[i][j]`` (player 1), ``B[i][j]`` (player 2)."""
        k1, k2 = (len(s) for s in self.strategies)
        return (
            [[self.pure(0, (i, j)) for j in range(k2)] for i in range(k1)],
            [[self.pure(1, (i, j)) for j in range(k2)] for i in range(k1)],
        )

    def quadratic(self) -> tuple[list[list], list[list], list[list], list[list]] | None:
        """``M1, G1, M2, G2`` of a two-player game (own index first), or None without a split."""
        parts = [self.split(0), self.split(1)]
        if parts[0] is None or parts[1] is None:
            return None
        (a1, u1), (a2, u2) = parts  # type: ignore[misc]
        k1, k2 = (len(s) for s in self.strategies)
        M1 = [[a1((i, j)) for j in range(k2)] for i in range(k1)]
        G1 = [[u1(i, j) for j in range(k1)] for i in range(k1)]
        M2 = [[a2((i, j)) for i in range(k1)] for j in range(k2)]
        G2 = [[u2(j, i) for i in range(k2)] for j in range(k2)]
        return M1, G1, M2, G2


def _options(action: ActionIR, subs: dict[sp.Symbol, sp.Expr]) -> list[sp.Expr]:
    opts = action.options(subs, limit=MAX_OPTIONS)
    if not opts:
        raise GameTooLarge(f"action `{action.key}` has no options at this point")
    return opts


def strategies_of(game: GameIR, role: str, subs: dict[sp.Symbol, sp.Expr], owner: str | None = None) -> list[Strategy]:
    acts = [a for a in game.actions if a.owner == (owner or role)]
    per_action = [_options(a, subs) for a in acts]
    out = []
    for combo in itertools.product(*per_action):
        values = {role: {a.name: v for a, v in zip(acts, combo, strict=False)}}
        shows = {role: {a.name: shown(a, v) for a, v in zip(acts, combo, strict=False)}}
        if not acts:
            text = "(no move)"
        elif len(acts) == 1:
            text = str(shows[role][acts[0].name])
        else:
            text = "(" + ", ".join(f"{a.name} = {shows[role][a.name]}" for a in acts) + ")"
        out.append(Strategy(values, text, shows))
    return out


def _profile_text(strategies: list[list[Strategy]], profile: tuple[int, ...]) -> str:
    return "(" + ", ".join(strategies[i][s].text for i, s in enumerate(profile)) + ")"


class CompiledForm:
    """A utility expression compiled once, evaluated exactly; per-point substitution as a fallback."""

    def __init__(self, expr: sp.Expr):
        self.expr = expr
        try:
            self.fn: Callable | None = compile_exact(expr)
        except NotCompilable:
            self.fn = None

    def __call__(self, env: Env) -> object:
        if self.fn is not None:
            try:
                return self.fn(env)
            except (ZeroDivisionError, OverflowError, ValueError):
                pass
        return self.expr.xreplace(
            {
                k: sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else sp.Float(v)
                for k, v in env.items()
            }
        )


def memo(game: GameIR, key: tuple, build: Callable[[], _T]) -> _T:
    """A value derived from a game once and kept with it (symbolic utilities and their compiled forms
    depend on the game and the preference, not on the parameter point).

    Args:
        game: The game.
        key: What is kept (include the preference's label).
        build: Builds it.
    """
    store = game.__dict__.setdefault("_solver_memo", {})
    if key not in store:
        store[key] = build()
    return cast(_T, store[key])


def checked_value(value: object, where: str | Callable[[], str]) -> Fraction | float:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    where = where() if callable(where) else where
    if isinstance(value, bool):
        raise NonFinite(f"the utility of {where} is a condition, not a number")
    if isinstance(value, (Fraction, float)):
        return exact_value(value, where)
    if isinstance(value, int):
        return Fraction(value)
    return exact_value(value, where)


def strategic_form(game: GameIR, pref: BoundPreference, point: dict[str, Fraction]) -> StrategicForm:
    """The strategic form of a simultaneous finite game with named roles at a parameter point.

    Symmetric games and games declaring ``kantian substitute`` evaluate ``kantian`` by substituting
    the evaluator's strategy into every role; other role games with a Kantian preference become
    their plan game (two ex-ante players choosing a plan for every role).

    Args:
        game: A one-stage game with named roles and finite actions.
        pref: The preference.
        point: Every parameter's value.

    Raises:
        GameTooLarge: past the option, plan or profile limits.
        NonFinite: for a utility that is not a finite real number.
    """
    subs = {p.symbol: sp.Rational(point[n].numerator, point[n].denominator) for n, p in game.params.items()}
    env: Env = {p.symbol: point[n] for n, p in game.params.items()}
    env.update(pref.env)  # utilities are compiled once per preference, its parameters as symbols
    if pref.uses_kantian and game.kantian_mode == "roles":
        return _plan_form(game, pref, subs, env)
    return _role_form(game, pref, subs, env)


def _action_symbols(game: GameIR, prefix: str = "") -> dict[str, dict[str, sp.Symbol]]:
    return {r: {a.name: sp.Symbol(prefix + a.key, real=True) for a in game.actions if a.owner == r} for r in game.roles}


def _role_form(game: GameIR, pref: BoundPreference, subs, env: Env) -> StrategicForm:
    roles = [r for r in game.roles if any(a.owner == r for a in game.actions)]  # roles without a move are no players
    strategies = [strategies_of(game, r, subs) for r in roles]
    _check_profiles([len(s) for s in strategies])
    syms = _action_symbols(game)
    usyms = _action_symbols(game, "u:")
    everything = {s for table in (syms, usyms) for acts in table.values() for s in acts.values()}
    if pref.uses_kantian:
        names = {r: sorted(syms[r]) for r in roles}
        if len({tuple(v) for v in names.values()}) != 1:
            listed = "; ".join(f"{r}: " + ", ".join(v) for r, v in names.items())
            raise LoweringError(f"`kantian substitute` needs every role to choose the same actions ({listed})")

    def named(role: str) -> Callable[[], CompiledForm]:
        return lambda: CompiledForm(named_utility(game, pref.template, role=role, actual=syms))

    pure = [memo(game, ("named", pref.key, r), named(r)) for r in roles]

    def bind(e: Env, table, role: str, strategy: Strategy, source: str | None = None) -> None:
        for a, v in strategy.values[source or role].items():
            e[table[role][a]] = Fraction(int(v.p), int(v.q))

    def env_of(profile: tuple[int, ...]) -> Env:
        out = dict(env)
        for i, s in enumerate(profile):
            bind(out, syms, roles[i], strategies[i][s])
        return out

    cache: dict[tuple[int, tuple[int, ...]], Fraction | float] = {}

    def pure_utility(i: int, profile: tuple[int, ...]) -> Fraction | float:
        key = (i, profile)
        if key not in cache:
            cache[key] = checked_value(
                pure[i](env_of(profile)), lambda: f"`{roles[i]}` at {_profile_text(strategies, profile)}"
            )
        return cache[key]

    split_cache: dict[int, object] = {}

    def split(i: int):
        if i in split_cache:
            return split_cache[i]
        result = None
        if pref.uses_kantian and len(roles) == 2:
            j = 1 - i

            def build():
                parts = named_split(
                    game,
                    pref.template,
                    role=roles[i],
                    actual=syms,
                    universal={roles[i]: usyms[roles[i]], roles[j]: usyms[roles[j]]},
                    actions=everything,
                )
                return None if parts is None else (CompiledForm(parts.actual), CompiledForm(parts.universal))

            compiled = memo(game, ("named-split", pref.key, roles[i]), build)
            if compiled is not None:
                actual, universal = compiled

                def actual_at(profile: tuple[int, ...]) -> Fraction | float:
                    return checked_value(
                        actual(env_of(profile)), lambda: f"`{roles[i]}` at {_profile_text(strategies, profile)}"
                    )

                def universal_at(own: int, other: int) -> Fraction | float:
                    # both draws come from the evaluator's own strategy set (the roles choose alike)
                    e = dict(env)
                    bind(e, usyms, roles[i], strategies[i][own], roles[i])
                    for a, v in strategies[i][other].values[roles[i]].items():
                        e[usyms[roles[j]][a]] = Fraction(int(v.p), int(v.q))
                    return checked_value(
                        universal(e),
                        lambda: (
                            f"`{roles[i]}` universalised at ({strategies[i][own].text}, {strategies[i][other].text})"
                        ),
                    )

                result = (actual_at, universal_at)
        split_cache[i] = result
        return result

    symmetric = game.symmetric and len({len(s) for s in strategies}) == 1
    return StrategicForm(list(roles), strategies, False, symmetric, pure_utility, split, pref.uses_kantian)


def _check_profiles(counts: list[int]) -> None:
    total = 1
    for c in counts:
        total *= c
        if total > MAX_PROFILES:
            raise GameTooLarge(f"{' x '.join(map(str, counts))} strategies give more than {MAX_PROFILES:,} profiles")


def _plan_form(game: GameIR, pref: BoundPreference, subs, env: Env) -> StrategicForm:
    roles = game.roles
    per_role = [strategies_of(game, r, subs) for r in roles]
    count = 1
    for s in per_role:
        count *= len(s)
    if count > MAX_PLANS:
        raise GameTooLarge(f"the plan game of `{game.name}` has {count:,} plans; it is limited to {MAX_PLANS:,}")
    plans: list[Strategy] = []
    for combo in itertools.product(*per_role):
        values = {r: dict(s.values[r]) for r, s in zip(roles, combo, strict=False)}
        shows = {r: dict(s.shown[r]) for r, s in zip(roles, combo, strict=False)}
        text = "(" + ", ".join(f"{r}: {s.text}" for r, s in zip(roles, combo, strict=False)) + ")"
        plans.append(Strategy(values, text, shows))
    p_syms = _action_symbols(game, "p:")
    q_syms = _action_symbols(game, "q:")
    up_syms = _action_symbols(game, "up:")
    uq_syms = _action_symbols(game, "uq:")
    everything = {s for table in (p_syms, q_syms, up_syms, uq_syms) for acts in table.values() for s in acts.values()}
    pure_expr = memo(
        game, ("plan", pref.key), lambda: CompiledForm(plan_utility(game, pref.template, plan=p_syms, opponent=q_syms))
    )

    def build_split():
        parts = plan_split(
            game, pref.template, plan=p_syms, opponent=q_syms, universal=(up_syms, uq_syms), actions=everything
        )
        return (None, None) if parts is None else (CompiledForm(parts.actual), CompiledForm(parts.universal))

    actual, universal = memo(game, ("plan-split", pref.key), build_split)

    def bind(e: Env, table, plan: Strategy) -> None:
        for r in roles:
            for a, v in plan.values[r].items():
                e[table[r][a]] = Fraction(int(v.p), int(v.q))

    cache: dict[tuple[int, tuple[int, ...]], Fraction | float] = {}

    def pure_utility(i: int, profile: tuple[int, ...]) -> Fraction | float:
        key = (i, profile)
        if key not in cache:
            own, other = profile[i], profile[1 - i]
            e = dict(env)
            bind(e, p_syms, plans[own])
            bind(e, q_syms, plans[other])
            cache[key] = checked_value(pure_expr(e), f"the plan {plans[own].text} against {plans[other].text}")
        return cache[key]

    def split(i: int):
        if actual is None or universal is None:
            return None

        def actual_at(profile: tuple[int, ...]) -> Fraction | float:
            e = dict(env)
            bind(e, p_syms, plans[profile[i]])
            bind(e, q_syms, plans[profile[1 - i]])
            return checked_value(actual(e), f"the plan {plans[profile[i]].text} against {plans[profile[1 - i]].text}")

        def universal_at(own: int, other: int) -> Fraction | float:
            e = dict(env)
            bind(e, up_syms, plans[own])
            bind(e, uq_syms, plans[other])
            return checked_value(universal(e), f"the universalised plans {plans[own].text} and {plans[other].text}")

        return actual_at, universal_at

    return StrategicForm(["plan", "plan'"], [plans, plans], True, True, pure_utility, split, True)
