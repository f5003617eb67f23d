//===- ShiftToLinalg.h - Reference lowering of shift ops --------*- C++ -*-===//

#ifndef DENSESHIFT_CONVERSION_SHIFTTOLINALG_SHIFTTOLINALG_H
#define DENSESHIFT_CONVERSION_SHIFTTOLINALG_SHIFTTOLINALG_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;

#define GEN_PASS_DECL_CONVERTSHIFTTOLINALG
#include "DenseShift/Conversion/Passes.h.inc"

namespace shift {
/// Patterns that rewrite every shift op into dequantize + f32 linalg/arith.
void populateShiftToLinalgPatterns(RewritePatternSet &patterns);
} // namespace shift
} // namespace mlir

#endif // DENSESHIFT_CONVERSION_SHIFTTOLINALG_SHIFTTOLINALG_H
