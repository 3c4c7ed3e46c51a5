"""Declaration checks of a whole spec: its headers, literal powers, preferences, the collection of
its games and builds (checked in :mod:`.games` and :mod:`.builds`), and the unused warnings.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from prefc.compiler import ast
from prefc.compiler.check.builds import BuildChecker
from prefc.compiler.check.constants import (
    MAX_LITERAL_MAGNITUDE,
    NotConstant,
    eval_const,
    literal_magnitude,
    magnitude_text,
)
from prefc.compiler.check.expressions import Scope
from prefc.compiler.check.games import GameChecker
from prefc.compiler.check.model import CheckedGame, CheckedPreference, CheckedSpec
from prefc.compiler.check.uses import load_files, spec_digest
from prefc.compiler.check.walk import walk
from prefc.compiler.diagnostics import DiagnosticBag, Note
from prefc.compiler.paths import spec_name_from_path
from prefc.compiler.source import Span
from prefc.numbers import value_text

__all__ = ["Checker"]


class Checker(GameChecker, BuildChecker):
    """Runs every semantic check over the loaded files and builds the :class:`CheckedSpec`."""

    def __init__(self, bag: DiagnosticBag):
        super().__init__(bag)
        self._current_game = ""

    # -- entry ------------------------------------------------------------------
    def check(self, path: str) -> CheckedSpec | None:
        files, main = load_files(path, self.bag)
        if main is None:
            return None
        sources = {src.path: src for src, _ in files}
        for extra in main.headers[1:]:
            self.bag.add(
                "E0103",
                "more than one `spec` header",
                extra.span,
                notes=[Note(main.headers[0].span, "the first header")],
            )
        for _, tree in files:
            self._check_literal_powers(tree)
        preferences = self._collect_preferences(files, main)
        games = self._collect_games(files, main)
        builds = self._check_builds(main, games, preferences)
        self._warn_unused(main, games, preferences, builds)
        name = main.header.name.name if main.header else spec_name_from_path(path)
        if name is None:
            main_src = files[-1][0]
            self.bag.add(
                "E0105",
                f"the file name `{Path(path).name}` gives no spec name",
                main_src.span(0, 0),
                label="a spec name is a name: letters, digits and `_`",
                hint='add a header such as `spec my_spec "Title"` at the top of the file, or rename it',
            )
            name = "_"
        title = main.header.title if main.header and main.header.title else name
        sha = spec_digest(name, (src.text for src, _ in files))
        return CheckedSpec(
            name=name,
            title=title,
            path=path,
            sha256=sha,
            sources=sources,
            games=games,
            preferences=preferences,
            builds=builds,
            diagnostics=[d for d in self.bag.items if not d.is_error],
        )

    def _check_literal_powers(self, tree: ast.File) -> None:
        """E0008 for a power of plain numbers too large for any later stage (``2^2^2^2^2^2^2``):
        exact arithmetic would try to write out a number of millions of digits."""
        stack: list = [tree]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.BinOp) and node.op == "^":
                magnitude = literal_magnitude(node)
                if magnitude is not None and magnitude > MAX_LITERAL_MAGNITUDE:
                    self.bag.add(
                        "E0008",
                        "this power of numbers is too large to compute",
                        node.span,
                        label=f"about 10^{magnitude_text(magnitude)}",
                        hint=f"constant values are limited to about 10^{MAX_LITERAL_MAGNITUDE}",
                    )
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
                self.bag.add(
                    "W0402",
                    f"preference `{pref.name.name}` is declared but no build uses it",
                    pref.name.span,
                    hint="add it to a `dataset` or `rubric`, or move it to a library file",
                )

    # -- preferences and the collection of games ----------------------------------------
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
                        self.bag.add(
                            "E0303",
                            f"domain of `{p.name.name}` is empty: {value_text(lo)} > {value_text(hi)}",
                            p.domain.span,
                            hint="write the lower bound first",
                        )
                    else:
                        dom = (lo, hi)
                except NotConstant:
                    self.bag.add(
                        "E0305", f"the domain of preference parameter `{p.name.name}` must be numbers", p.domain.span
                    )
            default = None
            if p.default is not None:
                try:
                    default = eval_const(p.default, {})
                except NotConstant:
                    self.bag.add("E0305", f"the default of `{p.name.name}` must be a number", p.default.span)
                if default is not None and dom is not None and not dom[0] <= default <= dom[1]:
                    self.bag.add(
                        "E0304",
                        f"default {value_text(default)} of `{p.name.name}` is outside "
                        f"[{value_text(dom[0])}, {value_text(dom[1])}]",
                        p.default.span,
                    )
            defaults[p.name.name] = default
            domains[p.name.name] = dom
        scope = Scope("preference", pref_params=set(defaults))
        t = self._expr(pref.body, scope)
        self._expect_num(t, pref.body, "a preference")
        if not self._mentions_payoff(pref.body):
            self.bag.add(
                "E0307",
                f"preference `{pref.name.name}` never uses `payoff(...)`",
                pref.body.span,
                hint="a preference is a utility built from material payoffs, e.g. `payoff(self)`",
            )
        return CheckedPreference(pref, origin, defaults, domains)

    @staticmethod
    def _mentions_payoff(expr) -> bool:
        return any(isinstance(n, ast.Call) and n.func.name == "payoff" for n in walk(expr))

    def _collect_games(self, files, main) -> dict[str, CheckedGame]:
        games: dict[str, CheckedGame] = {}
        for _src, tree in files:
            for game in tree.games:
                if game.name.name in games:
                    self._duplicate("game", game.name, games[game.name.name].ast.name.span)
                    continue
                checked = self._check_game(game)
                if checked is not None:
                    games[game.name.name] = checked
        return games
