// RUN: denseshift-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of the shift dialect.

//===----------------------------------------------------------------------===//
// #shift.encoding
//===----------------------------------------------------------------------===//

func.func @bits_too_small(%w: tensor<4xf32>) -> (tensor<4xi8>, tensor<4xf32>) {
  // expected-error @+1 {{bits must be in [2, 8], got 1}}
  %c, %a = shift.quantize %w {encoding = #shift.encoding<bits = 1, zero_free = true, emin = 0>}
      : tensor<4xf32> -> tensor<4xi8>, tensor<4xf32>
  return %c, %a : tensor<4xi8>, tensor<4xf32>
}

// -----

func.func @bits_too_large(%w: tensor<4xf32>) -> (tensor<4xi16>, tensor<4xf32>) {
  // expected-error @+1 {{bits must be in [2, 8], got 9}}
  %c, %a = shift.quantize %w {encoding = #shift.encoding<bits = 9, zero_free = false, emin = 0>}
      : tensor<4xf32> -> tensor<4xi16>, tensor<4xf32>
  return %c, %a : tensor<4xi16>, tensor<4xf32>
}

// -----

func.func @emin_below_normal_range() attributes {
  // expected-error @+1 {{exponents [-127, -124] must lie in the normal f32 range [-126, 127]}}
  enc = #shift.encoding<bits = 3, zero_free = true, emin = -127>} {
  return
}

// -----

func.func @largest_exponent_above_normal_range() attributes {
  // 3-bit zero-free spans 4 exponents: 125 + 3 = 128 is too large.
  // expected-error @+1 {{exponents [125, 128] must lie in the normal f32 range [-126, 127]}}
  enc = #shift.encoding<bits = 3, zero_free = true, emin = 125>} {
  return
}

// -----

func.func @eight_bit_top_exponent() attributes {
  // 8-bit zero-free spans 128 exponents: emin 1 reaches 128.
  // expected-error @+1 {{exponents [1, 128] must lie in the normal f32 range [-126, 127]}}
  enc = #shift.encoding<bits = 8, zero_free = true, emin = 1>} {
  return
}

// -----

func.func @unknown_layout() attributes {
  // expected-error @+2 {{expected ::mlir::shift::ConvLayout to be one of: nchw_fchw, nhwc_hwcf}}
  // expected-error @+1 {{failed to parse Shift_ConvLayoutAttr parameter 'value'}}
  layout = #shift.layout<nchw_hwcf>} {
  return
}

// -----

//===----------------------------------------------------------------------===//
// Codes
//===----------------------------------------------------------------------===//

func.func @code_above_range(%alpha: tensor<2xf32>) -> tensor<2x2xf32> {
  %codes = arith.constant dense<[[1, 2], [4, 5]]> : tensor<2x2xi8>
  // expected-error @+1 {{code 5 at flat index 3 is out of range [-4, 4] for 3-bit codes}}
  %w = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<2x2xi8>, tensor<2xf32> -> tensor<2x2xf32>
  return %w : tensor<2x2xf32>
}

// -----

func.func @code_below_range_with_zero(%alpha: tensor<2xf32>) -> tensor<2x2xf32> {
  %codes = arith.constant dense<[[0, -4], [1, 3]]> : tensor<2x2xi8>
  // With zero, 3 bits give codes [-3, 3].
  // expected-error @+1 {{code -4 at flat index 1 is out of range [-3, 3] for 3-bit codes}}
  %w = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = false, emin = 0>}
      : tensor<2x2xi8>, tensor<2xf32> -> tensor<2x2xf32>
  return %w : tensor<2x2xf32>
}

// -----

func.func @zero_code_in_zero_free(%alpha: tensor<2xf32>) -> tensor<2x2xf32> {
  %codes = arith.constant dense<[[1, -1], [0, 2]]> : tensor<2x2xi8>
  // expected-error @+1 {{code 0 at flat index 2 is not allowed in a zero-free encoding}}
  %w = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 2, zero_free = true, emin = 0>}
      : tensor<2x2xi8>, tensor<2xf32> -> tensor<2x2xf32>
  return %w : tensor<2x2xf32>
}

// -----

