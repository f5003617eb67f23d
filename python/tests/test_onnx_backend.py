"""ONNX's own backend conformance suite over denseshift.onnx.Backend.

The node tests of the supported operators and the pytorch-converted /
pytorch-operator models that fit the importer run through
``onnx.backend.test.BackendTest`` (data from Debian's libonnx-testdata);
each test imports, compiles for x86-64-avx2 and runs a tiny model.
Exclusions and their reasons: docs/onnx.md (``EXCLUDED`` below mirrors it).
"""
import os
import shutil

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

# Node tests of the supported operators (regexes over the test names).
NODE_OPS = [
    "abs", "add", "add_bcast", "averagepool_.*", "basic_conv_.*", "conv_with_.*",
    "batchnorm_epsilon", "batchnorm_example", "celu", "clip.*", "concat_.*", "constant",
    "div", "div_bcast", "div_example", "dropout_default.*", "dropout_random_old", "elu.*",
    "erf", "exp.*", "expand_.*", "flatten_.*", "gather_0", "gather_1", "gather_2d_indices",
    "gather_negative_indices", "gemm_.*", "globalaveragepool.*", "globalmaxpool.*",
    "hardsigmoid.*", "hardswish.*", "identity", "instancenorm_.*", "layer_normalization_.*",
    "leakyrelu.*", "log", "log_example", "logsoftmax_.*", "matmul_.*", "max_example",
    "max_float32", "max_one_input", "max_two_inputs", "maxpool_.*", "mean_.*",
    "min_example", "min_float32", "min_one_input", "min_two_inputs", "mul", "mul_bcast",
    "mul_example", "neg.*", "pow", "pow_bcast_array", "pow_bcast_scalar", "pow_example", "pow_types_float32_int32", "pow_types_float32_int64", "prelu_.*", "reciprocal.*", "reduce_max_.*", "reduce_mean_.*",
    "reduce_min_.*", "reduce_sum_.*", "relu", "reshape_.*", "selu.*", "shape.*", "sigmoid.*",
    "size.*", "slice.*", "softmax_.*", "softplus.*", "softsign.*", "split_.*", "sqrt.*",
    "squeeze", "squeeze_negative_axes", "sub", "sub_bcast", "sub_example", "sum_.*", "tanh.*", "thresholdedrelu.*",
    "transpose_.*", "unsqueeze_.*", "constant_pad", "edge_pad", "reflect_pad",
]
# pytorch-converted / pytorch-operator models within the op set.
MODEL_TESTS = [
    "AvgPool1d", "AvgPool1d_stride", "AvgPool2d", "AvgPool2d_stride", "BatchNorm1d_3d_input_eval",
    "BatchNorm2d_eval", "BatchNorm2d_momentum_eval", "Conv1d", "Conv1d_dilated", "Conv1d_groups",
    "Conv1d_pad1", "Conv1d_pad1size1", "Conv1d_pad2", "Conv1d_pad2size1", "Conv1d_stride",
    "Conv2d", "Conv2d_depthwise", "Conv2d_depthwise_padded", "Conv2d_depthwise_strided",
    "Conv2d_depthwise_with_multiplier", "Conv2d_dilated", "Conv2d_groups", "Conv2d_groups_thnn",
    "Conv2d_no_bias", "Conv2d_padding", "Conv2d_strided", "ELU", "GLU", "GLU_dim", "LeakyReLU",
    "LeakyReLU_with_negval", "Linear", "Linear_no_bias", "LogSoftmax", "MaxPool1d",
    "MaxPool1d_stride", "MaxPool1d_stride_padding_dilation", "MaxPool2d",
    "MaxPool2d_stride_padding_dilation", "PReLU_1d", "PReLU_1d_multiparam", "PReLU_2d",
    "PReLU_2d_multiparam", "ReLU", "SELU", "Sigmoid", "Softmax", "Softmin", "Softplus",
    "Softsign", "Tanh", "ZeroPad2d", "ReflectionPad2d", "ReplicationPad2d", "log_softmax_dim3", "log_softmax_lastdim",
    "softmax_functional_dim3", "softmax_lastdim",
    "operator_add_broadcast", "operator_add_size1_broadcast", "operator_add_size1_right_broadcast",
    "operator_add_size1_singleton_broadcast", "operator_addconstant", "operator_addmm",
    "operator_basic", "operator_chunk", "operator_clip", "operator_concat2", "operator_conv",
    "operator_exp", "operator_flatten", "operator_index", "operator_max", "operator_maxpool",
    "operator_min", "operator_mm", "operator_non_float_params", "operator_pad", "operator_params",
    "operator_permute2", "operator_pow", "operator_reduced_mean", "operator_reduced_mean_keepdim",
    "operator_reduced_sum", "operator_reduced_sum_keepdim", "operator_selu", "operator_sqrt",
    "operator_symbolic_override", "operator_symbolic_override_nested", "operator_view",
    "single_relu_model",
]
# test name (without the _cpu suffix) -> reason; the same list is in docs/onnx.md.
INT_OUT = "the output is int64 (shape arithmetic folded at import); the compiled ABI gives f32"
EXCLUDED = {
    "test_shape": INT_OUT, "test_shape_clip_end": INT_OUT, "test_shape_clip_start": INT_OUT,
    "test_shape_end_1": INT_OUT, "test_shape_end_negative_1": INT_OUT,
    "test_shape_example": INT_OUT, "test_shape_start_1": INT_OUT,
    "test_shape_start_1_end_2": INT_OUT, "test_shape_start_1_end_negative_1": INT_OUT,
    "test_shape_start_negative_1": INT_OUT, "test_size": INT_OUT, "test_size_example": INT_OUT,
    "test_constant": "no runtime input: the whole graph is a constant (nothing to compile)",
    "test_clip_default_int8_inbounds": "int8 tensors (the compiler computes on f32)",
    "test_clip_default_int8_max": "int8 tensors (the compiler computes on f32)",
    "test_clip_default_int8_min": "int8 tensors (the compiler computes on f32)",
    "test_maxpool_2d_uint8": "uint8 tensors (the compiler computes on f32)",
    "test_edge_pad": "int32 tensors (the compiler computes on f32)",
    "test_reflect_pad": "int32 tensors (the compiler computes on f32)",
    "test_dropout_default_mask": "the bool mask output (only the data output is supported)",
    "test_dropout_default_mask_ratio": "the bool mask output (only the data output is supported)",
    "test_maxpool_with_argmax_2d_precomputed_pads": "the int64 Indices output of MaxPool",
    "test_maxpool_with_argmax_2d_precomputed_strides": "the int64 Indices output of MaxPool",
    "test_averagepool_3d_default": "3-D pooling (1-D and 2-D spatial only)",
    "test_maxpool_3d_default": "3-D pooling (1-D and 2-D spatial only)",
    "test_reshape_allowzero_reordered": "a zero-size tensor (static non-empty shapes only)",
    "test_slice_start_out_of_bounds": "a zero-size tensor (static non-empty shapes only)",
    "test_split_zero_size_splits": "a zero-size tensor (static non-empty shapes only)",
    "test_slice_neg_steps": "negative slice steps (tensor.extract_slice strides are positive)",
    "test_operator_add_broadcast": "float64 inputs (the compiled ABI is f32)",
    "test_operator_add_size1_broadcast": "float64 inputs (the compiled ABI is f32)",
    "test_operator_add_size1_right_broadcast": "float64 inputs (the compiled ABI is f32)",
    "test_operator_add_size1_singleton_broadcast": "float64 inputs (the compiled ABI is f32)",
    "test_operator_addconstant": "float64 inputs (the compiled ABI is f32)",
    "test_operator_non_float_params": "float64 inputs (the compiled ABI is f32)",
}

backend_test = onnx.backend.test.BackendTest(Backend, __name__)
for op in NODE_OPS:
    backend_test.include(rf"^test_{op}_cpu$")
for name in MODEL_TESTS:
    backend_test.include(rf"^test_{name}_cpu$")
for name in EXCLUDED:
    backend_test.exclude(rf"^{name}_cpu$")

globals().update(backend_test.test_cases)
