"""One hierarchy for the mistakes a user can make, and the exit codes the command line gives them.

Every error that is the user's doing (a bad spec, a bad option, a refused piece of work) is a
:class:`PrefcError`; the command line prints its message and exits with its ``exit_code``. Anything
else that escapes a command is a bug in prefc: the command line reports it as an internal error
(exit 70) with the place it happened, never as a traceback.

=====  ==============================================================================
code   meaning
=====  ==============================================================================
0      success (warnings may have been printed)
1      diagnostics: the spec, a rubric or another input file has errors, or work was refused
2      usage: a bad option, a missing or unusable path on the command line
70     internal error: a bug in prefc ("internal error, please report")
130    interrupted (Ctrl-C)
141    the reader of the output went away (``prefc ... | head``)
=====  ==============================================================================
"""

from __future__ import annotations

import traceback
from pathlib import Path

__all__ = [
    "EXIT_OK",
    "EXIT_ERRORS",
    "EXIT_USAGE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_BROKEN_PIPE",
    "PrefcError",
    "SpecError",
    "UsageError",
    "WorkTooLarge",
    "UnknownName",
    "UnknownGame",
    "UnknownPreference",
    "UnknownBlock",
    "internal_error_report",
]

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class PrefcError(Exception):
    """Base of every error that is the user's doing; the command line exits with ``exit_code``.

    Args:
        message: What went wrong, in words a user can act on.
    """

    exit_code: int = EXIT_ERRORS

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message

    def render(self) -> str:
        """The text the command line prints on standard error."""
        return f"error: {self.message}" if self.message else "error"


class SpecError(PrefcError):
    """A problem with an input file (a spec, a rubric, a results directory): exit 1."""


class UsageError(PrefcError):
    """A command-line mistake that is not about a file's content (a bad flag value, a missing
    directory): exit 2."""

    exit_code = EXIT_USAGE


class WorkTooLarge(SpecError):
    """Work refused before it starts because its estimate is above a limit (``--allow-large``
    lifts the limit).

    Args:
        message: What is too large, with the estimate and the limit.
    """


class UnknownName(SpecError, LookupError):
    """A name the spec does not declare (a game, a preference, a build block).

    Also a :class:`LookupError`, so ``except LookupError`` keeps working; never a bare ``KeyError``.

    Args:
        kind: What was looked up (``game``, ``preference``, ``dataset``, ``rubric``).
        name: The name asked for.
        known: The names that exist.
        where: Where they were looked for (a spec name, a build directory).
    """

    def __init__(self, kind: str, name: str, known: list[str] | tuple[str, ...] = (), where: str = ""):
        import difflib

        self.kind, self.name, self.known, self.where = kind, name, list(known), where
        near = difflib.get_close_matches(name, self.known, n=1)
        message = f"unknown {kind} `{name}`" + (f" in {where}" if where else "")
        if near:
            message += f"; did you mean `{near[0]}`?"
        if self.known:
            message += f" ({kind}s: {', '.join(self.known)})"
        else:
            message += f" (there is no {kind})"
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class UnknownGame(UnknownName):
    """A game the spec does not declare.

    Args:
        name: The name asked for.
        known: The spec's games.
        where: The spec.
    """

    def __init__(self, name: str, known: list[str] | tuple[str, ...] = (), where: str = ""):
        super().__init__("game", name, known, where)


class UnknownPreference(UnknownName):
    """A preference the spec neither declares nor imports.

    Args:
        name: The name asked for.
        known: The spec's preferences.
        where: The spec.
    """

    def __init__(self, name: str, known: list[str] | tuple[str, ...] = (), where: str = ""):
        super().__init__("preference", name, known, where)


class UnknownBlock(UnknownName):
    """A dataset or rubric block that a build does not hold.

    Args:
        kind: ``dataset`` or ``rubric``.
        name: The block asked for.
        known: The blocks of that kind in the build.
        where: The build directory.
    """


_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def internal_error_report(exc: BaseException) -> str:
    """The message for an unexpected exception: what it was and where it happened.

    The place is the innermost frame inside prefc's own code (else the innermost frame at all),
    written as ``path:line in function``, so a report names the line to look at.

    Args:
        exc: The exception that escaped a command.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if _is_own(f.filename)]
    where = (own or frames)[-1] if frames else None
    kind = type(exc).__name__
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    lines = [f"internal error, please report: {kind}" + (f": {text}" if text else "")]
    if where is not None:
        lines.append(f"  at {_short(where.filename)}:{where.lineno} in {where.name}")
    lines.append("  (set PREFC_TRACEBACK=1 to print the full traceback)")
    return "\n".join(lines)


def _own_dirs() -> list[Path]:
    import sys

    dirs = []
    for name in ("prefc", "prefc.compiler", "prefc.runtime", "prefc.grammar"):
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None) if module is not None else None
        if file:
            dirs.append(Path(file).resolve().parent)
    return dirs


def _is_own(filename: str) -> bool:
    try:
        path = Path(filename).resolve()
    except OSError:
        return False
    return any(path.is_relative_to(d) for d in _own_dirs())


def _short(filename: str) -> str:
    path = Path(filename)
    try:
        return str(path.resolve().relative_to(_PACKAGE_ROOT))
    except (ValueError, OSError):
        return str(path)