func.func @zero_code_in_conv(%x: tensor<1x1x3x3xf32>, %alpha: tensor<1xf32>) -> tensor<1x1x1x1xf32> {
  %codes = arith.constant dense<0> : tensor<1x1x3x3xi8>
  // expected-error @+1 {{code 0 at flat index 0 is not allowed in a zero-free encoding}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<1x1x3x3xf32>, tensor<1x1x3x3xi8>, tensor<1xf32> -> tensor<1x1x1x1xf32>
  return %y : tensor<1x1x1x1xf32>
}

// -----

func.func @code_out_of_range_in_matmul(%x: tensor<1x2xf32>, %alpha: tensor<1xf32>) -> tensor<1x1xf32> {
  %codes = arith.constant dense<[[8, -9]]> : tensor<1x2xi8>
  // expected-error @+1 {{code -9 at flat index 1 is out of range [-8, 8] for 4-bit codes}}
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 4, zero_free = true, emin = 0>}
      : tensor<1x2xf32>, tensor<1x2xi8>, tensor<1xf32> -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @i8_codes_for_eight_bit_zero_free(%w: tensor<4xf32>) -> (tensor<4xi8>, tensor<4xf32>) {
  // expected-error @+1 {{codes of a 8-bit zero-free encoding need i16 elements, got i8}}
  %c, %a = shift.quantize %w {encoding = #shift.encoding<bits = 8, zero_free = true, emin = -64>}
      : tensor<4xf32> -> tensor<4xi8>, tensor<4xf32>
  return %c, %a : tensor<4xi8>, tensor<4xf32>
}

// -----

func.func @i8_codes_for_eight_bit_zero_free_conv(%x: tensor<1x1x3x3xf32>, %codes: tensor<1x1x3x3xi8>, %alpha: tensor<1xf32>) -> tensor<1x1x1x1xf32> {
  // expected-error @+1 {{codes of a 8-bit zero-free encoding need i16 elements, got i8}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 8, zero_free = true, emin = -64>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<1x1x3x3xf32>, tensor<1x1x3x3xi8>, tensor<1xf32> -> tensor<1x1x1x1xf32>
  return %y : tensor<1x1x1x1xf32>
}

// -----

func.func @i32_codes(%codes: tensor<4xi32>, %alpha: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 8-bit signless integer or 16-bit signless integer values}}
  %w = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<4xi32>, tensor<4xf32> -> tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// shift.quantize / shift.dequantize
//===----------------------------------------------------------------------===//

func.func @quantize_shape_mismatch(%w: tensor<4x3xf32>) -> (tensor<4x4xi8>, tensor<4xf32>) {
  // expected-error @+1 {{codes shape must equal the weights shape}}
  %c, %a = shift.quantize %w {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<4x3xf32> -> tensor<4x4xi8>, tensor<4xf32>
  return %c, %a : tensor<4x4xi8>, tensor<4xf32>
}

// -----

func.func @dequantize_shape_mismatch(%codes: tensor<4x3xi8>, %alpha: tensor<4xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{result shape must equal the codes shape}}
  %w = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<4x3xi8>, tensor<4xf32> -> tensor<3x4xf32>
  return %w : tensor<3x4xf32>
}

// -----

