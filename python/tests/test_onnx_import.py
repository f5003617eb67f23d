"""ONNX import (denseshift.onnx): parity with PyTorch through torch.onnx.export,
shift models becoming shift ops, float models quantized, the backend API, and
bad input (one-line OnnxImportError naming op, node and model; exit 2; no file)."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

import denseshift  # noqa: E402
from denseshift import runtime  # noqa: E402
from denseshift.onnx import OnnxImportError, import_file, import_model  # noqa: E402
from denseshift.onnx.torch_export import export_onnx  # noqa: E402

PYTHON_DIR = os.path.join(os.path.dirname(__file__), "..")
OPT = os.path.join(runtime.PROJECT_BIN, "denseshift-opt")
needs_project = pytest.mark.skipif(not runtime.ProjectToolchain().available(),
                                   reason="build/bin/denseshift-opt (--denseshift-pipeline) not built")


class ConvNet(nn.Module):
    """Conv (groups, dilation, stride, asymmetric-free pads), BN, pools, the
    activations, concat, flatten, Gemm, softmax."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 3 * 3, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.c1(x)))
        y = F.relu6(self.c2(x))
        x = torch.cat([torch.sigmoid(y) * y, F.hardswish(self.dw(x))], 1)
        x = self.bn2(x)
        x = F.max_pool2d(x, 2, ceil_mode=True)            # 11 -> 6
        x = F.avg_pool2d(x, 2)                             # 6 -> 3
        x = torch.tanh(x) + F.hardsigmoid(x)
        return F.softmax(self.fc(torch.flatten(x, 1)), dim=-1)


class TokenNet(nn.Module):
    """LayerNorm, GELU (Erf), MatMul with constant and dynamic operands,
    Transpose, Reshape, Div/Sub broadcasting, global average pool."""

    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(12)
        self.up = nn.Linear(12, 24)
        self.down = nn.Linear(24, 12)

    def forward(self, x):                                  # (B, 5, 12)
        h = self.down(F.gelu(self.up(self.ln(x))))
        scores = torch.matmul(h, h.transpose(1, 2)) / 4.0  # (B, 5, 5)
        h = torch.matmul(F.softmax(scores, -1), h) - x.mean(1, keepdim=True)
        return h.reshape(h.shape[0], -1)


def _parity(tmp_path, model, shape, name):
    model.eval()
    path = str(tmp_path / f"{name}.onnx")
    with torch.no_grad():
        torch.onnx.export(model, torch.randn(*shape), path, opset_version=13)
    mlir = str(tmp_path / f"{name}.mlir")
    import_file(path, mlir)
    compiled = denseshift.compile(mlir, target="x86-64-avx2")
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    out = compiled(x)
    assert out.shape == ref.shape
    assert np.abs(out - ref).max() <= 1e-4 * np.abs(ref).max()
    return mlir


def _randomize_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)


@needs_project
def test_convnet_parity_with_pytorch(tmp_path):
    model = ConvNet()
    _randomize_bn(model)
    text = open(_parity(tmp_path, model, (2, 3, 11, 11), "convnet")).read()
    assert "linalg.conv_2d_ngchw_fgchw" in text and "linalg.depthwise_conv_2d_nchw_chw" in text


@needs_project
def test_tokennet_parity_with_pytorch(tmp_path):
    _parity(tmp_path, TokenNet(), (3, 5, 12), "tokens")


