//===- StaticBuffers.cpp - Static-shape allocations to globals ------------===//

#include "DenseShift/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::shift {
#define GEN_PASS_DEF_SHIFTSTATICBUFFERS
#include "DenseShift/Transforms/Passes.h.inc"
} // namespace mlir::shift

using namespace mlir;
using namespace mlir::shift;

namespace {

struct ShiftStaticBuffersPass
    : shift::impl::ShiftStaticBuffersBase<ShiftStaticBuffersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<memref::AllocOp> allocs;
    // Only allocations executed once per call: one in a loop or a branch
    // may be live twice at once (or not at all), so it stays on the heap.
    module.walk([&](memref::AllocOp alloc) {
      if (isa<func::FuncOp>(alloc->getParentOp()))
        allocs.push_back(alloc);
    });
    SymbolTable symbols(module);
    OpBuilder b(module.getContext());
    unsigned counter = 0;
    for (memref::AllocOp alloc : allocs) {
      MemRefType type = alloc.getType();
      if (!type.hasStaticShape() || !type.getLayout().isIdentity()) {
        alloc.emitError("static-buffers: allocation of ")
            << type << " has no static shape and identity layout";
        return signalPassFailure();
      }
      for (Operation *user : alloc->getUsers())
        if (isa<func::ReturnOp>(user)) {
          alloc.emitError("static-buffers: a returned buffer cannot be a "
                          "global (run buffer-results-to-out-params first)");
          return signalPassFailure();
        }
      std::string name;
      do {
        name = "__shift_buffer_" + std::to_string(counter++);
      } while (symbols.lookup(name));
      b.setInsertionPointToStart(module.getBody());
      auto global = memref::GlobalOp::create(
          b, alloc.getLoc(), b.getStringAttr(name), b.getStringAttr("private"),
          TypeAttr::get(type), /*initial_value=*/Attribute(),
          /*constant=*/UnitAttr(), alloc.getAlignmentAttr());
      symbols.insert(global);
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      b.setInsertionPoint(alloc);
      Value replacement =
          memref::GetGlobalOp::create(b, alloc.getLoc(), type, name);
      alloc.replaceAllUsesWith(replacement);
      alloc.erase();
    }
  }
};

} // namespace
