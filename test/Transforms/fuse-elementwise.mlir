// RUN: denseshift-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(shift-fuse-elementwise))" | FileCheck %s

// A residual add and the ReLU after it: one generic, reading both operands,
// with the add and the max in its body.
// CHECK-LABEL: func.func @add_relu(
// CHECK-SAME: %[[A:[^:]*]]: tensor<1x4x8x8xf32>, %[[B:[^:]*]]: tensor<1x4x8x8xf32>
// CHECK: %[[R:.*]] = linalg.generic
// CHECK-SAME: ins(%[[A]], %[[B]] : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>)
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.add
// CHECK: return %[[R]]
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @add_relu(%a: tensor<1x4x8x8xf32>, %b: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x4x8x8xf32>
  %s = linalg.add ins(%a, %b : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) outs(%e0 : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %e1 = tensor.empty() : tensor<1x4x8x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x4x8x8xf32>) outs(%e1 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x8x8xf32>
  return %r : tensor<1x4x8x8xf32>
}

// -----

// A producer with two users is not fused (it would be computed twice).
// CHECK-LABEL: func.func @shared(
// CHECK: %[[S:.*]] = linalg.generic
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[S]]
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[S]]
#id = affine_map<(d0) -> (d0)>
func.func @shared(%a: tensor<16xf32>, %b: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  %e = tensor.empty() : tensor<16xf32>
  %s = linalg.add ins(%a, %b : tensor<16xf32>, tensor<16xf32>) outs(%e : tensor<16xf32>) -> tensor<16xf32>
  %n = linalg.negf ins(%s : tensor<16xf32>) outs(%e : tensor<16xf32>) -> tensor<16xf32>
  %x = linalg.exp ins(%s : tensor<16xf32>) outs(%e : tensor<16xf32>) -> tensor<16xf32>
  return %n, %x : tensor<16xf32>, tensor<16xf32>
}
