#!/usr/bin/python3
"""Generate the benchmark layers of issues 5 and 8 (A, A8, B, C, D, E, A-nhwc,
F, G, H) and models.

For each layer NAME writes into OUT/NAME/:
  layer.mlir     func.func @forward on tensors (upstream linalg, constant
                 weights alpha[o]*s*2^e with 4-bit zero-free codes), made by
                 test/Integration/gen_layer.py's classes
  input.bin      float32 activations, N(0, 1) (NCHW, or NHWC for "layout": "nhwc")
  expected.bin   float64 reference sum(x * w)
  weight.bin     the same weights, float32, PyTorch layout (FCHW, depthwise
                 C x 1 x KH x KW, FC N x K) for oneDNN and PyTorch
  layer.json     kind, shapes, strides, padding, groups, MACs, weight counts

The reference is gen_layer.py's float64 convolution (one numpy tensordot,
BLAS, per group and tap), the same one the integration tests use.

Models (R20, R20-b32, CNN, CNN-b32): the frontend's ResNet-20 / small CNN,
untrained but seeded (random codes and BatchNorm statistics), exported with
denseshift.export (first and last layer stay float, as the frontend does);
see generate_model.

Usage: gen.py [--bits 4] -o OUT [NAME ...]   (default: all layers)
"""

import argparse
import json
import os
import sys
from types import SimpleNamespace

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "test", "Integration"))
import gen_layer  # noqa: E402

# name: (kind, description, parameters)
LAYERS = {
    "A": ("conv", "3x3 conv 64->64, 56x56 (ResNet-18), batch 1",
          dict(input_shape="1x64x56x56", filters=64, groups=1)),
    "A8": ("conv", "3x3 conv 64->64, 56x56 (ResNet-18), batch 8",
           dict(input_shape="8x64x56x56", filters=64, groups=1)),
    "B": ("conv", "3x3 conv 16->16, 32x32 (ResNet-20), batch 1",
          dict(input_shape="1x16x32x32", filters=16, groups=1)),
    "C": ("fc", "FC 4096->4096, batch 1", dict(m=1, k=4096, n=4096)),
    "D": ("conv", "depthwise 3x3, 128 channels, 28x28, batch 1",
          dict(input_shape="1x128x28x28", filters=128, groups=128)),
    "E": ("fc", "FC 512->10, batch 1", dict(m=1, k=512, n=10)),
    # Issue 8: the layout and the small maps of ImageNet networks' deep layers.
    "A-nhwc": ("conv", "3x3 conv 64->64, 56x56, batch 1, NHWC",
               dict(input_shape="1x64x56x56", filters=64, groups=1, layout="nhwc")),
    "F": ("conv", "3x3 conv 256->256, 7x7 (ResNet-18 at 112), batch 1",
          dict(input_shape="1x256x7x7", filters=256, groups=1)),
    "G": ("conv", "1x1 conv 256->256, 14x14, batch 1",
          dict(input_shape="1x256x14x14", filters=256, groups=1, kernel="1", pad="0")),
    # A layer shift networks keep in float: ResNet-18's stem, f32 weights.
    "H": ("conv", "7x7 stride-2 conv 3->64, 224x224, f32 weights (ResNet-18 stem), batch 1",
          dict(input_shape="1x3x224x224", filters=64, groups=1, kernel="7", stride="2",
               pad="3", format="float")),
}


# Whole models of the training frontend (python/denseshift), exported by its
# exporter: name -> (architecture, batch, description).
# "tv:NAME" is torchvision's architecture (random init: no weights offline)
# converted by denseshift.convert(scheme="denseshift", bits=3), first and last
# layers kept in float, exported at 3x224x224.
MODELS = {
    "R20": ("resnet20", 1, "ResNet-20 (frontend), 1x28x28, batch 1"),
    "R20-b32": ("resnet20", 32, "ResNet-20 (frontend), 1x28x28, batch 32"),
    "CNN": ("smallcnn", 1, "small CNN (frontend), 1x28x28, batch 1"),
    "CNN-b32": ("smallcnn", 32, "small CNN (frontend), 1x28x28, batch 32"),
    "R18": ("tv:resnet18", 1, "torchvision ResNet-18, 3x224x224, batch 1, 3-bit"),
    "MV2": ("tv:mobilenet_v2", 1, "torchvision MobileNetV2, 3x224x224, batch 1, 3-bit"),
}
TORCHVISION_INPUT = (3, 224, 224)


