"""Export a trained model to MLIR (the contract is in docs/python.md).

    python3 -m denseshift.export CHECKPOINT -o model.mlir [--input-shape 3x224x224] [--batch N]

The model is traced with torch.fx and run once on an example batch, which
records every node's shape (and the value of every node that does not depend
on the input: parameters, sizes, constant tensors).  Every node becomes
upstream tensor/linalg/arith/math ops in ``func.func @forward``; composite
torch.nn modules (MultiheadAttention, TransformerEncoder(Layer), LSTM, GRU)
are written out from their parameters (recurrences unrolled over the static
sequence length).  BatchNorm following a conv/linear layer is folded into it:
for a shift layer the exported constant stays exactly ``alpha'[o] * s * 2^e``
with ``alpha' = alpha * gamma / sqrt(var + eps)``; other BatchNorms become a
per-channel scale and shift.
"""
import argparse
import dis
import inspect
import math
import operator
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn

from .checkpoint import CheckpointError, atomic_write_text, load_model
from .layers import SHIFT_LAYERS, ShiftConv2d, ShiftLinear
from .mlir_writer import MLIRWriter, tensor_type

INPUT_SHAPE = (1, 28, 28)
# --input-dtype -> (element type of the exported value, torch dtype of the example
# input).  The entry point always takes f32 (the ABI of runtime/denseshift_runtime.h):
# token ids travel as f32 values ("ids", exact below 2^24) read only by embeddings.
INPUT_DTYPES = {"float32": ("f32", torch.float32), "int64": ("ids", torch.int64)}
IDENTITY_MODULES = (nn.Identity, nn.Dropout, nn.Dropout2d, nn.AlphaDropout)
CONV_MODULES = (nn.Conv2d, ShiftConv2d, nn.Conv1d)
LINEAR_MODULES = (nn.Linear, ShiftLinear)
BATCHNORMS = (nn.BatchNorm2d, nn.BatchNorm1d)
TORCH_DTYPES = {torch.float32: "f32", torch.int32: "i32", torch.int64: "i64", torch.bool: "i1"}


class ExportError(RuntimeError):
    """The model uses something the export contract does not cover."""


class _Tracer(fx.Tracer):
    """Shift layers are leaves: the exporter reads their codes, not their graph.
    (torch.nn's own modules, MultiheadAttention and LSTM included, are leaves
    by fx's default.)"""

    def is_leaf_module(self, module, qualified_name):
        return isinstance(module, SHIFT_LAYERS) or super().is_leaf_module(module, qualified_name)


def _spec(value):
    """Nested (shape, dtype) structure of a node's result; None for non-tensors."""
    if isinstance(value, torch.Tensor):
        return (list(value.shape), value.dtype)
    if isinstance(value, (tuple, list)):
        return [_spec(v) for v in value]
    return None


def _has_tensor(value):
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (tuple, list)):
        return any(_has_tensor(v) for v in value)
    if isinstance(value, dict):
        return any(_has_tensor(v) for v in value.values())
    return False


class _Recorder(fx.Interpreter):
    """Runs the graph once; records shapes, and the values of the nodes that
    do not depend on the input (and of every non-tensor result, e.g. sizes)."""

    def __init__(self, gm, dependent):
        super().__init__(gm)
        self.dependent = dependent

    def run_node(self, n):
        try:
            result = super().run_node(n)
        except ExportError:
            raise
        except Exception as err:
            raise ExportError(f"the model fails on the example input at node {n.name} "
                              f"({_label_of(n, self.module)}): {type(err).__name__}: {err}") from err
        n.meta["ds_spec"] = _spec(result)
        n.meta["ds_dependent"] = n in self.dependent
        if n not in self.dependent or not _has_tensor(result):
            n.meta["ds_value"] = result.detach() if isinstance(result, torch.Tensor) else result
        return result


def _label_of(node, root):
    if node.op == "call_module":
        try:
            module = root.get_submodule(node.target)
            return f"module '{node.target}' ({type(module).__name__})"
        except AttributeError:
            return f"module '{node.target}'"
    if node.op == "call_method":
        return f"method '{node.target}'"
    if node.op == "call_function":
        return f"function '{getattr(node.target, '__name__', node.target)}'"
    return f"{node.op} '{node.target}'"


def _proxy_iter(self):
    """``a, b = proxy`` while tracing.  torch 1.13's ``Proxy.__iter__`` finds the
    calling UNPACK_SEQUENCE with ``f_lasti // 2``, which is wrong on Python
    3.11 (inline caches), and fails with a bare IndexError (e.g. on
    ``out, state = self.lstm(x)``); find the instruction by its offset."""
    frame = inspect.currentframe().f_back
    inst = next((i for i in dis.get_instructions(frame.f_code) if i.offset == frame.f_lasti), None)
    if inst is not None and inst.opname == "UNPACK_SEQUENCE":
        return (self[i] for i in range(inst.argval))
    return self.tracer.iter(self)


def trace(model, batch, input_shape=INPUT_SHAPE, input_dtype="float32"):
    """fx GraphModule of ``model``, run once on a zero batch to record shapes."""
    original_iter = fx.Proxy.__iter__
    fx.Proxy.__iter__ = _proxy_iter
    try:
        graph = _Tracer().trace(model)
    except ExportError:
        raise
    except Exception as err:
        raise ExportError(f"torch.fx cannot trace the model: {type(err).__name__}: {err}") from err
    finally:
        fx.Proxy.__iter__ = original_iter
    module = fx.GraphModule(model, graph)
    dependent = set()
    for node in module.graph.nodes:
        if node.op == "placeholder" or any(a in dependent for a in node.all_input_nodes):
            dependent.add(node)
    example = torch.zeros((batch,) + tuple(input_shape), dtype=INPUT_DTYPES[input_dtype][1])
    with torch.no_grad():
        _Recorder(module, dependent).run(example)
    return module


class Value:
    """A tensor of the exported function: an SSA name (or a constant not yet
    written), its static shape and element type."""

    __slots__ = ("ssa", "shape", "dtype", "const")

    def __init__(self, ssa, shape, dtype="f32", const=None):
        self.ssa, self.shape, self.dtype, self.const = ssa, [int(d) for d in shape], dtype, const

    def __repr__(self):
        return f"Value({self.ssa}, {self.shape}, {self.dtype})"


def _elem(dtype):
    """MLIR element type of a Value's dtype (token ids are carried as f32)."""
    return "f32" if dtype == "ids" else dtype


def _as_pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _numpy_f32(tensor):
    return np.ascontiguousarray(tensor.detach().to(torch.float32).cpu().numpy())


def _dims(dim, rank):
    """Normalised, sorted list of dimensions from an int, a sequence or None (all)."""
    if dim is None:
        return list(range(rank))
    if isinstance(dim, int):
        dim = [dim]
    return sorted({int(d) % rank for d in dim})


def _softmax_dim(dim, rank):
    if dim is None:  # PyTorch's legacy implicit choice
        dim = 0 if rank in (0, 1, 3) else 1
    return dim % rank


# Unary elementwise ops: name -> body(b, x, **params)
def _gelu(b, x, approximate="none"):
    if approximate == "tanh":
        inner = b.mul(b.add(x, b.mul(b.mul(b.mul(x, x), x), 0.044715)), math.sqrt(2.0 / math.pi))
        return b.mul(b.mul(x, 0.5), b.add(1.0, b.tanh(inner)))
    return b.mul(b.mul(x, 0.5), b.add(1.0, b.erf(b.mul(x, 1.0 / math.sqrt(2.0)))))


def _clamp(b, x, lo=None, hi=None):
    if lo is not None:
        x = b.max(x, float(lo))
    if hi is not None:
        x = b.min(x, float(hi))
    return x


UNARY = {
    "relu": lambda b, x: b.max(x, 0.0),
    "clamp": _clamp,
    "sigmoid": lambda b, x: b.sigmoid(x),
    "tanh": lambda b, x: b.tanh(x),
    "silu": lambda b, x: b.mul(x, b.sigmoid(x)),
    "gelu": _gelu,
    "hardswish": lambda b, x: b.div(b.mul(x, _clamp(b, b.add(x, 3.0), 0.0, 6.0)), 6.0),
    "hardsigmoid": lambda b, x: b.div(_clamp(b, b.add(x, 3.0), 0.0, 6.0), 6.0),
    "leaky_relu": lambda b, x, slope=0.01: b.add(b.max(x, 0.0), b.mul(b.min(x, 0.0), float(slope))),
    "exp": lambda b, x: b.exp(x),
    "log": lambda b, x: b.math("log", x),
    "sqrt": lambda b, x: b.math("sqrt", x),
    "rsqrt": lambda b, x: b.div(1.0, b.math("sqrt", x)),
    "abs": lambda b, x: b.math("absf", x),
    "neg": lambda b, x: b.neg(x),
}

BINARY = {
    "add": lambda b, x, y: b.add(x, y),
    "sub": lambda b, x, y: b.sub(x, y),
    "mul": lambda b, x, y: b.mul(x, y),
    "div": lambda b, x, y: b.div(x, y),
}

