"""What a report is made of: each input directory loaded into typed artefacts, with the problems
found in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from prefc.artefacts import (
    DatasetHeader,
    Manifest,
    ResultsDiffDocument,
    RubricHeader,
    RunRecord,
    SimulationSummary,
    SpecDiffDocument,
    Summary,
    TrainRecord,
)
from prefc.artefacts import RunAgent as RunAgentRecord

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
]

InputKind = Literal["eval", "run", "simulation", "diff", "build"]


class ReportError(Exception):
    """An input that cannot be reported (missing, of an unknown kind, or unreadable)."""


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
        summary: ``summary.json`` (None when it is missing).
        n_records: Valid records in ``results.jsonl``.
        provisional: Parse rate and accuracies computed from ``results.jsonl`` when there is no
            summary (``n``, ``n_parsed``, ``parse_rate``, ``accuracy`` per label).
        samples: A few raw outputs (file order: the first unparsed one, then parsed ones).
        agents: The agent names found in ``results.jsonl``.
        plots: The embedded PNGs.
        notes: Problems found (missing or cut files).
        training: The agent's adapter (or fine-tuned model) directory when the summary names one
            (``trained``): its training configuration and provenance.
    """

    path: Path
    summary: Summary | None
    n_records: int = 0
    provisional: dict[str, Any] | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    training: TrainInput | None = None
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
        metadata: ``prefc_train.json`` (None when training did not finish or it is unreadable).
        checkpoints: Checkpoint directory names found.
        notes: Problems found.
    """

    path: Path
    metadata: TrainRecord | None
    checkpoints: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def preference(self) -> str | None:
        """The preference the adapter was trained on."""
        if self.metadata is None:
            return None
        pref = self.metadata.preference or self.metadata.config.get("preference")
        return str(pref) if pref is not None else None


@dataclass
class BuildInput:
    """A compiled build directory (``build/<spec>/``).

    Attributes:
        path: The directory.
        manifest: ``manifest.json``.
        datasets: Each dataset block's name and ``dataset.json`` header.
        rubrics: Each rubric block's name and ``<rubric>.json`` header.
        notes: Problems found (missing files, files that differ from the manifest).
    """

    path: Path
    manifest: Manifest
    datasets: list[tuple[str, DatasetHeader]] = field(default_factory=list)
    rubrics: list[tuple[str, RubricHeader]] = field(default_factory=list)
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
        recorded: The agent's entry in ``run.json`` (None when there is none).
    """

    name: str
    adapter: str | None
    preference: str | None
    eval: EvalInput | None
    recorded: RunAgentRecord | None = None


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
    run: RunRecord | None
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
        n_rounds: Valid rounds in ``rounds.jsonl`` (None when the file is missing).
        plots: The embedded PNGs.
        notes: Problems found.
    """

    path: Path
    data: SimulationSummary
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
    data: SpecDiffDocument | ResultsDiffDocument
    plots: list[Plot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind: InputKind = "diff"


LoadedInput = EvalInput | RunInput | SimulationInput | DiffInput | BuildInput
"""Any loaded input."""
