//===- Pipelines.h - Registered DenseShift pipelines ------------*- C++ -*-===//

#ifndef DENSESHIFT_PIPELINES_PIPELINES_H
#define DENSESHIFT_PIPELINES_PIPELINES_H

#include "DenseShift/Dialect/Shift/IR/ShiftOptions.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;

namespace shift {

struct DenseShiftPipelineOptions
    : public PassPipelineOptions<DenseShiftPipelineOptions> {
  PassOptions::Option<shift::Target> target{
      *this, "target",
      llvm::cl::desc("x86-64-avx2, x86-64-avx512 or aarch64-neon"),
      llvm::cl::init(shift::Target::X86_64_AVX2)};
  PassOptions::Option<shift::KernelMode> mode{
      *this, "mode",
      llvm::cl::desc("default (IEEE-exact) or fast (finite, normal-range "
                     "activations assumed)"),
      llvm::cl::init(shift::KernelMode::Default)};
  PassOptions::Option<shift::KernelStrategy> strategy{
      *this, "strategy",
      llvm::cl::desc("shift (exponent-add MACs, default), decode-fma, or "
                     "auto (per layer: decode-fma where the target's cost "
                     "model says FMA is faster)"),
      llvm::cl::init(shift::KernelStrategy::Shift)};
  PassOptions::Option<shift::WeightsMode> weights{
      *this, "weights",
      llvm::cl::desc("exact (lossless alpha*s*2^e weights only) or quantize"),
      llvm::cl::init(shift::WeightsMode::Exact)};
  PassOptions::Option<unsigned> bits{
      *this, "bits",
      llvm::cl::desc("code width: largest accepted (exact, default 8) or "
                     "target (quantize, default 4)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> staticBuffers{
      *this, "static-buffers",
      llvm::cl::desc("keep scratch and intermediate buffers in module globals "
                     "(no malloc, no page faults; entry points not "
                     "reentrant) instead of the heap"),
      llvm::cl::init(false)};
  PassOptions::Option<uint64_t> maxWorkspace{
      *this, "max-workspace",
      llvm::cl::desc("reject a model whose planned workspace exceeds this "
                     "many bytes (0: no limit; not with static-buffers)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> vectorizeLinalg{
      *this, "vectorize-linalg",
      llvm::cl::desc("fuse and vectorize the ops outside the kernels "
                     "(elementwise, pooling, reductions); false: scalar "
                     "loops, for comparison"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> reportScalarLoops{
      *this, "report-scalar-loops",
      llvm::cl::desc("remark on every linalg op that is lowered to scalar "
                     "loops (not vectorized)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> zeroFree{
      *this, "zero-free",
      llvm::cl::desc("quantize to the zero-free format (quantize mode)"),
      llvm::cl::init(true)};
};

/// linalg on tensors → shift → vector kernels → LLVM dialect, with the
/// entry points in the bare-pointer calling convention.
LogicalResult buildDenseShiftPipeline(OpPassManager &pm,
                                      const DenseShiftPipelineOptions &options);

/// The reference pipeline: shift → linalg (f32) → loops → LLVM dialect.
void buildDenseShiftReferencePipeline(OpPassManager &pm);

void registerDenseShiftPipelines();

} // namespace shift
} // namespace mlir

#endif // DENSESHIFT_PIPELINES_PIPELINES_H
