"""The on-disk cache of the parser's tables: a cached parser parses exactly as a fresh one, and a
tampered, corrupt or foreign cache file is rebuilt, never trusted."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
from lark import Lark
from lark.exceptions import UnexpectedInput

from prefc.compiler import parse, parser_cache
from prefc.grammar import grammar_text

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.pref"))


def _fresh() -> Lark:
    return Lark(
        grammar_text(), parser="lalr", propagate_positions=True, maybe_placeholders=False, start=["start", "pref_app"]
    )


def _cached(builds: list[int]) -> Lark:
    def build() -> Lark:
        builds.append(1)
        return _fresh()

    return parser_cache.cached_parser(grammar_text(), build=build, load_options={"propagate_positions": True})


def _outcome(p: Lark, text: str):
    """The tree, or what a diagnostic is built from: the error's kind, place and expected set.

    Lark's own message lists the expected terminals in a set's iteration order, which depends on
    how the set was filled (a loaded table fills it in another order); the diagnostic sorts them.
    """
    try:
        return "tree", p.parse(text, start="start")
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        expected = getattr(exc, "accepts", None) or getattr(exc, "expected", None) or getattr(exc, "allowed", None)
        return type(exc).__name__, exc.line, exc.column, str(token), sorted(expected or ())


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFC_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_cached_parser_parses_and_fails_as_a_fresh_one(cache_dir):
    builds: list[int] = []
    _cached(builds)
    loaded = _cached(builds)
    assert builds == [1]  # the second came from the file
    fresh = _fresh()
    texts = [p.read_text() for p in SPECS]
    texts += [t.replace("=", "==", 1) for t in texts] + [t[: len(t) // 2] for t in texts] + ["game $"]
    for text in texts:
        assert _outcome(loaded, text) == _outcome(fresh, text)


def test_the_cache_file_is_json_and_private(cache_dir):
    _cached([])
    (path,) = cache_dir.glob("pref-parser-*.json")
    header, _, payload = path.read_bytes().partition(b"\n")
    assert json.loads(header)["format"] == 1
    json.loads(payload)  # plain data: nothing in it can run
    assert not path.stat().st_mode & 0o022


def _tamper_payload(path: Path) -> None:
    """The payload edited (the `NAME` terminal renamed) without its checksum."""
    raw = path.read_bytes()
    header, _, payload = raw.partition(b"\n")
    path.write_bytes(header + b"\n" + payload.replace(b'"NAME"', b'"NAMX"', 1))


def _pickle_instead(path: Path) -> None:
    path.write_bytes(pickle.dumps({"data": {}, "memo": {}}))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:1000])


def _world_writable(path: Path) -> None:
    os.chmod(path, 0o666)


@pytest.mark.parametrize("spoil", [_tamper_payload, _pickle_instead, _truncate, _world_writable])
def test_a_spoiled_cache_file_is_rebuilt(cache_dir, spoil):
    builds: list[int] = []
    _cached(builds)
    (path,) = cache_dir.glob("pref-parser-*.json")
    spoil(path)
    p = _cached(builds)
    assert builds == [1, 1]  # not loaded: built again
    text = SPECS[0].read_text()
    assert _outcome(p, text) == _outcome(_fresh(), text)
    _cached(builds)  # the rebuilt entry replaced the spoiled one and is trusted again
    assert builds == [1, 1]


def test_the_process_parser_uses_the_cache(cache_dir):
    parse.parser.cache_clear()
    try:
        parse.parser()
        assert list(cache_dir.glob("pref-parser-*.json"))
    finally:
        parse.parser.cache_clear()
