"""The front end: goldens for every diagnostic code, round trips of the spec library, robustness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prefc.cli import main
from prefc.compiler import pretty
from prefc.compiler.check import check_file
from prefc.compiler.diagnostics import CODES, CompileError
from prefc.compiler.parse import parse_text

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SPECS = sorted((ROOT / "specs").glob("*.pref"))
GOLDEN_CASES = sorted(p for p in GOLDEN.iterdir() if p.is_dir())


def run_check(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=[c.name for c in GOLDEN_CASES])
def test_golden_diagnostic(case: Path, capsys, monkeypatch):
    monkeypatch.chdir(case)
    code, _, err = run_check(capsys, "main.pref")
    assert err == (case / "expected.txt").read_text()
    expected_code = case.name.split("-")[0]
    assert f"[{expected_code}]" in err
    assert code == (0 if expected_code.startswith("W") else 1)


def test_every_code_has_a_golden_or_a_generated_case():
    # E0105 needs a file name that is not `main.pref`, E0501 a compile, E0601 a solve:
    # tests/compiler/test_hostile.py runs their documented examples
    covered = {c.name.split("-")[0] for c in GOLDEN_CASES} | {"E0004", "E0005", "E0007", "E0105", "E0501", "E0601"}
    assert covered == set(CODES)


def test_binary_file_is_rejected(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bin.pref").write_bytes(b"game \xff\xfe\x00\x01 {")
    code, _, err = run_check(capsys, "bin.pref")
    assert code == 1
    assert err.startswith("error[E0004]: `bin.pref` is not UTF-8 text (invalid byte at offset 5)")


def test_nul_bytes_are_rejected(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("nul.pref").write_bytes(b"game g {\x00}")
    code, _, err = run_check(capsys, "nul.pref")
    assert code == 1 and "error[E0004]" in err and "nul.pref:1:9" in err


def test_huge_file_is_rejected_without_reading_it_all(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("huge.pref").write_text("# padding\n" * 300_000)
    code, _, err = run_check(capsys, "huge.pref")
    assert code == 1
    assert "error[E0005]: `huge.pref` is 1,000,001 bytes" in err


def test_unreadable_path(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("dir.pref").mkdir()
    code, _, err = run_check(capsys, "dir.pref", "missing.pref")
    assert code == 1
    assert "error[E0007]: cannot read `dir.pref`" in err
    assert "error[E0007]: cannot read `missing.pref`: No such file or directory" in err


def test_json_format(capsys, monkeypatch):
    monkeypatch.chdir(GOLDEN / "E0203-unknown-preference")
    code, out, _ = run_check(capsys, "main.pref", "--format", "json")
    assert code == 1
    diags = json.loads(out)
    err = next(d for d in diags if d["severity"] == "error")
    assert err == {
        "code": "E0203",
        "severity": "error",
        "message": "unknown preference `moralsi`",
        "file": "main.pref",
        "line": 10,
        "column": 29,
        "end_line": 10,
        "end_column": 36,
        "label": "did you mean `moralis`?",
        "hint": "preferences are declared with `preference NAME = ...` or imported with `use`",
    }
    assert any(d["code"] == "W0402" for d in diags)


def test_library_checks_clean(capsys):
    code, out, err = run_check(capsys, *map(str, SPECS))
    assert code == 0, err
    assert err == ""
    assert out.count("ok ") == len(SPECS)


def test_paper_misspelt_preference_is_located(tmp_path, capsys, monkeypatch):
    text = (ROOT / "specs" / "paper.pref").read_text()
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith("dataset sft for"))
    col = text.splitlines()[line - 1].index("moralis") + 1
    (tmp_path / "paper.pref").write_text(
        text.replace("economicus, moralis(kappa = 0.5) {", "economicus, moralsi(kappa = 0.5) {")
    )
    (tmp_path / "preferences.pref").write_text((ROOT / "specs" / "preferences.pref").read_text())
    monkeypatch.chdir(tmp_path)
    code, _, err = run_check(capsys, "paper.pref")
    assert code == 1
    assert f"paper.pref:{line}:{col}" in err
    assert "^^^^^^^ did you mean `moralis`?" in err


def test_unclosed_brace_names_the_expected_tokens(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("open.pref").write_text("game g {\n    players a, b symmetric\n    each player chooses x in [0, 1]\n")
    code, _, err = run_check(capsys, "open.pref")
    assert code == 1
    assert "error[E0003]: unexpected end of file" in err
    assert "open.pref:3:35" in err
    assert "`}`" in err and "`payoff`" in err and "__ANON" not in err and "$END" not in err


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in ("span", "settings_spans", "players_span", "path")}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_round_trip_through_the_printer(spec: Path):
    first = parse_text(spec.read_text(), str(spec))
    printed = pretty.file(first)
    second = parse_text(printed, "printed.pref")
    assert _strip(json.loads(first.model_dump_json())) == _strip(json.loads(second.model_dump_json()))
    assert pretty.file(second) == printed


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_show_mentions_every_declaration(spec: Path, capsys):
    assert main(["show", str(spec)]) == 0
    out = capsys.readouterr().out
    checked = check_file(str(spec))
    for name in [*checked.games, *checked.preferences, *checked.builds]:
        assert name in out
    for game in checked.games.values():
        for player in game.players:
            assert player in out


def test_python_in_an_expression_is_rejected_and_runs_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("evil.pref").write_text(
        "game g {\n    players a, b symmetric\n    each player chooses x in [0, 1]\n"
        "    payoff a = __import__('os').system('touch pwned')\n}\n"
    )
    code, _, err = run_check(capsys, "evil.pref")
    assert code == 1
    assert "error[E0002]: unexpected character `'`" in err
    assert not Path("pwned").exists()
    Path("evil2.pref").write_text(
        "game g {\n    players a, b symmetric\n    each player chooses x in [0, 1]\n    payoff a = __import__(os)\n}\n"
    )
    code, _, err = run_check(capsys, "evil2.pref")
    assert code == 1 and "unknown function `__import__`" in err
    assert sorted(p.name for p in Path(".").iterdir()) == ["evil.pref", "evil2.pref"]


def test_long_operator_chain_is_a_diagnostic(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    chain = " + ".join(["a.x"] * 60_000)
    Path("long.pref").write_text(
        f"game g {{\n    players a, b symmetric\n    each player chooses x in [0, 1]\n    payoff a = {chain}\n}}\n"
    )
    code, _, err = run_check(capsys, "long.pref")
    assert code in (0, 1)
    if code == 1:
        assert "E0006" in err or "E0005" in err


def test_check_file_returns_structure():
    spec = check_file(str(ROOT / "specs" / "paper.pref"))
    pd = spec.games["prisoners_dilemma"]
    assert pd.ast.symmetric and pd.kantian_mode == "substitute"
    assert spec.games["trust"].kantian_mode == "roles" and spec.games["trust"].is_sequential
    assert [p.label for p in spec.builds["eval"].preferences] == [
        "economicus",
        "moralis(kappa=0.25)",
        "moralis(kappa=0.5)",
        "moralis(kappa=0.75)",
    ]
    with pytest.raises(CompileError):
        check_file(str(GOLDEN / "E0301-missing-payoff" / "main.pref"))
