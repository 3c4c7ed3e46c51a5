"""The dataset card (``README.md`` of a dataset directory), a Hugging Face dataset card.

Its YAML header makes the directory a dataset repository: ``configs`` has one config per
preference (named by :func:`prefc.compiler.emit.layout.preference_slug`, ``data_files`` per split)
and ``all`` (the default: every preference mixed), so
``datasets.load_dataset("build/paper/sft", "moralis_kappa0.5")`` loads one preference's ``train``
and ``validation`` splits. The header also gives the license, task categories, language, tags and
size category. Strings in it are JSON-quoted (valid YAML double-quoted scalars).
"""

from __future__ import annotations

import json
from collections import Counter

from prefc.compiler.check import CheckedBuild, CheckedSpec
from prefc.compiler.emit.layout import HUB_SPLIT_NAMES, SPLITS, preference_file, preference_slug
from prefc.compiler.ir import SpecIR

__all__ = ["CARD_LICENSE", "dataset_card", "hub_header"]

CARD_LICENSE = "apache-2.0"
"""The license the card declares: prefc's, whose templates write every prompt and trace."""

_SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
)


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _size_category(rows: int) -> str:
    for bound, name in _SIZE_CATEGORIES:
        if rows < bound:
            return name
    return "n>10M"


def hub_header(spec: CheckedSpec, build: CheckedBuild, counts: Counter) -> str:
    """The YAML front matter of the card (between ``---`` lines).

    Args:
        spec: The checked spec.
        build: The dataset block.
        counts: (game, preference, split) -> rows.
    """
    splits = [s for s in SPLITS if any(k[2] == s for k in counts)]
    lines = [
        "---",
        f"pretty_name: {_q(f'{spec.name} / {build.name}')}",
        f"license: {CARD_LICENSE}",
        "language:",
        "- en",
        "task_categories:",
        "- text-generation",
        "task_ids:",
        "- dialogue-modeling",
        "tags:",
        "- prefc",
        "- game-theory",
        "- economics",
        "- preferences",
        "- sft",
        "size_categories:",
        f"- {_size_category(sum(counts.values()))}",
        "configs:",
    ]
    several = len(build.preferences) > 1
    lines += [
        f"- config_name: {'all' if several else _q(preference_slug(build.preferences[0].label))}",
        "  default: true",
        "  data_files:",
    ]
    for split in splits:
        lines += [f"  - split: {HUB_SPLIT_NAMES[split]}", f"    path: {_q(f'{split}.jsonl')}"]
    if several:
        for pref in build.preferences:
            own = [s for s in splits if any(n for (g, p, sp), n in counts.items() if p == pref.label and sp == s)]
            lines += [f"- config_name: {_q(preference_slug(pref.label))}", "  data_files:"]
            for split in own:
                lines += [f"  - split: {HUB_SPLIT_NAMES[split]}", f"    path: {_q(preference_file(pref.label, split))}"]
    lines.append("---")
    return "\n".join(lines) + "\n"


def dataset_card(
    spec: CheckedSpec, ir: SpecIR, build: CheckedBuild, counts: Counter, skipped: Counter, header: dict
) -> str:
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
    out = [
        hub_header(spec, build, counts),
        f"# {spec.name} / {build.name}",
        "",
        f"Supervised fine-tuning data compiled by prefc from the spec `{spec.name}` ({spec.title}), "
        f"sha256 `{spec.sha256}`.",
        "",
        "Each row asks a player of an economic game for a decision and answers it as the named "
        "preference would: a reasoning trace derived from the solver's derivation (the utility of each "
        "option, or the utility function and its marginal), then one line `ANSWER: {json}` whose keys are "
        "the action names.",
        "",
        "## Preferences",
        "",
    ]
    for p in build.preferences:
        checked = spec.preferences[p.name]
        from prefc.compiler import pretty

        out.append(f"- `{p.label}`: {checked.title}, `{pretty.expr(checked.ast.body)}`")
    out += ["", "## Games and conventions", ""]
    for g in build.games:
        game = ir.games[g]
        values = ", ".join(f"{n} in {{{', '.join(str(v) for v in par.values)}}}" for n, par in game.params.items())
        out.append(f"- `{g}` ({game.title}): parameters {values}; Kantian convention: {game.describe_kantian()}.")
    out += [
        "",
        "Ties are broken by the lowest option (listed in `meta.alternatives`); parameter points whose "
        "only equilibria are mixed are skipped"
        + (": " + ", ".join(f"{g}/{p}: {n}" for (g, p), n in sorted(skipped.items())) if skipped else "."),
    ]
    hold = header["holdout"]
    out += [
        "",
        "## Splits",
        "",
        f"Fractions: {header['split']}. Hold-outs (all in `test`): games "
        f"{hold['games'] or 'none'}, paraphrases {hold['paraphrases'] or 'none'}, regions "
        f"{hold['where'] or 'none'}. No prompt appears in two splits.",
        "",
        "| game | preference | " + " | ".join(splits) + " |",
        "|---|---|" + "---|" * len(splits),
    ]
    for g in build.games:
        for p in build.preferences:
            out.append(f"| {g} | {p.label} | " + " | ".join(str(counts.get((g, p.label, s), 0)) for s in splits) + " |")
    first = build.preferences[0].label
    config = preference_slug(first)
    messages = header.get("format") in ("messages", "openai")
    out += [
        "",
        "## Loading",
        "",
        f"The header above makes this directory a Hugging Face dataset: one config per preference "
        f"({', '.join(f'`{preference_slug(p.label)}`' for p in build.preferences)})"
        + (", and `all` (the default) with every preference mixed" if len(build.preferences) > 1 else "")
        + ". Each config's splits are "
        + ", ".join(f"`{HUB_SPLIT_NAMES[s]}` (`{s}.jsonl`)" for s in splits)
        + ". Train on one preference at a time: rows of different preferences answer the same prompts differently.",
        "",
        "```python",
        "from datasets import load_dataset",
        "from trl import SFTConfig, SFTTrainer",
        "",
        f'DATASET_DIR = "build/{spec.name}/{build.name}"  # this directory',
        'MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"  # any causal LM directory or hub id',
        f'ds = load_dataset(DATASET_DIR, "{config}")  # the rows of {first} only',
        'ds = ds.remove_columns("meta")  # trl reads ' + ("messages" if messages else "prompt/completion") + " only",
        "trainer = SFTTrainer(",
        "    model=MODEL,",
        '    train_dataset=ds["train"],',
        '    eval_dataset=ds["validation"] if "validation" in ds else None,',
        f'    args=SFTConfig(output_dir="sft-{config}", max_steps=60'
        + (")," if messages else ", completion_only_loss=True),"),
        ")",
        "trainer.train()",
        "```",
        "",
        f"The same from the command line, with LoRA: `prefc train DATASET_DIR -o ADAPTER_DIR --preference '{first}'`.",
        "",
        "`meta` holds the provenance of every row: spec hash, game, role, preference and its parameters, "
        "parameter point, split, paraphrase number and the answer.",
        "",
    ]
    return "\n".join(out)
