//===- ShiftToVector.cpp - Kernel generation pass and MAC lowering --------===//

#include "DenseShift/Conversion/ShiftToVector/ShiftToVector.h"
#include "DenseShift/Conversion/ShiftToLinalg/ShiftToLinalg.h"
#include "KernelBuilder.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
#define GEN_PASS_DEF_CONVERTSHIFTTOVECTOR
#include "DenseShift/Conversion/Passes.h.inc"
} // namespace mlir

using namespace mlir;
using namespace mlir::shift;

// exponentAddCost (llvm-mca, docs/kernels.md): AVX2 54.8 / 36 cycles per
// 576 MACs on znver3 (haswell: the same two vector ALUs take both ops);
// AVX-512 on Intel, where 512-bit integer and float adds share ports 0 and
// 5, two ops per MAC against one FMA; NEON on Cortex-A76 / Neoverse-N1,
// 0.60x the FMA loop.
// skylake-avx512 tunes for 256-bit vectors by default (clock throttling on
// early parts); the AVX-512 target exists to get zmm code, so its features
// turn that off.
static const TargetInfo kTargets[] = {
    // 16 ymm registers: 4x2 accumulators, 2 activations, masks, a weight.
    {"x86-64-avx2", "x86_64-unknown-linux-gnu", "haswell",
     "+avx,+avx2,+fma,+sse4.2,+popcnt", "avx2 fma", 8, 4, 2, 1.52f},
    // 32 zmm registers: 4x4 accumulators.
    {"x86-64-avx512", "x86_64-unknown-linux-gnu", "skylake-avx512",
     "+avx,+avx2,+fma,+avx512f,+avx512bw,+avx512vl,+avx512dq,-prefer-256-bit",
     "avx512f avx512bw avx512vl avx512dq", 16, 4, 4, 2.0f},
    // 32 q registers: 4x4 accumulators of 4 lanes.
    {"aarch64-neon", "aarch64-unknown-linux-gnu", "neoverse-n1", "+neon", "", 4,
     4, 4, 1.67f},
};

ArrayRef<TargetInfo> mlir::shift::allTargets() { return kTargets; }

std::optional<TargetInfo> mlir::shift::lookupTarget(StringRef name) {
  for (const TargetInfo &target : kTargets)
    if (target.name == name)
      return target;
  return std::nullopt;
}

const TargetInfo &mlir::shift::lookupTarget(Target target) {
  StringRef name = stringifyEnum(target);
  for (const TargetInfo &info : kTargets)
    if (info.name == name)
      return info;
  llvm_unreachable("a Target without a row in the target table");
}

StringRef mlir::shift::knownTargets() {
  return "x86-64-avx2, x86-64-avx512, aarch64-neon";
}

LogicalResult mlir::shift::generateKernel(func::FuncOp declaration) {
  auto spec = kernel::readSpec(declaration);
  if (failed(spec))
    return failure();
  switch (spec->kernel.getKind()) {
  case KernelKind::conv2d:
    return kernel::generateConv2D(*spec);
  case KernelKind::matmul:
    return kernel::generateMatmul(*spec);
  }
  llvm_unreachable("a KernelKind without a generator");
}

namespace {

/// shift_accumulate → arith. exponent_add: add the shift word to the bits of
/// x unless x is +-0 (its exponent field is 0), then a float add;
/// exponent_add_unguarded: the add alone. ieee: an exact multiplication by
/// the power of two the word encodes.
struct ShiftAccumulateToArith : OpRewritePattern<ShiftAccumulateOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ShiftAccumulateOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type wordType = op.getWord().getType();
    auto constant = [&](int64_t v) -> Value {
      Attribute attr = rewriter.getI32IntegerAttr(int32_t(v));
      if (auto vectorType = dyn_cast<VectorType>(wordType))
        attr = DenseElementsAttr::get(vectorType, attr);
      return arith::ConstantOp::create(rewriter, loc, cast<TypedAttr>(attr));
    };
    Value x = op.getX();
    Type floatType = x.getType();
    if (op.getMode() == AccumulateMode::ieee) {
      rewriter.replaceOp(op, buildIEEEShiftAccumulate(
                                 rewriter, loc, op.getAcc(), x, op.getWord()));
      return success();
    }
    Value scaled;
    if (op.getMode() == AccumulateMode::exponent_add_unguarded) {
      Value bits = arith::BitcastOp::create(rewriter, loc, wordType, x);
      scaled = arith::BitcastOp::create(
          rewriter, loc, floatType,
          arith::AddIOp::create(rewriter, loc, bits, op.getWord()));
    } else {
      Value bits = arith::BitcastOp::create(rewriter, loc, wordType, x);
      Value exponent =
          arith::AndIOp::create(rewriter, loc, bits, constant(0x7F800000));
      Value isZero = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::eq, exponent, constant(0));
      Value increment = arith::SelectOp::create(rewriter, loc, isZero,
                                                constant(0), op.getWord());
      scaled = arith::BitcastOp::create(
          rewriter, loc, floatType,
          arith::AddIOp::create(rewriter, loc, bits, increment));
    }
    rewriter.replaceOpWithNewOp<arith::AddFOp>(op, op.getAcc(), scaled);
    return success();
  }
};

/// memref.copy → linalg.copy, which lowers to loops: otherwise strided copies
/// (from tensor.pad, say) become calls to MLIR's runner library, which a
/// compiled model must not need.
struct MemRefCopyToLinalg : OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(memref::CopyOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(),
                                                op.getTarget());
    return success();
  }
};

struct ConvertShiftToVectorPass
    : impl::ConvertShiftToVectorBase<ConvertShiftToVectorPass> {
  void runOnOperation() override {
    SmallVector<func::FuncOp> declarations;
    getOperation().walk([&](func::FuncOp func) {
      if (func.isDeclaration() && func->hasAttr(kKernelAttrName))
        declarations.push_back(func);
    });
    for (func::FuncOp declaration : declarations)
      if (failed(generateKernel(declaration)))
        return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateShiftAccumulateToArithPatterns(patterns);
    patterns.add<MemRefCopyToLinalg>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void mlir::shift::populateShiftAccumulateToArithPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ShiftAccumulateToArith>(patterns.getContext());
}
