"""ONNX's own backend conformance suite over denseshift.onnx.Backend.

The node tests of the supported operators and the pytorch-converted /
pytorch-operator models that fit the importer run through
``onnx.backend.test.BackendTest`` (data from Debian's libonnx-testdata);
each test imports, compiles for x86-64-avx2 and runs a tiny model.
Exclusions and their reasons: docs/onnx.md (``EXCLUDED`` below mirrors it).
"""
import os
import shutil
import unittest

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
if "object" not in np.__dict__:
    # onnx 1.12's runner compares ``dtype == np.object``, an alias newer numpy
    # removed; give it back the builtin so ONNX's own comparison runs unchanged.
    np.object = object
import onnx.backend.test  # noqa: E402

from denseshift import runtime  # noqa: E402
from denseshift.onnx.backend import Backend  # noqa: E402

if not runtime.ProjectToolchain().available() or shutil.which("clang", path=runtime.LLVM_BIN) is None:
    pytest.skip("build/bin/denseshift-opt (with --denseshift-pipeline) or clang-22 is missing",
                allow_module_level=True)
DATA = os.path.join(os.path.dirname(onnx.backend.test.__file__), "data", "node")
if not os.path.isdir(DATA):
    pytest.skip("ONNX backend test data missing (Debian package libonnx-testdata)",
                allow_module_level=True)

# Node tests of the supported operators (regexes over the test names): every
# test of these operators runs except the EXCLUDED ones.
NODE_OPS = [
    "abs", "add.*", "averagepool_.*", "basic_conv_.*", "conv_with_.*", "batchnorm_.*",
    "celu.*", "clip.*", "concat_.*", "convtranspose.*", "constant", "constant_pad", "div.*", "dropout_.*",
    "training_dropout.*", "edge_pad", "elu.*", "erf", "exp", "exp_example", "expand_.*",
    "flatten_.*", "gather_0", "gather_1", "gather_2d_indices", "gather_negative_indices",
    "gemm_.*", "globalaveragepool.*", "globalmaxpool.*", "hardsigmoid.*", "hardswish.*",
    "gru_.*", "lstm_.*", "simple_rnn_.*", "rnn_seq_length", "identity.*", "instancenorm_.*",
    "layer_normalization_.*", "leakyrelu.*", "log",
    "log_example", "logsoftmax_.*", "matmul_.*", "max_.*", "maxpool_.*", "mean_.*", "min_.*",
    "mul.*", "neg.*", "pow.*", "prelu_.*", "reciprocal.*", "reduce_max_.*", "reduce_mean_.*",
    "reduce_min_.*", "reduce_sum_.*", "reflect_pad", "relu", "reshape_.*", "selu.*",
    "shape.*", "shrink_.*", "sigmoid.*", "sign", "size.*", "slice.*", "softmax_.*",
    "softplus.*", "softsign.*", "split_.*", "sqrt.*", "squeeze", "squeeze_negative_axes",
    "sub.*", "sum_.*", "tanh.*", "thresholdedrelu.*", "tile.*", "transpose_.*", "unsqueeze_.*",
    "floor.*", "ceil.*", "round", "sin", "sin_example", "sinh.*", "cos", "cos_example", "cosh.*",
    "tan", "tan_example", "asin.*", "acos.*", "atan", "atan_example", "atanh.*",
    "depthtospace_.*", "spacetodepth.*", "mvn.*", "lrn.*", "reduce_l1_.*", "reduce_l2_.*",
    "reduce_log_sum.*", "reduce_prod_.*",
]
# Every pytorch-converted, pytorch-operator and simple model test runs except the
# EXCLUDED ones (the "real" models are download stubs: never run).
MODEL_KINDS = ["pytorch-converted", "pytorch-operator", "simple"]
MODEL_TESTS = sorted(name for kind in MODEL_KINDS
                     for name in os.listdir(os.path.join(os.path.dirname(DATA), kind))
                     if name.startswith("test_"))

