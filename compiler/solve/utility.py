"""Utilities: a game's material payoffs seen through a preference, for one player in one profile.

A preference body is lowered against two profiles: the *actual* one (what everyone plays) and, for
``kantian(X)``, the *universalised* one (Alger & Weibull 2013: X when everyone uses the evaluator's
own strategy). The game's Kantian convention says how that profile is built:

``substitute`` (symmetric games)
    every other player's action is replaced by the evaluator's own: for homo moralis
    ``u = (1 - kappa) * pi(x, y) + kappa * pi(x, x)``.
``roles`` (games with distinct roles)
    roles are drawn with the ``kantian roles`` weights ``w`` and a strategy is a plan for every role.
    A mover in role ``r`` (sequential games, single movers) maximises its ex-ante utility divided by
    ``w_r``, so ``payoff(self)`` stays the payoff of the role it holds and
    ``kantian(X) = sum_rho (w_rho / w_r) * X_rho`` under self-play (:func:`role_utility`). In a
    simultaneous game the players choose whole plans before their roles are drawn: the ex-ante
    *plan game* is a symmetric two-player game in plans whose material payoff is
    ``Pi(p, q) = sum_r w_r * pi_r(p_r, q_-r)`` (:func:`plan_utility`).

Mixed strategies follow the strategy-level definition: with a mixed strategy ``x``,
``kantian(X)`` is the expectation of ``X`` when every player draws independently from ``x``, which
is quadratic in ``x`` for two players. :func:`symmetric_split` (and its siblings) separate a utility that is affine in
its ``kantian`` terms (every library preference is) into the part that depends on the actual
profile and the part that depends on the universalised one, which is what the mixed solvers and
the certificates need; a preference that is not affine in them has pure-strategy solutions only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import sympy as sp

from prefc.compiler.check import CheckedPreference
from prefc.compiler.ir import GameIR
from prefc.compiler.lower import (
    LoweringError,
    PreferenceContext,
    PreferenceLowerer,
    Profile,
    Token,
    count_profile,
    group_profile,
    named_profile,
)

__all__ = [
    "KantianSplit",
    "count_split",
    "count_utility",
    "named_split",
    "named_utility",
    "plan_material",
    "plan_split",
    "plan_utility",
    "role_utility",
    "symbolic_preference",
    "symmetric_split",
    "symmetric_utility",
]

Actions = dict[str, sp.Expr]
"""action name -> value of one player (label actions hold integer codes)."""


def symbolic_preference(checked: CheckedPreference, symbols: dict[str, sp.Expr]) -> PreferenceLowerer:
    """A preference lowerer whose parameters take the given values (symbols for closed forms in kappa).

    Args:
        checked: The preference.
        symbols: Parameter name -> symbol or value.
    """
    return PreferenceLowerer(checked.ast.body, dict(symbols))


def _group_size(game: GameIR, params: dict[str, sp.Expr]) -> sp.Expr:
    assert game.group_size is not None
    return game.group_size.xreplace({p.symbol: params[n] for n, p in game.params.items() if n in params})


def _symmetric_profile(game: GameIR, n: sp.Expr | None, own: Actions, rest: Actions) -> tuple[Profile, Token]:
    if game.group is not None:
        assert n is not None
        prof, focal, _ = group_profile(game.group, n, own, rest)
        return prof, focal
    values = {role: dict(rest) for role in game.roles}
    values[game.roles[0]] = dict(own)
    prof = named_profile(values)
    return prof, prof.tokens[0]


Universe = Callable[[], PreferenceContext]
"""Builds the context in which a ``kantian`` argument is evaluated."""


def _context(low, prof: Profile, me: Token, *, inside: bool = False) -> PreferenceContext:
    return PreferenceContext(
        payoff=lambda t: low.payoff(t, prof),
        me=me,
        others=prof.others(me),
        kantian=_nested if inside else None,
        inside_kantian=inside,
    )


def _evaluate(pref: PreferenceLowerer, actual: PreferenceContext, universe: Universe) -> sp.Expr:
    return pref.value(replace(actual, kantian=lambda f: f(universe())))


def _symmetric_contexts(
    game: GameIR,
    *,
    own: Actions,
    rest: Actions,
    params: dict[str, sp.Expr] | None,
    universal: tuple[Actions, Actions] | None,
) -> tuple[PreferenceContext, Universe]:
    low = game.lowerer(params)
    n = _group_size(game, low.params) if game.group is not None else None
    prof, me = _symmetric_profile(game, n, own, rest)
    uown, urest = universal if universal is not None else (own, own)

    def universe() -> PreferenceContext:
        uprof, ume = _symmetric_profile(game, n, uown, urest)
        return _context(low, uprof, ume, inside=True)

    return _context(low, prof, me), universe


def symmetric_utility(
    game: GameIR,
    pref: PreferenceLowerer,
    *,
    own: Actions,
    rest: Actions,
    params: dict[str, sp.Expr] | None = None,
    universal: tuple[Actions, Actions] | None = None,
) -> sp.Expr:
    """Utility of one player of a symmetric game who plays ``own`` while every other player plays ``rest``.

    Args:
        game: A symmetric game (named roles or one group).
        pref: The preference.
        own: The evaluator's actions.
        rest: Every other player's actions.
        params: Parameter values (default: symbols).
        universal: The universalised profile ``kantian`` evaluates, as (evaluator's actions, every
            other player's actions); default: everyone plays ``own`` (pure play).
    """
    actual, universe = _symmetric_contexts(game, own=own, rest=rest, params=params, universal=universal)
    return _evaluate(pref, actual, universe)


def symmetric_split(
    game: GameIR,
    pref: PreferenceLowerer,
    *,
    own: Actions,
    rest: Actions,
    universal: tuple[Actions, Actions],
    actions: set[sp.Symbol],
    params: dict[str, sp.Expr] | None = None,
) -> KantianSplit | None:
    """:func:`symmetric_utility` split into its actual and Kantian parts (None: not affine in them).

    Args:
        game: A symmetric game.
        pref: The preference.
        own: The evaluator's actions in the actual profile.
        rest: The others' actions in the actual profile.
        universal: The universalised profile (evaluator's actions, others' actions).
        actions: Every action symbol used (the Kantian weights must not depend on them).
        params: Parameter values (default: symbols).
    """
    actual, universe = _symmetric_contexts(game, own=own, rest=rest, params=params, universal=universal)
    return _split(pref, actual, universe, actions)


def _count_contexts(
    game: GameIR,
    *,
    own: Actions,
    others: Sequence[tuple[Actions, int]],
    params: dict[str, sp.Expr] | None,
    universal: tuple[Actions, Sequence[tuple[Actions, int]]] | None,
) -> tuple[PreferenceContext, Universe]:
    assert game.group is not None
    group = game.group
    low = game.lowerer(params)
    n = _group_size(game, low.params)
    prof, me = count_profile(group, n, own, list(others))
    uown, uothers = universal if universal is not None else (own, [(own, n - 1)])

    def universe() -> PreferenceContext:
        uprof, ume = count_profile(group, n, uown, list(uothers))
        return _context(low, uprof, ume, inside=True)

    return _context(low, prof, me), universe


def count_utility(
    game: GameIR,
    pref: PreferenceLowerer,
    *,
    own: Actions,
    others: Sequence[tuple[Actions, int]],
    params: dict[str, sp.Expr] | None,
    universal: tuple[Actions, Sequence[tuple[Actions, int]]] | None = None,
) -> sp.Expr:
    """Utility of one member of a symmetric group game whose others play several kinds of actions.

    Args:
        game: A symmetric group game.
        pref: The preference.
        own: The evaluator's actions.
        others: (actions, how many others play them), adding up to the group size minus one.
        params: Parameter values (numbers: the group size must be known).
        universal: The universalised profile as (evaluator's actions, others' kinds); default:
            everyone plays ``own``.
    """
    actual, universe = _count_contexts(game, own=own, others=others, params=params, universal=universal)
    return _evaluate(pref, actual, universe)


def count_split(
    game: GameIR,
    pref: PreferenceLowerer,
    *,
    own: Actions,
    others: Sequence[tuple[Actions, int]],
    universal: tuple[Actions, Sequence[tuple[Actions, int]]],
    params: dict[str, sp.Expr] | None,
    actions: set[sp.Symbol],
) -> KantianSplit | None:
    """:func:`count_utility` split into its actual and Kantian parts (None: not affine in them).

    Args:
        game: A symmetric group game.
        pref: The preference.
        own: The evaluator's actions in the actual profile.
        others: The others' kinds in the actual profile.
        universal: The universalised profile.
        params: Parameter values.
        actions: Every action symbol used.
    """
    actual, universe = _count_contexts(game, own=own, others=others, params=params, universal=universal)
    return _split(pref, actual, universe, actions)


def _named_contexts(
    game: GameIR,
    *,
    role: str,
    actual: dict[str, Actions],
    universal: dict[str, Actions] | None,
    params: dict[str, sp.Expr] | None,
) -> tuple[PreferenceContext, Universe]:
    low = game.lowerer(params)
    prof = named_profile(actual)
    uni = universal if universal is not None else {r: dict(actual[role]) for r in game.roles}

    def universe() -> PreferenceContext:
        uprof = named_profile(uni)
        return _context(low, uprof, uprof.by_role(role), inside=True)

    return _context(low, prof, prof.by_role(role)), universe


def named_utility(
    game: GameIR,
    pref: PreferenceLowerer,
    *,
    role: str,
    actual: dict[str, Actions],
    universal: dict[str, Actions] | None = None,
    params: dict[str, sp.Expr] | None = None,
) -> sp.Expr:
    """Utility of ``role`` in a simultaneous game of named roles, ``kantian`` by substitution.

    Args:
        game: A game with named roles (symmetric, or declaring ``kantian substitute``, when the
            preference uses ``kantian``).
        pref: The preference.
        role: The evaluator's role.
        actual: role -> actions actually played.
        universal: The universalised profile; default: every role plays ``role``'s actions.
        params: Parameter values (default: symbols).
    """
    ctx, universe = _named_contexts(game, role=role, actual=actual, universal=universal, params=params)
    return _evaluate(pref, ctx, universe)


def named_split(
    game: GameIR,
    pref: PreferenceLowerer,
    *,
    role: str,
    actual: dict[str, Actions],
    universal: dict[str, Actions],
    actions: set[sp.Symbol],
    params: dict[str, sp.Expr] | None = None,
) -> KantianSplit | None:
    """:func:`named_utility` split into its actual and Kantian parts (None: not affine in them).

    Args:
        game: A game with named roles.
        pref: The preference.
        role: The evaluator's role.
        actual: The actual profile.
        universal: The universalised profile.
        actions: Every action symbol used.
        params: Parameter values (default: symbols).
    """
    ctx, universe = _named_contexts(game, role=role, actual=actual, universal=universal, params=params)
    return _split(pref, ctx, universe, actions)


def _nested(f: Callable[[PreferenceContext], sp.Expr]) -> sp.Expr:
    raise LoweringError("`kantian` cannot be nested")


def _role_contexts(
    game: GameIR,
    *,
    role: str,
    actual: dict[str, Actions],
    self_play: dict[str, Actions],
    params: dict[str, sp.Expr] | None,
) -> tuple[PreferenceContext, Callable]:
    low = game.lowerer(params)
    prof = named_profile(actual)
    weights = _role_weights(game, low.params)
    w_me = weights[role]

    def kantian(f: Callable[[PreferenceContext], sp.Expr]) -> sp.Expr:
        sprof = named_profile(self_play)
        return sp.Add(*[weights[r] / w_me * f(_context(low, sprof, sprof.by_role(r), inside=True)) for r in game.roles])

    return _context(low, prof, prof.by_role(role)), kantian


def role_utility(
    game: GameIR,
    pref: PreferenceLowerer,
    *,
    role: str,
    actual: dict[str, Actions],
    self_play: dict[str, Actions],
    params: dict[str, sp.Expr] | None = None,
) -> sp.Expr:
    """Utility of the player in ``role`` (interim: after its role is drawn), role randomisation.

    Args:
        game: A game with named roles.
        pref: The preference.
        role: The evaluator's role.
        actual: role -> actions actually played.
        self_play: role -> actions of the evaluator's own plan in every role (for ``kantian``).
        params: Parameter values (default: symbols).
    """
    ctx, kantian = _role_contexts(game, role=role, actual=actual, self_play=self_play, params=params)
    return pref.value(replace(ctx, kantian=kantian))


def _role_weights(game: GameIR, params: dict[str, sp.Expr]) -> dict[str, sp.Expr]:
    subs = {p.symbol: params[n] for n, p in game.params.items() if n in params}
    return {r: w.xreplace(subs) for r, w in game.role_weights.items()}


def plan_material(
    game: GameIR, *, plan: dict[str, Actions], opponent: dict[str, Actions], params: dict[str, sp.Expr] | None = None
) -> sp.Expr:
    """The ex-ante material payoff ``Pi(p, q) = sum_r w_r * pi_r(p_r, q_-r)`` of plan ``p`` against plan ``q``.

    Args:
        game: A game with named roles.
        plan: role -> actions of the evaluator's plan.
        opponent: role -> actions of the other player's plan.
        params: Parameter values (default: symbols).
    """
    low = game.lowerer(params)
    weights = _role_weights(game, low.params)
    total = sp.Integer(0)
    for r in game.roles:
        actual = {role: dict(opponent[role]) for role in game.roles}
        actual[r] = dict(plan[r])
        prof = named_profile(actual)
        total += weights[r] * low.payoff(prof.by_role(r), prof)
    return total


def _plan_contexts(
    game: GameIR,
    *,
    plan: dict[str, Actions],
    opponent: dict[str, Actions],
    params: dict[str, sp.Expr] | None,
    universal: tuple[dict[str, Actions], dict[str, Actions]] | None,
) -> tuple[PreferenceContext, Universe]:
    def context(p: dict[str, Actions], q: dict[str, Actions], inside: bool) -> PreferenceContext:
        me, other = Token("self", "plan"), Token("other", "plan")
        material = {
            id(me): plan_material(game, plan=p, opponent=q, params=params),
            id(other): plan_material(game, plan=q, opponent=p, params=params),
        }
        return PreferenceContext(
            payoff=lambda t: material[id(t)],
            me=me,
            others=[(other, sp.Integer(1))],
            kantian=_nested if inside else None,
            inside_kantian=inside,
        )

    up, uq = universal if universal is not None else (plan, plan)
    return context(plan, opponent, False), lambda: context(up, uq, True)


def plan_utility(
    game: GameIR,
    pref: PreferenceLowerer,
    *,
    plan: dict[str, Actions],
    opponent: dict[str, Actions],
    params: dict[str, sp.Expr] | None = None,
    universal: tuple[dict[str, Actions], dict[str, Actions]] | None = None,
) -> sp.Expr:
    """The ex-ante utility of plan ``p`` against plan ``q`` in the plan game of a simultaneous role game.

    The preference sees ``payoff(self) = Pi(p, q)``, ``payoff(other) = Pi(q, p)`` and
    ``kantian(X)`` = X at ``(p, p)`` (Alger & Weibull 2013: the ex-ante game is symmetric).

    Args:
        game: A game with named roles and one stage.
        pref: The preference.
        plan: role -> actions of the evaluator's plan.
        opponent: role -> actions of the other player's plan.
        params: Parameter values (default: symbols).
        universal: The universalised pair of plans; default: ``(plan, plan)``.
    """
    actual, universe = _plan_contexts(game, plan=plan, opponent=opponent, params=params, universal=universal)
    return _evaluate(pref, actual, universe)


def plan_split(
    game: GameIR,
    pref: PreferenceLowerer,
    *,
    plan: dict[str, Actions],
    opponent: dict[str, Actions],
    universal: tuple[dict[str, Actions], dict[str, Actions]],
    actions: set[sp.Symbol],
    params: dict[str, sp.Expr] | None = None,
) -> KantianSplit | None:
    """:func:`plan_utility` split into its actual and Kantian parts (None: not affine in them).

    Args:
        game: A game with named roles and one stage.
        pref: The preference.
        plan: The evaluator's plan in the actual profile.
        opponent: The other player's plan.
        universal: The universalised pair of plans.
        actions: Every action symbol used.
        params: Parameter values (default: symbols).
    """
    actual, universe = _plan_contexts(game, plan=plan, opponent=opponent, params=params, universal=universal)
    return _split(pref, actual, universe, actions)


@dataclass(frozen=True)
class KantianSplit:
    """A utility affine in its ``kantian`` terms: ``actual + sum_j weights[j] * X_j(universal)``.

    Attributes:
        actual: The utility with every ``kantian(...)`` term removed (depends on the actual profile).
        universal: The Kantian part (depends on the universalised profile only).
    """

    actual: sp.Expr
    universal: sp.Expr


def _split(
    pref: PreferenceLowerer, actual: PreferenceContext, universe: Universe, actions: set[sp.Symbol]
) -> KantianSplit | None:
    """Lower with every ``kantian(...)`` held as a placeholder; affine in the placeholders with
    weights free of the actions means the utility splits."""
    placeholders: list[tuple[sp.Symbol, Callable[[PreferenceContext], sp.Expr]]] = []

    def hold(f: Callable[[PreferenceContext], sp.Expr]) -> sp.Expr:
        s = sp.Dummy(f"kantian{len(placeholders)}", real=True)
        placeholders.append((s, f))
        return s

    u = pref.value(replace(actual, kantian=hold))
    marks = [s for s, _ in placeholders]
    if not marks:
        return KantianSplit(u, sp.Integer(0))
    try:
        poly = sp.Poly(u, *marks)
    except sp.PolynomialError:
        return None  # a kantian term inside a non-polynomial function (max, if, log, ...)
    weights = [sp.Integer(0)] * len(marks)
    rest = sp.Integer(0)
    for monomial, coeff in poly.terms():
        if sum(monomial) == 0:
            rest = coeff
        elif sum(monomial) > 1 or coeff.free_symbols & actions:
            return None
        else:
            weights[monomial.index(1)] = coeff
    uni = universe()
    kant = sp.Add(*[w * f(uni) for w, (_, f) in zip(weights, placeholders, strict=False)])
    return KantianSplit(rest, kant)
