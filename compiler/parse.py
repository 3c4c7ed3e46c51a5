"""Stage 1: text -> AST. A lark LALR parser over ``grammar/pref.lark``; the tree becomes typed AST
nodes in :mod:`prefc.compiler.tree`. Syntax errors become located diagnostics in plain words.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import PatternStr

from prefc.compiler import ast
from prefc.compiler.diagnostics import CompileError, DiagnosticBag
from prefc.compiler.source import BIDI_CONTROLS, SourceFile, code_point, describe_char
from prefc.compiler.tree import AstBuilder
from prefc.grammar import grammar_text

MAX_FILE_BYTES = 1_000_000
MAX_NESTING = 64
# How deep the parse tree of one declaration may be: operators, unary minus and `not` count as well
# as brackets. Later stages walk expressions recursively; this keeps them far from Python's limit.
MAX_DEPTH = 200

# Nouns for the terminals whose text varies, as the language reference calls them; a token of any
# other terminal is shown as it is written (`unexpected name `x``, but `unexpected `=``).
TERMINAL_NOUNS = {"NAME": "name", "NUMBER": "number", "INT": "whole number", "STRING": "string"}

# Plain words for the regex terminals; literal terminals are shown as they are written.
TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "INT": "a whole number",
    "STRING": "a quoted string",
    "COMPARE": "a comparison (`==`, `<`, ...)",
    "KANTIAN_MODE": "`substitute` or `roles`",
    "CONCEPT": "a solution concept (`nash`, `symmetric`, `backward`, `argmax`)",
    "PER_UNIT": "`preference` or `game`",
    "$END": "the end of the file",
}


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser for .pref files (built once per process).

    Building the LALR tables takes a fraction of a second, so they are cached in the user's cache
    directory (:func:`prefc.compiler.cache.cache_root`) as JSON, never as a pickle; see
    :mod:`prefc.compiler.parser_cache` for what makes an entry trusted.
    """
    from prefc.compiler.parser_cache import cached_parser

    text = grammar_text()
    callbacks = {"COMMENT": _collect_comment}
    return cached_parser(
        text,
        build=lambda: Lark(
            text,
            parser="lalr",
            propagate_positions=True,
            maybe_placeholders=False,
            start=["start", "pref_app"],
            lexer_callbacks=callbacks,
        ),
        load_options={"propagate_positions": True, "lexer_callbacks": callbacks},
    )


# Comments are ignored by the grammar; while a caller of parse_source asks for them, the lexer
# callback below collects them here (the parse tree and the AST are the same either way).
_COMMENT_SINK: ContextVar[list[Token] | None] = ContextVar("prefc_comment_sink", default=None)


def _collect_comment(tok: Token) -> Token:
    sink = _COMMENT_SINK.get()
    if sink is not None:
        sink.append(tok)
    return tok


def describe_terminal(name: str) -> str:
    """Say in plain words what a grammar terminal is.

    Args:
        name: The terminal's name in ``pref.lark``.
    """
    if name in TERMINAL_WORDS:
        return TERMINAL_WORDS[name]
    for term in parser().terminals:
        if term.name == name:
            if isinstance(term.pattern, PatternStr):
                return f"`{term.pattern.value}`"
            return name.lower().replace("_", " ")
    return name.lower()


def describe_expected(names: set[str]) -> str:
    """Join the descriptions of the expected terminals into one readable phrase.

    Args:
        names: Terminal names the parser would have accepted.
    """
    closers = ("`}`", "`)`", "`]`")
    words = sorted({describe_terminal(n) for n in names}, key=lambda w: (w not in closers, not w.startswith("`"), w))
    if len(words) == 1:
        return words[0]
    if len(words) > 8:
        return "one of " + ", ".join(words[:8]) + ", …"
    return ", ".join(words[:-1]) + " or " + words[-1]


