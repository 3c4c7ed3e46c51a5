"""The autonomous-vehicle application: what each agent chooses on ``specs/av_dilemma.pref``'s
rubric ``av_eval``, by game and parameter region, against the theory's prediction for each type.

Compiles the spec, then tabulates per game the share of items answered with the moral choice
(``utilitarian`` in ``av_purchase``, ``swerve`` in ``swerve``) in each region where the theory's
prediction changes: ``av_purchase`` by the harm ``h`` (homo moralis at kappa buys the utilitarian
car iff kappa >= 1/h), ``swerve`` by whether passengers / pedestrians is below 1/2 (homo moralis at
0.5 swerves iff 0.5 > passengers / pedestrians). The theory's rows come from every item's targets;
each ``--results DIR`` (a ``prefc eval`` output directory of that rubric, e.g. of an adapter
trained on the paper's games, never shown an AV prompt, or of one trained on ``av_sft``) adds the
agent's parsed answers as a row.

    python bench/av_transfer.py
    python bench/av_transfer.py --results runs/av/transfer-economicus runs/av/transfer-moralis
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
MORAL = {"av_purchase": ("car", "utilitarian"), "swerve": ("car", "swerve")}


def region(game: str, params: dict) -> str:
    """The item's parameter region.

    Args:
        game: The game.
        params: Its parameter values.
    """
    if game == "av_purchase":
        return f"h = {params['h']:g}"
    ratio = params["passengers"] / params["pedestrians"]
    return "passengers/pedestrians < 1/2" if ratio < 0.5 else "passengers/pedestrians >= 1/2"


def tabulate(rows: dict[str, dict[tuple[str, str], list[bool]]]) -> list[str]:
    """Markdown table: one row per agent, one column per (game, region), the moral-choice share.

    Args:
        rows: Agent -> (game, region) -> whether each answer was the moral choice.
    """
    cols = sorted({k for r in rows.values() for k in r})
    head = "| agent | " + " | ".join(f"{g}: {r}" for g, r in cols) + " |"
    out = [head, "|---|" + "---|" * len(cols)]
    for agent, cells in rows.items():
        vals = []
        for c in cols:
            xs = cells.get(c, [])
            vals.append(f"{sum(xs) / len(xs):.2f} ({len(xs)})" if xs else "-")
        out.append(f"| {agent} | " + " | ".join(vals) + " |")
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the tabulation.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default=str(ROOT / "specs" / "av_dilemma.pref"))
    parser.add_argument("--results", nargs="*", default=[], metavar="DIR", help="prefc eval output directories")
    args = parser.parse_args(argv)

    from prefc.artefacts import ResultRecord, RubricItem, read_rows
    from prefc.compiler.check import check_file
    from prefc.compiler.emit.build import compile_spec

    with tempfile.TemporaryDirectory(prefix="prefc-av-") as tmp:
        build = compile_spec(check_file(args.spec), Path(tmp)).directory
        items = {row.id: row for _, _, _, row in read_rows(build / "av_eval.jsonl", RubricItem)}
    table: dict[str, dict[tuple[str, str], list[bool]]] = defaultdict(lambda: defaultdict(list))
    for item in items.values():
        action, moral = MORAL[item.game]
        for label, target in item.targets.items():
            table[f"theory:{label}"][(item.game, region(item.game, item.params))].append(target[action] == moral)
    for directory in args.results:
        summary = json.loads((Path(directory) / "summary.json").read_text(encoding="utf-8"))
        agent = str(summary.get("agent", Path(directory).name))
        for _, _, _, rec in read_rows(Path(directory) / "results.jsonl", ResultRecord):
            item = items.get(rec.id)
            if item is None or rec.parsed is None:
                continue
            action, moral = MORAL[item.game]
            table[agent][(item.game, region(item.game, item.params))].append(rec.parsed.get(action) == moral)
    print("\n".join(tabulate(table)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
