"""`prefc train --backend openai` against a loopback server implementing the documented endpoints
(files, fine-tuning jobs, events, chat) and their error cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prefc.cli import main

pytest.importorskip("openai")

try:
    from fake_openai import FakeOpenAI
    from interop_fixtures import theory_answers, write_spec
except ImportError:  # tests/ is a package: import it by path
    from tests.fake_openai import FakeOpenAI
    from tests.interop_fixtures import theory_answers, write_spec

KEY = "sk-test-not-a-real-key-1234"


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("hosted")
    assert main(["compile", str(write_spec(tmp / "spec")), "-o", str(tmp / "out"), "--quiet"]) == 0
    return tmp / "out" / "small"


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("PREFC_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def train(build: Path, out: Path, server: FakeOpenAI, *extra: str) -> int:
    return main(
        [
            "train",
            str(build / "sft"),
            "-o",
            str(out),
            "--backend",
            "openai",
            "--preference",
            "moralis(kappa=0.5)",
            "--base-url",
            server.base_url,
            "--poll-interval",
            "0.01",
            *extra,
        ]
    )


def test_a_hosted_job_runs_to_a_model_that_prefc_eval_evaluates(build: Path, tmp_path: Path, capsys):
    answers = theory_answers(build / "eval.jsonl", "moralis(kappa=0.75)")
    with FakeOpenAI(api_key=KEY, reply=lambda user: answers.get(user, "?")) as server:
        out = tmp_path / "run"
        assert train(build, out, server, "--epochs", "2", "--seed", "4", "--json") == 0
        captured = capsys.readouterr()
        record = json.loads(captured.out)
        assert record == json.loads((out / "prefc_openai.json").read_text())
        assert record["status"] == "succeeded" and record["fine_tuned_model"].startswith("ft:gpt-4o-mini")
        assert record["agent"] == f"openai:{server.base_url}?model={record['fine_tuned_model']}"
        assert record["preference"] == "moralis(kappa=0.5)" and record["spec"] == "small"
        # progress lines on stderr, from the job's status and events; the key is never printed
        assert "job ftjob-" in captured.err and "Step 3/3" in captured.err and KEY not in captured.err + captured.out
        # the uploaded files are exactly the preference's OpenAI files, and the job got them and the options
        assert (
            main(
                [
                    "export",
                    "openai",
                    str(build / "sft"),
                    "-o",
                    str(tmp_path / "exp"),
                    "--preference",
                    "moralis(kappa=0.5)",
                ]
            )
            == 0
        )
        job = server.jobs[record["job_id"]]
        assert (
            server.files[job["training_file"]]["data"]
            == (tmp_path / "exp" / "moralis_kappa0.5.train.jsonl").read_bytes()
        )
        assert (
            server.files[job["validation_file"]]["data"]
            == (tmp_path / "exp" / "moralis_kappa0.5.val.jsonl").read_bytes()
        )
        assert job["hyperparameters"]["n_epochs"] == 2 and job["seed"] == 4
        # the recorded agent evaluates the fine-tuned model on the rubric
        assert main(["eval", str(build / "eval.jsonl"), "--agent", record["agent"], "-o", str(tmp_path / "res")]) == 0
    summary = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert summary["parse_rate"] == 1.0
    assert {p["label"]: p["accuracy"] for p in summary["preferences"]}["moralis(kappa=0.75)"] == 1.0


def test_a_file_the_service_rejects_fails_the_job_with_its_reason(build: Path, tmp_path: Path, capsys):
    with FakeOpenAI(api_key=KEY, min_examples=10_000) as server:
        assert train(build, tmp_path / "run", server) == 1
    err = capsys.readouterr().err
    assert "failed: The job failed due to an invalid training file" in err and "[invalid_training_file]" in err
    record = json.loads((tmp_path / "run" / "prefc_openai.json").read_text())
    assert record["status"] == "failed" and record["error"]["code"] == "invalid_training_file"
    assert record["fine_tuned_model"] is None and "Traceback" not in err


def test_a_file_that_breaks_the_published_rules_is_not_uploaded(tmp_path: Path, capsys):
    data = tmp_path / "sft"
    data.mkdir()
    row = {
        "messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}],
        "meta": {"preference": "economicus"},
    }
    (data / "train.jsonl").write_text((json.dumps(row) + "\n") * 3)
    with FakeOpenAI(api_key=KEY) as server:
        assert (
            main(
                ["train", str(data), "-o", str(tmp_path / "run"), "--backend", "openai", "--base-url", server.base_url]
            )
            == 1
        )
        assert not any(path == "/v1/files" for _, path in server.requests)
    assert "too_few_examples" in capsys.readouterr().err


def test_a_model_the_service_cannot_fine_tune_is_a_clear_error(build: Path, tmp_path: Path, capsys):
    with FakeOpenAI(api_key=KEY) as server:
        assert train(build, tmp_path / "run", server, "--model", "gpt-9") == 1
    assert "HTTP 400: Model gpt-9 is not available for fine-tuning" in capsys.readouterr().err


def test_a_failed_job_is_reported_with_its_error(build: Path, tmp_path: Path, capsys):
    with FakeOpenAI(api_key=KEY, behaviour="fail") as server:
        assert train(build, tmp_path / "run", server) == 1
    err = capsys.readouterr().err
    assert "failed: The job failed due to an internal error. [server_error]" in err


def test_a_timeout_keeps_the_job_and_resume_follows_it(build: Path, tmp_path: Path, capsys):
    with FakeOpenAI(api_key=KEY, behaviour="stall") as server:
        out = tmp_path / "run"
        assert train(build, out, server, "--timeout", "0.3") == 1
        err = capsys.readouterr().err
        assert "is still running after" in err and "--resume" in err
        record = json.loads((out / "prefc_openai.json").read_text())
        uploads = sum(1 for method, path in server.requests if path == "/v1/files")
        server.behaviour = "ok"
        assert train(build, out, server, "--resume") == 0
        assert sum(1 for method, path in server.requests if path == "/v1/files") == uploads  # nothing new uploaded
        assert json.loads((out / "prefc_openai.json").read_text())["job_id"] == record["job_id"]
    assert "fine-tuned model ft:" in capsys.readouterr().out


def test_a_wrong_key_and_a_missing_key_are_errors_that_never_show_the_key(
    build: Path, tmp_path: Path, capsys, monkeypatch
):
    with FakeOpenAI(api_key="sk-the-right-one") as server:
        assert train(build, tmp_path / "run", server) == 1
        err = capsys.readouterr().err
        assert "HTTP 401: Incorrect API key provided." in err and KEY not in err
        monkeypatch.delenv("PREFC_API_KEY")
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        assert train(build, tmp_path / "run2", server) == 1
        assert "no API key" in capsys.readouterr().err


def test_options_of_local_training_are_refused(build: Path, tmp_path: Path, capsys):
    with FakeOpenAI(api_key=KEY) as server:
        assert train(build, tmp_path / "run", server, "--lora-r", "4") == 1
        assert not server.requests
    assert "lora_r: not options of hosted fine-tuning" in capsys.readouterr().err


def test_an_unreachable_endpoint_is_a_clear_error(build: Path, tmp_path: Path, capsys):
    server = FakeOpenAI(api_key=KEY)
    url = server.base_url
    server.server_close()  # nothing listens there any more
    assert (
        main(
            [
                "train",
                str(build / "sft"),
                "-o",
                str(tmp_path / "run"),
                "--backend",
                "openai",
                "--preference",
                "economicus",
                "--base-url",
                url,
            ]
        )
        == 1
    )
    assert "cannot reach the API" in capsys.readouterr().err
