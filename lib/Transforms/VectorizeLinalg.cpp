//===- VectorizeLinalg.cpp - Vectorize the ops the kernels do not cover ---===//
//
// Everything of a model that is not a shift/f32 kernel (elementwise ops,
// fills and copies, reductions, pooling, activation x activation matmuls)
// used to reach convert-linalg-to-loops and run as scalar loops. Here each
// such op is tiled along one dimension by a few vector registers, with one
// static remainder tile, and every tile is vectorized by upstream
// linalg::vectorize; NCHW pooling, which the upstream vectorizer handles
// only in 1-D form, gets its own vector loop.
//
//===----------------------------------------------------------------------===//

#include "DenseShift/Conversion/ShiftToVector/ShiftToVector.h"
#include "DenseShift/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::shift {
#define GEN_PASS_DEF_SHIFTVECTORIZELINALG
#include "DenseShift/Transforms/Passes.h.inc"
} // namespace mlir::shift

using namespace mlir;
using namespace mlir::shift;

namespace {

/// Vector registers per tile along the vector dimension.
constexpr int64_t kRegistersPerTile = 4;
/// Widest pooling column stride read as wide loads plus a shuffle.
constexpr int64_t kMaxPoolStride = 4;
/// Pooling windows up to this many taps are unrolled; larger ones loop over
/// window rows.
constexpr int64_t kMaxUnrolledTaps = 25;

bool allStaticMemRefs(Operation *op) {
  for (Value operand : op->getOperands())
    if (auto type = dyn_cast<ShapedType>(operand.getType()))
      if (!isa<MemRefType>(type) || !type.hasStaticShape())
        return false;
  return true;
}

bool allIdentityLayouts(Operation *op) {
  for (Value operand : op->getOperands())
    if (auto type = dyn_cast<MemRefType>(operand.getType()))
      if (!type.getLayout().isIdentity())
        return false;
  return true;
}

/// Groups of adjacent iteration dimensions (same iterator type) that every
/// operand reads as one contiguous run, grown from the innermost dimension.
SmallVector<ReassociationIndices> collapsibleDims(linalg::LinalgOp op) {
  unsigned rank = op.getNumLoops();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<ReassociationIndices> groups;
  for (unsigned d = 0; d < rank; ++d)
    groups.push_back({int64_t(d)});
  // Merge the innermost group with its outer neighbour while that is legal.
  while (groups.size() > 1) {
    ReassociationIndices &inner = groups.back();
    ReassociationIndices &outer = groups[groups.size() - 2];
    if (iterators[outer.front()] != iterators[inner.front()])
      break;
    ReassociationIndices merged = outer;
    merged.append(inner.begin(), inner.end());
    if (!linalg::areDimSequencesPreserved(maps, {merged}))
      break;
    outer = merged;
    groups.pop_back();
  }
  return groups;
}

/// The dimension to vectorize: innermost (contiguous) in the most operands;
/// ties go to the innermost dimension.
unsigned vectorDim(linalg::LinalgOp op) {
  unsigned rank = op.getNumLoops();
  SmallVector<int> score(rank, 0);
  for (AffineMap map : op.getIndexingMapsArray()) {
    if (map.getNumResults() == 0)
      continue;
    if (auto dim = dyn_cast<AffineDimExpr>(map.getResults().back()))
      ++score[dim.getPosition()];
  }
  unsigned best = rank - 1;
  for (unsigned d = rank; d-- > 0;)
    if (score[d] > score[best])
      best = d;
  return best;
}

/// Tiles `op` along `vdim` by `tile` (others by 1) with explicit loops and
/// vectorizes each static tile. Loop order follows the iteration order, so
/// reductions accumulate in the same order as the scalar loops would,
/// except within one vector.
void tileAndVectorize(RewriterBase &rewriter, linalg::LinalgOp op,
                      unsigned vdim, int64_t tile) {
  Location loc = op.getLoc();
  SmallVector<int64_t> bounds = op.getStaticLoopRanges();
  unsigned rank = bounds.size();
  int64_t full = bounds[vdim] / tile, rest = bounds[vdim] % tile;
  SmallVector<Value> operands = op->getOperands();
  SmallVector<OpFoldResult> sizeBounds =
      getAsIndexOpFoldResult(rewriter.getContext(), bounds);
  SmallVector<Operation *> tiles;

  std::function<void(OpBuilder &, unsigned, SmallVector<OpFoldResult> &,
                     SmallVector<OpFoldResult> &)>
      emit = [&](OpBuilder &b, unsigned d, SmallVector<OpFoldResult> &ivs,
                 SmallVector<OpFoldResult> &sizes) {
        if (d == rank) {
          SmallVector<Value> tiled = linalg::makeTiledShapes(
              b, loc, op, operands, ivs, sizes, sizeBounds,
              /*omitPartialTileCheck=*/true);
          Operation *tile = mlir::clone(b, op, TypeRange{}, tiled);
          // linalg.index in the body counts from the tile's origin now.
          linalg::offsetIndices(b, cast<linalg::LinalgOp>(tile), ivs);
          tiles.push_back(tile);
          return;
        }
        auto loop = [&](int64_t lb, int64_t count, int64_t step, int64_t size) {
          sizes[d] = b.getIndexAttr(size);
          if (count == 1) {
            ivs[d] = b.getIndexAttr(lb);
            emit(b, d + 1, ivs, sizes);
            return;
          }
          Value lower = arith::ConstantIndexOp::create(b, loc, lb);
          Value upper =
              arith::ConstantIndexOp::create(b, loc, lb + count * step);
          Value stride = arith::ConstantIndexOp::create(b, loc, step);
          auto forOp = scf::ForOp::create(b, loc, lower, upper, stride);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(forOp.getBody()->getTerminator());
          ivs[d] = forOp.getInductionVar();
          emit(b, d + 1, ivs, sizes);
        };
        if (d != vdim) {
          loop(0, bounds[d], 1, 1);
          return;
        }
        if (full > 0)
          loop(0, full, tile, tile);
        if (rest > 0)
          loop(full * tile, 1, rest, rest);
      };

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  SmallVector<OpFoldResult> ivs(rank, rewriter.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes(rank, rewriter.getIndexAttr(1));
  emit(rewriter, 0, ivs, sizes);
  for (Operation *tiled : tiles) {
    rewriter.setInsertionPoint(tiled);
    // A tile that does not vectorize stays a (small) linalg op for the
    // scalar loops, where shift-report-scalar-loops names it.
    if (succeeded(linalg::vectorize(rewriter, tiled)))
      rewriter.eraseOp(tiled);
  }
  rewriter.eraseOp(op);
}

/// Any structured op on static buffers whose maps are projected
/// permutations (elementwise, fill, copy, transpose, reductions, matmuls):
/// collapse, tile, vectorize.
struct TileAndVectorizeStructuredOp
    : OpInterfaceRewritePattern<linalg::LinalgOp> {
  TileAndVectorizeStructuredOp(MLIRContext *ctx, int64_t lanes)
      : OpInterfaceRewritePattern(ctx), lanes(lanes) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureBufferSemantics() || !allStaticMemRefs(op) ||
        op.getNumLoops() == 0 || !op.hasOnlyProjectedPermutations() ||
        isa<linalg::PoolingNchwMaxOp, linalg::PoolingNchwSumOp>(op))
      return rewriter.notifyMatchFailure(op, "not a static projected op");
    // Vectorize only what the scalar loops would be slower at: a tile the
    // upstream vectorizer rejects leaves the op for the scalar report.
    if (failed(linalg::vectorizeOpPrecondition(op)))
      return rewriter.notifyMatchFailure(op, "rejected by the vectorizer");
    // Generic form, so that dimensions can be collapsed.
    linalg::LinalgOp target = op;
    if (!isa<linalg::GenericOp>(op)) {
      FailureOr<linalg::GenericOp> generic =
          linalg::generalizeNamedOp(rewriter, op);
      if (failed(generic))
        return rewriter.notifyMatchFailure(op, "cannot generalize");
      target = *generic;
    }
    if (allIdentityLayouts(target)) {
      SmallVector<ReassociationIndices> groups = collapsibleDims(target);
      if (groups.size() < target.getNumLoops()) {
        SmallVector<ReassociationIndices> folded;
        for (const ReassociationIndices &group : groups)
          if (group.size() > 1)
            folded.push_back(group);
        FailureOr<linalg::CollapseResult> collapsed =
            linalg::collapseOpIterationDims(target, folded, rewriter);
        if (succeeded(collapsed)) {
          rewriter.eraseOp(target);
          target = collapsed->collapsedOp;
        }
      }
    }
    unsigned vdim = vectorDim(target);
    int64_t tile = lanes * kRegistersPerTile;
    tileAndVectorize(rewriter, target, vdim, tile);
    return success();
  }

