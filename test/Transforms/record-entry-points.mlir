// RUN: denseshift-opt %s -shift-record-entry-points -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @forward
// CHECK-SAME: denseshift.c_prototype = "/* input: f32[1][1][28][28], output: f32[1][10] */\0Avoid forward(const float *input, float *output);"
func.func @forward(%x: tensor<1x1x28x28xf32>) -> tensor<1x10xf32> {
  %e = tensor.empty() : tensor<1x10xf32>
  return %e : tensor<1x10xf32>
}

// Private helpers have no C ABI to record.
// CHECK-LABEL: func.func private @helper
// CHECK-NOT: c_prototype
func.func private @helper(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}

// -----

// Several inputs and outputs are numbered.
// CHECK-LABEL: func.func @two
// CHECK-SAME: "/* input0: f32[2], input1: f32[3], output0: f32[2], output1: f32[3] */\0Avoid two(const float *input0, const float *input1, float *output0, float *output1);"
func.func @two(%a: tensor<2xf32>, %b: tensor<3xf32>) -> (tensor<2xf32>, tensor<3xf32>) {
  return %a, %b : tensor<2xf32>, tensor<3xf32>
}

// -----

// expected-error @below {{public function 'dynamic' has a parameter of type 'tensor<?xf32>'; entry points take and return static f32 tensors}}
func.func @dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}

// -----

// expected-error @below {{public function 'ints' has a result of type 'tensor<4xi32>'}}
func.func @ints(%x: tensor<4xf32>) -> tensor<4xi32> {
  %e = tensor.empty() : tensor<4xi32>
  return %e : tensor<4xi32>
}
