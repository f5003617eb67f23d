//===- KernelBuilder.h - Shared pieces of the kernel generators -*- C++ -*-===//
//
// Internal to ShiftToVector: the kernel description read back from a
// declaration, weight packing, and the few IR-building helpers both the
// convolution and the matmul generators use.
//
//===----------------------------------------------------------------------===//

#ifndef DENSESHIFT_LIB_CONVERSION_SHIFTTOVECTOR_KERNELBUILDER_H
#define DENSESHIFT_LIB_CONVERSION_SHIFTTOVECTOR_KERNELBUILDER_H

#include "DenseShift/Conversion/ShiftToVector/ShiftToVector.h"
#include "DenseShift/Dialect/Shift/IR/ShiftOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

#include <cmath>
#include <functional>
#include <map>

namespace mlir::shift::kernel {

/// How an accumulation kernel multiplies an activation by a weight.
enum class MacKind {
  ExponentAdd,      ///< shift.shift_accumulate: integer add on the exponent.
  FusedMultiplyAdd, ///< decoded f32 weights, vector FMA.
  MultiplyThenAdd,  ///< decoded f32 weights, separate IEEE mul and add.
};

/// Everything `shift-outline-kernels` recorded on a declaration.
struct KernelSpec {
  mutable func::FuncOp func;
  KernelAttr kernel; ///< The description everything below is read from.
  /// Either codes + alpha + encoding (a shift layer) or f32 weights (a layer
  /// that keeps float weights: the FMA kernel alone, no scan, no fallback).
  DenseFPElementsAttr floatWeights;
  DenseIntElementsAttr codes;
  std::vector<float> alpha; ///< Already multiplied by 2^emin.
  EncodingAttr encoding;
  /// Elementwise consumers applied in the driver's epilogue, in this order:
  /// + bias[o] (if set), + residual[n, o, y, x] (a third argument of the
  /// layer, same shape as the output: a ResNet shortcut), then clamp to
  /// [clampLow, clampHigh] (ReLU, ReLU6, hardtanh; +-inf bounds are
  /// no-ops). NaN propagates as in arith.maximumf / minimumf.
  std::vector<float> bias;
  bool residual = false;
  float clampLow = -INFINITY, clampHigh = INFINITY;
  bool hasEpilogue() const {
    return !bias.empty() || residual || clampLow != -INFINITY ||
           clampHigh != INFINITY;
  }
  bool fastMode = false;
  bool useShift = true; ///< false: only the decode-FMA kernel.
  int64_t lanes = 8, rows = 4, cols = 2;
  int64_t fanIn = 1; ///< Products summed into one output.

