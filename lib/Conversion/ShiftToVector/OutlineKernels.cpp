//===- OutlineKernels.cpp - shift ops to calls of kernels on buffers ------===//
//
// At the tensor level, replaces each shift.conv2d and shift.matmul that has
// constant codes (and each linalg conv/matmul with constant f32 weights) by a
// call to a kernel declaration on buffers; NHWC convolutions call the NCHW
// kernels between two transposes. The body is
// generated after bufferization by convert-shift-to-vector, so its scratch
// allocations never meet the bufferization and deallocation passes.
//
//===----------------------------------------------------------------------===//

#include "DenseShift/Conversion/LinalgToShift/LinalgToShift.h"
#include "DenseShift/Conversion/ShiftToVector/ShiftToVector.h"
#include "DenseShift/Dialect/Shift/IR/ShiftOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir {
#define GEN_PASS_DEF_SHIFTOUTLINEKERNELS
#include "DenseShift/Conversion/Passes.h.inc"
} // namespace mlir

using namespace mlir;
using namespace mlir::shift;

namespace {

/// The kernel description shared by the conv and matmul patterns.
struct KernelRequest {
  TargetInfo target;
  KernelMode mode;
  KernelStrategy strategy;
};

/// Below this many MACs per weight a layer is bound by reading and decoding
/// its codes (a batch-1 fully connected layer: one MAC per weight), which
/// both strategies do alike; strategy=auto then keeps it multiplication-free.
constexpr int64_t kMinReuseForFma = 16;
/// strategy=auto takes decode-FMA when the exponent-add MAC costs at least
/// this much more than an FMA on the target.
constexpr float kMinFmaGain = 1.1f;

/// The strategy of one layer: the requested one, or for `auto` the cost
/// model of docs/kernels.md: MACs per weight (`reuse`) and the target's
/// measured exponent-add : FMA cost ratio.
KernelStrategy layerStrategy(const KernelRequest &request, int64_t reuse) {
  if (request.strategy != KernelStrategy::Auto)
    return request.strategy;
  if (reuse < kMinReuseForFma || request.target.exponentAddCost < kMinFmaGain)
    return KernelStrategy::Shift;
  return KernelStrategy::DecodeFMA;
}

/// MACs per weight of a layer: every output element but the channel
/// dimension `channelDim` (1: N x F x ... conv or M x N matmul; 3: NHWC).
int64_t reuseOf(Value result, unsigned channelDim = 1) {
  auto type = cast<ShapedType>(result.getType());
  return type.getNumElements() /
         std::max<int64_t>(1, type.getDimSize(channelDim));
}

/// The parameters of a `#shift.kernel` while a pattern assembles them; the
/// target's blocking and the request's options are added by `build`.
struct KernelParams {
  KernelKind kind = KernelKind::matmul;
  KernelStrategy strategy = KernelStrategy::Shift; ///< Resolved per layer.
  DenseIntElementsAttr codes;
  DenseFPElementsAttr alpha;
  EncodingAttr encoding;
  DenseFPElementsAttr weights;
  DenseI64ArrayAttr strides, dilations, padding;
  int64_t groups = 1;
  DenseFPElementsAttr bias;
  bool residual = false;
  DenseF32ArrayAttr clamp;

