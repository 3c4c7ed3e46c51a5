"""Margins between preferences with bootstrap intervals, and the "not distinguishable" verdict."""

from __future__ import annotations

import math
import random

import pytest

from prefc.runtime.verdict import margin, verdict


def _records(pairs: list[tuple[bool, bool]]) -> list[dict]:
    return [{"correct": {"a": x, "b": y}} for x, y in pairs]


def test_margin_is_the_accuracy_difference_and_its_interval_matches_the_normal_approximation() -> None:
    rng = random.Random(3)
    pairs = [(rng.random() < 0.7, rng.random() < 0.5) for _ in range(400)]
    m = margin(_records(pairs), "a", "b", seed=1)
    d = [int(x) - int(y) for x, y in pairs]
    mean = sum(d) / len(d)
    sd = math.sqrt(sum((v - mean) ** 2 for v in d) / len(d))
    assert m.margin == pytest.approx(mean)
    assert m.items == 400 and m.telling == sum(1 for v in d if v)
    assert m.low == pytest.approx(mean - 1.96 * sd / 20, abs=0.015)
    assert m.high == pytest.approx(mean + 1.96 * sd / 20, abs=0.015)
    assert m.distinguishable and "not distinguishable" not in m.text()
    assert margin(_records(pairs), "a", "b", seed=1) == m  # seeded


def test_items_that_agree_move_nothing_and_a_one_item_lead_is_not_distinguishable() -> None:
    same = _records([(True, True)] * 30 + [(False, False)] * 17)
    m = margin(same, "a", "b")
    assert (m.margin, m.low, m.high, m.telling) == (0.0, 0.0, 0.0, 0) and not m.distinguishable
    one = _records([(True, True)] * 47 + [(True, False)])  # the docs' moralis adapter: one item of 48
    m = margin(one, "a", "b")
    assert m.margin == pytest.approx(1 / 48) and m.low == 0.0 and not m.distinguishable
    assert m.text().endswith("not distinguishable")


def test_verdict_names_the_nearest_and_its_runner_up() -> None:
    recs = [{"correct": {"x": True, "y": i % 3 == 0, "z": False}} for i in range(60)]
    v = verdict(recs, ["z", "y", "x"])
    assert (v.nearest, v.runner_up) == ("x", "y") and v.lead is not None
    assert v.lead.margin == pytest.approx(40 / 60) and v.lead.distinguishable
    assert v.text().startswith("nearest x, +0.67")
    assert verdict([{"correct": {"x": False}}], ["x"]).nearest is None  # nothing matched: no type
    assert verdict([], ["x"]).text().startswith("no nearest type")
    with pytest.raises(ValueError):
        margin([], "a", "b")
