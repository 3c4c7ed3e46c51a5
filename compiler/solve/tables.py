"""Payoff tables of finite games at a parameter point, for tools that read games in other formats
(Gambit's ``.nfg``/``.efg``, OpenSpiel): every pure profile (or every leaf of the tree) with each
player's material payoff or utility under a preference, exact.

* :func:`normal_form` for one-stage games: the players, their pure strategies and the payoff of
  every profile. With a Kantian preference in a game of distinct roles this is the plan game
  (two ex-ante players choosing plans, :mod:`.strategic`).
* :func:`game_tree` for sequential games: every history in stage order with each role's payoff at
  the leaves (the movers' interim utilities under a preference, :mod:`.utility`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from prefc.compiler import ast
from prefc.compiler.check import CheckedPreference, PreferencePoint
from prefc.compiler.ir import ActionIR, BoundPreference, GameIR
from prefc.compiler.limits import MAX_OPTIONS, MAX_PROFILES, GameTooLarge
from prefc.compiler.solve.derive import exact_value, shown
from prefc.compiler.solve.strategic import Strategy, strategic_form
from prefc.compiler.solve.utility import role_utility

__all__ = ["GameTree", "NormalForm", "game_tree", "material", "normal_form"]


def material() -> BoundPreference:
    """The preference whose utility is the material payoff, ``payoff(self)`` (for payoff tables)."""
    from prefc.compiler.source import SourceFile

    text = "payoff(self)"
    span = SourceFile("<material>", text).span(0, len(text))
    body = ast.Call(span=span, func=ast.Ident(span=span, name="payoff"), args=[ast.Name(span=span, id="self")])
    decl = ast.Preference(span=span, name=ast.Ident(span=span, name="material"), params=[], title=None, body=body)
    return BoundPreference(PreferencePoint("material"), CheckedPreference(decl, "<material>", {}, {}))


@dataclass(frozen=True)
class NormalForm:
    """A one-stage finite game's strategic form.

    Attributes:
        players: The players' names (roles, group members, or the plan game's two players).
        strategies: Each player's pure strategies.
        payoffs: profile (strategy indices) -> every player's payoff.
        plan_game: Whether the players are the ex-ante players of a plan game.
    """

    players: list[str]
    strategies: list[list[Strategy]]
    payoffs: dict[tuple[int, ...], tuple[Fraction | float, ...]]
    plan_game: bool


def normal_form(game: GameIR, point: dict[str, Fraction], pref: BoundPreference | None = None) -> NormalForm:
    """The strategic form of a one-stage finite game with named roles, at a point.

    Args:
        game: The game (one stage, finite actions, named roles).
        point: Every parameter's value.
        pref: The preference (default: material payoffs).

    Raises:
        GameTooLarge: past the option or profile limits.
        ValueError: for a game with several stages or continuous actions.
    """
    if game.n_stages != 1 or not all(a.finite for a in game.actions):
        raise ValueError(f"game `{game.name}` is not a one-stage finite game")
    if game.group is not None:
        raise ValueError(f"game `{game.name}` is a group game: its strategic form has one player per member")
    form = strategic_form(game, pref or material(), point)
    sizes = [len(s) for s in form.strategies]
    payoffs = {}
    for profile in itertools.product(*(range(s) for s in sizes)):
        payoffs[profile] = tuple(form.pure(i, profile) for i in range(form.n))
    return NormalForm(list(form.names), form.strategies, payoffs, form.plan_game)


@dataclass(frozen=True)
class GameTree:
    """A sequential finite game's tree.

    Attributes:
        roles: The roles (payoff order).
        stages: The action of each stage.
        children: history -> the options of the next mover (values; label codes for labels).
        payoffs: full history -> every role's payoff.
    """

    roles: list[str]
    stages: list[ActionIR]
    children: dict[tuple, list[sp.Expr]]
    payoffs: dict[tuple, tuple[Fraction | float, ...]]

    def label(self, stage: int, value: sp.Expr) -> str:
        """How an option is shown.

        Args:
            stage: The stage.
            value: The option.
        """
        return str(shown(self.stages[stage], value))


def game_tree(game: GameIR, point: dict[str, Fraction], pref: BoundPreference | None = None) -> GameTree:
    """Every history of a sequential finite game (one move per stage) with the payoffs at its leaves.

    Args:
        game: The game.
        point: Every parameter's value.
        pref: The preference (default: material payoffs).

    Raises:
        GameTooLarge: past the option or node limits.
        ValueError: for continuous actions or a stage with several movers.
    """
    if any(len(game.movers(s)) != 1 for s in range(game.n_stages)) or not all(a.finite for a in game.actions):
        raise ValueError(f"game `{game.name}` is not a finite game with one move per stage")
    pref = pref or material()
    stages = [game.movers(s)[0] for s in range(game.n_stages)]
    subs = {p.symbol: sp.Rational(point[n].numerator, point[n].denominator) for n, p in game.params.items()}
    params = {n: subs[p.symbol] for n, p in game.params.items()}
    syms = {a.key: a.symbol for a in stages}
    prof: dict[str, dict[str, sp.Expr]] = {r: {} for r in game.roles}
    for a in stages:
        prof[a.owner][a.name] = syms[a.key]
    utilities = {
        r: role_utility(game, pref.lowerer, role=r, actual=prof, self_play=prof, params=params) for r in game.roles
    }
    children: dict[tuple, list[sp.Expr]] = {}
    payoffs: dict[tuple, tuple[Fraction | float, ...]] = {}
    nodes = 0

    def visit(k: int, history: tuple) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > MAX_PROFILES:
            raise GameTooLarge(f"the tree of `{game.name}` has more than {MAX_PROFILES:,} nodes")
        if k == len(stages):
            env = {syms[stages[i].key]: v for i, v in enumerate(history)}
            payoffs[history] = tuple(exact_value(utilities[r].xreplace(env), f"`{r}`") for r in game.roles)
            return
        earlier = {stages[i].key: Fraction(int(v.p), int(v.q)) for i, v in enumerate(history)}
        opts = stages[k].options(subs, earlier, limit=MAX_OPTIONS)
        children[history] = opts
        for o in opts:
            visit(k + 1, history + (o,))

    visit(0, ())
    return GameTree(list(game.roles), stages, children, payoffs)
