"""Weight parametrizations of shift layers, one class per training scheme.

Each scheme is an ``nn.Module`` that owns its latent parameters and a fixed
per-output-channel ``alpha`` buffer, and returns the effective weight
``alpha[o] * s * 2^(emin + k)``.  Forward values are always exact members of
the encoding's value set: every straight-through estimator is written as
``exact.detach() + (surrogate - surrogate.detach())``, whose forward value is
``exact + 0.0`` bit for bit, while gradients follow the surrogate.
"""
import math

import torch
from torch import nn

from .encoding import Encoding, check_bits, round_to_encoding

LATENT_INIT_STD = 1e-3  # N(0, 1e-3) read as a standard deviation (see docs/python.md)
# How DenseShift's latents start: the paper's low-variance N(0, 1e-3), or what a
# parameter gets by default in torch.nn (uniform, bound 1/sqrt(fan_in)).
LATENT_INITS = ("low-variance", "default")


def _straight_through(exact, surrogate):
    """Forward: ``exact`` bit for bit. Backward: gradient of ``surrogate``."""
    return exact.detach() + (surrogate - surrogate.detach())


def binarize01(latent):
    """{0, 1} with identity STE; 0 maps to 1 (as the released code's sign)."""
    return _straight_through((latent >= 0).to(latent.dtype), latent)


def binarize_sign(latent):
    """{-1, +1} with identity STE; 0 maps to +1 (zero-free: w=0 -> sign +)."""
    exact = torch.where(latent >= 0, 1.0, -1.0).to(latent.dtype)
    return _straight_through(exact, latent)


def thermometer(bits01):
    """k = length of the leading run of active latents, ``sum_j prod_{i<=j} b_i``.

    This generalises the released 3-bit code ``((b1 + 1) * b2 + 1) * b3`` to
    any number of latents; for a canonical thermometer pattern (all active
    latents first) it is simply the number of active latents.
    """
    if bits01.shape[0] == 0:
        return torch.zeros(bits01.shape[1:], dtype=bits01.dtype, device=bits01.device)
    return torch.cumprod(bits01, dim=0).sum(dim=0)


def power_of_two_alpha(out_channels, value):
    """A fixed alpha buffer: ``value`` rounded to a power of two in log domain."""
    exponent = round(math.log2(value))
    return torch.full((out_channels,), 2.0 ** exponent, dtype=torch.float32)


def _channel_view(alpha, ndim):
    return alpha.view(-1, *([1] * (ndim - 1)))


class ShiftWeight(nn.Module):
    """Base class: shape, encoding and the fixed alpha of one layer's weight."""

    zero_free = True

    def __init__(self, shape, fan_in, bits):
        super().__init__()
        self.shape = tuple(shape)
        self.fan_in = fan_in
        self.bits = check_bits(bits)
        self.encoding = Encoding(bits, self.zero_free, self.default_emin(bits))
        # He-init standard deviation: the natural magnitude of one weight.
        self.init_std = math.sqrt(2.0 / fan_in)

    @staticmethod
    def default_emin(bits):
        return 0

    def _alpha(self):
        return _channel_view(self.alpha, len(self.shape))

    def codes(self):
        """int8 tensor (2, *shape): codes[0] = sign in {-1,0,1}, codes[1] = k."""
        raise NotImplementedError

    def quantized_weight(self):
        """The effective weight decoded from :meth:`codes` (no autograd)."""
        with torch.no_grad():
            return self.encoding.decode(self.codes(), self.alpha)

    def regularizer(self):
        return torch.zeros((), device=self.alpha.device)

    def init_from_float(self, weight):
        """Start from a float weight (used by ``convert(..., from_float=True)``)."""
        raise NotImplementedError


