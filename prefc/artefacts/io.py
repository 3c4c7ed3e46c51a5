"""Writing artefacts so that a reader never sees half of one, and reading them back validated.

Every artefact file goes through :func:`atomic_write_with` (or its text and bytes forms): the
content lands in a temporary file in the same directory, is flushed to disk, gets the permissions
an ordinary file would get, and replaces the target in one rename. An interrupt leaves the old file
or no file, never a torn one. A build (``prefc compile``) writes its files this way into a staging
directory that then replaces the previous build in one rename.

Every read validates against the artefact's model and fails with a located message,
``file:line: field: what is wrong`` (the line of the field for a document, of the row for JSONL).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from .base import Document, Row
from .locate import line_of

__all__ = [
    "ArtefactError",
    "AtomicWriter",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_with",
    "describe_error",
    "iter_json_lines",
    "read_document",
    "read_json",
    "read_rows",
    "sha256_bytes",
    "sha256_file",
    "validate_document",
    "validate_row",
    "write_document",
]

D = TypeVar("D", bound=Document)
R = TypeVar("R", bound=Row)


class ArtefactError(ValueError):
    """An artefact that cannot be read or does not match its model; the message is located."""


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_mode()


# ----------------------------------------------------------------------------- writing


def atomic_write_with(path: str | os.PathLike[str], write: Callable[[str], None], *, suffix: str = ".tmp") -> Path:
    """Produce a file through ``write(temporary_path)`` and move it into place atomically.

    Args:
        path: The target file (its directory must exist).
        write: Writes the complete content to the path it is given (e.g. ``fig.savefig``).
        suffix: Suffix of the temporary file (some writers pick the format from it, e.g. ``.png``).

    Returns:
        The target path.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _FILE_MODE)  # mkstemp creates 0600; artefacts are ordinary files
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


class AtomicWriter:
    """A file written piece by piece (rows streamed to disk) that appears at its path only when
    complete: the pieces go to a temporary file in the same directory, which :meth:`commit`
    flushes to disk and renames into place; :meth:`abort` (or an exception inside ``with``)
    removes it and leaves the old file, or none.

    Args:
        path: The target file (its directory must exist).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.target = Path(path)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent)
        self._fh = os.fdopen(fd, "wb", buffering=1 << 20)
        self._hash = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> None:
        """Append bytes.

        Args:
            data: The next piece.
        """
        self._fh.write(data)
        self._hash.update(data)
        self.bytes += len(data)

    def commit(self) -> str:
        """Move the complete file into place.

        Returns:
            The SHA-256 of its bytes, as hex.
        """
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            os.chmod(self._tmp, _FILE_MODE)
            os.replace(self._tmp, self.target)
        except BaseException:
            self.abort()
            raise
        return self._hash.hexdigest()

    def abort(self) -> None:
        """Remove the temporary file (the target is untouched)."""
        self._fh.close()
        Path(self._tmp).unlink(missing_ok=True)

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is not None:
            self.abort()
        elif not self._fh.closed:
            self.commit()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write a file's bytes atomically.

    Args:
        path: The target file (its directory must exist).
        data: The whole content.

    Returns:
        The target path.
    """

    def write(tmp: str) -> None:
        with open(tmp, "wb", buffering=1 << 20) as fh:
            fh.write(data)

    return atomic_write_with(path, write)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write a UTF-8 text file atomically.

    Args:
        path: The target file (its directory must exist).
        text: The whole content.

    Returns:
        The target path.
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_document(path: str | os.PathLike[str], document: Document) -> Path:
    """Write a document artefact atomically, in its model's text form (:meth:`Document.to_text`).

    Args:
        path: The target file (its directory must exist).
        document: The validated document.

    Returns:
        The target path.
    """
    return atomic_write_text(path, document.to_text())


# ----------------------------------------------------------------------------- hashes


def sha256_bytes(data: bytes) -> str:
    """The SHA-256 of some bytes, as hex.

    Args:
        data: The bytes.
    """
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, as hex.

    Args:
        path: The file.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------------- reading


def describe_error(exc: ValidationError, *, noun: str) -> tuple[tuple[str | int, ...], str]:
    """The first problem of a validation error, in words: its field path and a message.

    Missing fields read ``NOUN lacks FIELD``; checks that explain themselves (a validator's own
    message) keep their words, with the field after them; other problems name the field first.

    Args:
        exc: The validation error.
        noun: What the validated object is called (``item``, ``rubric header``).
    """
    first = exc.errors(include_url=False)[0]
    loc = tuple(x for x in first.get("loc", ()) if not (isinstance(x, str) and x.startswith("function-")))
    field = ".".join(str(x) for x in loc)
    kind = first.get("type", "")
    if kind == "missing":
        owner = noun if len(loc) <= 1 else ".".join(str(x) for x in loc[:-1])
        return loc, f"{owner} lacks {loc[-1] if loc else 'a field'}"
    if kind == "extra_forbidden":
        return loc, f"unknown field {field}"
    if kind == "value_error":
        msg = str(first.get("ctx", {}).get("error") or first.get("msg", ""))
        return loc, f"{msg} ({field})" if field else msg
    return loc, f"{field}: {first.get('msg', '')}" if field else str(first.get("msg", ""))


