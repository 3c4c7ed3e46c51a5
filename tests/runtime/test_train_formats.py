"""Trained completion formats: as written, the ANSWER line first, or the ANSWER line alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("trl")

from train_data import cfg as _cfg  # noqa: E402
from train_data import make_dataset  # noqa: E402

from prefc.runtime.answers import parse_answer  # noqa: E402
from prefc.runtime.train import TrainError, prepare  # noqa: E402
from prefc.runtime.train_formats import reorder_completion  # noqa: E402

TRACE = 'I weigh my own payoff.\nHere m = 1.6, so the best give is 0.\nANSWER: {"give": 0}'


def test_reorder_completion_moves_or_keeps_the_answer_line() -> None:
    assert reorder_completion(TRACE, "as-written") == TRACE
    first = reorder_completion(TRACE, "answer-first")
    assert first == 'ANSWER: {"give": 0}\nI weigh my own payoff.\nHere m = 1.6, so the best give is 0.'
    assert reorder_completion(TRACE, "answer") == 'ANSWER: {"give": 0}'
    schema = {"give": {"kind": "number", "min": 0, "max": 10}}
    for text in (first, reorder_completion(TRACE, "answer")):
        assert parse_answer(text, schema).value == {"give": 0}
    assert reorder_completion('ANSWER: {"give": 0}', "answer-first") == 'ANSWER: {"give": 0}'
    with pytest.raises(TrainError, match=r"train.jsonl row 3: completion has no ANSWER: line"):
        reorder_completion("I give nothing.", "answer", where="train.jsonl row 3")


@pytest.mark.parametrize("mode", ["answer-first", "answer"])
def test_the_trainer_sees_the_reordered_completion(mode: str, tiny_model_dir: Path, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "sft", n_train=4, n_val=2)
    run = prepare(data, tmp_path / "out", config=_cfg(tiny_model_dir, completion=mode), progress=False)
    shutil.rmtree(run.workdir)
    tok = run.trainer.processing_class
    assert run.val_rows == 2
    for ds in (run.trainer.train_dataset, run.trainer.eval_dataset):
        for row in ds:
            ids = row["input_ids"]
            mask = row.get("completion_mask") or [int(lab != -100) for lab in row["labels"]]
            learned = tok.decode([i for i, m in zip(ids, mask, strict=True) if m])
            assert learned.startswith('ANSWER: {"give": ')
            assert ("I give " in learned) == (mode == "answer-first")
