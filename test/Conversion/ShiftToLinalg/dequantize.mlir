// RUN: denseshift-opt %s --convert-shift-to-linalg | FileCheck %s

// shift.dequantize becomes one elementwise linalg.generic: the power of two
// 2^(emin + |c| - 1) is built from its biased exponent |c| + emin + 126,
// shifted into the f32 exponent field, so it is exact; code 0 selects 0.

// CHECK-DAG: #[[$ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$CH3:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>

// CHECK-LABEL: func.func @zero_free_axis0
// CHECK-SAME: (%[[CODES:.*]]: tensor<4x3xi8>, %[[ALPHA:.*]]: tensor<4xf32>)
// CHECK-DAG: %[[ZERO_F:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[C23:.*]] = arith.constant 23 : i32
// CHECK-DAG: %[[BIAS:.*]] = arith.constant 126 : i32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<4x3xf32>
// CHECK: %[[W:.*]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[CODES]], %[[ALPHA]] : tensor<4x3xi8>, tensor<4xf32>) outs(%[[INIT]] : tensor<4x3xf32>)
// CHECK-NEXT: ^bb0(%[[C:.*]]: i8, %[[A:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:   %[[CODE:.*]] = arith.extsi %[[C]] : i8 to i32
// CHECK-NEXT:   %[[NEG:.*]] = arith.cmpi slt, %[[CODE]], %[[ZERO]] : i32
// CHECK-NEXT:   %[[MINUS:.*]] = arith.subi %[[ZERO]], %[[CODE]] : i32
// CHECK-NEXT:   %[[MAG:.*]] = arith.select %[[NEG]], %[[MINUS]], %[[CODE]] : i32
// CHECK-NEXT:   %[[BIASED:.*]] = arith.addi %[[MAG]], %[[BIAS]] : i32
// CHECK-NEXT:   %[[BITS:.*]] = arith.shli %[[BIASED]], %[[C23]] : i32
// CHECK-NEXT:   %[[POW:.*]] = arith.bitcast %[[BITS]] : i32 to f32
// CHECK-NEXT:   %[[IS_ZERO:.*]] = arith.cmpi eq, %[[CODE]], %[[ZERO]] : i32
// CHECK-NEXT:   %[[VAL:.*]] = arith.select %[[IS_ZERO]], %[[ZERO_F]], %[[POW]] : f32
// CHECK-NEXT:   %[[NEGVAL:.*]] = arith.negf %[[VAL]] : f32
// CHECK-NEXT:   %[[SIGNED:.*]] = arith.select %[[NEG]], %[[NEGVAL]], %[[VAL]] : f32
// CHECK-NEXT:   %[[SCALED:.*]] = arith.mulf %[[A]], %[[SIGNED]] : f32
// CHECK-NEXT:   linalg.yield %[[SCALED]] : f32
// CHECK: return %[[W]]
func.func @zero_free_axis0(%codes: tensor<4x3xi8>, %alpha: tensor<4xf32>) -> tensor<4x3xf32> {
  %w = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<4x3xi8>, tensor<4xf32> -> tensor<4x3xf32>
  return %w : tensor<4x3xf32>
}

// emin = -2: biased exponent |c| + 124; alpha broadcast along axis 1.
// CHECK-LABEL: func.func @with_zero_axis1
// CHECK-DAG: %[[BIAS:.*]] = arith.constant 124 : i32
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$COL]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.addi %{{.*}}, %[[BIAS]] : i32
// CHECK-NOT: shift.
func.func @with_zero_axis1(%codes: tensor<4x3xi8>, %alpha: tensor<3xf32>) -> tensor<4x3xf32> {
  %w = shift.dequantize %codes, %alpha {axis = 1 : i64, encoding = #shift.encoding<bits = 3, zero_free = false, emin = -2>}
      : tensor<4x3xi8>, tensor<3xf32> -> tensor<4x3xf32>
  return %w : tensor<4x3xf32>
}

// i16 codes (8-bit zero-free) and HWCF weights with alpha along axis 3.
// emin = -100: biased exponent |c| + 26.
// CHECK-LABEL: func.func @eight_bit_hwcf
// CHECK-DAG: %[[BIAS:.*]] = arith.constant 26 : i32
// CHECK: linalg.generic {indexing_maps = [#[[$ID4]], #[[$CH3]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<3x3x2x8xi16>, tensor<8xf32>)
// CHECK: arith.extsi %{{.*}} : i16 to i32
// CHECK: arith.addi %{{.*}}, %[[BIAS]] : i32
func.func @eight_bit_hwcf(%codes: tensor<3x3x2x8xi16>, %alpha: tensor<8xf32>) -> tensor<3x3x2x8xf32> {
  %w = shift.dequantize %codes, %alpha {axis = 3 : i64, encoding = #shift.encoding<bits = 8, zero_free = true, emin = -100>}
      : tensor<3x3x2x8xi16>, tensor<8xf32> -> tensor<3x3x2x8xf32>
  return %w : tensor<3x3x2x8xf32>
}
