// The registered pipeline, end to end on a small network: linalg in, LLVM
// dialect out, the shift kernels called from @forward, its C prototype
// recorded, the target's attributes on every function.
// RUN: denseshift-opt %s --denseshift-pipeline="target=aarch64-neon" | FileCheck %s
// RUN: denseshift-opt %s --denseshift-pipeline="target=x86-64-avx2 static-buffers=true" | FileCheck %s --check-prefix=STATIC
// The enum options print back by their spellings in the pass pipeline.
// RUN: denseshift-opt %s --denseshift-pipeline="target=aarch64-neon strategy=auto mode=fast weights=quantize" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPELINE
// PIPELINE: shift-from-linalg{bits=0 mode=quantize
// PIPELINE: shift-outline-kernels{mode=fast strategy=auto target=aarch64-neon}
// PIPELINE: shift-vectorize-linalg{target=aarch64-neon}
// PIPELINE: shift-annotate-target{target=aarch64-neon}
// Bad options fail with a diagnostic, not a crash.
// RUN: not denseshift-opt %s --denseshift-pipeline="target=riscv64" 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: not denseshift-opt %s --denseshift-pipeline="weights=guess" 2>&1 | FileCheck %s --check-prefix=BADWEIGHTS
// RUN: not denseshift-opt %s --denseshift-pipeline="mode=turbo" 2>&1 | FileCheck %s --check-prefix=BADMODE
// RUN: not denseshift-opt %s --denseshift-pipeline="bits=12" 2>&1 | FileCheck %s --check-prefix=BADBITS

// The body takes the planned workspace; @forward allocates it once per call,
// @forward_ws takes it from the caller.
// CHECK-LABEL: llvm.func internal @__shift_forward_body(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr)
// CHECK: llvm.call @__shift_conv2d_0(%arg0, %{{.*}}, %arg2)
// CHECK: llvm.call @__shift_matmul_0(%{{.*}}, %arg1, %arg2)
// CHECK-LABEL: llvm.func @forward(%arg0: !llvm.ptr, %arg1: !llvm.ptr)
// CHECK-SAME: denseshift.c_prototype = "/* input: f32[1][2][6][6], output: f32[1][3] */\0Avoid forward(const float *input, float *output);"
// CHECK-SAME: target_cpu = "neoverse-n1"
// CHECK: llvm.call @malloc
// CHECK: llvm.call @__shift_forward_body
// CHECK: llvm.call @free
// CHECK-LABEL: llvm.func @forward_ws(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr) -> i32
// CHECK-SAME: int forward_ws(const float *input, float *output, void *workspace);
// CHECK-LABEL: llvm.func @forward_workspace_size() -> i64
// CHECK-SAME: size_t forward_workspace_size(void);
// CHECK-DAG: llvm.func internal @__shift_conv2d_{{.*}}_xadd(
// CHECK-DAG: llvm.func internal @__shift_matmul_{{.*}}_xadd(
// STATIC-NOT: llvm.call @malloc
// STATIC: llvm.mlir.global private @__shift_buffer_
// The option parser rejects unknown values, naming the valid ones.
// BADTARGET: for the --target option: unknown target 'riscv64' (expected x86-64-avx2, x86-64-avx512 or aarch64-neon)
// BADWEIGHTS: for the --weights option: unknown weights mode 'guess' (expected exact or quantize)
// BADMODE: for the --mode option: unknown mode 'turbo' (expected default or fast)
// BADBITS: shift-from-linalg: bits must be in [2, 8], got 12

func.func @forward(%x: tensor<1x2x6x6xf32>) -> tensor<1x3xf32> {
  %z = arith.constant 0.0 : f32
  %w = arith.constant dense<[[[[1.0, -2.0, 4.0], [0.5, 1.0, -1.0], [2.0, 2.0, -0.5]], [[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0], [0.25, 0.5, 1.0]]],
                             [[[2.0, 2.0, 2.0], [2.0, -2.0, 2.0], [2.0, 2.0, 2.0]], [[1.0, 0.5, 0.25], [0.125, 1.0, 2.0], [4.0, 8.0, 1.0]]]]> : tensor<2x2x3x3xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<1x2x6x6xf32>, tensor<2x2x3x3xf32>) outs(%i : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %f = tensor.collapse_shape %c [[0], [1, 2, 3]] : tensor<1x2x4x4xf32> into tensor<1x32xf32>
  %fw = arith.constant dense<0.5> : tensor<32x3xf32>
  %fe = tensor.empty() : tensor<1x3xf32>
  %fi = linalg.fill ins(%z : f32) outs(%fe : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y = linalg.matmul ins(%f, %fw : tensor<1x32xf32>, tensor<32x3xf32>) outs(%fi : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}
