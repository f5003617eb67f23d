"""Textual MLIR for the export contract: upstream tensor/linalg/arith ops only.

Each method appends the ops of one PyTorch operation and returns the SSA name
of its result.  Float constants are printed bit-exactly: tensors as
``dense<"0x...">`` (little-endian f32 bytes), scalars as hex ``0x...`` bits.
"""
import re

import numpy as np

ZERO = "0.000000e+00"
NEG_INF = "0xFF800000"


def tensor_type(shape):
    return "tensor<" + "x".join(str(int(d)) for d in shape) + "xf32>"


def f32_literal(value):
    """A scalar f32 as a bit-exact MLIR float literal."""
    bits = np.array([value], dtype="<f4").view("<u4")[0]
    return ZERO if bits == 0 else f"0x{int(bits):08X}"


def dense_literal(array):
    """``dense<...>`` of an f32 array, bit-exact (hex form of the raw bytes)."""
    data = np.ascontiguousarray(array, dtype="<f4")
    return f'dense<"0x{data.tobytes().hex().upper()}">'


def _ints(values):
    return ", ".join(str(int(v)) for v in values)


def _i64_vector(values):
    values = [int(v) for v in values]
    if len(set(values)) == 1:
        return f"dense<{values[0]}> : tensor<{len(values)}xi64>"
    return f"dense<[{_ints(values)}]> : tensor<{len(values)}xi64>"


def _identity_map(rank):
    dims = ", ".join(f"d{i}" for i in range(rank))
    return f"affine_map<({dims}) -> ({dims})>"


def _iterators(rank):
    return "[" + ", ".join(['"parallel"'] * rank) + "]"


