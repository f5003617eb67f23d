// Upstream tile-and-vectorize attempt for linalg.depthwise_conv_2d_nchw_chw
// (bench/run.py, candidate mlir-vec). Expected to FAIL with MLIR 22, and kept
// so that every run shows the reason: the upstream route to vectorize a 2-D
// conv is tile (OH and KH to 1) + transform.structured.decompose to a 1-D
// conv + vectorize, and decompose only handles the NHWC depthwise op
// (depthwise_conv_2d_nhwc_hwc). Generalizing instead and vectorizing the
// generic fails too ("Attempted to vectorize, but failed": the input map
// d1 + d4 is not a projected permutation), and convert_conv2d_to_img2col
// has no NCHW depthwise form either.
// Iterators of depthwise_conv_2d_nchw_chw: (n, oh, ow, c, kh, kw).
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    %dw = transform.structured.match ops{["linalg.depthwise_conv_2d_nchw_chw"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %t, %l:6 = transform.structured.tile_using_for %dw tile_sizes [1, 1, 14, 16, 1, 1]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op,
                                  !transform.any_op, !transform.any_op, !transform.any_op,
                                  !transform.any_op)
    %d = transform.structured.decompose %t : (!transform.any_op) -> !transform.any_op
    %f = transform.structured.match ops{["func.func"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %fv = transform.structured.vectorize_children_and_apply_patterns %f
        : (!transform.any_op) -> !transform.any_op
    %b = transform.bufferization.one_shot_bufferize layout{IdentityLayoutMap} %root
        {bufferize_function_boundaries = true, memcpy_op = "linalg.copy"}
        : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