# test name (without the _cpu suffix) -> reason; the same list is in docs/onnx.md.
INT_OUT = "the output is int64 (shape arithmetic folded at import); the compiled ABI gives f32"
F32 = "the compiled ABI and the compiler's tensors are f32"
SPATIAL3D = "3-D convolution/pooling (1-D and 2-D spatial only)"
EMPTY = "a zero-size tensor (static non-empty shapes only)"
EXCLUDED = {
    **{f"test_shape{s}": INT_OUT for s in (
        "", "_clip_end", "_clip_start", "_end_1", "_end_negative_1", "_example", "_start_1",
        "_start_1_end_2", "_start_1_end_negative_1", "_start_negative_1")},
    "test_size": INT_OUT, "test_size_example": INT_OUT,
    "test_constant": "no runtime input: the whole graph is a constant (nothing to compile)",
    **{f"test_{op}_uint8": f"uint8 tensors ({F32})" for op in ("add", "sub", "mul", "div")},
    **{f"test_{op}_{ty}": f"{ty} tensors ({F32})" for op in ("max", "min") for ty in (
        "float16", "float64", "int16", "int32", "int64", "int8", "uint16", "uint32", "uint64",
        "uint8")},
    **{f"test_pow_types_{ty}": f"integer base ({F32})" for ty in (
        "float", "int", "int32_float32", "int32_int32", "int64_float32", "int64_int64")},
    **{f"test_reduce_log_sum_exp_{s}": f"float64 inputs ({F32})" for s in (
        "default_axes_keepdims_example", "default_axes_keepdims_random", "do_not_keepdims_example",
        "do_not_keepdims_random", "keepdims_example", "keepdims_random",
        "negative_axes_keepdims_example", "negative_axes_keepdims_random")},
    "test_clip_default_int8_inbounds": f"int8 tensors ({F32})",
    "test_clip_default_int8_max": f"int8 tensors ({F32})",
    "test_clip_default_int8_min": f"int8 tensors ({F32})",
    "test_maxpool_2d_uint8": f"uint8 tensors ({F32})",
    "test_edge_pad": f"int32 tensors ({F32})",
    "test_reflect_pad": f"int32 tensors ({F32})",
    "test_batchnorm_epsilon_training_mode": "training_mode=1 (inference only)",
    "test_batchnorm_example_training_mode": "training_mode=1 (inference only)",
    **{f"test_training_dropout{s}": "training-mode Dropout (random; inference only)" for s in (
        "", "_default", "_default_mask", "_mask", "_zero_ratio", "_zero_ratio_mask")},
    "test_dropout_default_mask": "the bool mask output (only the data output is supported)",
    "test_dropout_default_mask_ratio": "the bool mask output (only the data output is supported)",
    "test_identity_opt": "optional types (tensors only)",
    "test_identity_sequence": "sequence types (tensors only)",
    "test_maxpool_with_argmax_2d_precomputed_pads": "the int64 Indices output of MaxPool",
    "test_maxpool_with_argmax_2d_precomputed_strides": "the int64 Indices output of MaxPool",
    "test_averagepool_3d_default": SPATIAL3D, "test_maxpool_3d_default": SPATIAL3D,
    **{f"test_{name}": SPATIAL3D for name in (
        "AvgPool3d", "AvgPool3d_stride", "AvgPool3d_stride1_pad0_gpu_input", "Conv3d",
        "Conv3d_dilated", "Conv3d_dilated_strided", "Conv3d_groups", "Conv3d_no_bias",
        "Conv3d_stride", "Conv3d_stride_padding", "MaxPool3d", "MaxPool3d_stride",
        "MaxPool3d_stride_padding")},
    "test_reshape_allowzero_reordered": EMPTY, "test_slice_start_out_of_bounds": EMPTY,
    "test_split_zero_size_splits": EMPTY,
    "test_slice_neg_steps": "negative slice steps (tensor.extract_slice strides are positive)",
    **{f"test_operator_{name}": f"float64 inputs ({F32})" for name in (
        "add_broadcast", "add_size1_broadcast", "add_size1_right_broadcast",
        "add_size1_singleton_broadcast", "addconstant", "non_float_params")},
    "test_convtranspose_3d": SPATIAL3D,
    "test_Embedding": "an int64 index input: bound as a constant, nothing is left to compile",
    "test_Embedding_sparse": "an int64 index input: bound as a constant, nothing is left to compile",
    "test_gradient_of_add": "the ai.onnx.preview.training domain (Gradient)",
    "test_gradient_of_add_and_mul": "the ai.onnx.preview.training domain (Gradient)",
    **{f"test_sequence_model{i}": "sequence types (SequenceConstruct, SplitToSequence, ...)"
       for i in range(1, 9)},
    **{f"test_strnorm_model_{s}": "string tensors (StringNormalizer)" for s in (
        "monday_casesensintive_lower", "monday_casesensintive_nochangecase",
        "monday_casesensintive_upper", "monday_empty_output", "monday_insensintive_upper_twodim",
        "nostopwords_nochangecase")},
}

backend_test = onnx.backend.test.BackendTest(Backend, __name__)
for op in NODE_OPS:
    backend_test.include(rf"^test_{op}_cpu$")
for name in MODEL_TESTS:
    backend_test.include(rf"^{name}_cpu$")
for name in EXCLUDED:
    backend_test.exclude(rf"^{name}_cpu$")

_cases = backend_test.test_cases
for _case in _cases.values():
    for _attr in [a for a in vars(_case) if a.startswith("test_")]:
        _func = getattr(_case, _attr)
        if getattr(_func, "__unittest_skip_why__", "") == "no matched include pattern":
            delattr(_case, _attr)      # the rest of ONNX's suite: not collected at all
        elif _attr[:-len("_cpu")] in EXCLUDED:
            setattr(_case, _attr, unittest.skip(EXCLUDED[_attr[:-len("_cpu")]])(_func))
globals().update(_cases)
del _case, _attr, _func      # a TestCase bound to a module name would be collected twice
