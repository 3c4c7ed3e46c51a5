"""Prompt templates: jinja2 in a sandbox, undefined variables are errors, every failure is located.

A template set is a directory of ``.j2`` files: ``system.j2`` (the system prompt: the answer format)
and one ``<game>.j2`` per game (the user prompt, from the player's role), with ``generic.j2`` for
games without their own file. A spec's own directory is searched first, then the shipped ``default``
set, so a spec can override a single game.
"""

from __future__ import annotations

import os
import stat
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment

from prefc.compiler.diagnostics import Diagnostic
from prefc.compiler.paths import PathRefused, SpecTree
from prefc.compiler.source import SourceFile, Span
from prefc.errors import SpecError

DEFAULT_DIR = Path(__file__).parent / "templates" / "default"

# How many genuinely different wordings the shipped templates have: opening (4) x layout (3) x question (2).
DEFAULT_WORDINGS = 24

# A template file is at most this large; a rendered prompt (and any string or list a template
# builds on the way) at most this long.
MAX_TEMPLATE_BYTES = 1_000_000
MAX_RENDERED_CHARS = 100_000


class TemplateError(SpecError):
    """A template that cannot be loaded or rendered, located at a file and line.

    Args:
        message: What went wrong.
        path: The template file (or None).
        line: The 1-based line (or None).
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.message, self.path, self.line = message, path, line
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}")

    def diagnostic(self) -> tuple[Diagnostic, dict[str, SourceFile]]:
        """This error as a located diagnostic, with the template's text for the caret line (only
        for a regular ``.j2`` file of modest size: a diagnostic never quotes another file)."""
        if self.path is None or self.line is None or not _readable_template(Path(self.path)):
            return Diagnostic("E0308", f"template error: {self.message}"), {}
        try:
            text = Path(self.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return Diagnostic("E0308", f"template error: {self.message}"), {}
        src = SourceFile(self.path, text)
        line_text = src.line_text(self.line)
        start = sum(len(ln) + 1 for ln in text.split("\n")[: self.line - 1])
        span = Span(
            file=self.path,
            start=start,
            end=start + len(line_text),
            line=self.line,
            column=1,
            end_line=self.line,
            end_column=max(2, len(line_text) + 1),
        )
        return Diagnostic("E0308", f"template error: {self.message}", span), {self.path: src}

    def render(self) -> str:
        """The located diagnostic in the compiler's text format."""
        from prefc.compiler.diagnostics import render

        diag, sources = self.diagnostic()
        return render(diag, sources)


def _readable_template(path: Path) -> bool:
    try:
        st = path.stat()
    except (OSError, ValueError):
        return False
    return path.suffix == ".j2" and stat.S_ISREG(st.st_mode) and st.st_size <= MAX_TEMPLATE_BYTES


class _TreeLoader(jinja2.BaseLoader):
    """Loads ``.j2`` files from a list of directories, refusing anything that is not a regular
    ``.j2`` file inside the directory it was found in (a link to ``/etc/passwd`` is refused, not
    read).

    Args:
        directories: The directories to search, in order.
    """

    def __init__(self, directories: list[Path]):
        self.directories = [Path(os.path.realpath(d)) for d in directories]

    def get_source(self, environment: jinja2.Environment, template: str):
        if not template.endswith(".j2"):
            raise TemplateError(f"`{template}` is not a template: templates are .j2 files")
        pieces = split_template_path(template)  # refuses `..`
        for directory in self.directories:
            candidate = directory.joinpath(*pieces)
            if not os.path.lexists(candidate):
                continue
            real = Path(os.path.realpath(candidate))
            if not real.is_relative_to(directory):
                raise TemplateError(
                    f"`{template}` is a link to a file outside the template directory", path=str(directory)
                )
            if not _readable_template(real):
                raise TemplateError(
                    f"`{template}` is not a regular .j2 file of at most {MAX_TEMPLATE_BYTES:,} bytes",
                    path=str(directory),
                )
            try:
                text = real.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise TemplateError(f"`{template}` cannot be read as UTF-8 text: {exc}", path=str(candidate)) from exc
            return text, str(candidate), lambda: True
        raise jinja2.TemplateNotFound(template)


