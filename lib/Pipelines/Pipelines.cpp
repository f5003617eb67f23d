//===- Pipelines.cpp - Registered DenseShift pipelines --------------------===//

#include "DenseShift/Pipelines/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::shift;

/// Upstream steps from bufferized IR to the LLVM dialect.
static const char *kToLLVM =
    "convert-linalg-to-loops,lower-affine,expand-strided-metadata,"
    "lower-affine,convert-scf-to-cf,convert-vector-to-llvm,"
    "finalize-memref-to-llvm,convert-math-to-llvm,convert-arith-to-llvm,"
    "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},"
    "convert-cf-to-llvm,reconcile-unrealized-casts,canonicalize,cse";

static const char *kBufferize =
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{hoist-static-allocs=1 "
    "modify-public-functions=1}";
static const char *kDeallocate = "buffer-deallocation-pipeline,canonicalize";

static LogicalResult addPipeline(OpPassManager &pm, const std::string &text) {
  std::string errors;
  llvm::raw_string_ostream stream(errors);
  if (failed(parsePassPipeline(text, pm, stream))) {
    llvm::errs() << "denseshift-pipeline: " << errors << "\n";
    return failure();
  }
  return success();
}

LogicalResult
shift::buildDenseShiftPipeline(OpPassManager &pm,
                               const DenseShiftPipelineOptions &options) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "shift-record-entry-points,"
     << "shift-from-linalg{mode=" << options.weights
     << " bits=" << static_cast<unsigned>(options.bits)
     << " zero-free=" << (options.zeroFree ? "true" : "false") << "},"
     << "canonicalize,"
     << "shift-outline-kernels{target=" << options.target
     << " mode=" << options.mode << " strategy=" << options.strategy << "},"
     << "convert-shift-to-linalg,canonicalize,";
  // Static buffers replace the heap allocations (and so the deallocation
  // pipeline) after the kernels' own scratch allocations exist.
  if (options.staticBuffers)
    os << kBufferize << ",convert-shift-to-vector,shift-static-buffers,"
       << "canonicalize,";
  else
    os << kBufferize << "," << kDeallocate << ",convert-shift-to-vector,"
       << "shift-plan-memory{max-workspace=" << options.maxWorkspace << "},";
  os << kToLLVM << ","
     << "shift-annotate-target{target=" << options.target << "}";
  return addPipeline(pm, text);
}

void shift::buildDenseShiftReferencePipeline(OpPassManager &pm) {
  std::string text = std::string("convert-shift-to-linalg,canonicalize,") +
                     kBufferize + "," + kDeallocate + "," + kToLLVM;
  (void)addPipeline(pm, text);
}

void shift::registerDenseShiftPipelines() {
  PassPipelineRegistration<DenseShiftPipelineOptions>(
      "denseshift-pipeline",
      "linalg on tensors → shift → multiplication-free vector kernels → "
      "LLVM dialect",
      [](OpPassManager &pm, const DenseShiftPipelineOptions &options) {
        (void)buildDenseShiftPipeline(pm, options);
      });
  PassPipelineRegistration<>(
      "denseshift-reference-pipeline",
      "shift ops → f32 linalg (the oracle) → loops → LLVM dialect",
      buildDenseShiftReferencePipeline);
}