  KernelAttr build(MLIRContext *ctx, const KernelRequest &request) const {
    std::optional<Target> target = symbolizeEnum<Target>(request.target.name);
    assert(target && "every target table row is spelled like a Target");
    return KernelAttr::get(ctx, kind, *target, request.mode, strategy,
                           request.target.lanes, request.target.rows,
                           request.target.cols, codes, alpha, encoding, weights,
                           ConvLayout::nchw_fchw, strides, dilations, padding,
                           groups, bias, residual, clamp);
  }
};

/// The convolution parameters of a kernel description.
void setConvParams(KernelParams &params, DenseI64ArrayAttr strides,
                   DenseI64ArrayAttr dilations, DenseI64ArrayAttr padding,
                   int64_t groups) {
  params.kind = KernelKind::conv2d;
  params.strides = strides;
  params.dilations = dilations;
  params.padding = padding;
  params.groups = groups;
}

/// The weights of a shift op's kernel, or failure if the codes or alpha are
/// not constants or alpha * 2^emin is not an exact f32.
FailureOr<KernelParams> shiftKernelParams(Builder &b, Value codes, Value alpha,
                                          EncodingAttr encoding,
                                          const KernelRequest &request,
                                          int64_t reuse) {
  DenseIntElementsAttr codesAttr;
  DenseFPElementsAttr alphaAttr;
  if (!matchPattern(codes, m_Constant(&codesAttr)) ||
      !matchPattern(alpha, m_Constant(&alphaAttr)))
    return failure();
  // The kernels accumulate s * 2^(e - emin) and fold 2^emin into alpha.
  SmallVector<float> scaled;
  for (APFloat a : alphaAttr.getValues<APFloat>()) {
    double value = std::ldexp(double(a.convertToFloat()), encoding.getEmin());
    if (!std::isfinite(value) || double(float(value)) != value)
      return failure();
    scaled.push_back(float(value));
  }
  auto scaledType =
      RankedTensorType::get({int64_t(scaled.size())}, b.getF32Type());
  KernelParams params;
  params.codes = codesAttr;
  params.alpha = DenseFPElementsAttr::get(scaledType, ArrayRef(scaled));
  params.encoding = encoding;
  params.strategy = layerStrategy(request, reuse);
  return params;
}

/// `x + bias[c]` over a 4-d tensor `x` whose channels are dimension
/// `channelDim` (1 for NCHW, 3 for NHWC) with a constant f32 bias: the form
/// the frontend exports for a layer's bias (and folded BatchNorm shift).
std::optional<DenseFPElementsAttr> matchBiasAdd(linalg::GenericOp generic,
                                                Value x, unsigned channelDim) {
  if (generic.getNumDpsInputs() != 2 || generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != 4 || generic.getNumLoops() != 4)
    return std::nullopt;
  unsigned xIndex = generic.getDpsInputOperand(0)->get() == x ? 0 : 1;
  if (generic.getDpsInputOperand(xIndex)->get() != x)
    return std::nullopt;
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  MLIRContext *ctx = generic.getContext();
  if (!maps[xIndex].isIdentity() || !maps[2].isIdentity() ||
      maps[1 - xIndex] !=
          AffineMap::get(4, 0, getAffineDimExpr(channelDim, ctx)))
    return std::nullopt;
  DenseFPElementsAttr bias;
  if (!matchPattern(generic.getDpsInputOperand(1 - xIndex)->get(),
                    m_Constant(&bias)) ||
      !bias.getElementType().isF32())
    return std::nullopt;
  Block &body = generic.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add || body.getOperations().size() != 2 ||
      !llvm::is_contained({add.getLhs(), add.getRhs()}, body.getArgument(0)) ||
      !llvm::is_contained({add.getLhs(), add.getRhs()}, body.getArgument(1)))
    return std::nullopt;
  return bias;
}

/// A chain of arith.maximumf / minimumf of `x` with f32 constants (ReLU,
/// ReLU6, hardtanh), as [low, high] clamp bounds.
std::optional<std::pair<float, float>> matchClamp(linalg::GenericOp generic,
                                                  Value x) {
  if (generic.getNumDpsInputs() != 1 || generic.getNumDpsInits() != 1 ||
      generic.getDpsInputOperand(0)->get() != x ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }))
    return std::nullopt;
  Block &body = generic.getRegion().front();
  Value current = body.getArgument(0);
  float low = -INFINITY, high = INFINITY;
  for (Operation &op : body.without_terminator()) {
    if (isa<arith::ConstantOp>(op))
      continue;
    bool isMax = isa<arith::MaximumFOp>(op), isMin = isa<arith::MinimumFOp>(op);
    if ((!isMax && !isMin) || !llvm::is_contained(op.getOperands(), current))
      return std::nullopt;
    Value other = op.getOperand(op.getOperand(0) == current ? 1 : 0);
    FloatAttr bound;
    if (!matchPattern(other, m_Constant(&bound)))
      return std::nullopt;
    float c = bound.getValue().convertToFloat();
    // max/min of clamp(x, low, high) with c is clamp with both bounds moved.
    low = isMax ? std::max(low, c) : std::min(low, c);
    high = isMax ? std::max(high, c) : std::min(high, c);
    current = op.getResult(0);
  }
  if (body.getTerminator()->getOperand(0) != current ||
      current == body.getArgument(0))
    return std::nullopt;
  return std::make_pair(low, high);
}