  /// The kernel taken when the scan allows (or always, in fast mode): the
  /// exponent add if it can represent every weight (zero-free codes).
  MacKind fastKernel() const {
    return !isFloat() && useShift && encoding.getZeroFree()
               ? MacKind::ExponentAdd
               : MacKind::FusedMultiplyAdd;
  }
  bool isFloat() const { return bool(floatWeights); }
  /// Whether the IEEE fallback kernel (mul then add, so that a product that
  /// overflows is +-Inf as in IEEE arithmetic) is generated. FMA with f32
  /// weights already is IEEE arithmetic (one rounding less).
  bool hasFallback() const { return !fastMode && !isFloat(); }
  /// Largest exponent offset a weight adds to an activation.
  int64_t maxOffset() const {
    return isFloat() ? 0 : encoding.getMaxExponentOffset();
  }
  /// Whether zeros may go through the exponent add unguarded: they then add
  /// at most fanIn * 2^(K - 127) <= 2^-89 per output, which the kernel
  /// flushes (see kFlushBelow).
  bool unguardedZeros() const {
    return maxOffset() + int64_t(llvm::Log2_64_Ceil(fanIn)) <= 38;
  }
  /// The exponent-add mode of the fast kernel.
  AccumulateMode exponentAddMode() const {
    return unguardedZeros() ? AccumulateMode::exponent_add_unguarded
                            : AccumulateMode::exponent_add;
  }
  /// Smallest biased exponent of a nonzero activation the fast kernel takes:
  /// 64 (|x| >= 2^-63) when zeros are unguarded, so that every nonzero exact
  /// result is a multiple of 2^-86 and stays above the flush threshold; 1
  /// (no denormals) for the guarded exponent add; 0 for FMA.
  int64_t minBiasedExponent() const;
  /// Largest biased exponent of an activation the fast kernel takes: no
  /// product x * alpha * s * 2^e may overflow, so that the fast kernel and
  /// IEEE arithmetic agree on Inf (and on NaN from opposite infinities).
  int64_t maxBiasedExponent() const;
  /// Whether the f32 kernels' weights include alpha (the IEEE fallback and
  /// FMA kernels multiply by the exact weight, as IEEE arithmetic would).
  static bool weightsIncludeAlpha(MacKind kind) {
    return kind != MacKind::ExponentAdd;
  }
};

inline int64_t KernelSpec::minBiasedExponent() const {
  if (fastKernel() != MacKind::ExponentAdd)
    return 0;
  return unguardedZeros() ? 64 : 1;
}

/// Accumulators below this magnitude are exact zeros plus the residue of
/// unguarded zero activations (<= 2^-89), and are flushed to 0.
constexpr float kFlushBelow = 0x1p-87f;

/// The declaration's `#shift.kernel` as a KernelSpec; a located error if the
/// attribute is missing or does not fit the declaration's signature.
FailureOr<KernelSpec> readSpec(func::FuncOp func);

/// The codes of a shift kernel as plain integers (i8 codes without APInt).
std::vector<int64_t> codeValues(const KernelSpec &spec);

/// True if matmul codes are stored two per byte (bits <= 4).
inline bool isNibblePacked(const KernelSpec &spec) {
  return spec.encoding.getBits() <= 4;
}

/// Bit of a matmul raw code that holds the sign: 3 in a nibble, whatever
/// the width (so that one sign-extending load puts a high nibble's sign in
/// bit 31), else bits - 1. Convolution codes are bit-packed at their width,
/// sign in bit bits - 1.
inline unsigned matmulSignBit(const KernelSpec &spec) {
  return isNibblePacked(spec) ? 3 : spec.encoding.getBits() - 1;
}

/// Raw storage code: (negative << signAt) | magnitude, where magnitude is
/// |c| - 1 (zero-free) or |c| (with-zero, 0 = zero weight).
uint8_t rawCode(const KernelSpec &spec, int64_t code, unsigned signAt);

/// Small builder with index/int constants and loop helpers.
struct KB {
  OpBuilder &b;
  Location loc;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i32(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(int32_t(v)));
  }
  Value f32(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value splat(VectorType type, Attribute scalar) {
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, scalar));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t c) {
    return c == 1 ? x : arith::MulIOp::create(b, loc, x, idx(c)).getResult();
  }
  Value addc(Value x, int64_t c) { return c == 0 ? x : add(x, idx(c)); }
  Value div(Value x, int64_t c) {
    return c == 1 ? x : arith::DivUIOp::create(b, loc, x, idx(c)).getResult();
  }
  Value rem(Value x, int64_t c) {
    return arith::RemUIOp::create(b, loc, x, idx(c));
  }
  /// Index constants, created in order (builder calls nested as sibling
  /// arguments run in an order the C++ compiler picks, and so would the IR).
  SmallVector<Value> idxs(ArrayRef<int64_t> values) {
    SmallVector<Value> result;
    for (int64_t v : values)
      result.push_back(idx(v));
    return result;
  }
  /// for ivs in [0, ubs) step 1: body(ivs); the constants are created first.
  void loopNest(ArrayRef<int64_t> ubs,
                function_ref<void(OpBuilder &, Location, ValueRange)> body) {
    SmallVector<Value> lbs(ubs.size(), idx(0));
    SmallVector<Value> steps(ubs.size(), idx(1));
    SmallVector<Value> upper = idxs(ubs);
    scf::buildLoopNest(b, loc, lbs, upper, steps, body);
  }
  /// The same with loop-carried values; returns the final ones.
  SmallVector<Value>
  loopNest(ArrayRef<int64_t> ubs, ValueRange init,
           function_ref<scf::ValueVector(OpBuilder &, Location, ValueRange,
                                         ValueRange)>
               body) {
    SmallVector<Value> lbs(ubs.size(), idx(0));
    SmallVector<Value> steps(ubs.size(), idx(1));
    SmallVector<Value> upper = idxs(ubs);
    return scf::buildLoopNest(b, loc, lbs, upper, steps, init, body).results;
  }
  /// scf.for over [0, ub) with `init` iter_args.
  scf::ForOp
  forLoop(int64_t ub, ValueRange init,
          function_ref<void(OpBuilder &, Location, Value, ValueRange)> body) {
    Value lower = idx(0), upper = idx(ub), step = idx(1);
    return scf::ForOp::create(b, loc, lower, upper, step, init, body);
  }
  /// A zero-initialized, 64-byte aligned scratch buffer.
  Value zeroBuffer(MemRefType type);
  /// A private constant memref.global holding `data`, returned by value.
  Value constantGlobal(StringRef name, DenseElementsAttr data);
};

/// Scans `value` (f32) for the fast kernel's precondition: +-0, or biased
/// exponent in [spec.minBiasedExponent(), limit], where `limit` (an i32, the
/// largest accepted |x| bit pattern) is spec.maxBiasedExponent() of the
/// layer, passed in at run time because shared drivers serve many layers.
/// Returns the updated `safe` flag.
Value scanActivation(KB &k, const KernelSpec &spec, Value value, Value safe,
                     Value limit);

/// The arguments of every driver, as defineWithSharedDriver passes them.
struct DriverArgs {
  Value input, output;
  Value packed;         ///< Packed codes, or the f32 weight table.
  Value alpha;          ///< alpha * 2^emin per output channel.
  Value limit;          ///< The scan's largest accepted |x| bit pattern (i32).
  Value bias, residual; ///< Null without that epilogue.
};

