"""Which files a spec may read: regular ``.pref`` files (and template directories) inside its own
directory tree, and the standard library that ships with prefc.

A spec is untrusted input. Its ``use`` lines and ``template`` settings name files, so they are
resolved here, with every link followed, before anything is opened: an absolute path, a ``..``
that leaves the tree, a link to a file outside it, or anything that is not a regular ``.pref``
file is refused with a located diagnostic, and the refused file is never read.

The *spec tree* is the directory of the main file (after following links). The *standard
library* is the directory of ``.pref`` files installed with prefc (``prefc show --library``);
``use "preferences.pref"`` looks beside the importing file first and in the library second.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MAX_PATH_CHARS",
    "PathRefused",
    "SpecTree",
    "library_dir",
    "library_files",
    "spec_name_from_path",
]

# A `use` path or `template` setting longer than this is refused before it reaches the file system.
MAX_PATH_CHARS = 240

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PathRefused(Exception):
    """A path a spec names that may not be read.

    Args:
        code: ``E0101`` (nothing there) or ``E0104`` (outside the tree, a link out, not a regular
            ``.pref`` file).
        message: The headline.
        label: Text under the caret.
        hint: What to do.
    """

    def __init__(self, code: str, message: str, *, label: str = "", hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.label, self.hint = code, message, label, hint


def library_dir() -> Path | None:
    """The directory of the standard library: ``prefc/library`` in an installed package, the
    repository's ``specs/`` in a source checkout; None when neither exists."""
    here = Path(__file__).resolve().parent  # .../prefc/compiler (installed) or .../compiler (checkout)
    for candidate in (here.parent / "library", here.parent / "specs"):
        if candidate.is_dir() and any(candidate.glob("*.pref")):
            return candidate
    return None


def library_files() -> list[Path]:
    """The ``.pref`` files of the standard library, sorted by name."""
    root = library_dir()
    if root is None:
        return []
    return sorted(p for p in root.glob("*.pref") if _is_regular(p))


