"""The main job: compile a spec, fine-tune one adapter per dataset preference, evaluate the base model
and every adapter on the rubric, and show how behaviour moved (the closed loop of arXiv 2507.20796).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefc.run_results import (
    AgentReport,
    RunResult,
    TransferResult,
    agent_verdicts,
    shift_table,
    shift_table_of,
    verdict_lines,
)

if TYPE_CHECKING:  # rich is imported when a run prints, not when the command line starts
    from rich.console import Console

    from prefc.runtime.evaluate import NumericScoring, Scoring
    from prefc.runtime.train_config import CompletionFormat


MAIN_JOB: dict[str, Any] = {
    "max_steps": 60,
    "learning_rate": 5e-4,
    "train_batch_size": 4,
    "full": False,
    "completion": "as-written",
    "eval_items": 48,
    "scoring": "generate",
    "numeric": "generate",
}
"""The main job's settings (``prefc run``'s defaults); ``docs/runtime.md`` says how they were chosen."""


def run_spec(
    path: str,
    *,
    out: str | Path = "runs",
    model: str | None = None,
    max_steps: int = MAIN_JOB["max_steps"],
    learning_rate: float = MAIN_JOB["learning_rate"],
    train_batch_size: int = MAIN_JOB["train_batch_size"],
    full: bool = MAIN_JOB["full"],
    completion: CompletionFormat = MAIN_JOB["completion"],
    seed: int = 0,
    eval_items: int | None = MAIN_JOB["eval_items"],
    max_new_tokens: int | None = None,
    batch_size: int = 16,
    scoring: Scoring = MAIN_JOB["scoring"],
    numeric: NumericScoring = MAIN_JOB["numeric"],
    retrain: bool = False,
    rubric_seed: int | None = None,
    threads: int | None = None,
    transfer: Sequence[str | Path] = (),
    dataset: str | None = None,
    play: int | None = None,
    console: Console | None = None,
) -> RunResult:
    """Compile ``path``, train an adapter per preference of its first dataset, and evaluate the base
    model and each adapter on its first rubric.

    Args:
        path: The .pref spec.
        out: Root directory for the run (``out/<spec>/``: build, adapters, results, run.json).
        model: Base model (default: the embedded SmolLM2-135M-Instruct).
        max_steps: Optimizer steps per adapter.
        learning_rate: Peak learning rate.
        train_batch_size: Rows per optimizer step.
        full: Fine-tune every weight instead of a LoRA adapter.
        completion: What the adapters learn to write: ``as-written``, ``answer-first`` or ``answer``
            (see :class:`prefc.runtime.train.TrainConfig`).
        seed: Training seed (adapter initialisation, row order, dropout).
        eval_items: Rubric items evaluated per agent (stratified across games); None for all.
        max_new_tokens: Generation budget per answer (default: a quarter more than the longest
            completion of the dataset, so a fine-tuned agent can finish the reasoning it learned).
        batch_size: Prompts per generation batch.
        scoring: ``generate`` or ``logprob``.
        numeric: Under ``logprob`` scoring, ``generate`` or ``options`` for items with numeric
            actions (see :func:`prefc.runtime.evaluate.evaluate`).
        retrain: Train again even when an adapter from the same dataset and settings exists.
        rubric_seed: Evaluate on a development rubric instead of the reported one: the spec's
            rubric drawn with this seed, without any prompt of the reported rubric or of a dataset
            (see :func:`development_rubric`). Settings are chosen there, never on the reported items.
        threads: CPU threads for training and evaluation (default: :func:`free_cores`).
        transfer: Specs of applications the run's datasets never show (``specs/av_dilemma.pref``):
            the base model and every trained model are also evaluated on each one's first rubric,
            with the same settings, and ``run.json`` and the report show them beside the main rubric.
        dataset: The dataset block to train on (default: the spec's first).
        play: Also play the trained models against each other in the repeated market of the
            dataset's game (:mod:`prefc.play`) for this many rounds a pairing; 0 for the game's own
            ``repeat N rounds``; None not to play.
        console: Where to print (default: stdout).
    """
    from rich.console import Console

    from prefc.artefacts import ArtefactError, RunRecord, TrainRecord, read_document, write_document
    from prefc.compiler.check import check_file
    from prefc.runtime.evaluate import load_rubric
    from prefc.runtime.files import label_slug
    from prefc.runtime.train import TrainConfig

    started = time.perf_counter()
    threads = use_threads(threads)
    console = console or Console(highlight=False)
    spec = check_file(path)
    console.rule(f"[bold]prefc run[/bold] {spec.name}")
    console.print(
        f"   {threads} CPU thread{'s' if threads > 1 else ''}"
        + (f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)" if hasattr(os, "getloadavg") else "")
    )
    datasets = [b for b in spec.builds.values() if b.kind == "dataset"]
    rubrics = [b for b in spec.builds.values() if b.kind == "rubric"]
    if not datasets or not rubrics:
        raise ValueError(f"{path} needs a dataset block and a rubric block for `prefc run`")
    block = _dataset_block(datasets, dataset, path)
    rubric_block = rubrics[0]
    plan = None
    if play is not None:  # settled before training, so a spec that cannot play costs no run
        from prefc.play import plan_play

        plan = plan_play(spec, block, rounds=play or None)
    stages = 3 if plan is None else 4
    root = Path(out) / spec.name
    root.mkdir(parents=True, exist_ok=True)
    console.print(f"1/{stages} compiling", path)
    clock = time.perf_counter()
    built = _compile(spec, root / "build")
    result = RunResult(root, built.directory, seconds={"compile": round(time.perf_counter() - clock, 2)})

    kind = "fully fine-tuned model" if full else "adapter"
    console.print(f"2/{stages} training one {kind} per preference of dataset `{block.name}` ({max_steps} steps each)")
    configs: dict[str, TrainConfig] = {}
    for point in block.preferences:
        adapter_dir = root / "adapters" / label_slug(point.label)
        config = TrainConfig(
            model=model,
            preference=point.label,
            max_steps=max_steps,
            learning_rate=learning_rate,
            batch_size=train_batch_size,
            full=full,
            completion=completion,
            seed=seed,
        )
        configs[point.label] = config
        meta = adapter_dir / "prefc_train.json"
        saved = None
        if meta.exists() and not retrain:
            try:
                saved = read_document(meta, TrainRecord)
            except ArtefactError as exc:  # unreadable: train again (and say why)
                console.print(f"   {point.label}: {exc}; training again")
            if (
                saved is not None
                and saved.config == config.model_dump(mode="json")
                and saved.spec_sha256 == spec.sha256
                and saved.dataset == block.name
            ):
                console.print(f"   {point.label}: reusing {adapter_dir}")
                result.adapters[point.label] = adapter_dir
                continue
        console.print(f"   {point.label} -> {adapter_dir}")
        clock = time.perf_counter()
        _train_into(built.directory / block.name, adapter_dir, config)
        result.seconds[f"train {point.label}"] = round(time.perf_counter() - clock, 2)
        result.adapters[point.label] = adapter_dir

    rubric = load_rubric(built.directory / f"{rubric_block.name}.jsonl", expect_sha256=spec.sha256)
    if rubric_seed is None:
        console.print(f"3/{stages} evaluating on rubric `{rubric_block.name}`")
    else:
        clock = time.perf_counter()
        rubric = development_rubric(spec, rubric_block.name, built.directory, seed=rubric_seed, out=root / "dev-build")
        result.seconds["development rubric"] = round(time.perf_counter() - clock, 2)
        console.print(
            f"3/{stages} evaluating on a development rubric: `{rubric_block.name}` drawn with seed "
            f"{rubric_seed}, {len(rubric.items)} items none of which the reported rubric or a dataset asks"
        )
    subset = rubric.subset(eval_items)
    agents: list[tuple[str, str | None]] = [("base", None)] + [(label, str(p)) for label, p in result.adapters.items()]
    if max_new_tokens is None:
        max_new_tokens = _answer_budget(model, built.directory / block.name)
        if scoring == "generate" or numeric == "generate":
            console.print(f"   answers may take up to {max_new_tokens} new tokens")
    evaluation: dict[str, Any] = {
        "model": model,
        "full": full,
        "batch_size": batch_size,
        "max_new_tokens": max_new_tokens,
        "scoring": scoring,
        "numeric": numeric,
    }
    result.reports = _evaluate_agents(
        subset, agents, root / "results", trained=list(result.adapters), seconds=result.seconds, **evaluation
    )
    console.print(shift_table(result, rubric.preferences))
    for r in result.reports:
        console.print(verdict_lines(r))
    for other in transfer:
        result.transfers.append(
            _transfer(
                other,
                agents,
                root / "transfer",
                trained=list(result.adapters),
                seconds=result.seconds,
                eval_items=eval_items,
                console=console,
                **evaluation,
            )
        )
    if plan is not None:
        from prefc.play import play_trained

        console.print(f"4/{stages} the trained models in the repeated market")
        result.play = play_trained(
            plan,
            result.adapters,
            {point.label: point for point in block.preferences},
            root / "play",
            model=model,
            full=full,
            seed=seed,
            seconds=result.seconds,
            console=console,
        )
    settings = {
        "dataset": block.name,
        "max_steps": max_steps,
        "learning_rate": learning_rate,
        "train_batch_size": train_batch_size,
        "full": full,
        "completion": completion,
        "seed": seed,
        "eval_items": eval_items,
        "items": len(subset.items),
        "scoring": scoring,
        "numeric": numeric,
        "max_new_tokens": max_new_tokens,
        "batch_size": batch_size,
        "model": model,
        "rubric_seed": rubric_seed,
        "threads": threads,
        "play": None if plan is None else {"game": plan.game, "rounds": plan.rounds, "history": plan.history},
    }
    from prefc.runtime.report import write_report

    def record() -> RunRecord:
        return RunRecord(
            spec=spec.name,
            spec_sha256=spec.sha256,
            build=str(built.directory),
            settings=settings,
            rubric=_rubric_info(rubric),
            adapters={k: str(v) for k, v in result.adapters.items()},
            seconds=result.seconds,
            agents=[r.record() for r in result.reports],
            transfer=[t.record() for t in result.transfers],
            pairings=result.play.pairings if result.play else [],
            pairing_tests=result.play.tests if result.play else [],
        )

    write_document(root / "run.json", record())
    clock = time.perf_counter()
    result.report = write_report([root, *(result.play.directories if result.play else [])], root / "report.html")
    result.seconds["report"] = round(time.perf_counter() - clock, 2)
    result.seconds["total"] = round(time.perf_counter() - started, 2)
    write_document(root / "run.json", record())  # again, with the report's time and the total
    console.print(
        f"run written to {root} in {result.seconds['total']:.0f} s; open {result.report} in a browser for the report"
    )
    return result


def _dataset_block(datasets: list[Any], name: str | None, path: str) -> Any:
    """The dataset block named ``name`` (the first without a name).

    Raises:
        ValueError: No dataset block has that name.
    """
    if name is None:
        return datasets[0]
    for b in datasets:
        if b.name == name:
            return b
    raise ValueError(f"{path} has no dataset `{name}`; its datasets are: {', '.join(b.name for b in datasets)}")


def _answer_budget(model: str | None, dataset_dir: Path) -> int:
    """The generation budget of the run's answers, from the base model's tokenizer."""
    from prefc.runtime.budget import answer_budget
    from prefc.runtime.models import load_tokenizer, resolve_model

    return answer_budget(load_tokenizer(resolve_model(model)), dataset_dir)


def _evaluate_agents(
    subset: Any,
    agents: list[tuple[str, str | None]],
    results_root: Path,
    *,
    trained: list[str],
    seconds: dict[str, float],
    model: str | None,
    full: bool,
    batch_size: int,
    max_new_tokens: int,
    scoring: Scoring,
    numeric: NumericScoring,
    stage: str = "eval",
) -> list[AgentReport]:
    """Evaluate the base model and each trained model on ``subset``, one results directory each.

    Args:
        subset: The rubric items (a :class:`prefc.runtime.evaluate.Rubric`).
        agents: ``(label, adapter directory)``, the base model's adapter None.
        results_root: Where each agent's results go (``results_root/<label or adapter name>``).
        trained: The trained preferences' labels (for the margins of the verdict).
        seconds: The run's stage times, added to (``STAGE LABEL``).
        model: The base model.
        full: The trained models are full models (directories), not adapters.
        batch_size: Prompts per generation batch.
        max_new_tokens: Generation budget per answer.
        scoring: ``generate`` or ``logprob``.
        numeric: Numeric items under logprob scoring.
        stage: The name of the stage in ``seconds``.
    """
    from prefc.runtime.evaluate import evaluate
    from prefc.runtime.generate import LocalAgent

    reports = []
    for label, adapter in agents:
        agent = (
            LocalAgent(adapter, batch_size=batch_size)
            if adapter is not None and full  # a fully fine-tuned model is a model directory
            else LocalAgent(model, adapter=adapter, batch_size=batch_size)
        )
        agent.name = f"{agent.name}" if adapter is None else f"{model_label(model)} [{label}]"
        results_dir = results_root / (label if adapter is None else Path(adapter).name)
        clock = time.perf_counter()
        evaluated = evaluate(
            subset,
            agent,
            results_dir,
            scoring=scoring,
            batch_size=batch_size,
            max_new_tokens=max_new_tokens,
            progress=True,
            numeric=numeric,
        )
        seconds[f"{stage} {label}"] = round(time.perf_counter() - clock, 2)
        report = AgentReport(agent.name, adapter, results_dir, evaluated.summary, label)
        report.verdicts = agent_verdicts(report, subset.preferences, trained)
        reports.append(report)
    return reports


def _transfer(
    path: str | Path,
    agents: list[tuple[str, str | None]],
    out: Path,
    *,
    eval_items: int | None,
    console: Console,
    seconds: dict[str, float],
    **evaluation: Any,
) -> TransferResult:
    """The run's agents on the first rubric of the spec at ``path`` (compiled under ``out/<spec>``)."""
    from prefc.compiler.check import check_file
    from prefc.runtime.evaluate import load_rubric

    spec = check_file(str(path))
    rubrics = [b for b in spec.builds.values() if b.kind == "rubric"]
    if not rubrics:
        raise ValueError(f"{path} has no rubric block to evaluate the run's agents on (--transfer)")
    root = out / spec.name
    clock = time.perf_counter()
    built = _compile(spec, root / "build")
    rubric = load_rubric(built.directory / f"{rubrics[0].name}.jsonl", expect_sha256=spec.sha256)
    subset = rubric.subset(eval_items)
    console.print(
        f"   transfer: rubric `{rubrics[0].name}` of {spec.name}, {len(subset.items)} items no dataset of the run asks"
    )
    reports = _evaluate_agents(
        subset, agents, root / "results", seconds=seconds, stage=f"transfer {spec.name}", **evaluation
    )
    console.print(shift_table_of(reports, subset.preferences, title=f"transfer to {spec.name}"))
    seconds[f"transfer {spec.name}"] = round(time.perf_counter() - clock, 2)
    return TransferResult(spec.name, spec.sha256, _rubric_info(rubric), built.directory, reports)


def _compile(spec: Any, out: Path) -> Any:
    """Compile a checked spec into ``out`` with a progress line; the :class:`BuildResult`."""
    from prefc.compiler.emit.build import compile_spec
    from prefc.progress import progress

    with progress(f"compile {spec.name}", unit="rows") as advance:
        return compile_spec(spec, out, on_total=advance.set_total, progress=advance)


def _rubric_info(rubric: Any) -> dict[str, Any]:
    """What ``run.json`` records of an evaluated rubric: its name and its header's selection."""
    return {"name": rubric.header.get("rubric"), "selection": rubric.header.get("selection")}


def free_cores(*, window: float = 0.5) -> int:
    """CPU cores not busy when the run starts: the cores this process may use, less the cores other
    work kept busy over the last ``window`` seconds (rounded), at least 1.

    On a shared CPU, threads that wait for a core another job holds make every step of a small model
    many times slower than fewer threads would (measured: a training step of SmolLM2-135M took 7 s on
    one thread and 95 s on two, with other jobs holding the cores). The busy cores are sampled from
    ``/proc/stat`` rather than read off the one-minute load average, which still counts a command that
    finished seconds ago (a run started right after a test suite got one thread of two, and took 17 s
    a training step instead of 13); where there is no ``/proc/stat``, the load average it is.

    Args:
        window: Seconds over which busy cores are sampled.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    busy = _busy_cores(window)
    if busy is None:
        busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return max(1, min(cores, cores - int(busy + 0.5)))


def _busy_cores(window: float) -> float | None:
    """Cores kept busy over ``window`` seconds, from the machine's CPU time counters (None where
    there are none)."""
    import time

    def sample() -> tuple[int, int] | None:
        try:
            with open("/proc/stat", encoding="ascii") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        if len(fields) < 5:
            return None
        idle = fields[3] + fields[4]  # idle and waiting for I/O
        return sum(fields[:8]) - idle, sum(fields[:8])

    first = sample()
    if first is None:
        return None
    time.sleep(window)
    second = sample()
    if second is None or second[1] <= first[1]:
        return None
    online = os.cpu_count() or 1
    return online * (second[0] - first[0]) / (second[1] - first[1])


def use_threads(threads: int | None) -> int:
    """Set the threads torch uses (and make idle OpenMP threads sleep rather than spin, unless the
    environment says otherwise), before the ML stack starts.

    Args:
        threads: Threads to use; None for :func:`free_cores`.

    Returns:
        The number set.

    Raises:
        ValueError: ``threads`` is below 1.
    """
    if threads is not None and threads < 1:
        raise ValueError("threads must be at least 1")
    n = threads if threads is not None else free_cores()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(n)
    return n


def development_rubric(spec, name: str, build_dir: Path, *, seed: int, out: Path):
    """A rubric for choosing settings without looking at the reported one: the spec's rubric ``name``
    drawn with another seed (asking for up to three times as many items), keeping only items whose
    prompt neither the reported rubric nor any dataset split in ``build_dir`` asks.

    Args:
        spec: The checked spec.
        name: The rubric block's name.
        build_dir: The run's compiled build (the reported rubric and the datasets).
        seed: The development seed (any other than the rubric's own).
        out: Where to compile the development build.

    Returns:
        The development :class:`prefc.runtime.evaluate.Rubric` (its header is the development one).

    Raises:
        ValueError: ``seed`` is the rubric's own seed, or no item is left.
    """
    import dataclasses

    from prefc.artefacts import DatasetRow, read_rows
    from prefc.compiler.check import CheckedBuild
    from prefc.compiler.emit.build import compile_spec
    from prefc.compiler.emit.situations import EmitError
    from prefc.runtime.evaluate import Rubric, load_rubric

    block = spec.builds[name]
    if seed == (block.ast.seed or 0):
        raise ValueError(f"the development seed {seed} is rubric `{name}`'s own seed")
    reported = load_rubric(build_dir / f"{name}.jsonl")
    seen = {json.dumps(it["prompt"], sort_keys=True) for it in reported.items}
    for path in sorted(build_dir.glob("*/*.jsonl")):
        seen.update(
            json.dumps(row["prompt"], sort_keys=True)
            for _, _, row, _ in read_rows(path, DatasetRow, error=ValueError)
            if "prompt" in row
        )
    selection = reported.header.get("selection") or {}
    pool = selection.get("discriminating" if selection.get("rule") == "discriminating" else "candidates")
    wanted = min(3 * len(reported.items), int(0.9 * pool) if pool else 3 * len(reported.items))
    while True:
        ast = block.ast.model_copy(update={"items": max(wanted, 1)})
        builds = {**spec.builds, name: CheckedBuild(ast, block.preferences, block.games)}
        try:
            compile_spec(dataclasses.replace(spec, builds=builds), out, seed=seed)
            break
        except EmitError:  # another seed's datasets leave out other prompts: ask for fewer
            if wanted <= len(reported.items):
                raise
            wanted = max(len(reported.items), wanted * 3 // 4)
    dev = load_rubric(out / spec.name / f"{name}.jsonl", expect_sha256=spec.sha256)
    items = [it for it in dev.items if json.dumps(it["prompt"], sort_keys=True) not in seen]
    if not items:
        raise ValueError(f"rubric `{name}` drawn with seed {seed} has no item the reported rubric lacks")
    return Rubric(dev.path, dev.header, items)


def model_label(model: str | None) -> str:
    """The base model's short name (the embedded model's name when ``model`` is None).

    Args:
        model: The ``--model`` value.
    """
    from prefc.runtime.models import model_label as label

    return label(model)


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
