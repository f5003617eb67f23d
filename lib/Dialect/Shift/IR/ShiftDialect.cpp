//===- ShiftDialect.cpp - Shift dialect registration ----------------------===//

#include "DenseShift/Dialect/Shift/IR/ShiftDialect.h"
#include "DenseShift/Dialect/Shift/IR/ShiftOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::shift;

#include "DenseShift/Dialect/Shift/IR/ShiftDialect.cpp.inc"

void ShiftDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "DenseShift/Dialect/Shift/IR/ShiftOps.cpp.inc"
      >();
  registerAttributes();
}

Operation *ShiftDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  if (auto typed = dyn_cast<TypedAttr>(value))
    if (arith::ConstantOp::isBuildableWith(typed, type))
      return arith::ConstantOp::create(builder, loc, type, typed);
  return nullptr;
}
