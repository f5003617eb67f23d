// RUN: denseshift-opt %s --convert-shift-to-linalg \
// RUN: | denseshift-opt --one-shot-bufferize=bufferize-function-boundaries \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s

// Executes the reference lowering of shift.conv2d in the NCHW/FCHW layout:
// bits 2, 3 and 4, zero-free and with-zero, groups, depthwise, padding,
// strides, dilations and a non-square kernel. Results are printed as rows of
// (N * F * OH) x OW.

// Worked by hand: codes [[1, -2], [3, -4]] with emin = 0 are the weights
// [[1, -2], [4, -8]]; alpha 0.5 makes them [[0.5, -1], [2, -4]]. So
// y[0][0] = 1*0.5 - 2 + 4*2 - 5*4 = -13.5, y[0][1] = 1 - 3 + 10 - 24 = -16,
// y[1][0] = 2 - 5 + 14 - 32 = -21, y[1][1] = 2.5 - 6 + 16 - 36 = -23.5.
// The other cases use random dyadic inputs checked against a float64
// reference of the convolution; every partial sum is exact in f32.
// CHECK-LABEL: {{^}}nchw_hand_checked
// CHECK-NEXT: sizes = [2, 2]
// CHECK-NEXT: [-13.5, -16]
// CHECK-NEXT: [-21, -23.5]
func.func @nchw_hand_checked(%x: tensor<1x1x3x3xf32>, %codes: tensor<1x1x2x2xi8>, %alpha: tensor<1xf32>) -> tensor<1x1x2x2xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, groups = 1 : i64}
      : tensor<1x1x3x3xf32>, tensor<1x1x2x2xi8>, tensor<1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

