"""The `openai:` agent's own cost: requests a second it sustains against a loopback `prefc serve`.

The server serves the `theory:economicus` agent for the paper spec's rubric, so answering costs
next to nothing and what is measured is the client (the agent's HTTP requests, JSON, retries and
its thread pool) plus the server's HTTP and batching, the same path a vLLM server is reached by.
Every rubric prompt is sent once per concurrency setting, after one untimed warm-up pass; the
answers are checked against the theory agent's own (the path is lossless). Printed: requests/s per
concurrency, the time per request, and the direct theory agent's items/s as the floor.

    python bench/agent_overhead.py [--rubric build/paper/eval.jsonl] [--concurrency 1,8,32]

Without ``--rubric`` the paper spec is compiled into a temporary directory first.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _rubric(path: str | None, tmp: Path) -> Path:
    if path:
        return Path(path)
    subprocess.run(
        [sys.executable, "-m", "prefc", "compile", str(ROOT / "specs" / "paper.pref"), "-o", str(tmp), "--quiet"],
        check=True,
    )
    return tmp / "paper" / "eval.jsonl"


def _serve(rubric: Path) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ)
    env.pop("PREFC_SERVE_API_KEY", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefc",
            "serve",
            "--agent",
            "theory:economicus",
            "--rubric",
            str(rubric),
            "--port",
            "0",
            "--json",
            "--max-batch",
            "64",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise SystemExit("prefc serve did not start")
    return proc, json.loads(line)["url"]


def main() -> None:
    """Compile (unless given a rubric), serve, and time the agent at each concurrency."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rubric", help="a compiled rubric (.jsonl); default: compile specs/paper.pref")
    ap.add_argument("--concurrency", default="1,8,32", help="comma-separated concurrency settings")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    from prefc.runtime.agents import make_agent

    with tempfile.TemporaryDirectory() as tmp:
        rubric = _rubric(args.rubric, Path(tmp))
        items = [json.loads(line) for line in rubric.read_text().splitlines() if line.strip()]
        direct = make_agent("theory:economicus")
        t0 = time.perf_counter()
        expected = direct.respond_items(items)
        direct_s = time.perf_counter() - t0
        proc, url = _serve(rubric)
        rows = []
        try:
            for n in (int(x) for x in args.concurrency.split(",")):
                agent = make_agent(f"openai:{url}?model=theory:economicus&concurrency={n}")
                prompts = [it["prompt"] for it in items]
                agent.respond(prompts)  # warm-up: connections, the client's first request
                t0 = time.perf_counter()
                answers = agent.respond(prompts)
                elapsed = time.perf_counter() - t0
                if answers != expected:
                    raise SystemExit(f"concurrency {n}: answers through the server differ from the agent's own")
                rows.append(
                    {
                        "concurrency": n,
                        "requests": len(prompts),
                        "seconds": round(elapsed, 3),
                        "requests_per_s": round(len(prompts) / elapsed, 1),
                        "ms_per_request": round(1000 * elapsed / len(prompts), 2),
                    }
                )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    result = {
        "items": len(items),
        "direct_items_per_s": round(len(items) / direct_s, 1),
        "load": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "openai_agent": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{len(items)} rubric prompts; theory agent directly: {result['direct_items_per_s']:,.0f} items/s; "
        f"load average {result['load'][0]:.2f} ({os.cpu_count()} CPUs)"
    )
    print(f"{'concurrency':>11} {'requests/s':>11} {'ms/request':>11}")
    for r in rows:
        print(f"{r['concurrency']:>11} {r['requests_per_s']:>11,.1f} {r['ms_per_request']:>11.2f}")


if __name__ == "__main__":
    main()
