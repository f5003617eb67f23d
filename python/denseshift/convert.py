"""``convert``: swap the ``nn.Conv2d`` / ``nn.Linear`` layers of any model."""
from torch import nn

from .encoding import check_bits
from .layers import ShiftConv2d, ShiftLinear
from .schemes import SCHEMES


def _convertible(model):
    return [(name, m) for name, m in model.named_modules()
            if type(m) in (nn.Conv2d, nn.Linear)]


def _replacement(layer, scheme, bits, rounding):
    bias = layer.bias is not None
    if isinstance(layer, nn.Conv2d):
        if layer.padding_mode != "zeros" or isinstance(layer.padding, str):
            raise ValueError(f"cannot convert {layer}: only numeric zero padding is supported")
        return ShiftConv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                           stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                           groups=layer.groups, bias=bias, bits=bits, scheme=scheme,
                           rounding=rounding)
    return ShiftLinear(layer.in_features, layer.out_features, bias=bias, bits=bits,
                       scheme=scheme, rounding=rounding)


def convert(model, scheme="denseshift", bits=3, keep_first_last=True, from_float=False,
            rounding="deterministic"):
    """Replace Conv2d/Linear layers of ``model`` in place by shift layers.

    ``keep_first_last`` keeps the first and the last convertible layer (in
    registration order) in float, the usual practice for shift networks.
    ``from_float`` starts each scheme from the replaced layer's weights
    (log-domain rounding); otherwise the scheme's own initialisation is used.
    Returns ``model``.  The new layers are on the CPU in float32.
    """
    check_bits(bits)
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {sorted(SCHEMES)}")
    targets = _convertible(model)
    if keep_first_last:
        targets = targets[1:-1]
    for name, layer in targets:
        shift = _replacement(layer, scheme, bits, rounding)
        if from_float:
            shift.init_from_float(layer.weight, layer.bias)
        shift.train(layer.training)
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, shift)
    return model
