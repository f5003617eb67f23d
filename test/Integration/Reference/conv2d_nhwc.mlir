// RUN: denseshift-opt %s --convert-shift-to-linalg \
// RUN: | denseshift-opt --one-shot-bufferize=bufferize-function-boundaries \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s

// Executes the reference lowering of shift.conv2d in the NHWC/HWCF layout:
// bits 2, 3 and 4, zero-free and with-zero, groups, depthwise with a channel
// multiplier, padding, strides and dilations. Results are printed one output
// pixel per row: (N * OH * OW) x F.

// Worked by hand: 2-bit with-zero codes {-1, 0, 1} with emin = 1 are
// {-2, 0, 2}. Filter 0 (alpha 1) is 2 * (x[i][j] - x[i+1][j+1]), filter 1
// (alpha 0.25) is 0.5 * (x[i][j+1] - x[i+1][j]); x = [[1, 2, 3], [4, 0, -1],
// [2, 5, -3]] gives one row per output pixel: (0,0) [2, -1], (0,1) [6, 1.5],
// (1,0) [-2, -1], (1,1) [6, -3].
// The other cases use random dyadic inputs checked against a float64
// reference of the convolution; every partial sum is exact in f32.
// CHECK-LABEL: {{^}}nhwc_hand_checked
// CHECK-NEXT: sizes = [4, 2]
// CHECK-NEXT: [2, -1]
// CHECK-NEXT: [6, 1.5]
// CHECK-NEXT: [-2, -1]
// CHECK-NEXT: [6, -3]
func.func @nhwc_hand_checked(%x: tensor<1x3x3x1xf32>, %codes: tensor<2x2x1x2xi8>, %alpha: tensor<2xf32>) -> tensor<1x2x2x2xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 2, zero_free = false, emin = 1>,
      layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, groups = 1 : i64}
      : tensor<1x3x3x1xf32>, tensor<2x2x1x2xi8>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

func.func @run_nhwc_hand_checked() {
  %x = arith.constant dense<[[[[1.0], [2.0], [3.0]], [[4.0], [0.0], [-1.0]], [[2.0], [5.0], [-3.0]]]]> : tensor<1x3x3x1xf32>
  %codes = arith.constant dense<[[[[1, 0]], [[0, 1]]], [[[0, -1]], [[-1, 0]]]]> : tensor<2x2x1x2xi8>
  %alpha = arith.constant dense<[1.0, 0.25]> : tensor<2xf32>
  %y = call @nhwc_hand_checked(%x, %codes, %alpha) : (tensor<1x3x3x1xf32>, tensor<2x2x1x2xi8>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %rows = tensor.collapse_shape %y [[0, 1, 2], [3]] : tensor<1x2x2x2xf32> into tensor<4x2xf32>
  %m = bufferization.to_buffer %rows : tensor<4x2xf32> to memref<4x2xf32>
  %u = memref.cast %m : memref<4x2xf32> to memref<*xf32>
  vector.print str "nhwc_hand_checked\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}nhwc_3bit_with_zero_padded
// CHECK-NEXT: sizes = [16, 3]
// CHECK-NEXT: [-1, -7, -4.5]
// CHECK-NEXT: [-24.5, -9, 10.5]
// CHECK-NEXT: [-5, -10.5, 20.25]
// CHECK-NEXT: [22, 7, 12]
// CHECK-NEXT: [-19, 19, -27.375]
// CHECK-NEXT: [-11, 24.5, -2.25]
// CHECK-NEXT: [5.5, 8.5, -3.75]
// CHECK-NEXT: [-2, 2, 13.875]
// CHECK-NEXT: [-11.5, -24.5, 5.25]
// CHECK-NEXT: [26, -16.5, 5.25]
// CHECK-NEXT: [23.5, 17, 3]
// CHECK-NEXT: [-17, 11.5, 3.375]
// CHECK-NEXT: [-9.5, -6.5, 10.5]
// CHECK-NEXT: [19.5, -7, -3.75]
// CHECK-NEXT: [-10.5, -1.5, 14.25]
// CHECK-NEXT: [1.5, 3.5, 3.75]
func.func @nhwc_3bit_with_zero_padded(%x: tensor<1x4x4x2xf32>, %codes: tensor<3x3x2x3xi8>, %alpha: tensor<3xf32>) -> tensor<1x4x4x3xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = false, emin = -1>,
      layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, groups = 1 : i64}
      : tensor<1x4x4x2xf32>, tensor<3x3x2x3xi8>, tensor<3xf32> -> tensor<1x4x4x3xf32>
  return %y : tensor<1x4x4x3xf32>
}