/// The sole user of `value`, if it is a linalg.generic.
linalg::GenericOp soleGenericUser(Value value) {
  if (!value.hasOneUse())
    return {};
  return dyn_cast<linalg::GenericOp>(*value.getUsers().begin());
}

/// `x + r` elementwise over tensors of x's type (linalg.add, or a generic
/// whose body is one addf of its two inputs): a ResNet shortcut. Returns r.
Value matchResidualAdd(Operation *op, Value x) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.getNumDpsInputs() != 2 ||
      linalgOp.getNumDpsInits() != 1 || !linalgOp.hasPureTensorSemantics() ||
      !llvm::all_of(linalgOp.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }))
    return {};
  Value lhs = linalgOp.getDpsInputOperand(0)->get();
  Value rhs = linalgOp.getDpsInputOperand(1)->get();
  Value other = lhs == x ? rhs : lhs;
  if ((lhs != x && rhs != x) || other == x || other.getType() != x.getType())
    return {};
  if (isa<linalg::AddOp>(op))
    return other;
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic)
    return {};
  Block &body = generic.getRegion().front();
  auto add = body.getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || body.getOperations().size() != 2 ||
      !llvm::is_contained({add.getLhs(), add.getRhs()}, body.getArgument(0)) ||
      !llvm::is_contained({add.getLhs(), add.getRhs()}, body.getArgument(1)))
    return {};
  return other;
}

/// Elementwise consumers of a convolution that its kernel applies in the
/// epilogue while the outputs are in registers: a per-channel bias add, a
/// residual add (convolutions only; `residual` gets the shortcut), then a
/// clamp, each the sole user of the value before it. Records them in
/// `params` and returns the ops absorbed, in order (the call replaces the
/// last). `channelDim` is the result's channel dimension.
SmallVector<Operation *> absorbEpilogue(Builder &b, Operation *conv,
                                        KernelParams &params,
                                        Value *residual = nullptr,
                                        unsigned channelDim = 1) {
  SmallVector<Operation *> absorbed = {conv};
  Value result = conv->getResult(0);
  if (linalg::GenericOp generic = soleGenericUser(result))
    if (auto bias = matchBiasAdd(generic, result, channelDim);
        bias && bias->getType().getDimSize(0) ==
                    cast<ShapedType>(result.getType()).getDimSize(channelDim)) {
      params.bias = *bias;
      absorbed.push_back(generic);
      result = generic->getResult(0);
    }
  if (residual && result.hasOneUse())
    if (Operation *user = *result.getUsers().begin();
        Value shortcut = matchResidualAdd(user, result)) {
      params.residual = true;
      absorbed.push_back(user);
      result = user->getResult(0);
      *residual = shortcut;
    }
  if (linalg::GenericOp generic = soleGenericUser(result))
    if (auto clamp = matchClamp(generic, result)) {
      params.clamp = b.getDenseF32ArrayAttr({clamp->first, clamp->second});
      absorbed.push_back(generic);
    }
  return absorbed;
}