def read_json(path: str | os.PathLike[str], *, error: type[Exception] = ArtefactError) -> tuple[object, str]:
    """The JSON value of a file and its text, with located errors.

    Args:
        path: The ``.json`` file.
        error: The exception raised (message ``file[:line]: ...``) when the file cannot be read,
            is not UTF-8 text or is not valid JSON.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return json.loads(text), text
    except json.JSONDecodeError as exc:
        raise error(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise error(f"{path}: invalid JSON (nested too deeply)") from None


def validate_document(
    model: type[D], value: object, *, where: str, text: str | None = None, error: type[Exception] = ArtefactError
) -> D:
    """Validate a parsed JSON value as a document, with a located message on failure.

    Args:
        model: The document's model.
        value: The parsed JSON value.
        where: The file, for messages.
        text: The file's text (gives the line of the offending field).
        error: The exception raised.
    """
    if not isinstance(value, dict):
        raise error(f"{where}:1: not {model.WHAT}: expected a JSON object, got {type(value).__name__}")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        loc, message = describe_error(exc, noun="it")
        line = f":{line_of(text, loc)}" if text is not None else ""
        legacy = "" if "schema_version" in value else " (written by a prefc from before artefacts were versioned?)"
        raise error(f"{where}{line}: not {model.WHAT}: {message}{legacy}") from None


def read_document(path: str | os.PathLike[str], model: type[D], *, error: type[Exception] = ArtefactError) -> D:
    """Read and validate a document artefact.

    Args:
        path: The ``.json`` file.
        model: Its model.
        error: The exception raised, its message ``file:line: not WHAT: field ...``.
    """
    value, text = read_json(path, error=error)
    return validate_document(model, value, where=str(path), text=text, error=error)


def iter_json_lines(
    path: str | os.PathLike[str],
    *,
    error: type[Exception] = ArtefactError,
    bad: Callable[[str, str], None] | None = None,
) -> Iterator[tuple[str, int, object]]:
    """The JSON values of a JSONL file, one per non-blank line, with their location.

    Args:
        path: The ``.jsonl`` file.
        error: The exception raised (``file:line: ...``) for a line that is not UTF-8 text or not
            valid JSON, unless ``bad`` is given.
        bad: Called with ``(where, reason)`` for such a line instead of raising (readers of files an
            interrupt may have cut short).

    Yields:
        ``(where, line number, value)`` where ``where`` is ``"path:line"`` for messages.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115 - opened apart from reading, so only opening errors are caught
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                if bad is not None:
                    bad(where, "not UTF-8 text")
                    continue
                raise error(f"{where}: not UTF-8 text") from None
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                if bad is not None:
                    bad(where, f"invalid JSON ({exc.msg}, column {exc.colno})")
                    continue
                raise error(f"{where}: invalid JSON ({exc.msg}, column {exc.colno})") from None
            except RecursionError:
                if bad is not None:
                    bad(where, "invalid JSON (nested too deeply)")
                    continue
                raise error(f"{where}: invalid JSON (nested too deeply)") from None
            yield where, lineno, value


def validate_row(model: type[R], value: object, *, where: str, error: type[Exception] = ArtefactError) -> R:
    """Validate one parsed JSONL value as a row, with a located message on failure.

    Args:
        model: The row's model.
        value: The parsed JSON value.
        where: ``file:line``, for messages.
        error: The exception raised.
    """
    if not isinstance(value, dict):
        raise error(
            f"{where}: an {model.NOUN} must be a JSON object, got {type(value).__name__}"
            if model.NOUN[0] in "aeiou"
            else f"{where}: a {model.NOUN} must be a JSON object, got {type(value).__name__}"
        )
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        _, message = describe_error(exc, noun=model.NOUN)
        raise error(f"{where}: {message}") from None


def read_rows(
    path: str | os.PathLike[str], model: type[R], *, error: type[Exception] = ArtefactError
) -> Iterator[tuple[str, int, dict[str, Any], R]]:
    """Read and validate every row of a JSONL artefact.

    Args:
        path: The ``.jsonl`` file.
        model: The rows' model.
        error: The exception raised (``file:line: ...``) for a line that is not JSON or not a row.

    Yields:
        ``(where, line number, the parsed object, the validated row)``.
    """
    for where, lineno, value in iter_json_lines(path, error=error):
        row = validate_row(model, value, where=where, error=error)
        yield where, lineno, value, row  # type: ignore[misc]
