"""``prefc export lm-eval RUBRIC -o DIR``: a rubric as an lm-evaluation-harness task.

The directory holds three files::

    <task>.yaml     the task: generate_until, the system message as the description, the user
                    message as the prompt, process_results and metrics from utils.py
    utils.py        load_docs (the task's custom_dataset: docs.jsonl next to it), process_results
                    (the answer parsed and scored against every preference with the rubric's
                    tolerance) and the kappa aggregation
    docs.jsonl      one document per rubric item: id, game, role, system, user, target (the first
                    preference's answer line) and the whole item as JSON text

Metrics: ``parsed`` (the parse rate), ``acc_<slug>`` for each preference (accuracy against its
targets; an unparsed answer counts as wrong, as in ``prefc eval``) and, for a rubric with a kappa
family, ``kappa`` (the maximum-likelihood estimate over every document, see
``prefc.interop.rubric.summarize``). utils.py imports ``prefc``, so lm-eval must run where prefc
is installed. The directory can be moved: it reads only its own files.

Run it with ``lm_eval --include_path DIR --tasks <task> --model ...`` (add
``--apply_chat_template`` for chat models: the system and user messages then become chat turns).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from prefc.compiler.emit.layout import preference_slug
from prefc.interop.output import ExportError, write_files
from prefc.interop.rubric import load_rubric, reference_answer

__all__ = ["export_lm_eval", "task_name"]

DOCS_FILE = "docs.jsonl"

_UTILS = '''"""lm-evaluation-harness hooks for the prefc rubric {rubric_name!r} of spec {spec!r}.

Written by `prefc export lm-eval`; it needs prefc installed where lm-eval runs.
"""

import json
from pathlib import Path

from prefc.interop.rubric import load_rubric, outcome_from_json, score_answer, summarize

HERE = Path(__file__).resolve().parent
TOLERANCE = {tolerance!r}
"""The rubric's tolerance: a number is right within TOLERANCE times its action's range."""
METRICS = {metrics!r}
"""Metric name -> the preference label it scores."""
HEADER = json.loads({header!r})
"""The rubric header (preferences, tolerance, kappa family, provenance)."""


def load_docs(**kwargs):
    """The task's documents (docs.jsonl next to this file) as a datasets.DatasetDict."""
    import datasets

    rows = [json.loads(line) for line in (HERE / "{docs}").read_text(encoding="utf-8").splitlines() if line]
    return datasets.DatasetDict({{"test": datasets.Dataset.from_list(rows)}})


def _rubric():
    from prefc.interop.rubric import Rubric

    return Rubric(path=HERE / "{docs}", header=HEADER)


def process_results(doc, results):
    """Score one generation against every preference with the rubric's tolerance."""
    item = json.loads(doc["item"])
    outcome = score_answer(item, results[0], tolerance=TOLERANCE)
    out = {{"parsed": float(outcome.ok)}}
    for metric, label in METRICS.items():
        out[metric] = float(outcome.correct.get(label, False))
    if HEADER.get("family"):
        out["kappa"] = (doc["item"], outcome.model_dump_json())
    return out


def kappa(records):
    """The kappa estimate over every document (None where the answers carry no information)."""
    items = [json.loads(item) for item, _ in records]
    outcomes = [outcome_from_json(text) for _, text in records]
    estimate = summarize(_rubric(), items, outcomes).kappa
    return float("nan") if estimate is None else estimate.estimate