/// The declaration of `kernel` with the call signature `type`: an existing
/// one (the context uniques the attribute, so equal layers share a kernel)
/// or a new private one named `baseName_N`.
func::FuncOp declareKernel(PatternRewriter &rewriter, ModuleOp module,
                           Location loc, StringRef baseName, KernelAttr kernel,
                           FunctionType type) {
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isDeclaration() && func.getFunctionType() == type &&
        func->getAttr(kKernelAttrName) == kernel)
      return func;
  SymbolTable symbols(module);
  std::string name;
  for (unsigned i = 0;; ++i) {
    name = (baseName + "_" + Twine(i)).str();
    if (!symbols.lookup(name))
      break;
  }
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToEnd(module.getBody());
  auto decl = func::FuncOp::create(rewriter, loc, name, type);
  decl.setPrivate();
  decl->setAttr(kKernelAttrName, kernel);
  return decl;
}

/// Declares the kernel and calls it on `input`, giving a tensor of
/// `resultType`; a `residual` tensor (of that type) is passed after the
/// output.
Value emitKernelCall(PatternRewriter &rewriter, Location loc, ModuleOp module,
                     StringRef baseName, Value input,
                     RankedTensorType resultType, const KernelParams &params,
                     const KernelRequest &request, Value residual = {}) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto inMemref =
      MemRefType::get(inputType.getShape(), inputType.getElementType());
  auto outMemref =
      MemRefType::get(resultType.getShape(), resultType.getElementType());

  SmallVector<Type> args = {inMemref, outMemref};
  if (residual)
    args.push_back(outMemref);
  func::FuncOp decl =
      declareKernel(rewriter, module, loc, baseName,
                    params.build(rewriter.getContext(), request),
                    rewriter.getFunctionType(args, {}));
  Value inBuffer = bufferization::ToBufferOp::create(rewriter, loc, inMemref,
                                                     input, /*readOnly=*/true);
  Value outBuffer = memref::AllocOp::create(rewriter, loc, outMemref,
                                            rewriter.getI64IntegerAttr(64));
  SmallVector<Value> operands = {inBuffer, outBuffer};
  if (residual)
    operands.push_back(bufferization::ToBufferOp::create(
        rewriter, loc, outMemref, residual, /*readOnly=*/true));
  func::CallOp::create(rewriter, loc, decl.getSymName(), TypeRange{}, operands);
  return bufferization::ToTensorOp::create(rewriter, loc, resultType, outBuffer,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

/// Declares the kernel and replaces `op` by the buffer call.
void replaceWithKernelCall(PatternRewriter &rewriter, Operation *op,
                           StringRef baseName, Value input,
                           const KernelParams &params,
                           const KernelRequest &request, Value residual = {}) {
  Value result = emitKernelCall(
      rewriter, op->getLoc(), op->getParentOfType<ModuleOp>(), baseName, input,
      cast<RankedTensorType>(op->getResult(0).getType()), params, request,
      residual);
  rewriter.replaceOp(op, result);
}

/// Replaces the last of `absorbed` by the kernel call and erases the rest.
void replaceChainWithKernelCall(PatternRewriter &rewriter,
                                ArrayRef<Operation *> absorbed,
                                StringRef baseName, Value input,
                                const KernelParams &params,
                                const KernelRequest &request,
                                Value residual = {}) {
  replaceWithKernelCall(rewriter, absorbed.back(), baseName, input, params,
                        request, residual);
  for (Operation *op : llvm::reverse(absorbed.drop_back()))
    rewriter.eraseOp(op);
}

/// linalg.transpose permutations (result dimension i is source dimension
/// perm[i]) between the NHWC layout and the NCHW one the kernels implement,
/// and from HWCF weights to FCHW.
constexpr int64_t kNhwcToNchw[] = {0, 3, 1, 2};
constexpr int64_t kNchwToNhwc[] = {0, 2, 3, 1};
constexpr int64_t kHwcfToFchw[] = {3, 2, 0, 1};
/// K x N matmul weights to the kernels' N x K rows.
constexpr int64_t kTransposeMatrix[] = {1, 0};

/// `type` with its dimensions permuted by `perm`.
RankedTensorType permutedType(RankedTensorType type, ArrayRef<int64_t> perm) {
  SmallVector<int64_t> shape;
  for (int64_t d : perm)
    shape.push_back(type.getDimSize(d));
  return RankedTensorType::get(shape, type.getElementType());
}

/// The elements of a constant with its dimensions permuted by `perm`.
template <typename T>
DenseElementsAttr permuteElements(DenseElementsAttr attr,
                                  ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(attr.getType());
  auto resultType = permutedType(type, perm);
  ArrayRef<int64_t> from = type.getShape();
  SmallVector<int64_t> fromStrides(from.size(), 1);
  for (int64_t d = int64_t(from.size()) - 2; d >= 0; --d)
    fromStrides[d] = fromStrides[d + 1] * from[d + 1];
  SmallVector<T> source(attr.getValues<T>());
  SmallVector<T> result;
  result.reserve(source.size());
  ArrayRef<int64_t> to = resultType.getShape();
  SmallVector<int64_t> index(to.size(), 0);
  for (int64_t i = 0, e = resultType.getNumElements(); i < e; ++i) {
    int64_t at = 0;
    for (size_t d = 0; d < to.size(); ++d)
      at += index[d] * fromStrides[perm[d]];
    result.push_back(source[at]);
    for (int64_t d = int64_t(to.size()) - 1; d >= 0 && ++index[d] == to[d]; --d)
      index[d] = 0;
  }
  return DenseElementsAttr::get(resultType, ArrayRef<T>(result));
}

/// `value` transposed by `perm` (a linalg.transpose into a new tensor).
Value transposeTensor(OpBuilder &b, Location loc, Value value,
                      ArrayRef<int64_t> perm) {
  auto type = permutedType(cast<RankedTensorType>(value.getType()), perm);
  Value init =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  return linalg::TransposeOp::create(b, loc, value, init, perm)->getResult(0);
}

/// The NHWC form of a kernel call: transposes the NHWC `input` to NCHW,
/// calls the NCHW kernel and transposes its result back, replacing the last
/// of `absorbed` (the convolution and its epilogue ops) and erasing the
/// rest. Between two NHWC layers the canonicalizer folds the back-to-back
/// transposes away, so a network stays NCHW from layer to layer.
void replaceNhwcChainWithKernelCall(PatternRewriter &rewriter,
                                    ArrayRef<Operation *> absorbed, Value input,
                                    const KernelParams &params,
                                    const KernelRequest &request) {
  Operation *last = absorbed.back();
  Location loc = absorbed.front()->getLoc();
  auto nhwcType = cast<RankedTensorType>(last->getResult(0).getType());
  Value nchwInput = transposeTensor(rewriter, loc, input, kNhwcToNchw);
  Value nchw = emitKernelCall(
      rewriter, loc, last->getParentOfType<ModuleOp>(), "__shift_conv2d",
      nchwInput, permutedType(nhwcType, kNhwcToNchw), params, request);
  rewriter.replaceOp(last, transposeTensor(rewriter, loc, nchw, kNchwToNhwc));
  for (Operation *op : llvm::reverse(absorbed.drop_back()))
    rewriter.eraseOp(op);
}

/// A pattern that outlines `Op` with the pass's target and options.
template <typename Op> struct KernelPattern : OpRewritePattern<Op> {
  KernelPattern(MLIRContext *ctx, KernelRequest request)
      : OpRewritePattern<Op>(ctx), request(std::move(request)) {}
  KernelRequest request;
};

/// shift.conv2d (nchw_fchw, constant codes) → call @__shift_conv2d_N.
struct OutlineConv2DPattern : KernelPattern<Conv2DOp> {
  using KernelPattern::KernelPattern;

  LogicalResult matchAndRewrite(Conv2DOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.isNCHW())
      return rewriter.notifyMatchFailure(op, "only nchw_fchw has a kernel");
    auto params =
        shiftKernelParams(rewriter, op.getCodes(), op.getAlpha(),
                          op.getEncoding(), request, reuseOf(op.getResult()));
    if (failed(params))
      return rewriter.notifyMatchFailure(op, "codes/alpha not constant");
    setConvParams(*params, op.getStridesAttr(), op.getDilationsAttr(),
                  op.getPaddingAttr(), op.getGroups());
    Value residual;
    SmallVector<Operation *> absorbed =
        absorbEpilogue(rewriter, op, *params, &residual);
    replaceChainWithKernelCall(rewriter, absorbed, "__shift_conv2d",
                               op.getInput(), *params, request, residual);
    return success();
  }
};

