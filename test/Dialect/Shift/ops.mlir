// RUN: denseshift-opt %s | denseshift-opt | FileCheck %s
// RUN: denseshift-opt %s --mlir-print-op-generic | denseshift-opt | FileCheck %s
// RUN: denseshift-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trip of every shift op and attribute, in the custom and the generic
// form.

// CHECK-LABEL: func.func @quantize_zero_free
// CHECK: %[[C:.*]], %[[A:.*]] = shift.quantize %{{.*}} {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>} : tensor<8x4x3x3xf32> -> tensor<8x4x3x3xi8>, tensor<8xf32>
// CHECK: return %[[C]], %[[A]]
// GENERIC-LABEL: sym_name = "quantize_zero_free"
// GENERIC: "shift.quantize"(%{{.*}}) <{axis = 0 : i64, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}> : (tensor<8x4x3x3xf32>) -> (tensor<8x4x3x3xi8>, tensor<8xf32>)
func.func @quantize_zero_free(%w: tensor<8x4x3x3xf32>) -> (tensor<8x4x3x3xi8>, tensor<8xf32>) {
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<8x4x3x3xf32> -> tensor<8x4x3x3xi8>, tensor<8xf32>
  return %codes, %alpha : tensor<8x4x3x3xi8>, tensor<8xf32>
}

// CHECK-LABEL: func.func @quantize_with_zero_axis3
// CHECK: shift.quantize %{{.*}} {axis = 3 : i64, encoding = #shift.encoding<bits = 4, zero_free = false, emin = -5>} : tensor<3x3x4x16xf32> -> tensor<3x3x4x16xi8>, tensor<16xf32>
// GENERIC-LABEL: sym_name = "quantize_with_zero_axis3"
// GENERIC: "shift.quantize"(%{{.*}}) <{axis = 3 : i64, encoding = #shift.encoding<bits = 4, zero_free = false, emin = -5>}>
func.func @quantize_with_zero_axis3(%w: tensor<3x3x4x16xf32>) -> (tensor<3x3x4x16xi8>, tensor<16xf32>) {
  %codes, %alpha = shift.quantize %w {axis = 3 : i64, encoding = #shift.encoding<bits = 4, zero_free = false, emin = -5>}
      : tensor<3x3x4x16xf32> -> tensor<3x3x4x16xi8>, tensor<16xf32>
  return %codes, %alpha : tensor<3x3x4x16xi8>, tensor<16xf32>
}

// Dynamic shapes are allowed where the verifier cannot need them.
// CHECK-LABEL: func.func @quantize_dynamic
// CHECK: shift.quantize %{{.*}} {encoding = #shift.encoding<bits = 2, zero_free = true, emin = -126>} : tensor<?x7xf32> -> tensor<?x7xi8>, tensor<?xf32>
func.func @quantize_dynamic(%w: tensor<?x7xf32>) -> (tensor<?x7xi8>, tensor<?xf32>) {
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 2, zero_free = true, emin = -126>}
      : tensor<?x7xf32> -> tensor<?x7xi8>, tensor<?xf32>
  return %codes, %alpha : tensor<?x7xi8>, tensor<?xf32>
}

// 8-bit zero-free codes reach +-128 and need i16.
// CHECK-LABEL: func.func @quantize_eight_bit
// CHECK: shift.quantize %{{.*}} {encoding = #shift.encoding<bits = 8, zero_free = true, emin = -64>} : tensor<4x4xf32> -> tensor<4x4xi16>, tensor<4xf32>
func.func @quantize_eight_bit(%w: tensor<4x4xf32>) -> (tensor<4x4xi16>, tensor<4xf32>) {
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 8, zero_free = true, emin = -64>}
      : tensor<4x4xf32> -> tensor<4x4xi16>, tensor<4xf32>
  return %codes, %alpha : tensor<4x4xi16>, tensor<4xf32>
}

// CHECK-LABEL: func.func @dequantize
// CHECK-SAME: (%[[CODES:.*]]: tensor<16x32xi8>, %[[ALPHA:.*]]: tensor<16xf32>)
// CHECK: %[[W:.*]] = shift.dequantize %[[CODES]], %[[ALPHA]] {encoding = #shift.encoding<bits = 4, zero_free = false, emin = -2>} : tensor<16x32xi8>, tensor<16xf32> -> tensor<16x32xf32>
// CHECK: return %[[W]]
// GENERIC-LABEL: sym_name = "dequantize"
// GENERIC: "shift.dequantize"(%{{.*}}, %{{.*}}) <{axis = 0 : i64, encoding = #shift.encoding<bits = 4, zero_free = false, emin = -2>}> : (tensor<16x32xi8>, tensor<16xf32>) -> tensor<16x32xf32>
func.func @dequantize(%codes: tensor<16x32xi8>, %alpha: tensor<16xf32>) -> tensor<16x32xf32> {
  %w = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 4, zero_free = false, emin = -2>}
      : tensor<16x32xi8>, tensor<16xf32> -> tensor<16x32xf32>
  return %w : tensor<16x32xf32>
}

