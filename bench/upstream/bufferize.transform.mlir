// One-Shot Bufferize for the upstream baselines (bench/compile.sh), as a
// transform op because only the op can copy with linalg.copy: the memref.copy
// the pass emits for tensor.pad's strided subview lowers to a call into the
// MLIR runner library, which a self-contained object cannot have.
// (Same approach as test/Integration/Inputs/bufferize.transform.mlir.)
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    %bufferized = transform.bufferization.one_shot_bufferize layout{IdentityLayoutMap} %root
        {bufferize_function_boundaries = true, memcpy_op = "linalg.copy"}
        : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
