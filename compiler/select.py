"""Resolving names given outside a spec (command-line options, Python API arguments): games,
preference applications and parameter settings, with the same located, did-you-mean diagnostics
as ``prefc check``."""

from __future__ import annotations

import re
from fractions import Fraction

from prefc.compiler import ast
from prefc.compiler.check import CheckedSpec, PreferencePoint, check_preference_application
from prefc.compiler.diagnostics import (
    CompileError,
    DiagnosticBag,
    did_you_mean,
    render_all,
)
from prefc.compiler.parse import parse_preference_app
from prefc.compiler.source import SourceFile
from prefc.errors import SpecError

_SETTING = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(-?[0-9]+(?:\.[0-9]+)?(?:/[0-9]+)?)\s*$")


class SelectionError(SpecError):
    """Bad command-line names; ``text`` is the rendered diagnostics."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _fail(bag: DiagnosticBag, sources: dict[str, SourceFile]) -> None:
    raise SelectionError(render_all(bag.items, sources))


def select_game(spec: CheckedSpec, name: str) -> str:
    """Check that ``name`` is a game of the spec.

    Args:
        spec: The checked spec.
        name: The game name given with ``--game``.
    """
    if name in spec.games:
        return name
    src = SourceFile("--game", name)
    bag = DiagnosticBag()
    near = did_you_mean(name, spec.games)
    bag.add(
        "E0202",
        f"unknown game `{name}`",
        src.span(0, len(name)),
        label=f"did you mean `{near}`?" if near else "not defined",
        hint=f"games in {spec.path}: {', '.join(spec.games)}",
    )
    _fail(bag, {"--game": src})
    raise AssertionError


def select_preferences(spec: CheckedSpec, text: str) -> list[PreferencePoint]:
    """Parse and check a preference application such as ``moralis(kappa=0.6)``.

    Args:
        spec: The checked spec.
        text: The ``--preference`` value.
    """
    try:
        src, app = parse_preference_app(text)
    except CompileError as exc:
        raise SelectionError(render_all(exc.diagnostics, {"--preference": SourceFile("--preference", text)})) from None
    bag = DiagnosticBag()
    points = check_preference_application(app, spec.preferences, bag=bag)
    if bag.has_errors:
        _fail(bag, {"--preference": src})
    return points


def parse_settings(spec: CheckedSpec, game: str, settings: list[str]) -> dict[str, Fraction]:
    """Parse ``--set NAME=VALUE`` options for a game's parameters.

    Args:
        spec: The checked spec.
        game: The game they apply to.
        settings: The raw option values.
    """
    params = spec.games[game].params
    out: dict[str, Fraction] = {}
    spans: dict[str, tuple[str, object]] = {}
    bag = DiagnosticBag()
    sources: dict[str, SourceFile] = {}
    for i, text in enumerate(settings):
        origin = f"--set #{i + 1}"
        src = SourceFile(origin, text)
        sources[origin] = src
        m = _SETTING.match(text)
        if not m:
            bag.add(
                "E0310",
                f"cannot read the setting `{text}`",
                src.span(0, len(text)),
                label="expected NAME=NUMBER",
                hint="e.g. --set T=6 or --set m=1.6",
            )
            continue
        name, value = m.group(1), m.group(2)
        if name not in params:
            near = did_you_mean(name, params)
            bag.add(
                "E0204",
                f"game `{game}` has no parameter `{name}`",
                src.span(m.start(1), m.end(1)),
                label=f"did you mean `{near}`?" if near else "not defined",
                hint=f"its parameters: {', '.join(params) or 'none'}",
            )
            continue
        try:
            out[name] = Fraction(value)
        except ZeroDivisionError:
            bag.add(
                "E0310", f"`{value}` is not a finite number", src.span(m.start(2), m.end(2)), label="division by zero"
            )
            continue
        p = params[name]
        if isinstance(p.domain, ast.IntRange) and out[name].denominator != 1:
            bag.add("E0304", f"`{name}` is a whole number", src.span(m.start(2), m.end(2)))
        spans[name] = (origin, src.span(m.start(2), m.end(2)))
    if not bag.has_errors and out:
        _check_point(spec, game, out, spans, bag)
    if bag.has_errors:
        _fail(bag, sources)
    return out


def _check_point(spec: CheckedSpec, game: str, values: dict[str, Fraction], spans, bag: DiagnosticBag) -> None:
    """The settings checked as the same values written in the spec would be: domains, group sizes,
    empty action intervals (located at the setting that causes them)."""
    from prefc.compiler.ir import lower_game
    from prefc.compiler.solve.concept import SolveError
    from prefc.compiler.solve.points import validate_point

    try:
        validate_point(lower_game(spec.games[game]), values)
    except SolveError as exc:
        message = str(exc)
        culprit = next((n for n in values if f"`{n}`" in message), next(iter(values)))
        _, span = spans[culprit]
        code = "E0303" if "empty" in message else "E0304"
        bag.add(code, message, span, label="set here", hint="choose a value the game's domains allow")