def _check_text(path: str, data: bytes, bag: DiagnosticBag) -> SourceFile | None:
    if len(data) > MAX_FILE_BYTES:
        bag.add(
            "E0005",
            f"`{path}` is {len(data):,} bytes; .pref files are limited to {MAX_FILE_BYTES:,}",
            hint="split the spec into several files joined with `use`",
        )
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # locate the invalid byte: the text before it decodes cleanly, the rest is shown replaced
        offset = len(data[: exc.start].decode("utf-8"))
        src = SourceFile(path, data.decode("utf-8", errors="replace").replace("\x00", " "))
        bag.add(
            "E0004",
            f"`{path}` is not UTF-8 text (invalid byte at offset {exc.start})",
            src.span(offset, offset + 1),
            hint="a .pref file is plain text; check that the right file was given",
        )
        return None
    if "\x00" in text:
        src = SourceFile(path, text.replace("\x00", " "))
        offset = text.index("\x00")
        bag.add(
            "E0004",
            f"`{path}` contains a NUL byte: it looks like a binary file",
            src.span(offset, offset + 1),
            hint="a .pref file is plain text; check that the right file was given",
        )
        return None
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark at the start is how some editors save UTF-8; it means nothing
    src = SourceFile(path, text)
    bag.sources[path] = src
    if not BIDI_CONTROLS.isdisjoint(text):
        for offset, ch in enumerate(text):
            if ch in BIDI_CONTROLS:
                bag.add(
                    "E0002",
                    f"text-direction control character {code_point(ch)}",
                    src.span(offset, offset + 1),
                    label="not allowed anywhere, even in strings and comments",
                    hint="it makes the text show in another order than it is read; delete it",
                )
        return None
    return src


def _nesting_error(src: SourceFile, bag: DiagnosticBag) -> bool:
    depth = 0
    in_comment = in_string = False
    for i, ch in enumerate(src.text):
        if in_comment:
            in_comment = ch != "\n"
            continue
        if in_string:
            in_string = ch != '"'
            continue
        if ch == "#":
            in_comment = True
        elif ch == '"':
            in_string = True
        elif ch in "([{":
            depth += 1
            if depth > MAX_NESTING + 2:
                bag.add(
                    "E0006",
                    f"brackets nested more than {MAX_NESTING} deep",
                    src.span(i, i + 1),
                    hint="name intermediate values with `let`",
                )
                return True
        elif ch in ")]}":
            depth = max(0, depth - 1)
    return False


def _syntax_diagnostic(src: SourceFile, exc: UnexpectedInput, bag: DiagnosticBag) -> None:
    if isinstance(exc, UnexpectedCharacters):
        assert exc.pos_in_stream is not None  # the lexer always says where it stopped
        ch = src.text[exc.pos_in_stream] if exc.pos_in_stream < len(src.text) else "?"
        expected = describe_expected(set(exc.allowed or ()))
        hint = "names are letters, digits and `_`; comments start with `#`"
        if not ch.isascii():
            hint = "names, numbers and operators are ASCII: letters, digits 0-9 and `_`; retype the character"
        bag.add(
            "E0002",
            f"unexpected character {describe_char(ch)}",
            src.span(exc.pos_in_stream, exc.pos_in_stream + 1),
            label=f"expected {expected}" if exc.allowed else "not part of the language",
            hint=hint,
        )
        return
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        expected = describe_expected(
            set(exc.expected if isinstance(exc, UnexpectedEOF) else exc.accepts or exc.expected)
        )
        end = len(src.text.rstrip())
        bag.add(
            "E0003",
            "unexpected end of file",
            src.span(max(0, end - 1), end),
            label=f"expected {expected} after this",
            hint="an unclosed `{`, `(` or `[` is the usual cause",
        )
        return
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    expected = describe_expected(set(exc.accepts or exc.expected))
    start = tok.start_pos if tok.start_pos is not None else 0
    end = tok.end_pos if tok.end_pos is not None else start + len(str(tok))
    text = str(tok)
    shown = text if len(text) <= 40 else text[:37] + "..."
    noun = TERMINAL_NOUNS.get(tok.type)
    bag.add(
        "E0001",
        f"unexpected {noun} `{shown}`" if noun else f"unexpected `{shown}`",
        src.span(start, end),
        label=f"expected {expected}",
    )


def _depth_error(src: SourceFile, tree, bag: DiagnosticBag) -> bool:
    """Report a parse tree deeper than :data:`MAX_DEPTH` (walked without recursion)."""
    from lark import Tree

    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            meta = node.meta
            start = getattr(meta, "start_pos", 0) if not getattr(meta, "empty", True) else 0
            bag.add(
                "E0006",
                f"expression nested more than {MAX_DEPTH} levels deep",
                src.span(start, start + 1),
                label="operators, brackets, `-` and `not` all count",
                hint="name intermediate values with `let`, or write long sums with `sum(...)`",
            )
            return True
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return False