func.func @run_nchw_hand_checked() {
  %x = arith.constant dense<[[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]> : tensor<1x1x3x3xf32>
  %codes = arith.constant dense<[[[[1, -2], [3, -4]]]]> : tensor<1x1x2x2xi8>
  %alpha = arith.constant dense<[0.5]> : tensor<1xf32>
  %y = call @nchw_hand_checked(%x, %codes, %alpha) : (tensor<1x1x3x3xf32>, tensor<1x1x2x2xi8>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  %rows = tensor.collapse_shape %y [[0, 1, 2], [3]] : tensor<1x1x2x2xf32> into tensor<2x2xf32>
  %m = bufferization.to_buffer %rows : tensor<2x2xf32> to memref<2x2xf32>
  %u = memref.cast %m : memref<2x2xf32> to memref<*xf32>
  vector.print str "nchw_hand_checked\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}nchw_3bit_zero_free_padded
// CHECK-NEXT: sizes = [8, 4]
// CHECK-NEXT: [2.75, -12.25, -2.75, -0.625]
// CHECK-NEXT: [3.5, 16.875, 7, -1.125]
// CHECK-NEXT: [-2, 15.5, -2.25, 4]
// CHECK-NEXT: [1.25, -16.375, 8.25, 6.75]
// CHECK-NEXT: [-2.125, -4.625, 1.25, -9.375]
// CHECK-NEXT: [6.25, 9.75, 3.25, 3.5]
// CHECK-NEXT: [1.25, 7.75, 7.375, -6.625]
// CHECK-NEXT: [-14, 5, 6.375, 1]
func.func @nchw_3bit_zero_free_padded(%x: tensor<1x2x4x4xf32>, %codes: tensor<2x2x3x3xi8>, %alpha: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = -1>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, groups = 1 : i64}
      : tensor<1x2x4x4xf32>, tensor<2x2x3x3xi8>, tensor<2xf32> -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

func.func @run_nchw_3bit_zero_free_padded() {
  %x = arith.constant dense<[[[[3.0, 0.5, 1.0, 3.0], [0.5, 1.0, 2.0, -1.0], [-2.0, -1.0, -1.0, 2.0], [3.0, -2.0, 0.0, 2.0]], [[-1.5, 2.0, -1.5, 0.0], [2.0, -1.0, -0.5, -1.0], [1.0, -1.0, 3.0, 0.0], [0.0, 0.0, 0.5, 0.0]]]]> : tensor<1x2x4x4xf32>
  %codes = arith.constant dense<[[[[3, 4, 4], [-4, 3, -3], [-2, -4, 2]], [[1, 4, -1], [4, -3, 1], [1, -2, 1]]], [[[1, 3, 4], [2, -4, 4], [-4, -3, -2]], [[3, 2, 2], [2, 1, 4], [-1, 1, 1]]]]> : tensor<2x2x3x3xi8>
  %alpha = arith.constant dense<[0.5, 0.5]> : tensor<2xf32>
  %y = call @nchw_3bit_zero_free_padded(%x, %codes, %alpha) : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xi8>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %rows = tensor.collapse_shape %y [[0, 1, 2], [3]] : tensor<1x2x4x4xf32> into tensor<8x4xf32>
  %m = bufferization.to_buffer %rows : tensor<8x4xf32> to memref<8x4xf32>
  %u = memref.cast %m : memref<8x4xf32> to memref<*xf32>
  vector.print str "nchw_3bit_zero_free_padded\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}nchw_2bit_with_zero_grouped_strided
// CHECK-NEXT: sizes = [16, 2]
// CHECK-NEXT: [8.25, -12.75]
// CHECK-NEXT: [5.25, 3.75]
// CHECK-NEXT: [0.25, 1.25]
// CHECK-NEXT: [1, -0.75]
// CHECK-NEXT: [10, 13]
// CHECK-NEXT: [-4, -9]
// CHECK-NEXT: [1, -0.25]
// CHECK-NEXT: [-0.75, 3.75]
// CHECK-NEXT: [0.75, 0]
// CHECK-NEXT: [-15, -15]
// CHECK-NEXT: [-0.25, 3.5]
// CHECK-NEXT: [-3.25, -1]
// CHECK-NEXT: [22, -3]
// CHECK-NEXT: [-1, 5]
// CHECK-NEXT: [-3.25, -2.25]
// CHECK-NEXT: [3, 1.75]
func.func @nchw_2bit_with_zero_grouped_strided(%x: tensor<2x4x5x5xf32>, %codes: tensor<4x2x3x3xi8>, %alpha: tensor<4xf32>) -> tensor<2x4x2x2xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 2, zero_free = false, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 2, 2>,
      dilations = array<i64: 1, 1>, padding = array<i64: 1, 0, 0, 1>, groups = 2 : i64}
      : tensor<2x4x5x5xf32>, tensor<4x2x3x3xi8>, tensor<4xf32> -> tensor<2x4x2x2xf32>
  return %y : tensor<2x4x2x2xf32>
}

func.func @run_nchw_2bit_with_zero_grouped_strided() {
  %x = arith.constant dense<[[[[0.5, -0.5, 0.5, -1.0, -1.0], [-1.5, -0.5, 2.0, -0.5, -0.5], [0.5, 3.0, -0.5, 0.5, -0.5], [0.5, 0.0, 0.5, 0.0, 1.0], [3.0, -1.5, 0.5, -0.5, -0.5]], [[-1.0, -2.0, -0.5, 2.0, -2.0], [-0.5, 3.0, 3.0, -1.5, -2.0], [1.0, -2.0, -1.0, 0.0, 2.0], [-2.0, 0.5, 0.0, -1.5, 2.0], [2.0, 0.0, 3.0, 0.5, 3.0]], [[3.0, 0.5, -1.0, -1.5, 0.5], [-1.5, 1.0, 3.0, -1.0, 0.0], [-2.0, -1.5, -0.5, 2.0, 3.0], [0.5, 0.5, 0.5, -2.0, -0.5], [3.0, -0.5, -1.5, -1.0, 1.0]], [[-2.0, 3.0, 2.0, 0.5, 0.0], [1.0, 0.0, 0.0, -1.0, 0.0], [1.0, -2.0, -2.0, 1.0, -0.5], [2.0, -2.0, 3.0, -1.5, -0.5], [3.0, -2.0, 0.5, 1.0, -0.5]]], [[[-2.0, 0.0, -0.5, 2.0, 1.0], [-0.5, -2.0, 0.5, -1.0, 1.0], [2.0, -0.5, 3.0, 0.0, 0.0], [1.0, 2.0, 3.0, 3.0, -1.5], [-0.5, 3.0, -1.0, -2.0, 0.5]], [[1.0, 1.0, 2.0, 0.5, -1.5], [2.0, -0.5, 2.0, 2.0, 3.0], [-2.0, 2.0, 0.5, 0.0, 2.0], [3.0, 0.0, -2.0, 1.0, -1.0], [-1.0, -1.5, -1.5, 3.0, -0.5]], [[-2.0, -1.5, -0.5, -0.5, -1.0], [3.0, 2.0, 0.5, 3.0, -0.5], [-1.5, -1.0, -2.0, 3.0, -1.5], [0.0, -1.5, 3.0, -1.5, 0.0], [3.0, 0.0, 3.0, 3.0, 1.0]], [[1.0, 0.5, 0.5, 2.0, -0.5], [3.0, 2.0, -0.5, -0.5, 1.0], [3.0, -2.0, -2.0, -1.0, -0.5], [-1.5, 0.0, 0.0, 3.0, 1.0], [-1.0, 2.0, 2.0, 1.0, 1.0]]]]> : tensor<2x4x5x5xf32>
  %codes = arith.constant dense<[[[[-1, 1, -1], [0, 1, 1], [-1, -1, 0]], [[0, 1, -1], [-1, -1, 0], [-1, -1, 1]]], [[[1, 1, 0], [-1, 1, 0], [1, 0, -1]], [[0, 0, 0], [0, -1, -1], [1, 1, 0]]], [[[-1, 0, 0], [0, -1, -1], [1, -1, 1]], [[0, -1, 1], [1, 1, 1], [1, 1, -1]]], [[[1, 1, 1], [1, 1, 1], [1, 0, 1]], [[1, -1, -1], [-1, -1, 0], [-1, -1, -1]]]]> : tensor<4x2x3x3xi8>
  %alpha = arith.constant dense<[1.5, 0.5, 2.0, 0.5]> : tensor<4xf32>
  %y = call @nchw_2bit_with_zero_grouped_strided(%x, %codes, %alpha) : (tensor<2x4x5x5xf32>, tensor<4x2x3x3xi8>, tensor<4xf32>) -> tensor<2x4x2x2xf32>
  %rows = tensor.collapse_shape %y [[0, 1, 2], [3]] : tensor<2x4x2x2xf32> into tensor<16x2xf32>
  %m = bufferization.to_buffer %rows : tensor<16x2xf32> to memref<16x2xf32>
  %u = memref.cast %m : memref<16x2xf32> to memref<*xf32>
  vector.print str "nchw_2bit_with_zero_grouped_strided\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}nchw_4bit_zero_free_depthwise_dilated
// CHECK-NEXT: sizes = [9, 2]
// CHECK-NEXT: [-4.125, -1.75]
// CHECK-NEXT: [-1, 19.6875]
// CHECK-NEXT: [-13.3125, 4.625]
// CHECK-NEXT: [-8.125, 6.5]
// CHECK-NEXT: [-1, -1.5]
// CHECK-NEXT: [-1.75, 5.75]
// CHECK-NEXT: [9.21875, -4.6875]
// CHECK-NEXT: [-5.65625, 1.09375]
// CHECK-NEXT: [9.78125, 8.3125]
func.func @nchw_4bit_zero_free_depthwise_dilated(%x: tensor<1x3x6x6xf32>, %codes: tensor<3x1x3x3xi8>, %alpha: tensor<3xf32>) -> tensor<1x3x3x2xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 4, zero_free = true, emin = -3>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 2>,
      dilations = array<i64: 2, 2>, padding = array<i64: 0, 1, 1, 0>, groups = 3 : i64}
      : tensor<1x3x6x6xf32>, tensor<3x1x3x3xi8>, tensor<3xf32> -> tensor<1x3x3x2xf32>
  return %y : tensor<1x3x3x2xf32>
}

func.func @run_nchw_4bit_zero_free_depthwise_dilated() {
  %x = arith.constant dense<[[[[3.0, 0.5, -1.0, -2.0, -1.0, 0.5], [-2.0, -1.5, -1.5, 1.0, -2.0, -2.0], [0.0, -1.0, 0.5, 3.0, 2.0, 0.0], [0.5, 2.0, -0.5, 0.5, -1.5, 0.5], [-1.0, -1.5, 1.0, 0.5, -0.5, -2.0], [-1.0, 2.0, 0.0, 3.0, 3.0, 2.0]], [[-2.0, -2.0, 0.5, -0.5, 2.0, -1.0], [-1.5, -1.5, -1.0, 0.5, -1.5, 2.0], [-1.0, -1.0, 0.5, 2.0, -0.5, 2.0], [-1.0, -1.5, 2.0, 1.0, 1.0, 2.0], [0.0, -1.5, 0.5, 0.5, -0.5, 0.5], [-1.0, 0.5, 2.0, -2.0, 0.0, 0.5]], [[-2.0, 0.5, 3.0, 2.0, 1.0, 2.0], [-0.5, -1.0, -2.0, 1.0, -1.0, 2.0], [0.0, 3.0, -1.5, -1.5, -0.5, -2.0], [0.0, 0.5, 0.5, -1.5, -1.5, 0.5], [0.5, 3.0, 3.0, -0.5, -1.5, -1.0], [2.0, 0.0, 3.0, 0.5, 0.5, -2.0]]]]> : tensor<1x3x6x6xf32>
  %codes = arith.constant dense<[[[[5, 4, -7], [-2, -2, -6], [6, 7, -5]]], [[[4, -3, 3], [-6, 5, -3], [2, 6, 2]]], [[[-2, 3, -7], [4, 5, -1], [3, 7, -7]]]]> : tensor<3x1x3x3xi8>
  %alpha = arith.constant dense<[0.5, 1.0, 0.5]> : tensor<3xf32>
  %y = call @nchw_4bit_zero_free_depthwise_dilated(%x, %codes, %alpha) : (tensor<1x3x6x6xf32>, tensor<3x1x3x3xi8>, tensor<3xf32>) -> tensor<1x3x3x2xf32>
  %rows = tensor.collapse_shape %y [[0, 1, 2], [3]] : tensor<1x3x3x2xf32> into tensor<9x2xf32>
  %m = bufferization.to_buffer %rows : tensor<9x2xf32> to memref<9x2xf32>
  %u = memref.cast %m : memref<9x2xf32> to memref<*xf32>
  vector.print str "nchw_4bit_zero_free_depthwise_dilated\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}nchw_4bit_with_zero_rect_kernel
// CHECK-NEXT: sizes = [6, 3]
// CHECK-NEXT: [-10.25, 97.25, 31]
// CHECK-NEXT: [-24.875, 6.125, -12.5]
// CHECK-NEXT: [10, 37.5, -12.5]
// CHECK-NEXT: [29, -46.5, -6.5]
// CHECK-NEXT: [-45.5625, -63.5625, -14.25]
// CHECK-NEXT: [65.625, -3.9375, -36.1875]
func.func @nchw_4bit_with_zero_rect_kernel(%x: tensor<1x2x4x5xf32>, %codes: tensor<3x2x2x3xi8>, %alpha: tensor<3xf32>) -> tensor<1x3x2x3xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 4, zero_free = false, emin = -2>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 2, 1>, padding = array<i64: 0, 0, 0, 0>, groups = 1 : i64}
      : tensor<1x2x4x5xf32>, tensor<3x2x2x3xi8>, tensor<3xf32> -> tensor<1x3x2x3xf32>
  return %y : tensor<1x3x2x3xf32>
}

