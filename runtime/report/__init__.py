"""One self-contained HTML page about what was compiled, trained and measured.

:func:`write_report` reads any mix of these inputs, each recognised by its content:

* an **evaluation** directory (``prefc eval``): ``results.jsonl``, ``summary.json``, PNG plots;
* a **run** directory (``prefc run``): ``run.json``, ``build/<spec>/``, ``adapters/*/prefc_train.json``,
  ``results/*/`` (one evaluation directory per agent);
* a **simulation** directory (``prefc simulate``): ``simulation.json``, ``rounds.jsonl``, PNGs;
* a **diff** directory (``prefc diff -o``): ``diff.json`` and ``diff_*.png``;
* a **build** directory (``prefc compile``): ``manifest.json``, dataset cards, rubric headers.

A directory holding none of these but whose sub-directories do (``runs/``, ``build/``) stands for
those sub-directories. A directory that is only partly written (an interrupted evaluation with
``results.jsonl`` but no ``summary.json``, a run without ``run.json``) is reported as such.

Rooms: :mod:`.inputs` (what a loaded input holds), :mod:`.load` (reading every artefact through
its model), :mod:`.views` (plain data for the template), :mod:`.provenance`, :mod:`.render`.

The page is rendered by Jinja2's sandboxed environment with autoescaping (model outputs, spec titles
and every other string read from the inputs are untrusted) from the templates in
``templates/report/``. Every plot is embedded as a ``data:image/png;base64`` URI and the style sheet
is inline, so the file renders with nothing else. The same inputs give the same bytes; a generation
time is shown only when asked for.
"""

from .inputs import (
    BuildInput,
    DiffInput,
    EvalInput,
    InputKind,
    LoadedInput,
    Plot,
    ReportError,
    RunAgent,
    RunInput,
    SimulationInput,
    TrainInput,
)
from .load import detect_kind, load_build, load_diff, load_eval, load_inputs, load_run, load_simulation
from .render import count_plots, render_report, write_loaded_report, write_report

__all__ = [
    "BuildInput",
    "DiffInput",
    "EvalInput",
    "InputKind",
    "LoadedInput",
    "Plot",
    "ReportError",
    "RunAgent",
    "RunInput",
    "SimulationInput",
    "TrainInput",
    "count_plots",
    "detect_kind",
    "load_build",
    "load_diff",
    "load_eval",
    "load_inputs",
    "load_run",
    "load_simulation",
    "render_report",
    "write_loaded_report",
    "write_report",
]
