"""Shift layers: exact value sets, codes, STE gradients, init, bad input."""
import math

import pytest
import torch

from denseshift import Encoding, ShiftConv2d, ShiftLinear, check_bits, round_to_encoding
from denseshift.schemes import LATENT_INIT_STD, SCHEMES, thermometer

ALL_BITS = range(2, 9)


def make(scheme, bits, conv=True, **kw):
    if conv:
        return ShiftConv2d(4, 6, 3, padding=1, bits=bits, scheme=scheme, **kw)
    return ShiftLinear(12, 5, bits=bits, scheme=scheme, **kw)


def assert_in_value_set(weight, layer):
    """w / alpha must be exactly +-2^e with e in [emin, emax] (or 0 if allowed)."""
    enc = layer.encoding
    unit = weight.detach() / layer.alpha.view(-1, *([1] * (weight.dim() - 1)))
    mantissa, exponent = torch.frexp(unit)
    zero = unit == 0
    if enc.zero_free:
        assert not zero.any(), "zero-free encoding produced a zero weight"
    assert torch.all(mantissa[~zero].abs() == 0.5)
    e = exponent[~zero] - 1  # frexp: 2^e = 0.5 * 2^(e+1)
    assert e.min() >= enc.emin and e.max() <= enc.emax
    assert torch.all(layer.alpha > 0)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
@pytest.mark.parametrize("bits", ALL_BITS)
@pytest.mark.parametrize("conv", [True, False])
def test_forward_weights_in_value_set(scheme, bits, conv):
    layer = make(scheme, bits, conv)
    for _ in range(3):  # a few training steps must keep the value set
        weight = layer.weight
        assert_in_value_set(weight, layer)
        assert torch.equal(weight, layer.quantized_weight())
        x = torch.randn(2, 4, 5, 5) if conv else torch.randn(2, 12)
        loss = layer(x).square().mean() + layer.regularizer()
        loss.backward()
        with torch.no_grad():
            for p in layer.parameters():
                if p.grad is not None:
                    p -= 0.05 * p.grad.sign()
                    p.grad = None
    # codes decode to the same weight, and stay in range
    codes = layer.codes()
    assert codes.dtype == torch.int8 and codes.shape == (2,) + tuple(weight.shape)
    assert torch.equal(layer.encoding.decode(codes, layer.alpha), layer.quantized_weight())
    k = codes[1].long()  # int8 vs 128 would overflow the comparison
    assert k.min() >= 0 and k.max() < layer.encoding.num_exponents
    assert torch.equal(layer.encoding.unpack(layer.encoding.pack(codes)), codes)


def test_alpha_is_power_of_two_per_channel():
    for scheme in SCHEMES:
        alpha = make(scheme, 3).alpha
        assert alpha.shape == (6,)
        mantissa, _ = torch.frexp(alpha)
        assert torch.all(mantissa == 0.5)


@pytest.mark.parametrize("bits", ALL_BITS)
def test_encoding_value_counts(bits):
    assert len(Encoding(bits, True, 0).values()) == 2 ** bits
    assert len(Encoding(bits, False, 0).values()) == 2 ** bits - 1
    assert 0.0 in Encoding(bits, False, 0).values().tolist()


def test_denseshift_3bit_values():
    assert Encoding(3, True, 0).values().tolist() == [-8, -4, -2, -1, 1, 2, 4, 8]


def test_dialect_signed_magnitude_codes():
    enc = Encoding(8, True, 0)
    codes = torch.tensor([[1, -1, 1], [0, 3, 127]], dtype=torch.int8)
    assert enc.dialect_codes(codes).tolist() == [1, -4, 128]
    with_zero = Encoding(3, False, 0)
    assert with_zero.dialect_codes(torch.tensor([[0, -1], [0, 2]])).tolist() == [0, -3]


def test_denseshift_latent_count_and_init_stats():
    layer = ShiftConv2d(64, 64, 3, bits=4, scheme="denseshift")
    sw = layer.shift_weight
    assert sw.exponent_latent.shape == (2 ** 3 - 1, 64, 64, 3, 3)
    for latent in (sw.sign_latent, sw.exponent_latent):
        assert abs(latent.mean().item()) < 1e-4
        assert latent.std().item() == pytest.approx(LATENT_INIT_STD, rel=0.05)
    # random latents: sign is +-1 with probability 1/2 each, k=0 for half
    codes = layer.codes()
    assert (codes[0] == 1).float().mean().item() == pytest.approx(0.5, abs=0.02)
    assert (codes[1] == 0).float().mean().item() == pytest.approx(0.5, abs=0.02)


def test_thermometer_reads_leading_run():
    bits = torch.tensor([[1., 1., 0., 1.], [1., 0., 1., 1.], [1., 1., 1., 1.]])
    # columns are weights, rows latents: runs 111, 101, 011, 111
    assert thermometer(bits).tolist() == [3., 1., 0., 3.]


