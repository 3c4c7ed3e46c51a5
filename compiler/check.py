"""Stage 2: semantic check. Resolves ``use`` imports, builds symbol tables for every game and
preference, and reports every independent mistake as a located diagnostic.

The result, a :class:`CheckedSpec`, is what later stages consume: they never look at text again.

(Over 600 lines: one checker walks every kind of declaration with one shared scope and type logic;
loading lives in :mod:`prefc.compiler.load`, constant evaluation in :mod:`prefc.compiler.constants`.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import cached_property
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from prefc.compiler import ast
from prefc.compiler.diagnostics import CompileError, Diagnostic, DiagnosticBag, Note, did_you_mean
from prefc.compiler.constants import (  # noqa: F401 - eval_const and NotConstant are imported from here
    MAX_LITERAL_MAGNITUDE,
    NotConstant,
    ValueTooLarge,
    eval_const,
    literal_magnitude,
    magnitude_text,
)
from prefc.compiler.load import load_files, spec_digest
from prefc.compiler.paths import PathRefused, SpecTree, spec_name_from_path
from prefc.compiler.source import SourceFile, Span

UNARY_FUNCS = {"abs", "exp", "log", "sqrt"}
VARIADIC_FUNCS = {"min", "max"}
AGGREGATES = {"sum", "mean", "min", "max"}
GAME_FUNCS = UNARY_FUNCS | VARIADIC_FUNCS | AGGREGATES
PREFERENCE_FUNCS = GAME_FUNCS | {"payoff", "kantian"}
MAX_GROUP_SIZE = 64
MAX_SWEEP_VALUES = 10_000
MAX_DOMAIN_COMBOS = 4096  # swept-value combinations an action's bounds are checked at
# Names a build may not take: the files every build writes beside the blocks' own
# (`manifest.json`, `solutions.jsonl`). Compared without case, as some file systems do.
RESERVED_BUILD_NAMES = frozenset({"manifest", "solutions"})
RUBRIC_SELECTIONS = ("all", "discriminating")


# ----------------------------------------------------------------------------- checked model


@dataclass(frozen=True)
class ActionInfo:
    """One action of one mover (a named player or every member of a group)."""

    name: str
    owner: str
    stage: int
    move: ast.Move

    @property
    def domain(self) -> ast.Interval | ast.IntRange | ast.LabelSet:
        return self.move.domain

    @property
    def is_finite_labels(self) -> bool:
        return isinstance(self.move.domain, ast.LabelSet)

    @property
    def labels(self) -> tuple[str, ...]:
        if isinstance(self.move.domain, ast.LabelSet):
            return tuple(i.name for i in self.move.domain.labels)
        return ()


@dataclass
class CheckedGame:
    """A game with its names resolved."""

    ast: ast.Game
    players: dict[str, ast.Player]
    params: dict[str, ast.Param]
    actions: dict[str, ActionInfo]
    lets: dict[str, ast.Let]
    stages: list[list[ast.Move]]
    labels: dict[str, str]  # label -> action name
    defaults: dict[str, Fraction]

    @property
    def name(self) -> str:
        return self.ast.name.name

    @property
    def title(self) -> str:
        return self.ast.title or self.ast.name.name.replace("_", " ").capitalize()

    @property
    def group(self) -> ast.Player | None:
        """The indexed group, if the game's players are one."""
        return next((p for p in self.players.values() if p.is_group), None)

    @property
    def is_sequential(self) -> bool:
        return len(self.stages) > 1

    @property
    def kantian_mode(self) -> str:
        if self.ast.kantian is not None:
            return self.ast.kantian.mode
        return "substitute" if self.ast.symmetric else "roles"

    def actions_of(self, player: str) -> list[ActionInfo]:
        """The actions a player chooses, in stage order."""
        return [a for a in self.actions.values() if a.owner == player]


@dataclass
class CheckedPreference:
    ast: ast.Preference
    origin: str
    defaults: dict[str, Fraction | None]
    domains: dict[str, tuple[Fraction, Fraction] | None]

    @property
    def name(self) -> str:
        return self.ast.name.name

    @property
    def title(self) -> str:
        return self.ast.title or self.name


@dataclass(frozen=True)
class PreferencePoint:
    """A preference with every parameter fixed: ``moralis(kappa=1/2)``."""

    name: str
    values: tuple[tuple[str, Fraction], ...] = ()

    @cached_property
    def label(self) -> str:
        """``name(param=value, ...)``, the preference point's canonical text (cached: it is a key of
        every solution cache)."""
        if not self.values:
            return self.name
        inner = ", ".join(f"{k}={_fmt(v)}" for k, v in self.values)
        return f"{self.name}({inner})"

    def as_dict(self) -> dict[str, Fraction]:
        return dict(self.values)


@dataclass
class CheckedBuild:
    ast: ast.Build
    preferences: list[PreferencePoint]
    games: list[str]

    @property
    def name(self) -> str:
        return self.ast.name.name

    @property
    def kind(self) -> str:
        return self.ast.kind


@dataclass
class CheckedSpec:
    """A whole spec after imports and checks: what every later stage starts from.

    Attributes:
        name: The spec's name (its ``spec`` header, else the file stem).
        title: A human title.
        path: The main file's path.
        sha256: Hash of the spec name and the content of every file read, in import order (see
            :func:`spec_digest`); paths do not enter it.
        sources: Every source file read, by path.
        games, preferences, builds: Resolved declarations by name (games and preferences include
            those of imported files).
        diagnostics: Warnings (errors raise instead).
    """

    name: str
    title: str
    path: str
    sha256: str
    sources: dict[str, SourceFile]
    games: dict[str, CheckedGame]
    preferences: dict[str, CheckedPreference]
    builds: dict[str, CheckedBuild]
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _count(n: Fraction | int) -> str:
    n = int(n)
    return f"{n:,}" if n < 10**15 else f"about 10^{len(str(n)) - 1}"


def _fmt(v: Fraction) -> str:
    if v.denominator == 1:
        return str(v.numerator) if v.numerator.bit_length() < 200 else f"about 10^{len(str(abs(v.numerator))) - 1}"
    try:
        as_float = float(v)
    except OverflowError:
        return f"about 10^{len(str(abs(v.numerator))) - len(str(v.denominator))}"
    if Fraction(repr(as_float)) == v:
        return repr(as_float)
    return f"{v.numerator}/{v.denominator}"


# ----------------------------------------------------------------------------- the checker


