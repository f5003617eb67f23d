"""Exporter: IR structure of every supported module, bit-exact weights, errors."""
import os
import re
import subprocess

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from denseshift import ShiftConv2d, ShiftLinear, convert, export
from denseshift.checkpoint import save_checkpoint
from denseshift.export import ExportError, export_model, folded_weight_and_bias
from denseshift.models import build_model, model_config
from denseshift.runtime import LLVM_BIN

MLIR_OPT = os.path.join(LLVM_BIN, "mlir-opt")


def randomize_batchnorms(model):
    """Non-trivial running statistics, so folding is really exercised."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model.eval()


def parse_ok(text, tmp_path):
    path = tmp_path / "m.mlir"
    path.write_text(text)
    proc = subprocess.run([MLIR_OPT, str(path), "-o", os.devnull], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def constants(text):
    """{ssa name: float32 array} for every dense hex constant in the IR."""
    found = {}
    for name, hexdata, shape in re.findall(
            r'(%\w+) = arith.constant dense<"0x([0-9A-F]+)"> : tensor<([0-9x]+)xf32>', text):
        dims = [int(d) for d in shape.split("x")]
        found[name] = np.frombuffer(bytes.fromhex(hexdata), dtype="<f4").reshape(dims)
    return found


def export_of(module, batch=1, channels=1, size=28):
    """Export ``module`` behind a trivial float stem that maps 1 -> channels."""
    # fx traces through the root module, so the layer under test is always a child
    stem = [nn.Conv2d(1, channels, 1, bias=False)] if channels != 1 else []
    model = nn.Sequential(*stem, module)
    return export_model(randomize_batchnorms(model), batch)


def test_conv_padding_stride_dilation_form():
    text = export_of(nn.Conv2d(1, 4, 3, stride=2, padding=(1, 2), dilation=(2, 1)), batch=3)
    assert "func.func @forward(%arg0: tensor<3x1x28x28xf32>) -> tensor<3x4x13x15xf32>" in text
    assert re.search(r"tensor.pad %arg0 low\[0, 0, 1, 2\] high\[0, 0, 1, 2\]", text)
    assert "tensor.yield %0_pad_value" not in text
    assert re.search(r"linalg.conv_2d_nchw_fchw \{dilations = dense<\[2, 1\]> : tensor<2xi64>, "
                     r"strides = dense<2> : tensor<2xi64>\} ins\(%\w+, %\w+ : tensor<3x1x30x32xf32>, "
                     r"tensor<4x1x3x3xf32>\) outs\(%\w+_init : tensor<3x4x13x15xf32>\)", text)
    assert re.search(r"linalg.fill ins\(%\w+ : f32\) outs\(%\w+_empty", text)
    assert "affine_map<(d0, d1, d2, d3) -> (d1)>" in text            # bias broadcast
    assert "arith.addf %in0, %in1" in text


def test_unpadded_conv_has_no_pad_and_no_bias_without_bias():
    text = export_of(nn.Conv2d(1, 4, 3, bias=False))
    assert "tensor.pad" not in text and "linalg.generic" not in text


def test_depthwise_and_grouped_forms():
    dw = export_of(ShiftConv2d(4, 4, 3, padding=1, groups=4, bias=False), channels=4)
    assert re.search(r"linalg.depthwise_conv_2d_nchw_chw \{denseshift.encoding = \"bits=3,zero_free="
                     r"true\", dilations = dense<1> : tensor<2xi64>, strides = dense<1> : "
                     r"tensor<2xi64>\} ins\(%\w+, %\w+ : tensor<1x4x30x30xf32>, tensor<4x3x3xf32>\)", dw)
    grouped = export_of(nn.Conv2d(4, 6, 3, groups=2), channels=4)
    assert re.search(r"tensor.expand_shape %\w+ \[\[0\], \[1, 2\], \[3\], \[4\]\] output_shape "
                     r"\[1, 2, 2, 28, 28\] : tensor<1x4x28x28xf32> into tensor<1x2x2x28x28xf32>", grouped)
    assert re.search(r"linalg.conv_2d_ngchw_fgchw .* tensor<3x2x2x3x3xf32>\) outs\(%\w+ : "
                     r"tensor<1x2x3x26x26xf32>\)", grouped)
    assert re.search(r"tensor.collapse_shape %\w+ \[\[0\], \[1, 2\], \[3\], \[4\]\] : "
                     r"tensor<1x2x3x26x26xf32> into tensor<1x6x26x26xf32>", grouped)


def test_relu_pool_flatten_linear_forms():
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1), nn.AvgPool2d(2),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1, 5))
    text = export_of(model)
    assert "arith.maximumf %in0, %zero : f32" in text
    assert re.search(r"tensor.pad %\w+ low\[0, 0, 1, 1\] high\[0, 0, 1, 1\]", text)
    assert re.search(r"%\w+_pad_value = arith.constant 0xFF800000 : f32", text)   # -inf pad
    assert re.search(r"linalg.pooling_nchw_max \{dilations = dense<1> : tensor<2xi64>, strides = "
                     r"dense<2> : tensor<2xi64>\} ins\(%\w+, %\w+_window : tensor<1x1x30x30xf32>, "
                     r"tensor<3x3xf32>\)", text)
    assert len(re.findall(r"linalg.pooling_nchw_sum", text)) == 2
    assert "arith.divf %in0, %divisor" in text and "0x40800000" in text           # /4
    assert "0x42440000" in text                                                    # /49 (7x7)
    assert re.search(r"tensor.collapse_shape %\w+ \[\[0\], \[1, 2, 3\]\] : tensor<1x1x1x1xf32> "
                     r"into tensor<1x1xf32>", text)
    assert re.search(r"linalg.matmul ins\(%\w+, %\w+_weight : tensor<1x1xf32>, tensor<1x5xf32>\) "
                     r"outs\(%\w+_init : tensor<1x5xf32>\) -> tensor<1x5xf32>", text)
    assert "affine_map<(d0, d1) -> (d1)>" in text


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        y = F.relu(self.drop(self.conv(x))) + x
        return torch.flatten(torch.relu(y), 1)


def test_residual_add_functional_relu_and_flatten():
    text = export_of(Residual())
    assert re.search(r"linalg.add ins\(%\w+, %arg0 : tensor<1x1x28x28xf32>, tensor<1x1x28x28xf32>\) "
                     r"outs\(%\w+ : tensor<1x1x28x28xf32>\)", text)
    assert text.count("arith.maximumf") == 2
    assert "tensor<1x784xf32>" in text


@pytest.mark.parametrize("scheme", ["denseshift", "deepshift-q", "deepshift-ps", "s3"])
@pytest.mark.parametrize("bits", [2, 3, 6])
@torch.no_grad()
def test_folded_shift_weights_are_bit_exact_sign_scale(scheme, bits):
    conv = ShiftConv2d(3, 8, 3, bits=bits, scheme=scheme)
    bn = randomize_batchnorms(nn.BatchNorm2d(8))
    weight, bias = folded_weight_and_bias(conv, bn)
    # recompute alpha' in float64, exactly as documented
    scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
    alpha = (conv.alpha.double() * scale).float().numpy()
    codes = conv.codes().numpy()
    expected = alpha[:, None, None, None] * (codes[0] * np.ldexp(1.0, codes[1] + conv.encoding.emin))
    assert np.array_equal(weight, expected.astype(np.float32))
    for o in range(8):  # each channel's nonzero weights share one mantissa
        mantissas = np.frexp(np.abs(weight[o][weight[o] != 0]))[0]
        assert len(set(mantissas.tolist())) <= 1
    if conv.encoding.zero_free:
        assert np.all(weight != 0)
    expected_bias = (conv.bias.double() * scale + bn.bias.double() - bn.running_mean.double() * scale)
    assert np.allclose(bias, expected_bias.numpy(), rtol=1e-6)


def test_exported_constants_are_bit_exact(tmp_path):
    model = randomize_batchnorms(nn.Sequential(ShiftConv2d(1, 4, 3, bits=4), nn.BatchNorm2d(4)))
    text = export_model(model)
    weight, _ = folded_weight_and_bias(model[0], model[1])
    assert np.array_equal(constants(text)["%v0_weight"], weight)
    assert "#shift.encoding<bits = 4, zero_free = true, emin = 0>" in text      # comment
    parse_ok(text, tmp_path)


@pytest.mark.parametrize("name", ["smallcnn", "resnet20", "dsnet"])
def test_reference_models_export_and_parse(name, tmp_path):
    model = randomize_batchnorms(build_model(model_config(name, "denseshift", bits=3)))
    text = export_model(model, batch=2)
    assert "func.func @forward(%arg0: tensor<2x1x28x28xf32>) -> tensor<2x10xf32>" in text
    used = set(re.findall(r"= ((?:linalg|tensor|arith)\.\w+)", text))
    allowed = {"arith.constant", "tensor.pad", "tensor.empty", "tensor.expand_shape",
               "tensor.collapse_shape", "linalg.fill", "linalg.conv_2d_nchw_fchw",
               "linalg.depthwise_conv_2d_nchw_chw", "linalg.conv_2d_ngchw_fgchw", "linalg.matmul",
               "linalg.generic", "linalg.add", "linalg.pooling_nchw_max", "linalg.pooling_nchw_sum",
               "arith.addf", "arith.maximumf", "arith.divf"}
    assert used <= allowed, used - allowed
    assert "BatchNorm" not in re.sub(r"//.*", "", text)
    parse_ok(text, tmp_path)


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.act = nn.Upsample(scale_factor=2)

    def forward(self, x):
        return self.act(x)


@pytest.mark.parametrize("model, message", [
    (Unsupported(), r"unsupported module 'act' \(Upsample\)"),
    (nn.Sequential(nn.ConvTranspose2d(1, 2, 3)), r"unsupported module '0' \(ConvTranspose2d\)"),
    (nn.Sequential(nn.BatchNorm2d(1, track_running_stats=False)), "no running statistics"),
    (nn.Sequential(nn.AvgPool2d(3, ceil_mode=True)), "ceil_mode"),
    (nn.Sequential(nn.Flatten(), nn.Linear(784, 2), nn.Softmax(dim=1)), None),   # supported now
])
def test_unsupported_models_raise_naming_the_module(model, message):
    if message is None:
        export_model(model.eval())
        return
    with pytest.raises(ExportError, match=message):
        export_model(model.eval())


def test_cli_exports_checkpoint_and_fails_cleanly(tmp_path, capsys):
    config = model_config("smallcnn", "deepshift-ps", bits=4)
    model = build_model(config)
    save_checkpoint(str(tmp_path / "c.pt"), config, model, None, 1, [])
    out = tmp_path / "model.mlir"
    assert export.main([str(tmp_path / "c.pt"), "-o", str(out), "--batch", "4"]) == 0
    assert "tensor<4x1x28x28xf32>" in out.read_text()
    assert "bits 4" in out.read_text().splitlines()[0]
    # corrupt checkpoint: clear error, non-zero exit, no output file
    (tmp_path / "bad.pt").write_bytes(b"\x00garbage")
    bad_out = tmp_path / "bad.mlir"
    assert export.main([str(tmp_path / "bad.pt"), "-o", str(bad_out)]) == 2
    assert "corrupt" in capsys.readouterr().err and not bad_out.exists()
    assert export.main([str(tmp_path / "missing.pt"), "-o", str(bad_out)]) == 2
    assert not bad_out.exists() and os.listdir(tmp_path).count("bad.mlir") == 0


def test_cli_unsupported_model_leaves_no_file(tmp_path, capsys, monkeypatch):
    config = model_config("smallcnn", "float")
    save_checkpoint(str(tmp_path / "c.pt"), config, build_model(config), None, 1, [])
    monkeypatch.setattr(export, "load_model",
                        lambda path: (nn.Sequential(nn.Conv2d(1, 2, 3), nn.InstanceNorm2d(2)).eval(), config))
    out = tmp_path / "model.mlir"
    assert export.main([str(tmp_path / "c.pt"), "-o", str(out)]) == 2
    assert "InstanceNorm2d" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["c.pt"]


def test_convert_then_export_custom_model(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3),
                          nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 24 * 24, 8),
                          nn.BatchNorm1d(8), nn.Linear(8, 10))
    convert(model, scheme="s3", bits=3)
    assert isinstance(model[7], ShiftLinear)
    text = export_model(randomize_batchnorms(model))
    assert 'denseshift.encoding = "bits=3,zero_free=false"' in text
    parse_ok(text, tmp_path)
