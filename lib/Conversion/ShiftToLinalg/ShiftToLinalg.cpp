//===- ShiftToLinalg.cpp - Reference lowering of shift ops ----------------===//
//
// Every shift op becomes "dequantize the codes, then plain f32 math". This is
// the oracle of the project: slow, simple, and upstream-only.
//
//===----------------------------------------------------------------------===//

#include "DenseShift/Conversion/ShiftToLinalg/ShiftToLinalg.h"
#include "DenseShift/Dialect/Shift/IR/ShiftOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
#define GEN_PASS_DEF_CONVERTSHIFTTOLINALG
#include "DenseShift/Conversion/Passes.h.inc"
} // namespace mlir

using namespace mlir;
using namespace mlir::shift;

namespace {

SmallVector<utils::IteratorType> iterators(unsigned parallel,
                                           unsigned reduction) {
  SmallVector<utils::IteratorType> result(parallel,
                                          utils::IteratorType::parallel);
  result.append(reduction, utils::IteratorType::reduction);
  return result;
}

Value zeroFilled(OpBuilder &b, Location loc, RankedTensorType type) {
  Value empty =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

void yieldValue(OpBuilder &b, Location loc, Value value) {
  linalg::YieldOp::create(b, loc, ValueRange{value});
}

Value i32Const(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(int32_t(v)));
}

Value i64Const(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
}

/// Map of a rank-`rank` tensor onto its `axis` dimension (alpha broadcast).
AffineMap channelMap(MLIRContext *ctx, unsigned rank, unsigned axis) {
  return AffineMap::get(rank, 0, getAffineDimExpr(axis, ctx));
}

/// Lowers dequantize to an elementwise generic: alpha * sign * 2^e, with the
/// power of two built from its exponent bits so it is exact.
struct DequantizeOpLowering : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = op.getWeights().getType();
    unsigned rank = resultType.getRank();
    MLIRContext *ctx = op.getContext();
    int64_t emin = op.getEncoding().getEmin();
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         rewriter.getF32Type());
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(rank),
                                   channelMap(ctx, rank, op.getAxis()),
                                   rewriter.getMultiDimIdentityMap(rank)};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType},
        ValueRange{op.getCodes(), op.getAlpha()}, ValueRange{init}, maps,
        iterators(rank, 0), [&](OpBuilder &b, Location l, ValueRange args) {
          Value code = arith::ExtSIOp::create(b, l, b.getI32Type(), args[0]);
          Value zero = i32Const(b, l, 0);
          Value negative = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::slt, code, zero);
          Value magnitude = arith::SelectOp::create(
              b, l, negative, arith::SubIOp::create(b, l, zero, code), code);
          // Biased exponent emin + |c| - 1 + 127, moved into place.
          Value biased = arith::AddIOp::create(b, l, magnitude,
                                               i32Const(b, l, emin + 126));
          Value bits = arith::ShLIOp::create(b, l, biased, i32Const(b, l, 23));
          Value power = arith::BitcastOp::create(b, l, b.getF32Type(), bits);
          Value isZero =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, code, zero);
          Value fzero =
              arith::ConstantOp::create(b, l, b.getF32FloatAttr(0.0f));
          Value value = arith::SelectOp::create(b, l, isZero, fzero, power);
          value = arith::SelectOp::create(
              b, l, negative, arith::NegFOp::create(b, l, value), value);
          Value scaled = arith::MulFOp::create(b, l, args[1], value);
          yieldValue(b, l, scaled);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// Lowers quantize to a per-channel max|w| reduction, the alpha of DESIGN.md
