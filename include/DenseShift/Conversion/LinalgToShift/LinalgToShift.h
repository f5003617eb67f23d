//===- LinalgToShift.h - linalg convs/matmuls to shift ops ------*- C++ -*-===//

#ifndef DENSESHIFT_CONVERSION_LINALGTOSHIFT_LINALGTOSHIFT_H
#define DENSESHIFT_CONVERSION_LINALGTOSHIFT_LINALGTOSHIFT_H

#include "DenseShift/Dialect/Shift/IR/ShiftOptions.h"
#include "DenseShift/Dialect/Shift/IR/ShiftDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Pass/Pass.h"

#include <optional>

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

/// Matchers shared with the kernel outlining of f32-weight layers.
/// True if `init` is a `linalg.fill` of +0.0.
bool isZeroFill(Value init);
/// Strides or dilations (`name`) of a named convolution, default 1.
SmallVector<int64_t> convAttr(Operation *op, StringRef name);
/// Folds a zero `tensor.pad` of the spatial dimensions (hDim, wDim) into
/// `padding` ([top, left, bottom, right]); returns the unpadded input.
Value foldZeroPad(Value input, unsigned hDim, unsigned wDim,
                  SmallVector<int64_t> &padding);
/// True if every operand and result type is static.
bool hasStaticShapes(Operation *op);
/// For a linalg.matmul x * w: whether w is N x K (transposed maps) rather
/// than K x N, or nullopt for any other indexing maps.
std::optional<bool> matmulWeightTransposed(linalg::MatmulOp op);
} // namespace shift
} // namespace mlir

#endif // DENSESHIFT_CONVERSION_LINALGTOSHIFT_LINALGTOSHIFT_H
