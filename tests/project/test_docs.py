"""The documentation is real: every complete example in docs/language.md checks clean, and
docs/diagnostics.md documents exactly the codes the compiler has, with their golden messages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from doc_blocks import DIAGNOSTICS, diagnostic_sections, fenced

from prefc.compiler.check import check_file
from prefc.compiler.diagnostics import CODES, CompileError

ROOT = Path(__file__).resolve().parents[2]
LANGUAGE = ROOT / "docs" / "language.md"
LIBRARY = ROOT / "specs" / "preferences.pref"
GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def complete_examples() -> list[str]:
    """The ```pref blocks that are whole files (they start with a `spec` line)."""
    return [b for b in fenced(LANGUAGE, "pref") if b.lstrip().startswith("spec ")]


EXAMPLES = complete_examples()


def example_id(body: str) -> str:
    return body.lstrip().split()[1]


def test_the_reference_has_complete_examples() -> None:
    assert len(EXAMPLES) >= 5
    names = [example_id(b) for b in EXAMPLES]
    assert len(set(names)) == len(names), "give every example its own spec name"


@pytest.mark.parametrize("body", EXAMPLES, ids=[example_id(b) for b in EXAMPLES])
def test_language_example_checks_without_errors(body: str, tmp_path: Path) -> None:
    path = tmp_path / f"{example_id(body)}.pref"
    path.write_text(body, encoding="utf-8")
    if re.search(r'^use "preferences\.pref"', body, re.M):
        shutil.copy(LIBRARY, tmp_path / "preferences.pref")
    try:
        spec = check_file(str(path))
    except CompileError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail("\n".join(f"{d.code} {d.span}: {d.message}" for d in exc.diagnostics))
    assert spec.name == example_id(body)
    assert spec.games or spec.preferences


def test_language_examples_cover_the_grammar() -> None:
    """Every statement form of the grammar appears in at least one checked example."""
    text = "\n".join(EXAMPLES)
    for needle in [
        "use ",
        "preference ",
        "game ",
        "players ",
        "symmetric",
        "param ",
        " in [",
        " vary {",
        " vary 2..8",
        "each ",
        "then ",
        " sees ",
        " chooses ",
        "payoff ",
        "let ",
        "repeat ",
        "kantian roles",
        "belief ",
        "solve ",
        "table(",
        " where ",
        "mean(j in others",
        "dataset ",
        "rubric ",
        "games ",
        "samples ",
        "items ",
        "seed ",
        "split ",
        "template ",
        "paraphrases ",
        "tolerance ",
        "holdout games",
        "holdout where",
        "holdout paraphrases",
        "select ",
        "history ",
    ]:
        assert needle in text, needle


def test_every_code_has_a_section_and_every_section_a_code() -> None:
    sections = diagnostic_sections()
    assert set(sections) == set(CODES)
    for code, (_, title) in CODES.items():
        heading = re.search(rf"^### {code}\b(.*)$", DIAGNOSTICS.read_text(encoding="utf-8"), re.M)
        assert heading and title in heading.group(1), f"{code} heading should carry its title `{title}`"


@pytest.mark.parametrize("case", sorted(p for p in GOLDEN.iterdir() if p.is_dir()), ids=lambda p: p.name)
def test_diagnostic_examples_are_the_golden_messages(case: Path) -> None:
    """Each code's example shows the compiler's exact message for its golden case."""
    code = case.name.split("-")[0]
    section = diagnostic_sections()[code]
    expected = (case / "expected.txt").read_text(encoding="utf-8")
    first = next(block for block in expected.split("\n\n") if f"[{code}]" in block.split("\n")[0])
    assert first in section
    assert (case / "main.pref").read_text(encoding="utf-8").strip() in section


@pytest.mark.parametrize(
    "code, name, data",
    [
        ("E0004", "latin1.pref", b"spec s\ngame g \xff {\n"),
        ("E0005", "huge.pref", b"# padding\n" * 300_000),
        ("E0007", "missing.pref", None),
    ],
)
def test_generated_diagnostic_examples_are_real(
    code: str,
    name: str,
    data: bytes | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    """The codes without a golden directory show the message `prefc check` really prints."""
    from prefc.cli import main

    monkeypatch.chdir(tmp_path)
    if data is not None:
        (tmp_path / name).write_bytes(data)
    assert main(["check", name]) == 1
    err = capsys.readouterr().err.rstrip("\n")
    blocks = [b.rstrip("\n") for b in fenced(DIAGNOSTICS, "text")]
    assert err in blocks, f"docs/diagnostics.md should show, for {code}:\n{err}"
    assert err in diagnostic_sections()[code]