def float_twin(shift):
    """A copy of ``shift`` whose shift layers are nn.Conv2d/nn.Linear holding
    the effective weights alpha*s*2^e: what PyTorch runs in float."""
    import copy
    from torch import nn
    from denseshift.layers import ShiftConv2d, SHIFT_LAYERS
    twin = copy.deepcopy(shift)
    for name, m in list(twin.named_modules()):
        if not isinstance(m, SHIFT_LAYERS):
            continue
        if isinstance(m, ShiftConv2d):
            new = nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride,
                            m.padding, m.dilation, m.groups, bias=m.bias is not None)
        else:
            new = nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
        new.weight.data.copy_(m.quantized_weight())
        if m.bias is not None:
            new.bias.data.copy_(m.bias.detach())
        parent, _, leaf = name.rpartition(".")
        setattr(twin.get_submodule(parent) if parent else twin, leaf, new)
    return twin.eval()


def generate_model(name, out, bits, seed):
    """Untrained (seeded) shift model -> layer.mlir via denseshift.export, plus
    model.pt: the same network in float (nn.Conv2d/nn.Linear holding the
    effective weights alpha*s*2^e), TorchScript, for the pytorch candidate;
    expected.bin is that float network run in float64."""
    import torch
    from torch import nn
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
    from denseshift.export import export_model
    from denseshift.models import build_model, model_config

    arch, batch, desc = MODELS[name]
    torch.manual_seed(seed)
    if arch.startswith("tv:"):
        import torchvision
        from denseshift.convert import convert
        shift = convert(getattr(torchvision.models, arch[3:])(), scheme="denseshift", bits=3)
        bits, input_shape = 3, TORCHVISION_INPUT
    else:
        shift = build_model(model_config(arch, "denseshift", bits))
        input_shape = (1, 28, 28)
    # Non-trivial BatchNorm statistics, so folding is exercised.
    gen_bn = torch.Generator().manual_seed(seed)
    for m in shift.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            c = m.num_features
            m.weight.data.copy_(0.5 + torch.rand(c, generator=gen_bn))
            m.bias.data.copy_(0.1 * torch.randn(c, generator=gen_bn))
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    # Statistics re-estimated on random inputs, as after training: without
    # them an untrained network's activations grow to ~1e20 over 20 layers,
    # where peers that reorder sums (XNNPACK) drift by 20%.
    calib = torch.Generator().manual_seed(seed + 1)
    shift.train()
    with torch.no_grad():
        for _ in range(2):
            shift(torch.randn((4,) + tuple(input_shape), generator=calib))
    shift.eval()
    text = export_model(shift, batch, [f"bench/gen.py: {arch}, denseshift {bits} bits, "
                                       f"seed {seed}, untrained"], input_shape=input_shape)
    flt = float_twin(shift)
    weights = sum(m.weight.numel() for m in flt.modules()
                  if isinstance(m, (nn.Conv2d, nn.Linear)))
    macs = [0]

    def count(m, inp, outp):
        if isinstance(m, nn.Conv2d):
            macs[0] += outp.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        else:
            macs[0] += outp.numel() * m.in_features

    hooks = [m.register_forward_hook(count) for m in flt.modules()
             if isinstance(m, (nn.Conv2d, nn.Linear))]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + tuple(input_shape)).astype(np.float32)
    with torch.no_grad():
        y32 = flt(torch.from_numpy(x))
    for h in hooks:
        h.remove()
    with torch.no_grad():
        y = flt.double()(torch.from_numpy(x).double()).numpy()
        flt.float()
        traced = torch.jit.trace(flt, torch.from_numpy(x))
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "layer.mlir"), "w") as f:
        f.write(text)
    traced.save(os.path.join(d, "model.pt"))
    torch.save(flt, os.path.join(d, "model.eager.pt"))
    # Scripted, not traced, for freeze and XNNPACK: optimize_for_mobile's
    # conv-BN fusion miscompiles traced modules in torch 1.13 (ResNet-20's
    # logits off by 10x; the scripted module matches to 4e-7).
    torch.jit.script(flt).save(os.path.join(d, "model.script.pt"))
    x.astype("<f4").tofile(os.path.join(d, "input.bin"))
    y.astype("<f8").tofile(os.path.join(d, "expected.bin"))
    meta = {"name": name, "kind": "model", "description": desc, "bits": bits,
            "architecture": arch, "batch": batch,
            "input_shape": list(x.shape), "output_shape": list(y32.shape),
            "weight_shape": [], "weights": weights, "alphas": 0,
            "weight_bytes_f32": 4 * weights, "macs": int(macs[0])}
    with open(os.path.join(d, "layer.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def generate(name, out, bits, seed):
    if name in MODELS:
        return generate_model(name, out, bits, seed)
    kind, desc, params = LAYERS[name]
    common = dict(bits=bits, format="zero-free", emin=None, alpha_range=(0.5, 2.0),
                  seed=seed)
    if kind == "conv":
        conv = dict(kernel="3", stride="1", pad="1", dilation="1", group_op="fgchw",
                    layout="nchw", bias=False, activation="none", residual=False)
        args = SimpleNamespace(**{**conv, **common, **params})
    else:
        args = SimpleNamespace(**common, **params)
    rng = np.random.default_rng(seed)
    layer = (gen_layer.Conv if kind == "conv" else gen_layer.FullyConnected)(args, rng)
    x = rng.standard_normal(layer.in_shape).astype(np.float32)
    if kind == "fc":
        y = x.astype(np.float64) @ layer.weight.astype(np.float64).T
    else:
        y = layer.contract(x, layer.weight)

    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    spec = {"name": name, "kind": kind, "bits": bits, "seed": seed, **params}
    with open(os.path.join(d, "layer.mlir"), "w") as f:
        f.write("// Generated by bench/gen.py: " + json.dumps(spec, sort_keys=True) + "\n")
        shapes = (layer.io_shape(layer.in_shape), layer.io_shape(layer.out_shape)) \
            if kind == "conv" else (layer.in_shape, layer.out_shape)
        f.write(f"func.func @forward(%x: {gen_layer.tensor_type(shapes[0])}) -> "
                f"{gen_layer.tensor_type(shapes[1])} {{\n")
        f.write("\n".join(layer.mlir()) + "\n}\n")
    io = layer.io if kind == "conv" else (lambda a: a)
    io(x).astype("<f4").tofile(os.path.join(d, "input.bin"))
    io(y).astype("<f8").tofile(os.path.join(d, "expected.bin"))
    np.ascontiguousarray(layer.weight, dtype="<f4").tofile(os.path.join(d, "weight.bin"))
    weights = int(layer.weight.size)
    meta = {
        "name": name, "kind": kind, "description": desc, "bits": bits,
        "input_shape": list(shapes[0]), "output_shape": list(shapes[1]),
        "weight_shape": list(layer.weight.shape), "weights": weights,
        "alphas": int(layer.weight.shape[0]),
        "weight_bytes_f32": 4 * weights,
        # codes packed to `bits` bits plus one f32 alpha per output channel
        "weight_bytes_packed": (weights * bits + 7) // 8 + 4 * int(layer.weight.shape[0]),
    }
    if params.get("format") == "float":  # f32 weights, no codes
        meta.update(bits=32, alphas=0, weight_bytes_packed=4 * weights)
    if kind == "conv":
        meta.update(kernel=[layer.kh, layer.kw], stride=[layer.sh, layer.sw],
                    pad=[layer.ph, layer.pw], groups=layer.g, layout=layer.layout)
        meta["macs"] = int(np.prod(layer.out_shape)) * layer.cg * layer.kh * layer.kw
    else:
        meta.update(m=layer.m, k=layer.k, n=layer.n)
        meta["macs"] = layer.m * layer.k * layer.n
    with open(os.path.join(d, "layer.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", help=f"layers (default all: {' '.join(LAYERS)}) "
                   f"or models ({' '.join(MODELS)})")
    p.add_argument("--bits", type=int, default=4)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("-o", "--out", required=True)
    args = p.parse_args()
    known = list(LAYERS) + list(MODELS)
    bad = [n for n in args.names if n not in known]
    for n in bad:
        print(f"gen.py: unknown layer '{n}' (known: {' '.join(known)}); skipped",
              file=sys.stderr)
    names = [n for n in args.names if n in known] or ([] if bad else list(LAYERS))
    for n in names:
        meta = generate(n, args.out, args.bits, args.seed)
        print(f"gen.py: {n}: {meta['description']}, {meta['macs'] / 1e6:.1f} MMAC")
    return 1 if bad and not names else 0


if __name__ == "__main__":
    sys.exit(main())