class DenseShiftWeight(ShiftWeight):
    """Zero-free sign-scale decomposition (DenseShift, ICCV 2023).

    One sign latent and ``2^(b-1) - 1`` binary exponent latents per weight.
    ``k`` is their thermometer reading, ``w = alpha * s * 2^(emin + k)``.
    The backward pass uses the released code's magnitude surrogate
    ``s * sqrt(k + 1)`` in place of ``s * 2^k``.
    """

    zero_free = True

    def __init__(self, shape, fan_in, bits):
        super().__init__(shape, fan_in, bits)
        num_latents = self.encoding.num_exponents - 1
        self.sign_latent = nn.Parameter(torch.empty(self.shape))
        self.exponent_latent = nn.Parameter(torch.empty((num_latents,) + self.shape))
        self.register_buffer("alpha", power_of_two_alpha(self.shape[0], self.init_std))
        self.reset_parameters()

    def reset_parameters(self, init="low-variance"):
        """``init``: one of :data:`LATENT_INITS` (the transfer experiments compare them)."""
        if init not in LATENT_INITS:
            raise ValueError(f"unknown latent init {init!r}; choose one of {list(LATENT_INITS)}")
        with torch.no_grad():
            for latent in (self.sign_latent, self.exponent_latent):
                if init == "low-variance":
                    latent.normal_(0.0, LATENT_INIT_STD)
                else:
                    bound = self.fan_in ** -0.5
                    latent.uniform_(-bound, bound)

    def forward(self):
        sign = binarize_sign(self.sign_latent)
        k = thermometer(binarize01(self.exponent_latent))
        exact = torch.ldexp(sign.detach(), (k.detach() + self.encoding.emin).to(torch.int32))
        surrogate = sign * torch.sqrt(k + 1.0) * 2.0 ** self.encoding.emin
        return self._alpha() * _straight_through(exact, surrogate)

    def codes(self):
        with torch.no_grad():
            sign = torch.where(self.sign_latent >= 0, 1, -1).to(torch.int8)
            k = thermometer((self.exponent_latent >= 0).to(torch.float32)).to(torch.int8)
            return torch.stack([sign, k])

    def init_from_float(self, weight):
        codes = round_to_encoding(weight, self.alpha, self.encoding)
        with torch.no_grad():
            self.sign_latent.copy_(codes[0].float() * LATENT_INIT_STD)
            levels = torch.arange(self.exponent_latent.shape[0]).view(-1, *([1] * len(self.shape)))
            active = levels < codes[1].unsqueeze(0).long()
            self.exponent_latent.copy_(torch.where(active, 1.0, -1.0) * LATENT_INIT_STD)


class DeepShiftQWeight(ShiftWeight):
    """DeepShift-Q: a float weight rounded to ``sign * 2^round(log2|w|)``.

    Identity straight-through estimator to the float weight.  ``rounding`` is
    ``deterministic`` or ``stochastic`` (the latter only while training).
    Range follows DeepShift: the top level is alpha (``emax = 0``).
    """

    zero_free = False

    def __init__(self, shape, fan_in, bits, rounding="deterministic"):
        super().__init__(shape, fan_in, bits)
        if rounding not in ("deterministic", "stochastic"):
            raise ValueError(f"rounding must be 'deterministic' or 'stochastic', got {rounding!r}")
        self.rounding = rounding
        self.weight = nn.Parameter(torch.empty(self.shape))
        self.register_buffer("alpha", power_of_two_alpha(self.shape[0], 1.0))
        self.reset_parameters()

    @staticmethod
    def default_emin(bits):
        return -(2 ** (bits - 1) - 2)

    def reset_parameters(self):
        bound = math.sqrt(3.0) * self.init_std
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            # Top level = the power of two nearest the largest initial weight.
            self.alpha.copy_(power_of_two_alpha(self.shape[0], bound))

    def _round(self, stochastic):
        return round_to_encoding(self.weight, self.alpha, self.encoding, stochastic=stochastic,
                                 underflow="clamp")

    def forward(self):
        codes = self._round(self.training and self.rounding == "stochastic")
        exact = self.encoding.decode(codes, self.alpha)
        return _straight_through(exact, self.weight)

    def codes(self):
        return self._round(False)

    def init_from_float(self, weight):
        with torch.no_grad():
            self.weight.copy_(weight)
            top = float(weight.abs().max()) or 1.0
            self.alpha.copy_(power_of_two_alpha(self.shape[0], top))


