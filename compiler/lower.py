"""Stage 3a: checked AST expressions -> sympy expressions.

Expressions are built by walking the tree: numbers become exact ``Rational``s, names become the
symbols or values the environment gives them, labels become integer codes. Nothing is ever parsed
from text. The walker is iterative-safe for the sizes the parser admits (nesting is capped there).

Players are represented by *tokens*: a named role (``row``) or, in a symmetric group game, an
anonymous member. A :class:`Profile` says which actions each token plays and who the "others" of a
token are (with multiplicities, so an n-player group where everyone else plays alike costs the same
as two players).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from prefc.compiler import ast
from prefc.compiler.check import CheckedGame


class LoweringError(Exception):
    """An expression uses a construct the symbolic lowering does not support, with its span."""

    def __init__(self, message: str, span=None):
        super().__init__(message)
        self.span = span


def rational(v: Fraction | int) -> sp.Rational:
    """An exact sympy number from a Fraction.

    Args:
        v: The value.
    """
    v = Fraction(v)
    return sp.Rational(v.numerator, v.denominator)


@dataclass(eq=False)
class Token:
    """A player in a profile. Tokens compare by identity: two members are different players even when
    they play alike.

    Attributes:
        name: Display name (``row``, ``member[i]``, ``member[j]``).
        role: The declared player (role or group) this token plays.
        actions: Action name -> value (a sympy expression; label actions hold integer codes).
    """

    name: str
    role: str
    actions: dict[str, sp.Expr] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Token({self.name})"


@dataclass
class Profile:
    """Who plays what: every token, and for each token its others with multiplicities.

    Attributes:
        tokens: The distinct tokens, focal first.
        group_size: Number of members for a group game (a sympy expression), else None.
    """

    tokens: list[Token]
    group_size: sp.Expr | None = None
    _others: dict[int, list[tuple[Token, sp.Expr]]] = field(default_factory=dict)

    def others(self, token: Token) -> list[tuple[Token, sp.Expr]]:
        """The other players of ``token``, as (token, multiplicity) pairs.

        Args:
            token: A token of this profile.
        """
        return self._others[id(token)]

    def set_others(self, token: Token, others: list[tuple[Token, sp.Expr]]) -> None:
        self._others[id(token)] = others

    def by_role(self, role: str) -> Token:
        return next(t for t in self.tokens if t.role == role)


def named_profile(values: dict[str, dict[str, sp.Expr]]) -> Profile:
    """A profile for a game of named roles: every role once, everyone the others of everyone.

    Args:
        values: role -> action -> value.
    """
    tokens = [Token(role, role, dict(acts)) for role, acts in values.items()]
    prof = Profile(tokens)
    for t in tokens:
        prof.set_others(t, [(o, sp.Integer(1)) for o in tokens if o is not t])
    return prof


def count_profile(
    group: str, n: sp.Expr, own: dict[str, sp.Expr], others: list[tuple[dict[str, sp.Expr], sp.Expr]]
) -> tuple[Profile, Token]:
    """A profile of a symmetric group game seen from one member: the focal member plays ``own``
    and the others play the listed actions with multiplicities (which add up to ``n - 1``).

    Every listed kind of other player is one representative token with its multiplicity; the
    representative's own others are the focal member, the rest of its kind and the other kinds, so
    its material payoff can be evaluated too (``payoff(other)`` needs it).

    Returns the profile and the focal token.

    Args:
        group: The group's name.
        n: The group size.
        own: The focal member's actions.
        others: (actions, multiplicity) for every kind of other member.
    """
    focal = Token(f"{group}[i]", group, dict(own))
    kinds = [
        (
            Token(f"{group}[{k + 1}]", group, dict(acts)),
            sp.Integer(m) if isinstance(m, int) else m,
            Token(f"{group}[{k + 1}']", group, dict(acts)),
        )
        for k, (acts, m) in enumerate(others)
    ]
    prof = Profile([focal, *(t for t, _, _ in kinds)], group_size=n)
    prof.set_others(focal, [(t, m) for t, m, _ in kinds])
    for t, m, twin in kinds:
        rest = [(t2, m2) for t2, m2, _ in kinds if t2 is not t]
        prof.set_others(t, [(focal, sp.Integer(1)), (twin, m - 1), *rest])
        prof.set_others(twin, [(focal, sp.Integer(1)), (t, m - 1), *rest])
    return prof, focal


def group_profile(
    group: str, n: sp.Expr, own: dict[str, sp.Expr], rest: dict[str, sp.Expr]
) -> tuple[Profile, Token, Token]:
    """A profile of a symmetric group game seen from one member: the focal member plays ``own`` and
    the n - 1 others all play ``rest``.

    Returns the profile, the focal token and a representative other token. The others of the
    representative are the focal member and n - 2 further members playing ``rest``.

    Args:
        group: The group's name.
        n: The group size.
        own: The focal member's actions.
        rest: Every other member's actions.
    """
    focal = Token(f"{group}[i]", group, dict(own))
    other = Token(f"{group}[j]", group, dict(rest))
    third = Token(f"{group}[k]", group, dict(rest))
    prof = Profile([focal, other, third], group_size=n)
    prof.set_others(focal, [(other, n - 1)])
    prof.set_others(other, [(focal, sp.Integer(1)), (third, n - 2)])
    prof.set_others(third, [(focal, sp.Integer(1)), (other, n - 2)])
    return prof, focal, other


class ExprLowerer:
    """Lowers game expressions (payoffs, bounds, helpers) for one game.

    Args:
        game: The checked game.
        params: Parameter name -> sympy value (a symbol, or a number at a parameter point).
    """

    def __init__(self, game: CheckedGame, params: dict[str, sp.Expr]):
        self.game = game
        self.params = params
        self.label_code: dict[str, int] = {}
        for info in game.actions.values():
            for code, label in enumerate(info.labels):
                self.label_code[label] = code

    # -- payoffs -------------------------------------------------------------------
    def payoff(self, token: Token, profile: Profile) -> sp.Expr:
        """The material payoff of ``token`` in ``profile``.

        Args:
            token: Whose payoff.
            profile: Everyone's actions.
        """
        game = self.game
        group = game.group
        if group is not None:
            pay = game.ast.payoffs[0]
            assert pay.index_var is not None
            return self.expr(pay.value, profile, {pay.index_var.name: token})
        by_player = {p.player.name: p for p in game.ast.payoffs}
        if token.role in by_player:
            return self.expr(by_player[token.role].value, profile, {})
        # symmetric named game: the first player's payoff with the two roles exchanged
        first = next(iter(game.players))
        swapped = _swap_roles(profile, first, token.role)
        return self.expr(by_player[first].value, swapped, {})

    # -- expressions -----------------------------------------------------------------
    def expr(self, e, profile: Profile | None, bound: dict[str, object]):
        """Lower an expression.

        Args:
            e: The AST expression.
            profile: The actions in play (None for bounds that use only parameters).
            bound: Variables bound by payoff indices, binders and helper arguments.
        """
        low = lambda x: self.expr(x, profile, bound)  # noqa: E731
        if isinstance(e, ast.Number):
            return rational(e.value)
        if isinstance(e, ast.Name):
            return self._name(e, profile, bound)
        if isinstance(e, ast.BinOp):
            a, b = _number(low(e.left), e.left), _number(low(e.right), e.right)
            return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b, "^": lambda: a**b}[
                e.op
            ]()
        if isinstance(e, ast.Neg):
            return -_number(low(e.operand), e.operand)
        if isinstance(e, ast.Compare):
            a, b = low(e.left), low(e.right)
            if isinstance(a, Token) or isinstance(b, Token):
                if e.op not in ("==", "!="):
                    raise LoweringError(
                        "members of a symmetric group have no order: compare them with `==` or `!=` only", e.span
                    )
                same = a is b
                return sp.true if (same if e.op == "==" else not same) else sp.false
            rel = {"==": sp.Eq, "!=": sp.Ne, "<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge}[e.op]
            return rel(a, b)
        if isinstance(e, ast.BoolOp):
            a, b = low(e.left), low(e.right)
            return sp.And(a, b) if e.op == "and" else sp.Or(a, b)
        if isinstance(e, ast.Not):
            return sp.Not(low(e.operand))
        if isinstance(e, ast.IfExpr):
            cond = low(e.cond)
            if cond is sp.true:
                return low(e.then)
            if cond is sp.false:
                return low(e.orelse)
            return sp.Piecewise((low(e.then), cond), (low(e.orelse), True))
        if isinstance(e, ast.Table):
            keys = [low(k) for k in e.keys]
            pieces = []
            for row in e.rows:
                conds = [sp.Eq(k, self.label_code[lab.name]) for k, lab in zip(keys, row.labels, strict=False)]
                cond = sp.And(*conds)
                if cond is sp.true:
                    return low(row.value)
                if cond is not sp.false:
                    pieces.append((low(row.value), cond))
            if not pieces:
                raise LoweringError("no table row matches", e.span)
            pieces[-1] = (pieces[-1][0], True)
            return sp.Piecewise(*pieces)
        if isinstance(e, ast.Attr):
            return self._attr(e, profile, bound)
        if isinstance(e, ast.Index):
            return self._index_token(e, profile, bound)
        if isinstance(e, ast.Call):
            return self._call(e, profile, bound)
        raise LoweringError(f"cannot lower {type(e).__name__}", getattr(e, "span", None))

    def _name(self, e: ast.Name, profile, bound):
        if e.id in bound:
            return bound[e.id]
        if e.id in self.params:
            return self.params[e.id]
        if e.id in self.label_code:
            return sp.Integer(self.label_code[e.id])
        if e.id in self.game.lets:
            return self.expr(self.game.lets[e.id].value, profile, bound)
        if profile is not None:
            owners = [t for t in profile.tokens if e.id in t.actions and t.role == self._owner(e.id)]
            if owners:
                return owners[0].actions[e.id]
        raise LoweringError(f"`{e.id}` has no value here", e.span)

    def _owner(self, action: str) -> str:
        return next(i.owner for i in self.game.actions.values() if i.name == action)

    def _index_token(self, e: ast.Index, profile, bound) -> Token:
        idx = self.expr(e.index, profile, bound)
        if isinstance(idx, Token):
            return idx
        raise LoweringError(
            "members can only be indexed by the payoff's index or a `j in group` variable in a symmetric group game",
            e.span,
        )

    def _attr(self, e: ast.Attr, profile: Profile | None, bound):
        if profile is None:
            raise LoweringError("actions are not available here", e.span)
        base = e.base
        if isinstance(base, ast.Index):
            token = self._index_token(base, profile, bound)
            return token.actions[e.attr.name]
        assert isinstance(base, ast.Name)
        if base.id in bound and isinstance(bound[base.id], Token):
            return bound[base.id].actions[e.attr.name]
        player = self.game.players[base.id]
        if player.is_group:
            return _GroupVector(base.id, e.attr.name)
        return profile.by_role(base.id).actions[e.attr.name]

    def _members(self, profile: Profile, bound) -> list[tuple[Token, sp.Expr]]:
        """Every member of the group with multiplicities, seen from the bound payoff owner."""
        me = next((v for v in bound.values() if isinstance(v, Token)), profile.tokens[0])
        return [(me, sp.Integer(1)), *profile.others(me)]

    def _call(self, e: ast.Call, profile, bound):
        f = e.func.name
        if f in self.game.lets:
            let = self.game.lets[f]
            args = [self.expr(a, profile, bound) for a in e.args]
            return self.expr(
                let.value, profile, {**bound, **{p.name: v for p, v in zip(let.params, args, strict=False)}}
            )
        if len(e.args) == 1 and isinstance(e.args[0], ast.Binder):
            return self._aggregate(f, e.args[0], profile, bound)
        args = [self.expr(a, profile, bound) for a in e.args]
        if len(args) == 1 and isinstance(args[0], _GroupVector):
            vec = args[0]
            terms = [(t.actions[vec.action], m) for t, m in self._members(profile, bound)]
            return _reduce(f, terms, e.span)
        if f == "abs":
            return sp.Abs(args[0])
        if f == "exp":
            return sp.exp(args[0])
        if f == "log":
            return sp.log(args[0])
        if f == "sqrt":
            return sp.sqrt(args[0])
        if f == "min":
            return sp.Min(*args)
        if f == "max":
            return sp.Max(*args)
        raise LoweringError(f"unknown function `{f}`", e.span)

    def _aggregate(self, f: str, b: ast.Binder, profile, bound):
        terms = []
        for token, mult in self._members(profile, bound):
            inner = {**bound, b.var.name: token}
            if b.where is not None:
                cond = self.expr(b.where, profile, inner)
                if cond is sp.false:
                    continue
                if cond is not sp.true:
                    raise LoweringError("a `where` filter must compare members (e.g. `j != i`)", b.where.span)
            terms.append((self.expr(b.body, profile, inner), mult))
        return _reduce(f, terms, b.span)


@dataclass(frozen=True)
class _GroupVector:
    """``member.give``: every member's action, to be reduced by sum/mean/min/max."""

    group: str
    action: str


