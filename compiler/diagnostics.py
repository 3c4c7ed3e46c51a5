"""Diagnostics are data: a stable code, a severity, a span, a message, a label and a hint.

Every mistake a user can make in a .pref file ends up as a :class:`Diagnostic`; the compiler never
lets a traceback reach the user. Codes are stable: once published, a code keeps its meaning. The
table :data:`CODES` is the reference (``prefc codes`` prints it, ``docs/diagnostics.md`` explains
each one with an example).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from prefc.compiler.source import SourceFile, Span, visible
from prefc.errors import SpecError


class Severity(str, Enum):  # noqa: UP042 - StrEnum would change str() of a member
    """How bad a diagnostic is: errors fail the command, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


# code -> (severity, short title). Titles are what `prefc codes` lists.
CODES: dict[str, tuple[Severity, str]] = {
    # input and syntax
    "E0001": (Severity.ERROR, "unexpected token"),
    "E0002": (Severity.ERROR, "unexpected character"),
    "E0003": (Severity.ERROR, "unexpected end of file"),
    "E0004": (Severity.ERROR, "file is not UTF-8 text"),
    "E0005": (Severity.ERROR, "file too large"),
    "E0006": (Severity.ERROR, "expression nested too deeply"),
    "E0007": (Severity.ERROR, "file cannot be read"),
    "E0008": (Severity.ERROR, "number out of range"),
    # imports
    "E0101": (Severity.ERROR, "imported file not found"),
    "E0102": (Severity.ERROR, "import cycle"),
    "E0103": (Severity.ERROR, "more than one `spec` header"),
    "E0104": (Severity.ERROR, "file outside the spec's directory"),
    "E0105": (Severity.ERROR, "no usable spec name"),
    # names
    "E0201": (Severity.ERROR, "unknown name"),
    "E0202": (Severity.ERROR, "unknown game"),
    "E0203": (Severity.ERROR, "unknown preference"),
    "E0204": (Severity.ERROR, "unknown parameter"),
    "E0205": (Severity.ERROR, "unknown player"),
    "E0206": (Severity.ERROR, "unknown action"),
    "E0207": (Severity.ERROR, "unknown function"),
    "E0208": (Severity.ERROR, "duplicate definition"),
    "E0209": (Severity.ERROR, "wrong number of arguments"),
    "E0210": (Severity.ERROR, "ambiguous action name"),
    # game structure
    "E0301": (Severity.ERROR, "player without a payoff"),
    "E0302": (Severity.ERROR, "mover observes a move that is not earlier"),
    "E0303": (Severity.ERROR, "empty or reversed domain"),
    "E0304": (Severity.ERROR, "value outside the parameter's domain"),
    "E0305": (Severity.ERROR, "type mismatch"),
    "E0306": (Severity.ERROR, "incomplete game"),
    "E0307": (Severity.ERROR, "construct not allowed here"),
    "E0308": (Severity.ERROR, "invalid build setting"),
    "E0309": (Severity.ERROR, "player without a move where one is required"),
    "E0310": (Severity.ERROR, "invalid value"),
    "E0311": (Severity.ERROR, "reserved name"),
    "E0312": (Severity.ERROR, "not a repeated market"),
    # limits on the work a spec asks for
    "E0501": (Severity.ERROR, "too much work"),
    "E0601": (Severity.ERROR, "the game cannot be solved"),
    # warnings
    "W0401": (Severity.WARNING, "unused parameter"),
    "W0402": (Severity.WARNING, "unused preference"),
    "W0403": (Severity.WARNING, "unused helper"),
}


@dataclass(frozen=True)
class Note:
    """A secondary location attached to a diagnostic (e.g. the first definition of a duplicate)."""

    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    """One located message about a .pref file.

    Attributes:
        code: A stable code from :data:`CODES`.
        message: The headline, naming the offending thing in backticks.
        span: Where it is; ``None`` only for problems without a location (a missing file).
        label: Text printed under the caret.
        hint: A one-line suggestion of what to do.
        notes: Other relevant locations.
    """

    code: str
    message: str
    span: Span | None = None
    label: str = ""
    hint: str = ""
    notes: tuple[Note, ...] = ()

    @property
    def severity(self) -> Severity:
        """Error or warning, from the code table."""
        return CODES[self.code][0]

    @property
    def is_error(self) -> bool:
        """True if the diagnostic fails the command."""
        return self.severity is Severity.ERROR

    def to_json(self) -> dict:
        """A JSON-ready dict (``--format json``)."""
        out: dict = {"code": self.code, "severity": self.severity.value, "message": self.message}
        if self.span is not None:
            out["file"] = self.span.file
            out["line"] = self.span.line
            out["column"] = self.span.column
            out["end_line"] = self.span.end_line
            out["end_column"] = self.span.end_column
        if self.label:
            out["label"] = self.label
        if self.hint:
            out["hint"] = self.hint
        if self.notes:
            out["notes"] = [
                {"message": n.message, "file": n.span.file, "line": n.span.line, "column": n.span.column}
                for n in self.notes
            ]
        return out


class CompileError(SpecError):
    """Raised when a stage cannot go on; carries every diagnostic collected so far.

    Args:
        diagnostics: The diagnostics, errors and warnings.
        sources: Source files by path, for showing the offending lines (optional).
    """

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: dict[str, SourceFile] | None = None):
        self.diagnostics = list(diagnostics)
        self.sources = dict(sources or {})
        first = next((d for d in self.diagnostics if d.is_error), None)
        super().__init__(f"{first.code}: {first.message}" if first else "compilation failed")

    def render(self) -> str:
        """Every diagnostic in the compiler's text format, with the count line."""
        return render_all(self.diagnostics, self.sources)


