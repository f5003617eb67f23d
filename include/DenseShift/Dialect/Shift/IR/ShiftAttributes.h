//===- ShiftAttributes.h - Shift dialect attributes -------------*- C++ -*-===//

#ifndef DENSESHIFT_DIALECT_SHIFT_IR_SHIFTATTRIBUTES_H
#define DENSESHIFT_DIALECT_SHIFT_IR_SHIFTATTRIBUTES_H

#include "DenseShift/Dialect/Shift/IR/EncodingMath.h"
#include "DenseShift/Dialect/Shift/IR/ShiftOptions.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "DenseShift/Dialect/Shift/IR/ShiftEnums.h.inc"

namespace mlir::shift {
/// `#shift.kernel` parameters spelled as the pass options spell them.
template <typename E> FailureOr<E> parseOption(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  std::string spelling;
  if (failed(parser.parseKeywordOrString(&spelling)))
    return failure();
  if (std::optional<E> value = symbolizeEnum<E>(spelling))
    return *value;
  return parser.emitError(loc)
         << "unknown " << EnumSpellings<E>::what << " '" << spelling
         << "' (expected " << enumSpellingList<E>() << ")";
}
template <typename E> void printOption(AsmPrinter &printer, E value) {
  printer << '"' << stringifyEnum(value) << '"';
}
} // namespace mlir::shift

#define GET_ATTRDEF_CLASSES
#include "DenseShift/Dialect/Shift/IR/ShiftAttributes.h.inc"

namespace mlir::shift {
/// The plain-C++ view of an encoding attribute.
inline encoding::Format toFormat(EncodingAttr attr) {
  return {attr.getBits(), attr.getZeroFree(), attr.getEmin()};
}
} // namespace mlir::shift

#endif // DENSESHIFT_DIALECT_SHIFT_IR_SHIFTATTRIBUTES_H
