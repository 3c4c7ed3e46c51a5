"""Loading a spec: the main file and, depth first, every file it ``use``s, read only where the
path policy of :mod:`prefc.compiler.paths` allows; and the spec hash over what was read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from prefc.compiler import ast
from prefc.compiler.diagnostics import CompileError, DiagnosticBag, did_you_mean
from prefc.compiler.parse import parse_source, read_source
from prefc.compiler.paths import PathRefused, SpecTree, library_files
from prefc.compiler.source import SourceFile

__all__ = ["load_files", "spec_digest"]


def load_files(path: str, bag: DiagnosticBag) -> tuple[list[tuple[SourceFile, ast.File]], ast.File | None]:
    """Read and parse the main file and, depth first, every file it uses.

    Every ``use`` is resolved by :class:`~prefc.compiler.paths.SpecTree` before anything is
    opened: only regular ``.pref`` files inside the main file's directory tree or the standard
    library are read; anything else is a located E0101/E0104 and is never read.
    """
    loaded: list[tuple[SourceFile, ast.File]] = []
    seen: set[Path] = set()
    policy = SpecTree.of(path)

    def visit(file_path: str, resolved: Path, stack: tuple[Path, ...], via: ast.Use | None) -> ast.File | None:
        if resolved in stack:
            chain = " -> ".join(p.name for p in (*stack[stack.index(resolved) :], resolved))
            assert via is not None
            bag.add(
                "E0102",
                f"import cycle: {chain}",
                via.span,
                label="this import closes the cycle",
                hint="move the shared declarations into a file that both can `use`",
            )
            return None
        if resolved in seen:
            return None
        try:
            src = read_source(file_path)
            bag.sources[src.path] = src
            tree = parse_source(src)
        except CompileError as exc:
            bag.items.extend(exc.diagnostics)
            bag.sources.update(exc.sources)
            return None
        seen.add(resolved)
        for use in tree.uses:
            try:
                target = policy.resolve_use(resolved, use.path)
            except PathRefused as refused:
                _refused_use(refused, use, resolved, policy, bag)
                continue
            visit(_display_path(target), target, (*stack, resolved), use)
        loaded.append((src, tree))
        return tree

    main = visit(path, Path(os.path.realpath(Path(path).absolute())), (), None)
    return loaded, main


def _refused_use(refused: PathRefused, use: ast.Use, importer: Path, policy: SpecTree, bag: DiagnosticBag) -> None:
    """Report a ``use`` that names no readable file (E0101) or a file it may not read (E0104)."""
    if refused.code != "E0101":
        bag.add(refused.code, refused.message, use.span, label=refused.label, hint=refused.hint)
        return
    wanted = Path(use.path)
    here = importer.parent / wanted.parent
    pool: list[str] = []
    try:
        if here.is_dir() and policy.allowed(Path(os.path.realpath(here))):
            pool += [p.name for p in here.glob("*.pref")]
    except OSError:
        pass
    near = did_you_mean(wanted.name, pool + ([p.name for p in library_files()] if wanted.parent == Path(".") else []))
    library = " and then in the standard library (`prefc show --library`)" if policy.library is not None else ""
    bag.add(
        "E0101",
        refused.message,
        use.span,
        label=f"did you mean `{near}`?" if near else "no such file",
        hint=f"paths in `use` are looked up relative to the file that uses them ({_display_dir(importer)}){library}",
    )


def _display_dir(file: Path) -> str:
    try:
        rel = file.parent.relative_to(Path.cwd().resolve())
        return str(rel) if str(rel) != "." else "."
    except ValueError:
        return str(file.parent)


def _display_path(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


def spec_digest(name: str, texts: Iterable[str]) -> str:
    """The spec hash: the canonical spec name and the content of every file read, in import order.

    Where the files lie and how their paths were typed do not enter it, so ``specs/paper.pref``,
    ``./specs/paper.pref`` and an absolute path to the same file give the same hash.

    Args:
        name: The spec's name.
        texts: The text of each file, dependencies first, the main file last.
    """
    digest = hashlib.sha256(b"prefc-spec-v2\0" + name.encode("utf-8") + b"\0")
    for text in texts:
        digest.update(hashlib.sha256(text.encode("utf-8")).digest())
    return digest.hexdigest()