def _number(v, node):
    """A lowered value that must be a number (a member of a symmetric group is not one)."""
    if isinstance(v, (Token, _GroupVector, str)):
        raise LoweringError(
            "a member of a symmetric group is not a number: the members are interchangeable, so a "
            "payoff cannot depend on an index's value (use `j != i` to tell members apart)",
            getattr(node, "span", None),
        )
    return v


def _reduce(f: str, terms: list[tuple[sp.Expr, sp.Expr]], span) -> sp.Expr:
    if any(isinstance(v, (Token, _GroupVector)) for v, _ in terms):
        raise LoweringError(
            "a member of a symmetric group is not a number: sum and mean take numbers such as `member[j].give`", span
        )
    terms = [(v, m) for v, m in terms if m != 0]
    if not terms:
        return sp.Integer(0)
    if f == "sum":
        return sp.Add(*[v * m for v, m in terms])
    if f == "mean":
        return sp.Add(*[v * m for v, m in terms]) / sp.Add(*[m for _, m in terms])
    if f == "min":
        return sp.Min(*[v for v, _ in terms])
    if f == "max":
        return sp.Max(*[v for v, _ in terms])
    raise LoweringError(f"`{f}` cannot aggregate a group", span)


def _swap_roles(profile: Profile, a: str, b: str) -> Profile:
    """The same profile with roles ``a`` and ``b`` exchanging their actions."""
    if a == b:
        return profile
    values = {t.role: dict(t.actions) for t in profile.tokens}
    values[a], values[b] = values[b], values[a]
    return named_profile(values)


