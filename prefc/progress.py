"""Progress of long work, on and off a terminal.

On a terminal a transient rich bar; anywhere else (a pipe, a file, ``nohup``, CI) one plain line
on standard error every few seconds, plus a first and a last line, so that a log always shows what
is running and how far it got::

    prefc: eval theory:economicus 0/200
    prefc: eval theory:economicus 96/200 (48%) 5.0s, about 5s left
    prefc: eval theory:economicus 200/200 (100%) done in 10.1s

``PREFC_PROGRESS`` chooses: ``bar``, ``lines`` or ``off`` (default: ``bar`` when standard error is
a terminal, else ``lines``); ``PREFC_PROGRESS_SECONDS`` sets the seconds between lines (default 5;
0 writes a line for every step).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, Protocol

__all__ = ["Advance", "progress", "progress_mode", "DEFAULT_SECONDS"]

DEFAULT_SECONDS = 5.0


class Advance(Protocol):
    """What :func:`progress` yields: call it as work gets done."""

    def __call__(self, n: int = 1, note: str | None = None) -> None:
        """Record ``n`` more units done.

        Args:
            n: Units finished since the last call.
            note: A short text about the latest unit (``round 3: 1.20 / 1.31``).
        """

    def set_total(self, total: int) -> None:
        """Set the units of work in all, once known.

        Args:
            total: Units of work in all.
        """


def progress_mode(stream: IO[str] | None = None) -> str:
    """``bar``, ``lines`` or ``off``: how progress is shown on ``stream`` (default: standard error).

    Args:
        stream: The stream progress goes to.
    """
    chosen = os.environ.get("PREFC_PROGRESS", "").strip().lower()
    if chosen in ("bar", "lines", "off"):
        return chosen
    target = stream if stream is not None else sys.stderr
    try:
        return "bar" if target.isatty() else "lines"
    except (AttributeError, ValueError):
        return "lines"


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("PREFC_PROGRESS_SECONDS", DEFAULT_SECONDS)))
    except ValueError:
        return DEFAULT_SECONDS


def _seconds(s: float) -> str:
    if s < 60:
        return f"{s:.1f}s"
    m, sec = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m}m{sec:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


class _Lines:
    """Plain progress lines: a first line, one every ``interval`` seconds, and a last line."""

    def __init__(self, label: str, total: int | None, stream: IO[str], interval: float, unit: str):
        self.label, self.total, self.stream, self.interval, self.unit = label, total, stream, interval, unit
        self.done = 0
        self.note: str | None = None
        self.began = self.last = time.monotonic()
        self.started = False
        if total is not None:
            self._start()

    def _start(self) -> None:
        self.started = True
        self._write(self._count())

    def _count(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.total:
            return f"{self.done}/{self.total}{unit} ({100 * self.done // self.total}%)"
        return f"{self.done}{unit}"

    def _write(self, text: str) -> None:
        line = f"prefc: {self.label} {text}" + (f"  {self.note}" if self.note else "")
        with contextlib.suppress(OSError, ValueError):  # a closed stream ends the lines, never the work
            print(line, file=self.stream, flush=True)

    def __call__(self, n: int = 1, note: str | None = None) -> None:
        if not self.started:
            self._start()
        self.done += n
        if note is not None:
            self.note = note
        now = time.monotonic()
        if now - self.last >= self.interval and not (self.total and self.done >= self.total):
            self.last = now
            elapsed = now - self.began
            left = ""
            if self.total and self.done:
                left = f", about {_seconds(elapsed * (self.total - self.done) / self.done)} left"
            self._write(f"{self._count()} {_seconds(elapsed)}{left}")

    def set_total(self, total: int) -> None:
        self.total = total
        if not self.started:
            self._start()

    def close(self, failed: bool) -> None:
        elapsed = time.monotonic() - self.began
        self._write(f"{self._count()} {'stopped after' if failed else 'done in'} {_seconds(elapsed)}")


@contextmanager
def progress(
    label: str,
    total: int | None = None,
    *,
    enabled: bool = True,
    stream: IO[str] | None = None,
    unit: str = "",
    mode: str | None = None,
) -> Iterator[Advance]:
    """Show the progress of a piece of work; yields ``advance(n=1, note=None)``.

    Args:
        label: What is running (``eval theory:economicus``, ``compile paper``).
        total: Units of work in all (None: unknown).
        enabled: False shows nothing (``advance`` does nothing).
        stream: Where progress goes (default: standard error).
        unit: The unit's name in plain lines (``items``, ``steps``, ``rounds``).
        mode: ``bar``, ``lines`` or ``off`` (default: :func:`progress_mode`).
    """
    target = stream if stream is not None else sys.stderr
    how = mode or progress_mode(target)
    if not enabled or how == "off":
        yield _nothing
        return
    if how == "lines":
        lines = _Lines(label, total, target, _interval(), unit)
        failed = True
        try:
            yield lines
            failed = False
        finally:
            lines.close(failed)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(file=target, highlight=False)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        yield _Bar(bar, task, label)


class _Bar:
    def __init__(self, bar: Any, task: Any, label: str):
        self.bar, self.task, self.label = bar, task, label

    def __call__(self, n: int = 1, note: str | None = None) -> None:
        self.bar.update(self.task, advance=n, description=f"{self.label} {note}" if note else self.label)

    def set_total(self, total: int) -> None:
        self.bar.update(self.task, total=total)


class _Nothing:
    def __call__(self, n: int = 1, note: str | None = None) -> None:
        return None

    def set_total(self, total: int) -> None:
        return None


_nothing = _Nothing()
