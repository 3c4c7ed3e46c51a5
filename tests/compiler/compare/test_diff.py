"""``prefc diff``: spec and preference diffs against the closed forms of the literature, and results
diffs of cheap agents judged by tests whose p-values are derived here by hand.

Closed forms (Alger & Weibull 2013 for homo moralis; economicus is moralis at kappa = 0):
* prisoner's dilemma: everyone cooperating is an equilibrium iff kappa >= (T - R)/(T - P), everyone
  defecting iff kappa <= (P - S)/(R - S);
* linear public goods: full contribution iff kappa > (n - m)/(m (n - 1)), else nothing;
* trust game (role randomisation): the investor sends everything iff kappa > 1/k, the trustee
  returns nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
from fractions import Fraction as F
from pathlib import Path

import pytest

from prefc.cli import main
from prefc.compiler.check import check_file
from prefc.compiler.emit.build import compile_spec
from prefc.runtime.agents import make_agent
from prefc.runtime.diff import ResultsError, diff_results, holm, load_run, stuart_maxwell
from prefc.runtime.evaluate import evaluate

SPECS = Path(__file__).resolve().parents[3] / "specs"
PNG = b"\x89PNG\r\n\x1a\n"
R, P = F(3), F(1)


def run_cli(args: list[str]) -> int:
    return main(["diff", *[str(a) for a in args]])


def frac(x) -> F:
    return F(str(x))


def entry(data: dict, game: str, preference: str | None = None) -> dict:
    hits = [
        g for g in data["games"] if g["game"] == game and (preference is None or g["a"]["preference"] == preference)
    ]
    assert len(hits) == 1, [(g["game"], g["a"]["preference"]) for g in data["games"]]
    return hits[0]


def lower_edge(intervals: list[dict]) -> tuple[F, bool] | None:
    """The one interval's lower end (exact) and whether it is open; the interval must reach 1."""
    if not intervals:
        return None
    assert len(intervals) == 1 and F(intervals[0]["hi_exact"]) == 1 and not intervals[0]["hi_open"]
    return F(intervals[0]["lo_exact"]), intervals[0]["lo_open"]


# ----------------------------------------------------------------------------- economicus vs moralis


