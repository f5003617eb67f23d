"""Post-training shift quantization of a float ONNX model's weights.

``quantize_onnx(model, bits)`` replaces the constant weight of every Conv,
Gemm and 2-D-weight MatMul node (in graph order; the first and the last stay
float unless ``keep_first_last=False``) by its zero-free DenseShift rounding
``alpha s 2^e`` with the per-output-channel alpha of :mod:`denseshift.ptq`.
The importer then writes those weights as the exact form the compiler turns
into shift ops (``mode=exact``), so the better alpha choice reaches ONNX users
too; ``weights=quantize`` in the compiler uses the ``max`` rule.
"""
import numpy as np
import torch
from onnx import numpy_helper

from denseshift.encoding import Encoding, round_to_encoding
from denseshift.ptq import PTQError, choose_alpha


def _weight_slots(model):
    """(node, input index, output-channel axis) of every quantizable weight, in order."""
    dims = {i.name: len(i.dims) for i in model.graph.initializer}
    inits = set(dims)
    slots = []
    for node in model.graph.node:
        if len(node.input) < 2 or node.input[1] not in inits:
            continue
        if node.op_type == "Conv":
            slots.append((node, 1, 0))
        elif node.op_type == "Gemm":
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            slots.append((node, 1, 0 if trans_b else 1))
        elif node.op_type == "MatMul" and dims[node.input[1]] == 2:
            slots.append((node, 1, 1))
    return slots


def quantize_weight(weight, encoding, alpha="mse", axis=0):
    """``weight`` (numpy f32) rounded to ``alpha s 2^e`` per channel along ``axis``."""
    w = torch.from_numpy(np.ascontiguousarray(np.moveaxis(weight, axis, 0), dtype=np.float32))
    scale = choose_alpha(w, encoding, alpha)
    q = encoding.decode(round_to_encoding(w, scale, encoding), scale).numpy()
    return np.ascontiguousarray(np.moveaxis(q, 0, axis))


def quantize_onnx(model, bits=3, alpha="mse", keep_first_last=True):
    """Quantize ``model``'s weights in place; returns the names of the quantized
    initializers.  PTQError if there is nothing to quantize or a weight is not
    a finite f32 tensor (or is shared with a node that is kept float)."""
    encoding = Encoding(bits, True, 0)
    every = _weight_slots(model)
    slots = every[1:-1] if keep_first_last else every
    if not slots:
        raise PTQError("no Conv, Gemm or MatMul with a constant weight to quantize"
                       + (" besides the first and the last (keep_first_last)" if keep_first_last
                          else ""))
    kept = every[:1] + every[-1:] if keep_first_last else []
    shared = {n.input[i] for n, i, _ in kept} & {n.input[i] for n, i, _ in slots}
    if shared:
        raise PTQError(f"weights {sorted(shared)} are shared with a layer kept float")
    inits = {i.name: i for i in model.graph.initializer}
    chosen = {}
    for node, index, axis in slots:
        name = node.input[index]
        weight = numpy_helper.to_array(inits[name])
        if weight.dtype != np.float32 or weight.ndim < 2:
            raise PTQError(f"node {node.name or node.op_type!r}: weight {name!r} is "
                           f"{weight.dtype} {list(weight.shape)}, not an f32 matrix or kernel")
        if name in chosen and chosen[name] != axis:
            raise PTQError(f"weight {name!r} is shared by nodes with different channel axes")
        try:
            quantized = quantize_weight(weight, encoding, alpha, axis)
        except PTQError as err:
            raise PTQError(f"node {node.name or node.op_type!r}, weight {name!r}: {err}") from err
        if name not in chosen:
            inits[name].CopyFrom(numpy_helper.from_array(quantized, name))
        chosen[name] = axis
    return sorted(chosen)
