"""The LALR parser's tables, cached on disk as JSON so that a cold command does not rebuild them.

lark's own ``cache=`` option stores a pickle, and unpickling a file that someone else could have
written runs whatever it says. This cache stores lark's serialised tables (plain data) as JSON,
which loading cannot turn into code, with a SHA-256 of the payload to catch a truncated or
corrupted file; a file that another user owns, that others may write, whose checksum or grammar
digest does not match, or that does not load, is ignored and rebuilt. The file lives in the cache
root (:func:`prefc.compiler.cache.cache_root`) and is replaced atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["cached_parser", "cache_file"]

_FORMAT = 1


def cache_file(grammar: str) -> Path | None:
    """Where the tables of ``grammar`` are cached, or None when no private cache directory exists.

    Args:
        grammar: The grammar's text (its digest names the file).
    """
    import lark

    from prefc.compiler.cache import cache_root

    directory = cache_root()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(directory) or not os.access(directory, os.W_OK):
            return None
    except OSError:
        return None
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
    version = f"lark{lark.__version__}-py{sys.version_info[0]}{sys.version_info[1]}"
    return directory / f"pref-parser-{digest}-{version}.json"


def _private(path: Path) -> bool:
    """Owned by this user and writable by no one else (a file others can write is not trusted)."""
    st = os.stat(path)
    owner_ok = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return owner_ok and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _encode(value: Any) -> Any:
    """lark's serialised data as JSON: dicts with integer keys become ``{"__int_keys__": pairs}``."""
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v) for k, v in value.items()}
        if not all(isinstance(k, int) and not isinstance(k, bool) for k in value):
            raise TypeError("a parser table key is neither a string nor an integer")
        return {"__int_keys__": [[k, _encode(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"a parser table holds a {type(value).__name__}")


def _decode_object(obj: dict) -> Any:
    if len(obj) == 1 and "__int_keys__" in obj:
        return {int(k): v for k, v in obj["__int_keys__"]}
    return obj


def _load(path: Path, digest: str, build_options: dict[str, Any]):
    from lark import Lark

    if not _private(path):
        return None
    raw = path.read_bytes()
    header, _, payload = raw.partition(b"\n")
    meta = json.loads(header)
    if meta != {"format": _FORMAT, "grammar": digest, "sha256": hashlib.sha256(payload).hexdigest()}:
        return None
    data = json.loads(payload, object_hook=_decode_object)
    return Lark._load_from_dict(data["data"], data["memo"], **build_options)


def _save(path: Path, parser, digest: str) -> None:
    from lark.grammar import Rule
    from lark.lark import _LOAD_ALLOWED_OPTIONS
    from lark.lexer import TerminalDef

    data, memo = parser.memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items() if k not in _LOAD_ALLOWED_OPTIONS}
    payload = json.dumps({"data": _encode(data), "memo": _encode(memo)}, separators=(",", ":")).encode()
    header = json.dumps({"format": _FORMAT, "grammar": digest, "sha256": hashlib.sha256(payload).hexdigest()})
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pref-parser-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(header.encode() + b"\n" + payload)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def cached_parser(grammar: str, *, build: Callable[[], Any], load_options: dict[str, Any]):
    """The parser of ``grammar``: from the cache when a trusted entry exists, else built and cached.

    Args:
        grammar: The grammar's text.
        build: Builds the parser from scratch (``Lark(grammar, ...)`` without a cache).
        load_options: The options a loaded parser needs that are not data (callbacks, positions).
    """
    path = cache_file(grammar)
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()
    if path is not None and path.exists():
        try:
            parser = _load(path, digest, load_options)
        except Exception:  # noqa: BLE001 - a bad cache file of any kind is rebuilt, never trusted
            parser = None
        if parser is not None:
            return parser
    parser = build()
    if path is not None:
        # the cache is an optimisation; a parser that cannot be cached still parses
        with contextlib.suppress(OSError, TypeError, ValueError):
            _save(path, parser, digest)
    return parser
