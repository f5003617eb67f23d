//===- LinalgToShift.cpp - linalg convs/matmuls to shift ops --------------===//
//
// Finds convolutions and fully connected layers whose weights are constants
// and re-expresses them as shift ops with integer codes, either losslessly
// (exact mode: the weights already are alpha * s * 2^e) or by rounding
// (quantize mode).
//
//===----------------------------------------------------------------------===//

#include "DenseShift/Conversion/LinalgToShift/LinalgToShift.h"
#include "DenseShift/Dialect/Shift/IR/ShiftOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir {
#define GEN_PASS_DEF_CONVERTLINALGTOSHIFT
#include "DenseShift/Conversion/Passes.h.inc"
} // namespace mlir

using namespace mlir;
using namespace mlir::shift;

namespace {

/// Weights rearranged into the layout of the shift op's codes, with the
/// output-channel axis of that layout.
struct WeightTensor {
  SmallVector<int64_t> shape;
  int64_t axis = 0;
  std::vector<double> values;
};

/// Codes, alpha and encoding for a weight tensor, or why there are none.
struct ConvertedWeights {
  Value codes, alpha;
  EncodingAttr encoding;
};

std::vector<std::vector<double>>
splitChannels(const WeightTensor &w, std::vector<int64_t> &channelOf) {
  int64_t inner = 1;
  for (size_t d = w.axis + 1; d < w.shape.size(); ++d)
    inner *= w.shape[d];
  std::vector<std::vector<double>> channels(w.shape[w.axis]);
  channelOf.resize(w.values.size());
  for (size_t flat = 0; flat < w.values.size(); ++flat) {
    channelOf[flat] = (flat / inner) % w.shape[w.axis];
    channels[channelOf[flat]].push_back(w.values[flat]);
  }
  return channels;
}

/// Chooses an encoding and computes codes and alpha; returns a reason string
/// on failure.
FailureOr<ConvertedWeights>
convertWeights(PatternRewriter &rewriter, Location loc, const WeightTensor &w,
               const WeightConversionOptions &options, std::string &reason) {
  std::vector<int64_t> channelOf;
  auto channels = splitChannels(w, channelOf);
  for (double v : w.values)
    if (!std::isfinite(v)) {
      reason = "weights contain NaN or Inf";
      return failure();
    }
  encoding::Format format;
  std::vector<double> alphas(channels.size());
  std::vector<int64_t> codes(w.values.size());
  if (options.quantize) {
    format = {options.bits, options.zeroFree, 0};
    for (size_t c = 0; c < channels.size(); ++c)
      alphas[c] = float(*encoding::chooseAlpha(format, channels[c]));
    for (size_t flat = 0; flat < w.values.size(); ++flat)
      codes[flat] =
          *encoding::quantize(format, w.values[flat], alphas[channelOf[flat]]);
  } else {
    bool hasZero = llvm::any_of(w.values, [](double v) { return v == 0.0; });
    bool found = false;
    for (unsigned bits = 2; bits <= options.bits && !found; ++bits) {
      format = {bits, !hasZero, 0};
      found = true;
      std::vector<std::vector<int64_t>> channelCodes(channels.size());
      for (size_t c = 0; c < channels.size() && found; ++c) {
        auto alpha =
            encoding::recognizeChannel(format, channels[c], channelCodes[c]);
        found = alpha && double(float(*alpha)) == *alpha &&
                (*alpha == 0.0 || std::isnormal(float(*alpha)));
        if (found)
          alphas[c] = *alpha;
      }
      if (!found)
        continue;
      std::vector<size_t> next(channels.size(), 0);
      for (size_t flat = 0; flat < w.values.size(); ++flat) {
        int64_t c = channelOf[flat];
        codes[flat] = channelCodes[c][next[c]++];
      }
    }
    if (!found) {
      reason = "weights are not alpha * s * 2^e with at most " +
               std::to_string(options.bits) + "-bit codes per channel";
      return failure();
    }
  }
  MLIRContext *ctx = rewriter.getContext();
  auto encodingAttr =
      EncodingAttr::get(ctx, format.bits, format.zeroFree, format.emin);
  unsigned width = encodingAttr.getRequiredCodeWidth();
  auto codesType =
      RankedTensorType::get(w.shape, rewriter.getIntegerType(width));
  DenseIntElementsAttr codesAttr;
  if (width == 8) {
    SmallVector<int8_t> narrow(codes.begin(), codes.end());
    codesAttr = DenseIntElementsAttr::get(codesType, ArrayRef(narrow));
  } else {
    SmallVector<APInt> codeValues;
    for (int64_t c : codes)
      codeValues.push_back(APInt(width, c, /*isSigned=*/true));
    codesAttr = DenseIntElementsAttr::get(codesType, codeValues);
  }
  SmallVector<float> alphaValues(alphas.begin(), alphas.end());
  auto alphaType =
      RankedTensorType::get({int64_t(alphas.size())}, rewriter.getF32Type());
  Value codesValue = arith::ConstantOp::create(rewriter, loc, codesAttr);
  Value alphaValue = arith::ConstantOp::create(
      rewriter, loc,
      DenseFPElementsAttr::get(alphaType, ArrayRef(alphaValues)));
  return ConvertedWeights{codesValue, alphaValue, encodingAttr};
}

/// Reads a constant f32 weight tensor and permutes it into `shape` order:
/// `source(index)` maps an index of the result layout to a flat index of the
/// constant.
FailureOr<WeightTensor>
readWeights(Value weights, ArrayRef<int64_t> shape, int64_t axis,
            function_ref<int64_t(ArrayRef<int64_t>)> source) {
  DenseFPElementsAttr attr;
  if (!matchPattern(weights, m_Constant(&attr)) ||
      !attr.getElementType().isF32())
    return failure();
  // Direct float iteration: APFloat per element dominated the compile time
  // of large models (ResNet-18: 11M weights).
  SmallVector<double> flat;
  flat.reserve(attr.getNumElements());
  for (float v : attr.getValues<float>())
    flat.push_back(v);
  WeightTensor w;
  w.shape.assign(shape.begin(), shape.end());
  w.axis = axis;
  int64_t total = 1;
  for (int64_t d : shape)
    total *= d;
  w.values.resize(total);
  SmallVector<int64_t> index(shape.size(), 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t rest = i;
    for (int64_t d = shape.size() - 1; d >= 0; --d) {
      index[d] = rest % shape[d];
      rest /= shape[d];
    }
    w.values[i] = flat[source(index)];
  }
  return w;
}

/// Emits a remark (if asked) and fails the match.
LogicalResult declined(PatternRewriter &rewriter, Operation *op,
                       const WeightConversionOptions &options,
                       const Twine &reason) {
  if (options.remarks)
    op->emitRemark("not converted to shift: ") << reason;
  return rewriter.notifyMatchFailure(op, reason);
}

/// Shared part of every convolution pattern: weights → codes, then the op.
LogicalResult rewriteConv(PatternRewriter &rewriter, Operation *op, Value input,
                          Value init, FailureOr<WeightTensor> w,
                          ConvLayout layout, int64_t groups,
                          const WeightConversionOptions &options) {
  if (failed(w))
    return declined(rewriter, op, options, "weights are not an f32 constant");
  if (!isZeroFill(init))
    return declined(rewriter, op, options, "init is not a zero fill");
  if (!hasStaticShapes(op))
    return declined(rewriter, op, options, "dynamic shapes");
  bool nchw = layout == ConvLayout::nchw_fchw;
  SmallVector<int64_t> padding;
  Value unpadded = foldZeroPad(input, nchw ? 2 : 1, nchw ? 3 : 2, padding);
  std::string reason;
  auto converted = convertWeights(rewriter, op->getLoc(), *w, options, reason);
  if (failed(converted))
    return declined(rewriter, op, options, reason);
  Type resultType = op->getResult(0).getType();
  rewriter.replaceOpWithNewOp<Conv2DOp>(
      op, resultType, unpadded, converted->codes, converted->alpha,
      converted->encoding, ConvLayoutAttr::get(rewriter.getContext(), layout),
      rewriter.getDenseI64ArrayAttr(convAttr(op, "strides")),
      rewriter.getDenseI64ArrayAttr(convAttr(op, "dilations")),
      rewriter.getDenseI64ArrayAttr(padding),
      rewriter.getI64IntegerAttr(groups));
  return success();
}

template <typename Op> struct ConstantWeightPattern : OpRewritePattern<Op> {
  ConstantWeightPattern(MLIRContext *ctx,
                        const WeightConversionOptions &options)
      : OpRewritePattern<Op>(ctx), options(options) {}
  WeightConversionOptions options;
};

/// linalg.conv_2d_nchw_fchw → shift.conv2d (nchw_fchw).
struct ConvNchwFchwPattern : ConstantWeightPattern<linalg::Conv2DNchwFchwOp> {
  using ConstantWeightPattern::ConstantWeightPattern;
  LogicalResult matchAndRewrite(linalg::Conv2DNchwFchwOp op,
                                PatternRewriter &rewriter) const override {
    auto shape = cast<RankedTensorType>(op.getInputs()[1].getType()).getShape();
    auto w = readWeights(op.getInputs()[1], shape, 0, [&](ArrayRef<int64_t> i) {
      return ((i[0] * shape[1] + i[1]) * shape[2] + i[2]) * shape[3] + i[3];
    });
    return rewriteConv(rewriter, op, op.getInputs()[0], op.getOutputs()[0], w,
                       ConvLayout::nchw_fchw, 1, options);
  }
};

/// linalg.conv_2d_nhwc_hwcf → shift.conv2d (nhwc_hwcf).
struct ConvNhwcHwcfPattern : ConstantWeightPattern<linalg::Conv2DNhwcHwcfOp> {
  using ConstantWeightPattern::ConstantWeightPattern;
  LogicalResult matchAndRewrite(linalg::Conv2DNhwcHwcfOp op,
                                PatternRewriter &rewriter) const override {
    auto shape = cast<RankedTensorType>(op.getInputs()[1].getType()).getShape();
    auto w = readWeights(op.getInputs()[1], shape, 3, [&](ArrayRef<int64_t> i) {
      return ((i[0] * shape[1] + i[1]) * shape[2] + i[2]) * shape[3] + i[3];
    });
    return rewriteConv(rewriter, op, op.getInputs()[0], op.getOutputs()[0], w,
                       ConvLayout::nhwc_hwcf, 1, options);
  }
};

/// linalg.depthwise_conv_2d_nchw_chw → shift.conv2d with groups = C and
/// codes C x 1 x KH x KW.
struct DepthwiseNchwChwPattern
    : ConstantWeightPattern<linalg::DepthwiseConv2DNchwChwOp> {
  using ConstantWeightPattern::ConstantWeightPattern;
  LogicalResult matchAndRewrite(linalg::DepthwiseConv2DNchwChwOp op,
                                PatternRewriter &rewriter) const override {
    auto src = cast<RankedTensorType>(op.getInputs()[1].getType()).getShape();
    SmallVector<int64_t> shape = {src[0], 1, src[1], src[2]};
    auto w = readWeights(op.getInputs()[1], shape, 0, [&](ArrayRef<int64_t> i) {
      return (i[0] * src[1] + i[2]) * src[2] + i[3];
    });
    return rewriteConv(rewriter, op, op.getInputs()[0], op.getOutputs()[0], w,
                       ConvLayout::nchw_fchw, src[0], options);
  }
};

/// linalg.depthwise_conv_2d_nhwc_hwc → shift.conv2d with groups = C and
/// codes KH x KW x 1 x C.
struct DepthwiseNhwcHwcPattern
    : ConstantWeightPattern<linalg::DepthwiseConv2DNhwcHwcOp> {
  using ConstantWeightPattern::ConstantWeightPattern;
  LogicalResult matchAndRewrite(linalg::DepthwiseConv2DNhwcHwcOp op,
                                PatternRewriter &rewriter) const override {
    auto src = cast<RankedTensorType>(op.getInputs()[1].getType()).getShape();
    SmallVector<int64_t> shape = {src[0], src[1], 1, src[2]};
    auto w = readWeights(op.getInputs()[1], shape, 3, [&](ArrayRef<int64_t> i) {
      return (i[0] * src[1] + i[1]) * src[2] + i[3];
    });
    return rewriteConv(rewriter, op, op.getInputs()[0], op.getOutputs()[0], w,
                       ConvLayout::nhwc_hwcf, src[2], options);
  }
};

/// collapse(linalg.conv_2d_ngchw_{fgchw,gfchw}(expand(x), w)) → grouped
/// shift.conv2d; the form the frontend exports for 1 < groups < channels.
struct GroupedConvPattern : OpRewritePattern<tensor::CollapseShapeOp> {
  GroupedConvPattern(MLIRContext *ctx, const WeightConversionOptions &options)
      : OpRewritePattern(ctx), options(options) {}
  WeightConversionOptions options;

