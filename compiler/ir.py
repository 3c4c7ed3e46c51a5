"""Stage 3: the sympy IR of a checked spec.

A :class:`GameIR` knows a game's parameters as sympy symbols, its actions with their domains, and
turns (preference, player) pairs into utility expressions. Two Kantian conventions exist:

``substitute`` (default for symmetric games)
    ``kantian(X)`` is ``X`` with every other player's actions replaced by the evaluator's own:
    ``u = (1 - kappa) * pi(x, y) + kappa * pi(x, x)`` for homo moralis.

``roles`` (default when roles differ; Alger & Weibull 2013)
    Roles are assigned at random (with the ``kantian roles r: w, ...`` weights, uniform by default),
    a strategy is a plan for every role, and the Kantian payoff is the expected payoff when every
    role is played by the evaluator's own plan. The evaluator in role ``r`` maximises its ex-ante
    utility divided by the probability ``w_r`` of its role, so ``payoff(self)`` stays the payoff
    of the role it holds and ``kantian(X) = sum_rho (w_rho / w_r) * X_rho``. With two equally likely
    roles, ``kantian(payoff(self))`` is the sum of both roles' payoffs under self-play.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import sympy as sp

from prefc.compiler import ast
from prefc.compiler.check import CheckedGame, CheckedPreference, CheckedSpec, PreferencePoint, eval_const
from prefc.compiler.exact import compile_exact
from prefc.compiler.limits import GameTooLarge
from prefc.compiler.lower import ExprLowerer, PreferenceLowerer, named_profile, rational


@dataclass(frozen=True)
class ParamIR:
    """A game parameter: its symbol, default, swept values and domain."""

    name: str
    symbol: sp.Symbol
    default: Fraction
    sweep: tuple[Fraction, ...]
    integer: bool

    @property
    def values(self) -> tuple[Fraction, ...]:
        """The values the parameter takes in builds (the sweep, else the default)."""
        return self.sweep or (self.default,)


@dataclass(frozen=True)
class ActionIR:
    """One action: who chooses it, when, among what.

    Attributes:
        owner: The role (or group) choosing it.
        name: The action's name.
        kind: ``labels``, ``integers`` or ``interval``.
        labels: The options of a ``labels`` action.
        lo, hi, step: Bounds (sympy expressions in parameters and earlier actions).
        stage: 0-based stage.
        observes: Names of the earlier actions the mover sees.
    """

    owner: str
    name: str
    kind: str
    labels: tuple[str, ...]
    lo: sp.Expr | None
    hi: sp.Expr | None
    step: sp.Expr | None
    stage: int
    observes: tuple[str, ...]

    @property
    def key(self) -> str:
        """The action's identity in the game: ``owner.name`` (two roles may share an action name)."""
        return f"{self.owner}.{self.name}"

    @property
    def symbol(self) -> sp.Symbol:
        """The symbol standing for this action in bounds and utilities (named by :attr:`key`)."""
        return sp.Symbol(self.key, real=True)

    @property
    def finite(self) -> bool:
        return self.kind != "interval"

    @cached_property
    def _compiled_bounds(self) -> tuple:
        """The bounds and step compiled to exact closures, once per action (kept on the action
        itself: a table keyed by ``id()`` would hand a later action, built where a collected one
        lived, the old action's bounds)."""
        return tuple(compile_exact(e) if e is not None else None for e in (self.lo, self.hi, self.step))

    def options(
        self, values: dict[sp.Symbol, sp.Expr], earlier: dict[str, sp.Expr] | None = None, *, limit: int = 10_000
    ) -> list[sp.Expr]:
        """The options at a parameter point (label codes for labels), for finite actions.

        Args:
            values: Parameter symbol -> value.
            earlier: Earlier actions' values (for bounds that depend on them).
            limit: The most options enumerated before :class:`GameTooLarge`.
        """
        if self.kind == "labels":
            return [sp.Integer(i) for i in range(len(self.labels))]
        compiled = self._compiled_bounds
        env = {k: _fraction(v) for k, v in values.items()}
        env.update({sp.Symbol(k, real=True): _fraction(v) for k, v in (earlier or {}).items()})
        # earlier actions are named by key (``owner.name``) in bounds
        lo, hi = compiled[0](env), compiled[1](env)
        step = compiled[2](env) if compiled[2] is not None else Fraction(1)
        if not all(isinstance(v, Fraction) for v in (lo, hi, step)):
            raise ValueError(f"the bounds of `{self.name}` must be exact numbers for a finite action")
        count = int((hi - lo) // step) + 1
        if count > limit:
            raise GameTooLarge(
                f"action `{self.name}` has {count:,} options at this point; finite actions are limited to {limit:,}"
            )
        return [sp.Rational(v.numerator, v.denominator) for v in (lo + i * step for i in range(max(count, 0)))]

    def display(self, value: sp.Expr):
        """A JSON-friendly value: the label for label actions, else an int or float."""
        if self.kind == "labels":
            return self.labels[int(value)]
        return to_plain(value)


def _fraction(v) -> Fraction:
    if isinstance(v, Fraction):
        return v
    if isinstance(v, sp.Rational):
        return Fraction(int(v.p), int(v.q))
    return Fraction(v)


def to_plain(value) -> int | float | None:
    """A JSON-friendly number: ints stay ints, other exact values become floats, infinities None.

    Args:
        value: A sympy or Python number.
    """
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return value
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    if isinstance(value, sp.Basic) and value.is_Integer:
        return int(value)
    if isinstance(value, str):  # never parse text into a number here
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if f != f or f in (float("inf"), float("-inf")):
        return None
    return f


def action_value(value) -> int | float:
    """:func:`to_plain` of a chosen action's value, which is a finite number.

    Args:
        value: A sympy or Python number.

    Raises:
        ValueError: if it is not finite.
    """
    plain = to_plain(value)
    if plain is None:
        raise ValueError(f"an action's value is not a finite number: {value}")
    return plain


@dataclass
class GameIR:
    """The IR of one game.

    Attributes:
        checked: The checked game it lowers.
        params: Parameters in declaration order.
        actions: Actions in stage order.
        roles: Named roles (empty for a group game).
        group: The group's name for an indexed-group game.
        group_size: The group size as a sympy expression of the parameters.
    """

    checked: CheckedGame
    params: dict[str, ParamIR]
    actions: list[ActionIR]
    roles: list[str]
    group: str | None
    group_size: sp.Expr | None
    role_weights: dict[str, sp.Expr]
    rounds: int | None

    @property
    def name(self) -> str:
        return self.checked.name

    @property
    def title(self) -> str:
        return self.checked.title

    @property
    def symmetric(self) -> bool:
        return self.checked.ast.symmetric

    @property
    def kantian_mode(self) -> str:
        return self.checked.kantian_mode

    @property
    def n_stages(self) -> int:
        return max((a.stage for a in self.actions), default=0) + 1

    @cached_property
    def symbols(self) -> dict[str, sp.Symbol]:
        return {name: p.symbol for name, p in self.params.items()}

    def defaults(self) -> dict[str, Fraction]:
        """Every parameter at its default."""
        return {n: p.default for n, p in self.params.items()}

    def lowerer(self, params: dict[str, sp.Expr] | None = None) -> ExprLowerer:
        """An expression lowerer with parameters as symbols (or the given values).

        Args:
            params: Parameter name -> value; missing ones stay symbols.
        """
        values = {n: p.symbol for n, p in self.params.items()}
        values.update(params or {})
        return ExprLowerer(self.checked, values)

    def movers(self, stage: int) -> list[ActionIR]:
        return [a for a in self.actions if a.stage == stage]

    def action(self, owner: str, name: str) -> ActionIR:
        """The action ``name`` chosen by ``owner`` (a role or the group).

        Args:
            owner: The role (or group) choosing it.
            name: The action's name.
        """
        for a in self.actions:
            if a.owner == owner and a.name == name:
                return a
        raise KeyError(f"game `{self.name}`: `{owner}` has no action `{name}`")

    def action_by_key(self, key: str) -> ActionIR:
        """The action whose :attr:`ActionIR.key` is ``key`` (``owner.name``).

        Args:
            key: The action's key.
        """
        for a in self.actions:
            if a.key == key:
                return a
        raise KeyError(f"game `{self.name}` has no action `{key}`")

    def action_label(self, action: ActionIR) -> str:
        """How derivations and prompts name an action: its bare name when no other player of a
        game with distinct roles chooses one of that name, else ``owner.name``.

        Args:
            action: One of the game's actions.
        """
        if self.group is not None or self.symmetric:
            return action.name
        shared = sum(1 for a in self.actions if a.name == action.name)
        return action.name if shared == 1 else action.key

    def describe_kantian(self) -> str:
        """One sentence on the Kantian convention this game uses."""
        if self.kantian_mode == "substitute":
            return (
                "substitution: kantian(X) is X with every other player's strategy replaced by the "
                "evaluator's own (symmetric game)"
            )
        weights = ", ".join(f"{r}: {self.role_weights[r]}" for r in self.roles)
        return (
            "role randomisation (Alger & Weibull 2013): roles drawn with weights "
            f"{weights}; kantian(X) is the expected X when every role is played by the evaluator's own "
            "plan, scaled by the probability of the evaluator's role"
        )


# ----------------------------------------------------------------------------- preferences applied


@dataclass(frozen=True)
class BoundPreference:
    """A preference at a parameter point, ready to evaluate."""

    point: PreferencePoint
    checked: CheckedPreference

    @property
    def label(self) -> str:
        return self.point.label

    @cached_property
    def lowerer(self) -> PreferenceLowerer:
        values = {k: rational(v) for k, v in self.point.values}
        for k, default in self.checked.defaults.items():
            if k not in values and default is not None:
                values[k] = rational(default)
        return PreferenceLowerer(self.checked.ast.body, values)

    @cached_property
    def symbols(self) -> dict[str, sp.Symbol]:
        """A symbol for each of the preference's parameters (``moralis.kappa``), for utilities built
        once per preference and evaluated at any of its points."""
        return {k: sp.Symbol(f"{self.checked.name}.{k}", real=True) for k in self.checked.defaults}

    @cached_property
    def template(self) -> PreferenceLowerer:
        """The preference with its parameters as :attr:`symbols`, shared by all its points."""
        return PreferenceLowerer(self.checked.ast.body, dict(self.symbols))

    @cached_property
    def env(self) -> dict[sp.Symbol, Fraction]:
        """This point's parameter values, keyed by :attr:`symbols` (defaults for the others)."""
        values = dict(self.point.values)
        for k, default in self.checked.defaults.items():
            if k not in values and default is not None:
                values[k] = default
        return {self.symbols[k]: Fraction(v) for k, v in values.items() if k in self.symbols}

    @property
    def key(self) -> tuple:
        """What utilities built from :attr:`template` are cached under (one per declared preference)."""
        return (self.checked.name, self.checked.origin)

    @cached_property
    def uses_kantian(self) -> bool:
        from prefc.compiler.check import walk

        return any(isinstance(n, ast.Call) and n.func.name == "kantian" for n in walk(self.checked.ast.body))


# ----------------------------------------------------------------------------- lowering a spec


def lower_game(game: CheckedGame) -> GameIR:
    """Lower a checked game to its IR.

    Args:
        game: The checked game.
    """
    params: dict[str, ParamIR] = {}
    for name, p in game.params.items():
        default = game.defaults[name]
        sweep = tuple(p.sweep.points()) if p.sweep is not None else ()
        integer = isinstance(p.domain, ast.IntRange) or (
            default.denominator == 1 and all(v.denominator == 1 for v in sweep) and _used_as_size(game, name)
        )
        params[name] = ParamIR(name, sp.Symbol(name, real=True), default, sweep, integer)
    low = ExprLowerer(game, {n: p.symbol for n, p in params.items()})
    actions: list[ActionIR] = []
    for info in game.actions.values():
        move = info.move
        dom = move.domain
        # bounds may use earlier actions (``back in [0, k * send]``, ``q in [0, leader.q]``): they
        # are lowered against a profile in which every earlier action is its key's symbol
        earlier = [a for a in game.actions.values() if a.stage < info.stage]
        bound_profile = (
            named_profile(
                {
                    r: {a.name: sp.Symbol(f"{a.owner}.{a.name}", real=True) for a in earlier if a.owner == r}
                    for r in game.players
                }
            )
            if game.group is None
            else None
        )
        if isinstance(dom, ast.LabelSet):
            kind, labels, lo, hi, step = "labels", tuple(i.name for i in dom.labels), None, None, None
        else:
            kind = "integers" if isinstance(dom, ast.IntRange) else "interval"
            labels = ()
            lo = low.expr(dom.lo, bound_profile, {})
            hi = low.expr(dom.hi, bound_profile, {})
            step = low.expr(dom.step, bound_profile, {}) if isinstance(dom, ast.IntRange) and dom.step else None
        actions.append(
            ActionIR(
                info.owner,
                info.name,
                kind,
                labels,
                lo,
                hi,
                step,
                info.stage,
                tuple(_observed_key(game, r) for r in move.observes),
            )
        )
    group = game.group
    group_size = None
    if group is not None:
        assert group.lo is not None and group.hi is not None
        group_size = low.expr(group.hi, None, {}) - low.expr(group.lo, None, {}) + 1
    roles = [] if group is not None else list(game.players)
    weights: dict[str, sp.Expr] = {r: sp.Integer(1) for r in roles}
    if game.ast.kantian is not None and game.ast.kantian.weights:
        weights = {r: sp.Integer(0) for r in roles}
        for ident, w in game.ast.kantian.weights:
            weights[ident.name] = low.expr(w, None, {})
    total = sp.Add(*weights.values()) if weights else sp.Integer(1)
    weights = {r: w / total for r, w in weights.items()}
    rounds = int(eval_const(game.ast.repeat, game.defaults)) if game.ast.repeat is not None else None
    return GameIR(
        game,
        params,
        sorted(actions, key=lambda a: a.stage),
        roles,
        group.name.name if group else None,
        group_size,
        weights,
        rounds,
    )


def _observed_key(game: CheckedGame, ref: ast.ActionRef) -> str:
    """The key (``owner.name``) of an observed action (the checker made the reference unambiguous)."""
    owner = (
        ref.player.name
        if ref.player is not None
        else next(i.owner for i in game.actions.values() if i.name == ref.action.name)
    )
    return f"{owner}.{ref.action.name}"


def _used_as_size(game: CheckedGame, name: str) -> bool:
    from prefc.compiler.check import walk

    g = game.group
    return g is not None and any(isinstance(n, ast.Name) and n.id == name for n in walk(g.hi))


@dataclass
class SpecIR:
    """The IR of a whole spec: lowered games plus the checked preferences and builds."""

    spec: CheckedSpec
    games: dict[str, GameIR] = field(default_factory=dict)

    def preference(self, point: PreferencePoint) -> BoundPreference:
        """Bind a preference point to its declaration.

        Args:
            point: The preference with its parameter values.
        """
        return BoundPreference(point, self.spec.preferences[point.name])


def lower_spec(spec: CheckedSpec, *, games: Iterable[str] | None = None) -> SpecIR:
    """Lower the games of a checked spec.

    Args:
        spec: The checked spec.
        games: Lower only these games (a command about one game need not lower the others);
            every game when None.
    """
    names = spec.games if games is None else list(games)
    return SpecIR(spec, {name: lower_game(spec.games[name]) for name in names})