func.func @run_nhwc_3bit_with_zero_padded() {
  %x = arith.constant dense<[[[[3.0, 0.5], [1.0, 3.0], [0.5, 1.0], [2.0, -1.0]], [[-2.0, -1.0], [-1.0, 2.0], [3.0, -2.0], [0.0, 2.0]], [[-1.5, 2.0], [-1.5, 0.0], [2.0, -1.0], [-0.5, -1.0]], [[1.0, -1.0], [3.0, 0.0], [0.0, 0.0], [0.5, 0.0]]]]> : tensor<1x4x4x2xf32>
  %codes = arith.constant dense<[[[[0, 3, 2], [2, 1, 1]], [[-1, 3, 0], [-2, 2, -2]], [[3, 1, -3], [-3, 0, -3]]], [[[-3, 0, 3], [0, 2, 3]], [[2, 1, 0], [0, -2, 0]], [[-1, -2, 3], [-3, -3, -2]]], [[[3, 1, 3], [-2, 2, -1]], [[0, -3, 1], [2, 1, -2]], [[0, -2, 3], [3, -2, 0]]]]> : tensor<3x3x2x3xi8>
  %alpha = arith.constant dense<[2.0, 2.0, 1.5]> : tensor<3xf32>
  %y = call @nhwc_3bit_with_zero_padded(%x, %codes, %alpha) : (tensor<1x4x4x2xf32>, tensor<3x3x2x3xi8>, tensor<3xf32>) -> tensor<1x4x4x3xf32>
  %rows = tensor.collapse_shape %y [[0, 1, 2], [3]] : tensor<1x4x4x3xf32> into tensor<16x3xf32>
  %m = bufferization.to_buffer %rows : tensor<16x3xf32> to memref<16x3xf32>
  %u = memref.cast %m : memref<16x3xf32> to memref<*xf32>
  vector.print str "nhwc_3bit_with_zero_padded\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}nhwc_2bit_zero_free_grouped_strided
// CHECK-NEXT: sizes = [9, 2]
// CHECK-NEXT: [-19, -4]
// CHECK-NEXT: [9, 13]
// CHECK-NEXT: [-2, -18]
// CHECK-NEXT: [-13, -30]
// CHECK-NEXT: [19, -41]
// CHECK-NEXT: [-23, -12]
// CHECK-NEXT: [18, 18]
// CHECK-NEXT: [-29, 8]
// CHECK-NEXT: [27, -6]
func.func @nhwc_2bit_zero_free_grouped_strided(%x: tensor<1x5x5x4xf32>, %codes: tensor<3x3x2x2xi8>, %alpha: tensor<2xf32>) -> tensor<1x3x3x2xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 2, zero_free = true, emin = 0>,
      layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 2, 2>,
      dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, groups = 2 : i64}
      : tensor<1x5x5x4xf32>, tensor<3x3x2x2xi8>, tensor<2xf32> -> tensor<1x3x3x2xf32>
  return %y : tensor<1x3x3x2xf32>
}

