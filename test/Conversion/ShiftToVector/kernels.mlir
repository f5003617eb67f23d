// RUN: denseshift-opt %s -shift-outline-kernels="target=x86-64-avx2" -convert-shift-to-linalg \
// RUN:   -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   -convert-shift-to-vector | FileCheck %s
// RUN: denseshift-opt %s -shift-outline-kernels="target=x86-64-avx2 mode=fast" -convert-shift-to-vector \
// RUN:   | FileCheck %s --check-prefix=FAST
// RUN: denseshift-opt %s -shift-outline-kernels="target=x86-64-avx2 strategy=decode-fma" -convert-shift-to-vector \
// RUN:   | FileCheck %s --check-prefix=FMA

// Each layer keeps its packed codes and alpha in constant globals: 54
// 3-bit convolution codes in 7 chunks of 8 (3 bytes each), plus 8 spare
// bytes.
// CHECK-DAG: memref.global "private" constant @__shift_conv2d_0_alpha : memref<3xf32> = dense<[5.000000e-01, 2.500000e-01, 1.000000e+00]>
// CHECK-DAG: memref.global "private" constant @__shift_conv2d_0_codes : memref<29xi8>
// CHECK-DAG: memref.global "private" constant @__shift_matmul_0_codes : memref<3x8xi8>

// FC (generated first): codes decoded in the inner loop from 4-bit nibbles
// [s_hi m_hi | s_lo m_lo]: a sign-extending load, then shifts and the
// 0x83800000 mask (sign bit and exponent bits 23..25) give the shift words;
// fan-in 5 and 3-bit codes let zeros through unguarded, so the sums are
// flushed below 2^-87. Kernels are named after the shape they serve.
// CHECK-LABEL: func.func private @__shift_matmul_2x16x3_r3_b3z_l8r4c2u_xadd(
// CHECK-DAG: %[[FIELDS:.*]] = arith.constant dense<-2088763392> : vector<8xi32>
// CHECK-DAG: %[[C19:.*]] = arith.constant dense<19> : vector<8xi32>
// CHECK: %[[BYTES:.*]] = vector.load {{.*}} : memref<3x8xi8>, vector<8xi8>
// CHECK: %[[WIDE:.*]] = arith.extsi %[[BYTES]] : vector<8xi8> to vector<8xi32>
// CHECK: %[[HI:.*]] = arith.shli %[[WIDE]], %[[C19]]
// CHECK: arith.andi %[[HI]], %[[FIELDS]]
// CHECK: arith.shrsi
// CHECK-NOT: arith.select {{.*}} : vector<8xi1>, vector<8xi32>
// CHECK: vector.reduction <add>
// CHECK: math.absf
// CHECK: arith.cmpf olt
// CHECK-LABEL: func.func private @__shift_matmul_{{.*}}_ieee(
// CHECK-LABEL: func.func private @__shift_matmul_{{.*}}_driver(
// CHECK-LABEL: func.func private @__shift_matmul_0(
// CHECK: memref.get_global @__shift_matmul_0_codes
// CHECK: call @__shift_matmul_{{.*}}_driver

// The unguarded exponent-add kernel: 8-lane loads of the padded activations
// (a 5x5 map: one vector per row, two output rows per block, so the output
// and input buffers gain a padded row)
// and one broadcast shift word per output channel; an integer add and a float
// add per MAC, no multiplication.
// CHECK-LABEL: func.func private @__shift_conv2d_{{.*}}_xadd(
// CHECK-SAME: memref<1x2x1x8x10xf32>, %arg1: memref<1x1x2x3x3x3xi32>, %arg2: memref<1x3x6x8xf32>
// CHECK-SAME: shift.no_inline
// CHECK: scf.for
// CHECK: vector.load {{.*}} : memref<1x2x1x8x10xf32>, vector<8xf32>
// CHECK: vector.broadcast {{.*}} : i32 to vector<8xi32>
// CHECK: arith.bitcast {{.*}} : vector<8xf32> to vector<8xi32>
// CHECK-NEXT: arith.addi {{.*}} : vector<8xi32>
// CHECK-NEXT: arith.bitcast {{.*}} : vector<8xi32> to vector<8xf32>
// CHECK-NEXT: arith.addf {{.*}} : vector<8xf32>
// CHECK-NOT: arith.mulf
// CHECK-NOT: vector.fma
// CHECK: math.absf {{.*}} : vector<8xf32>
// CHECK: arith.cmpf olt
// CHECK: arith.select
// CHECK: vector.store
// CHECK: return

