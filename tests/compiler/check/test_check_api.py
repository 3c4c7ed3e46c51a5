"""The semantic check's published pieces: preference applications checked on their own, the one
exact evaluator of constants and hold-out conditions, and the number texts it writes."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prefc.compiler.check import NotConstant, check_file, check_preference_application, eval_const, evaluate_condition
from prefc.compiler.diagnostics import DiagnosticBag
from prefc.compiler.parse import parse_preference_app, parse_text
from prefc.numbers import fraction_text, value_text

SPECS = Path(__file__).resolve().parents[3] / "specs"


def _condition(text: str):
    """The first hold-out condition of a dataset block whose ``holdout where`` is ``text``."""
    tree = parse_text(f"dataset d for p {{\n    games g\n    holdout where {text}\n}}\n")
    return tree.builds[0].holdout_where[0]


def test_an_application_with_two_values_is_two_points():
    spec = check_file(str(SPECS / "paper.pref"))
    _, app = parse_preference_app("moralis(kappa = 0.2, 0.5)")
    bag = DiagnosticBag()
    points = check_preference_application(app, spec.preferences, bag=bag)
    assert not bag.items
    assert [p.label for p in points] == ["moralis(kappa=0.2)", "moralis(kappa=0.5)"]
    assert [dict(p.values)["kappa"] for p in points] == [Fraction(1, 5), Fraction(1, 2)]


def test_a_misspelt_application_is_located_with_a_suggestion():
    spec = check_file(str(SPECS / "paper.pref"))
    _, app = parse_preference_app("moralsi(kappa = 0.2)")
    bag = DiagnosticBag()
    assert check_preference_application(app, spec.preferences, bag=bag) == []
    (d,) = bag.items
    assert d.code == "E0203" and d.label == "did you mean `moralis`?"
    assert (d.span.start, d.span.end) == (0, len("moralsi"))


def test_an_application_outside_the_domain_is_refused():
    spec = check_file(str(SPECS / "paper.pref"))
    _, app = parse_preference_app("moralis(kappa = 2)")
    bag = DiagnosticBag()
    check_preference_application(app, spec.preferences, bag=bag)
    assert [d.code for d in bag.items] == ["E0304"]
    assert "kappa = 2 is outside its domain [0, 1]" in bag.items[0].message


def test_conditions_and_constants_share_one_exact_evaluator():
    env = {"T": Fraction(5), "S": Fraction(-1, 3)}
    assert evaluate_condition(_condition("T > 4 and not S >= 0"), env) is True
    assert evaluate_condition(_condition("T / 3 == 5 / 3 or S < -1"), env) is True
    assert evaluate_condition(_condition("min(T, S) > 0"), env) is False
    # the arithmetic of a condition's sides is eval_const's, exactly
    side = _condition("T * S + 2 ^ 3 > 0").left
    assert eval_const(side, env) == Fraction(5) * Fraction(-1, 3) + 8


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("R > 1", "`R` has no value here"),
        ("T / (T - 5) > 1", "division by zero"),
        ("T + 1", "a number is used as a condition"),
        ("(T > 1) + 1 > 0", "a truth value is used as a number"),
        ("T ^ 100 > 1", "unsupported power"),
    ],
)
def test_a_condition_that_cannot_be_evaluated_says_why(text, message):
    with pytest.raises(NotConstant) as refused:
        evaluate_condition(_condition(text), {"T": Fraction(5)})
    assert refused.value.message == message


def test_a_comparison_is_not_a_constant():
    with pytest.raises(NotConstant) as refused:
        eval_const(_condition("1 < 2"), {})
    assert str(refused.value) == "Compare"


@given(st.fractions(min_value=-(10**12), max_value=10**12, max_denominator=10**6))
def test_value_and_fraction_texts_are_exact(v):
    assert Fraction(fraction_text(v)) == v
    assert Fraction(value_text(v)) == v
    # a short decimal is written as one (beyond 15 significant digits a float cannot hold it)
    if v.denominator in (1, 2, 4, 5, 8, 10):
        assert "/" not in value_text(v)


@given(st.fractions(max_denominator=10**6))
def test_value_text_is_exact_or_says_it_is_a_magnitude(v):
    text = value_text(v)
    assert Fraction(text) == v if not text.startswith("about 10^") else abs(v) > 10**59


def test_value_text_of_a_huge_value_is_its_magnitude():
    assert value_text(Fraction(10**250)) == "about 10^250"
    assert value_text(Fraction(3, 4)) == "0.75" and value_text(Fraction(1, 3)) == "1/3"
