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
    Option<"target", "target", "std::string", /*default=*/"\"x86-64-avx2\"",
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

#endif // DENSESHIFT_TRANSFORMS_PASSES_TD
