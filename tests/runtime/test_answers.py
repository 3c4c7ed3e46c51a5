"""Answer parsing: a table of realistic outputs, adversarial inputs, and property tests."""

from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefc.runtime.answers import MAX_SCAN_CHARS, ParsedAnswer, SchemaError, format_answer, parse_answer

PD = {"move": {"kind": "choice", "options": ["cooperate", "defect"]}}
DICTATOR = {"give": {"kind": "integer", "min": 0, "max": 10, "step": 1}}
EVEN = {"n": {"kind": "integer", "min": 0, "max": 20, "step": 2}}
PRICE = {"price": {"kind": "number", "min": 0, "max": 2.5}}
TRUST = {
    "send": {"kind": "number", "min": 0, "max": 10},
    "accept": {"kind": "choice", "options": ["yes", "no"]},
}

REASONING = (
    "If I defect while the other cooperates I get T = 5; mutual cooperation gives R = 3.\n"
    "With kappa = 0.75 the Kantian term weighs 0.75 * 3 against 0.25 * 5, so cooperating is better.\n"
)

# (id, text, schema, expected ok, expected value, a fragment of the expected error)
CASES = [
    ("plain", 'ANSWER: {"move": "defect"}', PD, True, {"move": "defect"}, None),
    ("reasoning before", REASONING + 'ANSWER: {"move": "cooperate"}', PD, True, {"move": "cooperate"}, None),
    (
        "chatter after",
        REASONING + 'ANSWER: {"move": "cooperate"}\nHope this helps!\n',
        PD,
        True,
        {"move": "cooperate"},
        None,
    ),
    ("code fence", 'Reasoning...\n```\nANSWER: {"give": 3}\n```', DICTATOR, True, {"give": 3}, None),
    ("json fence after colon", 'Answer:\n```json\n{"give": 4}\n```', DICTATOR, True, {"give": 4}, None),
    ("lower case", 'answer: {"give": 0}', DICTATOR, True, {"give": 0}, None),
    ("markdown bold", '**ANSWER:** {"move": "defect"}', PD, True, {"move": "defect"}, None),
    ("bold trailing", '**Answer: {"move": "defect"}**', PD, True, {"move": "defect"}, None),
    ("multi-line object", 'ANSWER: {\n  "move": "defect"\n}\n', PD, True, {"move": "defect"}, None),
    ("label case and spaces", 'ANSWER: {"move": "  Defect "}', PD, True, {"move": "defect"}, None),
    ("crlf", 'I keep all.\r\nANSWER: {"give": 0}\r\n', DICTATOR, True, {"give": 0}, None),
    ("integral float for integer", 'ANSWER: {"give": 2.0}', DICTATOR, True, {"give": 2}, None),
    ("quoted integer", 'ANSWER: {"give": "7"}', DICTATOR, True, {"give": 7}, None),
    ("quoted decimal", 'ANSWER: {"price": " 1.47 "}', PRICE, True, {"price": 1.47}, None),
    ("number", 'ANSWER: {"price": 1.4729}', PRICE, True, {"price": 1.4729}, None),
    ("number at bound", 'ANSWER: {"price": 2.5}', PRICE, True, {"price": 2.5}, None),
    ("on step", 'ANSWER: {"n": 14}', EVEN, True, {"n": 14}, None),
    (
        "two actions, other order",
        'ANSWER: {"accept": "YES", "send": 10}',
        TRUST,
        True,
        {"send": 10, "accept": "yes"},
        None,
    ),
    (
        "last answer line wins",
        'ANSWER: {"move": "defect"}\nOn reflection:\nANSWER: {"move": "cooperate"}',
        PD,
        True,
        {"move": "cooperate"},
        None,
    ),
    (
        "last answer line wins even if bad",
        'ANSWER: {"move": "defect"}\nANSWER: {"move": "maybe"}',
        PD,
        False,
        None,
        "must be one of",
    ),
    ("wrong key", 'ANSWER: {"action": "defect"}', PD, False, None, "keys must be exactly"),
    ("extra key", 'ANSWER: {"move": "defect", "why": "money"}', PD, False, None, "unexpected"),
    ("missing key", 'ANSWER: {"send": 3}', TRUST, False, None, "missing"),
    ("duplicate key", 'ANSWER: {"give": 1, "give": 2}', DICTATOR, False, None, "duplicate key"),
    ("unknown label", 'ANSWER: {"move": "betray"}', PD, False, None, "must be one of"),
    ("out of range", 'ANSWER: {"give": 11}', DICTATOR, False, None, "outside [0, 10]"),
    ("negative", 'ANSWER: {"price": -0.1}', PRICE, False, None, "outside"),
    ("off the step", 'ANSWER: {"n": 3}', EVEN, False, None, "step"),
    ("fraction for integer", 'ANSWER: {"give": 2.5}', DICTATOR, False, None, "must be an integer"),
    ("bool for number", 'ANSWER: {"give": true}', DICTATOR, False, None, "must be a number"),
    ("null", 'ANSWER: {"give": null}', DICTATOR, False, None, "must be a number"),
    ("number for label", 'ANSWER: {"move": 1}', PD, False, None, "must be one of"),
    ("word for number", 'ANSWER: {"give": "five"}', DICTATOR, False, None, "must be a number"),
    ("exponent string", 'ANSWER: {"price": "1e0"}', PRICE, False, None, "must be a number"),
    ("NaN", 'ANSWER: {"price": NaN}', PRICE, False, None, "NaN"),
    ("Infinity", 'ANSWER: {"price": -Infinity}', PRICE, False, None, "Infinity"),
    ("overflow to infinity", 'ANSWER: {"price": 1e999}', PRICE, False, None, "not finite"),
    ("nested value", 'ANSWER: {"give": {"amount": 3}}', DICTATOR, False, None, "must be a number"),
    ("array", 'ANSWER: ["defect"]', PD, False, None, "expected a JSON object"),
    ("bare label", "ANSWER: defect", PD, False, None, "expected a JSON object"),
    ("truncated JSON", 'ANSWER: {"move": "def', PD, False, None, "invalid JSON"),
    ("text after object", 'ANSWER: {"move": "defect"} because it pays more', PD, False, None, "unexpected text"),
    ("two objects on the line", 'ANSWER: {"give": 1} {"give": 2}', DICTATOR, False, None, "unexpected text"),
    ("nothing after colon", "ANSWER:", PD, False, None, "nothing after ANSWER"),
    ("inline, not at line start", 'So my ANSWER: {"move": "defect"}', PD, False, None, "no line starting with ANSWER"),
    ("no answer line", "I would cooperate, since everyone doing so is better.", PD, False, None, "no line starting"),
    ("garbage", "\x00\x01\ufffd}{][::ANSWER", PD, False, None, "no line starting"),
    ("empty", "", PD, False, None, "empty output"),
    ("whitespace", "   \n\t\n", PD, False, None, "empty output"),
]


