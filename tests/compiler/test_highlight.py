"""Syntax highlighting: the Pygments lexer and the TextMate grammar classify every token of the
library specs, the docs' examples and respelled specs as the real grammar reads it; the lexer is
found by `pygmentize -l pref`; diagnostics are coloured on a terminal only."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Punctuation, String, Text

from prefc.compiler.diagnostics import CompileError, render, render_all
from prefc.compiler.highlight import BUILTINS, KEYWORDS, PrefLexer, color_enabled, terminal
from prefc.compiler.parse import parse_text
from prefc.compiler.source import SourceFile

try:
    from pref_corpus import ROOT, all_tokens, corpus, mutate, token_class
except ImportError:  # tests/ imported as a package
    from tests.pref_corpus import ROOT, all_tokens, corpus, mutate, token_class

CORPUS = corpus()
MUTANTS = [(f"{name}~{seed}", mutate(text, seed)) for name, text in CORPUS for seed in range(3)]
EDITORS = ROOT / "editors" / "vscode"
GRAMMAR = EDITORS / "syntaxes" / "pref.tmLanguage.json"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

PYGMENTS_CLASS = {
    "comment": (Comment,),
    "string": (String,),
    "number": (Number,),
    "name": (Name,),
    "keyword": (Keyword, Operator.Word),
    "operator": (Operator,),
    "punctuation": (Punctuation,),
}
TEXTMATE_CLASS = {
    "comment": ("comment.",),
    "string": ("string.",),
    "number": ("constant.numeric.",),
    "name": ("variable.", "entity.name.", "support.function."),
    "keyword": ("keyword.", "storage.type.", "constant.language."),
    "operator": ("keyword.operator.",),
    "punctuation": ("punctuation.",),
}


def grammar_keywords() -> set[str]:
    """Every word the grammar reserves: its quoted words and the words its named terminals spell."""
    text = (ROOT / "grammar" / "pref.lark").read_text(encoding="utf-8")
    text = "\n".join(line.split("//")[0] for line in text.splitlines())
    return set(re.findall(r'"([a-z_]+)"', text))


def pygments_classes(text: str) -> list:
    types: list = [None] * len(text)
    pos = 0
    for ttype, value in PrefLexer(stripnl=False, ensurenl=False).get_tokens(text):
        types[pos : pos + len(value)] = [ttype] * len(value)
        pos += len(value)
    assert pos == len(text)
    return types


def assert_classified(text: str, char_ok, blank_ok) -> None:
    """Every character of every real token has the class the grammar gives it; nothing else is marked."""
    covered: set[int] = set()
    wrong = []
    for tok in all_tokens(text):
        cls = token_class(tok)
        span = range(tok.start_pos, tok.end_pos)
        covered.update(span)
        if not all(char_ok(i, cls) for i in span):
            wrong.append(f"line {tok.line}: {str(tok)!r} should be {cls}")
    wrong += [f"offset {i}: {text[i]!r} is marked" for i in range(len(text)) if i not in covered and not blank_ok(i)]
    assert not wrong, "\n".join(wrong[:20])


# ----------------------------------------------------------------------------- Pygments


@pytest.mark.parametrize("text", [t for _, t in CORPUS + MUTANTS], ids=[n for n, _ in CORPUS + MUTANTS])
def test_pygments_classifies_every_token_as_the_grammar_does(text: str) -> None:
    types = pygments_classes(text)
    assert not any(t in Error for t in types)
    assert_classified(text, lambda i, cls: any(types[i] in f for f in PYGMENTS_CLASS[cls]), lambda i: types[i] in Text)


def test_pygments_marks_what_declarations_declare() -> None:
    text = (
        'spec s\nuse "lib.pref"\npreference p(k in [0, 1]) = (1 - k) * payoff(self) + k * kantian(payoff(self))\n'
        "game g {\n    players a, b symmetric\n    let share(i) = 1\n    payoff a = sum(j in a: 1)\n"
        "    kantian substitute\n}\ndataset d for p(k = 0.5) {\n    samples 4 per preference   seed 1\n}\n"
    )
    tokens = [(t, v) for t, v in PrefLexer().get_tokens(text) if t not in Text]
    assert (Name.Namespace, "s") in tokens and (Keyword.Namespace, "use") in tokens
    assert (Name.Function, "p") in tokens and (Name.Class, "g") in tokens and (Name.Function, "share") in tokens
    assert (Name.Variable, "d") in tokens
    assert (Name.Builtin, "payoff") in tokens and (Keyword, "payoff") in tokens  # call vs statement
    assert (Name.Builtin, "kantian") in tokens and (Keyword, "kantian") in tokens
    assert (Name.Builtin.Pseudo, "self") in tokens and (Name.Builtin, "sum") in tokens
    # `per preference   seed`: the unit and the next setting, not a declaration of `seed`
    assert (Keyword, "preference") in tokens and (Keyword, "seed") in tokens


def test_every_keyword_of_the_grammar_is_a_keyword_for_both_highlighters() -> None:
    words = grammar_keywords()
    assert {"game", "chooses", "holdout", "tolerance", "substitute", "argmax", "symmetric"} <= words
    assert words <= set(KEYWORDS), words - set(KEYWORDS)
    assert not set(BUILTINS) & words
    patterns = json.dumps(json.loads(GRAMMAR.read_text(encoding="utf-8"))["repository"])
    missing = [w for w in words if not re.search(rf"[(|:]{w}[)|]", patterns)]
    assert not missing, missing


def test_pygmentize_finds_the_lexer_through_its_entry_point(tmp_path: Path) -> None:
    (tmp_path / "x.pref").write_text("game g { payoff a = payoff(self) }  # c\n")
    run = subprocess.run(
        [sys.executable, "-m", "pygments", "-l", "pref", "-f", "raw", "x.pref"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Token.Keyword.Declaration\t'game'" in run.stdout and "Token.Comment.Single\t'# c'" in run.stdout
    guess = subprocess.run(
        [sys.executable, "-m", "pygments", "-N", "x.pref"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert guess.stdout.strip() == "pref"


# ----------------------------------------------------------------------------- diagnostics


def test_colour_changes_nothing_but_adds_ansi_codes(tmp_path: Path) -> None:
    from prefc.compiler.check import check_file

    text = "game g {\n    players a, b symmetric\n    each player chooses x in [0, 1]\n    payoff a = foo(x)  # c\n}\n"
    (tmp_path / "g.pref").write_text(text)
    with pytest.raises(CompileError) as exc:
        check_file(str(tmp_path / "g.pref"))
    diags, sources = exc.value.diagnostics, {str(tmp_path / "g.pref"): SourceFile(str(tmp_path / "g.pref"), text)}
    plain = render_all(diags, sources)
    coloured = render_all(diags, sources, color=True)
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert ANSI.sub("", coloured) == plain
    excerpt = next(line for line in render(diags[0], sources, color=True).splitlines() if "# c" in line)
    assert terminal("    payoff a = foo(x)  # c") in excerpt  # the code is highlighted as .pref
    assert "\x1b[" in terminal("payoff")


def test_colour_is_on_for_terminals_only(monkeypatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    for var in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(var, raising=False)
    assert color_enabled(Tty()) and not color_enabled(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not color_enabled(Tty())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not color_enabled(Tty())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert color_enabled(io.StringIO())


def test_prefc_check_in_a_pipe_prints_plain_text(tmp_path: Path) -> None:
    (tmp_path / "g.pref").write_text("game g {\n    payoff a = = 1\n}\n")
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    run = subprocess.run(
        [sys.executable, "-m", "prefc", "check", "g.pref"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert run.returncode == 1 and "error[E0001]" in run.stderr and "\x1b[" not in run.stderr
    forced = subprocess.run(
        [sys.executable, "-m", "prefc", "check", "g.pref"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env, "FORCE_COLOR": "1"},
    )
    assert "\x1b[" in forced.stderr and ANSI.sub("", forced.stderr) == run.stderr


# ----------------------------------------------------------------------------- TextMate


def test_the_vscode_extension_declares_the_language_and_the_grammar() -> None:
    package = json.loads((EDITORS / "package.json").read_text(encoding="utf-8"))
    (language,) = package["contributes"]["languages"]
    (grammar,) = package["contributes"]["grammars"]
    assert language["id"] == grammar["language"] == "pref" and ".pref" in language["extensions"]
    assert (EDITORS / grammar["path"]).resolve() == GRAMMAR.resolve()
    assert json.loads(GRAMMAR.read_text(encoding="utf-8"))["scopeName"] == grammar["scopeName"] == "source.pref"
    config = json.loads((EDITORS / language["configuration"]).read_text(encoding="utf-8"))
    assert config["comments"] == {"lineComment": "#"}
    assert ["{", "}"] in config["brackets"] and ["(", ")"] in config["brackets"] and ["[", "]"] in config["brackets"]
    assert "engines" in package and package["engines"]["vscode"].startswith("^")


def _patterns(node):
    if isinstance(node, dict):
        for key in ("match", "begin", "end"):
            if key in node:
                yield node[key]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_every_textmate_pattern_compiles_in_oniguruma() -> None:
    onig = pytest.importorskip("onigurumacffi")
    patterns = list(_patterns(json.loads(GRAMMAR.read_text(encoding="utf-8"))))
    assert len(patterns) > 20
    for pattern in patterns:
        onig.compile(pattern)


@pytest.fixture(scope="module")
def textmate():
    """The grammar loaded in textmate-grammar-python, a port of VS Code's vscode-textmate engine
    on the Oniguruma regex library."""
    pytest.importorskip("textmate_grammar")
    from textmate_grammar.parsers.base import LanguageParser
    from textmate_grammar.utils.logger import LOGGER

    LOGGER.logger.setLevel(logging.ERROR)  # it reports every character no rule claims
    return LanguageParser(json.loads(GRAMMAR.read_text(encoding="utf-8")))


def textmate_scopes(parser, text: str) -> list:
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    scopes: list = [None] * len(text)
    element = parser.parse_string(text)
    for (line, column), value, names in element.flatten() if element else []:
        at = starts[line] + column
        scopes[at : at + len(value)] = [names] * len(value)
    return scopes


# TextMate grammars match line by line, so `payoff` and its `(` on different lines is out of
# their reach: the respelled specs for this test change spacing within lines only.
TM_MUTANTS = [(f"{name}~{seed}", mutate(text, seed, line_breaks=False)) for name, text in CORPUS for seed in range(3)]


@pytest.mark.parametrize("text", [t for _, t in CORPUS + TM_MUTANTS], ids=[n for n, _ in CORPUS + TM_MUTANTS])
def test_textmate_classifies_every_token_as_the_grammar_does(textmate, text: str) -> None:
    scopes = textmate_scopes(textmate, text)

    def ok(i: int, cls: str) -> bool:
        inner = scopes[i] or []
        if cls == "string" and not any(s.startswith("string.") for s in inner):
            return False
        return any(s.startswith(p) for s in inner[1:] for p in TEXTMATE_CLASS[cls])

    assert_classified(text, ok, lambda i: text[i] == "\n" or scopes[i] == ["source.pref"])


def test_textmate_marks_what_declarations_declare(textmate) -> None:
    text = 'game g "T\\"x" {\n    samples 4 per preference   seed 1\n    payoff a = payoff(self)\n}\n'
    found = {(text[i], tuple(s)) for i, s in enumerate(textmate_scopes(textmate, text)) if s}
    assert ("g", ("source.pref", "entity.name.type.game.pref")) in found
    assert ("\\", ("source.pref", "string.quoted.double.pref", "constant.character.escape.pref")) in found
    words = {
        text[m.start() : m.end()]: textmate_scopes(textmate, text)[m.start()][-1] for m in re.finditer(r"\w+", text)
    }
    assert words["seed"] == "keyword.other.pref" and words["preference"] == "keyword.other.pref"


def test_the_corpus_parses() -> None:
    assert len(CORPUS) > 20
    for _, text in CORPUS:
        parse_text(text)
