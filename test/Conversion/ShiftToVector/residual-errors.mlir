// RUN: denseshift-opt %s -convert-shift-to-vector -verify-diagnostics

// A kernel description that asks for the residual (shortcut) epilogue needs
// the shortcut as a third argument of the output's type: without it, a
// located error, not a crash.
module {
  // expected-error @below {{malformed 'shift.kernel' kernel description}}
  func.func private @__shift_conv2d_0(memref<1x1x4x4xf32>, memref<1x2x4x4xf32>) attributes {shift.kernel = {residual, alpha = dense<1.000000e+00> : tensor<2xf32>, codes = dense<1> : tensor<2x1x1x1xi8>, cols = 2 : i64, dilations = array<i64: 1, 1>, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, groups = 1 : i64, kind = "conv2d", lanes = 8 : i64, mode = "default", padding = array<i64: 0, 0, 0, 0>, rows = 4 : i64, strategy = "shift", strides = array<i64: 1, 1>}}
}
