"""The agent's one thread: requests queued by the event loop, answered in batches, with token counts.

The event loop never calls the agent. :meth:`AgentWorker.submit` puts a job on a queue and returns
an :class:`asyncio.Future`; one thread takes the jobs waiting (up to ``max_batch``, optionally
waiting ``batch_window`` seconds for more), answers those that ask for the same ``max_tokens`` (and
``stop`` strings) in one ``agent.respond`` call, counts their tokens and resolves the futures on the
loop with ``call_soon_threadsafe``. Jobs whose client went away or timed out are skipped.

Token counts (``usage``): where the agent has a tokenizer with a chat template (``local:`` agents),
the prompt is rendered as the model sees it and encoded, and the returned answer is encoded on its
own: real counts. Otherwise they are estimated: ``ceil(characters / 4)`` of each message's content
plus 4 per message (its role and delimiters) for the prompt, ``ceil(characters / 4)`` for the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..protocol import Agent, Prompt

__all__ = ["Answer", "AgentWorker", "ShuttingDown", "TokenCounter", "cut_at_stop"]

_log = logging.getLogger("prefc.serve")

CHARS_PER_TOKEN = 4
"""Characters per token assumed by the estimate (agents without a tokenizer)."""

TOKENS_PER_MESSAGE = 4
"""Tokens added per message by the estimate (role and delimiters)."""


class ShuttingDown(Exception):
    """The server stopped before the job was answered."""


@dataclass(frozen=True)
class Answer:
    """One answered job.

    Attributes:
        text: The answer (cut before the first stop string, if any).
        prompt_tokens: Tokens of the prompt.
        completion_tokens: Tokens of the answer.
        finish_reason: ``stop`` (ended by itself or at a stop string) or ``length`` (the tokenizer
            counts ``max_tokens`` tokens: the answer was probably cut by the limit).
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """The text before the first occurrence of any stop string, and whether one was found.

    Args:
        text: The answer.
        stop: Stop strings (OpenAI semantics: the stop string itself is not returned).
    """
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class TokenCounter:
    """Counts prompt and answer tokens with the agent's tokenizer, or estimates them.

    Args:
        agent: The served agent; its ``tokenizer`` attribute is used when it has a chat template.
    """

    def __init__(self, agent: Any) -> None:
        tokenizer = getattr(agent, "tokenizer", None)
        usable = callable(getattr(tokenizer, "apply_chat_template", None)) and callable(tokenizer)
        self._tokenizer = tokenizer if usable and getattr(tokenizer, "chat_template", None) else None

    @property
    def exact(self) -> bool:
        """Whether counts come from the model's tokenizer (else they are estimates)."""
        return self._tokenizer is not None

    def prompt(self, prompt: Prompt) -> int:
        """Tokens of a prompt as the model reads it (chat template and the assistant turn's opening).

        Args:
            prompt: The conversation.
        """
        if self._tokenizer is not None:
            try:
                text = self._tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True)
                return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
            except Exception as exc:  # a template that rejects this prompt: fall back to the estimate
                _log.debug("token count fell back to the estimate: %s", exc)
        return sum(math.ceil(len(m["content"]) / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE for m in prompt)

    def completion(self, text: str) -> int:
        """Tokens of an answer.

        Args:
            text: The answer text.
        """
        if self._tokenizer is not None:
            try:
                return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
            except Exception as exc:
                _log.debug("token count fell back to the estimate: %s", exc)
        return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(eq=False)
class _Job:
    prompt: Prompt
    max_tokens: int
    stop: tuple[str, ...]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Answer]
    abandoned: bool = False


