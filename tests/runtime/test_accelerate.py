"""Training under ``accelerate launch`` with two data-parallel CPU processes takes the same steps as
one process with the same global batch (``bench/accelerate_train.py``, which prints the figures)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("accelerate")
pytest.importorskip("trl")

BENCH = Path(__file__).resolve().parents[2] / "bench" / "accelerate_train.py"


def _bench():
    spec = importlib.util.spec_from_file_location("accelerate_train", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_two_cpu_processes_match_one_process(tmp_path: Path) -> None:
    bench = _bench()
    one, two = bench.compare(steps=4, rows=16, workdir=tmp_path)
    assert [s for s, _ in one.losses] == [1, 2, 3, 4]
    # the same rows in every step: the token counts agree exactly (a single process that believed it
    # was alone would have seen half of them)
    assert one.tokens == two.tokens > 0
    assert bench.largest_difference(one, two) <= bench.TOLERANCE
    # and the loss moved, so agreement is not that of two untrained models
    assert one.losses[-1][1] < one.losses[0][1] * 0.9
    assert two.val_loss == pytest.approx(one.val_loss, rel=bench.TOLERANCE)
