"""The layer rules of ``[tool.importlinter]`` in pyproject.toml hold: the compiler never imports the
runtime, solving never imports emitting, nothing below the command line imports it, and the top
subpackages import each other without cycles.

import-linter reads a package from one folder, and prefc's subpackages live in several (``compiler/``
is ``prefc.compiler``, ``runtime/`` is ``prefc.runtime``): the test lays a copy of the sources out
as the installed package (scripts/package_layout.py) and runs ``lint-imports`` over that copy.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
_spec = importlib.util.spec_from_file_location("package_layout", ROOT / "scripts" / "package_layout.py")
assert _spec is not None and _spec.loader is not None
package_layout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(package_layout)


def _installed_layout(dest: Path) -> Path:
    """A copy of the package's sources under ``dest``, laid out as installed."""
    return package_layout.lay_out(dest, copy=True)


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _installed_layout(tmp_path_factory.mktemp("layers"))


def _lint(root: Path, config: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(exe), "--no-cache", str(config)], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_layer_contracts_hold(layout: Path) -> None:
    result = _lint(layout, PYPROJECT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


def test_the_contracts_find_a_runtime_import_in_the_compiler(tmp_path: Path) -> None:
    """The check is not vacuous: one compiler module importing the runtime breaks it, by name."""
    broken = _installed_layout(tmp_path / "broken")
    module = broken / "prefc" / "compiler" / "select.py"
    module.write_text(module.read_text() + "\n\ndef _late():\n    from prefc.runtime import agents  # noqa: F401\n")
    result = _lint(broken, PYPROJECT)
    assert result.returncode != 0
    assert "The compiler never imports the runtime BROKEN" in result.stdout
    assert "prefc.compiler.select -> prefc.runtime.agents" in result.stdout
