"""Post-training shift quantization (issue 10, item 6): alpha rules, BatchNorm
re-estimation, the CLI and its errors, and a PTQ model through the compiler."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from denseshift import ptq, runtime
from denseshift.checkpoint import load_model, save_checkpoint
from denseshift.encoding import Encoding, round_to_encoding
from denseshift.export import export_checkpoint
from denseshift.models import build_model, model_config
from helpers import fake_dataset

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def float_checkpoint(path, model="smallcnn", seed=0):
    torch.manual_seed(seed)
    config = model_config(model, "float", 3)
    net = build_model(config)
    for m in net.modules():      # non-trivial BatchNorm statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    save_checkpoint(str(path), config, net, None, 1, [])
    return str(path)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "denseshift.ptq", *map(str, args)],
                          cwd=PYTHON_DIR, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("bits", [2, 3, 4, 5, 8])
def test_max_rule_puts_the_largest_weight_on_the_top_level(bits):
    enc = Encoding(bits, True, 0)
    w = torch.randn(6, 3, 3, 3) * torch.tensor([0.1, 1, 3, 1e-3, 7, 0.5]).view(6, 1, 1, 1)
    alpha = ptq.choose_alpha(w, enc, "max")
    assert alpha.dtype == torch.float32
    top = alpha.double() * 2.0 ** enc.emax
    largest = w.abs().amax((1, 2, 3)).double()
    tiny = torch.finfo(torch.float32).tiny
    normal = largest * 2.0 ** -enc.emax >= tiny
    assert torch.allclose(top[normal], largest[normal], rtol=1e-6)
    # where max|w| / 2^emax would be subnormal: raised by a power of two until normal
    assert (alpha >= tiny).all() and (top >= largest * (1 - 1e-6)).all()
    ratio = torch.log2(alpha.double() / (largest * 2.0 ** -enc.emax))
    assert torch.equal(ratio, ratio.round()) and (ratio[~normal] >= 1).all()
    assert bits < 7 or not normal.all()
    # either way the largest weight is represented within rounding
    codes = round_to_encoding(w, alpha, enc)
    q = enc.decode(codes, alpha)
    assert torch.allclose(q.abs().amax((1, 2, 3)).double(), largest, rtol=0.42)


@pytest.mark.parametrize("bits", [2, 3, 4, 5])
def test_mse_rule_is_never_worse_than_max_and_usually_better(bits):
    enc = Encoding(bits, True, 0)
    w = torch.randn(32, 64).double()
    errors = {}
    for rule in ("max", "mse"):
        alpha = ptq.choose_alpha(w, enc, rule)
        q = enc.decode(round_to_encoding(w, alpha, enc), alpha).double()
        errors[rule] = ((w - q) ** 2).sum(1)
    assert (errors["mse"] <= errors["max"] * (1 + 1e-12)).all()
    # Gaussian weights: the largest one should not set the scale of 32 channels.
    assert errors["mse"].sum() < 0.9 * errors["max"].sum()


def test_all_zero_channel_gets_alpha_zero_and_decodes_to_zero():
    enc = Encoding(3, True, 0)
    w = torch.randn(3, 8)
    w[1] = 0
    for rule in ("max", "mse"):
        alpha = ptq.choose_alpha(w, enc, rule)
        assert alpha[1] == 0
        codes = round_to_encoding(w, alpha, enc)
        assert codes[1].min() >= 0 and codes[1].max() <= enc.num_exponents - 1
        assert torch.equal(enc.decode(codes, alpha)[1], torch.zeros(8))


def test_a_model_with_only_first_and_last_layers_is_a_clear_error():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with pytest.raises(ptq.PTQError, match="nothing to quantize"):
        ptq.quantize_model(model, bits=3)
    assert ptq.quantize_model(nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.Linear(3, 2)),
                              bits=3, keep_first_last=False)


def test_non_finite_weight_is_a_clear_error():
    w = torch.randn(2, 4)
    w[0, 1] = float("nan")
    with pytest.raises(ptq.PTQError, match="NaN or Inf"):
        ptq.choose_alpha(w, Encoding(3, True, 0))


def test_quantize_model_keeps_first_and_last_float_and_codes_round_the_float_weight(tmp_path):
    path = float_checkpoint(tmp_path / "f.pt")
    model, config, report = ptq.ptq(path, bits=4, alpha="mse")
    assert config["scheme"] == "denseshift" and config["bits"] == 4
    float_model, _ = load_model(path)
    shift = {n: m for n, m in model.named_modules() if hasattr(m, "shift_weight")}
    convs = [n for n, m in float_model.named_modules() if type(m) in (nn.Conv2d, nn.Linear)]
    assert convs[0] not in shift and convs[-1] not in shift
    assert set(shift) == set(convs[1:-1]) == set(report["weight_rel_rms_error"])
    enc = Encoding(4, True, 0)
    for name, layer in shift.items():
        w = float_model.get_submodule(name).weight.detach()
        expected = enc.decode(round_to_encoding(w, layer.alpha, enc), layer.alpha)
        assert torch.equal(layer.quantized_weight(), expected)
        assert torch.equal(layer.weight.detach(), expected)     # the forward uses the codes
        assert 0 < report["weight_rel_rms_error"][name] < 0.5


def test_more_bits_never_increase_the_weight_error(tmp_path):
    """b + 1 bits hold every level window of b bits (one more level below), and the
    alpha search covers it, so the chosen error cannot grow.  It also barely
    shrinks past 3-4 bits: the relative rounding error of a power of two (up to
    -29% / +41%) does not depend on the number of levels."""
    path = float_checkpoint(tmp_path / "f.pt")
    float_model, _ = load_model(path)
    x = torch.randn(16, 1, 28, 28)
    with torch.no_grad():
        ref = float_model(x)
    weight_errors, output_errors = [], []
    for bits in (2, 3, 4, 5, 8):
        model, _, report = ptq.ptq(path, bits=bits)
        weight_errors.append(sum(report["weight_rel_rms_error"].values()))
        with torch.no_grad():
            output_errors.append(float((model(x) - ref).norm() / ref.norm()))
    assert all(a >= b * (1 - 1e-9) for a, b in zip(weight_errors, weight_errors[1:])), weight_errors
    assert weight_errors[0] > 1.2 * weight_errors[1]
    assert output_errors[0] == max(output_errors) and max(output_errors[1:]) < 0.3, output_errors


def test_bn_recalibration_matches_the_statistics_of_the_calibration_data(tmp_path):
    path = float_checkpoint(tmp_path / "f.pt")
    images = torch.randn(64, 1, 28, 28)
    model, _, report = ptq.ptq(path, bits=3, calibration=images, bn_batches=2)
    assert report["bn_recalibration_batches"] == 1      # 64 images are one batch of 128
    assert not any(m.training for m in model.modules())
    # The BatchNorm after the first shift conv now holds the mean of its input
    # over the calibration batch.
    bn = model.bn2
    captured = {}
    handle = bn.register_forward_pre_hook(lambda m, i: captured.setdefault("x", i[0].clone()))
    with torch.no_grad():
        model(images)
    handle.remove()
    assert torch.allclose(bn.running_mean, captured["x"].mean((0, 2, 3)), atol=1e-5)


def test_cli_writes_a_checkpoint_that_exports_compiles_and_matches(tmp_path):
    data = fake_dataset(tmp_path / "data", train=256, test=64)
    path = float_checkpoint(tmp_path / "f.pt")
    out = tmp_path / "ptq.pt"
    proc = run_cli(path, "-o", out, "--bits", "3", "--bn-recalibrate", "2", "--evaluate",
                   "--data", data, "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    assert "test top-1" in proc.stdout and out.is_file()
    model, config = load_model(str(out))
    assert config["scheme"] == "denseshift"
    mlir = tmp_path / "ptq.mlir"
    export_checkpoint(str(out), str(mlir), batch=4)
    assert "#shift.encoding<bits = 3, zero_free = true" in mlir.read_text()
    if not runtime.ProjectToolchain().available():
        pytest.skip("project toolchain not built")
    ok, why = runtime._host_can_run("x86-64-avx2")
    if not ok:
        pytest.skip(why)
    compiled = runtime.compile(str(mlir), target="x86-64-avx2", toolchain=runtime.ProjectToolchain())
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        ref = model(x).numpy()
    got = compiled(x.numpy())
    assert np.abs(got - ref).max() <= 1e-4 * np.abs(ref).max()


def test_cli_table_compares_settings_with_the_float_model(tmp_path):
    data = fake_dataset(tmp_path / "data", train=128, test=64)
    path = float_checkpoint(tmp_path / "f.pt")
    table, js = tmp_path / "t.md", tmp_path / "t.json"
    proc = run_cli(path, "--table", table, "--json", js, "--bits", "2", "4", "--alpha", "max",
                   "mse", "--data", data, "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    text = table.read_text()
    assert text.count("| PTQ DenseShift") == 4 and "| FP32 |" in text
    assert text.startswith("<!-- ptq:begin -->\n## Post-training quantization")
    # into a document with other content: only the marked section is replaced
    table.write_text("# Results\n\nkept above\n\n" + text + "\nkept below\n")
    proc = run_cli(path, "--table", table, "--bits", "3", "--data", data, "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    text = table.read_text()
    assert text.startswith("# Results\n\nkept above\n") and text.endswith("kept below\n")
    assert text.count("<!-- ptq:begin -->") == 1 and text.count("| PTQ DenseShift") == 1


def test_marked_sections_survive_a_rewrite():
    from denseshift.checkpoint import marked_sections, replace_section
    doc = replace_section("# T\n\nbody\n", "ptq", "## P\n\nrows")
    doc = replace_section(doc, "other", "## O")
    assert marked_sections(doc) == ["<!-- ptq:begin -->\n## P\n\nrows\n<!-- ptq:end -->",
                                    "<!-- other:begin -->\n## O\n<!-- other:end -->"]
    assert replace_section(doc, "ptq", "## P2").count("## P") == 1
    assert marked_sections("no markers <!-- x --> here") == []


@pytest.mark.parametrize("make, args, message", [
    (lambda d: str(d / "missing.pt"), ["-o", "x.pt"], "not found"),
    (lambda d: (d / "bad.pt").write_bytes(b"garbage") and str(d / "bad.pt"), ["-o", "x.pt"],
     "corrupt"),
    (lambda d: save_checkpoint(str(d / "s.pt"), model_config("smallcnn", "denseshift", 3),
                               build_model(model_config("smallcnn", "denseshift", 3)), None, 1, [])
     or str(d / "s.pt"), ["-o", "x.pt"], "already a denseshift"),
    (lambda d: float_checkpoint(d / "f.pt"), ["-o", "no/such/dir/x.pt"], "does not exist"),
    (lambda d: float_checkpoint(d / "f.pt"), ["-o", "."], "is a directory"),
])
def test_cli_bad_input_is_a_clear_error(tmp_path, make, args, message):
    path = make(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "denseshift.ptq", path, *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": PYTHON_DIR})
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.parametrize("args, message", [
    (["--bits", "9", "-o", "x.pt"], "bits must be"),
    (["--bits", "3", "4", "-o", "x.pt"], "writes one checkpoint"),
    ([], "give -o OUTPUT"),
    (["--alpha", "median", "-o", "x.pt"], "invalid choice"),
])
def test_cli_bad_arguments(tmp_path, args, message):
    proc = run_cli(float_checkpoint(tmp_path / "f.pt"), *args)
    assert proc.returncode == 2 and message in proc.stderr
