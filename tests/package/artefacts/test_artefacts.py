"""Typed artefacts: every file the library specs compile to, and every file the runtime writes,
validates against its model and is written through it; readers fail with located messages; the
models' documentation is the generated part of docs/artefacts.md."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import prefc.artefacts as A
from prefc.cli import main
from prefc.compiler.check import check_file
from prefc.compiler.emit.build import compile_spec

try:
    from spec_blocks import DICTATOR
except ImportError:  # tests/ is a package: import it by path
    from tests.spec_blocks import DICTATOR

ROOT = Path(__file__).resolve().parents[3]
SPECS = ROOT / "specs"
DOCS = ROOT / "docs" / "artefacts.md"

LIBRARY: dict[str, int | None] = {p.stem: None for p in sorted(SPECS.glob("*.pref"))}
"""Every spec of the library, compiled as shipped (no sample count overrides its blocks')."""


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("library")
    return {
        name: compile_spec(check_file(str(SPECS / f"{name}.pref")), out, samples=samples).directory
        for name, samples in LIBRARY.items()
    }


def _model(name: str) -> type:
    model = getattr(A, name)
    assert issubclass(model, A.Document | A.Row), name
    return model


@pytest.mark.parametrize("spec", sorted(LIBRARY))
def test_every_file_the_library_compiles_to_validates_against_its_model(library: dict[str, Path], spec: str) -> None:
    build = library[spec]
    text = (build / "manifest.json").read_text(encoding="utf-8")
    manifest = A.read_document(build / "manifest.json", A.Manifest)
    assert manifest.to_text() == text and manifest.schema_version == A.Manifest.SCHEMA_VERSION
    listed = {f.path for f in manifest.files}
    assert listed == {p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file()} - {"manifest.json"}
    n_rows = 0
    for entry in manifest.files:
        path = build / entry.path
        assert A.verify_file(path) == entry  # the bytes the manifest records
        if entry.schema_name is None:
            assert entry.path.endswith("README.md")
            continue
        model = _model(entry.schema_name)
        assert entry.schema_version == model.SCHEMA_VERSION
        if issubclass(model, A.Document):
            doc = A.read_document(path, model)
            assert doc.to_text() == path.read_text(encoding="utf-8")  # written through the model
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == entry.rows
        for where, _, value, row in A.read_rows(path, model):
            # nothing lost, nothing coerced: the model holds exactly what the emitter wrote
            assert row.model_dump(mode="json", by_alias=True, exclude_unset=True) == value, where
        n_rows += len(lines)
    if spec == "preferences":  # a library of preferences: no games, nothing solved
        assert [(f.path, f.rows, f.schema_name) for f in manifest.files] == [("solutions.jsonl", 0, "SolutionRow")]
    else:
        assert {f.schema_name for f in manifest.files if f.rows} == {"DatasetRow", "RubricItem", "SolutionRow"}
        assert {f.schema_name for f in manifest.files if f.path.endswith(".json")} == {"DatasetHeader", "RubricHeader"}
        assert n_rows == sum(f.rows for f in manifest.files)


def test_runtime_outputs_validate_and_are_written_through_their_models(
    library: dict[str, Path], tmp_path: Path
) -> None:
    from prefc.runtime.agents import make_agent
    from prefc.runtime.diff import diff_results
    from prefc.runtime.evaluate import evaluate
    from prefc.runtime.simulate import simulate

    rubric = library["paper"] / "eval.jsonl"
    for name, agent in (("e", "theory:economicus"), ("m", "theory:moralis(kappa=0.5)")):
        evaluate(rubric, make_agent(agent), tmp_path / name, limit=20, progress=False, plots=False)
    summary = A.read_document(tmp_path / "e" / "summary.json", A.Summary)
    assert summary.to_text() == (tmp_path / "e" / "summary.json").read_text(encoding="utf-8")
    records = list(A.read_rows(tmp_path / "e" / "results.jsonl", A.ResultRecord))
    assert len(records) == summary.n_items == 20
    for where, _, value, row in records:
        assert row.model_dump(mode="json", exclude_unset=True) == value, where

    from prefc.runtime.diff import write_json

    written = write_json(tmp_path / "d" / "diff.json", diff_results(tmp_path / "e", tmp_path / "m").to_json())
    value, text = A.read_json(written)
    doc = A.validate_document(A.diff_model(value), value, where=str(written))
    assert isinstance(doc, A.ResultsDiffDocument) and doc.to_text() == text

    sim = simulate(
        SPECS / "pricing.pref",
        ["theory:economicus", "theory:moralis(kappa=0.5)"],
        out_dir=tmp_path / "s",
        rounds=5,
        progress=False,
        plot=False,
    )
    data = A.read_document(sim.summary_path, A.SimulationSummary)
    assert data == sim.summary and data.to_text() == sim.summary_path.read_text(encoding="utf-8")
    rounds = list(A.read_rows(sim.rounds_path, A.RoundRecord))
    assert [row.round for *_, row in rounds] == [1, 2, 3, 4, 5]


def test_docs_list_the_models_fields_as_generated() -> None:
    from prefc.artefacts.schema_docs import BEGIN, END, render

    text = DOCS.read_text(encoding="utf-8")
    generated = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip("\n")
    assert generated == render().strip("\n"), "run `python -m prefc.artefacts.schema_docs docs/artefacts.md`"
    from prefc.artefacts.schema_docs import ARTEFACTS

    for _, _, model in ARTEFACTS:
        assert f"`{model.__name__}`, " in generated


def test_the_package_imports_only_pydantic_and_the_version() -> None:
    code = (
        "import sys, prefc.artefacts; print(sorted(m for m in sys.modules if m == 'prefc' or m.startswith('prefc.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    modules = json.loads(out.replace("'", '"'))
    assert {m for m in modules if not m.startswith("prefc.artefacts")} == {"prefc", "prefc.version"}


# -- reading ----------------------------------------------------------------------------------------


def test_a_document_error_names_file_line_and_field(library: dict[str, Path], tmp_path: Path) -> None:
    data = json.loads((library["paper"] / "manifest.json").read_text())
    data["files"][2]["rows"] = "many"
    path = tmp_path / "manifest.json"
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    path.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), start=1) if '"many"' in t)
    with pytest.raises(A.ArtefactError) as exc:
        A.read_document(path, A.Manifest)
    assert str(exc.value).startswith(f"{path}:{line}: not a prefc build manifest: files.2.rows: ")
    data["files"][2]["rows"] = 3
    del data["spec"]
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(A.ArtefactError, match=r":1: not a prefc build manifest: it lacks spec"):
        A.read_document(path, A.Manifest)


