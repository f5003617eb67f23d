"""Whole-model parity (issue 4, item 8): a briefly trained 3-bit DenseShift
small CNN, exported and compiled with the project toolchain, against PyTorch.

* x86-64-avx2, in-process (ctypes), on the full 10,000-image Fashion-MNIST
  test set: at most 5 predictions differ, logits within 1e-4 of max|logit|;
* aarch64-neon under qemu-aarch64 on the first 500 images: the same
  predictions, logits within 1e-4 of max|logit|.

The model is trained once per run (``--limit 2000``, one epoch, one thread
pinned to one core) into a pytest temporary directory. Skips, with the
reason, when the project tools, QEMU/the cross compiler or the dataset are
missing. About 30-40 s on a shared 2-core machine.
"""
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from denseshift import runtime
from denseshift.checkpoint import load_model
from denseshift.data import DATA_DIR, DEBIAN_PACKAGE, FILES, load_split
from denseshift.export import export_checkpoint

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_LIMIT = 2000
EXPORT_BATCH = 100    # static batch of @forward; 10,000 and 500 are multiples
ARM_IMAGES = 500
MAX_X86_MISMATCHES = 5
LOGIT_TOLERANCE = 1e-4  # relative to max|logit| of the PyTorch reference


def relative_error(out, ref):
    return float(np.abs(out - ref).max() / max(np.abs(ref).max(), 1e-12))


def _pinned_single_core():
    """Run the child on one core of those this process may use."""
    cpu = min(os.sched_getaffinity(0))
    return lambda: os.sched_setaffinity(0, {cpu})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    missing = [name for pair in FILES.values() for name in pair
               if not os.path.isfile(os.path.join(DATA_DIR, name))]
    if missing:
        pytest.skip(f"Fashion-MNIST not found in {DATA_DIR} ({', '.join(missing)}): "
                    f"install the Debian package {DEBIAN_PACKAGE}")
    if not runtime.ProjectToolchain().available():
        pytest.skip(f"project toolchain not built: {runtime.PROJECT_BIN}/denseshift-opt "
                    "(with --denseshift-pipeline) and denseshift-translate are needed")
    work = tmp_path_factory.mktemp("parity")
    run_dir = work / "run"
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "denseshift.train", "--model", "smallcnn",
         "--scheme", "denseshift", "--bits", "3", "--epochs", "1", "--limit", str(TRAIN_LIMIT),
         "--threads", "1", "--seed", "0", "--no-progress", "--out", str(run_dir)],
        cwd=PYTHON_DIR, capture_output=True, text=True, timeout=300,
        preexec_fn=_pinned_single_core())
    train_seconds = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    checkpoint = str(run_dir / "checkpoint.pt")
    mlir = str(work / "model.mlir")
    export_checkpoint(checkpoint, mlir, batch=EXPORT_BATCH)

    images, labels = load_split("test")
    model, _ = load_model(checkpoint)
    torch.set_num_threads(1)
    with torch.no_grad():
        logits = torch.cat([model(chunk) for chunk in images.split(1000)]).numpy()
    print(f"\ntrained in {train_seconds:.1f} s; PyTorch test accuracy "
          f"{(logits.argmax(1) == labels.numpy()).mean():.4f}")
    return {"mlir": mlir, "images": images.numpy(), "logits": logits}


def test_x86_64_full_test_set_matches_pytorch(trained):
    ok, why = runtime._host_can_run("x86-64-avx2")
    if not ok:
        pytest.skip(why)
    model = runtime.compile(trained["mlir"], target="x86-64-avx2",
                            toolchain=runtime.ProjectToolchain())
    assert isinstance(model, runtime.CompiledModel)
    images, ref = trained["images"], trained["logits"]
    assert len(images) == 10000
    out = model(images)
    assert out.shape == ref.shape == (10000, 10)
    mismatches = int((out.argmax(1) != ref.argmax(1)).sum())
    error = relative_error(out, ref)
    print(f"\nx86-64-avx2: {mismatches} of {len(images)} predictions differ, "
          f"max logit error {error:.2e} of max|logit|")
    assert mismatches <= MAX_X86_MISMATCHES
    assert error <= LOGIT_TOLERANCE


def test_aarch64_under_qemu_matches_pytorch(trained):
    missing = runtime.qemu_missing()
    if missing:
        pytest.skip(f"cannot run aarch64-neon under QEMU: {missing}")
    model = runtime.compile(trained["mlir"], target="aarch64-neon",
                            toolchain=runtime.ProjectToolchain())
    if os.uname().machine == "x86_64":
        assert isinstance(model, runtime.QemuModel)
    images, ref = trained["images"][:ARM_IMAGES], trained["logits"][:ARM_IMAGES]
    out = model(images)
    assert out.shape == ref.shape
    error = relative_error(out, ref)
    differ = np.flatnonzero(out.argmax(1) != ref.argmax(1))
    # A prediction may only differ where PyTorch's top two logits tie within
    # the logit tolerance (then either answer is within the contract).
    top2 = np.sort(ref, axis=1)[:, -2:]
    tie = (top2[:, 1] - top2[:, 0]) <= LOGIT_TOLERANCE * np.abs(ref).max()
    print(f"\naarch64-neon (qemu): {len(differ)} of {len(images)} predictions differ "
          f"({int(tie[differ].sum())} at ties), max logit error {error:.2e} of max|logit|")
    assert tie[differ].all(), f"predictions differ on images {differ[~tie[differ]].tolist()}"
    assert error <= LOGIT_TOLERANCE
    # one static batch through run_batch gives the same logits as model(x)
    assert np.array_equal(model.run_batch(images[:EXPORT_BATCH]), out[:EXPORT_BATCH])


def test_missing_qemu_or_cross_compiler_names_the_package(tmp_path):
    model = runtime.QemuModel(str(tmp_path / "m.so"), (1, 1, 28, 28), (1, 10),
                              qemu="qemu-aarch64-not-installed",
                              cc="aarch64-linux-gnu-gcc-not-installed")
    with pytest.raises(runtime.ToolchainError) as err:
        model(np.zeros((1, 1, 28, 28), np.float32))
    assert "qemu-user" in str(err.value) and "gcc-aarch64-linux-gnu" in str(err.value)
