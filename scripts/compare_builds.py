"""Compare two `prefc compile` output roots byte for byte, except the fields artefacts gain with a
schema version.

    python scripts/compare_builds.py BEFORE_ROOT AFTER_ROOT

JSONL rows and dataset cards must be byte-identical. JSON documents must be equal once the
top-level ``schema_version`` is removed; in ``manifest.json`` each file entry's ``schema`` and
``schema_version`` are removed too, and the ``sha256``/``bytes`` of the JSON documents that gained a
``schema_version`` are compared after that removal (recomputed from the files). Exit status 0 when
everything matches.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path


def _strip(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "schema_version"}


def _legacy_bytes(path: Path) -> bytes:
    """A JSON document as it was written before versioning: sorted keys, no schema_version."""
    data = _strip(json.loads(path.read_text(encoding="utf-8")))
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def compare(before: Path, after: Path) -> list[str]:
    problems: list[str] = []
    a_files = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    b_files = {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    for rel in sorted(a_files ^ b_files):
        problems.append(f"{rel}: only in {'before' if rel in a_files else 'after'}")
    for rel in sorted(a_files & b_files):
        a, b = before / rel, after / rel
        if rel.suffix != ".json":
            if a.read_bytes() != b.read_bytes():
                problems.append(f"{rel}: bytes differ")
            continue
        da, db = _strip(json.loads(a.read_text())), _strip(json.loads(b.read_text()))
        if rel.name == "manifest.json":
            root = b.parent
            for entry in db.get("files", []):
                entry.pop("schema", None)
                entry.pop("schema_version", None)
                if entry["path"].endswith(".json"):
                    legacy = _legacy_bytes(root / entry["path"])
                    entry["sha256"], entry["bytes"] = hashlib.sha256(legacy).hexdigest(), len(legacy)
        if da != db:
            problems.append(f"{rel}: content differs beyond schema_version")
        elif rel.name != "manifest.json" and _legacy_bytes(b) != a.read_bytes():
            problems.append(f"{rel}: bytes differ beyond schema_version")
    return problems


if __name__ == "__main__":
    before, after = Path(sys.argv[1]), Path(sys.argv[2])
    found = compare(before, after)
    n = sum(1 for p in before.rglob("*") if p.is_file())
    print("\n".join(found) if found else f"{n} files: identical except schema versions")
    sys.exit(1 if found else 0)