def test_a_row_error_names_file_line_and_field(library: dict[str, Path], tmp_path: Path) -> None:
    lines = (library["paper"] / "sft" / "train.jsonl").read_text().splitlines()
    row = json.loads(lines[2])
    row["meta"]["split"] = "holdout"
    lines[2] = json.dumps(row)
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(A.ArtefactError, match=rf"^{path}:3: meta\.split: Input should be 'train', 'val' or 'test'"):
        list(A.read_rows(path, A.DatasetRow))


def test_a_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"schema_version": A.Summary.SCHEMA_VERSION + 1}))
    with pytest.raises(A.ArtefactError, match="newer than this prefc reads"):
        A.read_document(path, A.Summary)


def test_atomic_writes_leave_the_old_file_or_the_new_one(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    A.atomic_write_text(target, "old\n")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask

    def broken(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        A.atomic_write_with(target, broken)
    assert target.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


# -- readers check against the manifest ----------------------------------------------------------


def test_eval_refuses_a_rubric_cut_short(
    library: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build = tmp_path / "paper"
    shutil.copytree(library["paper"], build)
    lines = (build / "eval.jsonl").read_text().splitlines(keepends=True)
    assert len(lines) == 200
    (build / "eval.jsonl").write_text("".join(lines[:150]))
    assert main(["eval", str(build / "eval.jsonl"), "--agent", "theory:economicus", "-o", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert "150 rows where the manifest lists 200" in err and "compile the spec again" in err
    assert "Traceback" not in err and not (tmp_path / "r").exists()
    # without the manifest, the header's own count still tells
    (build / "manifest.json").unlink()
    assert main(["eval", str(build / "eval.jsonl"), "--agent", "theory:economicus", "-o", str(tmp_path / "r")]) == 1
    assert "150 items, but its header (eval.json) counts 200" in capsys.readouterr().err


# -- killed compiles ------------------------------------------------------------------------------

SMALL = (
    """spec small "One game"

"""
    + DICTATOR
    + """
preference economicus = payoff(self)

dataset sft for economicus {
    games dictator
    samples 2 per preference
}
"""
)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_compile_removes_what_killed_compiles_left_and_nothing_live(tmp_path: Path) -> None:
    spec = tmp_path / "small.pref"
    spec.write_text(SMALL)
    out = tmp_path / "build"
    out.mkdir()
    dead, live = _dead_pid(), subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = out / f".small.partial-{dead}"
        running = out / f".small.partial-{live.pid}"
        swapped = out / f".small.previous-{_dead_pid()}"
        for d in (stale, running, swapped):
            d.mkdir()
            (d / "marker").write_text(d.name)
        other = out / f".other.partial-{dead}"  # another spec's staging directory is not ours to judge
        other.mkdir()
        # the kill came between the two renames: the previous build is put back, then replaced
        assert main(["compile", str(spec), "-o", str(out), "--quiet"]) == 0
        assert not stale.exists() and not swapped.exists() and other.exists()
        assert running.is_dir() and (running / "marker").read_text() == running.name
        assert (out / "small" / "manifest.json").is_file()
        assert sorted(p.name for p in out.iterdir()) == sorted([".other.partial-" + str(dead), running.name, "small"])
    finally:
        live.kill()
        live.wait()


def test_a_swapped_out_build_of_a_killed_compile_is_restored(tmp_path: Path) -> None:
    from prefc.compiler.emit.write import clean_stale

    target = tmp_path / "small"
    swapped = tmp_path / f".small.previous-{_dead_pid()}"
    swapped.mkdir()
    (swapped / "manifest.json").write_text("{}")
    assert clean_stale(target) == [swapped]
    assert (target / "manifest.json").read_text() == "{}" and not swapped.exists()
