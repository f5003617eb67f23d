//===- ShiftOps.cpp - Shift dialect operations ----------------------------===//

#include "DenseShift/Dialect/Shift/IR/ShiftOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::shift;

//===----------------------------------------------------------------------===//
// Shared verification helpers
//===----------------------------------------------------------------------===//

/// Checks that the code element type is wide enough for the encoding and, if
/// the codes are a constant, that every code is valid.
static LogicalResult verifyCodes(Operation *op, Value codes,
                                 EncodingAttr encodingAttr) {
  auto type = cast<RankedTensorType>(codes.getType());
  unsigned width = type.getElementTypeBitWidth();
  if (width < encodingAttr.getRequiredCodeWidth())
    return op->emitOpError("codes of a ")
           << encodingAttr.getBits() << "-bit "
           << (encodingAttr.getZeroFree() ? "zero-free" : "with-zero")
           << " encoding need i" << encodingAttr.getRequiredCodeWidth()
           << " elements, got i" << width;
  DenseIntElementsAttr constant;
  if (!matchPattern(codes, m_Constant(&constant)))
    return success();
  // Verification runs after every pass: read i8 codes directly, not as
  // APInt (11M codes in a ResNet-18).
  auto firstInvalid = [&]() -> std::optional<std::pair<int64_t, int64_t>> {
    int64_t index = 0;
    if (constant.getElementType().isInteger(8)) {
      for (int8_t code : constant.getValues<int8_t>()) {
        if (!encodingAttr.isValidCode(code))
          return std::make_pair(index, int64_t(code));
        ++index;
      }
      return std::nullopt;
    }
    for (APInt code : constant.getValues<APInt>()) {
      if (!encodingAttr.isValidCode(code.getSExtValue()))
        return std::make_pair(index, code.getSExtValue());
      ++index;
    }
    return std::nullopt;
  };
  auto bad = firstInvalid();
  if (!bad)
    return success();
  auto [index, value] = *bad;
  if (value == 0)
    return op->emitOpError("code 0 at flat index ")
           << index << " is not allowed in a zero-free encoding";
  return op->emitOpError("code ")
         << value << " at flat index " << index << " is out of range [-"
         << encodingAttr.getMaxMagnitude() << ", "
         << encodingAttr.getMaxMagnitude() << "] for " << encodingAttr.getBits()
         << "-bit codes";
}

/// Checks that alpha has one element per output channel.
static LogicalResult verifyAlpha(Operation *op, Value alpha,
                                 int64_t numChannels) {
  int64_t size = cast<RankedTensorType>(alpha.getType()).getDimSize(0);
  if (!ShapedType::isDynamic(size) && !ShapedType::isDynamic(numChannels) &&
      size != numChannels)
    return op->emitOpError("alpha has ") << size << " elements but there are "
                                         << numChannels << " output channels";
  return success();
}

static LogicalResult verifyAxis(Operation *op, RankedTensorType type,
                                int64_t axis) {
  if (axis < 0 || axis >= type.getRank())
    return op->emitOpError("axis ") << axis << " is out of range for a rank-"
                                    << type.getRank() << " tensor";
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  auto weightsType = getWeights().getType();
  auto codesType = getCodes().getType();
  if (weightsType.getShape() != codesType.getShape())
    return emitOpError("codes shape must equal the weights shape");
  if (failed(verifyAxis(*this, weightsType, getAxis())))
    return failure();
  if (failed(verifyCodes(*this, getCodes(), getEncoding())))
    return failure();
  return verifyAlpha(*this, getAlpha(), weightsType.getDimSize(getAxis()));
}

/// Calls `fn(channel, flatIndices)` for every slice along `axis`.
static void forEachChannel(ArrayRef<int64_t> shape, int64_t axis,
                           function_ref<void(int64_t, int64_t)> visit) {
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < int64_t(shape.size()); ++d)
    inner *= shape[d];
  int64_t channels = shape[axis];
  int64_t total = 1;
  for (int64_t d : shape)
    total *= d;
  for (int64_t flat = 0; flat < total; ++flat)
    visit((flat / inner) % channels, flat);
}

