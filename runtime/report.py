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

The page is rendered by Jinja2's sandboxed environment with autoescaping (model outputs, spec titles
and every other string read from the inputs are untrusted) from the templates in
``templates/report/``. Every plot is embedded as a ``data:image/png;base64`` URI and the style sheet
is inline, so the file renders with nothing else. The same inputs give the same bytes; a generation
time is shown only when asked for.
"""

from __future__ import annotations

import base64
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from prefc.version import __version__

from .files import atomic_write_text, read_json
from .score import Summary

InputKind = Literal["eval", "run", "simulation", "diff", "build"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RAW_PREVIEW_CHARS = 600
"""Characters of a raw model output shown in the page (the rest is summarised as a count)."""
SAMPLES_PER_AGENT = 3
"""Raw outputs shown per evaluated agent."""
MAX_PLOT_BYTES = 20 * 1024 * 1024
"""PNGs larger than this are listed but not embedded."""
_PLOT_ORDER = ("accuracy.png", "kappa_profile.png", "incentives.png", "prices.png")
_MARKERS: tuple[tuple[str, InputKind], ...] = (
    ("run.json", "run"),
    ("simulation.json", "simulation"),
    ("diff.json", "diff"),
    ("manifest.json", "build"),
    ("summary.json", "eval"),
    ("results.jsonl", "eval"),
)
_TEMPLATES = Path(__file__).parent / "templates" / "report"


class ReportError(Exception):
    """An input that cannot be reported (missing, of an unknown kind, or unreadable)."""


# --------------------------------------------------------------------------------------------------
# Loaded inputs


@dataclass
class Plot:
    """One embedded PNG.

    Attributes:
        name: The file name.
        path: The file.
        data_uri: ``data:image/png;base64,...``.
    """

    name: str
    path: Path
    data_uri: str


@dataclass
class EvalInput:
    """An evaluation directory.

    Attributes:
        path: The directory.
        summary: The parsed ``summary.json`` (None when it is missing).
        n_records: Valid lines in ``results.jsonl``.
        bad_lines: Lines of ``results.jsonl`` that are not JSON objects (a cut last line).
        provisional: Parse rate and accuracies computed from ``results.jsonl`` when there is no
            summary (``n``, ``n_parsed``, ``parse_rate``, ``accuracy`` per label).
        samples: A few raw outputs (file order: the first unparsed one, then parsed ones).
        agents: The agent names found in ``results.jsonl``.
        plots: The embedded PNGs.
        notes: Problems found (missing or cut files).
    """

    path: Path
    summary: Summary | None
    n_records: int = 0
    bad_lines: int = 0
    provisional: dict[str, Any] | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind: InputKind = "eval"

    @property
    def complete(self) -> bool:
        """True when the summary was written (the evaluation finished)."""
        return self.summary is not None

    @property
    def agent(self) -> str:
        """The evaluated agent's name."""
        if self.summary is not None and self.summary.agent:
            return self.summary.agent
        return self.agents[0] if len(self.agents) == 1 else self.path.name


@dataclass
class TrainInput:
    """One adapter (or fully fine-tuned model) directory.

    Attributes:
        path: The directory.
        metadata: ``prefc_train.json`` (None when training did not finish).
        checkpoints: Checkpoint directory names found.
        notes: Problems found.
    """

    path: Path
    metadata: dict[str, Any] | None
    checkpoints: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def preference(self) -> str | None:
        """The preference the adapter was trained on."""
        if self.metadata is None:
            return None
        pref = self.metadata.get("preference") or (self.metadata.get("config") or {}).get("preference")
        return str(pref) if pref is not None else None


@dataclass
class BuildInput:
    """A compiled build directory (``build/<spec>/``).

    Attributes:
        path: The directory.
        manifest: ``manifest.json``.
        datasets: Each dataset block's ``dataset.json`` card (with ``name``).
        rubrics: Each rubric block's header ``<rubric>.json`` (with ``name``).
        notes: Problems found.
    """

    path: Path
    manifest: dict[str, Any]
    datasets: list[dict[str, Any]] = field(default_factory=list)
    rubrics: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind: InputKind = "build"


@dataclass
class RunAgent:
    """One agent evaluated in a run.

    Attributes:
        name: The agent's name.
        adapter: The adapter directory (None for the base model).
        preference: The preference its adapter was trained on (None for the base model).
        eval: Its evaluation directory, loaded (None when missing).
        recorded: The agent's entry in ``run.json`` (empty when there is none).
    """

    name: str
    adapter: str | None
    preference: str | None
    eval: EvalInput | None
    recorded: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunInput:
    """A ``prefc run`` directory (``<out>/<spec>/``).

    Attributes:
        path: The directory.
        run: ``run.json`` (None when the run did not finish).
        build: The compiled build inside it.
        adapters: The adapter directories.
        agents: The evaluated agents, base model first.
        notes: Problems found.
    """

    path: Path
    run: dict[str, Any] | None
    build: BuildInput | None
    adapters: list[TrainInput] = field(default_factory=list)
    agents: list[RunAgent] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind: InputKind = "run"


