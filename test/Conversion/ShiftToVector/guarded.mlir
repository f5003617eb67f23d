// RUN: denseshift-opt %s -shift-outline-kernels="target=x86-64-avx2" -convert-shift-to-vector | FileCheck %s

// An 8-bit encoding (exponent offsets up to 127) keeps zeros guarded: a zero
// test per activation and MAC, the scan admits any normal activation
// (biased exponent >= 1, i.e. 8388608 in the bits), and nothing is flushed.
// CHECK-LABEL: func.func private @__shift_matmul_{{.*}}g_xadd(
// CHECK: arith.cmpi eq, {{.*}} : vector<8xi32>
// CHECK: arith.select {{.*}} : vector<8xi1>, vector<8xi32>
// CHECK-NOT: math.absf
// CHECK-LABEL: func.func private @__shift_matmul_{{.*}}_ieee(
// CHECK-LABEL: func.func private @__shift_matmul_{{.*}}_driver(
// CHECK: arith.constant 8388608 : i32

func.func @fc8(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<[[128, -1, 7, -100], [1, 2, 3, 4]]> : tensor<2x4xi16>
  %a = arith.constant dense<1.0e-30> : tensor<2xf32>
  %y = shift.matmul %x, %c, %a {encoding = #shift.encoding<bits = 8, zero_free = true, emin = 0>} : tensor<1x4xf32>, tensor<2x4xi16>, tensor<2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
