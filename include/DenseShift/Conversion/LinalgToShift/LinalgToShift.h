//===- LinalgToShift.h - linalg convs/matmuls to shift ops ------*- C++ -*-===//

#ifndef DENSESHIFT_CONVERSION_LINALGTOSHIFT_LINALGTOSHIFT_H
#define DENSESHIFT_CONVERSION_LINALGTOSHIFT_LINALGTOSHIFT_H

#include "DenseShift/Dialect/Shift/IR/ShiftDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;

#define GEN_PASS_DECL_CONVERTLINALGTOSHIFT
#include "DenseShift/Conversion/Passes.h.inc"

namespace shift {
/// How shift-from-linalg turns float weight constants into codes.
struct WeightConversionOptions {
  bool quantize = false; ///< false: exact (lossless) mode.
  unsigned bits = 4;
  bool zeroFree = true;
  bool remarks = false;
};

void populateLinalgToShiftPatterns(RewritePatternSet &patterns,
                                   const WeightConversionOptions &options);
} // namespace shift
} // namespace mlir

#endif // DENSESHIFT_CONVERSION_LINALGTOSHIFT_LINALGTOSHIFT_H