class LocatedError(SpecError):
    """A stage's refusal that points at the spec text it is about (E0601 unless told otherwise).

    The command line renders it as a located diagnostic with the offending line; without a span it
    is printed as a plain ``error:`` line.

    Args:
        message: What went wrong.
        span: Where in the spec (None when nothing is known).
        code: The diagnostic code.
    """

    code: str = "E0601"

    def __init__(self, message: str, *, span: Span | None = None, code: str | None = None):
        super().__init__(message)
        self.span = span
        if code is not None:
            self.code = code
        self.sources: dict[str, SourceFile] = {}

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """The error as diagnostics (empty when it has no location)."""
        return [Diagnostic(self.code, self.message, self.span)] if self.span is not None else []


@dataclass
class DiagnosticBag:
    """Collects diagnostics for a stage so that independent errors are all reported."""

    items: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)

    def add(
        self,
        code: str,
        message: str,
        span: Span | None = None,
        *,
        label: str = "",
        hint: str = "",
        notes: Iterable[Note] = (),
    ) -> Diagnostic:
        """Record a diagnostic.

        Args:
            code: A code from :data:`CODES`.
            message: The headline.
            span: Where it is.
            label: Text under the caret.
            hint: One-line suggestion.
            notes: Secondary locations.
        """
        if code not in CODES:
            raise KeyError(f"unregistered diagnostic code {code}")
        diag = Diagnostic(code, message, span, label, hint, tuple(notes))
        self.items.append(diag)
        return diag

    @property
    def has_errors(self) -> bool:
        """True if any error was recorded."""
        return any(d.is_error for d in self.items)

    def raise_if_errors(self) -> None:
        """Raise :class:`CompileError` if any error was recorded."""
        if self.has_errors:
            raise CompileError(self.items, self.sources)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """Return the closest candidate to ``name``, if one is close enough to suggest.

    Args:
        name: The unknown name.
        candidates: Known names of the same kind.
    """
    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in pool}
    return lowered.get(name.lower())


# Source lines longer than this are shown as a window around the caret.
MAX_SHOWN_LINE = 200
WINDOW_BEFORE = 80
WINDOW_AFTER = 60
MAX_SHOWN_WIDTH = 80


def render(diag: Diagnostic, sources: dict[str, SourceFile], *, color: bool = False) -> str:
    """Render a diagnostic in the compiler's plain-text format (caret under the span).

    Args:
        diag: The diagnostic.
        sources: Source files by path, to show the offending line.
        color: Add ANSI colours (the excerpt highlighted as .pref); without, the text is plain.
    """
    label = visible(diag.label)
    lines = [f"{diag.severity.value}[{diag.code}]: {visible(diag.message)}"]
    excerpt = None
    if diag.span is not None:
        span = diag.span
        lines.append(f"  --> {visible(span.file)}:{span.line}:{span.column}")
        src = sources.get(span.file)
        if src is not None:
            text = src.line_text(span.line).replace("\t", " ")
            gutter = " " * len(str(span.line))
            width = (span.end_column - span.column) if span.end_line == span.line else len(text) - span.column + 1
            width = max(1, width)
            # a long line is cut to a window around the caret; invisible characters are shown as
            # <U+XXXX>, and the caret follows the shown text
            start = span.column - 1
            width = min(width, MAX_SHOWN_WIDTH)
            lo = max(0, start - WINDOW_BEFORE) if len(text) > MAX_SHOWN_LINE else 0
            hi = min(len(text), start + width + WINDOW_AFTER) if len(text) > MAX_SHOWN_LINE else len(text)
            head, tail = ("…" if lo > 0 else ""), ("…" if hi < len(text) else "")
            before = head + visible(text[lo:start])
            marked = visible(text[start : start + width])
            lines.append(f"{gutter} |")
            excerpt = len(lines)
            lines.append(f"{span.line} | {head}{visible(text[lo:hi])}{tail}")
            caret = " " * len(before) + "^" * max(1, len(marked))
            lines.append(f"{gutter} | {caret}" + (f" {label}" if label else ""))
    elif label:
        lines.append(f"  = {label}")
    pad = " " * (len(str(diag.span.line)) + 1 if diag.span is not None else 2)
    for note in diag.notes:
        lines.append(
            f"{pad}= note: {visible(note.message)} at {visible(note.span.file)}:{note.span.line}:{note.span.column}"
        )
    if diag.hint:
        lines.append(f"{pad}= hint: {visible(diag.hint)}")
    if color:
        from prefc.compiler.highlight import paint_diagnostic

        return paint_diagnostic(lines, severity=diag.severity.value, excerpt=excerpt)
    return "\n".join(lines)


def render_all(diags: Sequence[Diagnostic], sources: dict[str, SourceFile], *, color: bool = False) -> str:
    """Render several diagnostics separated by blank lines, followed by a count line.

    Args:
        diags: The diagnostics, in report order.
        sources: Source files by path.
        color: Add ANSI colours (see :func:`render`).
    """
    parts = [render(d, sources, color=color) for d in diags]
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    if diags:
        parts.append(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
    return "\n\n".join(parts)


def to_json(diags: Sequence[Diagnostic]) -> str:
    """Serialise diagnostics as a JSON array (for editors and tools).

    Args:
        diags: The diagnostics.
    """
    return json.dumps([d.to_json() for d in diags], indent=2)
