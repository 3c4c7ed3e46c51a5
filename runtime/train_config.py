"""Training options: :class:`TrainConfig` and the TOML or YAML file that holds them.

``prefc train --config FILE`` reads every option from one file (flags given on the command line
win over it). The file is a table of :class:`TrainConfig` fields, with ``-`` or ``_`` in the
names, plus three run options: ``dataset`` (the dataset directory or JSONL file), ``out`` (the
adapter directory) and ``backend`` (``local`` or ``openai``)::

    # moralis.toml
    dataset = "build/paper/sft"
    out = "adapters/moralis"
    preference = "moralis(kappa=0.5)"
    max-steps = 60
    learning-rate = 5e-4
    batch-size = 4
    grad-accum = 2
    max-length = 768
    lora-r = 16
    lora-alpha = 32
    target-modules = ["q_proj", "v_proj"]
    report-to = ["tensorboard"]

YAML files (``.yaml``/``.yml``) take the same keys. TOML may also put them under a ``[train]``
table. The file is copied next to the adapter (``train_config.toml``/``.yaml``) and its path and
sha256 are recorded in ``prefc_train.json``.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from prefc.errors import SpecError

__all__ = [
    "RUN_OPTIONS",
    "CompletionFormat",
    "ConfigFile",
    "ConfigFileError",
    "TrainConfig",
    "TrainError",
    "TrainInterrupted",
    "load_config_file",
]


class TrainError(SpecError):
    """Training cannot start or did not finish (bad dataset, bad config, interruption)."""


class TrainInterrupted(TrainError):
    """Training was interrupted; a checkpoint was saved and ``resume=True`` continues from it."""


CompletionFormat = Literal["as-written", "answer-first", "answer"]
"""What a fine-tuned model learns to write (:mod:`prefc.runtime.train_formats`)."""

RUN_OPTIONS = ("dataset", "out", "backend")
"""Keys of a config file that are not :class:`TrainConfig` fields."""

_MAX_CONFIG_BYTES = 1_000_000


class ConfigFileError(SpecError):
    """A training config file that cannot be used (the message names the file and the key)."""


class TrainConfig(BaseModel):
    """Everything that determines a fine-tuning run (stored verbatim in ``prefc_train.json``)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str | None = Field(
        default=None,
        description="Base model: None for the embedded smollm2-135m-instruct, a local directory, or a hub id.",
    )
    preference: str | None = Field(
        default=None,
        description=(
            "Rows to train on: a label like 'moralis(kappa=0.5)' (matches meta.preference) or a name like "
            "'moralis' (matches meta.preference_name). None accepts a dataset holding a single preference."
        ),
    )
    epochs: float = Field(default=3.0, gt=0, description="Passes over the training rows (ignored if max_steps > 0).")
    max_steps: int = Field(default=-1, description="Optimizer steps to run; -1 runs `epochs` epochs.")
    lora_r: int = Field(default=16, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(default=32, ge=1, description="LoRA scaling numerator (scale = alpha / r).")
    lora_dropout: float = Field(default=0.05, ge=0, lt=1, description="Dropout on the LoRA branch.")
    target_modules: str | list[str] = Field(
        default="all-linear", description="Modules that get LoRA adapters: 'all-linear' or a list of module names."
    )
    full: bool = Field(default=False, description="Full fine-tuning of every weight instead of LoRA.")
    learning_rate: float | None = Field(
        default=None, gt=0, description="Peak learning rate; None means 2e-4 for LoRA, 2e-5 for full fine-tuning."
    )
    batch_size: int = Field(default=8, ge=1, description="Rows per device per forward pass.")
    grad_accum: int = Field(default=1, ge=1, description="Forward passes accumulated per optimizer step.")
    max_length: int = Field(default=1024, ge=8, description="Longest tokenised row; longer rows are truncated.")
    seed: int = Field(default=0, description="Seed for adapter initialisation, shuffling and dropout.")
    bf16: bool | None = Field(
        default=None,
        description="bfloat16 mixed precision; None turns it on where supported (CUDA with bf16, CPUs with "
        "AVX512-BF16/AMX).",
    )
    save_steps: int = Field(default=50, ge=1, description="Optimizer steps between checkpoints.")
    save_total_limit: int = Field(default=2, ge=1, description="Checkpoints kept in out_dir/checkpoints.")
    logging_steps: int = Field(default=10, ge=1, description="Optimizer steps between logged training losses.")
    resume: bool = Field(default=False, description="Continue from the last checkpoint in out_dir/checkpoints.")
    completion: CompletionFormat = Field(
        default="as-written",
        description="What the model learns to write: the dataset's completion as written (reasoning, then the "
        "ANSWER line), the ANSWER line first, or the ANSWER line alone (prefc.runtime.train_formats).",
    )
    report_to: list[str] = Field(
        default_factory=list,
        description="Experiment trackers that receive the training logs (trl/transformers names: 'tensorboard', "
        "'wandb', 'mlflow', 'trackio', ...); each must be installed. TensorBoard writes to out_dir/checkpoints/runs.",
    )

    @field_validator("report_to", mode="before")
    @classmethod
    def _trackers(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list) and value in (["none"], ["all"]):
            return [] if value == ["none"] else value
        return value


@dataclass
class ConfigFile:
    """A training config file, read and checked.

    Attributes:
        path: The file.
        text: Its content (copied next to the adapter).
        sha256: The content's hash.
        options: The :class:`TrainConfig` fields it sets (normalised names).
        run: The run options it sets (``dataset``, ``out``, ``backend``).
    """

    path: Path
    text: str
    sha256: str
    options: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)

    @property
    def suffix(self) -> str:
        """``.toml`` or ``.yaml``: the extension of the copy kept next to the adapter."""
        return ".toml" if self.path.suffix.lower() == ".toml" else ".yaml"


