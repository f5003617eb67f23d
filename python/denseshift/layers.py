"""Shift layers: drop-in replacements for ``nn.Conv2d`` and ``nn.Linear``.

The weight is not a parameter but the output of a scheme
(:mod:`denseshift.schemes`): ``layer.weight`` is the effective weight
``alpha[o] * s * 2^(emin + k)``, exactly in the scheme's value set.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair

from .encoding import check_bits
from .schemes import make_shift_weight


class _ShiftLayer(nn.Module):
    """What every shift layer exposes: encoding, codes and quantized weight."""

    def _build_weight(self, shape, fan_in, bits, scheme, bias, rounding):
        self.bits = check_bits(bits)
        self.scheme = scheme
        options = {"rounding": rounding} if scheme == "deepshift-q" else {}
        if rounding != "deterministic" and scheme != "deepshift-q":
            raise ValueError(f"rounding={rounding!r} only applies to scheme 'deepshift-q'")
        self.shift_weight = make_shift_weight(scheme, shape, fan_in, bits, **options)
        self.bias = nn.Parameter(torch.zeros(shape[0])) if bias else None
        if bias:
            bound = fan_in ** -0.5
            nn.init.uniform_(self.bias, -bound, bound)

    @property
    def weight(self):
        """Effective weight with its straight-through gradient graph."""
        return self.shift_weight()

    @property
    def encoding(self):
        return self.shift_weight.encoding

    @property
    def alpha(self):
        return self.shift_weight.alpha

    def quantized_weight(self):
        return self.shift_weight.quantized_weight()

    def codes(self):
        return self.shift_weight.codes()

    def regularizer(self):
        return self.shift_weight.regularizer()

    def init_from_float(self, weight, bias=None):
        self.shift_weight.init_from_float(weight.detach())
        if bias is not None and self.bias is not None:
            with torch.no_grad():
                self.bias.copy_(bias)


class ShiftConv2d(_ShiftLayer):
    """2-D convolution with shift weights (NCHW input, FCHW weight)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, bits=3, scheme="denseshift",
                 rounding="deterministic"):
        super().__init__()
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        self.padding, self.dilation = _pair(padding), _pair(dilation)
        self.groups = groups
        if min(self.stride) <= 0 or min(self.dilation) <= 0 or min(self.padding) < 0:
            raise ValueError("stride and dilation must be positive, padding non-negative")
        shape = (out_channels, in_channels // groups) + self.kernel_size
        fan_in = shape[1] * shape[2] * shape[3]
        self._build_weight(shape, fan_in, bits, scheme, bias, rounding)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"groups={self.groups}, bias={self.bias is not None}, bits={self.bits}, "
                f"scheme={self.scheme}")


class ShiftLinear(_ShiftLayer):
    """Fully connected layer with shift weights (weight shape out x in)."""

    def __init__(self, in_features, out_features, bias=True, bits=3, scheme="denseshift",
                 rounding="deterministic"):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self._build_weight((out_features, in_features), in_features, bits, scheme, bias, rounding)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}, bits={self.bits}, scheme={self.scheme}")


SHIFT_LAYERS = (ShiftConv2d, ShiftLinear)


def shift_layers(model):
    """(name, layer) for every shift layer of ``model``, in registration order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, SHIFT_LAYERS)]


def regularization(model):
    """Sum of every shift layer's scheme regularizer (S3's dense-weight term)."""
    terms = [m.regularizer() for _, m in shift_layers(model)]
    return torch.stack(terms).sum() if terms else torch.zeros(())
