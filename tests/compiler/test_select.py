"""`select discriminating`: rubric items only where the compared preferences' targets differ."""

from __future__ import annotations

import itertools
import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from prefc.compiler.check import check_file
from prefc.compiler.diagnostics import CompileError
from prefc.compiler.emit.build import compile_spec
from prefc.compiler.emit.situations import EmitError
from prefc.runtime.score import acceptable_answers, answer_matches

try:
    from spec_blocks import DICTATOR
except ImportError:  # tests/ is a package: import it by path
    from tests.spec_blocks import DICTATOR

SPECS = Path(__file__).resolve().parents[2] / "specs"

GAMES = (
    """spec sel "Selection"

use "preferences.pref"

game pd "Prisoner's dilemma" {
    players row, col symmetric
    param T = 5 vary {4, 5, 6}, R = 3, P = 1, S = 0
    each player chooses move in {cooperate, defect}
    payoff row = table(row.move, col.move) {
        cooperate, cooperate: R;  cooperate, defect: S
        defect,    cooperate: T;  defect,    defect: P
    }
}

game pg "Linear public goods game" {
    players member[1..n] symmetric
    param n in 2..20 = 4 vary 2..6, m in [1, 20] = 1.6 vary {1.2, 1.6, 2.4}, e = 20
    each member chooses give in [0, e]
    payoff member[i] = e - member[i].give + m / n * sum(member.give)
}

"""
    + DICTATOR
    + """
"""
)


def _spec(tmp: Path, body: str) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copy(SPECS / "preferences.pref", tmp / "preferences.pref")
    (tmp / "sel.pref").write_text(GAMES + body)
    return tmp / "sel.pref"


def _compile(tmp: Path, body: str) -> tuple[list[dict], dict]:
    spec = check_file(str(_spec(tmp / "spec", body)))
    built = compile_spec(spec, tmp / "out")
    name = next(iter(spec.builds))
    items = [json.loads(line) for line in (built.directory / f"{name}.jsonl").read_text().splitlines()]
    return items, json.loads((built.directory / f"{name}.json").read_text())


def _differ(item: dict, a: str, b: str) -> bool:
    """No accepted answer of one target is correct for the other (the runtime's own scoring)."""
    schema, ta, tb = item["schema"], item["targets"][a], item["targets"][b]
    tol = float(item["tolerance"])
    return not any(answer_matches(x, tb, schema, tolerance=tol) for x in acceptable_answers(ta)) and not any(
        answer_matches(x, ta, schema, tolerance=tol) for x in acceptable_answers(tb)
    )


def _discriminating(item: dict, labels: list[str]) -> bool:
    return any(_differ(item, a, b) for a, b in itertools.combinations(labels, 2))


def test_prisoners_dilemma_keeps_exactly_the_points_where_moralis_cooperates(tmp_path: Path) -> None:
    # Homo moralis at kappa cooperates against a cooperator iff kappa >= (T - R)/(T - P) (Alger &
    # Weibull 2013); homo economicus always defects. At T = 5 kappa = 0.5 sits on the threshold
    # (both moves are optimal), so only T = 4 tells the two apart. At T = 6 (S = 0) its best reply
    # to a cooperator is to defect (0.5 < 3/5) and to a defector to cooperate (0.5 >= 1/3): no pure
    # symmetric equilibrium, so that point is not a candidate at all (8 = 2 points x 4 wordings).
    items, head = _compile(
        tmp_path,
        """rubric r for economicus, moralis(kappa = 0.5) {
    games pd   items 4   paraphrases 4   select discriminating
}
""",
    )
    for it in items:
        t = Fraction(str(it["params"]["T"]))
        assert (t - 3) / (t - 1) < Fraction(1, 2)
        assert it["targets"]["moralis(kappa=0.5)"] == {"move": "cooperate"}
        assert it["targets"]["economicus"] == {"move": "defect"}
    assert len({json.dumps(it["prompt"]) for it in items}) == 4
    assert head["selection"] == {
        "rule": "discriminating",
        "candidates": 8,
        "discriminating": 4,
        "share": 0.5,
        "pairs": [{"preferences": ["economicus", "moralis(kappa=0.5)"], "differ": 4}],
    }
    with pytest.raises(EmitError, match="lower `items`"):
        _compile(
            tmp_path / "more",
            """rubric r for economicus, moralis(kappa = 0.5) {
    games pd   items 5   paraphrases 4   select discriminating
}
""",
        )