/// shift.conv2d (nhwc_hwcf, constant codes) → transpose to NCHW, call
/// @__shift_conv2d_N, transpose back: the NCHW kernels with the codes
/// permuted to FCHW at compile time. A per-channel bias and a clamp after
/// the layer are absorbed as in NCHW; a residual add stays a separate loop.
struct OutlineNhwcConv2DPattern : KernelPattern<Conv2DOp> {
  using KernelPattern::KernelPattern;

  LogicalResult matchAndRewrite(Conv2DOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getLayout() != ConvLayout::nhwc_hwcf)
      return rewriter.notifyMatchFailure(op, "not nhwc_hwcf");
    auto params = shiftKernelParams(rewriter, op.getCodes(), op.getAlpha(),
                                    op.getEncoding(), request,
                                    reuseOf(op.getResult(), 3));
    if (failed(params))
      return rewriter.notifyMatchFailure(op, "codes/alpha not constant");
    params->codes = cast<DenseIntElementsAttr>(
        permuteElements<APInt>(params->codes, kHwcfToFchw));
    setConvParams(*params, op.getStridesAttr(), op.getDilationsAttr(),
                  op.getPaddingAttr(), op.getGroups());
    SmallVector<Operation *> absorbed =
        absorbEpilogue(rewriter, op, *params, /*residual=*/nullptr,
                       /*channelDim=*/3);
    replaceNhwcChainWithKernelCall(rewriter, absorbed, op.getInput(), *params,
                                   request);
    return success();
  }
};

