// RUN: denseshift-opt %s | denseshift-opt | FileCheck %s

// #shift.kernel round-trips; omitted optional parameters stay omitted and
// the defaults (layout nchw_fchw, groups 1, no residual) are not printed.

// CHECK-LABEL: func.func private @conv
// CHECK-SAME: #shift.kernel<kind = conv2d, target = "x86-64-avx512", mode = "fast", strategy = "decode-fma", lanes = 16, rows = 4, cols = 4, codes = dense<[{{\[}}{{\[}}[1]], {{\[}}[-2]]], {{\[}}{{\[}}[3]], {{\[}}[-4]]]]> : tensor<2x2x1x1xi8>, alpha = dense<[5.000000e-01, 2.000000e+00]> : tensor<2xf32>, encoding = <bits = 3, zero_free = true, emin = 0>, strides = [2, 2], dilations = [1, 1], padding = [0, 1, 0, 1], groups = 2, bias = dense<[1.000000e+00, -1.000000e+00]> : tensor<2xf32>, residual = true, clamp = [0.000000e+00, 6.000000e+00]>
func.func private @conv(memref<1x2x4x4xf32>, memref<1x2x2x3xf32>, memref<1x2x2x3xf32>) attributes {shift.kernel = #shift.kernel<kind = conv2d, target = "x86-64-avx512", mode = "fast", strategy = "decode-fma", lanes = 16, rows = 4, cols = 4, codes = dense<[[[[1]], [[-2]]], [[[3]], [[-4]]]]> : tensor<2x2x1x1xi8>, alpha = dense<[0.5, 2.0]> : tensor<2xf32>, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, strides = [2, 2], dilations = [1, 1], padding = [0, 1, 0, 1], groups = 2, bias = dense<[1.0, -1.0]> : tensor<2xf32>, residual = true, clamp = [0.0, 6.0]>}

// CHECK-LABEL: func.func private @fc
// CHECK-SAME: #shift.kernel<kind = matmul, target = "aarch64-neon", mode = "default", strategy = "shift", lanes = 4, rows = 4, cols = 2, weights = dense<{{.*}}> : tensor<3x2xf32>>
func.func private @fc(memref<5x2xf32>, memref<5x3xf32>) attributes {shift.kernel = #shift.kernel<kind = matmul, target = "aarch64-neon", mode = "default", strategy = "shift", lanes = 4, rows = 4, cols = 2, weights = dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>>}
