//===- ShiftAttributes.h - Shift dialect attributes -------------*- C++ -*-===//

#ifndef DENSESHIFT_DIALECT_SHIFT_IR_SHIFTATTRIBUTES_H
#define DENSESHIFT_DIALECT_SHIFT_IR_SHIFTATTRIBUTES_H

#include "DenseShift/Dialect/Shift/IR/EncodingMath.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "DenseShift/Dialect/Shift/IR/ShiftEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "DenseShift/Dialect/Shift/IR/ShiftAttributes.h.inc"

namespace mlir::shift {
/// The plain-C++ view of an encoding attribute.
inline encoding::Format toFormat(EncodingAttr attr) {
  return {attr.getBits(), attr.getZeroFree(), attr.getEmin()};
}
} // namespace mlir::shift

#endif // DENSESHIFT_DIALECT_SHIFT_IR_SHIFTATTRIBUTES_H