class _Sandbox(SandboxedEnvironment):
    """The sandbox with a bound on what one operator may build: a template cannot make a
    gigabyte string with ``"x" * 10**9`` or a huge number with ``**``."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def call_binop(self, context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, (int, float)) and abs(right) > 1024:
                raise jinja2.exceptions.SecurityError("`**` with an exponent above 1024")
            return left**right
        if operator_name == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_RENDERED_CHARS:
                    raise jinja2.exceptions.SecurityError(f"a sequence of more than {MAX_RENDERED_CHARS:,} items")
            return left * right
        out = left % right if operator_name == "%" else left + right
        if isinstance(out, (str, list, tuple)) and len(out) > MAX_RENDERED_CHARS:
            raise jinja2.exceptions.SecurityError(f"a sequence of more than {MAX_RENDERED_CHARS:,} items")
        return out


def form(paraphrase: int) -> dict[str, int]:
    """The wording choices of a paraphrase: each index changes the opening and the layout.

    Args:
        paraphrase: The paraphrase number (0-based).
    """
    return {"opening": paraphrase % 4, "layout": paraphrase % 3, "question": (paraphrase // 12) % 2}


def _located(exc: BaseException, fallback: str | None) -> tuple[str | None, int | None]:
    """The template file and line of an exception raised while rendering."""
    lineno = getattr(exc, "lineno", None)
    filename = getattr(exc, "filename", None)
    if filename and lineno:
        return filename, lineno
    found: tuple[str | None, int | None] = (None, None)
    for frame, line in traceback.walk_tb(exc.__traceback__):
        name = frame.f_code.co_filename
        if name.endswith(".j2"):
            found = (name, line)
    if found[0] is None and fallback:
        return fallback, None
    return found


@dataclass
class TemplateSet:
    """A compiled template set.

    Args:
        directory: The spec's own template directory, or None for the shipped set only.
    """

    directory: Path | None = None

    def __post_init__(self) -> None:
        paths = [Path(self.directory)] if self.directory is not None else []
        paths.append(DEFAULT_DIR)
        self.env = _Sandbox(
            loader=_TreeLoader(paths),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.do"],
            auto_reload=False,
        )  # one compile never sees a template change
        self.env.filters["num"] = _num_filter
        self._cache: dict[str, jinja2.Template] = {}

    def template(self, name: str) -> jinja2.Template:
        """The compiled template for a game (or ``system``), falling back to ``generic``.

        Args:
            name: A game name or ``system``.
        """
        if name in self._cache:
            return self._cache[name]
        for candidate in (f"{name}.j2", "generic.j2"):
            try:
                tpl = self.env.get_template(candidate)
                break
            except jinja2.TemplateNotFound:
                continue
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(exc.message or "syntax error", path=exc.filename, line=exc.lineno) from exc
            except (RecursionError, MemoryError, OverflowError) as exc:
                raise TemplateError(
                    f"`{candidate}` cannot be compiled: {type(exc).__name__}", path=str(self.directory)
                ) from exc
        else:
            raise TemplateError(f"no template `{name}.j2` or `generic.j2`", path=str(self.directory))
        # The template's globals are a ChainMap over the environment's; every render copies them into
        # the new context, and iterating a ChainMap costs more than rendering a short prompt. A flat
        # copy holds the same names (the environment's globals never change after set-up).
        tpl.globals = dict(tpl.globals)
        self._cache[name] = tpl
        return tpl

    def render(self, name: str, context: dict[str, Any]) -> str:
        """Render a template; errors (unknown variable, sandbox violation, empty text) are located.

        Args:
            name: A game name or ``system``.
            context: The variables.
        """
        tpl = self.template(name)
        try:
            text = tpl.render(context)
        except jinja2.TemplateError as exc:
            path, line = _located(exc, tpl.filename)
            kind = "sandbox violation" if isinstance(exc, jinja2.exceptions.SecurityError) else "render failed"
            raise TemplateError(f"{kind}: {exc}", path=path, line=line) from exc
        except RecursionError as exc:
            path, line = _located(exc, tpl.filename)
            raise TemplateError(
                "render failed: a macro or include calls itself without end", path=path, line=line
            ) from None
        except MemoryError as exc:
            path, line = _located(exc, tpl.filename)
            raise TemplateError(
                "render failed: the template builds text too large to hold", path=path, line=line
            ) from None
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            path, line = _located(exc, tpl.filename)
            raise TemplateError(f"render failed: {exc}", path=path, line=line) from exc
        if len(text) > MAX_RENDERED_CHARS:
            raise TemplateError(
                f"the template renders {len(text):,} characters; a prompt is at most {MAX_RENDERED_CHARS:,}",
                path=tpl.filename,
                line=1,
            )
        text = "\n".join(line.rstrip() for line in text.strip().splitlines())
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
        if not text:
            raise TemplateError("the template renders to empty text", path=tpl.filename, line=1)
        return text


def _num_filter(value: Any) -> str:
    from prefc.numbers import number_text

    return number_text(value)


def resolve_directory(setting: str | None, spec_path: str) -> Path | None:
    """The spec's template directory from its ``template`` setting (None for the shipped set).

    The directory must lie inside the spec's own directory tree (links followed).

    Args:
        setting: The setting's value (``default``, a path relative to the spec file, or None).
        spec_path: The spec file's path.

    Raises:
        TemplateDirError: If the directory does not exist, or lies outside the spec's tree.
    """
    if setting is None or setting == "default":
        return None
    tree = SpecTree.of(spec_path)
    try:
        return tree.resolve_template_dir(Path(os.path.realpath(Path(spec_path).absolute())), setting)
    except PathRefused as refused:
        raise TemplateDirError(refused) from None


class TemplateDirError(TemplateError, FileNotFoundError):
    """A ``template`` setting that names no usable directory (missing, or outside the spec tree).

    Args:
        refused: The policy's answer, with code, message, label and hint.
    """

    def __init__(self, refused: PathRefused):
        TemplateError.__init__(self, refused.message)
        self.refused = refused

    def __str__(self) -> str:
        return self.refused.message
