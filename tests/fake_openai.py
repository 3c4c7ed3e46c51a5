"""A loopback server for the OpenAI endpoints hosted fine-tuning uses, with their documented shapes
and error cases (for tests; it binds 127.0.0.1 only and answers nothing else).

Endpoints: ``POST /v1/files`` (multipart upload, ``purpose=fine-tune``), ``GET /v1/files/{id}``,
``POST /v1/fine_tuning/jobs``, ``GET /v1/fine_tuning/jobs/{id}``, ``GET
/v1/fine_tuning/jobs/{id}/events``, ``POST /v1/fine_tuning/jobs/{id}/cancel`` and ``POST
/v1/chat/completions`` for the fine-tuned models it made. Errors come as ``{"error": {"message",
"type", "param", "code"}}`` with the status the API uses (400, 401, 404).

A job moves one state per status check: ``validating_files`` (the server's own check of the
training file: JSON lines, a ``messages`` list ending with an assistant message, at least 10
examples; a file that fails makes the job ``failed`` with ``invalid_training_file``), ``queued``,
``running`` (one event per step), then ``succeeded`` with ``fine_tuned_model``
``ft:<model>:prefc:<suffix>:<n>``. ``behaviour`` sets how it ends: ``ok``, ``fail`` (``failed``
while running, code ``server_error``) or ``stall`` (``running`` for ever).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FINE_TUNABLE = {"gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14", "gpt-3.5-turbo-0125"}


class FakeOpenAI(ThreadingHTTPServer):
    """The server; ``base_url`` is ``http://127.0.0.1:PORT/v1``.

    Args:
        api_key: The key requests must carry.
        behaviour: ``ok``, ``fail`` or ``stall``.
        reply: Answers chat requests to a fine-tuned model: the last user message -> text.
        steps: Training steps a job reports.
        min_examples: The fewest examples the server's file check accepts.
    """

    daemon_threads = True

    def __init__(
        self,
        *,
        api_key: str,
        behaviour: str = "ok",
        reply: Callable[[str], str] | None = None,
        steps: int = 3,
        min_examples: int = 10,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api_key = api_key
        self.behaviour = behaviour
        self.reply = reply or (lambda text: "ANSWER: {}")
        self.steps = steps
        self.min_examples = min_examples
        self.files: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.models: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self._ids = itertools.count(1)
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()

    def next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):04d}"

    # --- the server's own reading of a training file ---------------------------------------------
    def check_training_file(self, data: bytes) -> str | None:
        lines = [line for line in data.decode("utf-8", errors="replace").splitlines() if line.strip()]
        for number, line in enumerate(lines, start=1):
            try:
                row = json.loads(line)
            except ValueError:
                return f"line {number} is not valid JSON"
            messages = row.get("messages") if isinstance(row, dict) else None
            if not isinstance(messages, list) or not messages or messages[-1].get("role") != "assistant":
                return f"line {number} has no messages ending with an assistant message"
        if len(lines) < self.min_examples:
            return f"the training file has {len(lines)} example(s), at least {self.min_examples} are required"
        return None

    # --- job progress -------------------------------------------------------------------------------
    def advance(self, job: dict[str, Any]) -> None:
        status = job["status"]
        events = self.events[job["id"]]

        def event(message: str, level: str = "info", data: dict | None = None) -> None:
            events.append(
                {
                    "object": "fine_tuning.job.event",
                    "id": self.next_id("ftevent"),
                    "created_at": int(time.time()) + len(events),
                    "level": level,
                    "message": message,
                    "type": "metrics" if data else "message",
                    "data": data,
                }
            )

        if status == "validating_files":
            problem = self.check_training_file(self.files[job["training_file"]]["data"])
            if problem:
                job.update(
                    status="failed",
                    finished_at=int(time.time()),
                    error={
                        "code": "invalid_training_file",
                        "param": "training_file",
                        "message": f"The job failed due to an invalid training file: {problem}.",
                    },
                )
                event(job["error"]["message"], "error")
            else:
                job["status"] = "queued"
                event("Files validated, moving job to queued state")
        elif status == "queued":
            job["status"] = "running"
            job["step"] = 0
            event("Fine-tuning job started")
        elif status == "running":
            if self.behaviour == "stall":
                return
            job["step"] += 1
            if self.behaviour == "fail" and job["step"] == 2:
                job.update(
                    status="failed",
                    finished_at=int(time.time()),
                    error={
                        "code": "server_error",
                        "param": None,
                        "message": "The job failed due to an internal error.",
                    },
                )
                event(job["error"]["message"], "error")
                return
            event(
                f"Step {job['step']}/{self.steps}: training loss={1.0 / job['step']:.3f}",
                data={"step": job["step"], "train_loss": 1.0 / job["step"]},
            )
            if job["step"] >= self.steps:
                model = f"ft:{job['model']}:prefc:{job['user_provided_suffix']}:{job['id'][-4:]}"
                job.update(
                    status="succeeded", fine_tuned_model=model, finished_at=int(time.time()), trained_tokens=1234
                )
                self.models.add(model)
                event("The job has successfully completed")


def _error(
    status: int, message: str, *, param: str | None = None, code: str | None = None, kind: str = "invalid_request_error"
) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": kind, "param": param, "code": code}}


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {self.server.api_key}":
            self._send(*_error(401, "Incorrect API key provided.", code="invalid_api_key"))
            return False
        return True

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.server.requests.append(("GET", self.path))
        if not self._authorised():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        with self.server.lock:
            if parts[:2] == ["v1", "files"] and len(parts) == 3:
                f = self.server.files.get(parts[2])
                return self._send(
                    *(_error(404, f"No such File object: {parts[2]}", param="id") if f is None else (200, f["object"]))
                )
            if parts[:3] == ["v1", "fine_tuning", "jobs"] and len(parts) in (4, 5):
                job = self.server.jobs.get(parts[3])
                if job is None:
                    return self._send(*_error(404, f"Could not find fine tune job: {parts[3]}", param="id"))
                if len(parts) == 4:
                    if job["status"] not in ("succeeded", "failed", "cancelled"):
                        self.server.advance(job)
                    return self._send(200, {k: v for k, v in job.items() if k != "step"})
                if parts[4] == "events":
                    data = sorted(self.server.events[job["id"]], key=lambda e: e["created_at"], reverse=True)
                    return self._send(200, {"object": "list", "data": data, "has_more": False})
        self._send(*_error(404, f"Invalid URL (GET {self.path})"))

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self.server.requests.append(("POST", self.path))
        if not self._authorised():
            return
        path = self.path.split("?")[0].rstrip("/")
        body = self._body()
        with self.server.lock:
            if path == "/v1/files":
                return self._send(*self._upload(body))
            if path == "/v1/fine_tuning/jobs":
                return self._send(*self._create_job(body))
            if path.startswith("/v1/fine_tuning/jobs/") and path.endswith("/cancel"):
                job = self.server.jobs.get(path.split("/")[4])
                if job is None:
                    return self._send(*_error(404, "Could not find fine tune job", param="id"))
                job["status"] = "cancelled"
                return self._send(200, job)
            if path == "/v1/chat/completions":
                return self._send(*self._chat(body))
        self._send(*_error(404, f"Invalid URL (POST {self.path})"))

    def _upload(self, body: bytes) -> tuple[int, dict[str, Any]]:
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data"):
            return _error(400, "Expected a multipart/form-data upload", param="file")
        message = BytesParser(policy=email_policy).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        fields = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        if "file" not in fields:
            return _error(400, "Missing file", param="file")
        purpose = fields["purpose"].get_content().strip() if "purpose" in fields else None
        if purpose != "fine-tune":
            return _error(400, f"'{purpose}' is not one of the supported purposes", param="purpose")
        filename = fields["file"].get_filename() or "upload"
        data = fields["file"].get_payload(decode=True) or b""
        if not filename.endswith(".jsonl"):
            return _error(400, "Invalid file format for Fine-Tuning API. Must be .jsonl", param="file")
        file_id = self.server.next_id("file")
        obj = {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        self.server.files[file_id] = {"object": obj, "data": data}
        return 200, obj

    def _create_job(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            req = json.loads(body)
        except ValueError:
            return _error(400, "We could not parse the JSON body of your request.")
        model = req.get("model")
        if model not in FINE_TUNABLE:
            return _error(
                400,
                f"Model {model} is not available for fine-tuning or does not exist.",
                param="model",
                code="model_not_available",
            )
        for key in ("training_file", "validation_file"):
            if req.get(key) is not None and req[key] not in self.server.files:
                return _error(400, f"invalid {key}: {req[key]}", param=key, code="invalid_file")
        if req.get("training_file") is None:
            return _error(400, "Missing required parameter: 'training_file'.", param="training_file")
        job_id = self.server.next_id("ftjob")
        hp = req.get("hyperparameters") or {}
        job = {
            "id": job_id,
            "object": "fine_tuning.job",
            "created_at": int(time.time()),
            "error": None,
            "fine_tuned_model": None,
            "finished_at": None,
            "hyperparameters": {
                "n_epochs": hp.get("n_epochs", "auto"),
                "batch_size": hp.get("batch_size", "auto"),
                "learning_rate_multiplier": "auto",
            },
            "model": model,
            "organization_id": "org-prefc",
            "result_files": [],
            "seed": req.get("seed", 0),
            "status": "validating_files",
            "trained_tokens": None,
            "training_file": req["training_file"],
            "validation_file": req.get("validation_file"),
            "user_provided_suffix": req.get("suffix"),
        }
        self.server.jobs[job_id] = job
        self.server.events[job_id] = []
        return 200, {k: v for k, v in job.items() if k != "step"}

    def _chat(self, body: bytes) -> tuple[int, dict[str, Any]]:
        req = json.loads(body)
        if req.get("model") not in self.server.models:
            return _error(
                404,
                f"The model `{req.get('model')}` does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        user = next(m["content"] for m in reversed(req["messages"]) if m["role"] == "user")
        text = self.server.reply(user)
        return 200, {
            "id": self.server.next_id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": req["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
