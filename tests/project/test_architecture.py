"""``docs/architecture.md`` lists every module of the package, one line each, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("grammar", "compiler", "runtime", "prefc")


def test_the_architecture_page_lists_every_module_once():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([\w/]+\.py)` \| (.+) \|$", text, re.M)
    names = [name for name, _ in listed]
    on_disk = sorted(
        str(p.relative_to(ROOT))
        for folder in SOURCES
        for p in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in p.parts
    )
    assert sorted(names) == on_disk, (sorted(set(on_disk) - set(names)), sorted(set(names) - set(on_disk)))
    assert len(names) == len(set(names))
    assert all(len(what.strip()) > 3 for _, what in listed)


def test_the_page_names_the_layer_contracts_the_tests_enforce():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert (ROOT / "pyproject.toml").read_text().count("[[tool.importlinter.contracts]]") == 4
    for needle in ("never imports the runtime", "never imports emitting", "`prefc.cli`", "without cycles"):
        assert needle in text


def test_the_tests_mirror_the_source_tree():
    """Each folder of tests/ below the top names a source folder, test names are unique, and no test
    file imports another (what tests share lives in the helper modules beside conftest.py)."""
    tests = ROOT / "tests"
    sources = {"compiler": ROOT / "compiler", "runtime": ROOT / "runtime", "package": ROOT / "prefc"}
    files = sorted(p for p in tests.rglob("test_*.py") if "__pycache__" not in p.parts)
    assert not list(tests.glob("test_*.py")), "test files live in the folder of what they test"
    for path in files:
        top, *middle = path.relative_to(tests).parts[:-1]
        assert top in {*sources, "specs", "project"}, path
        if top in sources:
            assert sources[top].joinpath(*middle).is_dir(), f"{path}: no source folder {'/'.join(middle)}"
        imports = re.findall(r"^\s*(?:from|import) (test_\w+)", path.read_text(encoding="utf-8"), re.M)
        assert not imports, f"{path} imports {imports}"
    names = [p.name for p in files]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    for spec_test in (tests / "specs").glob("test_*.py"):
        assert (ROOT / "specs" / f"{spec_test.stem.removeprefix('test_')}.pref").is_file(), spec_test
