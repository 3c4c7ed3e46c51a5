"""The Inspect AI integration: `prefc/rubric` found through prefc's entry point, run by Inspect with
its own mock model and, from Inspect's command line, with an OpenAI-compatible model served by
`prefc serve` on loopback."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prefc.cli import main

try:
    from interop_fixtures import theory_agent, theory_answers, write_spec
except ImportError:  # tests/ is a package: import it by path
    from tests.interop_fixtures import theory_agent, theory_answers, write_spec

inspect_ai = pytest.importorskip("inspect_ai")


@pytest.fixture(scope="module")
def rubric_path(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("inspect")
    assert main(["compile", str(write_spec(tmp / "spec")), "-o", str(tmp / "out"), "--quiet"]) == 0
    return tmp / "out" / "small" / "eval.jsonl"


def prefc_numbers(rubric_path: Path, preference: str):
    from prefc.interop.rubric import load_rubric, score_answer, summarize

    rubric = load_rubric(rubric_path)
    agent = theory_agent(rubric_path, preference)
    outcomes = [score_answer(i, agent.respond([i["prompt"]])[0], rubric=rubric) for i in rubric.items]
    return summarize(rubric, rubric.items, outcomes)


def mock_model(reply):
    """Inspect's mock model answering ``reply(user_message)`` (token usage given, so nothing is counted
    with a tokenizer that would have to be downloaded)."""
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    def output(messages, tools, tool_choice, config):
        user = next(m.text for m in reversed(messages) if m.role == "user")
        out = ModelOutput.from_content(model="mockllm", content=reply(user))
        out.usage = ModelUsage(input_tokens=len(user) // 4, output_tokens=8, total_tokens=len(user) // 4 + 8)
        return out

    return get_model("mockllm/model", custom_outputs=output)


def metrics_of(log) -> dict[str, float]:
    (score,) = log.results.scores
    return {(f"{m.group}/{m.name}" if m.group else name): m.value for name, m in score.metrics.items()}


def test_the_task_is_discovered_through_the_entry_point(tmp_path: Path):
    code = (
        "from inspect_ai._util.registry import registry_lookup; "
        "print(registry_lookup('task', 'prefc/rubric') is not None, "
        "registry_lookup('scorer', 'prefc/preferences') is not None)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.stdout.split() == ["True", "True"], done.stderr[-2000:]


def test_an_inspect_eval_with_the_mock_model_scores_every_preference(rubric_path: Path, tmp_path: Path):
    from inspect_ai import eval as inspect_eval

    from prefc.interop.inspect_task import rubric

    label = "moralis(kappa=0.75)"
    answers = theory_answers(rubric_path, label)
    (log,) = inspect_eval(
        rubric(rubric=str(rubric_path)),
        model=mock_model(answers.__getitem__),
        log_dir=str(tmp_path / "logs"),
        display="none",
    )
    assert log.status == "success", log.error
    got = metrics_of(log)
    summary = prefc_numbers(rubric_path, label)
    for score in summary.preferences:
        assert math.isclose(got[f"accuracy/{score.label}"], score.accuracy)
    assert got["accuracy/parsed"] == 1.0 and got[f"accuracy/{label}"] == 1.0
    assert got["accuracy/economicus"] < 1.0
    assert got[f"nearest_type/{label}"] == pytest.approx(summary.nearest.margin) and summary.nearest.margin > 0
    assert got["kappa/estimate"] == pytest.approx(summary.kappa.estimate)
    assert got["kappa/ci_low"] <= 0.75 <= got["kappa/ci_high"]
    sample = log.samples[0]
    assert set(sample.scores["preferences"].value) == {"economicus", "moralis(kappa=0.25)", label, "parsed"}
    # the log is a real Inspect log: it reads back for `inspect view`
    from inspect_ai.log import read_eval_log

    assert read_eval_log(log.location).results.scores[0].name.endswith("preferences")


def test_unparsed_answers_have_no_nearest_type(rubric_path: Path, tmp_path: Path):
    from inspect_ai import eval as inspect_eval

    from prefc.interop.inspect_task import rubric

    (log,) = inspect_eval(
        rubric(rubric=str(rubric_path)),
        model=mock_model(lambda user: "I would rather not say."),
        log_dir=str(tmp_path / "logs"),
        display="none",
        limit=4,
    )
    got = metrics_of(log)
    assert got["accuracy/parsed"] == 0.0 and got["nearest_type/none"] == 0.0 and math.isnan(got["kappa/estimate"])


def test_inspect_cli_runs_the_rubric_on_a_loopback_endpoint(rubric_path: Path, tmp_path: Path):
    pytest.importorskip("starlette")
    from prefc.runtime.serve import start_server

    label = "moralis(kappa=0.75)"  # the rubric tells it apart from the others (economicus ties with kappa=0.25)
    server = start_server(theory_agent(rubric_path, label), model_name="theory")
    url = server.url
    env = {**os.environ, "PREFC_BASE_URL": url, "PREFC_API_KEY": "unused", "INSPECT_LOG_DIR": str(tmp_path / "logs")}
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "inspect_ai",
                "eval",
                "prefc/rubric",
                "-T",
                f"rubric={rubric_path}",
                "--model",
                "openai-api/prefc/theory",
                "--display",
                "none",
                "--log-format",
                "json",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=240,
            cwd=tmp_path,
        )
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr[-3000:]
    (log_file,) = (tmp_path / "logs").glob("*.json")
    log = json.loads(log_file.read_text())
    metrics = {
        (m.get("group") or "") + "/" + m["name"]: m["value"] for m in log["results"]["scores"][0]["metrics"].values()
    }
    assert metrics[f"accuracy/{label}"] == 1.0 and metrics["accuracy/parsed"] == 1.0
    summary = prefc_numbers(rubric_path, label)
    assert summary.nearest is not None and summary.nearest.label == label
    assert metrics[f"nearest_type/{label}"] == pytest.approx(summary.nearest.margin)
