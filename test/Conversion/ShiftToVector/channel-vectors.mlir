// RUN: denseshift-opt %s -split-input-file -shift-outline-kernels="target=x86-64-avx2" \
// RUN:   -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   -convert-shift-to-vector | FileCheck %s

// A 7x7 map: 8-lane vectors along the width would leave a lane of 8 idle
// and pad 7 rows to 8, so the kernel vectorizes the output channels: a
// block is 8 channels (one vector of table entries, 20 filters padded to
// 24 = 3 blocks) x 7 pixels (49 = 7 x 7, no padded pixel), each pixel an
// activation broadcast. The output is [n, block, pixel, channel].
// CHECK-LABEL: func.func private @__shift_conv2d_n1c8h7w7_f20g1k3x3_s1x1d1x1p1x1x1x1_o7x7_v8r8c1h1_cv7_l8r4c2u_xadd(
// CHECK-SAME: memref<1x8x1x9x9xf32>, %{{.*}}: memref<1x3x8x3x3x8xi32>, %{{.*}}: memref<1x3x49x8xf32>)
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: vector.load %{{.*}} : memref<1x3x8x3x3x8xi32>, vector<8xi32>
// CHECK: %[[X:.*]] = memref.load %{{.*}} : memref<1x8x1x9x9xf32>
// CHECK: %[[XS:.*]] = vector.broadcast %[[X]] : f32 to vector<8xf32>
// CHECK: %[[BITS:.*]] = arith.bitcast %[[XS]] : vector<8xf32> to vector<8xi32>
// CHECK: arith.addi %[[BITS]]
// CHECK: vector.store %{{.*}} : memref<1x3x49x8xf32>, vector<8xf32>
// The driver's epilogue gathers each output row's 7 accumulators, 8 floats
// apart, from a flat view (lane 8 masked off) and stores NCHW rows.
// CHECK-LABEL: func.func private @__shift_conv2d_n1c8h7w7_{{.*}}_driver(
// CHECK: %[[STRIDES:.*]] = arith.constant dense<[0, 8, 16, 24, 32, 40, 48, 56]> : vector<8xi32>
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0, 1, 2, 3]] : memref<1x3x49x8xf32> into memref<1176xf32>
// CHECK: vector.gather %[[FLAT]][%{{.*}}] [%[[STRIDES]]], %{{.*}}, %{{.*}} : memref<1176xf32>, vector<8xi32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
// CHECK: vector.maskedstore %{{.*}} : memref<1x20x7x7xf32>, vector<8xi1>, vector<8xf32>
func.func @small_map(%x: tensor<1x8x7x7xf32>) -> tensor<1x20x7x7xf32> {
  %c = arith.constant dense<1> : tensor<20x8x3x3xi8>
  %a = arith.constant dense<1.0> : tensor<20xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x8x7x7xf32>, tensor<20x8x3x3xi8>, tensor<20xf32> -> tensor<1x20x7x7xf32>
  return %y : tensor<1x20x7x7xf32>
}

// -----

// A 1x1 convolution on a 14x14 map is a matrix product, 32 x 8 by 8 x 196:
// with no tap to share broadcasts, two channel vectors (16 channels) x 4
// pixels (196 = 49 x 4).
// CHECK-LABEL: func.func private @__shift_conv2d_n1c8h14w14_f32g1k1x1_s1x1d1x1p0x0x0x0_o14x14_v8r16c1h1_cv4_l8r4c2u_xadd(
// CHECK-SAME: %{{.*}}: memref<1x2x196x16xf32>)
func.func @pointwise(%x: tensor<1x8x14x14xf32>) -> tensor<1x32x14x14xf32> {
  %c = arith.constant dense<1> : tensor<32x8x1x1xi8>
  %a = arith.constant dense<1.0> : tensor<32xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x8x14x14xf32>, tensor<32x8x1x1xi8>, tensor<32xf32>  -> tensor<1x32x14x14xf32>
  return %y : tensor<1x32x14x14xf32>
}

// -----

// A 1x1 map (a deep layer of a 28x28 input): one pixel, so the whole
// accumulator budget goes to channel vectors: 8 x 8 = 64 channels a block.
// CHECK-LABEL: func.func private @__shift_conv2d_n1c16h1w1_f64g1k1x1_{{.*}}_v8r64c1h1_cv1_l8r4c2u_xadd(
func.func @one_pixel(%x: tensor<1x16x1x1xf32>) -> tensor<1x64x1x1xf32> {
  %c = arith.constant dense<1> : tensor<64x16x1x1xi8>
  %a = arith.constant dense<1.0> : tensor<64xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x16x1x1xf32>, tensor<64x16x1x1xi8>, tensor<64xf32>  -> tensor<1x64x1x1xf32>
  return %y : tensor<1x64x1x1xf32>
}

// -----

// Wide maps keep the width vectors (56 pixels fill 8-lane vectors), and so
// do depthwise convolutions (one channel per group: nothing to vectorize
// across).
// CHECK-LABEL: func.func private @__shift_conv2d_n1c16h7w7_f16g16k3x3_s1x1d1x1p1x1x1x1_o7x7_v8r1c1h7_l8r4c2u_xadd(
// CHECK-LABEL: func.func private @__shift_conv2d_n1c8h4w56_f8g1k3x3_s1x1d1x1p1x1x1x1_o4x56_v8r4c2h1_l8r4c2u_xadd(
func.func @wide_and_depthwise(%x: tensor<1x8x4x56xf32>, %d: tensor<1x16x7x7xf32>) -> (tensor<1x8x4x56xf32>, tensor<1x16x7x7xf32>) {
  %c = arith.constant dense<1> : tensor<8x8x3x3xi8>
  %a = arith.constant dense<1.0> : tensor<8xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x8x4x56xf32>, tensor<8x8x3x3xi8>, tensor<8xf32> -> tensor<1x8x4x56xf32>
  %cd = arith.constant dense<1> : tensor<16x1x3x3xi8>
  %ad = arith.constant dense<1.0> : tensor<16xf32>
  %z = shift.conv2d %d, %cd, %ad {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, groups = 16 : i64} : tensor<1x16x7x7xf32>, tensor<16x1x3x3xi8>, tensor<16xf32> -> tensor<1x16x7x7xf32>
  return %y, %z : tensor<1x8x4x56xf32>, tensor<1x16x7x7xf32>
}
