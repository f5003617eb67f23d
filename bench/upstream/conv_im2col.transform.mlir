// The best upstream tile-and-vectorize recipe found for linalg.conv_2d_nchw_fchw
// (bench/run.py, candidate mlir-vec). Upstream only, through the transform
// dialect:
//   1. im2col: the conv becomes a copy into a (C*KH*KW) x (OH*OW) matrix and a
//      matmul-like generic F x (C*KH*KW) x (OH*OW);
//   2. tile that generic to an 8 (F) x 16 (pixels) register block with a
//      reduction step of 16;
//   3. vectorize, lower vector.contract to outer products (-> vector.fma);
//   4. hoist the accumulator transfers out of the reduction loop (on tensors:
//      after bufferization the output is a collapse_shape view and
//      hoist_redundant_vector_transfers refuses views);
//   5. tile the output's zero fill (see below);
//   6. One-Shot Bufferize with linalg.copy (see bufferize.transform.mlir).
// Tile sizes were picked by a small sweep on layers A and B (AVX-512 host):
// [1,8,16,16] 27-32 GMAC/s, [1,4,64,8] 29, [1,8,32,8] 24, [1,4,32,16] 22-31.
// The tiles must divide F, OH*OW and C*KH*KW (true for layers A, A8, B).
// Tried and dropped: tile + transform.structured.decompose to conv_1d_ncw_fcw
// + vectorize: correct but transposes every output tile (NCW -> NWC) in the
// reduction loop.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    %conv = transform.structured.match ops{["linalg.conv_2d_nchw_fchw"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %img, %res = transform.structured.convert_conv2d_to_img2col %conv
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %mm = transform.get_producer_of_operand %res[0] : (!transform.any_op) -> !transform.any_op
    %t, %l:4 = transform.structured.tile_using_for %mm tile_sizes [1, 8, 16, 16]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op,
                                  !transform.any_op, !transform.any_op)
    // Tile the zero fill of the output too: vectorized whole, it becomes one
    // vector<Nx64x56x56xf32> constant and LLVM takes minutes on batch 8.
    %fill = transform.structured.match ops{["linalg.fill"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %tf, %lf:3 = transform.structured.tile_using_for %fill tile_sizes [1, 1, 8]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op,
                                  !transform.any_op)
    %f = transform.structured.match ops{["func.func"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %fv = transform.structured.vectorize_children_and_apply_patterns %f
        : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %fv {
      transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
      transform.apply_patterns.vector.transfer_permutation_patterns
      transform.apply_patterns.vector.lower_transpose
      transform.apply_patterns.vector.lower_outerproduct
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    %loops = transform.structured.match ops{["scf.for"]} in %fv
        : (!transform.any_op) -> !transform.any_op
    transform.loop.hoist_loop_invariant_subsets %loops : !transform.any_op
    %b = transform.bufferization.one_shot_bufferize layout{IdentityLayoutMap} %root
        {bufferize_function_boundaries = true, memcpy_op = "linalg.copy"}
        : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