  int64_t lanes;
};

/// linalg.pooling_nchw_{max,sum} on static buffers: loops over (n, c, oh)
/// and vectors of output columns; each window tap is a vector load (unit
/// stride) or a wide load and a shuffle (stride > 1). Taps accumulate in
/// the window's row-major order, as the scalar loops do.
template <typename PoolOp, bool isMax>
struct VectorizePoolingNchw : OpRewritePattern<PoolOp> {
  VectorizePoolingNchw(MLIRContext *ctx, int64_t lanes)
      : OpRewritePattern<PoolOp>(ctx), lanes(lanes) {}

  LogicalResult matchAndRewrite(PoolOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureBufferSemantics() || !allStaticMemRefs(op))
      return rewriter.notifyMatchFailure(op, "not on static buffers");
    Value input = op.getInputs()[0], output = op.getOutputs()[0];
    auto inType = cast<MemRefType>(input.getType());
    auto outType = cast<MemRefType>(output.getType());
    auto window = cast<MemRefType>(op.getInputs()[1].getType());
    Type element = outType.getElementType();
    if (!isa<FloatType>(element) || inType.getElementType() != element)
      return rewriter.notifyMatchFailure(op, "not a float pooling");
    ArrayRef<int64_t> out = outType.getShape(), in = inType.getShape();
    int64_t kh = window.getDimSize(0), kw = window.getDimSize(1);
    auto strides =
        llvm::to_vector(op.getStrides().template getValues<int64_t>());
    auto dilations =
        llvm::to_vector(op.getDilations().template getValues<int64_t>());
    int64_t sh = strides[0], sw = strides[1], dh = dilations[0],
            dw = dilations[1];
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;