# call_function targets and call_method names -> handler (method _op_<name>)
FUNCTIONS = {
    operator.add: "add", operator.iadd: "add", torch.add: "add", "add": "add", "add_": "add",
    operator.sub: "sub", operator.isub: "sub", torch.sub: "sub", "sub": "sub",
    torch.rsub: "rsub",
    operator.mul: "mul", operator.imul: "mul", torch.mul: "mul", "mul": "mul", "mul_": "mul",
    operator.truediv: "div", operator.itruediv: "div", torch.div: "div", "div": "div",
    operator.neg: "neg", torch.neg: "neg", "neg": "neg",
    operator.pow: "pow", torch.pow: "pow", "pow": "pow",
    F.relu: "relu", torch.relu: "relu", "relu": "relu", "relu_": "relu",
    F.relu6: "relu6", F.hardtanh: "hardtanh", torch.clamp: "clamp", "clamp": "clamp",
    torch.clip: "clamp", "clip": "clamp",
    F.hardswish: "hardswish", F.hardsigmoid: "hardsigmoid",
    torch.sigmoid: "sigmoid", "sigmoid": "sigmoid", F.sigmoid: "sigmoid",
    torch.tanh: "tanh", "tanh": "tanh", F.tanh: "tanh",
    F.silu: "silu", F.gelu: "gelu", F.leaky_relu: "leaky_relu",
    torch.exp: "exp", "exp": "exp", torch.log: "log", "log": "log",
    torch.sqrt: "sqrt", "sqrt": "sqrt", torch.rsqrt: "rsqrt", "rsqrt": "rsqrt",
    torch.abs: "abs", "abs": "abs",
    F.softmax: "softmax", torch.softmax: "softmax", "softmax": "softmax",
    F.log_softmax: "log_softmax", torch.log_softmax: "log_softmax", "log_softmax": "log_softmax",
    F.layer_norm: "layer_norm",
    torch.matmul: "matmul", operator.matmul: "matmul", "matmul": "matmul",
    torch.bmm: "matmul", "bmm": "matmul", F.linear: "linear",
    torch.cat: "cat", torch.concat: "cat", torch.stack: "stack",
    torch.transpose: "transpose", "transpose": "transpose", "t": "t", torch.t: "t",
    torch.permute: "permute", "permute": "permute",
    "view": "reshape", "reshape": "reshape", torch.reshape: "reshape",
    torch.flatten: "reshape", "flatten": "reshape", torch.unsqueeze: "reshape",
    "unsqueeze": "reshape", torch.squeeze: "reshape", "squeeze": "reshape",
    "view_as": "reshape", "reshape_as": "reshape",
    "expand": "expand", "expand_as": "expand",
    "contiguous": "identity", "clone": "identity", torch.clone: "identity", "detach": "identity",
    F.dropout: "identity", "float": "identity",
    torch.chunk: "split", "chunk": "split", torch.split: "split", "split": "split",
    torch.unbind: "split", "unbind": "split",
    operator.getitem: "getitem",
    torch.mean: "mean", "mean": "mean", torch.sum: "sum", "sum": "sum",
    torch.amax: "amax", "amax": "amax",
    F.adaptive_avg_pool2d: "adaptive_avg_pool2d", F.max_pool2d: "max_pool2d",
    F.avg_pool2d: "avg_pool2d",
    F.embedding: "embedding", F.pad: "pad", F.group_norm: "group_norm",
}
try:  # torchvision's fx-wrapped stochastic depth (EfficientNet, ...): identity in eval
    from torchvision.ops import stochastic_depth as _stochastic_depth
    FUNCTIONS[_stochastic_depth] = "stochastic_depth"
except ImportError:  # pragma: no cover - torchvision is optional
    pass
# Methods whose (python) result depends on the data: cannot be static.
DATA_DEPENDENT = {"item", "tolist", "numpy", "nonzero", "__bool__", "__int__", "__float__"}


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