@pytest.mark.parametrize(("text", "schema", "ok", "value", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_table(text: str, schema: dict, ok: bool, value: dict | None, error: str | None) -> None:
    parsed = parse_answer(text, schema)
    assert isinstance(parsed, ParsedAnswer)
    assert parsed.ok is ok, parsed
    assert parsed.value == value
    if ok:
        assert parsed.error is None
        assert list(parsed.value) == list(schema)  # schema key order
        assert parsed.raw_line is not None and "answer" in parsed.raw_line.lower()
    else:
        assert error is not None and error in (parsed.error or ""), parsed.error


def test_canonical_label_is_returned() -> None:
    parsed = parse_answer('ANSWER: {"move": "COOPERATE"}', PD)
    assert parsed.value == {"move": "cooperate"}
    assert parsed.raw_line == 'ANSWER: {"move": "COOPERATE"}'


def test_integer_type_of_integer_actions() -> None:
    assert type(parse_answer('ANSWER: {"give": 4.0}', DICTATOR).value["give"]) is int
    assert type(parse_answer('ANSWER: {"give": "4"}', DICTATOR).value["give"]) is int


def test_fractional_step_is_exact() -> None:
    schema = {"x": {"kind": "integer", "min": 0, "max": 1, "step": 0.1}}
    assert parse_answer('ANSWER: {"x": 0.3}', schema).ok is False  # 0.3 is not an integer
    quarter = {"x": {"kind": "integer", "min": 1, "max": 9, "step": 4}}
    assert parse_answer('ANSWER: {"x": 5}', quarter).ok
    assert parse_answer('ANSWER: {"x": 4}', quarter).ok is False


def test_one_megabyte_of_text_is_cheap_and_rejected() -> None:
    text = ("lorem ipsum dolor sit amet " * 40000)[: 1 << 20]
    start = time.perf_counter()
    parsed = parse_answer(text, PD)
    assert time.perf_counter() - start < 0.5
    assert parsed.ok is False and str(MAX_SCAN_CHARS) in parsed.error


def test_answer_after_one_megabyte_is_found() -> None:
    text = "x" * (1 << 20) + '\nANSWER: {"move": "defect"}'
    assert parse_answer(text, PD).value == {"move": "defect"}


def test_answer_buried_before_the_scan_window_is_not_read() -> None:
    text = 'ANSWER: {"move": "defect"}\n' + "chatter\n" * (MAX_SCAN_CHARS // 8 + 10)
    parsed = parse_answer(text, PD)
    assert parsed.ok is False and "no line starting" in parsed.error


@pytest.mark.parametrize("depth", [50, 900, 1900])
def test_deeply_nested_json(depth: int) -> None:
    text = 'ANSWER: {"move": ' + "[" * depth + "]" * depth + "}"
    assert len(text) < MAX_SCAN_CHARS
    parsed = parse_answer(text, PD)
    assert parsed.ok is False and parsed.error


def test_deep_unclosed_nesting() -> None:
    parsed = parse_answer("ANSWER: " + '{"a":' * 700, PD)
    assert parsed.ok is False and parsed.error


def test_non_string_input() -> None:
    parsed = parse_answer(None, PD)  # type: ignore[arg-type]
    assert parsed.ok is False and "expected text" in parsed.error


@pytest.mark.parametrize(
    "schema",
    [
        {},
        {"a": {"kind": "vote"}},
        {"a": {"kind": "choice", "options": []}},
        {"a": {"kind": "number", "min": 2, "max": 1}},
        {"a": {"kind": "integer", "min": 0, "max": 3, "step": 0}},
        {"a": {"kind": "number", "min": 0, "max": float("nan")}},
    ],
)
def test_malformed_schema_raises(schema: dict) -> None:
    with pytest.raises(SchemaError):
        parse_answer('ANSWER: {"a": 1}', schema)


def test_format_answer_is_the_documented_line() -> None:
    assert format_answer({"give": 0}) == 'ANSWER: {"give": 0}'
    assert format_answer({"move": "defect"}) == 'ANSWER: {"move": "defect"}'
    assert format_answer({"accept": "yes", "send": 3}, schema=TRUST) == 'ANSWER: {"send": 3, "accept": "yes"}'
    with pytest.raises(ValueError):
        format_answer({"price": math.nan})


# ---- properties -------------------------------------------------------------------------------

_labels = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12
)


@st.composite
def schema_and_value(draw: st.DrawFn) -> tuple[dict, dict]:
    names = draw(st.lists(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), min_size=1, max_size=3, unique=True))
    schema: dict = {}
    value: dict = {}
    for name in names:
        kind = draw(st.sampled_from(["choice", "integer", "number"]))
        if kind == "choice":
            options = draw(
                st.lists(
                    _labels.filter(lambda s: s.strip() == s), min_size=1, max_size=5, unique_by=lambda s: s.casefold()
                )
            )
            schema[name] = {"kind": "choice", "options": options}
            value[name] = draw(st.sampled_from(options))
        elif kind == "integer":
            low = draw(st.integers(-1000, 1000))
            step = draw(st.integers(1, 7))
            count = draw(st.integers(0, 50))
            schema[name] = {"kind": "integer", "min": low, "max": low + step * count, "step": step}
            value[name] = low + step * draw(st.integers(0, count))
        else:
            low = draw(st.floats(-1e6, 1e6, allow_nan=False))
            high = draw(st.floats(low, 1e6 + 1, allow_nan=False))
            schema[name] = {"kind": "number", "min": low, "max": high}
            value[name] = draw(st.floats(low, high, allow_nan=False))
    order = draw(st.permutations(list(value)))
    return schema, {k: value[k] for k in order}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema_and_value(), st.text(max_size=200), st.text(max_size=200))