@dataclass
class SimulationInput:
    """A ``prefc simulate`` directory.

    Attributes:
        path: The directory.
        data: ``simulation.json``.
        n_rounds: Valid lines in ``rounds.jsonl`` (None when the file is missing).
        plots: The embedded PNGs.
        notes: Problems found.
    """

    path: Path
    data: dict[str, Any]
    n_rounds: int | None = None
    plots: list[Plot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind: InputKind = "simulation"


@dataclass
class DiffInput:
    """A ``prefc diff -o`` directory.

    Attributes:
        path: The directory.
        data: ``diff.json``.
        plots: The embedded PNGs.
        notes: Problems found.
    """

    path: Path
    data: dict[str, Any]
    plots: list[Plot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind: InputKind = "diff"


LoadedInput = EvalInput | RunInput | SimulationInput | DiffInput | BuildInput


# --------------------------------------------------------------------------------------------------
# Reading files


def _read_json_object(path: Path) -> dict[str, Any]:
    obj = read_json(path, error=ReportError)
    if not isinstance(obj, dict):
        raise ReportError(f"{path}: expected a JSON object, got {type(obj).__name__}")
    return obj


def _read_record(path: Path, what: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """A JSON object that must hold at least one of ``keys`` to count as ``what``."""
    obj = _read_json_object(path)
    if not any(k in obj for k in keys):
        raise ReportError(f"{path}: not {what} (none of {', '.join(repr(k) for k in keys)})")
    return obj


def _try_json_object(path: Path, notes: list[str]) -> dict[str, Any] | None:
    try:
        return _read_json_object(path)
    except ReportError as exc:
        notes.append(str(exc))
        return None


def _read_jsonl(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Valid JSON-object lines of a file, and the count of other non-blank lines."""
    records: list[dict[str, Any]] = []
    bad = 0
    try:
        fh = path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ReportError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if isinstance(obj, dict):
                records.append(obj)
            else:
                bad += 1
    return records, bad


def _plots(directory: Path, notes: list[str], *, pattern: str = "*.png") -> list[Plot]:
    """Every PNG directly in ``directory``, known plot names first, then by name."""
    files = sorted((p for p in directory.glob(pattern) if p.is_file()), key=lambda p: p.name)
    rank = {name: i for i, name in enumerate(_PLOT_ORDER)}
    files.sort(key=lambda p: (rank.get(p.name, len(rank)), p.name))
    out: list[Plot] = []
    for p in files:
        try:
            size = p.stat().st_size
            if size > MAX_PLOT_BYTES:
                notes.append(f"{p.name}: {size} bytes, too large to embed")
                continue
            data = p.read_bytes()
        except OSError as exc:
            notes.append(f"{p.name}: cannot read ({exc.strerror or exc})")
            continue
        if not data.startswith(PNG_SIGNATURE):
            notes.append(f"{p.name}: not a PNG image (skipped)")
            continue
        out.append(Plot(p.name, p, "data:image/png;base64," + base64.b64encode(data).decode("ascii")))
    return out


# --------------------------------------------------------------------------------------------------
# Loaders


def detect_kind(path: str | os.PathLike[str]) -> InputKind | None:
    """The kind of a directory, from the files in it (None when it is none of the known kinds).

    A directory with ``build/`` and ``adapters/`` or ``results/`` (a run that did not finish) is a run.

    Args:
        path: A directory.
    """
    p = Path(path)
    if not p.is_dir():
        return None
    for marker, kind in _MARKERS:
        if (p / marker).is_file():
            return kind
    if (p / "build").is_dir() and ((p / "adapters").is_dir() or (p / "results").is_dir()):
        return "run"
    return None


def _mapping(x: object) -> Mapping[str, Any]:
    return x if isinstance(x, Mapping) else {}


def _provisional(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Parse rate and accuracies from result lines alone (as the scorer counts: unparsed is wrong)."""
    labels: list[str] = []
    for r in records:
        for label in _mapping(r.get("correct")):
            if str(label) not in labels:
                labels.append(str(label))
    n = len(records)
    n_parsed = sum(r.get("parsed") is not None for r in records)
    accuracy: dict[str, float | None] = {}
    for label in labels:
        rel = [r for r in records if label in _mapping(r.get("correct")) or r.get("parsed") is None]
        hits = [1.0 if _mapping(r.get("correct")).get(label) is True else 0.0 for r in rel]
        accuracy[label] = sum(hits) / len(hits) if hits else None
    return {"n": n, "n_parsed": n_parsed, "parse_rate": n_parsed / n if n else None, "accuracy": accuracy}


def _samples(records: Sequence[Mapping[str, Any]], k: int = SAMPLES_PER_AGENT) -> list[dict[str, Any]]:
    """The first unparsed answer (if any) and the first parsed ones, in file order, truncated."""
    failed = [i for i, r in enumerate(records) if r.get("parsed") is None][:1]
    others = [i for i in range(len(records)) if i not in failed][: k - len(failed)]
    out = []
    for i in sorted([*failed, *others]):
        r = records[i]
        raw = r.get("raw")
        raw = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
        total = r.get("raw_chars") if isinstance(r.get("raw_chars"), int) else len(raw)
        out.append(
            {
                "id": str(r.get("id")),
                "game": str(r.get("game")),
                "role": str(r.get("role")),
                "params": _compact(r.get("params") or {}),
                "raw": raw[:RAW_PREVIEW_CHARS],
                "cut": max(0, total - min(len(raw), RAW_PREVIEW_CHARS)),
                "parsed": _compact(r.get("parsed")) if r.get("parsed") is not None else None,
                "error": str(r.get("parse_error")) if r.get("parse_error") else None,
                "correct": [str(lab) for lab, ok in _mapping(r.get("correct")).items() if ok is True],
            }
        )
    return out


def load_eval(path: str | os.PathLike[str]) -> EvalInput:
    """Read an evaluation directory (``results.jsonl``, ``summary.json``, PNGs).

    Args:
        path: The directory.

    Raises:
        ReportError: When neither file is there, or ``summary.json`` is not a valid summary.
    """
    p = Path(path)
    summary_path, results_path = p / "summary.json", p / "results.jsonl"
    if not summary_path.is_file() and not results_path.is_file():
        raise ReportError(f"{p}: no summary.json or results.jsonl (not an evaluation directory)")
    notes: list[str] = []
    summary = None
    if summary_path.is_file():
        obj = _read_json_object(summary_path)
        try:
            summary = Summary.model_validate(obj)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first.get("loc", ())) or "(top level)"
            raise ReportError(f"{summary_path}: not an evaluation summary ({where}: {first.get('msg')})") from None
    records: list[dict[str, Any]] = []
    bad = 0
    if results_path.is_file():
        records, bad = _read_jsonl(results_path)
        if bad:
            notes.append(f"results.jsonl: {bad} line(s) are not valid JSON (cut by an interruption?) and were skipped")
    else:
        notes.append("results.jsonl is missing: no raw outputs to show")
    provisional = None
    if summary is None:
        notes.append(
            f"summary.json is missing: the evaluation did not finish ({len(records)} answers on disk); "
            "the numbers below are provisional, counted from results.jsonl"
        )
        provisional = _provisional(records)
    elif records and len(records) != summary.n_items:
        notes.append(f"results.jsonl holds {len(records)} answers but summary.json counts {summary.n_items}")
    agents = sorted({str(r["agent"]) for r in records if r.get("agent")})
    return EvalInput(
        path=p,
        summary=summary,
        n_records=len(records),
        bad_lines=bad,
        provisional=provisional,
        samples=_samples(records),
        agents=agents,
        plots=_plots(p, notes),
        notes=notes,
    )


def load_build(path: str | os.PathLike[str]) -> BuildInput:
    """Read a compiled build directory (``manifest.json`` and the block cards).

    Args:
        path: The directory (``build/<spec>/``).

    Raises:
        ReportError: When ``manifest.json`` is missing or not a JSON object.
    """
    p = Path(path)
    if not (p / "manifest.json").is_file():
        raise ReportError(f"{p}: no manifest.json (not a build directory)")
    manifest = _read_record(p / "manifest.json", "a prefc build manifest", ("spec_sha256", "files"))
    notes: list[str] = []
    datasets: list[dict[str, Any]] = []
    rubrics: list[dict[str, Any]] = []
    for block in manifest.get("blocks") or []:
        if not isinstance(block, Mapping) or not isinstance(block.get("name"), str):
            continue
        name = block["name"]
        if "/" in name or "\\" in name or name.startswith("."):
            notes.append(f"manifest.json: block name {name!r} is not a plain name (skipped)")
            continue
        if block.get("kind") == "dataset":
            card = p / name / "dataset.json"
            if card.is_file():
                obj = _try_json_object(card, notes)
                if obj is not None:
                    datasets.append({"name": name, **obj})
            else:
                notes.append(f"{name}/dataset.json is missing")
        elif block.get("kind") == "rubric":
            head = p / f"{name}.json"
            if head.is_file():
                obj = _try_json_object(head, notes)
                if obj is not None:
                    rubrics.append({"name": name, **obj})
            else:
                notes.append(f"{name}.json (rubric header) is missing")
    for f in manifest.get("files") or []:
        if isinstance(f, Mapping) and isinstance(f.get("path"), str) and not (p / f["path"]).is_file():
            notes.append(f"{f['path']} is listed in manifest.json but missing")
    return BuildInput(path=p, manifest=manifest, datasets=datasets, rubrics=rubrics, notes=notes)


def _load_adapter(path: Path) -> TrainInput:
    notes: list[str] = []
    meta = None
    if (path / "prefc_train.json").is_file():
        meta = _try_json_object(path / "prefc_train.json", notes)
    else:
        notes.append(f"adapters/{path.name}: no prefc_train.json (training did not finish)")
    ckpt_root = path / "checkpoints"
    ckpts = sorted(c.name for c in ckpt_root.glob("checkpoint-*") if c.is_dir()) if ckpt_root.is_dir() else []
    return TrainInput(path=path, metadata=meta, checkpoints=ckpts, notes=notes)


def _locate(recorded: object, root: Path, sub: str) -> Path | None:
    """A path recorded in ``run.json``, found again after the run directory was moved."""
    if not isinstance(recorded, str) or not recorded:
        return None
    rec = Path(recorded)
    candidates = [root / sub / rec.name]
    if rec.is_absolute():
        candidates.insert(0, rec)
    for c in candidates:
        if c.is_dir():
            return c
    return None


def load_run(path: str | os.PathLike[str]) -> RunInput:
    """Read a ``prefc run`` directory: ``run.json``, the build, the adapters and each agent's results.

    Paths recorded in ``run.json`` are looked up where they were written and, failing that, at the
    same place inside ``path`` (so a run directory can be moved or copied).

    Args:
        path: The directory (``<out>/<spec>/``).

    Raises:
        ReportError: When ``run.json`` is not a JSON object or a recorded evaluation is unreadable.
    """
    p = Path(path)
    notes: list[str] = []
    run = None
    if (p / "run.json").is_file():
        run = _read_record(p / "run.json", "a prefc run record", ("agents", "spec_sha256"))
    if run is None:
        notes.append("run.json is missing: the run did not finish; showing what is on disk")

    build = None
    build_dirs = sorted(d.parent for d in (p / "build").glob("*/manifest.json")) if (p / "build").is_dir() else []
    if run is not None and isinstance(run.get("spec"), str) and (p / "build" / run["spec"] / "manifest.json").is_file():
        build = load_build(p / "build" / run["spec"])
    elif build_dirs:
        build = load_build(build_dirs[0])
    else:
        notes.append("no compiled build found under build/")

    adapter_root = p / "adapters"
    adapters = [_load_adapter(d) for d in sorted(adapter_root.iterdir()) if d.is_dir()] if adapter_root.is_dir() else []
    by_dir = {a.path.name: a for a in adapters}

    agents: list[RunAgent] = []
    seen: set[str] = set()
    if run is not None:
        for entry in run.get("agents") or []:
            if not isinstance(entry, Mapping):
                continue
            adapter = entry.get("adapter") if isinstance(entry.get("adapter"), str) else None
            results = _locate(entry.get("results"), p, "results")
            ev = load_eval(results) if results is not None and detect_kind(results) == "eval" else None
            if ev is None:
                notes.append(f"results of {entry.get('agent')!s} not found ({entry.get('results')!s})")
            else:
                seen.add(ev.path.name)
            train = by_dir.get(Path(adapter).name) if adapter else None
            agents.append(
                RunAgent(
                    name=str(entry.get("agent") or (ev.agent if ev else "?")),
                    adapter=adapter,
                    preference=train.preference if train else (_adapter_label(run, adapter) if adapter else None),
                    eval=ev,
                    recorded=dict(entry),
                )
            )
    if (p / "results").is_dir():
        found = sorted(
            d for d in (p / "results").iterdir() if d.is_dir() and d.name not in seen and detect_kind(d) == "eval"
        )
        found.sort(key=lambda d: (d.name != "base", d.name))
        for d in found:
            ev = load_eval(d)
            train = by_dir.get(d.name)
            agents.append(
                RunAgent(
                    name=ev.agent,
                    adapter=str(train.path) if train else None,
                    preference=train.preference if train else None,
                    eval=ev,
                )
            )
            if run is not None:
                notes.append(f"results/{d.name} is not listed in run.json")
    return RunInput(path=p, run=run, build=build, adapters=adapters, agents=agents, notes=notes)


def _adapter_label(run: Mapping[str, Any], adapter: str) -> str | None:
    for label, path in (run.get("adapters") or {}).items():
        if isinstance(path, str) and Path(path).name == Path(adapter).name:
            return str(label)
    return None


def load_simulation(path: str | os.PathLike[str]) -> SimulationInput:
    """Read a ``prefc simulate`` directory (``simulation.json``, ``rounds.jsonl``, PNGs).

    Args:
        path: The directory.

    Raises:
        ReportError: When ``simulation.json`` is missing or not a JSON object.
    """
    p = Path(path)
    if not (p / "simulation.json").is_file():
        raise ReportError(f"{p}: no simulation.json (not a simulation directory)")
    data = _read_record(p / "simulation.json", "a prefc simulation", ("agents", "game", "rounds"))
    notes: list[str] = []
    n_rounds = None
    if (p / "rounds.jsonl").is_file():
        rounds, bad = _read_jsonl(p / "rounds.jsonl")
        n_rounds = len(rounds)
        if bad:
            notes.append(f"rounds.jsonl: {bad} line(s) are not valid JSON and were skipped")
    else:
        notes.append("rounds.jsonl is missing")
    return SimulationInput(path=p, data=data, n_rounds=n_rounds, plots=_plots(p, notes), notes=notes)


def load_diff(path: str | os.PathLike[str]) -> DiffInput:
    """Read a ``prefc diff -o`` directory (``diff.json`` and its PNGs).

    Args:
        path: The directory.

    Raises:
        ReportError: When ``diff.json`` is missing or not a JSON object.
    """
    p = Path(path)
    if not (p / "diff.json").is_file():
        raise ReportError(f"{p}: no diff.json (not a diff directory)")
    data = _read_record(p / "diff.json", "a prefc diff", ("kind", "games"))
    notes: list[str] = []
    return DiffInput(path=p, data=data, plots=_plots(p, notes), notes=notes)


_LOADERS = {"eval": load_eval, "run": load_run, "simulation": load_simulation, "diff": load_diff, "build": load_build}
_FILE_KINDS = {name: kind for name, kind in _MARKERS}


def load_inputs(paths: Iterable[str | os.PathLike[str]]) -> list[LoadedInput]:
    """Load every input, recognising each by its content.

    A file named like a marker (``summary.json``, ``run.json``, ...) stands for its directory; a
    directory that is no known kind but whose sub-directories are (``runs/``, ``build/``) stands
    for those. The same directory given twice is loaded once.

    Args:
        paths: Directories (or marker files).

    Raises:
        ReportError: A path that does not exist or is no known kind, or an unreadable input.
    """
    dirs: list[tuple[Path, InputKind]] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise ReportError(f"{p}: no such file or directory")
        if p.is_file():
            kind = _FILE_KINDS.get(p.name)
            if kind is None:
                raise ReportError(
                    f"{p}: not a prefc output (give an evaluation, run, simulation, diff or build directory)"
                )
            dirs.append((p.parent, kind))
            continue
        kind = detect_kind(p)
        if kind is not None:
            dirs.append((p, kind))
            continue
        children = [(c, detect_kind(c)) for c in sorted(p.iterdir()) if c.is_dir()]
        found = [(c, k) for c, k in children if k is not None]
        if not found:
            raise ReportError(
                f"{p}: not an evaluation, run, simulation, diff or build directory "
                "(no summary.json, results.jsonl, run.json, simulation.json, diff.json or manifest.json)"
            )
        dirs.extend(found)  # type: ignore[arg-type]
    loaded: list[LoadedInput] = []
    seen: set[Path] = set()
    for d, kind in dirs:
        key = d.resolve()
        if key in seen:
            continue
        seen.add(key)
        loaded.append(_LOADERS[kind](d))
    return loaded


# --------------------------------------------------------------------------------------------------
# View models (plain data for the template)


def _num(x: object, digits: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        return f"{x:.{digits}f}"
    return str(x)


def _signed(x: float | None) -> str:
    return "—" if x is None else f"{x:+.3f}"


def _compact(value: object, limit: int = 300) -> str:
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(sha: object) -> str:
    return str(sha)[:12] if sha else "—"


def _kappa_text(k: Mapping[str, Any] | None) -> str:
    if not k:
        return "—"
    lo = ("≤" if k.get("ci_low_at_bound") else "") + _num(k.get("ci_low"))
    hi = ("≥" if k.get("ci_high_at_bound") else "") + _num(k.get("ci_high"))
    return f"{_num(k.get('estimate'))} [{lo}, {hi}]"


def _accuracies(ev: EvalInput | None, recorded: Mapping[str, Any] | None = None) -> dict[str, float | None]:
    if ev is not None and ev.summary is not None:
        return {p.label: p.accuracy for p in ev.summary.preferences}
    if ev is not None and ev.provisional is not None:
        return dict(ev.provisional["accuracy"])
    acc = (recorded or {}).get("accuracy")
    return {str(k): v for k, v in acc.items()} if isinstance(acc, Mapping) else {}


def _eval_view(ev: EvalInput, *, anchor: str) -> dict[str, Any]:
    s = ev.summary
    view: dict[str, Any] = {
        "anchor": anchor,
        "path": str(ev.path),
        "agent": ev.agent,
        "complete": ev.complete,
        "notes": list(ev.notes),
        "plots": [{"name": pl.name, "uri": pl.data_uri} for pl in ev.plots],
        "samples": ev.samples,
        "n_records": ev.n_records,
    }
    if s is None:
        prov = ev.provisional or {"n": 0, "n_parsed": 0, "parse_rate": None, "accuracy": {}}
        view.update(
            spec="—", spec_sha="—", rubric="—", scoring="—",
            parse=f"{_num(prov['parse_rate'])} ({prov['n_parsed']}/{prov['n']})",
            preferences=[
                {"label": lab, "n": "—", "accuracy": _num(a), "expected": "—", "distance": "—", "nearest": False,
                 "by_game": []}
                for lab, a in prov["accuracy"].items()
            ],
            logprob=False, nearest=None, kappa=None, incentives=[], games=[], conventions="",
        )
        return view
    nearest = s.nearest.label if _matched(s) else None
    games = sorted({g for p in s.preferences for g in p.accuracy_by_game})
    view.update(
        spec=s.spec or "—",
        spec_sha=s.spec_sha256 or "—",
        rubric=s.rubric or "—",
        scoring=s.scoring,
        parse=f"{_num(s.parse_rate)} ({s.n_parsed}/{s.n_items})",
        logprob=s.scoring == "logprob",
        games=games,
        preferences=[
            {
                "label": p.label,
                "n": p.n,
                "accuracy": _num(p.accuracy),
                "expected": _num(p.expected_accuracy),
                "distance": _num(p.mean_distance),
                "nearest": p.label == nearest,
                "by_game": [_num(p.accuracy_by_game.get(g)) for g in games],
            }
            for p in s.preferences
        ],
        nearest=(
            {
                "label": s.nearest.label if nearest else "none",
                "accuracy": _num(s.nearest.accuracy),
                "runner_up": s.nearest.runner_up or "—",
                "margin": _num(s.nearest.margin),
                "tie": s.nearest.tie_broken_by_distance,
                "matched": nearest is not None,
            }
            if s.nearest
            else None
        ),
        kappa=(
            {
                "param": s.kappa.param,
                "family": s.kappa.family,
                "text": _kappa_text(s.kappa.model_dump()),
                "estimate": _num(s.kappa.estimate),
                "ci_low": _num(s.kappa.ci_low),
                "ci_high": _num(s.kappa.ci_high),
                "precision": f"{s.kappa.precision:.3g}" + (" (at bound)" if s.kappa.precision_at_bound else ""),
                "n_used": s.kappa.n_used,
                "n_soft": s.kappa.n_soft,
                "n_unparsed": s.kappa.n_unparsed,
                "n_unmatched": s.kappa.n_unmatched,
                "loglik": _num(s.kappa.loglik, 2),
                "loglik_uniform": _num(s.kappa.loglik_uniform, 2),
            }
            if s.kappa
            else None
        ),
        incentives=[
            {
                "game": inc.game,
                "role": inc.role,
                "action": inc.action,
                "param": inc.param,
                "n": inc.n,
                "method": inc.method,
                "agent": _slope(inc.agent.slope, inc.agent.se),
                "targets": [_slope(inc.targets[lab].slope, inc.targets[lab].se) if lab in inc.targets else "—"
                            for lab in [p.label for p in s.preferences]],
            }
            for inc in s.incentives
        ],
        conventions=s.conventions,
    )
    return view


def _matched(s: Summary) -> bool:
    """Whether the summary's nearest type means anything (some answer matched some preference)."""
    return s.nearest is not None and bool(s.nearest.accuracy)


def _slope(slope: float | None, se: float | None) -> str:
    if slope is None:
        return "—"

    def snap(x: float) -> float:  # rounding noise of an exact zero prints as 0
        return 0.0 if abs(x) < 1e-9 else x

    return f"{snap(slope):.3g}" + (f" ± {snap(se):.2g}" if se is not None else "")


def _build_view(b: BuildInput, *, anchor: str) -> dict[str, Any]:
    m = b.manifest
    files = [
        {
            "path": str(f.get("path")),
            "rows": _num(f.get("rows")),
            "bytes": _num(f.get("bytes")),
            "sha": _short(f.get("sha256")),
        }
        for f in m.get("files") or []
        if isinstance(f, Mapping)
    ]
    datasets = []
    for d in b.datasets:
        counts = d.get("counts") if isinstance(d.get("counts"), Mapping) else {}
        datasets.append(
            {
                "name": str(d["name"]),
                "counts": ", ".join(f"{k} {_num(v)}" for k, v in counts.items()) or "—",
                "preferences": ", ".join(str(x) for x in d.get("preferences") or []) or "—",
                "games": ", ".join(str(x) for x in d.get("games") or []) or "—",
                "seed": _num(d.get("seed")),
                "skipped": _compact(d.get("skipped_points") or {}) if d.get("skipped_points") else "—",
                "holdout": _compact(d.get("holdout")) if d.get("holdout") else "—",
            }
        )
    rubrics = []
    for r in b.rubrics:
        fam = r.get("family") if isinstance(r.get("family"), Mapping) else None
        rubrics.append(
            {
                "name": str(r["name"]),
                "n_items": _num(r.get("items")),
                "preferences": ", ".join(str(x) for x in r.get("preferences") or []) or "—",
                "games": ", ".join(str(x) for x in r.get("games") or []) or "—",
                "tolerance": _num(r.get("tolerance")),
                "family": (f"{fam.get('name')} ({fam.get('param')}, {len(fam.get('grid') or [])} grid points)"
                           if fam else "—"),
            }
        )
    return {
        "anchor": anchor,
        "path": str(b.path),
        "spec": str(m.get("spec", "—")),
        "spec_sha": str(m.get("spec_sha256", "—")),
        "version": str(m.get("prefc_version", "—")),
        "format": str(m.get("format", "—")),
        "blocks": ", ".join(
            f"{bl.get('kind')} {bl.get('name')} (seed {bl.get('seed')})"
            for bl in m.get("blocks") or []
            if isinstance(bl, Mapping)
        ) or "—",
        "files": files,
        "datasets": datasets,
        "rubrics": rubrics,
        "notes": list(b.notes),
    }


def _train_view(t: TrainInput) -> dict[str, Any]:
    m = t.metadata or {}
    rows = m.get("rows") if isinstance(m.get("rows"), Mapping) else {}
    return {
        "dir": t.path.name,
        "path": str(t.path),
        "preference": t.preference or "—",
        "complete": t.metadata is not None,
        "steps": _num(m.get("steps")),
        "rows": f"{_num(rows.get('train'))} / {_num(rows.get('val'))}" if rows else "—",
        "train_loss": _num(m.get("train_loss"), 4),
        "val_loss": _num(m.get("val_loss"), 4),
        "seconds": _num(m.get("seconds"), 1),
        "tokens": _num(m.get("tokens")),
        "tps": _num(m.get("tokens_per_second"), 1),
        "device": f"{m.get('device', '—')}{', bf16' if m.get('bf16') else ''}",
        "kind": "—" if not m else ("LoRA adapter" if m.get("adapter") else "full model"),
        "checkpoints": ", ".join(t.checkpoints) or "—",
        "config": [{"key": str(k), "value": _compact(v)} for k, v in sorted((m.get("config") or {}).items())],
        "notes": list(t.notes),
    }


def _run_view(r: RunInput, *, anchor: str) -> dict[str, Any]:
    labels: list[str] = []
    for a in r.agents:
        for lab in _accuracies(a.eval, a.recorded):
            if lab not in labels:
                labels.append(lab)
    base = next((a for a in r.agents if a.adapter is None), None)
    base_acc = _accuracies(base.eval, base.recorded) if base else {}
    shift = []
    headline = []
    for i, a in enumerate(r.agents):
        acc = _accuracies(a.eval, a.recorded)
        s = a.eval.summary if a.eval else None
        if s is not None:
            parse = f"{_num(s.parse_rate)} ({s.n_parsed}/{s.n_items})"
            nearest = s.nearest.label if _matched(s) else "none"
            kappa = _kappa_text(s.kappa.model_dump() if s.kappa else None)
        elif a.eval is not None and a.eval.provisional is not None:
            prov = a.eval.provisional
            parse = f"{_num(prov['parse_rate'])} ({prov['n_parsed']}/{prov['n']}, provisional)"
            nearest, kappa = "—", "—"
        else:
            rec = a.recorded
            parse = _num(rec.get("parse_rate"))
            nearest = str(rec.get("nearest") or "—")
            kappa = _kappa_text(rec.get("kappa") if isinstance(rec.get("kappa"), Mapping) else None)
        cells = []
        for lab in labels:
            v = acc.get(lab)
            b = base_acc.get(lab)
            delta = v - b if (a is not base and v is not None and b is not None) else None
            cells.append({"label": lab, "value": _num(v), "delta": _signed(delta) if delta is not None else "",
                          "trained": lab == a.preference})
        shift.append({"agent": a.name, "preference": a.preference or ("base model" if a is base else "—"),
                      "parse": parse, "cells": cells, "nearest": nearest, "kappa": kappa,
                      "complete": bool(a.eval and a.eval.complete)})
        if a is not base:
            own = acc.get(a.preference) if a.preference else None
            b = base_acc.get(a.preference) if a.preference else None
            headline.append({
                "agent": a.name,
                "preference": a.preference or "—",
                "nearest": nearest,
                "accuracy": _num(own),
                "base": _num(b),
                "gain": _signed(own - b) if own is not None and b is not None else "—",
            })
    agents = [
        {"name": a.name, "eval": _eval_view(a.eval, anchor=f"{anchor}-agent{i}") if a.eval else None,
         "adapter": a.adapter or "—"}
        for i, a in enumerate(r.agents)
    ]
    spec = (r.run or {}).get("spec") or (r.build.manifest.get("spec") if r.build else None) or r.path.name
    sha = (r.run or {}).get("spec_sha256") or (r.build.manifest.get("spec_sha256") if r.build else None)
    return {
        "anchor": anchor,
        "path": str(r.path),
        "complete": r.run is not None,
        "spec": str(spec),
        "spec_sha": str(sha or "—"),
        "labels": labels,
        "shift": shift,
        "headline": headline,
        "base_name": base.name if base else None,
        "training": [_train_view(t) for t in r.adapters],
        "agents": agents,
        "build": _build_view(r.build, anchor=f"{anchor}-build") if r.build else None,
        "notes": list(r.notes),
    }


def _kv_rows(obj: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"key": str(k), "value": _fmt_value(v)} for k, v in obj.items()]


def _fmt_value(v: object) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
            return f"{v:.3g}"  # p-values and other tiny or huge numbers keep their magnitude
        return f"{v:.4f}"
    return _compact(v)


def _simulation_view(sim: SimulationInput, *, anchor: str) -> dict[str, Any]:
    d = sim.data
    bench = d.get("benchmarks") if isinstance(d.get("benchmarks"), Mapping) else {}
    ci = d.get("collusion_index") if isinstance(d.get("collusion_index"), Mapping) else {}
    per_agent = ci.get("per_agent") if isinstance(ci.get("per_agent"), list) else []
    agents = []
    for i, a in enumerate(d.get("agents") or []):
        if not isinstance(a, Mapping):
            continue
        agents.append({
            "name": str(a.get("name", f"agent {i}")),
            "preference": _fmt_value(a.get("preference")),
            "price": _num(a.get("mean_price_last"), 4),
            "profit": _num(a.get("mean_profit_last"), 4),
            "benchmark": _num(a.get("benchmark_price"), 4),
            "failures": _fmt_value(a.get("failures")),
            "share": _num(a.get("mean_share_last"), 3),
            "parse": _num(a.get("parse_rate"), 3),
            "collusion": (_num(per_agent[i], 3)
                          if i < len(per_agent) and isinstance(per_agent[i], int | float) else "—"),
        })
    moralis = bench.get("moralis") if isinstance(bench.get("moralis"), Mapping) else None
    return {
        "anchor": anchor,
        "path": str(sim.path),
        "spec": _fmt_value(d.get("spec")),
        "spec_sha": str(d.get("spec_sha256") or "—"),
        "game": _fmt_value(d.get("game")),
        "rounds": _fmt_value(d.get("rounds")),
        "last": _fmt_value(d.get("last")),
        "n_rounds": _num(sim.n_rounds),
        "params": _kv_rows(d.get("params")) if isinstance(d.get("params"), Mapping) else [],
        "agents": agents,
        "benchmarks": _kv_rows({k: v for k, v in bench.items() if k != "moralis"}),
        "moralis": _kv_rows(moralis) if moralis else [],
        "joint": _num(ci.get("joint"), 3) if isinstance(ci.get("joint"), int | float) else "—",
        "plots": [{"name": pl.name, "uri": pl.data_uri} for pl in sim.plots],
        "notes": list(sim.notes),
    }


def _is_scalar(v: object) -> bool:
    return not isinstance(v, Mapping | list)


def _json_blocks(value: object, depth: int = 0) -> list[dict[str, Any]]:
    """A JSON value as nested blocks: key/value tables, side-by-side tables of flat objects, record
    tables for lists of objects, and titled sub-sections for the rest (compact JSON below depth 3)."""
    if isinstance(value, Mapping):
        scalars = {k: v for k, v in value.items() if _is_scalar(v) or depth >= 3}
        flat = {k: v for k, v in value.items() if k not in scalars and isinstance(v, Mapping) and v
                and all(_is_scalar(x) for x in v.values())}
        rest = {k: v for k, v in value.items() if k not in scalars and k not in flat}
        blocks: list[dict[str, Any]] = []
        if scalars:
            blocks.append({"type": "kv", "rows": _kv_rows(scalars)})
        if flat:
            fields: list[str] = []
            for obj in flat.values():
                for k in obj:
                    if str(k) not in fields:
                        fields.append(str(k))
            named = {name: {str(k): v for k, v in obj.items()} for name, obj in flat.items()}
            blocks.append({
                "type": "table",
                "columns": ["", *[str(n) for n in flat]],
                "rows": [[f, *[_fmt_value(named[n][f]) if f in named[n] else "" for n in flat]] for f in fields],
            })
        for k, v in rest.items():
            blocks.append({"type": "section", "title": str(k), "children": _json_blocks(v, depth + 1)})
        return blocks
    if isinstance(value, list):
        if not value:
            return [{"type": "text", "value": "none"}]
        if all(isinstance(x, Mapping) for x in value):
            cols: list[str] = []
            for x in value:
                for k in x:
                    if str(k) not in cols:
                        cols.append(str(k))
            rows = []
            for x in value:
                named_row = {str(k): v for k, v in x.items()}
                rows.append([_fmt_value(named_row[c]) if c in named_row else "" for c in cols])
            return [{"type": "table", "columns": cols, "rows": rows}]
        if all(_is_scalar(x) for x in value):
            return [{"type": "list", "items": [_fmt_value(x) for x in value]}]
        return [{"type": "text", "value": _compact(value, 2000)}]
    return [{"type": "text", "value": _fmt_value(value)}]


def _entry_title(entry: object, i: int) -> str:
    if not isinstance(entry, Mapping):
        return f"entry {i + 1}"
    parts = [str(entry[k]) for k in ("game", "role", "action") if _is_scalar(entry.get(k)) and entry.get(k) is not None]
    return " / ".join(parts) or f"entry {i + 1}"


def _diff_view(diff: DiffInput, *, anchor: str) -> dict[str, Any]:
    d = diff.data
    games_raw = d.get("games")
    games: list[dict[str, Any]] = []
    if isinstance(games_raw, Mapping):
        games = [{"title": str(k), "blocks": _json_blocks(v, 1)} for k, v in games_raw.items()]
    elif isinstance(games_raw, list):
        for i, g in enumerate(games_raw):
            games.append({"title": _entry_title(g, i), "blocks": _json_blocks(g, 1)})
    rest = {k: v for k, v in d.items() if k not in ("kind", "inputs", "games")}
    inputs = d.get("inputs")
    return {
        "anchor": anchor,
        "path": str(diff.path),
        "kind": _fmt_value(d.get("kind")),
        "inputs": _json_blocks(inputs) if inputs is not None else [],
        "games": games,
        "rest": _json_blocks(rest) if rest else [],
        "plots": [{"name": pl.name, "uri": pl.data_uri} for pl in diff.plots],
        "notes": list(diff.notes),
    }


def _provenance(loaded: Sequence[LoadedInput], given: Sequence[tuple[str, str]]) -> dict[str, Any]:
    specs: dict[tuple[str, str], list[str]] = {}

    def spec(name: object, sha: object, where: str) -> None:
        if name is None and sha is None:
            return
        specs.setdefault((str(name or "—"), str(sha or "—")), [])
        if where not in specs[(str(name or "—"), str(sha or "—"))]:
            specs[(str(name or "—"), str(sha or "—"))].append(where)

    models: dict[tuple[str, str, str], list[str]] = {}
    adapters: list[dict[str, Any]] = []
    rubrics: dict[tuple[str, str, str], dict[str, Any]] = {}
    versions: set[str] = set()
    agents: list[dict[str, str]] = []

    def add_eval(ev: EvalInput, where: str) -> None:
        s = ev.summary
        if s is not None:
            spec(s.spec, s.spec_sha256, where)
            key = (str(s.spec or "—"), str(s.rubric or "—"), str(s.spec_sha256 or "—"))
            rubrics.setdefault(key, {"spec": key[0], "rubric": key[1], "sha": key[2], "file_sha": "—",
                                     "tolerance": _num(s.tolerance), "used_by": []})["used_by"].append(ev.agent)
        agents.append({"agent": ev.agent, "scoring": s.scoring if s else "—", "path": str(ev.path),
                       "status": "complete" if ev.complete else "partial"})

    def add_build(b: BuildInput, where: str) -> None:
        m = b.manifest
        spec(m.get("spec"), m.get("spec_sha256"), where)
        if m.get("prefc_version"):
            versions.add(str(m["prefc_version"]))
        files = {str(f.get("path")): f for f in m.get("files") or [] if isinstance(f, Mapping)}
        for r in b.rubrics:
            key = (str(m.get("spec", "—")), str(r["name"]), str(m.get("spec_sha256", "—")))
            entry = rubrics.setdefault(key, {"spec": key[0], "rubric": key[1], "sha": key[2], "file_sha": "—",
                                             "tolerance": _num(r.get("tolerance")), "used_by": []})
            f = files.get(f"{r['name']}.jsonl")
            if f is not None:
                entry["file_sha"] = str(f.get("sha256", "—"))

    for item in loaded:
        where = str(item.path)
        if isinstance(item, EvalInput):
            add_eval(item, where)
        elif isinstance(item, BuildInput):
            add_build(item, where)
        elif isinstance(item, RunInput):
            if item.run is not None:
                spec(item.run.get("spec"), item.run.get("spec_sha256"), where)
            if item.build is not None:
                add_build(item.build, str(item.build.path))
            for t in item.adapters:
                m = t.metadata or {}
                if m:
                    spec(m.get("spec"), m.get("spec_sha256"), str(t.path))
                bm = m.get("base_model") if isinstance(m.get("base_model"), Mapping) else None
                if bm:
                    key = (str(bm.get("name", "—")), str(bm.get("path", "—")), str(bm.get("config_sha256", "—")))
                    models.setdefault(key, []).append(t.path.name)
                adapters.append(_train_view(t))
            for a in item.agents:
                if a.eval is not None:
                    add_eval(a.eval, str(a.eval.path))
        elif isinstance(item, SimulationInput | DiffInput):
            data = item.data
            spec(data.get("spec"), data.get("spec_sha256"), where)
    by_name: dict[str, set[str]] = {}
    for name, sha in specs:
        by_name.setdefault(name, set()).add(sha)
    warnings = [
        f"spec {name!s} appears with {len(shas)} different sha256 values: the inputs come from different versions of it"
        for name, shas in sorted(by_name.items())
        if len(shas - {"—"}) > 1
    ]
    return {
        "version": __version__,
        "build_versions": ", ".join(sorted(versions)) or "—",
        "specs": [{"name": n, "sha": s, "where": w} for (n, s), w in sorted(specs.items())],
        "models": [
            {"name": n, "path": p, "sha": s, "used_by": ", ".join(u)} for (n, p, s), u in sorted(models.items())
        ],
        "adapters": adapters,
        "rubrics": [{**v, "used_by": ", ".join(v["used_by"]) or "—"} for _, v in sorted(rubrics.items())],
        "agents": agents,
        "inputs": [{"given": g, "kind": k} for g, k in given],
        "warnings": warnings,
    }


def _summary_view(views: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Headline lines and a comparison of every standalone evaluation."""
    lines: list[str] = []
    compare_labels: list[str] = []
    compare: list[dict[str, Any]] = []
    for kind, v in views:
        if kind == "run":
            state = "" if v["complete"] else " (unfinished)"
            lines.append(f"Run of spec {v['spec']}{state}: {len(v['shift'])} agent(s) evaluated, "
                         f"{len(v['training'])} adapter(s) trained.")
        elif kind == "eval":
            if v["complete"]:
                near = v["nearest"]["label"] if v["nearest"] else "—"
                k = f"; {v['kappa']['param']} {v['kappa']['text']}" if v["kappa"] else ""
                lines.append(f"{v['agent']} on rubric {v['rubric']} of spec {v['spec']}: parse rate {v['parse']}, "
                             f"nearest type {near}{k}.")
            else:
                lines.append(f"{v['agent']}: unfinished evaluation, {v['n_records']} answers on disk.")
            for p in v["preferences"]:
                if p["label"] not in compare_labels:
                    compare_labels.append(p["label"])
        elif kind == "simulation":
            lines.append(f"Simulation of {v['game']} ({v['rounds']} rounds, spec {v['spec']}): "
                         f"joint collusion index {v['joint']}.")
        elif kind == "diff":
            n_games = len(v["games"])
            lines.append(f"Diff ({v['kind']}) with {n_games} game entr{'y' if n_games == 1 else 'ies'}.")
        elif kind == "build":
            lines.append(f"Build of spec {v['spec']}: {len(v['files'])} files, {len(v['datasets'])} dataset(s), "
                         f"{len(v['rubrics'])} rubric(s).")
    for kind, v in views:
        if kind != "eval":
            continue
        acc = {p["label"]: p["accuracy"] for p in v["preferences"]}
        compare.append({
            "agent": v["agent"],
            "anchor": v["anchor"],
            "parse": v["parse"],
            "cells": [acc.get(lab, "—") for lab in compare_labels],
            "nearest": v["nearest"]["label"] if v["nearest"] else "—",
            "kappa": v["kappa"]["text"] if v["kappa"] else "—",
            "complete": v["complete"],
        })
    return {"lines": lines, "labels": compare_labels, "compare": compare}


# --------------------------------------------------------------------------------------------------
# Rendering


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
        inputs: Loaded inputs (see :func:`load_inputs`).
        title: The page title (default: names the specs reported on).
        given: ``(path as given, kind)`` pairs listed under provenance (default: each input's path).
        generated_at: A generation time to show (none by default, so the output is reproducible).
    """
    views: list[tuple[str, dict[str, Any]]] = []
    for i, item in enumerate(inputs):
        anchor = f"in{i + 1}"
        if isinstance(item, EvalInput):
            views.append(("eval", _eval_view(item, anchor=anchor)))
        elif isinstance(item, RunInput):
            views.append(("run", _run_view(item, anchor=anchor)))
        elif isinstance(item, SimulationInput):
            views.append(("simulation", _simulation_view(item, anchor=anchor)))
        elif isinstance(item, DiffInput):
            views.append(("diff", _diff_view(item, anchor=anchor)))
        elif isinstance(item, BuildInput):
            views.append(("build", _build_view(item, anchor=anchor)))
    pairs = list(given) if given is not None else [(str(x.path), x.kind) for x in inputs]
    prov = _provenance(inputs, pairs)
    if title is None:
        names = sorted({s["name"] for s in prov["specs"] if s["name"] != "—"})
        title = "prefc report" + (f": {', '.join(names)}" if names else "")
    template = _environment().get_template("report.html.j2")
    html = template.render(
        title=title,
        sections=[{"kind": k, "v": v} for k, v in views],
        summary=_summary_view(views),
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
    """Write the report for inputs already loaded with :func:`load_inputs`.

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
