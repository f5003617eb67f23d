"""Data-parallel training: two gloo processes on this machine (via denseshift.launch,
i.e. torchrun) against one process, resume, and the errors of a bad world size or
an unreachable rendezvous."""
import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from denseshift import train
from denseshift.checkpoint import load_checkpoint
from helpers import fake_dataset

PYTHON_DIR = os.path.join(os.path.dirname(__file__), "..")
B = 16                                   # per-process batch


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_args(data, out, batch, *extra):
    return ["--model", "mlp", "--scheme", "denseshift", "--bits", "3", "--batch", str(batch),
            "--threads", "1", "--no-progress", "--data-dir", data, "--out", str(out), *extra]


def launch(nproc, data, out, *extra, timeout=120):
    cmd = [sys.executable, "-m", "denseshift.launch", f"--nproc_per_node={nproc}",
           "--master_addr=127.0.0.1", f"--master_port={free_port()}",
           "-m", "denseshift.train", *train_args(data, out, B, *extra)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(cmd, cwd=PYTHON_DIR, capture_output=True, text=True, timeout=timeout,
                          env=env)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fake_dataset(tmp_path_factory.mktemp("fmnist"), train=8 * 2 * B, test=40)


@pytest.fixture(scope="module")
def two_procs(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp") / "run"
    result = launch(2, data, out, "--epochs", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_two_processes_equal_one_with_twice_the_batch(data, two_procs, tmp_path):
    out, result = two_procs
    assert result.stdout.count("epoch 1:") == 1          # only rank 0 prints
    assert set(os.listdir(out)) == {"checkpoint.pt", "metrics.json", "summary.txt", "curves.png",
                                    "codes.png", "freezing.png"}
    single = tmp_path / "single"
    assert train.main(train_args(data, single, 2 * B, "--epochs", "1")) == 0
    ddp = json.loads((out / "metrics.json").read_text())
    one = json.loads((single / "metrics.json").read_text())
    assert ddp["world_size"] == 2 and one["world_size"] == 1
    a, b = ddp["epochs"][0]["step_loss"], one["epochs"][0]["step_loss"]
    assert len(a) == len(b) == 8
    assert max(abs(x - y) for x, y in zip(a, b)) < 1e-5 * max(b)
    assert a[-1] < a[0]                                   # and it learns
    for key in ("train_loss", "test_loss", "test_acc"):
        assert ddp["epochs"][0][key] == pytest.approx(one["epochs"][0][key], rel=1e-5, abs=1e-6)
    wa = load_checkpoint(str(out / "checkpoint.pt"))
    wb = load_checkpoint(str(single / "checkpoint.pt"))
    assert wa["world_size"] == 2
    for k in wb["model"]:
        assert torch.allclose(wa["model"][k], wb["model"][k], rtol=1e-4, atol=1e-5), k


def test_resume_and_world_size_mismatch(data, two_procs, tmp_path):
    out, _ = two_procs
    run = tmp_path / "run"
    os.makedirs(run)
    (run / "checkpoint.pt").write_bytes((out / "checkpoint.pt").read_bytes())
    result = launch(2, data, run, "--epochs", "2", "--resume")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resuming" in result.stdout
    payload = load_checkpoint(str(run / "checkpoint.pt"))
    assert payload["epoch"] == 2 and payload["world_size"] == 2

    before = (run / "checkpoint.pt").read_bytes()
    # one process resuming a two-process run: refused, nothing written
    status = train.main(train_args(data, run, B, "--epochs", "3", "--resume"))
    assert status == 2
    assert (run / "checkpoint.pt").read_bytes() == before


def test_world_size_mismatch_message(data, tmp_path, capsys):
    run = tmp_path / "one"
    assert train.main(train_args(data, run, B, "--epochs", "1")) == 0
    before = sorted(os.listdir(run)), (run / "checkpoint.pt").read_bytes()
    args = train.parse_args(train_args(data, run, B, "--epochs", "2", "--resume"))
    outcome = train._prepare(args, load_checkpoint(str(run / "checkpoint.pt"))["config"],
                             str(run / "checkpoint.pt"), train.Dist(rank=0, world=2))
    assert isinstance(outcome, train.DistributedError)
    assert "trained by 1 process" in str(outcome) and "this run has 2" in str(outcome)
    assert (sorted(os.listdir(run)), (run / "checkpoint.pt").read_bytes()) == before


def test_unreachable_rendezvous(data, tmp_path):
    # a worker whose master never answers (what torchrun's env:// hands it)
    env = dict(os.environ, WORLD_SIZE="2", RANK="1", LOCAL_RANK="1", MASTER_ADDR="127.0.0.1",
               MASTER_PORT=str(free_port()))
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "denseshift.train",
                             *train_args(data, out, B, "--dist-timeout", "2")],
                            cwd=PYTHON_DIR, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "could not join the process group at 127.0.0.1:" in result.stderr
    assert "--rdzv_endpoint" in result.stderr
    assert not out.exists()
    # the launcher's c10d rendezvous that never completes (the second node never comes)
    result = subprocess.run(
        [sys.executable, "-m", "denseshift.launch", "--nnodes=2", "--nproc_per_node=1",
         "--rdzv_backend=c10d", f"--rdzv_endpoint=127.0.0.1:{free_port()}",
         "--rdzv_conf=join_timeout=3", "-m", "denseshift.train", *train_args(data, out, B)],
        cwd=PYTHON_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "the rendezvous at 127.0.0.1:" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
