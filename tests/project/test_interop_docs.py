"""docs/interop.md is real: its command lines parse with prefc's own parser, its config file is a
valid training config, its scoring snippet runs, and every export target is documented."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from prefc.cli import build_parser, main
from prefc.commands.export import TARGETS
from prefc.runtime.train_config import TrainConfig, load_config_file

try:
    from interop_fixtures import write_spec
except ImportError:  # tests/ is a package: import it by path
    from tests.interop_fixtures import write_spec

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "interop.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(lang: str) -> list[str]:
    return [body for tag, body in FENCE.findall(DOC.read_text(encoding="utf-8")) if tag == lang]


def prefc_commands() -> list[list[str]]:
    out = []
    for body in blocks("bash"):
        text = re.sub(r"\\\n\s*", " ", body)
        for line in text.splitlines():
            line = re.sub(r'"\$\(.*\)"', "AGENT", line.split(" #")[0]).strip()
            if ".venv/bin/prefc " in line:
                out.append(shlex.split(line.split(".venv/bin/prefc ", 1)[1].rstrip("&").strip()))
    return out


COMMANDS = prefc_commands()


def test_the_page_has_commands_for_every_target():
    used = {c[1] for c in COMMANDS if c[0] == "export"}
    assert set(TARGETS) <= used
    assert {"compile", "train", "import", "eval", "serve"} <= {c[0] for c in COMMANDS}


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_every_command_line_parses(argv: list[str]):
    args = build_parser().parse_args(argv)
    assert callable(args.func)


def test_the_config_file_is_a_valid_training_config(tmp_path: Path):
    (config,) = [b for b in blocks("toml")]
    (tmp_path / "moralis.toml").write_text(config)
    loaded = load_config_file(tmp_path / "moralis.toml")
    assert TrainConfig(**loaded.options).report_to == ["tensorboard"]
    assert loaded.run == {"dataset": "build/paper/sft", "out": "adapters/moralis"}


def test_the_scoring_snippet_runs(tmp_path: Path, capsys):
    assert main(["compile", str(write_spec(tmp_path / "spec")), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    capsys.readouterr()
    (snippet,) = [b for b in blocks("python") if "prefc.interop.rubric" in b]
    code = snippet.replace("build/paper/eval.jsonl", str(tmp_path / "out" / "small" / "eval.jsonl"))
    exec(compile(code, str(DOC), "exec"), {})  # noqa: S102 - the page's own snippet
    nearest, kappa = capsys.readouterr().out.split()
    assert nearest == "moralis(kappa=0.75)" and 0.5 < float(kappa) <= 1


def test_the_page_is_linked_from_the_readme_and_the_artefacts_page():
    assert "docs/interop.md" in (ROOT / "README.md").read_text()
    assert "interop.md" in (ROOT / "docs" / "artefacts.md").read_text()
