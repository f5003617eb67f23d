// RUN: denseshift-opt %s -canonicalize -split-input-file | FileCheck %s

// Quantizing a constant folds to constant codes and alpha.
// Channel 0: max 8 -> alpha = 8 / 2^3 = 1. 1.41421354 is the f32 just below
// sqrt(2) (rounds to 2^0, code -1), 1.41421366 the f32 just above (2^1,
// code 2); +0 and -0 both take the smallest code with sign +.
// Channel 1: max 3 -> alpha = 0.375; 0.1 / 0.375 = 2^-1.9 clamps up to code 1.
// CHECK-LABEL: func.func @quantize_zero_free
// CHECK-DAG: %[[CODES:.*]] = arith.constant dense<{{\[}}[4, -1, 2, 1, 1], [4, 1, -2, 3, -4]]> : tensor<2x5xi8>
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant dense<[1.000000e+00, 3.750000e-01]> : tensor<2xf32>
// CHECK-NOT: shift.quantize
// CHECK: return %[[CODES]], %[[ALPHA]]
func.func @quantize_zero_free() -> (tensor<2x5xi8>, tensor<2xf32>) {
  %w = arith.constant dense<[[8.0, -1.41421354, 1.41421366, 0.0, -0.0],
                             [3.0, 0.1, -0.75, 1.5, -3.0]]> : tensor<2x5xf32>
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<2x5xf32> -> tensor<2x5xi8>, tensor<2xf32>
  return %codes, %alpha : tensor<2x5xi8>, tensor<2xf32>
}

// -----

// With zero, 3 bits, emin = -1: exponents [-1, 1], alpha = max / 2.
// Column 0 (axis = 1): alpha = 1; 0.36 = 2^-1.47 rounds to 2^-1 (code 1),
// 0.35 = 2^-1.51 rounds below emin (code 0).
// Column 1 is all zeros: alpha = 0 and every code 0.
// CHECK-LABEL: func.func @quantize_with_zero_axis1
// CHECK-DAG: %[[CODES:.*]] = arith.constant dense<{{\[}}[3, 0], [1, 0], [0, 0]]> : tensor<3x2xi8>
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant dense<[1.000000e+00, 0.000000e+00]> : tensor<2xf32>
// CHECK: return %[[CODES]], %[[ALPHA]]
func.func @quantize_with_zero_axis1() -> (tensor<3x2xi8>, tensor<2xf32>) {
  %w = arith.constant dense<[[2.0, 0.0], [0.36, -0.0], [0.35, 0.0]]> : tensor<3x2xf32>
  %codes, %alpha = shift.quantize %w {axis = 1 : i64, encoding = #shift.encoding<bits = 3, zero_free = false, emin = -1>}
      : tensor<3x2xf32> -> tensor<3x2xi8>, tensor<2xf32>
  return %codes, %alpha : tensor<3x2xi8>, tensor<2xf32>
}

// -----

// A zero-free all-zero channel: alpha = 0, codes +1.
// CHECK-LABEL: func.func @quantize_all_zero_zero_free
// CHECK-DAG: arith.constant dense<1> : tensor<1x3xi8>
// CHECK-DAG: arith.constant dense<0.000000e+00> : tensor<1xf32>
// CHECK-NOT: shift.quantize
func.func @quantize_all_zero_zero_free() -> (tensor<1x3xi8>, tensor<1xf32>) {
  %w = arith.constant dense<[[0.0, -0.0, 0.0]]> : tensor<1x3xf32>
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 2, zero_free = true, emin = 0>}
      : tensor<1x3xf32> -> tensor<1x3xi8>, tensor<1xf32>
  return %codes, %alpha : tensor<1x3xi8>, tensor<1xf32>
}

// -----

