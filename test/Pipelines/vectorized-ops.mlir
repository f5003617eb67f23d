// RUN: denseshift-opt %s -split-input-file -verify-diagnostics -denseshift-pipeline=report-scalar-loops=true -o /dev/null
// RUN: denseshift-opt %s -split-input-file -denseshift-pipeline --mlir-print-ir-before=convert-linalg-to-loops -o /dev/null 2>&1 | FileCheck %s

// What a ResNet has around its convs (a max pool of a padded map, a
// residual add and ReLU, global average pooling) and a transformer's
// softmax: none is left for scalar loops (no remark), and the add and the
// ReLU are one vector loop.
// CHECK-LABEL: func.func private @__shift_forward_body(
// CHECK-NOT: linalg.
// CHECK: arith.addf %{{.*}}, %{{.*}} : vector<32xf32>
// CHECK-NEXT: arith.maximumf %{{.*}}, %{{.*}} : vector<32xf32>
// CHECK-NOT: linalg.
// CHECK: return
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @forward(%x: tensor<1x8x16x16xf32>) -> tensor<1x8x1x1xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %ninf : f32
  } : tensor<1x8x16x16xf32> to tensor<1x8x18x18xf32>
  %w = tensor.empty() : tensor<3x3xf32>
  %e = tensor.empty() : tensor<1x8x8x8xf32>
  %init = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %m = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%p, %w : tensor<1x8x18x18xf32>, tensor<3x3xf32>) outs(%init : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %e1 = tensor.empty() : tensor<1x8x8x8xf32>
  %s = linalg.add ins(%m, %m : tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>) outs(%e1 : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %e2 = tensor.empty() : tensor<1x8x8x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x8x8x8xf32>) outs(%e2 : tensor<1x8x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.maximumf %in, %zero : f32
    linalg.yield %v : f32
  } -> tensor<1x8x8x8xf32>
  %g = tensor.empty() : tensor<8x8xf32>
  %e3 = tensor.empty() : tensor<1x8x1x1xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x8x1x1xf32>) -> tensor<1x8x1x1xf32>
  %sum = linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%r, %g : tensor<1x8x8x8xf32>, tensor<8x8xf32>) outs(%z : tensor<1x8x1x1xf32>) -> tensor<1x8x1x1xf32>
  return %sum : tensor<1x8x1x1xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @softmax(%x: tensor<4x100xf32>) -> tensor<4x100xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %i = linalg.fill ins(%ninf : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %max = linalg.generic {indexing_maps = [#id2, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x100xf32>) outs(%i : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  %e1 = tensor.empty() : tensor<4x100xf32>
  %ex = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %max : tensor<4x100xf32>, tensor<4xf32>) outs(%e1 : tensor<4x100xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %d = arith.subf %in, %m : f32
    %v = math.exp %d : f32
    linalg.yield %v : f32
  } -> tensor<4x100xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %sum = linalg.generic {indexing_maps = [#id2, #row], iterator_types = ["parallel", "reduction"]}
      ins(%ex : tensor<4x100xf32>) outs(%z : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<4xf32>
  %y = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%ex, %sum : tensor<4x100xf32>, tensor<4xf32>) outs(%e1 : tensor<4x100xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %q = arith.divf %in, %s : f32
    linalg.yield %q : f32
  } -> tensor<4x100xf32>
  return %y : tensor<4x100xf32>
}

// -----

// An op with no vector path is named (here a 3-D convolution).
func.func @conv3d(%x: tensor<1x2x4x4x4xf32>, %w: tensor<3x2x3x3x3xf32>) -> tensor<1x3x2x2x2xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x3x2x2x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x3x2x2x2xf32>) -> tensor<1x3x2x2x2xf32>
  // expected-remark @below {{'linalg.conv_3d_ncdhw_fcdhw' in @__shift_conv3d_body is lowered to scalar loops}}
  %y = linalg.conv_3d_ncdhw_fcdhw ins(%x, %w : tensor<1x2x4x4x4xf32>, tensor<3x2x3x3x3xf32>) outs(%z : tensor<1x3x2x2x2xf32>) -> tensor<1x3x2x2x2xf32>
  return %y : tensor<1x3x2x2x2xf32>
}
