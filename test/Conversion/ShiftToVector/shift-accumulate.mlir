// RUN: denseshift-opt %s -convert-shift-to-vector | FileCheck %s

// exponent_add: the word is added to the bits of x except where x is +-0.
// CHECK-LABEL: func.func @guarded
// CHECK: %[[BITS:.*]] = arith.bitcast %arg1 : vector<8xf32> to vector<8xi32>
// CHECK: %[[EXP:.*]] = arith.andi %[[BITS]], %{{.*}} : vector<8xi32>
// CHECK: %[[ZERO:.*]] = arith.cmpi eq, %[[EXP]]
// CHECK: %[[INC:.*]] = arith.select %[[ZERO]], %{{.*}}, %arg2
// CHECK: %[[SUM:.*]] = arith.addi %[[BITS]], %[[INC]] : vector<8xi32>
// CHECK: %[[SCALED:.*]] = arith.bitcast %[[SUM]] : vector<8xi32> to vector<8xf32>
// CHECK: arith.addf %arg0, %[[SCALED]] : vector<8xf32>
// CHECK-NOT: arith.mulf
func.func @guarded(%acc: vector<8xf32>, %x: vector<8xf32>, %w: vector<8xi32>) -> vector<8xf32> {
  %r = shift.shift_accumulate %acc, %x, %w {mode = #shift.mode<exponent_add>} : vector<8xf32>, vector<8xi32>
  return %r : vector<8xf32>
}

// exponent_add_unguarded: the add alone.
// CHECK-LABEL: func.func @unguarded
// CHECK: %[[BITS:.*]] = arith.bitcast %arg1 : f32 to i32
// CHECK-NEXT: %[[SUM:.*]] = arith.addi %[[BITS]], %arg2 : i32
// CHECK-NEXT: %[[SCALED:.*]] = arith.bitcast %[[SUM]] : i32 to f32
// CHECK-NEXT: arith.addf %arg0, %[[SCALED]] : f32
func.func @unguarded(%acc: f32, %x: f32, %w: i32) -> f32 {
  %r = shift.shift_accumulate %acc, %x, %w {mode = #shift.mode<exponent_add_unguarded>} : f32, i32
  return %r : f32
}

// ieee: an exact multiplication by the power of two word + bits(1.0).
// CHECK-LABEL: func.func @ieee
// CHECK: %[[ONE:.*]] = arith.constant dense<1065353216> : vector<4xi32>
// CHECK: %[[POW:.*]] = arith.addi %arg2, %[[ONE]] : vector<4xi32>
// CHECK: %[[SCALE:.*]] = arith.bitcast %[[POW]] : vector<4xi32> to vector<4xf32>
// CHECK: %[[PROD:.*]] = arith.mulf %arg1, %[[SCALE]] : vector<4xf32>
// CHECK: arith.addf %arg0, %[[PROD]] : vector<4xf32>
func.func @ieee(%acc: vector<4xf32>, %x: vector<4xf32>, %w: vector<4xi32>) -> vector<4xf32> {
  %r = shift.shift_accumulate %acc, %x, %w {mode = #shift.mode<ieee>} : vector<4xf32>, vector<4xi32>
  return %r : vector<4xf32>
}
