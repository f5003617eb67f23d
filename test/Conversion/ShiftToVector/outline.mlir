// RUN: denseshift-opt %s -shift-outline-kernels="target=x86-64-avx512" | FileCheck %s
// RUN: not denseshift-opt %s -shift-outline-kernels="target=riscv" 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: not denseshift-opt %s -shift-outline-kernels="mode=reckless" 2>&1 | FileCheck %s --check-prefix=BADMODE
// RUN: not denseshift-opt %s -shift-outline-kernels="strategy=lut" 2>&1 | FileCheck %s --check-prefix=BADSTRATEGY

// Unknown option values are rejected by the option parser, naming the valid ones.
// BADTARGET: for the --target option: unknown target 'riscv' (expected x86-64-avx2, x86-64-avx512 or aarch64-neon)
// BADMODE: for the --mode option: unknown mode 'reckless' (expected default or fast)
// BADSTRATEGY: for the --strategy option: unknown strategy 'lut' (expected shift, decode-fma or auto)

// The call replaces the op (no shift.conv2d is left in @conv).
// CHECK-LABEL: func.func @conv
// CHECK-NOT: shift.conv2d
// CHECK: %[[IN:.*]] = bufferization.to_buffer %arg0 read_only : tensor<1x2x5x5xf32> to memref<1x2x5x5xf32>
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x3x5x5xf32>
// CHECK: call @__shift_conv2d_0(%[[IN]], %[[OUT]])
// CHECK-NOT: shift.conv2d
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: shift.conv2d
// CHECK: return
func.func @conv(%x: tensor<1x2x5x5xf32>) -> tensor<1x3x5x5xf32> {
  %c = arith.constant dense<2> : tensor<3x2x3x3xi8>
  %a = arith.constant dense<[1.0, 0.5, 2.0]> : tensor<3xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = -1>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x2x5x5xf32>, tensor<3x2x3x3xi8>, tensor<3xf32> -> tensor<1x3x5x5xf32>
  return %y : tensor<1x3x5x5xf32>
}

// NHWC convolutions: outline-nhwc.mlir.

// Codes that are not constants stay too.
// CHECK-LABEL: func.func @runtime_codes
// CHECK: shift.matmul
func.func @runtime_codes(%x: tensor<1x4xf32>, %c: tensor<2x4xi8>) -> tensor<1x2xf32> {
  %a = arith.constant dense<1.0> : tensor<2xf32>
  %y = shift.matmul %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>} : tensor<1x4xf32>, tensor<2x4xi8>, tensor<2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// The declaration records the kernel; alpha already carries 2^emin.
// CHECK: func.func private @__shift_conv2d_0(memref<1x2x5x5xf32>, memref<1x3x5x5xf32>)
// CHECK-SAME: shift.kernel = #shift.kernel<kind = conv2d, target = "x86-64-avx512", mode = "default", strategy = "shift", lanes = 16, rows = 4, cols = 4
// CHECK-SAME: codes = dense<2> : tensor<3x2x3x3xi8>
// CHECK-SAME: alpha = dense<[5.000000e-01, 2.500000e-01, 1.000000e+00]>
// CHECK-SAME: encoding = <bits = 3, zero_free = true, emin = -1>
// CHECK-SAME: strides = [1, 1], dilations = [1, 1], padding = [1, 1, 1, 1]>
