"""Reading report inputs: every artefact through its model, problems kept as notes.

A directory's kind is recognised by its files (``run.json``, ``simulation.json``, ``diff.json``,
``manifest.json``, ``summary.json`` or ``results.jsonl``). The input the user names must be
readable (a :class:`ReportError` says why not); what is inside it (an adapter without its training
record, a cut ``results.jsonl``, a build file that differs from its manifest) becomes a note shown
in the page.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from prefc.artefacts import (
    DatasetHeader,
    Document,
    Manifest,
    ResultRecord,
    RoundRecord,
    RubricHeader,
    RunRecord,
    SimulationSummary,
    Summary,
    TrainRecord,
    iter_json_lines,
    read_document,
    read_json,
    sha256_file,
    validate_document,
    validate_row,
)
from prefc.artefacts.diff import diff_model

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

__all__ = [
    "MAX_PLOT_BYTES",
    "RAW_PREVIEW_CHARS",
    "SAMPLES_PER_AGENT",
    "compact",
    "detect_kind",
    "load_build",
    "load_diff",
    "load_eval",
    "load_inputs",
    "load_run",
    "load_simulation",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RAW_PREVIEW_CHARS = 600
"""Characters of a raw model output shown in the page (the rest is summarised as a count)."""
SAMPLES_PER_AGENT = 3
"""Raw outputs shown per evaluated agent."""
MAX_PLOT_BYTES = 20 * 1024 * 1024
"""PNGs larger than this are listed but not embedded."""
_PLOT_ORDER = ("accuracy.png", "kappa_profile.png", "incentives.png", "prices.png", "profits.png")
_MARKERS: tuple[tuple[str, InputKind], ...] = (
    ("run.json", "run"),
    ("simulation.json", "simulation"),
    ("diff.json", "diff"),
    ("manifest.json", "build"),
    ("summary.json", "eval"),
    ("results.jsonl", "eval"),
)


def compact(value: object, limit: int = 300) -> str:
    """A value as one short line of text (JSON for structures), cut with ``…``.

    Args:
        value: Any JSON-like value.
        limit: The most characters shown.
    """
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _try_document(path: Path, model: type[Document], notes: list[str]) -> Any:
    try:
        return read_document(path, model, error=ReportError)
    except ReportError as exc:
        notes.append(str(exc))
        return None


def _records(path: Path) -> tuple[list[ResultRecord], int, int]:
    """The result records of ``results.jsonl``, the lines that are not JSON, and the JSON lines
    that are not records."""
    cut: list[str] = []
    records: list[ResultRecord] = []
    invalid = 0
    for where, _, value in iter_json_lines(path, error=ReportError, bad=lambda w, why: cut.append(w)):
        try:
            records.append(validate_row(ResultRecord, value, where=where, error=ReportError))
        except ReportError:
            invalid += 1
    return records, len(cut), invalid


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


def _provisional(records: Sequence[ResultRecord]) -> dict[str, Any]:
    """Parse rate and accuracies from result lines alone (as the scorer counts: unparsed is wrong)."""
    labels: list[str] = []
    for r in records:
        for label in r.correct:
            if label not in labels:
                labels.append(label)
    n = len(records)
    n_parsed = sum(r.parsed is not None for r in records)
    accuracy: dict[str, float | None] = {}
    for label in labels:
        rel = [r for r in records if label in r.correct or r.parsed is None]
        hits = [1.0 if r.correct.get(label) is True else 0.0 for r in rel]
        accuracy[label] = sum(hits) / len(hits) if hits else None
    return {"n": n, "n_parsed": n_parsed, "parse_rate": n_parsed / n if n else None, "accuracy": accuracy}


def _samples(records: Sequence[ResultRecord], k: int = SAMPLES_PER_AGENT) -> list[dict[str, Any]]:
    """The first unparsed answer (if any) and the first parsed ones, in file order, truncated."""
    failed = [i for i, r in enumerate(records) if r.parsed is None][:1]
    others = [i for i in range(len(records)) if i not in failed][: k - len(failed)]
    out = []
    for i in sorted([*failed, *others]):
        r = records[i]
        out.append(
            {
                "id": r.id,
                "game": r.game,
                "role": r.role,
                "params": compact(r.params),
                "raw": r.raw[:RAW_PREVIEW_CHARS],
                "cut": max(0, r.raw_chars - min(len(r.raw), RAW_PREVIEW_CHARS)),
                "parsed": compact(r.parsed) if r.parsed is not None else None,
                "error": r.parse_error or None,
                "correct": [lab for lab, ok in r.correct.items() if ok is True],
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
    summary = read_document(summary_path, Summary, error=ReportError) if summary_path.is_file() else None
    records: list[ResultRecord] = []
    bad = invalid = 0
    if results_path.is_file():
        records, bad, invalid = _records(results_path)
        if bad:
            notes.append(f"results.jsonl: {bad} line(s) are not valid JSON (cut by an interruption?) and were skipped")
        if invalid:
            notes.append(f"results.jsonl: {invalid} line(s) are not result records and were skipped")
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
    return EvalInput(
        path=p,
        summary=summary,
        n_records=len(records),
        provisional=provisional,
        samples=_samples(records),
        agents=sorted({r.agent for r in records if r.agent}),
        plots=_plots(p, notes),
        notes=notes,
        training=_training_of(summary, notes),
    )


def _training_of(summary: Summary | None, notes: list[str]) -> TrainInput | None:
    """The adapter (or fine-tuned model) directory a summary names, with its training record."""
    if summary is None or not summary.trained:
        return None
    where = Path(summary.trained)
    if not (where / "prefc_train.json").is_file():
        notes.append(
            f"the agent was trained into {where}, which no longer holds prefc_train.json: "
            "its training configuration cannot be shown"
        )
        return None
    return _load_adapter(where)


def load_build(path: str | os.PathLike[str]) -> BuildInput:
    """Read a compiled build directory: ``manifest.json``, the block headers, and every listed file
    checked against the manifest (missing, or other bytes than it records).

    Args:
        path: The directory (``build/<spec>/``).

    Raises:
        ReportError: When ``manifest.json`` is missing or not a build manifest.
    """
    p = Path(path)
    if not (p / "manifest.json").is_file():
        raise ReportError(f"{p}: no manifest.json (not a build directory)")
    manifest = read_document(p / "manifest.json", Manifest, error=ReportError)
    notes: list[str] = []
    datasets: list[tuple[str, DatasetHeader]] = []
    rubrics: list[tuple[str, RubricHeader]] = []
    for block in manifest.blocks:
        name = block.name
        if "/" in name or "\\" in name or name.startswith("."):
            notes.append(f"manifest.json: block name {name!r} is not a plain name (skipped)")
            continue
        if block.kind == "dataset":
            card = p / name / "dataset.json"
            if card.is_file():
                header = _try_document(card, DatasetHeader, notes)
                if header is not None:
                    datasets.append((name, header))
            else:
                notes.append(f"{name}/dataset.json is missing")
        else:
            head = p / f"{name}.json"
            if head.is_file():
                rubric = _try_document(head, RubricHeader, notes)
                if rubric is not None:
                    rubrics.append((name, rubric))
            else:
                notes.append(f"{name}.json (rubric header) is missing")
    for f in manifest.files:
        target = p / f.path
        if not target.is_file():
            notes.append(f"{f.path} is listed in manifest.json but missing")
        elif sha256_file(target) != f.sha256:
            notes.append(f"{f.path} differs from what manifest.json records (cut or changed after compiling)")
    return BuildInput(path=p, manifest=manifest, datasets=datasets, rubrics=rubrics, notes=notes)


def _load_adapter(path: Path) -> TrainInput:
    notes: list[str] = []
    meta = None
    if (path / "prefc_train.json").is_file():
        meta = _try_document(path / "prefc_train.json", TrainRecord, notes)
    else:
        notes.append(f"adapters/{path.name}: no prefc_train.json (training did not finish)")
    ckpt_root = path / "checkpoints"
    ckpts = sorted(c.name for c in ckpt_root.glob("checkpoint-*") if c.is_dir()) if ckpt_root.is_dir() else []
    return TrainInput(path=path, metadata=meta, checkpoints=ckpts, notes=notes)


def _locate(recorded: str | None, root: Path, sub: str) -> Path | None:
    """A path recorded in ``run.json``, found again after the run directory was moved."""
    if not recorded:
        return None
    rec = Path(recorded)
    candidates = [root / sub / rec.name]
    if rec.is_absolute():
        candidates.insert(0, rec)
    for c in candidates:
        if c.is_dir():
            return c
    return None


def _adapter_label(run: RunRecord, adapter: str) -> str | None:
    for label, path in run.adapters.items():
        if Path(path).name == Path(adapter).name:
            return label
    return None


def load_run(path: str | os.PathLike[str]) -> RunInput:
    """Read a ``prefc run`` directory: ``run.json``, the build, the adapters and each agent's results.

    Paths recorded in ``run.json`` are looked up where they were written and, failing that, at the
    same place inside ``path`` (so a run directory can be moved or copied).

    Args:
        path: The directory (``<out>/<spec>/``).

    Raises:
        ReportError: When ``run.json`` is not a run record or a recorded evaluation is unreadable.
    """
    p = Path(path)
    notes: list[str] = []
    run = read_document(p / "run.json", RunRecord, error=ReportError) if (p / "run.json").is_file() else None
    if run is None:
        notes.append("run.json is missing: the run did not finish; showing what is on disk")

    build = None
    build_dirs = sorted(d.parent for d in (p / "build").glob("*/manifest.json")) if (p / "build").is_dir() else []
    if run is not None and (p / "build" / run.spec / "manifest.json").is_file():
        build = load_build(p / "build" / run.spec)
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
        for entry in run.agents:
            results = _locate(entry.results, p, "results")
            ev = load_eval(results) if results is not None and detect_kind(results) == "eval" else None
            if ev is None:
                notes.append(f"results of {entry.agent} not found ({entry.results})")
            else:
                seen.add(ev.path.name)
            train = by_dir.get(Path(entry.adapter).name) if entry.adapter else None
            agents.append(
                RunAgent(
                    name=entry.agent,
                    adapter=entry.adapter,
                    preference=train.preference
                    if train
                    else (_adapter_label(run, entry.adapter) if entry.adapter else None),
                    eval=ev,
                    recorded=entry,
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


def load_simulation(path: str | os.PathLike[str]) -> SimulationInput:
    """Read a ``prefc simulate`` directory (``simulation.json``, ``rounds.jsonl``, PNGs).

    Args:
        path: The directory.

    Raises:
        ReportError: When ``simulation.json`` is missing or not a simulation summary.
    """
    p = Path(path)
    if not (p / "simulation.json").is_file():
        raise ReportError(f"{p}: no simulation.json (not a simulation directory)")
    data = read_document(p / "simulation.json", SimulationSummary, error=ReportError)
    notes: list[str] = []
    n_rounds = None
    if (p / "rounds.jsonl").is_file():
        cut: list[str] = []
        n_rounds = invalid = 0
        for where, _, value in iter_json_lines(p / "rounds.jsonl", error=ReportError, bad=lambda w, why: cut.append(w)):
            try:
                validate_row(RoundRecord, value, where=where, error=ReportError)
                n_rounds += 1
            except ReportError:
                invalid += 1
        if cut:
            notes.append(f"rounds.jsonl: {len(cut)} line(s) are not valid JSON and were skipped")
        if invalid:
            notes.append(f"rounds.jsonl: {invalid} line(s) are not round records and were skipped")
    else:
        notes.append("rounds.jsonl is missing")
    return SimulationInput(path=p, data=data, n_rounds=n_rounds, plots=_plots(p, notes), notes=notes)


def load_diff(path: str | os.PathLike[str]) -> DiffInput:
    """Read a ``prefc diff -o`` directory (``diff.json`` and its PNGs).

    Args:
        path: The directory.

    Raises:
        ReportError: When ``diff.json`` is missing or not a diff.
    """
    p = Path(path)
    if not (p / "diff.json").is_file():
        raise ReportError(f"{p}: no diff.json (not a diff directory)")
    value, text = read_json(p / "diff.json", error=ReportError)
    data = validate_document(diff_model(value), value, where=str(p / "diff.json"), text=text, error=ReportError)
    notes: list[str] = []
    return DiffInput(path=p, data=data, plots=_plots(p, notes), notes=notes)


_LOADERS: dict[InputKind, Callable[[Path], LoadedInput]] = {
    "eval": load_eval,
    "run": load_run,
    "simulation": load_simulation,
    "diff": load_diff,
    "build": load_build,
}
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
        found_kind = detect_kind(p)
        if found_kind is not None:
            dirs.append((p, found_kind))
            continue
        children = [(c, detect_kind(c)) for c in sorted(p.iterdir()) if c.is_dir()]
        found = [(c, k) for c, k in children if k is not None]
        if not found:
            raise ReportError(
                f"{p}: not an evaluation, run, simulation, diff or build directory "
                "(no summary.json, results.jsonl, run.json, simulation.json, diff.json or manifest.json)"
            )
        dirs.extend(found)
    loaded: list[LoadedInput] = []
    seen: set[Path] = set()
    for d, kind in dirs:
        key = d.resolve()
        if key in seen:
            continue
        seen.add(key)
        loaded.append(_LOADERS[kind](d))
    return loaded