LogicalResult QuantizeOp::fold(FoldAdaptor adaptor,
                               SmallVectorImpl<OpFoldResult> &results) {
  auto weights = dyn_cast_or_null<DenseFPElementsAttr>(adaptor.getWeights());
  // A constant needs a static type; alpha may be tensor<?xf32>.
  if (!weights || !getWeights().getType().hasStaticShape() ||
      !getAlpha().getType().hasStaticShape())
    return failure();
  encoding::Format format = toFormat(getEncoding());
  ArrayRef<int64_t> shape = getWeights().getType().getShape();
  int64_t axis = getAxis();
  SmallVector<double> values;
  for (APFloat v : weights.getValues<APFloat>())
    values.push_back(v.convertToFloat());
  std::vector<std::vector<double>> channels(shape[axis]);
  forEachChannel(shape, axis, [&](int64_t channel, int64_t flat) {
    channels[channel].push_back(values[flat]);
  });
  SmallVector<float> alphas;
  for (auto &channel : channels) {
    std::optional<double> alpha = encoding::chooseAlpha(format, channel);
    // NaN/Inf weights cannot be quantized; leave the op for a diagnostic.
    if (!alpha)
      return failure();
    alphas.push_back(float(*alpha));
  }
  SmallVector<APInt> codes(values.size());
  unsigned width = getCodes().getType().getElementTypeBitWidth();
  forEachChannel(shape, axis, [&](int64_t channel, int64_t flat) {
    int64_t code = *encoding::quantize(format, values[flat], alphas[channel]);
    codes[flat] = APInt(width, code, /*isSigned=*/true);
  });
  results.push_back(DenseIntElementsAttr::get(getCodes().getType(), codes));
  results.push_back(
      DenseFPElementsAttr::get(getAlpha().getType(), ArrayRef(alphas)));
  return success();
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult DequantizeOp::verify() {
  auto codesType = getCodes().getType();
  if (codesType.getShape() != getWeights().getType().getShape())
    return emitOpError("result shape must equal the codes shape");
  if (failed(verifyAxis(*this, codesType, getAxis())))
    return failure();
  if (failed(verifyCodes(*this, getCodes(), getEncoding())))
    return failure();
  return verifyAlpha(*this, getAlpha(), codesType.getDimSize(getAxis()));
}

OpFoldResult DequantizeOp::fold(FoldAdaptor adaptor) {
  auto codes = dyn_cast_or_null<DenseIntElementsAttr>(adaptor.getCodes());
  auto alpha = dyn_cast_or_null<DenseFPElementsAttr>(adaptor.getAlpha());
  if (!codes || !alpha || !getCodes().getType().hasStaticShape())
    return {};
  SmallVector<float> alphas;
  for (APFloat v : alpha.getValues<APFloat>())
    alphas.push_back(v.convertToFloat());
  SmallVector<int64_t> codeValues;
  for (APInt c : codes.getValues<APInt>())
    codeValues.push_back(c.getSExtValue());
  EncodingAttr encodingAttr = getEncoding();
  for (int64_t c : codeValues)
    if (!encodingAttr.isValidCode(c))
      return {};
  SmallVector<float> weights(codeValues.size());
  forEachChannel(getCodes().getType().getShape(), getAxis(),
                 [&](int64_t channel, int64_t flat) {
                   weights[flat] = float(double(alphas[channel]) *
                                         encodingAttr.decode(codeValues[flat]));
                 });
  return DenseFPElementsAttr::get(getWeights().getType(), ArrayRef(weights));
}

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

int64_t Conv2DOp::getNumOutputChannels() {
  auto type = getResult().getType();
  return type.getDimSize(isNCHW() ? 1 : 3);
}

int64_t Conv2DOp::getNumInputChannels() {
  auto type = getInput().getType();
  return type.getDimSize(isNCHW() ? 1 : 3);
}

/// Output extent of one spatial dimension, or a negative value if empty.
static int64_t convOutputSize(int64_t in, int64_t padBefore, int64_t padAfter,
                              int64_t kernel, int64_t stride,
                              int64_t dilation) {
  int64_t span = in + padBefore + padAfter - dilation * (kernel - 1) - 1;
  if (span < 0)
    return -1;
  return span / stride + 1;
}

LogicalResult Conv2DOp::verify() {
  auto inputType = getInput().getType();
  auto codesType = getCodes().getType();
  auto resultType = getResult().getType();
  if (inputType.getRank() != 4 || codesType.getRank() != 4 ||
      resultType.getRank() != 4)
    return emitOpError("input, codes and result must be rank 4");
  if (getStrides().size() != 2 || getDilations().size() != 2)
    return emitOpError("strides and dilations need 2 values (H, W)");
  if (getPadding().size() != 4)
    return emitOpError("padding needs 4 values [top, left, bottom, right]");
  for (int64_t s : getStrides())
    if (s <= 0)
      return emitOpError("strides must be positive, got ") << s;
  for (int64_t d : getDilations())
    if (d <= 0)
      return emitOpError("dilations must be positive, got ") << d;
  for (int64_t p : getPadding())
    if (p < 0)
      return emitOpError("padding must be non-negative, got ") << p;
  int64_t groups = getGroups();
  if (groups <= 0)
    return emitOpError("groups must be positive, got ") << groups;
  if (!inputType.hasStaticShape() || !codesType.hasStaticShape() ||
      !resultType.hasStaticShape())
    return emitOpError("requires static shapes");

  bool nchw = isNCHW();
  int64_t n = inputType.getDimSize(0);
  int64_t c = inputType.getDimSize(nchw ? 1 : 3);
  int64_t h = inputType.getDimSize(nchw ? 2 : 1);
  int64_t w = inputType.getDimSize(nchw ? 3 : 2);
  int64_t f = codesType.getDimSize(nchw ? 0 : 3);
  int64_t cg = codesType.getDimSize(nchw ? 1 : 2);
  int64_t kh = codesType.getDimSize(nchw ? 2 : 0);
  int64_t kw = codesType.getDimSize(nchw ? 3 : 1);
  if (c % groups != 0)
    return emitOpError("groups (")
           << groups << ") must divide the " << c << " input channels";
  if (f % groups != 0)
    return emitOpError("groups (")
           << groups << ") must divide the " << f << " output channels";
  if (cg != c / groups)
    return emitOpError("codes have ")
           << cg << " input channels per group, expected " << c / groups;
  ArrayRef<int64_t> pad = getPadding();
  int64_t oh =
      convOutputSize(h, pad[0], pad[2], kh, getStrides()[0], getDilations()[0]);
  int64_t ow =
      convOutputSize(w, pad[1], pad[3], kw, getStrides()[1], getDilations()[1]);
  if (oh <= 0 || ow <= 0)
    return emitOpError("the dilated kernel does not fit the padded input");
  SmallVector<int64_t> expected = nchw ? SmallVector<int64_t>{n, f, oh, ow}
                                       : SmallVector<int64_t>{n, oh, ow, f};
  if (resultType.getShape() != ArrayRef(expected)) {
    auto diag = emitOpError("result shape must be [");
    llvm::interleaveComma(expected, diag);
    return diag << "]";
  }
  if (failed(verifyCodes(*this, getCodes(), getEncoding())))
    return failure();
  return verifyAlpha(*this, getAlpha(), f);
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  auto inputType = getInput().getType();
  auto codesType = getCodes().getType();
  auto resultType = getResult().getType();
  if (inputType.getRank() != 2 || codesType.getRank() != 2 ||
      resultType.getRank() != 2)
    return emitOpError("input, codes and result must be rank 2");
  if (!inputType.hasStaticShape() || !codesType.hasStaticShape() ||
      !resultType.hasStaticShape())
    return emitOpError("requires static shapes");
  if (inputType.getDimSize(1) != codesType.getDimSize(1))
    return emitOpError("input has ")
           << inputType.getDimSize(1) << " features but codes expect "
           << codesType.getDimSize(1);
  if (resultType.getDimSize(0) != inputType.getDimSize(0) ||
      resultType.getDimSize(1) != codesType.getDimSize(0))
    return emitOpError("result shape must be [")
           << inputType.getDimSize(0) << ", " << codesType.getDimSize(0) << "]";
  if (failed(verifyCodes(*this, getCodes(), getEncoding())))
    return failure();
  return verifyAlpha(*this, getAlpha(), codesType.getDimSize(0));
}

//===----------------------------------------------------------------------===//
// ShiftAccumulateOp
//===----------------------------------------------------------------------===//

// Not AllShapesMatch: that trait casts to ShapedType and crashes on scalars.
LogicalResult ShiftAccumulateOp::verify() {
  auto accType = dyn_cast<VectorType>(getAcc().getType());
  auto wordType = dyn_cast<VectorType>(getWord().getType());
  if (!accType && !wordType)
    return success();
  if (!accType || !wordType || accType.getShape() != wordType.getShape() ||
      accType.getScalableDims() != wordType.getScalableDims())
    return emitOpError("word type ")
           << getWord().getType() << " must have the shape of acc type "
           << getAcc().getType();
  return success();
}

#define GET_OP_CLASSES
#include "DenseShift/Dialect/Shift/IR/ShiftOps.cpp.inc"
