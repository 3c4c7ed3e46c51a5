"""Compile cost as the work grows: time and peak memory of a dataset of 10^3, 10^4, 10^5 and 10^6
rows, with the cost per row and a verdict on whether time is linear and peak memory flat.

The spec is the ultimatum game with an outside option ``c`` for the proposer, at 20 endowments and
as many values of ``c`` as the largest size needs (61 decisions a point: the proposer's, and the
responder's after each of 60 offers), for two preferences, in up to 50 paraphrases (a copy of the
default templates, whose 24 wordings repeat beyond the 24th), so that every size draws distinct
prompt keys from the same pool. Every point is solved, and every decision answered, once before the sizes run
(solving is the same work for every size: only the rows drawn change); each size then samples,
renders and writes its rows through the compile's streaming writer in a child process of its own
(forked from the solved state), which reports its wall time and its peak resident memory
(``ru_maxrss``).

Sampling walks the whole pool whatever the size, so time is a fixed part plus a part per row.
Verdicts: time is linear when the marginal CPU time per row (the CPU time, user + system, added
from one size to the next, over the rows added; wall time is printed too, but on a shared machine
it follows the load) of every step from 10^4 rows on is within 20% of the last step's, and at most
linear when no step's is above the step before's by more than 20% (what the rows of a situation
share is computed once, so a row's cost falls as rows grow); memory is flat when every size's
peak is within 20% of the smallest's.
Usage: ``python bench/scaling.py [--sizes 1000,10000,100000,1000000] [--pool ROWS]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SPEC = """spec scaling "Scaling"

use "preferences.pref"

game ultimatum "Ultimatum game with an outside option" {
    players proposer, responder
    param E = 60 vary 60..79, c = 0 vary 0..OUTSIDE
    proposer chooses offer in 0..E
    then responder sees offer and chooses accept in {yes, no}
    payoff proposer  = if accept == yes then E - offer else c
    payoff responder = if accept == yes then offer else 0
}