def _resolve(future: asyncio.Future[Answer], result: Answer | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


class AgentWorker:
    """Runs the agent on one thread, answering jobs that arrive together in one call.

    Args:
        agent: The agent.
        max_batch: Most jobs per ``agent.respond`` call.
        batch_window: Seconds to wait for more jobs to join a batch (0: take those waiting).
    """

    def __init__(self, agent: Agent, *, max_batch: int, batch_window: float) -> None:
        self._agent = agent
        self._max_batch = max_batch
        self._window = batch_window
        self.counter = TokenCounter(agent)
        try:
            self._takes_stop = "stop" in inspect.signature(agent.respond).parameters
        except (TypeError, ValueError):
            self._takes_stop = False
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._open: set[_Job] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.batches = 0
        self.answered = 0
        self._thread = threading.Thread(target=self._run, name="prefc-serve-agent", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Jobs submitted and not yet answered or abandoned."""
        with self._lock:
            return len(self._open)

    def submit(
        self, prompt: Prompt, *, max_tokens: int, stop: tuple[str, ...] = ()
    ) -> tuple[asyncio.Future[Answer], Any]:
        """Queue a prompt; call from the event loop.

        Args:
            prompt: The conversation.
            max_tokens: Upper bound on the answer's tokens.
            stop: Stop strings.

        Returns:
            The future answer and a handle for :meth:`abandon`.

        Raises:
            ShuttingDown: If the worker is closed.
        """
        loop = asyncio.get_running_loop()
        job = _Job(prompt, max_tokens, tuple(stop), loop, loop.create_future())
        with self._lock:
            if self._closed:
                raise ShuttingDown("the server is shutting down")
            self._open.add(job)
        self._jobs.put(job)
        return job.future, job

    def abandon(self, handle: Any) -> None:
        """Forget a job whose client went away: it is skipped if not started, its answer dropped.

        Args:
            handle: The second value :meth:`submit` returned.
        """
        handle.abandoned = True
        with self._lock:
            self._open.discard(handle)

    def fail_all(self, error: BaseException) -> None:
        """Fail every open job now (shutdown): their requests are answered at once.

        Args:
            error: The exception handed to the waiting requests.
        """
        with self._lock:
            jobs, self._open = list(self._open), set()
        for job in jobs:
            job.abandoned = True
            self._post(job, None, error)

    def close(self, *, timeout: float = 5.0) -> None:
        """Stop taking jobs, fail those not answered, and wait for the thread.

        Args:
            timeout: Seconds to wait for a batch in progress to end.
        """
        with self._lock:
            self._closed = True
        self.fail_all(ShuttingDown("the server is shutting down"))
        self._jobs.put(None)
        self._thread.join(timeout=timeout)

    @staticmethod
    def _post(job: _Job, result: Answer | None, error: BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            job.loop.call_soon_threadsafe(_resolve, job.future, result, error)

    def _take_batch(self) -> tuple[list[_Job], bool]:
        first = self._jobs.get()
        if first is None:
            return [], True
        batch = [first]
        deadline = time.monotonic() + self._window
        while len(batch) < self._max_batch:
            remaining = deadline - time.monotonic()
            try:
                job = self._jobs.get(timeout=remaining) if remaining > 0 else self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return batch, True
            batch.append(job)
        return batch, False

    def _run(self) -> None:
        while True:
            batch, stop = self._take_batch()
            live = [j for j in batch if not j.abandoned]
            groups: dict[tuple[int, tuple[str, ...]], list[_Job]] = {}
            for job in live:
                groups.setdefault((job.max_tokens, job.stop if self._takes_stop else ()), []).append(job)
            for (tokens, stops), group in sorted(groups.items(), key=lambda kv: kv[0][0]):
                self._answer(group, tokens, stops)
            if stop:
                return

    def _answer(self, group: list[_Job], tokens: int, stops: tuple[str, ...]) -> None:
        prompts = [j.prompt for j in group]
        try:
            kwargs: dict[str, Any] = {"max_new_tokens": tokens}
            if stops:
                kwargs["stop"] = list(stops)
            texts = list(self._agent.respond(prompts, **kwargs))
            if len(texts) != len(group) or not all(isinstance(t, str) for t in texts):
                raise RuntimeError(f"the agent returned {len(texts)} answers for {len(group)} prompts")
            answers = []
            for job, raw in zip(group, texts, strict=True):
                text, stopped = cut_at_stop(raw, job.stop)
                completion = self.counter.completion(text)
                length = self.counter.exact and not stopped and completion >= job.max_tokens
                answers.append(
                    Answer(text, self.counter.prompt(job.prompt), completion, "length" if length else "stop")
                )
        except BaseException as exc:  # handed to each waiting request, which answers 500; the thread lives on
            for job in group:
                self._finish(job, None, exc)
            return
        self.batches += 1
        for job, answer in zip(group, answers, strict=True):
            self._finish(job, answer, None)

    def _finish(self, job: _Job, result: Answer | None, error: BaseException | None) -> None:
        with self._lock:
            if job not in self._open:
                return
            self._open.discard(job)
            if error is None:
                self.answered += 1
        self._post(job, result, error)
