# Over 600 lines: every check of a game declaration, in the order a declaration reads (players to payoffs).
"""Game checks: players and groups, parameters with their defaults, domains and sweeps, group
sizes, moves and stages, action domains at every swept value, observations, helpers and payoffs.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

from prefc.compiler import ast
from prefc.compiler.check.constants import NotConstant, ValueTooLarge, eval_const
from prefc.compiler.check.expressions import GAME_FUNCS, ExpressionChecker, Scope
from prefc.compiler.check.model import ActionInfo, CheckedGame
from prefc.compiler.check.walk import walk
from prefc.compiler.source import Span
from prefc.numbers import count_text, value_text

__all__ = ["MAX_DOMAIN_COMBOS", "MAX_GROUP_SIZE", "MAX_SWEEP_VALUES", "GameChecker"]

MAX_GROUP_SIZE = 64
MAX_SWEEP_VALUES = 10_000
MAX_DOMAIN_COMBOS = 4096  # swept-value combinations an action's bounds are checked at


class GameChecker(ExpressionChecker):
    """The checks of one game declaration; :meth:`_check_game` builds its :class:`CheckedGame`."""

    _current_game = ""

    def _check_game(self, game: ast.Game) -> CheckedGame | None:
        gname = game.name.name
        self._current_game = gname
        if not game.players:
            self.bag.add(
                "E0306",
                f"game `{gname}` declares no players",
                game.name.span,
                hint="add a line such as `players row, col`",
            )
            return None
        players: dict[str, ast.Player] = {}
        for p in game.players:
            if p.name.name in players:
                self._duplicate("player", p.name, players[p.name.name].name.span)
            else:
                players[p.name.name] = p
        if any(p.is_group for p in players.values()) and len(players) > 1:
            self.bag.add(
                "E0307",
                "an indexed group must be the game's only player declaration",
                game.players_span or game.name.span,
                hint="use either named roles (`players a, b`) or one group (`players member[1..n]`)",
            )
        elif any(p.is_group for p in players.values()) and not game.symmetric:
            group = next(p for p in players.values() if p.is_group)
            self.bag.add(
                "E0307",
                f"the indexed group `{group.name.name}` must be declared `symmetric`",
                group.span,
                hint=f"write `players {group.name.name}[...] symmetric`: members differ only by their index",
            )
        params: dict[str, ast.Param] = {}
        for param in game.params:
            if param.name.name in params:
                self._duplicate("parameter", param.name, params[param.name.name].name.span)
            elif param.name.name in players:
                self._duplicate("name", param.name, players[param.name.name].name.span)
            else:
                params[param.name.name] = param
        defaults = self._check_params(game, params)

        # group sizes
        for p in players.values():
            if p.is_group:
                assert p.lo is not None and p.hi is not None
                self._check_group_size(p, defaults, params)

        # moves and stages
        actions: dict[str, ActionInfo] = {}
        labels: dict[str, str] = {}
        positions: dict[str, int] = {}
        stages: list[list[ast.Move]] = []
        each_name = next(iter(players)) if len(players) == 1 else None
        for move in game.moves:
            if move.then or not stages:
                stages.append([])
            stage = len(stages) - 1
            owners = self._movers(move, players, game)
            if owners is None:
                continue
            for owner in owners:
                key = move.action.name
                if f"{owner}.{key}" in actions:
                    self._duplicate("action", move.action, actions[f"{owner}.{key}"].move.action.span)
                    continue
                if key in params or key in players:
                    self._duplicate("name", move.action, (params.get(key) or players[key]).name.span)
                    continue
                info = ActionInfo(key, owner, stage, move)
                actions[f"{owner}.{key}"] = info
            stages[-1].append(move)
            if isinstance(move.domain, ast.LabelSet):
                seen_labels: dict[str, Span] = {}
                for lab in move.domain.labels:
                    if lab.name in seen_labels:
                        self._duplicate("label", lab, seen_labels[lab.name])
                    seen_labels[lab.name] = lab.span
                    if lab.name in params or lab.name in players:
                        self._duplicate("name", lab, (params.get(lab.name) or players[lab.name]).name.span)
                    elif lab.name in labels and labels[lab.name] != move.action.name:
                        self.bag.add(
                            "E0208",
                            f"label `{lab.name}` belongs to two actions",
                            lab.span,
                            hint="use distinct labels so `==` comparisons are unambiguous",
                        )
                    elif lab.name in positions and positions[lab.name] != len(seen_labels) - 1:
                        self.bag.add(
                            "E0208",
                            f"label `{lab.name}` has another position in another player's `{move.action.name}`",
                            lab.span,
                            hint="list the options of an action of one name in the same order for every player",
                        )
                    labels.setdefault(lab.name, move.action.name)
                    positions.setdefault(lab.name, len(seen_labels) - 1)
                if not move.domain.labels:
                    self.bag.add("E0303", "an action needs at least one option", move.domain.span)
        del each_name
        if not game.moves:
            self.bag.add(
                "E0306",
                f"game `{gname}` declares no moves",
                game.name.span,
                hint="add a line such as `each player chooses move in {a, b}`",
            )

        lets: dict[str, ast.Let] = {}
        for let in game.lets:
            if (
                let.name.name in lets
                or let.name.name in params
                or any(a.name == let.name.name for a in actions.values())
            ):
                first = lets.get(let.name.name) or params.get(let.name.name)
                self._duplicate("name", let.name, first.name.span if first else let.name.span)
            elif let.name.name in GAME_FUNCS or let.name.name in ("payoff", "kantian", "table"):
                self.bag.add(
                    "E0208", f"`{let.name.name}` is a built-in function and cannot be redefined", let.name.span
                )
            else:
                lets[let.name.name] = let
        self._check_helper_cycles(lets)

        checked = CheckedGame(game, players, params, actions, lets, stages, labels, defaults)
        scope = Scope("game", checked)

        # domains of moves (now that actions are known: bounds may use earlier actions)
        for move in game.moves:
            self._check_domain(move, checked, scope, defaults)
            for ref in move.observes:
                self._check_observed(ref, move, checked)
        for let in lets.values():
            inner = scope.child(
                let_params=set(scope.let_params) | {p.name for p in let.params},
                index_vars=set(scope.index_vars) | {p.name for p in let.params},
            )
            self._expect_num(self._expr(let.value, inner), let.value, f"helper `{let.name.name}`")

        self._check_payoffs(checked, scope)
        if game.repeat is not None:
            self._expect_int_const(game.repeat, defaults, "the number of rounds", minimum=1)
        if game.kantian is not None:
            for ident, weight in game.kantian.weights:
                if ident.name not in players:
                    self._unknown("E0205", "player", ident, players)
                self._expect_num(self._expr(weight, scope), weight, "a role weight")
        if game.concept is not None and game.concept.name == "symmetric" and not game.symmetric:
            self.bag.add("E0307", "`solve symmetric` needs a game declared `symmetric`", game.concept.span)
        for belief in game.beliefs:
            self._check_action_ref(belief.ref, checked)
            self._expr(belief.value, scope)
        for name in params:
            if (gname, name) not in self.used_params:
                self.bag.add(
                    "W0401",
                    f"parameter `{name}` is never used",
                    params[name].name.span,
                    hint="remove it, or use it in a payoff or a domain",
                )
        for name in lets:
            if (gname, name) not in self.used_lets:
                self.bag.add("W0403", f"helper `{name}` is never used", lets[name].name.span)
        return checked

    def _check_helper_cycles(self, lets: dict[str, ast.Let]) -> None:
        """Report helpers that use themselves, directly or through other helpers (they never end)."""
        uses: dict[str, list[str]] = {}
        for name, let in lets.items():
            own = {p.name for p in let.params}
            refs = [
                n.func.name if isinstance(n, ast.Call) else n.id
                for n in walk(let.value)
                if isinstance(n, ast.Call) or (isinstance(n, ast.Name) and n.id not in own)
            ]
            uses[name] = [r for r in dict.fromkeys(refs) if r in lets]
        reported: set[str] = set()
        for start in lets:
            if start in reported:
                continue
            parent: dict[str, str] = {}
            stack, seen, last = [start], {start}, None
            while stack and last is None:
                node = stack.pop()
                for nxt in uses[node]:
                    if nxt == start:
                        last = node
                        break
                    if nxt not in seen:
                        seen.add(nxt)
                        parent[nxt] = node
                        stack.append(nxt)
            if last is None:
                continue
            cycle = [last]
            while cycle[-1] != start:
                cycle.append(parent[cycle[-1]])
            cycle.reverse()
            reported.update(cycle)
            self.bag.add(
                "E0307",
                f"helper `{start}` uses itself: {' -> '.join([*cycle, start])}",
                lets[start].name.span,
                hint="helpers cannot be recursive; write the value out",
            )

    def _check_params(self, game: ast.Game, params: dict[str, ast.Param]) -> dict[str, Fraction]:
        defaults: dict[str, Fraction] = {}
        for name, p in params.items():
            try:
                value = eval_const(p.default, defaults)
            except ValueTooLarge:
                self.bag.add(
                    "E0008",
                    f"the default of `{name}` is too large to compute with",
                    p.default.span,
                    label="beyond about 10^300",
                    hint="rescale the parameter",
                )
                continue
            except NotConstant as exc:
                self.bag.add(
                    "E0305",
                    f"the default of `{name}` must be a number or earlier parameters",
                    p.default.span,
                    label=f"`{exc}` is not a known parameter" if str(exc).isidentifier() else "",
                    hint="parameters are defined in order; refer only to earlier ones",
                )
                continue
            defaults[name] = value
            lo_hi = None
            if p.domain is not None:
                try:
                    lo, hi = eval_const(p.domain.lo, defaults), eval_const(p.domain.hi, defaults)
                except NotConstant:
                    self.bag.add("E0305", f"the domain of `{name}` must be numbers", p.domain.span)
                else:
                    if lo > hi:
                        self.bag.add(
                            "E0303",
                            f"domain of `{name}` is empty: {value_text(lo)} > {value_text(hi)}",
                            p.domain.span,
                            hint="write the lower bound first",
                        )
                    else:
                        lo_hi = (lo, hi)
            if lo_hi is not None and not lo_hi[0] <= value <= lo_hi[1]:
                self.bag.add("E0304", f"default {value_text(value)} of `{name}` is outside its domain", p.default.span)
            if p.sweep is not None:
                if p.sweep.values is None:
                    assert p.sweep.lo is not None and p.sweep.hi is not None
                    if p.sweep.lo > p.sweep.hi:
                        self.bag.add(
                            "E0303",
                            f"sweep of `{name}` is empty: {value_text(p.sweep.lo)} > {value_text(p.sweep.hi)}",
                            p.sweep.span,
                        )
                    if p.sweep.step is not None and p.sweep.step <= 0:
                        self.bag.add("E0303", "a sweep step must be positive", p.sweep.span)
                        continue
                    count = (p.sweep.hi - p.sweep.lo) // (p.sweep.step or 1) + 1
                    if count > MAX_SWEEP_VALUES:
                        self.bag.add(
                            "E0310",
                            f"sweep of `{name}` has {count_text(count)} values; a sweep has at most "
                            f"{MAX_SWEEP_VALUES:,}",
                            p.sweep.span,
                            hint="use a larger `step` or fewer values",
                        )
                        continue
                points = p.sweep.points()
                if isinstance(p.domain, ast.IntRange) and any(v.denominator != 1 for v in points):
                    self.bag.add("E0304", f"`{name}` is an integer parameter; its sweep has fractions", p.sweep.span)
                if lo_hi is not None:
                    bad = [v for v in points if not lo_hi[0] <= v <= lo_hi[1]]
                    if bad:
                        self.bag.add(
                            "E0304",
                            f"sweep value {value_text(bad[0])} of `{name}` is outside its domain "
                            f"[{value_text(lo_hi[0])}, {value_text(lo_hi[1])}]",
                            p.sweep.span,
                            hint="narrow the sweep or widen the domain",
                        )
        return defaults

    def _sweep_values(self, params: dict[str, ast.Param], name: str, defaults: dict[str, Fraction]) -> list[Fraction]:
        p = params.get(name)
        if p is None:
            return []
        pts = p.sweep.points() if p.sweep is not None else []
        return pts or ([defaults[name]] if name in defaults else [])

    def _check_group_size(self, p: ast.Player, defaults, params) -> None:
        assert p.lo is not None and p.hi is not None
        names = [n.id for n in walk(p.hi) if isinstance(n, ast.Name)] + [
            n.id for n in walk(p.lo) if isinstance(n, ast.Name)
        ]
        for n in names:
            if n in params:
                self.used_params.add((self._current_game, n))
        try:
            lo = eval_const(p.lo, defaults)
        except NotConstant:
            self.bag.add("E0305", "group bounds must be numbers or parameters", p.lo.span)
            return
        values = [{**defaults}]
        for n in names:
            for v in self._sweep_values(params, n, defaults):
                values.append({**defaults, n: v})
        for env in values:
            try:
                hi = eval_const(p.hi, env)
            except NotConstant:
                self.bag.add("E0305", "group bounds must be numbers or parameters", p.hi.span)
                return
            if lo.denominator != 1 or hi.denominator != 1:
                self.bag.add(
                    "E0305", f"the size of group `{p.name.name}` must be a whole number, got {value_text(hi)}", p.span
                )
                return
            if hi < lo + 1:
                self.bag.add(
                    "E0303",
                    f"group `{p.name.name}` has fewer than two members ({value_text(lo)}..{value_text(hi)})",
                    p.span,
                    hint="a group needs at least two members",
                )
                return
            if hi - lo + 1 > MAX_GROUP_SIZE:
                self.bag.add(
                    "E0310", f"group `{p.name.name}` has {hi - lo + 1} members; the limit is {MAX_GROUP_SIZE}", p.span
                )
                return

    def _movers(self, move: ast.Move, players: dict[str, ast.Player], game: ast.Game) -> list[str] | None:
        name = move.mover.name
        if move.each:
            if name == "player":
                return list(players)
            if name in players and players[name].is_group:
                return [name]
            if name in players:
                self.bag.add(
                    "E0307",
                    f"`each` needs a group or `player`, and `{name}` is a single player",
                    move.mover.span,
                    hint=f"write `{name} chooses ...`",
                )
                return None
            self._unknown("E0205", "player", move.mover, players, extra=["player"])
            return None
        if name in players:
            return [name]
        self._unknown("E0205", "player", move.mover, players)
        return None

    def _check_domain(self, move: ast.Move, game: CheckedGame, scope: Scope, defaults) -> None:
        dom = move.domain
        if isinstance(dom, ast.LabelSet):
            return
        stage = self._stage_of(move, game)
        names = {info.name for info in game.actions.values()}
        earlier = {info.name for info in game.actions.values() if info.stage < stage}
        earlier_keys = {k for k, info in game.actions.items() if info.stage < stage}
        for bound in (dom.lo, dom.hi) + ((dom.step,) if isinstance(dom, ast.IntRange) and dom.step else ()):
            t = self._expr(bound, scope)
            self._expect_num(t, bound, "a bound")
            for n in walk(bound):
                if (
                    isinstance(n, ast.Attr)
                    and isinstance(n.base, ast.Name)
                    and n.base.id in game.players
                    and f"{n.base.id}.{n.attr.name}" in game.actions
                    and f"{n.base.id}.{n.attr.name}" not in earlier_keys
                ):
                    self.bag.add(
                        "E0302",
                        f"the bound uses `{n.base.id}.{n.attr.name}`, which is not chosen before this move",
                        n.span,
                        hint="bounds may use parameters and actions of earlier stages",
                    )
                if isinstance(n, ast.Name) and n.id in names and n.id not in earlier:
                    self.bag.add(
                        "E0302",
                        f"the bound uses `{n.id}`, which is not chosen before this move",
                        n.span,
                        hint="bounds may use parameters and actions of earlier stages",
                    )
        try:
            lo, hi = eval_const(dom.lo, defaults), eval_const(dom.hi, defaults)
        except NotConstant:
            return
        if lo > hi:
            self.bag.add(
                "E0303",
                f"the domain of `{move.action.name}` is empty: {value_text(lo)} > {value_text(hi)}",
                dom.span,
                hint="write the lower bound first",
            )
            return
        if isinstance(dom, ast.IntRange):
            try:
                step = eval_const(dom.step, defaults) if dom.step is not None else Fraction(1)
            except NotConstant:
                return
            if step <= 0:
                self.bag.add("E0303", "a range step must be positive", dom.step.span if dom.step else dom.span)
                return
            elif lo.denominator != 1 or hi.denominator != 1 or step.denominator != 1:
                self.bag.add(
                    "E0305",
                    "an integer range needs whole-number bounds and step; use `[lo, hi]` for a continuous action",
                    dom.span,
                )
                return
        self._check_domain_at_sweeps(move, game, defaults)

    def _check_domain_at_sweeps(self, move: ast.Move, game: CheckedGame, defaults) -> None:
        """The domain checks of the default point, at every combination of the swept values of the
        parameters its bounds use (a build solves at each of them)."""
        dom = move.domain
        assert not isinstance(dom, ast.LabelSet)  # options have no bounds
        bounds = [dom.lo, dom.hi] + ([dom.step] if isinstance(dom, ast.IntRange) and dom.step is not None else [])
        used = sorted(
            {
                n.id
                for b in bounds
                for n in walk(b)
                if isinstance(n, ast.Name) and n.id in game.params and game.params[n.id].sweep is not None
            }
        )
        if not used:
            return
        values = [game.params[n].sweep.points() for n in used]  # type: ignore[union-attr]  # swept, by `used`
        combos = 1
        for v in values:
            combos *= max(1, len(v))
        if combos > MAX_DOMAIN_COMBOS:
            return  # the work estimate refuses builds this large before solving
        for combo in itertools.product(*values):
            env = {**defaults, **dict(zip(used, combo, strict=False))}
            at = ", ".join(f"{n} = {value_text(v)}" for n, v in zip(used, combo, strict=False))
            try:
                lo, hi = eval_const(dom.lo, env), eval_const(dom.hi, env)
                step = (
                    eval_const(dom.step, env) if isinstance(dom, ast.IntRange) and dom.step is not None else Fraction(1)
                )
            except NotConstant:
                return
            if lo > hi:
                self.bag.add(
                    "E0303",
                    f"the domain of `{move.action.name}` is empty at {at}: {value_text(lo)} > {value_text(hi)}",
                    dom.span,
                    label="a swept parameter value empties it",
                    hint="narrow the sweep, or write bounds that hold at every swept value",
                )
                return
            if isinstance(dom, ast.IntRange):
                if step <= 0:
                    self.bag.add(
                        "E0303",
                        f"the range step of `{move.action.name}` is not positive at {at}",
                        dom.span,
                        hint="narrow the sweep",
                    )
                    return
                if lo.denominator != 1 or hi.denominator != 1 or step.denominator != 1:
                    self.bag.add(
                        "E0305",
                        f"the integer range of `{move.action.name}` has a fractional bound at {at}",
                        dom.span,
                        hint="sweep whole numbers, or use `[lo, hi]`",
                    )
                    return

    @staticmethod
    def _stage_of(move: ast.Move, game: CheckedGame) -> int:
        for i, stage in enumerate(game.stages):
            if any(m is move for m in stage):
                return i
        return 0

    def _check_observed(self, ref: ast.ActionRef, move: ast.Move, game: CheckedGame) -> None:
        info = self._check_action_ref(ref, game)
        if info is None:
            return
        if info.stage >= self._stage_of(move, game):
            self.bag.add(
                "E0302",
                f"`{move.mover.name}` cannot see `{ref.action.name}`: it is not chosen earlier",
                ref.span,
                label="chosen in the same or a later stage",
                hint="start the observing move with `then` so that it comes after",
            )

    def _check_action_ref(self, ref: ast.ActionRef, game: CheckedGame) -> ActionInfo | None:
        if ref.player is not None and ref.player.name not in game.players:
            self._unknown("E0205", "player", ref.player, game.players)
            return None
        candidates = [
            i
            for i in game.actions.values()
            if i.name == ref.action.name and (ref.player is None or i.owner == ref.player.name)
        ]
        if not candidates:
            self._unknown("E0206", "action", ref.action, {i.name for i in game.actions.values()})
            return None
        if len(candidates) > 1:
            owners = sorted(i.owner for i in candidates)
            self.bag.add(
                "E0210",
                f"`{ref.action.name}` is chosen by several players; say whose",
                ref.span,
                hint=f"write e.g. `{owners[0]}.{ref.action.name}`",
            )
            return None
        return candidates[0]

    def _check_payoffs(self, game: CheckedGame, scope: Scope) -> None:
        given: dict[str, ast.Payoff] = {}
        for pay in game.ast.payoffs:
            pname = pay.player.name
            if pname not in game.players:
                self._unknown("E0205", "player", pay.player, game.players)
                continue
            player = game.players[pname]
            if pay.index_var is not None and not player.is_group:
                self.bag.add(
                    "E0307", f"`{pname}` is a single player, not a group: write `payoff {pname} = ...`", pay.span
                )
                continue
            if player.is_group and pay.index_var is None:
                self.bag.add(
                    "E0307", f"`{pname}` is a group: write `payoff {pname}[i] = ...` and use `i`", pay.player.span
                )
                continue
            if pname in given:
                self._duplicate("payoff of", pay.player, given[pname].player.span)
                continue
            given[pname] = pay
            inner = scope
            if pay.index_var is not None:
                inner = scope.child(index_vars=set(scope.index_vars) | {pay.index_var.name})
            self._expect_num(self._expr(pay.value, inner), pay.value, "a payoff")
        missing = [p for p in game.players if p not in given]
        if missing and not (game.ast.symmetric and given):
            for p in missing:
                self.bag.add(
                    "E0301",
                    f"player `{p}` has no payoff",
                    game.players[p].name.span,
                    hint=f"add `payoff {p} = ...`"
                    + ("" if game.ast.symmetric else " or declare the players `symmetric`"),
                )
        if game.ast.symmetric:
            first = next(iter(game.players))
            if given and first not in given and not any(game.players[p].is_group for p in given):
                self.bag.add(
                    "E0301",
                    f"a symmetric game defines the payoff of its first player `{first}`",
                    game.players[first].name.span,
                    hint="the payoffs of the others follow by permutation",
                )
            self._check_symmetric_moves(game)

    def _check_symmetric_moves(self, game: CheckedGame) -> None:
        if game.group is not None:
            return
        owners = {p: sorted((a.name, a.stage) for a in game.actions_of(p)) for p in game.players}
        reference = next(iter(owners.values()))
        for p, acts in owners.items():
            if acts != reference:
                self.bag.add(
                    "E0309",
                    f"players of a symmetric game choose the same actions; `{p}` does not",
                    game.players[p].name.span,
                    hint="use `each player chooses ...` for symmetric moves",
                )
                return
