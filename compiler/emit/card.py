"""The dataset card (``README.md`` of a dataset directory)."""

from __future__ import annotations

from collections import Counter

from prefc.compiler.check import CheckedBuild, CheckedSpec
from prefc.compiler.ir import SpecIR

SPLITS = ("train", "val", "test")


def dataset_card(spec: CheckedSpec, ir: SpecIR, build: CheckedBuild, counts: Counter, skipped: Counter,
                 header: dict) -> str:
    """A Markdown card: what the dataset teaches, its conventions, preferences, counts and how to load it.

    Args:
        spec: The checked spec.
        ir: Its IR.
        build: The dataset block.
        counts: (game, preference, split) -> rows.
        skipped: (game, preference) -> points without a pure answer.
        header: The ``dataset.json`` content.
    """
    splits = [s for s in SPLITS if any(k[2] == s for k in counts)]
    out = [f"# {spec.name} / {build.name}", "",
           f"Supervised fine-tuning data compiled by prefc from the spec `{spec.name}` ({spec.title}), "
           f"sha256 `{spec.sha256}`.", "",
           "Each row asks a player of an economic game for a decision and answers it as the named "
           "preference would: a reasoning trace derived from the solver's derivation (the utility of each "
           "option, or the utility function and its marginal), then one line `ANSWER: {json}` whose keys are "
           "the action names.", "", "## Preferences", ""]
    for p in build.preferences:
        checked = spec.preferences[p.name]
        from prefc.compiler import pretty

        out.append(f"- `{p.label}`: {checked.title}, `{pretty.expr(checked.ast.body)}`")
    out += ["", "## Games and conventions", ""]
    for g in build.games:
        game = ir.games[g]
        values = ", ".join(f"{n} in {{{', '.join(str(v) for v in par.values)}}}" for n, par in game.params.items())
        out.append(f"- `{g}` ({game.title}): parameters {values}; Kantian convention: {game.describe_kantian()}.")
    out += ["", "Ties are broken by the lowest option (listed in `meta.alternatives`); parameter points whose "
            "only equilibria are mixed are skipped" + (": " + ", ".join(f"{g}/{p}: {n}" for (g, p), n in
                                                                      sorted(skipped.items())) if skipped else ".")]
    hold = header["holdout"]
    out += ["", "## Splits", "", f"Fractions: {header['split']}. Hold-outs (all in `test`): games "
            f"{hold['games'] or 'none'}, paraphrases {hold['paraphrases'] or 'none'}, regions "
            f"{hold['where'] or 'none'}. No prompt appears in two splits.", "",
            "| game | preference | " + " | ".join(splits) + " |", "|---|---|" + "---|" * len(splits)]
    for g in build.games:
        for p in build.preferences:
            out.append(f"| {g} | {p.label} | " + " | ".join(str(counts.get((g, p.label, s), 0)) for s in splits) + " |")
    files = ", ".join(f'"{s}": "{s}.jsonl"' for s in splits)
    out += ["", "## Loading", "", "```python", "from datasets import load_dataset",
            f'ds = load_dataset("json", data_files={{{files}}})',
            'ds = ds.remove_columns("meta")  # trl reads prompt/completion (or messages) only', "",
            "from trl import SFTConfig, SFTTrainer",
            'trainer = SFTTrainer(model=MODEL_DIR, train_dataset=ds["train"],',
            "                     args=SFTConfig(completion_only_loss=True))", "```", "",
            "`meta` holds the provenance of every row: spec hash, game, role, preference and its parameters, "
            "parameter point, split, paraphrase number and the answer.", ""]
    return "\n".join(out)
