// One-Shot Bufferize for the upstream lowering in compile.sh. Through the
// transform op rather than the pass because only the op can copy with
// linalg.copy: memref.copy into the strided subview tensor.pad leaves
// lowers to a call to memrefCopy from the MLIR runner library, which a
// self-contained object cannot have.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    %bufferized = transform.bufferization.one_shot_bufferize layout{IdentityLayoutMap} %root
        {bufferize_function_boundaries = true, memcpy_op = "linalg.copy"}
        : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