def _parse(path: Path, text: str) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigFileError(f"{path}: not valid TOML ({exc})") from None
        if isinstance(data.get("train"), dict) and len(data) == 1:
            data = data["train"]
        return data
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ConfigFileError(f"{path}: reading YAML needs PyYAML (pip install pyyaml), or use TOML") from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
            raise ConfigFileError(f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    raise ConfigFileError(f"{path}: a training config is a .toml, .yaml or .yml file")


def load_config_file(path: str | Path) -> ConfigFile:
    """Read and check a training config file.

    Args:
        path: A ``.toml``, ``.yaml`` or ``.yml`` file.

    Returns:
        The file with its options, checked against :class:`TrainConfig` (a value that breaks a
        field's rule, or a key that is no option, is an error naming the key).

    Raises:
        ConfigFileError: Missing, unreadable or malformed file, unknown key or invalid value.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigFileError(f"{p}: no such config file")
    if p.stat().st_size > _MAX_CONFIG_BYTES:
        raise ConfigFileError(f"{p}: larger than {_MAX_CONFIG_BYTES} bytes; not a training config")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigFileError(f"{p}: not UTF-8 text") from None
    data = _parse(p, text)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigFileError(f"{p}: expected a table of training options, got {type(data).__name__}")
    known = set(TrainConfig.model_fields)
    options: dict[str, Any] = {}
    run: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name in RUN_OPTIONS:
            if not isinstance(value, str):
                raise ConfigFileError(f"{p}: `{key}` must be a string")
            run[name] = value
        elif name in known:
            options[name] = value
        else:
            close = difflib.get_close_matches(name, sorted(known | set(RUN_OPTIONS)), n=1)
            hint = f"; did you mean `{close[0].replace('_', '-')}`?" if close else ""
            raise ConfigFileError(f"{p}: unknown training option `{key}`{hint}")
    if run.get("backend") not in (None, "local", "openai"):
        raise ConfigFileError(f"{p}: `backend` is `local` or `openai`, not {run['backend']!r}")
    try:
        TrainConfig(**options)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(x) for x in first["loc"]).replace("_", "-")
        raise ConfigFileError(f"{p}: `{key}`: {first['msg']}") from None
    return ConfigFile(path=p, text=text, sha256=hashlib.sha256(raw).hexdigest(), options=options, run=run)
