"""Export a trained model to MLIR (the contract is in docs/python.md).

    python3 -m denseshift.export CHECKPOINT -o model.mlir [--batch N]

The model is traced with torch.fx; every node becomes upstream tensor/linalg/
arith ops in ``func.func @forward``.  BatchNorm following a conv/linear layer
is folded into it: for a shift layer the exported constant stays exactly
``alpha'[o] * s * 2^e`` with ``alpha' = alpha * gamma / sqrt(var + eps)``.
"""
import argparse
import operator
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from .checkpoint import CheckpointError, atomic_write_text, load_model
from .layers import SHIFT_LAYERS, ShiftConv2d, ShiftLinear
from .mlir_writer import MLIRWriter

INPUT_SHAPE = (1, 28, 28)
IDENTITY_MODULES = (nn.Identity, nn.Dropout)
CONV_MODULES = (nn.Conv2d, ShiftConv2d)
LINEAR_MODULES = (nn.Linear, ShiftLinear)
BATCHNORMS = (nn.BatchNorm2d, nn.BatchNorm1d)


class ExportError(RuntimeError):
    """The model uses something the export contract does not cover."""


class _Tracer(fx.Tracer):
    """Shift layers are leaves: the exporter reads their codes, not their graph."""

    def is_leaf_module(self, module, qualified_name):
        return isinstance(module, SHIFT_LAYERS) or super().is_leaf_module(module, qualified_name)


def trace(model, batch):
    graph = _Tracer().trace(model)
    module = fx.GraphModule(model, graph)
    ShapeProp(module).propagate(torch.zeros((batch,) + INPUT_SHAPE))
    return module


def _shape(node):
    meta = node.meta.get("tensor_meta")
    if meta is None or not hasattr(meta, "shape"):
        raise ExportError(f"node {node.name} ({node.target}) does not produce a single tensor")
    return [int(d) for d in meta.shape]


def _batchnorm_scale_shift(bn):
    """Per-channel float64 (scale, shift) of an eval-mode BatchNorm."""
    if bn.running_mean is None:
        raise ExportError(f"{bn} has no running statistics (track_running_stats=False)")
    var = bn.running_var.double()
    scale = torch.ones_like(var) if bn.weight is None else bn.weight.detach().double()
    shift = torch.zeros_like(var) if bn.bias is None else bn.bias.detach().double()
    scale = scale / torch.sqrt(var + bn.eps)
    return scale, shift - bn.running_mean.double() * scale


def folded_weight_and_bias(layer, bn=None):
    """(f32 weight, f32 bias or None) of ``layer`` with ``bn`` folded in.

    Shift layers: ``weight[o] = alpha'[o] * s * 2^(emin+k)`` computed as an f32
    power-of-two scaling of alpha', so it is exact; checked per channel.
    """
    out_channels = layer.weight.shape[0]
    bias = None if layer.bias is None else layer.bias.detach().double()
    scale = shift = None
    if bn is not None:
        scale, shift = _batchnorm_scale_shift(bn)
        bias = shift if bias is None else bias * scale + shift
    if isinstance(layer, SHIFT_LAYERS):
        unit = layer.encoding.decode(layer.codes())                      # s * 2^e, exact f32
        alpha = layer.alpha.double() if scale is None else layer.alpha.double() * scale
        alpha32 = alpha.to(torch.float32).view(-1, *([1] * (unit.dim() - 1)))
        weight = alpha32 * unit
        _check_sign_scale(weight, unit, alpha32, layer)
    else:
        weight = layer.weight.detach().double()
        if scale is not None:
            weight = weight * scale.view(-1, *([1] * (weight.dim() - 1)))
        weight = weight.to(torch.float32)
    bias32 = None if bias is None else bias.to(torch.float32).numpy()
    assert weight.shape[0] == out_channels
    return weight.numpy(), bias32


def _check_sign_scale(weight, unit, alpha32, layer):
    """Every nonzero weight of a channel must be alpha'[o] * (+-2^e), bit-exact."""
    exact = weight.double() == alpha32.double() * unit.double()
    if not bool(exact.all()) or not bool(torch.isfinite(weight).all()):
        raise ExportError(f"{type(layer).__name__}: folded weights over/underflow f32; "
                          "the sign-scale form alpha*s*2^e would not be exact")


def _as_pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


