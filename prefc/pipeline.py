"""The main job: compile a spec, fine-tune one adapter per dataset preference, evaluate the base model
and every adapter on the rubric, and show how behaviour moved (the closed loop of arXiv 2507.20796).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


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


def stratified(items: list[dict], limit: int | None) -> list[dict]:
    """Take up to ``limit`` items round-robin across (game, role), keeping file order within each.

    Args:
        items: Rubric items.
        limit: How many to keep (None keeps all).
    """
    if limit is None or limit >= len(items):
        return list(items)
    groups: dict[tuple, list[dict]] = {}
    for it in items:
        groups.setdefault((it.get("game"), it.get("role")), []).append(it)
    out: list[dict] = []
    queues = list(groups.values())
    while len(out) < limit and any(queues):
        for q in queues:
            if q and len(out) < limit:
                out.append(q.pop(0))
    return out


def answer_budget(tokenizer, dataset_dir: Path, *, floor: int = 64) -> int:
    """Tokens an answer may take: a quarter more than the longest completion in a dataset's
    ``train.jsonl`` (and at least ``floor``), so an agent can finish the reasoning it was taught.

    Args:
        tokenizer: The agents' tokenizer.
        dataset_dir: A compiled dataset directory.
        floor: The smallest budget returned.
    """
    from prefc.runtime.files import read_jsonl

    longest = 0
    for _, _, row in read_jsonl(dataset_dir / "train.jsonl", error=ValueError):
        if not isinstance(row, dict):
            continue
        turns = row.get("completion") or row.get("messages", [])[-1:]
        text = "".join(t.get("content", "") for t in turns if isinstance(t, dict))
        longest = max(longest, len(tokenizer(text, add_special_tokens=False)["input_ids"]))
    return max(floor, -(-longest * 5 // 4))


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
    from prefc.compiler.check import check_file
    from prefc.compiler.emit.build import compile_spec
    from prefc.runtime.evaluate import Rubric, evaluate, load_rubric
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
        if meta.exists() and not retrain:
            saved = json.loads(meta.read_text())
            if saved.get("config") == config.model_dump(mode="json") and \
                    saved.get("spec_sha256") == spec.sha256:
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
    subset = Rubric(rubric.path, rubric.header, stratified(rubric.items, eval_items))
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
        result.reports.append(AgentReport(agent.name, adapter, results_dir,
                                          json.loads(evaluated.summary_path.read_text()), label))
    console.print(shift_table(result, rubric.preferences))
    (root / "run.json").write_text(json.dumps({
        "spec": spec.name, "spec_sha256": spec.sha256, "build": str(built.directory),
        "adapters": {k: str(v) for k, v in result.adapters.items()},
        "seconds": result.seconds,
        "agents": [{"agent": r.agent, "adapter": r.adapter, "results": str(r.results),
                    "parse_rate": r.summary.get("parse_rate"),
                    "accuracy": {p["label"]: p["accuracy"] for p in r.summary.get("preferences", [])},
                    "nearest": (r.summary.get("nearest") or {}).get("label"),
                    "kappa": r.summary.get("kappa")} for r in result.reports],
    }, indent=2) + "\n")
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
        rows["parsed"].append(f"{rate:.0%}" if rate is not None else "—")
        for p in preferences:
            rows[p].append(f"{acc[p]:.2f}" if acc.get(p) is not None else "—")
        rows["nearest type"].append((s.get("nearest") or {}).get("label") or "—")
        rows["kappa (95% CI)"].append(f"{k['estimate']:.2f} [{k['ci_low']:.2f}, {k['ci_high']:.2f}]" if k else "—")
    for name, cells in rows.items():
        table.add_row(name, *cells)
    return table
