"""The zoo of issue 10: torchvision architectures and an LSTM and a GRU
classifier, converted with ``denseshift.convert(..., scheme="denseshift",
bits=3)`` (random init, fixed seeds, BatchNorm statistics estimated on random
inputs), exported at reduced resolution, compiled with the project toolchain
for each of x86-64-avx2, aarch64-neon (run under qemu-aarch64) and
x86-64-avx512, and compared with PyTorch eval: max relative logit error
<= 1e-4 and equal argmax.

In the default run (CI) every model runs on x86-64-avx2 and, under qemu,
aarch64-neon (~4 min on 2 cores: LLVM code generation of the per-layer
kernels, 8-25 s a model and target); x86-64-avx512 runs where the CPU has it.
On a CPU without AVX-512 the AVX-512 objects are compiled (then the run
skips) only with DENSESHIFT_ZOO=1:

    DENSESHIFT_ZOO=1 /usr/bin/python3 -m pytest tests/test_export_zoo.py
    /usr/bin/python3 -m pytest tests/test_export_zoo.py -k avx2
"""
import os

import numpy as np
import pytest
import torch
from torch import nn

from denseshift import convert
from denseshift import runtime
from denseshift.export import export_model
from test_export_ops import calibrate_batchnorms, example_input, needs_project

torchvision = pytest.importorskip("torchvision")

pytestmark = [needs_project]

ZOO = [
    ("resnet18", (3, 64, 64)),
    ("resnet50", (3, 64, 64)),
    ("mobilenet_v2", (3, 64, 64)),
    ("mobilenet_v3_small", (3, 64, 64)),
    ("squeezenet1_1", (3, 64, 64)),
    ("shufflenet_v2_x0_5", (3, 64, 64)),
    ("efficientnet_b0", (3, 64, 64)),
    ("vit_tiny", (3, 32, 32)),       # torchvision's VisionTransformer, reduced config
    ("lstm", (28, 28)),              # Fashion-MNIST rows as a sequence: T = 28, F = 28
    ("gru", (28, 28)),
]
TARGETS = ("x86-64-avx2", "aarch64-neon", "x86-64-avx512")
BATCH = 2
TOLERANCE = 1e-4


class SequenceClassifier(nn.Module):
    """Rows of an image as a sequence: a linear embedding, a two-layer
    recurrent layer, a hidden linear (the one that becomes shift: convert()
    keeps the first and the last linear float) and the classifier."""

    def __init__(self, cls, features=28, width=32, hidden=48, classes=10):
        super().__init__()
        self.embed = nn.Linear(features, width)
        self.rnn = cls(width, hidden, num_layers=2, batch_first=True)
        self.hidden = nn.Linear(hidden, width)
        self.head = nn.Linear(width, classes)

    def forward(self, x):                         # (B, T, F)
        out, _ = self.rnn(torch.relu(self.embed(x)))
        return self.head(torch.relu(self.hidden(out[:, -1])))


def build(name):
    if name == "vit_tiny":
        from torchvision.models.vision_transformer import VisionTransformer
        model = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                  hidden_dim=24, mlp_dim=40, num_classes=10)
        torch.nn.init.normal_(model.heads.head.weight, std=0.2)   # zero-initialised by default
        return model
    if name in ("lstm", "gru"):
        return SequenceClassifier(nn.LSTM if name == "lstm" else nn.GRU)
    return getattr(torchvision.models, name)(num_classes=10)


_exported = {}


def exported(name, shape, directory):
    """(MLIR path, input, PyTorch logits) of the converted model, made once a run."""
    if name not in _exported:
        torch.manual_seed(0)
        model = build(name)
        convert(model, scheme="denseshift", bits=3)
        if len(shape) == 3:
            calibrate_batchnorms(model, shape)
        model.eval()
        x = example_input(shape, BATCH)
        with torch.no_grad():
            ref = model(x).numpy()
        text = export_model(model, BATCH, input_shape=shape)
        assert "denseshift.encoding" in text    # the converted layers export as shift layers
        path = directory / f"{name}.mlir"
        path.write_text(text)
        _exported[name] = (path, x.numpy(), ref)
    return _exported[name]


@pytest.fixture(scope="module")
def zoo_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("zoo")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name, shape", ZOO, ids=[n for n, _ in ZOO])
def test_zoo_parity(zoo_dir, name, shape, target):
    ok, why = runtime._host_can_run(target)
    if target == "aarch64-neon":
        missing = runtime.qemu_missing()
        if missing:
            pytest.skip(f"cannot run aarch64-neon under QEMU: {missing}")
    elif not ok and os.environ.get("DENSESHIFT_ZOO") != "1":
        pytest.skip(f"{why}; DENSESHIFT_ZOO=1 compiles the objects anyway")
    path, x, ref = exported(name, shape, zoo_dir)
    compiled = runtime.compile(str(path), target=target, toolchain=runtime.ProjectToolchain())
    assert os.path.getsize(compiled.object) > 0
    if target != "aarch64-neon" and not ok:
        pytest.skip(f"compiled {compiled.object}; cannot run it here: {why}")
    out = compiled(x)
    assert out.shape == ref.shape
    err = float(np.abs(out - ref).max() / max(float(np.abs(ref).max()), 1e-30))
    print(f"\n{name} {target}: max relative logit error {err:.2e}")
    assert err <= TOLERANCE, f"{name} on {target}: max relative error {err:.3g}"
    assert np.array_equal(out.argmax(1), ref.argmax(1))