// 8-bit zero-free codes fold into i16: alpha = 1 / 2^127 (emin = 0), so the
// weight 1 is the top code 128, 2^-127 the bottom code 1 and 2^-62 is
// alpha * 2^65, code 66. alpha itself is an f32 denormal.
// CHECK-LABEL: func.func @quantize_eight_bit
// CHECK-DAG: arith.constant dense<{{\[}}[128, -1, 66]]> : tensor<1x3xi16>
// CHECK-DAG: arith.constant dense<5.87747175E-39> : tensor<1xf32>
func.func @quantize_eight_bit() -> (tensor<1x3xi16>, tensor<1xf32>) {
  %w = arith.constant dense<[[1.0, -5.87747175E-39, 2.16840434E-19]]> : tensor<1x3xf32>
  %codes, %alpha = shift.quantize %w {axis = 0 : i64, encoding = #shift.encoding<bits = 8, zero_free = true, emin = 0>}
      : tensor<1x3xf32> -> tensor<1x3xi16>, tensor<1xf32>
  return %codes, %alpha : tensor<1x3xi16>, tensor<1xf32>
}

// -----

// NaN and Inf weights cannot be quantized: the op stays.
// CHECK-LABEL: func.func @quantize_nan_not_folded
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 0x7FC00000]]> : tensor<1x2xf32>
// CHECK: %{{.*}}, %{{.*}} = shift.quantize %[[W]]
func.func @quantize_nan_not_folded() -> (tensor<1x2xi8>, tensor<1xf32>) {
  %w = arith.constant dense<[[1.0, 0x7FC00000]]> : tensor<1x2xf32>
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<1x2xf32> -> tensor<1x2xi8>, tensor<1xf32>
  return %codes, %alpha : tensor<1x2xi8>, tensor<1xf32>
}

// -----

// CHECK-LABEL: func.func @quantize_inf_not_folded
// CHECK: shift.quantize
func.func @quantize_inf_not_folded() -> (tensor<2xi8>, tensor<2xf32>) {
  %w = arith.constant dense<[1.0, 0xFF800000]> : tensor<2xf32>
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<2xf32> -> tensor<2xi8>, tensor<2xf32>
  return %codes, %alpha : tensor<2xi8>, tensor<2xf32>
}

// -----

// A dynamic alpha type has no constant of that type: not folded.
// CHECK-LABEL: func.func @quantize_dynamic_alpha_not_folded
// CHECK: shift.quantize {{.*}} -> tensor<2x2xi8>, tensor<?xf32>
func.func @quantize_dynamic_alpha_not_folded() -> (tensor<2x2xi8>, tensor<?xf32>) {
  %w = arith.constant dense<[[1.0, -0.5], [0.0, 3.0]]> : tensor<2x2xf32>
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<2x2xf32> -> tensor<2x2xi8>, tensor<?xf32>
  return %codes, %alpha : tensor<2x2xi8>, tensor<?xf32>
}

// -----

// Non-constant weights: nothing to fold.
// CHECK-LABEL: func.func @quantize_argument_not_folded
// CHECK: shift.quantize %arg0
func.func @quantize_argument_not_folded(%w: tensor<1x2xf32>) -> (tensor<1x2xi8>, tensor<1xf32>) {
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<1x2xf32> -> tensor<1x2xi8>, tensor<1xf32>
  return %codes, %alpha : tensor<1x2xi8>, tensor<1xf32>
}

// -----

// Dequantizing constants folds: w = alpha[row] * sign * 2^(emin + |c| - 1)
// with emin = -1: row 0 (alpha 0.5) -> -4 * 0.5, -0.5 * 0.5;
// row 1 (alpha 3) -> 0.5 * 3, 4 * 3.
// CHECK-LABEL: func.func @dequantize_zero_free
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[-2.000000e+00, -2.500000e-01], [1.500000e+00, 1.200000e+01]]> : tensor<2x2xf32>
// CHECK-NOT: shift.dequantize
// CHECK: return %[[W]]
func.func @dequantize_zero_free() -> tensor<2x2xf32> {
  %codes = arith.constant dense<[[-4, -1], [1, 4]]> : tensor<2x2xi8>
  %alpha = arith.constant dense<[0.5, 3.0]> : tensor<2xf32>
  %w = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = -1>}
      : tensor<2x2xi8>, tensor<2xf32> -> tensor<2x2xf32>
  return %w : tensor<2x2xf32>
}

// -----

