"""Writing result files so that a reader never sees half of one, and small shared checks.

Every file the runtime writes (summaries, reports, plots, training metadata) goes through
:func:`atomic_write_text` or :func:`atomic_write_with`: the content lands in a temporary file in
the same directory, is flushed to disk, gets the permissions an ordinary file would get, and then
replaces the target in one rename. An interrupt leaves the old file or no file, never a torn one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from ipaddress import ip_address
from pathlib import Path


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_mode()


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
        os.chmod(tmp, _FILE_MODE)  # mkstemp creates 0600; results are ordinary files
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write a UTF-8 text file atomically.

    Args:
        path: The target file (its directory must exist).
        text: The whole content.

    Returns:
        The target path.
    """
    return atomic_write_with(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def is_loopback(host: str) -> bool:
    """Whether a host name or address stays on this machine (``localhost``, 127.0.0.0/8, ``::1``).

    Args:
        host: A host name or an IP address.
    """
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def read_json(path: str | os.PathLike[str], *, error: type[Exception]) -> object:
    """The JSON value of a file, with located errors.

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
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise error(f"{path}: invalid JSON (nested too deeply)") from None


def read_jsonl(path: str | os.PathLike[str], *, error: type[Exception]) -> Iterator[tuple[str, int, object]]:
    """The JSON values of a JSONL file, one per non-blank line, with their location.

    Args:
        path: The ``.jsonl`` file.
        error: The exception raised (with ``file:line: ...`` in its message) for a line that is
            not UTF-8 text or not valid JSON.

    Yields:
        ``(where, line number, value)`` where ``where`` is ``"path:line"`` for messages.
    """
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise error(f"{where}: not UTF-8 text") from None
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"{where}: invalid JSON ({exc.msg}, column {exc.colno})") from None
            except RecursionError:
                raise error(f"{where}: invalid JSON (nested too deeply)") from None
            yield where, lineno, value
