"""``prefc report``: one self-contained HTML page from real compile, evaluation and training outputs."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
from collections import Counter
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from prefc.cli import main
from prefc.runtime.evaluate import Rubric, evaluate, load_rubric
from prefc.runtime.report import ReportError, load_inputs, write_report

ROOT = Path(__file__).resolve().parents[3]
PNG = b"\x89PNG\r\n\x1a\n"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SCRIPT = "<script>alert(1)</script>"


# -- inputs built by the real compiler and evaluator ---------------------------------------------


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """specs/paper.pref compiled (rubric size cut to 40 items to keep the test fast) and evaluated
    with the theory agent and a logit agent, plots on."""
    from prefc.compiler.check import check_file
    from prefc.compiler.emit.build import compile_spec
    from prefc.runtime.agents import make_agent

    root = tmp_path_factory.mktemp("report_inputs")
    specs = root / "specs"
    specs.mkdir()
    shutil.copy(ROOT / "specs" / "preferences.pref", specs / "preferences.pref")
    text = (ROOT / "specs" / "paper.pref").read_text(encoding="utf-8")
    assert "items 200" in text
    (specs / "paper.pref").write_text(text.replace("items 200", "items 40"), encoding="utf-8")
    built = compile_spec(check_file(str(specs / "paper.pref")), root / "build", samples=10)
    rubric = load_rubric(built.directory / "eval.jsonl")
    out = {"root": root, "build_root": root / "build", "build": built.directory}
    for key, spec in [("theory", "theory:economicus"), ("logit", "logit:kappa=0.5,temperature=0.1,seed=3")]:
        result = evaluate(rubric, make_agent(spec), root / key, progress=False, plots=True)
        assert result.plots, "the evaluation should have written PNG plots"
        out[key] = root / key
    return out


@pytest.fixture(scope="module")
def report(made: dict[str, Path]) -> tuple[Path, str]:
    path = write_report([made["theory"], made["logit"], made["build_root"]], made["root"] / "out" / "report.html")
    return path, path.read_text(encoding="utf-8")


# -- an HTML checker -------------------------------------------------------------------------------


class Checker(HTMLParser):
    """Records structure problems (unbalanced tags), images, links and table cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.seen: Counter[str] = Counter()
        self.imgs: list[str] = []
        self.refs: list[tuple[str, str, str]] = []
        self.cells: dict[tuple[str, str, str], str] = {}
        self._cell: tuple[str, str, str] | None = None
        self._table_agent: str | None = None
        self._row_pref: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.seen[tag] += 1
        if tag not in VOID:
            self.stack.append(tag)
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            if name in a:
                self.refs.append((tag, name, a[name] or ""))
        if tag == "img":
            self.imgs.append(a.get("src") or "")
        if tag == "table" and "scores" in (a.get("class") or ""):
            self._table_agent = a.get("data-agent")
        if tag == "tr":
            self._row_pref = a.get("data-pref")
        if tag == "td" and self._table_agent and self._row_pref and a.get("data-field"):
            self._cell = (self._table_agent, self._row_pref, a["data-field"])
            self.cells[self._cell] = ""

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.problems.append(f"self-closing <{tag}/>")
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.problems.append(f"end tag for void <{tag}>")
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        if tag == "td":
            self._cell = None
        if tag == "table":
            self._table_agent = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self.cells[self._cell] += data


def check(html: str) -> Checker:
    c = Checker()
    c.feed(html)
    c.close()
    return c


def pngs_in(*dirs: Path) -> list[Path]:
    return sorted(p for d in dirs for p in d.glob("*.png"))


# -- the page ---------------------------------------------------------------------------------------


def test_report_is_well_formed_and_structured(report: tuple[Path, str]) -> None:
    path, html = report
    assert html.startswith("<!DOCTYPE html>")
    c = check(html)
    assert c.problems == [] and c.stack == []
    for tag in ("html", "head", "title", "style", "body", "header", "main", "nav"):
        assert c.seen[tag] == 1, tag
    # summary, two evaluations, one build, provenance
    assert c.seen["section"] == 5
    assert [m.group(1) for m in re.finditer(r'<section[^>]* id="([^"]+)"', html)] == [
        "summary",
        "in1",
        "in2",
        "in3",
        "provenance",
    ]
    assert not list(path.parent.glob(".*.tmp"))  # the atomic write left no temp file


