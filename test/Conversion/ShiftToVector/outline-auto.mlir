// RUN: denseshift-opt %s -shift-outline-kernels="target=x86-64-avx2 strategy=auto" | FileCheck %s
// RUN: denseshift-opt %s -shift-outline-kernels="target=x86-64-avx2" | FileCheck %s --check-prefix=DEFAULT

// strategy=auto decides per layer. The conv has 64 MACs per weight (an 8x8
// map): on AVX2 the exponent-add MAC costs 1.52x an FMA, so it gets
// decode-fma. The batch-1 matmul has one MAC per weight: bound by reading
// its codes either way, it stays multiplication-free. The default strategy
// is shift for both.
// CHECK-DAG: func.func private @__shift_conv2d_0({{.*}}strategy = "decode-fma"
// CHECK-DAG: func.func private @__shift_matmul_0({{.*}}strategy = "shift"
// DEFAULT-DAG: func.func private @__shift_conv2d_0({{.*}}strategy = "shift"
// DEFAULT-DAG: func.func private @__shift_matmul_0({{.*}}strategy = "shift"
func.func @layers(%x: tensor<1x2x8x8xf32>, %v: tensor<1x32xf32>) -> (tensor<1x4x8x8xf32>, tensor<1x16xf32>) {
  %c = arith.constant dense<1> : tensor<4x2x1x1xi8>
  %a = arith.constant dense<1.0> : tensor<4xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x2x8x8xf32>, tensor<4x2x1x1xi8>, tensor<4xf32> -> tensor<1x4x8x8xf32>
  %mc = arith.constant dense<2> : tensor<16x32xi8>
  %ma = arith.constant dense<0.5> : tensor<16xf32>
  %z = shift.matmul %v, %mc, %ma {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>} : tensor<1x32xf32>, tensor<16x32xi8>, tensor<16xf32> -> tensor<1x16xf32>
  return %y, %z : tensor<1x4x8x8xf32>, tensor<1x16xf32>
}
