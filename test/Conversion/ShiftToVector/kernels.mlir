// RUN: denseshift-opt %s -shift-outline-kernels="target=x86-64-avx2" -convert-shift-to-linalg \
// RUN:   -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   -convert-shift-to-vector | FileCheck %s
// RUN: denseshift-opt %s -shift-outline-kernels="target=x86-64-avx2 mode=fast" -convert-shift-to-vector \
// RUN:   | FileCheck %s --check-prefix=FAST
// RUN: denseshift-opt %s -shift-outline-kernels="target=x86-64-avx2 strategy=decode-fma" -convert-shift-to-vector \
// RUN:   | FileCheck %s --check-prefix=FMA

// FC (generated first): codes decoded in the inner loop from 4-bit nibbles.
// CHECK-LABEL: func.func private @__shift_matmul_0_xadd(
// CHECK: vector.load {{.*}} : memref<3x8xi8>, vector<8xi8>
// CHECK: arith.extui {{.*}} : vector<8xi8> to vector<8xi32>
// CHECK: arith.shrui
// CHECK: vector.reduction <add>

// The exponent-add kernel: 8-lane loads of the padded activations and one
// broadcast shift word per output channel, lowered to an integer add that
// skips +-0, then a float add. No multiplication.
// CHECK-LABEL: func.func private @__shift_conv2d_0_xadd(
// CHECK-SAME: memref<1x2x1x7x10xf32>, %arg1: memref<1x1x2x3x3x3xi32>, %arg2: memref<1x3x5x8xf32>
// CHECK-SAME: shift.no_inline
// CHECK: scf.for
// CHECK: vector.load {{.*}} : memref<1x2x1x7x10xf32>, vector<8xf32>
// CHECK: vector.broadcast {{.*}} : i32 to vector<8xi32>
// CHECK: arith.bitcast {{.*}} : vector<8xf32> to vector<8xi32>
// CHECK: arith.andi {{.*}} : vector<8xi32>
// CHECK: arith.cmpi eq
// CHECK: arith.select
// CHECK: arith.addi {{.*}} : vector<8xi32>
// CHECK: arith.addf {{.*}} : vector<8xf32>
// CHECK-NOT: arith.mulf
// CHECK-NOT: vector.fma
// CHECK: return

// The IEEE-exact kernel decodes f32 weights and uses FMA.
// CHECK-LABEL: func.func private @__shift_conv2d_0_fma(
// CHECK: vector.fma {{.*}} : vector<8xf32>

// The driver scans the activations, decodes the 4-bit packed codes and
// dispatches on the scan.
// CHECK-LABEL: func.func private @__shift_conv2d_0(
// CHECK: memref.get_global @__shift_conv2d_0_codes : memref<27xi8>
// CHECK: scf.if %{{.*}} {
// CHECK-NEXT: call @__shift_conv2d_0_xadd
// CHECK: } else {
// CHECK-NEXT: call @__shift_conv2d_0_fma
// CHECK: memref.get_global @__shift_conv2d_0_alpha
// CHECK: arith.mulf
// CHECK: memref.dealloc

// Fast mode trusts the activations: no FMA kernel, no dispatch.
// FAST-NOT: _fma
// FAST-NOT: scf.if
// FAST: call @__shift_conv2d_0_xadd

// The decode-fma strategy has no exponent-add kernel.
// FMA-NOT: _xadd
// FMA: call @__shift_conv2d_0_fma

func.func @conv(%x: tensor<1x2x5x5xf32>) -> tensor<1x3x5x5xf32> {
  %c = arith.constant dense<2> : tensor<3x2x3x3xi8>
  %a = arith.constant dense<[1.0, 0.5, 2.0]> : tensor<3xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = -1>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x2x5x5xf32>, tensor<3x2x3x3xi8>, tensor<3xf32> -> tensor<1x3x5x5xf32>
  return %y : tensor<1x3x5x5xf32>
}

func.func @fc(%x: tensor<2x5xf32>) -> tensor<2x3xf32> {
  %c = arith.constant dense<[[1, -2, 3, -4, 1], [2, 2, 2, 2, 2], [-1, -1, 4, 4, 1]]> : tensor<3x5xi8>
  %a = arith.constant dense<1.0> : tensor<3xf32>
  %y = shift.matmul %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>} : tensor<2x5xf32>, tensor<3x5xi8>, tensor<3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
