"""What the long commands print: progress lines on stderr off a terminal, ``--json`` on stdout,
tables laid out for a fixed width in a pipe.

Each command runs as a user runs it, as a subprocess of the installed ``prefc`` with stdout and
stderr captured (so neither is a terminal); the JSON documents are validated by the models of
:mod:`prefc.artefacts` and compared with the files the commands write.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from prefc.artefacts import Manifest, RunRecord, SimulationSummary, Summary, TrainRecord

try:
    from spec_blocks import DICTATOR, PRISONERS_DILEMMA
except ImportError:  # tests/ is a package: import it by path
    from tests.spec_blocks import DICTATOR, PRISONERS_DILEMMA

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
PREFC = [sys.executable, "-m", "prefc"]

SPEC = (
    """spec mini "Two games"

use "preferences.pref"

"""
    + PRISONERS_DILEMMA
    + """
"""
    + DICTATOR
    + """
dataset sft for economicus, moralis(kappa = 0.5) {
    games prisoners_dilemma, dictator
    samples 8 per preference   seed 3
    paraphrases 2
    split train 0.75, val 0.25
}

rubric eval for economicus, moralis(kappa = 0.25, 0.75) {
    games prisoners_dilemma, dictator
    items 24   tolerance 5%
    seed 4
}
"""
)

LINE = re.compile(
    r"^prefc: (?P<label>.+?) (?P<done>\d+)(?:/(?P<total>\d+))?(?: (?P<unit>[a-z]+))?(?: \(\d+%\))?"
    r"(?P<rest>.*)$"
)
BOX = re.compile("[\u2500-\u257f]")  # a table's border
THIRD_PARTY = ("Warning", "it/s", "%|", "Loading weights", "Tokenizing", "{'train_runtime'", "{'loss'", "Traceback")


def prefc(*args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run the command line as a user would, stdout and stderr captured (neither is a terminal)."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("PREFC_PROGRESS", "COLUMNS")}
    full_env.update({"HF_HUB_OFFLINE": "1", "PREFC_PROGRESS_SECONDS": "0", **(env or {})})
    done = subprocess.run([*PREFC, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def progress_lines(stderr: str, label: str) -> list[re.Match]:
    found = [m for line in stderr.splitlines() if (m := LINE.match(line)) and m["label"] == label]
    assert found, f"no progress line for {label!r} in:\n{stderr}"
    return found


def check_progress(stderr: str, label: str, total: int, unit: str) -> None:
    """A first line at 0, counts that only grow, a last line at the total that says it is done."""
    lines = progress_lines(stderr, label)
    assert lines[0]["done"] == "0" and lines[0]["total"] == str(total), lines[0].string
    counts = [int(m["done"]) for m in lines]
    assert counts == sorted(counts)
    assert lines[-1]["done"] == str(total) and "done in" in lines[-1]["rest"], lines[-1].string
    assert all(m["unit"] == unit for m in lines)
    assert len(lines) >= 3, "with PREFC_PROGRESS_SECONDS=0 every step writes a line"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    shutil.copy(SPECS / "preferences.pref", root / "preferences.pref")
    (root / "mini.pref").write_text(SPEC)
    return root


@pytest.fixture(scope="module")
def compiled(work: Path) -> subprocess.CompletedProcess:
    return prefc("compile", "mini.pref", "-o", "build", "--json", cwd=work)


def test_compile_progress_and_json(compiled: subprocess.CompletedProcess, work: Path) -> None:
    rows = 8 * 2 + 24  # the dataset's rows for two preferences, and the rubric's items
    check_progress(compiled.stderr, "compile mini", rows, "rows")
    data = json.loads(compiled.stdout)  # the whole of stdout is one document
    assert Manifest.model_validate(data["manifest"]).to_data() == json.loads(
        (work / "build/mini/manifest.json").read_text()
    )
    assert {(b["block"], b["split"]): b["rows"] for b in data["blocks"]} == {
        ("sft", "train"): 12,
        ("sft", "val"): 4,
        ("eval", "items"): 24,
        ("solutions", "-"): data["blocks"][-1]["rows"],
    }


def test_eval_progress_and_json(compiled: subprocess.CompletedProcess, work: Path) -> None:
    done = prefc(
        "eval",
        "build/mini/eval.jsonl",
        "--agent",
        "theory:moralis(kappa=0.75)",
        "-o",
        "ev",
        "--batch-size",
        "5",
        "--json",
        cwd=work,
    )
    check_progress(done.stderr, "eval theory:moralis(kappa=0.75)", 24, "items")
    summary = Summary.model_validate_json(done.stdout)
    assert done.stdout == (work / "ev/summary.json").read_text()
    assert summary.nearest is not None and summary.nearest.label == "moralis(kappa=0.75)"
    plain = prefc("eval", "build/mini/eval.jsonl", "--agent", "theory:economicus", "-o", "ev2", cwd=work)
    assert "accuracy" in plain.stdout and "parse rate 1.000 (24/24)" in plain.stdout
    assert "prefc:" not in plain.stdout
    kappa = next(line for line in plain.stdout.splitlines() if line.startswith("kappa = "))
    assert kappa.endswith("unparsed excluded)"), "a line of text is not broken at the width"


def test_progress_can_be_turned_off_and_writes_a_line_every_few_seconds(compiled, work: Path) -> None:
    off = prefc(
        "eval",
        "build/mini/eval.jsonl",
        "--agent",
        "theory:economicus",
        "-o",
        "ev3",
        "--json",
        cwd=work,
        env={"PREFC_PROGRESS": "off"},
    )
    assert "prefc:" not in off.stderr
    default = prefc(
        "eval",
        "build/mini/eval.jsonl",
        "--agent",
        "theory:economicus",
        "-o",
        "ev4",
        "--batch-size",
        "1",
        cwd=work,
        env={"PREFC_PROGRESS_SECONDS": "5"},
    )
    lines = progress_lines(default.stderr, "eval theory:economicus")
    assert len(lines) == 2, "a theory agent answers 24 items well within 5 s: only the first and the last line"


def test_simulate_progress_json_and_table_width(work: Path) -> None:
    shutil.copy(SPECS / "pricing.pref", work / "pricing.pref")
    done = prefc(
        "simulate",
        "pricing.pref",
        "--agent",
        "theory:economicus",
        "--agent",
        "theory:moralis(kappa=0.5)",
        "-o",
        "sim",
        "--rounds",
        "12",
        "--json",
        cwd=work,
    )
    lines = progress_lines(done.stderr, "simulate theory:economicus vs theory:moralis(kappa=0.5)")
    assert lines[-1]["done"] == "12" and "round 12:" in lines[-1]["rest"]
    summary = SimulationSummary.model_validate_json(done.stdout)
    assert summary.rounds == 12 and done.stdout == (work / "sim/simulation.json").read_text()
    table = prefc(
        "simulate",
        "pricing.pref",
        "--agent",
        "theory:economicus",
        "--agent",
        "theory:moralis(kappa=0.5)",
        "-o",
        "sim2",
        "--rounds",
        "12",
        cwd=work,
    ).stdout
    assert "benchmark" in table and not re.search(r"\S…", table)  # the last column is whole
    assert "theory:moralis(kappa=0.5)" in table
    assert max(len(line) for line in table.splitlines() if BOX.search(line)) <= 100


def test_diff_tables_fit_a_fixed_width_in_a_pipe(work: Path) -> None:
    data = json.loads(
        prefc("diff", "mini.pref", "--preference", "economicus", "--preference", "moralis", "--json", cwd=work).stdout
    )
    for columns, width in ((None, 100), ("132", 132)):
        out = prefc(
            "diff",
            "mini.pref",
            "--preference",
            "economicus",
            "--preference",
            "moralis",
            cwd=work,
            env={"COLUMNS": columns} if columns else None,
        ).stdout
        lines = [line for line in out.splitlines() if BOX.search(line)]
        assert max(len(line) for line in lines) <= width
        assert any(len(line) > 80 for line in lines), "the width is used, not rich's 80 columns"
        for entry in data["games"]:
            assert any(f"│ {entry['game']} " in line for line in lines), f"`{entry['game']}` is cut"
        assert not re.search(r"\S…\s*│", out), "a cell cut short (rich ends it with an ellipsis)"


def test_show_and_report_json(compiled, work: Path) -> None:
    shown = json.loads(prefc("show", "mini.pref", "--json", cwd=work).stdout)
    assert shown["spec"] == "mini" and [g["name"] for g in shown["games"]] == ["prisoners_dilemma", "dictator"]
    assert {b["name"] for b in shown["builds"]} == {"sft", "eval"}
    assert shown["sha256"] == json.loads((work / "build/mini/manifest.json").read_text())["spec_sha256"]
    prefc("eval", "build/mini/eval.jsonl", "--agent", "theory:economicus", "-o", "ev5", cwd=work)
    reported = json.loads(prefc("report", "ev5", "build/mini", "-o", "r.html", "--json", cwd=work).stdout)
    assert reported["report"] == "r.html" and (work / "r.html").stat().st_size == reported["bytes"]
    assert [i["kind"] for i in reported["inputs"]] == ["eval", "build"]


def test_train_shows_prefc_progress_and_no_third_party_output(compiled, work: Path, tiny_model_dir: Path) -> None:
    done = prefc(
        "train",
        "build/mini/sft",
        "-o",
        "ad",
        "--model",
        str(tiny_model_dir),
        "--preference",
        "economicus",
        "--max-steps",
        "3",
        "--json",
        cwd=work,
    )
    check_progress(done.stderr, "train economicus", 3, "steps")
    others = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("prefc: ")]
    assert not others, "only prefc's progress lines on stderr:\n" + "\n".join(others)
    record = TrainRecord.model_validate_json(done.stdout)
    assert record.steps == 3 and json.loads(done.stdout) == json.loads((work / "ad/prefc_train.json").read_text())


def test_quiet_third_party_keeps_prefc_warnings_and_restores_the_libraries() -> None:
    import warnings

    from transformers.utils import logging as tlog

    from prefc.runtime.quiet import quiet_third_party

    before = tlog.get_verbosity()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_third_party():
            warnings.warn_explicit("library noise", FutureWarning, "x.py", 1, module="transformers.modeling_utils")
            warnings.warn_explicit("trl noise", UserWarning, "y.py", 1, module="trl.trainer")
            warnings.warn("prefc: prompt-prefix caching turned off", UserWarning, stacklevel=1)
            assert not tlog.is_progress_bar_enabled()
    assert [str(w.message) for w in seen] == ["prefc: prompt-prefix caching turned off"]
    assert tlog.get_verbosity() == before and tlog.is_progress_bar_enabled()


@pytest.mark.slow
def test_run_json_is_the_run_record(work: Path, tiny_model_dir: Path) -> None:
    done = prefc(
        "run",
        "mini.pref",
        "-o",
        "runs",
        "--model",
        str(tiny_model_dir),
        "--max-steps",
        "2",
        "--eval-items",
        "4",
        "--max-new-tokens",
        "4",
        "--threads",
        "1",
        "--json",
        cwd=work,
    )
    record = RunRecord.model_validate_json(done.stdout)
    assert done.stdout == (work / "runs/mini/run.json").read_text()
    assert [a.label for a in record.agents][0] == "base"
    progress_lines(done.stderr, "train economicus")
    assert not any(word in done.stderr for word in THIRD_PARTY), done.stderr
