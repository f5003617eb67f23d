//===- FuseElementwise.cpp - One loop for a chain of elementwise ops ------===//

#include "DenseShift/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::shift {
#define GEN_PASS_DEF_SHIFTFUSEELEMENTWISE
#include "DenseShift/Transforms/Passes.h.inc"
} // namespace mlir::shift

using namespace mlir;
using namespace mlir::shift;

namespace {

/// An elementwise named op (linalg.add, linalg.max, linalg.map, ...) on
/// tensors becomes the equivalent linalg.generic, which fusion works on.
struct GeneralizeElementwiseNamedOp
    : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (isa<linalg::GenericOp>(op) || !op.hasPureTensorSemantics() ||
        !linalg::isElementwise(op) || isa<linalg::FillOp>(op))
      return rewriter.notifyMatchFailure(op, "not an elementwise named op");
    return linalg::generalizeNamedOp(rewriter, op);
  }
};

struct ShiftFuseElementwisePass
    : shift::impl::ShiftFuseElementwiseBase<ShiftFuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<GeneralizeElementwiseNamedOp>(ctx);
    // Fuse a producer only into its single user: with more users it would
    // be computed once per user.
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *fused) {
          Operation *producer = fused->get().getDefiningOp();
          return producer && producer->hasOneUse();
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
