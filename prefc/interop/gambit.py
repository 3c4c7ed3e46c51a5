"""Gambit's game files: strategic ``.nfg`` and extensive ``.efg``, read and written exactly.

The formats are those of Gambit's documentation ("Game representation formats"), which OpenSpiel's
``load_efg_game`` and pygambit's ``read_nfg``/``read_efg`` also read:

``.nfg``::

    NFG 1 R "title" { "Player 1" "Player 2" } { { "C" "D" } { "C" "D" } }
    "optional comment"
    3 3 0 5 5 0 1 1

  after the players and their strategies (or strategy counts ``{ 2 2 }``), either the payoff
  vectors of every pure profile, the first player's strategy changing fastest, or an outcome list
  ``{ { "name" 3, 3 } ... }`` followed by one outcome number per profile (0: all zero).

``.efg``::

    EFG 2 R "title" { "Player 1" "Player 2" }
    "optional comment"
    p "" 1 1 "" { "L" "R" } 0
    t "" 1 "" { 1, 2 }
    ...

  the nodes in depth-first order: ``c`` chance (``{ "action" probability ... }``), ``p`` personal
  (player, information set, actions) and ``t`` terminal nodes, each with an outcome number (0: none)
  and, where the outcome first appears, its name and payoffs. Payoffs of the outcomes on a path add
  up. An information set's actions may be left out where it appeared before.

Numbers are read exactly (integers, decimals, ``p/q``, exponents) as :class:`fractions.Fraction`.
Errors are :class:`GambitFormatError` with the file, line and column.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from prefc.numbers import fraction_text

__all__ = [
    "ExtensiveGame",
    "GambitFormatError",
    "Node",
    "StrategicGame",
    "parse_efg",
    "parse_game",
    "parse_nfg",
    "to_strategic",
    "write_efg",
    "write_nfg",
]

MAX_PROFILES = 1_000_000
"""The most pure profiles a strategic game may have (reading or converting)."""


class GambitFormatError(ValueError):
    """A file that is not a valid ``.nfg``/``.efg`` game (located at file, line and column)."""

    def __init__(self, message: str, *, source: str = "<game>", line: int = 0, column: int = 0) -> None:
        self.source, self.line, self.column = source, line, column
        where = f"{source}:{line}:{column}" if line else source
        super().__init__(f"{where}: {message}")
        self.message = message


@dataclass
class StrategicGame:
    """A finite game in strategic form.

    Attributes:
        title: The game's title.
        players: Player names, in order.
        strategies: Each player's strategy labels.
        payoffs: Pure profile (one strategy index per player) -> one payoff per player.
        comment: The file's comment.
    """

    title: str
    players: list[str]
    strategies: list[list[str]]
    payoffs: dict[tuple[int, ...], tuple[Fraction, ...]]
    comment: str = ""

    def profiles(self) -> Iterator[tuple[int, ...]]:
        """Every pure profile, the first player's strategy changing fastest (Gambit's order)."""
        for combo in itertools.product(*(range(len(s)) for s in reversed(self.strategies))):
            yield tuple(reversed(combo))

    def pure_equilibria(self) -> list[tuple[int, ...]]:
        """Pure Nash equilibria, by checking every unilateral deviation."""
        out = []
        for prof in self.profiles():
            stable = True
            for i, options in enumerate(self.strategies):
                mine = self.payoffs[prof][i]
                for j in range(len(options)):
                    dev = prof[:i] + (j,) + prof[i + 1 :]
                    if self.payoffs[dev][i] > mine:
                        stable = False
                        break
                if not stable:
                    break
            if stable:
                out.append(prof)
        return out


@dataclass
class Node:
    """A node of a game tree.

    Attributes:
        kind: ``p`` (a player moves), ``c`` (chance) or ``t`` (terminal).
        player: The mover's number (1-based; 0 for chance and terminal nodes).
        infoset: The information set's number (per player; per chance for chance nodes).
        actions: The action labels (personal and chance nodes).
        probabilities: Chance nodes: each action's probability.
        children: One child per action.
        payoffs: The payoffs of the outcome at this node (None: no outcome).
        name: The node's label.
        infoset_name: The information set's label.
        outcome: The outcome's number (0: none).
        outcome_name: The outcome's label.
        line: Where the node is in its file.
    """

    kind: str
    player: int = 0
    infoset: int = 0
    actions: list[str] = field(default_factory=list)
    probabilities: list[Fraction] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    payoffs: tuple[Fraction, ...] | None = None
    name: str = ""
    infoset_name: str = ""
    outcome: int = 0
    outcome_name: str = ""
    line: int = 0


@dataclass
class ExtensiveGame:
    """A finite game tree.

    Attributes:
        title: The game's title.
        players: Player names, in order.
        root: The root node.
        comment: The file's comment.
    """

    title: str
    players: list[str]
    root: Node
    comment: str = ""

    def nodes(self) -> Iterator[Node]:
        """Every node, depth first (the file's order)."""
        stack = [self.root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


# --------------------------------------------------------------------------------------------------
# Reading

_TOKEN = re.compile(r'\s+|"(?:[^"\\]|\\.)*"|[{},]|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?:/\d+)?|[A-Za-z]+')


@dataclass
class _Tok:
    kind: str  # "str", "num", "word", "{", "}", ","
    text: str
    line: int
    column: int


class _Reader:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.toks: list[_Tok] = []
        pos, line, col0 = 0, 1, 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise GambitFormatError(
                    f"unexpected character {text[pos]!r}", source=source, line=line, column=pos - col0 + 1
                )
            tok = m.group(0)
            if not tok[0].isspace():
                if tok[0] == '"':
                    kind, value = "str", re.sub(r"\\(.)", r"\1", tok[1:-1])
                elif tok in "{},":
                    kind, value = tok, tok
                elif tok[0].isalpha():
                    kind, value = "word", tok
                else:
                    kind, value = "num", tok
                self.toks.append(_Tok(kind, value, line, pos - col0 + 1))
            newlines = tok.count("\n")
            if newlines:
                line += newlines
                col0 = pos + tok.rindex("\n") + 1
            pos = m.end()
        self.i = 0

    def error(self, message: str, tok: _Tok | None = None) -> GambitFormatError:
        tok = tok or self.peek()
        if tok is None:
            last = self.toks[-1] if self.toks else _Tok("", "", 1, 1)
            return GambitFormatError(
                f"{message} (the file ends here)", source=self.source, line=last.line, column=last.column
            )
        return GambitFormatError(message, source=self.source, line=tok.line, column=tok.column)

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, kind: str, what: str) -> _Tok:
        tok = self.peek()
        if tok is None or tok.kind != kind:
            raise self.error(f"expected {what}" + (f", found {tok.text!r}" if tok else ""))
        self.i += 1
        return tok

    def at(self, kind: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == kind

    def skip_commas(self) -> None:
        while self.at(","):
            self.i += 1

    def number(self, what: str = "a number") -> Fraction:
        tok = self.take("num", what)
        try:
            return Fraction(tok.text)
        except (ValueError, ZeroDivisionError):
            raise self.error(f"{tok.text!r} is not a number", tok) from None

    def integer(self, what: str) -> int:
        tok = self.peek()
        value = self.number(what)
        if value.denominator != 1 or value < 0:
            raise self.error(f"expected {what}, found {tok.text if tok else ''!r}", tok)
        return int(value)

    def strings(self, what: str) -> list[str]:
        self.take("{", "{")
        out = []
        while not self.at("}"):
            out.append(self.take("str", what).text)
            self.skip_commas()
        self.take("}", "}")
        return out

    def numbers(self, what: str) -> list[Fraction]:
        self.take("{", "{")
        out = []
        while not self.at("}"):
            out.append(self.number(what))
            self.skip_commas()
        self.take("}", "}")
        return out

    def header(self, magic: str, version: str) -> tuple[str, list[str]]:
        tok = self.take("word", f"{magic} (the file's first word)")
        if tok.text != magic:
            raise self.error(f"expected {magic}, found {tok.text!r}", tok)
        ver = self.take("num", "the format version")
        if ver.text != version:
            raise self.error(f"{magic} version {ver.text} is not supported (expected {version})", ver)
        kind = self.take("word", "R or D")
        if kind.text not in ("R", "D"):
            raise self.error(f"expected R or D, found {kind.text!r}", kind)
        title = self.take("str", "the title").text
        players = self.strings("a player name")
        if not players:
            raise self.error("a game needs at least one player")
        return title, players

    def end(self) -> None:
        tok = self.peek()
        if tok is not None:
            raise self.error(f"unexpected {tok.text!r} after the game", tok)


def parse_nfg(text: str, *, source: str = "<game.nfg>") -> StrategicGame:
    """Read a strategic-form game.

    Args:
        text: The ``.nfg`` file's content.
        source: Its name, for error messages.

    Raises:
        GambitFormatError: The text is not a valid ``.nfg`` file (located).
    """
    r = _Reader(text, source)
    title, players = r.header("NFG", "1")
    r.take("{", "the strategy lists")
    strategies: list[list[str]] = []
    while not r.at("}"):
        if r.at("{"):
            labels = r.strings("a strategy label")
        else:
            count = r.integer("a strategy count")
            labels = [str(k + 1) for k in range(count)]
        if not labels:
            raise r.error(f"player {len(strategies) + 1} has no strategy")
        strategies.append(labels)
        r.skip_commas()
    r.take("}", "}")
    if len(strategies) != len(players):
        raise r.error(f"{len(players)} players but {len(strategies)} strategy lists")
    comment = r.take("str", "the comment").text if r.at("str") else ""
    game = StrategicGame(title, players, strategies, {}, comment)
    size = 1
    for s in strategies:
        size *= len(s)
    if size > MAX_PROFILES:
        raise r.error(f"{size} pure profiles, more than {MAX_PROFILES}")
    profiles = list(game.profiles())
    n = len(players)
    if r.at("{"):  # outcome version
        r.take("{", "{")
        outcomes: list[tuple[Fraction, ...]] = []
        while not r.at("}"):
            r.take("{", "an outcome")
            r.take("str", "the outcome's name")
            values = []
            while not r.at("}"):
                values.append(r.number("a payoff"))
                r.skip_commas()
            r.take("}", "}")
            if len(values) != n:
                raise r.error(f"outcome {len(outcomes) + 1} has {len(values)} payoffs for {n} players")
            outcomes.append(tuple(values))
            r.skip_commas()
        r.take("}", "}")
        for prof in profiles:
            tok = r.peek()
            k = r.integer("an outcome number")
            if k > len(outcomes):
                raise r.error(f"outcome {k} is not defined (there are {len(outcomes)})", tok)
            game.payoffs[prof] = outcomes[k - 1] if k else tuple(Fraction(0) for _ in range(n))
            r.skip_commas()
    else:
        for prof in profiles:
            values = []
            for _ in range(n):
                if r.peek() is None:
                    raise r.error(f"the payoffs end before profile {len(game.payoffs) + 1} of {len(profiles)}")
                values.append(r.number("a payoff"))
                r.skip_commas()
            game.payoffs[prof] = tuple(values)
    r.end()
    return game


def parse_efg(text: str, *, source: str = "<game.efg>") -> ExtensiveGame:
    """Read an extensive-form game.

    Args:
        text: The ``.efg`` file's content.
        source: Its name, for error messages.

    Raises:
        GambitFormatError: The text is not a valid ``.efg`` file (located).
    """
    r = _Reader(text, source)
    title, players = r.header("EFG", "2")
    comment = r.take("str", "the comment").text if r.at("str") else ""
    n = len(players)
    infosets: dict[tuple[int, int], list[str]] = {}
    outcomes: dict[int, tuple[str, tuple[Fraction, ...]]] = {}
    count = [0]

    def outcome(node: Node) -> None:
        tok = r.peek()
        node.outcome = r.integer("an outcome number")
        if node.outcome == 0:
            return
        if r.at("str"):
            name = r.take("str", "the outcome's name").text
            values = r.numbers("a payoff")
            if len(values) != n:
                raise r.error(f"outcome {node.outcome} has {len(values)} payoffs for {n} players", tok)
            if node.outcome in outcomes and outcomes[node.outcome][1] != tuple(values):
                raise r.error(f"outcome {node.outcome} was defined before with other payoffs", tok)
            outcomes[node.outcome] = (name, tuple(values))
        elif node.outcome not in outcomes:
            raise r.error(f"outcome {node.outcome} is used before its payoffs are given", tok)
        node.outcome_name, node.payoffs = outcomes[node.outcome]

    def node() -> Node:
        count[0] += 1
        if count[0] > MAX_PROFILES:
            raise r.error(f"more than {MAX_PROFILES} nodes")
        tok = r.take("word", "a node (c, p or t)")
        if tok.text not in ("c", "p", "t"):
            raise r.error(f"expected a node type c, p or t, found {tok.text!r}", tok)
        nd = Node(kind=tok.text, line=tok.line)
        nd.name = r.take("str", "the node's name").text
        if tok.text == "t":
            outcome(nd)
            if nd.outcome == 0:
                raise r.error("a terminal node needs an outcome", tok)
            return nd
        if tok.text == "p":
            ptok = r.peek()
            nd.player = r.integer("the player's number")
            if not 1 <= nd.player <= n:
                raise r.error(f"player {nd.player} does not exist (there are {n})", ptok)
        nd.infoset = r.integer("the information set's number")
        nd.infoset_name = r.take("str", "the information set's name").text if r.at("str") else ""
        key = (nd.player, nd.infoset)
        if r.at("{"):
            r.take("{", "{")
            while not r.at("}"):
                nd.actions.append(r.take("str", "an action label").text)
                if nd.kind == "c":
                    nd.probabilities.append(r.number("the action's probability"))
                r.skip_commas()
            r.take("}", "}")
            if not nd.actions:
                raise r.error("a node needs at least one action", tok)
            if key in infosets and infosets[key] != nd.actions:
                raise r.error(
                    f"information set {nd.infoset} of {'chance' if nd.kind == 'c' else f'player {nd.player}'}"
                    " has other actions where it appeared before",
                    tok,
                )
            infosets[key] = list(nd.actions)
        elif key in infosets:
            nd.actions = list(infosets[key])
        else:
            raise r.error(f"information set {nd.infoset} has no actions", tok)
        if nd.kind == "c":
            if len(nd.probabilities) != len(nd.actions):
                nd.probabilities = [Fraction(1, len(nd.actions))] * len(nd.actions)
            if any(p < 0 for p in nd.probabilities) or sum(nd.probabilities) != 1:
                raise r.error("chance probabilities must be non-negative and sum to 1", tok)
        outcome(nd)
        nd.children = [node() for _ in nd.actions]
        return nd

    root = node()
    r.end()
    return ExtensiveGame(title, players, root, comment)


def parse_game(text: str, *, source: str) -> StrategicGame | ExtensiveGame:
    """Read an ``.nfg`` or ``.efg`` file by its first word.

    Args:
        text: The file's content.
        source: Its name, for error messages.
    """
    start = text.lstrip()[:3]
    if start == "NFG":
        return parse_nfg(text, source=source)
    if start == "EFG":
        return parse_efg(text, source=source)
    raise GambitFormatError(
        "not a Gambit game: the file starts with neither NFG nor EFG", source=source, line=1, column=1
    )


# --------------------------------------------------------------------------------------------------
# Writing


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_nfg(game: StrategicGame) -> str:
    """A strategic game as ``.nfg`` text (payoff-vector version, exact numbers).

    Args:
        game: The game.
    """
    head = (
        f"NFG 1 R {_quote(game.title)} {{ {' '.join(_quote(p) for p in game.players)} }} "
        + "{ "
        + " ".join("{ " + " ".join(_quote(s) for s in labels) + " }" for labels in game.strategies)
        + " }"
    )
    body = " ".join(" ".join(fraction_text(v) for v in game.payoffs[prof]) for prof in game.profiles())
    return f"{head}\n{_quote(game.comment)}\n\n{body}\n"


def write_efg(game: ExtensiveGame) -> str:
    """A game tree as ``.efg`` text (exact numbers, every outcome with its payoffs).

    Args:
        game: The game.
    """
    lines = [
        f"EFG 2 R {_quote(game.title)} {{ {' '.join(_quote(p) for p in game.players)} }}",
        _quote(game.comment),
        "",
    ]
    next_outcome = [0]

    def outcome(node: Node) -> str:
        if node.payoffs is None:
            return "0"
        next_outcome[0] += 1
        return (
            f"{next_outcome[0]} {_quote(node.outcome_name)} {{ "
            + ", ".join(fraction_text(v) for v in node.payoffs)
            + " }"
        )

    for node in game.nodes():
        if node.kind == "t":
            lines.append(f"t {_quote(node.name)} {outcome(node)}")
        elif node.kind == "c":
            acts = " ".join(
                f"{_quote(a)} {fraction_text(p)}" for a, p in zip(node.actions, node.probabilities, strict=True)
            )
            lines.append(
                f"c {_quote(node.name)} {node.infoset} {_quote(node.infoset_name)} {{ {acts} }} {outcome(node)}"
            )
        else:
            acts = " ".join(_quote(a) for a in node.actions)
            lines.append(
                f"p {_quote(node.name)} {node.player} {node.infoset} {_quote(node.infoset_name)} "
                f"{{ {acts} }} {outcome(node)}"
            )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------
# Extensive to strategic form


def to_strategic(game: ExtensiveGame, *, max_strategies: int = 200) -> StrategicGame:
    """The strategic form of a game tree: a strategy picks an action at each of a player's
    information sets; a profile's payoffs are expected over chance and summed along the path.

    Args:
        game: The game tree (chance nodes and information sets of any shape).
        max_strategies: The most strategies a player may have.

    Raises:
        GambitFormatError: A player with more strategies than ``max_strategies`` (at the root's line).
    """
    infosets: dict[int, dict[int, list[str]]] = {i + 1: {} for i in range(len(game.players))}
    for node in game.nodes():
        if node.kind == "p":
            infosets[node.player].setdefault(node.infoset, node.actions)
    plans: list[list[dict[int, int]]] = []
    labels: list[list[str]] = []
    for player in range(1, len(game.players) + 1):
        sets = sorted(infosets[player])
        size = 1
        for s in sets:
            size *= len(infosets[player][s])
        if size > max_strategies:
            raise GambitFormatError(
                f"player {game.players[player - 1]!r} has {size} pure strategies, more than {max_strategies}",
                line=game.root.line,
            )
        combos = list(itertools.product(*(range(len(infosets[player][s])) for s in sets)))
        plans.append([dict(zip(sets, combo, strict=True)) for combo in combos])
        labels.append(
            ["_".join(infosets[player][s][k] for s, k in zip(sets, combo, strict=True)) or "none" for combo in combos]
        )
    n = len(game.players)

    def value(node: Node, plan: Sequence[dict[int, int]]) -> list[Fraction]:
        own = list(node.payoffs) if node.payoffs is not None else [Fraction(0)] * n
        if node.kind == "t":
            return own
        if node.kind == "c":
            below = [Fraction(0)] * n
            for p, child in zip(node.probabilities, node.children, strict=True):
                if p:
                    below = [b + p * v for b, v in zip(below, value(child, plan), strict=True)]
        else:
            below = value(node.children[plan[node.player - 1][node.infoset]], plan)
        return [a + b for a, b in zip(own, below, strict=True)]

    out = StrategicGame(game.title, list(game.players), labels, {}, game.comment)
    for prof in out.profiles():
        out.payoffs[prof] = tuple(value(game.root, [plans[i][k] for i, k in enumerate(prof)]))
    return out
