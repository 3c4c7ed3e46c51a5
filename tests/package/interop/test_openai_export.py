"""OpenAI fine-tuning files: `prefc compile --format openai`, `prefc export openai`, the validator of
the published rules, and `prefc train` on messages rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prefc.cli import main
from prefc.compiler.emit.layout import preference_slug
from prefc.compiler.emit.openai_jsonl import MIN_EXAMPLES, openai_row, validate_openai_file

try:
    from interop_fixtures import write_spec
except ImportError:  # tests/ is a package: import it by path
    from tests.interop_fixtures import write_spec


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("openai")
    assert (
        main(["compile", str(write_spec(tmp / "spec")), "-o", str(tmp / "out"), "--format", "openai", "--quiet"]) == 0
    )
    return tmp / "out" / "small" / "sft"


def test_slugs_name_preferences_in_paths():
    assert preference_slug("moralis(kappa=0.5)") == "moralis_kappa0.5"
    assert preference_slug("economicus") == "economicus"
    assert preference_slug("inequity(alpha=0.8, beta=0.3)") == "inequity_alpha0.8_beta0.3"
    assert preference_slug("moralis(kappa=1/3)") == "moralis_kappa1over3"


def test_compile_writes_one_valid_openai_file_per_preference_and_split(built: Path):
    mixed = {s: rows(built / f"{s}.jsonl") for s in ("train", "val")}
    for label in ("economicus", "moralis(kappa=0.5)"):
        for split in ("train", "val"):
            path = built / "openai" / f"{preference_slug(label)}.{split}.jsonl"
            report = validate_openai_file(path, strict=True, training=split == "train")
            assert report.ok, [p.located(path) for p in report.errors]
            got = rows(path)
            assert all(set(r) == {"messages"} for r in got)
            assert all(set(m) == {"role", "content"} for r in got for m in r["messages"])
            # exactly this preference's rows of the split, in the same order, with the same messages
            want = [r["messages"] for r in mixed[split] if r["meta"]["preference"] == label]
            assert [r["messages"] for r in got] == want and want


def test_per_preference_files_partition_the_mixed_rows(built: Path):
    for split in ("train", "val"):
        mixed = (built / f"{split}.jsonl").read_text().splitlines()
        parts = [
            (built / preference_slug(p) / f"{split}.jsonl").read_text().splitlines()
            for p in ("economicus", "moralis(kappa=0.5)")
        ]
        assert sorted(parts[0] + parts[1]) == sorted(mixed)
        assert all(json.loads(line)["meta"]["preference"] == "economicus" for line in parts[0])


def _problems(tmp_path: Path, lines: list[object], **kw) -> set[str]:
    path = tmp_path / "f.jsonl"
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return {p.code for p in validate_openai_file(path, **kw).errors}


GOOD = {
    "messages": [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
        {"role": "assistant", "content": "a"},
    ]
}


@pytest.mark.parametrize(
    "bad, code",
    [
        ("[1, 2]", "data_type"),
        ("{not json", "data_type"),
        ({"prompt": "x"}, "missing_messages_list"),
        ({"messages": [{"content": "u"}, {"role": "assistant", "content": "a"}]}, "message_missing_key"),
        (
            {"messages": [{"role": "user", "content": "u", "meta": 1}, {"role": "assistant", "content": "a"}]},
            "message_unrecognized_key",
        ),
        ({"messages": [{"role": "human", "content": "u"}, {"role": "assistant", "content": "a"}]}, "unrecognized_role"),
        ({"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "a"}]}, "missing_content"),
        ({"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "a"}]}, "missing_content"),
        ({"messages": [{"role": "user", "content": "u"}]}, "example_missing_assistant_message"),
        (
            {"messages": [{"role": "user", "content": "u", "weight": 1}, {"role": "assistant", "content": "a"}]},
            "invalid_weight",
        ),
        (
            {"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a", "weight": 0.5}]},
            "invalid_weight",
        ),
        ({**GOOD, "meta": {}}, "unrecognized_key"),
    ],
)
def test_each_published_rule_is_checked(tmp_path: Path, bad, code):
    assert code in _problems(tmp_path, [GOOD] * MIN_EXAMPLES + [bad])
    assert not _problems(tmp_path, [GOOD] * MIN_EXAMPLES)


def test_file_level_rules(tmp_path: Path):
    assert "too_few_examples" in _problems(tmp_path, [GOOD] * (MIN_EXAMPLES - 1))
    assert not _problems(tmp_path, [GOOD] * 2, training=False)  # a validation file may be small
    # documented optional keys pass the general rules but not prefc's strict shape
    tools = {**GOOD, "tools": []}
    assert not _problems(tmp_path, [tools] * MIN_EXAMPLES)
    assert "unrecognized_key" in _problems(tmp_path, [tools] * MIN_EXAMPLES, strict=True)
    weighted = {"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a", "weight": 0}]}
    assert not _problems(tmp_path, [weighted] * MIN_EXAMPLES)
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"messages": "\xe9"}\n')
    report = validate_openai_file(path)
    assert [(p.line, p.code) for p in report.errors] == [(2, "encoding")]


def test_long_examples_are_warned_about(tmp_path: Path):
    long = {"messages": [{"role": "user", "content": "x" * 300}, {"role": "assistant", "content": "a"}]}
    path = tmp_path / "long.jsonl"
    path.write_text((json.dumps(long) + "\n") * MIN_EXAMPLES)
    report = validate_openai_file(path, max_tokens=200)
    assert report.ok and {w.code for w in report.warnings} == {"may_exceed_token_limit"}


def test_openai_row_from_both_row_shapes():
    trl = {"prompt": GOOD["messages"][:2], "completion": GOOD["messages"][2:], "meta": {"x": 1}}
    assert openai_row(trl) == GOOD
    assert openai_row({**GOOD, "meta": {}}) == GOOD
    with pytest.raises(ValueError):
        openai_row({"text": "x"})


def test_export_openai_from_a_trl_build_matches_compile(built: Path, tmp_path: Path, capsys):
    spec = write_spec(tmp_path / "spec")
    assert main(["compile", str(spec), "-o", str(tmp_path / "trl"), "--quiet"]) == 0
    out = tmp_path / "exported"
    assert main(["export", "openai", str(tmp_path / "trl" / "small" / "sft"), "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(Path(f["path"]).name for f in report["files"]) == sorted(p.name for p in (built / "openai").iterdir())
    for f in report["files"]:
        assert (
            f["ok"]
            and (out / Path(f["path"]).name).read_bytes() == (built / "openai" / Path(f["path"]).name).read_bytes()
        )
    one = tmp_path / "one"
    assert (
        main(
            [
                "export",
                "openai",
                str(tmp_path / "trl" / "small" / "sft"),
                "-o",
                str(one),
                "--preference",
                "moralis(kappa=0.5)",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in one.iterdir()) == ["moralis_kappa0.5.train.jsonl", "moralis_kappa0.5.val.jsonl"]


def test_export_openai_refuses_a_missing_dataset_and_an_unknown_preference(built: Path, tmp_path: Path, capsys):
    assert main(["export", "openai", str(tmp_path / "nope"), "-o", str(tmp_path / "o")]) == 1
    assert "nope" in capsys.readouterr().err
    assert main(["export", "openai", str(built), "-o", str(tmp_path / "o"), "--preference", "altruism"]) == 1
    err = capsys.readouterr().err
    assert "altruism" in err and "economicus" in err and not (tmp_path / "o").exists()


# --- prefc train on messages rows ------------------------------------------------------------------


def _tokenised(dataset, tiny_model_dir: Path, tmp_path: Path, **kw):
    pytest.importorskip("trl")
    from prefc.runtime.train import TrainConfig, prepare

    run = prepare(
        dataset,
        tmp_path / f"out{len(list(tmp_path.iterdir()))}",
        progress=False,
        config=TrainConfig(model=str(tiny_model_dir), max_steps=1, bf16=False, **kw),
    )
    ds = run.trainer.train_dataset
    return run, sorted((tuple(r["input_ids"]), tuple(int(x != -100) for x in r["labels"])) for r in ds)


def test_train_reads_messages_rows_exactly_as_its_own_rows(built: Path, tiny_model_dir: Path, tmp_path: Path):
    """The trl rows of a build and the messages rows of the same build tokenise to the same inputs and
    the same completion masks; so does the OpenAI file of the preference."""
    spec = write_spec(tmp_path / "spec")
    assert main(["compile", str(spec), "-o", str(tmp_path / "trl"), "--quiet"]) == 0
    label = "moralis(kappa=0.5)"
    own_run, own = _tokenised(tmp_path / "trl" / "small" / "sft", tiny_model_dir, tmp_path, preference=label)
    msg_run, msg = _tokenised(built, tiny_model_dir, tmp_path, preference=label)
    file_run, from_file = _tokenised(
        built / "openai" / "moralis_kappa0.5.train.jsonl", tiny_model_dir, tmp_path, preference=label
    )
    assert own == msg == from_file and own
    assert own_run.val_rows == msg_run.val_rows == file_run.val_rows > 0  # the sibling .val.jsonl is found
    assert file_run.dataset_info["spec"] == "small"  # dataset.json found above openai/
    assert any(0 < sum(m) < len(m) for _, m in own)  # prompts masked, completions learned


def test_train_refuses_messages_rows_that_do_not_end_with_the_assistant(tmp_path: Path, tiny_model_dir: Path):
    from prefc.runtime.train import TrainError, read_rows

    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "u"}]}) + "\n")
    with pytest.raises(TrainError, match=r"train.jsonl:1: .*end with the assistant"):
        read_rows(path)
