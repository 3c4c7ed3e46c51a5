"""The commands docs/runtime.md gives for evaluating against a vLLM server are real: prefc's lines
parse with prefc's own argument parser, the agent spec builds the `openai:` agent it describes, and
the server's model and port are the ones the agent talks to."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from prefc.cli import build_parser
from prefc.runtime.agents import make_agent

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "docs" / "runtime.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def commands(body: str) -> list[list[str]]:
    """The block's command lines (continuations joined, comments dropped), each split as a shell would."""
    text = body.replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in text.splitlines() if line.strip()]


def vllm_block() -> list[list[str]]:
    (body,) = [b for _, b in FENCE.findall(RUNTIME.read_text(encoding="utf-8")) if "vllm serve" in b]
    return commands(body)


def test_the_vllm_commands_are_real() -> None:
    lines = vllm_block()
    serve = next(c for c in lines if c[:2] == ["vllm", "serve"])
    assert len(serve) == 5 and serve[3] == "--port", serve  # vllm serve MODEL --port PORT
    model, port = serve[2], int(serve[4])
    parser = build_parser()
    prefc = [c for c in lines if c[0] == "prefc"]
    assert [c[1] for c in prefc] == ["compile", "eval"]
    for argv in prefc:
        parser.parse_args(argv[1:])  # exits (SystemExit) on a flag prefc does not have
    args = parser.parse_args(prefc[-1][1:])
    assert args.rubric == "build/paper/eval.jsonl"
    agent = make_agent(args.agent)
    assert agent.model == model
    assert urlsplit(agent.base_url).port == port
    assert agent.concurrency == 32 and agent.timeout == 120


def test_the_accelerate_command_is_real() -> None:
    """``accelerate launch ... -m prefc.cli train ...``: prefc's part parses, and the launch asks for
    the two data-parallel processes the text describes."""
    (body,) = [b for _, b in FENCE.findall(RUNTIME.read_text(encoding="utf-8")) if "accelerate launch" in b]
    (argv,) = commands(body)
    assert argv[:2] == ["accelerate", "launch"]
    cut = argv.index("-m")
    launch, prefc = argv[2:cut], argv[cut + 2 :]
    assert argv[cut + 1] == "prefc.cli"
    assert "--multi_gpu" in launch and launch[launch.index("--num_processes") + 1] == "2"
    args = build_parser().parse_args(prefc)
    assert args.command == "train" and args.batch_size == 4
    launcher = pytest.importorskip("accelerate.commands.launch")
    parsed = launcher.launch_command_parser().parse_args(argv[2:])  # accelerate's own flags
    assert parsed.multi_gpu and parsed.num_processes == 2 and parsed.module
    assert parsed.training_script == "prefc.cli" and parsed.training_script_args == prefc
