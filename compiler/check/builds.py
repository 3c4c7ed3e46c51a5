"""Build checks (``dataset`` and ``rubric`` blocks: names, games, settings, hold-outs) and the
preference applications they list (``moralis(kappa = 0.2, 0.5)``), which runtimes name too.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

from prefc.compiler import ast
from prefc.compiler.check.expressions import ExpressionChecker, report_unknown
from prefc.compiler.check.model import CheckedBuild, CheckedGame, CheckedPreference, PreferencePoint
from prefc.compiler.check.walk import walk
from prefc.compiler.diagnostics import DiagnosticBag, Note, did_you_mean
from prefc.compiler.paths import PathRefused, SpecTree
from prefc.numbers import value_text

__all__ = [
    "MAX_REPEAT_HISTORY",
    "REPEAT_HISTORY",
    "RESERVED_BUILD_NAMES",
    "RUBRIC_SELECTIONS",
    "BuildChecker",
    "check_preference_application",
    "market_shape_refusal",
]

# Names a build may not take: the files every build writes beside the blocks' own
# (`manifest.json`, `solutions.jsonl`). Compared without case, as some file systems do.
RESERVED_BUILD_NAMES = frozenset({"manifest", "solutions"})
RUBRIC_SELECTIONS = ("all", "discriminating")
REPEAT_HISTORY = 3
"""Rounds of history a ``repeat`` dataset's rows show when the block does not say (``history H``)."""
MAX_REPEAT_HISTORY = 20
"""The most rounds of history a ``repeat`` dataset's rows may show."""


def market_shape_refusal(game: CheckedGame) -> str | None:
    """Why a checked game cannot be a repeated market by its shape alone, or None when it may be (a
    group whose size depends on parameters is decided when the rows are drawn).

    Args:
        game: A :class:`CheckedGame`.
    """
    if not game.ast.symmetric:
        return "its players are not declared `symmetric`"
    if len(game.stages) != 1:
        return "its moves are sequential"
    own = game.actions_of(next(iter(game.players))) if game.players else []
    if len(own) != 1:
        return f"each player has {len(own)} actions"
    action = own[0]
    if not isinstance(action.domain, ast.Interval):
        return f"its action `{action.name}` is not continuous (an interval)"
    group = game.group
    if group is None:
        if len(game.players) != 2:
            return f"it has {len(game.players)} players"
    elif isinstance(group.lo, ast.Number) and isinstance(group.hi, ast.Number):
        size = group.hi.value - group.lo.value + 1
        if size != 2:
            return f"it has {value_text(size)} players"
    return None