class MLIRWriter:
    """Accumulates the body of ``func.func @forward``."""

    def __init__(self):
        self.lines = []
        self._names = {}

    def name(self, hint):
        """A fresh SSA name derived from ``hint`` (a PyTorch module/node name)."""
        base = re.sub(r"[^A-Za-z0-9_]", "_", hint) or "v"
        if base[0].isdigit():
            base = "v" + base
        count = self._names.get(base, 0)
        self._names[base] = count + 1
        return f"%{base}" if count == 0 else f"%{base}_{count}"

    def emit(self, line):
        self.lines.append("    " + line)

    def comment(self, text):
        self.lines.append("    // " + text)

    def constant(self, hint, array):
        name = self.name(hint)
        self.emit(f"{name} = arith.constant {dense_literal(array)} : {tensor_type(array.shape)}")
        return name

    def scalar(self, hint, value):
        name = self.name(hint)
        self.emit(f"{name} = arith.constant {f32_literal(value)} : f32")
        return name

    def filled(self, hint, shape, value):
        """``linalg.fill`` of ``value`` into ``tensor.empty()`` (an init tensor)."""
        fill_value = self.scalar(hint + "_fill_value", value)
        empty = self.name(hint + "_empty")
        self.emit(f"{empty} = tensor.empty() : {tensor_type(shape)}")
        name = self.name(hint + "_init")
        t = tensor_type(shape)
        self.emit(f"{name} = linalg.fill ins({fill_value} : f32) outs({empty} : {t}) -> {t}")
        return name

    def pad(self, hint, x, shape, low, high, value):
        """``tensor.pad`` of a 4-D tensor by (low, high) on H and W."""
        padded = list(shape[:2]) + [shape[2] + low[0] + high[0], shape[3] + low[1] + high[1]]
        pad_value = self.scalar(hint + "_pad_value", value)
        name = self.name(hint + "_padded")
        self.emit(f"{name} = tensor.pad {x} low[0, 0, {low[0]}, {low[1]}] "
                  f"high[0, 0, {high[0]}, {high[1]}] {{")
        self.emit("^bb0(%i0: index, %i1: index, %i2: index, %i3: index):")
        self.emit(f"  tensor.yield {pad_value} : f32")
        self.emit(f"}} : {tensor_type(shape)} to {tensor_type(padded)}")
        return name, padded

    def _named(self, op, hint, attrs, ins, in_types, init, out_shape):
        name = self.name(hint)
        t = tensor_type(out_shape)
        attr_text = f" {{{attrs}}}" if attrs else ""
        self.emit(f"{name} = {op}{attr_text} ins({', '.join(ins)} : {', '.join(in_types)}) "
                  f"outs({init} : {t}) -> {t}")
        return name

    def conv2d(self, hint, x, x_shape, weight, stride, dilation, groups, out_shape, hints=""):
        """Convolution of an already padded NCHW input with a constant FCHW weight."""
        out_c, in_per_group, kh, kw = weight.shape
        attrs = f"dilations = {_i64_vector(dilation)}, strides = {_i64_vector(stride)}"
        attrs = f"{hints}, {attrs}" if hints else attrs
        in_c = x_shape[1]
        if groups == 1:
            w = self.constant(hint + "_weight", weight)
            init = self.filled(hint, out_shape, 0.0)
            return self._named("linalg.conv_2d_nchw_fchw", hint, attrs, [x, w],
                               [tensor_type(x_shape), tensor_type(weight.shape)], init, out_shape)
        if groups == in_c == out_c:
            dw = weight.reshape(out_c, kh, kw)
            w = self.constant(hint + "_weight", dw)
            init = self.filled(hint, out_shape, 0.0)
            return self._named("linalg.depthwise_conv_2d_nchw_chw", hint, attrs, [x, w],
                               [tensor_type(x_shape), tensor_type(dw.shape)], init, out_shape)
        # Grouped: NCHW -> NGCHW, weight (G*F)CHW -> FGCHW, output NGFHW -> NCHW.
        per_group_out = out_c // groups
        fgchw = weight.reshape(groups, per_group_out, in_per_group, kh, kw).transpose(1, 0, 2, 3, 4)
        grouped_in = [x_shape[0], groups, in_per_group, x_shape[2], x_shape[3]]
        expanded = self.name(hint + "_grouped_input")
        self.emit(f"{expanded} = tensor.expand_shape {x} [[0], [1, 2], [3], [4]] "
                  f"output_shape [{_ints(grouped_in)}] : {tensor_type(x_shape)} "
                  f"into {tensor_type(grouped_in)}")
        w = self.constant(hint + "_weight", fgchw)
        grouped_out = [out_shape[0], groups, per_group_out, out_shape[2], out_shape[3]]
        init = self.filled(hint, grouped_out, 0.0)
        conv = self._named("linalg.conv_2d_ngchw_fgchw", hint + "_grouped", attrs, [expanded, w],
                           [tensor_type(grouped_in), tensor_type(fgchw.shape)], init, grouped_out)
        name = self.name(hint)
        self.emit(f"{name} = tensor.collapse_shape {conv} [[0], [1, 2], [3], [4]] : "
                  f"{tensor_type(grouped_out)} into {tensor_type(out_shape)}")
        return name

    def matmul(self, hint, x, x_shape, weight_t, hints=""):
        """``x (N x K) @ weight_t (K x M)``; the weight is stored pre-transposed."""
        out_shape = [x_shape[0], weight_t.shape[1]]
        w = self.constant(hint + "_weight", weight_t)
        init = self.filled(hint, out_shape, 0.0)
        return self._named("linalg.matmul", hint, hints, [x, w],
                           [tensor_type(x_shape), tensor_type(weight_t.shape)], init, out_shape)

    def _generic(self, hint, inputs, shape, body):
        """Elementwise ``linalg.generic``; inputs are (ssa, type, indexing map)."""
        rank = len(shape)
        empty = self.name(hint + "_empty")
        t = tensor_type(shape)
        self.emit(f"{empty} = tensor.empty() : {t}")
        maps = ", ".join([m for _, _, m in inputs] + [_identity_map(rank)])
        name = self.name(hint)
        ins = ", ".join(v for v, _, _ in inputs)
        types = ", ".join(ty for _, ty, _ in inputs)
        self.emit(f"{name} = linalg.generic {{indexing_maps = [{maps}], "
                  f"iterator_types = {_iterators(rank)}}} ins({ins} : {types}) outs({empty} : {t}) {{")
        args = ", ".join(f"%in{i}: f32" for i in range(len(inputs)))
        self.emit(f"^bb0({args}, %out: f32):")
        for line in body:
            self.emit("  " + line)
        self.emit(f"}} -> {t}")
        return name

    def bias_add(self, hint, x, shape, bias, channel_dim=1):
        """Add a per-channel constant, broadcast along every other dimension."""
        b = self.constant(hint + "_bias", bias)
        rank = len(shape)
        dims = ", ".join(f"d{i}" for i in range(rank))
        broadcast = f"affine_map<({dims}) -> (d{channel_dim})>"
        return self._generic(hint + "_biased", [(x, tensor_type(shape), _identity_map(rank)),
                                                (b, tensor_type(bias.shape), broadcast)], shape,
                             ["%sum = arith.addf %in0, %in1 : f32", "linalg.yield %sum : f32"])

    def relu(self, hint, x, shape):
        return self._generic(hint, [(x, tensor_type(shape), _identity_map(len(shape)))], shape,
                             [f"%zero = arith.constant {ZERO} : f32",
                              "%max = arith.maximumf %in0, %zero : f32", "linalg.yield %max : f32"])

    def divide(self, hint, x, shape, divisor):
        return self._generic(hint, [(x, tensor_type(shape), _identity_map(len(shape)))], shape,
                             [f"%divisor = arith.constant {f32_literal(divisor)} : f32",
                              "%quotient = arith.divf %in0, %divisor : f32",
                              "linalg.yield %quotient : f32"])

    def add(self, hint, a, b, shape):
        init = self.name(hint + "_empty")
        self.emit(f"{init} = tensor.empty() : {tensor_type(shape)}")
        t = tensor_type(shape)
        return self._named("linalg.add", hint, "", [a, b], [t, t], init, shape)

    def pool(self, kind, hint, x, x_shape, kernel, stride, dilation, out_shape):
        """``linalg.pooling_nchw_max`` or ``_sum`` over an already padded input."""
        window = self.name(hint + "_window")
        self.emit(f"{window} = tensor.empty() : tensor<{kernel[0]}x{kernel[1]}xf32>")
        init = self.filled(hint, out_shape, float("-inf") if kind == "max" else 0.0)
        attrs = f"dilations = {_i64_vector(dilation)}, strides = {_i64_vector(stride)}"
        return self._named(f"linalg.pooling_nchw_{kind}", hint, attrs, [x, window],
                           [tensor_type(x_shape), f"tensor<{kernel[0]}x{kernel[1]}xf32>"],
                           init, out_shape)

    def collapse(self, hint, x, x_shape, start_dim, end_dim):
        """``tensor.collapse_shape`` merging dims start_dim..end_dim (flatten)."""
        rank = len(x_shape)
        groups = [[i] for i in range(start_dim)] + [list(range(start_dim, end_dim + 1))] + \
                 [[i] for i in range(end_dim + 1, rank)]
        out_shape = [int(np.prod([x_shape[i] for i in g])) for g in groups]
        name = self.name(hint)
        reassociation = "[" + ", ".join("[" + _ints(g) + "]" for g in groups) + "]"
        self.emit(f"{name} = tensor.collapse_shape {x} {reassociation} : "
                  f"{tensor_type(x_shape)} into {tensor_type(out_shape)}")
        return name, out_shape

    def function(self, input_shape, result, output_shape, header=()):
        lines = [f"// {h}" for h in header]
        lines.append(f"func.func @forward(%arg0: {tensor_type(input_shape)}) -> "
                     f"{tensor_type(output_shape)} {{")
        lines += self.lines
        lines.append(f"    return {result} : {tensor_type(output_shape)}")
        lines.append("}")
        return "\n".join(lines) + "\n"