/// The kernel description of a named f32 convolution with a constant filter
/// and a zero init (a layer that keeps float weights), a zero `tensor.pad`
/// of its spatial dimensions (hDim, wDim) folded into the padding; `input`
/// gets the unpadded input.
FailureOr<KernelParams> floatConvParams(linalg::LinalgOp op,
                                        PatternRewriter &rewriter,
                                        const KernelRequest &request,
                                        unsigned hDim, unsigned wDim,
                                        Value &input) {
  DenseFPElementsAttr weights;
  if (!matchPattern(op.getDpsInputs()[1], m_Constant(&weights)) ||
      !weights.getElementType().isF32())
    return rewriter.notifyMatchFailure(op, "filter is not an f32 constant");
  if (!isZeroFill(op.getDpsInits()[0]) || !hasStaticShapes(op))
    return rewriter.notifyMatchFailure(op, "init or shapes unsupported");
  SmallVector<int64_t> padding;
  input = foldZeroPad(op.getDpsInputs()[0], hDim, wDim, padding);
  KernelParams params;
  params.weights = weights;
  params.strategy = layerStrategy(request, /*reuse=*/0);
  setConvParams(params, rewriter.getDenseI64ArrayAttr(convAttr(op, "strides")),
                rewriter.getDenseI64ArrayAttr(convAttr(op, "dilations")),
                rewriter.getDenseI64ArrayAttr(padding), /*groups=*/1);
  return params;
}

