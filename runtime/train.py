# Over 600 lines: one training run, from reading the dataset rows to the written adapter and its record.
"""Supervised fine-tuning on a compiled dataset: trl ``SFTTrainer`` with a peft LoRA adapter.

The dataset directory is what ``prefc compile`` writes (``train.jsonl``, ``val.jsonl``,
``dataset.json``): TRL conversational prompt-completion rows with a ``meta`` object, or ``messages``
rows (``--format messages``/``openai``, or any OpenAI chat fine-tuning file). A ``messages`` row is
read as prompt-completion: its last message (an assistant message) is the completion, the messages
before it the prompt. A single JSONL file works too (``openai/moralis_kappa0.5.train.jsonl``,
``moralis_kappa0.5/train.jsonl``): its validation rows are the sibling file with ``val`` in place of
``train``. Rows of one preference are kept (rows without ``meta`` count as one preference), ``meta``
is dropped, and the loss covers the completion tokens only (trl masks the prompt of
prompt-completion rows).

Output directory layout::

    out_dir/adapter_config.json, adapter_model.safetensors   (or a full model with ``full=True``)
    out_dir/tokenizer files
    out_dir/prefc_train.json      exact config, spec sha256, preference, base model identity, metrics
    out_dir/checkpoints/          trainer checkpoints (``resume=True`` continues from the last one)

Defaults suit a CPU (bf16 autocast where the CPU supports it, no gradient checkpointing); the same
code runs on a GPU (bf16 where supported) and on several devices through accelerate::

    accelerate launch -m prefc.cli train build/paper/sft -o runs/moralis --preference moralis

or, from Python, a script calling :func:`train` started with ``accelerate launch script.py``. Only
the main process writes the final files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .files import atomic_write_text, read_jsonl
from .models import (
    EMBEDDED_MODEL,
    ModelError,
    config_sha256,
    load_tokenizer,
    resolve_model,
)
from .train_config import ConfigFile, TrainConfig, TrainError, TrainInterrupted
from .train_formats import reformat_rows
from .train_loss import trainer_class

if TYPE_CHECKING:
    from trl import SFTTrainer

__all__ = [
    "TrainConfig",
    "TrainError",
    "TrainInterrupted",
    "TrainResult",
    "PreparedRun",
    "read_rows",
    "filter_rows",
    "dataset_files",
    "bf16_supported",
    "last_checkpoint",
    "prepare",
    "train",
]

TRAIN_FILE = "train.jsonl"
VAL_FILES = ("val.jsonl", "validation.jsonl")
METADATA_FILE = "prefc_train.json"
CHECKPOINTS = "checkpoints"
LOGS = "checkpoints/runs"  # where transformers' TensorBoard callback writes under output_dir
CONFIG_COPY = "train_config"


@dataclass
class TrainResult:
    """What a finished run produced and measured.

    Attributes:
        out_dir: Directory holding the adapter (or full model) and ``prefc_train.json``.
        adapter: True for a LoRA adapter, False for a full model.
        preference: The preference filter used.
        steps: Optimizer steps done in total (including steps before a resume).
        train_rows: Training rows after filtering.
        val_rows: Validation rows after filtering.
        train_loss: Last logged training loss.
        val_loss: Validation loss of the final model (None without validation rows).
        losses: Logged training losses, in order (step, loss).
        seconds: Wall time of this call's training.
        tokens: Non-padding tokens processed by this call's training.
        tokens_per_second: ``tokens / seconds``.
        resumed_from: The checkpoint this run continued from, if any.
        metadata: The content written to ``prefc_train.json``.
        main_process: False in every process but the first of a multi-process run (``accelerate
            launch``): that one writes the adapter and reports the run.
    """

    out_dir: Path
    adapter: bool
    preference: str | None
    steps: int
    train_rows: int
    val_rows: int
    train_loss: float | None
    val_loss: float | None
    losses: list[tuple[int, float]]
    seconds: float
    tokens: int
    tokens_per_second: float
    resumed_from: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    main_process: bool = True


def _norm_label(label: str) -> str:
    return re.sub(r"\s+", "", label)


def _as_prompt_completion(row: dict[str, Any], where: str) -> dict[str, Any]:
    """A ``messages`` row as a prompt-completion row (its last message is the completion)."""
    messages = row["messages"]
    if not messages or not isinstance(messages[-1], dict) or messages[-1].get("role") != "assistant":
        raise TrainError(f"{where}: a 'messages' row must end with the assistant message to train on")
    out = {"prompt": messages[:-1], "completion": messages[-1:]}
    if "meta" in row:
        out["meta"] = row["meta"]
    return out


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Read and check a JSONL file of prompt-completion or ``messages`` rows.

    Args:
        path: The ``.jsonl`` file.

    Returns:
        The rows, in file order, as prompt-completion rows (``messages`` rows are split before
        their last message, which must be the assistant's); messages keep ``role`` and ``content``.

    Raises:
        TrainError: A line is not JSON, has neither shape, or a message lacks string ``role`` and
            ``content`` (file and line named).
    """
    rows: list[dict[str, Any]] = []
    for where, _, row in read_jsonl(path, error=TrainError):
        if isinstance(row, dict) and isinstance(row.get("messages"), list):
            row = _as_prompt_completion(row, where)
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("prompt"), list)
            or not isinstance(row.get("completion"), list)
        ):
            raise TrainError(
                f"{where}: expected an object with 'prompt' and 'completion' message lists "
                "(conversational prompt-completion format) or a 'messages' list"
            )
        for msg in row["prompt"] + row["completion"]:
            if (
                not isinstance(msg, dict)
                or not isinstance(msg.get("role"), str)
                or not isinstance(msg.get("content"), str)
            ):
                raise TrainError(f"{where}: every message needs string 'role' and 'content'")
        row["prompt"] = [{"role": m["role"], "content": m["content"]} for m in row["prompt"]]
        row["completion"] = [{"role": m["role"], "content": m["content"]} for m in row["completion"]]
        rows.append(row)
    return rows


