"""The report reads at scale: a diff summarised by its regions with the grid collapsed, collapsible
sections behind a table of contents, how a standalone evaluation's agent was trained, the
simulation's profit and collusion-index plot, and the main sections rendered by headless Chromium
(when one is installed; otherwise those tests are skipped and the structure tests still run).

The inputs are made by the real commands on a small spec (compile, diff, eval, train on the tiny
model, simulate).
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import chromium, measure, screenshot

from prefc.cli import main

try:
    from spec_blocks import PRISONERS_DILEMMA
except ImportError:  # tests/ is a package: import it by path
    from tests.spec_blocks import PRISONERS_DILEMMA

ROOT = Path(__file__).resolve().parents[3]
SPECS = ROOT / "specs"

SPEC = (
    """spec mini "Two games"

use "preferences.pref"

game trust "Trust game" {
    players investor, trustee
    param E = 10, k = 3 vary {2, 3, 4}
    investor chooses send in [0, E]
    then trustee sees send and chooses back in [0, k * send]
    payoff investor = E - send + back
    payoff trustee  = k * send - back
}

"""
    + PRISONERS_DILEMMA
    + """
dataset sft for economicus, moralis(kappa = 0.5) {
    games prisoners_dilemma
    samples 4 per preference   seed 3
    paraphrases 2
    split train 0.75, val 0.25
}

rubric eval for economicus, moralis(kappa = 0.25, 0.75) {
    games prisoners_dilemma, trust
    items 12   tolerance 5%
    seed 4
}
"""
)


class Tree(HTMLParser):
    """The page's elements as (tag, attributes, depth, text inside), enough to ask what holds what."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[dict] = []
        self.elements: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        el = {
            "tag": tag,
            "attrs": dict(attrs),
            "text": [],
            "parents": [e["tag"] + "." + (e["attrs"].get("class") or "") for e in self.stack],
            "ids": [e["attrs"].get("id") for e in self.stack if e["attrs"].get("id")],
        }
        self.elements.append(el)
        if tag not in self.VOID:
            self.stack.append(el)

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data: str) -> None:
        for el in self.stack:
            el["text"].append(data)

    def find(self, tag: str, cls: str | None = None) -> list[dict]:
        return [
            e
            for e in self.elements
            if e["tag"] == tag and (cls is None or cls in (e["attrs"].get("class") or "").split())
        ]


def text_of(el: dict) -> str:
    return " ".join("".join(el["text"]).split())


def tree_of(html: str) -> Tree:
    t = Tree()
    t.feed(html)
    return t


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("report_page")
    shutil.copy(SPECS / "preferences.pref", root / "preferences.pref")
    shutil.copy(SPECS / "pricing.pref", root / "pricing.pref")
    (root / "mini.pref").write_text(SPEC)
    spec = str(root / "mini.pref")
    out = lambda name: str(root / name)  # noqa: E731
    assert main(["compile", spec, "-o", out("build"), "--quiet"]) == 0
    assert (
        main(
            ["diff", spec, "--preference", "economicus", "--preference", "moralis", "-o", out("diffs/theory"), "--json"]
        )
        == 0
    )
    assert (
        main(
            [
                "eval",
                out("build/mini/eval.jsonl"),
                "--agent",
                "theory:moralis(kappa=0.75)",
                "-o",
                out("results/theory"),
                "--json",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                out("build/mini/sft"),
                "-o",
                out("adapters/moralis"),
                "--model",
                str(tiny_model_dir),
                "--preference",
                "moralis(kappa=0.5)",
                "--max-steps",
                "2",
                "--json",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "eval",
                out("build/mini/eval.jsonl"),
                "--agent",
                f"local:{tiny_model_dir}?adapter={out('adapters/moralis')}",
                "-o",
                out("results/moralis"),
                "--max-new-tokens",
                "4",
                "--json",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "simulate",
                str(root / "pricing.pref"),
                "--agent",
                "theory:economicus",
                "--agent",
                "theory:moralis(kappa=0.5)",
                "-o",
                out("sims/theory"),
                "--rounds",
                "40",
                "--initial",
                "high",
                "--json",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "report",
                out("results/theory"),
                out("results/moralis"),
                out("diffs/theory"),
                out("sims/theory"),
                out("build/mini"),
                "-o",
                out("report.html"),
                "--json",
            ]
        )
        == 0
    )
    return root


