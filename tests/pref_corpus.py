"""Shared by the authoring tests: the .pref corpus (library specs and the docs' examples), every token
of a text as the real grammar reads it, and meaning-preserving random mutations of a spec."""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token

from prefc.compiler import ast
from prefc.compiler.parse import parse_text
from prefc.grammar import grammar_text

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.pref"))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def doc_examples() -> list[tuple[str, str]]:
    """(id, text) of every ```pref block in the README and docs/*.md that parses."""
    out = []
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for n, (tag, body) in enumerate(FENCE.findall(md.read_text(encoding="utf-8"))):
            if tag != "pref":
                continue
            try:
                parse_text(body)
            except Exception:  # noqa: BLE001 - the diagnostics docs show broken specs on purpose
                continue
            out.append((f"{md.name}#{n}", body))
    return out


def corpus() -> list[tuple[str, str]]:
    """(id, text) of every library spec and every parsing docs example."""
    return [(p.name, p.read_text(encoding="utf-8")) for p in SPECS] + doc_examples()


@lru_cache(maxsize=1)
def _all_tokens_parser() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        keep_all_tokens=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _COMMENTS.append},
        start="start",
    )


_COMMENTS: list[Token] = []


def all_tokens(text: str) -> list[Token]:
    """Every token of ``text`` as the parser's contextual lexer reads it, comments included, in order."""
    _COMMENTS.clear()
    tree = _all_tokens_parser().parse(text)
    tokens = list(tree.scan_values(lambda v: isinstance(v, Token))) + list(_COMMENTS)
    return sorted(tokens, key=lambda t: t.start_pos)


def _respell(tok: Token, rng: random.Random) -> str:
    text = str(tok)
    if tok.type not in ("NUMBER", "INT") or "e" in text.lower():
        return text
    if "." in text:
        return text + "0" * rng.randint(1, 2)
    if tok.type == "INT":
        return f"0{text}"
    return rng.choice([f"0{text}", f"{text}.0", f"{text}e0"])


def _expressions(node, out: list) -> None:
    """Every expression node under ``node`` (a binder is not an expression on its own)."""
    if isinstance(node, ast.Node):
        if not isinstance(node, (ast.Binder, ast.Comment)) and type(node).__name__ in _EXPR_TYPES:
            out.append(node)
        for name in type(node).model_fields:
            _expressions(getattr(node, name), out)
    elif isinstance(node, (list, tuple)):
        for v in node:
            _expressions(v, out)


_EXPR_TYPES = {"Number", "Name", "Attr", "Index", "Call", "BinOp", "Neg", "Compare", "BoolOp", "Not", "IfExpr", "Table"}
_GAPS = [" ", "\n", "\n\n", "\t", "   \n      ", "\n\n\n", "  # note {k}\n", "\n# note {k}\n\n", " #{k}\n  "]


def mutate(text: str, seed: int, *, edits: int = 25, line_breaks: bool = True) -> str:
    """A random respelling of ``text`` that means the same spec: whitespace and line breaks between
    tokens changed, comments inserted, redundant parentheses around expressions, numbers respelled.

    Args:
        text: A spec that parses.
        seed: The random seed.
        edits: About how many changes to make.
        line_breaks: Whether new line breaks may be put between tokens (without, spacing changes
            within lines and comments are added only at the ends of lines).
    """
    rng = random.Random(seed)
    tokens = [t for t in all_tokens(text) if t.type != "COMMENT"]
    opens: dict[int, int] = {}
    closes: dict[int, int] = {}
    exprs: list = []
    _expressions(parse_text(text), exprs)
    for node in rng.sample(exprs, min(len(exprs), edits // 3)):
        opens[node.span.start] = opens.get(node.span.start, 0) + 1
        closes[node.span.end] = closes.get(node.span.end, 0) + 1
    changed = set(rng.sample(range(len(tokens)), min(len(tokens), edits)))
    out = [text[: tokens[0].start_pos]] if tokens else [text]
    for i, tok in enumerate(tokens):
        out.append("(" * opens.get(tok.start_pos, 0))
        out.append(_respell(tok, rng) if i in changed else str(tok))
        out.append(")" * closes.get(tok.end_pos, 0))
        gap = text[tok.end_pos : tokens[i + 1].start_pos] if i + 1 < len(tokens) else text[tok.end_pos :]
        if i in changed and "#" not in gap:
            if line_breaks:
                gap = rng.choice(_GAPS).format(k=i)
            elif "\n" in gap:
                gap = f"  # note {i}" + gap[gap.index("\n") :]
            else:
                gap = rng.choice([" ", "\t", "   "])
            if i + 1 == len(tokens):
                gap += "\n"
        out.append(gap)
    return "".join(out)


_OPERATORS = {"==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "^", "..", "%", "="}
_PUNCTUATION = {"(", ")", "[", "]", "{", "}", ",", ";", ":", "."}


def token_class(tok: Token) -> str:
    """What a token of the real lexer is: comment, string, number, name, keyword, operator or punctuation."""
    if tok.type == "COMMENT":
        return "comment"
    if tok.type == "STRING":
        return "string"
    if tok.type in ("NUMBER", "INT"):
        return "number"
    if tok.type == "NAME":
        return "name"
    if re.fullmatch(r"[A-Za-z_]+", str(tok)):
        return "keyword"
    if str(tok) in _OPERATORS:
        return "operator"
    assert str(tok) in _PUNCTUATION, tok
    return "punctuation"