def dataset_files(dataset: Path) -> tuple[Path, Path | None, Path]:
    """The training file, the validation file and the directory holding ``dataset.json``.

    Args:
        dataset: A dataset directory (``train.jsonl``, ``val.jsonl``) or one JSONL file of rows.

    Returns:
        The training file, its validation file (None when there is none) and the directory whose
        ``dataset.json`` describes the rows (the directory itself, or the file's directory or the
        one above it).

    Raises:
        TrainError: Neither a dataset directory nor a JSONL file.
    """
    if dataset.is_dir():
        train_path = dataset / TRAIN_FILE
        if not train_path.is_file():
            raise TrainError(f"{dataset} has no {TRAIN_FILE} (is it a dataset directory from `prefc compile`?)")
        val = next((dataset / n for n in VAL_FILES if (dataset / n).is_file()), None)
        return train_path, val, dataset
    if dataset.is_file():
        if dataset.suffix != ".jsonl":
            raise TrainError(f"{dataset}: expected a dataset directory or a .jsonl file of rows")
        name = dataset.name
        val = None
        if "train" in name:
            for alternative in ("val", "validation"):
                candidate = dataset.with_name(name.replace("train", alternative, 1))
                if candidate.is_file():
                    val = candidate
                    break
        home = next(
            (d for d in (dataset.parent, dataset.parent.parent) if (d / "dataset.json").is_file()), dataset.parent
        )
        return dataset, val, home
    raise TrainError(f"dataset directory not found: {dataset}")


def _matches(row: dict[str, Any], preference: str) -> bool:
    meta = row.get("meta") or {}
    return (
        _norm_label(str(meta.get("preference", ""))) == _norm_label(preference)
        or meta.get("preference_name") == preference
    )


