"""Expression typing: what each name means in a game or a preference, and whether every
operand, condition, table and call is of the kind its place needs (numbers, conditions, labels,
players, groups).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from prefc.compiler import ast
from prefc.compiler.check.constants import NotConstant, eval_const
from prefc.compiler.check.model import ActionInfo, CheckedGame
from prefc.compiler.diagnostics import DiagnosticBag, Note, did_you_mean
from prefc.compiler.source import Span

__all__ = [
    "AGGREGATES",
    "GAME_FUNCS",
    "PREFERENCE_FUNCS",
    "UNARY_FUNCS",
    "VARIADIC_FUNCS",
    "ExprType",
    "ExpressionChecker",
    "Scope",
    "report_unknown",
]

UNARY_FUNCS = {"abs", "exp", "log", "sqrt"}
VARIADIC_FUNCS = {"min", "max"}
AGGREGATES = {"sum", "mean", "min", "max"}
GAME_FUNCS = UNARY_FUNCS | VARIADIC_FUNCS | AGGREGATES
PREFERENCE_FUNCS = GAME_FUNCS | {"payoff", "kantian"}


class ExprType:
    """The kinds an expression can be of (the words diagnostics use)."""

    NUM = "number"
    BOOL = "condition"
    LABEL = "label"
    PLAYER = "player"
    GROUP = "group"
    VECTOR = "vector"
    ANY = "any"


@dataclass
class Scope:
    """Names visible in an expression: what each means."""

    kind: str  # "game" | "preference"
    game: CheckedGame | None = None
    pref_params: set[str] = field(default_factory=set)
    index_vars: set[str] = field(default_factory=set)  # bound member indices (i in payoff member[i], binders)
    player_vars: set[str] = field(default_factory=set)  # preference binders over `others`
    let_params: set[str] = field(default_factory=set)
    in_kantian: bool = False

    def child(self, **changes) -> Scope:
        new = Scope(
            self.kind,
            self.game,
            set(self.pref_params),
            set(self.index_vars),
            set(self.player_vars),
            set(self.let_params),
            self.in_kantian,
        )
        for k, v in changes.items():
            setattr(new, k, v)
        return new


def report_unknown(
    bag: DiagnosticBag,
    code: str,
    kind: str,
    ident: ast.Ident,
    known: Iterable[str],
    *,
    extra: Iterable[str] = (),
    hint: str = "",
    message: str = "",
) -> None:
    """Report a name that is not defined, with the nearest known one as a suggestion.

    Args:
        bag: Where the diagnostic goes.
        code: Its code (``E0201`` ...).
        kind: What the name should be (``player``, ``action``, ...).
        ident: The name as written.
        known: The names of that kind that exist.
        extra: Further names to suggest from.
        hint: A hint instead of the list of known names.
        message: A message instead of ``unknown KIND `NAME```.
    """
    pool = list(known) + list(extra)
    near = did_you_mean(ident.name, pool)
    bag.add(
        code,
        message or f"unknown {kind} `{ident.name}`",
        ident.span,
        label=f"did you mean `{near}`?" if near else "not defined",
        hint=hint or (f"known {kind}s: {', '.join(sorted(pool)[:8])}" if pool else ""),
    )


class ExpressionChecker:
    """Types expressions in a scope, reporting into a diagnostic bag; records which parameters and
    helpers of each game are used (for the unused warnings of the declaration checks)."""

    def __init__(self, bag: DiagnosticBag):
        self.bag = bag
        self.used_params: set[tuple[str, str]] = set()
        self.used_lets: set[tuple[str, str]] = set()

    def _unknown(
        self,
        code: str,
        kind: str,
        ident: ast.Ident,
        known: Iterable[str],
        *,
        extra: Iterable[str] = (),
        hint: str = "",
        message: str = "",
    ) -> None:
        report_unknown(self.bag, code, kind, ident, known, extra=extra, hint=hint, message=message)

    def _duplicate(self, kind: str, ident: ast.Ident, first: Span) -> None:
        self.bag.add(
            "E0208",
            f"{kind} `{ident.name}` is defined twice",
            ident.span,
            label="second definition",
            notes=[Note(first, "first defined here")],
            hint=f"rename one of them; {kind} names must be unique",
        )

    def _expect_num(self, t: str, expr, what: str) -> None:
        if t in (ExprType.NUM, ExprType.ANY):
            return
        self.bag.add(
            "E0305",
            f"{what} must be a number, but this is a {t}",
            expr.span,
            hint="compare labels with `==` inside `if ... then ... else ...` to turn them into numbers"
            if t == ExprType.LABEL
            else "",
        )

    def _expect_int_const(self, expr, defaults, what: str, *, minimum: int) -> None:
        try:
            v = eval_const(expr, defaults)
        except NotConstant:
            self.bag.add("E0305", f"{what} must be a whole number", expr.span)
            return
        if v.denominator != 1 or v < minimum:
            self.bag.add("E0310", f"{what} must be a whole number of at least {minimum}", expr.span)

    def _expr(self, e, scope: Scope) -> str:  # noqa: C901 - one dispatch over node kinds
        game = scope.game
        if isinstance(e, ast.Number):
            return ExprType.NUM
        if isinstance(e, ast.Name):
            return self._name(e, scope)
        if isinstance(e, (ast.BinOp,)):
            for side in (e.left, e.right):
                self._expect_num(self._expr(side, scope), side, f"an operand of `{e.op}`")
            return ExprType.NUM
        if isinstance(e, ast.Neg):
            self._expect_num(self._expr(e.operand, scope), e.operand, "the operand of `-`")
            return ExprType.NUM
        if isinstance(e, ast.Compare):
            lt, rt = self._expr(e.left, scope), self._expr(e.right, scope)
            if ExprType.LABEL in (lt, rt):
                if e.op not in ("==", "!="):
                    self.bag.add("E0305", f"labels can only be compared with `==` or `!=`, not `{e.op}`", e.span)
                elif {lt, rt} - {ExprType.LABEL, ExprType.ANY}:
                    self.bag.add(
                        "E0305",
                        "a label is compared with a number",
                        e.span,
                        hint="compare an action with one of its labels, e.g. `accept == yes`",
                    )
                else:
                    self._check_label_pair(e, game)
            elif lt == ExprType.GROUP or rt == ExprType.GROUP:
                self.bag.add("E0305", "a group cannot be compared", e.span)
            return ExprType.BOOL
        if isinstance(e, ast.BoolOp):
            for side in (e.left, e.right):
                self._expect_bool(self._expr(side, scope), side)
            return ExprType.BOOL
        if isinstance(e, ast.Not):
            self._expect_bool(self._expr(e.operand, scope), e.operand)
            return ExprType.BOOL
        if isinstance(e, ast.IfExpr):
            self._expect_bool(self._expr(e.cond, scope), e.cond)
            a, b = self._expr(e.then, scope), self._expr(e.orelse, scope)
            if ExprType.LABEL in (a, b):
                self.bag.add("E0305", "`if` branches must be numbers", e.span)
            return ExprType.NUM
        if isinstance(e, ast.Table):
            return self._table(e, scope)
        if isinstance(e, ast.Attr):
            return self._attr(e, scope)
        if isinstance(e, ast.Index):
            return self._index(e, scope)
        if isinstance(e, ast.Call):
            return self._call(e, scope)
        if isinstance(e, ast.Binder):
            self.bag.add("E0307", "`j in group: ...` is only allowed inside sum, mean, min or max", e.span)
            return ExprType.NUM
        raise AssertionError(type(e))

    def _expect_bool(self, t: str, expr) -> None:
        if t not in (ExprType.BOOL, ExprType.ANY):
            self.bag.add(
                "E0305",
                f"a condition is needed here, but this is a {t}",
                expr.span,
                hint="write a comparison such as `x > 0` or `accept == yes`",
            )

    def _check_label_pair(self, e: ast.Compare, game: CheckedGame | None) -> None:
        if game is None:
            return
        sides = [e.left, e.right]
        info = next((self._action_of(s, game) for s in sides if self._action_of(s, game)), None)
        label = next((s for s in sides if isinstance(s, ast.Name) and s.id in game.labels), None)
        if info is not None and label is not None and label.id not in info.labels:
            self.bag.add(
                "E0305",
                f"`{label.id}` is not an option of `{info.name}`",
                label.span,
                hint=f"options of `{info.name}`: {', '.join(info.labels)}",
            )

    @staticmethod
    def _action_of(e, game: CheckedGame) -> ActionInfo | None:
        """The action an expression names (``offer``, ``row.move``, ``member[i].give``), by its owner
        when it says one (two roles may choose actions of one name); None for anything else."""
        if isinstance(e, ast.Name):
            found = [i for i in game.actions.values() if i.name == e.id]
            return found[0] if len(found) == 1 else None  # an ambiguous bare name is E0210
        if isinstance(e, ast.Attr):
            base = e.base
            owner = base.id if isinstance(base, ast.Name) else base.base.name if isinstance(base, ast.Index) else None
            if owner is not None:
                return game.actions.get(f"{owner}.{e.attr.name}")
        return None

    def _name(self, e: ast.Name, scope: Scope) -> str:
        name = e.id
        if scope.kind == "preference":
            if name in scope.pref_params:
                return ExprType.NUM
            if name in ("self", "other") or name in scope.player_vars:
                return ExprType.PLAYER
            if name == "others":
                return ExprType.GROUP
            self._unknown(
                "E0201",
                "name",
                ast.Ident(span=e.span, name=name),
                scope.pref_params | {"self", "other"},
                hint="inside a preference: its parameters, `payoff(self)`, `payoff(other)`, "
                "`kantian(...)`, and sums over `others`",
            )
            return ExprType.ANY
        game = scope.game
        assert game is not None
        if name in scope.index_vars or name in scope.let_params:
            return ExprType.NUM
        if name in game.params:
            self.used_params.add((game.name, name))
            return ExprType.NUM
        if name in game.labels:
            return ExprType.LABEL
        if name in game.players:
            return ExprType.GROUP if game.players[name].is_group else ExprType.PLAYER
        if name in game.lets:
            self.used_lets.add((game.name, name))
            if game.lets[name].params:
                self.bag.add(
                    "E0209",
                    f"helper `{name}` takes {len(game.lets[name].params)} argument(s)",
                    e.span,
                    hint=f"write `{name}(...)`",
                )
            return ExprType.NUM
        owners = {i.owner for i in game.actions.values() if i.name == name}
        if owners:
            if len(owners) > 1:
                self.bag.add(
                    "E0210",
                    f"`{name}` is chosen by several players; say whose",
                    e.span,
                    hint=f"write e.g. `{sorted(owners)[0]}.{name}`",
                )
                return ExprType.ANY
            owner = next(iter(owners))
            if game.players[owner].is_group:
                self.bag.add(
                    "E0210",
                    f"`{name}` is chosen by every member of `{owner}`; say whose",
                    e.span,
                    hint=f"write `{owner}[i].{name}` or `sum({owner}.{name})`",
                )
                return ExprType.ANY
            info = next(i for i in game.actions.values() if i.name == name)
            return ExprType.LABEL if info.is_finite_labels else ExprType.NUM
        known = set(game.params) | set(game.labels) | set(game.lets) | {i.name for i in game.actions.values()}
        self._unknown(
            "E0201",
            "name",
            ast.Ident(span=e.span, name=name),
            known,
            hint=f"names in game `{game.name}`: its parameters, actions, labels and helpers",
        )
        return ExprType.ANY

    def _attr(self, e: ast.Attr, scope: Scope) -> str:
        game = scope.game
        if game is None:
            self.bag.add(
                "E0307",
                "actions cannot be named inside a preference",
                e.span,
                hint="preferences see games only through `payoff(...)`",
            )
            return ExprType.ANY
        base = e.base
        if isinstance(base, ast.Name):
            if base.id not in game.players:
                self._unknown("E0205", "player", ast.Ident(span=base.span, name=base.id), game.players)
                return ExprType.ANY
            player = game.players[base.id]
            vector = player.is_group
        elif isinstance(base, ast.Index):
            self._index(base, scope)
            if base.base.name not in game.players:
                return ExprType.ANY
            player, vector = game.players[base.base.name], False
        else:
            self.bag.add("E0305", "only players have actions (`player.action`)", e.span)
            return ExprType.ANY
        acts = [i for i in game.actions.values() if i.owner == player.name.name and i.name == e.attr.name]
        if not acts:
            self._unknown(
                "E0206",
                "action",
                e.attr,
                [i.name for i in game.actions_of(player.name.name)],
                message=f"`{player.name.name}` has no action `{e.attr.name}`",
            )
            return ExprType.ANY
        if vector:
            return ExprType.VECTOR
        return ExprType.LABEL if acts[0].is_finite_labels else ExprType.NUM

    def _index(self, e: ast.Index, scope: Scope) -> str:
        game = scope.game
        if game is None or e.base.name not in game.players or not game.players[e.base.name].is_group:
            known = [p for p, v in game.players.items() if v.is_group] if game else []
            self._unknown("E0205", "group", e.base, known)
            return ExprType.ANY
        self._expect_num(self._expr(e.index, scope), e.index, "an index")
        return ExprType.PLAYER

    def _table(self, e: ast.Table, scope: Scope) -> str:
        game = scope.game
        if game is None:
            self.bag.add("E0307", "`table` is only allowed in games", e.span)
            return ExprType.NUM
        key_labels: list[tuple[str, ...] | None] = []
        for key in e.keys:
            t = self._expr(key, scope)
            if t != ExprType.LABEL and t != ExprType.ANY:
                self.bag.add("E0305", "table keys must be actions with labels", key.span)
                key_labels.append(None)
                continue
            info = self._action_of(key, game)
            key_labels.append(info.labels if info else None)
        seen: dict[tuple[str, ...], Span] = {}
        for row in e.rows:
            if len(row.labels) != len(e.keys):
                self.bag.add("E0209", f"table row has {len(row.labels)} labels for {len(e.keys)} keys", row.span)
                continue
            for lab, labels in zip(row.labels, key_labels, strict=False):
                if labels is not None and lab.name not in labels:
                    self._unknown("E0206", "option", lab, labels)
            combo = tuple(lab.name for lab in row.labels)
            if combo in seen:
                self.bag.add(
                    "E0208",
                    f"table row `{', '.join(combo)}` is given twice",
                    row.span,
                    notes=[Note(seen[combo], "first given here")],
                )
            seen[combo] = row.span
            self._expect_num(self._expr(row.value, scope), row.value, "a table entry")
        if all(k is not None for k in key_labels):
            total = 1
            for k in key_labels:
                total *= len(k or ())
            if len(seen) < total:
                missing = next(c for c in itertools.product(*key_labels) if c not in seen)  # type: ignore[arg-type]
                self.bag.add(
                    "E0306",
                    f"table misses the row `{', '.join(missing)}`",
                    e.span,
                    hint="give a value for every combination of labels",
                )
        return ExprType.NUM

    def _call(self, e: ast.Call, scope: Scope) -> str:
        f = e.func.name
        game = scope.game
        if scope.kind == "game" and game is not None and f in game.lets:
            self.used_lets.add((game.name, f))
            let = game.lets[f]
            if len(e.args) != len(let.params):
                self.bag.add("E0209", f"helper `{f}` takes {len(let.params)} argument(s), got {len(e.args)}", e.span)
            for a in e.args:
                self._expect_num(self._expr(a, scope), a, "an argument")
            return ExprType.NUM
        allowed = PREFERENCE_FUNCS if scope.kind == "preference" else GAME_FUNCS
        if f not in allowed:
            if f in ("payoff", "kantian"):
                self.bag.add(
                    "E0307",
                    f"`{f}(...)` is only allowed inside a preference",
                    e.func.span,
                    hint="game payoffs are material; preferences turn them into utilities",
                )
                return ExprType.NUM
            pool = set(allowed) | (set(game.lets) if game else set())
            self._unknown("E0207", "function", e.func, pool)
            for a in e.args:
                if not isinstance(a, ast.Binder):
                    self._expr(a, scope)
            return ExprType.NUM
        if f == "payoff":
            return self._payoff_call(e, scope)
        if f == "kantian":
            if len(e.args) != 1:
                self.bag.add("E0209", f"`kantian` takes one argument, got {len(e.args)}", e.span)
                return ExprType.NUM
            if scope.in_kantian:
                self.bag.add("E0307", "`kantian` cannot be nested", e.span)
            self._expect_num(self._expr(e.args[0], scope.child(in_kantian=True)), e.args[0], "`kantian`'s argument")
            return ExprType.NUM
        if f in UNARY_FUNCS:
            if len(e.args) != 1 or isinstance(e.args[0], ast.Binder):
                self.bag.add("E0209", f"`{f}` takes one argument, got {len(e.args)}", e.span)
                return ExprType.NUM
            self._expect_num(self._expr(e.args[0], scope), e.args[0], f"`{f}`'s argument")
            return ExprType.NUM
        # aggregates and min/max
        if len(e.args) == 1 and isinstance(e.args[0], ast.Binder):
            return self._binder(e.args[0], scope, f)
        if len(e.args) == 1 and f in AGGREGATES:
            t = self._expr(e.args[0], scope)
            if t == ExprType.GROUP and scope.kind == "preference":
                self.bag.add("E0305", f"write `{f}(j in others: payoff(j))`", e.args[0].span)
            elif t not in (ExprType.VECTOR, ExprType.ANY) and f in ("sum", "mean"):
                self.bag.add(
                    "E0305",
                    f"`{f}` needs a group's action (e.g. `{f}(member.give)`) or `j in group: ...`",
                    e.args[0].span,
                )
            return ExprType.NUM
        if f in ("sum", "mean"):
            self.bag.add("E0209", f"`{f}` takes one argument, got {len(e.args)}", e.span)
            return ExprType.NUM
        if len(e.args) < 2:
            self.bag.add("E0209", f"`{f}` takes at least two arguments, got {len(e.args)}", e.span)
        for a in e.args:
            if isinstance(a, ast.Binder):
                self.bag.add("E0307", "`j in group: ...` must be the only argument", a.span)
                continue
            self._expect_num(self._expr(a, scope), a, f"an argument of `{f}`")
        return ExprType.NUM

    def _binder(self, b: ast.Binder, scope: Scope, f: str) -> str:
        if scope.kind == "preference":
            if b.group.name != "others":
                self.bag.add("E0205", f"inside a preference, `{f}` ranges over `others`", b.group.span)
            inner = scope.child(player_vars=set(scope.player_vars) | {b.var.name})
        else:
            game = scope.game
            assert game is not None
            if b.group.name not in game.players or not game.players[b.group.name].is_group:
                self._unknown("E0205", "group", b.group, [p for p, v in game.players.items() if v.is_group])
            inner = scope.child(index_vars=set(scope.index_vars) | {b.var.name})
        if b.where is not None:
            self._expect_bool(self._expr(b.where, inner), b.where)
        self._expect_num(self._expr(b.body, inner), b.body, f"the body of `{f}`")
        return ExprType.NUM

    def _payoff_call(self, e: ast.Call, scope: Scope) -> str:
        if len(e.args) != 1:
            self.bag.add(
                "E0209", f"`payoff` takes one argument (`self`, `other` or a variable), got {len(e.args)}", e.span
            )
            return ExprType.NUM
        arg = e.args[0]
        if not (isinstance(arg, ast.Name) and (arg.id in ("self", "other") or arg.id in scope.player_vars)):
            self.bag.add("E0305", "`payoff` takes `self`, `other`, or a variable bound over `others`", arg.span)
        if scope.in_kantian and isinstance(arg, ast.Name) and arg.id != "self":
            pass  # everyone's payoff under universalisation is well defined
        return ExprType.NUM