class DeepShiftPSWeight(ShiftWeight):
    """DeepShift-PS: trained shift and sign parameters.

    ``e = clamp(round(shift))``, ternary ``s = round(clamp(sign, -1, 1))`` so
    zero is possible.  Gradients: ``dw/dsign = alpha 2^e`` and
    ``dw/dshift = ln2 * w`` (identity STE through the roundings).
    """

    zero_free = False

    def __init__(self, shape, fan_in, bits):
        super().__init__(shape, fan_in, bits)
        self.shift = nn.Parameter(torch.empty(self.shape))
        self.sign = nn.Parameter(torch.empty(self.shape))
        self.register_buffer("alpha", power_of_two_alpha(self.shape[0], 1.0))
        self.reset_parameters()

    default_emin = staticmethod(DeepShiftQWeight.default_emin)

    def reset_parameters(self):
        bound = math.sqrt(3.0) * self.init_std
        self.init_from_float(torch.empty(self.shape).uniform_(-bound, bound))

    def _quantized(self):
        enc = self.encoding
        exponent = torch.round(self.shift.detach()).clamp(enc.emin, enc.emax)
        sign = torch.round(self.sign.detach().clamp(-1.0, 1.0))
        return sign, exponent

    def forward(self):
        sign, exponent = self._quantized()
        power = torch.ldexp(torch.ones_like(exponent), exponent.to(torch.int32))
        exact = sign * power
        surrogate = self.sign * power + sign * power * math.log(2.0) * self.shift
        return self._alpha() * _straight_through(exact, surrogate)

    def codes(self):
        with torch.no_grad():
            sign, exponent = self._quantized()
            k = torch.where(sign == 0, torch.zeros_like(exponent), exponent - self.encoding.emin)
            return torch.stack([sign.to(torch.int8), k.to(torch.int8)])

    def init_from_float(self, weight):
        with torch.no_grad():
            top = float(weight.abs().max()) or 1.0
            self.alpha.copy_(power_of_two_alpha(self.shape[0], top))
            ratio = weight.abs() / self._alpha()
            log = torch.log2(ratio.clamp_min(1e-30))
            self.shift.copy_(log.clamp(self.encoding.emin, self.encoding.emax))
            self.sign.copy_(torch.where(weight < 0, -1.0, 1.0))


class S3Weight(ShiftWeight):
    """S3 sign-sparse-shift: ``w = alpha * s * z * 2^(emin + k)``.

    Binary latents for the sign, the sparsity gate ``z`` (zero code when 0)
    and ``2^(b-1) - 2`` shift latents read as a thermometer; identity STEs and
    the exact ``2^k`` derivative, as the released S3 code.  :meth:`regularizer`
    is the dense-weight term ``sum(relu(-gate_latent))`` that discourages
    pruning.
    """

    zero_free = False

    def __init__(self, shape, fan_in, bits):
        super().__init__(shape, fan_in, bits)
        self.sign_latent = nn.Parameter(torch.empty(self.shape))
        self.gate_latent = nn.Parameter(torch.empty(self.shape))
        self.shift_latent = nn.Parameter(torch.empty((self.encoding.num_exponents - 1,) + self.shape))
        self.register_buffer("alpha", power_of_two_alpha(self.shape[0], self.init_std))
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            self.sign_latent.normal_(0.0, LATENT_INIT_STD)
            # |N(0, 1e-3)|: start dense, so pruning is learned, not drawn.
            self.gate_latent.normal_(0.0, LATENT_INIT_STD).abs_()
            self.shift_latent.normal_(0.0, LATENT_INIT_STD)

    def forward(self):
        sign = binarize_sign(self.sign_latent)
        gate = binarize01(self.gate_latent)
        k = thermometer(binarize01(self.shift_latent))
        power = torch.pow(2.0, k + self.encoding.emin)
        surrogate = sign * gate * power
        exact = torch.ldexp(sign.detach() * gate.detach(), (k.detach() + self.encoding.emin).to(torch.int32))
        return self._alpha() * _straight_through(exact, surrogate)

    def codes(self):
        with torch.no_grad():
            gate = self.gate_latent >= 0
            sign = torch.where(self.sign_latent >= 0, 1, -1) * gate
            k = thermometer((self.shift_latent >= 0).to(torch.float32)) * gate
            return torch.stack([sign.to(torch.int8), k.to(torch.int8)])

    def regularizer(self):
        return torch.relu(-self.gate_latent).sum()

    def init_from_float(self, weight):
        codes = round_to_encoding(weight, self.alpha, self.encoding)
        with torch.no_grad():
            self.sign_latent.copy_(torch.where(weight < 0, -1.0, 1.0) * LATENT_INIT_STD)
            self.gate_latent.fill_(LATENT_INIT_STD)
            levels = torch.arange(self.shift_latent.shape[0]).view(-1, *([1] * len(self.shape)))
            active = levels < codes[1].unsqueeze(0).long()
            self.shift_latent.copy_(torch.where(active, 1.0, -1.0) * LATENT_INIT_STD)


SCHEMES = {
    "denseshift": DenseShiftWeight,
    "deepshift-q": DeepShiftQWeight,
    "deepshift-ps": DeepShiftPSWeight,
    "s3": S3Weight,
}


def make_shift_weight(scheme, shape, fan_in, bits, **options):
    """Build the parametrization named ``scheme`` (clear error if unknown)."""
    check_bits(bits)
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {sorted(SCHEMES)}")
    return SCHEMES[scheme](shape, fan_in, bits, **options)