func.func @run_nhwc_2bit_zero_free_grouped_strided() {
  %x = arith.constant dense<[[[[0.5, -2.0, 1.0, 0.0], [-2.0, -1.0, 0.0, 1.0], [0.0, 0.5, 2.0, 1.0], [-0.5, 0.5, 0.5, -2.0], [-2.0, 0.5, -0.5, 0.5]], [[-1.0, -1.0, -1.5, -0.5], [2.0, -0.5, -0.5, 0.5], [3.0, -0.5, 0.5, -0.5], [0.5, 0.0, 0.5, 0.0], [1.0, 3.0, -1.5, 0.5]], [[-0.5, -0.5, -1.0, -2.0], [-0.5, 2.0, -2.0, -0.5], [3.0, 3.0, -1.5, -2.0], [1.0, -2.0, -1.0, 0.0], [2.0, -2.0, 0.5, 0.0]], [[-1.5, 2.0, 2.0, 0.0], [3.0, 0.5, 3.0, 3.0], [0.5, -1.0, -1.5, 0.5], [-1.5, 1.0, 3.0, -1.0], [0.0, -2.0, -1.5, -0.5]], [[2.0, 3.0, 0.5, 0.5], [0.5, -2.0, -0.5, 3.0], [-0.5, -1.5, -1.0, 1.0], [-2.0, 3.0, 2.0, 0.5], [0.0, 1.0, 0.0, 0.0]]]]> : tensor<1x5x5x4xf32>
  %codes = arith.constant dense<[[[[-1, -1], [2, -1]], [[-1, 2], [1, 2]], [[1, 2], [-1, 1]]], [[[-2, 1], [2, 2]], [[-1, 1], [2, -1]], [[2, 2], [1, -1]]], [[[2, -1], [-2, -2]], [[-1, 2], [-2, -2]], [[-2, -2], [-2, -2]]]]> : tensor<3x3x2x2xi8>
  %alpha = arith.constant dense<[2.0, 2.0]> : tensor<2xf32>
  %y = call @nhwc_2bit_zero_free_grouped_strided(%x, %codes, %alpha) : (tensor<1x5x5x4xf32>, tensor<3x3x2x2xi8>, tensor<2xf32>) -> tensor<1x3x3x2xf32>
  %rows = tensor.collapse_shape %y [[0, 1, 2], [3]] : tensor<1x3x3x2xf32> into tensor<9x2xf32>
  %m = bufferization.to_buffer %rows : tensor<9x2xf32> to memref<9x2xf32>
  %u = memref.cast %m : memref<9x2xf32> to memref<*xf32>
  vector.print str "nhwc_2bit_zero_free_grouped_strided\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}nhwc_4bit_with_zero_depthwise_multiplier2_dilated
// CHECK-NEXT: sizes = [12, 6]
// CHECK-NEXT: [-21.25, -53.25, 4.5, -10.875, -55, 33]
// CHECK-NEXT: [126.75, -24, 2.25, 3.375, 30, -12.9375]
// CHECK-NEXT: [147.25, 66.9375, 24.25, 1.125, 7.5, 24.9375]
// CHECK-NEXT: [62.25, -29.0625, -31.25, 4.875, -19.75, 54]
// CHECK-NEXT: [-58.75, 10.125, 23, -2.5, 14.75, -67.125]
// CHECK-NEXT: [-35.25, -56.625, 10.125, 5.875, 39, 16.125]
// CHECK-NEXT: [56.25, -33.75, 22.25, 12.125, 15.25, 6.75]
// CHECK-NEXT: [52.75, 18, -4.75, 3.25, -5, 6.9375]
// CHECK-NEXT: [33, -10.875, -3.5, 5.625, -30.5, -38.4375]
// CHECK-NEXT: [42, 112.125, -8.75, -8.75, 1.5, -53.8125]
// CHECK-NEXT: [-90.75, -4.125, 4.75, -10.25, 40.75, 11.4375]
// CHECK-NEXT: [-44.25, -66.75, -12.125, -1, -17.5, 54.1875]
func.func @nhwc_4bit_with_zero_depthwise_multiplier2_dilated(%x: tensor<2x6x5x3xf32>, %codes: tensor<3x3x1x6xi8>, %alpha: tensor<6xf32>) -> tensor<2x3x2x6xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 4, zero_free = false, emin = -2>,
      layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 1, 1>,
      dilations = array<i64: 2, 2>, padding = array<i64: 1, 0, 0, 1>, groups = 3 : i64}
      : tensor<2x6x5x3xf32>, tensor<3x3x1x6xi8>, tensor<6xf32> -> tensor<2x3x2x6xf32>
  return %y : tensor<2x3x2x6xf32>
}

