"""Reading an agent's answer: the last ``ANSWER: {json}`` line, checked against the item's schema.

Every answer an agent gives ends with one line ``ANSWER: {json}`` whose keys are the action names of
the rubric item (``ANSWER: {"give": 0}``, ``ANSWER: {"move": "defect"}``). :func:`parse_answer`
is tolerant of the surroundings and strict about the content:

Tolerated
    * any text before the answer line (reasoning) and any lines after it (chatter);
    * the answer line inside a code fence, or decorated with markdown (``**ANSWER:** {...}``,
      ``> ANSWER: ...``, ``- ANSWER: ...``), in any letter case (``Answer:``, ``answer :``);
    * the JSON object starting on the line after ``ANSWER:`` or spread over several lines, and a
      ```` ```json ```` fence between ``ANSWER:`` and the object;
    * choice labels in another letter case or with surrounding spaces (mapped to the canonical label);
    * an integral float (``5.0``) for an integer action;
    * a number written as a JSON string (``"5"``, ``" 2.5 "``) when the string is a plain decimal
      numeral (optional sign, digits, optional fraction; no exponent, no ``NaN``/``Infinity``, at most
      32 characters). Small models quote numbers often and the meaning is unambiguous, so this is
      accepted; anything else in a string (``"five"``, ``"1e3"``, ``"0x10"``) is rejected.

Rejected (``ok=False`` with a reason; never an exception)
    * no line starting with ``ANSWER:`` in the last :data:`MAX_SCAN_CHARS` characters;
    * the last such line not holding exactly one JSON object (later lines that start with
      ``ANSWER:`` win over earlier ones, even when the earlier one was valid);
    * text other than markdown decoration after the object on its own line;
    * missing or extra keys, duplicate keys, nested values, ``NaN``/``Infinity`` (and numbers that
      overflow to infinity), booleans or ``null`` where a number or label is expected;
    * labels outside the options, numbers outside ``[min, max]``, integers off the step grid.

Schemas map each action name to one of ``{"kind": "choice", "options": [labels]}``,
``{"kind": "integer", "min": a, "max": b, "step": s}`` (step defaults to 1) and
``{"kind": "number", "min": a, "max": b}``. A malformed *schema* is a programming error and raises
:class:`SchemaError`; malformed *text* never raises.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

__all__ = [
    "MAX_SCAN_CHARS",
    "ParsedAnswer",
    "SchemaError",
    "format_answer",
    "parse_answer",
]

MAX_SCAN_CHARS = 4000
"""Only the last this-many characters of an output are scanned for the answer line."""

_MAX_NUMERAL_CHARS = 32
_ANSWER_LINE = re.compile(r"^[\s>*_`#-]*answer[\s*_`]*:", re.IGNORECASE)
_DECORATION = re.compile(r"^[\s*_`.]*$")
_LEADING = re.compile(r"^[\s*_]*(```[A-Za-z0-9_-]*)?\s*")
_NUMERAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class SchemaError(ValueError):
    """An answer schema that is not one of the documented shapes."""


@dataclass(frozen=True)
class ParsedAnswer:
    """The outcome of reading one answer.

    Attributes:
        ok: True when the answer line was found and its value fits the schema.
        value: The canonical answer (keys in schema order, labels canonical), or None.
        error: Why the answer was rejected, or None when ``ok``.
        raw_line: The answer line as found (stripped), or None when there was none.
    """

    ok: bool
    value: dict[str, Any] | None
    error: str | None
    raw_line: str | None


class _Reject(Exception):
    """Internal: a reason to reject the answer text."""


def _fail(error: str, raw_line: str | None = None) -> ParsedAnswer:
    return ParsedAnswer(ok=False, value=None, error=error, raw_line=raw_line)


def _check_schema(schema: object) -> Mapping[str, Mapping[str, Any]]:
    if not isinstance(schema, Mapping) or not schema:
        raise SchemaError("an answer schema is a non-empty mapping from action names to kinds")
    for name, spec in schema.items():
        if not isinstance(name, str) or not isinstance(spec, Mapping):
            raise SchemaError(f"schema entry {name!r} must map a name to a kind object")
        kind = spec.get("kind")
        if kind == "choice":
            options = spec.get("options")
            if not isinstance(options, list | tuple) or not options or not all(isinstance(o, str) for o in options):
                raise SchemaError(f"choice action {name!r} needs a non-empty list of string options")
        elif kind in ("integer", "number"):
            for bound in ("min", "max"):
                value = spec.get(bound)
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                    raise SchemaError(f"{kind} action {name!r} needs a finite numeric {bound!r}")
            if spec["min"] > spec["max"]:
                raise SchemaError(f"{kind} action {name!r} has min > max")
            step = spec.get("step", 1)
            if kind == "integer" and (
                isinstance(step, bool) or not isinstance(step, int | float) or not math.isfinite(step) or step <= 0
            ):
                raise SchemaError(f"integer action {name!r} needs a positive step")
        else:
            raise SchemaError(f"action {name!r} has unknown kind {kind!r} (choice, integer, number)")
    return schema


def _find_answer_line(text: str) -> tuple[str, str] | None:
    """Return (the last answer line, the text from just after its colon to the end)."""
    lines = text.splitlines(keepends=True)
    offset = len(text)
    for line in reversed(lines):
        offset -= len(line)
        match = _ANSWER_LINE.match(line)
        if match:
            return line.strip(), text[offset + match.end() :]
    return None


def _reject_constant(name: str) -> Any:
    raise _Reject(f"{name} is not a valid number")


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Reject(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _decode_object(payload: str) -> dict[str, Any]:
    body = _LEADING.sub("", payload, count=1)
    if not body.startswith("{"):
        first = body.splitlines()[0][:60] if body.strip() else ""
        raise _Reject(f"expected a JSON object after ANSWER:, found {first!r}" if first else "nothing after ANSWER:")
    decoder = json.JSONDecoder(object_pairs_hook=_pairs_hook, parse_constant=_reject_constant)
    try:
        obj, end = decoder.raw_decode(body)
    except _Reject:
        raise
    except RecursionError:
        raise _Reject("JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and int conversions over the digit limit
        raise _Reject(f"invalid JSON after ANSWER: ({exc.__class__.__name__}: {str(exc)[:80]})") from None
    rest_of_line = body[end:].split("\n", 1)[0]
    if not _DECORATION.match(rest_of_line):
        raise _Reject(f"unexpected text after the JSON object: {rest_of_line.strip()[:60]!r}")
    if not isinstance(obj, dict):
        raise _Reject(f"expected a JSON object, got {type(obj).__name__}")
    return obj


def _show(value: object) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)[:40]
    if isinstance(value, str):
        return repr(value[:40])
    return f"a JSON {'array' if isinstance(value, list) else 'object'}"


def _as_number(name: str, value: object) -> int | float:
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        raise _Reject(f"{name!r} must be a number, got {_show(value)}")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_NUMERAL_CHARS or not _NUMERAL.match(text):
            raise _Reject(f"{name!r} must be a number, got the string {value[:40]!r}")
        value = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Reject(f"{name!r} is not finite")
        return value
    raise _Reject(f"{name!r} must be a number, got {type(value).__name__}")


def _fraction(x: int | float) -> Fraction:
    return Fraction(x) if isinstance(x, int) else Fraction(repr(x))


def _check_value(name: str, spec: Mapping[str, Any], value: object) -> Any:
    kind = spec["kind"]
    if kind == "choice":
        options: list[str] = list(spec["options"])
        if not isinstance(value, str):
            raise _Reject(f"{name!r} must be one of {options}, got {_show(value)}")
        if value in options:
            return value
        folded = value.strip().casefold()
        matches = [o for o in options if o.strip().casefold() == folded]
        if len(matches) == 1:
            return matches[0]
        raise _Reject(f"{name!r} must be one of {options}, got {value[:40]!r}")
    number = _as_number(name, value)
    low, high = spec["min"], spec["max"]
    if kind == "integer":
        if isinstance(number, float):
            if not number.is_integer():
                raise _Reject(f"{name!r} must be an integer, got {number!r}")
            number = int(number)
        if not low <= number <= high:
            raise _Reject(f"{name!r} = {number} is outside [{low}, {high}]")
        step = spec.get("step", 1)
        if (_fraction(number) - _fraction(low)) % _fraction(step) != 0:
            raise _Reject(f"{name!r} = {number} is not on the step {step} from {low}")
        return number
    if not low <= number <= high:
        raise _Reject(f"{name!r} = {number} is outside [{low}, {high}]")
    return number


def parse_answer(text: str, schema: Mapping[str, Mapping[str, Any]]) -> ParsedAnswer:
    """Read the answer from an agent's output.

    The last line starting with ``ANSWER:`` (any case, markdown decoration allowed) within the
    last :data:`MAX_SCAN_CHARS` characters must hold one JSON object whose keys are exactly the
    schema's action names and whose values fit the schema. See the module docstring for what is
    tolerated and what is rejected.

    Args:
        text: The agent's full output. Anything that is not a ``str`` is rejected.
        schema: Action name -> kind object, as in the rubric items' ``schema``.

    Returns:
        A :class:`ParsedAnswer`; ``value`` has the schema's key order and canonical labels.

    Raises:
        SchemaError: If ``schema`` itself is malformed (never because of ``text``).
    """
    spec = _check_schema(schema)
    if not isinstance(text, str):
        return _fail(f"expected text, got {type(text).__name__}")
    if not text.strip():
        return _fail("empty output")
    tail = text[-MAX_SCAN_CHARS:]
    found = _find_answer_line(tail)
    if found is None:
        where = f" in the last {MAX_SCAN_CHARS} characters" if len(text) > MAX_SCAN_CHARS else ""
        return _fail(f"no line starting with ANSWER:{where}")
    raw_line, payload = found
    raw_line = raw_line[:500]
    try:
        obj = _decode_object(payload)
        keys = list(obj)
        missing = [k for k in spec if k not in obj]
        extra = [k for k in keys if k not in spec]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if extra:
                parts.append(f"unexpected {[k[:40] for k in extra[:5]]}")
            raise _Reject(f"keys must be exactly {list(spec)}: " + ", ".join(parts))
        value = {name: _check_value(name, spec[name], obj[name]) for name in spec}
    except _Reject as reason:
        return _fail(str(reason), raw_line)
    except (RecursionError, ValueError, TypeError, OverflowError) as exc:  # defensive: never raise on text
        return _fail(f"unreadable answer ({exc.__class__.__name__})", raw_line)
    return ParsedAnswer(ok=True, value=value, error=None, raw_line=raw_line)


def format_answer(value: Mapping[str, Any], *, schema: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """Render the canonical answer line, ``ANSWER: {"move": "defect"}``.

    The JSON is on one line with the standard ``", "`` / ``": "`` separators and non-ASCII text kept
    as is; keys follow the schema's order when a schema is given, else the mapping's order.
    :func:`parse_answer` reads every line this function writes for a value that fits the schema.

    Args:
        value: Action name -> answer (label, integer or finite number).
        schema: Optional schema whose key order to use; keys it does not list follow in their order.

    Returns:
        The answer line, without a trailing newline.

    Raises:
        ValueError: If a value is not finite or not JSON-serialisable.
    """
    if schema is not None:
        ordered = {k: value[k] for k in schema if k in value}
        ordered.update({k: v for k, v in value.items() if k not in ordered})
    else:
        ordered = dict(value)
    try:
        body = json.dumps(ordered, ensure_ascii=False, allow_nan=False)
    except TypeError as exc:
        raise ValueError(f"answer is not JSON-serialisable: {exc}") from None
    return f"ANSWER: {body}"