@pytest.fixture(scope="module")
def page(made: Path) -> tuple[str, Tree]:
    html = (made / "report.html").read_text(encoding="utf-8")
    return html, tree_of(html)


def _diff_section(tree: Tree) -> dict:
    return next(s for s in tree.find("section") if "diff" in (s["attrs"].get("class") or "").split())


def test_the_diff_is_summarised_by_regions_with_the_grid_collapsed(made: Path, page) -> None:
    html, tree = page
    data = json.loads((made / "diffs/theory/diff.json").read_text())
    section = _diff_section(tree)
    anchor = section["attrs"]["id"]
    overview = [r for r in tree.find("tr") if "data-game" in r["attrs"] and anchor in r["ids"]]
    assert [r["attrs"]["data-game"] for r in overview] == [g["game"] for g in data["games"]]  # one row per game
    for row, entry in zip(overview, data["games"], strict=True):
        cf = entry["closed_form"]
        assert (cf["region"] if cf else entry["closed_form_note"]) in text_of(row)
    trust = next(g for g in data["games"] if g["game"] == "trust")
    regions = [t for t in tree.find("table", "regions") if f"{anchor}-trust" in t["ids"]]
    assert len(regions) == 1
    rows = [r for r in tree.find("tr") if f"{anchor}-trust" in r["ids"] and "table.regions" in r["parents"]]
    parts = trust["closed_form"]["parts"]
    assert len(rows) == len(parts) + 1  # the header, then one row per part of the answer
    for row, part in zip(rows[1:], parts, strict=True):
        assert part["region"] in text_of(row)
    # every grid point is on the page, as text, inside a closed <details>
    grids = tree.find("details", "grid")
    assert grids and all("open" not in d["attrs"] for d in grids)
    points = [r for r in tree.find("tr") if "table.points" in r["parents"]]
    assert len(points) == sum(len(g["points"]) for g in data["games"]) + len(tree.find("table", "points"))
    point_cells = [c for c in tree.find("td") if "table.points" in c["parents"]]
    assert not any("{" in text_of(c) for c in point_cells), "grid points read `k = 2, kappa = 0.5`, not JSON"
    assert any(text_of(c) == "k = 2, kappa = 0.55" for c in point_cells)


def test_sections_collapse_and_the_contents_link_to_each(page) -> None:
    html, tree = page
    sections = [s for s in tree.find("section") if s["attrs"].get("id")]
    assert len(sections) == 7  # summary, five inputs, provenance
    links = {a["attrs"]["href"] for a in tree.find("a") if "nav.toc" in a["parents"]}
    for s in sections:
        assert f"#{s['attrs']['id']}" in links
    wrappers = tree.find("details", "section")
    assert len(wrappers) == len(sections) and all("open" in d["attrs"] for d in wrappers)
    headings = [h for h in tree.find("h2") if "details.section" in h["parents"] and "summary." in h["parents"]]
    assert len(headings) == len(sections), "each section's heading is the summary that folds it"


def test_a_standalone_evaluation_shows_how_its_agent_was_trained(made: Path, page) -> None:
    html, tree = page
    summary = json.loads((made / "results/moralis/summary.json").read_text())
    assert summary["trained"] == str((made / "adapters/moralis").resolve())
    record = json.loads((made / "adapters/moralis/prefc_train.json").read_text())
    evals = [s for s in tree.find("section") if "eval" in (s["attrs"].get("class") or "").split()]
    trained = [s for s in evals if "How the agent was trained" in text_of(s)]
    assert len(trained) == 1, "only the adapter's evaluation has a training table"
    text = text_of(trained[0])
    assert "moralis(kappa=0.5)" in text and "LoRA adapter" in text
    assert f"{record['config']['max_steps']}" in text and "learning_rate" in text
    provenance = text_of(next(s for s in tree.find("section") if s["attrs"].get("id") == "provenance"))
    assert "adapters/moralis" in provenance or str(made / "adapters/moralis") in provenance
    assert record["base_model"]["config_sha256"] in provenance