/// and an elementwise log-domain rounding done on the bits of |w| / alpha.
struct QuantizeOpLowering : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto weightsType = op.getWeights().getType();
    auto alphaType = op.getAlpha().getType();
    auto codesType = op.getCodes().getType();
    unsigned rank = weightsType.getRank();
    unsigned axis = op.getAxis();
    encoding::Format format = toFormat(op.getEncoding());

    // max|w| per channel; maximumf propagates NaN into alpha.
    Value maxInit = zeroFilled(rewriter, loc, alphaType);
    SmallVector<utils::IteratorType> reduceIterators(
        rank, utils::IteratorType::reduction);
    reduceIterators[axis] = utils::IteratorType::parallel;
    auto absMax = linalg::GenericOp::create(
        rewriter, loc, TypeRange{alphaType}, ValueRange{op.getWeights()},
        ValueRange{maxInit},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank),
                               channelMap(ctx, rank, axis)},
        reduceIterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value magnitude = math::AbsFOp::create(b, l, args[0]);
          yieldValue(b, l, arith::MaximumFOp::create(b, l, args[1], magnitude));
        });

    // alpha = max|w| / 2^(emin + K): a multiplication by an exact power of 2.
    float inverseTop = std::ldexp(1.0f, -int(format.emin + format.maxOffset()));
    Value alphaInit = tensor::EmptyOp::create(
        rewriter, loc, alphaType.getShape(), rewriter.getF32Type());
    auto alpha = linalg::GenericOp::create(
        rewriter, loc, TypeRange{alphaType}, ValueRange{absMax.getResult(0)},
        ValueRange{alphaInit},
        SmallVector<AffineMap>(2, rewriter.getMultiDimIdentityMap(1)),
        iterators(1, 0), [&](OpBuilder &b, Location l, ValueRange args) {
          Value scale =
              arith::ConstantOp::create(b, l, b.getF32FloatAttr(inverseTop));
          yieldValue(b, l, arith::MulFOp::create(b, l, args[0], scale));
        });

    Value codesInit = tensor::EmptyOp::create(
        rewriter, loc, codesType.getShape(), codesType.getElementType());
    auto codes = linalg::GenericOp::create(
        rewriter, loc, TypeRange{codesType},
        ValueRange{op.getWeights(), alpha.getResult(0)}, ValueRange{codesInit},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank),
                               channelMap(ctx, rank, axis),
                               rewriter.getMultiDimIdentityMap(rank)},
        iterators(rank, 0), [&](OpBuilder &b, Location l, ValueRange args) {
          Value w = args[0], a = args[1];
          Value fzero =
              arith::ConstantOp::create(b, l, b.getF32FloatAttr(0.0f));
          // |w| / alpha in f64, like EncodingMath: the f64 quotient of two
          // f32 never crosses sqrt(2) * 2^k, the f32 quotient often does.
          Type f64 = b.getF64Type(), i64 = b.getI64Type();
          Value absW = math::AbsFOp::create(b, l, w);
          // One op per statement: the order of nested builder calls as
          // arguments is up to the C++ compiler, and so would be the IR's.
          Value wideW = arith::ExtFOp::create(b, l, f64, absW);
          Value wideA = arith::ExtFOp::create(b, l, f64, a);
          Value ratio = arith::DivFOp::create(b, l, wideW, wideA);
          Value bits = arith::BitcastOp::create(b, l, i64, ratio);
          Value exponent = arith::TruncIOp::create(
              b, l, b.getI32Type(),
              arith::SubIOp::create(
                  b, l,
                  arith::AndIOp::create(
                      b, l,
                      arith::ShRUIOp::create(b, l, bits, i64Const(b, l, 52)),
                      i64Const(b, l, 0x7FF)),
                  i64Const(b, l, 1023)));
          // The f64 nearest sqrt(2) lies above it, so mantissa >= its
          // fraction bits is exactly 1.mantissa > sqrt(2): round up.
          Value mantissa = arith::AndIOp::create(
              b, l, bits, i64Const(b, l, 0xFFFFFFFFFFFFFll));
          Value roundUp = arith::ExtUIOp::create(
              b, l, b.getI32Type(),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, mantissa,
                                    i64Const(b, l, 0x6A09E667F3BCDll)));
          Value offset = arith::SubIOp::create(
              b, l, arith::AddIOp::create(b, l, exponent, roundUp),
              i32Const(b, l, format.emin));
          Value clamped = arith::MinSIOp::create(
              b, l, arith::MaxSIOp::create(b, l, offset, i32Const(b, l, 0)),
              i32Const(b, l, format.maxOffset()));
          Value magnitude =
              arith::AddIOp::create(b, l, clamped, i32Const(b, l, 1));
          Value negative =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, w, fzero);
          Value code = arith::SelectOp::create(
              b, l, negative,
              arith::SubIOp::create(b, l, i32Const(b, l, 0), magnitude),
              magnitude);
          // Zeros (and an all-zero channel, alpha = 0) take the smallest
          // code; with-zero formats send anything below emin to code 0.
          Value zeroW =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, w, fzero);
          Value zeroA =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, a, fzero);
          Value isZero = arith::OrIOp::create(b, l, zeroW, zeroA);
          Value smallest = i32Const(b, l, format.zeroFree ? 1 : 0);
          if (!format.zeroFree) {
            Value below = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                                offset, i32Const(b, l, 0));
            isZero = arith::OrIOp::create(b, l, isZero, below);
          }
          code = arith::SelectOp::create(b, l, isZero, smallest, code);
          yieldValue(
              b, l,
              arith::TruncIOp::create(b, l, codesType.getElementType(), code));
        });
    rewriter.replaceOp(op, {codes.getResult(0), alpha.getResult(0)});
    return success();
  }
};

