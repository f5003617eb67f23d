//===- Passes.td - DenseShift transforms -------------------*- tablegen -*-===//

#ifndef DENSESHIFT_TRANSFORMS_PASSES_TD
#define DENSESHIFT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ShiftRecordEntryPoints : Pass<"shift-record-entry-points", "ModuleOp"> {
  let summary = "Record the C prototype of every public function";
  let description = [{
    Runs on tensors, before bufferization, while the shapes are known: every
    public `func.func` whose arguments and results are static f32 tensors gets
    a `denseshift.c_prototype` string, the C declaration of the entry point
    the pipeline produces (results become trailing output pointers, in the
    bare-pointer calling convention), with the shapes in a comment.
    `denseshift-translate --header` writes it verbatim.

    ```mlir
    func.func @forward(%x: tensor<1x1x28x28xf32>) -> tensor<1x10xf32>
    // gets
    //   denseshift.c_prototype = "/* input: f32[1][1][28][28], output: f32[1][10] */
    //   void forward(const float *input, float *output);"
    ```

    A public function with other argument types is an error: the pipeline
    could not give it a C ABI.
  }];
}

def ShiftAnnotateTarget : Pass<"shift-annotate-target", "ModuleOp"> {
  let summary = "Set target_cpu/target_features on every function";
  let description = [{
    Sets the `target_cpu` and `target_features` attributes that survive into
    LLVM IR on every `llvm.func` with a body, from the target preset
    (`x86-64-avx2`, `x86-64-avx512`, `aarch64-neon`), so the emitted object
    uses the intended instruction set whatever tool translates it. Also
    gives the generated `__shift_*` kernels internal linkage and turns
    `shift.no_inline` into LLVM's `noinline`.

    As the pipeline's last step it also checks that the module is entirely
    in the LLVM dialect: an op that no conversion lowered (say a `math` op
    without an LLVM lowering) is a located error here, not a failure in
    `denseshift-translate`.
  }];
  let options = [
    Option<"target", "target", "::mlir::shift::Target",
           /*default=*/"::mlir::shift::Target::X86_64_AVX2",
           "x86-64-avx2, x86-64-avx512 or aarch64-neon">
  ];
}

def ShiftStaticBuffers : Pass<"shift-static-buffers", "ModuleOp"> {
  let summary = "Turn static-shape heap buffers into module-level globals";
  let description = [{
    Replaces every `memref.alloc` of a static shape in a function's top-level
    block (executed once per call) by a `memref.get_global` of a private,
    uninitialized global (so it lives in `.bss`) and erases its
    `memref.dealloc`s. Allocations in loops or branches stay on the heap. Run after bufferization instead of the deallocation
    pipeline; the pipeline's `static-buffers=true` does this.

    A compiled model then makes no `malloc` call and takes no page fault
    after its first call (a batch-32 ResNet-20 spent 41% of its time in the
    kernel, re-faulting freed buffers), but its entry points are no longer
    reentrant: calls into one object must not overlap.

    ```mlir
    %0 = memref.alloc() {alignment = 64 : i64} : memref<1x16x28x28xf32>
    ...
    memref.dealloc %0 : memref<1x16x28x28xf32>
    // becomes
    memref.global "private" @__shift_buffer_0 : memref<1x16x28x28xf32> {alignment = 64 : i64}
    %0 = memref.get_global @__shift_buffer_0 : memref<1x16x28x28xf32>
    ```

    An allocation with dynamic sizes, or one a function returns, is an
    error: it cannot become a global.
  }];
}

