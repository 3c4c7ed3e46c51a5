"""The main job (`prefc run`) and the Python API, end to end on a tiny random model.

The tiny model learns formats, not tasks, so these tests check the plumbing: every stage runs, every
artefact is where the docs say, adapters are reused when nothing changed, and the report renders.
The behaviour shift itself is measured on the embedded model by ``bench/main_job.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

import prefc
import prefc.artefacts as A
from prefc.pipeline import run_spec

try:
    from spec_blocks import DICTATOR, PRISONERS_DILEMMA
except ImportError:  # tests/ is a package: import it by path
    from tests.spec_blocks import DICTATOR, PRISONERS_DILEMMA

SPECS = Path(__file__).resolve().parents[2] / "specs"

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
    games prisoners_dilemma
    items 8   tolerance 5%
    seed 4
}
"""
)


def _run(spec_path: Path, out: Path, model_dir: Path, **options):
    """`run_spec` on the tiny model, one thread, four items of eight new tokens each."""
    return run_spec(
        str(spec_path),
        threads=1,
        out=out,
        model=str(model_dir),
        eval_items=4,
        max_new_tokens=8,
        batch_size=4,
        **options,
    )


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spec")
    shutil.copy(SPECS / "preferences.pref", root / "preferences.pref")
    (root / "mini.pref").write_text(SPEC)
    return root / "mini.pref"