// Constant codes are checked by the verifier; valid ones pass.
// CHECK-LABEL: func.func @dequantize_constant_codes
// CHECK: arith.constant dense<{{\[}}[-4, -1], [1, 4]]> : tensor<2x2xi8>
// CHECK: shift.dequantize %{{.*}}, %{{.*}} {axis = 1 : i64, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 7>} : tensor<2x2xi8>, tensor<2xf32> -> tensor<2x2xf32>
func.func @dequantize_constant_codes(%alpha: tensor<2xf32>) -> tensor<2x2xf32> {
  %codes = arith.constant dense<[[-4, -1], [1, 4]]> : tensor<2x2xi8>
  %w = shift.dequantize %codes, %alpha {axis = 1 : i64, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 7>}
      : tensor<2x2xi8>, tensor<2xf32> -> tensor<2x2xf32>
  return %w : tensor<2x2xf32>
}

// CHECK-LABEL: func.func @conv2d_nchw
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8x8xf32>, %[[CODES:.*]]: tensor<8x4x3x3xi8>, %[[ALPHA:.*]]: tensor<8xf32>)
// CHECK: %[[Y:.*]] = shift.conv2d %[[X]], %[[CODES]], %[[ALPHA]] {dilations = array<i64: 1, 1>, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x8x8xf32>
// CHECK: return %[[Y]]
// GENERIC-LABEL: sym_name = "conv2d_nchw"
// GENERIC: "shift.conv2d"(%{{.*}}, %{{.*}}, %{{.*}}) <{dilations = array<i64: 1, 1>, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, groups = 1 : i64, layout = #shift.layout<nchw_fchw>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}> : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
func.func @conv2d_nchw(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x8x8xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, groups = 1 : i64}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  return %y : tensor<1x8x8x8xf32>
}

// Grouped NHWC convolution with stride, dilation and asymmetric padding:
// OH = (9 + 0 + 2 - 2*2 - 1) / 2 + 1 = 4, OW = (9 + 1 + 0 - 2*2 - 1) / 2 + 1 = 3.
// CHECK-LABEL: func.func @conv2d_nhwc_grouped
// CHECK: shift.conv2d %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>, encoding = #shift.encoding<bits = 4, zero_free = false, emin = -3>, groups = 2 : i64, layout = #shift.layout<nhwc_hwcf>, padding = array<i64: 0, 1, 2, 0>, strides = array<i64: 2, 2>} : tensor<2x9x9x6xf32>, tensor<3x3x3x4xi8>, tensor<4xf32> -> tensor<2x4x3x4xf32>
// GENERIC-LABEL: sym_name = "conv2d_nhwc_grouped"
// GENERIC: groups = 2 : i64, layout = #shift.layout<nhwc_hwcf>
func.func @conv2d_nhwc_grouped(%x: tensor<2x9x9x6xf32>, %codes: tensor<3x3x3x4xi8>, %alpha: tensor<4xf32>) -> tensor<2x4x3x4xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 4, zero_free = false, emin = -3>,
      layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 2, 2>,
      dilations = array<i64: 2, 2>, padding = array<i64: 0, 1, 2, 0>, groups = 2 : i64}
      : tensor<2x9x9x6xf32>, tensor<3x3x3x4xi8>, tensor<4xf32> -> tensor<2x4x3x4xf32>
  return %y : tensor<2x4x3x4xf32>
}

// Depthwise: groups = C.
// CHECK-LABEL: func.func @conv2d_depthwise
// CHECK: shift.conv2d {{.*}}groups = 8 : i64, layout = #shift.layout<nchw_fchw>{{.*}} : tensor<1x8x5x5xf32>, tensor<8x1x3x3xi16>, tensor<8xf32> -> tensor<1x8x3x3xf32>
func.func @conv2d_depthwise(%x: tensor<1x8x5x5xf32>, %codes: tensor<8x1x3x3xi16>, %alpha: tensor<8xf32>) -> tensor<1x8x3x3xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 8, zero_free = true, emin = -100>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, groups = 8 : i64}
      : tensor<1x8x5x5xf32>, tensor<8x1x3x3xi16>, tensor<8xf32> -> tensor<1x8x3x3xf32>
  return %y : tensor<1x8x3x3xf32>
}

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[X:.*]]: tensor<2x64xf32>, %[[CODES:.*]]: tensor<10x64xi8>, %[[ALPHA:.*]]: tensor<10xf32>)
// CHECK: %[[Y:.*]] = shift.matmul %[[X]], %[[CODES]], %[[ALPHA]] {encoding = #shift.encoding<bits = 4, zero_free = true, emin = -4>} : tensor<2x64xf32>, tensor<10x64xi8>, tensor<10xf32> -> tensor<2x10xf32>
// CHECK: return %[[Y]]
// GENERIC-LABEL: sym_name = "matmul"
// GENERIC: "shift.matmul"(%{{.*}}, %{{.*}}, %{{.*}}) <{encoding = #shift.encoding<bits = 4, zero_free = true, emin = -4>}> : (tensor<2x64xf32>, tensor<10x64xi8>, tensor<10xf32>) -> tensor<2x10xf32>
func.func @matmul(%x: tensor<2x64xf32>, %codes: tensor<10x64xi8>, %alpha: tensor<10xf32>) -> tensor<2x10xf32> {
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 4, zero_free = true, emin = -4>}
      : tensor<2x64xf32>, tensor<10x64xi8>, tensor<10xf32> -> tensor<2x10xf32>
  return %y : tensor<2x10xf32>
}

