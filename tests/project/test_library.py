"""The standard library travels with the package: built as a wheel, installed without the
repository (not editable), and used from a directory outside it, ``use "preferences.pref"`` finds
the library and ``prefc show --library`` lists it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

try:
    from spec_blocks import DICTATOR
except ImportError:  # tests/ is a package: import it by path
    from tests.spec_blocks import DICTATOR

ROOT = Path(__file__).resolve().parents[2]

FIRST = (
    """spec first "A first spec"

use "preferences.pref"

"""
    + DICTATOR
    + """
dataset sft for economicus, moralis(kappa = 0.5) {
    games dictator
    samples 4 per preference   seed 1
    paraphrases 2
}
"""
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the tracked files, installed into a fresh directory (no editable link)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    files = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((ROOT / name).read_bytes())
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(base / "dist"), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next((base / "dist").glob("prefc-*.whl"))
    target = base / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target


def prefc(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the installed prefc with ``python -S``: no site hooks, so the editable install of this
    checkout is not on the path; the dependencies come from the environment's site-packages."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), sysconfig.get_paths()["purelib"]])}
    return subprocess.run(
        [sys.executable, "-S", "-m", "prefc", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), sysconfig.get_paths()["purelib"]])}
    where = subprocess.run(
        [sys.executable, "-S", "-c", "import prefc.compiler.paths as p; print(p.__file__); print(p.library_dir())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert where[0].startswith(str(installed)) and where[1] == str(installed / "prefc" / "library")


def test_show_library_lists_the_shipped_files(installed: Path, tmp_path: Path):
    result = prefc(installed, tmp_path, "show", "--library", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert listing["directory"] == str(installed / "prefc" / "library")
    assert {e["file"] for e in listing["files"]} == {p.name for p in (ROOT / "specs").glob("*.pref")}


def test_a_first_spec_outside_the_repository_uses_the_library(installed: Path, tmp_path: Path):
    (tmp_path / "first.pref").write_text(FIRST)
    checked = prefc(installed, tmp_path, "check", "first.pref")
    assert (checked.returncode, checked.stdout.strip()) == (0, "ok first.pref"), checked.stderr
    built = prefc(installed, tmp_path, "compile", "first.pref", "-o", "build", "--quiet")
    assert built.returncode == 0, built.stderr
    rows = (tmp_path / "build" / "first" / "sft" / "train.jsonl").read_text().splitlines()
    assert len(rows) == 8 and {json.loads(r)["meta"]["preference"] for r in rows} == {
        "economicus",
        "moralis(kappa=0.5)",
    }


def test_a_file_beside_the_spec_takes_precedence_over_the_library(installed: Path, tmp_path: Path):
    (tmp_path / "first.pref").write_text(FIRST)
    (tmp_path / "preferences.pref").write_text("preference economicus = payoff(self)\n")
    result = prefc(installed, tmp_path, "check", "first.pref")
    assert result.returncode == 1 and "unknown preference `moralis`" in result.stderr
