"""``prefc new NAME``: a starter spec directory that checks and compiles.

The directory holds ``NAME.pref``: two games, the preference library imported with
``use "preferences.pref"``, an SFT dataset and an eval rubric. Where the compiler finds the library
by that line alone, nothing else is written; otherwise the library file is copied beside the spec.
Everything is written into a staging directory, checked with the real checker, and renamed into
place: an existing file is never touched, and a failed start leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LIBRARY", "Starter", "StarterError", "create_starter", "spec_name", "starter_text"]

LIBRARY = "preferences.pref"

_TEMPLATE = """\
# {name}: a starter spec. Check, explain and compile it:
#   prefc check {name}.pref
#   prefc explain {name}.pref --game prisoners_dilemma --preference moralis
#   prefc compile {name}.pref -o build
# The language is described in docs/language.md; `prefc fmt` lays a spec out (docs/authoring.md).

spec {name} "A starter spec"

# The shared preference library: economicus, moralis, moralis_log, inequity, altruism.
use "{library}"

# One mover splits an endowment E with a passive recipient.
game dictator "Dictator game" {{
    players dictator, recipient
    param E = 10 vary {{10, 20, 30, 40}}
    dictator chooses give in 0..E
    payoff dictator  = E - give
    payoff recipient = give
}}

# Two interchangeable players; only the first player's payoff is written (`symmetric`).
game prisoners_dilemma "Prisoner's dilemma" {{
    players row, col symmetric
    param T = 5 vary {{4, 5, 6, 8}}, R = 3, P = 1, S = 0 vary {{0, -1}}
    each player chooses move in {{cooperate, defect}}
    payoff row = table(row.move, col.move) {{
        cooperate, cooperate: R;  cooperate, defect: S
        defect,    cooperate: T;  defect,    defect: P
    }}
}}

# Fine-tuning rows for two preferences: `prefc train build/{name}/sft -o adapters/moralis
# --preference 'moralis(kappa=0.5)'`.
dataset sft for economicus, moralis(kappa = 0.5) {{
    games dictator, prisoners_dilemma
    samples 40 per preference   seed 1
    split train 0.9, val 0.1
    paraphrases 4
}}

# Held-out items with a target for every listed preference: `prefc eval build/{name}/eval.jsonl
# --agent theory:economicus -o results/economicus`.
rubric eval for economicus, moralis(kappa = 0.25, 0.5, 0.75) {{
    games prisoners_dilemma
    items 20   tolerance 5%
    seed 2
}}
"""


class StarterError(Exception):
    """The starter cannot be written (the target exists, the name makes no spec name, no library)."""


@dataclass(frozen=True)
class Starter:
    """What ``prefc new`` wrote.

    Attributes:
        directory: The new directory.
        spec: The spec file in it.
        files: Every file written, relative to ``directory``.
        library_copied: Whether the preference library was copied beside the spec.
    """

    directory: Path
    spec: Path
    files: tuple[str, ...]
    library_copied: bool


def spec_name(name: str) -> str:
    """The spec name for a directory name: runs of other characters than letters, digits and
    ``_`` become one ``_``; a leading digit gets ``spec_`` in front.

    Args:
        name: The directory's name.

    Raises:
        StarterError: when nothing usable is left.
    """
    text = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")
    if not text:
        raise StarterError(f"`{name}` gives no spec name: use letters, digits and `_`")
    return f"spec_{text}" if text[0].isdigit() else text


def starter_text(name: str) -> str:
    """The text of the starter spec.

    Args:
        name: The spec name (see :func:`spec_name`).
    """
    return _TEMPLATE.format(name=name, library=LIBRARY)


def _library_source() -> Path | None:
    """The preference library of a source checkout (``specs/preferences.pref`` beside the package)."""
    candidate = Path(__file__).resolve().parent.parent / "specs" / LIBRARY
    return candidate if candidate.is_file() else None


def _check(spec: Path):
    from prefc.compiler.check import check_file
    from prefc.compiler.diagnostics import CompileError

    try:
        check_file(str(spec))
    except CompileError as exc:
        return exc.diagnostics
    return []


def create_starter(target: str | os.PathLike[str]) -> Starter:
    """Write a starter spec directory.

    Args:
        target: The directory to create; it may exist only as an empty directory.

    Raises:
        StarterError: the target exists and is not an empty directory, the name gives no spec
            name, or no preference library can be found.
    """
    target = Path(target)
    if target.is_symlink() or (target.exists() and (not target.is_dir() or any(target.iterdir()))):
        raise StarterError(f"`{target}` already exists; `prefc new` writes only into a new or empty directory")
    name = spec_name(target.resolve().name)
    parent = target.resolve().parent
    if not parent.is_dir():
        raise StarterError(f"`{parent}` is not a directory")
    stage = parent / f".{target.name}.new-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        spec = stage / f"{name}.pref"
        spec.write_text(starter_text(name), encoding="utf-8")
        files = [spec.name]
        problems = _check(spec)
        copied = False
        if any(d.code == "E0101" for d in problems):
            source = _library_source()
            if source is None:
                raise StarterError(f'this prefc has no preference library to import (`use "{LIBRARY}"`)')
            shutil.copyfile(source, stage / LIBRARY)
            files.append(LIBRARY)
            copied = True
            problems = _check(spec)
        if any(d.is_error for d in problems):
            found = "; ".join(f"{d.code} {d.message}" for d in problems)
            raise RuntimeError(f"the starter spec does not check: {found}")
        try:
            os.replace(stage, target)  # onto a missing or empty directory only
        except OSError as exc:
            raise StarterError(f"`{target}` cannot be created: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return Starter(directory=target, spec=target / f"{name}.pref", files=tuple(files), library_copied=copied)
