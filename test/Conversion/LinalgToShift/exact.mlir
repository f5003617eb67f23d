// RUN: denseshift-opt %s -shift-from-linalg -split-input-file | FileCheck %s

// Weights 0.25 * {8, -2, 1}: one mantissa per channel, exponents spanning 4
// codes, so exact mode picks 3-bit zero-free codes and alpha = |w|max / 8.
// CHECK-LABEL: func.func @matmul_exact
// CHECK-DAG: %[[CODES:.*]] = arith.constant dense<{{\[}}[4, 3, -1], [-1, 4, 2]]> : tensor<2x3xi8>
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant dense<[2.500000e-01, 5.000000e-01]> : tensor<2xf32>
// CHECK: shift.matmul %{{.*}}, %[[CODES]], %[[ALPHA]] {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
// CHECK-NOT: linalg.matmul
func.func @matmul_exact(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[2.0, -0.5], [1.0, 4.0], [-0.25, 1.0]]> : tensor<3x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x2xf32>) outs(%i : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// The transposed-weight form (weights N x K, as torch.nn.Linear stores them).
// CHECK-LABEL: func.func @matmul_transposed
// CHECK: arith.constant dense<{{\[}}[2, 1], [-1, 2]]> : tensor<2x2xi8>
// CHECK: shift.matmul {{.*}}bits = 2, zero_free = true
#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
func.func @matmul_transposed(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[2.0, 1.0], [-1.0, 2.0]]> : tensor<2x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%x, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%i : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A zero-padded NCHW convolution: the pad folds into `padding`.
// CHECK-LABEL: func.func @conv_padded
// CHECK-NOT: tensor.pad
// CHECK: shift.conv2d %arg0, {{.*}}layout = #shift.layout<nchw_fchw>, padding = array<i64: 1, 2, 1, 2>, strides = array<i64: 2, 1>
func.func @conv_padded(%x: tensor<1x2x5x5xf32>) -> tensor<1x3x3x7xf32> {
  %w = arith.constant dense<-3.0> : tensor<3x2x3x3xf32>
  %z = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 2] high[0, 0, 1, 2] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %z : f32
  } : tensor<1x2x5x5xf32> to tensor<1x2x7x9xf32>
  %e = tensor.empty() : tensor<1x3x3x7xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x3x3x7xf32>) -> tensor<1x3x3x7xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<[2, 1]> : tensor<2xi64>}
      ins(%p, %w : tensor<1x2x7x9xf32>, tensor<3x2x3x3xf32>) outs(%i : tensor<1x3x3x7xf32>) -> tensor<1x3x3x7xf32>
  return %y : tensor<1x3x3x7xf32>
}

// -----

// Depthwise: groups = channels, codes C x 1 x KH x KW.
// CHECK-LABEL: func.func @depthwise
// CHECK: shift.conv2d {{.*}}groups = 3 : i64{{.*}} : tensor<1x3x6x6xf32>, tensor<3x1x3x3xi8>, tensor<3xf32> -> tensor<1x3x4x4xf32>
func.func @depthwise(%x: tensor<1x3x6x6xf32>) -> tensor<1x3x4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<3x3x3xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x3x4x4xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %y = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<1x3x6x6xf32>, tensor<3x3x3xf32>) outs(%i : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}

// -----

// Zero weights select the with-zero format; one exponent fits 2 bits.
// CHECK-LABEL: func.func @with_zero
// CHECK: arith.constant dense<{{\[}}[1, 0]]> : tensor<1x2xi8>
// CHECK: shift.matmul {{.*}}bits = 2, zero_free = false
func.func @with_zero(%x: tensor<1x2xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[4.0], [0.0]]> : tensor<2x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x2xf32>, tensor<2x1xf32>) outs(%i : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// Grouped, fgchw weights (F/G x G x C/G x KH x KW): output channel g*F/G + f
// takes w[f][g]. Group 0's filters are 1 and 2, group 1's are 4 and 8; one
// weight per channel is code 2 (the top of 2 bits) with alpha = w / 2, so
// alpha shows the channel order.
// CHECK-LABEL: func.func @grouped_fgchw
// CHECK: arith.constant dense<2> : tensor<4x1x1x1xi8>
// CHECK: arith.constant dense<[5.000000e-01, 1.000000e+00, 2.000000e+00, 4.000000e+00]> : tensor<4xf32>
// CHECK: shift.conv2d %arg0, {{.*}}groups = 2 : i64{{.*}} -> tensor<1x4x3x3xf32>
// CHECK-NOT: linalg.conv
func.func @grouped_fgchw(%x: tensor<1x2x3x3xf32>) -> tensor<1x4x3x3xf32> {
  %w = arith.constant dense<[[[[[1.0]]], [[[4.0]]]], [[[[2.0]]], [[[8.0]]]]]> : tensor<2x2x1x1x1xf32>
  %z = arith.constant 0.0 : f32
  %xg = tensor.expand_shape %x [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 3, 3] : tensor<1x2x3x3xf32> into tensor<1x2x1x3x3xf32>
  %e = tensor.empty() : tensor<1x2x2x3x3xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x2x2x3x3xf32>) -> tensor<1x2x2x3x3xf32>
  %yg = linalg.conv_2d_ngchw_fgchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%xg, %w : tensor<1x2x1x3x3xf32>, tensor<2x2x1x1x1xf32>) outs(%i : tensor<1x2x2x3x3xf32>) -> tensor<1x2x2x3x3xf32>
  %y = tensor.collapse_shape %yg [[0], [1, 2], [3], [4]] : tensor<1x2x2x3x3xf32> into tensor<1x4x3x3xf32>
  return %y : tensor<1x4x3x3xf32>
}

// -----

// Grouped, gfchw weights (G x F/G x ...): already in shift order.
// CHECK-LABEL: func.func @grouped_gfchw
// CHECK: arith.constant dense<[5.000000e-01, 1.000000e+00, 2.000000e+00, 4.000000e+00]> : tensor<4xf32>
// CHECK: shift.conv2d %arg0, {{.*}}groups = 2 : i64
func.func @grouped_gfchw(%x: tensor<1x2x3x3xf32>) -> tensor<1x4x3x3xf32> {
  %w = arith.constant dense<[[[[[1.0]]], [[[2.0]]]], [[[[4.0]]], [[[8.0]]]]]> : tensor<2x2x1x1x1xf32>
  %z = arith.constant 0.0 : f32
  %xg = tensor.expand_shape %x [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 3, 3] : tensor<1x2x3x3xf32> into tensor<1x2x1x3x3xf32>
  %e = tensor.empty() : tensor<1x2x2x3x3xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x2x2x3x3xf32>) -> tensor<1x2x2x3x3xf32>
  %yg = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%xg, %w : tensor<1x2x1x3x3xf32>, tensor<2x2x1x1x1xf32>) outs(%i : tensor<1x2x2x3x3xf32>) -> tensor<1x2x2x3x3xf32>
  %y = tensor.collapse_shape %yg [[0], [1, 2], [3], [4]] : tensor<1x2x2x3x3xf32> into tensor<1x4x3x3xf32>
  return %y : tensor<1x4x3x3xf32>
}
