// RUN: denseshift-opt %s -shift-outline-kernels="target=x86-64-avx2" -split-input-file | FileCheck %s

// A bias add and a ReLU6 that only consume the conv are absorbed into the
// kernel description: the call replaces the clamp, both generics are gone.
// CHECK-LABEL: func.func @conv_bias_relu6
// CHECK-NOT: linalg.generic
// CHECK: %[[OUT:.*]] = memref.alloc
// CHECK: call @__shift_conv2d_0(%{{.*}}, %[[OUT]])
// CHECK-NOT: linalg.generic
// CHECK: return
// CHECK: func.func private @__shift_conv2d_0
// CHECK-SAME: bias = dense<[5.000000e-01, -2.500000e-01]> : tensor<2xf32>
// CHECK-SAME: clamp = [0.000000e+00, 6.000000e+00]>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @conv_bias_relu6(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %c = arith.constant dense<1> : tensor<2x1x1x1xi8>
  %a = arith.constant dense<1.0> : tensor<2xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x1x4x4xf32>, tensor<2x1x1x1xi8>, tensor<2xf32> -> tensor<1x2x4x4xf32>
  %b = arith.constant dense<[0.5, -0.25]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %yb = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y, %b : tensor<1x2x4x4xf32>, tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4x4xf32>
  %ya = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%yb : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %zero = arith.constant 0.0 : f32
    %six = arith.constant 6.0 : f32
    %m = arith.maximumf %in, %zero : f32
    %r = arith.minimumf %m, %six : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  return %ya : tensor<1x2x4x4xf32>
}

// -----

// The conv's result is also returned: its bias add cannot be absorbed (the
// unbiased value is still needed), so nothing is.
// CHECK-LABEL: func.func @conv_two_users
// CHECK: call @__shift_conv2d_0
// CHECK: linalg.generic
// CHECK: func.func private @__shift_conv2d_0
// CHECK-NOT: bias =
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @conv_two_users(%x: tensor<1x1x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %c = arith.constant dense<1> : tensor<2x1x1x1xi8>
  %a = arith.constant dense<1.0> : tensor<2xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x1x4x4xf32>, tensor<2x1x1x1xi8>, tensor<2xf32> -> tensor<1x2x4x4xf32>
  %b = arith.constant dense<[0.5, -0.25]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %yb = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y, %b : tensor<1x2x4x4xf32>, tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4x4xf32>
  return %y, %yb : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// A generic that multiplies is not a bias add: left alone.
// CHECK-LABEL: func.func @conv_scale
// CHECK: call @__shift_conv2d_0
// CHECK: linalg.generic
// CHECK: arith.mulf
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @conv_scale(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %c = arith.constant dense<1> : tensor<2x1x1x1xi8>
  %a = arith.constant dense<1.0> : tensor<2xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x1x4x4xf32>, tensor<2x1x1x1xi8>, tensor<2xf32> -> tensor<1x2x4x4xf32>
  %b = arith.constant dense<[0.5, -0.25]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %yb = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y, %b : tensor<1x2x4x4xf32>, tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.mulf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4x4xf32>
  return %yb : tensor<1x2x4x4xf32>
}

// -----

// A ResNet block's tail: bias, the shortcut add (named linalg.add, the conv
// result either operand) and ReLU are absorbed; the shortcut becomes the
// layer's third argument.
// CHECK-LABEL: func.func @conv_bias_shortcut_relu(
// CHECK-SAME: %[[X:[^:]*]]: tensor<1x2x4x4xf32>, %[[S:[^:]*]]: tensor<1x2x4x4xf32>)
// CHECK-NOT: linalg.
// CHECK: %[[OUT:.*]] = memref.alloc
// CHECK: %[[SB:.*]] = bufferization.to_buffer %[[S]] read_only
// CHECK: call @__shift_conv2d_0(%{{.*}}, %[[OUT]], %[[SB]]) : (memref<1x2x4x4xf32>, memref<1x2x4x4xf32>, memref<1x2x4x4xf32>) -> ()
// CHECK-NOT: linalg.
// CHECK: func.func private @__shift_conv2d_0(memref<1x2x4x4xf32>, memref<1x2x4x4xf32>, memref<1x2x4x4xf32>)
// CHECK-SAME: residual
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @conv_bias_shortcut_relu(%x: tensor<1x2x4x4xf32>, %s: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %c = arith.constant dense<1> : tensor<2x2x1x1xi8>
  %a = arith.constant dense<1.0> : tensor<2xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x2x4x4xf32>, tensor<2x2x1x1xi8>, tensor<2xf32> -> tensor<1x2x4x4xf32>
  %b = arith.constant dense<[0.5, -0.25]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %yb = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y, %b : tensor<1x2x4x4xf32>, tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %t = arith.addf %in, %bias : f32
    linalg.yield %t : f32
  } -> tensor<1x2x4x4xf32>
  %sum = linalg.add ins(%s, %yb : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %ya = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sum : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %zero = arith.constant 0.0 : f32
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x4xf32>
  return %ya : tensor<1x2x4x4xf32>
}

// -----

// An add of the conv result to itself is not a shortcut; an add whose other
// operand has another shape (broadcast) neither: nothing past the conv is
// absorbed.
// CHECK-LABEL: func.func @conv_self_add
// CHECK: call @__shift_conv2d_0(%{{.*}}, %{{.*}}) :
// CHECK: linalg.add
// CHECK: func.func private @__shift_conv2d_0
// CHECK-NOT: residual
func.func @conv_self_add(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %c = arith.constant dense<1> : tensor<2x2x1x1xi8>
  %a = arith.constant dense<1.0> : tensor<2xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x2x4x4xf32>, tensor<2x2x1x1xi8>, tensor<2xf32> -> tensor<1x2x4x4xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %sum = linalg.add ins(%y, %y : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %sum : tensor<1x2x4x4xf32>
}
