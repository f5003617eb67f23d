// RUN: denseshift-opt %s -shift-outline-kernels="target=x86-64-avx2" | FileCheck %s

// Two layers with the same description and signature share one kernel
// declaration: the context uniques #shift.kernel. A third with other codes
// gets its own.

// CHECK-LABEL: func.func @tied
// CHECK: call @[[A:__shift_matmul_[0-9]+]](
// CHECK: call @[[A]](
// CHECK: call @[[C:__shift_matmul_[0-9]+]](
// CHECK-DAG: func.func private @[[A]](memref<2x3xf32>, memref<2x2xf32>) attributes {shift.kernel = #shift.kernel<{{.*}}codes = dense<{{\[}}[1, -2, 3], [-1, 2, -3]]>
// CHECK-DAG: func.func private @[[C]](memref<2x3xf32>, memref<2x2xf32>) attributes {shift.kernel = #shift.kernel<{{.*}}codes = dense<1>
// CHECK-NOT: __shift_matmul_2
func.func @tied(%x: tensor<2x3xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) {
  %codes = arith.constant dense<[[1, -2, 3], [-1, 2, -3]]> : tensor<2x3xi8>
  %other = arith.constant dense<1> : tensor<2x3xi8>
  %alpha = arith.constant dense<0.5> : tensor<2xf32>
  %a = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<2x3xf32>, tensor<2x3xi8>, tensor<2xf32> -> tensor<2x2xf32>
  %b = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<2x3xf32>, tensor<2x3xi8>, tensor<2xf32> -> tensor<2x2xf32>
  %c = shift.matmul %x, %other, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<2x3xf32>, tensor<2x3xi8>, tensor<2xf32> -> tensor<2x2xf32>
  return %a, %b, %c : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>
}