// CHECK-LABEL: func.func @shift_accumulate_vector
// CHECK-SAME: (%[[ACC:.*]]: vector<8xf32>, %[[X:.*]]: vector<8xf32>, %[[WORD:.*]]: vector<8xi32>)
// CHECK: %[[R:.*]] = shift.shift_accumulate %[[ACC]], %[[X]], %[[WORD]] {mode = #shift.mode<exponent_add>} : vector<8xf32>, vector<8xi32>
// CHECK: return %[[R]]
// GENERIC-LABEL: sym_name = "shift_accumulate_vector"
// GENERIC: "shift.shift_accumulate"(%{{.*}}, %{{.*}}, %{{.*}}) <{mode = #shift.mode<exponent_add>}> : (vector<8xf32>, vector<8xf32>, vector<8xi32>) -> vector<8xf32>
func.func @shift_accumulate_vector(%acc: vector<8xf32>, %x: vector<8xf32>, %word: vector<8xi32>) -> vector<8xf32> {
  %r = shift.shift_accumulate %acc, %x, %word {mode = #shift.mode<exponent_add>} : vector<8xf32>, vector<8xi32>
  return %r : vector<8xf32>
}

// CHECK-LABEL: func.func @shift_accumulate_scalar
// CHECK: shift.shift_accumulate %{{.*}}, %{{.*}}, %{{.*}} {mode = #shift.mode<ieee>} : f32, i32
// GENERIC-LABEL: sym_name = "shift_accumulate_scalar"
// GENERIC: "shift.shift_accumulate"(%{{.*}}, %{{.*}}, %{{.*}}) <{mode = #shift.mode<ieee>}> : (f32, f32, i32) -> f32
func.func @shift_accumulate_scalar(%acc: f32, %x: f32, %word: i32) -> f32 {
  %r = shift.shift_accumulate %acc, %x, %word {mode = #shift.mode<ieee>} : f32, i32
  return %r : f32
}

// CHECK-LABEL: func.func @shift_accumulate_2d_scalable
// CHECK: shift.shift_accumulate {{.*}} : vector<2x[4]xf32>, vector<2x[4]xi32>
func.func @shift_accumulate_2d_scalable(%acc: vector<2x[4]xf32>, %x: vector<2x[4]xf32>, %word: vector<2x[4]xi32>) -> vector<2x[4]xf32> {
  %r = shift.shift_accumulate %acc, %x, %word {mode = #shift.mode<ieee>} : vector<2x[4]xf32>, vector<2x[4]xi32>
  return %r : vector<2x[4]xf32>
}

// Encoding attributes on their own: every width, both kinds, both ends of
// the exponent range.
// CHECK-LABEL: func.func @encodings
// CHECK-SAME: enc2 = #shift.encoding<bits = 2, zero_free = true, emin = -126>
// CHECK-SAME: enc3 = #shift.encoding<bits = 3, zero_free = false, emin = 125>
// CHECK-SAME: enc4 = #shift.encoding<bits = 4, zero_free = true, emin = 120>
// CHECK-SAME: enc5 = #shift.encoding<bits = 5, zero_free = false, emin = 0>
// CHECK-SAME: enc6 = #shift.encoding<bits = 6, zero_free = true, emin = -1>
// CHECK-SAME: enc7 = #shift.encoding<bits = 7, zero_free = false, emin = 64>
// CHECK-SAME: enc8 = #shift.encoding<bits = 8, zero_free = true, emin = 0>
// CHECK-SAME: layout_a = #shift.layout<nchw_fchw>, layout_b = #shift.layout<nhwc_hwcf>
// CHECK-SAME: mode_a = #shift.mode<ieee>, mode_b = #shift.mode<exponent_add>
func.func @encodings() attributes {
    enc2 = #shift.encoding<bits = 2, zero_free = true, emin = -126>,
    enc3 = #shift.encoding<bits = 3, zero_free = false, emin = 125>,
    enc4 = #shift.encoding<bits = 4, zero_free = true, emin = 120>,
    enc5 = #shift.encoding<bits = 5, zero_free = false, emin = 0>,
    enc6 = #shift.encoding<bits = 6, zero_free = true, emin = -1>,
    enc7 = #shift.encoding<bits = 7, zero_free = false, emin = 64>,
    enc8 = #shift.encoding<bits = 8, zero_free = true, emin = 0>,
    layout_a = #shift.layout<nchw_fchw>, layout_b = #shift.layout<nhwc_hwcf>,
    mode_a = #shift.mode<ieee>, mode_b = #shift.mode<exponent_add>} {
  return
}