def test_every_plot_is_an_embedded_png(made: dict[str, Path], report: tuple[Path, str]) -> None:
    _, html = report
    files = pngs_in(made["theory"], made["logit"])
    imgs = check(html).imgs
    assert len(files) == 6 and len(imgs) == len(files)
    decoded = []
    for src in imgs:
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert data.startswith(PNG)
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            im.verify()
            assert im.format == "PNG" and im.size[0] > 100 and im.size[1] > 100
        decoded.append(hashlib.sha256(data).hexdigest())
    assert Counter(decoded) == Counter(hashlib.sha256(p.read_bytes()).hexdigest() for p in files)


def test_no_external_references(report: tuple[Path, str]) -> None:
    _, html = report
    c = check(html)
    for tag, attr, value in c.refs:
        assert value.startswith("data:image/png;base64,") or value.startswith("#"), (tag, attr, value[:80])
    for tag in ("script", "link", "iframe", "object", "embed", "base"):
        assert c.seen[tag] == 0, tag
    assert not re.search(r"url\(|@import|https?://", re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html))


def test_numbers_match_summary_json(made: dict[str, Path], report: tuple[Path, str]) -> None:
    _, html = report
    c = check(html)
    text = "".join(c.text)
    for key in ("theory", "logit"):
        summary = json.loads((made[key] / "summary.json").read_text())
        for p in summary["preferences"]:
            assert c.cells[(summary["agent"], p["label"], "accuracy")] == f"{p['accuracy']:.3f}"
            assert c.cells[(summary["agent"], p["label"], "distance")] == f"{p['mean_distance']:.3f}"
        assert f"{summary['parse_rate']:.3f} ({summary['n_parsed']}/{summary['n_items']})" in text
        k = summary["kappa"]
        assert f"{k['estimate']:.3f}" in text and f"{k['ci_high']:.3f}" in text
        assert f"Nearest type: {summary['nearest']['label']}" in " ".join(text.split())
    # independently: the theory agent answers with the economicus targets, so it is right every time
    assert c.cells[("theory:economicus", "economicus", "accuracy")] == "1.000"
    # the build: row counts from the manifest, and the counts in the dataset card
    manifest = json.loads((made["build"] / "manifest.json").read_text())
    assert manifest["spec_sha256"] in html
    card = json.loads((made["build"] / "sft" / "dataset.json").read_text())
    assert f"train {card['counts']['train']}, val {card['counts']['val']}" in html


