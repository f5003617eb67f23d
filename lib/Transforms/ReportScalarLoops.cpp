//===- ReportScalarLoops.cpp - Name the ops left for scalar loops ---------===//

#include "DenseShift/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::shift {
#define GEN_PASS_DEF_SHIFTREPORTSCALARLOOPS
#include "DenseShift/Transforms/Passes.h.inc"
} // namespace mlir::shift

using namespace mlir;
using namespace mlir::shift;

namespace {

struct ShiftReportScalarLoopsPass
    : shift::impl::ShiftReportScalarLoopsBase<ShiftReportScalarLoopsPass> {
  using ShiftReportScalarLoopsBase::ShiftReportScalarLoopsBase;

  void runOnOperation() override {
    bool any = false;
    getOperation().walk([&](linalg::LinalgOp op) {
      any = true;
      std::string space;
      llvm::raw_string_ostream os(space);
      llvm::interleave(
          op.getStaticLoopRanges(), os,
          [&](int64_t size) {
            if (ShapedType::isDynamic(size))
              os << "?";
            else
              os << size;
          },
          "x");
      auto func = op->getParentOfType<func::FuncOp>();
      InFlightDiagnostic diag = asError ? op->emitError() : op->emitRemark();
      diag << "'" << op->getName() << "'";
      if (func)
        diag << " in @" << func.getSymName();
      diag << " is lowered to scalar loops (iteration space "
           << (space.empty() ? "scalar" : space) << ")";
    });
    if (any && asError)
      signalPassFailure();
  }
};

} // namespace
