//===- Pipelines.cpp - Registered DenseShift pipelines --------------------===//
//
// Built with the pass-manager API: every pass is created from its options
// struct, so there is no pipeline text to parse (and fail) at run time.
//
//===----------------------------------------------------------------------===//

#include "DenseShift/Pipelines/Pipelines.h"
#include "DenseShift/Conversion/LinalgToShift/LinalgToShift.h"
#include "DenseShift/Conversion/ShiftToLinalg/ShiftToLinalg.h"
#include "DenseShift/Conversion/ShiftToVector/ShiftToVector.h"
#include "DenseShift/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::shift;

/// One-Shot Bufferize across function boundaries (identity layouts, as the
/// bare-pointer ABI needs), then results become out-parameters.
static void addBufferization(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
}

static void addDeallocation(OpPassManager &pm) {
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createCanonicalizerPass());
}

/// Upstream steps from bufferized IR to the LLVM dialect.
static void addToLLVM(OpPassManager &pm, bool reportScalarLoops = false) {
  if (reportScalarLoops)
    pm.addPass(createShiftReportScalarLoops());
  pm.addPass(createConvertLinalgToLoopsPass());
  // Vector transfers the vectorizer left strided (transposes, gathers of
  // columns) become unrolled scalar accesses; unit-stride ones are loads.
  VectorTransferToSCFOptions transfers;
  transfers.enableFullUnroll();
  pm.addPass(createConvertVectorToSCFPass(transfers));
  pm.addPass(createLowerAffinePass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcToLLVM;
  funcToLLVM.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcToLLVM));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

LogicalResult
shift::buildDenseShiftPipeline(OpPassManager &pm,
                               const DenseShiftPipelineOptions &options) {
  pm.addPass(createShiftRecordEntryPoints());

  ConvertLinalgToShiftOptions fromLinalg;
  fromLinalg.mode = options.weights;
  fromLinalg.bits = options.bits;
  fromLinalg.zeroFree = options.zeroFree;
  pm.addPass(createConvertLinalgToShift(fromLinalg));
  pm.addPass(createCanonicalizerPass());

  ShiftOutlineKernelsOptions outline;
  outline.target = options.target;
  outline.mode = options.mode;
  outline.strategy = options.strategy;
  pm.addPass(createShiftOutlineKernels(outline));
  pm.addPass(createConvertShiftToLinalg());
  pm.addPass(createCanonicalizerPass());
  if (options.vectorizeLinalg)
    pm.addNestedPass<func::FuncOp>(createShiftFuseElementwise());

  addBufferization(pm);
  ShiftVectorizeLinalgOptions vectorize;
  vectorize.target = options.target;
  // Static buffers replace the heap allocations (and so the deallocation
  // pipeline) after the kernels' own scratch allocations exist; otherwise
  // every per-call buffer goes into the planned workspace.
  if (options.staticBuffers) {
    pm.addPass(createConvertShiftToVector());
    if (options.vectorizeLinalg)
      pm.addNestedPass<func::FuncOp>(createShiftVectorizeLinalg(vectorize));
    pm.addPass(createShiftStaticBuffers());
    pm.addPass(createCanonicalizerPass());
  } else {
    addDeallocation(pm);
    pm.addPass(createConvertShiftToVector());
    if (options.vectorizeLinalg)
      pm.addNestedPass<func::FuncOp>(createShiftVectorizeLinalg(vectorize));
    ShiftPlanMemoryOptions plan;
    plan.maxWorkspace = options.maxWorkspace;
    pm.addPass(createShiftPlanMemory(plan));
  }
  addToLLVM(pm, options.reportScalarLoops);

  ShiftAnnotateTargetOptions annotate;
  annotate.target = options.target;
  pm.addPass(createShiftAnnotateTarget(annotate));
  return success();
}

void shift::buildDenseShiftReferencePipeline(OpPassManager &pm) {
  pm.addPass(createConvertShiftToLinalg());
  pm.addPass(createCanonicalizerPass());
  addBufferization(pm);
  addDeallocation(pm);
  addToLLVM(pm);
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
