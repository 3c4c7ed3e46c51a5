"""Running the application on uvicorn: the listening socket, start, graceful stop, signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from ..protocol import Agent
from .app import AppState, build_app
from .options import ServeOptions
from .transport import protocol_class
from .worker import AgentWorker, ShuttingDown

__all__ = ["ServeError", "ServerHandle", "bind_socket", "serve", "start_server"]

_log = logging.getLogger("prefc.serve")


class ServeError(Exception):
    """The server cannot start (the address cannot be bound, ...)."""


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind (without listening yet) the server's socket, so a taken port fails before a model loads.

    Args:
        host: Host name or address.
        port: TCP port; 0 picks a free one.

    Raises:
        ServeError: If the host does not resolve or the address cannot be bound.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, told when it has started and when it begins to stop; signals are the caller's."""

    def __init__(self, config: uvicorn.Config, *, started: Callable[[], None], stopping: Callable[[], None]) -> None:
        super().__init__(config)
        self._started_hook = started
        self._stopping_hook = stopping

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # serve() installs its own handlers; uvicorn's would re-raise the signal after stopping

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._started_hook()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._stopping_hook()
        await super().shutdown(sockets=sockets)


@dataclass(frozen=True)
class ServerHandle:
    """A server that is listening.

    Attributes:
        url: The API base URL, e.g. ``http://127.0.0.1:8000/v1``.
        host: The bound host.
        port: The bound port.
        model_name: The model id clients send.
        exact_usage: Whether ``usage`` counts come from the model's tokenizer (else estimates).
    """

    url: str
    host: str
    port: int
    model_name: str
    exact_usage: bool
    _stop: Callable[[], None]
    _worker: AgentWorker

    @property
    def answered(self) -> int:
        """Requests answered so far."""
        return self._worker.answered

    @property
    def batches(self) -> int:
        """``agent.respond`` calls that answered so far."""
        return self._worker.batches

    def stop(self) -> None:
        """Stop gracefully (requests in flight get ``shutdown_timeout`` seconds) and wait for it."""
        self._stop()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Runner:
    def __init__(
        self,
        agent: Agent,
        options: ServeOptions,
        refusal: Callable[..., str | None] | None,
        *,
        sock: socket.socket | None = None,
        access_log: bool = False,
    ) -> None:
        self.options = options
        self.sock = sock if sock is not None else bind_socket(options.host, options.port)
        self.worker = AgentWorker(agent, max_batch=options.max_batch, batch_window=options.batch_window)
        self.state = AppState(
            worker=self.worker, options=options, model_name=options.model_name or agent.name, refusal=refusal
        )
        config = uvicorn.Config(
            build_app(self.state),
            loop="asyncio",
            http=protocol_class(read_timeout=options.read_timeout),
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=access_log,
            proxy_headers=False,
            server_header=False,
            backlog=options.backlog,
            timeout_keep_alive=options.keep_alive,  # type: ignore[arg-type]
            timeout_graceful_shutdown=int(options.shutdown_timeout) + 2,
        )
        self.started = threading.Event()
        self.on_started: Callable[[], None] = lambda: None
        self.server = _Uvicorn(config, started=self._started, stopping=self._stopping)
        self.state.connections = self.server.server_state.connections
        host, port = self.sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self.handle = ServerHandle(
            url=f"http://{shown}:{port}/v1",
            host=host,
            port=port,
            model_name=self.state.model_name,
            exact_usage=self.worker.counter.exact,
            _stop=self.stop,
            _worker=self.worker,
        )

    def _started(self) -> None:
        handle = self.handle
        counts = "token counts from the model's tokenizer" if handle.exact_usage else "estimated token counts"
        key = "API key required" if self.options.api_key else "no API key"
        _log.info("serving %r on %s (%s; %s)", handle.model_name, handle.url, counts, key)
        self.started.set()
        self.on_started()

    def _stopping(self) -> None:
        _log.info("stopping: requests in flight get %g s", self.options.shutdown_timeout)
        asyncio.get_running_loop().call_later(
            self.options.shutdown_timeout, self.worker.fail_all, ShuttingDown("the server is shutting down")
        )

    def run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.sock.close()
            self.worker.close(timeout=max(self.options.shutdown_timeout, 1.0))

    def stop(self) -> None:
        self.server.should_exit = True


def start_server(agent: Agent, *, refusal: Callable[..., str | None] | None = None, **settings: Any) -> ServerHandle:
    """Serve an agent on a background thread (tests, notebooks, embedding) and return once it listens.

    Args:
        agent: The agent answering requests.
        refusal: For rubric agents: says why a prompt cannot be answered (see
            :class:`~.rubric.RubricChatAgent.refusal`).
        **settings: :class:`~.options.ServeOptions` fields; ``port`` defaults to 0 (a free port).

    Returns:
        The handle; ``handle.stop()`` (or leaving a ``with`` block) stops the server and waits.

    Raises:
        ServeError: If the address cannot be bound or the server does not start within 30 s.
    """
    runner = _Runner(agent, ServeOptions(**{"port": 0, **settings}), refusal)
    thread = threading.Thread(target=runner.run, name="prefc-serve", daemon=True)

    def stop() -> None:
        runner.stop()
        thread.join(timeout=runner.options.shutdown_timeout + 10)

    thread.start()
    deadline = time.monotonic() + 30
    while not runner.started.wait(timeout=0.05):
        if not thread.is_alive() or time.monotonic() > deadline:
            stop()
            raise ServeError(
                "the server stopped while starting" if not thread.is_alive() else "the server did not start within 30 s"
            )
    return ServerHandle(**{**runner.handle.__dict__, "_stop": stop})


def serve(
    agent: Agent,
    *,
    options: ServeOptions,
    refusal: Callable[..., str | None] | None = None,
    on_ready: Callable[[ServerHandle], None] | None = None,
    sock: socket.socket | None = None,
    access_log: bool = False,
) -> ServerHandle:
    """Serve an agent in the foreground until SIGINT or SIGTERM, then stop gracefully.

    A second SIGINT stops at once. Requests in flight get ``options.shutdown_timeout`` seconds;
    those still waiting are answered 503.

    Args:
        agent: The agent answering requests.
        options: The server settings.
        refusal: For rubric agents: says why a prompt cannot be answered.
        on_ready: Called once the server accepts connections (prints the URL).
        sock: A socket from :func:`bind_socket` (default: bind ``options.host`` and ``options.port`` now).
        access_log: Log one line per request (client, method, path, status; never headers).

    Returns:
        The handle of the stopped server (its counters).

    Raises:
        ServeError: If the address cannot be bound.
    """
    runner = _Runner(agent, options, refusal, sock=sock, access_log=access_log)
    if on_ready is not None:
        runner.on_started = lambda: on_ready(runner.handle)
    main = threading.current_thread() is threading.main_thread()
    previous = {}
    if main:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, runner.server.handle_exit)
    try:
        runner.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return runner.handle