class Recurrent(nn.Module):
    """LSTM and GRU (torch exports GRU with linear_before_reset=1), two layers,
    bidirectional, batch-first, given initial states."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 5, num_layers=2, bidirectional=True, batch_first=True)
        self.gru = nn.GRU(10, 4, batch_first=True)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):                                  # (B, T, 6)
        h0 = torch.full((4, x.shape[0], 5), 0.1)
        y, _ = self.lstm(x, (h0, -h0))
        y, h = self.gru(torch.tanh(y))
        return self.fc(y[:, -1] + h[0])


@needs_project
def test_lstm_gru_parity_with_pytorch(tmp_path):
    _parity(tmp_path, Recurrent(), (2, 4, 6), "recurrent")


@needs_project
def test_conv_transpose_parity_with_pytorch(tmp_path):
    model = nn.Sequential(nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1,
                                             groups=2), nn.ReLU(),
                          nn.ConvTranspose2d(6, 2, (2, 3), stride=(1, 2), dilation=2, bias=False))
    _parity(tmp_path, model, (2, 4, 5, 4), "deconv")


def _shift_model():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 16), nn.ReLU(),
                          nn.Linear(16, 10))
    _randomize_bn(model)
    denseshift.convert(model, scheme="denseshift", bits=3)
    return model.eval()


@needs_project
def test_shift_model_exported_to_onnx_compiles_to_shift_ops(tmp_path):
    model = _shift_model()
    path = export_onnx(model, torch.randn(2, 1, 8, 8), str(tmp_path / "shift.onnx"))
    mlir = str(tmp_path / "shift.mlir")
    import_file(path, mlir)
    proc = subprocess.run([OPT, mlir, "--shift-from-linalg"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    # the middle conv (BatchNorm folded by the ONNX exporter) and the hidden linear are
    # shift layers (keep_first_last leaves the first conv and the classifier float)
    assert proc.stdout.count("shift.conv2d") == 1
    assert proc.stdout.count("shift.matmul") == 1
    assert "bits = 3, zero_free = true" in proc.stdout
    lowered = subprocess.run([OPT, mlir, "--denseshift-pipeline=target=x86-64-avx2"],
                             capture_output=True, text=True)
    assert lowered.returncode == 0, lowered.stderr
    assert "shift_conv2d" in lowered.stdout or "shift.conv2d" in lowered.stdout or \
        "denseshift_" in lowered.stdout
    compiled = denseshift.compile(mlir, target="x86-64-avx2")
    x = np.random.default_rng(1).standard_normal((2, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    assert np.abs(compiled(x) - ref).max() <= 1e-4 * np.abs(ref).max()


@needs_project
def test_float_model_stays_float_or_quantizes(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5)).eval()
    path = str(tmp_path / "float.onnx")
    torch.onnx.export(model, torch.randn(1, 1, 8, 8), path, opset_version=13)
    mlir = str(tmp_path / "float.mlir")
    import_file(path, mlir)
    exact = subprocess.run([OPT, mlir, "--shift-from-linalg"], capture_output=True, text=True)
    assert exact.returncode == 0 and "shift.conv2d" not in exact.stdout
    quant = subprocess.run([OPT, mlir, "--shift-from-linalg=mode=quantize bits=4"],
                           capture_output=True, text=True)
    assert quant.returncode == 0, quant.stderr
    assert "shift.conv2d" in quant.stdout and "shift.matmul" in quant.stdout
    compiled = denseshift.compile(mlir, target="x86-64-avx2", toolchain=runtime.ProjectToolchain(
        opt_args=["--denseshift-pipeline=target=x86-64-avx2 weights=quantize bits=4"]))
    assert compiled(np.zeros((1, 1, 8, 8), np.float32)).shape == (1, 5)


@needs_project
@pytest.mark.parametrize("alpha", ["mse", "max"])
def test_quantize_option_is_the_pytorch_ptq_and_compiles_to_shift_ops(tmp_path, alpha):
    """--quantize rounds the same weights as denseshift.ptq on the PyTorch model
    (same layer order, same alpha rule), so the compiled ONNX model matches the
    PyTorch PTQ model; the inner conv and linear become shift ops."""
    from denseshift import ptq
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(8, 8, 3, padding=1, groups=2), nn.ReLU(),
                          nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 16), nn.ReLU(),
                          nn.Linear(16, 10)).eval()
    path = str(tmp_path / "float.onnx")
    torch.onnx.export(model, torch.randn(2, 1, 8, 8), path, opset_version=13)
    mlir = tmp_path / "ptq.mlir"
    proc = _cli(path, "-o", str(mlir), "--quantize", "3", "--alpha", alpha)
    assert proc.returncode == 0, proc.stderr
    assert "post-training quantized to DenseShift 3-bit" in mlir.read_text()
    shifted = subprocess.run([OPT, str(mlir), "--shift-from-linalg"], capture_output=True, text=True)
    assert shifted.returncode == 0, shifted.stderr
    assert shifted.stdout.count("shift.conv2d") == 1 and shifted.stdout.count("shift.matmul") == 1
    ptq.quantize_model(model, bits=3, alpha=alpha)
    compiled = denseshift.compile(str(mlir), target="x86-64-avx2")
    x = np.random.default_rng(2).standard_normal((2, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    assert np.abs(compiled(x) - ref).max() <= 1e-5 * np.abs(ref).max()


def test_quantize_option_errors(tmp_path):
    single = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 6 * 6, 3)).eval()
    path = str(tmp_path / "two.onnx")
    torch.onnx.export(single, torch.randn(1, 1, 8, 8), path, opset_version=13)
    out = tmp_path / "x.mlir"
    proc = _cli(path, "-o", str(out), "--quantize", "3")
    assert proc.returncode == 2 and "besides the first and the last" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()
    assert _cli(path, "-o", str(out), "--quantize", "3", "--all-layers").returncode == 0
    for bad in (["--quantize", "9"], ["--alpha", "max"]):
        proc = _cli(path, "-o", str(tmp_path / "y.mlir"), *bad)
        assert proc.returncode == 2 and "--" in proc.stderr


@needs_project
def test_backend_runs_multi_input_models():
    from denseshift.onnx import Backend
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["s"], name="add"),
         helper.make_node("Relu", ["s"], ["y"], name="relu")], "two",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, [2, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    a = np.arange(6, dtype=np.float32).reshape(2, 3) - 3
    b = np.array([1, -1, 0.5], np.float32)
    y, s = Backend.run_model(model, [a, b])
    np.testing.assert_allclose(s, a + b)
    np.testing.assert_allclose(y, np.maximum(a + b, 0))
    assert Backend.supports_model(model) == (True, None)


# ----- bad input -----

def _model(nodes, inputs, outputs, opset=13, initializers=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _x(shape=(1, 3, 4, 4), name="x"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def _save(tmp_path, model, name="bad.onnx"):
    path = str(tmp_path / name)
    onnx.save(model, path)
    return path


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "denseshift.onnx", *args], cwd=PYTHON_DIR,
                          capture_output=True, text=True)


def _assert_cli_fails(tmp_path, path, *needles):
    out = str(tmp_path / "out.mlir")
    proc = _cli(path, "-o", out)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("denseshift.onnx: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not os.path.exists(out)
    return lines[0]


def test_unsupported_op_names_op_node_and_model(tmp_path):
    model = _model([helper.make_node("Relu", ["x"], ["r"], name="first"),
                    helper.make_node("Hardmax", ["r"], ["y"], name="the_hardmax")],
                   [_x()], [_x(name="y")])
    path = _save(tmp_path, model)
    with pytest.raises(OnnxImportError) as info:
        import_model(path)
    assert (info.value.op, info.value.node, info.value.model) == ("Hardmax", "the_hardmax", path)
    _assert_cli_fails(tmp_path, path, "Hardmax", "the_hardmax", path, "unsupported operator")


def test_opset_outside_range(tmp_path):
    model = _model([helper.make_node("Relu", ["x"], ["y"], name="r")], [_x()], [_x(name="y")],
                   opset=99)
    model.ir_version = 8
    _assert_cli_fails(tmp_path, _save(tmp_path, model), "opset")


def test_old_operator_version(tmp_path):
    model = _model([helper.make_node("Add", ["x", "x"], ["y"], name="old_add")],
                   [_x()], [_x(name="y")], opset=5)
    _assert_cli_fails(tmp_path, _save(tmp_path, model), "old_add", "Add", "version")


def test_unsupported_attribute_value(tmp_path):
    pads = helper.make_tensor("pads", TensorProto.INT64, [8], [0, 0, 1, 1, 0, 0, 1, 1])
    model = _model([helper.make_node("Pad", ["x", "pads"], ["y"], name="wrap_pad", mode="wrap")],
                   [_x()], [_x((1, 3, 6, 6), "y")], opset=13, initializers=[pads])
    model.opset_import[0].version = 13
    path = _save(tmp_path, model)
    line = _assert_cli_fails(tmp_path, path, "Pad", "wrap_pad", "mode")
    assert "wrap" in line


def test_non_constant_conv_weight(tmp_path):
    w = helper.make_tensor_value_info("w", TensorProto.FLOAT, [2, 3, 1, 1])
    model = _model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv")],
                   [_x(), w], [_x((1, 2, 4, 4), "y")])
    # two runtime inputs: the CLI's ABI is one input
    _assert_cli_fails(tmp_path, _save(tmp_path, model), "2 inputs")


def test_dynamic_shape_and_batch_override(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 4])
    model = _model([helper.make_node("Relu", ["x"], ["y"], name="r")], [x],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 4, 4])])
    path = _save(tmp_path, model)
    _assert_cli_fails(tmp_path, path, "dynamic", "'N'", "--batch")
    out = str(tmp_path / "ok.mlir")
    proc = _cli(path, "-o", out, "--batch", "2")
    assert proc.returncode == 0, proc.stderr
    assert "tensor<2x3x4x4xf32>" in open(out).read()
    proc = _cli(path, "-o", out, "--input-shape", "5x3x4x4")
    assert proc.returncode == 0 and "tensor<5x3x4x4xf32>" in open(out).read()


def test_malformed_and_missing_files(tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07not a protobuf at all\xff\xff\xff")
    _assert_cli_fails(tmp_path, str(garbage), str(garbage))
    truncated = tmp_path / "truncated.onnx"
    model = _model([helper.make_node("Relu", ["x"], ["y"], name="r")], [_x()], [_x(name="y")])
    truncated.write_bytes(model.SerializeToString()[:-7])
    _assert_cli_fails(tmp_path, str(truncated), str(truncated))
    _assert_cli_fails(tmp_path, str(tmp_path / "missing.onnx"), "no such file")


def test_failed_import_keeps_existing_output(tmp_path):
    out = tmp_path / "out.mlir"
    out.write_text("old\n")
    model = _model([helper.make_node("TopK", ["x", "k"], ["v", "i"], name="topk")],
                   [_x(), helper.make_tensor_value_info("k", TensorProto.INT64, [1])],
                   [_x(name="v")])
    proc = _cli(_save(tmp_path, model), "-o", str(out))
    assert proc.returncode == 2 and out.read_text() == "old\n"


def test_cli_writes_the_exporter_form(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(2 * 4 * 4, 3)).eval()
    path = str(tmp_path / "m.onnx")
    torch.onnx.export(model, torch.randn(1, 1, 4, 4), path, opset_version=13)
    out = str(tmp_path / "m.mlir")
    proc = _cli(path, "-o", out)
    assert proc.returncode == 0, proc.stderr
    text = open(out).read()
    assert "func.func @forward(%arg0: tensor<1x1x4x4xf32>) -> tensor<1x3xf32>" in text
    assert "linalg.conv_2d_nchw_fchw" in text and "linalg.matmul" in text
    assert 'arith.constant dense<"0x' in text


# ----- opt-in: torchvision models through ONNX (DENSESHIFT_ZOO=1, ~2 min) -----

ONNX_ZOO = ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1",
            "shufflenet_v2_x0_5", "efficientnet_b0"]


@needs_project
@pytest.mark.skipif(os.environ.get("DENSESHIFT_ZOO") != "1",
                    reason="slow: set DENSESHIFT_ZOO=1 to run the torchvision models through ONNX")
@pytest.mark.parametrize("name", ONNX_ZOO)
def test_onnx_zoo(tmp_path, name):
    """3-bit DenseShift torchvision models at 64x64 (random init, BatchNorm
    statistics estimated on random inputs as in test_export_zoo.py), exported
    with export_onnx, imported, compiled: shift convs, PyTorch parity."""
    torchvision = pytest.importorskip("torchvision")
    from test_export_ops import calibrate_batchnorms
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(num_classes=10)
    denseshift.convert(model, scheme="denseshift", bits=3)
    calibrate_batchnorms(model, (3, 64, 64))
    path = export_onnx(model, torch.randn(1, 3, 64, 64), str(tmp_path / f"{name}.onnx"))
    mlir = str(tmp_path / f"{name}.mlir")
    import_file(path, mlir)
    proc = subprocess.run([OPT, mlir, "--shift-from-linalg"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("shift.conv2d") >= 19
    compiled = denseshift.compile(mlir, target="x86-64-avx2")
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    out = compiled(x)
    assert np.abs(out - ref).max() <= 1e-4 * np.abs(ref).max()
    assert (out.argmax(1) == ref.argmax(1)).all()
