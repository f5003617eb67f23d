// RUN: denseshift-opt %s -split-input-file -convert-shift-to-vector -verify-diagnostics

// Hand-written kernel declarations the generator cannot serve get a located
// error, not a crash: the description must be a #shift.kernel (which
// verified itself when parsed) and must fit the declaration's signature.

module {
  // expected-error @below {{'shift.kernel' must be a #shift.kernel description, got {kind = "conv2d"}}}
  func.func private @__shift_conv2d_0(memref<1x1x4x4xf32>, memref<1x2x4x4xf32>) attributes {shift.kernel = {kind = "conv2d"}}
}

// -----

// The residual epilogue needs the shortcut as a third argument of the
// output's type.
module {
  // expected-error @below {{a conv2d kernel takes input, output and shortcut as static rank-4 f32 memrefs (the shortcut of the output's type)}}
  func.func private @__shift_conv2d_0(memref<1x1x4x4xf32>, memref<1x2x4x4xf32>) attributes {shift.kernel = #shift.kernel<kind = conv2d, target = "x86-64-avx2", mode = "default", strategy = "shift", lanes = 8, rows = 4, cols = 2, codes = dense<1> : tensor<2x1x1x1xi8>, alpha = dense<1.0> : tensor<2xf32>, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, strides = [1, 1], dilations = [1, 1], padding = [0, 0, 0, 0], residual = true>}
}

// -----

// Weights of 3 input channels for an input of 2.
module {
  // expected-error @below {{the conv2d kernel's weights do not fit its input and output memrefs}}
  func.func private @__shift_conv2d_0(memref<1x2x4x4xf32>, memref<1x2x4x4xf32>) attributes {shift.kernel = #shift.kernel<kind = conv2d, target = "x86-64-avx2", mode = "default", strategy = "shift", lanes = 8, rows = 4, cols = 2, codes = dense<1> : tensor<2x3x1x1xi8>, alpha = dense<1.0> : tensor<2xf32>, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, strides = [1, 1], dilations = [1, 1], padding = [0, 0, 0, 0]>}
}

// -----

// A matmul on a rank-4 input.
module {
  // expected-error @below {{a matmul kernel takes input and output as static rank-2 f32 memrefs}}
  func.func private @__shift_matmul_0(memref<1x2x1x1xf32>, memref<1x2xf32>) attributes {shift.kernel = #shift.kernel<kind = matmul, target = "aarch64-neon", mode = "fast", strategy = "decode-fma", lanes = 4, rows = 4, cols = 2, weights = dense<1.0> : tensor<2x2xf32>>}
}
