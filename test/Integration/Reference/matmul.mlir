// RUN: denseshift-opt %s --convert-shift-to-linalg \
// RUN: | denseshift-opt --one-shot-bufferize=bufferize-function-boundaries \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s

// Executes the reference lowering of shift.matmul for bits 2, 3 and 4,
// zero-free and with-zero, and 8-bit codes in i16.

// Worked by hand: 2-bit zero-free codes with emin = 0 are {-2, -1, 1, 2};
// the weight rows are [1, -1, 2, -2], 0.5 * [2, 2, 2, 2] and
// 3 * [-1, -1, 1, 1]. For x = [1, 2, 3, 4]: 1 - 2 + 6 - 8 = -3,
// 1 + 2 + 3 + 4 = 10, 3 * (-1 - 2 + 3 + 4) = 12; for
// x = [-1, 0.5, 0, 2]: -1 - 0.5 - 4 = -5.5, 1.5, 3 * 2.5 = 7.5.
// The other cases use random dyadic inputs checked against a float64
// reference; every partial sum is exact in f32.
// CHECK-LABEL: {{^}}matmul_hand_checked
// CHECK-NEXT: sizes = [2, 3]
// CHECK-NEXT: [-3, 10, 12]
// CHECK-NEXT: [-5.5, 1.5, 7.5]
func.func @matmul_hand_checked(%x: tensor<2x4xf32>, %codes: tensor<3x4xi8>, %alpha: tensor<3xf32>) -> tensor<2x3xf32> {
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 2, zero_free = true, emin = 0>}
      : tensor<2x4xf32>, tensor<3x4xi8>, tensor<3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

func.func @run_matmul_hand_checked() {
  %x = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 2.0]]> : tensor<2x4xf32>
  %codes = arith.constant dense<[[1, -1, 2, -2], [2, 2, 2, 2], [-1, -1, 1, 1]]> : tensor<3x4xi8>
  %alpha = arith.constant dense<[1.0, 0.5, 3.0]> : tensor<3xf32>
  %y = call @matmul_hand_checked(%x, %codes, %alpha) : (tensor<2x4xf32>, tensor<3x4xi8>, tensor<3xf32>) -> tensor<2x3xf32>
  %m = bufferization.to_buffer %y : tensor<2x3xf32> to memref<2x3xf32>
  %u = memref.cast %m : memref<2x3xf32> to memref<*xf32>
  vector.print str "matmul_hand_checked\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}matmul_2bit_zero_free
// CHECK-NEXT: sizes = [3, 4]
// CHECK-NEXT: [3, -3.5, 32, -21.75]
// CHECK-NEXT: [-1.5, -2.5, 4, -1.5]
// CHECK-NEXT: [3.25, -3.75, 26, -14.25]
func.func @matmul_2bit_zero_free(%x: tensor<3x6xf32>, %codes: tensor<4x6xi8>, %alpha: tensor<4xf32>) -> tensor<3x4xf32> {
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 2, zero_free = true, emin = 0>}
      : tensor<3x6xf32>, tensor<4x6xi8>, tensor<4xf32> -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

