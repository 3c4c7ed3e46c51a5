"""`prefc compile`: datasets, rubrics, manifests, templates, sampling and atomic writes."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from prefc.cli import main
from prefc.compiler.check import PreferencePoint, check_file
from prefc.compiler.emit.build import compile_spec
from prefc.compiler.emit.templates import TemplateError, TemplateSet
from prefc.compiler.ir import lower_spec
from prefc.compiler.solve import GameSolver

try:
    from spec_blocks import DICTATOR
except ImportError:  # tests/ is a package: import it by path
    from tests.spec_blocks import DICTATOR

SPECS = Path(__file__).resolve().parents[3] / "specs"

SMALL = (
    """spec small "Small games"

use "preferences.pref"

"""
    + DICTATOR
    + """
game ultimatum "Ultimatum game" {
    players proposer, responder
    param E = 4 vary {4, 6}
    proposer chooses offer in 0..E
    then responder sees offer and chooses accept in {yes, no}
    payoff proposer  = if accept == yes then E - offer else 0
    payoff responder = if accept == yes then offer else 0
}

game prisoners_dilemma "Prisoner's dilemma" {
    players row, col symmetric
    param T = 5 vary {4, 5, 6, 8}, R = 3, P = 1, S = 0 vary {0, -1}
    each player chooses move in {cooperate, defect}
    payoff row = table(row.move, col.move) {
        cooperate, cooperate: R;  cooperate, defect: S
        defect,    cooperate: T;  defect,    defect: P
    }
}

dataset sft for economicus, moralis(kappa = 0.5) {
    games dictator, ultimatum, prisoners_dilemma
    samples SAMPLES per preference   seed 5
    split train 0.8, val 0.2
    paraphrases 3
    TEMPLATE
    HOLDOUT
}

