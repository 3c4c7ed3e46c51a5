"""Running an agent on a rubric: load, answer in batches, parse, score, report.

``evaluate`` writes into its output directory:

* ``results.jsonl``: one line per item, appended and flushed after every batch, so an interrupted run
  (Ctrl-C) keeps every finished batch as valid JSON lines (:func:`summarize_results` summarises
  them afterwards). Each line holds the item's ``id``, ``game``, ``role`` and ``params``, the
  ``agent`` name, the ``scoring`` mode, the agent's ``raw`` output (cut at :data:`RAW_LIMIT`
  characters, with ``raw_chars`` giving the full length), the ``parsed`` value or ``parse_error``,
  ``correct`` and ``distance`` per preference, and, under log-probability scoring, the
  ``option_texts``, their ``option_logprobs`` and the normalised ``option_probs``;
* ``summary.json``: the :class:`prefc.runtime.score.Summary` (written atomically);
* PNG plots (see :mod:`prefc.runtime.plots`).

Scoring modes: ``generate`` asks the agent for text (``respond_items(items)`` when the agent has
it, else ``respond(prompts)``) and parses the ``ANSWER:`` line; ``logprob`` (agents with
``option_logprobs``) scores every choice item's options from the model's log-probabilities of their
canonical answer texts (``format_answer``), giving a full choice distribution per item; items with
numeric actions are answered by generation in that mode, or (``numeric="options"``) scored over
the rubric's option grid for them.
"""

from __future__ import annotations

import inspect
import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from prefc.artefacts import ResultRecord, iter_json_lines, validate_row, write_document
from prefc.errors import SpecError
from prefc.numbers import fmt_number

from . import score as S
from .rubric import Rubric, RubricError, load_rubric, stratified

__all__ = [
    "RAW_LIMIT",
    "EvalError",
    "EvalResult",
    "NumericScoring",
    "Rubric",
    "RubricError",
    "Scoring",
    "evaluate",
    "load_rubric",
    "print_summary",
    "stratified",
    "summarize_results",
]

Scoring = Literal["generate", "logprob"]
"""How answers are read: generated text, or the log-probability of each option."""

NumericScoring = Literal["generate", "options"]
"""Under ``logprob`` scoring, how items with numeric answers are read: generated, or scored over options."""

RAW_LIMIT = 100_000
"""Characters of each raw output kept in ``results.jsonl``."""


class EvalError(SpecError):
    """An evaluation that cannot run as asked (wrong agent for the scoring mode, bad answers count)."""


class EvalResult(BaseModel):
    """What :func:`evaluate` produced."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    summary: S.Summary
    out_dir: Path
    results_path: Path
    summary_path: Path
    plots: list[Path]


def _batches(n: int, size: int) -> Iterator[range]:
    for start in range(0, n, size):
        yield range(start, min(start + size, n))


def _softmax(logps: Sequence[float]) -> list[float]:
    finite = [x for x in logps if math.isfinite(x)]
    if not finite:
        return [1.0 / len(logps)] * len(logps)
    m = max(finite)
    e = [math.exp(x - m) if math.isfinite(x) else 0.0 for x in logps]
    z = sum(e)
    return [x / z for x in e]


def _is_choice_item(item: Mapping[str, Any], numeric: str = "generate") -> bool:
    """Whether ``logprob`` scoring scores an item over options: choice items, and with
    ``numeric="options"`` also numeric items that carry the rubric's option grid (``family``)."""
    schema = item.get("schema") or {}
    if not schema or not S.choice_options(item):
        return False
    if all(s.get("kind") == "choice" for s in schema.values()):
        return True
    return numeric == "options" and bool((item.get("family") or {}).get("options"))