class Exporter:
    """Walks an fx graph and writes each node with :class:`MLIRWriter`."""

    def __init__(self, model, batch):
        self.model = model.eval()
        self.batch = batch
        self.gm = trace(self.model, batch)
        self.modules = dict(self.gm.named_modules())
        self.writer = MLIRWriter()
        self.values = {}       # fx node -> (ssa name, shape)
        self.folded = {}       # BatchNorm node -> conv/linear node it was folded into

    def _module(self, node):
        return self.modules[node.target] if node.op == "call_module" else None

    def _plan_batchnorm_folding(self):
        for node in self.gm.graph.nodes:
            bn = self._module(node)
            if not isinstance(bn, BATCHNORMS):
                continue
            producer = node.args[0]
            layer = self._module(producer) if isinstance(producer, fx.Node) else None
            if not isinstance(layer, CONV_MODULES + LINEAR_MODULES) or len(producer.users) != 1:
                raise ExportError(f"BatchNorm '{node.target}' does not directly follow a conv/linear "
                                  "layer, so it cannot be folded (unsupported)")
            self.folded[producer] = node

    def run(self, header=()):
        self._plan_batchnorm_folding()
        output = None
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                if self.values:
                    raise ExportError("only models with a single input are supported")
                self.values[node] = ("%arg0", _shape(node))
            elif node.op == "output":
                output = node.args[0]
            elif node.op == "call_module":
                self._call_module(node)
            elif node.op in ("call_function", "call_method"):
                self._call_function(node)
            else:
                raise ExportError(f"unsupported graph node {node.op} '{node.target}'")
        if not isinstance(output, fx.Node):
            raise ExportError("the model must return a single tensor")
        result, out_shape = self.values[output]
        return self.writer.function([self.batch, *INPUT_SHAPE], result, out_shape, header)

    def _input(self, node, index=0):
        arg = node.args[index]
        if not isinstance(arg, fx.Node) or arg not in self.values:
            raise ExportError(f"node {node.name}: argument {index} is not a tensor value")
        return self.values[arg]

    def _call_module(self, node):
        module = self._module(node)
        name = node.target
        x, shape = self._input(node)
        out_shape = _shape(node)
        if isinstance(module, BATCHNORMS):
            self.values[node] = self.values[node.args[0]]          # folded into its producer
        elif isinstance(module, IDENTITY_MODULES):
            self.values[node] = (x, shape)
        elif isinstance(module, CONV_MODULES):
            self.values[node] = (self._conv(node, module, x, shape, out_shape), out_shape)
        elif isinstance(module, LINEAR_MODULES):
            self.values[node] = (self._linear(node, module, x, shape, out_shape), out_shape)
        elif isinstance(module, nn.ReLU):
            self.values[node] = (self.writer.relu(name, x, shape), shape)
        elif isinstance(module, nn.MaxPool2d):
            self.values[node] = (self._max_pool(node, module, x, shape, out_shape), out_shape)
        elif isinstance(module, nn.AvgPool2d):
            self.values[node] = (self._avg_pool(node, module, x, shape, out_shape), out_shape)
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            self.values[node] = (self._adaptive_avg_pool(node, x, shape, out_shape), out_shape)
        elif isinstance(module, nn.Flatten):
            self.values[node] = self._flatten(name, x, shape, module.start_dim, module.end_dim)
        else:
            raise ExportError(f"unsupported module '{name}' ({type(module).__name__}); "
                              "see the export contract in docs/python.md")

    def _call_function(self, node):
        target = node.target
        if target in (operator.add, torch.add, "add") and len(node.args) == 2 and not node.kwargs:
            (a, a_shape), (b, b_shape) = self._input(node, 0), self._input(node, 1)
            if a_shape != b_shape:
                raise ExportError(f"node {node.name}: broadcasting add is not supported")
            self.values[node] = (self.writer.add(node.name, a, b, a_shape), a_shape)
        elif target in (F.relu, torch.relu, "relu"):
            x, shape = self._input(node)
            self.values[node] = (self.writer.relu(node.name, x, shape), shape)
        elif target in (torch.flatten, "flatten"):
            x, shape = self._input(node)
            start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
            end = node.args[2] if len(node.args) > 2 else node.kwargs.get("end_dim", -1)
            self.values[node] = self._flatten(node.name, x, shape, start, end)
        else:
            label = getattr(target, "__name__", target)
            raise ExportError(f"unsupported operation '{label}' (node {node.name}); "
                              "see the export contract in docs/python.md")

    def _flatten(self, name, x, shape, start, end):
        start, end = start % len(shape), end % len(shape)
        if start == end:
            return x, shape
        return self.writer.collapse(name, x, shape, start, end)

    def _layer_comment(self, node, layer, bn):
        folded = f", BatchNorm '{bn.target}' folded" if bn is not None else ""
        if isinstance(layer, SHIFT_LAYERS):
            self.writer.comment(f"{node.target}: shift weight ({layer.scheme}), "
                                f"{layer.encoding.mlir_attr()}{folded}")
            # Hint only: emin is relative to the pre-folding alpha, so it is left out.
            enc = layer.encoding
            return f'denseshift.encoding = "bits={enc.bits},zero_free={str(enc.zero_free).lower()}"'
        self.writer.comment(f"{node.target}: float weight{folded}")
        return ""

    def _conv(self, node, conv, x, shape, out_shape):
        if getattr(conv, "padding_mode", "zeros") != "zeros" or isinstance(conv.padding, str):
            raise ExportError(f"conv '{node.target}': only numeric zero padding is supported")
        bn = self.folded.get(node)
        weight, bias = folded_weight_and_bias(conv, self._module(bn) if bn is not None else None)
        hints = self._layer_comment(node, conv, bn)
        padding = _as_pair(conv.padding)
        if any(padding):
            x, shape = self.writer.pad(node.target, x, shape, padding, padding, 0.0)
        result = self.writer.conv2d(node.target, x, shape, weight, _as_pair(conv.stride),
                                    _as_pair(conv.dilation), conv.groups, out_shape, hints)
        if bias is not None:
            result = self.writer.bias_add(node.target, result, out_shape, bias)
        return result

    def _linear(self, node, linear, x, shape, out_shape):
        if len(shape) != 2:
            raise ExportError(f"linear '{node.target}' needs a 2-D (N x K) input, got {shape}; "
                              "flatten first")
        bn = self.folded.get(node)
        weight, bias = folded_weight_and_bias(linear, self._module(bn) if bn is not None else None)
        hints = self._layer_comment(node, linear, bn)
        result = self.writer.matmul(node.target, x, shape, np.ascontiguousarray(weight.T), hints)
        if bias is not None:
            result = self.writer.bias_add(node.target, result, out_shape, bias)
        return result

    def _check_pool(self, node, pool, shape, out_shape, kernel, stride, padding, dilation):
        expected = [(shape[2 + i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
                    for i in range(2)]
        if expected != out_shape[2:]:
            raise ExportError(f"pool '{node.target}': ceil_mode output sizes are not supported")
        if getattr(pool, "return_indices", False):
            raise ExportError(f"pool '{node.target}': return_indices is not supported")

    def _max_pool(self, node, pool, x, shape, out_shape):
        kernel, padding = _as_pair(pool.kernel_size), _as_pair(pool.padding)
        stride = _as_pair(pool.stride if pool.stride is not None else pool.kernel_size)
        dilation = _as_pair(pool.dilation)
        self._check_pool(node, pool, shape, out_shape, kernel, stride, padding, dilation)
        if any(padding):
            x, shape = self.writer.pad(node.target, x, shape, padding, padding, float("-inf"))
        return self.writer.pool("max", node.target, x, shape, kernel, stride, dilation, out_shape)

    def _avg_pool(self, node, pool, x, shape, out_shape):
        kernel, padding = _as_pair(pool.kernel_size), _as_pair(pool.padding)
        stride = _as_pair(pool.stride if pool.stride is not None else pool.kernel_size)
        self._check_pool(node, pool, shape, out_shape, kernel, stride, padding, (1, 1))
        if any(padding) and not pool.count_include_pad:
            raise ExportError(f"pool '{node.target}': count_include_pad=False with padding "
                              "is not supported")
        if any(padding):
            x, shape = self.writer.pad(node.target, x, shape, padding, padding, 0.0)
        total = self.writer.pool("sum", node.target + "_sum", x, shape, kernel, stride, (1, 1), out_shape)
        divisor = pool.divisor_override or kernel[0] * kernel[1]
        return self.writer.divide(node.target, total, out_shape, float(divisor))

    def _adaptive_avg_pool(self, node, x, shape, out_shape):
        h, w = shape[2:]
        oh, ow = out_shape[2:]
        if h % oh or w % ow:
            raise ExportError(f"adaptive pool '{node.target}': {h}x{w} -> {oh}x{ow} has uneven windows")
        kernel = (h // oh, w // ow)
        total = self.writer.pool("sum", node.target + "_sum", x, shape, kernel, kernel, (1, 1), out_shape)
        return self.writer.divide(node.target, total, out_shape, float(kernel[0] * kernel[1]))


def export_model(model, batch=1, header=()):
    """MLIR text of ``model`` for a batch of ``batch`` 1x28x28 inputs."""
    if batch <= 0:
        raise ExportError("--batch must be positive")
    try:
        return Exporter(model, batch).run(header)
    except fx.proxy.TraceError as err:
        raise ExportError(f"torch.fx cannot trace the model: {err}") from err


def export_checkpoint(checkpoint, output, batch=1):
    """Export ``checkpoint`` to ``output`` atomically; returns the MLIR text."""
    model, config = load_model(checkpoint)
    header = [f"Exported by denseshift.export from {os.path.basename(checkpoint)}: model "
              f"{config['model']}, scheme {config['scheme']}, bits {config['bits']}, batch {batch}.",
              "Input: images normalised with data.MEAN/STD. Contract: docs/python.md."]
    text = export_model(model, batch, header)
    atomic_write_text(output, text)
    return text


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m denseshift.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("-o", "--output", required=True, help="MLIR file to write")
    p.add_argument("--batch", type=int, default=1, help="static batch size N of @forward")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        export_checkpoint(args.checkpoint, args.output, args.batch)
    except (ExportError, CheckpointError) as err:
        print(f"denseshift.export: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