// With zero and axis = 1: code 0 is the weight 0; column alphas 2 and 0.25.
// CHECK-LABEL: func.func @dequantize_with_zero_axis1
// CHECK: arith.constant dense<{{\[}}[0.000000e+00, 1.000000e+00], [-4.000000e+00, 2.500000e-01]]> : tensor<2x2xf32>
// CHECK-NOT: shift.dequantize
func.func @dequantize_with_zero_axis1() -> tensor<2x2xf32> {
  %codes = arith.constant dense<[[0, 3], [-2, 1]]> : tensor<2x2xi8>
  %alpha = arith.constant dense<[2.0, 0.25]> : tensor<2xf32>
  %w = shift.dequantize %codes, %alpha {axis = 1 : i64, encoding = #shift.encoding<bits = 3, zero_free = false, emin = 0>}
      : tensor<2x2xi8>, tensor<2xf32> -> tensor<2x2xf32>
  return %w : tensor<2x2xf32>
}

// -----

// i16 codes of an 8-bit encoding: 128 -> 2^(-100 + 127) = 2^27 (printed as
// its bit pattern 0x4D000000), -1 -> -2^-100.
// CHECK-LABEL: func.func @dequantize_eight_bit
// CHECK: arith.constant dense<{{\[}}[0x4D000000, -7.88860905E-31]]> : tensor<1x2xf32>
// CHECK-NOT: shift.dequantize
func.func @dequantize_eight_bit() -> tensor<1x2xf32> {
  %codes = arith.constant dense<[[128, -1]]> : tensor<1x2xi16>
  %alpha = arith.constant dense<1.0> : tensor<1xf32>
  %w = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 8, zero_free = true, emin = -100>}
      : tensor<1x2xi16>, tensor<1xf32> -> tensor<1x2xf32>
  return %w : tensor<1x2xf32>
}

// -----

// Only constant codes and alpha fold.
// CHECK-LABEL: func.func @dequantize_argument_not_folded
// CHECK: shift.dequantize
func.func @dequantize_argument_not_folded(%alpha: tensor<2xf32>) -> tensor<2xf32> {
  %codes = arith.constant dense<[1, -2]> : tensor<2xi8>
  %w = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<2xi8>, tensor<2xf32> -> tensor<2xf32>
  return %w : tensor<2xf32>
}

// -----

// quantize then dequantize of a constant folds to the rounded weights:
// alpha = 6 / 2^2 = 1.5 (4-bit with-zero, emin = -4, top exponent 2);
// 1.0 / 1.5 = 2^-0.58 rounds to 2^-1 (0.75); -0.1 / 1.5 = 2^-3.9 -> 2^-4.
// CHECK-LABEL: func.func @quantize_dequantize_round_trip
// CHECK: %[[W:.*]] = arith.constant dense<[6.000000e+00, 7.500000e-01, -9.375000e-02, 0.000000e+00]> : tensor<4xf32>
// CHECK-NOT: shift.
// CHECK: return %[[W]]
func.func @quantize_dequantize_round_trip() -> tensor<4xf32> {
  %w = arith.constant dense<[[6.0, 1.0, -0.1, 0.001]]> : tensor<1x4xf32>
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 4, zero_free = false, emin = -4>}
      : tensor<1x4xf32> -> tensor<1x4xi8>, tensor<1xf32>
  %r = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 4, zero_free = false, emin = -4>}
      : tensor<1x4xi8>, tensor<1xf32> -> tensor<1x4xf32>
  %flat = tensor.collapse_shape %r [[0, 1]] : tensor<1x4xf32> into tensor<4xf32>
  return %flat : tensor<4xf32>
}

// -----

// The folder decides on the exact ratio |w| / alpha: alpha = 0.572079778,
// 0.809042931 / alpha = sqrt(2) - 8.7e-8 (code 1) and 0.80904299 / alpha =
// sqrt(2) + 1.7e-8 (code 2). test/Integration/Reference/quantize.mlir runs
// the same weights through the lowering and expects the same codes.
// CHECK-LABEL: func.func @quantize_exact_ratio
// CHECK-DAG: arith.constant dense<{{\[}}[4, 1, 2, -2, 2, -3]]> : tensor<1x6xi8>
// CHECK-DAG: arith.constant dense<0.572079778> : tensor<1xf32>
func.func @quantize_exact_ratio() -> (tensor<1x6xi8>, tensor<1xf32>) {
  %w = arith.constant dense<[[4.57663822, 0.809042931, 0.80904299, -0.80904299, 0.80904305, -3.0]]> : tensor<1x6xf32>
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<1x6xf32> -> tensor<1x6xi8>, tensor<1xf32>
  return %codes, %alpha : tensor<1x6xi8>, tensor<1xf32>
}