def test_the_header_counts_agree_with_the_runtimes_scoring(tmp_path: Path) -> None:
    labels = ["economicus", "moralis(kappa=0.25)", "moralis(kappa=0.5)", "moralis(kappa=0.75)"]
    # Every candidate emitted (2 prisoner's dilemma points where all four have a pure answer, 15
    # public goods points, 2 wordings each): the header's count is checkable.
    everything, head = _compile(
        tmp_path / "all",
        """rubric r for economicus, moralis(kappa = 0.25, 0.5, 0.75) {
    games pd, pg   items 34   paraphrases 2
}
""",
    )
    telling = [it for it in everything if _discriminating(it, labels)]
    sel = head["selection"]
    assert sel["rule"] == "all" and sel["candidates"] == 34 == len(everything)
    assert sel["discriminating"] == len(telling) and 0 < len(telling) < 34
    assert sel["share"] == round(len(telling) / 34, 4)
    for pair in sel["pairs"]:
        assert pair["differ"] == sum(_differ(it, *pair["preferences"]) for it in everything)

    kept, head = _compile(
        tmp_path / "sel",
        f"""rubric r for economicus, moralis(kappa = 0.25, 0.5, 0.75) {{
    games pd, pg   items {len(telling)}   paraphrases 2   select discriminating
}}
""",
    )
    assert all(_discriminating(it, labels) for it in kept)
    assert sorted(json.dumps(it["prompt"]) for it in kept) == sorted(json.dumps(it["prompt"]) for it in telling)
    assert head["selection"]["discriminating"] == len(telling) and head["selection"]["candidates"] == 34
    # public goods: homo economicus gives 0 unless m > n; homo moralis at 0.5 gives everything iff m > 2n/(n + 1)
    for it in kept:
        if it["game"] == "pg" and _differ(it, "economicus", "moralis(kappa=0.5)"):
            n, m = Fraction(str(it["params"]["n"])), Fraction(str(it["params"]["m"]))
            assert m < n and m > 2 * n / (n + 1)


def test_a_game_that_tells_nothing_apart_is_refused(tmp_path: Path) -> None:
    # With linear payoffs and role randomisation homo moralis gives nothing, as homo economicus does.
    with pytest.raises(EmitError, match="no situation of game `dictator` tells economicus, moralis"):
        _compile(
            tmp_path,
            """rubric r for economicus, moralis(kappa = 0.5) {
    games pd, dictator   items 4   select discriminating
}
""",
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "dataset d for economicus, moralis(kappa = 0.5) {\n    games pd   select discriminating\n}\n",
            "`select` belongs to rubrics",
        ),
        (
            "rubric r for economicus, moralis(kappa = 0.5) {\n    games pd   select discriminatng\n}\n",
            "unknown selection `discriminatng`",
        ),
        (
            "rubric r for moralis(kappa = 0.5) {\n    games pd   select discriminating\n}\n",
            "needs at least two preferences",
        ),
    ],
)
def test_bad_selections_are_located_diagnostics(tmp_path: Path, body: str, message: str) -> None:
    path = _spec(tmp_path, body)
    with pytest.raises(CompileError) as info:
        check_file(str(path))
    (diag,) = [d for d in info.value.diagnostics if d.code == "E0308"]
    assert message in diag.message
    assert diag.span is not None and diag.span.line > GAMES.count("\n")
    if "unknown" in message:
        assert "discriminating" in (diag.label or "")


def test_paper_rubric_selects_and_the_printer_keeps_it() -> None:
    from prefc.compiler import pretty
    from prefc.compiler.parse import parse_text

    text = (SPECS / "paper.pref").read_text()
    printed = pretty.file(parse_text(text, "paper.pref"))
    assert ("select discriminating" in text) == ("select discriminating" in printed)
