//===- RecordEntryPoints.cpp - C prototypes of public functions -----------===//

#include "DenseShift/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::shift {
#define GEN_PASS_DEF_SHIFTRECORDENTRYPOINTS
#include "DenseShift/Transforms/Passes.h.inc"
} // namespace mlir::shift

using namespace mlir;
using namespace mlir::shift;

namespace {

/// "f32[1][10]" for a static f32 tensor, or "" if the type has no C ABI here.
std::string describe(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape() || !tensor.getElementType().isF32())
    return "";
  std::string text = "f32";
  for (int64_t d : tensor.getShape())
    text += "[" + std::to_string(d) + "]";
  return text;
}

/// Parameter names: "input"/"output" when alone, else numbered.
std::string paramName(StringRef base, unsigned index, unsigned count) {
  return count == 1 ? base.str() : (base + Twine(index)).str();
}

struct ShiftRecordEntryPointsPass
    : shift::impl::ShiftRecordEntryPointsBase<ShiftRecordEntryPointsPass> {
  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](func::FuncOp func) {
      if (func.isPrivate() || func.isDeclaration())
        return WalkResult::advance();
      FunctionType type = func.getFunctionType();
      std::string comment, params;
      unsigned numInputs = type.getNumInputs(),
               numResults = type.getNumResults();
      auto add = [&](Type t, StringRef base, unsigned i, unsigned n,
                     bool input) -> bool {
        std::string shape = describe(t);
        if (shape.empty()) {
          func.emitError("public function '")
              << func.getSymName() << "' has a "
              << (input ? "parameter" : "result") << " of type " << t
              << "; entry points take and return static f32 tensors";
          return false;
        }
        std::string name = paramName(base, i, n);
        comment += (comment.empty() ? "" : ", ") + name + ": " + shape;
        params += (params.empty() ? "" : ", ") +
                  std::string(input ? "const float *" : "float *") + name;
        return true;
      };
      for (unsigned i = 0; i < numInputs; ++i)
        if (!add(type.getInput(i), "input", i, numInputs, true))
          return WalkResult::interrupt();
      for (unsigned i = 0; i < numResults; ++i)
        if (!add(type.getResult(i), "output", i, numResults, false))
          return WalkResult::interrupt();
      std::string prototype = "/* " + comment + " */\nvoid " +
                              func.getSymName().str() + "(" + params + ");";
      func->setAttr(kCPrototypeAttrName,
                    StringAttr::get(func.getContext(), prototype));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
