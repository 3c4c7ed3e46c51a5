"""``prefc train --backend openai``: one preference's rows fine-tuned by a hosted job, as the paper did.

The steps, all through the official ``openai`` client (``pip install 'prefc[openai]'``):

1. the OpenAI fine-tuning files of the preference are made from the dataset
   (:mod:`prefc.interop.openai_export`) and checked against the published rules; a file that
   breaks one is refused before anything is uploaded;
2. the training file (and the validation file, where the dataset has one) is uploaded with
   ``files.create(purpose="fine-tune")``;
3. a job is started with ``fine_tuning.jobs.create`` (base model, files, ``n_epochs`` /
   ``batch_size`` where given, the seed, a suffix naming the preference);
4. the job is followed with ``fine_tuning.jobs.retrieve`` and ``list_events`` until it succeeds,
   fails or is cancelled, or ``timeout`` seconds pass: a line on stderr for every status change and
   event, and one every ``heartbeat`` seconds while nothing changes;
5. ``ADAPTER_DIR/prefc_openai.json`` records the job (written as soon as it exists, so an
   interrupted run can be followed again with ``--resume``), and on success the fine-tuned model
   id and the agent spec that evaluates it: ``openai:URL?model=ID``.

The key is read from ``$PREFC_API_KEY`` or ``$OPENAI_API_KEY`` and never written or printed; the
base URL from ``--base-url``, ``$OPENAI_BASE_URL`` or the official API. Errors (a rejected file, a
failed or cancelled job, an unreachable endpoint, a timeout) exit with status 1 and say what
happened and what to do.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from prefc.compiler.emit.layout import preference_slug
from prefc.interop.openai_export import collect_openai_files
from prefc.interop.output import ExportError
from prefc.runtime.files import atomic_write_text

if TYPE_CHECKING:
    from prefc.artefacts import DatasetHeader

__all__ = ["DEFAULT_BASE_MODEL", "JOB_FILE", "HostedTrainError", "HostedResult", "train_hosted", "cmd_train_openai"]

DEFAULT_BASE_MODEL = "gpt-4o-mini-2024-07-18"
"""The hosted base model when none is given."""

DEFAULT_BASE_URL = "https://api.openai.com/v1"
JOB_FILE = "prefc_openai.json"
"""The record of the hosted job, next to the run."""

_TERMINAL = {"succeeded", "failed", "cancelled"}
_LOCAL_ONLY = (
    "lora_r",
    "lora_alpha",
    "lora_dropout",
    "target_modules",
    "full",
    "learning_rate",
    "grad_accum",
    "max_length",
    "max_steps",
    "bf16",
    "save_steps",
    "save_total_limit",
    "logging_steps",
    "report_to",
)


class HostedTrainError(Exception):
    """A hosted fine-tuning run that cannot start or did not succeed (the message says why)."""


@dataclass
class HostedResult:
    """The end of a followed job.

    Attributes:
        job_id: The fine-tuning job.
        status: Its last status (``succeeded`` here; other endings raise).
        model: The fine-tuned model id.
        agent: The agent spec that evaluates it (``openai:URL?model=ID``).
        record: The content of ``prefc_openai.json``.
    """

    job_id: str
    status: str
    model: str
    agent: str
    record: dict[str, Any]


def _api_key() -> str:
    key = os.environ.get("PREFC_API_KEY") or os.environ.get("OPENAI_API_KEY")
    if not key:
        raise HostedTrainError("no API key: set $PREFC_API_KEY or $OPENAI_API_KEY")
    return key


def _client(base_url: str, *, timeout: float):
    try:
        import openai
    except ImportError:
        raise HostedTrainError("hosted fine-tuning needs the openai client: pip install 'prefc[openai]'") from None
    return openai.OpenAI(api_key=_api_key(), base_url=base_url, timeout=timeout, max_retries=2)


def _api_error(exc: Exception, doing: str) -> HostedTrainError:
    import openai

    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        err = body.get("error", body) if isinstance(body, dict) else {}
        message = err.get("message") if isinstance(err, dict) else None
        return HostedTrainError(f"{doing}: HTTP {exc.status_code}: {message or exc.message}")
    if isinstance(exc, openai.APITimeoutError):
        return HostedTrainError(f"{doing}: the request timed out")
    if isinstance(exc, openai.APIConnectionError):
        return HostedTrainError(f"{doing}: cannot reach the API ({exc.__cause__ or exc})")
    return HostedTrainError(f"{doing}: {type(exc).__name__}: {exc}")


def _hyperparameters(options: dict[str, Any]) -> dict[str, Any]:
    given = sorted(k for k in _LOCAL_ONLY if options.get(k) not in (None, False, [], "all-linear"))
    if given:
        raise HostedTrainError(
            f"{', '.join(given)}: not options of hosted fine-tuning (it takes epochs, batch-size and seed)"
        )
    hp: dict[str, Any] = {}
    if options.get("epochs") is not None:
        epochs = float(options["epochs"])
        if epochs != int(epochs) or epochs < 1:
            raise HostedTrainError(f"epochs {epochs}: hosted fine-tuning takes a whole number of epochs")
        hp["n_epochs"] = int(epochs)
    if options.get("batch_size") is not None:
        hp["batch_size"] = int(options["batch_size"])
    return hp


def _say(stream: TextIO, text: str) -> None:
    print(f"[openai] {text}", file=stream, flush=True)


def _write_record(out_dir: Path, record: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / JOB_FILE, json.dumps(record, indent=2, sort_keys=True) + "\n")


def train_hosted(
    dataset: Path,
    out_dir: Path,
    *,
    options: dict[str, Any],
    base_url: str | None = None,
    poll_interval: float = 10.0,
    timeout: float = 6 * 3600.0,
    heartbeat: float = 60.0,
    resume: bool = False,
    stream: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> HostedResult:
    """Fine-tune a hosted model on one preference's rows and follow the job to its end.

    Args:
        dataset: A dataset directory written by ``prefc compile``.
        out_dir: Where ``prefc_openai.json`` goes.
        options: Training options (``model``, ``preference``, ``epochs``, ``batch_size``, ``seed``);
            options of local training only are refused.
        base_url: The API's base URL (default ``$OPENAI_BASE_URL`` or the official API).
        poll_interval: Seconds between status checks.
        timeout: Seconds to follow the job before giving up (the job keeps running).
        heartbeat: Seconds between progress lines while nothing changes.
        resume: Follow the job recorded in ``out_dir`` instead of starting one.
        stream: Where progress lines go (default: stderr).
        clock: Monotonic time (tests).
        sleep: Waits between checks (tests).

    Returns:
        The succeeded job with the fine-tuned model id and its agent spec.

    Raises:
        HostedTrainError: Bad options, a file that breaks the format rules, an API error, a failed
            or cancelled job, or a timeout (the job id is recorded and printed).
    """
    stream = stream if stream is not None else sys.stderr
    base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    client = _client(base_url, timeout=max(30.0, poll_interval * 3))
    out_dir = Path(out_dir)
    if resume:
        try:
            record = json.loads((out_dir / JOB_FILE).read_text(encoding="utf-8"))
            job_id = str(record["job_id"])
        except (OSError, ValueError, KeyError):
            raise HostedTrainError(f"{out_dir / JOB_FILE}: no hosted job recorded to follow") from None
        _say(stream, f"following job {job_id}")
    else:
        record, job_id = _start(client, dataset, out_dir, options=options, base_url=base_url, stream=stream)
    return _follow(
        client,
        job_id,
        record,
        out_dir,
        base_url=base_url,
        poll_interval=poll_interval,
        timeout=timeout,
        heartbeat=heartbeat,
        stream=stream,
        clock=clock,
        sleep=sleep,
    )


def _dataset_header(dataset: Path) -> DatasetHeader | None:
    """The dataset's header (``dataset.json``), validated, or None for a dataset without one.

    Args:
        dataset: The dataset directory.

    Raises:
        HostedTrainError: The header is not a prefc dataset header (file, line and field named).
    """
    from prefc.artefacts import DatasetHeader, read_document

    path = Path(dataset) / "dataset.json"
    return read_document(path, DatasetHeader, error=HostedTrainError) if path.is_file() else None


def _start(
    client: Any, dataset: Path, out_dir: Path, *, options: dict[str, Any], base_url: str, stream: TextIO
) -> tuple[dict[str, Any], str]:
    from prefc.compiler.emit.openai_jsonl import validate_openai_file

    hp = _hyperparameters(options)
    preference = options.get("preference")
    try:
        labels, files = collect_openai_files(dataset, preference)
    except ExportError as exc:
        raise HostedTrainError(str(exc)) from None
    if len(labels) != 1:
        raise HostedTrainError(
            f"{dataset} holds several preferences ({', '.join(labels)}): choose one with --preference"
        )
    label = labels[0]
    slug = preference_slug(label)
    header = _dataset_header(dataset)
    out_dir.mkdir(parents=True, exist_ok=True)
    uploads: dict[str, str] = {}
    for split in ("train", "val"):
        name = f"{slug}.{split}.jsonl"
        if name not in files:
            continue
        path = out_dir / name
        atomic_write_text(path, files[name])
        report = validate_openai_file(path, strict=True, training=split == "train")
        if not report.ok:
            raise HostedTrainError("; ".join(p.located(path) for p in report.errors[:5]))
        try:
            with path.open("rb") as fh:
                uploaded = client.files.create(file=(name, fh), purpose="fine-tune")
        except Exception as exc:
            raise _api_error(exc, f"uploading {name}") from None
        uploads[split] = uploaded.id
        _say(stream, f"uploaded {name} ({report.examples} examples) as {uploaded.id}")
    model = options.get("model") or DEFAULT_BASE_MODEL
    kwargs: dict[str, Any] = {"model": model, "training_file": uploads["train"], "suffix": slug.replace(".", "-")[:18]}
    if "val" in uploads:
        kwargs["validation_file"] = uploads["val"]
    if hp:
        kwargs["hyperparameters"] = hp
    if options.get("seed") is not None:
        kwargs["seed"] = int(options["seed"])
    try:
        job = client.fine_tuning.jobs.create(**kwargs)
    except Exception as exc:
        raise _api_error(exc, "starting the fine-tuning job") from None
    record = {
        "backend": "openai",
        "base_url": base_url,
        "job_id": job.id,
        "base_model": model,
        "preference": label,
        "dataset_dir": str(Path(dataset).resolve()),
        "spec": header.spec if header else None,
        "spec_sha256": header.spec_sha256 if header else None,
        "dataset": header.dataset if header else None,
        "training_file": uploads["train"],
        "validation_file": uploads.get("val"),
        "hyperparameters": hp,
        "seed": kwargs.get("seed"),
        "status": job.status,
        "fine_tuned_model": None,
        "agent": None,
        "error": None,
    }
    _write_record(out_dir, record)
    _say(stream, f"started job {job.id} on {model} ({job.status}); recorded in {out_dir / JOB_FILE}")
    return record, job.id


def _follow(
    client: Any,
    job_id: str,
    record: dict[str, Any],
    out_dir: Path,
    *,
    base_url: str,
    poll_interval: float,
    timeout: float,
    heartbeat: float,
    stream: TextIO,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> HostedResult:
    start = last_line = clock()
    seen: set[str] = set()
    status = None
    while True:
        try:
            job = client.fine_tuning.jobs.retrieve(job_id)
            events = client.fine_tuning.jobs.list_events(job_id, limit=50).data
        except Exception as exc:
            raise _api_error(exc, f"following job {job_id}") from None
        for event in sorted(events, key=lambda e: (e.created_at, e.id)):
            if event.id not in seen:
                seen.add(event.id)
                _say(stream, f"{event.level}: {event.message}")
                last_line = clock()
        if job.status != status:
            status = job.status
            _say(stream, f"job {job_id}: {status}")
            last_line = clock()
            record.update(status=status, trained_tokens=getattr(job, "trained_tokens", None))
            _write_record(out_dir, record)
        if status in _TERMINAL:
            break
        elapsed = clock() - start
        if elapsed >= timeout:
            raise HostedTrainError(
                f"job {job_id} is still {status} after {elapsed:.0f} s; it keeps running. "
                f"Follow it again with the same command and --resume"
            )
        if clock() - last_line >= heartbeat:
            _say(stream, f"job {job_id}: still {status} ({elapsed:.0f} s)")
            last_line = clock()
        sleep(poll_interval)
    if status != "succeeded":
        error = job.error.message if getattr(job, "error", None) is not None and job.error.message else None
        code = job.error.code if getattr(job, "error", None) is not None else None
        record.update(error={"code": code, "message": error})
        _write_record(out_dir, record)
        raise HostedTrainError(
            f"job {job_id} {status}" + (f": {error}" if error else "") + (f" [{code}]" if code else "")
        )
    model = job.fine_tuned_model
    if not model:
        raise HostedTrainError(f"job {job_id} succeeded without a fine-tuned model id")
    agent = f"openai:{base_url}?model={model}"
    record.update(fine_tuned_model=model, agent=agent, error=None)
    _write_record(out_dir, record)
    return HostedResult(job_id=job_id, status=status, model=model, agent=agent, record=record)


def cmd_train_openai(args: Any, *, dataset: Path, out: Path, options: dict[str, Any]) -> int:
    """``prefc train --backend openai``.

    Args:
        args: The parsed ``train`` arguments (``base_url``, ``poll_interval``, ``timeout``, ``json``).
        dataset: The dataset directory.
        out: The run directory.
        options: The training options (flags over ``--config``).
    """
    resume = bool(options.pop("resume", False))
    try:
        result = train_hosted(
            dataset,
            out,
            options=options,
            base_url=args.base_url,
            poll_interval=args.poll_interval if args.poll_interval is not None else 10.0,
            timeout=args.timeout if args.timeout is not None else 6 * 3600.0,
            resume=resume,
        )
    except HostedTrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.record, indent=2, sort_keys=True))
    else:
        print(f"fine-tuned model {result.model} (job {result.job_id}); evaluate it with --agent '{result.agent}'")
    return 0