class _Type:
    NUM = "number"
    BOOL = "condition"
    LABEL = "label"
    PLAYER = "player"
    GROUP = "group"
    VECTOR = "vector"
    ANY = "any"


@dataclass
class _Scope:
    """Names visible in an expression: what each means."""

    kind: str  # "game" | "preference"
    game: CheckedGame | None = None
    pref_params: set[str] = field(default_factory=set)
    index_vars: set[str] = field(default_factory=set)  # bound member indices (i in payoff member[i], binders)
    player_vars: set[str] = field(default_factory=set)  # preference binders over `others`
    let_params: set[str] = field(default_factory=set)
    in_kantian: bool = False

    def child(self, **changes) -> "_Scope":
        new = _Scope(self.kind, self.game, set(self.pref_params), set(self.index_vars), set(self.player_vars),
                     set(self.let_params), self.in_kantian)
        for k, v in changes.items():
            setattr(new, k, v)
        return new


class Checker:
    """Runs every semantic check over the loaded files and builds the :class:`CheckedSpec`."""

    def __init__(self, bag: DiagnosticBag):
        self.bag = bag
        self.used_params: set[tuple[str, str]] = set()
        self.used_lets: set[tuple[str, str]] = set()
        self._current_game = ""

    # -- entry ------------------------------------------------------------------
    def check(self, path: str) -> CheckedSpec | None:
        files, main = load_files(path, self.bag)
        if main is None:
            return None
        sources = {src.path: src for src, _ in files}
        for extra in main.headers[1:]:
            self.bag.add("E0103", "more than one `spec` header", extra.span,
                         notes=[Note(main.headers[0].span, "the first header")])
        for _, tree in files:
            self._check_literal_powers(tree)
        preferences = self._collect_preferences(files, main)
        games = self._collect_games(files, main)
        builds = self._check_builds(main, games, preferences)
        self._warn_unused(main, games, preferences, builds)
        name = main.header.name.name if main.header else spec_name_from_path(path)
        if name is None:
            main_src = files[-1][0]
            self.bag.add("E0105", f"the file name `{Path(path).name}` gives no spec name", main_src.span(0, 0),
                         label="a spec name is a name: letters, digits and `_`",
                         hint="add a header such as `spec my_spec \"Title\"` at the top of the file, or rename it")
            name = "_"
        title = (main.header.title if main.header and main.header.title else name)
        sha = spec_digest(name, (src.text for src, _ in files))
        return CheckedSpec(name=name, title=title, path=path, sha256=sha, sources=sources,
                           games=games, preferences=preferences, builds=builds,
                           diagnostics=[d for d in self.bag.items if not d.is_error])

    def _check_literal_powers(self, tree: ast.File) -> None:
        """E0008 for a power of plain numbers too large for any later stage (``2^2^2^2^2^2^2``):
        exact arithmetic would try to write out a number of millions of digits."""
        stack: list = [tree]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.BinOp) and node.op == "^":
                magnitude = literal_magnitude(node)
                if magnitude is not None and magnitude > MAX_LITERAL_MAGNITUDE:
                    self.bag.add("E0008", "this power of numbers is too large to compute", node.span,
                                 label=f"about 10^{magnitude_text(magnitude)}",
                                 hint=f"constant values are limited to about 10^{MAX_LITERAL_MAGNITUDE}")
                    continue
            if isinstance(node, ast.Node):
                for value in node.__dict__.values():
                    if isinstance(value, ast.Node):
                        stack.append(value)
                    elif isinstance(value, (list, tuple)):
                        stack.extend(v for v in value if isinstance(v, (ast.Node, tuple, list)))
            elif isinstance(node, (list, tuple)):
                stack.extend(v for v in node if isinstance(v, (ast.Node, tuple, list)))

    def _warn_unused(self, main: ast.File, games, prefs, builds) -> None:
        used = {p.name for b in builds.values() for p in b.preferences}
        for pref in main.preferences:
            if pref.name.name not in used and builds:
                self.bag.add("W0402", f"preference `{pref.name.name}` is declared but no build uses it",
                             pref.name.span, hint="add it to a `dataset` or `rubric`, or move it to a library file")

    # -- declarations -------------------------------------------------------------
    def _duplicate(self, kind: str, ident: ast.Ident, first: Span) -> None:
        self.bag.add("E0208", f"{kind} `{ident.name}` is defined twice", ident.span,
                     label="second definition", notes=[Note(first, "first defined here")],
                     hint=f"rename one of them; {kind} names must be unique")

    def _collect_preferences(self, files, main) -> dict[str, CheckedPreference]:
        prefs: dict[str, CheckedPreference] = {}
        for src, tree in files:
            for pref in tree.preferences:
                if pref.name.name in prefs:
                    self._duplicate("preference", pref.name, prefs[pref.name.name].ast.name.span)
                    continue
                prefs[pref.name.name] = self._check_preference(pref, src.path)
        return prefs

    def _check_preference(self, pref: ast.Preference, origin: str) -> CheckedPreference:
        defaults: dict[str, Fraction | None] = {}
        domains: dict[str, tuple[Fraction, Fraction] | None] = {}
        seen: dict[str, Span] = {}
        for p in pref.params:
            if p.name.name in seen:
                self._duplicate("parameter", p.name, seen[p.name.name])
                continue
            seen[p.name.name] = p.name.span
            dom = None
            if p.domain is not None:
                try:
                    lo, hi = eval_const(p.domain.lo, {}), eval_const(p.domain.hi, {})
                    if lo > hi:
                        self.bag.add("E0303", f"domain of `{p.name.name}` is empty: {_fmt(lo)} > {_fmt(hi)}",
                                     p.domain.span, hint="write the lower bound first")
                    else:
                        dom = (lo, hi)
                except NotConstant:
                    self.bag.add("E0305", f"the domain of preference parameter `{p.name.name}` must be numbers",
                                 p.domain.span)
            default = None
            if p.default is not None:
                try:
                    default = eval_const(p.default, {})
                except NotConstant:
                    self.bag.add("E0305", f"the default of `{p.name.name}` must be a number", p.default.span)
                if default is not None and dom is not None and not dom[0] <= default <= dom[1]:
                    self.bag.add("E0304", f"default {_fmt(default)} of `{p.name.name}` is outside "
                                 f"[{_fmt(dom[0])}, {_fmt(dom[1])}]", p.default.span)
            defaults[p.name.name] = default
            domains[p.name.name] = dom
        scope = _Scope("preference", pref_params=set(defaults))
        t = self._expr(pref.body, scope)
        self._expect_num(t, pref.body, "a preference")
        if not self._mentions_payoff(pref.body):
            self.bag.add("E0307", f"preference `{pref.name.name}` never uses `payoff(...)`", pref.body.span,
                         hint="a preference is a utility built from material payoffs, e.g. `payoff(self)`")
        return CheckedPreference(pref, origin, defaults, domains)

    @staticmethod
    def _mentions_payoff(expr) -> bool:
        return any(isinstance(n, ast.Call) and n.func.name == "payoff" for n in _walk(expr))

    def _collect_games(self, files, main) -> dict[str, CheckedGame]:
        games: dict[str, CheckedGame] = {}
        for src, tree in files:
            for game in tree.games:
                if game.name.name in games:
                    self._duplicate("game", game.name, games[game.name.name].ast.name.span)
                    continue
                checked = self._check_game(game)
                if checked is not None:
                    games[game.name.name] = checked
        return games

    # -- games ----------------------------------------------------------------------
    def _check_game(self, game: ast.Game) -> CheckedGame | None:
        gname = game.name.name
        self._current_game = gname
        if not game.players:
            self.bag.add("E0306", f"game `{gname}` declares no players", game.name.span,
                         hint="add a line such as `players row, col`")
            return None
        players: dict[str, ast.Player] = {}
        for p in game.players:
            if p.name.name in players:
                self._duplicate("player", p.name, players[p.name.name].name.span)
            else:
                players[p.name.name] = p
        if any(p.is_group for p in players.values()) and len(players) > 1:
            self.bag.add("E0307", "an indexed group must be the game's only player declaration",
                         game.players_span or game.name.span,
                         hint="use either named roles (`players a, b`) or one group (`players member[1..n]`)")
        elif any(p.is_group for p in players.values()) and not game.symmetric:
            group = next(p for p in players.values() if p.is_group)
            self.bag.add("E0307", f"the indexed group `{group.name.name}` must be declared `symmetric`",
                         group.span, hint=f"write `players {group.name.name}[...] symmetric`: members differ "
                         "only by their index")
        params: dict[str, ast.Param] = {}
        for p in game.params:
            if p.name.name in params:
                self._duplicate("parameter", p.name, params[p.name.name].name.span)
            elif p.name.name in players:
                self._duplicate("name", p.name, players[p.name.name].name.span)
            else:
                params[p.name.name] = p
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
                    self._duplicate("name", move.action, (params.get(key) or players[key]).name.span)  # type: ignore[union-attr]
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
                        self._duplicate("name", lab, (params.get(lab.name) or players[lab.name]).name.span)  # type: ignore[union-attr]
                    elif lab.name in labels and labels[lab.name] != move.action.name:
                        self.bag.add("E0208", f"label `{lab.name}` belongs to two actions", lab.span,
                                     hint="use distinct labels so `==` comparisons are unambiguous")
                    elif lab.name in positions and positions[lab.name] != len(seen_labels) - 1:
                        self.bag.add("E0208", f"label `{lab.name}` has another position in another player's "
                                     f"`{move.action.name}`", lab.span,
                                     hint="list the options of an action of one name in the same order for every "
                                          "player")
                    labels.setdefault(lab.name, move.action.name)
                    positions.setdefault(lab.name, len(seen_labels) - 1)
                if not move.domain.labels:
                    self.bag.add("E0303", "an action needs at least one option", move.domain.span)
        del each_name
        if not game.moves:
            self.bag.add("E0306", f"game `{gname}` declares no moves", game.name.span,
                         hint="add a line such as `each player chooses move in {a, b}`")

        lets: dict[str, ast.Let] = {}
        for let in game.lets:
            if let.name.name in lets or let.name.name in params or \
                    any(a.name == let.name.name for a in actions.values()):
                first = lets.get(let.name.name) or params.get(let.name.name)
                self._duplicate("name", let.name, first.name.span if first else let.name.span)
            elif let.name.name in GAME_FUNCS or let.name.name in ("payoff", "kantian", "table"):
                self.bag.add("E0208", f"`{let.name.name}` is a built-in function and cannot be redefined",
                             let.name.span)
            else:
                lets[let.name.name] = let
        self._check_helper_cycles(lets)

        checked = CheckedGame(game, players, params, actions, lets, stages, labels, defaults)
        scope = _Scope("game", checked)

        # domains of moves (now that actions are known: bounds may use earlier actions)
        for move in game.moves:
            self._check_domain(move, checked, scope, defaults)
            for ref in move.observes:
                self._check_observed(ref, move, checked)
        for let in lets.values():
            inner = scope.child(let_params=set(scope.let_params) | {p.name for p in let.params},
                                index_vars=set(scope.index_vars) | {p.name for p in let.params})
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
                self.bag.add("W0401", f"parameter `{name}` is never used", params[name].name.span,
                             hint="remove it, or use it in a payoff or a domain")
        for name in lets:
            if (gname, name) not in self.used_lets:
                self.bag.add("W0403", f"helper `{name}` is never used", lets[name].name.span)
        return checked

    def _check_helper_cycles(self, lets: dict[str, ast.Let]) -> None:
        """Report helpers that use themselves, directly or through other helpers (they never end)."""
        uses: dict[str, list[str]] = {}
        for name, let in lets.items():
            own = {p.name for p in let.params}
            refs = [n.func.name if isinstance(n, ast.Call) else n.id for n in _walk(let.value)
                    if isinstance(n, ast.Call) or (isinstance(n, ast.Name) and n.id not in own)]
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
            self.bag.add("E0307", f"helper `{start}` uses itself: {' -> '.join([*cycle, start])}",
                         lets[start].name.span, hint="helpers cannot be recursive; write the value out")

    def _check_params(self, game: ast.Game, params: dict[str, ast.Param]) -> dict[str, Fraction]:
        defaults: dict[str, Fraction] = {}
        for name, p in params.items():
            try:
                value = eval_const(p.default, defaults)
            except ValueTooLarge:
                self.bag.add("E0008", f"the default of `{name}` is too large to compute with", p.default.span,
                             label="beyond about 10^300", hint="rescale the parameter")
                continue
            except NotConstant as exc:
                self.bag.add("E0305", f"the default of `{name}` must be a number or earlier parameters",
                             p.default.span, label=f"`{exc}` is not a known parameter" if str(exc).isidentifier()
                             else "", hint="parameters are defined in order; refer only to earlier ones")
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
                        self.bag.add("E0303", f"domain of `{name}` is empty: {_fmt(lo)} > {_fmt(hi)}",
                                     p.domain.span, hint="write the lower bound first")
                    else:
                        lo_hi = (lo, hi)
            if lo_hi is not None and not lo_hi[0] <= value <= lo_hi[1]:
                self.bag.add("E0304", f"default {_fmt(value)} of `{name}` is outside its domain", p.default.span)
            if p.sweep is not None:
                if p.sweep.values is None:
                    assert p.sweep.lo is not None and p.sweep.hi is not None
                    if p.sweep.lo > p.sweep.hi:
                        self.bag.add("E0303", f"sweep of `{name}` is empty: {_fmt(p.sweep.lo)} > {_fmt(p.sweep.hi)}",
                                     p.sweep.span)
                    if p.sweep.step is not None and p.sweep.step <= 0:
                        self.bag.add("E0303", "a sweep step must be positive", p.sweep.span)
                        continue
                    count = (p.sweep.hi - p.sweep.lo) // (p.sweep.step or 1) + 1
                    if count > MAX_SWEEP_VALUES:
                        self.bag.add("E0310", f"sweep of `{name}` has {_count(count)} values; a sweep has at most "
                                     f"{MAX_SWEEP_VALUES:,}", p.sweep.span,
                                     hint="use a larger `step` or fewer values")
                        continue
                points = p.sweep.points()
                if isinstance(p.domain, ast.IntRange) and any(v.denominator != 1 for v in points):
                    self.bag.add("E0304", f"`{name}` is an integer parameter; its sweep has fractions", p.sweep.span)
                if lo_hi is not None:
                    bad = [v for v in points if not lo_hi[0] <= v <= lo_hi[1]]
                    if bad:
                        self.bag.add("E0304", f"sweep value {_fmt(bad[0])} of `{name}` is outside its domain "
                                     f"[{_fmt(lo_hi[0])}, {_fmt(lo_hi[1])}]", p.sweep.span,
                                     hint="narrow the sweep or widen the domain")
        return defaults

    def _sweep_values(self, params: dict[str, ast.Param], name: str, defaults: dict[str, Fraction]) -> list[Fraction]:
        p = params.get(name)
        if p is None:
            return []
        pts = p.sweep.points() if p.sweep is not None else []
        return pts or ([defaults[name]] if name in defaults else [])

    def _check_group_size(self, p: ast.Player, defaults, params) -> None:
        assert p.lo is not None and p.hi is not None
        names = [n.id for n in _walk(p.hi) if isinstance(n, ast.Name)] + \
            [n.id for n in _walk(p.lo) if isinstance(n, ast.Name)]
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
                self.bag.add("E0305", f"the size of group `{p.name.name}` must be a whole number, got {_fmt(hi)}",
                             p.span)
                return
            if hi < lo + 1:
                self.bag.add("E0303", f"group `{p.name.name}` has fewer than two members ({_fmt(lo)}..{_fmt(hi)})",
                             p.span, hint="a group needs at least two members")
                return
            if hi - lo + 1 > MAX_GROUP_SIZE:
                self.bag.add("E0310", f"group `{p.name.name}` has {hi - lo + 1} members; the limit is {MAX_GROUP_SIZE}",
                             p.span)
                return

    def _movers(self, move: ast.Move, players: dict[str, ast.Player], game: ast.Game) -> list[str] | None:
        name = move.mover.name
        if move.each:
            if name == "player":
                return list(players)
            if name in players and players[name].is_group:
                return [name]
            if name in players:
                self.bag.add("E0307", f"`each` needs a group or `player`, and `{name}` is a single player",
                             move.mover.span, hint=f"write `{name} chooses ...`")
                return None
            self._unknown("E0205", "player", move.mover, players, extra=["player"])
            return None
        if name in players:
            return [name]
        self._unknown("E0205", "player", move.mover, players)
        return None

    def _unknown(self, code: str, kind: str, ident: ast.Ident, known: Iterable[str], *, extra: Iterable[str] = (),
                 hint: str = "", message: str = "") -> None:
        pool = list(known) + list(extra)
        near = did_you_mean(ident.name, pool)
        self.bag.add(code, message or f"unknown {kind} `{ident.name}`", ident.span,
                     label=f"did you mean `{near}`?" if near else "not defined",
                     hint=hint or (f"known {kind}s: {', '.join(sorted(pool)[:8])}" if pool else ""))

    def _check_domain(self, move: ast.Move, game: CheckedGame, scope: _Scope, defaults) -> None:
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
            for n in _walk(bound):
                if (isinstance(n, ast.Attr) and isinstance(n.base, ast.Name) and n.base.id in game.players
                        and f"{n.base.id}.{n.attr.name}" in game.actions
                        and f"{n.base.id}.{n.attr.name}" not in earlier_keys):
                    self.bag.add("E0302", f"the bound uses `{n.base.id}.{n.attr.name}`, which is not chosen "
                                 "before this move", n.span,
                                 hint="bounds may use parameters and actions of earlier stages")
                if isinstance(n, ast.Name) and n.id in names and n.id not in earlier:
                    self.bag.add("E0302", f"the bound uses `{n.id}`, which is not chosen before this move",
                                 n.span, hint="bounds may use parameters and actions of earlier stages")
        try:
            lo, hi = eval_const(dom.lo, defaults), eval_const(dom.hi, defaults)
        except NotConstant:
            return
        if lo > hi:
            self.bag.add("E0303", f"the domain of `{move.action.name}` is empty: {_fmt(lo)} > {_fmt(hi)}",
                         dom.span, hint="write the lower bound first")
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
                self.bag.add("E0305", "an integer range needs whole-number bounds and step; use `[lo, hi]` for "
                             "a continuous action", dom.span)
                return
        self._check_domain_at_sweeps(move, game, defaults)

    def _check_domain_at_sweeps(self, move: ast.Move, game: CheckedGame, defaults) -> None:
        """The domain checks of the default point, at every combination of the swept values of the
        parameters its bounds use (a build solves at each of them)."""
        import itertools

        dom = move.domain
        bounds = [dom.lo, dom.hi] + ([dom.step] if isinstance(dom, ast.IntRange) and dom.step is not None else [])
        used = sorted({n.id for b in bounds for n in _walk(b) if isinstance(n, ast.Name)
                       and n.id in game.params and game.params[n.id].sweep is not None})
        if not used:
            return
        values = [game.params[n].sweep.points() for n in used]  # type: ignore[union-attr]
        combos = 1
        for v in values:
            combos *= max(1, len(v))
        if combos > MAX_DOMAIN_COMBOS:
            return  # the work estimate refuses builds this large before solving
        for combo in itertools.product(*values):
            env = {**defaults, **dict(zip(used, combo))}
            at = ", ".join(f"{n} = {_fmt(v)}" for n, v in zip(used, combo))
            try:
                lo, hi = eval_const(dom.lo, env), eval_const(dom.hi, env)
                step = eval_const(dom.step, env) if isinstance(dom, ast.IntRange) and dom.step is not None \
                    else Fraction(1)
            except NotConstant:
                return
            if lo > hi:
                self.bag.add("E0303", f"the domain of `{move.action.name}` is empty at {at}: {_fmt(lo)} > {_fmt(hi)}",
                             dom.span, label="a swept parameter value empties it",
                             hint="narrow the sweep, or write bounds that hold at every swept value")
                return
            if isinstance(dom, ast.IntRange):
                if step <= 0:
                    self.bag.add("E0303", f"the range step of `{move.action.name}` is not positive at {at}",
                                 dom.span, hint="narrow the sweep")
                    return
                if lo.denominator != 1 or hi.denominator != 1 or step.denominator != 1:
                    self.bag.add("E0305", f"the integer range of `{move.action.name}` has a fractional bound at "
                                 f"{at}", dom.span, hint="sweep whole numbers, or use `[lo, hi]`")
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
            self.bag.add("E0302", f"`{move.mover.name}` cannot see `{ref.action.name}`: it is not chosen earlier",
                         ref.span, label="chosen in the same or a later stage",
                         hint="start the observing move with `then` so that it comes after")

    def _check_action_ref(self, ref: ast.ActionRef, game: CheckedGame) -> ActionInfo | None:
        if ref.player is not None and ref.player.name not in game.players:
            self._unknown("E0205", "player", ref.player, game.players)
            return None
        candidates = [i for i in game.actions.values() if i.name == ref.action.name
                      and (ref.player is None or i.owner == ref.player.name)]
        if not candidates:
            self._unknown("E0206", "action", ref.action, {i.name for i in game.actions.values()})
            return None
        if len(candidates) > 1:
            owners = sorted(i.owner for i in candidates)
            self.bag.add("E0210", f"`{ref.action.name}` is chosen by several players; say whose", ref.span,
                         hint=f"write e.g. `{owners[0]}.{ref.action.name}`")
            return None
        return candidates[0]

    def _check_payoffs(self, game: CheckedGame, scope: _Scope) -> None:
        given: dict[str, ast.Payoff] = {}
        for pay in game.ast.payoffs:
            pname = pay.player.name
            if pname not in game.players:
                self._unknown("E0205", "player", pay.player, game.players)
                continue
            player = game.players[pname]
            if pay.index_var is not None and not player.is_group:
                self.bag.add("E0307", f"`{pname}` is a single player, not a group: write `payoff {pname} = ...`",
                             pay.span)
                continue
            if player.is_group and pay.index_var is None:
                self.bag.add("E0307", f"`{pname}` is a group: write `payoff {pname}[i] = ...` and use `i`",
                             pay.player.span)
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
                self.bag.add("E0301", f"player `{p}` has no payoff", game.players[p].name.span,
                             hint=f"add `payoff {p} = ...`" + ("" if game.ast.symmetric else
                                                                " or declare the players `symmetric`"))
        if game.ast.symmetric:
            first = next(iter(game.players))
            if given and first not in given and not any(game.players[p].is_group for p in given):
                self.bag.add("E0301", f"a symmetric game defines the payoff of its first player `{first}`",
                             game.players[first].name.span,
                             hint="the payoffs of the others follow by permutation")
            self._check_symmetric_moves(game)

    def _check_symmetric_moves(self, game: CheckedGame) -> None:
        if game.group is not None:
            return
        owners = {p: sorted((a.name, a.stage) for a in game.actions_of(p)) for p in game.players}
        reference = next(iter(owners.values()))
        for p, acts in owners.items():
            if acts != reference:
                self.bag.add("E0309", f"players of a symmetric game choose the same actions; `{p}` does not",
                             game.players[p].name.span, hint="use `each player chooses ...` for symmetric moves")
                return

    # -- builds ------------------------------------------------------------------------
    def _check_builds(self, main: ast.File, games, prefs) -> dict[str, CheckedBuild]:
        builds: dict[str, CheckedBuild] = {}
        folded: dict[str, ast.Build] = {}
        for b in main.builds:
            if b.name.name in builds:
                self._duplicate(b.kind, b.name, builds[b.name.name].ast.name.span)
                continue
            key = b.name.name.lower()
            if key in RESERVED_BUILD_NAMES:
                self.bag.add("E0311", f"`{b.name.name}` is a reserved name: every build writes `{key}."
                             f"{'json' if key == 'manifest' else 'jsonl'}`", b.name.span,
                             label="would overwrite the build's own file",
                             hint=f"rename the {b.kind}; reserved: {', '.join(sorted(RESERVED_BUILD_NAMES))}")
            elif key in folded:
                self.bag.add("E0311", f"`{b.name.name}` and `{folded[key].name.name}` differ only in case",
                             b.name.span, label="would share files where names ignore case",
                             notes=[Note(folded[key].name.span, "the other block")],
                             hint="give the blocks names that differ in more than case")
            folded.setdefault(key, b)
            points: list[PreferencePoint] = []
            for app in b.preferences:
                points.extend(self._check_pref_app(app, prefs))
            seen_points: set[str] = set()
            for pt, app in zip(points, b.preferences):
                if pt.label in seen_points:
                    self.bag.add("E0208", f"preference `{pt.label}` is listed twice", app.span)
                seen_points.add(pt.label)
            names: list[str] = []
            for g in b.games:
                if g.name not in games:
                    self._unknown("E0202", "game", g, games)
                else:
                    names.append(g.name)
            if not b.games:
                self.bag.add("E0308", f"{b.kind} `{b.name.name}` names no games", b.name.span,
                             hint="add `games NAME, ...`")
            for g in b.holdout_games:
                if g.name not in games:
                    self._unknown("E0202", "game", g, games)
                elif g.name not in names:
                    names.append(g.name)
            self._check_build_settings(b, games, names)
            if b.kind == "rubric" and b.select is not None and b.select.name == "discriminating" and len(points) < 2:
                self.bag.add("E0308", "`select discriminating` needs at least two preferences to tell apart",
                             b.settings_spans["select"], hint="list two or more preferences after `for`")
            builds[b.name.name] = CheckedBuild(b, points, names)
        return builds

    def _check_pref_app(self, app: ast.PrefApp, prefs: dict[str, CheckedPreference]) -> list[PreferencePoint]:
        if app.name.name not in prefs:
            self._unknown("E0203", "preference", app.name, prefs,
                          hint="preferences are declared with `preference NAME = ...` or imported with `use`")
            return []
        pref = prefs[app.name.name]
        given: dict[str, list[Fraction]] = {}
        for arg in app.args:
            if arg.name.name not in pref.defaults:
                near = did_you_mean(arg.name.name, pref.defaults)
                self.bag.add("E0204", f"preference `{pref.name}` has no parameter `{arg.name.name}`", arg.name.span,
                             label=f"did you mean `{near}`?" if near else
                             ("it takes no parameters" if not pref.defaults else
                              f"its parameters: {', '.join(pref.defaults)}"))
                continue
            if arg.name.name in given:
                self.bag.add("E0208", f"parameter `{arg.name.name}` is given twice", arg.name.span)
                continue
            dom = pref.domains.get(arg.name.name)
            if dom is not None:
                for v in arg.values:
                    if not dom[0] <= v <= dom[1]:
                        self.bag.add("E0304", f"{arg.name.name} = {_fmt(v)} is outside its domain "
                                     f"[{_fmt(dom[0])}, {_fmt(dom[1])}]", arg.span,
                                     hint=f"`{pref.name}` declares `{arg.name.name} in [{_fmt(dom[0])}, {_fmt(dom[1])}]`")
            given[arg.name.name] = list(arg.values)
        missing = [k for k, v in pref.defaults.items() if v is None and k not in given]
        if missing:
            self.bag.add("E0209", f"preference `{pref.name}` needs a value for `{missing[0]}`", app.span,
                         hint=f"write `{pref.name}({missing[0]} = ...)`")
            return []
        combos: list[dict[str, Fraction]] = [{}]
        for k, default in pref.defaults.items():
            vals = given.get(k) or [default]
            combos = [{**c, k: v} for c in combos for v in vals]  # type: ignore[dict-item]
        return [PreferencePoint(pref.name, tuple(c.items())) for c in combos]

    def _check_build_settings(self, b: ast.Build, games, names) -> None:
        spans = b.settings_spans
        if b.kind == "dataset" and b.items is not None:
            self.bag.add("E0308", "`items` belongs to rubrics; datasets use `samples`", spans["items"])
        if b.kind == "rubric" and b.samples is not None:
            self.bag.add("E0308", "`samples` belongs to datasets; rubrics use `items`", spans["samples"])
        for key in ("samples", "items"):
            value = getattr(b, key)
            if value is not None and value < 1:
                self.bag.add("E0310", f"`{key}` must be at least 1", spans[key])
        if b.split:
            total = sum(v for _, v in b.split)
            known = {"train", "val", "test"}
            for ident, value in b.split:
                if ident.name not in known:
                    self._unknown("E0308", "split", ident, known)
                if not 0 <= value <= 1:
                    self.bag.add("E0308", f"split fraction {_fmt(value)} is not between 0 and 1", ident.span)
            if total != 1:
                self.bag.add("E0308", f"split fractions add up to {_fmt(total)}, not 1", spans["split"])
        if b.select is not None:
            if b.kind == "dataset":
                self.bag.add("E0308", "`select` belongs to rubrics", spans["select"])
            elif b.select.name not in RUBRIC_SELECTIONS:
                self._unknown("E0308", "selection", b.select, RUBRIC_SELECTIONS)
        if b.tolerance is not None and not 0 <= b.tolerance < 1:
            self.bag.add("E0308", "tolerance must be between 0 and 100%", spans["tolerance"])
        if b.paraphrases is not None and not 1 <= b.paraphrases <= 50:
            self.bag.add("E0308", "paraphrases must be between 1 and 50", spans["paraphrases"])
        for p in b.holdout_paraphrases:
            if b.paraphrases is None or p >= b.paraphrases:
                self.bag.add("E0308", f"paraphrase {p} does not exist (paraphrases are numbered from 0)",
                             spans["holdout_paraphrases"])
        if b.template is not None and b.template != "default":
            try:
                SpecTree.of(b.span.file).resolve_template_dir(
                    Path(os.path.realpath(Path(b.span.file).absolute())), b.template)
            except PathRefused as refused:
                self.bag.add("E0104" if refused.code == "E0104" else "E0308", refused.message,
                             spans.get("template", b.span), label=refused.label, hint=refused.hint)
        all_params = {n for g in names if g in games for n in games[g].params}
        for cond in b.holdout_where:
            for n in _walk(cond):
                if isinstance(n, ast.Name) and n.id not in all_params:
                    self._unknown("E0204", "parameter", ast.Ident(span=n.span, name=n.id), all_params,
                                  hint="`holdout where` conditions use parameters of the build's games")

    # -- expressions ---------------------------------------------------------------------
    def _expect_num(self, t: str, expr, what: str) -> None:
        if t in (_Type.NUM, _Type.ANY):
            return
        self.bag.add("E0305", f"{what} must be a number, but this is a {t}", expr.span,
                     hint="compare labels with `==` inside `if ... then ... else ...` to turn them into numbers"
                     if t == _Type.LABEL else "")

    def _expect_int_const(self, expr, defaults, what: str, *, minimum: int) -> None:
        try:
            v = eval_const(expr, defaults)
        except NotConstant:
            self.bag.add("E0305", f"{what} must be a whole number", expr.span)
            return
        if v.denominator != 1 or v < minimum:
            self.bag.add("E0310", f"{what} must be a whole number of at least {minimum}", expr.span)

    def _expr(self, e, scope: _Scope) -> str:  # noqa: C901 - one dispatch over node kinds
        game = scope.game
        if isinstance(e, ast.Number):
            return _Type.NUM
        if isinstance(e, ast.Name):
            return self._name(e, scope)
        if isinstance(e, (ast.BinOp,)):
            for side in (e.left, e.right):
                self._expect_num(self._expr(side, scope), side, f"an operand of `{e.op}`")
            return _Type.NUM
        if isinstance(e, ast.Neg):
            self._expect_num(self._expr(e.operand, scope), e.operand, "the operand of `-`")
            return _Type.NUM
        if isinstance(e, ast.Compare):
            lt, rt = self._expr(e.left, scope), self._expr(e.right, scope)
            if _Type.LABEL in (lt, rt):
                if e.op not in ("==", "!="):
                    self.bag.add("E0305", f"labels can only be compared with `==` or `!=`, not `{e.op}`", e.span)
                elif {lt, rt} - {_Type.LABEL, _Type.ANY}:
                    self.bag.add("E0305", "a label is compared with a number", e.span,
                                 hint="compare an action with one of its labels, e.g. `accept == yes`")
                else:
                    self._check_label_pair(e, game)
            elif lt == _Type.GROUP or rt == _Type.GROUP:
                self.bag.add("E0305", "a group cannot be compared", e.span)
            return _Type.BOOL
        if isinstance(e, ast.BoolOp):
            for side in (e.left, e.right):
                self._expect_bool(self._expr(side, scope), side)
            return _Type.BOOL
        if isinstance(e, ast.Not):
            self._expect_bool(self._expr(e.operand, scope), e.operand)
            return _Type.BOOL
        if isinstance(e, ast.IfExpr):
            self._expect_bool(self._expr(e.cond, scope), e.cond)
            a, b = self._expr(e.then, scope), self._expr(e.orelse, scope)
            if _Type.LABEL in (a, b):
                self.bag.add("E0305", "`if` branches must be numbers", e.span)
            return _Type.NUM
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
            return _Type.NUM
        raise AssertionError(type(e))

    def _expect_bool(self, t: str, expr) -> None:
        if t not in (_Type.BOOL, _Type.ANY):
            self.bag.add("E0305", f"a condition is needed here, but this is a {t}", expr.span,
                         hint="write a comparison such as `x > 0` or `accept == yes`")

    def _check_label_pair(self, e: ast.Compare, game: CheckedGame | None) -> None:
        if game is None:
            return
        sides = [e.left, e.right]
        info = next((self._action_of(s, game) for s in sides if self._action_of(s, game)), None)
        label = next((s for s in sides if isinstance(s, ast.Name) and s.id in game.labels), None)
        if info is not None and label is not None and label.id not in info.labels:
            self.bag.add("E0305", f"`{label.id}` is not an option of `{info.name}`", label.span,
                         hint=f"options of `{info.name}`: {', '.join(info.labels)}")

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

    def _name(self, e: ast.Name, scope: _Scope) -> str:
        name = e.id
        if scope.kind == "preference":
            if name in scope.pref_params:
                return _Type.NUM
            if name in ("self", "other") or name in scope.player_vars:
                return _Type.PLAYER
            if name == "others":
                return _Type.GROUP
            self._unknown("E0201", "name", ast.Ident(span=e.span, name=name), scope.pref_params | {"self", "other"},
                          hint="inside a preference: its parameters, `payoff(self)`, `payoff(other)`, "
                               "`kantian(...)`, and sums over `others`")
            return _Type.ANY
        game = scope.game
        assert game is not None
        if name in scope.index_vars or name in scope.let_params:
            return _Type.NUM
        if name in game.params:
            self.used_params.add((game.name, name))
            return _Type.NUM
        if name in game.labels:
            return _Type.LABEL
        if name in game.players:
            return _Type.GROUP if game.players[name].is_group else _Type.PLAYER
        if name in game.lets:
            self.used_lets.add((game.name, name))
            if game.lets[name].params:
                self.bag.add("E0209", f"helper `{name}` takes {len(game.lets[name].params)} argument(s)", e.span,
                             hint=f"write `{name}(...)`")
            return _Type.NUM
        owners = {i.owner for i in game.actions.values() if i.name == name}
        if owners:
            if len(owners) > 1:
                self.bag.add("E0210", f"`{name}` is chosen by several players; say whose", e.span,
                             hint=f"write e.g. `{sorted(owners)[0]}.{name}`")
                return _Type.ANY
            owner = next(iter(owners))
            if game.players[owner].is_group:
                self.bag.add("E0210", f"`{name}` is chosen by every member of `{owner}`; say whose", e.span,
                             hint=f"write `{owner}[i].{name}` or `sum({owner}.{name})`")
                return _Type.ANY
            info = next(i for i in game.actions.values() if i.name == name)
            return _Type.LABEL if info.is_finite_labels else _Type.NUM
        known = set(game.params) | set(game.labels) | set(game.lets) | {i.name for i in game.actions.values()}
        self._unknown("E0201", "name", ast.Ident(span=e.span, name=name), known,
                      hint=f"names in game `{game.name}`: its parameters, actions, labels and helpers")
        return _Type.ANY

    def _attr(self, e: ast.Attr, scope: _Scope) -> str:
        game = scope.game
        if game is None:
            self.bag.add("E0307", "actions cannot be named inside a preference", e.span,
                         hint="preferences see games only through `payoff(...)`")
            return _Type.ANY
        base = e.base
        if isinstance(base, ast.Name):
            if base.id not in game.players:
                self._unknown("E0205", "player", ast.Ident(span=base.span, name=base.id), game.players)
                return _Type.ANY
            player = game.players[base.id]
            vector = player.is_group
        elif isinstance(base, ast.Index):
            self._index(base, scope)
            if base.base.name not in game.players:
                return _Type.ANY
            player, vector = game.players[base.base.name], False
        else:
            self.bag.add("E0305", "only players have actions (`player.action`)", e.span)
            return _Type.ANY
        acts = [i for i in game.actions.values() if i.owner == player.name.name and i.name == e.attr.name]
        if not acts:
            self._unknown("E0206", "action", e.attr, [i.name for i in game.actions_of(player.name.name)],
                          message=f"`{player.name.name}` has no action `{e.attr.name}`")
            return _Type.ANY
        if vector:
            return _Type.VECTOR
        return _Type.LABEL if acts[0].is_finite_labels else _Type.NUM

    def _index(self, e: ast.Index, scope: _Scope) -> str:
        game = scope.game
        if game is None or e.base.name not in game.players or not game.players[e.base.name].is_group:
            known = [p for p, v in game.players.items() if v.is_group] if game else []
            self._unknown("E0205", "group", e.base, known)
            return _Type.ANY
        self._expect_num(self._expr(e.index, scope), e.index, "an index")
        return _Type.PLAYER

    def _table(self, e: ast.Table, scope: _Scope) -> str:
        game = scope.game
        if game is None:
            self.bag.add("E0307", "`table` is only allowed in games", e.span)
            return _Type.NUM
        key_labels: list[tuple[str, ...] | None] = []
        for key in e.keys:
            t = self._expr(key, scope)
            if t != _Type.LABEL and t != _Type.ANY:
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
            for lab, labels in zip(row.labels, key_labels):
                if labels is not None and lab.name not in labels:
                    self._unknown("E0206", "option", lab, labels)
            combo = tuple(lab.name for lab in row.labels)
            if combo in seen:
                self.bag.add("E0208", f"table row `{', '.join(combo)}` is given twice", row.span,
                             notes=[Note(seen[combo], "first given here")])
            seen[combo] = row.span
            self._expect_num(self._expr(row.value, scope), row.value, "a table entry")
        if all(k is not None for k in key_labels):
            total = 1
            for k in key_labels:
                total *= len(k or ())
            if len(seen) < total:
                import itertools

                missing = next(c for c in itertools.product(*key_labels) if c not in seen)  # type: ignore[arg-type]
                self.bag.add("E0306", f"table misses the row `{', '.join(missing)}`", e.span,
                             hint="give a value for every combination of labels")
        return _Type.NUM

    def _call(self, e: ast.Call, scope: _Scope) -> str:
        f = e.func.name
        game = scope.game
        if scope.kind == "game" and game is not None and f in game.lets:
            self.used_lets.add((game.name, f))
            let = game.lets[f]
            if len(e.args) != len(let.params):
                self.bag.add("E0209", f"helper `{f}` takes {len(let.params)} argument(s), got {len(e.args)}", e.span)
            for a in e.args:
                self._expect_num(self._expr(a, scope), a, "an argument")
            return _Type.NUM
        allowed = PREFERENCE_FUNCS if scope.kind == "preference" else GAME_FUNCS
        if f not in allowed:
            if f in ("payoff", "kantian"):
                self.bag.add("E0307", f"`{f}(...)` is only allowed inside a preference", e.func.span,
                             hint="game payoffs are material; preferences turn them into utilities")
                return _Type.NUM
            pool = set(allowed) | (set(game.lets) if game else set())
            self._unknown("E0207", "function", e.func, pool)
            for a in e.args:
                if not isinstance(a, ast.Binder):
                    self._expr(a, scope)
            return _Type.NUM
        if f == "payoff":
            return self._payoff_call(e, scope)
        if f == "kantian":
            if len(e.args) != 1:
                self.bag.add("E0209", f"`kantian` takes one argument, got {len(e.args)}", e.span)
                return _Type.NUM
            if scope.in_kantian:
                self.bag.add("E0307", "`kantian` cannot be nested", e.span)
            self._expect_num(self._expr(e.args[0], scope.child(in_kantian=True)), e.args[0], "`kantian`'s argument")
            return _Type.NUM
        if f in UNARY_FUNCS:
            if len(e.args) != 1 or isinstance(e.args[0], ast.Binder):
                self.bag.add("E0209", f"`{f}` takes one argument, got {len(e.args)}", e.span)
                return _Type.NUM
            self._expect_num(self._expr(e.args[0], scope), e.args[0], f"`{f}`'s argument")
            return _Type.NUM
        # aggregates and min/max
        if len(e.args) == 1 and isinstance(e.args[0], ast.Binder):
            return self._binder(e.args[0], scope, f)
        if len(e.args) == 1 and f in AGGREGATES:
            t = self._expr(e.args[0], scope)
            if t == _Type.GROUP and scope.kind == "preference":
                self.bag.add("E0305", f"write `{f}(j in others: payoff(j))`", e.args[0].span)
            elif t not in (_Type.VECTOR, _Type.ANY):
                if f in ("sum", "mean"):
                    self.bag.add("E0305", f"`{f}` needs a group's action (e.g. `{f}(member.give)`) or "
                                 "`j in group: ...`", e.args[0].span)
            return _Type.NUM
        if f in ("sum", "mean"):
            self.bag.add("E0209", f"`{f}` takes one argument, got {len(e.args)}", e.span)
            return _Type.NUM
        if len(e.args) < 2:
            self.bag.add("E0209", f"`{f}` takes at least two arguments, got {len(e.args)}", e.span)
        for a in e.args:
            if isinstance(a, ast.Binder):
                self.bag.add("E0307", "`j in group: ...` must be the only argument", a.span)
                continue
            self._expect_num(self._expr(a, scope), a, f"an argument of `{f}`")
        return _Type.NUM

    def _binder(self, b: ast.Binder, scope: _Scope, f: str) -> str:
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
        return _Type.NUM

    def _payoff_call(self, e: ast.Call, scope: _Scope) -> str:
        if len(e.args) != 1:
            self.bag.add("E0209", f"`payoff` takes one argument (`self`, `other` or a variable), got {len(e.args)}",
                         e.span)
            return _Type.NUM
        arg = e.args[0]
        if not (isinstance(arg, ast.Name) and (arg.id in ("self", "other") or arg.id in scope.player_vars)):
            self.bag.add("E0305", "`payoff` takes `self`, `other`, or a variable bound over `others`", arg.span)
        if scope.in_kantian and isinstance(arg, ast.Name) and arg.id != "self":
            pass  # everyone's payoff under universalisation is well defined
        return _Type.NUM


