"""Textual MLIR for the export contract: upstream tensor/linalg/arith ops only.

Each method appends the ops of one PyTorch operation and returns the SSA name
of its result.  Float constants are printed bit-exactly: tensors as
``dense<"0x...">`` (little-endian f32 bytes), scalars as hex ``0x...`` bits.
"""
import re

import numpy as np

ZERO = "0.000000e+00"
NEG_INF = "0xFF800000"


def tensor_type(shape, dtype="f32"):
    """``tensor<AxBxf32>``; rank 0 is ``tensor<f32>``."""
    dims = "".join(f"{int(d)}x" for d in shape)
    return f"tensor<{dims}{dtype}>"


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


def _reassociation(groups):
    return "[" + ", ".join("[" + _ints(g) + "]" for g in groups) + "]"


def _reassociation_of(small, big):
    """Groups of consecutive ``big`` dims whose products are ``small``'s dims
    (a valid collapse big -> small / expand small -> big), or None."""
    if not small:
        return [] if all(d == 1 for d in big) else None
    groups, j = [], 0
    for s in small:
        group, prod = [], 1
        while j < len(big) and (not group or prod < s):
            group.append(j)
            prod *= big[j]
            j += 1
            if prod == s:
                break
        if prod != s or not group:
            return None
        groups.append(group)
    if j < len(big):
        if any(big[k] != 1 for k in range(j, len(big))):
            return None
        groups[-1].extend(range(j, len(big)))
    return groups


# Names used inside regions (block arguments and the fixed body names of the
# contract); function-level names must never shadow them.
_BODY_NAMES = {"zero", "max", "sum", "divisor", "quotient", "out"}


class Body:
    """Scalar ops of a ``linalg.generic`` region, with fresh local names."""

    def __init__(self):
        self.lines = []
        self._count = 0

    def op(self, text, dtype="f32"):
        name = f"%b.{self._count}"   # '.' never occurs in function-level names
        self._count += 1
        self.lines.append(f"{name} = {text} : {dtype}")
        return name

    def const(self, value):
        return self.op(f"arith.constant {f32_literal(value)}")

    def _operand(self, v):
        return v if isinstance(v, str) else self.const(float(v))

    def binary(self, opname, a, b):
        return self.op(f"arith.{opname} {self._operand(a)}, {self._operand(b)}")

    def add(self, a, b):
        return self.binary("addf", a, b)

    def sub(self, a, b):
        return self.binary("subf", a, b)

    def mul(self, a, b):
        return self.binary("mulf", a, b)

    def div(self, a, b):
        return self.binary("divf", a, b)

    def max(self, a, b):
        return self.binary("maximumf", a, b)

    def min(self, a, b):
        return self.binary("minimumf", a, b)

    def neg(self, a):
        return self.op(f"arith.negf {a}")

    def math(self, fn, a):
        return self.op(f"math.{fn} {a}")

    def exp(self, a):
        return self.math("exp", a)

    def sigmoid(self, a):
        """1 / (1 + exp(-a)): 0 for very negative a (exp overflows to +inf)."""
        return self.div(1.0, self.add(1.0, self.exp(self.neg(a))))

    def tanh(self, a):
        return self.math("tanh", a)

    def erf(self, a):
        """erf from erfc(z) = t exp(-z^2 + P(t)), t = 1/(1 + z/2) (fractional
        error < 1.2e-7 for all z >= 0), with erf(-a) = -erf(a).  Only math.exp
        is needed, which every toolchain lowers."""
        z = self.math("absf", a)
        t = self.div(1.0, self.add(1.0, self.mul(z, 0.5)))
        coeffs = [0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807,
                  -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223]
        poly = self.const(coeffs[0])
        for c in coeffs[1:]:
            poly = self.add(self.mul(poly, t), c)
        erfc = self.mul(t, self.exp(self.sub(poly, self.mul(z, z))))
        magnitude = self.sub(1.0, erfc)
        return self.op(f"math.copysign {magnitude}, {a}")