/// linalg.conv_2d_nchw_fchw or conv_2d_nhwc_hwcf with a constant f32 filter
/// and a zero init → call @__shift_conv2d_N with an f32 kernel description:
/// the same register-blocked kernels, with FMA. NHWC runs the NCHW kernel
/// between two transposes, its HWCF filter permuted to FCHW at compile time
/// (a residual add then stays a separate loop).
template <typename ConvOp>
struct OutlineFloatConv2DPattern : KernelPattern<ConvOp> {
  using KernelPattern<ConvOp>::KernelPattern;
  static constexpr bool nhwc = std::is_same_v<ConvOp, linalg::Conv2DNhwcHwcfOp>;

  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    Value input;
    auto params = floatConvParams(op, rewriter, this->request, nhwc ? 1 : 2,
                                  nhwc ? 2 : 3, input);
    if (failed(params))
      return failure();
    if (nhwc) {
      params->weights = cast<DenseFPElementsAttr>(
          permuteElements<float>(params->weights, kHwcfToFchw));
      SmallVector<Operation *> absorbed = absorbEpilogue(
          rewriter, op, *params, /*residual=*/nullptr, /*channelDim=*/3);
      replaceNhwcChainWithKernelCall(rewriter, absorbed, input, *params,
                                     this->request);
      return success();
    }
    Value residual;
    SmallVector<Operation *> absorbed =
        absorbEpilogue(rewriter, op, *params, &residual);
    replaceChainWithKernelCall(rewriter, absorbed, "__shift_conv2d", input,
                               *params, this->request, residual);
    return success();
  }
};

/// linalg.matmul with a constant f32 K x N (or, with transposed maps, N x K)
/// weight and a zero init → call @__shift_matmul_N with an f32 kernel
/// description (weights N x K): the blocked FMA kernel instead of loops.
struct OutlineFloatMatmulPattern : KernelPattern<linalg::MatmulOp> {
  using KernelPattern::KernelPattern;

  LogicalResult matchAndRewrite(linalg::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<bool> layout = matmulWeightTransposed(op);
    if (!layout)
      return rewriter.notifyMatchFailure(op, "unsupported matmul maps");
    bool transposed = *layout;
    DenseFPElementsAttr weights;
    if (!matchPattern(op.getInputs()[1], m_Constant(&weights)) ||
        !weights.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "weights are not f32 constants");
    if (!isZeroFill(op.getOutputs()[0]) || !hasStaticShapes(op) ||
        !cast<ShapedType>(op.getInputs()[0].getType()).getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "init, shapes or types");
    KernelParams params;
    params.weights =
        transposed ? weights
                   : cast<DenseFPElementsAttr>(
                         permuteElements<float>(weights, kTransposeMatrix));
    params.strategy = layerStrategy(request, /*reuse=*/0);
    replaceWithKernelCall(rewriter, op, "__shift_matmul", op.getInputs()[0],
                          params, request);
    return success();
  }
};

/// shift.matmul (constant codes) → call @__shift_matmul_N.
struct OutlineMatmulPattern : KernelPattern<MatmulOp> {
  using KernelPattern::KernelPattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    auto params =
        shiftKernelParams(rewriter, op.getCodes(), op.getAlpha(),
                          op.getEncoding(), request, reuseOf(op.getResult()));
    if (failed(params))
      return rewriter.notifyMatchFailure(op, "codes/alpha not constant");
    replaceWithKernelCall(rewriter, op, "__shift_matmul", op.getInput(),
                          *params, request);
    return success();
  }
};

struct ShiftOutlineKernelsPass
    : impl::ShiftOutlineKernelsBase<ShiftOutlineKernelsPass> {
  using ShiftOutlineKernelsBase::ShiftOutlineKernelsBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateShiftOutlineKernelsPatterns(patterns, lookupTarget(target), mode,
                                        strategy);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void mlir::shift::populateShiftOutlineKernelsPatterns(
    RewritePatternSet &patterns, const TargetInfo &target, KernelMode mode,
    KernelStrategy strategy) {
  KernelRequest request{target, mode, strategy};
  patterns.add<OutlineConv2DPattern, OutlineNhwcConv2DPattern,
               OutlineFloatConv2DPattern<linalg::Conv2DNchwFchwOp>,
               OutlineFloatConv2DPattern<linalg::Conv2DNhwcHwcfOp>,
               OutlineMatmulPattern, OutlineFloatMatmulPattern>(
      patterns.getContext(), request);
}
