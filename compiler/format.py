"""``prefc fmt``: rewrite a .pref file in canonical layout, keeping its order and its comments.

Text is parsed (with its comments) and each declaration and statement is printed again by
:mod:`prefc.compiler.pretty`, in the file's own order. Layout rules:

- four spaces per block level, one statement per line; statements that shared a line in the
  source keep sharing it (three spaces apart) while the line fits;
- blank lines inside blocks are kept (at most one in a row); top-level declarations are separated
  by one blank line, except runs of ``use`` lines and of one-line preferences;
- consecutive one-line ``payoff`` statements align their ``=``;
- a comment on its own line stays before what follows it; a comment after code stays after it
  (two spaces before ``#``); inside a table, a ``param`` list or a broken sum it stays with its
  row, parameter or term; anywhere else inside a statement it moves to the line above it.

The result is checked before it is returned: it must parse to the same syntax tree (spans aside)
and hold the same comments in the same order; otherwise :class:`FormatError` is raised and
nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lark import Token, Tree

from prefc.compiler import ast, pretty
from prefc.compiler.parse import parse_text, parser
from prefc.compiler.source import SourceFile

__all__ = ["FormatError", "format_text", "same_tree"]

_BLANK = re.compile(r"\n[ \t\r\f\v]*\n")
_JOIN = "   "


class FormatError(Exception):
    """The formatted text would not mean what the original meant (a formatter bug: nothing is written)."""


@dataclass
class _Unit:
    """One declaration or statement: its source span and its printed lines."""

    start: int
    end: int
    lines: list[str]
    kind: str = ""
    above: list[ast.Comment] = field(default_factory=list)  # its inner comments that move above it
    relayout: Callable[[int], list[str]] | None = None  # payoffs: the lines with the target padded
    target: int = 0


def format_text(text: str, *, path: str = "<input>", width: int = pretty.WIDTH) -> str:
    """Format .pref text.

    Args:
        text: The source text.
        path: The name used in diagnostics.
        width: The line width the layout aims for.

    Raises:
        CompileError: the text does not parse (located diagnostics).
        FormatError: the formatted text would not mean the same (a bug; the caller writes nothing).
    """
    comments: list[ast.Comment] = []
    original = parse_text(text, path, comments=comments)
    tree = parser().parse(text, start="start")
    try:
        out = _Formatter(SourceFile(path, text), original, comments, width).file(tree)
    except Exception as exc:  # noqa: BLE001 - a construct the layout does not know is a formatter bug
        raise FormatError(f"{path}: cannot lay out the file ({type(exc).__name__}: {exc})") from exc
    _verify(original, comments, out, path)
    return out


def _strip(obj):
    if isinstance(obj, dict):
        return {
            k: _strip(v) for k, v in obj.items() if k not in ("span", "settings_spans", "players_span", "path", "text")
        }
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def same_tree(a: ast.File, b: ast.File) -> bool:
    """Whether two parsed files are the same spec: equal syntax trees, spans and number spellings aside.

    Args:
        a: One file.
        b: The other.
    """
    return _strip(json.loads(a.model_dump_json())) == _strip(json.loads(b.model_dump_json()))


def _verify(original: ast.File, comments: list[ast.Comment], out: str, path: str) -> None:
    again: list[ast.Comment] = []
    try:
        formatted = parse_text(out, path, comments=again)
    except Exception as exc:  # noqa: BLE001 - any failure here is the formatter's, not the user's
        raise FormatError(f"{path}: the formatted text does not parse ({exc})") from None
    if not same_tree(original, formatted):
        raise FormatError(f"{path}: the formatted text would change the spec's meaning")
    if [c.text.rstrip() for c in comments] != [c.text for c in again]:
        raise FormatError(f"{path}: the formatted text would lose or reorder comments")


class _Formatter:
    def __init__(self, src: SourceFile, file: ast.File, comments: list[ast.Comment], width: int):
        self.src = src
        self.text = src.text
        self.width = width
        self.comments = comments
        self.nodes: dict[int, Any] = {}
        for item in [*file.headers, *file.uses, *file.preferences, *file.games, *file.builds]:
            self.nodes[item.span.start] = item
        for g in file.games:
            for node in [*g.payoffs, *g.lets]:
                self.nodes[node.span.start] = node
        self.params = [p for g in file.games for p in g.params]

    # -- helpers ---------------------------------------------------------------------------
    def line(self, offset: int) -> int:
        return self.src.position(offset)[0]

    def inside(self, start: int, end: int) -> list[ast.Comment]:
        return [c for c in self.comments if start <= c.span.start < end]

    def blank(self, start: int, end: int) -> bool:
        return bool(_BLANK.search(self.text, start, max(start, end))) if end > start else False

    @staticmethod
    def _bounds(node) -> tuple[int, int]:
        if isinstance(node, Token):
            return node.start_pos or 0, node.end_pos or 0
        return node.meta.start_pos, node.meta.end_pos

    def _open_brace(self, after: int) -> int:
        """The offset of the ``{`` that opens a block, skipping whitespace and comments."""
        i = after
        while self.text[i] != "{":
            i = self.text.index("\n", i) if self.text[i] == "#" else i + 1
        return i

    def _attach(self, parts: list[tuple[int, int]], comments: list[ast.Comment]):
        """Give each comment to a part: after the part it shares a line with, else before the next."""
        leading: list[list[ast.Comment]] = [[] for _ in parts]
        trailing: list[ast.Comment | None] = [None] * len(parts)
        rest: list[ast.Comment] = []
        for c in comments:
            i = sum(end <= c.span.start for _, end in parts)
            if i and trailing[i - 1] is None and self.line(parts[i - 1][1]) == c.span.line:
                trailing[i - 1] = c
            elif i < len(parts):
                leading[i].append(c)
            else:
                rest.append(c)
        return leading, trailing, rest

    @staticmethod
    def _comment_after(line: str, c: ast.Comment | None) -> str:
        return f"{line}  {c.text.rstrip()}" if c is not None else line

    # -- the file ----------------------------------------------------------------------------
    def file(self, tree: Tree) -> str:
        units = [self._item(item) for item in tree.children]
        between = [c for c in self.comments if not any(u.start <= c.span.start < u.end for u in units)]
        lines = self._body(units, between, "", top=True, start=0, header_line=None)[0]
        return "\n".join(lines) + "\n" if lines else ""

    def _item(self, item: Tree) -> _Unit:
        start, end = self._bounds(item)
        node = self.nodes[start]
        kind = item.data
        if kind == "spec_decl":
            return _Unit(start, end, [pretty.spec_header(node)], kind, above=self.inside(start, end))
        if kind == "use_decl":
            return _Unit(start, end, [pretty.use(node)], kind, above=self.inside(start, end))
        if kind == "preference_decl":
            return self._expression_unit(
                start, end, kind, pretty.preference_head(node), node.body, "", body_on_next_line=True
            )
        is_head = [not isinstance(c, Tree) or c.data in ("title", "pref_apps") for c in item.children]
        children = [c for c, head in zip(item.children, is_head, strict=False) if not head]
        last_head = [c for c, head in zip(item.children, is_head, strict=False) if head][-1]
        brace = self._open_brace(self._bounds(last_head)[1])
        header = pretty.game_header(node) if kind == "game_decl" else pretty.build_header(node)
        statements = [self._statement(stmt, kind) for stmt in children]
        inner = [
            c for c in self.inside(brace + 1, end - 1) if not any(u.start <= c.span.start < u.end for u in statements)
        ]
        body, header_comment = self._body(
            statements, inner, pretty.INDENT, top=False, start=brace + 1, header_line=self.line(brace)
        )
        lines = [self._comment_after(header, header_comment), *body, "}"]
        return _Unit(start, end, lines, kind, above=self.inside(start, brace))

    # -- statements --------------------------------------------------------------------------
    def _statement(self, stmt: Tree, block: str) -> _Unit:
        start, end = self._bounds(stmt)
        kind = stmt.data
        indent = pretty.INDENT
        if kind in ("payoff_stmt", "payoff_indexed", "let_stmt"):
            node = self.nodes[start]
            if isinstance(node, ast.Let):
                return self._expression_unit(start, end, kind, pretty.let_head(node), node.value, indent)
            target = pretty.payoff_target(node)
            unit = self._expression_unit(start, end, "payoff", target + " = ", node.value, indent)
            if len(unit.lines) == 1:
                unit.target = len(target)
                value = node.value

                def relayout(w: int) -> list[str]:
                    return pretty.layout(target.ljust(w) + " = ", value, indent=indent, width=self.width)

                unit.relayout = relayout
            return unit
        if kind == "param_stmt":
            return self._param_unit(start, end, [p for p in self.params if start <= p.span.start < end])
        text = self.text[start:end]
        if block == "game_decl":
            g = parse_text(f"game _ {{\n{text}\n}}\n").games[0]
            line = {
                "players_stmt": lambda: pretty.players(g.players, g.symmetric),
                "move_stmt": lambda: pretty.move(g.moves[0]),
                "repeat_stmt": lambda: pretty.repeat(g.repeat),
                "kantian_stmt": lambda: pretty.kantian(g.kantian),  # type: ignore[arg-type]
                "solve_stmt": lambda: pretty.solve(g.concept),  # type: ignore[arg-type]
                "belief_stmt": lambda: pretty.belief(g.beliefs[0]),
            }[kind]()
        else:
            b = parse_text(f"dataset _ for _ {{\n{text}\n}}\n").builds[0]
            written = [c for c in stmt.children if isinstance(c, Token)]
            if kind == "samples_stmt":  # say the unit only where the source says it
                assert b.samples is not None
                line = pretty.samples(b.samples, b.samples_per if len(written) > 1 else None)
            elif kind == "tolerance_stmt":  # keep `5%` or `0.05` as written
                assert b.tolerance is not None
                line = pretty.tolerance(b.tolerance, percent=any(t.type == "PERCENT" for t in written))
            else:
                settings = pretty.build_settings(b)
                assert len(settings) == 1, settings
                line = settings[0]
        return _Unit(start, end, [indent + line], kind, above=self.inside(start, end))

    def _expression_unit(
        self, start: int, end: int, kind: str, head: str, value, indent: str, *, body_on_next_line: bool = False
    ) -> _Unit:
        comments = self.inside(start, end)
        if not comments:
            return _Unit(
                start,
                end,
                pretty.layout(head, value, indent=indent, width=self.width, body_on_next_line=body_on_next_line),
                kind,
            )
        open_at = self._open_brace(value.keys[-1].span.end) if isinstance(value, ast.Table) else 0
        in_rows = [c for c in comments if c.span.start > open_at]
        if isinstance(value, ast.Table) and in_rows:
            lines = pretty.layout(head, value, indent=indent, width=self.width, grid=False)
            leading, trailing, rest = self._attach([(r.span.start, r.span.end) for r in value.rows], in_rows)
            rows: list[str] = []
            for i, line in enumerate(lines[1:-1]):
                rows.extend(indent + pretty.INDENT + c.text.rstrip() for c in leading[i])
                rows.append(self._comment_after(line, trailing[i]))
            rows.extend(indent + pretty.INDENT + c.text.rstrip() for c in rest)
            return _Unit(
                start, end, [lines[0], *rows, lines[-1]], kind, above=[c for c in comments if c.span.start <= open_at]
            )
        terms = pretty.chain(value)
        spans = [(node.span.start, node.span.end) for _, node in terms]  # type: ignore[attr-defined]
        if len(terms) == 1 or all(c.span.start < spans[0][1] for c in comments):
            return _Unit(
                start,
                end,
                pretty.layout(head, value, indent=indent, width=self.width, body_on_next_line=body_on_next_line),
                kind,
                above=comments,
            )
        lines = pretty.layout(
            head, value, indent=indent, width=self.width, body_on_next_line=body_on_next_line, break_terms=True
        )
        first = len(lines) - len(terms)
        leading, trailing, _ = self._attach(spans, [c for c in comments if c.span.start >= spans[0][0]])
        above = [c for c in comments if c.span.start < spans[0][0]] + leading[0]
        out = lines[:first]
        for i, line in enumerate(lines[first:]):
            if i:
                out.extend(_indent_of(line) + c.text.rstrip() for c in leading[i])
            out.append(self._comment_after(line, trailing[i]))
        return _Unit(start, end, out, kind, above=above)

    def _param_unit(self, start: int, end: int, params: list[ast.Param]) -> _Unit:
        indent = pretty.INDENT
        comments = self.inside(start, end)
        if not comments:
            return _Unit(start, end, pretty.params_lines(params, indent=indent, width=self.width), "param_stmt")
        leading, trailing, _ = self._attach([(p.span.start, p.span.end) for p in params], comments)
        if not any(trailing) and not any(leading[1:]):
            return _Unit(
                start, end, pretty.params_lines(params, indent=indent, width=self.width), "param_stmt", above=comments
            )
        lines = pretty.params_lines(params, indent=indent, width=0)  # one parameter per line
        out: list[str] = []
        for i, line in enumerate(lines):
            if i:
                out.extend(_indent_of(line) + c.text.rstrip() for c in leading[i])
            out.append(self._comment_after(line, trailing[i]))
        return _Unit(start, end, out, "param_stmt", above=leading[0])

    # -- blocks ------------------------------------------------------------------------------
    def _body(
        self,
        units: list[_Unit],
        comments: list[ast.Comment],
        indent: str,
        *,
        top: bool,
        start: int,
        header_line: int | None,
    ) -> tuple[list[str], ast.Comment | None]:
        """Lay out the units of a block (or of the file) with the comments between them."""
        header_comment = None
        if (
            header_line is not None
            and comments
            and comments[0].span.line == header_line
            and (not units or comments[0].span.start < units[0].start)
        ):
            header_comment, comments = comments[0], comments[1:]
            start = header_comment.span.end
        leading, trailing, rest = self._attach([(u.start, u.end) for u in units], comments)
        # (kind, payload, blank line before): comments and units in source order
        entries: list[list] = []
        pos = start
        for i, unit in enumerate(units):
            for c in leading[i]:
                entries.append(["comment", c, self.blank(pos, c.span.start)])
                pos = c.span.end
            blank = self.blank(pos, unit.start)
            for j, c in enumerate(unit.above):
                entries.append(["comment", c, blank and j == 0])
            entries.append(["unit", i, blank and not unit.above])
            pos = trailing[i].span.end if trailing[i] is not None else unit.end
        for c in rest:
            entries.append(["comment", c, self.blank(pos, c.span.start)])
            pos = c.span.end
        lines_of = {i: list(u.lines) for i, u in enumerate(units)}
        joined = self._joins(units, entries, trailing, indent, top)
        self._align(units, entries, joined, lines_of)
        out: list[str] = []
        previous_unit: int | None = None
        for n, (kind, payload, blank) in enumerate(entries):
            if kind == "unit" and payload in joined:
                out[-1] = out[-1] + _JOIN + lines_of[payload][0].lstrip()
                out[-1] = self._comment_after(out[-1], trailing[payload])
                previous_unit = payload
                continue
            if top and previous_unit is not None and self._group_starts(entries, n):
                following = self._next_unit(entries, n)
                if following is not None and not self._compact_pair(units[previous_unit], units[following]):
                    blank = True
            if blank and out:
                out.append("")
            if kind == "comment":
                out.append(indent + payload.text.rstrip())
            else:
                unit_lines = lines_of[payload]
                out.extend(unit_lines[:-1])
                out.append(self._comment_after(unit_lines[-1], trailing[payload]))
                previous_unit = payload
        return out, header_comment

    @staticmethod
    def _group_starts(entries: list[list], n: int) -> bool:
        """Whether entry n opens a group (comments followed by a unit, or trailing comments of the file)."""
        return n == 0 or entries[n - 1][0] == "unit"

    @staticmethod
    def _next_unit(entries: list[list], n: int) -> int | None:
        return next((payload for kind, payload, _ in entries[n:] if kind == "unit"), None)

    @staticmethod
    def _compact_pair(a: _Unit, b: _Unit) -> bool:
        """Top-level neighbours that need no blank line between them: two imports, two one-line preferences."""
        return a.kind == b.kind and a.kind in ("use_decl", "preference_decl") and len(a.lines) == len(b.lines) == 1

    def _joins(self, units: list[_Unit], entries: list[list], trailing, indent: str, top: bool) -> set[int]:
        """The statements that stay on the line of the one before them, as in the source."""
        joined: set[int] = set()
        if top:
            return joined
        width = 0
        for n, (kind, i, blank) in enumerate(entries):
            if kind != "unit":
                continue
            unit = units[i]
            prev = entries[n - 1] if n else None
            ok = (
                prev is not None
                and prev[0] == "unit"
                and not blank
                and len(unit.lines) == 1
                and len(units[prev[1]].lines) == 1
                and trailing[prev[1]] is None
                and self.line(unit.start) == self.line(units[prev[1]].end)
            )
            if ok:
                width += len(_JOIN) + len(unit.lines[0].lstrip())
                if width + (len(trailing[i].text.rstrip()) + 2 if trailing[i] is not None else 0) <= self.width:
                    joined.add(i)
                    continue
            width = len(unit.lines[0]) if unit.lines else 0
        return joined

    @staticmethod
    def _align(units: list[_Unit], entries: list[list], joined: set[int], lines_of: dict[int, list[str]]) -> None:
        """Align the ``=`` of runs of one-line payoffs, each alone on its line, with nothing between them."""
        alone = [e for e in entries if e[0] == "unit"]
        ends_join = {e[1] for k, e in enumerate(alone[:-1]) if alone[k + 1][1] in joined}
        run: list[int] = []

        def flush() -> None:
            if len(run) > 1:
                target = max(units[i].target for i in run)
                new = {i: units[i].relayout(target) for i in run}  # type: ignore[misc]  # a run holds payoffs
                if all(len(lines) == 1 for lines in new.values()):
                    lines_of.update(new)
            run.clear()

        for kind, payload, blank in entries:
            usable = (
                kind == "unit"
                and units[payload].relayout is not None
                and payload not in joined
                and payload not in ends_join
            )
            if not usable or blank:
                flush()
            if usable:
                run.append(payload)
        flush()


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
