"""Rendering the page: the views through the sandboxed templates, written atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from prefc.artefacts import atomic_write_text

from .inputs import BuildInput, DiffInput, EvalInput, LoadedInput, ReportError, RunInput, SimulationInput
from .load import load_inputs
from .provenance import provenance
from .views import build_view, diff_view, eval_view, run_view, simulation_view, summary_view

__all__ = ["count_plots", "render_report", "write_loaded_report", "write_report"]

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "report"


def _environment() -> Any:
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_report(
    inputs: Sequence[LoadedInput],
    *,
    title: str | None = None,
    given: Sequence[tuple[str, str]] | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The report page for loaded inputs, as HTML text.

    Args:
        inputs: Loaded inputs (see :func:`prefc.runtime.report.load_inputs`).
        title: The page title (default: names the specs reported on).
        given: ``(path as given, kind)`` pairs listed under provenance (default: each input's path).
        generated_at: A generation time to show (none by default, so the output is reproducible).
    """
    views: list[tuple[str, dict[str, Any]]] = []
    for i, item in enumerate(inputs):
        anchor = f"in{i + 1}"
        if isinstance(item, EvalInput):
            views.append(("eval", eval_view(item, anchor=anchor)))
        elif isinstance(item, RunInput):
            views.append(("run", run_view(item, anchor=anchor)))
        elif isinstance(item, SimulationInput):
            views.append(("simulation", simulation_view(item, anchor=anchor)))
        elif isinstance(item, DiffInput):
            views.append(("diff", diff_view(item, anchor=anchor)))
        elif isinstance(item, BuildInput):
            views.append(("build", build_view(item, anchor=anchor)))
    pairs = list(given) if given is not None else [(str(x.path), x.kind) for x in inputs]
    prov = provenance(inputs, pairs)
    if title is None:
        names = sorted({s["name"] for s in prov["specs"] if s["name"] != "—"})
        title = "prefc report" + (f": {', '.join(names)}" if names else "")
    template = _environment().get_template("report.html.j2")
    html = template.render(
        title=title,
        sections=[{"kind": k, "v": v} for k, v in views],
        summary=summary_view(views),
        provenance=prov,
        generated=generated_at.isoformat(timespec="seconds") if generated_at is not None else None,
        css=(_TEMPLATES / "report.css").read_text(encoding="utf-8"),
    )
    return html.lstrip()


def write_report(
    inputs: Sequence[str | os.PathLike[str]],
    out_path: str | os.PathLike[str],
    *,
    title: str | None = None,
    generated_at: datetime | None = None,
) -> Path:
    """Write one self-contained HTML report about evaluation, run, simulation, diff and build directories.

    Args:
        inputs: The directories to report on (any mix; each is recognised by its content).
        out_path: The HTML file to write (atomically; its directory is created).
        title: The page title (default: names the specs reported on).
        generated_at: A generation time to show in the page (none by default: the same inputs give
            the same bytes).

    Returns:
        The path written.

    Raises:
        ReportError: No inputs, an input that does not exist, is no known kind or is unreadable, or
            an output path that is a directory.
    """
    if not inputs:
        raise ReportError("no inputs given")
    return write_loaded_report(load_inputs(inputs), out_path, title=title, generated_at=generated_at)


def write_loaded_report(
    loaded: Sequence[LoadedInput],
    out_path: str | os.PathLike[str],
    *,
    title: str | None = None,
    generated_at: datetime | None = None,
) -> Path:
    """Write the report for inputs already loaded with :func:`prefc.runtime.report.load_inputs`.

    Args:
        loaded: The loaded inputs.
        out_path: The HTML file to write (atomically; its directory is created).
        title: The page title (default: names the specs reported on).
        generated_at: A generation time to show in the page (none by default).

    Raises:
        ReportError: No inputs, or an output path that is a directory.
    """
    if not loaded:
        raise ReportError("no inputs given")
    out = Path(out_path)
    if out.is_dir():
        raise ReportError(f"{out}: is a directory; give the HTML file to write, e.g. {out / 'report.html'}")
    given = [(str(x.path), x.kind) for x in loaded]
    html = render_report(loaded, title=title, given=given, generated_at=generated_at)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, html)
    return out


def count_plots(inputs: Sequence[LoadedInput]) -> int:
    """The number of PNGs embedded for these inputs.

    Args:
        inputs: Loaded inputs.
    """
    n = 0
    for item in inputs:
        if isinstance(item, EvalInput | SimulationInput | DiffInput):
            n += len(item.plots)
        elif isinstance(item, RunInput):
            n += sum(len(a.eval.plots) for a in item.agents if a.eval is not None)
    return n
