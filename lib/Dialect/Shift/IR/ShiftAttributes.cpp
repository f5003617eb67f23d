//===- ShiftAttributes.cpp - Shift dialect attributes ---------------------===//

#include "DenseShift/Dialect/Shift/IR/ShiftAttributes.h"
#include "DenseShift/Dialect/Shift/IR/ShiftDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::shift;

#include "DenseShift/Dialect/Shift/IR/ShiftEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "DenseShift/Dialect/Shift/IR/ShiftAttributes.cpp.inc"

void ShiftDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "DenseShift/Dialect/Shift/IR/ShiftAttributes.cpp.inc"
      >();
}

LogicalResult EncodingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   unsigned bits, bool zeroFree, int64_t emin) {
  if (bits < 2 || bits > 8)
    return emitError() << "bits must be in [2, 8], got " << bits;
  encoding::Format format{bits, zeroFree, emin};
  if (!format.isValid())
    return emitError() << "exponents [" << emin << ", "
                       << emin + format.maxOffset()
                       << "] must lie in the normal f32 range [-126, 127]";
  return success();
}

int64_t EncodingAttr::getMaxMagnitude() const {
  return toFormat(*this).maxMagnitude();
}

bool EncodingAttr::isValidCode(int64_t code) const {
  return toFormat(*this).isValidCode(code);
}

double EncodingAttr::decode(int64_t code) const {
  return encoding::decode(toFormat(*this), code);
}

unsigned EncodingAttr::getRequiredCodeWidth() const {
  return getMaxMagnitude() > 127 ? 16 : 8;
}
