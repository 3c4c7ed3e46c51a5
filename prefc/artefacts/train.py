"""``prefc_train.json``: an adapter's (or fully fine-tuned model's) exact training record."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from .base import Document, Part

__all__ = ["BaseModelInfo", "ConfigFileInfo", "TrainRecord", "TrainRows"]


class BaseModelInfo(Part):
    """The model that was fine-tuned."""

    name: str
    """As given (or the embedded model's name)."""
    path: str
    """Its resolved directory."""
    config_sha256: str
    """SHA-256 of its ``config.json``."""


class TrainRows(Part):
    """Rows trained and validated on, after the preference filter."""

    train: int
    """Training rows."""
    val: int
    """Validation rows."""


class ConfigFileInfo(Part):
    """The training configuration file an adapter was trained from."""

    path: str
    """Where it was."""
    sha256: str
    """SHA-256 of its text."""
    kept_as: str
    """The name of the copy kept next to the adapter."""


class TrainRecord(Document):
    """``prefc_train.json``, written last into the adapter directory: its presence marks a finished
    training."""

    WHAT: ClassVar[str] = "a prefc training record"
    STYLE: ClassVar[Literal["sorted", "ordered"]] = "sorted"

    config: dict[str, Any]
    """The training configuration, verbatim (``prefc.runtime.train.TrainConfig`` as JSON)."""
    spec: str | None
    """The spec of the dataset."""
    spec_sha256: str | None
    """Its SHA-256."""
    dataset: str | None
    """The dataset block's name."""
    dataset_dir: str
    """The dataset directory trained on."""
    preference: str | None
    """The preference whose rows were trained on."""
    base_model: BaseModelInfo
    """The model fine-tuned."""
    adapter: bool
    """A LoRA adapter (true) or a full model (false)."""
    rows: TrainRows
    """Rows used."""
    steps: int
    """Optimizer steps done in total."""
    train_loss: float | None
    """Last logged training loss."""
    val_loss: float | None
    """Validation loss of the final model."""
    seconds: float
    """Wall time of the training."""
    tokens: int
    """Non-padding tokens processed."""
    tokens_per_second: float
    """``tokens / seconds``."""
    bf16: bool
    """Whether bf16 mixed precision ran."""
    device: str
    """The device trained on."""
    resumed_from: str | None
    """The checkpoint continued from, if any."""
    report_to: list[str] = Field(default_factory=list)
    """The trackers the training reported to (``--report-to``)."""
    tensorboard_logs: str | None = None
    """Where TensorBoard's event files are, when it was one of them."""
    config_file: ConfigFileInfo | None = None
    """The ``--config`` file the options came from, if any."""