func.func @run_nchw_4bit_with_zero_rect_kernel() {
  %x = arith.constant dense<[[[[2.0, 2.0, -0.5, -1.0, 1.0], [0.0, -2.0, 0.5, 1.0, -2.0], [1.0, 0.0, 2.0, 2.0, 1.0], [-0.5, -0.5, 1.0, -2.0, -1.0]], [[0.0, 3.0, 1.0, 2.0, -1.5], [-1.0, -1.0, 1.0, 0.0, -1.5], [1.0, 0.5, 3.0, 0.5, -1.5], [2.0, -1.5, -2.0, 2.0, 0.0]]]]> : tensor<1x2x4x5xf32>
  %codes = arith.constant dense<[[[[2, -6, 3], [-1, 7, 2]], [[7, 4, 5], [-6, 4, 2]]], [[[-2, -3, 2], [-5, -5, 6]], [[4, 1, 4], [-3, 3, -4]]], [[[-1, -5, -2], [-2, -1, 0]], [[-7, -2, 5], [-1, 1, -6]]]]> : tensor<3x2x2x3xi8>
  %alpha = arith.constant dense<[1.0, 2.0, 1.5]> : tensor<3xf32>
  %y = call @nchw_4bit_with_zero_rect_kernel(%x, %codes, %alpha) : (tensor<1x2x4x5xf32>, tensor<3x2x2x3xi8>, tensor<3xf32>) -> tensor<1x3x2x3xf32>
  %rows = tensor.collapse_shape %y [[0, 1, 2], [3]] : tensor<1x3x2x3xf32> into tensor<6x3xf32>
  %m = bufferization.to_buffer %rows : tensor<6x3xf32> to memref<6x3xf32>
  %u = memref.cast %m : memref<6x3xf32> to memref<*xf32>
  vector.print str "nchw_4bit_with_zero_rect_kernel\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @main() {
  call @run_nchw_hand_checked() : () -> ()
  call @run_nchw_3bit_zero_free_padded() : () -> ()
  call @run_nchw_2bit_with_zero_grouped_strided() : () -> ()
  call @run_nchw_4bit_zero_free_depthwise_dilated() : () -> ()
  call @run_nchw_4bit_with_zero_rect_kernel() : () -> ()
  return
}