class LinalgBuilder:
    """Tensor-level building blocks over :class:`MLIRWriter` (elementwise with
    broadcasting, reductions, reshapes, softmax, layer norm, linear/matmul, concat,
    slices, pools) on :class:`Value`'s; shared by the PyTorch exporter and the
    ONNX importer (``denseshift.onnx``).  Errors are :class:`ExportError`."""

    def __init__(self):
        self.writer = MLIRWriter()

    def ssa(self, v, hint="const"):
        """SSA name of a Value, writing its constant on first use."""
        if v.ssa is None:
            if v.dtype != "f32":
                raise ExportError(f"a constant {v.dtype} tensor is used by the computation; "
                                  "only float32 constants are supported")
            v.ssa = self.writer.constant(hint, v.const)
        return v.ssa

    def _tensor(self, v, what="argument"):
        if not isinstance(v, Value):
            raise ExportError(f"{what} must be a tensor, got {type(v).__name__}")
        return v

    def _f32(self, v, what="argument"):
        v = self._tensor(v, what)
        if v.dtype != "f32":
            raise ExportError(f"{what} must be float32, got {v.dtype}")
        return v

    def _broadcast_input(self, v, out_shape, hint):
        """(ssa, shape, dtype, loop dims) reading ``v`` broadcast to ``out_shape``;
        unit dimensions that broadcast are collapsed away first, so every
        indexing map is a projected permutation."""
        rank, offset = len(v.shape), len(out_shape) - len(v.shape)
        if offset < 0:
            raise ExportError(f"cannot broadcast {v.shape} to {out_shape}")
        keep = []
        for i, d in enumerate(v.shape):
            o = out_shape[offset + i]
            if d == o:
                keep.append(True)
            elif d == 1:
                keep.append(False)
            else:
                raise ExportError(f"cannot broadcast {v.shape} to {out_shape}")
        ssa, shape = self.ssa(v, hint + "_const"), v.shape
        if not all(keep):
            groups, pending = [], []
            for i in range(rank):
                if keep[i]:
                    groups.append(pending + [i])
                    pending = []
                else:
                    pending.append(i)
            if pending and groups:
                groups[-1].extend(pending)
            ssa, shape = self.writer.collapse_groups(hint + "_squeezed", ssa, shape, groups, v.dtype)
        dims = [offset + i for i in range(rank) if keep[i]]
        return ssa, shape, v.dtype, dims

    def elementwise(self, hint, operands, out_shape, fn):
        """``fn(b, *scalars)`` over broadcast operands (Values or python numbers)."""
        inputs, slots = [], []
        for v in operands:
            if isinstance(v, Value):
                self._f32(v, "an elementwise operand")
                slots.append(len(inputs))
                inputs.append(self._broadcast_input(v, out_shape, hint))
            elif isinstance(v, (bool, int, float)):
                slots.append(float(v))
            else:
                raise ExportError(f"elementwise operand of type {type(v).__name__} is not supported")

        def body(b, args):
            scalars = [args[s] if isinstance(s, int) else b.const(s) for s in slots]
            return fn(b, *scalars)

        return Value(self.writer.generic(hint, inputs, out_shape, body), out_shape)

    def unary(self, hint, x, name, **params):
        x = self._f32(x)
        if name == "relu":   # the contract's form (body constant %zero)
            return Value(self.writer.relu(hint, self.ssa(x), x.shape), x.shape)
        return self.elementwise(hint, [x], x.shape, lambda b, a: UNARY[name](b, a, **params))

    def reduce(self, hint, x, dims, kind="sum", keep_shape=None):
        """Sum/max of ``x`` over ``dims``; result has the other dims (or ``keep_shape``)."""
        x = self._f32(x)
        rank = len(x.shape)
        kept = [d for d in range(rank) if d not in dims]
        out_shape = [x.shape[d] for d in kept]
        init = self.writer.filled(hint, out_shape, 0.0 if kind == "sum" else float("-inf"))
        combine = (lambda b, a: b.add(a[1], a[0])) if kind == "sum" else \
            (lambda b, a: b.max(a[1], a[0]))
        name = self.writer.generic(hint, [(self.ssa(x), x.shape, "f32", list(range(rank)))],
                                   out_shape, combine, reductions=set(dims), init=init,
                                   out_map=kept)
        result = Value(name, out_shape)
        if keep_shape is not None:
            result = self.reshape(hint + "_keepdim", result, keep_shape)
        return result

    def reshape(self, hint, x, new_shape):
        x = self._tensor(x)
        ssa, shape = self.writer.reshape(hint, self.ssa(x), x.shape, new_shape, _elem(x.dtype))
        return Value(ssa, shape, x.dtype)

    def transpose(self, hint, x, perm):
        x = self._f32(x)
        if list(perm) == list(range(len(perm))):
            return x
        ssa, shape = self.writer.transpose(hint, self.ssa(x), x.shape, perm)
        return Value(ssa, shape)

    def softmax(self, hint, x, dim, log=False):
        x = self._f32(x)
        rank = len(x.shape)
        others = [d for d in range(rank) if d != dim]
        m = self.reduce(hint + "_max", x, [dim], "max")
        xs = self.ssa(x)
        ident = list(range(rank))
        e = self.writer.generic(hint + "_exp", [(xs, x.shape, "f32", ident),
                                                (m.ssa, m.shape, "f32", others)], x.shape,
                                lambda b, a: b.exp(b.sub(a[0], a[1])))
        s = self.reduce(hint + "_sum", Value(e, x.shape), [dim], "sum")
        if log:
            name = self.writer.generic(hint, [(xs, x.shape, "f32", ident), (m.ssa, m.shape, "f32", others),
                                              (s.ssa, s.shape, "f32", others)], x.shape,
                                       lambda b, a: b.sub(b.sub(a[0], a[1]), b.math("log", a[2])))
        else:
            name = self.writer.generic(hint, [(e, x.shape, "f32", ident), (s.ssa, s.shape, "f32", others)],
                                       x.shape, lambda b, a: b.div(a[0], a[1]))
        return Value(name, x.shape)

    def layer_norm(self, hint, x, normalized_shape, weight, bias, eps):
        x = self._f32(x)
        rank, k = len(x.shape), len(normalized_shape)
        if list(x.shape[rank - k:]) != [int(d) for d in normalized_shape]:
            raise ExportError(f"layer_norm over {list(normalized_shape)} of a {x.shape} tensor")
        inner = list(range(rank - k, rank))
        outer = list(range(rank - k))
        count = float(np.prod(normalized_shape))
        ident = list(range(rank))
        s = self.reduce(hint + "_sum", x, inner)
        xc = self.writer.generic(hint + "_centered", [(self.ssa(x), x.shape, "f32", ident),
                                                      (s.ssa, s.shape, "f32", outer)], x.shape,
                                 lambda b, a: b.sub(a[0], b.div(a[1], count)))
        sq_init = self.writer.filled(hint + "_sq", s.shape, 0.0)
        sq = self.writer.generic(hint + "_sq", [(xc, x.shape, "f32", ident)], s.shape,
                                 lambda b, a: b.add(a[1], b.mul(a[0], a[0])),
                                 reductions=set(inner), init=sq_init, out_map=outer)
        inputs = [(xc, x.shape, "f32", ident), (sq, s.shape, "f32", outer)]
        for v, what in ((weight, "weight"), (bias, "bias")):
            if v is not None:
                array = _numpy_f32(v) if isinstance(v, torch.Tensor) else v.const if \
                    isinstance(v, Value) and v.const is not None else None
                if array is None:
                    raise ExportError(f"layer_norm {what} must be a constant")
                inputs.append((self.writer.constant(f"{hint}_{what}", array.reshape(normalized_shape)),
                               list(normalized_shape), "f32", inner))
        has_w, has_b = weight is not None, bias is not None

        def body(b, a):
            y = b.div(a[0], b.math("sqrt", b.add(b.div(a[1], count), float(eps))))
            if has_w:
                y = b.mul(y, a[2])
            if has_b:
                y = b.add(y, a[3 if has_w else 2])
            return y

        return Value(self.writer.generic(hint, inputs, x.shape, body), x.shape)

    def linear(self, hint, x, weight_t, bias=None, hints=""):
        """``x (..., K) @ weight_t (K x N) + bias``: a 2-D ``linalg.matmul`` with
        M = product of the leading dims (collapse_shape / expand_shape around it),
        the form ``shift-from-linalg`` turns into ``shift.matmul``."""
        x = self._f32(x, "a linear layer's input")
        if len(x.shape) < 2:
            raise ExportError(f"a linear layer needs an input of rank >= 2, got {x.shape}")
        lead, k = x.shape[:-1], x.shape[-1]
        if weight_t.shape[0] != k:
            raise ExportError(f"linear: input features {k} != weight {weight_t.shape[0]}")
        m = int(np.prod(lead))
        x2 = self.reshape(hint + "_rows", x, [m, k])
        y = self.writer.matmul(hint, self.ssa(x2), x2.shape, np.ascontiguousarray(weight_t), hints)
        n = weight_t.shape[1]
        if bias is not None:
            y = self.writer.bias_add(hint, y, [m, n], np.asarray(bias, np.float32))
        return self.reshape(hint + "_unrows", Value(y, [m, n]), lead + [n])

    def matmul(self, hint, a, b):
        a, b = self._f32(a), self._f32(b)
        if len(a.shape) < 2 or len(b.shape) < 2:
            raise ExportError("matmul of 1-D tensors is not supported")
        if b.const is not None and len(b.shape) == 2:
            return self.linear(hint, a, b.const)
        if len(b.shape) == 2:
            m = int(np.prod(a.shape[:-1]))
            a2 = self.reshape(hint + "_rows", a, [m, a.shape[-1]])
            y, shape = self.writer.matmul_values(hint, self.ssa(a2), a2.shape, self.ssa(b, hint + "_rhs"),
                                                 b.shape)
            return self.reshape(hint + "_unrows", Value(y, shape), a.shape[:-1] + [b.shape[-1]])
        batch = list(torch.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2])))
        nb = int(np.prod(batch))
        operands = []
        for v, tag in ((a, "lhs"), (b, "rhs")):
            full = batch + v.shape[-2:]
            if v.shape != full:
                v = self.elementwise(f"{hint}_{tag}_broadcast", [v], full, lambda bb, x: x)
            operands.append(self.reshape(f"{hint}_{tag}_batched", v, [nb] + v.shape[-2:]))
        y, shape = self.writer.matmul_values(hint, self.ssa(operands[0]), operands[0].shape,
                                             self.ssa(operands[1]), operands[1].shape)
        return self.reshape(hint + "_unbatched", Value(y, shape), batch + shape[1:])

    def concat(self, hint, tensors, dim, out_shape):
        result = self.writer.empty(hint, out_shape)
        offset = 0
        for i, t in enumerate(tensors):
            t = self._f32(t, "a cat operand")
            if 0 in t.shape:
                continue
            offsets = [0] * len(out_shape)
            offsets[dim] = offset
            result = self.writer.insert_slice(f"{hint}_{i}" if i + 1 < len(tensors) else hint,
                                              self.ssa(t, hint + "_const"), t.shape, result,
                                              out_shape, offsets, t.shape)
            offset += t.shape[dim]
        return Value(result, out_shape)

    def slice(self, hint, x, offsets, sizes, strides, out_shape):
        x = self._tensor(x)
        if list(sizes) == x.shape and list(out_shape) == x.shape:
            return x
        ssa = self.writer.extract_slice(hint, self.ssa(x), x.shape, offsets, sizes, strides,
                                        out_shape, _elem(x.dtype))
        return Value(ssa, out_shape, x.dtype)

    def zeros(self, hint, shape):
        return Value(self.writer.filled(hint, shape, 0.0), shape)

    def _max_pool(self, name, x, kernel, stride, padding, dilation, ceil_mode, return_indices,
                  out_shape):
        x = self._f32(x)
        if return_indices:
            raise ExportError(f"pool '{name}': return_indices is not supported")
        if len(x.shape) != 4:
            raise ExportError(f"pool '{name}' needs an NCHW input, got {x.shape}")
        kernel, padding, dilation = _as_pair(kernel), _as_pair(padding), _as_pair(dilation)
        stride = _as_pair(stride if stride not in (None, [], ()) else kernel)
        # ceil_mode: PyTorch keeps a last window only if it starts inside the
        # input or left padding, so extra -inf rows on the high side are exact.
        extra = [max(0, (out_shape[2 + i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1
                     - (x.shape[2 + i] + 2 * padding[i])) for i in range(2)]
        xs, shape = self.ssa(x), x.shape
        if any(padding) or any(extra):
            high = (padding[0] + extra[0], padding[1] + extra[1])
            xs, shape = self.writer.pad(name, xs, shape, padding, high, float("-inf"))
        self._check_pool(name, shape, out_shape, kernel, stride, dilation)
        return Value(self.writer.pool("max", name, xs, shape, kernel, stride, dilation, out_shape),
                     out_shape)

    def _check_pool(self, name, padded, out_shape, kernel, stride, dilation):
        expected = [(padded[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
                    for i in range(2)]
        if expected != out_shape[2:]:
            raise ExportError(f"pool '{name}': ceil_mode output sizes are not supported here")

    def _avg_pool(self, name, x, kernel, stride, padding, ceil_mode, count_include_pad,
                  divisor_override, out_shape):
        x = self._f32(x)
        if len(x.shape) != 4:
            raise ExportError(f"pool '{name}' needs an NCHW input, got {x.shape}")
        kernel, padding = _as_pair(kernel), _as_pair(padding)
        stride = _as_pair(stride if stride not in (None, [], ()) else kernel)
        if any(padding) and not count_include_pad:
            raise ExportError(f"pool '{name}': count_include_pad=False with padding "
                              "is not supported")
        xs, shape = self.ssa(x), x.shape
        if any(padding):
            xs, shape = self.writer.pad(name, xs, shape, padding, padding, 0.0)
        self._check_pool(name, shape, out_shape, kernel, stride, (1, 1))
        total = self.writer.pool("sum", name + "_sum", xs, shape, kernel, stride, (1, 1), out_shape)
        divisor = divisor_override or kernel[0] * kernel[1]
        return Value(self.writer.divide(name, total, out_shape, float(divisor)), out_shape)

    def _adaptive_avg_pool(self, name, x, out_shape):
        x = self._f32(x)
        if len(x.shape) != 4:
            raise ExportError(f"adaptive pool '{name}' needs an NCHW input, got {x.shape}")
        h, w = x.shape[2:]
        oh, ow = out_shape[2:]
        if h % oh or w % ow:
            raise ExportError(f"adaptive pool '{name}': {h}x{w} -> {oh}x{ow} has uneven windows")
        kernel = (h // oh, w // ow)
        total = self.writer.pool("sum", name + "_sum", self.ssa(x), x.shape, kernel, kernel, (1, 1),
                                 out_shape)
        return Value(self.writer.divide(name, total, out_shape, float(kernel[0] * kernel[1])),
                     out_shape)


class Exporter(LinalgBuilder):
    """Walks an fx graph and writes each node with :class:`MLIRWriter`."""

    def __init__(self, model, batch, input_shape=INPUT_SHAPE, input_dtype="float32"):
        if input_dtype not in INPUT_DTYPES:
            raise ExportError(f"input dtype {input_dtype!r} is not supported; choose one of "
                              f"{sorted(INPUT_DTYPES)}")
        self.model = model.eval()
        self.batch = batch
        self.input_shape = tuple(int(d) for d in input_shape)
        self.input_dtype = input_dtype
        self.gm = trace(self.model, batch, self.input_shape, input_dtype)
        self.modules = dict(self.gm.named_modules())
        super().__init__()
        self.values = {}       # fx node -> Value / python value / nested structure
        self.folded = {}       # conv/linear node -> the BatchNorm node folded into it
        self.standalone_bn = set()

    # ----- graph walk -----

    def _module(self, node):
        return self.modules[node.target] if node.op == "call_module" else None

    def _plan_batchnorm_folding(self):
        for node in self.gm.graph.nodes:
            bn = self._module(node)
            if not isinstance(bn, BATCHNORMS) or "ds_value" in node.meta:
                continue
            producer = node.args[0]
            layer = self._module(producer) if isinstance(producer, fx.Node) else None
            spec = producer.meta.get("ds_spec") if isinstance(producer, fx.Node) else None
            # a linear folds only on (N, C) (a BatchNorm1d on (N, C, L) normalises dim 1)
            linear_ok = not isinstance(layer, LINEAR_MODULES) or (
                isinstance(spec, tuple) and len(spec[0]) == 2)
            if isinstance(layer, CONV_MODULES + LINEAR_MODULES) and len(producer.users) == 1 \
                    and producer not in self.folded and linear_ok:
                self.folded[producer] = node
            else:
                self.standalone_bn.add(node)

    def run(self, header=()):
        self._plan_batchnorm_folding()
        output = None
        for node in self.gm.graph.nodes:
            if node.op == "output":
                output = node.args[0]
                continue
            try:
                self._node(node)
            except Exception as err:
                label = _label_of(node, self.gm)
                if isinstance(err, ExportError):
                    raise ExportError(f"{err} (node {node.name}: {label})") from err
                raise ExportError(f"internal error exporting node {node.name} ({label}): "
                                  f"{type(err).__name__}: {err}") from err
        if not isinstance(output, fx.Node) or not isinstance(self.values.get(output), Value):
            raise ExportError("the model must return a single tensor")
        result = self.values[output]
        if result.dtype != "f32":
            raise ExportError(f"the model's output must be float32, got {result.dtype}")
        return self.writer.function([self.batch, *self.input_shape], self.ssa(result, "output"),
                                    result.shape, header)

    def _node(self, node):
        if node.op == "placeholder":
            if self.values:
                raise ExportError("only models with a single input are supported")
            self.values[node] = Value("%arg0", [self.batch, *self.input_shape],
                                      INPUT_DTYPES[self.input_dtype][0])
            return
        if "ds_value" in node.meta:  # static: parameters, sizes, input-independent tensors
            if node.op == "call_method" and node.target in DATA_DEPENDENT \
                    and node.meta.get("ds_dependent"):
                raise ExportError(f"'{node.target}' reads tensor data at export time "
                                  "(data-dependent control flow is not supported)")
            self.values[node] = self._static(node.meta["ds_value"])
            return
        if node.op == "call_module":
            result = self._call_module(node)
        elif node.op in ("call_function", "call_method"):
            name = FUNCTIONS.get(node.target)
            if name is None:
                label = getattr(node.target, "__name__", node.target)
                raise ExportError(f"unsupported operation '{label}'; see the export contract "
                                  "in docs/python.md")
            args = fx.node.map_arg(node.args, lambda n: self.values[n])
            kwargs = fx.node.map_arg(node.kwargs, lambda n: self.values[n])
            result = getattr(self, "_op_" + name)(node, *args, **kwargs)
        else:
            raise ExportError(f"unsupported graph node {node.op} '{node.target}'")
        self._check_shapes(node, result, node.meta.get("ds_spec"))
        self.values[node] = result

    def _check_shapes(self, node, result, spec):
        if isinstance(result, Value):
            if spec is None or not isinstance(spec, tuple) or list(spec[0]) != result.shape:
                raise ExportError(f"internal error: exported shape {result.shape} differs from "
                                  f"PyTorch's {spec}")
        elif isinstance(result, (tuple, list)) and isinstance(spec, list) and len(spec) == len(result):
            for r, s in zip(result, spec):
                self._check_shapes(node, r, s)

    def _static(self, value):
        if isinstance(value, torch.Tensor):
            if value.is_floating_point():       # float constants are written as f32
                return Value(None, list(value.shape), "f32", _numpy_f32(value))
            # other constants (bool masks, int buffers) are only read at export time;
            # ssa() refuses to write them
            dtype = TORCH_DTYPES.get(value.dtype, str(value.dtype))
            return Value(None, list(value.shape), dtype, value.detach().cpu().numpy())
        if isinstance(value, tuple):
            return tuple(self._static(v) for v in value)
        if isinstance(value, list):
            return [self._static(v) for v in value]
        return value

    @staticmethod
    def _out_shape(node):
        spec = node.meta.get("ds_spec")
        if not isinstance(spec, tuple):
            raise ExportError("the node does not produce a single tensor")
        return list(spec[0])

    # ----- modules -----

    def _call_module(self, node):
        module = self._module(node)
        name = node.target
        args = fx.node.map_arg(node.args, lambda n: self.values[n])
        kwargs = fx.node.map_arg(node.kwargs, lambda n: self.values[n])
        if isinstance(module, nn.MultiheadAttention):    # often called with keywords only
            return self._mha_call(name, module, args, kwargs)
        if not args:
            raise ExportError("a module called without a positional input is not supported")
        x = self._tensor(args[0], "the module's input")
        if isinstance(module, BATCHNORMS):
            if node in self.standalone_bn:
                return self._batchnorm(name, module, x)
            return x                                   # folded into its producer
        if isinstance(module, IDENTITY_MODULES):
            return x
        if isinstance(module, CONV_MODULES):
            return self._conv(node, module, x)
        if isinstance(module, LINEAR_MODULES):
            return self._linear_module(node.target, module, x, self.folded.get(node))
        if isinstance(module, nn.ReLU):
            return self.unary(name, x, "relu")
        if isinstance(module, nn.Hardtanh):               # ReLU6 too
            return self.unary(name, x, "clamp", lo=module.min_val, hi=module.max_val)
        simple = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.SiLU: "silu", nn.Hardswish: "hardswish",
                  nn.Hardsigmoid: "hardsigmoid"}
        for cls, op in simple.items():
            if isinstance(module, cls):
                return self.unary(name, x, op)
        if isinstance(module, nn.GELU):
            return self.unary(name, x, "gelu", approximate=getattr(module, "approximate", "none"))
        if isinstance(module, nn.LeakyReLU):
            return self.unary(name, x, "leaky_relu", slope=module.negative_slope)
        if isinstance(module, (nn.Softmax, nn.LogSoftmax)):
            return self.softmax(name, x, _softmax_dim(module.dim, len(x.shape)),
                                log=isinstance(module, nn.LogSoftmax))
        if isinstance(module, nn.LayerNorm):
            return self.layer_norm(name, x, list(module.normalized_shape), module.weight,
                                   module.bias, module.eps)
        if isinstance(module, (nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d)):
            return self._pool1d(node, module, x)
        if isinstance(module, nn.GroupNorm):
            return self._group_norm(name, module, x)
        if isinstance(module, nn.MaxPool2d):
            return self._max_pool(name, x, module.kernel_size, module.stride, module.padding,
                                  module.dilation, module.ceil_mode, module.return_indices,
                                  self._out_shape(node))
        if isinstance(module, nn.AvgPool2d):
            return self._avg_pool(name, x, module.kernel_size, module.stride, module.padding,
                                  module.ceil_mode, module.count_include_pad,
                                  module.divisor_override, self._out_shape(node))
        if isinstance(module, nn.AdaptiveAvgPool2d):
            return self._adaptive_avg_pool(name, x, self._out_shape(node))
        if isinstance(module, (nn.Flatten, nn.Unflatten)):
            return self.reshape(name, x, self._out_shape(node))
        if isinstance(module, nn.Embedding):
            return self._embedding(name, x, module.weight, module.max_norm)
        if isinstance(module, nn.TransformerEncoderLayer):
            mask, kpm = self._masks(args, kwargs, ("src_mask", "src_key_padding_mask"))
            return self._encoder_layer(name, module, x, mask, kpm)
        if isinstance(module, nn.TransformerEncoder):
            mask, kpm = self._masks(args, kwargs, ("mask", "src_key_padding_mask"))
            for i, layer in enumerate(module.layers):
                x = self._encoder_layer(f"{name}.layers.{i}", layer, x, mask, kpm)
            if module.norm is not None:
                x = self._layer_norm_module(f"{name}.norm", module.norm, x)
            return x
        if isinstance(module, (nn.LSTM, nn.GRU, nn.RNN)):
            need_states = any(u.target is not operator.getitem or u.args[1] != 0 for u in node.users)
            return self._rnn(name, module, x, args[1] if len(args) > 1 else kwargs.get("hx"),
                             need_states)
        raise ExportError(f"unsupported module '{name}' ({type(module).__name__}); "
                          "see the export contract in docs/python.md")

    def _layer_norm_module(self, name, norm, x):
        if not isinstance(norm, nn.LayerNorm):
            raise ExportError(f"'{name}' ({type(norm).__name__}): only LayerNorm is supported here")
        return self.layer_norm(name, x, list(norm.normalized_shape), norm.weight, norm.bias, norm.eps)

    def _batchnorm(self, name, bn, x):
        """A BatchNorm that follows no conv/linear: ``x * scale[c] + shift[c]``."""
        x = self._f32(x)
        if len(x.shape) < 2 or x.shape[1] != bn.num_features:
            raise ExportError(f"BatchNorm '{name}' on a {x.shape} input")
        scale, shift = _batchnorm_scale_shift(bn)
        self.writer.comment(f"{name}: BatchNorm (not after a conv/linear) as scale and shift")
        s = self.writer.constant(name + "_scale", scale.to(torch.float32).numpy())
        t = self.writer.constant(name + "_shift", shift.to(torch.float32).numpy())
        c = [x.shape[1]]
        inputs = [(self.ssa(x), x.shape, "f32", list(range(len(x.shape)))),
                  (s, c, "f32", [1]), (t, c, "f32", [1])]
        return Value(self.writer.generic(name, inputs, x.shape,
                                         lambda b, a: b.add(b.mul(a[0], a[1]), a[2])), x.shape)

    def _layer_comment(self, name, layer, bn):
        folded = f", BatchNorm '{bn.target}' folded" if bn is not None else ""
        if isinstance(layer, SHIFT_LAYERS):
            self.writer.comment(f"{name}: shift weight ({layer.scheme}), "
                                f"{layer.encoding.mlir_attr()}{folded}")
            # Hint only: emin is relative to the pre-folding alpha, so it is left out.
            enc = layer.encoding
            return f'denseshift.encoding = "bits={enc.bits},zero_free={str(enc.zero_free).lower()}"'
        self.writer.comment(f"{name}: float weight{folded}")
        return ""

    def _conv(self, node, conv, x):
        x = self._f32(x)
        if isinstance(conv, nn.Conv1d):
            return self._conv1d(node, conv, x)
        if len(x.shape) != 4:
            raise ExportError(f"conv '{node.target}' needs an NCHW input, got {x.shape}")
        if getattr(conv, "padding_mode", "zeros") != "zeros" or isinstance(conv.padding, str):
            raise ExportError(f"conv '{node.target}': only numeric zero padding is supported")
        out_shape = self._out_shape(node)
        bn = self.folded.get(node)
        weight, bias = folded_weight_and_bias(conv, self._module(bn) if bn is not None else None)
        hints = self._layer_comment(node.target, conv, bn)
        padding = _as_pair(conv.padding)
        xs, shape = self.ssa(x), x.shape
        if any(padding):
            xs, shape = self.writer.pad(node.target, xs, shape, padding, padding, 0.0)
        result = self.writer.conv2d(node.target, xs, shape, weight, _as_pair(conv.stride),
                                    _as_pair(conv.dilation), conv.groups, out_shape, hints)
        if bias is not None:
            result = self.writer.bias_add(node.target, result, out_shape, bias)
        return Value(result, out_shape)

    def _conv1d(self, node, conv, x):
        """``nn.Conv1d`` as a 2-D conv with H = 1: (N, C, L) -> (N, C, 1, L),
        weight (F, C/g, 1, K), then back to (N, F, L')."""
        if len(x.shape) != 3:
            raise ExportError(f"conv '{node.target}' needs an NCL input, got {x.shape}")
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ExportError(f"conv '{node.target}': only numeric zero padding is supported")
        out_shape = self._out_shape(node)
        bn = self.folded.get(node)
        weight, bias = folded_weight_and_bias(conv, self._module(bn) if bn is not None else None)
        hints = self._layer_comment(node.target, conv, bn)
        n, c, length = x.shape
        x4 = self.reshape(node.target + "_2d", x, [n, c, 1, length])
        xs, shape = x4.ssa, x4.shape
        pad = conv.padding[0]
        if pad:
            xs, shape = self.writer.pad(node.target, xs, shape, (0, pad), (0, pad), 0.0)
        out4 = [out_shape[0], out_shape[1], 1, out_shape[2]]
        result = self.writer.conv2d(node.target, xs, shape, weight[:, :, None, :],
                                    (1, conv.stride[0]), (1, conv.dilation[0]), conv.groups, out4,
                                    hints)
        if bias is not None:
            result = self.writer.bias_add(node.target, result, out4, bias)
        return self.reshape(node.target + "_1d", Value(result, out4), out_shape)

    def _pool1d(self, node, pool, x):
        """1-D pools as 2-D pools over (N, C, 1, L)."""
        x = self._f32(x)
        if len(x.shape) != 3:
            raise ExportError(f"pool '{node.target}' needs an NCL input, got {x.shape}")
        name, out_shape = node.target, self._out_shape(node)
        n, c, length = x.shape
        x4 = self.reshape(name + "_2d", x, [n, c, 1, length])
        out4 = [n, c, 1, out_shape[2]]

        def one(v):
            return v[0] if isinstance(v, (tuple, list)) else v

        if isinstance(pool, nn.AdaptiveAvgPool1d):
            y = self._adaptive_avg_pool(name, x4, out4)
        elif isinstance(pool, nn.MaxPool1d):
            stride = one(pool.stride) if pool.stride not in (None, [], ()) else one(pool.kernel_size)
            y = self._max_pool(name, x4, (1, one(pool.kernel_size)), (1, stride),
                               (0, one(pool.padding)), (1, one(pool.dilation)), pool.ceil_mode,
                               pool.return_indices, out4)
        else:
            stride = one(pool.stride) if pool.stride not in (None, [], ()) else one(pool.kernel_size)
            y = self._avg_pool(name, x4, (1, one(pool.kernel_size)), (1, stride),
                               (0, one(pool.padding)), pool.ceil_mode, pool.count_include_pad, None,
                               out4)
        return self.reshape(name + "_1d", y, out_shape)

    def _group_norm(self, name, gn, x):
        """(N, C, *) -> (N, G, rest): normalise over the last dim like layer_norm,
        back to the input shape, then the per-channel affine."""
        x = self._f32(x)
        n, c = x.shape[:2]
        g = gn.num_groups
        rest = int(np.prod(x.shape[1:])) // g
        grouped = self.reshape(name + "_grouped", x, [n, g, rest])
        y = self.layer_norm(name + "_norm", grouped, [rest], None, None, gn.eps)
        y = self.reshape(name + "_ungrouped", y, x.shape)
        if not gn.affine:
            return y
        w = self.writer.constant(name + "_weight", _numpy_f32(gn.weight))
        b = self.writer.constant(name + "_bias", _numpy_f32(gn.bias))
        inputs = [(y.ssa, x.shape, "f32", list(range(len(x.shape)))),
                  (w, [c], "f32", [1]), (b, [c], "f32", [1])]
        return Value(self.writer.generic(name, inputs, x.shape,
                                         lambda bb, a: bb.add(bb.mul(a[0], a[1]), a[2])), x.shape)

    def _linear_module(self, name, linear, x, bn_node=None):
        bn = self._module(bn_node) if bn_node is not None else None
        if bn is not None and len(self._tensor(x).shape) != 2:
            raise ExportError(f"BatchNorm folding into linear '{name}' needs a 2-D input")
        weight, bias = folded_weight_and_bias(linear, bn)
        hints = self._layer_comment(name, linear, bn_node)
        return self.linear(name, x, np.ascontiguousarray(weight.T), bias, hints)

    def _embedding(self, name, ids, weight, max_norm=None):
        """Gather rows of a constant table: ``linalg.generic`` whose body reads
        ``tensor.extract %table[id, e]``.  Ids arrive as f32 (the entry-point ABI);
        they are clamped to [0, V-1] (NaN -> 0) and converted with ``arith.fptosi``."""
        ids = self._tensor(ids, "embedding ids")
        if ids.dtype != "ids":
            raise ExportError(f"embedding '{name}' needs the model's integer input (export "
                              f"with --input-dtype int64), got a {ids.dtype} tensor")
        if max_norm is not None:
            raise ExportError(f"embedding '{name}': max_norm is not supported")
        table = _numpy_f32(weight) if isinstance(weight, torch.Tensor) else weight.const
        vocab, dim = table.shape
        t = self.writer.constant(name + "_table", table)
        rank = len(ids.shape)
        out_shape = ids.shape + [dim]
        table_type = tensor_type(table.shape)

        def body(b, a):
            clamped = b.binary("maxnumf", b.binary("minnumf", a[0], float(vocab - 1)), 0.0)
            integer = b.op(f"arith.fptosi {clamped}", "f32 to i32")
            row = b.op(f"arith.index_cast {integer}", "i32 to index")
            col = b.op(f"linalg.index {rank}", "index")
            return b.op(f"tensor.extract {t}[{row}, {col}]", table_type)

        name = self.writer.generic(name, [(self.ssa(ids), ids.shape, "f32", list(range(rank)))],
                                   out_shape, body)
        return Value(name, out_shape)

    # ----- attention and transformer layers -----

    def _masks(self, args, kwargs, names):
        found = []
        for i, key in enumerate(names):
            v = args[1 + i] if len(args) > 1 + i else kwargs.get(key)
            found.append(v)
        return found

    def _mha_call(self, name, mha, args, kwargs):
        names = ["query", "key", "value", "key_padding_mask", "need_weights", "attn_mask",
                 "average_attn_weights"]
        bound = dict(zip(names, args))
        bound.update(kwargs)
        for required in names[:3]:
            if required not in bound:
                raise ExportError(f"MultiheadAttention '{name}' called without {required}")
        return self._mha(name, mha, bound["query"], bound["key"], bound["value"],
                         bound.get("attn_mask"), bound.get("key_padding_mask"),
                         bound.get("need_weights", True), bound.get("average_attn_weights", True))

    def _additive_mask(self, name, mask, kpm, batch, heads, tgt, src):
        """Constant masks -> one float additive mask of shape (B*H, T, S), or None."""
        if mask is None and kpm is None:
            return None
        total = np.zeros((batch, heads, tgt, src), np.float32)
        for m, what in ((mask, "attn_mask"), (kpm, "key_padding_mask")):
            if m is None:
                continue
            if not isinstance(m, Value) or m.const is None:
                raise ExportError(f"attention '{name}': {what} must be a constant "
                                  "(input-dependent masks are not supported)")
            a = m.const
            a = np.where(a, np.float32(-np.inf), np.float32(0)) if a.dtype == np.bool_ else \
                a.astype(np.float32)
            if what == "key_padding_mask":
                a = a.reshape(batch, 1, 1, src)
            elif a.ndim == 3:
                a = a.reshape(batch, heads, tgt, src)
            total = total + a
        return total.reshape(batch * heads, tgt, src)

    def _mha(self, name, mha, query, key, value, attn_mask=None, key_padding_mask=None,
             need_weights=True, average=True):
        """Eval-mode ``nn.MultiheadAttention`` from its parameters: q/k/v
        projections as linears on (B x T) rows, per-head ``linalg.batch_matmul``
        of (B*H) x T x D blocks, softmax over keys, output projection."""
        if mha.bias_k is not None or mha.add_zero_attn:
            raise ExportError(f"MultiheadAttention '{name}': bias_k/bias_v and add_zero_attn "
                              "are not supported")
        q, k, v = (self._f32(t, "attention input") for t in (query, key, value))
        if len(q.shape) != 3:
            raise ExportError(f"MultiheadAttention '{name}' needs batched 3-D inputs, got {q.shape}")
        e, h = mha.embed_dim, mha.num_heads
        d = e // h
        if not mha.batch_first:        # (T, B, E) -> (B, T, E)
            q, k, v = (self.transpose(f"{name}_{t}_bt", x, [1, 0, 2])
                       for t, x in (("q", q), ("k", k), ("v", v)))
        if mha._qkv_same_embed_dim:
            w = _numpy_f32(mha.in_proj_weight)
            ws = [w[:e], w[e:2 * e], w[2 * e:]]
        else:
            ws = [_numpy_f32(mha.q_proj_weight), _numpy_f32(mha.k_proj_weight),
                  _numpy_f32(mha.v_proj_weight)]
        bs = [None] * 3
        if mha.in_proj_bias is not None:
            b = _numpy_f32(mha.in_proj_bias)
            bs = [b[:e], b[e:2 * e], b[2 * e:]]
        self.writer.comment(f"{name}: MultiheadAttention, {h} heads of {d}, float weights")
        batch, tgt, src = q.shape[0], q.shape[1], k.shape[1]
        qp = self.linear(f"{name}_q", q, ws[0].T, bs[0])
        kp = self.linear(f"{name}_k", k, ws[1].T, bs[1])
        vp = self.linear(f"{name}_v", v, ws[2].T, bs[2])
        qp = self.elementwise(f"{name}_q_scaled", [qp], qp.shape,
                              lambda bb, x: bb.div(x, float(math.sqrt(d))))

        def heads(x, length, tag, perm):
            x = self.reshape(f"{name}_{tag}_heads", x, [batch, length, h, d])
            x = self.transpose(f"{name}_{tag}_t", x, perm)
            return self.reshape(f"{name}_{tag}_bh", x, [batch * h] + x.shape[2:])

        qh = heads(qp, tgt, "q", [0, 2, 1, 3])       # (B*H, T, D)
        kt = heads(kp, src, "k", [0, 2, 3, 1])       # (B*H, D, S)
        vh = heads(vp, src, "v", [0, 2, 1, 3])       # (B*H, S, D)
        scores, shape = self.writer.matmul_values(f"{name}_scores", qh.ssa, qh.shape, kt.ssa,
                                                  kt.shape)
        scores = Value(scores, shape)
        mask = self._additive_mask(name, attn_mask, key_padding_mask, batch, h, tgt, src)
        if mask is not None:
            scores = self.elementwise(f"{name}_masked", [scores, Value(None, mask.shape, "f32", mask)],
                                      scores.shape, lambda bb, x, y: bb.add(x, y))
        attn = self.softmax(f"{name}_attn", scores, 2)
        out, shape = self.writer.matmul_values(f"{name}_context", attn.ssa, attn.shape, vh.ssa,
                                               vh.shape)
        out = self.reshape(f"{name}_context_heads", Value(out, shape), [batch, h, tgt, d])
        out = self.transpose(f"{name}_context_t", out, [0, 2, 1, 3])
        out = self.reshape(f"{name}_context_rows", out, [batch, tgt, e])
        proj = mha.out_proj
        out = self.linear(f"{name}_out_proj", out, _numpy_f32(proj.weight).T,
                          None if proj.bias is None else _numpy_f32(proj.bias))
        if not mha.batch_first:
            out = self.transpose(f"{name}_out_tb", out, [1, 0, 2])
        weights = None
        if need_weights:
            weights = self.reshape(f"{name}_weights_heads", attn, [batch, h, tgt, src])
            if average:
                total = self.reduce(f"{name}_weights_sum", weights, [1])
                weights = self.elementwise(f"{name}_weights", [total], total.shape,
                                           lambda bb, x: bb.div(x, float(h)))
        return (out, weights)

    def _activation(self, name, act, x):
        if act is F.relu or isinstance(act, nn.ReLU):
            return self.unary(name, x, "relu")
        if act is F.gelu:
            return self.unary(name, x, "gelu")
        if isinstance(act, nn.GELU):
            return self.unary(name, x, "gelu", approximate=getattr(act, "approximate", "none"))
        raise ExportError(f"activation {act!r} of '{name}' is not supported (relu or gelu)")

    def _encoder_layer(self, name, layer, x, mask=None, key_padding_mask=None):
        """Eval-mode ``nn.TransformerEncoderLayer`` (norm_first either way); its
        linear1/linear2 may be shift layers (converted by ``convert``)."""
        if key_padding_mask is not None:
            raise ExportError(f"'{name}': src_key_padding_mask is not supported (PyTorch's "
                              "nested-tensor fast path changes the padded outputs)")
        x = self._f32(x)

        def sa(y):
            return self._mha(f"{name}.self_attn", layer.self_attn, y, y, y, mask, None, False)[0]

        def ff(y):
            y = self._linear_module(f"{name}.linear1", layer.linear1, y)
            y = self._activation(f"{name}.activation", layer.activation, y)
            return self._linear_module(f"{name}.linear2", layer.linear2, y)

        def add(a, b, tag):
            return self.elementwise(f"{name}_{tag}", [a, b], a.shape, lambda bb, u, v: bb.add(u, v))

        if layer.norm_first:
            x = add(x, sa(self._layer_norm_module(f"{name}.norm1", layer.norm1, x)), "sa_residual")
            x = add(x, ff(self._layer_norm_module(f"{name}.norm2", layer.norm2, x)), "ff_residual")
        else:
            x = self._layer_norm_module(f"{name}.norm1", layer.norm1, add(x, sa(x), "sa_residual"))
            x = self._layer_norm_module(f"{name}.norm2", layer.norm2, add(x, ff(x), "ff_residual"))
        return x

    # ----- recurrent layers -----

    def _rnn(self, name, rnn, x, hx, need_states=True):
        """``nn.LSTM`` / ``nn.GRU`` unrolled over the static sequence length.

        Per layer and direction: one input projection for all time steps (a
        matmul with M = batch x time), then per step a hidden matmul and one or
        two elementwise ``linalg.generic`` cells; outputs are inserted into the
        (B, T, D*H) sequence with ``tensor.insert_slice``."""
        lstm = isinstance(rnn, nn.LSTM)
        elman = isinstance(rnn, nn.RNN)
        kind = "LSTM" if lstm else "RNN" if elman else "GRU"
        if elman and rnn.nonlinearity not in ("tanh", "relu"):
            raise ExportError(f"RNN '{name}': nonlinearity {rnn.nonlinearity!r} is not supported")
        x = self._f32(x, f"the {kind} input")
        if getattr(rnn, "proj_size", 0):
            raise ExportError(f"{kind} '{name}': proj_size is not supported")
        if len(x.shape) != 3:
            raise ExportError(f"{kind} '{name}' needs a batched 3-D input, got {x.shape}")
        if not rnn.batch_first:
            x = self.transpose(f"{name}_input_bt", x, [1, 0, 2])
        batch, steps, _ = x.shape
        hidden, dirs, layers = rnn.hidden_size, 2 if rnn.bidirectional else 1, rnn.num_layers
        gates = 4 if lstm else 1 if elman else 3
        state_shape = [layers * dirs, batch, hidden]
        h0 = c0 = None
        if hx is not None:
            h0, c0 = (hx if lstm else (hx, None))
            h0 = self._f32(h0, "the initial hidden state")
            c0 = self._f32(c0, "the initial cell state") if lstm else None
        self.writer.comment(f"{name}: {kind}, {layers} layer(s), {dirs} direction(s), hidden "
                            f"{hidden}, unrolled over {steps} steps, float weights")
        zeros = None
        finals_h, finals_c = [], []
        layer_input = x
        for layer in range(layers):
            out = Value(self.writer.empty(f"{name}_l{layer}_out", [batch, steps, dirs * hidden]),
                        [batch, steps, dirs * hidden])
            for direction in range(dirs):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                tag = f"{name}{suffix}"
                w_ih = _numpy_f32(getattr(rnn, "weight_ih" + suffix))
                w_hh_t = np.ascontiguousarray(_numpy_f32(getattr(rnn, "weight_hh" + suffix)).T)
                b_ih = b_hh = None
                if rnn.bias:
                    b_ih = getattr(rnn, "bias_ih" + suffix).detach().double()
                    b_hh = getattr(rnn, "bias_hh" + suffix).detach().double()
                x_bias = None
                if rnn.bias:
                    x_bias = (b_ih if not (lstm or elman) else b_ih + b_hh).to(torch.float32).numpy()
                xproj = self.linear(f"{tag}_xproj", layer_input, w_ih.T, x_bias)
                w_hh = self.writer.constant(f"{tag}_whh", w_hh_t)
                h_bias = self.writer.constant(f"{tag}_bhh", b_hh.to(torch.float32).numpy()) \
                    if (rnn.bias and not (lstm or elman)) else None
                index = layer * dirs + direction

                def initial(state):
                    nonlocal zeros
                    if state is None:
                        if zeros is None:
                            zeros = self.zeros(f"{name}_zero_state", [batch, hidden])
                        return zeros
                    return self.slice(f"{tag}_init", state, [index, 0, 0], [1, batch, hidden],
                                      [1, 1, 1], [batch, hidden])

                h, c = initial(h0), (initial(c0) if lstm else None)
                order = range(steps - 1, -1, -1) if direction else range(steps)
                for t in order:
                    st = f"{tag}_t{t}"
                    xt = self.slice(f"{st}_x", xproj, [0, t, 0], [batch, 1, gates * hidden],
                                    [1, 1, 1], [batch, gates * hidden])
                    hw, shape = self.writer.matmul_values(f"{st}_hw", self.ssa(h), h.shape, w_hh,
                                                          list(w_hh_t.shape))
                    if h_bias is not None:
                        hw = self.writer._generic(f"{st}_hb", [
                            (hw, tensor_type(shape), "affine_map<(d0, d1) -> (d0, d1)>"),
                            (h_bias, tensor_type([gates * hidden]), "affine_map<(d0, d1) -> (d1)>")],
                            shape, ["%sum = arith.addf %in0, %in1 : f32", "linalg.yield %sum : f32"])
                    hw = Value(hw, shape)
                    if elman:
                        act = "tanh" if rnn.nonlinearity == "tanh" else "relu"
                        h = self.elementwise(f"{st}_h", [xt, hw], shape,
                                             lambda b, u, v: UNARY[act](b, b.add(u, v)))
                    elif lstm:
                        g = self.elementwise(f"{st}_gates", [xt, hw], shape,
                                             lambda b, u, v: b.add(u, v))
                        i_, f_, g_, o_ = (self.slice(f"{st}_{n}", g, [0, j * hidden], [batch, hidden],
                                                     [1, 1], [batch, hidden])
                                          for j, n in enumerate("ifgo"))
                        c = self.elementwise(f"{st}_c", [i_, f_, g_, c], [batch, hidden],
                                             lambda b, i, f, gg, cc: b.add(
                                                 b.mul(b.sigmoid(f), cc),
                                                 b.mul(b.sigmoid(i), b.tanh(gg))))
                        h = self.elementwise(f"{st}_h", [o_, c], [batch, hidden],
                                             lambda b, o, cc: b.mul(b.sigmoid(o), b.tanh(cc)))
                    else:
                        parts = [self.slice(f"{st}_{src}{n}", val, [0, j * hidden], [batch, hidden],
                                            [1, 1], [batch, hidden])
                                 for src, val in (("x", xt), ("h", hw)) for j, n in enumerate("rzn")]

                        def cell(b, xr, xz, xn, hr, hz, hn, hp):
                            r = b.sigmoid(b.add(xr, hr))
                            z = b.sigmoid(b.add(xz, hz))
                            n = b.tanh(b.add(xn, b.mul(r, hn)))
                            return b.add(b.mul(b.sub(1.0, z), n), b.mul(z, hp))

                        h = self.elementwise(f"{st}_h", parts + [h], [batch, hidden], cell)
                    out = Value(self.writer.insert_slice(f"{tag}_out_t{t}", h.ssa, h.shape, out.ssa,
                                                         out.shape, [0, t, direction * hidden],
                                                         [batch, 1, hidden]), out.shape)
                finals_h.append(h)
                finals_c.append(c)
            layer_input = out
        output = layer_input
        if not rnn.batch_first:
            output = self.transpose(f"{name}_output_tb", output, [1, 0, 2])

        def stack(states, tag):
            result = self.writer.empty(f"{name}_{tag}", state_shape)
            for i, s in enumerate(states):
                result = self.writer.insert_slice(f"{name}_{tag}_{i}", s.ssa, s.shape, result,
                                                  state_shape, [i, 0, 0], [1, batch, hidden])
            return Value(result, state_shape)

        if not need_states:    # only the output sequence is used
            return (output, (None, None)) if lstm else (output, None)
        h_n = stack(finals_h, "h_n")
        return (output, (h_n, stack(finals_c, "c_n"))) if lstm else (output, h_n)

    # ----- functions and methods (fx call_function / call_method) -----

    def _binary(self, node, a, b, op):
        if not isinstance(a, Value) and not isinstance(b, Value):
            raise ExportError("elementwise op without a tensor operand")
        return self.elementwise(node.name, [a, b], self._out_shape(node), BINARY[op])

    def _op_add(self, node, a, b, alpha=1):
        if alpha != 1:
            b = self.elementwise(node.name + "_alpha", [b], b.shape,
                                 lambda bb, x: bb.mul(x, float(alpha))) if isinstance(b, Value) \
                else b * alpha
        shape = self._out_shape(node)
        if isinstance(a, Value) and isinstance(b, Value) and a.shape == b.shape == shape \
                and a.const is None and b.const is None:
            return Value(self.writer.add(node.name, a.ssa, b.ssa, shape), shape)   # residual add
        return self._binary(node, a, b, "add")

    def _op_sub(self, node, a, b, alpha=1):
        if alpha != 1:
            b = self.elementwise(node.name + "_alpha", [b], b.shape,
                                 lambda bb, x: bb.mul(x, float(alpha))) if isinstance(b, Value) \
                else b * alpha
        return self._binary(node, a, b, "sub")

    def _op_rsub(self, node, a, b, alpha=1):
        return self._op_sub(node, b, a, alpha) if alpha == 1 else \
            self.elementwise(node.name, [a, b], self._out_shape(node),
                             lambda bb, x, y: bb.sub(y, bb.mul(x, float(alpha))))

    def _op_mul(self, node, a, b):
        return self._binary(node, a, b, "mul")

    def _op_div(self, node, a, b, rounding_mode=None):
        if rounding_mode is not None:
            raise ExportError(f"div with rounding_mode={rounding_mode!r} is not supported")
        return self._binary(node, a, b, "div")

    def _op_neg(self, node, x):
        return self.unary(node.name, x, "neg")

    def _op_pow(self, node, x, exponent):
        if not isinstance(x, Value) or isinstance(exponent, Value):
            raise ExportError("pow is supported for a tensor base and a scalar exponent")
        e = float(exponent)
        if e == 2.0:
            return self.elementwise(node.name, [x], x.shape, lambda b, a: b.mul(a, a))
        if e == 0.5:
            return self.unary(node.name, x, "sqrt")
        return self.elementwise(node.name, [x], x.shape,
                                lambda b, a: b.op(f"math.powf {a}, {b.const(e)}"))

    def _op_relu(self, node, x, inplace=False):
        x = self._f32(x)
        return Value(self.writer.relu(node.name, self.ssa(x), x.shape), x.shape)

    def _op_relu6(self, node, x, inplace=False):
        return self.unary(node.name, x, "clamp", lo=0.0, hi=6.0)

    def _op_hardtanh(self, node, x, min_val=-1.0, max_val=1.0, inplace=False):
        return self.unary(node.name, x, "clamp", lo=min_val, hi=max_val)

    def _op_clamp(self, node, x, min=None, max=None):  # noqa: A002 - torch's names
        if isinstance(min, Value) or isinstance(max, Value):
            raise ExportError("clamp with tensor bounds is not supported")
        return self.unary(node.name, x, "clamp", lo=min, hi=max)

    def _simple_unary(op):
        def handler(self, node, x, *args, **kwargs):
            return self.unary(node.name, x, op)
        return handler

    _op_hardswish = _simple_unary("hardswish")
    _op_hardsigmoid = _simple_unary("hardsigmoid")
    _op_sigmoid = _simple_unary("sigmoid")
    _op_tanh = _simple_unary("tanh")
    _op_silu = _simple_unary("silu")
    _op_exp = _simple_unary("exp")
    _op_log = _simple_unary("log")
    _op_sqrt = _simple_unary("sqrt")
    _op_rsqrt = _simple_unary("rsqrt")
    _op_abs = _simple_unary("abs")
    del _simple_unary

    def _op_gelu(self, node, x, approximate="none"):
        return self.unary(node.name, x, "gelu", approximate=approximate)

    def _op_leaky_relu(self, node, x, negative_slope=0.01, inplace=False):
        return self.unary(node.name, x, "leaky_relu", slope=negative_slope)

    def _op_softmax(self, node, x, dim=None, _stacklevel=3, dtype=None):
        if dtype not in (None, torch.float32):
            raise ExportError(f"softmax with dtype={dtype} is not supported")
        return self.softmax(node.name, x, _softmax_dim(dim, len(x.shape)))

    def _op_log_softmax(self, node, x, dim=None, _stacklevel=3, dtype=None):
        if dtype not in (None, torch.float32):
            raise ExportError(f"log_softmax with dtype={dtype} is not supported")
        return self.softmax(node.name, x, _softmax_dim(dim, len(x.shape)), log=True)

    def _op_layer_norm(self, node, x, normalized_shape, weight=None, bias=None, eps=1e-5):
        if isinstance(normalized_shape, int):
            normalized_shape = [normalized_shape]
        return self.layer_norm(node.name, x, list(normalized_shape), weight, bias, eps)

    def _op_matmul(self, node, a, b):
        return self.matmul(node.name, a, b)

    def _op_linear(self, node, x, weight, bias=None):
        if not isinstance(weight, Value) or weight.const is None:
            raise ExportError("F.linear needs a constant weight")
        b = None
        if bias is not None:
            if not isinstance(bias, Value) or bias.const is None:
                raise ExportError("F.linear needs a constant bias")
            b = bias.const
        return self.linear(node.name, x, np.ascontiguousarray(weight.const.T), b)

    def _op_cat(self, node, tensors, dim=0):
        shape = self._out_shape(node)
        return self.concat(node.name, list(tensors), dim % len(shape), shape)

    def _op_stack(self, node, tensors, dim=0):
        shape = self._out_shape(node)
        dim = dim % len(shape)
        parts = []
        for i, t in enumerate(tensors):
            t = self._f32(t, "a stack operand")
            parts.append(self.reshape(f"{node.name}_{i}_unsqueezed", t,
                                      t.shape[:dim] + [1] + t.shape[dim:]))
        return self.concat(node.name, parts, dim, shape)

    def _op_transpose(self, node, x, dim0, dim1):
        rank = len(x.shape)
        perm = list(range(rank))
        perm[dim0 % rank], perm[dim1 % rank] = perm[dim1 % rank], perm[dim0 % rank]
        return self.transpose(node.name, x, perm)

    def _op_t(self, node, x):
        return self.transpose(node.name, x, list(range(len(x.shape)))[::-1])

    def _op_permute(self, node, x, *dims, **kwargs):
        dims = kwargs.get("dims", dims)
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = dims[0]
        rank = len(x.shape)
        return self.transpose(node.name, x, [int(d) % rank for d in dims])

    def _op_reshape(self, node, x, *args, **kwargs):
        return self.reshape(node.name, x, self._out_shape(node))

    def _op_expand(self, node, x, *args, **kwargs):
        x = self._f32(x)
        shape = self._out_shape(node)
        if shape == x.shape:
            return x
        return self.elementwise(node.name, [x], shape, lambda b, a: a)

    def _op_identity(self, node, x, *args, **kwargs):
        if node.target == "float" and self._tensor(x).dtype != "f32":
            raise ExportError("conversion of integer tensors to float is not supported")
        return self._tensor(x)

    def _op_stochastic_depth(self, node, x, p, mode, training=True):
        if training and p > 0:
            raise ExportError("stochastic_depth in training mode (call model.eval())")
        return self._tensor(x)

    def _op_pad(self, node, x, pad, mode="constant", value=None):
        x = self._f32(x)
        if mode != "constant":
            raise ExportError(f"F.pad mode {mode!r} is not supported (constant only)")
        rank = len(x.shape)
        low, high = [0] * rank, [0] * rank
        for i in range(len(pad) // 2):       # pairs from the last dimension backwards
            low[rank - 1 - i], high[rank - 1 - i] = int(pad[2 * i]), int(pad[2 * i + 1])
        if min(low + high) < 0:
            raise ExportError("F.pad with negative padding (cropping) is not supported")
        ssa, shape = self.writer.pad_nd(node.name, self.ssa(x), x.shape, low, high,
                                        0.0 if value is None else float(value))
        return Value(ssa, shape)

    def _op_group_norm(self, node, x, num_groups, weight=None, bias=None, eps=1e-5):
        if weight is not None or bias is not None:
            gn = nn.GroupNorm(num_groups, x.shape[1], eps)
            with torch.no_grad():
                gn.weight.copy_(torch.from_numpy(weight.const) if weight is not None else 1.0)
                gn.bias.copy_(torch.from_numpy(bias.const) if bias is not None else 0.0)
        else:
            gn = nn.GroupNorm(num_groups, x.shape[1], eps, affine=False)
        return self._group_norm(node.name, gn, x)

    def _op_split(self, node, x, *args, **kwargs):
        x = self._tensor(x)
        spec = node.meta.get("ds_spec")
        if node.target in (torch.unbind, "unbind"):
            dim = (args[0] if args else kwargs.get("dim", 0)) % len(x.shape)
        else:
            dim = (args[1] if len(args) > 1 else kwargs.get("dim", 0)) % len(x.shape)
        parts, offset = [], 0
        for i, (shape, _) in enumerate(spec):
            unbind = len(shape) < len(x.shape)
            size = 1 if unbind else shape[dim]
            offsets = [0] * len(x.shape)
            offsets[dim] = offset
            sizes = list(x.shape)
            sizes[dim] = size
            parts.append(self.slice(f"{node.name}_{i}", x, offsets, sizes, [1] * len(x.shape),
                                    list(shape)))
            offset += size
        return tuple(parts)

    def _op_getitem(self, node, x, index):
        if isinstance(x, (tuple, list)):
            return x[index]
        x = self._tensor(x)
        index = index if isinstance(index, tuple) else (index,)
        if any(isinstance(i, Value) or isinstance(i, (list, torch.Tensor)) for i in index):
            raise ExportError("indexing with tensors (advanced indexing) is not supported")
        used = sum(1 for i in index if i is not None and i is not Ellipsis)
        expanded = []
        for i in index:
            if i is Ellipsis:
                expanded += [slice(None)] * (len(x.shape) - used)
            else:
                expanded.append(i)
        offsets, sizes, strides, kept = [], [], [], []
        dim = 0
        for i in expanded:
            if i is None:
                continue
            n = x.shape[dim]
            if isinstance(i, int):
                offsets.append(i % n)
                sizes.append(1)
                strides.append(1)
            elif isinstance(i, slice):
                start, stop, step = i.indices(n)
                length = len(range(start, stop, step))
                if length == 0:
                    raise ExportError("empty slices are not supported")
                offsets.append(start)
                sizes.append(length)
                strides.append(step)
                kept.append(length)
            else:
                raise ExportError(f"index of type {type(i).__name__} is not supported")
            dim += 1
        for d in range(dim, len(x.shape)):
            offsets.append(0)
            sizes.append(x.shape[d])
            strides.append(1)
            kept.append(x.shape[d])
        result = self.slice(node.name, x, offsets, sizes, strides, kept)
        return self.reshape(node.name + "_view", result, self._out_shape(node))

    def _reduce_op(self, node, x, dim, keepdim, kind):
        x = self._f32(x)
        dims = _dims(dim, len(x.shape))
        out_shape = self._out_shape(node)
        total = self.reduce(node.name + ("_sum" if kind == "mean" else ""), x, dims,
                            "max" if kind == "amax" else "sum")
        if kind == "mean":
            count = float(np.prod([x.shape[d] for d in dims]))
            total = self.elementwise(node.name, [total], total.shape, lambda b, a: b.div(a, count))
        return self.reshape(node.name + "_keepdim", total, out_shape)

    def _op_mean(self, node, x, dim=None, keepdim=False, dtype=None):
        return self._reduce_op(node, x, dim, keepdim, "mean")

    def _op_sum(self, node, x, dim=None, keepdim=False, dtype=None):
        return self._reduce_op(node, x, dim, keepdim, "sum")

    def _op_amax(self, node, x, dim=(), keepdim=False):
        return self._reduce_op(node, x, dim if dim != () else None, keepdim, "amax")

    def _op_adaptive_avg_pool2d(self, node, x, output_size):
        return self._adaptive_avg_pool(node.name, x, self._out_shape(node))

    def _op_max_pool2d(self, node, x, kernel_size, stride=None, padding=0, dilation=1,
                       ceil_mode=False, return_indices=False):
        return self._max_pool(node.name, x, kernel_size, stride, padding, dilation, ceil_mode,
                              return_indices, self._out_shape(node))

    def _op_avg_pool2d(self, node, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                       count_include_pad=True, divisor_override=None):
        return self._avg_pool(node.name, x, kernel_size, stride, padding, ceil_mode,
                              count_include_pad, divisor_override, self._out_shape(node))

    def _op_embedding(self, node, ids, weight, padding_idx=None, max_norm=None, *args, **kwargs):
        if not isinstance(weight, Value) or weight.const is None:
            raise ExportError("F.embedding needs a constant weight")
        return self._embedding(node.name, ids, weight, max_norm)


def export_model(model, batch=1, header=(), input_shape=None, input_dtype="float32"):
    """MLIR text of ``model`` for a batch of ``batch`` inputs of ``input_shape``
    (default 1x28x28; e.g. (3, 224, 224) images, (T, F) sequences, (T,) token
    ids with ``input_dtype="int64"``, passed to the compiled model as float32)."""
    if not isinstance(batch, int) or batch <= 0:
        raise ExportError("--batch must be a positive integer")
    input_shape = INPUT_SHAPE if input_shape is None else parse_shape(input_shape)
    training_form = [n for n, m in model.named_modules()
                     if type(m).__name__ in ("QuantLinear", "QKReparamAttention")]
    if training_form:
        raise ExportError(f"{training_form[0]} is an OFQ training layer ({len(training_form)} in "
                          "the model): call denseshift.ofq.deployable(model) first, which turns "
                          "them into the shift/linear layers the exporter reads")
    try:
        return Exporter(model, batch, input_shape, input_dtype).run(header)
    except ExportError:
        raise
    except Exception as err:   # never a bare traceback: name what failed
        raise ExportError(f"internal error: {type(err).__name__}: {err}") from err


def parse_shape(shape):
    """``"3x224x224"``, ``"3,224,224"``, ``[3, 224, 224]`` -> (3, 224, 224)."""
    try:
        if isinstance(shape, str):
            dims = tuple(int(d) for d in shape.replace(",", "x").split("x") if d.strip())
        else:
            dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError) as err:
        raise ExportError(f"bad input shape {shape!r}: expected e.g. 3x224x224") from err
    if not dims or any(d <= 0 for d in dims):
        raise ExportError(f"bad input shape {shape!r}: dimensions must be positive")
    return dims


def export_checkpoint(checkpoint, output, batch=1, input_shape=None, input_dtype=None):
    """Export ``checkpoint`` to ``output`` atomically; returns the MLIR text.
    The input shape defaults to the config's ``input_shape`` (else 1x28x28)."""
    model, config = load_model(checkpoint)
    if input_shape is None:
        input_shape = config.get("input_shape") or INPUT_SHAPE
    input_shape = parse_shape(input_shape)
    input_dtype = input_dtype or config.get("input_dtype") or "float32"
    header = [f"Exported by denseshift.export from {os.path.basename(checkpoint)}: model "
              f"{config['model']}, scheme {config['scheme']}, bits {config['bits']}, batch {batch}, "
              f"input {'x'.join(map(str, input_shape))} {input_dtype}.",
              "Input: images normalised with data.MEAN/STD. Contract: docs/python.md."]
    text = export_model(model, batch, header, input_shape, input_dtype)
    atomic_write_text(output, text)
    return text


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m denseshift.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("-o", "--output", required=True, help="MLIR file to write")
    p.add_argument("--batch", type=int, default=1, help="static batch size N of @forward")
    p.add_argument("--input-shape", default=None,
                   help="one input without the batch, e.g. 3x224x224 or 16x40 (default: the "
                        "checkpoint config's input_shape, else 1x28x28)")
    p.add_argument("--input-dtype", choices=sorted(INPUT_DTYPES), default=None,
                   help="element type of the model's input: int64 for token ids (the compiled "
                        "forward() still takes them as float32 values); default float32")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        export_checkpoint(args.checkpoint, args.output, args.batch, args.input_shape,
                          args.input_dtype)
    except (ExportError, CheckpointError, OSError) as err:
        print(f"denseshift.export: error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # never a bare traceback; still say what it was
        print(f"denseshift.export: error: internal error: {type(err).__name__}: {err}",
              file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
