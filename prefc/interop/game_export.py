"""``prefc export nfg|efg``: a finite prefc game as a Gambit file, at a parameter point.

What is written:

* ``nfg``: a game whose moves are all in one stage (one action per player), as its strategic
  form: every pure profile with one payoff per player;
* ``efg``: any finite game, as its tree: the actions in stage order, each player's information
  sets holding the nodes that agree on every earlier stage (movers of one stage do not see each
  other; prefc's solver treats later stages as seeing every earlier move, and so does the file).

Payoffs are the material payoffs at the point, or with ``preference`` the utilities every player
has under that preference (the payoffs the solver compares). For a preference with ``kantian`` in
a symmetric two-player game the utility of a profile is the substitution convention's
``u(own, other)``; in a game of distinct roles the Kantian term depends on a player's whole plan
(role randomisation), not on the profile played, so such a preference is refused.

The profiles' values are computed from the game's IR (:func:`profile_payoffs`), exactly (sympy
rationals); numbers that are not rational (``exp``, ``log``) are refused. Only finite actions
(labels, integer ranges) can be exported; each decision has at most 200 options and a tree at most
100,000 nodes.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import sympy as sp

from prefc.interop.gambit import ExtensiveGame, Node, StrategicGame, write_efg, write_nfg
from prefc.interop.output import ExportError, write_files
from prefc.numbers import decimal_text

__all__ = ["MAX_NODES", "export_game", "game_form"]

MAX_NODES = 100_000
MAX_OPTIONS = 200


def _exact(value: sp.Expr, where: str) -> Fraction:
    value = sp.nsimplify(value) if not isinstance(value, sp.Rational) else value
    if not isinstance(value, sp.Rational):
        raise ExportError(f"{where} is {value}, not a rational number: Gambit files hold exact numbers here")
    return Fraction(int(value.p), int(value.q))


def _point(game: Any, assignments: list[str]) -> dict[str, Fraction]:
    values = dict(game.defaults())
    for text in assignments:
        name, sep, raw = text.partition("=")
        name = name.strip()
        if not sep or name not in game.params:
            known = ", ".join(game.params) or "none"
            raise ExportError(f"--set {text!r}: expected NAME=VALUE with a parameter of `{game.name}` ({known})")
        try:
            values[name] = Fraction(raw.strip())
        except (ValueError, ZeroDivisionError):
            raise ExportError(f"--set {text!r}: {raw.strip()!r} is not a number") from None
    return values


class _Payoffs:
    """Each role's payoff (material or a preference's utility) of a full assignment of the actions."""

    def __init__(self, spec: Any, ir: Any, game: Any, point: dict[str, Fraction], preference: str | None) -> None:
        from prefc.compiler.solve.utility import role_utility, symmetric_utility

        self.game = game
        self.params = {n: sp.Rational(v.numerator, v.denominator) for n, v in point.items()}
        self.low = game.lowerer(self.params)
        self.pref = None
        self._role_utility, self._symmetric_utility = role_utility, symmetric_utility
        if preference is not None:
            from prefc.compiler.select import SelectionError, select_preferences

            try:
                points = select_preferences(spec, preference)
            except SelectionError as exc:
                raise ExportError(f"--preference {preference!r}:\n{exc}") from None
            if len(points) != 1:
                raise ExportError(f"--preference {preference!r}: give one value of each parameter")
            self.pref = ir.preference(points[0])
            self.label = points[0].label

    def refuse_plans(self, preference: str) -> None:
        """Trees hold profiles, not plans: refuse a Kantian preference in a game of distinct roles."""
        game = self.game
        if self.pref is not None and self.pref.uses_kantian and not (game.symmetric and len(game.roles) == 2):
            raise ExportError(
                f"`{preference}` uses kantian(...) in `{game.name}`, a game of distinct roles: its "
                "utility depends on whole plans (role randomisation), not on the profile played, "
                "which a tree cannot hold; export its plan game as a strategic form "
                "(prefc export nfg) or the material payoffs"
            )

    def __call__(self, values: dict[str, dict[str, sp.Expr]]) -> tuple[Fraction, ...]:
        from prefc.compiler.lower import named_profile

        out = []
        for k, role in enumerate(self.game.roles):
            where = f"the payoff of {role}"
            if self.pref is None:
                prof = named_profile(values)
                out.append(_exact(self.low.payoff(prof.by_role(role), prof), where))
            elif self.pref.uses_kantian:
                other = self.game.roles[1 - k]
                out.append(
                    _exact(
                        self._symmetric_utility(
                            self.game, self.pref.lowerer, own=values[role], rest=values[other], params=self.params
                        ),
                        where,
                    )
                )
            else:
                out.append(
                    _exact(
                        self._role_utility(
                            self.game, self.pref.lowerer, role=role, actual=values, self_play=values, params=self.params
                        ),
                        where,
                    )
                )
        return tuple(out)


def _options(action: Any, subs: dict, earlier: dict[str, sp.Expr]) -> list[sp.Expr]:
    from prefc.compiler.solve.finite import GameTooLarge

    try:
        options = action.options(subs, earlier, limit=MAX_OPTIONS)
    except (GameTooLarge, ValueError) as exc:
        raise ExportError(f"action `{action.name}`: {exc}") from None
    if not options:
        raise ExportError(f"action `{action.name}` has no option at this point")
    return options


def _label(action: Any, value: sp.Expr) -> str:
    shown = action.display(value)
    return str(shown)


def game_form(
    spec: Any, game_name: str, *, fmt: str, assignments: list[str] | None = None, preference: str | None = None
) -> StrategicGame | ExtensiveGame:
    """A finite game of a spec as a Gambit game.

    Args:
        spec: The checked spec.
        game_name: The game.
        fmt: ``nfg`` (strategic form) or ``efg`` (tree).
        assignments: ``NAME=VALUE`` parameter values (the others at their defaults).
        preference: Write this preference's utilities instead of the material payoffs.

    Raises:
        ExportError: An unknown game or parameter, a game prefc cannot write in that form
            (continuous actions, groups, several stages for ``nfg``, too large), a Kantian
            preference in a game of distinct roles, or a payoff that is not rational.
    """
    from prefc.compiler.ir import lower_spec

    ir = lower_spec(spec)
    if game_name not in ir.games:
        raise ExportError(f"no game `{game_name}` in {spec.name}; games: {', '.join(ir.games)}")
    game = ir.games[game_name]
    if game.group is not None:
        raise ExportError(f"`{game_name}` is a group game ({game.group}[...]); Gambit export takes named roles")
    continuous = [a.name for a in game.actions if not a.finite]
    if continuous:
        raise ExportError(f"`{game_name}` has continuous actions ({', '.join(continuous)}); only finite games export")
    point = _point(game, assignments or [])
    payoffs = _Payoffs(spec, ir, game, point, preference)
    subs = {p.symbol: payoffs.params[n] for n, p in game.params.items()}
    actions = sorted(game.actions, key=lambda a: a.stage)
    players = list(game.roles)
    what = f"{game_name} at " + (", ".join(f"{n} = {decimal_text(v)}" for n, v in point.items()) or "its defaults")
    title = f"{game.title or game_name} ({what}; " + (
        f"utilities of {payoffs.label})" if preference else "material payoffs)"
    )
    if fmt == "nfg":
        if game.n_stages != 1:
            raise ExportError(
                f"`{game_name}` has {game.n_stages} stages; a strategic-form .nfg needs one stage "
                "(export it as a tree: prefc export efg)"
            )
        from prefc.compiler.limits import GameTooLarge
        from prefc.compiler.lower import LoweringError
        from prefc.compiler.solve.derive import NonFinite
        from prefc.compiler.solve.tables import normal_form

        try:
            nf = normal_form(game, point, payoffs.pref)
        except (ValueError, GameTooLarge, NonFinite, LoweringError) as exc:
            raise ExportError(f"`{game_name}`: {exc}") from None
        comment = f"exported by prefc from spec {spec.name} (sha256 {spec.sha256})"
        if nf.plan_game:
            comment += "; the players choose plans (one action for every role) before their roles are drawn"
        out = StrategicGame(title, list(nf.players), [[s.text for s in ss] for ss in nf.strategies], {}, comment)
        for prof, values in nf.payoffs.items():
            if any(isinstance(v, float) for v in values):
                raise ExportError(
                    f"the payoffs of `{game_name}` at {prof} are not rational numbers: Gambit files hold "
                    "exact numbers here"
                )
            out.payoffs[prof] = tuple(values)  # type: ignore[arg-type]
        return out
    payoffs.refuse_plans(preference or "")
    count = [0]
    infosets: dict[tuple[int, tuple], int] = {}
    per_player: dict[int, int] = {}

    def build(level: int, chosen: list[sp.Expr]) -> Node:
        count[0] += 1
        if count[0] > MAX_NODES:
            raise ExportError(f"the tree of `{game_name}` has more than {MAX_NODES} nodes")
        if level == len(actions):
            values: dict[str, dict[str, sp.Expr]] = {r: {} for r in players}
            for a, v in zip(actions, chosen, strict=True):
                values[a.owner][a.name] = v
            return Node(
                kind="t",
                payoffs=payoffs(values),
                outcome_name=", ".join(_label(a, v) for a, v in zip(actions, chosen, strict=True)),
            )
        action = actions[level]
        earlier = {}
        for a, v in zip(actions[:level], chosen, strict=True):
            earlier[a.name] = v
            earlier[f"{a.owner}.{a.name}"] = v
        options = _options(action, subs, earlier)
        player = players.index(action.owner) + 1
        seen = tuple((a, v) for a, v in zip(actions[:level], chosen, strict=True) if a.stage < action.stage)
        key = (level, tuple(v for _, v in seen))
        if key not in infosets:
            per_player[player] = per_player.get(player, 0) + 1
            infosets[key] = per_player[player]
        return Node(
            kind="p",
            player=player,
            infoset=infosets[key],
            actions=[_label(action, v) for v in options],
            infoset_name=f"{action.owner}.{action.name}"
            + (" after " + ", ".join(f"{a.name} = {_label(a, v)}" for a, v in seen) if seen else ""),
            children=[build(level + 1, chosen + [v]) for v in options],
        )

    root = build(0, [])
    return ExtensiveGame(title, players, root, f"exported by prefc from spec {spec.name} (sha256 {spec.sha256})")


def export_game(
    spec: Any,
    game_name: str,
    out: str | os.PathLike[str],
    *,
    fmt: str,
    assignments: list[str] | None = None,
    preference: str | None = None,
) -> dict[str, Any]:
    """Write a finite game as a Gambit ``.nfg`` or ``.efg`` file.

    Args:
        spec: The checked spec.
        game_name: The game.
        out: The file to write (its directory is created).
        fmt: ``nfg`` or ``efg``.
        assignments: ``NAME=VALUE`` parameter values.
        preference: Write this preference's utilities instead of the material payoffs.

    Returns:
        ``path``, ``game``, ``what`` (the point and the payoffs written) and ``profiles``.

    Raises:
        ExportError: As :func:`game_form`.
    """
    target = Path(out)
    if target.suffix != f".{fmt}":
        raise ExportError(f"{target}: the output of `prefc export {fmt}` is a .{fmt} file")
    form = game_form(spec, game_name, fmt=fmt, assignments=assignments, preference=preference)
    text = write_nfg(form) if isinstance(form, StrategicGame) else write_efg(form)
    write_files(target.parent, {target.name: text})
    profiles = len(form.payoffs) if isinstance(form, StrategicGame) else sum(1 for n in form.nodes() if n.kind == "t")
    return {"path": str(target), "game": game_name, "what": form.title, "profiles": profiles}
