"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama chat model (ChatML template, BPE tokenizer) saved in a temp directory.

    Also limits torch to one CPU thread: a model this small gains nothing from more, and on a
    busy machine extra threads make every step many times slower.
    """
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    pytest.importorskip("transformers")
    try:
        from tiny_model import build_tiny_model
    except ImportError:  # tests/ is a package: import it by path
        from tests.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"))