func.func @run_nhwc_4bit_with_zero_depthwise_multiplier2_dilated() {
  %x = arith.constant dense<[[[[0.5, 3.0, -0.5], [-1.5, -1.0, -2.0], [3.0, -1.5, 0.0], [-1.5, 3.0, -1.5], [0.0, 3.0, 0.0]], [[3.0, 3.0, 1.0], [1.0, 0.5, 0.5], [2.0, -0.5, 3.0], [2.0, -0.5, -0.5], [1.0, 3.0, -2.0]], [[-2.0, -1.0, -0.5], [-1.5, 0.0, 0.0], [3.0, 1.0, -1.0], [2.0, 2.0, 1.0], [1.0, -1.0, 1.0]], [[-1.5, 0.5, 3.0], [3.0, -1.0, -1.0], [0.5, -0.5, 1.0], [-1.5, -1.5, -2.0], [0.0, -1.5, -1.0]], [[3.0, 2.0, 2.0], [0.5, -1.5, 1.0], [0.5, 3.0, 0.0], [-1.5, 0.5, 0.0], [0.5, -0.5, -1.0]], [[-1.5, 3.0, 1.0], [0.0, -1.0, 0.5], [-0.5, 0.5, -2.0], [-1.5, 1.0, -2.0], [1.0, -0.5, -2.0]]], [[[1.0, 1.0, 2.0], [3.0, 1.0, 2.0], [-1.5, 3.0, 3.0], [1.0, 2.0, 1.0], [2.0, 3.0, 0.0]], [[2.0, 3.0, -1.0], [-2.0, -1.5, -2.0], [-0.5, -2.0, -1.0], [-1.0, 1.0, -1.0], [3.0, -1.5, 3.0]], [[0.5, -1.0, -2.0], [-1.0, 0.5, -2.0], [-1.5, -1.5, 1.0], [-2.0, -2.0, 0.0], [-1.0, 0.5, 3.0]], [[2.0, 0.0, 0.5], [2.0, -0.5, 0.5], [-1.5, 0.5, -1.0], [-1.5, 1.0, 0.5], [-0.5, -2.0, -1.0]], [[2.0, 0.0, 3.0], [3.0, 2.0, -2.0], [-2.0, 0.5, -0.5], [2.0, -1.0, -1.5], [-1.5, -1.0, 0.5]], [[-1.5, 2.0, -1.0], [-1.0, 0.5, 2.0], [-0.5, 2.0, -1.0], [-1.5, 2.0, 1.0], [1.0, 2.0, 0.0]]]]> : tensor<2x6x5x3xf32>
  %codes = arith.constant dense<[[[[-5, 1, 1, -2, 2, -4]], [[2, 4, -6, -1, 2, -7]], [[2, 6, 5, 3, 5, -2]]], [[[-3, -6, 3, -3, 6, -1]], [[6, -5, -5, -2, -7, 0]], [[2, 2, -4, -5, 1, 2]]], [[[7, 6, -2, -5, -4, 6]], [[-1, 7, 2, 1, -6, 1]], [[-2, 5, -5, -5, 2, 3]]]]> : tensor<3x3x1x6xi8>
  %alpha = arith.constant dense<[2.0, 1.5, 1.0, 1.0, 1.0, 1.5]> : tensor<6xf32>
  %y = call @nhwc_4bit_with_zero_depthwise_multiplier2_dilated(%x, %codes, %alpha) : (tensor<2x6x5x3xf32>, tensor<3x3x1x6xi8>, tensor<6xf32>) -> tensor<2x3x2x6xf32>
  %rows = tensor.collapse_shape %y [[0, 1, 2], [3]] : tensor<2x3x2x6xf32> into tensor<12x6xf32>
  %m = bufferization.to_buffer %rows : tensor<12x6xf32> to memref<12x6xf32>
  %u = memref.cast %m : memref<12x6xf32> to memref<*xf32>
  vector.print str "nhwc_4bit_with_zero_depthwise_multiplier2_dilated\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}nhwc_4bit_zero_free_1x1_strided
// CHECK-NEXT: sizes = [4, 2]
// CHECK-NEXT: [-12.25, -11.4375]
// CHECK-NEXT: [-7.5, 21]
// CHECK-NEXT: [-23.5, 20.0625]
// CHECK-NEXT: [16.25, 21.375]
func.func @nhwc_4bit_zero_free_1x1_strided(%x: tensor<1x4x4x3xf32>, %codes: tensor<1x1x3x2xi8>, %alpha: tensor<2xf32>) -> tensor<1x2x2x2xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 4, zero_free = true, emin = -2>,
      layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 2, 2>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, groups = 1 : i64}
      : tensor<1x4x4x3xf32>, tensor<1x1x3x2xi8>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

func.func @run_nhwc_4bit_zero_free_1x1_strided() {
  %x = arith.constant dense<[[[[0.0, -1.0, -1.5], [1.0, -1.0, -1.5], [-1.0, 2.0, 0.0], [0.5, -2.0, -0.5]], [[1.0, 1.0, 0.5], [2.0, -1.0, -1.5], [-2.0, -1.5, 1.0], [3.0, -1.5, 0.0]], [[-1.5, 2.0, -1.5], [0.5, -2.0, 1.0], [3.0, 1.0, -1.0], [2.0, -1.0, 1.0]], [[2.0, 0.0, 0.5], [2.0, -1.5, -2.0], [-0.5, -1.5, 2.0], [2.0, -0.5, -1.0]]]]> : tensor<1x4x4x3xf32>
  %codes = arith.constant dense<[[[[6, 4], [1, 6], [6, -1]]]]> : tensor<1x1x3x2xi8>
  %alpha = arith.constant dense<[1.0, 1.5]> : tensor<2xf32>
  %y = call @nhwc_4bit_zero_free_1x1_strided(%x, %codes, %alpha) : (tensor<1x4x4x3xf32>, tensor<1x1x3x2xi8>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %rows = tensor.collapse_shape %y [[0, 1, 2], [3]] : tensor<1x2x2x2xf32> into tensor<4x2xf32>
  %m = bufferization.to_buffer %rows : tensor<4x2xf32> to memref<4x2xf32>
  %u = memref.cast %m : memref<4x2xf32> to memref<*xf32>
  vector.print str "nhwc_4bit_zero_free_1x1_strided\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @main() {
  call @run_nhwc_hand_checked() : () -> ()
  call @run_nhwc_3bit_with_zero_padded() : () -> ()
  call @run_nhwc_2bit_zero_free_grouped_strided() : () -> ()
  call @run_nhwc_4bit_with_zero_depthwise_multiplier2_dilated() : () -> ()
  call @run_nhwc_4bit_zero_free_1x1_strided() : () -> ()
  return
}
