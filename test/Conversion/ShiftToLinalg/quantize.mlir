// RUN: denseshift-opt %s --convert-shift-to-linalg | FileCheck %s

// shift.quantize becomes three linalg.generics: max|w| per channel, alpha =
// max|w| * 2^-(emin + K), and the elementwise log-domain rounding of
// |w| / alpha, decided on the f64 quotient.

// CHECK-DAG: #[[$ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$ID1:.*]] = affine_map<(d0) -> (d0)>

// 3-bit zero-free, emin = 1: K = 3, alpha = max|w| * 2^-4.
// CHECK-LABEL: func.func @zero_free_axis0
// CHECK-SAME: (%[[W:.*]]: tensor<4x3xf32>)
// CHECK-DAG: %[[K:.*]] = arith.constant 3 : i32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[SQRT2_FRACTION:.*]] = arith.constant 1865452045155277 : i64
// CHECK-DAG: %[[FRACTION_MASK:.*]] = arith.constant 4503599627370495 : i64
// CHECK-DAG: %[[F64_BIAS:.*]] = arith.constant 1023 : i64
// CHECK-DAG: %[[EXP_MASK:.*]] = arith.constant 2047 : i64
// CHECK-DAG: %[[C52:.*]] = arith.constant 52 : i64
// CHECK-DAG: %[[INV_TOP:.*]] = arith.constant 6.250000e-02 : f32
// CHECK-DAG: %[[ZERO_F:.*]] = arith.constant 0.000000e+00 : f32
//
// CHECK: %[[MAX_INIT:.*]] = linalg.fill ins(%[[ZERO_F]] : f32) outs(%{{.*}} : tensor<4xf32>)
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: ins(%[[W]] : tensor<4x3xf32>) outs(%[[MAX_INIT]] : tensor<4xf32>)
// CHECK:   %[[ABS:.*]] = math.absf
// CHECK:   %[[M:.*]] = arith.maximumf %{{.*}}, %[[ABS]] : f32
// CHECK:   linalg.yield %[[M]]
//
// CHECK: %[[ALPHA:.*]] = linalg.generic {indexing_maps = [#[[$ID1]], #[[$ID1]]], iterator_types = ["parallel"]}
// CHECK-SAME: ins(%[[MAX]] : tensor<4xf32>)
// CHECK:   %[[A:.*]] = arith.mulf %{{.*}}, %[[INV_TOP]] : f32
// CHECK:   linalg.yield %[[A]]
//
// CHECK: %[[CODES:.*]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[W]], %[[ALPHA]] : tensor<4x3xf32>, tensor<4xf32>) outs(%{{.*}} : tensor<4x3xi8>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[IN_A:.*]]: f32, %{{.*}}: i8):
// CHECK-NEXT:   %[[ABS_W:.*]] = math.absf %[[IN]] : f32
// CHECK-NEXT:   %[[W64:.*]] = arith.extf %[[ABS_W]] : f32 to f64
// CHECK-NEXT:   %[[A64:.*]] = arith.extf %[[IN_A]] : f32 to f64
// CHECK-NEXT:   %[[RATIO:.*]] = arith.divf %[[W64]], %[[A64]] : f64
// CHECK-NEXT:   %[[BITS:.*]] = arith.bitcast %[[RATIO]] : f64 to i64
// CHECK-NEXT:   %[[SHIFTED:.*]] = arith.shrui %[[BITS]], %[[C52]] : i64
// CHECK-NEXT:   %[[BIASED:.*]] = arith.andi %[[SHIFTED]], %[[EXP_MASK]] : i64
// CHECK-NEXT:   %[[EXP64:.*]] = arith.subi %[[BIASED]], %[[F64_BIAS]] : i64
// CHECK-NEXT:   %[[EXP:.*]] = arith.trunci %[[EXP64]] : i64 to i32
// CHECK-NEXT:   %[[FRACTION:.*]] = arith.andi %[[BITS]], %[[FRACTION_MASK]] : i64
// CHECK-NEXT:   %[[ABOVE:.*]] = arith.cmpi sge, %[[FRACTION]], %[[SQRT2_FRACTION]] : i64
// CHECK-NEXT:   %[[UP:.*]] = arith.extui %[[ABOVE]] : i1 to i32
// CHECK-NEXT:   %[[ROUNDED:.*]] = arith.addi %[[EXP]], %[[UP]] : i32
// CHECK-NEXT:   %[[OFFSET:.*]] = arith.subi %[[ROUNDED]], %[[ONE]] : i32
// CHECK-NEXT:   %[[LOW:.*]] = arith.maxsi %[[OFFSET]], %[[ZERO]] : i32
// CHECK-NEXT:   %[[CLAMPED:.*]] = arith.minsi %[[LOW]], %[[K]] : i32
// CHECK-NEXT:   %[[MAG:.*]] = arith.addi %[[CLAMPED]], %[[ONE]] : i32
// CHECK-NEXT:   %[[NEG:.*]] = arith.cmpf olt, %[[IN]], %[[ZERO_F]] : f32
// CHECK-NEXT:   %[[MINUS:.*]] = arith.subi %[[ZERO]], %[[MAG]] : i32
// CHECK-NEXT:   %[[SIGNED:.*]] = arith.select %[[NEG]], %[[MINUS]], %[[MAG]] : i32
// CHECK-NEXT:   %[[W_ZERO:.*]] = arith.cmpf oeq, %[[IN]], %[[ZERO_F]] : f32
// CHECK-NEXT:   %[[A_ZERO:.*]] = arith.cmpf oeq, %[[IN_A]], %[[ZERO_F]] : f32
// CHECK-NEXT:   %[[IS_ZERO:.*]] = arith.ori %[[W_ZERO]], %[[A_ZERO]] : i1
// CHECK-NEXT:   %[[CODE:.*]] = arith.select %[[IS_ZERO]], %[[ONE]], %[[SIGNED]] : i32
// CHECK-NEXT:   %[[CODE8:.*]] = arith.trunci %[[CODE]] : i32 to i8
// CHECK-NEXT:   linalg.yield %[[CODE8]] : i8
// CHECK: return %[[CODES]], %[[ALPHA]]
func.func @zero_free_axis0(%w: tensor<4x3xf32>) -> (tensor<4x3xi8>, tensor<4xf32>) {
  %c, %a = shift.quantize %w {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 1>}
      : tensor<4x3xf32> -> tensor<4x3xi8>, tensor<4xf32>
  return %c, %a : tensor<4x3xi8>, tensor<4xf32>
}

