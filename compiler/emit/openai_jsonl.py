"""OpenAI chat fine-tuning files: rows in the documented shape, and a validator of the published rules.

A row is ``{"messages": [{"role": "system", ...}, {"role": "user", ...}, {"role": "assistant", ...}]}``
and nothing else: no ``meta``, no other top-level key. :func:`openai_row` makes one from a prefc
dataset row (TRL prompt-completion or ``messages`` rows, with or without ``meta``).

:func:`validate_openai_file` checks a file against the rules OpenAI publishes for chat fine-tuning
data (the fine-tuning guide and the data-preparation notebook of its cookbook); each problem is
reported with its line and the cookbook's error name:

* the file is UTF-8 JSON Lines, at most 512 MB (the upload limit), one JSON object per line
  (``data_type``);
* every object has a ``messages`` list (``missing_messages_list``); other top-level keys are
  ``tools``, ``parallel_tool_calls`` and ``functions`` only (``unrecognized_key``), and with
  ``strict=True`` (what prefc writes) ``messages`` is the only key;
* every message has ``role`` and ``content`` (``message_missing_key``) and no key other than
  ``role``, ``content``, ``name``, ``weight``, ``function_call``, ``tool_calls`` and
  ``tool_call_id`` (``message_unrecognized_key``);
* ``role`` is ``system``, ``user``, ``assistant``, ``tool`` or ``function`` (``unrecognized_role``);
* ``content`` is a non-empty string (``missing_content``);
* ``weight``, where given, is 0 or 1 and on an assistant message (``invalid_weight``);
* every example has at least one assistant message (``example_missing_assistant_message``);
* a training file has at least 10 examples (``too_few_examples``);
* an example longer than the model's context cannot be trained on whole. Tokens are not counted
  here (no tokenizer is reachable offline); a byte-level BPE token covers at least one byte, so an
  example of at most ``max_tokens`` UTF-8 bytes (plus 4 per message) is certainly within
  ``max_tokens``. Longer examples are reported as warnings (``may_exceed_token_limit``), not errors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_FILE_BYTES",
    "MIN_EXAMPLES",
    "DEFAULT_MAX_TOKENS",
    "OpenAIFileProblem",
    "OpenAIFileReport",
    "openai_row",
    "validate_openai_row",
    "validate_openai_file",
]

MAX_FILE_BYTES = 512 * 1024 * 1024
"""The largest file the Files API accepts for fine-tuning."""

MIN_EXAMPLES = 10
"""The fewest examples a fine-tuning job accepts."""

DEFAULT_MAX_TOKENS = 65_536
"""Tokens per training example of the current small chat models (gpt-4o-mini, gpt-4.1-mini)."""

_TOP_KEYS = {"messages", "tools", "parallel_tool_calls", "functions"}
_MESSAGE_KEYS = {"role", "content", "name", "weight", "function_call", "tool_calls", "tool_call_id"}
_ROLES = {"system", "user", "assistant", "tool", "function"}
_PER_MESSAGE_OVERHEAD = 4


@dataclass(frozen=True)
class OpenAIFileProblem:
    """One rule a line breaks.

    Attributes:
        line: The 1-based line number (0 for the whole file).
        code: The rule's name (the cookbook's error names where it has one).
        message: What is wrong, in words.
    """

    line: int
    code: str
    message: str

    def located(self, path: str | os.PathLike[str]) -> str:
        """The problem as ``file:line: message [code]``.

        Args:
            path: The file the problem is in.
        """
        where = f"{path}:{self.line}" if self.line else str(path)
        return f"{where}: {self.message} [{self.code}]"


@dataclass
class OpenAIFileReport:
    """The result of :func:`validate_openai_file`.

    Attributes:
        path: The file checked.
        examples: Lines holding an example.
        errors: Rules broken (the file would be rejected or trained wrongly).
        warnings: Things to look at (examples that may exceed the token limit).
        max_example_bytes: The longest example, in UTF-8 bytes.
    """

    path: Path
    examples: int = 0
    errors: list[OpenAIFileProblem] = field(default_factory=list)
    warnings: list[OpenAIFileProblem] = field(default_factory=list)
    max_example_bytes: int = 0

    @property
    def ok(self) -> bool:
        """True when no rule is broken."""
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object."""

        def problems(items: list[OpenAIFileProblem]) -> list[dict[str, Any]]:
            return [{"line": p.line, "code": p.code, "message": p.message} for p in items]

        return {
            "path": str(self.path),
            "examples": self.examples,
            "ok": self.ok,
            "max_example_bytes": self.max_example_bytes,
            "errors": problems(self.errors),
            "warnings": problems(self.warnings),
        }


