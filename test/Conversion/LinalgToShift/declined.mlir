// RUN: denseshift-opt %s -shift-from-linalg="remarks=true bits=4" -split-input-file -verify-diagnostics | FileCheck %s

// Weights that are not alpha * s * 2^e stay linalg in exact mode.
// CHECK-LABEL: func.func @not_powers_of_two
// CHECK: linalg.matmul
func.func @not_powers_of_two(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 3.0], [1.5, 2.0]]> : tensor<2x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  // expected-remark @below {{not converted to shift: weights are not alpha * s * 2^e with at most 4-bit codes per channel}}
  %y = linalg.matmul ins(%x, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%i : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Non-constant weights stay linalg.
// CHECK-LABEL: func.func @runtime_weights
// CHECK: linalg.matmul
func.func @runtime_weights(%x: tensor<1x2xf32>, %w: tensor<2x2xf32>) -> tensor<1x2xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  // expected-remark @below {{not converted to shift: weights are not an f32 constant}}
  %y = linalg.matmul ins(%x, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%i : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A span of 9 exponents does not fit 4-bit zero-free codes (8 exponents).
// CHECK-LABEL: func.func @span_too_wide
// CHECK: linalg.matmul
func.func @span_too_wide(%x: tensor<1x2xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[1.0], [256.0]]> : tensor<2x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  // expected-remark @below {{not converted to shift}}
  %y = linalg.matmul ins(%x, %w : tensor<1x2xf32>, tensor<2x1xf32>) outs(%i : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// Quantize mode is not asked for, so a NaN weight is simply declined.
// CHECK-LABEL: func.func @nan_weight
// CHECK: linalg.matmul
func.func @nan_weight(%x: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<0x7FC00000> : tensor<1x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  // expected-remark @below {{not converted to shift: weights contain NaN or Inf}}
  %y = linalg.matmul ins(%x, %w : tensor<1x1xf32>, tensor<1x1xf32>) outs(%i : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// Dynamic shapes stay linalg (shift ops are static).
// CHECK-LABEL: func.func @dynamic_batch
// CHECK: linalg.matmul
func.func @dynamic_batch(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x2xf32>
  %w = arith.constant dense<[[2.0, 1.0], [-1.0, 2.0]]> : tensor<2x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty(%n) : tensor<?x2xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-remark @below {{not converted to shift: dynamic shapes}}
  %y = linalg.matmul ins(%x, %w : tensor<?x2xf32>, tensor<2x2xf32>) outs(%i : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
