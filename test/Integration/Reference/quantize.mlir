// RUN: denseshift-opt %s --convert-shift-to-linalg --convert-elementwise-to-linalg \
// RUN: | denseshift-opt --one-shot-bufferize=bufferize-function-boundaries \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s

// Executes the reference lowering of shift.quantize and shift.dequantize.
// The shift ops take function arguments, so no folder runs instead of the
// lowering. The same weights fold to the same codes in
// test/Dialect/Shift/canonicalize.mlir (@quantize_exact_ratio): folding and
// running must agree.

// 3-bit zero-free, emin = 0, per row (axis 0); alpha = max|w| / 8.
// Row 0: alpha = 1. 1.41421354 / 1.41421366 are the f32 on either side of
// sqrt(2): codes 1 and 2. +-0 take code +1; -0.1 clamps to -1.
// Row 1: alpha = 4.57663822 / 8 = 0.572079778. The ratios 0.80904293 / alpha
// = sqrt(2) - 8.7e-8 and 0.80904299 / alpha = sqrt(2) + 1.7e-8 fall on
// either side of sqrt(2), but an f32 division rounds both to the f32 just
// below sqrt(2); the decision must use the exact ratio (codes 1 and 2).
// 3.0 / alpha = 5.24 < 4 * sqrt(2): code -3.
// Row 2: all zeros: alpha = 0, codes +1.
// CHECK-LABEL: {{^}}quantize_zero_free
// CHECK-NEXT: sizes = [3, 6]
// CHECK-NEXT: [4, 1, 2, 1, 1, -1]
// CHECK-NEXT: [4, 1, 2, -2, 2, -3]
// CHECK-NEXT: [1, 1, 1, 1, 1, 1]
// CHECK: sizes = [3]
// CHECK-NEXT: [1, 0.57208, 0]
func.func @quantize_zero_free(%w: tensor<3x6xf32>) -> (tensor<3x6xi8>, tensor<3xf32>) {
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<3x6xf32> -> tensor<3x6xi8>, tensor<3xf32>
  return %codes, %alpha : tensor<3x6xi8>, tensor<3xf32>
}

func.func @run_quantize_zero_free() {
  %w = arith.constant dense<[[8.0, 1.41421354, 1.41421366, -0.0, 0.0, -0.1],
                             [4.57663822, 0.809042931, 0.80904299, -0.80904299, 0.80904305, -3.0],
                             [0.0, -0.0, 0.0, 0.0, -0.0, 0.0]]> : tensor<3x6xf32>
  %codes, %alpha = call @quantize_zero_free(%w) : (tensor<3x6xf32>) -> (tensor<3x6xi8>, tensor<3xf32>)
  vector.print str "quantize_zero_free\n"
  call @printCodes(%codes) : (tensor<3x6xi8>) -> ()
  call @printAlpha(%alpha) : (tensor<3xf32>) -> ()
  return
}

// 3-bit with-zero, emin = -1, per column (axis 1): exponents [-1, 1],
// alpha = max|w| / 2. Column 0: alpha = 1; 0.36 = 2^-1.47 rounds to 2^-1
// (code 1), 0.35 = 2^-1.51 to code 0, -2 to code -3. Column 1: alpha = 3;
// 0.3 / 3 rounds below emin (code 0), -1.5 / 3 = 2^-1 (code -1).
// CHECK-LABEL: {{^}}quantize_with_zero_axis1
// CHECK-NEXT: sizes = [4, 2]
// CHECK-NEXT: [3, 3]
// CHECK-NEXT: [1, 0]
// CHECK-NEXT: [0, -1]
// CHECK-NEXT: [-3, 0]
// CHECK: sizes = [2]
// CHECK-NEXT: [1, 3]
func.func @quantize_with_zero_axis1(%w: tensor<4x2xf32>) -> (tensor<4x2xi8>, tensor<2xf32>) {
  %codes, %alpha = shift.quantize %w {axis = 1 : i64, encoding = #shift.encoding<bits = 3, zero_free = false, emin = -1>}
      : tensor<4x2xf32> -> tensor<4x2xi8>, tensor<2xf32>
  return %codes, %alpha : tensor<4x2xi8>, tensor<2xf32>
}

func.func @run_quantize_with_zero_axis1() {
  %w = arith.constant dense<[[2.0, 6.0], [0.36, 0.3], [0.35, -1.5], [-2.0, -0.0]]> : tensor<4x2xf32>
  %codes, %alpha = call @quantize_with_zero_axis1(%w) : (tensor<4x2xf32>) -> (tensor<4x2xi8>, tensor<2xf32>)
  vector.print str "quantize_with_zero_axis1\n"
  call @printCodes4x2(%codes) : (tensor<4x2xi8>) -> ()
  call @printAlpha2(%alpha) : (tensor<2xf32>) -> ()
  return
}

// dequantize(quantize(w)) rounds w to the format: 4-bit zero-free, emin = -2,
// alpha = 6 / 2^5 = 0.1875. 1.0 / alpha = 2^2.415 -> 2^2 = 0.75;
// -0.3 / alpha = 2^0.678 -> -2^1 = -0.375; 0.01 clamps to 2^-2 = 0.046875.
// CHECK-LABEL: {{^}}round_trip
// CHECK-NEXT: sizes = [1, 4]
// CHECK-NEXT: [6, 0.75, -0.375, 0.046875]
func.func @round_trip(%w: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %codes, %alpha = shift.quantize %w {encoding = #shift.encoding<bits = 4, zero_free = true, emin = -2>}
      : tensor<1x4xf32> -> tensor<1x4xi8>, tensor<1xf32>
  %r = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 4, zero_free = true, emin = -2>}
      : tensor<1x4xi8>, tensor<1xf32> -> tensor<1x4xf32>
  return %r : tensor<1x4xf32>
}

func.func @run_round_trip() {
  %w = arith.constant dense<[[6.0, 1.0, -0.3, 0.01]]> : tensor<1x4xf32>
  %r = call @round_trip(%w) : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %m = bufferization.to_buffer %r : tensor<1x4xf32> to memref<1x4xf32>
  %u = memref.cast %m : memref<1x4xf32> to memref<*xf32>
  vector.print str "round_trip\n"
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func private @printMemrefI32(memref<*xi32>) attributes {llvm.emit_c_interface}
func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @printCodes(%codes: tensor<3x6xi8>) {
  %wide = arith.extsi %codes : tensor<3x6xi8> to tensor<3x6xi32>
  %m = bufferization.to_buffer %wide : tensor<3x6xi32> to memref<3x6xi32>
  %u = memref.cast %m : memref<3x6xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @printCodes4x2(%codes: tensor<4x2xi8>) {
  %wide = arith.extsi %codes : tensor<4x2xi8> to tensor<4x2xi32>
  %m = bufferization.to_buffer %wide : tensor<4x2xi32> to memref<4x2xi32>
  %u = memref.cast %m : memref<4x2xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @printAlpha(%alpha: tensor<3xf32>) {
  %m = bufferization.to_buffer %alpha : tensor<3xf32> to memref<3xf32>
  %u = memref.cast %m : memref<3xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @printAlpha2(%alpha: tensor<2xf32>) {
  %m = bufferization.to_buffer %alpha : tensor<2xf32> to memref<2xf32>
  %u = memref.cast %m : memref<2xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  call @run_quantize_zero_free() : () -> ()
  call @run_quantize_with_zero_axis1() : () -> ()
  call @run_round_trip() : () -> ()
  return
}
