"""Shared pytest fixtures."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
# the suite's own cache root (parser tables, solved games), shared by the commands it runs and removed
# afterwards: no test reads what an earlier run or the user left in theirs
os.environ["PREFC_CACHE"] = tempfile.mkdtemp(prefix="prefc-test-cache-")
atexit.register(shutil.rmtree, os.environ["PREFC_CACHE"], ignore_errors=True)


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