def _walk(expr) -> Iterator:
    """Yield every node of an expression tree (iteratively, so deep trees are fine)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        yield node
        if isinstance(node, (ast.BinOp, ast.Compare, ast.BoolOp)):
            stack.extend((node.left, node.right))
        elif isinstance(node, (ast.Neg, ast.Not)):
            stack.append(node.operand)
        elif isinstance(node, ast.IfExpr):
            stack.extend((node.cond, node.then, node.orelse))
        elif isinstance(node, ast.Attr):
            stack.append(node.base)
        elif isinstance(node, ast.Index):
            stack.append(node.index)
        elif isinstance(node, ast.Call):
            stack.extend(node.args)
        elif isinstance(node, ast.Binder):
            stack.extend((node.where, node.body))
        elif isinstance(node, ast.Table):
            stack.extend(node.keys)
            stack.extend(r.value for r in node.rows)


walk = _walk


def check_file(path: str) -> CheckedSpec:
    """Load, parse and check a .pref file and everything it uses.

    Args:
        path: The main file.

    Returns:
        The checked spec, with warnings in ``diagnostics``.

    Raises:
        CompileError: with every error (and warning) found, sorted by location.
    """
    bag = DiagnosticBag()
    try:
        spec = Checker(bag).check(path)
    except RecursionError:
        bag.add("E0006", "expression nested too deeply to compile", None, hint="name intermediate values with `let`")
        spec = None
    bag.items.sort(key=_order)
    if bag.has_errors or spec is None:
        raise CompileError(bag.items, bag.sources)
    spec.diagnostics = [d for d in bag.items if not d.is_error]
    return spec


def _order(d: Diagnostic):
    if d.span is None:
        return ("", 0, 0)
    return (d.span.file, d.span.start, d.span.end)
