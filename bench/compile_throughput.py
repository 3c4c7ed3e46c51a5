"""Dataset emission throughput: rows/s of `prefc compile` on the paper spec, against the floor of
plain ``json.dumps`` of the same rows.

The paper spec's sweeps hold a few hundred distinct rows, so the benchmark widens them (more values
of E, T, S, n and m; 24 wordings) in a temporary copy, solves every point once (solutions are cached,
as in a real compile), then times sampling + rendering + writing of 100,000 rows with a cold prompt
cache, through the compile's own streaming writer (rows rendered prompt by prompt into a scratch
file, then written in their shuffled order to the split file; no split is held in memory). The
floor is a bare ``json.dumps`` of the same rows (parsed back from the files) written to a file, in
the same run. Usage: ``python bench/compile_throughput.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def widened_spec(directory: Path) -> Path:
    """A copy of specs/paper.pref with wider parameter sweeps and only the `sft` dataset.

    Args:
        directory: Where to write it.
    """
    text = (ROOT / "specs" / "paper.pref").read_text()
    widen = [  # (pattern in specs/paper.pref, wider sweep)
        (r"(game dictator[^}]*?param E = 10) vary \{[^}]*\}", r"\1 vary 1..800"),
        (r"(game ultimatum[^}]*?param E = 10) vary \{[^}]*\}", r"\1 vary 10..40"),
        (r"T = 5 vary \{[^}]*\}", "T = 5 vary 4..103"),
        (r"S = 0 vary \{[^}]*\}", "S = 0 vary {0, -1, -2}"),
        (r"m in \[1, 20\] = 1.6 vary \{[^}]*\}", "m in [1, 20] = 1.6 vary 1.1..3 step 0.1"),
        (r"vary 2\.\.8", "vary 2..20"),
        (r"samples \d+ per game", "samples 40 per preference"),
    ]
    for pattern, wider in widen:
        text, n = re.subn(pattern, wider, text, count=1, flags=re.S)
        if n != 1:
            raise SystemExit(f"specs/paper.pref changed: cannot widen `{pattern}`; update this benchmark")
    text = re.sub(r"paraphrases \d+", "paraphrases 24", text)
    text = text[: text.index("rubric eval")]
    shutil.copy(ROOT / "specs" / "preferences.pref", directory / "preferences.pref")
    (directory / "paper.pref").write_text(text)
    return directory / "paper.pref"


def main() -> None:
    """Run the benchmark and print rows/s."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    from prefc.artefacts import DatasetRow
    from prefc.compiler.check import CheckedBuild, check_file
    from prefc.compiler.emit.dataset import build_dataset, plan_dataset
    from prefc.compiler.emit.prompts import PromptRenderer
    from prefc.compiler.emit.situations import Solutions
    from prefc.compiler.emit.templates import TemplateSet
    from prefc.compiler.emit.write import StagedBuild
    from prefc.compiler.ir import lower_spec

    with tempfile.TemporaryDirectory() as tmp:
        spec = check_file(str(widened_spec(Path(tmp))))
        ir = lower_spec(spec)
        build = spec.builds["sft"]
        per_pref = args.rows // len(build.preferences)
        build = CheckedBuild(
            build.ast.model_copy(update={"samples": per_pref, "samples_per": "preference"}),
            build.preferences,
            build.games,
        )
        solutions = Solutions(ir)
        t0 = time.perf_counter()
        build_dataset(spec, ir, build, solutions, PromptRenderer(ir, TemplateSet()), seed=1)
        t_solve = time.perf_counter() - t0
        renderer = PromptRenderer(ir, TemplateSet())  # cold prompt cache: every prompt is rendered again
        t0 = time.perf_counter()
        plan = plan_dataset(spec, ir, build, solutions, renderer, seed=2)
        staged = StagedBuild(Path(tmp) / "out" / "bench")
        n = 0
        for split in plan.rows:
            lines = staged.line_file(f"{split}.jsonl", model=DatasetRow)
            for _, line in plan.lines(split, scratch=staged.tmp / f".{split}.rows"):
                lines.write(line)
            n += lines.close().rows
        staged.commit()
        t_emit = time.perf_counter() - t0
        parsed = [json.loads(line) for split in plan.rows for line in (staged.target / f"{split}.jsonl").open()]
        t0 = time.perf_counter()
        with open(Path(tmp) / "floor.jsonl", "w", encoding="utf-8", buffering=1 << 20) as f:
            f.writelines(json.dumps(r) + "\n" for r in parsed)
        t_floor = time.perf_counter() - t0
    print(f"rows: {n}")
    print(f"first build (solving {len(solutions.all_solutions())} points + emitting): {t_solve:.1f} s")
    print(f"emission with cached solutions: {t_emit:.2f} s = {n / t_emit:,.0f} rows/s")
    print(
        f"json.dumps floor: {t_floor:.2f} s = {n / t_floor:,.0f} rows/s; ratio emit/floor time = {t_emit / t_floor:.1f}"
        f" (goal: at most 2.0, i.e. at least 0.5 of the floor's rows/s)"
    )


if __name__ == "__main__":
    main()
