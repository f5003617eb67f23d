// RUN: denseshift-opt %s -split-input-file -shift-outline-kernels="target=x86-64-avx2" | FileCheck %s
// RUN: denseshift-opt %s -split-input-file -shift-outline-kernels="target=x86-64-avx2" -canonicalize | FileCheck %s --check-prefix=CANON

// An NHWC shift conv calls the NCHW kernel between two transposes; the codes
// are permuted from KH x KW x C x F to F x C x KH x KW at compile time
// (code (kw, f) = 3 * kw + f + 1 here, so F-major order reads 1 4, 2 5, 3 6),
// and the bias (on dimension 3) and the ReLU are absorbed as in NCHW.
// CHECK-LABEL: func.func @nhwc_bias_relu
// CHECK: %[[IN:.*]] = linalg.transpose ins(%{{.*}} : tensor<1x4x5x1xf32>) outs(%{{.*}} : tensor<1x1x4x5xf32>) permutation = [0, 3, 1, 2]
// CHECK: %[[INBUF:.*]] = bufferization.to_buffer %[[IN]]
// CHECK: call @__shift_conv2d_0(%[[INBUF]], %{{.*}}) : (memref<1x1x4x5xf32>, memref<1x3x4x4xf32>) -> ()
// CHECK: %[[OUT:.*]] = bufferization.to_tensor
// CHECK: %[[Y:.*]] = linalg.transpose ins(%[[OUT]] : tensor<1x3x4x4xf32>) outs(%{{.*}} : tensor<1x4x4x3xf32>) permutation = [0, 2, 3, 1]
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]] : tensor<1x4x4x3xf32>
// CHECK: func.func private @__shift_conv2d_0
// CHECK-SAME: codes = dense<{{\[\[\[\[}}1, 4]]], {{\[\[\[}}2, 5]]], {{\[\[\[}}3, 6]]]]> : tensor<3x1x1x2xi8>
// CHECK-SAME: bias = dense<[5.000000e-01, -2.500000e-01, 1.000000e+00]> : tensor<3xf32>
// CHECK-SAME: clamp = [0.000000e+00, INF]>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d3)>
func.func @nhwc_bias_relu(%x: tensor<1x4x5x1xf32>) -> tensor<1x4x4x3xf32> {
  %c = arith.constant dense<[[[[1, 2, 3]], [[4, 5, 6]]]]> : tensor<1x2x1x3xi8>
  %a = arith.constant dense<1.0> : tensor<3xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 4, zero_free = true, emin = 0>, layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x4x5x1xf32>, tensor<1x2x1x3xi8>, tensor<3xf32> -> tensor<1x4x4x3xf32>
  %b = arith.constant dense<[0.5, -0.25, 1.0]> : tensor<3xf32>
  %e = tensor.empty() : tensor<1x4x4x3xf32>
  %yb = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y, %b : tensor<1x4x4x3xf32>, tensor<3xf32>) outs(%e : tensor<1x4x4x3xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<1x4x4x3xf32>
  %ya = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%yb : tensor<1x4x4x3xf32>) outs(%e : tensor<1x4x4x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %zero = arith.constant 0.0 : f32
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x3xf32>
  return %ya : tensor<1x4x4x3xf32>
}

// -----