/// Lowers shift.conv2d to dequantize + zero padding + a grouped convolution
/// generic on tensors with the group split out as its own dimension.
struct Conv2DOpLowering : OpRewritePattern<Conv2DOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(Conv2DOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    bool nchw = op.isNCHW();
    int64_t groups = op.getGroups();
    auto inputType = op.getInput().getType();
    auto codesType = op.getCodes().getType();
    auto resultType = op.getResult().getType();
    Type f32 = rewriter.getF32Type();

    Value weights = DequantizeOp::create(
        rewriter, loc, RankedTensorType::get(codesType.getShape(), f32),
        op.getCodes(), op.getAlpha(), op.getEncoding(),
        rewriter.getI64IntegerAttr(nchw ? 0 : 3));

    // Zero padding: [top, left, bottom, right] onto the H and W dimensions.
    ArrayRef<int64_t> pad = op.getPadding();
    unsigned hDim = nchw ? 2 : 1, wDim = nchw ? 3 : 2;
    Value input = op.getInput();
    if (llvm::any_of(pad, [](int64_t p) { return p != 0; })) {
      SmallVector<int64_t> low(4, 0), high(4, 0);
      low[hDim] = pad[0];
      low[wDim] = pad[1];
      high[hDim] = pad[2];
      high[wDim] = pad[3];
      SmallVector<int64_t> paddedShape(inputType.getShape());
      paddedShape[hDim] += pad[0] + pad[2];
      paddedShape[wDim] += pad[1] + pad[3];
      Value zero = arith::ConstantOp::create(rewriter, loc,
                                             rewriter.getF32FloatAttr(0.0f));
      input = tensor::PadOp::create(
          rewriter, loc, RankedTensorType::get(paddedShape, f32), input,
          rewriter.getDenseI64ArrayAttr(low),
          rewriter.getDenseI64ArrayAttr(high), ValueRange{}, ValueRange{});
      auto padOp = input.getDefiningOp<tensor::PadOp>();
      Block *block = rewriter.createBlock(&padOp.getRegion());
      for (int i = 0; i < 4; ++i)
        block->addArgument(rewriter.getIndexType(), loc);
      rewriter.setInsertionPointToEnd(block);
      tensor::YieldOp::create(rewriter, loc, zero);
      rewriter.setInsertionPointAfter(padOp);
    }
    auto paddedType = cast<RankedTensorType>(input.getType());

    // Split channels into (group, channel-in-group).
    int64_t c = op.getNumInputChannels(), f = op.getNumOutputChannels();
    int64_t cg = c / groups, fg = f / groups;
    ArrayRef<int64_t> ps = paddedType.getShape();
    ArrayRef<int64_t> ks = codesType.getShape();
    ArrayRef<int64_t> rs = resultType.getShape();
    SmallVector<int64_t> inShape, wShape, outShape;
    SmallVector<ReassociationIndices> inReassoc, wReassoc, outReassoc;
    if (nchw) {
      inShape = {ps[0], groups, cg, ps[2], ps[3]};
      inReassoc = {{0}, {1, 2}, {3}, {4}};
      wShape = {groups, fg, ks[1], ks[2], ks[3]};
      wReassoc = {{0, 1}, {2}, {3}, {4}};
      outShape = {rs[0], groups, fg, rs[2], rs[3]};
      outReassoc = {{0}, {1, 2}, {3}, {4}};
    } else {
      inShape = {ps[0], ps[1], ps[2], groups, cg};
      inReassoc = {{0}, {1}, {2}, {3, 4}};
      wShape = {ks[0], ks[1], ks[2], groups, fg};
      wReassoc = {{0}, {1}, {2}, {3, 4}};
      outShape = {rs[0], rs[1], rs[2], groups, fg};
      outReassoc = {{0}, {1}, {2}, {3, 4}};
    }
    Value in5 = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(inShape, f32), input, inReassoc);
    Value w5 = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(wShape, f32), weights, wReassoc);
    auto out5Type = RankedTensorType::get(outShape, f32);
    Value init = zeroFilled(rewriter, loc, out5Type);

    int64_t sh = op.getStrides()[0], sw = op.getStrides()[1];
    int64_t dh = op.getDilations()[0], dw = op.getDilations()[1];
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineMap> maps;
    if (nchw) {
      // (n, g, f, oh, ow, c, kh, kw)
      maps = {AffineMap::get(8, 0,
                             {d(0), d(1), d(5), d(3) * sh + d(6) * dh,
                              d(4) * sw + d(7) * dw},
                             ctx),
              AffineMap::get(8, 0, {d(1), d(2), d(5), d(6), d(7)}, ctx),
              AffineMap::get(8, 0, {d(0), d(1), d(2), d(3), d(4)}, ctx)};
    } else {
      // (n, oh, ow, g, f, kh, kw, c)
      maps = {AffineMap::get(8, 0,
                             {d(0), d(1) * sh + d(5) * dh,
                              d(2) * sw + d(6) * dw, d(3), d(7)},
                             ctx),
              AffineMap::get(8, 0, {d(5), d(6), d(7), d(3), d(4)}, ctx),
              AffineMap::get(8, 0, {d(0), d(1), d(2), d(3), d(4)}, ctx)};
    }
    auto conv = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out5Type}, ValueRange{in5, w5},
        ValueRange{init}, maps, iterators(5, 3),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value product = arith::MulFOp::create(b, l, args[0], args[1]);
          yieldValue(b, l, arith::AddFOp::create(b, l, args[2], product));
        });
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, resultType, conv.getResult(0), outReassoc);
    return success();
  }
};