    auto combine = [&](OpBuilder &b, Value acc, Value v) -> Value {
      if (isMax)
        return arith::MaximumFOp::create(b, loc, acc, v);
      return arith::AddFOp::create(b, loc, acc, v);
    };
    auto index = [&](OpBuilder &b, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    auto affineIndex = [&](OpBuilder &b, Value iv, int64_t scale,
                           int64_t offset) -> Value {
      AffineExpr d0 = b.getAffineDimExpr(0);
      return affine::AffineApplyOp::create(
          b, loc, AffineMap::get(1, 0, d0 * scale + offset), ValueRange{iv});
    };

    // Global pooling (one output per channel, the window is the map):
    // reduce each channel's contiguous H*W run.
    if (out[2] == 1 && out[3] == 1 && kh == in[2] && kw == in[3] &&
        inType.getLayout().isIdentity() && outType.getLayout().isIdentity()) {
      auto flatIn = memref::CollapseShapeOp::create(
          b, loc, input, ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}});
      auto flatOut = memref::CollapseShapeOp::create(
          b, loc, output, ArrayRef<ReassociationIndices>{{0, 1, 2, 3}});
      MLIRContext *ctx = b.getContext();
      AffineExpr d0, d1;
      bindDims(ctx, d0, d1);
      SmallVector<AffineMap> maps = {AffineMap::get(2, 0, {d0, d1}, ctx),
                                     AffineMap::get(2, 0, {d0}, ctx)};
      SmallVector<utils::IteratorType> iterators = {
          utils::IteratorType::parallel, utils::IteratorType::reduction};
      auto reduce = linalg::GenericOp::create(
          b, loc, TypeRange{}, ValueRange{flatIn}, ValueRange{flatOut}, maps,
          iterators, [&](OpBuilder &b, Location loc, ValueRange args) {
            linalg::YieldOp::create(b, loc, combine(b, args[1], args[0]));
          });
      tileAndVectorize(rewriter, reduce, 1, lanes * kRegistersPerTile);
      rewriter.eraseOp(op);
      return success();
    }

    // A tap of a wider stride would load `sw` columns per output: a
    // gather, not a vector load; such pools stay scalar (and reported).
    if (sw > kMaxPoolStride)
      return rewriter.notifyMatchFailure(op, "column stride too wide");

    // Columns a full tile of `lanes` outputs starting at output column `ow`
    // reads for tap `j` with a wide load: [ow*sw + j*dw, +lanes*sw).
    // Tiles whose wide load stays inside the row use it; the others (at
    // most the last tiles of a row) load exactly the columns they need.
    int64_t fullTiles = out[3] / lanes, rest = out[3] % lanes;
    int64_t wideTiles = 0;
    for (int64_t t = 0; t < fullTiles; ++t)
      if ((t * lanes + lanes) * sw + (kw - 1) * dw <= in[3])
        wideTiles = t + 1;

    auto vecType = [&](int64_t n) { return VectorType::get({n}, element); };
    // One tile: `count` output columns from column `ow` of row (n, c, oh).
    auto emitTile = [&](OpBuilder &b, ValueRange nco, Value ow, int64_t count,
                        bool wide) {
      Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(element));
      SmallVector<Value> outIdx = {nco[0], nco[1], nco[2], ow};
      Value acc = vector::TransferReadOp::create(
          b, loc, vecType(count), output, outIdx, zero, ArrayRef<bool>{true});
      // One window row: kw taps into `acc`.
      auto windowRow = [&](OpBuilder &b, Value row, Value acc) -> Value {
        for (int64_t j = 0; j < kw; ++j) {
          Value col = affineIndex(b, ow, sw, j * dw);
          SmallVector<Value> inIdx = {nco[0], nco[1], row, col};
          Value tap;
          if (sw == 1) {
            tap = vector::TransferReadOp::create(b, loc, vecType(count), input,
                                                 inIdx, zero,
                                                 ArrayRef<bool>{true});
          } else {
            int64_t span = wide ? count * sw : (count - 1) * sw + 1;
            Value run = vector::TransferReadOp::create(b, loc, vecType(span),
                                                       input, inIdx, zero,
                                                       ArrayRef<bool>{true});
            SmallVector<int64_t> picks;
            for (int64_t k = 0; k < count; ++k)
              picks.push_back(k * sw);
            tap = vector::ShuffleOp::create(b, loc, run, run, picks);
          }
          acc = combine(b, acc, tap);
        }
        return acc;
      };
      if (kh * kw <= kMaxUnrolledTaps) {
        for (int64_t i = 0; i < kh; ++i)
          acc = windowRow(b, affineIndex(b, nco[2], sh, i * dh), acc);
      } else {
        // Bounds first, in order: IR does not depend on the compiler's
        // evaluation order of arguments (g++ and clang differ).
        Value lower = index(b, 0), upper = index(b, kh), step = index(b, 1);
        auto rows =
            scf::ForOp::create(b, loc, lower, upper, step, ValueRange{acc});
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(rows.getBody());
        AffineExpr oh = b.getAffineDimExpr(0), i = b.getAffineDimExpr(1);
        Value row = affine::AffineApplyOp::create(
            b, loc, AffineMap::get(2, 0, oh * sh + i * dh),
            ValueRange{nco[2], rows.getInductionVar()});
        Value next = windowRow(b, row, rows.getRegionIterArgs()[0]);
        scf::YieldOp::create(b, loc, next);
        acc = rows.getResult(0);
      }
      vector::TransferWriteOp::create(b, loc, acc, output, outIdx,
                                      ArrayRef<bool>{true});
    };

    SmallVector<Value> lbs = {index(b, 0), index(b, 0), index(b, 0)};
    SmallVector<Value> ubs = {index(b, out[0]), index(b, out[1]),
                              index(b, out[2])};
    SmallVector<Value> steps = {index(b, 1), index(b, 1), index(b, 1)};
    scf::buildLoopNest(
        b, loc, lbs, ubs, steps, [&](OpBuilder &b, Location, ValueRange nco) {
          if (wideTiles > 0) {
            Value lower = index(b, 0), upper = index(b, wideTiles * lanes),
                  step = index(b, lanes);
            auto cols = scf::ForOp::create(b, loc, lower, upper, step);
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(cols.getBody()->getTerminator());
            emitTile(b, nco, cols.getInductionVar(), lanes, /*wide=*/true);
          }
          for (int64_t t = wideTiles; t < fullTiles; ++t)
            emitTile(b, nco, index(b, t * lanes), lanes, /*wide=*/false);
          if (rest > 0)
            emitTile(b, nco, index(b, fullTiles * lanes), rest,
                     /*wide=*/false);
        });
    rewriter.eraseOp(op);
    return success();
  }

  int64_t lanes;
};

