"""Transfer learning table (issue 12, item 3) and train.py's transfer options."""
import json

import pytest
import torch

from denseshift import train, transfer_table
from denseshift.checkpoint import load_checkpoint
from denseshift.models import build_model, model_config
from helpers import fake_dataset


def test_parse_and_select_classes():
    assert train.parse_classes("0-2,7") == [0, 1, 2, 7]
    assert train.parse_classes("9,3") == [9, 3]
    for bad in ("", "a-b", "1,1", "-3"):
        with pytest.raises(Exception):
            train.parse_classes(bad)
    x = torch.arange(6.0).view(6, 1)
    y = torch.tensor([0, 5, 9, 5, 2, 9])
    xs, ys = train.select_classes(x, y, [9, 5])
    assert xs.flatten().tolist() == [1.0, 2.0, 3.0, 5.0] and ys.tolist() == [1, 0, 1, 0]


def test_latent_inits_differ_in_scale():
    torch.manual_seed(0)
    model = build_model(model_config("smallcnn", "denseshift", 3))
    layer = next(m for m in model.modules() if hasattr(m, "exponent_latent"))
    assert layer.sign_latent.detach().std() == pytest.approx(1e-3, rel=0.2)
    layer.reset_parameters("default")
    bound = layer.fan_in ** -0.5
    assert layer.sign_latent.detach().abs().max() <= bound
    assert layer.sign_latent.detach().std() == pytest.approx(bound / 3 ** 0.5, rel=0.2)
    with pytest.raises(ValueError, match="unknown latent init"):
        layer.reset_parameters("xavier")


def test_init_from_float_rounds_and_freeze_features_trains_only_the_head(tmp_path, capsys):
    data = fake_dataset(tmp_path / "data", train=96, test=48)
    common = ["--data-dir", data, "--batch", "32", "--no-progress", "--threads", "1"]
    assert train.main(["--scheme", "float", "--classes", "0-4", "--out", str(tmp_path / "a")] + common) == 0
    source = load_checkpoint(str(tmp_path / "a" / "checkpoint.pt"))
    assert source["config"]["num_classes"] == 5
    out = tmp_path / "b"
    assert train.main(["--scheme", "denseshift", "--classes", "5-9", "--init-from",
                       str(tmp_path / "a" / "checkpoint.pt"), "--freeze-features", "--out", str(out)]
                      + common) == 0
    text = capsys.readouterr().out
    assert "initialised from" in text and "fresh" not in text     # same 5-class head shape
    after = load_checkpoint(str(out / "checkpoint.pt"))["model"]
    # the features did not move: conv1 (float, first layer) and the BatchNorm statistics
    for key in ("conv1.weight", "bn1.running_mean", "bn2.running_var"):
        assert torch.equal(after[key], source["model"][key]), key
    assert not torch.equal(after["fc.weight"], source["model"]["fc.weight"])
    # a mismatched resume and a checkpoint of another scheme are errors, not silent
    assert train.main(["--scheme", "denseshift", "--classes", "5-9", "--init-from",
                       str(tmp_path / "a" / "checkpoint.pt"), "--out", str(out), "--resume",
                       "--epochs", "2"] + common) == 2
    assert train.main(["--scheme", "s3", "--init-from", str(out / "checkpoint.pt"),
                       "--out", str(tmp_path / "c")] + common) == 2
    assert train.main(["--scheme", "denseshift", "--classes", "3-12", "--out", str(tmp_path / "d")]
                      + common) == 2
    err = capsys.readouterr().err
    assert "--freeze-features" in err and "scheme 'denseshift'" in err and "labels 0..9" in err


def test_transfer_table_end_to_end(tmp_path, capsys):
    data = fake_dataset(tmp_path / "data", train=120, test=60)
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    argv = ["--out", str(runs), "--docs", str(docs), "--seeds", "3", "--pretrain-epochs", "1",
            "--finetune-epochs", "1", "--batch", "32", "--limit", "120", "--data-dir", data,
            "--no-progress"]
    assert transfer_table.main(argv) == 0
    result = json.loads((docs / "transfer.json").read_text())
    rows = {r["name"]: r for r in result["rows"]}
    assert set(rows) == {"fp32", "low-variance", "default", "from-float"}
    assert rows["fp32"]["changed"] is None and 0 <= rows["default"]["changed"] <= 1
    assert rows["default"]["latent"] > 10 * rows["low-variance"]["latent"]
    assert len(result["verdicts"]) == 2
    md = (docs / "RESULTS.md").read_text()
    assert "<!-- transfer:begin -->" in md and "frozen features" in md
    mtime = (runs / "seed3" / "scratch" / "checkpoint.pt").stat().st_mtime_ns
    assert transfer_table.main(argv) == 0
    assert (runs / "seed3" / "scratch" / "checkpoint.pt").stat().st_mtime_ns == mtime
    capsys.readouterr()
    assert transfer_table.main(argv + ["--lr", "0.01"]) == 2
    assert "another protocol" in capsys.readouterr().err
    assert (runs / "seed3" / "scratch" / "checkpoint.pt").stat().st_mtime_ns == mtime
