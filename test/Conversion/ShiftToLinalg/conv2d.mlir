// RUN: denseshift-opt %s --convert-shift-to-linalg --split-input-file | FileCheck %s

// shift.conv2d becomes: dequantize the codes (alpha along F), zero-pad the
// input with tensor.pad, split the channels into (group, channel-in-group)
// with tensor.expand_shape, one 8-D linalg.generic whose input map carries
// stride * output + dilation * kernel, and tensor.collapse_shape back.

// NCHW/FCHW, one group, padding 1 on every side, stride 1, dilation 1.
// CHECK-DAG: #[[$DQ_ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$DQ_F:.*]] = affine_map<(d0, d1, d2, d3) -> (d0)>
// CHECK-DAG: #[[$IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 + d6, d4 + d7)>
// CHECK-DAG: #[[$FILTER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-DAG: #[[$OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func.func @nchw_padded
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8x8xf32>, %[[CODES:.*]]: tensor<8x4x3x3xi8>, %[[ALPHA:.*]]: tensor<8xf32>)
// CHECK: %[[W:.*]] = linalg.generic {indexing_maps = [#[[$DQ_ID]], #[[$DQ_F]], #[[$DQ_ID]]]
// CHECK-SAME: ins(%[[CODES]], %[[ALPHA]] : tensor<8x4x3x3xi8>, tensor<8xf32>)
// CHECK: %[[PADDED:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK:   tensor.yield %{{.*}} : f32
// CHECK: } : tensor<1x4x8x8xf32> to tensor<1x4x10x10xf32>
// CHECK: %[[X5:.*]] = tensor.expand_shape %[[PADDED]] {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 1, 4, 10, 10] : tensor<1x4x10x10xf32> into tensor<1x1x4x10x10xf32>
// CHECK: %[[W5:.*]] = tensor.expand_shape %[[W]] {{\[}}[0, 1], [2], [3], [4]] output_shape [1, 8, 4, 3, 3] : tensor<8x4x3x3xf32> into tensor<1x8x4x3x3xf32>
// CHECK: %[[ZEROS:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x1x8x8x8xf32>)
// CHECK: %[[Y5:.*]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$FILTER]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[X5]], %[[W5]] : tensor<1x1x4x10x10xf32>, tensor<1x8x4x3x3xf32>) outs(%[[ZEROS]] : tensor<1x1x8x8x8xf32>)
// CHECK-NEXT: ^bb0(%[[XV:.*]]: f32, %[[WV:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT:   %[[PROD:.*]] = arith.mulf %[[XV]], %[[WV]] : f32
// CHECK-NEXT:   %[[SUM:.*]] = arith.addf %[[ACC]], %[[PROD]] : f32
// CHECK-NEXT:   linalg.yield %[[SUM]] : f32
// CHECK: %[[Y:.*]] = tensor.collapse_shape %[[Y5]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x1x8x8x8xf32> into tensor<1x8x8x8xf32>
// CHECK: return %[[Y]]
func.func @nchw_padded(%x: tensor<1x4x8x8xf32>, %codes: tensor<8x4x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x8x8xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, groups = 1 : i64}
      : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  return %y : tensor<1x8x8x8xf32>
}

// -----

// NCHW, 2 groups, no padding (no tensor.pad), stride (2, 3), dilation (3, 2):
// OH = (11 - 3*2 - 1) / 2 + 1 = 3, OW = (12 - 2*2 - 1) / 3 + 1 = 3.
// CHECK-DAG: #[[$IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 * 2 + d6 * 3, d4 * 3 + d7 * 2)>
// CHECK-LABEL: func.func @nchw_grouped_strided_dilated
// CHECK-NOT: tensor.pad
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2], [3], [4]] output_shape [2, 2, 3, 11, 12] : tensor<2x6x11x12xf32> into tensor<2x2x3x11x12xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 2, 3, 3, 3] : tensor<4x3x3x3xf32> into tensor<2x2x3x3x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$IN]], #{{.*}}, #{{.*}}]
// CHECK-SAME: outs(%{{.*}} : tensor<2x2x2x3x3xf32>)
// CHECK: tensor.collapse_shape %{{.*}} : tensor<2x2x2x3x3xf32> into tensor<2x4x3x3xf32>
func.func @nchw_grouped_strided_dilated(%x: tensor<2x6x11x12xf32>, %codes: tensor<4x3x3x3xi8>, %alpha: tensor<4xf32>) -> tensor<2x4x3x3xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 2, zero_free = false, emin = 0>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 2, 3>,
      dilations = array<i64: 3, 2>, padding = array<i64: 0, 0, 0, 0>, groups = 2 : i64}
      : tensor<2x6x11x12xf32>, tensor<4x3x3x3xi8>, tensor<4xf32> -> tensor<2x4x3x3xf32>
  return %y : tensor<2x4x3x3xf32>
}

// -----

