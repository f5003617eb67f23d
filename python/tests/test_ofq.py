"""OFQ (StatsQ, CGA, QKR, oscillation metric) on the small ViT (issue 12, item 2)."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from denseshift import ofq, ofq_table, runtime
from denseshift.export import export_model
from denseshift.vit import ViT, attentions
from helpers import fake_dataset

SETTINGS = [(g, b, s) for g in ofq.GRIDS for b in (2, 3) for s in ofq.SCALES]


def tiny_vit(seed=0):
    torch.manual_seed(seed)
    return ViT(patch=7, dim=12, depth=2, heads=2, mlp=16)


def quantizer(grid, bits, scale, w):
    return ofq.Quantizer(grid, bits, scale, w.shape[0], w.shape[1], w)


@pytest.mark.parametrize("grid, bits, scale", SETTINGS)
def test_quantized_weights_lie_exactly_on_the_grid(grid, bits, scale):
    torch.manual_seed(1)
    w = torch.randn(6, 40) * 0.1
    w[0, :3] = torch.tensor([0.0, -0.0, 1e-30])
    q = quantizer(grid, bits, scale, w)
    got = q(w).detach()
    s = q.scale(w).detach().view(-1, 1)
    n = 2 ** (bits - 1)
    if grid == "pow2":
        unit = got / s
        k = torch.log2(unit.abs())
        assert torch.equal(k, torch.round(k)) and k.min() >= 0 and k.max() <= n - 1
        assert (unit != 0).all()                                  # zero-free
    elif scale == "stats":
        units = got / s * n - 0.5                                  # OFQ: (i + 1/2) / n, zero-free
        assert torch.allclose(units, torch.round(units), atol=1e-5) and units.min() >= -n - 1e-5
        assert units.max() <= n - 1 + 1e-5
    else:
        units = got / s                                            # LSQ: integers with zero
        assert torch.allclose(units, torch.round(units)) and units.min() >= -n and units.max() <= n - 1
    if scale == "stats":     # the scale is a function of the weights' statistics
        expected = q.stats_constant * w.abs().mean(1).clamp_min(1e-12)
        assert torch.allclose(s.flatten(), expected)


@pytest.mark.parametrize("grid", ofq.GRIDS)
def test_statsq_has_an_identity_gradient_and_a_detached_scale(grid):
    w = (torch.randn(4, 10) * 0.1).requires_grad_()
    upstream = torch.randn(4, 10)
    quantizer(grid, 2, "stats", w)(w).backward(upstream)
    assert torch.equal(w.grad, upstream)


def test_lsq_step_gradient_is_round_minus_x_scaled():
    w = torch.tensor([[0.2, 0.7, -1.4, 5.0]])
    q = quantizer("uniform", 2, "learned", w)
    with torch.no_grad():
        q.step.fill_(1.0)
    w = w.clone().requires_grad_()
    q(w).sum().backward()
    inside = torch.tensor([0.2, 0.7, -1.4])
    # LSQ: round(x) - x inside the clamp, the clamp level (Qp = 1) beyond it
    expected = (float((torch.round(inside) - inside).sum()) + 1.0) * q.grad_scale
    assert q.step.grad.item() == pytest.approx(expected)
    assert torch.equal(w.grad, torch.tensor([[1.0, 1.0, 1.0, 0.0]]))   # nothing beyond the clamp


def test_pow2_stats_constant_minimises_the_gaussian_error():
    torch.manual_seed(0)
    w = torch.randn(1, 200000, dtype=torch.float64)
    enc = ofq.pow2_grid(2)

    def error(c):
        alpha = c * w.abs().mean()
        return float(((enc.decode(ofq._pow2_codes(w / alpha, enc)).double() * alpha - w) ** 2).mean())

    c = ofq.pow2_stats_constant(2)
    assert error(c) <= min(error(c * 0.9), error(c * 1.1))


def test_confidence_is_the_distance_to_a_rounding_threshold():
    cases = {
        # uniform, learned step 1, 2 bits: thresholds at -1.5, -0.5, 0.5
        ("uniform", "learned"): ([0.503, -1.497, 0.2, 1.5, -2.6], [False, False, True, True, True]),
        # pow2, alpha 1, 2 bits: exponent threshold at sqrt(2), sign threshold at 0
        ("pow2", "learned"): ([1.413, 0.003, -0.004, 1.0, 3.0], [False, False, False, True, True]),
    }
    for (grid, scale), (values, confident) in cases.items():
        w = torch.tensor([values])
        q = quantizer(grid, 2, scale, w)
        with torch.no_grad():
            q.step.fill_(1.0)
        assert q.confident(w, 0.005).flatten().tolist() == confident, grid


def test_oscillation_counts_reversals_only():
    linear = nn.Linear(2, 1, bias=False)
    layer = ofq.QuantLinear(linear, "uniform", 2, "learned")
    with torch.no_grad():
        layer.quantizer.step.fill_(1.0)
        layer.latent.copy_(torch.tensor([[0.4, 0.1]]))
    model = nn.Sequential(layer)
    tracker = ofq.OscillationTracker(model)
    # first weight: 0 -> 1 -> 0 -> 1 (two reversals); second: 0 -> 1 -> 1 -> 1 (none)
    for a, b in ((0.6, 0.6), (0.4, 0.7), (0.6, 0.9)):
        with torch.no_grad():
            layer.latent.copy_(torch.tensor([[a, b]]))
        tracker.step()
    report = tracker.report()
    assert report["steps"] == 3 and report["weights"] == 2
    assert report["frequency"] == pytest.approx(2 / 6)
    assert report["oscillating"] == pytest.approx(0.5) and report["changed"] == pytest.approx(1.0)


def test_cga_freezes_confident_weights_even_under_adam():
    torch.manual_seed(0)
    model = ofq.quantize_vit(tiny_vit(), "pow2", 2, "stats")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    cga = ofq.ConfidenceGuidedAnnealing(model, boundary=0.05)
    for _ in range(2):                       # the second step runs with Adam's momentum
        before = {id(m): m.latent.detach().clone() for m in cga.layers}
        masks = {id(m): m.quantizer.confident(m.latent, 0.05) for m in cga.layers}
        model(torch.randn(4, 1, 28, 28)).sum().backward()
        cga.before_step()
        optimizer.step()
        cga.after_step()
        optimizer.zero_grad()
        assert 0 < cga.trainable_share < 0.5
        moved = 0
        for m in cga.layers:
            frozen = masks[id(m)]
            assert torch.equal(m.latent.detach()[frozen], before[id(m)][frozen])
            moved += int((m.latent.detach() != before[id(m)]).sum())
        assert moved > 0


def test_qkr_product_gives_the_attention_logits():
    torch.manual_seed(0)
    vit = tiny_vit()
    _, attention = attentions(vit)[0]
    qkr = ofq.QKReparamAttention(attention, "pow2", 2, "stats")
    x = torch.randn(3, 5, 12)
    b, t, c = x.shape
    h, d = attention.heads, attention.head_dim
    q = attention.q(x).reshape(b, t, h, d).transpose(1, 2)
    k = attention.k(x).reshape(b, t, h, d).transpose(1, 2)
    logits = torch.matmul(q, k.transpose(2, 3))
    y = torch.nn.functional.linear(x, qkr.product()).reshape(b, t, h, c).transpose(1, 2)
    assert torch.allclose(torch.matmul(x.unsqueeze(1), y.transpose(2, 3)), logits, atol=1e-5)


def test_qkr_needs_bias_free_query_and_key():
    attention = attentions(tiny_vit())[0][1]
    attention.q = nn.Linear(12, 12)
    with pytest.raises(ofq.OFQError, match="without bias"):
        ofq.QKReparamAttention(attention, "pow2", 2, "stats")


@pytest.mark.parametrize("qkr", [False, True])
@pytest.mark.parametrize("grid, bits, scale", SETTINGS)
def test_deployable_model_computes_the_same_bits(grid, bits, scale, qkr):
    model = ofq.quantize_vit(tiny_vit(), grid, bits, scale, qkr)
    x = torch.randn(2, 1, 28, 28)
    model(x).sum().backward()            # a learned step must not break deployment
    model.eval()
    with torch.no_grad():
        ref = model(x)
        got = ofq.deployable(model)(x)
    assert torch.equal(ref, got)
    text = export_model(model, 2, input_shape=(1, 28, 28))
    shift_layers = text.count("denseshift.encoding")
    # q, k, v, proj, fc1, fc2 per block (QKR: qk, v, proj, fc1, fc2)
    assert shift_layers == ((5 if qkr else 6) * 2 if grid == "pow2" else 0)


def test_exporting_the_training_form_says_to_deploy_first():
    from denseshift.export import ExportError
    model = ofq.quantize_vit(tiny_vit(), "pow2", 2, "stats", qkr=True).eval()
    with pytest.raises(ExportError, match=r"OFQ training layer .*ofq.deployable\(model\) first"):
        export_model(model, 1, input_shape=(1, 28, 28))


def test_bad_configurations_are_errors():
    with pytest.raises(ofq.OFQError, match="unknown grid"):
        ofq.quantize_vit(tiny_vit(), "ternary")
    with pytest.raises(ofq.OFQError, match="2- to 4-bit"):
        ofq.quantize_vit(tiny_vit(), "pow2", 6)
    with pytest.raises(ofq.OFQError, match="not a denseshift.vit.ViT"):
        ofq.quantize_vit(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="whole number of 5x5 patches"):
        ViT(patch=5)
    with pytest.raises(ofq.OFQError, match="only pow2"):
        q = ofq.Quantizer("uniform", 2, "stats", 2, 2, torch.ones(2, 2))
        q.deployed_codes(torch.ones(2, 2))


@pytest.mark.skipif(not runtime.ProjectToolchain().available(), reason="project toolchain not built")
@pytest.mark.parametrize("target", ["x86-64-avx2", "aarch64-neon"])
def test_ofq_vit_compiles_and_matches_pytorch(tmp_path, target):
    if target == "aarch64-neon" and runtime.qemu_missing():
        pytest.skip(runtime.qemu_missing())
    ok, why = runtime._host_can_run(target)
    if target != "aarch64-neon" and not ok:
        pytest.skip(why)
    model = ofq.quantize_vit(tiny_vit(), "pow2", 2, "stats", qkr=True).eval()
    ofq.deployable(model)
    path = tmp_path / "vit.mlir"
    path.write_text(export_model(model, 3, input_shape=(1, 28, 28)))
    compiled = runtime.compile(str(path), target=target, toolchain="project")
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        ref = model(x).numpy()
    assert np.abs(compiled(x.numpy()) - ref).max() <= 1e-4 * np.abs(ref).max()


def test_ofq_table_end_to_end_skips_finished_runs_and_refuses_another_protocol(tmp_path, capsys):
    data = fake_dataset(tmp_path / "data", train=64, test=32)
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    argv = ["--out", str(runs), "--docs", str(docs), "--seeds", "0", "1", "--float-epochs", "1",
            "--float-limit", "64", "--limit", "64", "--qat-epochs", "1", "--anneal-epochs", "1",
            "--batch", "32", "--boundary", "0.1", "--data-dir", data, "--no-compile", "--no-progress",
            "--only", "pow2-2b-lsq", "pow2-2b-ofq"]
    assert ofq_table.main(argv) == 0
    result = json.loads((docs / "ofq.json").read_text())
    rows = {r["name"]: r for r in result["rows"]}
    assert set(rows) == {"pow2-2b-lsq", "pow2-2b-ofq"}
    assert len(rows["pow2-2b-ofq"]["per_seed"]) == 2 and len(rows["pow2-2b-ofq"]["oscillating_curve"]) == 2
    epochs = json.loads((runs / "pow2-2b-ofq" / "seed0" / "result.json").read_text())["epochs"]
    assert epochs[-1]["phase"] == "anneal" and 0 < epochs[-1]["cga_trainable"] < 1
    md = (docs / "RESULTS.md").read_text()
    assert "<!-- ofq:begin -->" in md and "pow2 2-bit OFQ" in md and "OFQ >= baseline" in md
    assert (docs / "ofq.png").read_bytes()[:4] == b"\x89PNG"
    mtime = (runs / "pow2-2b-ofq" / "seed1" / "model.pt").stat().st_mtime_ns
    assert ofq_table.main(argv + ["--no-plot"]) == 0
    assert (runs / "pow2-2b-ofq" / "seed1" / "model.pt").stat().st_mtime_ns == mtime
    capsys.readouterr()
    other = list(argv)
    other[other.index("--qat-epochs") + 1] = "2"
    assert ofq_table.main(other) == 2
    assert "another protocol" in capsys.readouterr().err
    assert (runs / "pow2-2b-ofq" / "seed1" / "model.pt").stat().st_mtime_ns == mtime
