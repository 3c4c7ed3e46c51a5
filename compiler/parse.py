"""Stage 1: text -> AST. A lark LALR parser over ``grammar/pref.lark`` and a transformer that builds
typed AST nodes straight from the tree. Syntax errors become located diagnostics in plain words.

(Over 600 lines: the transformer has one short method per grammar rule.)
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from fractions import Fraction
from functools import lru_cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import PatternStr

from prefc.compiler import ast
from prefc.compiler.diagnostics import CompileError, DiagnosticBag
from prefc.compiler.source import BIDI_CONTROLS, SourceFile, Span, code_point, describe_char
from prefc.grammar import grammar_text

MAX_FILE_BYTES = 1_000_000
MAX_NESTING = 64
# How deep the parse tree of one declaration may be: operators, unary minus and `not` count as well
# as brackets. Later stages walk expressions recursively; this keeps them far from Python's limit.
MAX_DEPTH = 200
# Number literals: at most this many digits, and an exponent (`e..`) of at most this size, so a
# literal never turns into a number too large to compute with (`1e999999999`).
MAX_NUMBER_DIGITS = 50
MAX_EXPONENT = 50
# Whole-number settings (`samples`, `items`, `seed`, `paraphrases`): at most this many digits.
MAX_INT_DIGITS = 18

_NUMBER_PARTS = re.compile(r"^([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$")

# Nouns for the terminals whose text varies, as the language reference calls them; a token of any
# other terminal is shown as it is written (`unexpected name `x``, but `unexpected `=``).
TERMINAL_NOUNS = {"NAME": "name", "NUMBER": "number", "INT": "whole number", "STRING": "string"}

# Plain words for the regex terminals; literal terminals are shown as they are written.
TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "INT": "a whole number",
    "STRING": 'a quoted string',
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
        build=lambda: Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=False,
                           start=["start", "pref_app"], lexer_callbacks=callbacks),
        load_options={"propagate_positions": True, "lexer_callbacks": callbacks})


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
    words = sorted({describe_terminal(n) for n in names},
                   key=lambda w: (w not in closers, not w.startswith("`"), w))
    if len(words) == 1:
        return words[0]
    if len(words) > 8:
        return "one of " + ", ".join(words[:8]) + ", …"
    return ", ".join(words[:-1]) + " or " + words[-1]


def _check_text(path: str, data: bytes, bag: DiagnosticBag) -> SourceFile | None:
    if len(data) > MAX_FILE_BYTES:
        bag.add("E0005", f"`{path}` is {len(data):,} bytes; .pref files are limited to {MAX_FILE_BYTES:,}",
                hint="split the spec into several files joined with `use`")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # locate the invalid byte: the text before it decodes cleanly, the rest is shown replaced
        offset = len(data[:exc.start].decode("utf-8"))
        src = SourceFile(path, data.decode("utf-8", errors="replace").replace("\x00", " "))
        bag.add("E0004", f"`{path}` is not UTF-8 text (invalid byte at offset {exc.start})",
                src.span(offset, offset + 1),
                hint="a .pref file is plain text; check that the right file was given")
        return None
    if "\x00" in text:
        src = SourceFile(path, text.replace("\x00", " "))
        offset = text.index("\x00")
        bag.add("E0004", f"`{path}` contains a NUL byte: it looks like a binary file", src.span(offset, offset + 1),
                hint="a .pref file is plain text; check that the right file was given")
        return None
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark at the start is how some editors save UTF-8; it means nothing
    src = SourceFile(path, text)
    bag.sources[path] = src
    if not BIDI_CONTROLS.isdisjoint(text):
        for offset, ch in enumerate(text):
            if ch in BIDI_CONTROLS:
                bag.add("E0002", f"text-direction control character {code_point(ch)}", src.span(offset, offset + 1),
                        label="not allowed anywhere, even in strings and comments",
                        hint="it makes the text show in another order than it is read; delete it")
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
                bag.add("E0006", f"brackets nested more than {MAX_NESTING} deep", src.span(i, i + 1),
                        hint="name intermediate values with `let`")
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
        bag.add("E0003", "unexpected end of file", src.span(max(0, end - 1), end),
                label=f"expected {expected} after this",
                hint="an unclosed `{`, `(` or `[` is the usual cause")
        return
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    expected = describe_expected(set(exc.accepts or exc.expected))
    start = tok.start_pos if tok.start_pos is not None else 0
    end = tok.end_pos if tok.end_pos is not None else start + len(str(tok))
    text = str(tok)
    shown = text if len(text) <= 40 else text[:37] + "..."
    noun = TERMINAL_NOUNS.get(tok.type)
    bag.add("E0001", f"unexpected {noun} `{shown}`" if noun else f"unexpected `{shown}`",
            src.span(start, end),
            label=f"expected {expected}")


def _depth_error(src: SourceFile, tree, bag: DiagnosticBag) -> bool:
    """Report a parse tree deeper than :data:`MAX_DEPTH` (walked without recursion)."""
    from lark import Tree

    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            meta = node.meta
            start = getattr(meta, "start_pos", 0) if not getattr(meta, "empty", True) else 0
            bag.add("E0006", f"expression nested more than {MAX_DEPTH} levels deep", src.span(start, start + 1),
                    label="operators, brackets, `-` and `not` all count",
                    hint="name intermediate values with `let`, or write long sums with `sum(...)`")
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
        result = _Builder(src, bag).transform(tree)
        bag.raise_if_errors()
        return result
    except VisitError as exc:
        if isinstance(exc.orig_exc, CompileError):
            raise exc.orig_exc from None
        if isinstance(exc.orig_exc, RecursionError):
            bag.add("E0006", "expression nested too deeply to compile", src.span(0, 0),
                    hint="name intermediate values with `let`")
            bag.raise_if_errors()
        raise
    except RecursionError:
        bag.add("E0006", "expression nested too deeply to compile", src.span(0, 0),
                hint="name intermediate values with `let`")
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
        result = _Builder(src, bag).transform(tree)
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


def _fraction(text: str) -> Fraction:
    return Fraction(text)


def number_problem(text: str) -> str | None:
    """Why a number literal cannot be read exactly, or None when it can.

    Args:
        text: The literal as written (``[0-9]+(.[0-9]+)?([eE][+-]?[0-9]+)?``).
    """
    m = _NUMBER_PARTS.match(text)
    if m is None:
        return "it is not a number"
    whole, frac, exp = m.group(1), m.group(2) or "", m.group(3)
    if len(whole) + len(frac) > MAX_NUMBER_DIGITS:
        return f"it has {len(whole) + len(frac):,} digits; numbers have at most {MAX_NUMBER_DIGITS}"
    if exp is not None and (len(exp.lstrip("+-").lstrip("0")) > 3 or abs(int(exp)) > MAX_EXPONENT):
        return f"its exponent is beyond ±{MAX_EXPONENT}"
    return None


@v_args(meta=True, inline=True)
class _Builder(Transformer):
    """Builds AST nodes from the parse tree; every node gets its span from lark's positions."""

    def __init__(self, src: SourceFile, bag: DiagnosticBag):
        super().__init__()
        self.src = src
        self.bag = bag

    # helpers ------------------------------------------------------------------
    def _span(self, meta) -> Span:
        if getattr(meta, "empty", False) or not hasattr(meta, "start_pos"):
            return self.src.span(0, 0)
        return self.src.span(meta.start_pos, meta.end_pos)

    def _tok_span(self, tok: Token) -> Span:
        return self.src.span(tok.start_pos or 0, tok.end_pos or 0)

    def _ident(self, tok: Token) -> ast.Ident:
        return ast.Ident(span=self._tok_span(tok), name=str(tok))

    def _number(self, tok: Token) -> Fraction:
        """A number literal read exactly; one too long or too large is E0008 (and reads as 0)."""
        problem = number_problem(str(tok))
        if problem is None:
            return _fraction(str(tok))
        text = str(tok)
        shown = text if len(text) <= 24 else text[:20] + "..."
        self.bag.add("E0008", f"the number `{shown}` cannot be used: {problem}", self._tok_span(tok),
                     hint=f"numbers are at most {MAX_NUMBER_DIGITS} digits with an exponent of at most "
                          f"±{MAX_EXPONENT}, e.g. `1e-3`, `2.5e6`")
        return Fraction(0)

    def _int(self, tok: Token) -> int:
        """A whole-number setting; one with more than :data:`MAX_INT_DIGITS` digits is E0008."""
        text = str(tok)
        if len(text.lstrip("0")) > MAX_INT_DIGITS:
            shown = text if len(text) <= 24 else text[:20] + "..."
            self.bag.add("E0008", f"the number `{shown}` cannot be used: it has {len(text):,} digits; "
                         f"whole-number settings have at most {MAX_INT_DIGITS}", self._tok_span(tok))
            return 0
        return int(text)

    @staticmethod
    def _string(tok: Token) -> str:
        raw = str(tok)[1:-1]
        return raw.replace('\\"', '"').replace("\\\\", "\\")

    # file ---------------------------------------------------------------------
    def start(self, meta, *items):
        headers = [i for i in items if isinstance(i, ast.SpecHeader)]
        return ast.File(
            span=self.src.span(0, len(self.src.text)),
            path=self.src.path,
            header=headers[0] if headers else None,
            headers=headers,
            uses=[i for i in items if isinstance(i, ast.Use)],
            preferences=[i for i in items if isinstance(i, ast.Preference)],
            games=[i for i in items if isinstance(i, ast.Game)],
            builds=[i for i in items if isinstance(i, ast.Build)],
        )

    def title(self, meta, tok):
        return ("title", self._string(tok))

    def spec_decl(self, meta, name, title=None):
        return ast.SpecHeader(span=self._span(meta), name=self._ident(name), title=title[1] if title else None)

    def use_decl(self, meta, tok):
        return ast.Use(span=self._span(meta), path=self._string(tok))

    # preferences ----------------------------------------------------------------
    def default_value(self, meta, expr):
        return ("default", expr)

    def pref_param(self, meta, name, *rest):
        domain = next((r for r in rest if isinstance(r, ast.Interval)), None)
        default = next((r[1] for r in rest if isinstance(r, tuple) and r[0] == "default"), None)
        return ast.PrefParam(span=self._span(meta), name=self._ident(name), domain=domain, default=default)

    def pref_params(self, meta, *params):
        return ("params", list(params))

    def preference_decl(self, meta, name, *rest):
        params, title = [], None
        for r in rest[:-1]:
            if r[0] == "params":
                params = r[1]
            elif r[0] == "title":
                title = r[1]
        return ast.Preference(span=self._span(meta), name=self._ident(name), title=title, params=params,
                              body=rest[-1])

    # games ----------------------------------------------------------------------
    def game_decl(self, meta, name, *rest):
        fields: dict = {"players": [], "params": [], "moves": [], "payoffs": [], "lets": [], "beliefs": []}
        title = None
        for r in rest:
            if isinstance(r, tuple) and r[0] == "title":
                title = r[1]
            elif isinstance(r, tuple) and r[0] == "players":
                fields["players"].extend(r[1])
                fields["symmetric"] = fields.get("symmetric", False) or r[2]
                fields.setdefault("players_span", r[3])
            elif isinstance(r, tuple) and r[0] == "params":
                fields["params"].extend(r[1])
            elif isinstance(r, ast.Move):
                fields["moves"].append(r)
            elif isinstance(r, ast.Payoff):
                fields["payoffs"].append(r)
            elif isinstance(r, ast.Let):
                fields["lets"].append(r)
            elif isinstance(r, ast.Belief):
                fields["beliefs"].append(r)
            elif isinstance(r, tuple) and r[0] == "repeat":
                fields["repeat"] = r[1]
            elif isinstance(r, ast.KantianSetting):
                fields["kantian"] = r
            elif isinstance(r, tuple) and r[0] == "concept":
                fields["concept"] = r[1]
        return ast.Game(span=self._span(meta), name=self._ident(name), title=title, **fields)

    def players_stmt(self, meta, *rest):
        symmetric = bool(rest) and rest[-1] == "symmetric"
        players = [r for r in rest if isinstance(r, ast.Player)]
        return ("players", players, symmetric, self._span(meta))

    def symmetric_flag(self, meta, tok):
        return "symmetric"

    def player_decl(self, meta, name):
        return ast.Player(span=self._span(meta), name=self._ident(name))

    def group_decl(self, meta, name, lo, _dots, hi):
        return ast.Player(span=self._span(meta), name=self._ident(name), lo=lo, hi=hi)

    def param_stmt(self, meta, *decls):
        return ("params", list(decls))

    def param_decl(self, meta, name, *rest):
        domain = next((r for r in rest if isinstance(r, (ast.Interval, ast.IntRange))), None)
        sweep = next((r for r in rest if isinstance(r, ast.Sweep)), None)
        default = [r for r in rest if not isinstance(r, (ast.Interval, ast.IntRange, ast.Sweep))][0]
        return ast.Param(span=self._span(meta), name=self._ident(name), domain=domain, default=default, sweep=sweep)

    def param_domain(self, meta, dom):
        return dom

    def sweep(self, meta, value):
        return value

    def value_set(self, meta, *values):
        return ast.Sweep(span=self._span(meta), values=list(values))

    def number_range(self, meta, lo, _dots, hi, step=None):
        return ast.Sweep(span=self._span(meta), lo=lo, hi=hi, step=step)

    def step(self, meta, value):
        return value

    def signed_number(self, meta, tok):
        return self._number(tok)

    def negative_number(self, meta, _minus, tok):
        return -self._number(tok)

    def then_flag(self, meta, tok):
        return "then"

    def single_mover(self, meta, name):
        return (False, self._ident(name))

    def each_mover(self, meta, _each, name):
        return (True, self._ident(name))

    def observes(self, meta, *refs):
        return ("observes", list(refs))

    def move_stmt(self, meta, *rest):
        then = rest[0] == "then"
        rest = rest[1:] if then else rest
        each, mover = rest[0]
        observes: list = []
        if isinstance(rest[1], tuple) and rest[1][0] == "observes":
            observes = rest[1][1]
            rest = rest[1:]
        action, domain = rest[1], rest[2]
        return ast.Move(span=self._span(meta), then=then, each=each, mover=mover, observes=observes,
                        action=self._ident(action), domain=domain)

    def label_set(self, meta, *names):
        return ast.LabelSet(span=self._span(meta), labels=[self._ident(n) for n in names])

    def int_range(self, meta, lo, _dots, hi, step=None):
        return ast.IntRange(span=self._span(meta), lo=lo, hi=hi, step=step)

    def step_expr(self, meta, value):
        return value

    def interval(self, meta, lo, hi):
        return ast.Interval(span=self._span(meta), lo=lo, hi=hi)

    def payoff_stmt(self, meta, name, value):
        return ast.Payoff(span=self._span(meta), player=self._ident(name), value=value)

    def payoff_indexed(self, meta, name, var, value):
        return ast.Payoff(span=self._span(meta), player=self._ident(name), index_var=self._ident(var), value=value)

    def let_params(self, meta, *names):
        return [self._ident(n) for n in names]

    def let_stmt(self, meta, name, *rest):
        params = rest[0] if len(rest) == 2 else []
        return ast.Let(span=self._span(meta), name=self._ident(name), params=params, value=rest[-1])

    def repeat_stmt(self, meta, value):
        return ("repeat", value)

    def kantian_stmt(self, meta, mode, weights=None):
        return ast.KantianSetting(span=self._span(meta), mode=str(mode), weights=weights or [])  # type: ignore[arg-type]

    def role_weights(self, meta, *weights):
        return list(weights)

    def role_weight(self, meta, name, value):
        return (self._ident(name), value)

    def solve_stmt(self, meta, concept):
        return ("concept", self._ident(concept))

    def belief_stmt(self, meta, ref, value):
        return ast.Belief(span=self._span(meta), ref=ref, value=value)

    def bare_ref(self, meta, action):
        return ast.ActionRef(span=self._span(meta), action=self._ident(action))

    def player_ref(self, meta, player, action):
        return ast.ActionRef(span=self._span(meta), player=self._ident(player), action=self._ident(action))

    def member_ref(self, meta, player, index, action):
        return ast.ActionRef(span=self._span(meta), player=self._ident(player), index=index,
                             action=self._ident(action))

    # builds ---------------------------------------------------------------------
    def _build(self, kind, meta, name, prefs, stmts):
        fields: dict = {"settings_spans": {}}
        for key, value, span in stmts:
            if key in ("games", "holdout_games", "holdout_where", "holdout_paraphrases", "split"):
                fields.setdefault(key, []).extend(value)
            elif key == "samples":
                fields["samples"], fields["samples_per"] = value
            else:
                fields[key] = value
            fields["settings_spans"].setdefault(key, span)
        if "samples_per" in fields and fields["samples_per"] is None:
            del fields["samples_per"]
        return ast.Build(span=self._span(meta), kind=kind, name=self._ident(name), preferences=prefs, **fields)

    def dataset_decl(self, meta, name, prefs, *stmts):
        return self._build("dataset", meta, name, prefs, stmts)

    def rubric_decl(self, meta, name, prefs, *stmts):
        return self._build("rubric", meta, name, prefs, stmts)

    def pref_apps(self, meta, *apps):
        return list(apps)

    def pref_app(self, meta, name, *items):
        args: list[ast.PrefArg] = []
        for item in items:
            if isinstance(item, ast.PrefArg):
                args.append(item)
            elif args:  # a further value of the parameter named before it
                last = args[-1]
                value, span = item
                merged = last.span.model_copy(update={"end": span.end, "end_line": span.end_line,
                                                      "end_column": span.end_column})
                args[-1] = ast.PrefArg(span=merged, name=last.name, values=[*last.values, value])
            else:
                bag = DiagnosticBag()
                bag.add("E0001", "a value needs the parameter's name first", item[1],
                        label="expected NAME = NUMBER", hint="write e.g. `moralis(kappa = 0.5)`")
                raise CompileError(bag.items)
        return ast.PrefApp(span=self._span(meta), name=self._ident(name), args=args)

    def pref_arg(self, meta, name, value):
        return ast.PrefArg(span=self._span(meta), name=self._ident(name), values=[value])

    def pref_more(self, meta, value):
        return (value, self._span(meta))

    def games_stmt(self, meta, *names):
        return ("games", [self._ident(n) for n in names], self._span(meta))

    def samples_stmt(self, meta, count, unit=None):
        return ("samples", (self._int(count), None if unit is None else str(unit)), self._span(meta))

    def items_stmt(self, meta, count):
        return ("items", self._int(count), self._span(meta))

    def seed_stmt(self, meta, value):
        return ("seed", self._int(value), self._span(meta))

    def split_stmt(self, meta, *parts):
        return ("split", list(parts), self._span(meta))

    def split_part(self, meta, name, value):
        return (self._ident(name), value)

    def template_stmt(self, meta, tok):
        return ("template", self._string(tok), self._span(meta))

    def paraphrases_stmt(self, meta, count):
        return ("paraphrases", self._int(count), self._span(meta))

    def tolerance_stmt(self, meta, value, percent=None):
        return ("tolerance", value / 100 if percent is not None else value, self._span(meta))

    def select_stmt(self, meta, name):
        return ("select", self._ident(name), self._span(meta))

    def holdout_games(self, meta, *names):
        return ("holdout_games", [self._ident(n) for n in names], self._span(meta))

    def holdout_where(self, meta, expr):
        return ("holdout_where", [expr], self._span(meta))

    def holdout_paraphrases(self, meta, *values):
        return ("holdout_paraphrases", [self._int(v) for v in values], self._span(meta))

    # expressions ------------------------------------------------------------------
    def number(self, meta, tok):
        return ast.Number(span=self._tok_span(tok), value=self._number(tok), text=str(tok))

    def name(self, meta, tok):
        return ast.Name(span=self._tok_span(tok), id=str(tok))

    def attr(self, meta, base, name):
        return ast.Attr(span=self._span(meta), base=base, attr=self._ident(name))

    def index(self, meta, name, idx):
        return ast.Index(span=self._span(meta), base=self._ident(name), index=idx)

    def call(self, meta, func, args=None):
        return ast.Call(span=self._span(meta), func=self._ident(func), args=args or [])

    def call_args(self, meta, *args):
        return list(args)

    def filter(self, meta, expr):
        return ("where", expr)

    def binder(self, meta, var, group, *rest):
        where = rest[0][1] if len(rest) == 2 else None
        return ast.Binder(span=self._span(meta), var=self._ident(var), group=self._ident(group), where=where,
                          body=rest[-1])

    def binop(self, meta, left, op, right):
        return ast.BinOp(span=self._span(meta), op=str(op), left=left, right=right)  # type: ignore[arg-type]

    def pow_op(self, meta, left, right):
        return ast.BinOp(span=self._span(meta), op="^", left=left, right=right)

    def neg(self, meta, _minus, operand):
        if isinstance(operand, ast.Number):
            return ast.Number(span=self._span(meta), value=-operand.value, text="-" + operand.text)
        return ast.Neg(span=self._span(meta), operand=operand)

    def compare(self, meta, left, op, right):
        return ast.Compare(span=self._span(meta), op=str(op), left=left, right=right)  # type: ignore[arg-type]

    def and_op(self, meta, left, right):
        return ast.BoolOp(span=self._span(meta), op="and", left=left, right=right)

    def or_op(self, meta, left, right):
        return ast.BoolOp(span=self._span(meta), op="or", left=left, right=right)

    def not_op(self, meta, operand):
        return ast.Not(span=self._span(meta), operand=operand)

    def if_expr(self, meta, cond, then, orelse):
        return ast.IfExpr(span=self._span(meta), cond=cond, then=then, orelse=orelse)

    def table(self, meta, *parts):
        keys = [p for p in parts if not isinstance(p, ast.TableRow)]
        rows = [p for p in parts if isinstance(p, ast.TableRow)]
        return ast.Table(span=self._span(meta), keys=keys, rows=rows)

    def table_row(self, meta, *parts):
        return ast.TableRow(span=self._span(meta), labels=[self._ident(p) for p in parts[:-1]], value=parts[-1])