// A bias on the NCHW channel dimension (d1) of an NHWC result is not a
// per-channel bias: it stays a separate op.
// CHECK-LABEL: func.func @nhwc_wrong_bias_dim
// CHECK: call @__shift_conv2d_0
// CHECK: linalg.generic
// CHECK: func.func private @__shift_conv2d_0
// CHECK-NOT: bias =
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#d1 = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @nhwc_wrong_bias_dim(%x: tensor<1x3x3x2xf32>) -> tensor<1x3x3x3xf32> {
  %c = arith.constant dense<1> : tensor<1x1x2x3xi8>
  %a = arith.constant dense<1.0> : tensor<3xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x3x3x2xf32>, tensor<1x1x2x3xi8>, tensor<3xf32> -> tensor<1x3x3x3xf32>
  %b = arith.constant dense<[0.5, -0.25, 1.0]> : tensor<3xf32>
  %e = tensor.empty() : tensor<1x3x3x3xf32>
  %yb = linalg.generic {indexing_maps = [#id, #d1, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y, %b : tensor<1x3x3x3xf32>, tensor<3xf32>) outs(%e : tensor<1x3x3x3xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<1x3x3x3xf32>
  return %yb : tensor<1x3x3x3xf32>
}

// -----

// Two NHWC layers back to back: after canonicalization the transposes
// between them are gone (the second kernel reads the first one's NCHW
// output), one transpose is left at each end.
// CANON-LABEL: func.func @nhwc_chain
// CANON: linalg.transpose {{.*}} permutation = [0, 3, 1, 2]
// CANON-NOT: linalg.transpose
// CANON: call @__shift_conv2d_0
// CANON-NOT: linalg.transpose
// CANON: call @__shift_conv2d_0
// CANON: linalg.transpose {{.*}} permutation = [0, 2, 3, 1]
// CANON-NOT: linalg.transpose
// CANON: return
func.func @nhwc_chain(%x: tensor<1x6x6x2xf32>) -> tensor<1x6x6x2xf32> {
  %c = arith.constant dense<1> : tensor<1x1x2x2xi8>
  %a = arith.constant dense<1.0> : tensor<2xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x6x6x2xf32>, tensor<1x1x2x2xi8>, tensor<2xf32> -> tensor<1x6x6x2xf32>
  %z = shift.conv2d %y, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x6x6x2xf32>, tensor<1x1x2x2xi8>, tensor<2xf32> -> tensor<1x6x6x2xf32>
  return %z : tensor<1x6x6x2xf32>
}

// -----

// A depthwise NHWC shift conv (groups = C, codes KH x KW x 1 x C) takes the
// same route: codes C x 1 x KH x KW, groups kept.
// CHECK-LABEL: func.func @nhwc_depthwise
// CHECK: linalg.transpose {{.*}} permutation = [0, 3, 1, 2]
// CHECK: call @__shift_conv2d_0
// CHECK: linalg.transpose {{.*}} permutation = [0, 2, 3, 1]
// CHECK: func.func private @__shift_conv2d_0
// CHECK-SAME: codes = dense<{{\[\[\[\[}}1, 3]]], {{\[\[\[}}2, 4]]]]> : tensor<2x1x1x2xi8>
// CHECK-SAME: strides = [2, 1], dilations = [1, 1], padding = [1, 0, 1, 1], groups = 2
func.func @nhwc_depthwise(%x: tensor<1x5x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %c = arith.constant dense<[[[[1, 2]], [[3, 4]]]]> : tensor<1x2x1x2xi8>
  %a = arith.constant dense<1.0> : tensor<2xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 4, zero_free = true, emin = 0>, layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 2, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 1, 0, 1, 1>, groups = 2 : i64} : tensor<1x5x4x2xf32>, tensor<1x2x1x2xi8>, tensor<2xf32> -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

// -----

// An f32 NHWC conv (a layer kept in float): the zero pad on H and W is
// folded into the kernel's padding and the HWCF filter permuted to FCHW
// (w[kh][kw][c][f] = f + 1 + 10 * c, so F-major order reads 1 11, 2 12).
// CHECK-LABEL: func.func @float_nhwc
// CHECK-NOT: tensor.pad
// CHECK-NOT: linalg.conv_2d_nhwc_hwcf
// CHECK: linalg.transpose ins(%{{.*}} : tensor<1x3x3x2xf32>) {{.*}} permutation = [0, 3, 1, 2]
// CHECK: call @__shift_conv2d_0(%{{.*}}, %{{.*}}) : (memref<1x2x3x3xf32>, memref<1x2x5x5xf32>) -> ()
// CHECK: linalg.transpose {{.*}} permutation = [0, 2, 3, 1]
// CHECK: func.func private @__shift_conv2d_0
// CHECK-SAME: weights = dense<{{\[\[\[\[}}1.000000e+00]], {{\[\[}}1.100000e+01]]], {{\[\[\[}}2.000000e+00]], {{\[\[}}1.200000e+01]]]]> : tensor<2x2x1x1xf32>
// CHECK-SAME: padding = [1, 1, 1, 1]
func.func @float_nhwc(%x: tensor<1x3x3x2xf32>) -> tensor<1x5x5x2xf32> {
  %zero = arith.constant 0.0 : f32
  %padded = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x3x3x2xf32> to tensor<1x5x5x2xf32>
  %w = arith.constant dense<[[[[1.0, 2.0], [11.0, 12.0]]]]> : tensor<1x1x2x2xf32>
  %e = tensor.empty() : tensor<1x5x5x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x5x5x2xf32>) -> tensor<1x5x5x2xf32>
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%padded, %w : tensor<1x5x5x2xf32>, tensor<1x1x2x2xf32>) outs(%init : tensor<1x5x5x2xf32>) -> tensor<1x5x5x2xf32>
  return %y : tensor<1x5x5x2xf32>
}
