/*===- denseshift_runtime.h - ABI of a compiled DenseShift model ----------===*
 *
 * What C code may rely on when it links an object file produced by
 *
 *   denseshift-opt --denseshift-pipeline=target=<target> model.mlir -o ll.mlir
 *   denseshift-translate --target=<target> ll.mlir -o model.o
 *
 * (docs/abi.md shows the link lines for each target).
 *
 * Entry point. The exported `func.func @forward` of the model becomes
 *
 *   void forward(const float *input, float *output);
 *
 * - Bare-pointer calling convention: each tensor is passed as a pointer to
 *   its first element, nothing else (no memref descriptor, no sizes).
 * - `input` and `output` are dense, row-major (C order) float32 buffers of
 *   exactly the static shapes in the model's signature, e.g. N*C*H*W floats
 *   for an NCHW activation. Natural float alignment (4 bytes) suffices.
 * - `input` is only read. `output` is written in place: every element is
 *   overwritten, its previous contents are never read, and nothing is
 *   returned. The two buffers must not overlap.
 * - No allocation is visible to the caller: scratch memory the model needs
 *   (padded copies, intermediate activations) is one workspace, allocated
 *   and released inside the call (or passed in: forward_ws below); nothing
 *   has to be freed or initialized beforehand.
 * - Thread-compatible: the model keeps no mutable global state, so
 *   concurrent calls on distinct output buffers are safe; the weights are
 *   read-only data in the object. Objects compiled with the pipeline option
 *   `static-buffers=true` keep their scratch memory in globals instead (no
 *   malloc): their calls must not overlap.
 * - Float semantics (default, non-`fast` mode; see docs/abi.md): finite
 *   inputs give results within 1e-5 of the float64 reference, relative to
 *   the largest magnitude in the output tensor; +-0 and denormal inputs
 *   contribute their IEEE products; NaN, +-Inf and overflowing products
 *   give NaN / +-Inf wherever IEEE float32 multiply-then-add would.
 * - The object is position-independent (PIC), so it can go into an
 *   executable or a shared library alike, and it needs only libc.
 *
 * A model may export further public functions; `denseshift-translate
 * --header model.h` writes a header that declares all of them.
 *
 *===----------------------------------------------------------------------===*/

#ifndef DENSESHIFT_RUNTIME_H
#define DENSESHIFT_RUNTIME_H

#ifdef __cplusplus
extern "C" {
#endif

#include <stddef.h>

/* Runs the model once: reads `input`, overwrites `output`. */
void forward(const float *input, float *output);

/* The reentrant form (not in objects compiled with static-buffers=true).
 * Every intermediate buffer of the model lives in one workspace planned at
 * compile time (liveness-based reuse, 64-byte aligned offsets):
 *
 *   size_t bytes = forward_workspace_size();
 *   void *ws = aligned_alloc(64, bytes);   // or any 64-byte aligned memory
 *   int status = forward_ws(input, output, ws);
 *
 * forward_ws returns 0 on success. It returns 1 and writes nothing when the
 * size is nonzero and `workspace` is NULL or not 64-byte aligned. Calls with
 * distinct workspaces and outputs may run concurrently; the workspace holds
 * nothing between calls. forward() is forward_ws() on a workspace it
 * allocates (one malloc) for the duration of the call. */
size_t forward_workspace_size(void);
int forward_ws(const float *input, float *output, void *workspace);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DENSESHIFT_RUNTIME_H */
