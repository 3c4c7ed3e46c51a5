"""`prefc new` (a starter that checks and compiles, never over anything) and `prefc completion`
(the bash script run by a real bash; zsh and fish scripts checked by those shells where installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from prefc.cli import build_parser, main
from prefc.compiler.format import format_text
from prefc.completion import commands, script
from prefc.starter import StarterError, create_starter, spec_name, starter_text

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent  # where the `prefc` script of this environment lives


def prefc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "prefc", *args], cwd=cwd, capture_output=True, text=True)


# ----------------------------------------------------------------------------- new


def test_new_writes_a_starter_that_checks_and_compiles(tmp_path: Path) -> None:
    made = prefc("new", "my-study", "--json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    record = json.loads(made.stdout)
    spec = tmp_path / record["spec"]
    assert spec == tmp_path / "my-study" / "my_study.pref" and spec.is_file()
    checked = prefc("check", str(spec), cwd=tmp_path)
    assert checked.returncode == 0 and "ok" in checked.stdout, checked.stderr
    built = prefc("compile", str(spec), "-o", "build", "--quiet", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    out = tmp_path / "build" / "my_study"
    assert (out / "sft" / "train.jsonl").stat().st_size > 0 and (out / "eval.jsonl").stat().st_size > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert {b["name"] for b in manifest["blocks"]} == {"sft", "eval"}
    text = spec.read_text()
    assert 'use "preferences.pref"' in text and "dataset sft" in text and "rubric eval" in text
    assert format_text(text) == text  # the starter is laid out as `prefc fmt` would
    listed = set(record["files"])
    assert listed == {p.name for p in (tmp_path / "my-study").iterdir()}
    assert record["library_copied"] == ("preferences.pref" in listed)


def test_new_refuses_anything_that_exists(tmp_path: Path, capsys) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("keep me")
    (tmp_path / "file").write_text("keep me too")
    for name in ("taken", "file"):
        assert main(["new", str(tmp_path / name)]) == 1
        assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "taken" / "mine.txt").read_text() == "keep me"
    assert (tmp_path / "file").read_text() == "keep me too"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "taken"]  # nothing staged is left
    (tmp_path / "empty").mkdir()
    made = create_starter(tmp_path / "empty")
    assert made.spec == tmp_path / "empty" / "empty.pref" and made.spec.is_file()


def test_spec_names_from_directory_names() -> None:
    assert spec_name("my-study") == "my_study"
    assert spec_name("2024 pricing") == "spec_2024_pricing"
    with pytest.raises(StarterError):
        spec_name("--")
    assert "spec game" in starter_text("game")  # a keyword is a name where only a name can stand


def test_new_with_a_keyword_for_a_name_still_checks(tmp_path: Path) -> None:
    made = create_starter(tmp_path / "game")
    assert prefc("check", str(made.spec), cwd=tmp_path).returncode == 0


# ----------------------------------------------------------------------------- completion


def test_the_completion_model_follows_the_parser() -> None:
    cmds = {c.name: c for c in commands(build_parser())}
    assert {"check", "compile", "fmt", "new", "completion", "explain", "train"} <= set(cmds)
    explain = {f: o for o in cmds["explain"].options for f in o.flags}
    assert explain["--game"].kind == "games" and explain["--preference"].kind == "preferences"
    assert cmds["check"].positionals[0].kind == "pref" and cmds["check"].positionals[0].many
    assert {f: o for o in cmds["compile"].options for f in o.flags}["-o"].kind == "dirs"
    assert cmds["completion"].positionals[0].words == ("bash", "zsh", "fish")
    assert not any("--names" in o.flags for o in cmds["completion"].options)  # the helper stays hidden


@pytest.fixture()
def spec_dir(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "specs" / "paper.pref", tmp_path)
    shutil.copy(ROOT / "specs" / "preferences.pref", tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "notes.txt").write_text("")
    return tmp_path


DRIVER = r"""
source "$1"
shift
for line in "$@"; do
    read -ra COMP_WORDS <<< "$line"
    [[ "$line" == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    _prefc
    printf '%s\n' "${COMPREPLY[*]}"
done
complete -p prefc
"""


def bash_complete(spec_dir: Path, *lines: str) -> list[str]:
    path = spec_dir / "prefc.bash"
    path.write_text(script("bash", build_parser()))
    run = subprocess.run(
        ["bash", "-c", DRIVER, "driver", str(path), *lines],
        cwd=spec_dir,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        check=True,
    )
    out = run.stdout.splitlines()
    assert out[-1] == "complete -F _prefc prefc"
    return out[:-1]


def test_bash_completes_commands_options_files_and_names(spec_dir: Path) -> None:
    replies = bash_complete(
        spec_dir,
        "prefc ",
        "prefc ch",
        "prefc -",
        "prefc check --f",
        "prefc check --format ",
        "prefc check ",
        "prefc explain paper.pref --game ",
        "prefc explain paper.pref --game pr",
        "prefc explain --preference mor paper.pref",
        "prefc solve paper.pref --preference ",
        "prefc compile paper.pref -o ",
        "prefc completion ",
        "prefc compile --format = ",
        "prefc compile --format =",
        "prefc explain --game ",
    )
    words = [set(r.split()) for r in replies]
    assert {"check", "compile", "fmt", "new", "completion", "train"} <= words[0]
    assert words[1] == {"check"}
    assert words[2] == {"-h", "--help", "--version"}
    assert words[3] == {"--format"}
    assert words[4] == {"text", "json"}
    assert words[5] == {"paper.pref", "preferences.pref", "sub"}  # .pref files and directories
    assert words[6] == {"dictator", "ultimatum", "trust", "prisoners_dilemma", "public_goods"}
    assert words[7] == {"prisoners_dilemma"}
    assert words[8] == {"paper.pref"}  # the option's value is skipped: the cursor is on the spec
    assert {"economicus", "moralis", "moralis_log", "inequity", "altruism"} == words[9]
    assert words[10] == {"sub"}
    assert words[11] == {"bash", "zsh", "fish"}
    # `--format=` as bash splits it (`=` is a word break): after the `=`, and on it
    compile_cmd = next(c for c in commands(build_parser()) if c.name == "compile")
    formats = next(o.words for o in compile_cmd.options if "--format" in o.flags)
    assert {"trl", "messages"} <= set(formats)
    assert words[12] == words[13] == set(formats)
    assert words[14] == set()  # no spec on the line: nothing to name


def test_the_names_helper_reads_the_spec_and_fails_quietly(spec_dir: Path) -> None:
    run = prefc("completion", "--names", "preferences", "--spec", "paper.pref", cwd=spec_dir)
    assert run.stdout.split() == ["economicus", "moralis", "moralis_log", "inequity", "altruism"]
    (spec_dir / "broken.pref").write_text("game a {\n    players x\n}\ngame b { = }\n")
    run = prefc("completion", "--names", "games", "--spec", "broken.pref", cwd=spec_dir)
    assert run.returncode == 0 and run.stdout == ""
    (spec_dir / "unchecked.pref").write_text("game a {\n    players x\n}\n")
    assert prefc("completion", "--names", "games", "--spec", "unchecked.pref", cwd=spec_dir).stdout == "a\n"
    assert prefc("completion", cwd=spec_dir).returncode == 2


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_the_zsh_script_parses_and_registers(tmp_path: Path) -> None:
    path = tmp_path / "_prefc"
    path.write_text(script("zsh", build_parser()))
    subprocess.run(["zsh", "-n", str(path)], check=True)
    run = subprocess.run(
        [
            "zsh",
            "-f",
            "-c",
            f"autoload -U compinit; compinit -u -d {tmp_path}/zcd; source {path}; print -r -- $_comps[prefc]",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "_prefc"


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_commands_options_files_and_names(spec_dir: Path) -> None:
    path = spec_dir / "prefc.fish"
    path.write_text(script("fish", build_parser()))
    subprocess.run(["fish", "--no-execute", str(path)], check=True)

    def complete(line: str) -> set[str]:
        run = subprocess.run(
            ["fish", "--no-config", "-c", f"source {path}; complete -C{line!r}"],
            cwd=spec_dir,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        )
        return {row.split("\t")[0] for row in run.stdout.splitlines()}

    assert complete("prefc ch") == {"check"}
    assert complete("prefc check --format ") == {"text", "json"}
    assert complete("prefc check ") == {"paper.pref", "preferences.pref", "sub/"}
    assert complete("prefc explain paper.pref --game p") == {"prisoners_dilemma", "public_goods"}
    assert "moralis" in complete("prefc solve paper.pref --preference ")
    assert complete("prefc completion ") == {"bash", "zsh", "fish"}


def test_completion_prints_the_script(capsys) -> None:
    for shell in ("bash", "zsh", "fish"):
        assert main(["completion", shell]) == 0
        out = capsys.readouterr().out
        assert out == script(shell, build_parser()) and "prefc" in out