rubric eval for economicus, moralis(kappa = 0.25, 0.75) {
    games prisoners_dilemma
    items 12   tolerance 5%
    seed 7
}
"""
)


def write_spec(tmp: Path, *, samples: int = 40, template: str = "", holdout: str = "") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copy(SPECS / "preferences.pref", tmp / "preferences.pref")
    text = SMALL.replace("SAMPLES", str(samples)).replace("TEMPLATE", template).replace("HOLDOUT", holdout)
    (tmp / "small.pref").write_text(text)
    return tmp / "small.pref"


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("compile")
    spec = write_spec(tmp / "spec", holdout="holdout where T >= 8\n    holdout paraphrases 2")
    assert main(["compile", str(spec), "-o", str(tmp / "out"), "--quiet"]) == 0
    return tmp / "out" / "small"


def test_rows_load_with_datasets_and_have_the_trl_shape(built: Path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset(
        "json", data_files={s: str(built / "sft" / f"{s}.jsonl") for s in ("train", "val", "test")}
    )
    row = ds["train"][0]
    assert [m["role"] for m in row["prompt"]] == ["system", "user"]
    assert [m["role"] for m in row["completion"]] == ["assistant"]
    assert row["completion"][0]["content"].splitlines()[-1].startswith("ANSWER: {")
    total = sum(len(ds[s]) for s in ds)
    assert total == 2 * 40


def test_every_answer_is_the_solvers_action(built: Path):
    spec = check_file(str(built.parent.parent / "spec" / "small.pref"))
    ir = lower_spec(spec)
    for split in ("train", "val", "test"):
        for r in rows(built / "sft" / f"{split}.jsonl"):
            meta = r["meta"]
            answer = json.loads(r["completion"][0]["content"].splitlines()[-1][len("ANSWER: ") :])
            assert answer == meta["answer"]
            point = PreferencePoint(
                meta["preference_name"], tuple((k, Fraction(str(v))) for k, v in meta["preference_params"].items())
            )
            sol = GameSolver(ir.games[meta["game"]], ir.preference(point)).solve(
                {k: Fraction(str(v)) for k, v in meta["params"].items()}
            )
            if "seen" in meta:  # the responder: its plan at the offer it saw
                plan = sol.answer.strategy["responder"]["accept"]
                assert answer == {"accept": plan[str(meta["seen"]["offer"])]}
            else:
                action = next(iter(answer))
                assert answer[action] == sol.answer.path[meta["role"]][action]


def test_moralis_cooperates_in_the_prisoners_dilemma_iff_kappa_is_high_enough(built: Path):
    # Alger & Weibull: mutual cooperation is a homo moralis equilibrium iff kappa >= (T-R)/(T-P).
    for split in ("train", "val", "test"):
        for r in rows(built / "sft" / f"{split}.jsonl"):
            m = r["meta"]
            if m["game"] != "prisoners_dilemma" or m["preference_name"] != "moralis":
                continue
            p = m["params"]
            threshold = Fraction(p["T"] - p["R"], p["T"] - p["P"])
            assert (m["answer"]["move"] == "cooperate") == (Fraction(1, 2) >= threshold)


def test_holdouts_end_in_test_only_and_no_prompt_is_in_two_splits(built: Path):
    prompts: dict[str, str] = {}
    for split in ("train", "val", "test"):
        for r in rows(built / "sft" / f"{split}.jsonl"):
            m = r["meta"]
            held = m["paraphrase"] == 2 or (m["game"] == "prisoners_dilemma" and m["params"]["T"] >= 8)
            assert (split == "test") == held
            key = json.dumps(r["prompt"])
            assert prompts.setdefault(key, split) == split


def test_paraphrases_differ(built: Path):
    by_situation: dict[str, set] = {}
    for r in rows(built / "sft" / "train.jsonl"):
        m = r["meta"]
        k = json.dumps([m["game"], m["role"], m["params"], m.get("seen")], sort_keys=True)
        by_situation.setdefault(k, {})[m["paraphrase"]] = r["prompt"][1]["content"]
    assert any(len(v) > 1 for v in by_situation.values())
    for texts in by_situation.values():
        assert len(set(texts.values())) == len(texts)


def test_rubric_targets_schema_and_family(built: Path):
    header = json.loads((built / "eval.json").read_text())
    assert header["preferences"] == ["economicus", "moralis(kappa=0.25)", "moralis(kappa=0.75)"]
    assert (
        header["family"]["grid"][0] == 0 and header["family"]["grid"][-1] == 1 and len(header["family"]["grid"]) == 21
    )
    items = rows(built / "eval.jsonl")
    assert len(items) == 12
    for it in items:
        p = it["params"]
        assert it["schema"] == {"move": {"kind": "choice", "options": ["cooperate", "defect"]}}
        assert it["targets"]["economicus"]["move"] == "defect"
        coop = Fraction(3, 4) >= Fraction(p["T"] - p["R"], p["T"] - p["P"])
        assert it["targets"]["moralis(kappa=0.75)"]["move"] == ("cooperate" if coop else "defect")
        assert it["tolerance"] == 0.05
        # at kappa = 0 (economicus) against defection: cooperating gives S, defecting gives P
        assert it["family"]["utilities"][0] == [p["S"], p["P"]]


def test_family_rows_between_the_pd_thresholds_use_the_mixed_equilibrium(built: Path):
    """For kappa between (P-S)/(R-S) and (T-R)/(T-P) homo moralis has no symmetric pure equilibrium
    in the PD. Its symmetric mixed equilibrium follows the strategy-level Kantian term (Alger &
    Weibull 2013): with A the PD matrix, the other cooperates with probability s solving
    (A + k A') x = lambda 1 for x = (s, 1 - s). The family rows give each pure option's utility
    against it: u(C) = (1-k)(sR + (1-s)S) + kR, u(D) = (1-k)(sT + (1-s)P) + kP (a pure option
    universalises to itself). The rubric loads (every family utility is a finite number)."""
    from prefc.runtime.evaluate import load_rubric

    rubric = load_rubric(built / "eval.jsonl")
    grid = rubric.family["grid"]
    seen = 0
    for it in rubric.items:
        p = {k: Fraction(v) for k, v in it["params"].items()}
        T, R, P, S = p["T"], p["R"], p["P"], p["S"]
        for k, row in zip(grid, it["family"]["utilities"], strict=True):
            k = Fraction(k).limit_denominator(100)
            coop_eq, defect_eq = k >= (T - R) / (T - P), k <= (P - S) / (R - S)
            if coop_eq or defect_eq:
                continue
            h00, h01, h10, h11 = R + k * R, S + k * T, T + k * S, P + k * P
            s = (h11 - h01) / (h00 - h01 - h10 + h11)
            assert 0 < s < 1
            u_c = (1 - k) * (s * R + (1 - s) * S) + k * R
            u_d = (1 - k) * (s * T + (1 - s) * P) + k * P
            assert row == pytest.approx([float(u_c), float(u_d)], abs=1e-4)
            seen += 1
    assert seen


def test_rebuild_is_byte_identical(built: Path, tmp_path: Path):
    spec = built.parent.parent / "spec" / "small.pref"
    assert main(["compile", str(spec), "-o", str(tmp_path), "--quiet"]) == 0
    manifest = json.loads((built / "manifest.json").read_text())
    for f in manifest["files"]:
        again = hashlib.sha256((tmp_path / "small" / f["path"]).read_bytes()).hexdigest()
        assert again == f["sha256"] == hashlib.sha256((built / f["path"]).read_bytes()).hexdigest()
    assert (tmp_path / "small" / "manifest.json").read_bytes() == (built / "manifest.json").read_bytes()


def test_interrupted_compile_leaves_the_previous_build(tmp_path: Path):
    spec = check_file(str(write_spec(tmp_path / "spec")))
    out = tmp_path / "out"
    compile_spec(spec, out)
    before = {p: p.read_bytes() for p in (out / "small").rglob("*") if p.is_file()}

    def boom(_staged):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compile_spec(spec, out, seed=99, before_commit=boom)
    after = {p: p.read_bytes() for p in (out / "small").rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in out.iterdir()) == ["small"]


def test_killed_compile_process_leaves_no_partial_artefact(tmp_path: Path):
    spec = write_spec(tmp_path / "spec")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "prefc", "compile", str(spec), "-o", str(out), "--quiet"])
    deadline = time.time() + 60
    while time.time() < deadline and not any(out.glob(".small.partial-*")):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "small").exists() or (out / "small" / "manifest.json").exists()
    if (out / "small").exists():  # finished before the kill: then it is complete
        manifest = json.loads((out / "small" / "manifest.json").read_text())
        for f in manifest["files"]:
            assert (out / "small" / f["path"]).exists()


def test_too_many_samples_is_an_error_with_the_count(tmp_path: Path, capsys):
    spec = write_spec(tmp_path, samples=100_000)
    assert main(["compile", str(spec), "-o", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    # (dictator 2 points + ultimatum 2 proposers + 5 + 7 responder offers + PD 8 points) x 3 paraphrases
    assert "only 72 distinct rows exist" in err
    assert not (tmp_path / "out" / "small").exists()


def test_sandbox_refuses_attribute_escapes(tmp_path: Path, capsys):
    tpl = tmp_path / "spec" / "tpl"
    tpl.mkdir(parents=True)
    (tpl / "dictator.j2").write_text("You are the dictator.\n{{ ''.__class__.__mro__ }}\n")
    spec = write_spec(tmp_path / "spec", template='template "tpl"')
    assert main(["compile", str(spec), "-o", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "dictator.j2:2" in err and "sandbox" in err
    with pytest.raises(TemplateError):
        TemplateSet(tpl).render("dictator", {})


def test_unknown_template_variable_is_a_located_error(tmp_path: Path, capsys):
    tpl = tmp_path / "spec" / "tpl"
    tpl.mkdir(parents=True)
    (tpl / "ultimatum.j2").write_text("You are the {{ role }}.\nThe pot is {{ pot_size }} coins.\n")
    spec = write_spec(tmp_path / "spec", template='template "tpl"')
    assert main(["compile", str(spec), "-o", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "ultimatum.j2:2" in err and "pot_size" in err


def test_unknown_template_directory_is_located_at_the_template_line(tmp_path: Path, capsys):
    spec = write_spec(tmp_path, template='template "nowhere"')
    assert main(["compile", str(spec), "-o", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    line = next(i for i, t in enumerate(spec.read_text().splitlines(), 1) if "nowhere" in t)
    assert f"small.pref:{line}:" in err


def test_messages_format(tmp_path: Path):
    spec = check_file(str(write_spec(tmp_path / "spec", samples=10)))
    result = compile_spec(spec, tmp_path / "out", fmt="messages")
    r = rows(result.directory / "sft" / "train.jsonl")[0]
    assert [m["role"] for m in r["messages"]] == ["system", "user", "assistant"] and "meta" in r
    assert_canonical_lines(result.directory / "sft" / "train.jsonl")


def assert_canonical_lines(path: Path) -> None:
    """Every line is exactly the canonical serialisation of its row (rows are assembled from cached parts)."""
    from prefc.compiler.emit.fmt import dumps

    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines
    for line in lines:
        assert dumps(json.loads(line)) == line


def test_dataset_lines_are_canonical_json(built: Path):
    for split in ("train", "val", "test"):
        assert_canonical_lines(built / "sft" / f"{split}.jsonl")


def test_a_template_cannot_change_what_later_prompts_see(tmp_path: Path):
    tpl = tmp_path / "spec" / "tpl"
    tpl.mkdir(parents=True)
    (tpl / "dictator.j2").write_text(
        "You are the {{ role }}; the others are {{ others | join(', ') }}.\n"
        "{% do others.append('intruder') %}{{ answer_format }}\n"
    )
    spec = check_file(str(write_spec(tmp_path / "spec", template='template "tpl"')))
    with pytest.raises(TemplateError, match="render failed"):
        compile_spec(spec, tmp_path / "out")
    (tpl / "dictator.j2").write_text(
        "You are the {{ role }}; the others are {{ others | join(', ') }}.\n{{ answer_format }}\n"
    )
    result = compile_spec(check_file(str(tmp_path / "spec" / "small.pref")), tmp_path / "out")
    prompts = [
        r["prompt"][1]["content"]
        for r in rows(result.directory / "sft" / "train.jsonl")
        if r["meta"]["game"] == "dictator"
    ]
    assert prompts and not any("intruder" in p for p in prompts)


def test_sft_trainer_consumes_rows_with_completion_only_loss(built: Path, tiny_model_dir, tmp_path: Path):
    datasets = pytest.importorskip("datasets")
    trl = pytest.importorskip("trl")
    ds = datasets.load_dataset("json", data_files=str(built / "sft" / "train.jsonl"), split="train")
    ds = ds.remove_columns("meta").select(range(8))
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer = trl.SFTTrainer(
            model=str(tiny_model_dir),
            train_dataset=ds,
            args=trl.SFTConfig(
                output_dir=str(tmp_path),
                max_steps=2,
                per_device_train_batch_size=2,
                report_to=[],
                completion_only_loss=True,
                use_cpu=True,
                logging_steps=1,
                save_strategy="no",
            ),
        )
        sample = trainer.train_dataset[0]
        masked = sum(1 for label in sample["labels"] if label == -100)
        assert 0 < masked < len(sample["input_ids"])  # the prompt is masked, the completion is learned
        out = trainer.train()
    assert out.training_loss > 0
    fmt = [w for w in caught if "format" in str(w.message).lower() or "template" in str(w.message).lower()]
    assert not fmt, [str(w.message) for w in fmt]


@pytest.mark.parametrize(
    "marginal, value, chosen, says",
    [
        (
            "6 - 3*x",
            1e-12,
            2,
            "Setting it to zero (within the bounds) gives the best q = 2.",
        ),  # numeric interior optimum
        ("4 - 2*x", 0, 2, "at q = 2 it is 0. Setting it to zero"),
        ("0", None, 3, "It is zero whatever I choose, so every q is equally good; I take q = 3."),
        ("-1/5", None, 0, "It is negative: the best is the lowest, q = 0."),
        ("1 - x", 1.0, 0, "at q = 0 it is 1. It is positive"),
    ],
)
def test_continuous_reasoning_follows_the_marginal_utility(marginal, value, chosen, says):
    from prefc.compiler.emit.reasoning import _continuous
    from prefc.compiler.solution import Decision

    d = Decision(
        player="firm[1]",
        action="q",
        kind="interval",
        given={"others": 2},
        utility="x*(4 - x)",
        marginal=marginal,
        marginal_value=value,
        chosen=chosen,
    )
    assert says in _continuous(d)


@pytest.mark.parametrize(
    "utilities, says",
    [
        (
            [10 - 0.5 * k for k in range(7)],
            "0 gives me 10; 1 gives me 9.5; each further step of 1 takes away 0.5, "
            "up to 6, which gives me 7. 0 is best",
        ),
        (
            [k * k for k in range(7)],
            "0 gives me 0; 1 gives me 1; 2 gives me 4; 3 gives me 9; 4 gives me 16; "
            "5 gives me 25; 6 gives me 36. 6 is best",
        ),  # not linear: every option
        ([3 - k for k in range(5)], "0 gives me 3; 1 gives me 2; 2 gives me 1; 3 gives me 0; 4 gives me -1."),  # few
    ],
)
def test_long_linear_option_lists_are_described_by_their_step(utilities, says):
    from prefc.compiler.emit.reasoning import _finite
    from prefc.compiler.solution import Decision, OptionValue

    best = max(range(len(utilities)), key=lambda k: utilities[k])
    d = Decision(
        player="proposer",
        action="offer",
        kind="integers",
        chosen=best,
        options=[OptionValue(value=k, utility=u) for k, u in enumerate(utilities)],
    )
    assert says in _finite(d)


def test_samples_per_game_gives_every_game_its_count(tmp_path: Path):
    spec = write_spec(tmp_path / "spec")
    spec.write_text(spec.read_text().replace("samples 40 per preference", "samples 4 per game"))
    out = tmp_path / "out"
    assert main(["compile", str(spec), "-o", str(out), "--quiet"]) == 0
    rows_ = [r for split in ("train", "val") for r in rows(out / "small" / "sft" / f"{split}.jsonl")]
    counts: dict[tuple[str, str], int] = {}
    for r in rows_:
        key = (r["meta"]["game"], r["meta"]["preference"])
        counts[key] = counts.get(key, 0) + 1
    assert counts == {
        (g, p): 4 for g in ("dictator", "ultimatum", "prisoners_dilemma") for p in ("economicus", "moralis(kappa=0.5)")
    }


def test_samples_per_game_beyond_a_game_s_rows_names_it(tmp_path: Path, capsys):
    spec = write_spec(tmp_path / "spec")
    spec.write_text(spec.read_text().replace("samples 40 per preference", "samples 20 per game"))
    assert main(["compile", str(spec), "-o", str(tmp_path / "out"), "--quiet"]) == 1
    assert "20 rows per game asked for, but only dictator: 6 distinct rows exist" in capsys.readouterr().err


def test_rubric_items_never_ask_a_dataset_prompt(built: Path):
    asked = {
        json.dumps(r["prompt"])
        for split in ("train", "val", "test")
        if (built / "sft" / f"{split}.jsonl").exists()
        for r in rows(built / "sft" / f"{split}.jsonl")
    }
    items = rows(built / "eval.jsonl")
    assert asked and items
    assert not asked & {json.dumps(it["prompt"]) for it in items}
    header = json.loads((built / "eval.json").read_text())
    assert header["excluded_dataset_prompts"] == len(asked)


def test_public_goods_traces_compare_the_threshold_before_deciding():
    """Homo moralis contributes everything iff kappa > (n - m) / (m (n - 1)) (Alger & Weibull); the
    trace states that threshold at the row's numbers before anything that depends on it."""
    import operator
    import re

    from prefc.compiler.emit.dataset import parameter_points
    from prefc.compiler.emit.reasoning import completion_text
    from prefc.compiler.emit.situations import Solutions, situations

    spec = check_file(str(SPECS / "paper.pref"))
    ir = lower_spec(spec)
    solutions = Solutions(ir)
    ops = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}
    checked = 0
    for pref in spec.builds["sft"].preferences:
        kappa = dict(pref.values).get("kappa", Fraction(0))
        for point in parameter_points(ir, "public_goods"):
            p = dict(point)
            n, m, e = p["n"], p["m"], p["e"]
            if kappa * m * (n - 1) == n - m:
                continue  # indifferent: every contribution is optimal
            for s in situations(ir.games["public_goods"], point):
                decided = solutions.decide(s, pref)
                text = completion_text(ir.preference(pref), decided.decision, decided.answer)
                full = kappa * m * (n - 1) > n - m
                assert decided.answer == {"give": e if full else 0}
                found = re.search(
                    r"Here (\S+) = (-?[\d.]+), (.+?) = (?:[^=,]+ = )?(-?[\d.]+), so the regime is "
                    r"\1 (<=|>=|<|>) \3, where the best give is (\d+)\.",
                    text,
                )
                assert found, text
                assert ops[found.group(5)](float(found.group(2)), float(found.group(4)))
                assert found.start() < text.index("Suppose the others play")
                assert int(found.group(6)) == decided.answer["give"]
                if found.group(3) != "n":  # a formula is shown with the numbers put in
                    assert f"2*{n}/({n} + 1) = " in text
                checked += 1
    assert checked > 20
