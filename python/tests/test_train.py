"""Training CLI: outputs, resume, and clear errors for bad input."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from denseshift import train
from denseshift.checkpoint import CheckpointError, load_checkpoint, load_model
from denseshift.data import DATA_DIR, DatasetError, load_split, read_idx
from helpers import fake_dataset, write_idx

PYTHON_DIR = os.path.join(os.path.dirname(__file__), "..")


def cli(data, out, *extra):
    return ["--model", "smallcnn", "--scheme", "denseshift", "--bits", "3", "--batch", "32",
            "--threads", "1", "--no-progress", "--data-dir", data, "--out", str(out), *extra]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fake_dataset(tmp_path_factory.mktemp("fmnist"))


def test_train_writes_everything_and_resumes(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(cli(data, out, "--epochs", "1")) == 0
    expected = {"checkpoint.pt", "metrics.json", "summary.txt", "curves.png", "codes.png", "freezing.png"}
    assert set(os.listdir(out)) == expected          # and no temporary files left behind
    metrics = json.loads((out / "metrics.json").read_text())
    epoch = metrics["epochs"][0]
    assert epoch["epoch"] == 1 and 0.0 <= epoch["test_acc"] <= 1.0
    assert set(epoch["freezing"]) == {"conv2", "conv3"}
    assert 0.0 <= epoch["freezing"]["conv2"]["frozen"] <= 1.0
    assert sum(metrics["code_histograms"]["conv2"].values()) == 32 * 16 * 9
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"

    # running again into the same directory without --resume is refused
    assert train.main(cli(data, out, "--epochs", "1")) == 2
    assert "--resume" in capsys.readouterr().err

    assert train.main(cli(data, out, "--epochs", "2", "--resume")) == 0
    payload = load_checkpoint(str(out / "checkpoint.pt"))
    assert payload["epoch"] == 2 and [h["epoch"] for h in payload["history"]] == [1, 2]
    model, config = load_model(str(out / "checkpoint.pt"))
    assert config["bits"] == 3 and not model.training


def test_resume_is_deterministic(data, tmp_path):
    straight, split = tmp_path / "a", tmp_path / "b"
    assert train.main(cli(data, straight, "--epochs", "2")) == 0
    assert train.main(cli(data, split, "--epochs", "1")) == 0
    assert train.main(cli(data, split, "--epochs", "2", "--resume")) == 0
    a = load_checkpoint(str(straight / "checkpoint.pt"))["model"]
    b = load_checkpoint(str(split / "checkpoint.pt"))["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_missing_dataset_names_the_debian_package(tmp_path, capsys):
    assert train.main(cli(str(tmp_path / "nowhere"), tmp_path / "out", "--epochs", "1")) == 2
    err = capsys.readouterr().err
    assert "dataset-fashion-mnist" in err and "error" in err
    assert not (tmp_path / "out").exists()


def test_corrupt_checkpoint_is_a_clear_error(data, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"not a checkpoint at all")
    assert train.main(cli(data, out, "--epochs", "1", "--resume")) == 2
    assert "corrupt" in capsys.readouterr().err
    torch.save({"format": "something-else"}, out / "checkpoint.pt")
    assert train.main(cli(data, out, "--epochs", "1", "--resume")) == 2
    assert "not a DenseShift checkpoint" in capsys.readouterr().err
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(str(tmp_path / "missing.pt"))


def test_cosine_schedule_and_augmentation():
    args = train.parse_args(["--schedule", "cosine", "--epochs", "4", "--lr", "0.01", "--out", "x"])
    lrs = [train.learning_rate(args, step, 10) for step in range(41)]
    assert lrs[0] == 0.01 and abs(lrs[20] - 0.005) < 1e-12 and abs(lrs[40]) < 1e-12
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
    constant = train.parse_args(["--lr", "0.01", "--out", "x"])
    assert train.learning_rate(constant, 37, 10) == 0.01
    # augmentation: every image is its own translation (<= 2 px) or mirror of one
    torch.manual_seed(0)
    x = torch.rand(64, 1, 8, 8) + 1      # no zeros, so fill shows where it came from
    y = train.augment(x)
    assert y.shape == x.shape
    for a, b in zip(x, y):
        padded = torch.nn.functional.pad(a, (2, 2, 2, 2))
        views = [padded[:, i:i + 8, j:j + 8] for i in range(5) for j in range(5)]
        assert any(torch.equal(b, v) or torch.equal(b, v.flip(-1)) for v in views)
    assert not torch.equal(y, x)
    assert (y == 0).any() and bool((y.flip(-1) != y).any())


def test_cosine_resume_with_other_epochs_is_refused(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(cli(data, out, "--epochs", "1", "--schedule", "cosine", "--augment")) == 0
    capsys.readouterr()
    assert train.main(cli(data, out, "--epochs", "2", "--resume", "--schedule", "cosine",
                          "--augment")) == 2
    assert "depends on --epochs" in capsys.readouterr().err
    assert train.main(cli(data, out, "--epochs", "2", "--resume")) == 2    # schedule dropped
    with pytest.raises(SystemExit):
        train.parse_args(cli(data, out, "--augment", "--dataset", "speech", "--data", "d"))


def test_mismatched_checkpoint_is_a_clear_error(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(cli(data, out, "--epochs", "1")) == 0
    capsys.readouterr()
    assert train.main(cli(data, out, "--epochs", "2", "--resume", "--bits", "4")) == 2
    assert "was trained with" in capsys.readouterr().err
    # weights that do not fit the stored config
    payload = torch.load(out / "checkpoint.pt")
    payload["meta"] = payload["meta"].replace('"bits": 3', '"bits": 5')
    torch.save(payload, out / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="do not match"):
        load_model(str(out / "checkpoint.pt"))


def test_scheme_with_nothing_to_convert_is_a_clear_error(data, tmp_path, capsys):
    argv = cli(data, tmp_path / "mpo", "--epochs", "1")
    argv[argv.index("smallcnn")] = "lstm-mpo4"
    assert train.main(argv) == 2
    err = capsys.readouterr().err
    assert "no nn.Conv2d/nn.Linear" in err and "Traceback" not in err
    assert not (tmp_path / "mpo").exists()


def test_bad_arguments_exit_nonzero(data, tmp_path):
    for bad in (["--bits", "9"], ["--bits", "1"], ["--epochs", "0"], ["--limit", "-3"]):
        with pytest.raises(SystemExit) as exc:
            train.parse_args(cli(data, tmp_path / "x") + bad)
        assert exc.value.code == 2


def test_module_entry_point_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "denseshift.train", "--data-dir", str(tmp_path),
                           "--out", str(tmp_path / "o")], cwd=PYTHON_DIR, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "dataset-fashion-mnist" in proc.stderr


def test_idx_reader_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.gz"
    write_idx(bad, np.zeros((2, 3), dtype=np.uint8))
    assert read_idx(str(bad)).shape == (2, 3)
    raw = bad.read_bytes()
    bad.write_bytes(raw[:-5])
    with pytest.raises(DatasetError):
        read_idx(str(bad))
    (tmp_path / "magic").write_bytes(b"\x01\x02\x03\x04" + bytes(20))
    with pytest.raises(DatasetError, match="not an unsigned-byte IDX"):
        read_idx(str(tmp_path / "magic"))


@pytest.mark.skipif(not os.path.isdir(DATA_DIR), reason="dataset-fashion-mnist not installed")
def test_real_fashion_mnist_test_split():
    images, labels = load_split("test", limit=500)
    assert images.shape == (500, 1, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (500,) and set(labels.tolist()) <= set(range(10))
    assert read_idx(os.path.join(DATA_DIR, "t10k-labels-idx1-ubyte.gz")).shape == (10000,)
