// RUN: denseshift-opt %s -split-input-file -verify-diagnostics

// Malformed #shift.kernel descriptions are rejected where they are written.

// expected-error @below {{unknown target 'riscv' (expected x86-64-avx2, x86-64-avx512 or aarch64-neon)}}
// expected-error @below {{failed to parse Shift_KernelAttr parameter 'target'}}
func.func private @k0() attributes {shift.kernel = #shift.kernel<kind = matmul, target = "riscv", mode = "default", strategy = "shift", lanes = 8, rows = 4, cols = 2, weights = dense<1.0> : tensor<2x2xf32>>}

// -----

// expected-error @below {{a kernel's strategy is shift or decode-fma (auto is resolved per layer by the pass)}}
func.func private @k1() attributes {shift.kernel = #shift.kernel<kind = matmul, target = "x86-64-avx2", mode = "default", strategy = "auto", lanes = 8, rows = 4, cols = 2, weights = dense<1.0> : tensor<2x2xf32>>}

// -----

// expected-error @below {{needs either codes, alpha and encoding, or f32 weights}}
func.func private @k2() attributes {shift.kernel = #shift.kernel<kind = matmul, target = "x86-64-avx2", mode = "default", strategy = "shift", lanes = 8, rows = 4, cols = 2, codes = dense<1> : tensor<2x2xi8>>}

// -----

// expected-error @below {{code 5 is not valid in #shift.encoding<bits = 3, zero_free = true, emin = 0>}}
func.func private @k3() attributes {shift.kernel = #shift.kernel<kind = matmul, target = "x86-64-avx2", mode = "default", strategy = "shift", lanes = 8, rows = 4, cols = 2, codes = dense<[[1, 5]]> : tensor<1x2xi8>, alpha = dense<1.0> : tensor<1xf32>, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>>}

// -----

// expected-error @below {{alpha must be f32 with one value per output channel (1)}}
func.func private @k4() attributes {shift.kernel = #shift.kernel<kind = matmul, target = "x86-64-avx2", mode = "default", strategy = "shift", lanes = 8, rows = 4, cols = 2, codes = dense<[[1, 2]]> : tensor<1x2xi8>, alpha = dense<1.0> : tensor<2xf32>, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>>}

// -----

// expected-error @below {{conv2d needs strides and dilations [h, w] and padding [top, left, bottom, right]}}
func.func private @k5() attributes {shift.kernel = #shift.kernel<kind = conv2d, target = "x86-64-avx2", mode = "default", strategy = "shift", lanes = 8, rows = 4, cols = 2, weights = dense<1.0> : tensor<2x1x1x1xf32>, strides = [1, 1]>}

// -----

// expected-error @below {{no kernel generator for layout nhwc_hwcf (convolutions are nchw_fchw)}}
func.func private @k6() attributes {shift.kernel = #shift.kernel<kind = conv2d, target = "x86-64-avx2", mode = "default", strategy = "shift", lanes = 8, rows = 4, cols = 2, weights = dense<1.0> : tensor<2x1x1x1xf32>, layout = nhwc_hwcf, strides = [1, 1], dilations = [1, 1], padding = [0, 0, 0, 0]>}

// -----

// expected-error @below {{matmul takes no strides, dilations, padding, groups or residual}}
func.func private @k7() attributes {shift.kernel = #shift.kernel<kind = matmul, target = "x86-64-avx2", mode = "default", strategy = "shift", lanes = 8, rows = 4, cols = 2, weights = dense<1.0> : tensor<2x2xf32>, residual = true>}

// -----

// expected-error @below {{lanes must be a power of two <= 16 and rows, cols positive, got lanes = 6, rows = 4, cols = 2}}
func.func private @k8() attributes {shift.kernel = #shift.kernel<kind = matmul, target = "x86-64-avx2", mode = "default", strategy = "shift", lanes = 6, rows = 4, cols = 2, weights = dense<1.0> : tensor<2x2xf32>>}

// -----

// expected-error @below {{groups = 3 must divide the 2 output channels}}
func.func private @k9() attributes {shift.kernel = #shift.kernel<kind = conv2d, target = "x86-64-avx2", mode = "default", strategy = "shift", lanes = 8, rows = 4, cols = 2, weights = dense<1.0> : tensor<2x1x1x1xf32>, strides = [1, 1], dilations = [1, 1], padding = [0, 0, 0, 0], groups = 3>}

// -----

// expected-error @below {{clamp must be [low, high] with low <= high}}
func.func private @k10() attributes {shift.kernel = #shift.kernel<kind = matmul, target = "x86-64-avx2", mode = "default", strategy = "shift", lanes = 8, rows = 4, cols = 2, weights = dense<1.0> : tensor<2x2xf32>, clamp = [1.0, 0.0]>}