func.func @quantize_wrong_alpha_length(%w: tensor<4x3xf32>) -> (tensor<4x3xi8>, tensor<3xf32>) {
  // expected-error @+1 {{alpha has 3 elements but there are 4 output channels}}
  %c, %a = shift.quantize %w {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<4x3xf32> -> tensor<4x3xi8>, tensor<3xf32>
  return %c, %a : tensor<4x3xi8>, tensor<3xf32>
}

// -----

func.func @dequantize_wrong_alpha_length_axis1(%codes: tensor<4x3xi8>, %alpha: tensor<4xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{alpha has 4 elements but there are 3 output channels}}
  %w = shift.dequantize %codes, %alpha {axis = 1 : i64, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<4x3xi8>, tensor<4xf32> -> tensor<4x3xf32>
  return %w : tensor<4x3xf32>
}

// -----

func.func @quantize_axis_out_of_range(%w: tensor<4x3xf32>) -> (tensor<4x3xi8>, tensor<4xf32>) {
  // expected-error @+1 {{axis 2 is out of range for a rank-2 tensor}}
  %c, %a = shift.quantize %w {axis = 2 : i64, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<4x3xf32> -> tensor<4x3xi8>, tensor<4xf32>
  return %c, %a : tensor<4x3xi8>, tensor<4xf32>
}

// -----

func.func @dequantize_negative_axis(%codes: tensor<4x3xi8>, %alpha: tensor<4xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{axis -1 is out of range for a rank-2 tensor}}
  %w = shift.dequantize %codes, %alpha {axis = -1 : i64, encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<4x3xi8>, tensor<4xf32> -> tensor<4x3xf32>
  return %w : tensor<4x3xf32>
}

// -----

func.func @quantize_rank0(%w: tensor<f32>) -> (tensor<i8>, tensor<1xf32>) {
  // expected-error @+1 {{axis 0 is out of range for a rank-0 tensor}}
  %c, %a = shift.quantize %w {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<f32> -> tensor<i8>, tensor<1xf32>
  return %c, %a : tensor<i8>, tensor<1xf32>
}

// -----

func.func @alpha_rank2(%codes: tensor<4x3xi8>, %alpha: tensor<4x1xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{operand #1 must be 1D tensor of 32-bit float values}}
  %w = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<4x3xi8>, tensor<4x1xf32> -> tensor<4x3xf32>
  return %w : tensor<4x3xf32>
}

// -----

//===----------------------------------------------------------------------===//
// shift.conv2d
//===----------------------------------------------------------------------===//

func.func @conv_bad_rank(%x: tensor<4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{input, codes and result must be rank 4}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_three_strides(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{strides and dilations need 2 values (H, W)}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_two_paddings(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x8x8xf32> {
  // expected-error @+1 {{padding needs 4 values [top, left, bottom, right]}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 1, 1>}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  return %y : tensor<1x8x8x8xf32>
}

// -----

func.func @conv_zero_stride(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{strides must be positive, got 0}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 0>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_negative_stride(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{strides must be positive, got -1}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nhwc_hwcf>, strides = array<i64: -1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_zero_dilation(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{dilations must be positive, got 0}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 0, 1>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_negative_dilation(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{dilations must be positive, got -2}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, -2>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_negative_padding(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{padding must be non-negative, got -1}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 1, 0, -1, 0>}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_zero_groups(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{groups must be positive, got 0}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, groups = 0 : i64}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_dynamic(%x: tensor<?x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<?x8x6x6xf32> {
  // expected-error @+1 {{requires static shapes}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<?x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<?x8x6x6xf32>
  return %y : tensor<?x8x6x6xf32>
}

// -----

func.func @conv_groups_not_dividing_input_channels(%x: tensor<1x6x8x8xf32>, %codes: tensor<8x1x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{groups (4) must divide the 6 input channels}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, groups = 4 : i64}
      : tensor<1x6x8x8xf32>, tensor<8x1x3x3xi8>, tensor<8xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_groups_not_dividing_output_channels(%x: tensor<1x8x8x8xf32>, %codes: tensor<3x3x2x6xi8>, %alpha: tensor<6xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{groups (4) must divide the 6 output channels}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, groups = 4 : i64}
      : tensor<1x8x8x8xf32>, tensor<3x3x2x6xi8>, tensor<6xf32> -> tensor<1x6x6x6xf32>
  return %y : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_codes_channel_mismatch(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  // With 2 groups each filter sees 2 of the 4 input channels.
  // expected-error @+1 {{codes have 4 input channels per group, expected 2}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, groups = 2 : i64}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_kernel_too_large(%x: tensor<1x4x4x4xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x1x1xf32> {
  // Dilation 2 stretches the 3x3 kernel to 5x5.
  // expected-error @+1 {{the dilated kernel does not fit the padded input}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<1x4x4x4xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x1x1xf32>
  return %y : tensor<1x8x1x1xf32>
}

// -----

func.func @conv_wrong_result_shape_nchw(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x8x8xf32> {
  // expected-error @+1 {{result shape must be [1, 8, 6, 6]}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  return %y : tensor<1x8x8x8xf32>
}

// -----

func.func @conv_wrong_result_shape_nhwc_strided(%x: tensor<1x9x9x4xf32>, %codes: tensor<3x3x4x8xi8>, %alpha: tensor<8xf32>) -> tensor<1x4x4x8xf32> {
  // OH = (9 + 1 + 0 - 3) / 2 + 1 = 4, OW = (9 + 0 + 0 - 3) / 3 + 1 = 3.
  // expected-error @+1 {{result shape must be [1, 4, 3, 8]}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 2, 3>,
      dilations = array<i64: 1, 1>, padding = array<i64: 1, 0, 0, 0>}
      : tensor<1x9x9x4xf32>, tensor<3x3x4x8xi8>, tensor<8xf32> -> tensor<1x4x4x8xf32>
  return %y : tensor<1x4x4x8xf32>
}

// -----

func.func @conv_wrong_alpha_length(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<4xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{alpha has 4 elements but there are 8 output channels}}
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<4xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

//===----------------------------------------------------------------------===//
// shift.matmul
//===----------------------------------------------------------------------===//

func.func @matmul_bad_rank(%x: tensor<2x3x4xf32>, %codes: tensor<5x4xi8>, %alpha: tensor<5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{input, codes and result must be rank 2}}
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<2x3x4xf32>, tensor<5x4xi8>, tensor<5xf32> -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

func.func @matmul_dynamic(%x: tensor<?x4xf32>, %codes: tensor<5x4xi8>, %alpha: tensor<5xf32>) -> tensor<?x5xf32> {
  // expected-error @+1 {{requires static shapes}}
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<?x4xf32>, tensor<5x4xi8>, tensor<5xf32> -> tensor<?x5xf32>
  return %y : tensor<?x5xf32>
}

// -----

func.func @matmul_feature_mismatch(%x: tensor<2x3xf32>, %codes: tensor<5x4xi8>, %alpha: tensor<5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{input has 3 features but codes expect 4}}
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<2x3xf32>, tensor<5x4xi8>, tensor<5xf32> -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

func.func @matmul_wrong_result_shape(%x: tensor<2x4xf32>, %codes: tensor<5x4xi8>, %alpha: tensor<5xf32>) -> tensor<5x2xf32> {
  // expected-error @+1 {{result shape must be [2, 5]}}
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<2x4xf32>, tensor<5x4xi8>, tensor<5xf32> -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}

// -----

func.func @matmul_wrong_alpha_length(%x: tensor<2x4xf32>, %codes: tensor<5x4xi8>, %alpha: tensor<4xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{alpha has 4 elements but there are 5 output channels}}
  %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<2x4xf32>, tensor<5x4xi8>, tensor<4xf32> -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

//===----------------------------------------------------------------------===//
// shift.shift_accumulate
//===----------------------------------------------------------------------===//

func.func @accumulate_word_shape(%acc: vector<8xf32>, %x: vector<8xf32>, %word: vector<4xi32>) -> vector<8xf32> {
  // expected-error @+1 {{word type 'vector<4xi32>' must have the shape of acc type 'vector<8xf32>'}}
  %r = shift.shift_accumulate %acc, %x, %word {mode = #shift.mode<ieee>} : vector<8xf32>, vector<4xi32>
  return %r : vector<8xf32>
}

// -----

func.func @accumulate_scalar_word_for_vector(%acc: vector<8xf32>, %x: vector<8xf32>, %word: i32) -> vector<8xf32> {
  // expected-error @+1 {{word type 'i32' must have the shape of acc type 'vector<8xf32>'}}
  %r = shift.shift_accumulate %acc, %x, %word {mode = #shift.mode<ieee>} : vector<8xf32>, i32
  return %r : vector<8xf32>
}

// -----

func.func @accumulate_scalable_mismatch(%acc: vector<[4]xf32>, %x: vector<[4]xf32>, %word: vector<4xi32>) -> vector<[4]xf32> {
  // expected-error @+1 {{word type 'vector<4xi32>' must have the shape of acc type 'vector<[4]xf32>'}}
  %r = shift.shift_accumulate %acc, %x, %word {mode = #shift.mode<ieee>} : vector<[4]xf32>, vector<4xi32>
  return %r : vector<[4]xf32>
}

// -----

func.func @accumulate_f64(%acc: f64, %x: f64, %word: i32) -> f64 {
  // expected-error @+1 {{operand #0 must be 32-bit float or vector of 32-bit float values, but got 'f64'}}
  %r = shift.shift_accumulate %acc, %x, %word {mode = #shift.mode<ieee>} : f64, i32
  return %r : f64
}
