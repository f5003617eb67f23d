// RUN: denseshift-opt %s -shift-from-linalg="mode=quantize bits=3" | FileCheck %s
// RUN: denseshift-opt %s -shift-from-linalg="mode=quantize bits=3 zero-free=false" | FileCheck %s --check-prefix=ZERO
// RUN: not denseshift-opt %s -shift-from-linalg="mode=fuzzy" 2>&1 | FileCheck %s --check-prefix=BADMODE
// RUN: not denseshift-opt %s -shift-from-linalg="bits=9" 2>&1 | FileCheck %s --check-prefix=BADBITS

// alpha = max|w| / 2^3 = 0.5; 3.0 / 0.5 = 6 >= sqrt(2) * 4 rounds up to 8;
// 0.7 / 0.5 = 1.4 < sqrt(2) rounds down to 1; 0 maps to +1 (zero-free).
// CHECK-LABEL: func.func @fc
// CHECK: arith.constant dense<{{\[}}[4, 1, 1, -4]]> : tensor<1x4xi8>
// CHECK: arith.constant dense<5.000000e-01> : tensor<1xf32>
// CHECK: shift.matmul {{.*}}bits = 3, zero_free = true
// With zero: 3 bits hold magnitudes 1..3, alpha = 4 / 4 = 1; 0.7 < sqrt(2)/2
// rounds to 2^-1, below emin, so it becomes 0 like the 0.
// ZERO: arith.constant dense<{{\[}}[3, 0, 0, -3]]> : tensor<1x4xi8>
// ZERO: shift.matmul {{.*}}bits = 3, zero_free = false
// BADMODE: for the --mode option: unknown weights mode 'fuzzy' (expected exact or quantize)
// BADBITS: shift-from-linalg: bits must be in [2, 8], got 9
func.func @fc(%x: tensor<2x4xf32>) -> tensor<2x1xf32> {
  %w = arith.constant dense<[[3.0], [0.7], [0.0], [-4.0]]> : tensor<4x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x1xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<2x1xf32>) -> tensor<2x1xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x1xf32>) outs(%i : tensor<2x1xf32>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}