# ----------------------------------------------------------------------------- preferences


@dataclass
class PreferenceContext:
    """How a preference's payoff terms are evaluated for one player.

    Attributes:
        payoff: token -> material payoff in the actual profile.
        me: The evaluating token.
        others: The evaluating token's others with multiplicities.
        kantian: Given a function that evaluates an expression under a payoff map, returns the
            Kantian value (the expression with everyone playing the evaluator's strategy).
        frozen: If set, payoff terms outside ``kantian`` take this constant (role convention).
    """

    payoff: Callable[[Token], sp.Expr]
    me: Token
    others: list[tuple[Token, sp.Expr]]
    kantian: Callable[[Callable[[PreferenceContext], sp.Expr]], sp.Expr] | None = None
    frozen: sp.Expr | None = None
    inside_kantian: bool = False


class PreferenceLowerer:
    """Lowers a preference body given how payoffs and the Kantian operator evaluate.

    Args:
        body: The preference's expression.
        params: Preference parameter name -> value.
    """

    def __init__(self, body, params: dict[str, sp.Expr]):
        self.body = body
        self.params = params

    def value(self, ctx: PreferenceContext) -> sp.Expr:
        """The utility in a context.

        Args:
            ctx: The evaluation context.
        """
        return self._expr(self.body, ctx, {})

    def _expr(self, e, ctx: PreferenceContext, bound):
        low = lambda x: self._expr(x, ctx, bound)  # noqa: E731
        if isinstance(e, ast.Number):
            return rational(e.value)
        if isinstance(e, ast.Name):
            if e.id in bound:
                return bound[e.id]
            if e.id in self.params:
                return self.params[e.id]
            if e.id == "self":
                return ctx.me
            if e.id == "other":
                return "other"
            raise LoweringError(f"`{e.id}` has no value in a preference", e.span)
        if isinstance(e, ast.BinOp):
            a, b = low(e.left), low(e.right)
            return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b, "^": lambda: a**b}[
                e.op
            ]()
        if isinstance(e, ast.Neg):
            return -low(e.operand)
        if isinstance(e, ast.Compare):
            a, b = low(e.left), low(e.right)
            if isinstance(a, Token) or isinstance(b, Token):
                same = a is b
                return sp.true if (same if e.op == "==" else not same) else sp.false
            return {"==": sp.Eq, "!=": sp.Ne, "<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge}[e.op](a, b)
        if isinstance(e, ast.BoolOp):
            return (sp.And if e.op == "and" else sp.Or)(low(e.left), low(e.right))
        if isinstance(e, ast.Not):
            return sp.Not(low(e.operand))
        if isinstance(e, ast.IfExpr):
            cond = low(e.cond)
            if cond is sp.true:
                return low(e.then)
            if cond is sp.false:
                return low(e.orelse)
            return sp.Piecewise((low(e.then), cond), (low(e.orelse), True))
        if isinstance(e, ast.Call):
            f = e.func.name
            if f == "payoff":
                who = low(e.args[0])
                if ctx.frozen is not None and not ctx.inside_kantian:
                    return ctx.frozen
                if who == "other":
                    total = sp.Add(*[ctx.payoff(t) * m for t, m in ctx.others])
                    count = sp.Add(*[m for _, m in ctx.others])
                    return total / count
                return ctx.payoff(who)
            if f == "kantian":
                if ctx.kantian is None:
                    raise LoweringError("this game has no Kantian counterpart", e.span)
                arg = e.args[0]
                return ctx.kantian(lambda c: self._expr(arg, c, bound))
            if len(e.args) == 1 and isinstance(e.args[0], ast.Binder):
                b = e.args[0]
                terms = []
                for token, mult in ctx.others:
                    inner = {**bound, b.var.name: token}
                    if b.where is not None:
                        cond = self._expr(b.where, ctx, inner)
                        if cond is sp.false:
                            continue
                    terms.append((self._expr(b.body, ctx, inner), mult))
                return _reduce(f, terms, b.span)
            args = [low(a) for a in e.args]
            fn = {"abs": sp.Abs, "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "min": sp.Min, "max": sp.Max}.get(f)
            if fn is None:
                raise LoweringError(f"unknown function `{f}`", e.span)
            return fn(*args)
        raise LoweringError(f"cannot lower {type(e).__name__} in a preference", getattr(e, "span", None))
