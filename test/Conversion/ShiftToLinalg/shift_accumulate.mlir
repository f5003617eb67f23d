// RUN: denseshift-opt %s --convert-shift-to-linalg | FileCheck %s

// shift.shift_accumulate lowers to exact IEEE arithmetic in both modes:
// word + bits(1.0) is the bit pattern of s * 2^e, then acc + x * (s * 2^e).

// CHECK-LABEL: func.func @vector_exponent_add
// CHECK-SAME: (%[[ACC:.*]]: vector<8xf32>, %[[X:.*]]: vector<8xf32>, %[[WORD:.*]]: vector<8xi32>)
// CHECK-NEXT: %[[ONE_BITS:.*]] = arith.constant dense<1065353216> : vector<8xi32>
// CHECK-NEXT: %[[BITS:.*]] = arith.addi %[[WORD]], %[[ONE_BITS]] : vector<8xi32>
// CHECK-NEXT: %[[SCALE:.*]] = arith.bitcast %[[BITS]] : vector<8xi32> to vector<8xf32>
// CHECK-NEXT: %[[PROD:.*]] = arith.mulf %[[X]], %[[SCALE]] : vector<8xf32>
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[ACC]], %[[PROD]] : vector<8xf32>
// CHECK-NEXT: return %[[SUM]]
func.func @vector_exponent_add(%acc: vector<8xf32>, %x: vector<8xf32>, %word: vector<8xi32>) -> vector<8xf32> {
  %r = shift.shift_accumulate %acc, %x, %word {mode = #shift.mode<exponent_add>} : vector<8xf32>, vector<8xi32>
  return %r : vector<8xf32>
}

// CHECK-LABEL: func.func @scalar_ieee
// CHECK-SAME: (%[[ACC:.*]]: f32, %[[X:.*]]: f32, %[[WORD:.*]]: i32)
// CHECK-NEXT: %[[ONE_BITS:.*]] = arith.constant 1065353216 : i32
// CHECK-NEXT: %[[BITS:.*]] = arith.addi %[[WORD]], %[[ONE_BITS]] : i32
// CHECK-NEXT: %[[SCALE:.*]] = arith.bitcast %[[BITS]] : i32 to f32
// CHECK-NEXT: %[[PROD:.*]] = arith.mulf %[[X]], %[[SCALE]] : f32
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[ACC]], %[[PROD]] : f32
// CHECK-NEXT: return %[[SUM]]
func.func @scalar_ieee(%acc: f32, %x: f32, %word: i32) -> f32 {
  %r = shift.shift_accumulate %acc, %x, %word {mode = #shift.mode<ieee>} : f32, i32
  return %r : f32
}

// CHECK-LABEL: func.func @vector_2d
// CHECK: arith.constant dense<1065353216> : vector<2x4xi32>
// CHECK: arith.bitcast %{{.*}} : vector<2x4xi32> to vector<2x4xf32>
// CHECK-NOT: shift.shift_accumulate
func.func @vector_2d(%acc: vector<2x4xf32>, %x: vector<2x4xf32>, %word: vector<2x4xi32>) -> vector<2x4xf32> {
  %r = shift.shift_accumulate %acc, %x, %word {mode = #shift.mode<ieee>} : vector<2x4xf32>, vector<2x4xi32>
  return %r : vector<2x4xf32>
}