def test_untrusted_text_is_escaped(made: dict[str, Path], tmp_path: Path) -> None:
    ev = tmp_path / "evil"
    shutil.copytree(made["logit"], ev)
    lines = (ev / "results.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["raw"] = f"I think {SCRIPT} & so\nANSWER: nothing"
    first["game"] = '<img src="http://x/y.png">'
    lines[0] = json.dumps(first)
    (ev / "results.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = json.loads((ev / "summary.json").read_text())
    summary["agent"] = f"agent {SCRIPT}"
    summary["spec"] = '"><b onmouseover=alert(2)>paper'
    (ev / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    html = write_report([ev], tmp_path / "r.html").read_text(encoding="utf-8")
    assert SCRIPT not in html and '"><b ' not in html and '<img src="http' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&#34;&gt;&lt;b onmouseover=alert(2)&gt;paper" in html
    c = check(html)
    assert c.problems == [] and c.seen["script"] == 0 and c.seen["b"] == 0
    assert len(c.imgs) == len(pngs_in(ev))  # the injected <img> was not parsed as one


def test_partial_evaluation_is_reported(made: dict[str, Path], tmp_path: Path) -> None:
    ev = tmp_path / "cut"
    ev.mkdir()
    lines = (made["logit"] / "results.jsonl").read_text(encoding="utf-8").splitlines()
    (ev / "results.jsonl").write_text("\n".join(lines[:12]) + "\n" + lines[12][:40], encoding="utf-8")
    html = write_report([ev], tmp_path / "r.html").read_text(encoding="utf-8")
    c = check(html)
    assert c.problems == []
    text = " ".join("".join(c.text).split())
    assert "unfinished" in text and "summary.json is missing" in text and "1 line(s) are not valid JSON" in text
    recs = [json.loads(x) for x in lines[:12]]
    for label in recs[0]["correct"]:
        acc = sum(r["correct"][label] is True for r in recs) / len(recs)
        assert c.cells[(recs[0]["agent"], label, "accuracy")] == f"{acc:.3f}"


def test_same_inputs_same_bytes_and_optional_timestamp(made: dict[str, Path], tmp_path: Path) -> None:
    a = write_report([made["theory"]], tmp_path / "a.html").read_bytes()
    b = write_report([made["theory"]], tmp_path / "b.html").read_bytes()
    assert a == b
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    c = write_report([made["theory"]], tmp_path / "c.html", generated_at=when, title="My <title>")
    html = c.read_text(encoding="utf-8")
    assert "2025-01-02T03:04:05+00:00" in html and "<title>My &lt;title&gt;</title>" in html


def test_cli_writes_report(made: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "deep" / "report.html"
    assert main(["report", str(made["logit"] / "summary.json"), str(made["build"]), "-o", str(out)]) == 0
    assert out.is_file() and "report written to" in capsys.readouterr().out
    assert len(check(out.read_text(encoding="utf-8")).imgs) == len(pngs_in(made["logit"]))


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: d / "missing", "no such file or directory"),
        (lambda d: (d / "notes.txt").write_text("hello") and d / "notes.txt", "not a prefc output"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "not an evaluation, run, simulation, diff or build"),
        (
            lambda d: ((d / "bad").mkdir(), (d / "bad" / "summary.json").write_text('{"agent": ')) and d / "bad",
            r"summary.json:1: invalid JSON",
        ),
        (
            lambda d: ((d / "odd").mkdir(), (d / "odd" / "summary.json").write_text('{"agent": "x"}')) and d / "odd",
            "not an evaluation summary",
        ),
        (
            lambda d: ((d / "list").mkdir(), (d / "list" / "run.json").write_text("[1, 2]")) and d / "list",
            "expected a JSON object",
        ),
        (
            lambda d: ((d / "web").mkdir(), (d / "web" / "manifest.json").write_text('{"name": "app"}')) and d / "web",
            "not a prefc build manifest",
        ),
    ],
)
def test_bad_inputs_exit_1_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: Any, message: str
) -> None:
    src = setup(tmp_path)
    out = tmp_path / "report.html"
    assert main(["report", str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and re.search(message, err) and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
    with pytest.raises(ReportError):
        write_report([src], out)


def test_output_path_that_is_a_directory(
    made: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(made["theory"]), "-o", str(tmp_path)]) == 1
    assert "is a directory" in capsys.readouterr().err


def test_simulation_and_diff_directories(made: dict[str, Path], tmp_path: Path) -> None:
    """Directories in the shapes ``prefc simulate`` and ``prefc diff -o`` write."""
    sim = tmp_path / "sim"
    sim.mkdir()
    plot = pngs_in(made["logit"])[0]
    shutil.copy(plot, sim / "prices.png")
    (sim / "simulation.json").write_text(
        json.dumps(
            {
                "spec": "pricing",
                "spec_sha256": "ab" * 32,
                "game": "logit_bertrand",
                "rounds": 300,
                "rounds_requested": 300,
                "last": 50,
                "interrupted": False,
                "elapsed_s": 1.5,
                "params": {"a": 2, "mu": 0.25, "c": 1},
                "agents": [
                    {
                        "name": "theory:economicus",
                        "kind": "theory",
                        "preference": "economicus",
                        "mean_price_last": 1.4729,
                        "mean_profit_last": 0.2229,
                        "mean_share_last": 0.5,
                        "failures": 0,
                        "parse_rate": 1.0,
                        "benchmark_price": 1.4729,
                    },
                    {
                        "name": SCRIPT,
                        "kind": "agent",
                        "preference": "moralis(kappa=0.5)",
                        "mean_price_last": 1.7106,
                        "mean_profit_last": 0.3001,
                        "mean_share_last": 0.5,
                        "failures": 2,
                        "parse_rate": 0.99,
                        "benchmark_price": 1.7106,
                    },
                ],
                "benchmarks": {
                    "nash_price": 1.4729,
                    "monopoly_price": 1.925,
                    "nash_profit": 0.2229,
                    "monopoly_profit": 0.3375,
                    "moralis": {"0.5": 1.7106},
                },
                "collusion_index": {"per_agent": [0.0, 0.523], "joint": 0.2615},
            }
        ),
        encoding="utf-8",
    )
    move = {"agent": "a", "price": 1.5, "held": False, "raw": None, "error": None, "share": 0.5, "profit": 0.25}
    (sim / "rounds.jsonl").write_text(
        "".join(json.dumps({"round": i, "agents": [move, move]}) + "\n" for i in range(1, 301))
    )
    diff = tmp_path / "diff"
    diff.mkdir()
    shutil.copy(plot, diff / "diff_trust.png")
    side = {"name": "a", "spec": "a", "preference": "moralis", "free": []}
    points = [{"params": {"k": k}, "free": {}, "status": "differ", "a": "send 0", "b": "send 10"} for k in (2, 3)]
    (diff / "diff.json").write_text(
        json.dumps(
            {
                "kind": "specs",
                "inputs": [
                    {"path": "a.pref", "spec": "a", "sha256": "cd" * 32},
                    {"path": "b.pref", "spec": "b", "sha256": "ef" * 32},
                ],
                "summary": {"compared": 1, "differ": 1, "agree": True},
                "skipped": [],
                "games": [
                    {
                        "game": "trust",
                        "a": side,
                        "b": {**side, "name": "b", "spec": "b"},
                        "error": None,
                        "grid": {"params": {"k": [2, 3]}},
                        "counts": {"same": 0, "overlap": 0, "differ": 2, "error": 0},
                        "share_differ": 1.0,
                        "status": "differ",
                        "example": points[0],
                        "closed_form": None,
                        "closed_form_note": "",
                        "agreement": {},
                        "points": points,
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    html = write_report([sim, diff], tmp_path / "r.html").read_text(encoding="utf-8")
    c = check(html)
    assert c.problems == [] and len(c.imgs) == 2 and c.seen["script"] == 0
    text = " ".join("".join(c.text).split())
    assert "joint collusion index 0.262" in text and "1.7106" in text and "1.9250" in text
    assert "send 10" in text and "trust" in text and "diff_trust.png" in text


def test_the_badge_says_what_was_evaluated(made: dict[str, Path], tmp_path: Path) -> None:
    from prefc.runtime.agents import make_agent

    rubric = load_rubric(made["build"] / "eval.jsonl")
    part = evaluate(rubric, make_agent("theory:economicus"), tmp_path / "part", limit=8, progress=False, plots=False)
    assert part.summary.evaluated == "8 of 40 items"
    html = write_report([made["theory"], tmp_path / "part"], tmp_path / "r.html").read_text(encoding="utf-8")
    badges = re.findall(r'<span class="status (\w+)">([^<]*)</span>', html)
    assert ("complete", "all 40 items") in badges and ("subset", "8 of 40 items") in badges
    assert ("complete", "complete") not in badges
    text = " ".join("".join(check(html).text).split())
    assert "8 of 40 items, stratified by game and role" in text


def test_a_build_file_that_differs_from_its_manifest_is_noted(made: dict[str, Path], tmp_path: Path) -> None:
    build = tmp_path / "paper"
    shutil.copytree(made["build"], build)
    lines = (build / "eval.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (build / "eval.jsonl").write_text("".join(lines[:30]), encoding="utf-8")
    (build / "sft" / "README.md").unlink()
    html = write_report([build], tmp_path / "r.html").read_text(encoding="utf-8")
    text = " ".join("".join(check(html).text).split())
    assert "eval.jsonl differs from what manifest.json records" in text
    assert "sft/README.md is listed in manifest.json but missing" in text


# -- a run directory ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_run_directory(made: dict[str, Path], tiny_model_dir: Path, tmp_path: Path) -> None:
    """A run directory laid out as ``prefc run`` writes it: the build, one real adapter per dataset
    preference (2 steps on the tiny model) and real evaluations of the base model and each adapter."""
    from prefc.runtime.generate import LocalAgent
    from prefc.runtime.rubric import stratified
    from prefc.runtime.train import TrainConfig, train

    run = tmp_path / "runs" / "paper"
    shutil.copytree(made["build"], run / "build" / "paper")
    rubric = load_rubric(run / "build" / "paper" / "eval.jsonl")
    subset = Rubric(rubric.path, rubric.header, stratified(rubric.items, 4))
    adapters = {}
    for label, dirname in [("economicus", "economicus"), ("moralis(kappa=0.5)", "moralis_kappa0.5")]:
        adapters[label] = run / "adapters" / dirname
        train(
            run / "build" / "paper" / "sft",
            adapters[label],
            config=TrainConfig(model=str(tiny_model_dir), preference=label, max_steps=2),
            progress=False,
        )
    agents = []
    for label, adapter in [("base", None), *adapters.items()]:
        agent = LocalAgent(tiny_model_dir, adapter=adapter, batch_size=4)
        agent.name = agent.name if adapter is None else f"{agent.name} [{label}]"
        res = run / "results" / ("base" if adapter is None else adapter.name)
        ev = evaluate(subset, agent, res, max_new_tokens=8, progress=False, plots=True)
        s = json.loads(ev.summary_path.read_text())
        agents.append(
            {
                "agent": agent.name,
                "adapter": None if adapter is None else str(adapter),
                "results": str(res),
                "parse_rate": s["parse_rate"],
                "accuracy": {p["label"]: p["accuracy"] for p in s["preferences"]},
                "nearest": (s["nearest"] or {}).get("label"),
                "kappa": s["kappa"],
            }
        )
    manifest = json.loads((run / "build" / "paper" / "manifest.json").read_text())
    (run / "run.json").write_text(
        json.dumps(
            {
                "spec": "paper",
                "spec_sha256": manifest["spec_sha256"],
                "build": str(run / "build" / "paper"),
                "adapters": {k: str(v) for k, v in adapters.items()},
                "agents": agents,
            },
            indent=2,
        )
    )

    # the run directory moved elsewhere is still found through its own layout
    moved = tmp_path / "moved" / "paper"
    shutil.copytree(run, moved)
    shutil.rmtree(tmp_path / "runs")
    html = write_report([moved.parent], tmp_path / "run.html").read_text(encoding="utf-8")
    c = check(html)
    assert c.problems == [] and c.stack == []
    assert len(c.imgs) == len(pngs_in(*(moved / "results").iterdir()))
    text = " ".join("".join(c.text).split())
    assert "Behaviour shift" in text and "Training" in text and "what fine-tuning did" in text
    for a in agents:
        assert a["agent"] in text
        s = json.loads((moved / "results" / Path(a["results"]).name / "summary.json").read_text())
        n_parsed, n = s["n_parsed"], s["n_items"]
        assert f"{s['parse_rate']:.3f} ({n_parsed}/{n})" in text
    for adapter in adapters.values():
        meta = json.loads((moved / "adapters" / adapter.name / "prefc_train.json").read_text())
        assert meta["steps"] == 2
        assert f"{meta['tokens_per_second']:.1f}" in text and str(meta["tokens"]) in text
        assert meta["base_model"]["config_sha256"] in text
        assert str(moved / "adapters" / adapter.name) in text
    # provenance names the base model and shows every adapter's training configuration
    assert "lora_r" in text and "Base models" in text

    # an unfinished run (no run.json): what is on disk is reported, base model first
    (moved / "run.json").unlink()
    loaded = load_inputs([moved])
    assert loaded[0].kind == "run" and [a.adapter is None for a in loaded[0].agents] == [True, False, False]
    html = write_report([moved], tmp_path / "partial.html").read_text(encoding="utf-8")
    text = " ".join("".join(check(html).text).split())
    assert "run.json is missing" in text and "unfinished" in text