// 4-bit with-zero, emin = -3: K = 6, alpha = max|w| * 2^-3. Zeros, alpha = 0
// and offsets below emin all give code 0. The channel is axis 1.
// CHECK-LABEL: func.func @with_zero_axis1
// CHECK-DAG: %[[K:.*]] = arith.constant 6 : i32
// CHECK-DAG: %[[EMIN:.*]] = arith.constant -3 : i32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[INV_TOP:.*]] = arith.constant 1.250000e-01 : f32
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$COL]]], iterator_types = ["reduction", "parallel"]}
// CHECK: arith.mulf %{{.*}}, %[[INV_TOP]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$COL]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK:   %[[OFFSET:.*]] = arith.subi %{{.*}}, %[[EMIN]] : i32
// CHECK:   arith.minsi %{{.*}}, %[[K]] : i32
// CHECK:   %[[ZERO_OR_ZERO_ALPHA:.*]] = arith.ori
// CHECK:   %[[BELOW:.*]] = arith.cmpi slt, %[[OFFSET]], %[[ZERO]] : i32
// CHECK:   %[[IS_ZERO:.*]] = arith.ori %[[ZERO_OR_ZERO_ALPHA]], %[[BELOW]] : i1
// CHECK:   %[[CODE:.*]] = arith.select %[[IS_ZERO]], %[[ZERO]], %{{.*}} : i32
// CHECK:   arith.trunci %[[CODE]] : i32 to i8
func.func @with_zero_axis1(%w: tensor<5x16xf32>) -> (tensor<5x16xi8>, tensor<16xf32>) {
  %c, %a = shift.quantize %w {axis = 1 : i64, encoding = #shift.encoding<bits = 4, zero_free = false, emin = -3>}
      : tensor<5x16xf32> -> tensor<5x16xi8>, tensor<16xf32>
  return %c, %a : tensor<5x16xi8>, tensor<16xf32>
}

// 8-bit zero-free codes are i16; K = 127 with emin = 0 makes the alpha
// scale 2^-127, an f32 denormal.
// CHECK-LABEL: func.func @eight_bit
// CHECK-DAG: arith.constant 127 : i32
// CHECK-DAG: arith.constant 5.87747175E-39 : f32
// CHECK: arith.trunci %{{.*}} : i32 to i16
func.func @eight_bit(%w: tensor<2x8xf32>) -> (tensor<2x8xi16>, tensor<2xf32>) {
  %c, %a = shift.quantize %w {encoding = #shift.encoding<bits = 8, zero_free = true, emin = 0>}
      : tensor<2x8xf32> -> tensor<2x8xi16>, tensor<2xf32>
  return %c, %a : tensor<2x8xi16>, tensor<2xf32>
}