def spec_name_from_path(path: str) -> str | None:
    """The spec name a file gives when it has no ``spec`` header: its name without ``.pref``, with
    every run of characters other than letters, digits and ``_`` made one ``_``. None when nothing
    usable is left (``..pref``, ``-.pref``).

    Args:
        path: The main file's path.
    """
    name = Path(path).name
    stem = name[: -len(".pref")] if name.endswith(".pref") else Path(name).stem
    if _IDENT.match(stem):
        return stem
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", stem).strip("_")
    if not cleaned or not re.search(r"[A-Za-z]", cleaned):
        return None
    if cleaned[0].isdigit():
        cleaned = "spec_" + cleaned
    return cleaned


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def _within(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _resolve(path: Path) -> Path:
    """The path with every link followed (the file need not exist); PathRefused for a path the
    file system cannot take (too long, a loop of links)."""
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise PathRefused("E0104", f"`{path.name}` cannot be resolved: {reason}") from None


@dataclass(frozen=True)
class SpecTree:
    """The places one spec may read from.

    Attributes:
        root: The main file's directory, links followed.
        library: The standard library's directory, links followed (None if not installed).
    """

    root: Path
    library: Path | None

    @classmethod
    def of(cls, main: str) -> SpecTree:
        """The tree of a main spec file.

        Args:
            main: The main file's path as given.
        """
        lib = library_dir()
        return cls(
            Path(os.path.realpath(Path(main).absolute().parent)),
            Path(os.path.realpath(lib)) if lib is not None else None,
        )

    def home(self, resolved: Path) -> Path:
        """The tree a resolved file belongs to (the spec's, else the library's).

        Args:
            resolved: A file path with links followed.
        """
        if _within(resolved, self.root) or self.library is None:
            return self.root
        return self.library if _within(resolved, self.library) else self.root

    def allowed(self, resolved: Path) -> bool:
        """Whether a resolved path lies inside the spec tree or the library.

        Args:
            resolved: A path with links followed.
        """
        return _within(resolved, self.root) or (self.library is not None and _within(resolved, self.library))

    # -- use ---------------------------------------------------------------------------------
    def resolve_use(self, importer: Path, written: str) -> Path:
        """The file a ``use "..."`` line names, checked against the policy.

        Args:
            importer: The importing file, links followed.
            written: The path as written in the ``use`` line.

        Raises:
            PathRefused: E0104 for a path that may not be read, E0101 when no such file exists.
        """
        _check_written(written, kind="`use`")
        if not written.endswith(".pref"):
            raise PathRefused(
                "E0104",
                f"`{written}` is not a .pref file",
                label="only .pref files can be used",
                hint="`use` imports other spec files; templates are named by a build's `template`",
            )
        home = self.home(importer)
        local = Path(os.path.normpath(importer.parent / written))
        if not _within(local, home):
            raise PathRefused(
                "E0104",
                f"`{written}` is outside the spec's directory",
                label="`..` may not leave the directory of the main spec",
                hint=f"keep imported files in the main spec's directory ({_shown(home)}) or below it",
            )
        candidates = [local]
        if self.library is not None and ".." not in Path(written).parts:
            candidates.append(self.library / written)
        for candidate in candidates:
            if not os.path.lexists(candidate):
                continue
            resolved = _resolve(candidate)
            if not self.allowed(resolved):
                raise PathRefused(
                    "E0104",
                    f"`{written}` is a link to a file outside the spec's directory",
                    label="links may not leave the spec's directory",
                    hint="copy the file into the spec's directory instead of linking to it",
                )
            if not _is_regular(resolved):
                raise PathRefused(
                    "E0104", f"`{written}` is not a regular file", label="not a file", hint="`use` names a .pref file"
                )
            return resolved
        raise PathRefused("E0101", f"cannot find `{written}`")

    # -- templates ---------------------------------------------------------------------------
    def resolve_template_dir(self, spec_file: Path, written: str) -> Path:
        """The directory a build's ``template "DIR"`` setting names, inside the spec tree.

        Args:
            spec_file: The file holding the build, links followed.
            written: The setting as written.

        Raises:
            PathRefused: E0104 for a directory outside the tree, E0101 when it does not exist.
        """
        _check_written(written, kind="`template`")
        local = Path(os.path.normpath(spec_file.parent / written))
        if not _within(local, self.root):
            raise PathRefused(
                "E0104",
                f"template directory `{written}` is outside the spec's directory",
                label="templates are read from the spec's directory or below it",
                hint='use "default" or a directory next to the spec file',
            )
        if not os.path.lexists(local):
            raise PathRefused(
                "E0101",
                f"template directory `{written}` not found",
                label=f"no directory {_shown(local)}",
                hint='use "default" or a directory relative to the spec file',
            )
        resolved = _resolve(local)
        if not _within(resolved, self.root):
            raise PathRefused(
                "E0104",
                f"template directory `{written}` is a link out of the spec's directory",
                label="links may not leave the spec's directory",
                hint="copy the templates into the spec's directory",
            )
        if not resolved.is_dir():
            raise PathRefused(
                "E0101",
                f"template directory `{written}` is not a directory",
                label=f"{_shown(local)} is not a directory",
                hint='use "default" or a directory relative to the spec file',
            )
        return resolved


def _check_written(written: str, *, kind: str) -> None:
    if not written:
        raise PathRefused("E0104", f"{kind} needs a path", label="empty path")
    if len(written) > MAX_PATH_CHARS:
        raise PathRefused(
            "E0104",
            f"the path is {len(written):,} characters long; the limit is {MAX_PATH_CHARS}",
            label="path too long",
        )
    if any(ord(ch) < 32 or ch == "\x7f" for ch in written) or "\\" in written:
        raise PathRefused(
            "E0104",
            "the path holds a control character or a backslash",
            label="not a usable path",
            hint="write paths with `/` and printable characters",
        )
    if written.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", written) or Path(written).is_absolute():
        raise PathRefused(
            "E0104",
            f"`{written}` is an absolute path",
            label="absolute paths are not allowed",
            hint=f"{kind} paths are relative to the file that holds them",
        )


def _shown(path: Path) -> str:
    try:
        rel = path.relative_to(Path.cwd().resolve())
        return str(rel) if str(rel) != "." else "."
    except ValueError:
        return str(path)
