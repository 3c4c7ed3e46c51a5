"""The solved-games cache of `prefc compile`: a cached rebuild writes the same bytes as a cold build,
a rebuild after a dataset's seed changes reuses it, and a doctored or spoiled entry is never used."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from prefc.artefacts import Solution
from prefc.cli import main
from prefc.compiler import solve_cache
from prefc.compiler.check import check_file
from prefc.compiler.emit.build import compile_spec
from prefc.compiler.ir import lower_spec
from prefc.compiler.solve import GameSolver
from prefc.compiler.solve.solver import validate_point

try:
    from spec_blocks import DICTATOR
except ImportError:  # tests/ is a package: import it by path
    from tests.spec_blocks import DICTATOR

SPECS = Path(__file__).resolve().parents[2] / "specs"

SPEC = (
    """spec cached "Cached games"

use "preferences.pref"

"""
    + DICTATOR
    + """
game ultimatum "Ultimatum game" {
    players proposer, responder
    param E = 4 vary {4, 6}
    proposer chooses offer in 0..E
    then responder sees offer and chooses accept in {yes, no}
    payoff proposer  = if accept == yes then E - offer else 0
    payoff responder = if accept == yes then offer else 0
}

game prisoners_dilemma "Prisoner's dilemma" {
    players row, col symmetric
    param T = 5 vary {4, 6}, R = 3, P = 1, S = 0
    each player chooses move in {cooperate, defect}
    payoff row = table(row.move, col.move) {
        cooperate, cooperate: R;  cooperate, defect: S
        defect,    cooperate: T;  defect,    defect: P
    }
}

dataset sft for economicus, moralis(kappa = 0.5) {
    games dictator, ultimatum, prisoners_dilemma
    samples 12 per preference   seed SEED
    split train 0.75, val 0.25
    paraphrases 3
}

