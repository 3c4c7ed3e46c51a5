"""The Python API: what ``help(prefc)`` shows, typed errors instead of bare KeyErrors, spec text."""

from __future__ import annotations

import contextlib
import io
import json
import pydoc
from pathlib import Path

import pytest

import prefc
from prefc.cli import main

SPECS = Path(__file__).resolve().parents[2] / "specs"
PAPER = str(SPECS / "paper.pref")


def test_help_lists_every_public_name_with_its_documentation() -> None:
    text = pydoc.render_doc(prefc, renderer=pydoc.plaintext)
    for name in (n for n in prefc.__all__ if n != "__version__"):  # pydoc shows the version as VERSION
        assert name in dir(prefc)
        assert name in text, name
        value = getattr(prefc, name)
        if callable(value):
            assert (value.__doc__ or "").strip(), f"prefc.{name} has no docstring"
    # the functions' own docstrings are shown, not only their names
    assert "Load and check a spec: a ``.pref`` file, or the text of one." in text
    assert "Run an agent on a rubric and score it" in text


def test_every_error_is_a_prefc_error() -> None:
    for name in (
        "SpecError",
        "UsageError",
        "CompileError",
        "SelectionError",
        "UnknownGame",
        "UnknownPreference",
        "UnknownBlock",
        "WorkTooLarge",
    ):
        assert issubclass(getattr(prefc, name), prefc.PrefcError), name
    assert not issubclass(prefc.UnknownGame, KeyError)


@pytest.fixture(scope="module")
def spec() -> prefc.Spec:
    return prefc.load(PAPER)


def test_unknown_names_raise_typed_errors(spec: prefc.Spec) -> None:
    with pytest.raises(prefc.UnknownGame) as game:
        spec.explain("prisoners_dilema", "moralis")
    assert "did you mean `prisoners_dilemma`?" in str(game.value) and game.value.name == "prisoners_dilema"
    with pytest.raises(prefc.UnknownGame):
        spec.solve("nope")
    with pytest.raises(prefc.UnknownPreference) as pref:
        spec.explain("prisoners_dilemma", "moralsi")
    assert "did you mean `moralis`?" in str(pref.value)
    with pytest.raises(prefc.SelectionError, match="outside its domain"):
        spec.solve("public_goods", "moralis(kappa=2)")
    with pytest.raises(prefc.SelectionError, match="no parameter `q`"):
        spec.solve("public_goods", "moralis(kappa=0.6)", q=4)


def test_explain_takes_an_application_as_the_command_line_does(spec: prefc.Spec) -> None:
    exp = spec.explain("prisoners_dilemma", "moralis(kappa=0.5)")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert (
            main(["explain", PAPER, "--game", "prisoners_dilemma", "--preference", "moralis(kappa=0.5)", "--json"]) == 0
        )
    assert exp.to_json() == json.loads(out.getvalue())
    symbolic = spec.explain("prisoners_dilemma", "moralis")
    assert symbolic.to_json() != exp.to_json()


def test_solve_takes_parameters_as_numbers_or_fractions(spec: prefc.Spec) -> None:
    a = spec.solve("public_goods", "moralis(kappa=0.6)", n=4)
    b = spec.solve("public_goods", "moralis(kappa=0.6)", n="4")
    assert a.model_dump() == b.model_dump() and a.params["n"] == 4


def test_load_takes_spec_text(tmp_path: Path) -> None:
    text = (SPECS / "paper.pref").read_text(encoding="utf-8")
    from_text = prefc.load(text)
    from_file = prefc.load(PAPER)
    assert from_text.name == from_file.name == "paper"
    assert from_text.checked.sha256 == from_file.checked.sha256
    assert from_text.games == from_file.games
    with pytest.raises(prefc.CompileError) as bad:
        prefc.load('spec broken\nuse "preferences.pref"\ngame g "G" {\n')
    assert bad.value.diagnostics


def test_build_blocks_raise_unknown_block(tmp_path: Path) -> None:
    (tmp_path / "mini").mkdir()
    (tmp_path / "mini" / "sft").mkdir()
    (tmp_path / "mini" / "sft" / "train.jsonl").write_text("")
    build = prefc.Build(tmp_path / "mini")
    assert build.dataset("sft") == tmp_path / "mini" / "sft"
    with pytest.raises(prefc.UnknownBlock, match=r"unknown dataset `sfx`.*did you mean `sft`"):
        build.dataset("sfx")
    with pytest.raises(prefc.UnknownBlock, match="there is no rubric"):
        build.rubric("eval")
