"""The main job: compile a spec, fine-tune one adapter per dataset preference, evaluate the base model
and every adapter on the rubric, and show how behaviour moved (the closed loop of arXiv 2507.20796).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from prefc.runtime.numbers import DASH, fmt_number


@dataclass
class AgentReport:
    """One evaluated agent in a run.

    Attributes:
        agent: The agent's name (base model, ``[preference]`` for an adapter).
        adapter: The adapter directory (None for the base model).
        results: Its evaluation directory.
        summary: Its ``summary.json``.
        label: ``base`` or the preference its adapter was trained on.
    """

    agent: str
    adapter: str | None
    results: Path
    summary: dict[str, Any]
    label: str = "base"


@dataclass
class RunResult:
    """What ``prefc run`` produced.

    Attributes:
        directory: The run's directory (``out/<spec>``).
        build: The compiled build directory.
        adapters: Adapter directory per trained preference label.
        reports: The evaluated agents, base model first.
        report: The HTML report.
        seconds: Wall time of each stage (``compile``, ``train LABEL``, ``eval LABEL``); reused
            adapters have no training entry.
    """

    directory: Path
    build: Path
    adapters: dict[str, Path] = field(default_factory=dict)
    reports: list[AgentReport] = field(default_factory=list)
    report: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def run_spec(path: str, *, out: str | Path = "runs", model: str | None = None, max_steps: int = 60,
             learning_rate: float = 5e-4, train_batch_size: int = 4,
             eval_items: int | None = 48, max_new_tokens: int | None = None, batch_size: int = 16,
             scoring: str = "generate", retrain: bool = False, console: Console | None = None) -> RunResult:
    """Compile ``path``, train an adapter per preference of its first dataset, and evaluate the base
    model and each adapter on its first rubric.

    Args:
        path: The .pref spec.
        out: Root directory for the run (``out/<spec>/``: build, adapters, results, run.json).
        model: Base model (default: the embedded SmolLM2-135M-Instruct).
        max_steps: Optimizer steps per adapter.
        learning_rate: Peak learning rate of the LoRA training.
        train_batch_size: Rows per optimizer step.
        eval_items: Rubric items evaluated per agent (stratified across games); None for all.
        max_new_tokens: Generation budget per answer (default: a quarter more than the longest
            completion of the dataset, so a fine-tuned agent can finish the reasoning it learned).
        batch_size: Prompts per generation batch.
        scoring: ``generate`` or ``logprob``.
        retrain: Train again even when an adapter from the same dataset and settings exists.
        console: Where to print (default: stdout).
    """
    from prefc.artefacts import ArtefactError, RunAgent, RunRecord, TrainRecord, read_document, write_document
    from prefc.compiler.check import check_file
    from prefc.compiler.emit.build import compile_spec
    from prefc.runtime.budget import answer_budget
    from prefc.runtime.evaluate import evaluate, load_rubric
    from prefc.runtime.generate import LocalAgent
    from prefc.runtime.train import TrainConfig

    console = console or Console(highlight=False)
    spec = check_file(path)
    root = Path(out) / spec.name
    root.mkdir(parents=True, exist_ok=True)
    console.rule(f"[bold]prefc run[/bold] {spec.name}")
    console.print("1/3 compiling", path)
    clock = time.perf_counter()
    built = compile_spec(spec, root / "build")
    result_seconds = {"compile": round(time.perf_counter() - clock, 2)}
    datasets = [b for b in spec.builds.values() if b.kind == "dataset"]
    rubrics = [b for b in spec.builds.values() if b.kind == "rubric"]
    if not datasets or not rubrics:
        raise ValueError(f"{path} needs a dataset block and a rubric block for `prefc run`")
    dataset, rubric_block = datasets[0], rubrics[0]
    result = RunResult(root, built.directory, seconds=result_seconds)

    console.print(f"2/3 training one adapter per preference of dataset `{dataset.name}` ({max_steps} steps each)")
    for point in dataset.preferences:
        adapter_dir = root / "adapters" / point.label.replace("(", "_").replace(")", "").replace("=", "").replace(",", "_")
        config = TrainConfig(model=model, preference=point.label, max_steps=max_steps, learning_rate=learning_rate,
                             batch_size=train_batch_size)
        meta = adapter_dir / "prefc_train.json"
        saved = None
        if meta.exists() and not retrain:
            try:
                saved = read_document(meta, TrainRecord)
            except ArtefactError as exc:  # unreadable: train again (and say why)
                console.print(f"   {point.label}: {exc}; training again")
            if saved is not None and saved.config == config.model_dump(mode="json") and \
                    saved.spec_sha256 == spec.sha256:
                console.print(f"   {point.label}: reusing {adapter_dir}")
                result.adapters[point.label] = adapter_dir
                continue
        console.print(f"   {point.label} -> {adapter_dir}")
        clock = time.perf_counter()
        _train_into(built.directory / dataset.name, adapter_dir, config)
        result.seconds[f"train {point.label}"] = round(time.perf_counter() - clock, 2)
        result.adapters[point.label] = adapter_dir

    console.print(f"3/3 evaluating on rubric `{rubric_block.name}`")
    rubric = load_rubric(built.directory / f"{rubric_block.name}.jsonl", expect_sha256=spec.sha256)
    subset = rubric.subset(eval_items)
    summaries = []
    agents: list[tuple[str, str | None]] = [("base", None)] + [(label, str(p)) for label, p in result.adapters.items()]
    for label, adapter in agents:
        agent = LocalAgent(model, adapter=adapter, batch_size=batch_size)
        if max_new_tokens is None:
            max_new_tokens = answer_budget(agent.tokenizer, built.directory / dataset.name)
            console.print(f"   answers may take up to {max_new_tokens} new tokens")
        agent.name = f"{agent.name}" if adapter is None else f"{agent.name} [{label}]"
        results_dir = root / "results" / (label if adapter is None else Path(adapter).name)
        clock = time.perf_counter()
        evaluated = evaluate(subset, agent, results_dir, scoring=scoring, batch_size=batch_size,
                             max_new_tokens=max_new_tokens, progress=True)
        result.seconds[f"eval {label}"] = round(time.perf_counter() - clock, 2)
        result.reports.append(AgentReport(agent.name, adapter, results_dir, evaluated.summary.to_data(), label))
        summaries.append(evaluated.summary)
    console.print(shift_table(result, rubric.preferences))
    record = RunRecord(
        spec=spec.name, spec_sha256=spec.sha256, build=str(built.directory),
        adapters={k: str(v) for k, v in result.adapters.items()}, seconds=result.seconds,
        agents=[RunAgent(agent=r.agent, adapter=r.adapter, results=str(r.results), parse_rate=s.parse_rate,
                         accuracy={p.label: p.accuracy for p in s.preferences},
                         nearest=s.nearest.label if s.nearest else None, kappa=s.kappa, evaluated=s.evaluated)
                for r, s in zip(result.reports, summaries, strict=True)],
    )
    write_document(root / "run.json", record)
    from prefc.runtime.report import write_report

    result.report = write_report([root], root / "report.html")
    console.print(f"run written to {root}; open {result.report} in a browser for the report")
    return result


def _train_into(dataset_dir: Path, adapter_dir: Path, config) -> None:
    """Train a fresh adapter next to ``adapter_dir`` and swap it in only once it is complete, so a
    failed or interrupted training leaves the previous adapter of the run in place."""
    import shutil

    from prefc.runtime.train import train

    staging = adapter_dir.with_name(f".{adapter_dir.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    train(dataset_dir, staging, config=config)
    if adapter_dir.exists():
        old = adapter_dir.with_name(f".{adapter_dir.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        adapter_dir.rename(old)
        staging.rename(adapter_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(adapter_dir)


def shift_table(result: RunResult, preferences: list[str]) -> Table:
    """Side-by-side behaviour of the base model and each adapter.

    Args:
        result: The run.
        preferences: The rubric's compared preference labels.
    """
    table = Table(title="behaviour shift: accuracy against each preference", title_justify="left")
    table.add_column("", no_wrap=True)
    for r in result.reports:
        table.add_column(r.label, justify="right", no_wrap=True)
    rows: dict[str, list[str]] = {"parsed": []}
    rows.update({p: [] for p in preferences})
    rows.update({"nearest type": [], "kappa (95% CI)": []})
    for r in result.reports:
        s = r.summary
        acc = {p["label"]: p["accuracy"] for p in s.get("preferences", [])}
        k = s.get("kappa")
        rate = s.get("parse_rate")
        rows["parsed"].append(fmt_number(rate, style="percent", digits=0))
        for p in preferences:
            rows[p].append(fmt_number(acc.get(p), digits=2))
        rows["nearest type"].append((s.get("nearest") or {}).get("label") or DASH)
        rows["kappa (95% CI)"].append(f"{fmt_number(k['estimate'], digits=2)} [{fmt_number(k['ci_low'], digits=2)}, "
                                      f"{fmt_number(k['ci_high'], digits=2)}]" if k else DASH)
    for name, cells in rows.items():
        table.add_row(name, *cells)
    return table
