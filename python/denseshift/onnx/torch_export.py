"""Export a shift-trained PyTorch model to ONNX with exact sign-scale weights.

A shift layer's forward computes its weight from latents with ops ONNX does
not have (``cumprod``, straight-through estimators), so ``torch.onnx.export``
cannot trace it.  :func:`plain_model` returns a copy in which every
``ShiftConv2d`` / ``ShiftLinear`` is an ``nn.Conv2d`` / ``nn.Linear`` holding
the layer's decoded weight ``alpha[o] * s * 2^e`` (bit-exact), which is what
``denseshift-opt``'s ``shift-from-linalg`` (``mode=exact``) recognises after
``python3 -m denseshift.onnx``.  BatchNorm folding by the ONNX exporter keeps
the form (it scales each output channel, i.e. alpha).
"""
import copy

import torch
from torch import nn

from denseshift.layers import ShiftConv2d, ShiftLinear


def _plain(layer):
    bias = layer.bias is not None
    if isinstance(layer, ShiftConv2d):
        plain = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                          stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                          groups=layer.groups, bias=bias)
    else:
        plain = nn.Linear(layer.in_features, layer.out_features, bias=bias)
    with torch.no_grad():
        plain.weight.copy_(layer.quantized_weight())
        if bias:
            plain.bias.copy_(layer.bias)
    return plain


def plain_model(model):
    """A deep copy of ``model`` (in eval mode) with shift layers as plain layers."""
    model = copy.deepcopy(model).eval()
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, (ShiftConv2d, ShiftLinear)):
                setattr(module, child_name, _plain(child))
    return model


def export_onnx(model, example_input, path, opset_version=13, **kwargs):
    """``torch.onnx.export`` of :func:`plain_model` (eval mode, static shapes)."""
    torch.onnx.export(plain_model(model), example_input, path, opset_version=opset_version,
                      **kwargs)
    return path
