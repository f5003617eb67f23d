//===- ShiftToLinalg.h - Reference lowering of shift ops --------*- C++ -*-===//

#ifndef DENSESHIFT_CONVERSION_SHIFTTOLINALG_SHIFTTOLINALG_H
#define DENSESHIFT_CONVERSION_SHIFTTOLINALG_SHIFTTOLINALG_H

#include "DenseShift/Dialect/Shift/IR/ShiftOptions.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class OpBuilder;
class RewritePatternSet;

#define GEN_PASS_DECL_CONVERTSHIFTTOLINALG
#include "DenseShift/Conversion/Passes.h.inc"

namespace shift {
/// Patterns that rewrite every shift op into dequantize + f32 linalg/arith.
void populateShiftToLinalgPatterns(RewritePatternSet &patterns);

/// `acc + x * (s * 2^e)` in IEEE arithmetic for a shift word (scalar or
/// vector): the exact power of two is the bit pattern `word + bits(1.0)`.
/// The semantics of shift.shift_accumulate in every mode.
Value buildIEEEShiftAccumulate(OpBuilder &b, Location loc, Value acc, Value x,
                               Value word);
} // namespace shift
} // namespace mlir

#endif // DENSESHIFT_CONVERSION_SHIFTTOLINALG_SHIFTTOLINALG_H
