//===- Passes.h - DenseShift conversion passes ------------------*- C++ -*-===//

#ifndef DENSESHIFT_CONVERSION_PASSES_H
#define DENSESHIFT_CONVERSION_PASSES_H

#include "DenseShift/Conversion/LinalgToShift/LinalgToShift.h"
#include "DenseShift/Conversion/ShiftToLinalg/ShiftToLinalg.h"
#include "DenseShift/Conversion/ShiftToVector/ShiftToVector.h"

namespace mlir {

#define GEN_PASS_REGISTRATION
#include "DenseShift/Conversion/Passes.h.inc"

} // namespace mlir

#endif // DENSESHIFT_CONVERSION_PASSES_H
