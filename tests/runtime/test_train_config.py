"""`prefc train --config FILE` (TOML or YAML with every option) and `--report-to` trackers."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from prefc.cli import main
from prefc.runtime.train_config import ConfigFileError, TrainConfig, load_config_file

TOML = """\
dataset = "DATA"
out = "OUT"
preference = "moralis(kappa=0.5)"
max-steps = 3
learning-rate = 3e-3
batch-size = 4
grad-accum = 2
max-length = 200
lora-r = 4
lora-alpha = 12
lora_dropout = 0.0
target-modules = ["q_proj", "v_proj"]
logging-steps = 1
bf16 = false
seed = 3
"""

YAML = """\
dataset: DATA
out: OUT
preference: moralis(kappa=0.5)
max-steps: 3
learning-rate: 3.0e-3
batch-size: 4
grad-accum: 2
max-length: 200
lora-r: 4
lora-alpha: 12
lora_dropout: 0.0
target-modules: [q_proj, v_proj]
logging-steps: 1
bf16: false
seed: 3
"""


def test_toml_and_yaml_files_give_the_same_options(tmp_path: Path):
    (tmp_path / "a.toml").write_text(TOML)
    (tmp_path / "b.yaml").write_text(YAML)
    (tmp_path / "c.toml").write_text("[train]\n" + TOML)
    a, b, c = (load_config_file(tmp_path / n) for n in ("a.toml", "b.yaml", "c.toml"))
    assert a.options == b.options == c.options
    assert a.run == b.run == {"dataset": "DATA", "out": "OUT"}
    config = TrainConfig(**a.options)
    assert (config.grad_accum, config.max_length, config.lora_alpha, config.target_modules) == (
        2,
        200,
        12,
        ["q_proj", "v_proj"],
    )


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("x.toml", "max-stpes = 3\n", r"unknown training option `max-stpes`; did you mean `max-steps`\?"),
        ("x.toml", "lora-r = 0\n", r"`lora-r`: Input should be greater than or equal to 1"),
        ("x.toml", "grad-accum = 'two'\n", r"`grad-accum`: Input should be a valid integer"),
        ("x.toml", "max-steps = \n", r"x.toml: not valid TOML"),
        ("x.yaml", "max-steps: [1\n", r"x.yaml:2:1: not valid YAML"),
        ("x.yaml", "- 1\n- 2\n", r"expected a table of training options, got list"),
        ("x.json", "{}", r"a training config is a .toml, .yaml or .yml file"),
        ("x.toml", "backend = 'gpu'\n", r"`backend` is `local` or `openai`"),
    ],
)
def test_bad_config_files_are_located_errors(tmp_path: Path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(ConfigFileError, match=message):
        load_config_file(tmp_path / name)


def test_cli_reports_a_bad_config_without_traceback(tmp_path: Path, capsys):
    (tmp_path / "x.toml").write_text("lora-alpa = 3\n")
    assert main(["train", "d", "-o", str(tmp_path / "o"), "--config", str(tmp_path / "x.toml")]) == 1
    err = capsys.readouterr().err
    assert "unknown training option `lora-alpa`; did you mean `lora-alpha`?" in err and "Traceback" not in err
    assert main(["train", "--config", str(tmp_path / "missing.toml")]) == 1
    assert "no such config file" in capsys.readouterr().err
    (tmp_path / "empty.toml").write_text("")
    assert main(["train", "--config", str(tmp_path / "empty.toml")]) == 2
    assert "needs a DATASET" in capsys.readouterr().err


@pytest.fixture()
def dataset_dir(tmp_path: Path) -> Path:
    pytest.importorskip("trl")
    from train_data import make_dataset

    return make_dataset(tmp_path / "sft", n_train=8, n_val=2)


def test_train_from_a_config_file_records_it_next_to_the_adapter(
    tmp_path: Path, dataset_dir: Path, tiny_model_dir: Path, capsys
):
    out = tmp_path / "adapter"
    cfg = tmp_path / "moralis.yaml"
    cfg.write_text(YAML.replace("DATA", str(dataset_dir)).replace("OUT", str(out)))
    # a flag wins over the file
    assert main(["train", "--config", str(cfg), "--model", str(tiny_model_dir), "--max-steps", "2", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    meta = json.loads((out / "prefc_train.json").read_text())
    assert printed == meta
    assert meta["steps"] == 2 and meta["config"]["max_steps"] == 2
    assert (meta["config"]["grad_accum"], meta["config"]["max_length"], meta["config"]["lora_alpha"]) == (2, 200, 12)
    assert meta["config_file"]["kept_as"] == "train_config.yaml"
    assert (out / "train_config.yaml").read_text() == cfg.read_text()
    import hashlib

    assert meta["config_file"]["sha256"] == hashlib.sha256(cfg.read_bytes()).hexdigest()
    adapter = json.loads((out / "adapter_config.json").read_text())  # what peft really built
    assert (
        adapter["lora_alpha"] == 12 and adapter["r"] == 4 and sorted(adapter["target_modules"]) == ["q_proj", "v_proj"]
    )


def _scalar_tags(event_file: Path) -> set[str]:
    """Scalar tags in a TensorBoard event file (TFRecord framing, Event protos)."""
    from tensorboardX.proto import event_pb2

    data = event_file.read_bytes()
    tags: set[str] = set()
    pos = 0
    while pos < len(data):
        (length,) = struct.unpack("<Q", data[pos : pos + 8])
        event = event_pb2.Event.FromString(data[pos + 12 : pos + 12 + length])
        tags.update(v.tag for v in event.summary.value)
        pos += 12 + length + 4
    return tags


def test_report_to_tensorboard_writes_the_training_losses(tmp_path: Path, dataset_dir: Path, tiny_model_dir: Path):
    pytest.importorskip("tensorboardX")
    out = tmp_path / "adapter"
    (tmp_path / "tb.toml").write_text('logging-steps = 1\nreport-to = ["tensorboard"]\n')
    assert (
        main(
            [
                "train",
                str(dataset_dir),
                "-o",
                str(out),
                "--model",
                str(tiny_model_dir),
                "--preference",
                "economicus",
                "--max-steps",
                "2",
                "--config",
                str(tmp_path / "tb.toml"),
            ]
        )
        == 0
    )
    meta = json.loads((out / "prefc_train.json").read_text())
    assert meta["report_to"] == ["tensorboard"]
    events = list(Path(meta["tensorboard_logs"]).rglob("events.out.tfevents.*"))
    tags = set().union(*(_scalar_tags(e) for e in events))
    # the final evaluation writes its own file (named by the second it opens in, like the training's)
    assert events and {"train/loss", "eval/loss"} <= tags


def test_report_to_refuses_unknown_and_missing_trackers(
    tmp_path: Path, dataset_dir: Path, tiny_model_dir: Path, capsys
):
    base = [
        "train",
        str(dataset_dir),
        "-o",
        str(tmp_path / "a"),
        "--model",
        str(tiny_model_dir),
        "--preference",
        "economicus",
        "--max-steps",
        "1",
    ]
    assert main([*base, "--report-to", "tensorbored"]) == 1
    assert "unknown tracker 'tensorbored'" in capsys.readouterr().err
    assert main([*base, "--report-to", "neptune"]) == 1
    assert "tracker 'neptune' is not installed" in capsys.readouterr().err
    assert not (tmp_path / "a" / "prefc_train.json").exists()