class BuildChecker(ExpressionChecker):
    """The checks of the main file's builds; :meth:`_check_builds` returns them checked."""

    def _check_builds(self, main: ast.File, games, prefs) -> dict[str, CheckedBuild]:
        builds: dict[str, CheckedBuild] = {}
        folded: dict[str, ast.Build] = {}
        for b in main.builds:
            if b.name.name in builds:
                self._duplicate(b.kind, b.name, builds[b.name.name].ast.name.span)
                continue
            key = b.name.name.lower()
            if key in RESERVED_BUILD_NAMES:
                self.bag.add(
                    "E0311",
                    f"`{b.name.name}` is a reserved name: every build writes `{key}."
                    f"{'json' if key == 'manifest' else 'jsonl'}`",
                    b.name.span,
                    label="would overwrite the build's own file",
                    hint=f"rename the {b.kind}; reserved: {', '.join(sorted(RESERVED_BUILD_NAMES))}",
                )
            elif key in folded:
                self.bag.add(
                    "E0311",
                    f"`{b.name.name}` and `{folded[key].name.name}` differ only in case",
                    b.name.span,
                    label="would share files where names ignore case",
                    notes=[Note(folded[key].name.span, "the other block")],
                    hint="give the blocks names that differ in more than case",
                )
            folded.setdefault(key, b)
            points: list[PreferencePoint] = []
            for app in b.preferences:
                points.extend(check_preference_application(app, prefs, bag=self.bag))
            seen_points: set[str] = set()
            for pt, app in zip(points, b.preferences, strict=False):
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
                self.bag.add(
                    "E0308", f"{b.kind} `{b.name.name}` names no games", b.name.span, hint="add `games NAME, ...`"
                )
            for g in b.holdout_games:
                if g.name not in games:
                    self._unknown("E0202", "game", g, games)
                elif g.name not in names:
                    names.append(g.name)
            self._check_build_settings(b, games, names)
            if b.kind == "rubric" and b.select is not None and b.select.name == "discriminating" and len(points) < 2:
                self.bag.add(
                    "E0308",
                    "`select discriminating` needs at least two preferences to tell apart",
                    b.settings_spans["select"],
                    hint="list two or more preferences after `for`",
                )
            builds[b.name.name] = CheckedBuild(b, points, names)
        return builds

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
            total = sum((v for _, v in b.split), Fraction(0))
            known = {"train", "val", "test"}
            for ident, value in b.split:
                if ident.name not in known:
                    self._unknown("E0308", "split", ident, known)
                if not 0 <= value <= 1:
                    self.bag.add("E0308", f"split fraction {value_text(value)} is not between 0 and 1", ident.span)
            if total != 1:
                self.bag.add("E0308", f"split fractions add up to {value_text(total)}, not 1", spans["split"])
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
                self.bag.add(
                    "E0308",
                    f"paraphrase {p} does not exist (paraphrases are numbered from 0)",
                    spans["holdout_paraphrases"],
                )
        if b.template is not None and b.template != "default":
            try:
                SpecTree.of(b.span.file).resolve_template_dir(
                    Path(os.path.realpath(Path(b.span.file).absolute())), b.template
                )
            except PathRefused as refused:
                self.bag.add(
                    "E0104" if refused.code == "E0104" else "E0308",
                    refused.message,
                    spans.get("template", b.span),
                    label=refused.label,
                    hint=refused.hint,
                )
        if b.repeat_rounds is not None:
            self._check_repeat(b, games, names)
        all_params = {n for g in names if g in games for n in games[g].params}
        for cond in b.holdout_where:
            for n in walk(cond):
                if isinstance(n, ast.Name) and n.id not in all_params:
                    self._unknown(
                        "E0204",
                        "parameter",
                        ast.Ident(span=n.span, name=n.id),
                        all_params,
                        hint="`holdout where` conditions use parameters of the build's games",
                    )

    def _check_repeat(self, b: ast.Build, games, names) -> None:
        span = b.settings_spans["repeat"]
        if b.kind == "rubric":
            self.bag.add(
                "E0308",
                "`repeat` belongs to datasets",
                span,
                hint="a rubric asks one-shot questions; put `repeat N rounds` in a dataset block",
            )
            return
        assert b.repeat_rounds is not None
        history = REPEAT_HISTORY if b.repeat_history is None else b.repeat_history
        if b.repeat_rounds < 2:
            self.bag.add(
                "E0310",
                "a repeated dataset needs at least 2 rounds",
                span,
                hint="rows show the rounds before the one asked; write e.g. `repeat 300 rounds`",
            )
        if not 1 <= history <= MAX_REPEAT_HISTORY:
            self.bag.add(
                "E0310",
                f"`history` must be between 1 and {MAX_REPEAT_HISTORY} rounds, not {history}",
                span,
                label="rounds of history each row shows",
            )
        elif b.repeat_rounds >= 2 and history >= b.repeat_rounds:
            self.bag.add(
                "E0308",
                f"`history {history}` shows as many rounds as the game has ({b.repeat_rounds})",
                span,
                hint="show fewer rounds than are played",
            )
        if b.holdout_games or b.holdout_where or b.holdout_paraphrases:
            self.bag.add(
                "E0308",
                "`holdout` settings do not apply to a `repeat` dataset",
                b.settings_spans.get("holdout_games")
                or b.settings_spans.get("holdout_where")
                or b.settings_spans.get("holdout_paraphrases")
                or span,
                hint="its rows are drawn histories of one market; divide them with `split`",
            )
        for g in b.games:
            game = games.get(g.name)
            why = None if game is None else market_shape_refusal(game)
            if why is not None:
                self.bag.add(
                    "E0312",
                    f"dataset `{b.name.name}` repeats game `{g.name}`, which is not a repeated market: {why}",
                    g.span,
                    label="not a symmetric two-player game with one continuous action",
                    notes=[Note(span, "rows are rounds of a repeated market")],
                    hint="list only games like `players firm[1..2] symmetric` with "
                    "`each firm chooses price in [lo, hi]`, or drop `repeat`",
                )


def check_preference_application(
    app: ast.PrefApp, prefs: dict[str, CheckedPreference], *, bag: DiagnosticBag
) -> list[PreferencePoint]:
    """The preference points an application names (``moralis(kappa = 0.2, 0.5)`` is two), every
    mistake in it reported into the bag (then the points may be none or fewer).

    Args:
        app: The application as parsed.
        prefs: The checked preferences it may name, by name.
        bag: Where diagnostics go.
    """
    if app.name.name not in prefs:
        report_unknown(
            bag,
            "E0203",
            "preference",
            app.name,
            prefs,
            hint="preferences are declared with `preference NAME = ...` or imported with `use`",
        )
        return []
    pref = prefs[app.name.name]
    given: dict[str, list[Fraction]] = {}
    for arg in app.args:
        if arg.name.name not in pref.defaults:
            near = did_you_mean(arg.name.name, pref.defaults)
            bag.add(
                "E0204",
                f"preference `{pref.name}` has no parameter `{arg.name.name}`",
                arg.name.span,
                label=f"did you mean `{near}`?"
                if near
                else ("it takes no parameters" if not pref.defaults else f"its parameters: {', '.join(pref.defaults)}"),
            )
            continue
        if arg.name.name in given:
            bag.add("E0208", f"parameter `{arg.name.name}` is given twice", arg.name.span)
            continue
        dom = pref.domains.get(arg.name.name)
        if dom is not None:
            for v in arg.values:
                if not dom[0] <= v <= dom[1]:
                    bag.add(
                        "E0304",
                        f"{arg.name.name} = {value_text(v)} is outside its domain "
                        f"[{value_text(dom[0])}, {value_text(dom[1])}]",
                        arg.span,
                        hint=f"`{pref.name}` declares `{arg.name.name} in "
                        f"[{value_text(dom[0])}, {value_text(dom[1])}]`",
                    )
        given[arg.name.name] = list(arg.values)
    missing = [k for k, v in pref.defaults.items() if v is None and k not in given]
    if missing:
        bag.add(
            "E0209",
            f"preference `{pref.name}` needs a value for `{missing[0]}`",
            app.span,
            hint=f"write `{pref.name}({missing[0]} = ...)`",
        )
        return []
    combos: list[dict[str, Fraction]] = [{}]
    for k, default in pref.defaults.items():
        vals = given.get(k) or [default]  # type: ignore[list-item]  # a missing default was refused above
        combos = [{**c, k: v} for c in combos for v in vals]
    return [PreferencePoint(pref.name, tuple(c.items())) for c in combos]