'''


def task_name(header: dict[str, Any]) -> str:
    """The default task name of a rubric: ``prefc_<spec>_<rubric>``.

    Args:
        header: The rubric header.
    """
    raw = f"prefc_{header.get('spec', 'spec')}_{header.get('rubric', 'rubric')}"
    return re.sub(r"[^A-Za-z0-9_]", "_", raw)


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def export_lm_eval(
    rubric_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    task: str | None = None,
    max_gen_toks: int = 256,
) -> dict[str, Any]:
    """Write an lm-evaluation-harness task directory for a rubric.

    Args:
        rubric_path: A rubric ``.jsonl`` written by ``prefc compile``.
        out_dir: The task directory.
        task: The task name (default :func:`task_name`).
        max_gen_toks: The answer budget in tokens.

    Returns:
        ``task``, ``out_dir``, ``files``, ``docs`` (items) and ``metrics``.

    Raises:
        RubricError: The rubric cannot be read.
        ExportError: A bad task name or answer budget.
    """
    rubric = load_rubric(rubric_path)
    name = task or task_name(rubric.header)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ExportError(f"task name {name!r}: use letters, digits and _ only")
    if max_gen_toks < 1:
        raise ExportError("--max-gen-toks must be at least 1")
    metrics = {f"acc_{preference_slug(label)}": label for label in rubric.preferences}
    if len(metrics) != len(rubric.preferences):
        raise ExportError(f"preferences {rubric.preferences} need distinct metric names")
    first = rubric.preferences[0]
    docs = []
    for item in rubric.items:
        messages = {m["role"]: m["content"] for m in item["prompt"]}
        docs.append(
            json.dumps(
                {
                    "id": str(item["id"]),
                    "game": str(item["game"]),
                    "role": str(item.get("role", "")),
                    "system": messages.get("system", ""),
                    "user": messages.get("user", ""),
                    "target": reference_answer(item, first) if first in item["targets"] else "",
                    "item": json.dumps(item, ensure_ascii=False, sort_keys=True),
                },
                ensure_ascii=False,
                sort_keys=True,
            )
        )
    family = bool(rubric.family)
    yaml_lines = [
        f"# lm-evaluation-harness task for the prefc rubric {rubric.header.get('rubric')!s} of spec "
        f"{rubric.header.get('spec')!s} (sha256 {rubric.spec_sha256}), written by `prefc export lm-eval`.",
        f"task: {name}",
        "custom_dataset: !function utils.load_docs",
        "test_split: test",
        "output_type: generate_until",
        "description: system",
        "doc_to_text: user",
        "doc_to_target: target",
        'target_delimiter: "\\n"',
        "num_fewshot: 0",
        "generation_kwargs:",
        "  until: []",
        "  do_sample: false",
        "  temperature: 0.0",
        f"  max_gen_toks: {int(max_gen_toks)}",
        "process_results: !function utils.process_results",
        "metric_list:",
        "  - metric: parsed",
        "    aggregation: mean",
        "    higher_is_better: true",
    ]
    for metric, label in metrics.items():
        yaml_lines += [
            f"  - metric: {metric}  # accuracy against {label}",
            "    aggregation: mean",
            "    higher_is_better: true",
        ]
    if family:
        yaml_lines += [
            "  - metric: kappa  # an estimate, not a score",
            "    aggregation: !function utils.kappa",
            "    higher_is_better: true",
        ]
    yaml_lines += [
        "metadata:",
        "  version: 1.0",
        f"  spec: {_q(str(rubric.header.get('spec')))}",
        f"  spec_sha256: {_q(str(rubric.spec_sha256))}",
        f"  tolerance: {rubric.tolerance!r}",
    ]
    utils = _UTILS.format(
        rubric_name=str(rubric.header.get("rubric")),
        spec=str(rubric.header.get("spec")),
        tolerance=rubric.tolerance,
        metrics=metrics,
        docs=DOCS_FILE,
        header=json.dumps(rubric.header, sort_keys=True),
    )
    files = {
        f"{name}.yaml": "\n".join(yaml_lines) + "\n",
        "utils.py": utils,
        DOCS_FILE: "".join(d + "\n" for d in docs),
    }
    written = write_files(out_dir, files)
    return {
        "task": name,
        "out_dir": str(Path(out_dir)),
        "files": [str(p) for p in written],
        "docs": len(docs),
        "metrics": ["parsed", *metrics, *(["kappa"] if family else [])],
    }
