// Layers share kernels and drivers only when their whole geometry agrees:
// these two differ in right padding alone, and so in output width, which
// the driver's epilogue writes.
// RUN: denseshift-opt %s --denseshift-pipeline=target=x86-64-avx2 | FileCheck %s
// CHECK-DAG: llvm.func internal @__shift_conv2d_{{.*}}p1x1x1x1_o6x6_{{.*}}_driver(
// CHECK-DAG: llvm.func internal @__shift_conv2d_{{.*}}p1x1x1x2_o6x7_{{.*}}_driver(
// CHECK-DAG: llvm.func internal @__shift_conv2d_{{.*}}p1x1x1x1_o6x6_{{.*}}_xadd(
// CHECK-DAG: llvm.func internal @__shift_conv2d_{{.*}}p1x1x1x2_o6x7_{{.*}}_xadd(
func.func @forward(%x: tensor<1x2x6x6xf32>) -> (tensor<1x2x6x6xf32>, tensor<1x2x6x7xf32>) {
  %z = arith.constant 0.0 : f32
  %w = arith.constant dense<1.0> : tensor<2x2x3x3xf32>
  %p1 = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] { ^bb0(%a: index, %b: index, %c: index, %d: index): tensor.yield %z : f32 } : tensor<1x2x6x6xf32> to tensor<1x2x8x8xf32>
  %p2 = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 2] { ^bb0(%a: index, %b: index, %c: index, %d: index): tensor.yield %z : f32 } : tensor<1x2x6x6xf32> to tensor<1x2x8x9xf32>
  %e1 = tensor.empty() : tensor<1x2x6x6xf32>
  %i1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
  %e2 = tensor.empty() : tensor<1x2x6x7xf32>
  %i2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<1x2x6x7xf32>) -> tensor<1x2x6x7xf32>
  %y1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%p1, %w : tensor<1x2x8x8xf32>, tensor<2x2x3x3xf32>) outs(%i1 : tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
  %y2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%p2, %w : tensor<1x2x8x9xf32>, tensor<2x2x3x3xf32>) outs(%i2 : tensor<1x2x6x7xf32>) -> tensor<1x2x6x7xf32>
  return %y1, %y2 : tensor<1x2x6x6xf32>, tensor<1x2x6x7xf32>
}