@pytest.fixture(scope="module")
def econ_vs_moralis(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("diff_pref")
    code = run_cli(
        [
            SPECS / "paper.pref",
            "--preference",
            "economicus",
            "--preference",
            "moralis",
            "--game",
            "prisoners_dilemma",
            "--game",
            "public_goods",
            "--game",
            "trust",
            "--steps",
            "5",
            "-o",
            out,
        ]
    )
    assert code == 0
    return json.loads((out / "diff.json").read_text()), out


def test_preference_diff_json_shape_and_plots(econ_vs_moralis):
    data, out = econ_vs_moralis
    assert data["kind"] == "preferences"
    spec = check_file(str(SPECS / "paper.pref"))
    assert data["inputs"] == [{"path": str(SPECS / "paper.pref"), "spec": "paper", "sha256": spec.sha256}]
    assert [g["game"] for g in data["games"]] == ["prisoners_dilemma", "public_goods", "trust"]
    for g in data["games"]:
        assert g["a"]["preference"] == "economicus" and g["b"]["preference"] == "moralis"
        assert g["b"]["free"] == ["kappa"] and g["grid"]["free"]["kappa"] == [0, 0.2, 0.4, 0.6, 0.8, 1]
        assert g["agreement"]["agree"] and g["agreement"]["checked"] == 2 * len(g["points"])
        n_differ = sum(p["status"] != "same" for p in g["points"])
        assert g["share_differ"] == pytest.approx(n_differ / len(g["points"]))
        assert (out / f"diff_{g['game']}.png").read_bytes()[:8] == PNG


def test_pd_cooperation_differs_iff_kappa_at_least_t_minus_r_over_t_minus_p(econ_vs_moralis):
    data, _ = econ_vs_moralis
    pd = entry(data, "prisoners_dilemma")
    cf = pd["closed_form"]
    parts = {p["name"]: p for p in cf["parts"]}
    assert cf["kind"] == "conditions"
    assert parts["cooperate"]["only_a"] == "never"  # economicus never cooperates in equilibrium
    points = [b["params"] for b in parts["cooperate"]["boundaries"]]
    assert len(points) == 15  # T in {4..8} x S in {0, -1, -2}
    for b_coop, b_def, b_all in zip(
        parts["cooperate"]["boundaries"], parts["defect"]["boundaries"], cf["boundaries"], strict=False
    ):
        T, S = frac(b_coop["params"]["T"]), frac(b_coop["params"]["S"])
        t_coop, t_def = (T - R) / (T - P), (P - S) / (R - S)
        assert lower_edge(b_coop["intervals"]) == (t_coop, False)  # kappa >= (T - R)/(T - P)
        assert lower_edge(b_def["intervals"]) == (t_def, True)  # moralis stops defecting: kappa > (P - S)/(R - S)
        # they differ somewhere iff either holds: the lower end is the smaller threshold
        assert lower_edge(b_all["intervals"]) == ((t_coop, False) if t_coop <= t_def else (t_def, True))
    at = next(b for b in parts["cooperate"]["boundaries"] if b["params"] == {"T": 5, "S": 0})
    assert lower_edge(at["intervals"]) == (F(1, 2), False) and at["text"] == "1/2 <= kappa <= 1"
    # the grid compares every equilibrium (mixed and asymmetric too): economicus has only (defect,
    # defect), and so has moralis exactly while defecting is strictly dominant, kappa below both
    # thresholds; at kappa = (P - S)/(R - S) defecting is only weakly dominant and asymmetric
    # equilibria join (overlap)
    # thresholds; and mixed strategies follow the strategy-level Kantian term, under which homo
    # moralis also mixes, symmetrically, with the probability p solving (A + kappa A') x = lambda 1
    # wherever that p lies strictly between 0 and 1 (a mixed equilibrium economicus does not have)
    for p in pd["points"]:
        T, S, k = frac(p["params"]["T"]), frac(p["params"]["S"]), frac(p["free"]["kappa"])
        h00, h01, h10, h11 = R + k * R, S + k * T, T + k * S, P + k * P
        den = h00 - h01 - h10 + h11
        mixes = den != 0 and 0 < (h11 - h01) / den < 1
        dominant = k < min((T - R) / (T - P), (P - S) / (R - S))
        assert (p["status"] != "same") == (not dominant or mixes)
        if k == (P - S) / (R - S) < (T - R) / (T - P):
            assert p["status"] == "overlap" and p["closed_form"] == "same"  # symmetric pure equilibria agree


def test_public_goods_full_contribution_iff_kappa_above_threshold(econ_vs_moralis):
    data, _ = econ_vs_moralis
    pg = entry(data, "public_goods")
    cf = pg["closed_form"]
    assert cf["kind"] == "regimes" and "m < n" in cf["region"]
    seen = 0
    for b in cf["boundaries"]:
        n, m = frac(b["params"]["n"]), frac(b["params"]["m"])
        t = (n - m) / (m * (n - 1))
        if m > n or t >= 1:  # economicus contributes everything too: never differ
            assert b["intervals"] == []
        else:
            assert lower_edge(b["intervals"]) == (t, True)
            seen += 1
        if (n, m) == (4, F(8, 5)):
            assert lower_edge(b["intervals"]) == (F(1, 2), True)
    assert seen >= 10
    for p in pg["points"]:
        n, m, k = frac(p["params"]["n"]), frac(p["params"]["m"]), frac(p["free"]["kappa"])
        moralis_full = k > (n - m) / (m * (n - 1))
        assert (p["status"] == "differ") == (moralis_full != (m > n))


def test_trust_investor_sends_everything_iff_kappa_above_one_over_k(econ_vs_moralis):
    data, _ = econ_vs_moralis
    tr = entry(data, "trust")
    cf = tr["closed_form"]
    assert cf["region"] == "kappa > 1/k"
    parts = {p["name"]: p for p in cf["parts"]}
    assert parts["trustee.back"]["region"] == "never"
    for b in parts["investor.send"]["boundaries"]:
        assert lower_edge(b["intervals"]) == (1 / frac(b["params"]["k"]), True)
    for p in tr["points"]:
        k, kappa = frac(p["params"]["k"]), frac(p["free"]["kappa"])
        assert (p["status"] == "differ") == (kappa > 1 / k)
        if p["status"] == "differ":
            assert p["a"] == "investor.send = 0, trustee.back = 0" and p["b"] == "investor.send = 10, trustee.back = 0"


def test_fixed_kappas_differ_exactly_where_the_thresholds_fall_between(tmp_path: Path, capsys):
    code = run_cli(
        [
            SPECS / "paper.pref",
            "--preference",
            "moralis(kappa=0.25)",
            "--preference",
            "moralis(kappa=0.75)",
            "--game",
            "prisoners_dilemma",
            "--game",
            "public_goods",
            "-o",
            tmp_path,
            "--no-plots",
        ]
    )
    assert code == 0
    assert "public_goods" in capsys.readouterr().out
    data = json.loads((tmp_path / "diff.json").read_text())
    assert not list(tmp_path.glob("*.png"))
    lo, hi = F(1, 4), F(3, 4)
    pd = entry(data, "prisoners_dilemma")
    for p in pd["points"]:
        T, S = frac(p["params"]["T"]), frac(p["params"]["S"])
        coop = [k >= (T - R) / (T - P) for k in (lo, hi)]
        defect = [k <= (P - S) / (R - S) for k in (lo, hi)]
        assert (p["status"] != "same") == (coop[0] != coop[1] or defect[0] != defect[1])
    pg = entry(data, "public_goods")
    assert pg["agreement"]["agree"] and pg["grid"]["free"] == {}
    expected = set()
    for p in pg["points"]:
        n, m = frac(p["params"]["n"]), frac(p["params"]["m"])
        t = (n - m) / (m * (n - 1))
        if (lo > t) != (hi > t):
            expected.add((n, m))
    assert (
        expected
        and {(frac(p["params"]["n"]), frac(p["params"]["m"])) for p in pg["points"] if p["status"] == "differ"}
        == expected
    )
    for b in pg["closed_form"]["boundaries"]:
        assert b["differ"] == ((frac(b["params"]["n"]), frac(b["params"]["m"])) in expected)


def test_two_specs_differ_exactly_where_the_changed_payoff_matters(tmp_path: Path):
    text = (SPECS / "paper.pref").read_text()
    old = "payoff member[i] = e - member[i].give + m / n * sum(member.give)"
    assert old in text
    (tmp_path / "variant.pref").write_text(text.replace(old, old.replace("+ m / n", "+ 2 * m / n")))
    shutil.copy(SPECS / "preferences.pref", tmp_path / "preferences.pref")
    out = tmp_path / "out"
    code = run_cli(
        [
            SPECS / "paper.pref",
            tmp_path / "variant.pref",
            "--game",
            "prisoners_dilemma",
            "--game",
            "public_goods",
            "-o",
            out,
        ]
    )
    assert code == 0
    data = json.loads((out / "diff.json").read_text())
    assert data["kind"] == "specs" and len(data["inputs"]) == 2
    assert data["inputs"][1]["sha256"] != data["inputs"][0]["sha256"]
    labels = ["economicus", "moralis(kappa=0.5)", "moralis(kappa=0.25)", "moralis(kappa=0.75)"]  # the build blocks'
    assert [g["a"]["preference"] for g in data["games"]] == labels * 2
    for label in labels:
        assert entry(data, "prisoners_dilemma", label)["counts"]["same"] == 15  # unchanged game: no difference
        kappa = F(0) if label == "economicus" else F(label.split("=")[1].rstrip(")"))
        pg = entry(data, "public_goods", label)
        assert pg["agreement"]["agree"]
        for p in pg["points"]:
            n, m = frac(p["params"]["n"]), frac(p["params"]["m"])
            full_a = kappa > (n - m) / (m * (n - 1))
            full_b = kappa > (n - 2 * m) / (2 * m * (n - 1))
            assert (p["status"] == "differ") == (full_a != full_b), (label, n, m)
    assert (out / "diff_public_goods.png").read_bytes()[:8] == PNG


# ----------------------------------------------------------------------------- bad input


def test_bad_spec_inputs(tmp_path: Path, capsys):
    paper = SPECS / "paper.pref"
    lonely = tmp_path / "lonely.pref"
    lonely.write_text(
        'spec lonely\nuse "preferences.pref"\n\ngame solo {\n    players me, you\n    param E = 10\n'
        "    me chooses give in [0, E]\n    payoff me = E - give\n    payoff you = give\n}\n"
    )
    shutil.copy(SPECS / "preferences.pref", tmp_path / "preferences.pref")
    assert run_cli([paper, lonely]) == 1
    assert "share no game" in capsys.readouterr().err

    assert run_cli([paper, "--preference", "economicus", "--preference", "moralsi"]) == 1
    err = capsys.readouterr().err
    assert "E0203" in err and "did you mean `moralis`?" in err and "Traceback" not in err

    assert run_cli([paper, "--preference", "economicus", "--preference", "economicus"]) == 1
    assert "give two different preferences" in capsys.readouterr().err

    assert run_cli([paper, "--preference", "economicus"]) == 2
    assert "exactly two --preference" in capsys.readouterr().err

    assert run_cli([paper, paper, paper]) == 2
    assert run_cli([paper, tmp_path / "missing.pref"]) == 1
    assert "no such file or directory" in capsys.readouterr().err

    assert run_cli([paper, tmp_path]) == 1
    assert "cannot compare a spec" in capsys.readouterr().err

    assert run_cli([paper, paper, "--game", "solo"]) == 1
    assert "game `solo` is not in" in capsys.readouterr().err

    assert run_cli([paper, "--preference", "economicus", "--preference", "moralis", "--game", "trsut"]) == 1
    assert "did you mean `trust`?" in capsys.readouterr().err

    assert run_cli([paper, "--preference", "economicus", "--preference", "moralis(kappa=0.25, 0.5)"]) == 2
    assert "must name one point" in capsys.readouterr().err

    blocker = tmp_path / "blocker"
    blocker.write_text("")
    assert (
        run_cli(
            [
                paper,
                "--preference",
                "economicus",
                "--preference",
                "moralis(kappa=0.5)",
                "--game",
                "dictator",
                "-o",
                blocker,
            ]
        )
        == 1
    )
    assert "exists and is not a directory" in capsys.readouterr().err


# ----------------------------------------------------------------------------- results


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small rubric compiled from the paper's games and preferences, and cheap agents' runs on it.

    The prisoner's dilemma sweep is narrowed to points where every kappa on the rubric's family
    grid has a symmetric pure equilibrium, and the rubric is small to keep the test fast.
    """
    root = tmp_path_factory.mktemp("results")
    text = (SPECS / "paper.pref").read_text()
    text = re.sub(r"\ndataset sft.*?\n}\n", "\n", text, flags=re.S)
    text = re.sub(r"(rubric eval[^{]*\{\s*)games [^\n]*", r"\1games trust, prisoners_dilemma", text)
    text = text.replace(
        "param T = 5 vary {4, 5, 6, 7, 8}, R = 3, P = 1, S = 0 vary {0, -1, -2}",
        "param T = 5 vary {4, 5}, R = 3, P = 1, S = -1 vary {-1, -2}",
    ).replace("items 200", "items 24")
    (root / "paper.pref").write_text(text)
    shutil.copy(SPECS / "preferences.pref", root / "preferences.pref")
    build = compile_spec(check_file(str(root / "paper.pref")), root / "build")
    rubric = build.directory / "eval.jsonl"
    agents = {
        "econ": "theory:economicus",
        "moralis": "theory:moralis(kappa=0.5)",
        "econ_again": "theory:economicus",
        "logit1": "logit:kappa=0.5,temperature=1,seed=1",
        "logit2": "logit:kappa=0.5,temperature=1,seed=2",
    }
    out = {name: root / name for name in agents}
    for name, spec in agents.items():
        evaluate(rubric, make_agent(spec), out[name], progress=False, plots=False)
    evaluate(rubric, make_agent("theory:economicus"), root / "econ_part", progress=False, plots=False, limit=18)
    out["econ_part"] = root / "econ_part"
    return out


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in (path / "results.jsonl").read_text().splitlines() if line.strip()]


def test_theory_agents_differ_beyond_noise(runs, tmp_path: Path):
    out = tmp_path / "d"
    assert run_cli([runs["econ"], runs["moralis"], "-o", out]) == 0
    data = json.loads((out / "diff.json").read_text())
    assert data["kind"] == "results" and data["paired"] and data["verdict"] == "differ"
    for inp, name in zip(data["inputs"], ("econ", "moralis"), strict=False):
        assert inp["sha256"]["results.jsonl"] == hashlib.sha256((runs[name] / "results.jsonl").read_bytes()).hexdigest()
    pd = next(g for g in data["games"] if g["game"] == "prisoners_dilemma")
    # every PD item: economicus defects, moralis(0.5) cooperates (payoff-dominant at these T, S)
    n_pd = sum(1 for r in _records(runs["econ"]) if r["game"] == "prisoners_dilemma")
    assert pd["kind"] == "discrete" and pd["a"]["counts"] == {"defect": n_pd, "cooperate": 0}
    assert pd["b"]["counts"] == {"defect": 0, "cooperate": n_pd}
    assert pd["choice"]["test"] == "McNemar exact"
    assert pd["choice"]["p"] == pytest.approx(2 * 0.5**n_pd)  # all pairs discordant one way
    assert pd["choice"]["significant"]
    send = next(g for g in data["games"] if g["action"] == "send")
    assert send["kind"] == "continuous" and send["choice"]["test"] == "Wilcoxon signed-rank"
    assert send["a"]["mean"] == 0 and send["b"]["mean"] > 0
    overall = {t["what"]: t for t in data["overall"]}
    assert overall["accuracy vs economicus"]["a"] == 1.0 and overall["accuracy vs economicus"]["significant"]
    assert overall["parse rate"]["p"] == 1.0 and not overall["parse rate"]["significant"]
    k = overall["kappa"]
    assert k["a"]["estimate"] < 0.25 < k["b"]["ci_low"] and k["significant"]
    assert (out / "diff_results.png").read_bytes()[:8] == PNG


def test_same_agent_twice_and_seeded_logit_agents_do_not_differ(runs, capsys):
    same = diff_results(runs["econ"], runs["econ_again"])
    assert same.paired and not same.significant
    assert all(t.p == 1.0 for t in same.tests if t.p is not None)
    logit = diff_results(runs["logit1"], runs["logit2"])
    assert logit.paired and not logit.significant
    answers = [[r["parsed"] for r in _records(runs[n])] for n in ("logit1", "logit2")]
    assert answers[0] != answers[1]  # different seeds, different draws, same kappa
    assert logit.to_json()["verdict"] == "no significant difference"
    assert run_cli([runs["logit1"], runs["logit2"]]) == 0
    printed = capsys.readouterr().out
    assert "no significant difference" in printed and "McNemar" in printed and "A = logit:kappa=0.5" in printed


def test_unequal_item_sets_use_unpaired_tests(runs):
    d = diff_results(runs["econ_part"], runs["moralis"])
    assert not d.paired and "unpaired" in d.notes[0]
    pd = next(g for g in d.groups if g.game == "prisoners_dilemma")
    assert pd.choice.test == "Fisher's exact" and pd.choice.significant
    send = next(g for g in d.groups if g.action == "send")
    assert send.choice.test == "Mann-Whitney U"
    acc = next(t for t in d.overall if t.what == "accuracy vs economicus")
    assert acc.test == "two-proportion z-test"


def test_statistics_helpers_against_hand_computation():
    assert holm([0.01, 0.04, 0.03, None]) == [0.03, 0.06, 0.06, None]
    # Stuart-Maxwell on a 3x3 table: d = (row - column margins)[:2], S from the table by hand
    x = ["a"] * 6 + ["b"] * 4 + ["c"] * 2
    y = ["a", "a", "b", "b", "c", "c", "b", "b", "a", "c", "c", "c"]
    stat, p, df = stuart_maxwell(x, y, ["a", "b", "c"])
    assert df == 2 and stat == pytest.approx(36 / 11) and p == pytest.approx(math.exp(-18 / 11))  # chi2(2) tail


def test_bad_results_inputs(runs, tmp_path: Path, capsys):
    other = tmp_path / "other"
    shutil.copytree(runs["econ"], other)
    summary = json.loads((other / "summary.json").read_text())
    summary["spec_sha256"] = "0" * 64
    (other / "summary.json").write_text(json.dumps(summary))
    assert run_cli([runs["econ"], other]) == 1
    assert "different rubrics" in capsys.readouterr().err

    corrupt = tmp_path / "corrupt"
    shutil.copytree(runs["econ"], corrupt)
    lines = (corrupt / "results.jsonl").read_text().splitlines()
    (corrupt / "results.jsonl").write_text("\n".join([lines[0], lines[1][:40], *lines[2:]]) + "\n")
    assert run_cli([runs["econ"], corrupt]) == 1
    assert re.search(r"results\.jsonl:2: invalid JSON", capsys.readouterr().err)

    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli([runs["econ"], empty]) == 1
    assert "summary.json: missing" in capsys.readouterr().err
    with pytest.raises(ResultsError, match="no such results directory"):
        load_run(tmp_path / "nope")

    assert run_cli([runs["econ"], runs["moralis"], "--preference", "economicus"]) == 2
    assert "not to results directories" in capsys.readouterr().err
