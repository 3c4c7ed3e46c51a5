"""``prefc compile``: solutions, datasets, rubrics and the manifest of one spec, written atomically."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefc.artefacts import DatasetHeader, DatasetRow, Manifest, OpenAIRow, RubricHeader, RubricItem, SolutionRow
from prefc.compiler.check import CheckedSpec
from prefc.compiler.diagnostics import CompileError, Diagnostic
from prefc.compiler.emit.card import dataset_card
from prefc.compiler.emit.dataset import DatasetPlan, DatasetResult, plan_dataset
from prefc.compiler.emit.fmt import canonical, dumps
from prefc.compiler.emit.layout import SPLITS, openai_file, preference_file, preference_slug
from prefc.compiler.emit.openai_jsonl import openai_row
from prefc.compiler.emit.prompts import PromptRenderer
from prefc.compiler.emit.repeated import build_repeated_dataset
from prefc.compiler.emit.rubric import build_rubric
from prefc.compiler.emit.situations import Solutions
from prefc.compiler.emit.templates import TemplateDirError, TemplateSet, resolve_directory
from prefc.compiler.emit.write import StagedBuild
from prefc.compiler.ir import lower_spec
from prefc.version import __version__


@dataclass
class CompileResult:
    """What a compile wrote.

    Attributes:
        directory: The build directory (``DIR/<spec>``).
        files: Each file's record (path, rows, sha256, bytes).
        summary: Rows per (block, split) for the summary table.
    """

    directory: Path
    files: list[dict[str, Any]]
    summary: list[tuple[str, str, int]] = field(default_factory=list)


def _template_sets(spec: CheckedSpec) -> dict[str, TemplateSet]:
    sets: dict[str, TemplateSet] = {}
    cache: dict[Path | None, TemplateSet] = {}
    for name, build in spec.builds.items():
        try:
            directory = resolve_directory(build.ast.template, build.ast.span.file)
        except TemplateDirError as exc:
            span = build.ast.settings_spans.get("template", build.ast.span)
            refused = exc.refused
            raise CompileError(
                [
                    Diagnostic(
                        "E0104" if refused.code == "E0104" else "E0308",
                        refused.message,
                        span,
                        label=refused.label,
                        hint=refused.hint,
                    )
                ],
                spec.sources,
            ) from None
        if directory not in cache:
            cache[directory] = TemplateSet(directory)
        sets[name] = cache[directory]
    return sets


def compile_spec(
    spec: CheckedSpec,
    out_dir: str | Path,
    *,
    fmt: str = "trl",
    seed: int | None = None,
    samples: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    before_commit: Callable[[Path], None] | None = None,
    allow_large: bool = False,
    cache: bool = True,
) -> CompileResult:
    """Compile a checked spec's builds into ``out_dir/<spec>/``.

    Args:
        spec: The checked spec.
        out_dir: The output root.
        fmt: Row format, ``trl``, ``messages`` or ``openai`` (``messages`` rows plus one OpenAI
            fine-tuning file per preference and split, see :mod:`prefc.compiler.emit.layout`).
        seed: Overrides every block's seed.
        samples: Overrides every dataset's ``samples`` count (benchmarks).
        progress: Called with the number of rows just produced.
        on_total: Called once with the number of rows to produce.
        before_commit: Called with the staged directory just before it replaces the previous build.
        allow_large: Compile even when the work estimate is above the limits of
            :mod:`prefc.compiler.budget` (otherwise refused before any of it starts).
        cache: Read and add solved games in the solved-games cache under the cache root
            (:mod:`prefc.compiler.solve_cache`; every solution read is certified again); False
            solves everything and leaves the cache alone.

    Raises:
        CompileError: template directory errors (located at the ``template`` setting).
        TemplateError: a template fails to render.
        EmitError: a solver failure or more rows asked for than exist.
        WorkRefused: the estimated work is above a limit (E0501) and ``allow_large`` is false.
    """
    from prefc.compiler.budget import check_spec

    ir = lower_spec(spec)
    check_spec(ir, samples=samples, allow_large=allow_large)
    templates = _template_sets(spec)
    store = None
    if cache:
        from prefc.compiler.solve_cache import SolveCache

        store = SolveCache()
    solutions = Solutions(ir, store=store)
    renderers = {id(t): PromptRenderer(ir, t) for t in templates.values()}
    if on_total is not None:
        total = 0
        for b in spec.builds.values():
            if b.kind == "dataset":
                per_game = len(b.games) if b.ast.samples_per == "game" else 1
                total += (samples or b.ast.samples or 100) * len(b.preferences) * per_game
            else:
                total += b.ast.items or 100
        on_total(total)
    staged = StagedBuild(Path(out_dir) / spec.name)
    try:
        summary: list[tuple[str, str, int]] = []
        blocks: list[dict[str, Any]] = []
        dataset_prompts: dict[int, set] = {}  # template set -> prompt keys of its datasets
        # datasets first, so every rubric can leave out the prompts a model may have trained on
        ordered = sorted(spec.builds.items(), key=lambda kv: kv[1].kind != "dataset")
        for name, build in ordered:
            block_seed = seed if seed is not None else (build.ast.seed if build.ast.seed is not None else 0)
            renderer = renderers[id(templates[name])]
            if build.kind == "dataset":
                if samples is not None:
                    build = _with_samples(build, samples)
                if build.ast.repeat_rounds is not None:
                    result = build_repeated_dataset(
                        spec, ir, build, templates[name], seed=block_seed, fmt=fmt, progress=progress
                    )
                    dataset_prompts.setdefault(id(templates[name]), set()).update(result.prompt_keys)
                    summary += [(name, split, rows) for split, rows in _write_built(staged, name, build, result, fmt)]
                    counts, skipped, header = result.counts, result.skipped, result.header
                else:
                    plan = plan_dataset(
                        spec, ir, build, solutions, renderer, seed=block_seed, fmt=fmt, progress=progress
                    )
                    dataset_prompts.setdefault(id(templates[name]), set()).update(plan.prompt_keys)
                    summary += [(name, split, rows) for split, rows in _write_dataset(staged, name, build, plan, fmt)]
                    counts, skipped, header = plan.counts, plan.skipped, plan.header
                staged.write_document(f"{name}/dataset.json", DatasetHeader.model_validate(canonical(header)))
                staged.write_text(f"{name}/README.md", dataset_card(spec, ir, build, counts, skipped, header))
            else:
                lines, header = build_rubric(
                    spec,
                    ir,
                    build,
                    solutions,
                    renderer,
                    seed=block_seed,
                    progress=progress,
                    exclude=frozenset(dataset_prompts.get(id(templates[name]), ())),
                )
                staged.write_lines(f"{name}.jsonl", lines, model=RubricItem)
                staged.write_document(f"{name}.json", RubricHeader.model_validate(header))
                summary.append((name, "items", len(lines)))
            blocks.append({"name": name, "kind": build.kind, "seed": block_seed})
        provenance = {"spec": spec.name, "spec_sha256": spec.sha256}
        sol_lines = (
            dumps(canonical({**s.model_dump(mode="json"), "provenance": provenance})) for s in solutions.all_solutions()
        )
        written = staged.write_lines("solutions.jsonl", sol_lines, model=SolutionRow)
        summary.append(("solutions", "-", written.rows))
        # the model validates `format` and turns the block dicts into its entries
        manifest = Manifest(
            spec=spec.name,
            spec_sha256=spec.sha256,
            prefc_version=__version__,
            format=fmt,
            blocks=blocks,
            files=sorted(staged.files, key=lambda f: f.path),
        )
        staged.write_text("manifest.json", manifest.to_text())
        if store is not None:
            store.save()
        if before_commit is not None:
            before_commit(staged.tmp)
        staged.commit()
    except BaseException:
        staged.abort()
        raise
    return CompileResult(
        staged.target,
        [f.model_dump(mode="json", by_alias=True) for f in sorted(staged.files, key=lambda f: f.path)],
        summary,
    )


def _check_slugs(name: str, build) -> list[str]:
    """The dataset's preference labels, refused unless each has a file name of its own."""
    labels = [p.label for p in build.preferences]
    slugs = [preference_slug(label) for label in labels]
    if len(set(slugs)) != len(slugs) or any(s in SPLITS or s == "openai" for s in slugs):
        from prefc.compiler.emit.situations import EmitError

        raise EmitError(
            f"dataset `{name}`: preferences {', '.join(labels)} need distinct file names, got {', '.join(slugs)}"
        )
    return labels