// The IEEE fallback decodes f32 weights and multiplies, then adds.
// CHECK-LABEL: func.func private @__shift_conv2d_{{.*}}_ieee(
// CHECK: arith.mulf {{.*}} : vector<8xf32>
// CHECK-NEXT: arith.addf {{.*}} : vector<8xf32>

// The shared driver scans the activations (|x| >= 2^-63 = biased exponent
// 64, or 0, up to the layer's limit, an argument), then dispatches; each
// branch decodes the packed codes (an argument) into its own table only,
// 8 codes a step (one 8-byte load, broadcast, one vector shift): shift words
// (no float multiply) for the exponent add, alpha * s * 2^e (alpha gathered
// per row) for the fallback; 54 entries end in a partial chunk.
// CHECK-LABEL: func.func private @__shift_conv2d_{{.*}}_driver(
// CHECK-SAME: %arg2: memref<29xi8>, %arg3: memref<3xf32>, %[[LIMIT:.*]]: i32)
// Unit stride: the copy and the scan go by whole rows of 8 lanes (a masked
// load for the 5-wide tail), reduced once.
// CHECK: arith.constant dense<536870912> : vector<8xi32>
// CHECK: vector.maskedload {{.*}} : memref<1x2x5x5xf32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
// CHECK: vector.maskedstore
// CHECK: %[[LIMITS:.*]] = vector.broadcast %[[LIMIT]] : i32 to vector<8xi32>
// CHECK: arith.cmpi sle, %{{.*}}, %[[LIMITS]] : vector<8xi32>
// CHECK: %[[SAFE:.*]] = vector.reduction <and>, %{{.*}} : vector<8xi1> into i1
// CHECK: scf.if %[[SAFE]] {
// CHECK: %[[BYTES:.*]] = vector.load %arg2[%{{.*}}] : memref<29xi8>, vector<8xi8>
// CHECK: vector.bitcast %[[BYTES]] : vector<8xi8> to vector<1xi64>
// CHECK: arith.shrui %{{.*}} : vector<8xi64>
// CHECK-NOT: arith.mulf
// CHECK: vector.maskedstore %{{.*}} : memref<54xi32>, vector<8xi1>, vector<8xi32>
// CHECK-NOT: } else {
// CHECK: call @__shift_conv2d_{{.*}}_xadd
// CHECK-NEXT: } else {
// CHECK: vector.gather %arg3
// CHECK: arith.mulf
// CHECK: vector.maskedstore %{{.*}} : memref<54xf32>, vector<8xi1>, vector<8xf32>
// CHECK: call @__shift_conv2d_{{.*}}_ieee
// Alpha is applied only after the exponent-add kernel: the fallback's
// weights hold it already.
// CHECK: arith.select %[[SAFE]]
// CHECK: arith.mulf
// CHECK: memref.dealloc

// The layer passes its globals and its scan limit: no product may overflow,
// so the biased exponent is at most 254 - 3 - 1 (alpha reaches 2^0).
// CHECK-LABEL: func.func private @__shift_conv2d_0(
// CHECK-DAG: memref.get_global @__shift_conv2d_0_codes : memref<29xi8>
// CHECK-DAG: memref.get_global @__shift_conv2d_0_alpha : memref<3xf32>
// CHECK-DAG: arith.constant 2105540607 : i32
// CHECK: call @__shift_conv2d_{{.*}}_driver

// Fast mode trusts the activations: no fallback kernel, no dispatch.
// FAST-NOT: _ieee
// FAST-NOT: scf.if
// FAST: call @__shift_conv2d_{{.*}}_xadd

// The decode-fma strategy: FMA when the scan allows, IEEE fallback otherwise.
// FMA-NOT: _xadd
// FMA: func.func private @__shift_conv2d_{{.*}}_fma(
// FMA: vector.fma
// FMA: call @__shift_conv2d_{{.*}}_fma
// FMA: call @__shift_conv2d_{{.*}}_ieee

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