def _preferences(rows: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for row in rows:
        label = (row.get("meta") or {}).get("preference")
        if label is not None and label not in seen:
            seen.append(label)
    return seen


def filter_rows(
    rows: list[dict[str, Any]], preference: str | None, *, source: Path, empty_ok: bool = False
) -> list[dict[str, Any]]:
    """Keep the rows of one preference.

    Args:
        rows: Rows with ``meta.preference`` / ``meta.preference_name``. Rows with no ``meta`` at all
            (an OpenAI fine-tuning file) are one preference's rows: every row is kept.
        preference: Label (``moralis(kappa=0.5)``) or name (``moralis``); None keeps every row
            provided they share one preference.
        source: Where the rows came from (for messages).
        empty_ok: Return an empty list instead of raising when no row matches (validation rows).

    Returns:
        The matching rows.

    Raises:
        TrainError: No row matches, or None was given for a dataset mixing preferences.
    """
    available = _preferences(rows)
    if preference is None or (not available and not any("meta" in r for r in rows)):
        if len(available) > 1:
            raise TrainError(
                f"{source} holds several preferences ({', '.join(available)}): choose one with preference="
            )
        return rows
    kept = [r for r in rows if _matches(r, preference)]
    if not kept and not empty_ok:
        have = ", ".join(available) if available else "none (rows carry no meta.preference)"
        raise TrainError(f"no rows of preference {preference!r} in {source}; preferences present: {have}")
    return kept


def _dataset_info(dataset_dir: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    info: dict[str, Any] = {}
    card = dataset_dir / "dataset.json"
    if card.is_file():
        try:
            info = json.loads(card.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise TrainError(f"{card}: not valid JSON ({exc.msg})") from None
    meta = (rows[0].get("meta") or {}) if rows else {}
    return {
        "spec": info.get("spec", meta.get("spec")),
        "spec_sha256": info.get("spec_sha256", meta.get("spec_sha256")),
        "dataset": info.get("dataset", meta.get("dataset")),
    }


def _load_split(rows: list[dict[str, Any]], tmp: Path, split: str) -> Any:
    """Rows without ``meta`` as a ``datasets.Dataset`` (via ``load_dataset("json")``).

    ``meta`` differs in shape from game to game (parameters, answers), which does not fit one
    Arrow schema, so it is dropped before the JSON loader sees the rows.
    """
    from datasets import load_dataset

    path = tmp / f"{split}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({"prompt": r["prompt"], "completion": r["completion"]}, ensure_ascii=False) + "\n")
    return load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp / "cache"))


def bf16_supported(device: str) -> bool:
    """Whether bfloat16 mixed precision is supported and worthwhile on a device.

    Args:
        device: ``"cuda"`` or ``"cpu"``.

    Returns:
        True on CUDA devices with bf16, and on CPUs with AVX512-BF16 or AMX-BF16.
    """
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    check = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(check()) if check is not None else False


def last_checkpoint(out_dir: Path) -> Path | None:
    """The most recent trainer checkpoint of a run.

    Args:
        out_dir: The run's output directory.

    Returns:
        ``out_dir/checkpoints/checkpoint-N`` with the largest N, or None.
    """
    ckpt_dir = Path(out_dir) / CHECKPOINTS
    if not ckpt_dir.is_dir():
        return None
    found = [(int(m.group(1)), p) for p in ckpt_dir.iterdir() if (m := re.fullmatch(r"checkpoint-(\d+)", p.name))]
    found = [(n, p) for n, p in found if (p / "trainer_state.json").is_file()]
    return max(found)[1] if found else None


@dataclass
class PreparedRun:
    """A trainer set up on a dataset, before training.

    Attributes:
        trainer: The trl ``SFTTrainer`` (its ``train_dataset`` holds the tokenised rows and labels).
        config: The run's configuration.
        model_path: Resolved base model directory.
        train_rows: Training rows after filtering.
        val_rows: Validation rows after filtering.
        dataset_info: Spec name, spec sha256 and dataset name.
        workdir: Temporary directory holding the filtered rows (removed by :func:`train`).
    """

    trainer: SFTTrainer
    config: TrainConfig
    model_path: Path
    train_rows: int
    val_rows: int
    dataset_info: dict[str, Any]
    workdir: Path


def prepare(dataset_dir: Path, out_dir: Path, *, config: TrainConfig, progress: bool = True) -> PreparedRun:
    """Read and filter a dataset, load the base model and build the trainer.

    Args:
        dataset_dir: Directory with ``train.jsonl`` (and optionally ``val.jsonl``, ``dataset.json``).
        out_dir: Run directory (checkpoints go to ``out_dir/checkpoints``).
        config: Run configuration.
        progress: Show the trainer's progress bar.

    Returns:
        The prepared run.

    Raises:
        TrainError: Missing or malformed dataset, no rows of the preference, bad model.
    """
    import torch
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, set_seed
    from trl import SFTConfig

    train_path, val_path, home = dataset_files(Path(dataset_dir))
    train_rows = filter_rows(read_rows(train_path), config.preference, source=train_path)
    train_rows = reformat_rows(train_rows, config.completion, train_path)
    val_rows: list[dict[str, Any]] = []
    if val_path is not None:
        val_rows = filter_rows(read_rows(val_path), config.preference, source=val_path, empty_ok=True)
        val_rows = reformat_rows(val_rows, config.completion, val_path)
    info = _dataset_info(home, train_rows)
    trackers = _check_trackers(config.report_to)

    try:
        model_path = resolve_model(config.model)
        tokenizer = load_tokenizer(model_path, padding_side="right")
    except ModelError as exc:
        raise TrainError(str(exc)) from exc

    out_dir = Path(out_dir)
    if not config.resume and last_checkpoint(out_dir) is not None:
        raise TrainError(
            f"{out_dir / CHECKPOINTS} holds checkpoints of an earlier run: pass resume=True (--resume) to "
            "continue it, or choose another output directory"
        )
    cuda = torch.cuda.is_available()
    bf16 = bf16_supported("cuda" if cuda else "cpu") if config.bf16 is None else config.bf16
    lr = config.learning_rate if config.learning_rate is not None else (2e-5 if config.full else 2e-4)

    set_seed(config.seed)
    try:
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    except Exception as exc:
        raise TrainError(f"cannot load the model from {model_path}: {type(exc).__name__}: {exc}") from exc
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id

    workdir = Path(tempfile.mkdtemp(prefix="prefc-train-"))
    train_ds = _load_split(train_rows, workdir, "train")
    val_ds = _load_split(val_rows, workdir, "val") if val_rows else None

    args = SFTConfig(
        output_dir=str(out_dir / CHECKPOINTS),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=lr,
        max_length=config.max_length,
        seed=config.seed,
        data_seed=config.seed,
        bf16=bf16,
        fp16=False,
        activation_checkpointing=False,  # (gradient checkpointing) slower, and memory is no issue here
        use_cpu=not cuda,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        logging_steps=config.logging_steps,
        eval_strategy="no",
        report_to=trackers or "none",
        disable_tqdm=True,  # prefc's own progress line instead (train_progress.progress_line)
        completion_only_loss=True,
        packing=False,
        include_num_input_tokens_seen="non_padding",
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,  # several processes: every trained weight takes part in each step
    )
    peft_config = None
    if not config.full:
        peft_config = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=config.target_modules,
            task_type="CAUSAL_LM",
        )
    trainer = trainer_class()(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=val_ds,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)  # prints every log dict on stdout
    trainer.remove_callback(ProgressCallback)
    if progress:
        from .train_progress import progress_line

        trainer.add_callback(progress_line(f"train {config.preference or 'all rows'}"))
    return PreparedRun(
        trainer=trainer,
        config=config,
        model_path=model_path,
        train_rows=len(train_rows),
        val_rows=len(val_rows),
        dataset_info=info,
        workdir=workdir,
    )


