"""Tensor-train linears and LSTMs (issue 11, item 3): the MPS contraction is the
dense product, TT-SVD is exact at full rank, the LSTM cell is PyTorch's, and a
shift + MPS LSTM exports, compiles and matches PyTorch on x86 and AArch64."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from denseshift import runtime
from denseshift.export import export_model
from denseshift.layers import ShiftLinear
from denseshift.models import build_model, model_config
from denseshift.tensor_train import (FactoredLSTM, MPOLinear, MPSLinear, RowLSTM, factorize,
                                     lstm_weight_bytes)


@pytest.mark.parametrize("n, parts", [(28, 2), (512, 3), (128, 2), (97, 2), (1, 3), (360, 4)])
def test_factorize(n, parts):
    f = factorize(n, parts)
    assert len(f) == parts and math.prod(f) == n and f == sorted(f, reverse=True)


@pytest.mark.parametrize("fin, fout, rank, in_factors, out_factors", [
    (28, 512, 8, None, None),
    (24, 30, 3, [2, 3, 4], [5, 6]),
    (7, 5, 2, [7], [5]),
    (12, 24, 1000, None, None),
])
def test_mps_contraction_is_the_dense_product(fin, fout, rank, in_factors, out_factors):
    torch.manual_seed(0)
    layer = MPSLinear(fin, fout, rank, in_factors, out_factors).double()
    x = torch.randn(5, fin, dtype=torch.float64)
    w = layer.full_weight()
    assert w.shape == (fout, fin)
    assert torch.allclose(layer(x), x @ w.t() + layer.bias, atol=1e-12)
    sizes = layer.in_factors + layer.out_factors
    assert layer.parameter_count() == sum(layer.ranks[k] * s * layer.ranks[k + 1]
                                          for k, s in enumerate(sizes))
    for cut in range(1, len(sizes)):       # ranks never exceed the matrix rank at a cut
        assert layer.ranks[cut] <= min(math.prod(sizes[:cut]), math.prod(sizes[cut:]))


def test_mps_init_has_the_variance_of_a_linear():
    torch.manual_seed(0)
    w = MPSLinear(128, 512, 8).full_weight()
    assert 0.7 < float(w.std()) / (1 / math.sqrt(3 * 128)) < 1.3


def test_tt_svd_is_exact_at_full_rank_and_improves_with_rank():
    torch.manual_seed(0)
    w = torch.randn(24, 12, dtype=torch.float64)
    errors = []
    for rank in (1, 2, 4, 8, 64):
        layer = MPSLinear.from_matrix(w, rank).double()
        errors.append(float((layer.full_weight() - w).norm() / w.norm()))
    assert errors == sorted(errors, reverse=True) and errors[0] > 0.5
    assert errors[-1] < 1e-6


def test_mpo_full_weight_and_counts():
    torch.manual_seed(0)
    layer = MPOLinear(28, 512, 4)
    assert layer.full_weight().shape == (512, 28)
    x = torch.randn(3, 28)
    assert torch.allclose(layer(x), x @ layer.full_weight().t() + layer.bias, atol=1e-6)
    (m1, m2), (n1, n2) = layer.out_factors, layer.in_factors
    assert layer.parameter_count() == m1 * n1 * 4 + 4 * m2 * n2
    # rank 1: W is the Kronecker product of the two cores
    one = MPOLinear(6, 4, 1, in_factors=[3, 2], out_factors=[2, 2]).double()
    a, b = one.cores[0][0, :, :, 0], one.cores[1][0, :, :, 0]
    assert torch.allclose(one.full_weight(), torch.kron(a, b))


def test_factored_lstm_is_pytorchs_lstm():
    torch.manual_seed(0)
    ref = nn.LSTM(6, 5, batch_first=True)
    ours = FactoredLSTM(6, 5, steps=7, kind="dense")
    with torch.no_grad():
        ours.input_proj.weight.copy_(ref.weight_ih_l0)
        ours.input_proj.bias.copy_(ref.bias_ih_l0 + ref.bias_hh_l0)
        ours.hidden_proj.weight.copy_(ref.weight_hh_l0)
    x = torch.randn(3, 7, 6)
    with torch.no_grad():
        _, (h, _) = ref(x)
        assert torch.allclose(ours(x), h[0], atol=1e-6)


def test_convert_makes_the_cores_shift_layers_and_bytes_shrink():
    dense = build_model(model_config("lstm", "float", 3))
    mps = build_model(model_config("lstm-mps8", "float", 3))
    shift_mps = build_model(model_config("lstm-mps8", "denseshift", 3))
    cores = shift_mps.lstm.input_proj.cores
    assert type(cores[0]) is nn.Linear                   # keep_first_last: the first core
    assert all(isinstance(c, ShiftLinear) for c in list(cores[1:]) + list(shift_mps.lstm.hidden_proj.cores))
    assert type(shift_mps.head) is nn.Linear
    assert lstm_weight_bytes(dense) == 4 * (512 * 28 + 512 * 128)
    assert lstm_weight_bytes(dense) / lstm_weight_bytes(mps) > 20
    assert lstm_weight_bytes(dense) / lstm_weight_bytes(shift_mps) > 100


def test_shift_cores_get_the_float_scale():
    """Without match_float_scale the shift cores' default alpha (smallest level at
    one He std) multiplies up over the 5 cores: W_hh of spectral norm ~2.6e4,
    saturated gates, and a recurrence so unstable that PyTorch's own f32 and
    f64 differ by O(1) after 28 steps."""
    from denseshift.onnx.torch_export import plain_model
    for name in ("lstm-mps8", "lstm"):
        torch.manual_seed(0)
        shift = build_model(model_config(name, "denseshift", 3)).eval()
        torch.manual_seed(0)
        ref = build_model(model_config(name, "float", 3))
        norm = lambda m: float(torch.linalg.matrix_norm(                     # noqa: E731
            m.lstm.hidden_proj.full_weight() if name != "lstm" else m.lstm.hidden_proj.weight, 2))
        assert 0.5 < norm(shift) / norm(ref) < 2
        x = torch.randn(3, 1, 28, 28)
        with torch.no_grad():
            a, b = shift(x).numpy(), plain_model(shift).double()(x.double()).numpy()
        assert np.abs(a - b).max() <= 1e-5 * np.abs(b).max()


def short_row_lstm(scheme, rows=12):
    torch.manual_seed(0)
    return build_model(model_config("lstm-mps8", scheme, 3, input_shape=(1, rows, 28))).eval()


@pytest.mark.skipif(not runtime.ProjectToolchain().available(), reason="project toolchain not built")
@pytest.mark.parametrize("target", ["x86-64-avx2", "aarch64-neon"])
def test_shift_mps_lstm_compiles_and_matches_pytorch(tmp_path, target):
    if target == "aarch64-neon" and runtime.qemu_missing():
        pytest.skip(runtime.qemu_missing())
    ok, why = runtime._host_can_run(target)
    if target != "aarch64-neon" and not ok:
        pytest.skip(why)
    model = short_row_lstm("denseshift")
    text = export_model(model, 3, input_shape=(1, 12, 28))
    # every core contraction is a matmul; the shift cores carry the encoding hint
    assert text.count("linalg.matmul") >= 5 * 11 + 5 and "bits=3,zero_free=true" in text
    path = tmp_path / "mps.mlir"
    path.write_text(text)
    compiled = runtime.compile(str(path), target=target, toolchain="project")
    x = torch.randn(3, 1, 12, 28)
    with torch.no_grad():
        ref = model(x).numpy()
    out = compiled(x.numpy())
    assert np.abs(out - ref).max() <= 1e-4 * np.abs(ref).max()


@pytest.mark.skipif(not runtime.ProjectToolchain().available(), reason="project toolchain not built")
def test_mpo_lstm_exports_its_weight_as_a_constant(tmp_path):
    torch.manual_seed(0)
    model = RowLSTM(input_shape=(1, 4, 28), kind="mpo", rank=4).eval()
    path = tmp_path / "mpo.mlir"
    path.write_text(export_model(model, 2, input_shape=(1, 4, 28)))
    compiled = runtime.compile(str(path), target="x86-64-avx2", toolchain="project")
    x = torch.randn(2, 1, 4, 28)
    with torch.no_grad():
        ref = model(x).numpy()
    assert np.abs(compiled(x.numpy()) - ref).max() <= 1e-4 * np.abs(ref).max()


def test_bad_factors_are_errors():
    with pytest.raises(ValueError, match="do not multiply"):
        MPSLinear(28, 512, 4, in_factors=[4, 8])
    with pytest.raises(ValueError, match="pairs one input and one output"):
        MPOLinear(28, 512, 4, in_factors=[28], out_factors=[8, 64])
    with pytest.raises(ValueError, match="unknown linear kind"):
        FactoredLSTM(4, 4, 2, kind="cp")
