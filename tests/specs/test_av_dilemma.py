"""The autonomous-vehicle application as shipped: the rubric's targets follow the closed forms of
its header (Bonnefon et al. 2016's purchase dilemma: homo moralis buys the utilitarian car iff
kappa >= 1/h; the swerve dilemma: it swerves iff kappa > passengers / pedestrians; homo economicus
never does either), and `prefc diff` of the two types' evaluations finds the choices that part."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prefc.artefacts import RubricItem, read_rows
from prefc.cli import main
from prefc.compiler.check import check_file
from prefc.compiler.emit.build import compile_spec

SPECS = Path(__file__).resolve().parents[2] / "specs"


@pytest.fixture(scope="module")
def rubric(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("av")
    return compile_spec(check_file(str(SPECS / "av_dilemma.pref")), out, samples=10).directory / "av_eval.jsonl"


def moral_choice(game: str, params: dict, kappa: float) -> bool:
    if game == "av_purchase":
        return kappa >= 1 / params["h"]
    return kappa > params["passengers"] / params["pedestrians"]


def test_every_target_is_the_closed_form_of_its_type(rubric: Path) -> None:
    items = [row for _, _, _, row in read_rows(rubric, RubricItem)]
    assert {i.game for i in items} == {"av_purchase", "swerve"}
    moral = {"av_purchase": "utilitarian", "swerve": "swerve"}
    for item in items:
        for label, kappa in (
            ("economicus", 0.0),
            ("moralis(kappa=0.25)", 0.25),
            ("moralis(kappa=0.5)", 0.5),
            ("moralis(kappa=0.75)", 0.75),
        ):
            chose = item.targets[label]["car"] == moral[item.game]
            assert chose == (kappa > 0 and moral_choice(item.game, item.params, kappa)), (label, item.params)


def test_diff_of_the_two_types_results_finds_both_dilemmas(rubric: Path, tmp_path: Path, capsys) -> None:
    runs = {}
    for label in ("economicus", "moralis(kappa=0.5)"):
        runs[label] = tmp_path / label.split("(")[0]
        assert main(["eval", str(rubric), "--agent", f"theory:{label}", "-o", str(runs[label])]) == 0
    capsys.readouterr()
    assert main(["diff", str(runs["economicus"]), str(runs["moralis(kappa=0.5)"]), "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["verdict"] == "differ"
    by_game = {g["game"]: g for g in diff["games"]}
    for game, moral in (("av_purchase", "utilitarian"), ("swerve", "swerve")):
        g = by_game[game]
        assert g["choice"]["significant"]
        assert g["a"]["counts"].get(moral, 0) == 0 < g["b"]["counts"][moral]