def trackers_of(config: TrainConfig) -> list[str]:
    """The trackers a run reports to (``report_to``, with ``all`` expanded to those installed).

    Args:
        config: The run's configuration.
    """
    return _check_trackers(config.report_to) if config.report_to else []


def _check_trackers(names: list[str]) -> list[str]:
    """The trackers to pass to trl, each known to transformers and installed.

    Raises:
        TrainError: A tracker transformers does not know, or whose package is not installed.
    """
    if not names:
        return []
    from transformers.integrations import get_available_reporting_integrations
    from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK

    available = get_available_reporting_integrations()
    if names == ["all"]:
        if not available:
            raise TrainError("report_to all: no experiment tracker is installed (e.g. pip install tensorboardX)")
        return list(available)
    for name in names:
        if name not in INTEGRATION_TO_CALLBACK:
            raise TrainError(
                f"unknown tracker {name!r} for report_to; trl knows {', '.join(sorted(INTEGRATION_TO_CALLBACK))}"
            )
        if name not in available:
            raise TrainError(
                f"tracker {name!r} is not installed (report_to needs its package, e.g. "
                f"{'tensorboardX' if name == 'tensorboard' else name})"
            )
    return list(names)


def train(
    dataset_dir: Path,
    out_dir: Path,
    *,
    config: TrainConfig,
    progress: bool = True,
    config_file: ConfigFile | None = None,
) -> TrainResult:
    """Fine-tune a model on one preference's rows of a compiled dataset.

    Args:
        dataset_dir: Directory with ``train.jsonl`` (and ``val.jsonl``, ``dataset.json``), or one
            JSONL file of rows (see :func:`dataset_files`).
        out_dir: Where the adapter (or full model), ``prefc_train.json`` and checkpoints go.
        config: Run configuration (model, preference, LoRA and optimiser settings, resume).
        progress: Show the trainer's progress bar.
        config_file: The config file the options came from: copied next to the adapter
            (``train_config.toml``/``.yaml``), its path and sha256 recorded in ``prefc_train.json``.

    Returns:
        The run's result and measurements.

    Raises:
        TrainError: The dataset is missing, malformed or empty after filtering; the model cannot
            be loaded; or checkpoints exist and ``resume`` is off.
        TrainInterrupted: Ctrl-C during training; a checkpoint was saved first.
    """
    from .quiet import quiet_third_party

    with quiet_third_party():
        return _train(dataset_dir, Path(out_dir), config=config, progress=progress, config_file=config_file)