/// What the drivers of the kernel families (conv2d, matmul) do differently.
/// The skeleton, buildDriver, runs the steps in this order and does the
/// rest:
///   1. `stage` copies the input into the kernels' buffer (padded, phase
///      split, ...), scanning it for the fast kernel's precondition, and
///      returns {buffer, safe};
///   2. `scratch` (optional) allocates per-call buffers, e.g. decoded weight
///      tables (null entries allowed);
///   3. the accumulators are allocated; in the dispatch branch of each
///      kernel (emitDispatch) `weights` decodes what that kernel reads and
///      returns its weight operands, and the kernel is called on
///      (buffer, weights..., accumulators);
///   4. `epilogue` gets the accumulators and whether the exponent-add kernel
///      ran (alpha still to apply), and writes the output;
///   5. every buffer of steps 1-3 is freed.
struct DriverRecipe {
  MemRefType accumulators;
  std::function<std::pair<Value, Value>(KB &, const DriverArgs &)> stage;
  std::function<SmallVector<Value>(KB &, const DriverArgs &)> scratch;
  std::function<SmallVector<Value>(OpBuilder &, Location, const DriverArgs &,
                                   MacKind, ArrayRef<Value>)>
      weights;
  std::function<void(KB &, const DriverArgs &, Value, Value)> epilogue;
};

/// Fills in the body of a new driver from `recipe`, calling `kernels`.
void buildDriver(func::FuncOp driver, const KernelSpec &spec,
                 const std::map<MacKind, func::FuncOp> &kernels,
                 const DriverRecipe &recipe);

/// Defines the outlined per-layer function `spec.func(input, output)` as a
/// call of a driver shared by all layers of the same `driverKey`:
///   driver(input, output, packed codes, alpha, scan limit).
/// `packed` and `alpha` become constant globals of the layer; `build`
/// fills in the body of a new driver.
/// With a bias epilogue the driver takes the bias as a sixth argument.
void defineWithSharedDriver(const KernelSpec &spec, StringRef family,
                            StringRef driverKey, DenseElementsAttr packed,
                            DenseElementsAttr alpha,
                            function_ref<void(func::FuncOp)> build);

/// The part of a driver key that comes from the epilogue ("" if none).
std::string epilogueKey(const KernelSpec &spec);

/// Applies the epilogue (bias from `bias`, a memref<F> argument of the
/// driver, at channel `channel`; then `residual`, the shortcut's vector at
/// the same outputs; then the clamp) to `value`.
Value applyEpilogue(KB &k, const KernelSpec &spec, Value value, Value bias,
                    Value channel, Value residual = {});

/// In the unguarded exponent-add kernel, replaces |acc| < kFlushBelow by 0.
Value flushResidue(KB &k, const KernelSpec &spec, Value acc);

/// Decodes raw codes (i32 scalars or vectors, sign in bit `signAt`) into
/// either shift words
/// ((m << 23) | (neg << 31)) or f32 weights s * 2^e (0 for the zero code).
Value decodeWord(KB &k, const KernelSpec &spec, Value raw, unsigned signAt);
Value decodeWeight(KB &k, const KernelSpec &spec, Value raw, unsigned signAt);

/// One accumulation step of `kind`; `weight` is a shift word for
/// ExponentAdd and an f32 weight otherwise.
Value accumulate(KB &k, const KernelSpec &spec, MacKind kind, Value acc,
                 Value x, Value weight);

/// Kernel function name suffix of each kind.
StringRef kernelSuffix(MacKind kind);

/// Calls the fast kernel, or (unless in fast mode) dispatches on `safe`
/// between the fast kernel and the IEEE fallback. `call` emits one call.
void emitDispatch(KB &k, const KernelSpec &spec, Value safe,
                  function_ref<void(OpBuilder &, Location, MacKind)> call);

/// i1: whether the exponent-add kernel ran (so alpha is still to apply).
Value exponentAddRan(KB &k, const KernelSpec &spec, Value safe);

/// Creates (or reuses) the accumulation kernels a driver calls: the fast
/// kernel and, unless in fast mode, the IEEE fallback. Kernels read their
/// weights from arguments, so layers of the same geometry share them: each
/// is a private function `__shift_<family>_<key><kernelSuffix(kind)>`, where
/// `key` spells out everything the body depends on, with
/// `argTypes(kind)`, marked no_inline so that its code can be inspected in
/// the object; `build` fills in the body of a new one.
std::map<MacKind, func::FuncOp>
createKernels(OpBuilder &b, const KernelSpec &spec, StringRef family,
              StringRef key, function_ref<SmallVector<Type>(MacKind)> argTypes,
              function_ref<void(func::FuncOp, MacKind)> build);

/// The part of a kernel key that comes from the spec: lanes, block and how
/// the exponent add treats zeros.
std::string specKey(const KernelSpec &spec);

LogicalResult generateConv2D(KernelSpec spec);
LogicalResult generateMatmul(KernelSpec spec);

} // namespace mlir::shift::kernel

#endif // DENSESHIFT_LIB_CONVERSION_SHIFTTOVECTOR_KERNELBUILDER_H
