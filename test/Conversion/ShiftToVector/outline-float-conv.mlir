// RUN: denseshift-opt %s -split-input-file -shift-outline-kernels="target=x86-64-avx2" | FileCheck %s
// RUN: denseshift-opt %s -split-input-file -shift-outline-kernels="target=x86-64-avx2" | FileCheck %s --check-prefix=MATMUL
// RUN: denseshift-opt %s -split-input-file -shift-outline-kernels="target=x86-64-avx2" \
// RUN:   -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   -convert-shift-to-vector | FileCheck %s --check-prefix=KERNEL

// A conv that keeps f32 weights (shift-from-linalg left it alone) becomes a
// kernel call too: its zero pad is folded into the kernel's padding, the
// weights travel in the description, and the conv is gone.
// CHECK-LABEL: func.func @stem
// CHECK-NOT: tensor.pad
// CHECK-NOT: linalg.conv_2d_nchw_fchw
// CHECK: call @__shift_conv2d_0(%{{.*}}, %{{.*}}) : (memref<1x2x5x5xf32>, memref<1x3x3x3xf32>) -> ()
// CHECK: func.func private @__shift_conv2d_0(memref<1x2x5x5xf32>, memref<1x3x3x3xf32>)
// CHECK-SAME: #shift.kernel<kind = conv2d
// CHECK-SAME: weights = dense<{{.*}}> : tensor<3x2x3x3xf32>
// CHECK-SAME: strides = [2, 2], dilations = [1, 1], padding = [1, 1, 1, 1]>

// The weights are laid out at compile time in the kernel's table order
// [group, block, channel, kh, kw, row]: no decode loop, only the FMA kernel.
// KERNEL: memref.global "private" constant @__shift_conv2d_0_weights : memref<1x1x2x3x3x3xf32>
// KERNEL-SAME: 1.500000e+00, 3.000000e+00, 4.500000e+00
// KERNEL-LABEL: func.func private @__shift_conv2d_{{.*}}_fma(
// KERNEL: vector.fma
// KERNEL-NOT: func.func private @__shift_conv2d_{{.*}}_ieee(
// KERNEL-LABEL: func.func private @__shift_conv2d_{{.*}}_f32_driver(
// KERNEL-NOT: arith.shrui
// KERNEL: call @__shift_conv2d_{{.*}}_fma(
func.func @stem(%x: tensor<1x2x5x5xf32>) -> tensor<1x3x3x3xf32> {
  %zero = arith.constant 0.0 : f32
  %padded = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x2x5x5xf32> to tensor<1x2x7x7xf32>
  // w[f][c][kh][kw] = 1.5 * (f + 1) for the first tap of channel 0, else 0.25.
  %w = arith.constant dense<[
    [[[1.5, 0.25, 0.25], [0.25, 0.25, 0.25], [0.25, 0.25, 0.25]], [[0.25, 0.25, 0.25], [0.25, 0.25, 0.25], [0.25, 0.25, 0.25]]],
    [[[3.0, 0.25, 0.25], [0.25, 0.25, 0.25], [0.25, 0.25, 0.25]], [[0.25, 0.25, 0.25], [0.25, 0.25, 0.25], [0.25, 0.25, 0.25]]],
    [[[4.5, 0.25, 0.25], [0.25, 0.25, 0.25], [0.25, 0.25, 0.25]], [[0.25, 0.25, 0.25], [0.25, 0.25, 0.25], [0.25, 0.25, 0.25]]]]> : tensor<3x2x3x3xf32>
  %e = tensor.empty() : tensor<1x3x3x3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%padded, %w : tensor<1x2x7x7xf32>, tensor<3x2x3x3xf32>) outs(%init : tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  return %y : tensor<1x3x3x3xf32>
}

// -----

// A float linear (K x N constant, zero init): the FMA matmul kernel, with
// the weights transposed to N x K rows at compile time.
// MATMUL-LABEL: func.func @classifier
// MATMUL-NOT: linalg.matmul
// MATMUL: call @__shift_matmul_0
// MATMUL: func.func private @__shift_matmul_0(memref<2x3xf32>, memref<2x2xf32>)
// MATMUL-SAME: #shift.kernel<kind = matmul
// MATMUL-SAME: weights = dense<{{\[}}[1.500000e+00, 2.500000e+00, 3.500000e+00], [-1.000000e+00, -2.000000e+00, -3.000000e+00]]> : tensor<2x3xf32>
func.func @classifier(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[1.5, -1.0], [2.5, -2.0], [3.5, -3.0]]> : tensor<3x2xf32>
  %e = tensor.empty() : tensor<2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x2xf32>) outs(%init : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
