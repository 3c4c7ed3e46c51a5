"""`prefc export lm-eval`: the task loads in lm-evaluation-harness's TaskManager and a real
`simple_evaluate` run (lm-eval's chat-completions client against `prefc serve` on loopback) reports
prefc's own numbers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from prefc.cli import main

try:
    from interop_fixtures import theory_agent, write_spec
except ImportError:  # tests/ is a package: import it by path
    from tests.interop_fixtures import theory_agent, write_spec

lm_eval = pytest.importorskip("lm_eval")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("lmeval")
    assert main(["compile", str(write_spec(tmp / "spec")), "-o", str(tmp / "out"), "--quiet"]) == 0
    rubric = tmp / "out" / "small" / "eval.jsonl"
    assert main(["export", "lm-eval", str(rubric), "-o", str(tmp / "task")]) == 0
    return rubric, tmp / "task"


def test_task_manager_loads_the_task_with_every_item(exported):
    from lm_eval.tasks import TaskManager, get_task_dict

    rubric, task_dir = exported
    manager = TaskManager(include_path=str(task_dir))
    assert "prefc_small_eval" in manager.all_tasks
    task = get_task_dict(["prefc_small_eval"], manager)["prefc_small_eval"]
    docs = list(task.eval_docs)
    items = [json.loads(line) for line in rubric.read_text().splitlines()]
    assert [d["id"] for d in docs] == [i["id"] for i in items]
    context = task.fewshot_context(docs[0], 0)
    assert items[0]["prompt"][0]["content"] in context and items[0]["prompt"][1]["content"] in context
    assert task.OUTPUT_TYPE == "generate_until"


def test_process_results_scores_with_the_rubric_tolerance(exported):
    import importlib.util

    rubric, task_dir = exported
    spec = importlib.util.spec_from_file_location("prefc_lm_eval_utils", task_dir / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    assert utils.TOLERANCE == 0.05
    docs = [json.loads(line) for line in (task_dir / "docs.jsonl").read_text().splitlines()]
    dictator = next(d for d in docs if d["game"] == "dictator")
    item = json.loads(dictator["item"])
    hi = item["schema"]["give"]["max"] - item["schema"]["give"]["min"]
    target = item["targets"]["economicus"]["give"]
    inside = utils.process_results(dictator, [f'ANSWER: {{"give": {target + 0.049 * hi}}}'])
    outside = utils.process_results(dictator, [f'ANSWER: {{"give": {target + 0.051 * hi}}}'])
    assert inside["acc_economicus"] == 1.0 and outside["acc_economicus"] == 0.0
    assert utils.process_results(dictator, ["no answer here"])["parsed"] == 0.0


def test_simple_evaluate_against_prefc_serve_reports_prefcs_numbers(exported, tmp_path: Path):
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    from prefc.interop.rubric import load_rubric, score_answer, summarize

    pytest.importorskip("starlette")
    from prefc.runtime.serve import start_server

    rubric_path, task_dir = exported
    label = "moralis(kappa=0.75)"
    agent = theory_agent(rubric_path, label)
    server = start_server(agent, model_name="theory")
    url = server.url
    try:
        results = simple_evaluate(
            model="local-chat-completions",
            model_args=f"model=theory,base_url={url}/chat/completions,num_concurrent=1,max_retries=1,"
            "tokenized_requests=False",
            tasks=["prefc_small_eval"],
            task_manager=TaskManager(include_path=str(task_dir)),
            apply_chat_template=True,
            limit=None,
            bootstrap_iters=0,
        )
    finally:
        server.stop()
    got = results["results"]["prefc_small_eval"]
    # the same answers scored by prefc itself
    rubric = load_rubric(rubric_path)
    outcomes = [score_answer(i, agent.respond([i["prompt"]])[0], rubric=rubric) for i in rubric.items]
    summary = summarize(rubric, rubric.items, outcomes)
    assert got["parsed,none"] == 1.0
    assert got["acc_moralis_kappa0.75,none"] == 1.0
    for score in summary.preferences:
        metric = "acc_" + score.label.replace("(", "_").replace(")", "").replace("=", "") + ",none"
        assert math.isclose(got[metric], score.accuracy)
    assert summary.preferences[0].accuracy < 1.0  # the rubric tells the types apart
    assert math.isclose(got["kappa,none"], summary.kappa.estimate)
    assert summary.kappa.ci_low <= 0.75 <= summary.kappa.ci_high