  LogicalResult matchAndRewrite(tensor::CollapseShapeOp collapse,
                                PatternRewriter &rewriter) const override {
    Operation *conv = collapse.getSrc().getDefiningOp();
    bool fgchw = isa_and_nonnull<linalg::Conv2DNgchwFgchwOp>(conv);
    if (!fgchw && !isa_and_nonnull<linalg::Conv2DNgchwGfchwOp>(conv))
      return failure();
    auto linalgOp = cast<linalg::LinalgOp>(conv);
    if (!conv->hasOneUse())
      return failure();
    // Only the channel split (C -> G x C/G, F <- G x F/G) is a grouped conv.
    SmallVector<ReassociationIndices> channelSplit = {{0}, {1, 2}, {3}, {4}};
    auto expand =
        linalgOp.getDpsInputs()[0].getDefiningOp<tensor::ExpandShapeOp>();
    if (!expand || expand.getReassociationIndices() != channelSplit ||
        collapse.getReassociationIndices() != channelSplit)
      return failure();
    // Weights F/G x G x C/G x KH x KW (fgchw) or G x F/G x ... (gfchw)
    // → F x C/G x KH x KW with F ordered (g, f).
    Value weights = linalgOp.getDpsInputs()[1];
    auto src = cast<RankedTensorType>(weights.getType()).getShape();
    int64_t g = fgchw ? src[1] : src[0], fg = fgchw ? src[0] : src[1];
    SmallVector<int64_t> shape = {fg * g, src[2], src[3], src[4]};
    auto w = readWeights(weights, shape, 0, [&](ArrayRef<int64_t> i) {
      int64_t group = i[0] / fg, f = i[0] % fg;
      int64_t outer = fgchw ? f * g + group : group * fg + f;
      return ((outer * src[2] + i[1]) * src[3] + i[2]) * src[4] + i[3];
    });
    if (failed(w))
      return declined(rewriter, conv, options,
                      "weights are not an f32 constant");
    if (!isZeroFill(linalgOp.getDpsInits()[0]))
      return declined(rewriter, conv, options, "init is not a zero fill");
    if (!hasStaticShapes(conv) || !hasStaticShapes(expand) ||
        !hasStaticShapes(collapse))
      return declined(rewriter, conv, options, "dynamic shapes");
    SmallVector<int64_t> padding;
    Value input = foldZeroPad(expand.getSrc(), 2, 3, padding);
    std::string reason;
    auto converted =
        convertWeights(rewriter, conv->getLoc(), *w, options, reason);
    if (failed(converted))
      return declined(rewriter, conv, options, reason);
    // The collapsed output channel g * F/G + f is the shift.conv2d order.
    rewriter.replaceOpWithNewOp<Conv2DOp>(
        collapse, collapse.getType(), input, converted->codes, converted->alpha,
        converted->encoding,
        ConvLayoutAttr::get(rewriter.getContext(), ConvLayout::nchw_fchw),
        rewriter.getDenseI64ArrayAttr(convAttr(conv, "strides")),
        rewriter.getDenseI64ArrayAttr(convAttr(conv, "dilations")),
        rewriter.getDenseI64ArrayAttr(padding), rewriter.getI64IntegerAttr(g));
    return success();
  }
};

/// linalg.matmul with a constant K x N (or, with transposed maps, N x K)
/// weight → shift.matmul with N x K codes.
struct MatmulPattern : ConstantWeightPattern<linalg::MatmulOp> {
  using ConstantWeightPattern::ConstantWeightPattern;
  LogicalResult matchAndRewrite(linalg::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<bool> layout = matmulWeightTransposed(op);
    if (!layout)
      return declined(rewriter, op, options, "unsupported matmul maps");
    bool transposed = *layout;
    auto src = cast<RankedTensorType>(op.getInputs()[1].getType()).getShape();
    auto resultType = cast<RankedTensorType>(op.getResultTypes()[0]);
    if (!resultType.getElementType().isF32() ||
        !cast<RankedTensorType>(op.getInputs()[0].getType())
             .getElementType()
             .isF32())
      return declined(rewriter, op, options, "only f32 matmuls are converted");
    int64_t n = resultType.getDimSize(1);
    int64_t k = transposed ? src[1] : src[0];
    SmallVector<int64_t> shape = {n, k};
    auto w = readWeights(op.getInputs()[1], shape, 0, [&](ArrayRef<int64_t> i) {
      return transposed ? i[0] * k + i[1] : i[1] * n + i[0];
    });
    if (failed(w))
      return declined(rewriter, op, options, "weights are not an f32 constant");
    if (!isZeroFill(op.getOutputs()[0]))
      return declined(rewriter, op, options, "init is not a zero fill");
    if (!hasStaticShapes(op))
      return declined(rewriter, op, options, "dynamic shapes");
    std::string reason;
    auto converted = convertWeights(rewriter, op.getLoc(), *w, options, reason);
    if (failed(converted))
      return declined(rewriter, op, options, reason);
    rewriter.replaceOpWithNewOp<shift::MatmulOp>(
        op, resultType, op.getInputs()[0], converted->codes, converted->alpha,
        converted->encoding);
    return success();
  }
};

struct ConvertLinalgToShiftPass
    : impl::ConvertLinalgToShiftBase<ConvertLinalgToShiftPass> {
  using ConvertLinalgToShiftBase::ConvertLinalgToShiftBase;

  void runOnOperation() override {
    bool quantize = mode == WeightsMode::Quantize;
    // 0: exact mode accepts any width (it picks the smallest that fits);
    // quantize mode rounds to the common 4 bits.
    unsigned width = bits != 0 ? unsigned(bits) : quantize ? 4 : 8;
    if (width < 2 || width > 8) {
      getOperation()->emitError("shift-from-linalg: bits must be in [2, 8], "
                                "got ")
          << width;
      return signalPassFailure();
    }
    WeightConversionOptions options{quantize, width, zeroFree, remarks};
    RewritePatternSet patterns(&getContext());
    populateLinalgToShiftPatterns(patterns, options);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

bool shift::isZeroFill(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  FloatAttr value;
  return matchPattern(fill.getInputs()[0], m_Constant(&value)) &&
         value.getValue().isZero();
}

SmallVector<int64_t> shift::convAttr(Operation *op, StringRef name) {
  SmallVector<int64_t> result(2, 1);
  if (auto attr = op->getAttrOfType<DenseIntElementsAttr>(name))
    result.assign(attr.getValues<int64_t>().begin(),
                  attr.getValues<int64_t>().end());
  return result;
}

Value shift::foldZeroPad(Value input, unsigned hDim, unsigned wDim,
                         SmallVector<int64_t> &padding) {
  padding.assign(4, 0);
  auto pad = input.getDefiningOp<tensor::PadOp>();
  if (!pad)
    return input;
  Value padValue = pad.getConstantPaddingValue();
  FloatAttr padAttr;
  if (!padValue || !matchPattern(padValue, m_Constant(&padAttr)) ||
      !padAttr.getValue().isZero())
    return input;
  SmallVector<int64_t> low(pad.getStaticLow()), high(pad.getStaticHigh());
  for (unsigned d = 0; d < low.size(); ++d) {
    if (ShapedType::isDynamic(low[d]) || ShapedType::isDynamic(high[d]))
      return input;
    if (d != hDim && d != wDim && (low[d] != 0 || high[d] != 0))
      return input;
  }
  padding = {low[hDim], low[wDim], high[hDim], high[wDim]};
  return pad.getSource();
}

std::optional<bool> shift::matmulWeightTransposed(linalg::MatmulOp op) {
  MLIRContext *ctx = op.getContext();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto map = [&](AffineExpr a, AffineExpr b) {
    return AffineMap::get(3, 0, {a, b}, ctx);
  };
  if (maps.size() != 3 || maps[0] != map(d(0), d(2)) ||
      maps[2] != map(d(0), d(1)))
    return std::nullopt;
  if (maps[1] == map(d(1), d(2)))
    return true;
  if (maps[1] == map(d(2), d(1)))
    return false;
  return std::nullopt;
}

bool shift::hasStaticShapes(Operation *op) {
  auto isStatic = [](Type type) {
    auto shaped = dyn_cast<ShapedType>(type);
    return !shaped || shaped.hasStaticShape();
  };
  return llvm::all_of(op->getOperandTypes(), isStatic) &&
         llvm::all_of(op->getResultTypes(), isStatic);
}

void mlir::shift::populateLinalgToShiftPatterns(
    RewritePatternSet &patterns, const WeightConversionOptions &options) {
  patterns
      .add<ConvNchwFchwPattern, ConvNhwcHwcfPattern, DepthwiseNchwChwPattern,
           DepthwiseNhwcHwcPattern, GroupedConvPattern, MatmulPattern>(
          patterns.getContext(), options);
}
