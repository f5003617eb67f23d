//===- AnnotateTarget.cpp - target_cpu/target_features on functions -------===//

#include "DenseShift/Conversion/ShiftToVector/ShiftToVector.h"
#include "DenseShift/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::shift {
#define GEN_PASS_DEF_SHIFTANNOTATETARGET
#include "DenseShift/Transforms/Passes.h.inc"
} // namespace mlir::shift

using namespace mlir;
using namespace mlir::shift;

namespace {
struct ShiftAnnotateTargetPass
    : shift::impl::ShiftAnnotateTargetBase<ShiftAnnotateTargetPass> {
  using ShiftAnnotateTargetBase::ShiftAnnotateTargetBase;

  void runOnOperation() override {
    const TargetInfo *info = &lookupTarget(target);
    // The last step of the pipeline: an op no conversion lowered would only
    // fail later, in denseshift-translate, far from its cause.
    WalkResult lowered = getOperation().walk([&](Operation *op) {
      if (isa<ModuleOp>(op) || isa<LLVM::LLVMDialect>(op->getDialect()))
        return WalkResult::advance();
      op->emitError("'") << op->getName()
                         << "' was not lowered to the LLVM dialect: the "
                            "pipeline has no lowering for it on this target";
      return WalkResult::interrupt();
    });
    if (lowered.wasInterrupted())
      return signalPassFailure();
    MLIRContext *ctx = &getContext();
    auto cpu = StringAttr::get(ctx, info->cpu);
    auto features = LLVM::TargetFeaturesAttr::get(ctx, info->features);
    getOperation().walk([&](LLVM::LLVMFuncOp func) {
      if (func.isExternal())
        return;
      func.setTargetCpuAttr(cpu);
      func.setTargetFeaturesAttr(features);
      // Generated kernels are module-internal, so that several compiled
      // models link into one program.
      if (func.getSymName().starts_with("__shift_"))
        func.setLinkage(LLVM::Linkage::Internal);
      if (func->hasAttr(kNoInlineAttrName)) {
        func.setNoInline(true);
        func->removeAttr(kNoInlineAttrName);
      }
    });
  }
};
} // namespace
