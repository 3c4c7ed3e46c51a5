"""The typed abstract syntax tree of a .pref file.

Every node keeps the :class:`~prefc.compiler.source.Span` it came from. Numbers are kept exact
(:class:`fractions.Fraction`, parsed from their decimal text), so ``0.1`` means one tenth.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from prefc.compiler.source import Span


class Node(BaseModel):
    """Base of every AST node."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    span: Span


class Ident(Node):
    """A name as written, with its own span (for carets under exactly the name)."""

    name: str


# ----------------------------------------------------------------------------- expressions


class Number(Node):
    kind: Literal["number"] = "number"
    value: Fraction
    text: str


class Name(Node):
    kind: Literal["name"] = "name"
    id: str


class Attr(Node):
    """``base.name``: an action of a player (``row.move``, ``member[i].give``, ``member.give``)."""

    kind: Literal["attr"] = "attr"
    base: Expr
    attr: Ident


class Index(Node):
    """``group[i]``: a member of an indexed group."""

    kind: Literal["index"] = "index"
    base: Ident
    index: Expr


class Binder(Node):
    """``j in group where cond: body`` inside ``sum``/``mean``/``min``/``max``."""

    kind: Literal["binder"] = "binder"
    var: Ident
    group: Ident
    where: Expr | None = None
    body: Expr


class Call(Node):
    kind: Literal["call"] = "call"
    func: Ident
    args: list[Expr]


class BinOp(Node):
    kind: Literal["binop"] = "binop"
    op: Literal["+", "-", "*", "/", "^"]
    left: Expr
    right: Expr


class Neg(Node):
    kind: Literal["neg"] = "neg"
    operand: Expr


class Compare(Node):
    kind: Literal["compare"] = "compare"
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    left: Expr
    right: Expr


class BoolOp(Node):
    kind: Literal["boolop"] = "boolop"
    op: Literal["and", "or"]
    left: Expr
    right: Expr


class Not(Node):
    kind: Literal["not"] = "not"
    operand: Expr


class IfExpr(Node):
    kind: Literal["if"] = "if"
    cond: Expr
    then: Expr
    orelse: Expr


class TableRow(Node):
    labels: list[Ident]
    value: Expr


class Table(Node):
    """``table(k1, k2) { l1, l2: value; ... }``: a payoff looked up by the keys' labels."""

    kind: Literal["table"] = "table"
    keys: list[Expr]
    rows: list[TableRow]


Expr = Annotated[
    Number | Name | Attr | Index | Binder | Call | BinOp | Neg | Compare | BoolOp | Not | IfExpr | Table,
    Field(discriminator="kind"),
]

for _cls in (Attr, Index, Binder, Call, BinOp, Neg, Compare, BoolOp, Not, IfExpr, TableRow, Table):
    _cls.model_rebuild()


# ----------------------------------------------------------------------------- declarations


class Interval(Node):
    """``[lo, hi]``: a closed interval of reals."""

    kind: Literal["interval"] = "interval"
    lo: Expr
    hi: Expr


class IntRange(Node):
    """``lo..hi step s``: integers from lo to hi inclusive."""

    kind: Literal["int_range"] = "int_range"
    lo: Expr
    hi: Expr
    step: Expr | None = None


class LabelSet(Node):
    """``{a, b, c}``: finitely many named options."""

    kind: Literal["labels"] = "labels"
    labels: list[Ident]


Domain = Annotated[Interval | IntRange | LabelSet, Field(discriminator="kind")]


class Sweep(Node):
    """``vary {..}`` or ``vary lo..hi step s``: the values a parameter takes in builds."""

    values: list[Fraction] | None = None
    lo: Fraction | None = None
    hi: Fraction | None = None
    step: Fraction | None = None

    def points(self) -> list[Fraction]:
        """The swept values, in order."""
        if self.values is not None:
            return list(self.values)
        assert self.lo is not None and self.hi is not None
        step = self.step if self.step is not None else Fraction(1)
        out: list[Fraction] = []
        v = self.lo
        while v <= self.hi and step > 0 and len(out) < 100_000:
            out.append(v)
            v += step
        return out


class Param(Node):
    name: Ident
    domain: Interval | IntRange | None = None
    default: Expr
    sweep: Sweep | None = None


class Player(Node):
    """A named role (``row``) or an indexed group (``member[1..n]``)."""

    name: Ident
    lo: Expr | None = None
    hi: Expr | None = None

    @property
    def is_group(self) -> bool:
        return self.lo is not None


class ActionRef(Node):
    """A reference to an action in ``sees`` and ``belief``: ``offer``, ``row.move``, ``member[i].give``."""

    player: Ident | None = None
    index: Expr | None = None
    action: Ident


class Move(Node):
    """``[then] [each] P [sees ...] chooses a in D``."""

    then: bool
    each: bool
    mover: Ident
    observes: list[ActionRef]
    action: Ident
    domain: Domain


class Payoff(Node):
    player: Ident
    index_var: Ident | None = None
    value: Expr


class Let(Node):
    name: Ident
    params: list[Ident]
    value: Expr


class KantianSetting(Node):
    mode: Literal["substitute", "roles"]
    weights: list[tuple[Ident, Expr]] = []


class Belief(Node):
    ref: ActionRef
    value: Expr


class Game(Node):
    name: Ident
    title: str | None = None
    players: list[Player] = []
    symmetric: bool = False
    params: list[Param] = []
    moves: list[Move] = []
    payoffs: list[Payoff] = []
    lets: list[Let] = []
    repeat: Expr | None = None
    kantian: KantianSetting | None = None
    concept: Ident | None = None
    beliefs: list[Belief] = []
    players_span: Span | None = None


class PrefParam(Node):
    name: Ident
    domain: Interval | None = None
    default: Expr | None = None


class Preference(Node):
    name: Ident
    title: str | None = None
    params: list[PrefParam] = []
    body: Expr


class PrefArg(Node):
    name: Ident
    values: list[Fraction]


class PrefApp(Node):
    """A preference applied to parameter values: ``moralis(kappa = 0.25, 0.5)``."""

    name: Ident
    args: list[PrefArg] = []


class Build(Node):
    """A ``dataset`` or ``rubric`` block."""

    kind: Literal["dataset", "rubric"]
    name: Ident
    preferences: list[PrefApp]
    games: list[Ident] = []
    samples: int | None = None
    samples_per: str = "preference"
    items: int | None = None
    seed: int | None = None
    split: list[tuple[Ident, Fraction]] = []
    template: str | None = None
    paraphrases: int | None = None
    tolerance: Fraction | None = None
    holdout_games: list[Ident] = []
    holdout_where: list[Expr] = []
    holdout_paraphrases: list[int] = []
    select: Ident | None = None
    repeat_rounds: int | None = None
    """``repeat N rounds``: rows are rounds of the repeated market, numbered up to N."""
    repeat_history: int | None = None
    """``history H`` after ``repeat N rounds``: the rounds of history each row shows."""
    settings_spans: dict[str, Span] = {}


class Use(Node):
    path: str


class SpecHeader(Node):
    name: Ident
    title: str | None = None


class File(Node):
    """One parsed .pref file, before imports are resolved."""

    path: str
    header: SpecHeader | None = None
    headers: list[SpecHeader] = []
    uses: list[Use] = []
    preferences: list[Preference] = []
    games: list[Game] = []
    builds: list[Build] = []


class Comment(Node):
    """A ``# ...`` comment: not part of the tree the parser builds, collected on request for tools."""

    text: str
