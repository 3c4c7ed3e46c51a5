"""Source text and spans: where every AST node and diagnostic points to."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    """A half-open character range ``[start, end)`` in one source file, with 1-based line/column."""

    model_config = ConfigDict(frozen=True)

    file: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class SourceFile:
    """The text of one .pref file, with a line index for turning offsets into positions.

    Attributes:
        path: The path as the user gave it (used in messages).
        text: The decoded text.
    """

    path: str
    text: str
    _line_starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                starts.append(i + 1)
        self._line_starts = starts

    @property
    def resolved(self) -> Path:
        """The absolute path of the file."""
        return Path(self.path).resolve()

    def position(self, offset: int) -> tuple[int, int]:
        """Return the 1-based (line, column) of a character offset.

        Args:
            offset: A character offset into the text.
        """
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def span(self, start: int, end: int) -> Span:
        """Build a span from character offsets.

        Args:
            start: First character offset.
            end: One past the last character offset.
        """
        end = max(start, end)
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(
            file=self.path, start=start, end=end, line=line, column=column, end_line=end_line, end_column=end_column
        )

    def line_text(self, line: int) -> str:
        """Return the text of a 1-based line without its newline.

        Args:
            line: The line number.
        """
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return self.text[start:end]


# ----------------------------------------------------------------------------- showing characters

# Letters of other scripts that look like ASCII ones (the usual suspects of a pasted identifier).
_LOOKALIKES = {
    "\u0430": "a",
    "\u0435": "e",
    "\u043e": "o",
    "\u0440": "p",
    "\u0441": "c",
    "\u0443": "y",
    "\u0445": "x",
    "\u0456": "i",
    "\u0458": "j",
    "\u0455": "s",
    "\u04bb": "h",
    "\u0501": "d",
    "\u051b": "q",
    "\u051d": "w",
    "\u0410": "A",
    "\u0412": "B",
    "\u0415": "E",
    "\u041a": "K",
    "\u041c": "M",
    "\u041d": "H",
    "\u041e": "O",
    "\u0420": "P",
    "\u0421": "C",
    "\u0422": "T",
    "\u0425": "X",
    "\u0406": "I",
    "\u0408": "J",
    "\u0405": "S",
    "\u03bf": "o",
    "\u03b1": "a",
    "\u03bd": "v",
    "\u03c1": "p",
    "\u03b9": "i",
    "\u03ba": "k",
    "\u03c5": "u",
    "\u0391": "A",
    "\u0392": "B",
    "\u0395": "E",
    "\u0396": "Z",
    "\u0397": "H",
    "\u0399": "I",
    "\u039a": "K",
    "\u039c": "M",
    "\u039d": "N",
    "\u039f": "O",
    "\u03a1": "P",
    "\u03a4": "T",
    "\u03a5": "Y",
    "\u03a7": "X",
    "\u2212": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00d7": "*",
    "\u2217": "*",
    "\u2215": "/",
    "\u2044": "/",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u00b7": "*",
    "\u2026": "..",
    "\u037e": ";",
    "\uff1a": ":",
    "\u2236": ":",
}

# Characters that change the direction of the text around them: they can make source code read
# differently from what the parser sees ("Trojan source"), so they are refused everywhere.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_invisible(ch: str) -> bool:
    """Whether a character does not show as itself on a terminal (controls, format characters such
    as a BOM or a text-direction override, unusual spaces, unassigned code points).

    Args:
        ch: One character.
    """
    import unicodedata

    if ch in "\n\t ":
        return False
    category = unicodedata.category(ch)
    return category[0] in "CZ" or ch in BIDI_CONTROLS


def code_point(ch: str) -> str:
    """``U+0430 CYRILLIC SMALL LETTER A``: a character named so that it cannot be mistaken.

    Args:
        ch: One character.
    """
    import unicodedata

    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def describe_char(ch: str) -> str:
    """How a diagnostic names an unexpected character: itself in backticks when it is plain ASCII,
    else its code point, with what it is easily taken for.

    Args:
        ch: One character.
    """
    import unicodedata

    if " " < ch < "\x7f":
        return f"`{ch}`"
    text = code_point(ch)
    if is_invisible(ch):
        return f"{text} (invisible)"
    if unicodedata.decimal(ch, None) is not None:
        return f"{text} (not an ASCII digit: numbers are written with 0-9)"
    plain = _LOOKALIKES.get(ch) or unicodedata.normalize("NFKC", ch)
    if plain != ch and plain.isascii() and plain.isprintable():
        return f"{text} (it looks like `{plain}`)"
    return f"`{ch}` ({text})"


def visible(text: str) -> str:
    """The text with every invisible character written as ``<U+XXXX>``, so that what a terminal
    shows is what the file holds.

    Args:
        text: Any text from a file or the command line.
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(f"<U+{ord(ch):04X}>" if is_invisible(ch) else ch for ch in text)