def test_run_compiles_trains_evaluates_and_reports(spec_path: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = _run(spec_path, out, tiny_model_dir, max_steps=2)
    root = out / "mini"
    assert result.directory == root
    assert (root / "build" / "mini" / "manifest.json").is_file()
    assert set(result.adapters) == {"economicus", "moralis(kappa=0.5)"}
    for adapter in result.adapters.values():
        meta = json.loads((adapter / "prefc_train.json").read_text())
        assert meta["steps"] == 2 and meta["base_model"]["path"] == str(tiny_model_dir.resolve())
        assert A.read_document(adapter / "prefc_train.json", A.TrainRecord).steps == 2
    record = A.read_document(root / "run.json", A.RunRecord)
    assert record.to_text() == (root / "run.json").read_text()  # written through its model
    assert [a.evaluated for a in record.agents] == ["4 of 8 items"] * 3
    run = json.loads((root / "run.json").read_text())
    assert [a["adapter"] is None for a in run["agents"]] == [True, False, False]
    for agent, report in zip(run["agents"], result.reports, strict=True):
        summary = json.loads((Path(agent["results"]) / "summary.json").read_text())
        assert summary["n_items"] == 4 and report.summary == summary
        assert len((Path(agent["results"]) / "results.jsonl").read_text().splitlines()) == 4
        assert set(agent["accuracy"]) == {"economicus", "moralis(kappa=0.25)", "moralis(kappa=0.75)"}
    html = (root / "report.html").read_text()
    assert result.report == root / "report.html" and html.startswith("<!DOCTYPE html>")
    assert "moralis(kappa=0.5)" in html

    # a second run with the same settings reuses both adapters (their files are left untouched)
    stamps = {k: (p / "adapter_model.safetensors").stat().st_mtime_ns for k, p in result.adapters.items()}
    again = _run(spec_path, out, tiny_model_dir, max_steps=2)
    assert {k: (p / "adapter_model.safetensors").stat().st_mtime_ns for k, p in again.adapters.items()} == stamps
    assert not any(k.startswith("train") for k in again.seconds) and "eval base" in again.seconds

    # other settings train again, replacing the adapters (the old checkpoints do not get in the way)
    third = _run(spec_path, out, tiny_model_dir, max_steps=3)
    for adapter in third.adapters.values():
        assert json.loads((adapter / "prefc_train.json").read_text())["steps"] == 3
    assert sorted(p.name for p in (root / "adapters").iterdir()) == ["economicus", "moralis_kappa0.5"]
    seconds = json.loads((root / "run.json").read_text())["seconds"]
    assert set(seconds) == {
        "compile",
        "train economicus",
        "train moralis(kappa=0.5)",
        "eval base",
        "eval economicus",
        "eval moralis(kappa=0.5)",
        "report",
        "total",
    }
    assert seconds["total"] >= sum(v for k, v in seconds.items() if k != "total")


def test_python_api_loop(spec_path: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    spec = prefc.load(spec_path)
    assert spec.name == "mini"
    solution = spec.solve("prisoners_dilemma", "moralis(kappa=0.75)", T=5)
    assert solution.answer.path["row"]["move"] == "cooperate"
    build = spec.compile(tmp_path / "build")
    adapter = prefc.train(
        build.dataset("sft"), preference="economicus", model=str(tiny_model_dir), out=tmp_path / "adapter", max_steps=1
    )
    assert (adapter / "prefc_train.json").is_file()
    summary = prefc.evaluate(
        build.rubric("eval"), agent="theory:economicus", out=tmp_path / "results", progress=False, plots=False
    )
    assert summary.preferences[0].label == "economicus" and summary.preferences[0].accuracy == 1.0
    with pytest.raises(prefc.UnknownBlock, match="unknown dataset `nope`.*datasets: sft"):
        build.dataset("nope")


def test_answer_budget_covers_the_longest_training_completion(
    spec_path: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    import json

    from prefc.compiler.check import check_file
    from prefc.compiler.emit.build import compile_spec
    from prefc.runtime.budget import answer_budget
    from prefc.runtime.models import load_tokenizer

    built = compile_spec(check_file(str(spec_path)), tmp_path / "build")
    dataset = next(p for p in built.directory.iterdir() if (p / "train.jsonl").exists())
    tok = load_tokenizer(tiny_model_dir)
    lengths = [
        len(tok(json.loads(line)["completion"][0]["content"], add_special_tokens=False)["input_ids"])
        for line in (dataset / "train.jsonl").read_text().splitlines()
    ]
    budget = answer_budget(tok, dataset, floor=1)
    assert budget >= 1.25 * max(lengths) > budget - 1
    assert answer_budget(tok, dataset, floor=10_000) == 10_000


def test_run_says_how_sure_each_verdict_is(spec_path: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    """Option scoring, answer-only training, margins with bootstrap intervals in run.json and on screen."""
    import io

    from rich.console import Console

    from prefc.runtime.verdict import margin

    buffer = io.StringIO()
    result = run_spec(
        str(spec_path),
        threads=1,
        out=tmp_path / "runs",
        model=str(tiny_model_dir),
        max_steps=2,
        eval_items=6,
        batch_size=4,
        scoring="logprob",
        numeric="options",
        completion="answer",
        seed=3,
        console=Console(file=buffer, width=200),
    )
    run = json.loads((result.directory / "run.json").read_text())
    assert run["settings"]["completion"] == "answer" and run["settings"]["seed"] == 3
    assert run["settings"]["items"] == 6 and run["rubric"]["selection"]["rule"] == "all"
    for adapter in result.adapters.values():
        config = json.loads((adapter / "prefc_train.json").read_text())["config"]
        assert config["completion"] == "answer" and config["seed"] == 3
    text = buffer.getvalue()
    for agent in run["agents"]:
        records = [json.loads(line) for line in (Path(agent["results"]) / "results.jsonl").read_text().splitlines()]
        assert all(r["scoring"] == "logprob" for r in records)  # every PD item scored from its options
        v = agent["verdict"]
        assert v["nearest"] == agent["nearest"]
        if v["lead"] is not None:  # the same interval recomputed from the results
            again = margin(records, v["nearest"], v["runner_up"])
            assert v["lead"] == again.to_json()
            assert (v["lead"]["low"] > 0) == v["lead"]["distinguishable"]
            assert ("not distinguishable" in text) or v["lead"]["distinguishable"]
        if agent["adapter"] is None:
            assert v["against"] == {}
    moralis = next(a for a in run["agents"] if a["label"] == "moralis(kappa=0.5)")
    assert moralis["verdict"]["against"] == {}  # its own preference is not among the rubric's
    for agent in run["agents"]:  # every verdict on screen: a margin with its interval, or why there is none
        if agent["verdict"]["lead"] is not None:
            assert "margin" in text and "95% bootstrap interval" in text
        elif agent["verdict"]["nearest"] is None:
            assert "no nearest type (" in text


def test_development_rubric_never_asks_a_reported_or_trained_prompt(spec_path: Path, tmp_path: Path) -> None:
    from prefc.compiler.check import check_file
    from prefc.compiler.emit.build import compile_spec
    from prefc.pipeline import development_rubric

    spec = check_file(str(spec_path))
    built = compile_spec(spec, tmp_path / "build").directory
    dev = development_rubric(spec, "eval", built, seed=9, out=tmp_path / "dev")
    asked = {
        json.dumps(json.loads(line)["prompt"], sort_keys=True)
        for path in [built / "eval.jsonl", *built.glob("sft/*.jsonl")]
        for line in path.read_text().splitlines()
    }
    assert dev.items and not asked & {json.dumps(it["prompt"], sort_keys=True) for it in dev.items}
    assert dev.header["seed"] == 9 and dev.header["spec_sha256"] == spec.sha256
    assert len(dev.items) <= 3 * 8
    with pytest.raises(ValueError, match="own seed"):
        development_rubric(spec, "eval", built, seed=4, out=tmp_path / "dev4")


def test_threads_follow_the_free_cores_or_the_request() -> None:
    import os

    import torch

    from prefc.pipeline import free_cores, use_threads

    cores = len(os.sched_getaffinity(0))
    assert 1 <= free_cores() <= cores
    before = torch.get_num_threads()
    try:
        assert use_threads(1) == 1 and torch.get_num_threads() == 1
        assert os.environ["OMP_WAIT_POLICY"]  # set for the OpenMP runtime unless the user chose one
        with pytest.raises(ValueError, match="at least 1"):
            use_threads(0)
    finally:
        torch.set_num_threads(before)


def test_busy_cores_are_sampled_now_not_averaged_over_the_last_minute() -> None:
    import subprocess
    import sys

    from prefc.pipeline import _busy_cores

    if not Path("/proc/stat").exists():
        pytest.skip("no /proc/stat on this system")
    spinner = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 5\nwhile time.time() < end: pass"]
    )
    try:
        time.sleep(0.3)  # let it start spinning
        busy = _busy_cores(0.5)
    finally:
        spinner.kill()
        spinner.wait()
    assert busy is not None
    assert 0.7 <= busy <= (os.cpu_count() or 1) + 0.01  # the spinning process holds a core


TRANSFER = """spec elsewhere "A game the run never trains on"

use "preferences.pref"

game stag "Stag hunt" {
    players row, col symmetric
    param S = 4 vary {3, 4, 5}
    each player chooses move in {stag, hare}
    payoff row = if row.move == stag then (if col.move == stag then S else 0) else 3
}

rubric probe for economicus, moralis(kappa = 0.5) {
    games stag
    items 6
    seed 9
}
"""


def test_a_run_evaluates_its_agents_on_a_transfer_spec_too(
    spec_path: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    """`transfer`: the base model and both adapters also answer the first rubric of another spec,
    compiled under the run; run.json records it through its model and the report shows it."""
    other = spec_path.parent / "elsewhere.pref"
    other.write_text(TRANSFER)
    out = tmp_path / "runs"
    _run(spec_path, out, tiny_model_dir, max_steps=1, transfer=[other])
    root = out / "mini"
    record = A.read_document(root / "run.json", A.RunRecord)
    (t,) = record.transfer
    assert t.spec == "elsewhere" and t.rubric["name"] == "probe"
    assert (root / "transfer" / "elsewhere" / "build" / "elsewhere" / "probe.jsonl").is_file()
    assert [a.label for a in t.agents] == ["base", "economicus", "moralis(kappa=0.5)"]
    for agent in t.agents:
        assert set(agent.accuracy) == {"economicus", "moralis(kappa=0.5)"}
        lines = (Path(agent.results) / "results.jsonl").read_text().splitlines()
        assert len(lines) == 4 and {json.loads(line)["game"] for line in lines} == {"stag"}
        assert Path(agent.results).is_relative_to(root / "transfer" / "elsewhere" / "results")
    assert "transfer elsewhere" in record.seconds and "transfer elsewhere base" in record.seconds
    html = (root / "report.html").read_text()
    assert 'data-spec="elsewhere"' in html and "Transfer to" in html
    # the main rubric's agents are untouched by the transfer
    assert [a.evaluated for a in record.agents] == ["4 of 8 items"] * 3


def test_cli_refuses_a_transfer_spec_without_a_rubric_before_training(spec_path: Path, tmp_path: Path, capsys) -> None:
    from prefc.cli import main

    other = spec_path.parent / "norubric.pref"
    other.write_text(TRANSFER.split("rubric probe")[0])
    code = main(["run", str(spec_path), "-o", str(tmp_path / "runs"), "--transfer", str(other)])
    assert code == 1
    assert "has no rubric block" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


MARKET = """spec market "A repeated duopoly"

use "preferences.pref"

# Demand a - 2 p_i + p_j: homo economicus's Nash price is (a + 2c) / 3, homo moralis's symmetric
# price (a + (2 - kappa) c) / (3 - kappa).
game duopoly "Linear Bertrand duopoly" {
    players firm[1..2] symmetric
    param a = 10 vary {8, 10, 12}, c = 1
    each firm chooses price in [c, a]
    payoff firm[i] = (firm[i].price - c) * (a - 3 * firm[i].price + sum(firm.price))
    repeat 20 rounds
}

dataset oneshot for economicus, moralis(kappa = 0.5) {
    games duopoly
    samples 3 per preference   seed 2
    split train 0.75, val 0.25
}

dataset rounds for economicus, moralis(kappa = 0.5) {
    games duopoly
    samples 8 per preference   seed 3
    split train 0.75, val 0.25
    repeat 20 rounds history 2
}

rubric eval for economicus, moralis(kappa = 0.25, 0.75) {
    games duopoly
    items 4   tolerance 5%
    seed 4
}
"""


def test_a_run_plays_its_trained_models_in_the_repeated_market(
    spec_path: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    """`dataset` and `play`: the adapters are trained on the named dataset, then every pairing plays
    the dataset's game; run.json records each pairing with its preferences' symmetric prices (the
    closed forms above) and the report shows each pairing's simulation."""
    market = spec_path.parent / "market.pref"
    market.write_text(MARKET)
    out = tmp_path / "runs"
    _run(market, out, tiny_model_dir, max_steps=1, dataset="rounds", play=4)
    root = out / "market"
    record = A.read_document(root / "run.json", A.RunRecord)
    assert record.settings is not None and record.settings["dataset"] == "rounds"
    assert record.settings["play"] == {"game": "duopoly", "rounds": 4, "history": 2}
    for label in ("economicus", "moralis(kappa=0.5)"):
        trained = A.read_document(Path(record.adapters[label]) / "prefc_train.json", A.TrainRecord)
        assert trained.dataset == "rounds"
    assert [p.agents for p in record.pairings] == [
        ["economicus", "economicus"],
        ["moralis(kappa=0.5)", "moralis(kappa=0.5)"],
        ["economicus", "moralis(kappa=0.5)"],
    ]
    nash, moralis = 4.0, (10 + 1.5) / 2.5
    expected = {"economicus": nash, "moralis(kappa=0.5)": moralis}
    for p in record.pairings:
        assert p.rounds == 4 and p.last == 2 and p.game == "duopoly"
        assert p.benchmarks == pytest.approx([expected[a] for a in p.agents], abs=1e-6)
        summary = A.read_document(Path(p.simulation) / "simulation.json", A.SimulationSummary)
        assert summary.rounds == 4
        rounds = (Path(p.simulation) / "rounds.jsonl").read_text().splitlines()
        assert len(rounds) == 4
        last = [json.loads(line) for line in rounds[-2:]]
        assert p.mean_price == pytest.approx(sum(m["price"] for r in last for m in r["agents"]) / 4)
        assert summary.benchmarks.nash_price == pytest.approx(nash, abs=1e-6)
    assert len(record.pairing_tests) == 3
    assert {"play economicus vs economicus", "play economicus vs moralis(kappa=0.5)"} <= set(record.seconds)
    html = (root / "report.html").read_text()
    for p in record.pairings:
        assert Path(p.simulation).name in html


def test_cli_refuses_to_play_a_spec_without_a_repeated_market_before_training(
    spec_path: Path, tmp_path: Path, capsys
) -> None:
    from prefc.cli import main

    code = main(["run", str(spec_path), "-o", str(tmp_path / "runs"), "--play"])
    assert code == 1
    assert "can be played repeatedly" in capsys.readouterr().err
    code = main(["run", str(spec_path), "-o", str(tmp_path / "runs"), "--dataset", "nope"])
    assert code == 1
    assert "has no dataset `nope`" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