dataset sft for economicus, moralis(kappa = 0.5) {
    games ultimatum
    samples 1000 per preference   seed 1
    split train 0.9, val 0.1
    paraphrases PARAPHRASES
    template "templates"
}
"""
KEYS_PER_WORDING = 20 * 61  # endowments x decisions
MAX_WORDINGS = 50  # the most paraphrases a dataset may ask


def _spec(directory: Path, largest: int) -> Path:
    half = -(-largest // 2)  # each preference draws half the rows
    wordings = min(MAX_WORDINGS, max(24, -(-half // KEYS_PER_WORDING)))
    outside = -(-half // (KEYS_PER_WORDING * wordings))  # values of the outside option c
    shutil.copy(ROOT / "specs" / "preferences.pref", directory / "preferences.pref")
    shutil.copytree(ROOT / "compiler" / "emit" / "templates" / "default", directory / "templates")
    path = directory / "scaling.pref"
    path.write_text(SPEC.replace("PARAPHRASES", str(wordings)).replace("OUTSIDE", str(outside - 1)))
    return path


def _emit(spec, ir, solutions, rows: int, out: Path) -> dict[str, float]:
    """Sample, render and stream ``rows`` rows to disk as a compile does; time and peak memory."""
    from prefc.artefacts import DatasetRow
    from prefc.compiler.check import CheckedBuild
    from prefc.compiler.emit.dataset import plan_dataset
    from prefc.compiler.emit.prompts import PromptRenderer
    from prefc.compiler.emit.templates import TemplateSet
    from prefc.compiler.emit.write import StagedBuild

    block = spec.builds["sft"]
    build = CheckedBuild(
        block.ast.model_copy(update={"samples": rows // len(block.preferences), "samples_per": "preference"}),
        block.preferences,
        block.games,
    )
    t0, c0 = time.perf_counter(), _cpu()
    templates = TemplateSet(Path(spec.path).parent / "templates")
    plan = plan_dataset(spec, ir, build, solutions, PromptRenderer(ir, templates), seed=2)
    staged = StagedBuild(out / "scaling")
    written = 0
    for split in plan.rows:
        lines = staged.line_file(f"{split}.jsonl", model=DatasetRow)
        for _, line in plan.lines(split, scratch=staged.tmp / f".{split}.rows"):
            lines.write(line)
        written += lines.close().rows
    staged.commit()
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": written, "seconds": seconds, "cpu": cpu, "peak_mib": peak_kib / 1024}


def _cpu() -> float:
    """This process's CPU time (user + system): on a shared machine it moves less than wall time."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _in_child(spec, ir, solutions, rows: int, out: Path) -> dict[str, float]:
    """Run one size in a forked child (its own peak memory), the result through a pipe."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        code = 0
        try:
            result = _emit(spec, ir, solutions, rows, out)
            os.write(write, json.dumps(result).encode())
        except BaseException as exc:  # noqa: BLE001 - reported by the parent
            os.write(write, json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
            code = 1
        finally:
            os.close(write)
            os._exit(code)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    result = json.loads(b"".join(chunks) or b'{"error": "no result"}')
    if "error" in result:
        raise SystemExit(f"{rows} rows: {result['error']}")
    return result


def main() -> None:
    """Solve the pool once, run every size, print the table and the verdicts."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000", help="row counts, comma-separated")
    parser.add_argument("--pool", type=int, default=None, help="rows the pool holds (default: the largest size)")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    from prefc.compiler.check import check_file
    from prefc.compiler.emit.dataset import parameter_points
    from prefc.compiler.emit.situations import Solutions, situations
    from prefc.compiler.ir import lower_spec

    with tempfile.TemporaryDirectory() as tmp:
        spec = check_file(str(_spec(Path(tmp), max(sizes[-1], args.pool or 0))))
        ir = lower_spec(spec)
        solutions = Solutions(ir)
        t0 = time.perf_counter()
        points = parameter_points(ir, "ultimatum")
        print(f"pool: solving {len(points)} points for 2 preferences ...", flush=True)
        for pref in spec.builds["sft"].preferences:
            for point in points:
                solutions.solve("ultimatum", pref, point)
                for s in situations(ir.games["ultimatum"], point):
                    solutions.decide(s, pref)
        wordings = spec.builds["sft"].ast.paraphrases
        print(
            f"pool: {len(points)} points x 61 decisions x {wordings} wordings, solved and answered once in "
            f"{time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        results = []
        for n in sizes:
            r = _in_child(spec, ir, solutions, n, Path(tmp) / f"out-{n}")
            shutil.rmtree(Path(tmp) / f"out-{n}", ignore_errors=True)
            results.append(r)
            print(
                f"{r['rows']:>9,} rows: {r['seconds']:8.2f} s wall  {r['cpu']:8.2f} s CPU  "
                f"{r['rows'] / r['cpu']:>9,.0f} rows/CPU-s  {1e6 * r['cpu'] / r['rows']:8.1f} us CPU/row  "
                f"peak {r['peak_mib']:7.1f} MiB",
                flush=True,
            )
    last = results[-1]
    base = last["cpu"] / last["rows"]
    print(
        "CPU time per row / the largest size's:",
        ", ".join(f"{r['rows']:,}: {r['cpu'] / r['rows'] / base:.2f}" for r in results),
    )
    steps = [
        (b["rows"], (b["cpu"] - a["cpu"]) / (b["rows"] - a["rows"])) for a, b in zip(results, results[1:], strict=False)
    ]
    if steps:
        print("marginal CPU time per row, by step:", ", ".join(f"to {n:,}: {1e6 * m:.1f} us" for n, m in steps))
    low = results[0]["peak_mib"]
    print("peak memory / the smallest size's:", ", ".join(f"{r['rows']:,}: {r['peak_mib'] / low:.2f}" for r in results))
    later = [m for n, m in steps if n > 10_000]
    within = bool(later) and all(abs(m / later[-1] - 1) <= 0.2 for m in later)
    # what each situation's rows share (schemas, template variables) is computed once, so the cost
    # of a row can only fall as the rows grow; growing faster than the rows is what must not happen
    no_faster = bool(later) and all(b <= 1.2 * a for a, b in zip(later, later[1:], strict=False))
    flat = all(r["peak_mib"] <= 1.2 * low for r in results)
    verdict = "linear" if within else ("at most linear" if no_faster else "NOT linear")
    print(
        f"verdict: time {verdict} (linear: the marginal CPU time per row of every step from 10^4 rows on "
        "within 20% of the last's; at most linear: no step's above the step before's by more than 20%); ",
        end="",
    )
    print(f"peak memory {'flat' if flat else 'NOT flat'} (within 20% of the smallest size's)")
    sys.exit(0)


if __name__ == "__main__":
    main()
