// RUN: denseshift-opt %s -split-input-file -shift-outline-kernels="target=x86-64-avx2" \
// RUN:   -convert-shift-to-linalg \
// RUN:   -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   -convert-shift-to-vector | FileCheck %s

// The packed weight bytes, byte for byte, worked out by hand from the formats
// of docs/kernels.md (raw code = sign << (b-1) | magnitude field, where the
// field is |c| - 1 for zero-free and |c| with zero).

// Convolution codes: b bits each, little-endian bit order, in the kernels'
// table order [group, block, channel, kh, kw, row] (a chunk of 8 codes is
// b bytes, decoded with one load), plus 8 spare bytes.
// 3-bit zero-free codes [1, -1, 4, -3] are raw [0b000, 0b100, 0b011, 0b110]:
// bits 0-2 = 0, bits 3-5 = 4 (byte 0 |= 32), bits 6-8 = 3 (byte 0 |= 192),
// bits 9-11 = 6 (byte 1 |= 12): bytes [224, 12], the chunk's third byte 0,
// then the 8 spare bytes; 224 is -32.
// CHECK-LABEL: memref.global "private" constant @__shift_conv2d_0_codes : memref<11xi8> = dense<[-32, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0]>
func.func @conv(%x: tensor<1x1x6x6xf32>) -> tensor<1x1x5x5xf32> {
  %c = arith.constant dense<[[[[1, -1], [4, -3]]]]> : tensor<1x1x2x2xi8>
  %a = arith.constant dense<[1.0]> : tensor<1xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x1x6x6xf32>, tensor<1x1x2x2xi8>, tensor<1xf32> -> tensor<1x1x5x5xf32>
  return %y : tensor<1x1x5x5xf32>
}

// -----

// Two filters (a block of 2 rows) of a 1x2 kernel: FCHW codes
// f0 = [1, 2], f1 = [-1, -2] go in table order (tap, row): [1, -1, 2, -2],
// raw [0b000, 0b100, 0b001, 0b101]: byte 0 = 4 << 3 | 1 << 6 = 96, byte 1 =
// 5 << 1 = 10 (bits 9-11).
// CHECK-LABEL: memref.global "private" constant @__shift_conv2d_0_codes : memref<11xi8> = dense<[96, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0]>
func.func @conv_rows(%x: tensor<1x1x3x3xf32>) -> tensor<1x2x3x2xf32> {
  %c = arith.constant dense<[[[[1, 2]]], [[[-1, -2]]]]> : tensor<2x1x1x2xi8>
  %a = arith.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x1x3x3xf32>, tensor<2x1x1x2xi8>, tensor<2xf32> -> tensor<1x2x3x2xf32>
  return %y : tensor<1x2x3x2xf32>
}

// -----

// A depthwise 1x3 kernel on 2 channels: blocks of one row and 3 entries, so
// one chunk holds both groups back to back. Codes [1, -1, 2] and [-2, 4, -4]
// are raw [0, 4, 1, 5, 3, 7] at bits 0, 3, 6, 9, 12, 15: byte 0 = 32 | 64 =
// 96, byte 1 = 5 << 1 | 3 << 4 | (7 << 7 & 255) = 186 (-70), byte 2 = 7 >> 1
// = 3.
// CHECK-LABEL: memref.global "private" constant @__shift_conv2d_0_codes : memref<11xi8> = dense<[96, -70, 3, 0, 0, 0, 0, 0, 0, 0, 0]>
func.func @conv_depthwise(%x: tensor<1x2x2x4xf32>) -> tensor<1x2x2x2xf32> {
  %c = arith.constant dense<[[[[1, -1, 2]]], [[[-2, 4, -4]]]]> : tensor<2x1x1x3xi8>
  %a = arith.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %y = shift.conv2d %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>, layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, groups = 2 : i64} : tensor<1x2x2x4xf32>, tensor<2x1x1x3xi8>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// -----

// Matmul codes of <= 4 bits: one nibble each, sign at bit 3; a row is cut in
// chunks of 2 x 8 columns (AVX2: 8 lanes), column j of a chunk in the low
// nibble of byte j, column 8 + j in the high nibble. Rows are padded to a
// whole chunk (5 -> 16 columns, 8 bytes), the three rows to a register block.
// Row 0, [1, -2, 3, -4, 1] zero-free: raw [0, 8|1, 2, 8|3, 0].
// CHECK-LABEL: memref.global "private" constant @__shift_matmul_0_codes : memref<3x8xi8> = dense<{{\[}}[0, 9, 2, 11, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0], [8, 8, 3, 3, 0, 0, 0, 0]]>
func.func @fc(%x: tensor<2x5xf32>) -> tensor<2x3xf32> {
  %c = arith.constant dense<[[1, -2, 3, -4, 1], [2, 2, 2, 2, 2], [-1, -1, 4, 4, 1]]> : tensor<3x5xi8>
  %a = arith.constant dense<1.0> : tensor<3xf32>
  %y = shift.matmul %x, %c, %a {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>} : tensor<2x5xf32>, tensor<3x5xi8>, tensor<3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// 4-bit with-zero (field = |c|, 0 is zero): columns 0-7 [0, 1, -1, 7, -7, 2,
// 0, 0] are low nibbles [0, 1, 9, 7, 15, 2, 0, 0]; columns 8-11 [3, -3, 1, -1]
// are raw [3, 11, 1, 9] in the high nibbles of bytes 0-3: 48, 177 (-79),
// 25, 151 (-105).
// CHECK-LABEL: memref.global "private" constant @__shift_matmul_0_codes : memref<1x8xi8> = dense<{{\[}}[48, -79, 25, -105, 15, 2, 0, 0]]>
func.func @fc_high_nibbles(%x: tensor<2x12xf32>) -> tensor<2x1xf32> {
  %c = arith.constant dense<[[0, 1, -1, 7, -7, 2, 0, 0, 3, -3, 1, -1]]> : tensor<1x12xi8>
  %a = arith.constant dense<1.0> : tensor<1xf32>
  %y = shift.matmul %x, %c, %a {encoding = #shift.encoding<bits = 4, zero_free = false, emin = 0>} : tensor<2x12xf32>, tensor<1x12xi8>, tensor<1xf32> -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}

// -----

// Wider matmul codes take a byte each (sign at bit 7), the row padded to 16:
// 8-bit zero-free [128, -128, 1, -1, 66] are raw [127, 128|127, 0, 128|0, 65]
// = [127, -1, 0, -128, 65]. emin = -100 goes into alpha (2^-100).
// CHECK: memref.global "private" constant @__shift_matmul_0_alpha : memref<1xf32> = dense<7.88860905E-31>
// CHECK: memref.global "private" constant @__shift_matmul_0_codes : memref<1x16xi8> = dense<{{\[}}[127, -1, 0, -128, 65, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]>
func.func @fc_bytes(%x: tensor<2x5xf32>) -> tensor<2x1xf32> {
  %c = arith.constant dense<[[128, -128, 1, -1, 66]]> : tensor<1x5xi16>
  %a = arith.constant dense<1.0> : tensor<1xf32>
  %y = shift.matmul %x, %c, %a {encoding = #shift.encoding<bits = 8, zero_free = true, emin = -100>} : tensor<2x5xf32>, tensor<1x5xi16>, tensor<1xf32> -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}
