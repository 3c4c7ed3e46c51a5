"""Scoring: per-item correctness, nearest type, kappa by maximum likelihood, incentive slopes.

The rubrics are built here from closed forms: the prisoner's dilemma under homo moralis,
``u(a) = (1 - kappa) * A[a, b] + kappa * A[a, a]`` against a stated opponent move ``b``, whose
cooperation thresholds are ``kappa >= (T - R) / (T - P)`` (opponent cooperates) and
``kappa >= (P - S) / (R - S)`` (opponent defects), and a linear public-goods game whose full
contribution threshold is ``kappa > (n - m) / (m (n - 1))`` (Alger & Weibull 2013).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from score_rubrics import (
    GRID,
    KAPPA_OF,
    LABELS,
    PD_MOVES,
    build_items,
    header,
    logit_choices,
    pd_item,
    pg_item,
    score_all,
)

from prefc.runtime import score


def test_closed_form_thresholds_hold_in_the_built_rubric() -> None:
    # PD, opponent cooperates: cooperate iff kappa >= (T-R)/(T-P) -> 1/2 at T=5.
    it = pd_item(0, T=5, S=0, opponent="cooperate")
    assert it["targets"]["moralis(kappa=0.65)"]["move"] == "cooperate"
    assert it["targets"]["moralis(kappa=0.3)"]["move"] == "defect"
    # Public goods n=4, m=1.6: full contribution iff kappa > 1/2.
    it = pg_item(0, n=4)
    assert it["targets"]["moralis(kappa=0.65)"]["give"] == 20
    assert it["targets"]["moralis(kappa=0.3)"]["give"] == 0
    assert it["targets"]["economicus"]["give"] == 0


def test_item_correctness_choice_integer_number_and_alternatives() -> None:
    schema = {"move": {"kind": "choice", "options": PD_MOVES}}
    tie = {"move": "defect", "alternatives": [{"move": "cooperate"}]}
    assert score.answer_matches({"move": "cooperate"}, tie, schema, tolerance=0.05)
    assert not score.answer_matches({"move": "cooperate"}, {"move": "defect"}, schema, tolerance=0.05)
    num = {"give": {"kind": "number", "min": 0, "max": 20}}
    assert score.answer_matches({"give": 10.9}, {"give": 10}, num, tolerance=0.05)  # 0.9 <= 1.0
    assert not score.answer_matches({"give": 11.1}, {"give": 10}, num, tolerance=0.05)
    assert score.answer_distance({"give": 15}, {"give": 10}, num) == pytest.approx(0.25)
    assert score.answer_distance({"give": 15}, {"give": 0, "alternatives": [{"give": 20}]}, num) == pytest.approx(0.25)
    integer = {"give": {"kind": "integer", "min": 0, "max": 10, "step": 1}}
    assert not score.answer_matches({"give": 4}, {"give": 5}, integer, tolerance=0.5)  # integers are exact
    assert score.answer_matches({"give": 5}, {"give": 5}, integer, tolerance=0.0)
    assert score.answer_distance({"give": 4}, {"give": 5}, integer) == pytest.approx(0.1)
    assert score.answer_distance({"move": "defect"}, {"move": "defect"}, schema) is None
    two = {"send": {"kind": "integer", "min": 0, "max": 10}, "move": {"kind": "choice", "options": PD_MOVES}}
    assert not score.answer_matches(
        {"send": 3, "move": "defect"}, {"send": 3, "move": "cooperate"}, two, tolerance=0.05
    )
    assert not score.answer_matches({"send": True}, {"send": 1}, integer, tolerance=0.05)


def test_soft_answers_take_the_argmax_and_expected_correctness() -> None:
    it = pd_item(0, T=5, S=0, opponent="cooperate")
    out = score.score_item(it, value=None, option_probs=[0.7, 0.3], scoring="logprob")
    assert out.ok and out.value == {"move": "cooperate"} and out.option_index == 0
    assert out.correct["moralis(kappa=0.65)"] and not out.correct["economicus"]
    assert out.expected_correct is not None
    assert out.expected_correct["moralis(kappa=0.65)"] == pytest.approx(0.7)
    assert out.expected_correct["economicus"] == pytest.approx(0.3)


def test_numeric_answers_snap_to_the_nearest_family_option() -> None:
    it = pg_item(0, n=4)
    out = score.score_item(it, value={"give": 13.1})
    assert out.option_index == 7  # 14 is the nearest of 0, 2, ..., 20
    assert out.distance["economicus"] == pytest.approx(13.1 / 20)


@pytest.mark.parametrize("label", LABELS)
def test_theory_answers_are_fully_accurate_and_nearest(label: str) -> None:
    items = build_items(200, seed=1)
    values = [{k: v for k, v in it["targets"][label].items() if k != "alternatives"} for it in items]
    summary = score.summarize(items, score_all(items, values), labels=LABELS, family=header(items)["family"])
    acc = {p.label: p.accuracy for p in summary.preferences}
    assert acc[label] == 1.0
    assert summary.nearest is not None and summary.nearest.label == label
    assert summary.nearest.margin is not None and summary.nearest.margin > 0
    assert summary.parse_rate == 1.0
    # The kappa estimate's interval covers the type's kappa; deterministic play: precision at its bound.
    assert summary.kappa is not None
    assert summary.kappa.ci_low - 1e-6 <= KAPPA_OF[label] <= summary.kappa.ci_high + 1e-6


@pytest.mark.parametrize(("kappa", "seed"), [(0.2, 1), (0.5, 2), (0.8, 3)])
def test_kappa_is_recovered_from_logit_choices(kappa: float, seed: int) -> None:
    items = build_items(300, seed=seed)
    values: list[dict[str, Any] | None] = list(logit_choices(items, kappa=kappa, temperature=0.4, seed=seed))
    est = score.estimate_kappa(items, score_all(items, values), grid=GRID)
    assert est is not None
    assert est.ci_low <= kappa <= est.ci_high
    assert abs(est.estimate - kappa) <= 0.1
    assert est.precision == pytest.approx(2.5, rel=0.35)  # lambda = 1 / temperature
    assert est.n_used == 300 and est.n_unparsed == 0
    # The interval is the likelihood-ratio set: the profile at its ends is 3.84/2 below the maximum.
    by_k = {round(p.kappa, 6): p.loglik for p in est.profile}
    assert max(by_k.values()) <= est.loglik + 1e-6
    if not est.ci_low_at_bound:
        prof_low = est.profile[int(np.argmin([abs(p.kappa - est.ci_low) for p in est.profile]))].loglik
        assert est.loglik - prof_low == pytest.approx(score.CHI2_1_95 / 2, abs=0.3)


def test_unparsed_answers_are_excluded_from_the_kappa_likelihood_and_counted() -> None:
    items = build_items(120, seed=3)
    values: list[dict[str, Any] | None] = list(logit_choices(items, kappa=0.5, temperature=0.5, seed=3))
    for i in range(0, 120, 4):
        values[i] = None
    est = score.estimate_kappa(items, score_all(items, values), grid=GRID)
    assert est is not None and est.n_unparsed == 30 and est.n_used == 90


def test_soft_counts_equal_the_expected_log_likelihood() -> None:
    # Two soft answers equal, in likelihood, to the matching mixture of hard answers (weighted copies).
    items = build_items(60, seed=5, pg_share=0.0)
    rng = np.random.default_rng(0)
    probs = [float(rng.uniform(0.05, 0.95)) for _ in items]
    soft = [
        score.score_item(it, value=None, option_probs=[p, 1 - p], scoring="logprob")
        for it, p in zip(items, probs, strict=True)
    ]
    est_soft = score.estimate_kappa(items, soft, grid=GRID)
    # Replicate each item 20 times with hard answers in proportion p (rounded): close to the soft fit.
    rep_items, rep_out = [], []
    for it, p in zip(items, probs, strict=True):
        k = round(20 * p)
        for j in range(20):
            rep_items.append(it)
            rep_out.append(score.score_item(it, value={"move": "cooperate" if j < k else "defect"}))
    est_hard = score.estimate_kappa(rep_items, rep_out, grid=GRID)
    assert est_soft is not None and est_hard is not None and est_soft.n_soft == 60
    assert est_soft.estimate == pytest.approx(est_hard.estimate, abs=0.03)
    assert 20 * est_soft.loglik == pytest.approx(est_hard.loglik, rel=0.02)


def test_uninformative_answers_give_a_wide_interval() -> None:
    items = build_items(100, seed=7)
    values: list[dict[str, Any] | None] = list(logit_choices(items, kappa=0.5, temperature=1e6, seed=7))
    est = score.estimate_kappa(items, score_all(items, values), grid=GRID)
    assert est is not None and est.ci_high - est.ci_low > 0.5


def test_ols_matches_the_closed_form_slope() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, 50)
    y = 3 * x + 1 + rng.normal(0, 1, 50)
    coef, se = score.ols(x, y)
    xc = x - x.mean()
    slope = float(xc @ (y - y.mean()) / (xc @ xc))
    resid = y - y.mean() - slope * xc
    assert coef[0] == pytest.approx(slope)
    assert se is not None and se[0] == pytest.approx(math.sqrt(resid @ resid / 48 / (xc @ xc)))
    with pytest.raises(ValueError):
        score.ols(np.ones(5), np.arange(5.0))


def test_incentive_slopes_recover_a_known_linear_dependence() -> None:
    # Agent contribution = 2 + 1.5 * n (plus noise), continuous schema wide enough to hold it.
    rng = np.random.default_rng(4)
    items = []
    for i in range(200):
        it = pg_item(i, n=int(rng.integers(2, 9)))
        it["schema"]["give"]["max"] = 20
        items.append(it)
    values = [{"give": 2 + 1.5 * it["params"]["n"] + float(rng.normal(0, 0.5))} for it in items]
    slopes = score.incentive_slopes(items, score_all(items, values), labels=LABELS)
    (s,) = [s for s in slopes if s.param == "n"]
    assert s.agent.slope is not None and s.agent.se is not None
    assert abs(s.agent.slope - 1.5) <= 3 * s.agent.se and s.agent.se < 0.05
    # Theory: homo moralis 0.3 gives everything only for n = 2 (threshold 0.25); economicus never gives.
    assert s.targets["economicus"].slope == pytest.approx(0.0)
    assert s.targets["moralis(kappa=0.3)"].slope is not None and s.targets["moralis(kappa=0.3)"].slope < -1


def test_incentive_slopes_for_choices_use_the_first_option_indicator_jointly() -> None:
    items = build_items(400, seed=8, pg_share=0.0)
    rng = np.random.default_rng(8)
    # P(cooperate) = 0.9 - 0.1 * T + 0.05 * S: a linear probability model with known coefficients.
    values = []
    for it in items:
        p = 0.9 - 0.1 * it["params"]["T"] + 0.05 * it["params"]["S"]
        values.append({"move": "cooperate" if rng.random() < p else "defect"})
    slopes = {s.param: s for s in score.incentive_slopes(items, score_all(items, values), labels=LABELS)}
    assert set(slopes) == {"T", "S"} and slopes["T"].method == "joint"
    for param, true in (("T", -0.1), ("S", 0.05)):
        a = slopes[param].agent
        assert a.slope is not None and a.se is not None and abs(a.slope - true) <= 3 * a.se
    # Theory slopes: economicus always defects, so its indicator never moves.
    assert slopes["T"].targets["economicus"].slope == pytest.approx(0.0)
    assert slopes["T"].points and all(0 <= (p.agent or 0) <= 1 for p in slopes["T"].points)


def test_summary_serialises_to_json_and_back() -> None:
    items = build_items(60, seed=9)
    values: list[dict[str, Any] | None] = list(logit_choices(items, kappa=0.5, temperature=0.5, seed=9))
    values[0] = None
    summary = score.summarize(items, score_all(items, values), labels=LABELS, family=header(items)["family"], agent="x")
    data = json.loads(summary.model_dump_json())
    again = score.Summary.model_validate(data)
    assert again == summary
    assert data["n_items"] == 60 and data["n_parsed"] == 59 and data["parse_rate"] == pytest.approx(59 / 60)
    # Unparsed answers count as wrong for every preference.
    assert all(p["n"] == 60 for p in data["preferences"])


def test_a_tie_declares_no_nearest_type() -> None:
    a = score.PreferenceScore(
        label="a", n=10, accuracy=0.5, expected_accuracy=0.5, accuracy_by_game={}, mean_distance=0.3, n_numeric=10
    )
    b = score.PreferenceScore(
        label="b", n=10, accuracy=0.5, expected_accuracy=0.5, accuracy_by_game={}, mean_distance=0.1, n_numeric=10
    )
    c = score.PreferenceScore(
        label="c", n=10, accuracy=0.2, expected_accuracy=0.2, accuracy_by_game={}, mean_distance=0.0, n_numeric=10
    )
    # a 0.000 margin is no evidence for either type, whatever the distances or the declaration order
    assert score.nearest_type([a, b, c]) is None and score.nearest_type([b, a, c]) is None
    assert score.nearest_note([a, b, c]) == "a tie: b, a at accuracy 0.500"
    lead = a.model_copy(update={"accuracy": 0.6})
    near = score.nearest_type([lead, b, c])
    assert near is not None and near.label == "a" and near.runner_up == "b" and near.margin == pytest.approx(0.1)
    assert score.nearest_note([lead, b, c]) is None


def test_an_agent_that_matched_nothing_has_no_nearest_type() -> None:
    nothing = [
        score.PreferenceScore(
            label=x, n=10, accuracy=0.0, expected_accuracy=0.0, accuracy_by_game={}, mean_distance=None, n_numeric=0
        )
        for x in ("a", "b")
    ]
    assert score.nearest_type(nothing) is None
    # a smaller distance does not make a type of an agent no answer of which was within tolerance
    nothing[1] = nothing[1].model_copy(update={"mean_distance": 0.4, "n_numeric": 10})
    assert score.nearest_type(nothing) is None
    assert score.nearest_note(nothing) == "no answer matched any preference"


def test_the_margin_has_a_paired_standard_error() -> None:
    # 40 items: the answer matches a on 30, b on 20, both on 15 (paired differences +1 x15, -1 x5, 0 x20)
    outcomes = []
    for i in range(40):
        hit_a, hit_b = (i < 30), (15 <= i < 35)
        outcomes.append(
            score.ItemOutcome(id=str(i), game="g", role="r", ok=True, value={"x": 1}, correct={"a": hit_a, "b": hit_b})
        )
    scores = score.preference_scores(outcomes, ["a", "b"])
    near = score.nearest_type(scores, outcomes=outcomes)
    assert near is not None and near.label == "a" and near.margin == pytest.approx(0.25)
    d = np.array([1.0] * 15 + [-1.0] * 5 + [0.0] * 20)
    assert near.margin_se == pytest.approx(d.std(ddof=1) / math.sqrt(40))


@pytest.mark.slow
@pytest.mark.parametrize("kappa", [0.2, 0.5, 0.8])
def test_kappa_interval_coverage_is_near_95_percent(kappa: float) -> None:
    # 40 replications: a correct 95% interval misses more than 6 times with probability ~1%.
    covered = 0
    errors = []
    for rep in range(40):
        items = build_items(300, seed=1000 + rep)
        values: list[dict[str, Any] | None] = list(logit_choices(items, kappa=kappa, temperature=0.4, seed=rep))
        est = score.estimate_kappa(items, score_all(items, values), grid=GRID)
        assert est is not None
        covered += est.ci_low <= kappa <= est.ci_high
        errors.append(est.estimate - kappa)
    assert covered >= 34
    assert abs(float(np.mean(errors))) < 0.03