def test_denseshift_ste_gradients_use_sqrt_surrogate():
    layer = ShiftLinear(3, 2, bias=False, bits=3, scheme="denseshift")
    sw = layer.shift_weight
    with torch.no_grad():
        sw.sign_latent.copy_(torch.tensor([[1., -1., 1.], [-1., 1., 1.]]))
        sw.exponent_latent.fill_(1.0)          # k = 3 everywhere
        sw.exponent_latent[1, 0, 0] = -1.0     # k = 1 for w[0, 0]
    w = layer.weight
    alpha = layer.alpha[0].item()
    assert w[0, 0].item() == alpha * 2 and w[0, 1].item() == -alpha * 8
    w.sum().backward()
    k = torch.tensor([[1., 3., 3.], [3., 3., 3.]])
    assert torch.allclose(sw.sign_latent.grad, alpha * torch.sqrt(k + 1))
    sign = torch.tensor([[1., -1., 1.], [-1., 1., 1.]])
    dk = alpha * sign * 0.5 / torch.sqrt(k + 1)        # d surrogate / dk
    # k = b0 + b0 b1 + b0 b1 b2: dk/db0 = 1 + b1 + b1 b2, dk/db1 = b0 + b0 b2, dk/db2 = b0 b1
    expected = torch.stack([dk * 3, dk * 2, dk * 1])
    expected[0, 0, 0] = dk[0, 0] * 1 + 0            # b1 = 0: dk/db0 = 1
    expected[1, 0, 0] = dk[0, 0] * 2                # dk/db1 = b0 + b0 b2 = 2
    expected[2, 0, 0] = 0.0                         # b0 b1 = 0
    assert torch.allclose(sw.exponent_latent.grad, expected)


def test_deepshift_q_identity_ste_and_rounding():
    layer = ShiftLinear(4, 1, bias=False, bits=4, scheme="deepshift-q")
    sw = layer.shift_weight
    with torch.no_grad():
        sw.alpha.fill_(1.0)
        sw.weight.copy_(torch.tensor([[0.70, 0.71, -0.3, 0.0]]))
    # decision point between 0.5 and 1 is sqrt(2)/2 = 0.7071
    assert layer.weight.tolist() == [[0.5, 1.0, -0.25, 0.0]]
    layer.weight.sum().backward()
    assert torch.equal(sw.weight.grad, torch.ones(1, 4))


def test_deepshift_q_stochastic_rounding_is_unbiased_in_log_domain():
    w = torch.full((20000,), 2 ** 0.25)   # log2 = 0.25 -> up with p = 0.25
    enc = Encoding(4, False, -3)
    codes = round_to_encoding(w, torch.ones(1), enc, stochastic=True)
    up = (codes[1] == 1 - enc.emin).float().mean().item()
    assert up == pytest.approx(0.25, abs=0.02)
    layer = ShiftLinear(8, 8, bits=4, scheme="deepshift-q", rounding="stochastic")
    layer.eval()
    assert torch.equal(layer.weight, layer.weight)  # deterministic in eval mode


def test_deepshift_ps_ternary_sign_and_gradients():
    layer = ShiftLinear(3, 1, bias=False, bits=3, scheme="deepshift-ps")
    sw = layer.shift_weight
    with torch.no_grad():
        sw.alpha.fill_(1.0)
        sw.shift.copy_(torch.tensor([[-1.2, 0.4, -5.0]]))
        sw.sign.copy_(torch.tensor([[0.3, -0.8, 1.7]]))
    w = layer.weight
    assert w.tolist() == [[0.0, -1.0, 0.25]]          # emin = -2 clamps the shift
    assert layer.codes().tolist() == [[[0, -1, 1]], [[0, 2, 0]]]
    w.sum().backward()
    assert torch.allclose(sw.sign.grad, torch.tensor([[0.5, 1.0, 0.25]]))
    assert torch.allclose(sw.shift.grad, math.log(2) * torch.tensor([[0.0, -1.0, 0.25]]))


def test_s3_zero_code_and_regularizer():
    layer = ShiftLinear(4, 2, bits=3, scheme="s3")
    sw = layer.shift_weight
    assert (sw.gate_latent >= 0).all(), "S3 starts dense"
    with torch.no_grad():
        sw.gate_latent[0, 0] = -0.5
        sw.gate_latent[1, 1] = -0.25
    assert layer.weight[0, 0].item() == 0.0 and layer.codes()[:, 0, 0].tolist() == [0, 0]
    assert layer.regularizer().item() == pytest.approx(0.75)
    layer.regularizer().backward()
    assert sw.gate_latent.grad[0, 0].item() == -1.0 and sw.gate_latent.grad[0, 1].item() == 0.0


def test_layers_match_torch_reference():
    conv = ShiftConv2d(4, 8, 3, stride=2, padding=1, dilation=1, groups=2, bits=3)
    x = torch.randn(2, 4, 9, 9)
    ref = torch.nn.functional.conv2d(x, conv.quantized_weight(), conv.bias, 2, 1, 1, 2)
    assert torch.allclose(conv(x), ref)


@pytest.mark.parametrize("bits", [1, 9, 0, -3, 3.0, "3", True, None])
def test_bits_out_of_range_is_a_clear_error(bits):
    with pytest.raises(ValueError, match="bits must be an integer in \\[2, 8\\]"):
        ShiftConv2d(2, 2, 3, bits=bits)
    with pytest.raises(ValueError, match="bits must be"):
        ShiftLinear(2, 2, bits=bits)
    with pytest.raises(ValueError):
        check_bits(bits)


def test_bad_scheme_and_groups():
    with pytest.raises(ValueError, match="unknown scheme"):
        ShiftLinear(2, 2, scheme="ternary")
    with pytest.raises(ValueError, match="groups"):
        ShiftConv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="rounding"):
        ShiftLinear(2, 2, scheme="denseshift", rounding="stochastic")