def test_format_then_parse_round_trips(sv: tuple[dict, dict], before: str, after: str) -> None:
    schema, value = sv
    line = format_answer(value, schema=schema)
    assert list(json.loads(line.removeprefix("ANSWER: "))) == list(schema)
    parsed = parse_answer(line, schema)
    assert parsed.ok, parsed.error
    assert parsed.value == value and list(parsed.value) == list(schema)
    # Reasoning before and chatter after (without answer lines of its own) change nothing.
    before = "\n".join(ln for ln in before.splitlines() if "answer" not in ln.lower())
    after = "\n".join(ln for ln in after.splitlines() if "answer" not in ln.lower())
    wrapped = parse_answer(f"{before}\n{line}\n{after}", schema)
    assert wrapped.ok, wrapped.error
    assert wrapped.value == value


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=3000), st.binary(max_size=500).map(lambda b: b.decode("latin-1"))))
def test_arbitrary_text_never_raises(text: str) -> None:
    for schema in (PD, DICTATOR, PRICE, TRUST):
        parsed = parse_answer(text, schema)
        assert parsed.ok is (parsed.error is None)
        assert parsed.ok is (parsed.value is not None)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["give", "move", "price", "x"]), _json_values, max_size=3),
    st.sampled_from(["ANSWER: ", "answer:\n", "**Answer:** "]),
)
def test_arbitrary_json_answers_never_raise(obj: dict, prefix: str) -> None:
    text = prefix + json.dumps(obj)
    for schema in (PD, DICTATOR, PRICE):
        parsed = parse_answer(text, schema)
        if parsed.ok:
            assert set(parsed.value) == set(schema)