/// Lowers shift.matmul to dequantize + y[m, n] += x[m, k] * w[n, k].
struct MatmulOpLowering : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Type f32 = rewriter.getF32Type();
    auto codesType = op.getCodes().getType();
    Value weights = DequantizeOp::create(
        rewriter, loc, RankedTensorType::get(codesType.getShape(), f32),
        op.getCodes(), op.getAlpha(), op.getEncoding(),
        rewriter.getI64IntegerAttr(0));
    Value init = zeroFilled(rewriter, loc, op.getResult().getType());
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    // (m, n, k)
    SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {d(0), d(2)}, ctx),
                                   AffineMap::get(3, 0, {d(1), d(2)}, ctx),
                                   AffineMap::get(3, 0, {d(0), d(1)}, ctx)};
    auto matmul = linalg::GenericOp::create(
        rewriter, loc, TypeRange{op.getResult().getType()},
        ValueRange{op.getInput(), weights}, ValueRange{init}, maps,
        iterators(2, 1), [&](OpBuilder &b, Location l, ValueRange args) {
          Value product = arith::MulFOp::create(b, l, args[0], args[1]);
          yieldValue(b, l, arith::AddFOp::create(b, l, args[2], product));
        });
    rewriter.replaceOp(op, matmul.getResults());
    return success();
  }
};

/// Lowers shift_accumulate with IEEE semantics whatever its mode: under the
/// exponent_add precondition both modes agree, so this is the reference.
struct ShiftAccumulateOpLowering : OpRewritePattern<ShiftAccumulateOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ShiftAccumulateOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, buildIEEEShiftAccumulate(rewriter, op.getLoc(),
                                                    op.getAcc(), op.getX(),
                                                    op.getWord()));
    return success();
  }
};

struct ConvertShiftToLinalgPass
    : impl::ConvertShiftToLinalgBase<ConvertShiftToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateShiftToLinalgPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

Value mlir::shift::buildIEEEShiftAccumulate(OpBuilder &b, Location loc,
                                            Value acc, Value x, Value word) {
  Attribute one = b.getI32IntegerAttr(0x3F800000);
  if (auto vectorType = dyn_cast<VectorType>(word.getType()))
    one = DenseElementsAttr::get(vectorType, one);
  Value bias = arith::ConstantOp::create(b, loc, cast<TypedAttr>(one));
  // word + bits(1.0) is the bit pattern of s * 2^e.
  Value bits = arith::AddIOp::create(b, loc, word, bias);
  Value scale = arith::BitcastOp::create(b, loc, x.getType(), bits);
  Value product = arith::MulFOp::create(b, loc, x, scale);
  return arith::AddFOp::create(b, loc, acc, product);
}

void mlir::shift::populateShiftToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<DequantizeOpLowering, QuantizeOpLowering, Conv2DOpLowering,
               MatmulOpLowering, ShiftAccumulateOpLowering>(
      patterns.getContext());
}