def _respond(agent: Any, items: list[dict[str, Any]], *, max_new_tokens: int, grid: Any) -> list[str]:
    respond_items = getattr(agent, "respond_items", None)
    if callable(respond_items):
        kwargs: dict[str, Any] = {}
        params: Mapping[str, inspect.Parameter]
        try:
            params = inspect.signature(respond_items).parameters
        except (TypeError, ValueError):
            params = {}
        if grid is not None and "grid" in params:
            kwargs["grid"] = grid
        if "max_new_tokens" in params:
            kwargs["max_new_tokens"] = max_new_tokens
        out = respond_items(items, **kwargs)
    else:
        out = agent.respond([it["prompt"] for it in items], max_new_tokens=max_new_tokens)
    out = list(out)
    if len(out) != len(items):
        raise EvalError(f"agent {getattr(agent, 'name', agent)!r} returned {len(out)} answers for {len(items)} prompts")
    return out


@contextmanager
def _progress_bar(total: int, enabled: bool, label: str) -> Iterator[Any]:
    from prefc.progress import progress as show

    with show(label, total, enabled=enabled, unit="items") as advance:
        yield advance


def _record(item: Mapping[str, Any], outcome: S.ItemOutcome, raw: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    text = raw if isinstance(raw, str) else repr(raw)
    text = text.encode("utf-8", errors="replace").decode("utf-8")  # lone surrogates -> "?"
    rec: dict[str, Any] = {
        "id": outcome.id,
        "game": outcome.game,
        "role": outcome.role,
        "params": outcome.params,
        "scoring": outcome.scoring,
        "raw": text[:RAW_LIMIT],
        "raw_chars": len(text),
        "parsed": outcome.value,
        "parse_error": outcome.error,
        "correct": outcome.correct,
        "distance": outcome.distance,
        "option_index": outcome.option_index,
    }
    if outcome.option_probs is not None:
        rec["option_probs"] = outcome.option_probs
        rec["expected_correct"] = outcome.expected_correct
    rec.update(extra)
    return ResultRecord.model_validate(rec).model_dump(mode="json", exclude_unset=True)


def evaluate(
    rubric: Rubric | str | os.PathLike[str],
    agent: Any,
    out_dir: str | os.PathLike[str],
    *,
    scoring: Scoring = "generate",
    batch_size: int = 16,
    max_new_tokens: int = 256,
    limit: int | None = None,
    progress: bool = True,
    plots: bool = True,
    numeric: NumericScoring = "generate",
    table: bool = True,
) -> EvalResult:
    """Run an agent on every rubric item, keep every raw output, parse, score and report.

    Args:
        rubric: A loaded :class:`Rubric` or the path of its ``.jsonl`` file.
        agent: Any :class:`prefc.runtime.protocol.Agent`; one with ``respond_items(items)`` is given
            the items themselves; ``logprob`` scoring needs ``option_logprobs``.
        out_dir: Directory for ``results.jsonl``, ``summary.json`` and the plots (created).
        scoring: ``generate`` (parse generated text) or ``logprob`` (option distributions for
            choice items, generation for the others).
        batch_size: Items per agent call; results are flushed after each batch.
        max_new_tokens: Upper bound on each generated answer.
        limit: Evaluate at most ``limit`` items, taken round-robin over (game, role) in file
            order (:func:`stratified`), so every game and role of the rubric is in the subset.
        progress: Show a progress bar and print the result table.
        plots: Write the PNG plots.
        numeric: Under ``logprob`` scoring, how items with numeric actions are answered:
            ``generate`` (parse generated text) or ``options`` (log-probabilities over the item's
            option grid, ``family.options``: 11 values over a continuous range, every value of a
            short integer range). Ignored under ``generate`` scoring.
        table: With ``progress``, print the result table on standard output at the end.

    Raises:
        EvalError: For ``logprob`` scoring with an agent that cannot score options, or an agent
            returning the wrong number of answers. A ``KeyboardInterrupt`` propagates after the
            finished batches are on disk.
    """
    from .answers import format_answer, parse_answer

    rub = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
    if scoring not in ("generate", "logprob"):
        raise EvalError(f"unknown scoring {scoring!r}; use 'generate' or 'logprob'")
    if batch_size < 1:
        raise EvalError("batch_size must be at least 1")
    if numeric not in ("generate", "options"):
        raise EvalError(f"unknown numeric mode {numeric!r}; use 'generate' or 'options'")
    if scoring == "logprob" and not callable(getattr(agent, "option_logprobs", None)):
        raise EvalError(f"agent {getattr(agent, 'name', agent)!r} cannot score options; use scoring='generate'")
    if limit is not None and limit < 1:
        raise EvalError(f"limit must be at least 1, got {limit}")
    subset = rub.subset(limit)
    items = subset.items
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.jsonl"
    grid = (rub.family or {}).get("grid")
    name = str(getattr(agent, "name", type(agent).__name__))
    outcomes: list[S.ItemOutcome] = []
    with results_path.open("w", encoding="utf-8") as fh, _progress_bar(len(items), progress, f"eval {name}") as advance:
        for batch in _batches(len(items), batch_size):
            chunk = [items[i] for i in batch]
            soft = [it for it in chunk if scoring == "logprob" and _is_choice_item(it, numeric)]
            hard = [it for it in chunk if not (scoring == "logprob" and _is_choice_item(it, numeric))]
            done: dict[str, tuple[S.ItemOutcome, str, dict[str, Any]]] = {}
            if hard:
                texts = _respond(agent, hard, max_new_tokens=max_new_tokens, grid=grid)
                for it, text in zip(hard, texts, strict=True):
                    parsed = parse_answer(text if isinstance(text, str) else repr(text), it["schema"])
                    oc = S.score_item(it, value=parsed.value, error=parsed.error, tolerance=rub.tolerance)
                    done[str(it["id"])] = (oc, text, {})
            if soft:
                option_texts = [[format_answer(o, schema=it["schema"]) for o in S.choice_options(it)] for it in soft]
                logps = agent.option_logprobs([it["prompt"] for it in soft], option_texts)
                if len(logps) != len(soft):
                    raise EvalError(f"agent {name!r} scored {len(logps)} of {len(soft)} prompts")
                for it, texts_i, lp in zip(soft, option_texts, logps, strict=True):
                    probs = _softmax([float(x) for x in lp])
                    oc = S.score_item(it, value=None, option_probs=probs, tolerance=rub.tolerance, scoring="logprob")
                    raw = texts_i[oc.option_index or 0]
                    done[str(it["id"])] = (
                        oc,
                        raw,
                        {"option_texts": texts_i, "option_logprobs": [float(x) for x in lp]},
                    )
            lines = []
            for it in chunk:
                oc, raw, extra = done[str(it["id"])]
                outcomes.append(oc)
                rec = _record(it, oc, raw, {**extra, "agent": name})
                lines.append(json.dumps(rec, ensure_ascii=False, allow_nan=False) + "\n")
            fh.write("".join(lines))
            fh.flush()
            if advance is not None:
                advance(len(chunk))
    summary = S.summarize(
        items,
        outcomes,
        labels=rub.preferences,
        tolerance=rub.tolerance,
        family=rub.family,
        agent=name,
        header=rub.header,
        scoring=scoring,
        n_rubric_items=subset.total,
        selection="stratified",
    )
    trained = getattr(agent, "trained", None)
    if isinstance(trained, str):
        summary = summary.model_copy(update={"trained": trained})
    summary_path = out / "summary.json"
    write_document(summary_path, summary)
    written: list[Path] = []
    if plots:
        from .plots import write_plots

        written = write_plots(summary, out)
    if progress and table:
        print_summary(summary)
    return EvalResult(summary=summary, out_dir=out, results_path=results_path, summary_path=summary_path, plots=written)


def summarize_results(
    rubric: Rubric | str | os.PathLike[str], out_dir: str | os.PathLike[str], *, write: bool = True
) -> S.Summary:
    """Summarise the results already in ``out_dir/results.jsonl`` (e.g. after an interrupted run).

    Lines that are not valid JSON (a line cut by a hard kill) and ids not in the rubric are skipped;
    a JSON line that is not a result record is an error.

    Args:
        rubric: The rubric the results belong to (loaded, or the path of its ``.jsonl``).
        out_dir: The evaluation's output directory.
        write: Also write ``summary.json`` (atomically).

    Raises:
        EvalError: A line of ``results.jsonl`` that is JSON but not a result record (file:line: field).
    """
    rub = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
    by_id = {str(it["id"]): it for it in rub.items}
    out = Path(out_dir)
    items: list[dict[str, Any]] = []
    outcomes: list[S.ItemOutcome] = []
    agents: set[str] = set()
    scorings: set[str] = set()
    cut: list[str] = []
    for where, _, value in iter_json_lines(out / "results.jsonl", error=EvalError, bad=lambda w, why: cut.append(w)):
        rec = validate_row(ResultRecord, value, where=where, error=EvalError)
        item = by_id.get(rec.id)
        if item is None:
            continue
        outcome = S.ItemOutcome(
            id=rec.id,
            game=str(item.get("game")),
            role=str(item.get("role")),
            params=dict(item.get("params") or {}),
            scoring=rec.scoring,
            ok=rec.parsed is not None,
            value=rec.parsed,
            error=rec.parse_error,
            correct=rec.correct,
            expected_correct=rec.expected_correct,
            distance=rec.distance,
            option_probs=rec.option_probs,
            option_index=rec.option_index,
        )
        items.append(item)
        outcomes.append(outcome)
        scorings.add(outcome.scoring)
        if rec.agent:
            agents.add(rec.agent)
    summary = S.summarize(
        items,
        outcomes,
        labels=rub.preferences,
        tolerance=rub.tolerance,
        family=rub.family,
        agent=next(iter(agents)) if len(agents) == 1 else None,
        header=rub.header,
        scoring="logprob" if "logprob" in scorings else "generate",
        n_rubric_items=rub.total,
        selection="stratified",
    )
    if write:
        write_document(out / "summary.json", summary)
    return summary


def print_summary(summary: S.Summary, *, console: Any = None) -> None:
    """Print the result table: parse rate, accuracy per preference, nearest type, kappa.

    Args:
        summary: The evaluation summary.
        console: A ``rich.console.Console`` (default: a new one on stdout).
    """
    from rich.table import Table

    from prefc.console import table_console

    con = console or table_console()
    table = Table(title=f"{summary.agent or 'agent'} on {summary.rubric or 'rubric'} ({summary.scoring})")
    table.add_column("preference")
    table.add_column("accuracy", justify="right")
    if summary.scoring == "logprob":
        table.add_column("expected", justify="right")
    table.add_column("mean distance", justify="right")
    nearest = summary.nearest.label if summary.nearest else None
    for p in summary.preferences:
        row = [p.label + (" *" if p.label == nearest else ""), fmt_number(p.accuracy)]
        if summary.scoring == "logprob":
            row.append(fmt_number(p.expected_accuracy))
        row.append(fmt_number(p.mean_distance))
        table.add_row(*row)
    con.print(table)
    con.print(
        f"{summary.evaluated}"
        + (" (stratified by game and role)" if summary.selection == "stratified" else "")
        + f"; parse rate {fmt_number(summary.parse_rate)} ({summary.n_parsed}/{summary.n_items})"
    )
    if summary.nearest:
        n = summary.nearest
        margin = fmt_number(n.margin) + (f" ± {fmt_number(n.margin_se)}" if n.margin_se is not None else "")
        con.print(f"nearest type {n.label} (margin {margin} over {n.runner_up})")
    else:
        con.print(f"no nearest type: {summary.nearest_note or 'no answer matched any preference'}")
    if summary.kappa:
        k = summary.kappa
        precision = (
            "at its bound (deterministic answers)" if k.precision_at_bound else fmt_number(k.precision, style="general")
        )
        con.print(
            f"{k.param} = {fmt_number(k.estimate)}  95% CI [{fmt_number(k.ci_low)}, {fmt_number(k.ci_high)}]  "
            f"precision {precision}  ({k.n_used} items, {k.n_unparsed} unparsed excluded)"
        )