func.func @run_matmul_2bit_zero_free() {
  %x = arith.constant dense<[[3.0, 0.5, 1.0, 3.0, 0.5, 1.0], [2.0, -1.0, -2.0, -1.0, -1.0, 2.0], [3.0, -2.0, 0.0, 2.0, -1.5, 2.0]]> : tensor<3x6xf32>
  %codes = arith.constant dense<[[1, -1, 2, 1, -1, -1], [-2, -1, -2, 1, 1, -2], [2, 2, 2, 2, -2, 2], [-2, -2, -1, -2, 1, -1]]> : tensor<4x6xi8>
  %alpha = arith.constant dense<[0.5, 0.5, 2.0, 1.5]> : tensor<4xf32>
  %y = call @matmul_2bit_zero_free(%x, %codes, %alpha) : (tensor<3x6xf32>, tensor<4x6xi8>, tensor<4xf32>) -> tensor<3x4xf32>
  %m = bufferization.to_buffer %y : tensor<3x4xf32> to memref<3x4xf32>
  %u = memref.cast %m : memref<3x4xf32> to memref<*xf32>
  vector.print str "matmul_2bit_zero_free\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}matmul_2bit_with_zero
// CHECK-NEXT: sizes = [3, 4]
// CHECK-NEXT: [2.5, -6, 4, 2.5]
// CHECK-NEXT: [-0.5, -2, 1.5, 2.5]
// CHECK-NEXT: [2.5, -5, -2, -5]
func.func @matmul_2bit_with_zero(%x: tensor<3x6xf32>, %codes: tensor<4x6xi8>, %alpha: tensor<4xf32>) -> tensor<3x4xf32> {
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 2, zero_free = false, emin = 0>}
      : tensor<3x6xf32>, tensor<4x6xi8>, tensor<4xf32> -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

func.func @run_matmul_2bit_with_zero() {
  %x = arith.constant dense<[[2.0, -1.5, 1.0, -0.5, 0.0, -2.0], [0.5, 2.0, 0.5, -1.5, 0.0, -1.0], [3.0, 2.0, -1.5, 0.0, 3.0, 2.0]]> : tensor<3x6xf32>
  %codes = arith.constant dense<[[1, 0, -1, 1, 0, -1], [-1, 0, 1, 0, 0, 1], [1, 0, 0, 0, -1, -1], [0, 0, 0, -1, -1, -1]]> : tensor<4x6xi8>
  %alpha = arith.constant dense<[1.0, 2.0, 1.0, 1.0]> : tensor<4xf32>
  %y = call @matmul_2bit_with_zero(%x, %codes, %alpha) : (tensor<3x6xf32>, tensor<4x6xi8>, tensor<4xf32>) -> tensor<3x4xf32>
  %m = bufferization.to_buffer %y : tensor<3x4xf32> to memref<3x4xf32>
  %u = memref.cast %m : memref<3x4xf32> to memref<*xf32>
  vector.print str "matmul_2bit_with_zero\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}matmul_3bit_zero_free
// CHECK-NEXT: sizes = [3, 4]
// CHECK-NEXT: [-15.5, 16, 8.25, -15.5]
// CHECK-NEXT: [14, -18, -6.75, 9]
// CHECK-NEXT: [-13, 0, 11.625, 0.5]
func.func @matmul_3bit_zero_free(%x: tensor<3x6xf32>, %codes: tensor<4x6xi8>, %alpha: tensor<4xf32>) -> tensor<3x4xf32> {
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = -1>}
      : tensor<3x6xf32>, tensor<4x6xi8>, tensor<4xf32> -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

func.func @run_matmul_3bit_zero_free() {
  %x = arith.constant dense<[[0.5, 3.0, -0.5, 0.5, -0.5, 0.5], [0.0, 0.5, 0.0, 1.0, 3.0, -1.5], [0.5, -0.5, -0.5, -1.0, -2.0, -0.5]]> : tensor<3x6xf32>
  %codes = arith.constant dense<[[-4, -1, 2, -4, 4, 1], [-1, 3, -1, -2, -2, 4], [1, 3, 3, 1, -4, -4], [2, -4, -3, -4, 4, -3]]> : tensor<4x6xi8>
  %alpha = arith.constant dense<[2.0, 2.0, 1.5, 1.0]> : tensor<4xf32>
  %y = call @matmul_3bit_zero_free(%x, %codes, %alpha) : (tensor<3x6xf32>, tensor<4x6xi8>, tensor<4xf32>) -> tensor<3x4xf32>
  %m = bufferization.to_buffer %y : tensor<3x4xf32> to memref<3x4xf32>
  %u = memref.cast %m : memref<3x4xf32> to memref<*xf32>
  vector.print str "matmul_3bit_zero_free\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}matmul_3bit_with_zero
// CHECK-NEXT: sizes = [3, 4]
// CHECK-NEXT: [3, 0.25, 4.5, 8]
// CHECK-NEXT: [-7, -2.625, -4.5, -17]
// CHECK-NEXT: [5.75, 3.5, 9.375, -4]
func.func @matmul_3bit_with_zero(%x: tensor<3x6xf32>, %codes: tensor<4x6xi8>, %alpha: tensor<4xf32>) -> tensor<3x4xf32> {
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = false, emin = -1>}
      : tensor<3x6xf32>, tensor<4x6xi8>, tensor<4xf32> -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

func.func @run_matmul_3bit_with_zero() {
  %x = arith.constant dense<[[1.0, 0.0, 0.0, -1.0, 0.0, 1.0], [-2.0, -2.0, 1.0, -0.5, 2.0, -2.0], [3.0, -1.5, -0.5, 3.0, -2.0, 0.5]]> : tensor<3x6xf32>
  %codes = arith.constant dense<[[2, -1, -3, 0, 0, 3], [1, -1, -3, 1, -2, 1], [3, -1, 3, 0, 0, 2], [2, 3, 3, -2, -1, 3]]> : tensor<4x6xi8>
  %alpha = arith.constant dense<[1.0, 0.5, 1.5, 2.0]> : tensor<4xf32>
  %y = call @matmul_3bit_with_zero(%x, %codes, %alpha) : (tensor<3x6xf32>, tensor<4x6xi8>, tensor<4xf32>) -> tensor<3x4xf32>
  %m = bufferization.to_buffer %y : tensor<3x4xf32> to memref<3x4xf32>
  %u = memref.cast %m : memref<3x4xf32> to memref<*xf32>
  vector.print str "matmul_3bit_with_zero\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}matmul_4bit_zero_free
// CHECK-NEXT: sizes = [3, 4]
// CHECK-NEXT: [47.625, 18.75, 7.5, -39.25]
// CHECK-NEXT: [48.75, -8.5, -39.375, -23.5]
// CHECK-NEXT: [-45.375, -27, -66, -16.25]
func.func @matmul_4bit_zero_free(%x: tensor<3x6xf32>, %codes: tensor<4x6xi8>, %alpha: tensor<4xf32>) -> tensor<3x4xf32> {
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 4, zero_free = true, emin = -3>}
      : tensor<3x6xf32>, tensor<4x6xi8>, tensor<4xf32> -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

func.func @run_matmul_4bit_zero_free() {
  %x = arith.constant dense<[[1.0, 2.0, 0.5, -1.5, 2.0, -0.5], [2.0, 2.0, 3.0, -2.0, 2.0, 0.5], [0.0, 2.0, 3.0, 0.0, -2.0, 1.0]]> : tensor<3x6xf32>
  %codes = arith.constant dense<[[-2, 2, 2, 2, 8, 3], [1, 2, 4, 3, 3, -8], [7, 5, -8, -3, 2, 3], [-1, -8, -2, -4, -2, 8]]> : tensor<4x6xi8>
  %alpha = arith.constant dense<[1.5, 2.0, 1.5, 1.0]> : tensor<4xf32>
  %y = call @matmul_4bit_zero_free(%x, %codes, %alpha) : (tensor<3x6xf32>, tensor<4x6xi8>, tensor<4xf32>) -> tensor<3x4xf32>
  %m = bufferization.to_buffer %y : tensor<3x4xf32> to memref<3x4xf32>
  %u = memref.cast %m : memref<3x4xf32> to memref<*xf32>
  vector.print str "matmul_4bit_zero_free\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// CHECK-LABEL: {{^}}matmul_4bit_with_zero
// CHECK-NEXT: sizes = [3, 4]
// CHECK-NEXT: [1.5, -15.75, -1.9375, 5.0625]
// CHECK-NEXT: [6, -3.65625, 2.09375, 6.6875]
// CHECK-NEXT: [-13, -4.96875, -0.09375, -1.90625]
func.func @matmul_4bit_with_zero(%x: tensor<3x6xf32>, %codes: tensor<4x6xi8>, %alpha: tensor<4xf32>) -> tensor<3x4xf32> {
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 4, zero_free = false, emin = -3>}
      : tensor<3x6xf32>, tensor<4x6xi8>, tensor<4xf32> -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

func.func @run_matmul_4bit_with_zero() {
  %x = arith.constant dense<[[2.0, 2.0, 1.0, 1.0, -1.0, 1.0], [-1.5, 0.5, 3.0, 3.0, -1.0, -1.0], [0.5, -0.5, 1.0, -1.5, -1.5, -2.0]]> : tensor<3x6xf32>
  %codes = arith.constant dense<[[0, -4, -3, 6, 5, 5], [1, -6, 4, 2, 6, 0], [-5, 1, -1, 2, -2, -3], [-6, 7, 4, -1, -4, 2]]> : tensor<4x6xi8>
  %alpha = arith.constant dense<[1.0, 1.5, 0.5, 0.5]> : tensor<4xf32>
  %y = call @matmul_4bit_with_zero(%x, %codes, %alpha) : (tensor<3x6xf32>, tensor<4x6xi8>, tensor<4xf32>) -> tensor<3x4xf32>
  %m = bufferization.to_buffer %y : tensor<3x4xf32> to memref<3x4xf32>
  %u = memref.cast %m : memref<3x4xf32> to memref<*xf32>
  vector.print str "matmul_4bit_with_zero\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// 8-bit zero-free codes reach +-128 and live in i16: with emin = -124,
// code 128 is 2^3 and code 125 is 2^0.
// CHECK-LABEL: {{^}}matmul_8bit_zero_free_i16
// CHECK-NEXT: sizes = [2, 2]
// CHECK-NEXT: [40, -0.5]
// CHECK-NEXT: [-30, 11.5]
func.func @matmul_8bit_zero_free_i16(%x: tensor<2x5xf32>, %codes: tensor<2x5xi16>, %alpha: tensor<2xf32>) -> tensor<2x2xf32> {
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 8, zero_free = true, emin = -124>}
      : tensor<2x5xf32>, tensor<2x5xi16>, tensor<2xf32> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

func.func @run_matmul_8bit_zero_free_i16() {
  %x = arith.constant dense<[[1.0, -2.0, 1.0, -0.5, -2.0], [1.0, 1.0, 2.0, 3.0, 1.0]]> : tensor<2x5xf32>
  %codes = arith.constant dense<[[128, -127, 126, -128, 125], [-126, 127, 128, 126, -125]]> : tensor<2x5xi16>
  %alpha = arith.constant dense<[2.0, 0.5]> : tensor<2xf32>
  %y = call @matmul_8bit_zero_free_i16(%x, %codes, %alpha) : (tensor<2x5xf32>, tensor<2x5xi16>, tensor<2xf32>) -> tensor<2x2xf32>
  %m = bufferization.to_buffer %y : tensor<2x2xf32> to memref<2x2xf32>
  %u = memref.cast %m : memref<2x2xf32> to memref<*xf32>
  vector.print str "matmul_8bit_zero_free_i16\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @main() {
  call @run_matmul_hand_checked() : () -> ()
  call @run_matmul_2bit_zero_free() : () -> ()
  call @run_matmul_2bit_with_zero() : () -> ()
  call @run_matmul_3bit_zero_free() : () -> ()
  call @run_matmul_3bit_with_zero() : () -> ()
  call @run_matmul_4bit_zero_free() : () -> ()
  call @run_matmul_4bit_with_zero() : () -> ()
  call @run_matmul_8bit_zero_free_i16() : () -> ()
  return
}