rubric eval for economicus, moralis(kappa = 0.25, 0.75) {
    games ultimatum, prisoners_dilemma
    items 10
    seed 3
}
"""
)


def _spec(directory: Path, *, seed: int = 1) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(SPECS / "preferences.pref", directory / "preferences.pref")
    path = directory / "cached.pref"
    path.write_text(SPEC.replace("SEED", str(seed)))
    return path


def _files(build: Path) -> dict[str, bytes]:
    return {p.relative_to(build).as_posix(): p.read_bytes() for p in sorted(build.rglob("*")) if p.is_file()}


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "solved").rglob("*.json"))


@pytest.fixture
def solves(monkeypatch) -> list[str]:
    """The games the solver is asked to solve (the real solver runs; the calls are recorded)."""
    calls: list[str] = []
    real = GameSolver.solve

    def solve(self, values=None, *, derive=True):
        calls.append(self.game.name)
        return real(self, values, derive=derive)

    monkeypatch.setattr(GameSolver, "solve", solve)
    return calls


def _compile(spec: Path, out: Path, *, cache: bool = True) -> dict[str, bytes]:
    result = compile_spec(check_file(str(spec)), out, cache=cache)
    return _files(result.directory)


@pytest.fixture(scope="module")
def cold(tmp_path_factory) -> dict[str, bytes]:
    """A cold build without the cache (the reference every cached build is compared with)."""
    tmp = tmp_path_factory.mktemp("cold")
    return _compile(_spec(tmp / "spec"), tmp / "out", cache=False)


def test_cached_rebuild_is_byte_identical(tmp_path, monkeypatch, cold, solves):
    monkeypatch.setenv("PREFC_CACHE", str(tmp_path / "cache"))
    spec = _spec(tmp_path / "spec")
    first = _compile(spec, tmp_path / "a")
    assert first == cold  # filling the cache changes nothing in the build
    assert solves and _entries(tmp_path / "cache")
    solves.clear()
    again = _compile(spec, tmp_path / "b")
    assert solves == []  # every solution came from the cache (each certified again)
    assert sorted(again) == sorted(cold)
    for name, data in cold.items():
        assert again[name] == data, name


def test_rebuild_after_a_seed_change_uses_the_cache(tmp_path, monkeypatch, solves):
    monkeypatch.setenv("PREFC_CACHE", str(tmp_path / "cache"))
    _compile(_spec(tmp_path / "before"), tmp_path / "a")
    changed = _spec(tmp_path / "after", seed=9)
    reference = _compile(changed, tmp_path / "ref", cache=False)
    solves.clear()
    cached = _compile(changed, tmp_path / "b")
    assert solves == []
    assert cached == reference
    assert cached["sft/train.jsonl"] != _compile(_spec(tmp_path / "before"), tmp_path / "c")["sft/train.jsonl"]


def _doctor(entry: Path, change) -> bool:
    """Apply ``change`` to the solutions of an entry, sealing it again with a valid checksum (so
    only the certificate can tell); whether anything changed."""
    doc = json.loads(entry.read_bytes())
    changed = False
    for sol in doc["solutions"].values():
        changed |= change(sol)
    payload = {p: doc[p] for p in ("solutions", "decisions", "utilities")}
    doc["checksum"] = solve_cache.entry_checksum(payload)
    entry.write_text(json.dumps(doc))
    return changed


def _wrong_move(sol: dict) -> bool:
    """Turn the prisoner's dilemma's selected pure move into the other one."""
    if sol["game"] != "prisoners_dilemma" or sol["selected"] is None:
        return False
    eq = sol["equilibria"][sol["selected"]]
    if eq["probabilities"] is not None:
        return False
    for actions in eq["path"].values():
        actions["move"] = "cooperate" if actions["move"] == "defect" else "defect"
    return True


def test_a_tampered_entry_fails_its_certificate_and_is_solved_again(tmp_path, monkeypatch, cold, solves):
    monkeypatch.setenv("PREFC_CACHE", str(tmp_path / "cache"))
    spec = _spec(tmp_path / "spec")
    _compile(spec, tmp_path / "a")
    doctored = [e for e in _entries(tmp_path / "cache") if _doctor(e, _wrong_move)]
    assert doctored
    solves.clear()
    again = _compile(spec, tmp_path / "b")
    assert "prisoners_dilemma" in solves and set(solves) == {"prisoners_dilemma"}
    assert again == cold
    # the entry now holds the right answer again, and the next build takes it from the cache
    solves.clear()
    assert _compile(spec, tmp_path / "c") == cold
    assert solves == []


def test_the_certificate_refuses_a_wrong_action_value(tmp_path):
    spec = check_file(str(_spec(tmp_path)))
    ir = lower_spec(spec)
    pref = next(p for p in spec.builds["sft"].preferences if p.name == "economicus")
    solver = GameSolver(ir.games["prisoners_dilemma"], ir.preference(pref))
    solution = solver.solve({"T": 6})
    point = validate_point(solver.game, {"T": 6})
    data = solution.model_dump(mode="json")
    assert solve_cache.recertify(solver, point, Solution.model_validate(data))
    _wrong_move(data)
    assert not solve_cache.recertify(solver, point, Solution.model_validate(data))
    # a solution of another point, or with another verification, is not taken either
    assert not solve_cache.recertify(solver, validate_point(solver.game, {"T": 4}), solution)
    other = solution.model_copy(update={"verified": solution.verified.model_copy(update={"deviations": 1})})
    assert not solve_cache.recertify(solver, point, other)


@pytest.mark.parametrize("garbage", [b"\x00\xff not json", b'{"format": 1, "key": "x"}'])
def test_a_spoiled_entry_is_ignored(tmp_path, monkeypatch, cold, solves, garbage):
    monkeypatch.setenv("PREFC_CACHE", str(tmp_path / "cache"))
    spec = _spec(tmp_path / "spec")
    _compile(spec, tmp_path / "a")
    entries = _entries(tmp_path / "cache")
    for entry in entries:
        entry.write_bytes(garbage)
    solves.clear()
    assert _compile(spec, tmp_path / "b") == cold
    assert solves  # solved again ...
    assert all(json.loads(e.read_bytes())["solutions"] for e in entries)  # ... and stored again


def test_a_checksum_mismatch_is_ignored(tmp_path, monkeypatch, cold, solves):
    monkeypatch.setenv("PREFC_CACHE", str(tmp_path / "cache"))
    spec = _spec(tmp_path / "spec")
    _compile(spec, tmp_path / "a")
    for entry in _entries(tmp_path / "cache"):
        doc = json.loads(entry.read_bytes())
        doc["checksum"] = "0" * 64
        entry.write_text(json.dumps(doc))
    solves.clear()
    assert _compile(spec, tmp_path / "b") == cold
    assert solves


def test_no_cache_neither_reads_nor_writes(tmp_path, monkeypatch, cold, solves, capsys):
    monkeypatch.setenv("PREFC_CACHE", str(tmp_path / "cache"))
    spec = _spec(tmp_path / "spec")
    assert main(["compile", str(spec), "-o", str(tmp_path / "a"), "--quiet", "--no-cache"]) == 0
    assert _entries(tmp_path / "cache") == []
    assert _files(tmp_path / "a" / "cached") == cold
    assert main(["compile", str(spec), "-o", str(tmp_path / "b"), "--quiet"]) == 0
    entries = _entries(tmp_path / "cache")
    assert entries
    stamp = [e.stat().st_mtime_ns for e in entries]
    solves.clear()
    assert main(["compile", str(spec), "-o", str(tmp_path / "c"), "--quiet", "--no-cache"]) == 0
    assert solves  # solved again although the cache holds every answer
    assert [e.stat().st_mtime_ns for e in entries] == stamp


def test_keys_follow_the_game_and_the_preference_not_the_sweep(tmp_path):
    spec = check_file(str(_spec(tmp_path / "a")))
    ir = lower_spec(spec)
    econ, moral = spec.builds["sft"].preferences
    game = ir.games["dictator"]
    key = solve_cache.cache_key(game, ir.preference(econ))
    assert key == solve_cache.cache_key(lower_spec(spec).games["dictator"], ir.preference(econ))
    assert key != solve_cache.cache_key(game, ir.preference(moral))
    (tmp_path / "b").mkdir()
    shutil.copy(SPECS / "preferences.pref", tmp_path / "b" / "preferences.pref")
    swept = tmp_path / "b" / "cached.pref"
    swept.write_text(SPEC.replace("SEED", "1").replace("vary {10, 20}", "vary {10, 20, 30}"))
    assert solve_cache.cache_key(lower_spec(check_file(str(swept))).games["dictator"], ir.preference(econ)) == key
    payoff = tmp_path / "b" / "cached.pref"
    payoff.write_text(SPEC.replace("SEED", "1").replace("payoff recipient = give", "payoff recipient = 2 * give"))
    assert solve_cache.cache_key(lower_spec(check_file(str(payoff))).games["dictator"], ir.preference(econ)) != key


def test_two_compiles_saving_one_entry_keep_a_valid_file_with_both_additions(tmp_path):
    spec = check_file(str(_spec(tmp_path / "spec")))
    ir = lower_spec(spec)
    econ = spec.builds["sft"].preferences[0]
    game, pref = ir.games["dictator"], ir.preference(econ)
    solver = GameSolver(game, pref)
    first, second = solve_cache.SolveCache(tmp_path / "cache"), solve_cache.SolveCache(tmp_path / "cache")
    a, b = first.entry(game, pref), second.entry(game, pref)  # both loaded before either saves
    ten = solver.solve({"E": 10}).model_dump(mode="json")
    twenty = solver.solve({"E": 20}).model_dump(mode="json")
    a.put("solutions", "E=10/1", ten)
    b.put("solutions", "E=20/1", twenty)
    first.save()
    second.save()
    (entry,) = _entries(tmp_path / "cache")
    doc = json.loads(entry.read_bytes())
    assert doc["solutions"] == {"E=10/1": ten, "E=20/1": twenty}
    assert doc["checksum"] == solve_cache.entry_checksum({p: doc[p] for p in ("solutions", "decisions", "utilities")})
    assert sorted(p.name for p in entry.parent.iterdir()) == [entry.name]  # no temporary file left
