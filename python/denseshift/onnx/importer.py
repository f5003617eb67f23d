"""ONNX model -> the exporter's linalg-on-tensors MLIR (``func.func @forward``).

Every node is written with the exporter's building blocks
(:class:`denseshift.export.LinalgBuilder` over :class:`MLIRWriter`), so the
output is the same form ``python3 -m denseshift.export`` writes: constant
conv/matmul weights that ``denseshift-opt --denseshift-pipeline`` turns into
shift ops when they are exactly alpha*s*2^e (or quantizes with
``weights=quantize``), everything else float linalg.

Values that do not depend on the graph input (initializers, ``Constant``,
``Shape`` of a static tensor and integer arithmetic on them) are folded with
numpy at import time; only f32 tensors reach the MLIR.
"""
import functools
import os

import numpy as np
import onnx
from onnx import numpy_helper

from denseshift.export import ExportError, LinalgBuilder, Value

# ONNX reductions: op -> (kind for Importer._reduce, opset from which `axes`
# is an input rather than an attribute).
REDUCTIONS = {
    "ReduceL1": ("l1", 18),
    "ReduceL2": ("l2", 18),
    "ReduceLogSum": ("logsum", 18),
    "ReduceLogSumExp": ("logsumexp", 18),
    "ReduceProd": ("prod", 18),
    "ReduceMean": ("mean", 18),
    "ReduceSum": ("sum", 13),
    "ReduceMax": ("max", 18),
    "ReduceMin": ("min", 18),
    "ReduceSumSquare": ("sumsquare", 18),
}

# Default-domain opsets whose semantics the importer implements.
MIN_OPSET, MAX_OPSET = 1, 17
# Operator versions (the schema's since_version at the model's opset) below 6
# changed semantics (consumed_inputs, legacy broadcast, ...) and are refused,
# except for these operators whose early versions mean what the importer does.
EARLY_VERSIONS_OK = {"Conv", "ConvTranspose", "Concat", "Flatten", "GlobalAveragePool", "GlobalMaxPool",
                     "Identity", "MaxPool", "AveragePool", "Pad", "Reshape", "Slice",
                     "Softplus", "Softsign", "Split", "Squeeze", "Transpose", "Unsqueeze",
                     "Gather", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
                     "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
                     "ReduceProd", "Softmax", "LogSoftmax", "Shape", "Size",
                     "Constant", "MatMul", "Max", "Min", "Sum", "Mean", "Expand",
                     "LRN", "ThresholdedRelu", "HardSigmoid", "Selu", "Elu", "LeakyRelu",
                     "PRelu", "Clip", "Dropout", "Sigmoid", "Tanh", "Relu", "Exp", "Log",
                     "Sqrt", "Abs", "Neg", "Reciprocal", "Pow"}
FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16}


class OnnxImportError(RuntimeError):
    """The ONNX model uses something the importer does not cover, or cannot be read.

    ``op``, ``node`` and ``model`` name the operator type, the node name and
    the model path (each None when not applicable)."""

    def __init__(self, message, op=None, node=None, model=None):
        self.op, self.node, self.model, self.reason = op, node, model, message
        self.needs_constant = None   # a graph input that would have to be a constant
        where = []
        if model:
            where.append(str(model))
        if node is not None or op is not None:
            where.append(f"node '{node or ''}' ({op})" if op else f"node '{node}'")
        super().__init__((": ".join(where) + ": " if where else "") + message)


class _Unsupported(Exception):
    """Raised inside a handler; becomes an OnnxImportError naming the node."""


class _NeedsConstant(_Unsupported):
    """A graph input is used where a constant is required (a conv weight, ...)."""

    def __init__(self, message, name):
        super().__init__(message)
        self.name = name


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _s(value):
    return value.decode() if isinstance(value, bytes) else value


def _const_value(array):
    """A constant Value: float arrays become f32 (written on first use), others
    stay integer/bool numpy arrays usable only at import time."""
    array = np.asarray(array)
    if array.dtype.kind == "f":
        # (np.ascontiguousarray would turn a 0-d array into shape (1,))
        return Value(None, array.shape, "f32", np.array(array, dtype=np.float32, order="C"))
    dtype = {"b": "i1", "i": "i64", "u": "i64"}.get(array.dtype.kind, str(array.dtype))
    return Value(None, array.shape, dtype, array)