def ShiftPlanMemory : Pass<"shift-plan-memory", "ModuleOp"> {
  let summary = "Plan every per-call buffer into one workspace and add the "
                "reentrant entry points";
  let description = [{
    Runs on buffers, after kernel generation. In every function, each
    `memref.alloc` of a static shape in the top-level block whose aliases
    (views, casts, strided metadata) never leave the function gets a live
    interval, from the allocation to the last operation that uses an alias;
    a call of a function that itself has a workspace needs that callee's
    workspace for the duration of the call. Intervals are packed greedily
    (largest first, lowest 64-byte aligned offset that overlaps no interval
    live at the same time) into one workspace per function; buffers become
    `memref.view`s into it and their deallocations are erased. Private
    functions take their workspace as a trailing `memref<Nxi8>` argument.

    Each public entry point `@f(in, out)` becomes three functions:
    `@f_workspace_size() -> i64` (the bytes needed), `@f_ws(in, out, ws) ->
    i32` (reentrant: 0 on success, 1 without writing anything if `ws` is
    NULL or not 64-byte aligned while the size is nonzero) and `@f(in, out)`,
    which allocates the workspace once per call and calls the same body.

    ```mlir
    %0 = memref.alloc() {alignment = 64 : i64} : memref<1x16x28x28xf32>
    ...
    memref.dealloc %0 : memref<1x16x28x28xf32>
    // becomes, with %ws : memref<100352xi8>
    %0 = memref.view %ws[%c50176][] : memref<100352xi8> to memref<1x16x28x28xf32>
    ```

    Allocations in loops or branches stay on the heap (they may be live
    twice at once, or not at all).
  }];
  let options = [
    Option<"maxWorkspace", "max-workspace", "uint64_t", /*default=*/"0",
           "reject a model whose entry point needs a larger workspace "
           "(bytes; 0: no limit)">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect"];
}

def ShiftFuseElementwise : Pass<"shift-fuse-elementwise", "func::FuncOp"> {
  let summary = "Fuse producer/consumer chains of elementwise linalg ops";
  let description = [{
    Runs on tensors, after the kernels are outlined. Elementwise named ops
    (`linalg.add`, `linalg.mul`, `linalg.max`, ...) become `linalg.generic`,
    and a generic whose result has a single use, by another elementwise
    generic, is fused into that consumer (upstream
    `populateElementwiseOpsFusionPatterns`), so that a chain such as a
    residual add followed by a ReLU is one pass over memory instead of one
    per op and leaves no intermediate buffer.

    ```mlir
    %s = linalg.add ins(%a, %b : ...) outs(%e0 : ...) -> tensor<1x64x56x56xf32>
    %r = linalg.generic {...} ins(%s : ...) { arith.maximumf ... }
    // becomes one linalg.generic reading %a and %b: addf, then maximumf
    ```

    A producer with several uses is left alone: fusing it would compute it
    once per use.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def ShiftVectorizeLinalg : Pass<"shift-vectorize-linalg", "func::FuncOp"> {
  let summary = "Tile and vectorize the linalg ops the kernels do not cover";
  let description = [{
    Runs on buffers, after kernel generation, on what would otherwise go
    through `convert-linalg-to-loops` as scalar loops: elementwise ops and
    fills, copies and transposes, reductions (softmax, layer norm, means),
    activation x activation matmuls, and NCHW max/sum pooling.

    * A structured op with projected-permutation indexing maps and static
      shapes first has its contiguous iteration dimensions collapsed (when
      every operand has the identity layout), so a 1x512x7x7 ReLU is one
      row of 25088 elements, not 3584 rows of 7. The vector dimension is
      the one that is innermost in the most operands (ties: the innermost).
      It is tiled by four vector registers of the target, every other
      dimension by 1, with one static remainder tile per row, and each tile
      is vectorized with upstream `linalg::vectorize` (so tiles need no
      masks). Reductions along the vector dimension become
      `vector.multi_reduction`.
    * `linalg.pooling_nchw_max` / `linalg.pooling_nchw_sum` (not covered by
      the upstream vectorizer in NCHW form) become a loop over output rows
      and vectors of output columns; every window tap is one vector load
      (stride 1) or one wide load and a `vector.shuffle` (stride > 1).
      Windows covering the whole map (global pooling) are reduced as one
      contiguous row per channel.

    ```mlir
    linalg.generic {iterator_types = ["parallel", ...]} ins(%x : memref<1x64x56x56xf32>) ...
    // becomes
    scf.for %i = %c0 to %c200704 step %c32 {
      %v = vector.transfer_read ... : memref<...>, vector<32xf32>
      %r = arith.maximumf %v, %zero : vector<32xf32>
      vector.transfer_write %r, ...
    }
    ```

    An op neither path can handle (dynamic shapes, a non-projected map
    other than NCHW pooling, a body the vectorizer rejects) is left as it
    was; `shift-report-scalar-loops` names it.
  }];
  let options = [
    Option<"target", "target", "::mlir::shift::Target",
           /*default=*/"::mlir::shift::Target::X86_64_AVX2",
           "x86-64-avx2, x86-64-avx512 or aarch64-neon (sets the vector "
           "width)">
  ];
  let dependentDialects = ["mlir::affine::AffineDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def ShiftReportScalarLoops : Pass<"shift-report-scalar-loops", "ModuleOp"> {
  let summary = "Remark on every linalg op left for scalar loops";
  let description = [{
    Runs just before `convert-linalg-to-loops`: every `linalg` structured op
    still present will be lowered to scalar loops, and gets a remark naming
    the op, its function and its iteration space, so a model's unvectorized
    ops can be found (`denseshift-opt -denseshift-pipeline=report-scalar-loops=true`).
    With `as-error`, such an op is an error instead (for tests and CI that
    require a fully vectorized model).

    ```
    model.mlir:12:5: remark: 'linalg.conv_3d_ncdhw_fcdhw' in @forward is
    lowered to scalar loops (iteration space 1x8x4x8x8x3x3x3x3)
    ```
  }];
  let options = [
    Option<"asError", "as-error", "bool", /*default=*/"false",
           "report each op as an error and fail">
  ];
}

#endif // DENSESHIFT_TRANSFORMS_PASSES_TD
