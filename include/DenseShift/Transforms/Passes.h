//===- Passes.h - DenseShift transforms -------------------------*- C++ -*-===//

#ifndef DENSESHIFT_TRANSFORMS_PASSES_H
#define DENSESHIFT_TRANSFORMS_PASSES_H

#include "DenseShift/Dialect/Shift/IR/ShiftOptions.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace mlir::shift {

/// Name of the string attribute holding an entry point's C declaration.
constexpr StringLiteral kCPrototypeAttrName = "denseshift.c_prototype";

/// Tile-and-vectorize patterns of shift-vectorize-linalg for buffers:
/// static projected-permutation structured ops and NCHW max/sum pooling,
/// with tiles of four vectors of `lanes` elements.
void populateShiftVectorizeLinalgPatterns(RewritePatternSet &patterns,
                                          int64_t lanes);

#define GEN_PASS_DECL
#include "DenseShift/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "DenseShift/Transforms/Passes.h.inc"

} // namespace mlir::shift

#endif // DENSESHIFT_TRANSFORMS_PASSES_H
