"""What a cold command loads: a finite game's solve needs neither numpy nor scipy, nor the artefact
models it does not write; the lazily loaded names stay the same names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import contextlib, io, json, sys
from prefc.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["solve", "specs/paper.pref", "--game", "prisoners_dilemma", "--preference", "economicus", "--json"])
print(json.dumps({"code": code, "solution": json.loads(out.getvalue()),
                  "loaded": sorted(m for m in ("numpy", "scipy", "prefc.artefacts.rubric",
                                               "prefc.artefacts.results", "prefc.artefacts.dataset")
                                   if m in sys.modules)}))
"""


def test_a_finite_solve_loads_neither_numpy_nor_scipy() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["code"] == 0
    play = result["solution"]["equilibria"][result["solution"]["selected"]]
    assert json.dumps(play).count("defect") >= 2  # defect, defect: the dilemma's only equilibrium
    assert result["loaded"] == []


def test_the_artefact_package_exports_every_name_it_lists() -> None:
    code = (
        "import prefc.artefacts as a; from prefc.artefacts import *; "
        "import prefc.artefacts.io as io; "
        "print(all(getattr(a, n) is globals()[n] for n in a.__all__), a.atomic_write_text is io.atomic_write_text)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_a_continuous_solve_still_gets_numpy_and_scipy() -> None:
    code = (
        "import sys, contextlib, io\nfrom prefc.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = main(['solve', 'specs/paper.pref', '--game', 'dictator',\n"
        "                 '--preference', 'moralis(kappa=0.5)'])\n"
        "print(code, 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "True"]
