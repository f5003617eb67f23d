//===- ShiftAttributes.cpp - Shift dialect attributes ---------------------===//

#include "DenseShift/Dialect/Shift/IR/ShiftAttributes.h"
#include "DenseShift/Dialect/Shift/IR/ShiftDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

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

ArrayRef<int64_t> KernelAttr::getWeightShape() const {
  return isFloat() ? getWeights().getType().getShape()
                   : getCodes().getType().getShape();
}

LogicalResult KernelAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, KernelKind kind,
    Target target, KernelMode mode, KernelStrategy strategy, int64_t lanes,
    int64_t rows, int64_t cols, DenseIntElementsAttr codes,
    DenseFPElementsAttr alpha, EncodingAttr encoding,
    DenseFPElementsAttr weights, ConvLayout layout, DenseI64ArrayAttr strides,
    DenseI64ArrayAttr dilations, DenseI64ArrayAttr padding, int64_t groups,
    DenseFPElementsAttr bias, bool residual, DenseF32ArrayAttr clamp) {
  (void)target;
  (void)mode;
  if (strategy == KernelStrategy::Auto)
    return emitError() << "a kernel's strategy is shift or decode-fma "
                          "(auto is resolved per layer by the pass)";
  if (!llvm::isPowerOf2_64(lanes) || lanes > 16 || rows <= 0 || cols <= 0)
    return emitError() << "lanes must be a power of two <= 16 and rows, cols "
                          "positive, got lanes = "
                       << lanes << ", rows = " << rows << ", cols = " << cols;
  bool shiftWeights = codes || alpha || encoding;
  if (shiftWeights == bool(weights) ||
      (shiftWeights && !(codes && alpha && encoding)))
    return emitError() << "needs either codes, alpha and encoding, or f32 "
                          "weights";
  ShapedType weightType = weights ? weights.getType() : codes.getType();
  if (weights && !weights.getElementType().isF32())
    return emitError() << "weights must be f32";
  if (codes) {
    if (!codes.getElementType().isInteger(8) &&
        !codes.getElementType().isInteger(16))
      return emitError() << "codes must be i8 or i16";
    if (!alpha.getElementType().isF32() || alpha.getType().getRank() != 1 ||
        alpha.getNumElements() != codes.getType().getDimSize(0))
      return emitError() << "alpha must be f32 with one value per output "
                            "channel ("
                         << codes.getType().getDimSize(0) << ")";
    for (APInt code : codes.getValues<APInt>())
      if (!encoding.isValidCode(code.getSExtValue()))
        return emitError() << "code " << code.getSExtValue()
                           << " is not valid in " << encoding;
  }
  int64_t outChannels = weightType.getDimSize(0);
  bool conv = kind == KernelKind::conv2d;
  if (weightType.getRank() != (conv ? 4 : 2))
    return emitError() << stringifyKernelKind(kind)
                       << " weights must have rank " << (conv ? 4 : 2);
  if (conv) {
    if (layout != ConvLayout::nchw_fchw)
      return emitError() << "no kernel generator for layout "
                         << stringifyConvLayout(layout)
                         << " (convolutions are nchw_fchw)";
    if (!strides || !dilations || !padding || strides.size() != 2 ||
        dilations.size() != 2 || padding.size() != 4)
      return emitError() << "conv2d needs strides and dilations [h, w] and "
                            "padding [top, left, bottom, right]";
    if (llvm::any_of(strides.asArrayRef(), [](int64_t v) { return v <= 0; }) ||
        llvm::any_of(dilations.asArrayRef(),
                     [](int64_t v) { return v <= 0; }) ||
        llvm::any_of(padding.asArrayRef(), [](int64_t v) { return v < 0; }))
      return emitError() << "strides and dilations must be positive, padding "
                            "non-negative";
    if (groups <= 0 || outChannels % groups)
      return emitError() << "groups = " << groups << " must divide the "
                         << outChannels << " output channels";
  } else if (strides || dilations || padding || groups != 1 || residual) {
    return emitError() << "matmul takes no strides, dilations, padding, "
                          "groups or residual";
  }
  if (bias &&
      (!bias.getElementType().isF32() || bias.getType().getRank() != 1 ||
       bias.getNumElements() != outChannels))
    return emitError() << "bias must be f32 with one value per output channel ("
                       << outChannels << ")";
  if (clamp && (clamp.size() != 2 || !(clamp[0] <= clamp[1])))
    return emitError() << "clamp must be [low, high] with low <= high";
  return success();
}