def openai_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAI fine-tuning example of a prefc dataset row.

    Args:
        row: A TRL prompt-completion row (``prompt`` and ``completion`` message lists) or a
            ``messages`` row, with or without ``meta``.

    Returns:
        ``{"messages": [...]}`` with each message's ``role`` and ``content`` only.

    Raises:
        ValueError: The row has neither shape.
    """
    if isinstance(row.get("messages"), list):
        messages = row["messages"]
    elif isinstance(row.get("prompt"), list) and isinstance(row.get("completion"), list):
        messages = [*row["prompt"], *row["completion"]]
    else:
        raise ValueError("expected 'prompt' and 'completion' message lists or a 'messages' list")
    out = []
    for message in messages:
        if (
            not isinstance(message, Mapping)
            or not isinstance(message.get("role"), str)
            or not isinstance(message.get("content"), str)
        ):
            raise ValueError("every message needs string 'role' and 'content'")
        out.append({"role": message["role"], "content": message["content"]})
    return {"messages": out}


def validate_openai_row(
    row: object, *, line: int = 0, strict: bool = False, max_tokens: int = DEFAULT_MAX_TOKENS
) -> tuple[list[OpenAIFileProblem], list[OpenAIFileProblem]]:
    """Check one example against the published format rules.

    Args:
        row: The decoded JSON value of one line.
        line: Its line number, for the report.
        strict: Also require ``messages`` to be the only top-level key and the roles to be
            exactly system, user, assistant (what prefc writes).
        max_tokens: The model's tokens per example, for the length warning.

    Returns:
        The errors and the warnings.
    """
    errors: list[OpenAIFileProblem] = []
    warnings: list[OpenAIFileProblem] = []

    def err(code: str, message: str) -> None:
        errors.append(OpenAIFileProblem(line, code, message))

    if not isinstance(row, dict):
        err("data_type", f"an example must be a JSON object, not {type(row).__name__}")
        return errors, warnings
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        err("missing_messages_list", "no non-empty 'messages' list")
        return errors, warnings
    extra = sorted(set(row) - ({"messages"} if strict else _TOP_KEYS))
    if extra:
        err("unrecognized_key", f"top-level key(s) {', '.join(map(repr, extra))} are not part of the format")
    assistants = 0
    for index, message in enumerate(messages):
        where = f"message {index + 1}"
        if not isinstance(message, dict):
            err("data_type", f"{where} is not a JSON object")
            continue
        missing = [k for k in ("role", "content") if k not in message]
        if missing:
            err("message_missing_key", f"{where} lacks {' and '.join(map(repr, missing))}")
        unknown = sorted(set(message) - _MESSAGE_KEYS)
        if unknown:
            err("message_unrecognized_key", f"{where} has unrecognised key(s) {', '.join(map(repr, unknown))}")
        role = message.get("role")
        if "role" in message and role not in _ROLES:
            err("unrecognized_role", f"{where} has role {role!r}; roles are {', '.join(sorted(_ROLES))}")
        content = message.get("content")
        if (
            "content" in message
            and (not isinstance(content, str) or not content.strip())
            and not (
                role == "assistant" and content is None and ("tool_calls" in message or "function_call" in message)
            )
        ):
            err("missing_content", f"{where} has no text content")
        if "weight" in message:
            if message["weight"] not in (0, 1) or isinstance(message["weight"], bool):
                err("invalid_weight", f"{where} has weight {message['weight']!r}; a weight is 0 or 1")
            elif role != "assistant":
                err("invalid_weight", f"{where}: only assistant messages carry a weight")
        assistants += role == "assistant"
    if not assistants:
        err("example_missing_assistant_message", "the example has no assistant message to train on")
    if strict and not errors:
        roles = [m.get("role") for m in messages]
        if roles != ["system", "user", "assistant"]:
            err("unexpected_roles", f"roles are {roles}, expected system, user, assistant")
    size = len(json.dumps(messages, ensure_ascii=False).encode("utf-8"))
    if size + _PER_MESSAGE_OVERHEAD * len(messages) > max_tokens:
        warnings.append(
            OpenAIFileProblem(
                line, "may_exceed_token_limit", f"{size} bytes: the example may exceed {max_tokens} tokens"
            )
        )
    return errors, warnings


def validate_openai_file(
    path: str | os.PathLike[str], *, strict: bool = False, training: bool = True, max_tokens: int = DEFAULT_MAX_TOKENS
) -> OpenAIFileReport:
    """Check a JSONL file against the published rules for chat fine-tuning data.

    Args:
        path: The file.
        strict: Apply the stricter rules of :func:`validate_openai_row` (prefc's own output).
        training: A training file (needs at least :data:`MIN_EXAMPLES` examples); False for a
            validation file.
        max_tokens: The model's tokens per example, for the length warnings.

    Returns:
        The report; ``report.ok`` is True when no rule is broken.
    """
    p = Path(path)
    report = OpenAIFileReport(path=p)
    if not p.is_file():
        report.errors.append(OpenAIFileProblem(0, "missing_file", "no such file"))
        return report
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        report.errors.append(OpenAIFileProblem(0, "file_too_large", f"{size} bytes, more than the 512 MB limit"))
        return report
    data = p.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.errors.append(OpenAIFileProblem(line, "encoding", "not UTF-8 text"))
        return report
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            report.errors.append(OpenAIFileProblem(number, "data_type", f"not valid JSON ({exc.msg})"))
            continue
        report.examples += 1
        report.max_example_bytes = max(report.max_example_bytes, len(raw.encode("utf-8")))
        errors, warnings = validate_openai_row(row, line=number, strict=strict, max_tokens=max_tokens)
        report.errors.extend(errors)
        report.warnings.extend(warnings)
    if training and report.examples < MIN_EXAMPLES:
        report.errors.append(
            OpenAIFileProblem(
                0, "too_few_examples", f"{report.examples} example(s); fine-tuning needs at least {MIN_EXAMPLES}"
            )
        )
    return report
