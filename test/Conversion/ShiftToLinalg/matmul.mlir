// RUN: denseshift-opt %s --convert-shift-to-linalg | FileCheck %s

// shift.matmul becomes: dequantize the out x in codes (alpha per row), then
// y[m, n] += x[m, k] * w[n, k] in one linalg.generic on a zero-filled init.

// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$Y:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[X:.*]]: tensor<2x64xf32>, %[[CODES:.*]]: tensor<10x64xi8>, %[[ALPHA:.*]]: tensor<10xf32>)
// CHECK-DAG: %[[ZERO_F:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[BIAS:.*]] = arith.constant 122 : i32
// CHECK: %[[W:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[CODES]], %[[ALPHA]] : tensor<10x64xi8>, tensor<10xf32>) outs(%{{.*}} : tensor<10x64xf32>)
// CHECK: arith.addi %{{.*}}, %[[BIAS]] : i32
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<2x10xf32>
// CHECK: %[[ZEROS:.*]] = linalg.fill ins(%[[ZERO_F]] : f32) outs(%[[EMPTY]] : tensor<2x10xf32>)
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[$X]], #[[$W]], #[[$Y]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[X]], %[[W]] : tensor<2x64xf32>, tensor<10x64xf32>) outs(%[[ZEROS]] : tensor<2x10xf32>)
// CHECK-NEXT: ^bb0(%[[XV:.*]]: f32, %[[WV:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT:   %[[PROD:.*]] = arith.mulf %[[XV]], %[[WV]] : f32
// CHECK-NEXT:   %[[SUM:.*]] = arith.addf %[[ACC]], %[[PROD]] : f32
// CHECK-NEXT:   linalg.yield %[[SUM]] : f32
// CHECK: return %[[Y]]
func.func @matmul(%x: tensor<2x64xf32>, %codes: tensor<10x64xi8>, %alpha: tensor<10xf32>) -> tensor<2x10xf32> {
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 4, zero_free = true, emin = -4>}
      : tensor<2x64xf32>, tensor<10x64xi8>, tensor<10xf32> -> tensor<2x10xf32>
  return %y : tensor<2x10xf32>
}
