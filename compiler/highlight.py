"""Syntax highlighting of .pref text: a Pygments lexer (``pygmentize -l pref``, docs tools, and
the code excerpts of prefc's own diagnostics on a terminal).

The lexer follows ``grammar/pref.lark``: the grammar's keywords are keywords, ``payoff`` and
``kantian`` are keywords as statements and built-in functions before ``(``, and the name after
``game``, ``preference``, ``let``, ``dataset``, ``rubric`` and ``spec`` is marked as what it declares.
The parser's lexer is contextual (``param seed = 2`` declares a parameter named ``seed``); a regex
lexer is not, so such a name is shown as the keyword it spells.
"""

from __future__ import annotations

import os
from typing import TextIO

from pygments.lexer import RegexLexer, bygroups, default, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

__all__ = ["BUILTINS", "KEYWORDS", "PrefLexer", "color_enabled", "paint_diagnostic", "terminal"]

# Every keyword of grammar/pref.lark (quoted words and the named terminals spelled as words).
KEYWORDS = (
    "and",
    "argmax",
    "backward",
    "belief",
    "chooses",
    "dataset",
    "each",
    "else",
    "for",
    "game",
    "games",
    "history",
    "holdout",
    "if",
    "in",
    "items",
    "kantian",
    "let",
    "nash",
    "not",
    "or",
    "param",
    "paraphrases",
    "payoff",
    "per",
    "players",
    "preference",
    "repeat",
    "roles",
    "rounds",
    "rubric",
    "samples",
    "seed",
    "sees",
    "select",
    "solve",
    "spec",
    "split",
    "step",
    "substitute",
    "symmetric",
    "table",
    "template",
    "then",
    "tolerance",
    "use",
    "vary",
    "where",
)
# Functions an expression may call, and the players a preference speaks of.
BUILTINS = ("abs", "exp", "log", "max", "mean", "min", "sqrt", "sum")
PSEUDO = ("self", "other", "others")

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_WORD_END = r"(?![A-Za-z0-9_])"


class PrefLexer(RegexLexer):
    """Pygments lexer for .pref preference specs."""

    name = "pref"
    aliases = ["pref"]
    filenames = ["*.pref"]
    mimetypes = ["text/x-pref"]
    url = "https://pypi.org/project/prefc/"

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r'"', String.Double, "string"),
            # `per preference` / `per game`: a unit, not a declaration
            (r"per" + _WORD_END, Keyword, "unit"),
            (rf"(spec)(\s+)({_NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Namespace)),
            (rf"(game)(\s+)({_NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Class)),
            (rf"(preference|let)(\s+)({_NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (rf"(dataset|rubric)(\s+)({_NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Variable)),
            (r"use" + _WORD_END, Keyword.Namespace),
            (r"(payoff|kantian)(?=(?:\s|#[^\n]*)*\()", Name.Builtin),
            (words(BUILTINS, suffix=_WORD_END), Name.Builtin),
            (words(PSEUDO, suffix=_WORD_END), Name.Builtin.Pseudo),
            (words(("and", "or", "not"), suffix=_WORD_END), Operator.Word),
            (
                words(("substitute", "roles", "nash", "symmetric", "backward", "argmax"), suffix=_WORD_END),
                Keyword.Constant,
            ),
            (words(KEYWORDS, suffix=_WORD_END), Keyword),
            (_NAME, Name),
            (r"[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+|[0-9]+\.[0-9]+", Number.Float),
            (r"[0-9]+", Number.Integer),
            (r"\.\.|==|!=|<=|>=|[<>=+\-*/^%]", Operator),
            (r"[()\[\]{},;:.]", Punctuation),
        ],
        "unit": [
            (r"\s+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r"(preference|game)" + _WORD_END, Keyword, "#pop"),
            default("#pop"),
        ],
        "string": [
            (r"\\.", String.Escape),
            (r'[^"\\\n]+', String.Double),
            (r'"', String.Double, "#pop"),
        ],
    }


def color_enabled(stream: TextIO) -> bool:
    """Whether to write ANSI colours to ``stream``: a terminal, unless ``NO_COLOR`` is set or
    ``TERM=dumb``; ``FORCE_COLOR`` turns colour on anywhere.

    Args:
        stream: The stream that will be written to.
    """
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def terminal(text: str) -> str:
    """Highlight .pref text with ANSI colours (the terminal's own 16-colour palette).

    Args:
        text: The code, one or more lines.
    """
    from pygments import highlight
    from pygments.formatters.terminal import TerminalFormatter

    out = highlight(text, PrefLexer(stripnl=False, ensurenl=False), TerminalFormatter())
    return out


_RESET = "\x1b[0m"
_SEVERITY = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m"}
_GUTTER = "\x1b[1;34m"


def paint_diagnostic(lines: list[str], *, severity: str, excerpt: int | None) -> str:
    """Colour a rendered diagnostic: the headline's severity and code, the gutter, the code excerpt
    (highlighted .pref) and its caret line.

    Args:
        lines: The plain lines of :func:`prefc.compiler.diagnostics.render`.
        severity: ``error`` or ``warning``.
        excerpt: The index of the source line in ``lines`` (the caret line follows it), or None.
    """
    tone = _SEVERITY.get(severity, "\x1b[1m")
    out = list(lines)
    head, sep, rest = out[0].partition(": ")
    out[0] = f"{tone}{head}{_RESET}{sep}\x1b[1m{rest}{_RESET}"
    for i, line in enumerate(out[1:], start=1):
        gutter, bar, code = line.partition(" |")
        if not bar:
            continue
        if i == excerpt:
            out[i] = f"{_GUTTER}{gutter}{bar}{_RESET}{code[:1]}{terminal(code[1:])}"
        elif excerpt is not None and i == excerpt + 1:
            out[i] = f"{_GUTTER}{gutter}{bar}{_RESET}{tone}{code}{_RESET}"
        else:
            out[i] = f"{_GUTTER}{gutter}{bar}{_RESET}{code}"
    return "\n".join(out)
