"""What ``prefc run`` produced, and how it is shown: each evaluated agent with its verdicts, the
transfer evaluations, the run as a whole, and the console tables of the behaviour shift."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefc.numbers import DASH, fmt_number

if TYPE_CHECKING:  # rich and pydantic are imported when a run prints or records
    from rich.table import Table

    from prefc.artefacts import RunAgent, RunTransfer, Summary
    from prefc.play import PlayResult

__all__ = [
    "AgentReport",
    "RunResult",
    "TransferResult",
    "agent_verdicts",
    "shift_table",
    "shift_table_of",
    "verdict_lines",
]


@dataclass
class AgentReport:
    """One evaluated agent in a run.

    Attributes:
        agent: The agent's name (base model, ``[preference]`` for an adapter).
        adapter: The adapter directory (None for the base model).
        results: Its evaluation directory.
        evaluated: Its summary (a :class:`prefc.artefacts.Summary`).
        label: ``base`` or the preference its adapter was trained on.
        verdicts: Its nearest type and margins with bootstrap intervals (:func:`agent_verdicts`).
    """

    agent: str
    adapter: str | None
    results: Path
    evaluated: Summary
    label: str = "base"
    verdicts: dict[str, Any] | None = None

    @property
    def summary(self) -> dict[str, Any]:
        """Its ``summary.json``, as data."""
        return self.evaluated.to_data()

    def record(self) -> RunAgent:
        """Its entry in ``run.json``."""
        from prefc.artefacts import RunAgent

        s = self.evaluated
        return RunAgent(
            agent=self.agent,
            adapter=self.adapter,
            label=self.label,
            results=str(self.results),
            parse_rate=s.parse_rate,
            accuracy={p.label: p.accuracy for p in s.preferences},
            accuracy_by_game={p.label: p.accuracy_by_game for p in s.preferences},
            nearest=s.nearest.label if s.nearest else None,
            verdict=self.verdicts,
            kappa=s.kappa,
            evaluated=s.evaluated,
        )


@dataclass
class TransferResult:
    """The run's agents on the rubric of a spec no dataset of the run taught (``--transfer``).

    Attributes:
        spec: The transfer spec's name.
        spec_sha256: SHA-256 of its source.
        rubric: Its rubric's name and selection.
        build: Where it was compiled.
        reports: The agents evaluated there, base model first.
    """

    spec: str
    spec_sha256: str
    rubric: dict[str, Any]
    build: Path
    reports: list[AgentReport] = field(default_factory=list)

    def record(self) -> RunTransfer:
        """Its entry in ``run.json``."""
        from prefc.artefacts import RunTransfer

        return RunTransfer(
            spec=self.spec,
            spec_sha256=self.spec_sha256,
            rubric=self.rubric,
            build=str(self.build),
            agents=[r.record() for r in self.reports],
        )


@dataclass
class RunResult:
    """What ``prefc run`` produced.

    Attributes:
        directory: The run's directory (``out/<spec>``).
        build: The compiled build directory.
        adapters: Adapter directory per trained preference label.
        reports: The evaluated agents, base model first.
        report: The HTML report.
        seconds: Wall time of each stage (``compile``, ``train LABEL``, ``eval LABEL``,
            ``transfer SPEC``, ``report``) and the ``total``; reused adapters have no training entry.
        transfers: The agents on each ``--transfer`` spec's rubric.
        play: The trained models' pairings in the repeated market (``--play``; None without it).
    """

    directory: Path
    build: Path
    adapters: dict[str, Path] = field(default_factory=dict)
    reports: list[AgentReport] = field(default_factory=list)
    report: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    transfers: list[TransferResult] = field(default_factory=list)
    play: PlayResult | None = None


def agent_verdicts(report: AgentReport, preferences: list[str], trained: list[str]) -> dict[str, Any]:
    """An evaluated agent's nearest type with its margin over the runner-up, and (for an adapter) its
    margin over every other trained preference, each with a bootstrap interval over items.

    Args:
        report: The evaluated agent.
        preferences: The rubric's compared preference labels.
        trained: The labels the run trained on.
    """
    from prefc.artefacts import ResultRecord, read_rows
    from prefc.runtime.verdict import margin

    records = [rec for _, _, rec, _ in read_rows(report.results / "results.jsonl", ResultRecord, error=ValueError)]
    nearest = report.summary.get("nearest") or {}
    out: dict[str, Any] = {
        "nearest": nearest.get("label"),
        "runner_up": nearest.get("runner_up"),
        "lead": None,
        "against": {},
    }
    if records and nearest.get("label") and nearest.get("runner_up"):
        out["lead"] = margin(records, nearest["label"], nearest["runner_up"]).to_json()
    own = report.label.replace(" ", "")
    if records and report.adapter is not None and own in preferences:
        for other in trained:
            if other != report.label and other.replace(" ", "") in preferences:
                out["against"][other] = margin(records, own, other.replace(" ", "")).to_json()
    return out


def verdict_lines(report: AgentReport) -> str:
    """What the run says about one agent: its nearest type and how far it leads, or that the
    leading preferences are not distinguishable on these items.

    Args:
        report: An evaluated agent with its verdicts.
    """
    from prefc.runtime.verdict import Margin

    v = report.verdicts or {}
    name = "base model" if report.adapter is None else f"{report.label} adapter"
    if not v.get("nearest"):
        note = report.summary.get("nearest_note") or "no answer matched any preference"
        return f"{name}: no nearest type ({note})"
    lines = []
    lead = v.get("lead")
    if lead is None:
        lines.append(f"{name}: nearest {v['nearest']}")
    else:
        m = Margin(**{k: lead[k] for k in ("a", "b", "margin", "low", "high", "level", "items", "telling")})
        lines.append(f"{name}: nearest {v['nearest']}, margin {m.text()} (95% bootstrap interval, {m.items} items)")
    for other, data in (v.get("against") or {}).items():
        m = Margin(**{k: data[k] for k in ("a", "b", "margin", "low", "high", "level", "items", "telling")})
        lines.append(f"   own preference against {other}: {m.text()}")
    return "\n".join(lines)


def shift_table(result: RunResult, preferences: list[str]) -> Table:
    """Side-by-side behaviour of the base model and each adapter.

    Args:
        result: The run.
        preferences: The rubric's compared preference labels.
    """
    return shift_table_of(result.reports, preferences)


def shift_table_of(reports: list[AgentReport], preferences: list[str], *, title: str = "behaviour shift") -> Table:
    """Side-by-side behaviour of evaluated agents: accuracy against each preference, nearest type,
    lead over the runner-up with its interval, kappa.

    Args:
        reports: The agents, base model first.
        preferences: The rubric's compared preference labels.
        title: The table's title (before ``: accuracy against each preference``).
    """
    from rich.table import Table

    table = Table(title=f"{title}: accuracy against each preference", title_justify="left")
    table.add_column("", no_wrap=True)
    for r in reports:
        table.add_column(r.label, justify="right", no_wrap=True)
    rows: dict[str, list[str]] = {"parsed": []}
    rows.update({p: [] for p in preferences})
    rows.update({"nearest type": [], "lead over runner-up": [], "  95% interval": [], "kappa (95% CI)": []})
    for r in reports:
        s = r.summary
        acc = {p["label"]: p["accuracy"] for p in s.get("preferences", [])}
        k = s.get("kappa")
        rate = s.get("parse_rate")
        rows["parsed"].append(fmt_number(rate, style="percent", digits=0))
        for p in preferences:
            rows[p].append(fmt_number(acc.get(p), digits=2))
        rows["nearest type"].append((s.get("nearest") or {}).get("label") or DASH)
        lead = (r.verdicts or {}).get("lead")
        rows["lead over runner-up"].append(f"{lead['margin']:+.2f}" if lead else DASH)
        rows["  95% interval"].append(
            DASH
            if not lead
            else f"[{lead['low']:+.2f}, {lead['high']:+.2f}]"
            + ("" if lead["distinguishable"] else " not distinguishable")
        )
        rows["kappa (95% CI)"].append(
            f"{fmt_number(k['estimate'], digits=2)} [{fmt_number(k['ci_low'], digits=2)}, "
            f"{fmt_number(k['ci_high'], digits=2)}]"
            if k
            else DASH
        )
    for name, cells in rows.items():
        table.add_row(name, *cells)
    return table