class MLIRWriter:
    """Accumulates the body of ``func.func @forward``."""

    def __init__(self):
        self.lines = []
        self._names = {}

    def name(self, hint):
        """A fresh SSA name derived from ``hint`` (a PyTorch module/node name)."""
        base = re.sub(r"[^A-Za-z0-9_]", "_", hint) or "v"
        if base[0].isdigit() or base in _BODY_NAMES or re.fullmatch(r"(in|i)\d+", base):
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

    # ----- general building blocks (issue 10: any shape, the transformer/RNN op set) -----

    def generic(self, hint, inputs, out_shape, body, reductions=(), init=None, out_map=None,
                out_dtype="f32"):
        """One ``linalg.generic``.

        ``inputs``: list of (ssa, shape, dtype, dims) where ``dims`` lists the loop
        dimension indexing each input dimension (a projected permutation).
        The loop space has ``len(out_shape) + len(reductions)`` dims when
        ``reductions`` is given: ``out_shape`` are the parallel dims and the loop
        dims ``reductions`` (positions in the full loop space) are reduced;
        ``out_map`` (loop dims of the output) is then required, with ``init``.
        ``body(b, args)`` gets a :class:`Body` and the block argument names
        (inputs then the output accumulator) and returns the yielded name.
        """
        loop_rank = len(out_map) + len(reductions) if out_map is not None else len(out_shape)
        if out_map is None:
            out_map = list(range(len(out_shape)))
        t = tensor_type(out_shape, out_dtype)
        if init is None:
            init = self.name(hint + "_empty")
            self.emit(f"{init} = tensor.empty() : {t}")
        dims = ", ".join(f"d{i}" for i in range(loop_rank))

        def amap(ds):
            return f"affine_map<({dims}) -> ({', '.join(f'd{d}' for d in ds)})>"

        maps = ", ".join([amap(ds) for _, _, _, ds in inputs] + [amap(out_map)])
        iterators = "[" + ", ".join('"reduction"' if i in reductions else '"parallel"'
                                    for i in range(loop_rank)) + "]"
        name = self.name(hint)
        ins = ", ".join(v for v, _, _, _ in inputs)
        types = ", ".join(tensor_type(s, dt) for _, s, dt, _ in inputs)
        ins_text = f"ins({ins} : {types}) " if inputs else ""
        self.emit(f"{name} = linalg.generic {{indexing_maps = [{maps}], iterator_types = {iterators}}} "
                  f"{ins_text}outs({init} : {t}) {{")
        args = [f"%in{i}" for i in range(len(inputs))]
        decl = ", ".join([f"{a}: {dt}" for a, (_, _, dt, _) in zip(args, inputs)] + [f"%out: {out_dtype}"])
        self.emit(f"^bb0({decl}):")
        b = Body()
        result = body(b, args + ["%out"])
        for line in b.lines:
            self.emit("  " + line)
        self.emit(f"  linalg.yield {result} : {out_dtype}")
        self.emit(f"}} -> {t}")
        return name

    def transpose(self, hint, x, shape, perm):
        out_shape = [shape[p] for p in perm]
        empty = self.name(hint + "_empty")
        self.emit(f"{empty} = tensor.empty() : {tensor_type(out_shape)}")
        name = self.name(hint)
        self.emit(f"{name} = linalg.transpose ins({x} : {tensor_type(shape)}) "
                  f"outs({empty} : {tensor_type(out_shape)}) permutation = [{_ints(perm)}]")
        return name, out_shape

    def collapse_groups(self, hint, x, shape, groups, dtype="f32"):
        out_shape = [int(np.prod([shape[i] for i in g])) for g in groups]
        name = self.name(hint)
        self.emit(f"{name} = tensor.collapse_shape {x} {_reassociation(groups)} : "
                  f"{tensor_type(shape, dtype)} into {tensor_type(out_shape, dtype)}")
        return name, out_shape

    def expand_groups(self, hint, x, shape, groups, out_shape, dtype="f32"):
        name = self.name(hint)
        self.emit(f"{name} = tensor.expand_shape {x} {_reassociation(groups)} output_shape "
                  f"[{_ints(out_shape)}] : {tensor_type(shape, dtype)} into "
                  f"{tensor_type(out_shape, dtype)}")
        return name, list(out_shape)

    def reshape(self, hint, x, shape, new_shape, dtype="f32"):
        """Row-major reshape: one collapse or expand when possible, else both."""
        shape, new_shape = list(shape), list(new_shape)
        if shape == new_shape:
            return x, shape
        groups = _reassociation_of(new_shape, shape)
        if groups is not None:
            return self.collapse_groups(hint, x, shape, groups, dtype)
        groups = _reassociation_of(shape, new_shape)
        if groups is not None:
            return self.expand_groups(hint, x, shape, groups, new_shape, dtype)
        flat, flat_shape = self.collapse_groups(hint + "_flat", x, shape, [list(range(len(shape)))],
                                                dtype)
        return self.expand_groups(hint, flat, flat_shape, [list(range(len(new_shape)))],
                                  new_shape, dtype)

    def extract_slice(self, hint, x, shape, offsets, sizes, strides, out_shape, dtype="f32"):
        """``tensor.extract_slice``; ``out_shape`` may drop unit dims (rank-reducing)."""
        name = self.name(hint)
        self.emit(f"{name} = tensor.extract_slice {x}[{_ints(offsets)}] [{_ints(sizes)}] "
                  f"[{_ints(strides)}] : {tensor_type(shape, dtype)} to {tensor_type(out_shape, dtype)}")
        return name

    def insert_slice(self, hint, src, src_shape, dest, dest_shape, offsets, sizes, strides=None):
        strides = strides or [1] * len(dest_shape)
        name = self.name(hint)
        self.emit(f"{name} = tensor.insert_slice {src} into {dest}[{_ints(offsets)}] "
                  f"[{_ints(sizes)}] [{_ints(strides)}] : {tensor_type(src_shape)} into "
                  f"{tensor_type(dest_shape)}")
        return name

    def empty(self, hint, shape):
        name = self.name(hint + "_empty")
        self.emit(f"{name} = tensor.empty() : {tensor_type(shape)}")
        return name

    def matmul_values(self, hint, a, a_shape, b, b_shape, hints=""):
        """``linalg.matmul`` (2-D) or ``linalg.batch_matmul`` (3-D) of two SSA values."""
        if len(a_shape) == 2:
            op, out_shape = "linalg.matmul", [a_shape[0], b_shape[1]]
        else:
            op, out_shape = "linalg.batch_matmul", [a_shape[0], a_shape[1], b_shape[2]]
        init = self.filled(hint, out_shape, 0.0)
        return self._named(op, hint, hints, [a, b], [tensor_type(a_shape), tensor_type(b_shape)],
                           init, out_shape), out_shape

    def pad_nd(self, hint, x, shape, low, high, value):
        """``tensor.pad`` of any rank by per-dimension (low, high)."""
        padded = [s + lo + hi for s, lo, hi in zip(shape, low, high)]
        pad_value = self.scalar(hint + "_pad_value", value)
        name = self.name(hint + "_padded")
        self.emit(f"{name} = tensor.pad {x} low[{_ints(low)}] high[{_ints(high)}] {{")
        self.emit("^bb0(" + ", ".join(f"%i{i}: index" for i in range(len(shape))) + "):")
        self.emit(f"  tensor.yield {pad_value} : f32")
        self.emit(f"}} : {tensor_type(shape)} to {tensor_type(padded)}")
        return name, padded

    def function(self, input_shape, result, output_shape, header=(), input_dtype="f32"):
        lines = [f"// {h}" for h in header]
        lines.append(f"func.func @forward(%arg0: {tensor_type(input_shape, input_dtype)}) -> "
                     f"{tensor_type(output_shape)} {{")
        lines += self.lines
        lines.append(f"    return {result} : {tensor_type(output_shape)}")
        lines.append("}")
        return "\n".join(lines) + "\n"