def _train(
    dataset_dir: Path, out_dir: Path, *, config: TrainConfig, progress: bool, config_file: ConfigFile | None
) -> TrainResult:
    run = prepare(dataset_dir, out_dir, config=config, progress=progress)
    trainer = run.trainer
    resume_from = last_checkpoint(out_dir) if config.resume else None
    start = time.perf_counter()
    try:
        try:
            trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
        except BaseException as exc:
            for callback in trainer.callback_handler.callbacks:
                if callable(getattr(callback, "close", None)):
                    callback.close(failed=True)
            if not isinstance(exc, KeyboardInterrupt):
                raise
            trainer._save_checkpoint(trainer.model, trial=None)
            ckpt = last_checkpoint(out_dir)
            raise TrainInterrupted(
                f"training interrupted at step {trainer.state.global_step}; checkpoint saved in {ckpt}. "
                f"Run the same command with resume=True (--resume) to continue."
            ) from None
        seconds = time.perf_counter() - start
        tokens = int(trainer.state.num_input_tokens_seen)
        if resume_from is not None:
            tokens -= _tokens_at(resume_from)
        val_loss = None
        if trainer.eval_dataset is not None:
            # The TensorBoard callback closed its writer when training ended; the evaluation opens a
            # new one, named like the first by the second it opens in. A folder of its own keeps it
            # from replacing the training's events file.
            for callback in trainer.callback_handler.callbacks:
                if type(callback).__name__ == "TensorBoardCallback" and getattr(callback, "logging_dir", None):
                    callback.logging_dir = str(Path(callback.logging_dir) / "eval")
            val_loss = float(trainer.evaluate()["eval_loss"])
            for callback in trainer.callback_handler.callbacks:  # flush the evaluation's events to disk
                is_tensorboard = type(callback).__name__ == "TensorBoardCallback"
                writer = getattr(callback, "tb_writer", None) if is_tensorboard else None
                if writer is not None:
                    writer.close()
                    callback.tb_writer = None
        losses = [(int(e["step"]), float(e["loss"])) for e in trainer.state.log_history if "loss" in e]
        train_loss = losses[-1][1] if losses else None
        metadata = {
            "config": config.model_dump(mode="json"),
            "spec": run.dataset_info["spec"],
            "spec_sha256": run.dataset_info["spec_sha256"],
            "dataset": run.dataset_info["dataset"],
            "dataset_dir": str(Path(dataset_dir).resolve()),
            "preference": config.preference,
            "base_model": {
                "name": config.model or EMBEDDED_MODEL,
                "path": str(run.model_path.resolve()),
                "config_sha256": config_sha256(run.model_path),
            },
            "adapter": not config.full,
            "rows": {"train": run.train_rows, "val": run.val_rows},
            "steps": int(trainer.state.global_step),
            "train_loss": train_loss,
            "val_loss": val_loss,
            "seconds": round(seconds, 3),
            "tokens": tokens,
            "tokens_per_second": round(tokens / seconds, 2) if seconds > 0 else 0.0,
            "bf16": bool(trainer.args.bf16),
            "device": str(trainer.args.device),
            "resumed_from": str(resume_from) if resume_from else None,
            "report_to": list(config.report_to),
            "tensorboard_logs": str((out_dir / LOGS).resolve()) if "tensorboard" in trackers_of(config) else None,
        }
        if config_file is not None:
            metadata["config_file"] = {
                "path": str(config_file.path.resolve()),
                "sha256": config_file.sha256,
                "kept_as": CONFIG_COPY + config_file.suffix,
            }
        if trainer.is_world_process_zero():
            if config_file is not None:
                atomic_write_text(out_dir / (CONFIG_COPY + config_file.suffix), config_file.text)
            _write_final(trainer, out_dir, metadata)
        trainer.accelerator.wait_for_everyone()
    finally:
        shutil.rmtree(run.workdir, ignore_errors=True)
    return TrainResult(
        out_dir=out_dir,
        adapter=not config.full,
        preference=config.preference,
        steps=metadata["steps"],
        train_rows=run.train_rows,
        val_rows=run.val_rows,
        train_loss=train_loss,
        val_loss=val_loss,
        losses=losses,
        seconds=seconds,
        tokens=tokens,
        tokens_per_second=metadata["tokens_per_second"],
        resumed_from=metadata["resumed_from"],
        metadata=metadata,
        main_process=bool(trainer.is_world_process_zero()),
    )


def _tokens_at(checkpoint: Path) -> int:
    try:
        state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return 0
    return int(state.get("num_input_tokens_seen") or 0)


def _write_final(trainer: Any, out_dir: Path, metadata: dict[str, Any]) -> None:
    """Save the adapter/model, tokenizer and metadata; each file lands by an atomic rename."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".final-", dir=out_dir))
    try:
        trainer.model.save_pretrained(staging)
        trainer.processing_class.save_pretrained(staging)
        for path in sorted(staging.iterdir()):
            if path.is_file():
                os.replace(path, out_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # Written last, through its model (which validates it and adds the schema version): its presence
    # marks a complete run.
    from prefc.artefacts import TrainRecord, write_document

    record = TrainRecord.model_validate(metadata)
    write_document(out_dir / METADATA_FILE, record)
    metadata.clear()
    metadata.update(record.to_data())  # what callers print is what the file holds
