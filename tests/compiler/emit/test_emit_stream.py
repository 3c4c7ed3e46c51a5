"""Streaming emission: rows rendered prompt by prompt through a scratch file come out in the same
order and with the same bytes as rows rendered in memory, and files written piece by piece appear
only when complete."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from prefc.artefacts.io import AtomicWriter
from prefc.compiler.check import check_file
from prefc.compiler.emit.dataset import build_dataset, plan_dataset
from prefc.compiler.emit.fmt import dumps
from prefc.compiler.emit.prompts import PromptRenderer
from prefc.compiler.emit.situations import Solutions
from prefc.compiler.emit.templates import TemplateSet
from prefc.compiler.ir import lower_spec

try:
    from spec_blocks import DICTATOR, PRISONERS_DILEMMA
except ImportError:  # tests/ is a package: import it by path
    from tests.spec_blocks import DICTATOR, PRISONERS_DILEMMA

SPECS = Path(__file__).resolve().parents[3] / "specs"

SPEC = (
    'spec streamed "Streamed rows"\n\nuse "preferences.pref"\n\n'
    + DICTATOR
    + PRISONERS_DILEMMA
    + """
dataset sft for economicus, moralis(kappa = 0.5) {
    games dictator, prisoners_dilemma
    samples 20 per preference   seed 4
    split train 0.8, val 0.2
    paraphrases 6
}
"""
)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stream")
    shutil.copy(SPECS / "preferences.pref", tmp / "preferences.pref")
    (tmp / "streamed.pref").write_text(SPEC)
    spec = check_file(str(tmp / "streamed.pref"))
    ir = lower_spec(spec)
    return spec, ir, Solutions(ir), tmp


@pytest.mark.parametrize("fmt", ["trl", "messages"])
def test_streamed_rows_equal_rows_in_memory(compiled, fmt):
    spec, ir, solutions, tmp = compiled
    build = spec.builds["sft"]
    in_memory = build_dataset(spec, ir, build, solutions, PromptRenderer(ir, TemplateSet()), seed=4, fmt=fmt)
    plan = plan_dataset(spec, ir, build, solutions, PromptRenderer(ir, TemplateSet()), seed=4, fmt=fmt)
    assert set(plan.rows) == set(in_memory.lines) == {"train", "val"}
    for split, lines in in_memory.lines.items():
        scratch = tmp / f".{split}.rows"
        streamed = list(plan.lines(split, scratch=scratch))
        assert [line.decode("utf-8") for _, line in streamed] == lines
        assert [label for label, _ in streamed] == in_memory.labels[split]
        assert not scratch.exists()
        for line in lines:  # each line is the canonical serialisation of its row
            assert dumps(json.loads(line)) == line
    # every preference answers in both splits, and a row's label is its preference's
    for split in plan.rows:
        for label, line in plan.lines(split):
            assert json.loads(line)["meta"]["preference"] == label


def test_an_atomic_writer_appears_only_when_committed(tmp_path):
    target = tmp_path / "rows.jsonl"
    target.write_bytes(b"old\n")
    with AtomicWriter(target) as out:
        out.write(b"new 1\n")
        out.write(b"new 2\n")
        assert target.read_bytes() == b"old\n"  # not yet
    assert target.read_bytes() == b"new 1\nnew 2\n"
    with pytest.raises(RuntimeError), AtomicWriter(target) as out:
        out.write(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"new 1\nnew 2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.jsonl"]  # no temporary file left


def test_an_atomic_writer_reports_the_digest_of_what_it_wrote(tmp_path):
    import hashlib

    out = AtomicWriter(tmp_path / "f")
    out.write(b"abc")
    out.write("é".encode())
    assert out.commit() == hashlib.sha256("abcé".encode()).hexdigest()
    assert out.bytes == 5