def _write_built(staged: StagedBuild, name: str, build, result: DatasetResult, fmt: str) -> list[tuple[str, int]]:
    """Write a dataset whose rows were built in memory (a repeated market's): its split files, each
    preference's own files (when there are several) and, for ``openai``, the OpenAI files.

    Returns:
        ``(split, rows)`` for each split written.
    """
    labels = _check_slugs(name, build)
    written: list[tuple[str, int]] = []
    for split in SPLITS:
        if split not in result.lines:
            continue
        staged.write_lines(f"{name}/{split}.jsonl", result.lines[split], model=DatasetRow)
        written.append((split, len(result.lines[split])))
        for label in labels:
            own = [
                line
                for line, owner in zip(result.lines[split], result.labels.get(split, ()), strict=True)
                if owner == label
            ]
            if not own:
                continue
            if len(labels) > 1:
                staged.write_lines(f"{name}/{preference_file(label, split)}", own, model=DatasetRow)
            if fmt == "openai":
                staged.write_lines(
                    f"{name}/{openai_file(label, split)}",
                    [dumps(openai_row(json.loads(line))) for line in own],
                    model=OpenAIRow,
                )
    return written


def _write_dataset(staged: StagedBuild, name: str, build, plan: DatasetPlan, fmt: str) -> list[tuple[str, int]]:
    """Stream a dataset's rows to its split files, each preference's own files (the card's
    configs, when there are several) and, for ``openai``, the OpenAI files; rows are rendered as
    they are written, never held together.

    Returns:
        ``(split, rows)`` for each split written.
    """
    labels = _check_slugs(name, build)
    written: list[tuple[str, int]] = []
    for split in ("train", "val", "test"):
        if split not in plan.rows:
            continue
        present = {label for (_, label, s), n in plan.counts.items() if s == split and n}
        files = [staged.line_file(f"{name}/{split}.jsonl", model=DatasetRow)]
        own = {}
        if len(labels) > 1:
            own = {
                label: staged.line_file(f"{name}/{preference_file(label, split)}", model=DatasetRow)
                for label in labels
                if label in present
            }
        openai = {}
        if fmt == "openai":
            openai = {
                label: staged.line_file(f"{name}/{openai_file(label, split)}", model=OpenAIRow)
                for label in labels
                if label in present
            }
        files += [*own.values(), *openai.values()]
        try:
            for label, line in plan.lines(split, scratch=staged.tmp / f".{name}.{split}.rows"):
                files[0].write(line)
                if own:
                    own[label].write(line)
                if openai:
                    openai[label].write(dumps(openai_row(json.loads(line))).encode("utf-8"))
        except BaseException:
            for f in files:
                f.abort()
            raise
        for f in files:
            f.close()
        written.append((split, files[0].rows))
    return written


def _with_samples(build, samples: int):
    from prefc.compiler.check import CheckedBuild

    return CheckedBuild(build.ast.model_copy(update={"samples": samples}), build.preferences, build.games)
