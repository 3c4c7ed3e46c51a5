"""The dataset directory is a Hugging Face dataset repository: its card's YAML header has a config per
preference, `datasets.load_dataset(DIR, CONFIG)` loads one preference's splits, and the card's own
snippet trains on one preference."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from prefc.cli import main

datasets = pytest.importorskip("datasets")
yaml = pytest.importorskip("yaml")

try:
    from interop_fixtures import write_spec
except ImportError:  # tests/ is a package: import it by path
    from tests.interop_fixtures import write_spec


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("hub")
    assert main(["compile", str(write_spec(tmp / "spec")), "-o", str(tmp / "out"), "--quiet"]) == 0
    return tmp / "out" / "small" / "sft"


def header(card: Path) -> dict:
    text = card.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_card_header_has_the_hub_fields(built: Path):
    meta = header(built / "README.md")
    assert meta["license"] == "apache-2.0" and meta["task_categories"] == ["text-generation"]
    assert meta["size_categories"] == ["n<1K"] and "prefc" in meta["tags"]
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert set(configs) == {"all", "economicus", "moralis_kappa0.5"} and configs["all"]["default"] is True
    assert configs["moralis_kappa0.5"]["data_files"] == [
        {"split": "train", "path": "moralis_kappa0.5/train.jsonl"},
        {"split": "validation", "path": "moralis_kappa0.5/val.jsonl"},
    ]
    for config in configs.values():
        for entry in config["data_files"]:
            assert (built / entry["path"]).is_file()


def test_load_dataset_by_config_gives_one_preference(built: Path, tmp_path: Path):
    for config, label in (("moralis_kappa0.5", "moralis(kappa=0.5)"), ("economicus", "economicus")):
        ds = datasets.load_dataset(str(built), config, cache_dir=str(tmp_path / "cache"))
        assert set(ds) == {"train", "validation"}
        for hub_split, split in (("train", "train"), ("validation", "val")):
            assert {m["preference"] for m in ds[hub_split]["meta"]} == {label}
            want = [r for r in rows(built / f"{split}.jsonl") if r["meta"]["preference"] == label]
            assert [r["completion"] for r in ds[hub_split]] == [r["completion"] for r in want]
    mixed = datasets.load_dataset(str(built), cache_dir=str(tmp_path / "cache"))
    assert len(mixed["train"]) == len(rows(built / "train.jsonl"))


def test_a_single_preference_dataset_has_one_config_and_no_copies(tmp_path: Path):
    spec = write_spec(tmp_path / "spec")
    spec.write_text(spec.read_text().replace("for economicus, moralis(kappa = 0.5)", "for economicus"))
    assert main(["compile", str(spec), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    built = tmp_path / "out" / "small" / "sft"
    meta = header(built / "README.md")
    assert [c["config_name"] for c in meta["configs"]] == ["economicus"]
    assert sorted(p.name for p in built.iterdir()) == ["README.md", "dataset.json", "train.jsonl", "val.jsonl"]
    ds = datasets.load_dataset(str(built), "economicus", cache_dir=str(tmp_path / "cache"))
    assert len(ds["train"]) == len(rows(built / "train.jsonl"))


def test_the_cards_snippet_trains_on_one_preference(built: Path, tiny_model_dir: Path, tmp_path: Path, monkeypatch):
    pytest.importorskip("trl")
    card = (built / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", card, re.S).group(1)
    assert 'load_dataset(DATASET_DIR, "economicus")' in code  # the first preference's config
    code = re.sub(r'DATASET_DIR = "[^"]*"', f"DATASET_DIR = {str(built)!r}", code)
    code = re.sub(r'MODEL = "[^"]*"', f"MODEL = {str(tiny_model_dir)!r}", code)
    code = code.replace(
        "max_steps=60", "max_steps=3, per_device_train_batch_size=2, use_cpu=True, report_to=[], save_strategy='no'"
    )
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the card's own snippet, on our files
    trainer = namespace["trainer"]
    own = [r for r in rows(built / "train.jsonl") if r["meta"]["preference"] == "economicus"]
    assert len(trainer.train_dataset) == len(own) < len(rows(built / "train.jsonl"))
    assert trainer.state.global_step == 3
    sample = trainer.train_dataset[0]
    assert 0 < sum(1 for x in sample["labels"] if x == -100) < len(sample["input_ids"])  # completion-only loss