// Depthwise NCHW: groups = C = F = 8, one channel per group.
// CHECK-LABEL: func.func @nchw_depthwise
// CHECK: tensor.expand_shape %{{.*}} output_shape [1, 8, 1, 5, 5] : tensor<1x8x5x5xf32> into tensor<1x8x1x5x5xf32>
// CHECK: tensor.expand_shape %{{.*}} output_shape [8, 1, 1, 3, 3] : tensor<8x1x3x3xf32> into tensor<8x1x1x3x3xf32>
// CHECK: tensor.collapse_shape %{{.*}} : tensor<1x8x1x3x3xf32> into tensor<1x8x3x3xf32>
func.func @nchw_depthwise(%x: tensor<1x8x5x5xf32>, %codes: tensor<8x1x3x3xi8>, %alpha: tensor<8xf32>) -> tensor<1x8x3x3xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 4, zero_free = true, emin = -4>,
      layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, groups = 8 : i64}
      : tensor<1x8x5x5xf32>, tensor<8x1x3x3xi8>, tensor<8xf32> -> tensor<1x8x3x3xf32>
  return %y : tensor<1x8x3x3xf32>
}

// -----

// NHWC/HWCF, 2 groups, asymmetric padding [top 0, left 1, bottom 2, right 0],
// stride 2, dilation 2: OH = (9 + 2 - 4 - 1) / 2 + 1 = 4,
// OW = (9 + 1 - 4 - 1) / 2 + 1 = 3. Alpha runs along F = axis 3.
// CHECK-DAG: #[[$DQ_ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$DQ_F:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-DAG: #[[$IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1 * 2 + d5 * 2, d2 * 2 + d6 * 2, d3, d7)>
// CHECK-DAG: #[[$FILTER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d5, d6, d7, d3, d4)>
// CHECK-DAG: #[[$OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func.func @nhwc_grouped_padded
// CHECK-SAME: (%[[X:.*]]: tensor<2x9x9x6xf32>, %[[CODES:.*]]: tensor<3x3x3x4xi8>, %[[ALPHA:.*]]: tensor<4xf32>)
// CHECK: %[[W:.*]] = linalg.generic {indexing_maps = [#[[$DQ_ID]], #[[$DQ_F]], #[[$DQ_ID]]]
// CHECK: %[[PADDED:.*]] = tensor.pad %[[X]] low[0, 0, 1, 0] high[0, 2, 0, 0]
// CHECK: } : tensor<2x9x9x6xf32> to tensor<2x11x10x6xf32>
// CHECK: %[[X5:.*]] = tensor.expand_shape %[[PADDED]] {{\[}}[0], [1], [2], [3, 4]] output_shape [2, 11, 10, 2, 3] : tensor<2x11x10x6xf32> into tensor<2x11x10x2x3xf32>
// CHECK: %[[W5:.*]] = tensor.expand_shape %[[W]] {{\[}}[0], [1], [2], [3, 4]] output_shape [3, 3, 3, 2, 2] : tensor<3x3x3x4xf32> into tensor<3x3x3x2x2xf32>
// CHECK: %[[Y5:.*]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$FILTER]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[X5]], %[[W5]] : tensor<2x11x10x2x3xf32>, tensor<3x3x3x2x2xf32>) outs(%{{.*}} : tensor<2x4x3x2x2xf32>)
// CHECK: %[[Y:.*]] = tensor.collapse_shape %[[Y5]] {{\[}}[0], [1], [2], [3, 4]] : tensor<2x4x3x2x2xf32> into tensor<2x4x3x4xf32>
// CHECK: return %[[Y]]
func.func @nhwc_grouped_padded(%x: tensor<2x9x9x6xf32>, %codes: tensor<3x3x3x4xi8>, %alpha: tensor<4xf32>) -> tensor<2x4x3x4xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 4, zero_free = false, emin = -3>,
      layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 2, 2>,
      dilations = array<i64: 2, 2>, padding = array<i64: 0, 1, 2, 0>, groups = 2 : i64}
      : tensor<2x9x9x6xf32>, tensor<3x3x3x4xi8>, tensor<4xf32> -> tensor<2x4x3x4xf32>
  return %y : tensor<2x4x3x4xf32>
}

// -----

// Depthwise NHWC with channel multiplier 2 (C = 3, F = 6, groups = 3) and
// i16 codes.
// CHECK-LABEL: func.func @nhwc_depthwise_multiplier
// CHECK: arith.extsi %{{.*}} : i16 to i32
// CHECK: tensor.expand_shape %{{.*}} output_shape [1, 4, 4, 3, 1] : tensor<1x4x4x3xf32> into tensor<1x4x4x3x1xf32>
// CHECK: tensor.expand_shape %{{.*}} output_shape [3, 3, 1, 3, 2] : tensor<3x3x1x6xf32> into tensor<3x3x1x3x2xf32>
// CHECK: tensor.collapse_shape %{{.*}} : tensor<1x2x2x3x2xf32> into tensor<1x2x2x6xf32>
func.func @nhwc_depthwise_multiplier(%x: tensor<1x4x4x3xf32>, %codes: tensor<3x3x1x6xi16>, %alpha: tensor<6xf32>) -> tensor<1x2x2x6xf32> {
  %y = shift.conv2d %x, %codes, %alpha {
      encoding = #shift.encoding<bits = 8, zero_free = true, emin = -64>,
      layout = #shift.layout<nhwc_hwcf>, strides = array<i64: 1, 1>,
      dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, groups = 3 : i64}
      : tensor<1x4x4x3xf32>, tensor<3x3x1x6xi16>, tensor<6xf32> -> tensor<1x2x2x6xf32>
  return %y : tensor<1x2x2x6xf32>
}