def parse_source(src: SourceFile, *, comments: list[ast.Comment] | None = None) -> ast.File:
    """Parse one source file into an AST.

    Args:
        src: The source text.
        comments: When given, every comment of the file is appended to it, in file order.

    Raises:
        CompileError: with located diagnostics for any syntax error.
    """
    bag = DiagnosticBag(sources={src.path: src})
    if _nesting_error(src, bag):
        bag.raise_if_errors()
    sink: list[Token] = []
    reset = _COMMENT_SINK.set(sink if comments is not None else None)
    try:
        tree = parser().parse(src.text, start="start")
    except UnexpectedInput as exc:
        _syntax_diagnostic(src, exc, bag)
        bag.raise_if_errors()
        raise  # pragma: no cover
    finally:
        _COMMENT_SINK.reset(reset)
    if comments is not None:
        comments.extend(ast.Comment(span=src.span(t.start_pos or 0, t.end_pos or 0), text=str(t)) for t in sink)
    if _depth_error(src, tree, bag):
        bag.raise_if_errors()
    try:
        result = AstBuilder(src, bag).transform(tree)
        bag.raise_if_errors()
        return result
    except VisitError as exc:
        if isinstance(exc.orig_exc, CompileError):
            raise exc.orig_exc from None
        if isinstance(exc.orig_exc, RecursionError):
            bag.add(
                "E0006",
                "expression nested too deeply to compile",
                src.span(0, 0),
                hint="name intermediate values with `let`",
            )
            bag.raise_if_errors()
        raise
    except RecursionError:
        bag.add(
            "E0006",
            "expression nested too deeply to compile",
            src.span(0, 0),
            hint="name intermediate values with `let`",
        )
        bag.raise_if_errors()
        raise  # pragma: no cover


def parse_preference_app(text: str, origin: str = "--preference") -> tuple[SourceFile, ast.PrefApp]:
    """Parse a preference application given on the command line, e.g. ``moralis(kappa=0.6)``.

    Args:
        text: The text.
        origin: The name used in messages (the option it came from).

    Raises:
        CompileError: for a syntax error, located in ``text``.
    """
    src = SourceFile(origin, text)
    bag = DiagnosticBag(sources={origin: src})
    try:
        tree = parser().parse(text, start="pref_app")
    except UnexpectedInput as exc:
        _syntax_diagnostic(src, exc, bag)
        bag.raise_if_errors()
        raise  # pragma: no cover
    if _depth_error(src, tree, bag):
        bag.raise_if_errors()
    try:
        result = AstBuilder(src, bag).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, CompileError):
            raise exc.orig_exc from None
        raise
    bag.raise_if_errors()
    return src, result


def read_source(path: str) -> SourceFile:
    """Read a .pref file from disk with the input checks (size, encoding, binary content).

    Args:
        path: The file path, as the user gave it.

    Raises:
        CompileError: E0004/E0005/E0007 when the file is unreadable or not text.
    """
    import os
    import stat

    bag = DiagnosticBag()
    if not path.endswith(".pref"):
        bag.add("E0007", f"`{path}` is not a .pref file", hint="prefc reads specs from files whose names end in .pref")
        bag.raise_if_errors()
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            raise OSError(0, "not a regular file")
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:
        bag.add("E0007", f"cannot read `{path}`: {getattr(exc, 'strerror', None) or exc}")
        bag.raise_if_errors()
    src = _check_text(path, data, bag)
    bag.raise_if_errors()
    assert src is not None
    return src


def parse_text(text: str, path: str = "<input>", *, comments: list[ast.Comment] | None = None) -> ast.File:
    """Parse .pref text given as a string (for tests and tools).

    Args:
        text: The source text.
        path: The name to use in messages.
        comments: When given, every comment of the text is appended to it, in order.
    """
    bag = DiagnosticBag()
    src = _check_text(path, text.encode("utf-8", "surrogatepass"), bag)
    bag.raise_if_errors()
    assert src is not None
    return parse_source(src, comments=comments)