def test_the_simulation_has_profit_and_collusion_index_per_round(made: Path, page) -> None:
    html, tree = page
    assert (made / "sims/theory/profits.png").is_file()
    captions = [text_of(c) for c in tree.find("figcaption")]
    assert "prices.png" in captions and "profits.png" in captions


def test_the_diff_plot_legend_names_only_what_is_drawn(made: Path) -> None:
    from prefc.runtime.diff_plots import legend_entries

    data = json.loads((made / "diffs/theory/diff.json").read_text())
    for entry in data["games"]:
        labels = legend_entries([entry])
        statuses = {p["status"] for p in entry["points"]}
        assert set(labels) - {"closed-form boundary"} == statuses
        free = list(entry["grid"]["free"])
        inside = [
            iv
            for bd in (entry.get("closed_form") or {}).get("boundaries") or []
            for iv in bd["intervals"]
            for edge in (iv["lo"], iv["hi"])
            if len(free) == 1 and 0 < edge < 1
        ]  # kappa swept over [0, 1]
        assert ("closed-form boundary" in labels) == bool(inside)


def test_long_titles_wrap_instead_of_being_cut() -> None:
    from prefc.runtime.plots import wrap_title

    title = "smollm2-135m-instruct [moralis(kappa=0.5)]: accuracy per preference; nearest: moralis(kappa=0.5)"
    wrapped = wrap_title(title, 6.0)
    assert wrapped.replace("\n", " ") == title and 1 < len(wrapped.splitlines()) <= 3
    assert wrap_title("short", 6.0) == "short"


needs_chromium = pytest.mark.skipif(chromium() is None, reason="no headless Chromium installed")


@needs_chromium
def test_the_page_renders_short_with_every_main_section(made: Path, tmp_path: Path) -> None:
    m = measure(made / "report.html")
    sections = m["sections"]
    assert {"summary", "provenance"} <= set(sections) and len(sections) == 7
    assert all(s["height"] > 40 for s in sections.values()), sections
    html = (made / "report.html").read_text(encoding="utf-8")
    diff_id = re.search(r'<section class="input diff" id="([^"]+)"', html).group(1)
    n_points = sum(len(g["points"]) for g in json.loads((made / "diffs/theory/diff.json").read_text())["games"])
    # open, every grid point would be a table row (about 30 px each); collapsed, the diff is its summary
    assert sections[diff_id]["height"] < 30 * n_points / 2, sections[diff_id]
    shot = screenshot(made / "report.html", tmp_path / "top.png")
    from PIL import Image

    image = Image.open(shot).convert("L")
    assert image.size == (1280, 900)
    lo, hi = image.getextrema()
    assert hi - lo > 100, "the screenshot shows the page (text on a background), not a blank window"


@needs_chromium
def test_each_main_section_renders_in_a_screenshot(made: Path, tmp_path: Path) -> None:
    """Each section alone (the others removed from a copy of the page) renders to a non-blank image."""
    from PIL import Image

    html = (made / "report.html").read_text(encoding="utf-8")
    ids = re.findall(r'<section[^>]* id="([^"]+)"', html)
    assert len(ids) == 7
    for keep in ids:
        alone = re.sub(r'<section[^>]* id="(?!' + re.escape(keep) + r'")[^"]+">.*?</section>', "", html, flags=re.S)
        path = tmp_path / f"{keep}.html"
        path.write_text(alone, encoding="utf-8")
        shot = Image.open(screenshot(path, tmp_path / f"{keep}.png", height=600)).convert("L")
        lo, hi = shot.getextrema()
        assert hi - lo > 100, f"section {keep} renders blank"