class Importer(LinalgBuilder):
    """Walks an ONNX graph in order and writes each node."""

    def __init__(self, model, path=None, input_shapes=None, pack=False, batch=None):
        super().__init__()
        self.batch = batch
        self.model, self.path = model, path
        self.graph = model.graph
        self.pack = pack
        self.values = {}
        self.opset = None
        for imp in model.opset_import:
            if imp.domain in ("", "ai.onnx"):
                self.opset = imp.version
        if self.opset is None:
            raise self.error("the model imports no default-domain (ai.onnx) opset")
        if not MIN_OPSET <= self.opset <= MAX_OPSET:
            raise self.error(f"opset {self.opset} is outside the supported range "
                             f"{MIN_OPSET}..{MAX_OPSET}")
        for init in self.graph.initializer:
            self.values[init.name] = _const_value(numpy_helper.to_array(init))
        for sparse in self.graph.sparse_initializer:
            raise self.error(f"sparse initializer '{sparse.values.name}' is not supported")
        self.inputs = []          # (name, shape) of the runtime inputs
        input_shapes = dict(input_shapes or {})
        for vi in self.graph.input:
            if vi.name in self.values:
                continue
            self.inputs.append((vi.name, self._input_shape(vi, input_shapes.get(vi.name))))
        if not self.inputs:
            raise self.error("the graph has no runtime input")
        if not pack and len(self.inputs) != 1:
            raise self.error(f"the graph has {len(self.inputs)} inputs "
                             f"({', '.join(n for n, _ in self.inputs)}); the compiled model "
                             "takes exactly one f32 input")

    def error(self, message, node=None):
        if node is None:
            return OnnxImportError(message, model=self.path)
        return OnnxImportError(message, op=node.op_type, node=node.name, model=self.path)

    def _input_shape(self, vi, override):
        t = vi.type
        if not t.HasField("tensor_type"):
            raise self.error(f"input '{vi.name}' is not a tensor")
        if t.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            raise self.error(f"input '{vi.name}' has element type "
                             f"{onnx.TensorProto.DataType.Name(t.tensor_type.elem_type)}; "
                             "only float32 inputs are supported")
        if override is not None:
            return [int(d) for d in override]
        if not t.tensor_type.HasField("shape"):
            raise self.error(f"input '{vi.name}' has no shape (dynamic shapes are not "
                             "supported; pass --input-shape)")
        shape = []
        for i, d in enumerate(t.tensor_type.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                shape.append(int(d.dim_value))
            elif i == 0 and self.batch is not None:
                shape.append(int(self.batch))
            else:
                what = f"'{d.dim_param}'" if d.dim_param else "unknown"
                raise self.error(f"input '{vi.name}' has a dynamic dimension {i} ({what}); "
                                 "the compiler needs static shapes: pass --input-shape "
                                 "(or --batch for a symbolic batch dimension)")
        return shape

    # ----- the walk -----

    def run(self, header=()):
        if self.pack:
            sizes = [int(np.prod(s)) for _, s in self.inputs]
            total = sum(sizes)
            flat = Value("%arg0", [total])
            offset = 0
            for (name, shape), size in zip(self.inputs, sizes):
                piece = self.slice(f"{name}_packed", flat, [offset], [size], [1], [size])
                self.values[name] = self.reshape(f"{name}_unpacked", piece, shape)
                offset += size
            input_shape = [total]
        else:
            name, input_shape = self.inputs[0]
            self.values[name] = Value("%arg0", input_shape)
        for node in self.graph.node:
            self._node(node)
        outputs = []
        for vi in self.graph.output:
            v = self.values.get(vi.name)
            if not isinstance(v, Value):
                raise self.error(f"graph output '{vi.name}' is not produced")
            if v.dtype != "f32":
                raise self.error(f"graph output '{vi.name}' is {v.dtype}; only float32 "
                                 "outputs are supported")
            self._check_declared(vi, v)
            outputs.append((vi.name, v))
        self.output_shapes = [v.shape for _, v in outputs]
        if self.pack:
            pieces = []
            for name, v in outputs:
                pieces.append(self.reshape(f"{name}_flat", v, [int(np.prod(v.shape))]))
            total = sum(p.shape[0] for p in pieces)
            result = self.concat("packed_outputs", pieces, 0, [total]) if len(pieces) > 1 \
                else pieces[0]
        else:
            if len(outputs) != 1:
                raise self.error(f"the graph has {len(outputs)} outputs; the compiled model "
                                 "gives exactly one f32 output")
            result = outputs[0][1]
        if not result.shape:
            result = self.reshape("output_1d", result, [1])
        if result.ssa is None or result.ssa == "%arg0":
            # a constant or the input itself: route it through one op so that
            # the function returns a fresh tensor
            result = self.elementwise("output", [result], result.shape, lambda b, x: x)
        return self.writer.function(input_shape, self.ssa(result, "output"), result.shape, header)

    def _check_declared(self, vi, v):
        t = vi.type.tensor_type
        if not t.HasField("shape"):
            return
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        if len(dims) != len(v.shape) or any(d not in (None, 0) and d != s
                                            for d, s in zip(dims, v.shape)):
            raise self.error(f"graph output '{vi.name}': computed shape {v.shape} differs from "
                             f"the declared {dims}")

    def _node(self, node):
        if node.domain not in ("", "ai.onnx"):
            raise self.error(f"operator domain '{node.domain}' is not supported", node)
        handler = getattr(self, "_op_" + node.op_type, None)
        if handler is None and node.op_type in REDUCTIONS:
            kind, axes_input_from = REDUCTIONS[node.op_type]
            handler = functools.partial(self._reduce, kind=kind,
                                        axes_input_from=axes_input_from)
        if handler is None:
            raise self.error(f"unsupported operator {node.op_type}; see docs/onnx.md for the "
                             "supported set", node)
        try:
            since = onnx.defs.get_schema(node.op_type, self.opset, "").since_version
        except Exception:  # noqa: BLE001 - unknown to this onnx release
            since = self.opset
        if since < 6 and node.op_type not in EARLY_VERSIONS_OK:
            raise self.error(f"operator version {since} (opset {self.opset}) is older than "
                             "the supported range (versions >= 6)", node)
        if any(a.name == "consumed_inputs" for a in node.attribute):
            raise self.error("the legacy attribute consumed_inputs (opset < 6) is not "
                             "supported", node)
        inputs = []
        for name in node.input:
            if name == "":
                inputs.append(None)
            elif name not in self.values:
                raise self.error(f"input '{name}' is not defined before its use", node)
            else:
                inputs.append(self.values[name])
        attrs = _attrs(node)
        self._hint = node.name or (node.output[0] if node.output else node.op_type)
        try:
            result = handler(node, inputs, attrs)
        except _Unsupported as err:
            error = self.error(str(err), node)
            error.needs_constant = getattr(err, "name", None)
            raise error from None
        except ExportError as err:
            raise self.error(str(err), node) from None
        except OnnxImportError:
            raise
        except Exception as err:  # a defect: still one line naming the node
            raise self.error(f"internal error: {type(err).__name__}: {err}", node) from err
        if not isinstance(result, (list, tuple)):
            result = [result]
        for i, name in enumerate(node.output):
            if name == "":
                continue
            if i >= len(result) or result[i] is None:
                raise self.error(f"output {i} ('{name}') is not supported", node)
            self.values[name] = result[i]

    # ----- helpers -----

    def _hintname(self, suffix=""):
        return self._hint + suffix

    @staticmethod
    def _need(inputs, i, what):
        if i >= len(inputs) or inputs[i] is None:
            raise _Unsupported(f"missing {what}")
        return inputs[i]

    def _constant(self, v, what):
        if v is None or v.const is None:
            message = f"{what} must be a constant (an initializer or a Constant)"
            for name, _ in self.inputs:
                if self.values.get(name) is v:
                    raise _NeedsConstant(message + f"; graph input '{name}' is not", name)
            raise _Unsupported(message)
        return v.const

    def _ints_input(self, v, what):
        return [int(x) for x in np.asarray(self._constant(v, what)).reshape(-1)]

    def _float(self, v, what):
        v = self._tensor(v, what)
        if v.dtype != "f32":
            raise _Unsupported(f"{what} must be a float tensor, got {v.dtype} "
                               "(integer computation on tensors is not supported)")
        return v

    @staticmethod
    def _axis(axis, rank):
        axis = int(axis)
        if not -rank <= axis < max(rank, 1):
            raise _Unsupported(f"axis {axis} is out of range for rank {rank}")
        return axis % max(rank, 1)

    def _unused_outputs(self, node, first):
        for name in node.output[first:]:
            if name:
                raise _Unsupported(f"output '{name}' is not supported (only the first output)")

    def _check_attrs(self, node, attrs, known):
        unknown = sorted(set(attrs) - set(known))
        if unknown:
            raise _Unsupported(f"attribute(s) {', '.join(unknown)} are not supported")

    # ----- constants and shapes -----

    def _op_Constant(self, node, inputs, attrs):
        if "value" in attrs:
            return _const_value(numpy_helper.to_array(attrs["value"]))
        for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                           ("value_int", np.int64), ("value_ints", np.int64)):
            if key in attrs:
                return _const_value(np.array(attrs[key], dtype=dtype))
        raise _Unsupported(f"attribute(s) {', '.join(attrs)} are not supported")

    def _op_Shape(self, node, inputs, attrs):
        shape = np.array(self._tensor(inputs[0]).shape, dtype=np.int64)
        rank = len(shape)
        start = int(attrs.get("start", 0))
        end = attrs.get("end")
        start = max(0, min(rank, start + rank if start < 0 else start))
        end = rank if end is None else int(end)
        end = max(0, min(rank, end + rank if end < 0 else end))
        return _const_value(shape[start:end])

    def _op_Size(self, node, inputs, attrs):
        return _const_value(np.array(int(np.prod(inputs[0].shape)), dtype=np.int64))

    def _op_ConstantOfShape(self, node, inputs, attrs):
        shape = self._ints_input(inputs[0], "shape")
        value = numpy_helper.to_array(attrs["value"]) if "value" in attrs else np.zeros(1, np.float32)
        return _const_value(np.full(shape, value.reshape(-1)[0], dtype=value.dtype))

    def _op_Cast(self, node, inputs, attrs):
        to = int(attrs["to"])
        x = inputs[0]
        if x.const is not None:
            np_type = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE.get(to)
            if np_type is None:
                raise _Unsupported(f"cast to {onnx.TensorProto.DataType.Name(to)}")
            return _const_value(np.asarray(x.const).astype(np_type))
        if to in FLOAT_TYPES and x.dtype == "f32":
            return x
        raise _Unsupported(f"cast of a tensor to {onnx.TensorProto.DataType.Name(to)} "
                           "(only float tensors are supported)")

    def _fold(self, inputs, fn):
        """All-constant inputs: compute with numpy (integer shape arithmetic)."""
        if inputs and all(v is None or v.const is not None for v in inputs):
            return _const_value(fn(*[None if v is None else np.asarray(v.const) for v in inputs]))
        return None

    # ----- elementwise -----

    def _binary(self, inputs, fn, npfn, attrs=None):
        if attrs and attrs.get("broadcast"):   # opset < 7: B aligned at ``axis`` of A
            a, b = inputs[0], inputs[1]
            rank_a, rank_b = len(a.shape), len(b.shape)
            axis = int(attrs.get("axis", rank_a - rank_b))
            axis = axis + rank_a if axis < 0 else axis
            if axis < 0 or axis + rank_b > rank_a:
                raise _Unsupported(f"legacy broadcast of {b.shape} at axis {axis} of {a.shape}")
            shape = [1] * axis + list(b.shape) + [1] * (rank_a - axis - rank_b)
            inputs = [a, self._reshape_any(b, shape)]
        folded = self._fold(inputs[:2], npfn)
        if folded is not None:
            return folded
        a, b = (self._float(v, "an operand") for v in inputs[:2])
        out_shape = list(np.broadcast_shapes(tuple(a.shape), tuple(b.shape)))
        return self.elementwise(self._hint, [a, b], out_shape, fn)

    def _op_Add(self, node, inputs, attrs):
        return self._binary(inputs, lambda b, x, y: b.add(x, y), np.add, attrs)

    def _op_Sub(self, node, inputs, attrs):
        return self._binary(inputs, lambda b, x, y: b.sub(x, y), np.subtract, attrs)

    def _op_Mul(self, node, inputs, attrs):
        return self._binary(inputs, lambda b, x, y: b.mul(x, y), np.multiply, attrs)

    def _op_Div(self, node, inputs, attrs):
        def npdiv(x, y):
            if x.dtype.kind in "iu" and y.dtype.kind in "iu":
                return np.trunc(x / y).astype(x.dtype)
            return x / y
        return self._binary(inputs, lambda b, x, y: b.div(x, y), npdiv, attrs)

    def _op_Pow(self, node, inputs, attrs):
        folded = self._fold(inputs[:2], np.power)
        if folded is not None:
            return folded
        x = self._float(inputs[0], "X")
        y = inputs[1]
        if y.const is not None and np.asarray(y.const).size == 1:
            e = float(np.asarray(y.const).reshape(()))
            special = {1.0: lambda b, a: a, 2.0: lambda b, a: b.mul(a, a),
                       3.0: lambda b, a: b.mul(b.mul(a, a), a), 0.5: lambda b, a: b.math("sqrt", a),
                       -1.0: lambda b, a: b.div(1.0, a), 0.0: lambda b, a: b.const(1.0)}
            if e in special:
                out_shape = list(np.broadcast_shapes(tuple(x.shape), tuple(y.shape)))
                return self.elementwise(self._hint, [x], out_shape, special[e]) \
                    if out_shape == x.shape else self._binary(
                        [x, self._float(_const_value(np.asarray(y.const, np.float32)), "Y")],
                        lambda b, a, _: special[e](b, a), None)
        y = self._float(y if y.dtype == "f32" else _const_value(
            np.asarray(self._constant(y, "an integer exponent"), np.float32)), "Y")
        return self._binary([x, y], lambda b, a, c: b.op(f"math.powf {a}, {c}"), None, attrs)

    def _variadic(self, inputs, fn, mean=False):
        xs = [self._float(v, "an operand") for v in inputs if v is not None]
        out_shape = list(np.broadcast_shapes(*[tuple(x.shape) for x in xs]))
        count = len(xs)

        def body(b, *a):
            acc = a[0]
            for y in a[1:]:
                acc = fn(b, acc, y)
            return b.div(acc, float(count)) if mean else acc
        return self.elementwise(self._hint, xs, out_shape, body)

    def _op_Sum(self, node, inputs, attrs):
        return self._variadic(inputs, lambda b, x, y: b.add(x, y))

    def _op_Mean(self, node, inputs, attrs):
        return self._variadic(inputs, lambda b, x, y: b.add(x, y), mean=True)

    def _op_Max(self, node, inputs, attrs):
        return self._variadic(inputs, lambda b, x, y: b.max(x, y))

    def _op_Min(self, node, inputs, attrs):
        return self._variadic(inputs, lambda b, x, y: b.min(x, y))

    def _unary(self, inputs, fn):
        x = self._float(self._need(inputs, 0, "input"), "the input")
        return self.elementwise(self._hint, [x], x.shape, fn)

    def _op_Relu(self, node, inputs, attrs):
        x = self._float(inputs[0], "the input")
        return self.unary(self._hint, x, "relu")

    def _op_Sigmoid(self, node, inputs, attrs):
        return self._unary(inputs, lambda b, x: b.sigmoid(x))

    def _op_Tanh(self, node, inputs, attrs):
        return self._unary(inputs, lambda b, x: b.tanh(x))

    def _op_Exp(self, node, inputs, attrs):
        return self._unary(inputs, lambda b, x: b.exp(x))

    def _op_Log(self, node, inputs, attrs):
        return self._unary(inputs, lambda b, x: b.math("log", x))

    def _op_Sqrt(self, node, inputs, attrs):
        return self._unary(inputs, lambda b, x: b.math("sqrt", x))

    def _op_Abs(self, node, inputs, attrs):
        return self._fold(inputs[:1], np.abs) or self._unary(inputs, lambda b, x: b.math("absf", x))

    def _op_Neg(self, node, inputs, attrs):
        return self._fold(inputs[:1], np.negative) or self._unary(inputs, lambda b, x: b.neg(x))

    def _op_Reciprocal(self, node, inputs, attrs):
        return self._unary(inputs, lambda b, x: b.div(1.0, x))

    def _math_unary(fn):
        def handler(self, node, inputs, attrs):
            return self._unary(inputs, lambda b, x: b.math(fn, x))
        return handler

    _op_Floor, _op_Ceil, _op_Round = _math_unary("floor"), _math_unary("ceil"), \
        _math_unary("roundeven")
    _op_Sin, _op_Cos, _op_Tan = _math_unary("sin"), _math_unary("cos"), _math_unary("tan")
    _op_Asin, _op_Acos, _op_Atan = _math_unary("asin"), _math_unary("acos"), _math_unary("atan")
    _op_Sinh, _op_Cosh = _math_unary("sinh"), _math_unary("cosh")
    del _math_unary

    # math.asinh/acosh/atanh are not lowered by the pipeline: written with log/sqrt
    def _op_Asinh(self, node, inputs, attrs):
        return self._unary(inputs, lambda b, x: b.op("math.copysign " + b.math("log", b.add(
            b.math("absf", x), b.math("sqrt", b.add(b.mul(x, x), 1.0)))) + f", {x}"))

    def _op_Acosh(self, node, inputs, attrs):
        return self._unary(inputs, lambda b, x: b.math("log", b.add(
            x, b.math("sqrt", b.sub(b.mul(x, x), 1.0)))))

    def _op_Atanh(self, node, inputs, attrs):
        return self._unary(inputs, lambda b, x: b.mul(b.math("log", b.div(
            b.add(1.0, x), b.sub(1.0, x))), 0.5))

    def _op_Erf(self, node, inputs, attrs):
        return self._unary(inputs, lambda b, x: b.erf(x))

    def _op_Softsign(self, node, inputs, attrs):
        return self._unary(inputs, lambda b, x: b.div(x, b.add(1.0, b.math("absf", x))))

    def _op_Softplus(self, node, inputs, attrs):
        # log(1 + exp(x)) written stably: max(x, 0) + log(1 + exp(-|x|))
        return self._unary(inputs, lambda b, x: b.add(
            b.max(x, 0.0), b.math("log1p", b.exp(b.neg(b.math("absf", x))))))

    def _op_LeakyRelu(self, node, inputs, attrs):
        alpha = float(attrs.get("alpha", 0.01))
        return self._unary(inputs, lambda b, x: b.add(b.max(x, 0.0), b.mul(b.min(x, 0.0), alpha)))

    @staticmethod
    def _select_positive(b, x, pos, neg):
        cond = b.op(f"arith.cmpf ogt, {x}, {b.const(0.0)}")
        return b.op(f"arith.select {cond}, {pos}, {neg}")

    def _op_Elu(self, node, inputs, attrs):
        alpha = float(attrs.get("alpha", 1.0))
        return self._unary(inputs, lambda b, x: self._select_positive(
            b, x, x, b.mul(b.math("expm1", x), alpha)))

    def _op_Selu(self, node, inputs, attrs):
        alpha = float(attrs.get("alpha", 1.67326319217681884765625))
        gamma = float(attrs.get("gamma", 1.05070102214813232421875))
        return self._unary(inputs, lambda b, x: b.mul(self._select_positive(
            b, x, x, b.mul(b.math("expm1", x), alpha)), gamma))

    def _op_Celu(self, node, inputs, attrs):
        alpha = float(attrs.get("alpha", 1.0))
        return self._unary(inputs, lambda b, x: b.add(
            b.max(x, 0.0), b.min(b.mul(b.math("expm1", b.div(x, alpha)), alpha), 0.0)))

    def _op_ThresholdedRelu(self, node, inputs, attrs):
        alpha = float(attrs.get("alpha", 1.0))

        def body(b, x):
            cond = b.op(f"arith.cmpf ogt, {x}, {b.const(alpha)}")
            return b.op(f"arith.select {cond}, {x}, {b.const(0.0)}")
        return self._unary(inputs, body)

    def _op_Sign(self, node, inputs, attrs):
        def body(b, x):
            zero = b.const(0.0)
            pos = b.op(f"arith.cmpf ogt, {x}, {zero}")
            neg = b.op(f"arith.cmpf olt, {x}, {zero}")
            # NaN stays NaN: x itself where it is neither > 0 nor < 0 (0, -0, NaN)
            return b.op(f"arith.select {pos}, {b.const(1.0)}, "
                        f"{b.op(f'arith.select {neg}, {b.const(-1.0)}, {x}')}")
        return self._fold(inputs[:1], np.sign) or self._unary(inputs, body)

    def _op_Shrink(self, node, inputs, attrs):
        lambd, bias = float(attrs.get("lambd", 0.5)), float(attrs.get("bias", 0.0))

        def body(b, x):
            low = b.op(f"arith.cmpf olt, {x}, {b.const(-lambd)}")
            high = b.op(f"arith.cmpf ogt, {x}, {b.const(lambd)}")
            inner = b.op(f"arith.select {high}, {b.sub(x, bias)}, {b.const(0.0)}")
            return b.op(f"arith.select {low}, {b.add(x, bias)}, {inner}")
        return self._unary(inputs, body)

    def _op_HardSigmoid(self, node, inputs, attrs):
        alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))
        return self._unary(inputs, lambda b, x: b.min(b.max(b.add(b.mul(x, alpha), beta), 0.0), 1.0))

    def _op_HardSwish(self, node, inputs, attrs):
        return self._unary(inputs, lambda b, x: b.mul(
            x, b.min(b.max(b.add(b.mul(x, 1.0 / 6.0), 0.5), 0.0), 1.0)))

    def _op_Clip(self, node, inputs, attrs):
        if self.opset < 11:
            lo, hi = attrs.get("min"), attrs.get("max")
        else:
            lo = hi = None
            if len(inputs) > 1 and inputs[1] is not None:
                lo = float(np.asarray(self._constant(inputs[1], "Clip min")).reshape(()))
            if len(inputs) > 2 and inputs[2] is not None:
                hi = float(np.asarray(self._constant(inputs[2], "Clip max")).reshape(()))

        def body(b, x):
            if lo is not None:
                x = b.max(x, float(lo))
            if hi is not None:
                x = b.min(x, float(hi))
            return x
        return self._unary(inputs[:1], body)

    def _op_PRelu(self, node, inputs, attrs):
        x = self._float(inputs[0], "the input")
        slope = self._float(inputs[1], "the slope")
        if self.opset < 7 and len(slope.shape) == 1 and slope.shape[0] > 1 and len(x.shape) > 2:
            # opset 6: a 1-D slope is per channel (dim 1)
            slope = self._reshape_any(slope, [slope.shape[0]] + [1] * (len(x.shape) - 2))
        out_shape = list(np.broadcast_shapes(tuple(x.shape), tuple(slope.shape)))
        return self.elementwise(self._hint, [x, slope], out_shape,
                                lambda b, a, s: b.add(b.max(a, 0.0), b.mul(b.min(a, 0.0), s)))

    def _op_Identity(self, node, inputs, attrs):
        return inputs[0]

    def _op_Dropout(self, node, inputs, attrs):
        if len(inputs) > 2 and inputs[2] is not None:
            training = self._constant(inputs[2], "training_mode")
            if bool(np.asarray(training).reshape(())):
                raise _Unsupported("training_mode=True (only inference is supported)")
        if len(node.output) > 1 and node.output[1]:
            x = inputs[0]
            return [x, None]
        return inputs[0]

    # ----- linear algebra -----

    def _op_MatMul(self, node, inputs, attrs):
        a, b = inputs[0], inputs[1]
        folded = self._fold([a, b], np.matmul)
        if folded is not None:
            return folded
        a, b = self._float(a, "A"), self._float(b, "B")
        if len(a.shape) == 1 or len(b.shape) == 1:
            a2 = self.reshape(self._hint + "_lhs2d", a, [1] + a.shape) if len(a.shape) == 1 else a
            b2 = self.reshape(self._hint + "_rhs2d", b, b.shape + [1]) if len(b.shape) == 1 else b
            y = self.matmul(self._hint, a2, b2)
            shape = y.shape
            if len(a.shape) == 1:
                shape = shape[:-2] + shape[-1:]
            if len(b.shape) == 1:
                shape = shape[:-1]
            return self.reshape(self._hint + "_vec", y, shape)
        if b.const is None and a.const is not None and len(a.shape) == 2 and len(b.shape) == 2:
            # constant @ tensor: (B^T A^T)^T keeps the constant the weight
            bt = self.transpose(self._hint + "_rhs_t", b, [1, 0])
            yt = self.linear(self._hint, bt, np.ascontiguousarray(a.const.T))
            return self.transpose(self._hint + "_t", yt, [1, 0])
        return self.matmul(self._hint, a, b)

    def _op_Gemm(self, node, inputs, attrs):
        self._check_attrs(node, attrs, {"alpha", "beta", "transA", "transB", "broadcast"})
        alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
        a, b = self._float(inputs[0], "A"), self._float(inputs[1], "B")
        c = inputs[2] if len(inputs) > 2 else None
        if len(a.shape) != 2 or len(b.shape) != 2:
            raise _Unsupported(f"Gemm needs 2-D A and B, got {a.shape} and {b.shape}")
        if attrs.get("transA"):
            a = self.transpose(self._hint + "_at", a, [1, 0]) if a.const is None else \
                _const_value(np.ascontiguousarray(a.const.T))
        hint = self._hint
        if b.const is not None:
            w = b.const.T if attrs.get("transB") else b.const
            if alpha != 1.0:
                w = w * np.float32(alpha)
            w = np.ascontiguousarray(w, dtype=np.float32)
            n = w.shape[1]
            bias = None
            if c is not None and beta != 0.0 and c.const is not None:
                cc = np.asarray(c.const, np.float32) * np.float32(beta) if beta != 1.0 else \
                    np.asarray(c.const, np.float32)
                if cc.size == 1:
                    bias = np.full([n], cc.reshape(-1)[0], np.float32)
                    c = None
                elif cc.shape in ((n,), (1, n)):
                    bias = cc.reshape(n)
                    c = None
                else:
                    c = _const_value(cc)
                    beta = 1.0
            y = self.linear(hint, a, w, bias)
        else:
            if attrs.get("transB"):
                b = self.transpose(hint + "_bt", b, [1, 0])
            y = self.matmul(hint, a, b)
            if alpha != 1.0:
                y = self.elementwise(hint + "_alpha", [y], y.shape, lambda bb, x: bb.mul(x, alpha))
        if c is not None and beta != 0.0:
            c = self._float(c, "C")
            y = self.elementwise(hint + "_c", [y, c], y.shape,
                                 lambda bb, x, z: bb.add(x, bb.mul(z, beta) if beta != 1.0 else z))
        return y

    # ----- recurrent layers (unrolled over the static sequence length) -----

    def _rnn_common(self, node, inputs, attrs, kind):
        gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
        hidden = int(attrs["hidden_size"]) if "hidden_size" in attrs else None
        direction = _s(attrs.get("direction", "forward"))
        if direction not in ("forward", "reverse", "bidirectional"):
            raise _Unsupported(f"direction '{direction}'")
        if "clip" in attrs:
            raise _Unsupported("the clip attribute is not supported")
        if attrs.get("input_forget"):
            raise _Unsupported("input_forget=1 is not supported")
        defaults = {"LSTM": ["sigmoid", "tanh", "tanh"], "GRU": ["sigmoid", "tanh"],
                    "RNN": ["tanh"]}[kind]
        dirs = 2 if direction == "bidirectional" else 1
        acts = [_s(a).lower() for a in attrs.get("activations", [])] or defaults * dirs
        if kind == "RNN" and all(a in ("tanh", "relu") for a in acts) and len(set(acts)) == 1:
            pass
        elif acts != defaults * dirs:
            raise _Unsupported(f"activations {acts} (only the defaults {defaults})")
        layout = int(attrs.get("layout", 0))
        x = self._float(inputs[0], "X")
        if len(x.shape) != 3:
            raise _Unsupported(f"X must be 3-D, got {x.shape}")
        if layout:
            x = self.transpose(self._hint + "_x_tb", x, [1, 0, 2])
        steps, batch, _ = x.shape
        w = np.asarray(self._constant(self._need(inputs, 1, "W"), "W"), np.float32)
        r = np.asarray(self._constant(self._need(inputs, 2, "R"), "R"), np.float32)
        if hidden is None:
            hidden = r.shape[-1]
        if w.shape[0] != dirs or w.shape[1] != gates * hidden or r.shape[1:] != (gates * hidden, hidden):
            raise _Unsupported(f"W {w.shape} / R {r.shape} do not match {dirs} direction(s), "
                               f"hidden {hidden}")
        b = np.zeros((dirs, 2 * gates * hidden), np.float32)
        if len(inputs) > 3 and inputs[3] is not None:
            b = np.asarray(self._constant(inputs[3], "B"), np.float32)
        if len(inputs) > 4 and inputs[4] is not None:
            lens = np.asarray(self._constant(inputs[4], "sequence_lens")).reshape(-1)
            if np.any(lens != steps):
                raise _Unsupported("sequence_lens shorter than the sequence are not supported")
        states = []
        for i, what in ((5, "initial_h"), (6, "initial_c")):
            v = inputs[i] if len(inputs) > i else None
            if v is not None:
                v = self._float(v, what)
                if layout:
                    v = self.transpose(f"{self._hint}_{what}_db", v, [1, 0, 2])
            states.append(v)
        peep = None
        if kind == "LSTM" and len(inputs) > 7 and inputs[7] is not None:
            peep = np.asarray(self._constant(inputs[7], "P"), np.float32)
        return dict(gates=gates, hidden=hidden, dirs=dirs, reverse=direction == "reverse",
                    acts=acts, layout=layout, x=x, steps=steps, batch=batch, w=w, r=r, b=b,
                    h0=states[0], c0=states[1], peep=peep)

    def _recurrent(self, node, inputs, attrs, kind):
        p = self._rnn_common(node, inputs, attrs, kind)
        hidden, batch, steps, dirs, g = p["hidden"], p["batch"], p["steps"], p["dirs"], p["gates"]
        lbr = int(attrs.get("linear_before_reset", 0)) if kind == "GRU" else 0
        name = self._hint
        self.writer.comment(f"{name}: ONNX {kind}, {dirs} direction(s), hidden {hidden}, "
                            f"unrolled over {steps} steps")
        y_shape = [steps, dirs, batch, hidden]
        y = Value(self.writer.empty(name + "_y", y_shape), y_shape)
        finals_h, finals_c = [], []
        for d in range(dirs):
            tag = f"{name}_d{d}"
            wb, rb = p["b"][d, :g * hidden], p["b"][d, g * hidden:]
            xbias = wb + rb
            if kind == "GRU":   # the h gate's recurrent bias is applied with the reset gate
                xbias = np.concatenate([wb[:2 * hidden] + rb[:2 * hidden], wb[2 * hidden:]])
            xproj = self.linear(tag + "_xproj", p["x"], np.ascontiguousarray(p["w"][d].T), xbias)
            r_t = np.ascontiguousarray(p["r"][d].T)                      # H x gH
            if kind == "GRU" and not lbr:
                r_zr = self.writer.constant(tag + "_rzr", np.ascontiguousarray(r_t[:, :2 * hidden]))
                r_h = self.writer.constant(tag + "_rh", np.ascontiguousarray(r_t[:, 2 * hidden:]))
            else:
                r_all = self.writer.constant(tag + "_r", r_t)
            rb_h = _const_value(rb[2 * hidden:].copy()) if kind == "GRU" else None

            def initial(state, what):
                if state is None:
                    return self.zeros(f"{tag}_{what}0", [batch, hidden])
                return self.slice(f"{tag}_{what}0", state, [d, 0, 0], [1, batch, hidden],
                                  [1, 1, 1], [batch, hidden])

            h = initial(p["h0"], "h")
            c = initial(p["c0"], "c") if kind == "LSTM" else None
            backwards = p["reverse"] or d == 1
            for t in (range(steps - 1, -1, -1) if backwards else range(steps)):
                st = f"{tag}_t{t}"
                xt = self.slice(st + "_x", xproj, [t, 0, 0], [1, batch, g * hidden], [1, 1, 1],
                                [batch, g * hidden])

                def part(v, j, n, what):
                    return self.slice(f"{st}_{what}{n}", v, [0, j * hidden], [batch, hidden],
                                      [1, 1], [batch, hidden])

                if kind == "GRU" and not lbr:
                    hw, shape = self.writer.matmul_values(st + "_hzr", self.ssa(h), h.shape, r_zr,
                                                          [hidden, 2 * hidden])
                    hw = Value(hw, shape)
                else:
                    hw, shape = self.writer.matmul_values(st + "_hw", self.ssa(h), h.shape, r_all,
                                                          [hidden, g * hidden])
                    hw = Value(hw, shape)
                if kind == "RNN":
                    act = p["acts"][d]
                    h = self.elementwise(st + "_h", [xt, hw], [batch, hidden], lambda b, u, v: (
                        b.tanh(b.add(u, v)) if act == "tanh" else b.max(b.add(u, v), 0.0)))
                elif kind == "LSTM":
                    gsum = self.elementwise(st + "_gates", [xt, hw], shape,
                                            lambda b, u, v: b.add(u, v))
                    i_, o_, f_, c_ = (part(gsum, j, n, "") for j, n in enumerate("iofc"))
                    if p["peep"] is not None:
                        pi, po, pf = (_const_value(p["peep"][d, j * hidden:(j + 1) * hidden].copy())
                                      for j in range(3))
                        c = self.elementwise(st + "_c", [i_, f_, c_, c, pi, pf], [batch, hidden],
                                             lambda b, i, f, cc, cp, ppi, ppf: b.add(
                                                 b.mul(b.sigmoid(b.add(f, b.mul(ppf, cp))), cp),
                                                 b.mul(b.sigmoid(b.add(i, b.mul(ppi, cp))),
                                                       b.tanh(cc))))
                        h = self.elementwise(st + "_h", [o_, c, po], [batch, hidden],
                                             lambda b, o, cc, ppo: b.mul(
                                                 b.sigmoid(b.add(o, b.mul(ppo, cc))), b.tanh(cc)))
                    else:
                        c = self.elementwise(st + "_c", [i_, f_, c_, c], [batch, hidden],
                                             lambda b, i, f, cc, cp: b.add(
                                                 b.mul(b.sigmoid(f), cp),
                                                 b.mul(b.sigmoid(i), b.tanh(cc))))
                        h = self.elementwise(st + "_h", [o_, c], [batch, hidden],
                                             lambda b, o, cc: b.mul(b.sigmoid(o), b.tanh(cc)))
                else:
                    xz, xr, xh = (part(xt, j, n, "x") for j, n in enumerate("zrh"))
                    hz, hr = part(hw, 0, "z", "h"), part(hw, 1, "r", "h")
                    if lbr:
                        hh = part(hw, 2, "h", "h")
                        h = self.elementwise(st + "_h", [xz, xr, xh, hz, hr, hh, rb_h, h],
                                             [batch, hidden],
                                             lambda b, a, e, f, u, v, w_, rbh, hp: self._gru_out(
                                                 b, b.sigmoid(b.add(a, u)), b.tanh(b.add(
                                                     f, b.mul(b.sigmoid(b.add(e, v)),
                                                              b.add(w_, rbh)))), hp))
                    else:
                        rgate = self.elementwise(st + "_rh", [xr, hr, h], [batch, hidden],
                                                 lambda b, e, v, hp: b.mul(
                                                     b.sigmoid(b.add(e, v)), hp))
                        rh, shape2 = self.writer.matmul_values(st + "_rhw", rgate.ssa, rgate.shape,
                                                               r_h, [hidden, hidden])
                        h = self.elementwise(st + "_h", [xz, hz, xh, Value(rh, shape2), rb_h, h],
                                             [batch, hidden],
                                             lambda b, a, u, f, q, rbh, hp: self._gru_out(
                                                 b, b.sigmoid(b.add(a, u)),
                                                 b.tanh(b.add(b.add(f, q), rbh)), hp))
                y = Value(self.writer.insert_slice(f"{st}_y", h.ssa, h.shape, y.ssa, y_shape,
                                                   [t, d, 0, 0], [1, 1, batch, hidden]), y_shape)
            finals_h.append(h)
            finals_c.append(c)

        def stack(states, what):
            shape = [dirs, batch, hidden]
            result = self.writer.empty(f"{name}_{what}", shape)
            for i, s in enumerate(states):
                result = self.writer.insert_slice(f"{name}_{what}_{i}", s.ssa, s.shape, result,
                                                  shape, [i, 0, 0], [1, batch, hidden])
            v = Value(result, shape)
            return self.transpose(f"{name}_{what}_bd", v, [1, 0, 2]) if p["layout"] else v

        outputs = [self.transpose(name + "_y_bt", y, [2, 0, 1, 3]) if p["layout"] else y]
        if len(node.output) > 1 and node.output[1]:
            outputs.append(stack(finals_h, "y_h"))
        else:
            outputs.append(None)
        if kind == "LSTM" and len(node.output) > 2 and node.output[2]:
            outputs.append(stack(finals_c, "y_c"))
        return outputs

    @staticmethod
    def _gru_out(b, z, n, hp):
        return b.add(b.mul(b.sub(1.0, z), n), b.mul(z, hp))

    def _op_LSTM(self, node, inputs, attrs):
        return self._recurrent(node, inputs, attrs, "LSTM")

    def _op_GRU(self, node, inputs, attrs):
        return self._recurrent(node, inputs, attrs, "GRU")

    def _op_RNN(self, node, inputs, attrs):
        return self._recurrent(node, inputs, attrs, "RNN")

    # ----- convolution, normalization, pooling -----

    def _spatial(self, node, attrs, x, kernel, dilations=None):
        """Per spatial dim (pad_begin, pad_end) and output size from ONNX's
        pads/auto_pad/strides/dilations (ceil_mode handled by the caller)."""
        nsp = len(x.shape) - 2
        strides = list(attrs.get("strides", [1] * nsp))
        dilations = list(dilations or attrs.get("dilations", [1] * nsp))
        auto_pad = _s(attrs.get("auto_pad", "NOTSET"))
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            begin, end = [], []
            for i in range(nsp):
                size = x.shape[2 + i]
                out = -(-size // strides[i])
                total = max(0, (out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - size)
                small = total // 2
                big = total - small
                begin.append(small if auto_pad == "SAME_UPPER" else big)
                end.append(big if auto_pad == "SAME_UPPER" else small)
        elif auto_pad == "VALID":
            begin, end = [0] * nsp, [0] * nsp
        elif auto_pad == "NOTSET":
            pads = list(attrs.get("pads", [0] * (2 * nsp)))
            if len(pads) != 2 * nsp:
                raise _Unsupported(f"pads {pads} do not match {nsp} spatial dims")
            begin, end = pads[:nsp], pads[nsp:]
        else:
            raise _Unsupported(f"auto_pad '{auto_pad}' is not supported")
        if len(strides) != nsp or len(dilations) != nsp or len(kernel) != nsp:
            raise _Unsupported("strides/dilations/kernel_shape do not match the input rank")
        if any(s <= 0 for s in strides) or any(d <= 0 for d in dilations) or \
                any(p < 0 for p in begin + end):
            raise _Unsupported("strides and dilations must be positive, pads non-negative")
        return strides, dilations, begin, end

    def _to_4d(self, x, what):
        if len(x.shape) == 4:
            return x, False
        if len(x.shape) == 3:
            n, c, length = x.shape
            return self.reshape(self._hint + "_2d", x, [n, c, 1, length]), True
        raise _Unsupported(f"{what} supports 1-D and 2-D spatial inputs, got shape {x.shape}")

    @staticmethod
    def _pairs(one_d, values, fill):
        return [fill] + list(values) if one_d else list(values)

    def _op_Conv(self, node, inputs, attrs):
        self._check_attrs(node, attrs, {"auto_pad", "dilations", "group", "kernel_shape",
                                        "pads", "strides"})
        x = self._float(inputs[0], "X")
        weight = self._constant(self._need(inputs, 1, "W"), "the weight W")
        weight = np.asarray(weight, np.float32)
        bias = None
        if len(inputs) > 2 and inputs[2] is not None:
            bias = np.asarray(self._constant(inputs[2], "the bias B"), np.float32)
        if len(x.shape) != len(weight.shape):
            raise _Unsupported(f"X {x.shape} and W {weight.shape} ranks differ")
        groups = int(attrs.get("group", 1))
        kernel = list(weight.shape[2:])
        if "kernel_shape" in attrs and list(attrs["kernel_shape"]) != kernel:
            raise _Unsupported(f"kernel_shape {attrs['kernel_shape']} != W's {kernel}")
        if x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
            raise _Unsupported(f"channels: X {x.shape}, W {weight.shape}, group {groups}")
        strides, dilations, begin, end = self._spatial(node, attrs, x, kernel)
        x4, one_d = self._to_4d(x, "Conv")
        if one_d:
            weight = weight[:, :, None, :]
        strides, dilations = self._pairs(one_d, strides, 1), self._pairs(one_d, dilations, 1)
        begin, end = self._pairs(one_d, begin, 0), self._pairs(one_d, end, 0)
        kh, kw = weight.shape[2:]
        xs, shape = self.ssa(x4), x4.shape
        if any(begin) or any(end):
            xs, shape = self.writer.pad(self._hint, xs, shape, begin, end, 0.0)
        out = [(shape[2 + i] - dilations[i] * ([kh, kw][i] - 1) - 1) // strides[i] + 1
               for i in range(2)]
        if min(out) <= 0:
            raise _Unsupported(f"the output would be empty ({out})")
        out_shape = [shape[0], weight.shape[0]] + out
        self.writer.comment(f"{self._hint}: ONNX Conv, {'grouped ' if groups > 1 else ''}"
                            "constant weight")
        y = self.writer.conv2d(self._hint, xs, shape, np.ascontiguousarray(weight), strides,
                               dilations, groups, out_shape)
        if bias is not None:
            y = self.writer.bias_add(self._hint, y, out_shape, bias.reshape(-1))
        y = Value(y, out_shape)
        if one_d:
            y = self.reshape(self._hint + "_1d", y, [out_shape[0], out_shape[1], out_shape[3]])
        return y

    def _op_ConvTranspose(self, node, inputs, attrs):
        """As a direct convolution: the input upsampled by the strides
        (``tensor.insert_slice`` with strides into zeros), padded by
        ``d*(k-1) - pad`` (cropped where that is negative), convolved with
        stride 1 by the flipped, channel-transposed (constant) weight."""
        self._check_attrs(node, attrs, {"auto_pad", "dilations", "group", "kernel_shape",
                                        "output_padding", "output_shape", "pads", "strides"})
        x = self._float(inputs[0], "X")
        weight = np.asarray(self._constant(self._need(inputs, 1, "W"), "the weight W"), np.float32)
        bias = None
        if len(inputs) > 2 and inputs[2] is not None:
            bias = np.asarray(self._constant(inputs[2], "the bias B"), np.float32).reshape(-1)
        if len(x.shape) != len(weight.shape):
            raise _Unsupported(f"X {x.shape} and W {weight.shape} ranks differ")
        groups = int(attrs.get("group", 1))
        cin, cout_g = weight.shape[:2]
        kernel = list(weight.shape[2:])
        nsp = len(kernel)
        if x.shape[1] != cin or cin % groups:
            raise _Unsupported(f"channels: X {x.shape}, W {weight.shape}, group {groups}")
        strides = list(attrs.get("strides", [1] * nsp))
        dil = list(attrs.get("dilations", [1] * nsp))
        outpad = list(attrs.get("output_padding", [0] * nsp))
        size = x.shape[2:]
        full = [strides[i] * (size[i] - 1) + outpad[i] + (kernel[i] - 1) * dil[i] + 1
                for i in range(nsp)]
        auto_pad = _s(attrs.get("auto_pad", "NOTSET"))
        if "output_shape" in attrs or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            target = list(attrs["output_shape"])[-nsp:] if "output_shape" in attrs else \
                [size[i] * strides[i] for i in range(nsp)]
            total = [full[i] - target[i] for i in range(nsp)]
            # a negative total (output_shape beyond the full output) extends the end
            if auto_pad == "SAME_UPPER":
                begin = [tp // 2 for tp in total]
            else:
                begin = [tp - tp // 2 for tp in total]
            end = [total[i] - begin[i] for i in range(nsp)]
        elif auto_pad == "VALID":
            begin, end = [0] * nsp, [0] * nsp
        else:
            pads = list(attrs.get("pads", [0] * 2 * nsp))
            begin, end = pads[:nsp], pads[nsp:]
        x4, one_d = self._to_4d(x, "ConvTranspose")
        if one_d:
            weight = weight[:, :, None, :]
            kernel, strides, dil, outpad = [1] + kernel, [1] + strides, [1] + dil, [0] + outpad
            begin, end = [0] + begin, [0] + end
        n = x4.shape[0]
        h, w = x4.shape[2:]
        # upsample: zeros with the input at every stride-th position
        up_shape = [n, cin, (h - 1) * strides[0] + 1, (w - 1) * strides[1] + 1]
        xs, shape = self.ssa(x4), x4.shape
        if strides != [1, 1]:
            zeros = self.writer.filled(self._hint + "_up", up_shape, 0.0)
            xs = self.writer.insert_slice(self._hint + "_up", xs, x4.shape, zeros, up_shape,
                                          [0, 0, 0, 0], x4.shape, [1, 1] + strides)
            shape = up_shape
        low = [dil[i] * (kernel[i] - 1) - begin[i] for i in range(2)]
        high = [dil[i] * (kernel[i] - 1) - end[i] + outpad[i] for i in range(2)]
        if any(v > 0 for v in low + high):
            xs, shape = self.writer.pad(self._hint, xs, shape, [max(0, v) for v in low],
                                        [max(0, v) for v in high], 0.0)
        if any(v < 0 for v in low + high):
            off = [0, 0] + [max(0, -v) for v in low]
            sizes = list(shape[:2]) + [shape[2 + i] - max(0, -low[i]) - max(0, -high[i])
                                       for i in range(2)]
            xs = self.writer.extract_slice(self._hint + "_crop", xs, shape, off, sizes,
                                           [1, 1, 1, 1], sizes)
            shape = sizes
        # W (Cin, Cout/g, kh, kw) -> per group transposed and flipped (Cout, Cin/g, kh, kw)
        cin_g = cin // groups
        wg = weight.reshape(groups, cin_g, cout_g, *weight.shape[2:])
        wd = np.ascontiguousarray(wg.transpose(0, 2, 1, 3, 4)[:, :, :, ::-1, ::-1]
                                  .reshape(groups * cout_g, cin_g, *weight.shape[2:]))
        out = [shape[2 + i] - dil[i] * (wd.shape[2 + i] - 1) for i in range(2)]
        if min(out) <= 0:
            raise _Unsupported(f"the output would be empty ({out})")
        out_shape = [n, groups * cout_g] + out
        self.writer.comment(f"{self._hint}: ONNX ConvTranspose as a stride-1 convolution")
        y = self.writer.conv2d(self._hint, xs, shape, wd, [1, 1], dil, groups, out_shape)
        if bias is not None:
            y = self.writer.bias_add(self._hint, y, out_shape, bias)
        y = Value(y, out_shape)
        if one_d:
            y = self.reshape(self._hint + "_1d", y, [n, out_shape[1], out_shape[3]])
        return y

    def _op_BatchNormalization(self, node, inputs, attrs):
        if attrs.get("training_mode"):
            raise _Unsupported("training_mode=1 (only inference is supported)")
        if self.opset < 9 and not attrs.get("spatial", 1):
            raise _Unsupported("spatial=0 is not supported")
        self._unused_outputs(node, 1)
        x = self._float(inputs[0], "X")
        scale, bias, mean, var = (np.asarray(self._constant(self._need(inputs, i, w), w),
                                             np.float64).reshape(-1)
                                  for i, w in ((1, "scale"), (2, "B"), (3, "mean"), (4, "var")))
        eps = float(attrs.get("epsilon", 1e-5))
        s = scale / np.sqrt(var + eps)
        t = bias - mean * s
        if len(x.shape) < 2 or x.shape[1] != s.size:
            raise _Unsupported(f"BatchNormalization of a {x.shape} input with {s.size} channels")
        sv = _const_value(s.astype(np.float32).reshape([s.size] + [1] * (len(x.shape) - 2)))
        tv = _const_value(t.astype(np.float32).reshape([s.size] + [1] * (len(x.shape) - 2)))
        return self.elementwise(self._hint, [x, sv, tv], x.shape,
                                lambda b, a, ss, tt: b.add(b.mul(a, ss), tt))

    def _op_InstanceNormalization(self, node, inputs, attrs):
        x = self._float(inputs[0], "X")
        scale = np.asarray(self._constant(inputs[1], "scale"), np.float32)
        bias = np.asarray(self._constant(inputs[2], "B"), np.float32)
        eps = float(attrs.get("epsilon", 1e-5))
        n, c = x.shape[:2]
        rest = int(np.prod(x.shape[2:]))
        flat = self.reshape(self._hint + "_rows", x, [n, c, rest])
        y = self.layer_norm(self._hint + "_norm", flat, [rest], None, None, eps)
        y = self.reshape(self._hint + "_back", y, x.shape)
        bshape = [c] + [1] * (len(x.shape) - 2)
        return self.elementwise(self._hint, [y, _const_value(scale.reshape(bshape)),
                                             _const_value(bias.reshape(bshape))], x.shape,
                                lambda b, a, ss, tt: b.add(b.mul(a, ss), tt))

    def _op_LayerNormalization(self, node, inputs, attrs):
        x = self._float(inputs[0], "X")
        rank = len(x.shape)
        axis = self._axis(attrs.get("axis", -1), rank)
        normalized = x.shape[axis:]
        eps = float(attrs.get("epsilon", 1e-5))
        if int(attrs.get("stash_type", 1)) != 1:
            raise _Unsupported("stash_type other than 1 (float32) is not supported")
        params = []
        for i, what in ((1, "Scale"), (2, "B")):
            if len(inputs) > i and inputs[i] is not None:
                arr = np.asarray(self._constant(inputs[i], what), np.float32)
                params.append(_const_value(np.broadcast_to(arr, normalized).copy()))
            else:
                params.append(None)
        y = self.layer_norm(self._hint, x, normalized, params[0], params[1], eps)
        if not any(node.output[1:]):
            return y
        # Mean and InvStdDev outputs: reduced dims kept as 1
        inner = list(range(axis, rank))
        keep = list(x.shape[:axis]) + [1] * (rank - axis)
        count = float(np.prod(normalized))
        s = self.reduce(self._hint + "_mean_sum", x, inner)
        mean = self.elementwise(self._hint + "_mean", [s], s.shape, lambda b, a: b.div(a, count))
        mean_k = self.reshape(self._hint + "_mean_keep", mean, keep)
        centered = self.elementwise(self._hint + "_c", [x, mean_k], x.shape,
                                    lambda b, a, m: b.mul(b.sub(a, m), b.sub(a, m)))
        sq = self.reduce(self._hint + "_var_sum", centered, inner)
        inv = self.elementwise(self._hint + "_invstd", [sq], sq.shape, lambda b, a: b.div(
            1.0, b.math("sqrt", b.add(b.div(a, count), eps))))
        return [y, mean_k, self.reshape(self._hint + "_invstd_keep", inv, keep)]

    def _pool_geometry(self, node, attrs, x, dilations=None):
        kernel = list(attrs.get("kernel_shape", []))
        if len(kernel) != len(x.shape) - 2:
            raise _Unsupported(f"kernel_shape {kernel} does not match the input {x.shape}")
        strides, dilations, begin, end = self._spatial(node, attrs, x, kernel, dilations)
        ceil_mode = int(attrs.get("ceil_mode", 0))
        out = []
        for i in range(len(kernel)):
            span = x.shape[2 + i] + begin[i] + end[i] - dilations[i] * (kernel[i] - 1) - 1
            o = (-(-span // strides[i]) if ceil_mode else span // strides[i]) + 1
            if ceil_mode and (o - 1) * strides[i] >= x.shape[2 + i] + begin[i]:
                o -= 1   # a last window starting in the end padding is dropped
            out.append(o)
        if min(out) <= 0:
            raise _Unsupported(f"the output would be empty ({out})")
        # extra high padding so that every window of the output fits
        extra = [max(0, (out[i] - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1
                     - (x.shape[2 + i] + begin[i] + end[i])) for i in range(len(kernel))]
        return kernel, strides, dilations, begin, end, extra, out

    def _op_MaxPool(self, node, inputs, attrs):
        self._check_attrs(node, attrs, {"auto_pad", "ceil_mode", "dilations", "kernel_shape",
                                        "pads", "storage_order", "strides"})
        self._unused_outputs(node, 1)
        x = self._float(inputs[0], "X")
        kernel, strides, dilations, begin, end, extra, out = self._pool_geometry(node, attrs, x)
        x4, one_d = self._to_4d(x, "MaxPool")
        kernel, strides = self._pairs(one_d, kernel, 1), self._pairs(one_d, strides, 1)
        dilations = self._pairs(one_d, dilations, 1)
        begin, end, extra = (self._pairs(one_d, v, 0) for v in (begin, end, extra))
        out = self._pairs(one_d, out, 1)
        xs, shape = self.ssa(x4), x4.shape
        high = [end[i] + extra[i] for i in range(2)]
        if any(begin) or any(high):
            xs, shape = self.writer.pad(self._hint, xs, shape, begin, high, float("-inf"))
        out_shape = list(x4.shape[:2]) + out
        y = Value(self.writer.pool("max", self._hint, xs, shape, kernel, strides, dilations,
                                   out_shape), out_shape)
        return self.reshape(self._hint + "_1d", y, list(x.shape[:2]) + out[1:]) if one_d else y

    def _op_AveragePool(self, node, inputs, attrs):
        self._check_attrs(node, attrs, {"auto_pad", "ceil_mode", "count_include_pad",
                                        "kernel_shape", "pads", "strides"})
        x = self._float(inputs[0], "X")
        kernel, strides, dilations, begin, end, extra, out = self._pool_geometry(node, attrs, x)
        include_pad = int(attrs.get("count_include_pad", 0))
        # divisor per output position: the window's positions inside the input
        # (count_include_pad=0) or inside the padded input (=1)
        counts = np.ones([1], np.float64)
        for i in range(len(kernel)):
            lo = -begin[i] if include_pad else 0
            hi = x.shape[2 + i] + (end[i] if include_pad else 0)
            c = []
            for o in range(out[i]):
                start = o * strides[i] - begin[i]
                stop = start + kernel[i]
                c.append(max(0, min(stop, hi) - max(start, lo)))
            counts = np.multiply.outer(counts, np.array(c, np.float64))
        counts = counts.reshape(out)
        x4, one_d = self._to_4d(x, "AveragePool")
        kernel, strides = self._pairs(one_d, kernel, 1), self._pairs(one_d, strides, 1)
        begin, end, extra = (self._pairs(one_d, v, 0) for v in (begin, end, extra))
        out = self._pairs(one_d, out, 1)
        xs, shape = self.ssa(x4), x4.shape
        high = [end[i] + extra[i] for i in range(2)]
        if any(begin) or any(high):
            xs, shape = self.writer.pad(self._hint, xs, shape, begin, high, 0.0)
        out_shape = list(x4.shape[:2]) + out
        total = Value(self.writer.pool("sum", self._hint + "_sum", xs, shape, kernel, strides,
                                       (1, 1), out_shape), out_shape)
        divisor = counts.reshape(out)
        if np.all(divisor == divisor.reshape(-1)[0]):
            y = self.elementwise(self._hint, [total], out_shape,
                                 lambda b, a: b.div(a, float(divisor.reshape(-1)[0])))
        else:
            y = self.elementwise(self._hint, [total, _const_value(divisor.astype(np.float32))],
                                 out_shape, lambda b, a, d: b.div(a, d))
        return self.reshape(self._hint + "_1d", y, list(x.shape[:2]) + out[1:]) if one_d else y

    def _global_pool(self, inputs, kind):
        x = self._float(inputs[0], "X")
        if len(x.shape) < 3:
            raise _Unsupported(f"a global pool needs an (N, C, ...) input, got {x.shape}")
        dims = list(range(2, len(x.shape)))
        keep = list(x.shape[:2]) + [1] * len(dims)
        r = self.reduce(self._hint + "_reduce", x, dims, kind)
        if kind == "sum":
            count = float(np.prod(x.shape[2:]))
            r = self.elementwise(self._hint, [r], r.shape, lambda b, a: b.div(a, count))
        return self.reshape(self._hint + "_keepdims", r, keep)

    def _op_GlobalAveragePool(self, node, inputs, attrs):
        return self._global_pool(inputs, "sum")

    def _op_GlobalMaxPool(self, node, inputs, attrs):
        return self._global_pool(inputs, "max")

    # ----- reductions and softmax -----

    def _reduce_axes(self, inputs, attrs, rank, axes_input):
        if axes_input:
            if len(inputs) > 1 and inputs[1] is not None:
                axes = self._ints_input(inputs[1], "axes")
            else:
                axes = None
        else:
            axes = attrs.get("axes")
        if not axes:   # absent or empty: all axes, or none with noop_with_empty_axes
            return [] if attrs.get("noop_with_empty_axes", 0) else list(range(rank))
        return sorted({self._axis(a, rank) for a in axes})

    def _reduce(self, node, inputs, attrs, kind, axes_input_from):
        x = self._float(inputs[0], "data")
        rank = len(x.shape)
        axes = self._reduce_axes(inputs, attrs, rank, self.opset >= axes_input_from)
        if not axes:
            return x
        keepdims = int(attrs.get("keepdims", 1))
        if kind in ("l1", "l2", "logsum", "logsumexp", "prod"):
            r = self._reduce_more(x, axes, kind)
        elif kind == "min":
            neg = self.elementwise(self._hint + "_neg", [x], x.shape, lambda b, a: b.neg(a))
            r = self.reduce(self._hint + "_reduce", neg, axes, "max")
            r = self.elementwise(self._hint + "_min", [r], r.shape, lambda b, a: b.neg(a))
        elif kind == "sumsquare":
            sq = self.elementwise(self._hint + "_sq", [x], x.shape, lambda b, a: b.mul(a, a))
            r = self.reduce(self._hint + "_reduce", sq, axes, "sum")
        else:
            r = self.reduce(self._hint + "_reduce", x, axes, "max" if kind == "max" else "sum")
        if kind == "mean":
            count = float(np.prod([x.shape[a] for a in axes]))
            r = self.elementwise(self._hint + "_mean", [r], r.shape, lambda b, a: b.div(a, count))
        if keepdims:
            r = self.reshape(self._hint + "_keepdims", r,
                             [1 if i in axes else d for i, d in enumerate(x.shape)])
        return r

    def _reduce_more(self, x, axes, kind):
        h = self._hint
        if kind == "prod":
            rank = len(x.shape)
            kept = [d for d in range(rank) if d not in axes]
            out_shape = [x.shape[d] for d in kept]
            init = self.writer.filled(h + "_prod", out_shape, 1.0)
            return Value(self.writer.generic(h + "_prod", [(self.ssa(x), x.shape, "f32",
                                                             list(range(rank)))], out_shape,
                                             lambda b, a: b.mul(a[1], a[0]), reductions=set(axes),
                                             init=init, out_map=kept), out_shape)
        if kind == "logsumexp":   # max-shifted: m + log(sum(exp(x - m)))
            m = self.reduce(h + "_max", x, axes, "max")
            m_k = self.reshape(h + "_max_k", m, [1 if i in axes else d
                                                 for i, d in enumerate(x.shape)])
            e = self.elementwise(h + "_exp", [x, m_k], x.shape, lambda b, a, mm: b.exp(b.sub(a, mm)))
            s = self.reduce(h + "_sum", e, axes)
            return self.elementwise(h + "_lse", [s, m], s.shape,
                                    lambda b, a, mm: b.add(b.math("log", a), mm))
        pre = {"l1": lambda b, a: b.math("absf", a), "l2": lambda b, a: b.mul(a, a),
               "logsum": lambda b, a: a}[kind]
        y = self.elementwise(h + "_pre", [x], x.shape, pre)
        s = self.reduce(h + "_sum", y, axes)
        post = {"l1": None, "l2": "sqrt", "logsum": "log"}[kind]
        if post is None:
            return s
        return self.elementwise(h + "_post", [s], s.shape, lambda b, a: b.math(post, a))

    def _softmax(self, node, inputs, attrs, log):
        x = self._float(inputs[0], "the input")
        rank = len(x.shape)
        default = -1 if self.opset >= 13 else 1
        axis = self._axis(attrs.get("axis", default), rank)
        if self.opset >= 13 or axis == rank - 1:
            return self.softmax(self._hint, x, axis, log)
        # opset < 13: softmax over the flattened dims axis..end
        rows = [int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))]
        flat = self.reshape(self._hint + "_2d", x, rows)
        y = self.softmax(self._hint, flat, 1, log)
        return self.reshape(self._hint + "_nd", y, x.shape)

    def _op_Softmax(self, node, inputs, attrs):
        return self._softmax(node, inputs, attrs, False)

    def _op_LogSoftmax(self, node, inputs, attrs):
        return self._softmax(node, inputs, attrs, True)

    # ----- shape manipulation -----

    def _op_Flatten(self, node, inputs, attrs):
        x = self._tensor(inputs[0])
        rank = len(x.shape)
        axis = int(attrs.get("axis", 1))
        if not -rank <= axis <= rank:
            raise _Unsupported(f"axis {axis} is out of range for rank {rank}")
        axis = axis + rank if axis < 0 else axis
        shape = [int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))]
        return self._reshape_any(x, shape)

    def _reshape_any(self, x, shape):
        if x.const is not None:
            return _const_value(np.asarray(x.const).reshape(shape))
        return self.reshape(self._hint, x, shape)

    def _op_Reshape(self, node, inputs, attrs):
        x = self._tensor(inputs[0])
        if self.opset < 5 or "shape" in attrs:
            raise _Unsupported("the shape attribute (opset < 5) is not supported")
        target = self._ints_input(inputs[1], "the shape")
        allowzero = int(attrs.get("allowzero", 0))
        shape = []
        for i, d in enumerate(target):
            if d == 0 and not allowzero:
                if i >= len(x.shape):
                    raise _Unsupported(f"shape {target}: 0 at {i} copies no input dim")
                shape.append(x.shape[i])
            else:
                shape.append(d)
        if shape.count(-1) > 1:
            raise _Unsupported(f"shape {target} has more than one -1")
        size = int(np.prod(x.shape))
        if -1 in shape:
            known = int(np.prod([d for d in shape if d != -1]))
            if known == 0 or size % known:
                raise _Unsupported(f"cannot reshape {x.shape} to {target}")
            shape[shape.index(-1)] = size // known
        if int(np.prod(shape)) != size:
            raise _Unsupported(f"cannot reshape {x.shape} to {target}")
        return self._reshape_any(x, shape)

    def _axes_arg(self, inputs, attrs, name="axes"):
        if self.opset >= 13:
            return self._ints_input(inputs[1], name) if len(inputs) > 1 and inputs[1] is not None \
                else None
        return list(attrs[name]) if name in attrs else None

    def _op_Squeeze(self, node, inputs, attrs):
        x = self._tensor(inputs[0])
        rank = len(x.shape)
        axes = self._axes_arg(inputs, attrs)
        if axes is None:
            axes = [i for i, d in enumerate(x.shape) if d == 1]
        axes = {self._axis(a, rank) for a in axes}
        if any(x.shape[a] != 1 for a in axes):
            raise _Unsupported(f"cannot squeeze axes {sorted(axes)} of {x.shape}")
        return self._reshape_any(x, [d for i, d in enumerate(x.shape) if i not in axes])

    def _op_Unsqueeze(self, node, inputs, attrs):
        x = self._tensor(inputs[0])
        axes = self._axes_arg(inputs, attrs)
        if axes is None:
            raise _Unsupported("Unsqueeze without axes")
        rank = len(x.shape) + len(axes)
        axes = sorted({self._axis(a, rank) for a in axes})
        shape = list(x.shape)
        for a in axes:
            shape.insert(a, 1)
        return self._reshape_any(x, shape)

    def _op_Transpose(self, node, inputs, attrs):
        x = self._tensor(inputs[0])
        perm = list(attrs.get("perm", list(range(len(x.shape)))[::-1]))
        if sorted(perm) != list(range(len(x.shape))):
            raise _Unsupported(f"perm {perm} is not a permutation of rank {len(x.shape)}")
        if x.const is not None:
            return _const_value(np.ascontiguousarray(np.transpose(x.const, perm)))
        return self.transpose(self._hint, self._float(x, "the input"), perm)

    def _op_Concat(self, node, inputs, attrs):
        xs = [v for v in inputs if v is not None]
        rank = len(xs[0].shape)
        axis = self._axis(attrs["axis"], rank)
        folded = self._fold(xs, lambda *arrs: np.concatenate(arrs, axis))
        if folded is not None:
            return folded
        out_shape = list(xs[0].shape)
        out_shape[axis] = sum(x.shape[axis] for x in xs)
        for x in xs:
            if len(x.shape) != rank or any(x.shape[i] != out_shape[i]
                                           for i in range(rank) if i != axis):
                raise _Unsupported(f"Concat operand {x.shape} does not match {out_shape}")
        return self.concat(self._hint, [self._float(x, "a Concat operand") for x in xs],
                           axis, out_shape)

    def _op_Gather(self, node, inputs, attrs):
        x, idx = inputs[0], inputs[1]
        rank = len(x.shape)
        axis = self._axis(attrs.get("axis", 0), rank)
        indices = np.asarray(self._constant(idx, "the indices")).astype(np.int64)
        indices = np.where(indices < 0, indices + x.shape[axis], indices)
        if x.const is not None:
            return _const_value(np.take(np.asarray(x.const), indices, axis=axis))
        x = self._float(x, "data")
        if indices.ndim == 0:
            offsets = [0] * rank
            offsets[axis] = int(indices)
            sizes = list(x.shape)
            sizes[axis] = 1
            out_shape = x.shape[:axis] + x.shape[axis + 1:]
            return self.slice(self._hint, x, offsets, sizes, [1] * rank, out_shape)
        flat = indices.reshape(-1)
        pieces = []
        for j, i in enumerate(flat):
            offsets = [0] * rank
            offsets[axis] = int(i)
            sizes = list(x.shape)
            sizes[axis] = 1
            pieces.append(self.slice(f"{self._hint}_{j}", x, offsets, sizes, [1] * rank, sizes))
        shape = list(x.shape)
        shape[axis] = len(flat)
        y = self.concat(self._hint + "_rows", pieces, axis, shape)
        return self.reshape(self._hint, y, x.shape[:axis] + list(indices.shape) + x.shape[axis + 1:])

    def _op_Slice(self, node, inputs, attrs):
        x = self._tensor(inputs[0])
        rank = len(x.shape)
        if self.opset < 10:
            starts, ends = list(attrs["starts"]), list(attrs["ends"])
            axes = list(attrs.get("axes", range(len(starts))))
            steps = [1] * len(starts)
        else:
            starts = self._ints_input(inputs[1], "starts")
            ends = self._ints_input(inputs[2], "ends")
            axes = self._ints_input(inputs[3], "axes") if len(inputs) > 3 and inputs[3] is not None \
                else list(range(len(starts)))
            steps = self._ints_input(inputs[4], "steps") if len(inputs) > 4 and \
                inputs[4] is not None else [1] * len(starts)
        offsets, sizes, strides = [0] * rank, list(x.shape), [1] * rank
        index = [slice(None)] * rank
        for s, e, a, st in zip(starts, ends, axes, steps):
            a = self._axis(a, rank)
            dim = x.shape[a]
            if st <= 0:
                raise _Unsupported(f"step {st} (only positive steps are supported)")
            s = max(0, min(dim, s + dim if s < 0 else s))
            e = max(0, min(dim, e + dim if e < 0 else e))
            count = max(0, -(-(e - s) // st))
            if count == 0 and x.const is None:
                raise _Unsupported("an empty slice is not supported")
            offsets[a], sizes[a], strides[a] = s, count, st
            index[a] = slice(s, e, st)
        if x.const is not None:
            return _const_value(np.asarray(x.const)[tuple(index)])
        return self.slice(self._hint, x, offsets, sizes, strides, sizes)

    def _op_Split(self, node, inputs, attrs):
        x = self._float(inputs[0], "the input")
        rank = len(x.shape)
        axis = self._axis(attrs.get("axis", 0), rank)
        if self.opset >= 13:
            split = self._ints_input(inputs[1], "split") if len(inputs) > 1 and \
                inputs[1] is not None else None
        else:
            split = list(attrs["split"]) if "split" in attrs else None
        n = len(node.output)
        if split is None:
            if x.shape[axis] % n:
                raise _Unsupported(f"dim {x.shape[axis]} does not split into {n} equal parts")
            split = [x.shape[axis] // n] * n
        results, offset = [], 0
        for i, size in enumerate(split):
            if size == 0:
                raise _Unsupported("zero-size splits are not supported")
            offsets = [0] * rank
            offsets[axis] = offset
            sizes = list(x.shape)
            sizes[axis] = size
            results.append(self.slice(f"{self._hint}_{i}", x, offsets, sizes, [1] * rank, sizes))
            offset += size
        return results

    def _op_Pad(self, node, inputs, attrs):
        x = self._float(inputs[0], "data")
        rank = len(x.shape)
        mode = _s(attrs.get("mode", "constant"))
        if mode not in ("constant", "reflect", "edge"):
            raise _Unsupported(f"mode '{mode}' is not supported (constant, reflect, edge)")
        if self.opset < 11:
            pads, value = list(attrs["pads"]), float(attrs.get("value", 0.0))
        else:
            pads = self._ints_input(inputs[1], "pads")
            value = 0.0
            if len(inputs) > 2 and inputs[2] is not None:
                value = float(np.asarray(self._constant(inputs[2], "constant_value")).reshape(()))
            if len(inputs) > 3 and inputs[3] is not None:
                raise _Unsupported("the axes input is not supported")
        if len(pads) != 2 * rank or any(p < 0 for p in pads):
            raise _Unsupported(f"pads {pads} (non-negative, two per dim) are required")
        if not any(pads):
            return x
        if mode != "constant":
            return self._pad_copy(x, pads[:rank], pads[rank:], mode)
        ssa, shape = self.writer.pad_nd(self._hint, self.ssa(x), x.shape, pads[:rank], pads[rank:],
                                        value)
        return Value(ssa, shape)

    def _pad_copy(self, x, low, high, mode):
        """reflect/edge padding, one dim at a time: the border rows are
        single-row slices (edge: the first/last row broadcast) concatenated
        around the tensor."""
        for d in range(len(x.shape)):
            lo, hi = low[d], high[d]
            if not lo and not hi:
                continue
            n = x.shape[d]
            if mode == "reflect" and (lo >= n or hi >= n):
                raise _Unsupported(f"reflect padding {lo}/{hi} of a dim of size {n}")

            def row(i, tag):
                offsets = [0] * len(x.shape)
                offsets[d] = i
                sizes = list(x.shape)
                sizes[d] = 1
                return self.slice(f"{self._hint}_d{d}_{tag}", x, offsets, sizes,
                                  [1] * len(x.shape), sizes)

            def edge(i, count, tag):
                shape = list(x.shape)
                shape[d] = count
                return self.elementwise(f"{self._hint}_d{d}_{tag}", [row(i, tag + "_row")], shape,
                                        lambda b, a: a)

            pieces = []
            if lo:
                pieces += [edge(0, lo, "lo")] if mode == "edge" else \
                    [row(i, f"lo{i}") for i in range(lo, 0, -1)]
            pieces.append(x)
            if hi:
                pieces += [edge(n - 1, hi, "hi")] if mode == "edge" else \
                    [row(n - 2 - j, f"hi{j}") for j in range(hi)]
            shape = list(x.shape)
            shape[d] = n + lo + hi
            x = self.concat(f"{self._hint}_d{d}", pieces, d, shape)
        return x

    def _op_DepthToSpace(self, node, inputs, attrs):
        x = self._float(inputs[0], "the input")
        bs = int(attrs["blocksize"])
        mode = _s(attrs.get("mode", "DCR"))
        n, c, h, w = x.shape
        if c % (bs * bs) or mode not in ("DCR", "CRD"):
            raise _Unsupported(f"{c} channels, blocksize {bs}, mode {mode}")
        if mode == "DCR":
            y = self.reshape(self._hint + "_split", x, [n, bs, bs, c // (bs * bs), h, w])
            y = self.transpose(self._hint + "_t", y, [0, 3, 4, 1, 5, 2])
        else:
            y = self.reshape(self._hint + "_split", x, [n, c // (bs * bs), bs, bs, h, w])
            y = self.transpose(self._hint + "_t", y, [0, 1, 4, 2, 5, 3])
        return self.reshape(self._hint, y, [n, c // (bs * bs), h * bs, w * bs])

    def _op_SpaceToDepth(self, node, inputs, attrs):
        x = self._float(inputs[0], "the input")
        bs = int(attrs["blocksize"])
        n, c, h, w = x.shape
        if h % bs or w % bs:
            raise _Unsupported(f"{h}x{w} is not divisible by blocksize {bs}")
        y = self.reshape(self._hint + "_split", x, [n, c, h // bs, bs, w // bs, bs])
        y = self.transpose(self._hint + "_t", y, [0, 3, 5, 1, 2, 4])
        return self.reshape(self._hint, y, [n, c * bs * bs, h // bs, w // bs])

    def _op_MeanVarianceNormalization(self, node, inputs, attrs):
        x = self._float(inputs[0], "X")
        rank = len(x.shape)
        axes = sorted({self._axis(a, rank) for a in attrs.get("axes", [0, 2, 3])})
        count = float(np.prod([x.shape[a] for a in axes]))
        keep = [1 if i in axes else d for i, d in enumerate(x.shape)]
        mean = self.reshape(self._hint + "_mean_k", self.elementwise(
            self._hint + "_mean", [self.reduce(self._hint + "_sum", x, axes)],
            [x.shape[i] for i in range(rank) if i not in axes], lambda b, a: b.div(a, count)), keep)
        centered = self.elementwise(self._hint + "_c", [x, mean], x.shape,
                                    lambda b, a, m: b.sub(a, m))
        sq = self.elementwise(self._hint + "_sq", [centered], x.shape, lambda b, a: b.mul(a, a))
        var = self.reshape(self._hint + "_var_k", self.reduce(self._hint + "_var", sq, axes), keep)
        return self.elementwise(self._hint, [centered, var], x.shape, lambda b, a, v: b.div(
            a, b.add(b.math("sqrt", b.div(v, count)), 1e-9)))

    def _op_LRN(self, node, inputs, attrs):
        x = self._float(inputs[0], "X")
        size = int(attrs["size"])
        alpha, beta = float(attrs.get("alpha", 1e-4)), float(attrs.get("beta", 0.75))
        bias = float(attrs.get("bias", 1.0))
        if len(x.shape) != 4:
            raise _Unsupported(f"LRN of a {x.shape} input (NCHW only)")
        n, c, h, w = x.shape
        sq = self.elementwise(self._hint + "_sq", [x], x.shape, lambda b, a: b.mul(a, a))
        # sum over the channel window [c - (size-1)//2, c + ceil((size-1)/2)]: a
        # (size x 1) sum pool over (N, 1, C, H*W) padded with zeros on C
        rows = self.reshape(self._hint + "_rows", sq, [n, 1, c, h * w])
        lo, hi = (size - 1) // 2, size - 1 - (size - 1) // 2
        xs, shape = self.writer.pad(self._hint, self.ssa(rows), rows.shape, (lo, 0), (hi, 0), 0.0)
        total = Value(self.writer.pool("sum", self._hint + "_window", xs, shape, (size, 1), (1, 1),
                                       (1, 1), [n, 1, c, h * w]), [n, 1, c, h * w])
        total = self.reshape(self._hint + "_back", total, x.shape)
        return self.elementwise(self._hint, [x, total], x.shape, lambda b, a, s: b.div(
            a, b.op(f"math.powf {b.add(bias, b.mul(s, alpha / size))}, {b.const(beta)}")))

    def _op_Tile(self, node, inputs, attrs):
        x = self._tensor(inputs[0])
        repeats = self._ints_input(inputs[1], "repeats")
        if len(repeats) != len(x.shape) or any(r < 1 for r in repeats):
            raise _Unsupported(f"repeats {repeats} for a rank-{len(x.shape)} input "
                               "(one positive count per dim)")
        if x.const is not None:
            return _const_value(np.tile(np.asarray(x.const), repeats))
        x = self._float(x, "the input")
        for d, r in enumerate(repeats):
            if r > 1:
                shape = list(x.shape)
                shape[d] *= r
                x = self.concat(f"{self._hint}_d{d}", [x] * r, d, shape)
        return x

    def _op_Expand(self, node, inputs, attrs):
        x = self._tensor(inputs[0])
        shape = self._ints_input(inputs[1], "shape")
        out_shape = list(np.broadcast_shapes(tuple(x.shape), tuple(shape)))
        if x.const is not None and x.dtype != "f32":
            return _const_value(np.broadcast_to(x.const, out_shape).copy())
        return self.elementwise(self._hint, [self._float(x, "the input")], out_shape,
                                lambda b, a: a)


def load(path):
    """Read and check an ONNX file; every failure is an OnnxImportError."""
    if not os.path.isfile(path):
        raise OnnxImportError("no such file", model=path)
    try:
        model = onnx.load(path)
    except Exception as err:  # protobuf DecodeError, truncated files, ...
        raise OnnxImportError(f"not a readable ONNX model ({type(err).__name__}: {err})",
                              model=path) from None
    return check(model, path)


def check(model, path=None):
    try:
        onnx.checker.check_model(model)
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OnnxImportError(f"the ONNX checker rejects the model: {first}", model=path) from None
    if not model.graph.node:
        raise OnnxImportError("the graph has no nodes", model=path)
    return model


def import_model(model, path=None, input_shapes=None, pack=False, header=(), batch=None):
    """(MLIR text of ``@forward``, the Importer) for an ONNX ``ModelProto`` or a
    file path.  ``input_shapes`` maps input names to static shapes (overriding
    the declared ones); ``batch`` binds a symbolic leading dimension; ``pack``
    makes the entry point take all inputs flattened and concatenated into one
    1-D f32 tensor and return all outputs likewise (the backend's form)."""
    if isinstance(model, (str, os.PathLike)):
        path = str(model)
        model = load(path)
    importer = Importer(model, path, input_shapes, pack, batch)
    text = importer.run(header)
    return text, importer
