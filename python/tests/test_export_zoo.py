"""The torchvision zoo of issue 10, converted with
``denseshift.convert(..., scheme="denseshift", bits=3)`` (random init, fixed
seeds, BatchNorm statistics estimated on random inputs), exported at reduced
resolution, compiled for x86-64-avx2 with the project toolchain and compared
with PyTorch eval: max relative logit error <= 1e-4 and equal argmax.

Slow (LLVM code generation of the per-layer kernels: ~15-60 s a model on 2
cores, ~5 min in all), so opt-in:

    DENSESHIFT_ZOO=1 /usr/bin/python3 -m pytest tests/test_export_zoo.py
"""
import os

import numpy as np
import pytest
import torch

from denseshift import convert
from test_export_ops import calibrate_batchnorms, example_input, needs_project, parity

torchvision = pytest.importorskip("torchvision")

pytestmark = [
    needs_project,
    pytest.mark.skipif(os.environ.get("DENSESHIFT_ZOO") != "1",
                       reason="slow: set DENSESHIFT_ZOO=1 to run the torchvision zoo"),
]

ZOO = [
    ("resnet18", 64),
    ("mobilenet_v2", 64),
    ("mobilenet_v3_small", 64),
    ("squeezenet1_1", 64),
    ("shufflenet_v2_x0_5", 64),
    ("efficientnet_b0", 64),
    ("vit_tiny", 32),       # torchvision's VisionTransformer, reduced config
]


def build(name):
    if name == "vit_tiny":
        from torchvision.models.vision_transformer import VisionTransformer
        model = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                  hidden_dim=24, mlp_dim=40, num_classes=10)
        torch.nn.init.normal_(model.heads.head.weight, std=0.2)   # zero-initialised by default
        return model
    return getattr(torchvision.models, name)(num_classes=10)


@pytest.mark.parametrize("name, resolution", ZOO, ids=[n for n, _ in ZOO])
def test_zoo_parity(tmp_path, name, resolution):
    torch.manual_seed(0)
    model = build(name)
    convert(model, scheme="denseshift", bits=3)
    shape = (3, resolution, resolution)
    calibrate_batchnorms(model, shape)
    err, text = parity(model, shape, tmp_path, batch=2, name=name)
    assert "denseshift.encoding" in text        # the converted layers export as shift layers
    x = example_input(shape, 2)
    with torch.no_grad():
        ref = model(x).numpy()
    import denseshift
    out = denseshift.load(str(tmp_path / f"{name}.x86-64-avx2.so"))(x.numpy())
    assert np.array_equal(out.argmax(1), ref.argmax(1))