/// A vector.multi_reduction whose reduced dimensions all have size 1 (a
/// matmul tile reduces over one k) is the elementwise combination of its
/// source with the accumulator.
struct FoldUnitMultiReduction : OpRewritePattern<vector::MultiDimReductionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::MultiDimReductionOp op,
                                PatternRewriter &rewriter) const override {
    VectorType source = op.getSourceVectorType();
    for (int64_t dim : op.getReductionDims())
      if (source.getDimSize(dim) != 1)
        return rewriter.notifyMatchFailure(op, "reduces a non-unit dim");
    auto result = dyn_cast<VectorType>(op.getDestType());
    if (!result)
      return rewriter.notifyMatchFailure(op, "reduces to a scalar");
    Value flat = vector::ShapeCastOp::create(rewriter, op.getLoc(), result,
                                             op.getSource());
    rewriter.replaceOp(op, vector::makeArithReduction(rewriter, op.getLoc(),
                                                      op.getKind(), flat,
                                                      op.getAcc()));
    return success();
  }
};

struct ShiftVectorizeLinalgPass
    : shift::impl::ShiftVectorizeLinalgBase<ShiftVectorizeLinalgPass> {
  using ShiftVectorizeLinalgBase::ShiftVectorizeLinalgBase;

  void runOnOperation() override {
    const TargetInfo *info = &lookupTarget(target);
    MLIRContext *ctx = &getContext();
    int64_t lanes = info->lanes;

    // One walk, each op matched once; the tiles a pattern creates are
    // vectorized by that pattern.
    RewritePatternSet vectorize(ctx);
    populateShiftVectorizeLinalgPatterns(vectorize, lanes);
    walkAndApplyPatterns(getOperation(), std::move(vectorize));

    // Lower what linalg::vectorize produced to the 1-D vector ops the LLVM
    // conversion expects.
    // First fold reductions over unit dimensions (a matmul tile reduces
    // over one k) into elementwise ops, before the general lowering would
    // unroll them into scalar extracts.
    RewritePatternSet unitDims(ctx);
    unitDims.add<FoldUnitMultiReduction>(ctx);
    vector::populateCastAwayVectorLeadingOneDimPatterns(unitDims);
    if (failed(applyPatternsGreedily(getOperation(), std::move(unitDims))))
      return signalPassFailure();

    RewritePatternSet patterns(ctx);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerReduction);
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    vector::populateVectorTransferDropUnitDimsPatterns(patterns);
    vector::populateVectorBroadcastLoweringPatterns(patterns);
    vector::populateVectorContractLoweringPatterns(
        patterns, vector::VectorContractLowering::OuterProduct);
    vector::populateVectorOuterProductLoweringPatterns(patterns);
    vector::populateVectorTransposeLoweringPatterns(
        patterns, vector::VectorTransposeLowering::EltWise);
    vector::populateVectorShapeCastLoweringPatterns(patterns);
    vector::populateVectorTransferLoweringPatterns(patterns,
                                                   /*maxTransferRank=*/1);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void mlir::shift::populateShiftVectorizeLinalgPatterns(
    RewritePatternSet &patterns, int64_t lanes) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<TileAndVectorizeStructuredOp>(ctx, lanes);
  patterns.add<VectorizePoolingNchw<linalg::PoolingNchwMaxOp, true>>(ctx,
                                                                     lanes);
  patterns.add<VectorizePoolingNchw<linalg::PoolingNchwSumOp, false>>(ctx,
                                                                      lanes);
}
