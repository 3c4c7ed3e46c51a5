"""``docs/architecture.md`` lists every module of the package, one line each, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
