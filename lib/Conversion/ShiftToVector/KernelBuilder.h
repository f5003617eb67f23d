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

namespace mlir::shift::kernel {

/// Everything `shift-outline-kernels` recorded on a declaration.
struct KernelSpec {
  mutable func::FuncOp func;
  DenseIntElementsAttr codes;
  std::vector<float> alpha; ///< Already multiplied by 2^emin.
  EncodingAttr encoding;
  bool fastMode = false;
  bool useShift = true; ///< false: only the decode-FMA kernel.
  int64_t lanes = 8, rows = 4, cols = 2;

  /// Whether the exponent-add kernel can represent every weight.
  bool hasExponentAddKernel() const {
    return useShift && encoding.getZeroFree();
  }
  /// Largest exponent offset a weight adds to an activation.
  int64_t maxOffset() const { return encoding.getMaxExponentOffset(); }
};

FailureOr<KernelSpec> readSpec(func::FuncOp func);

/// Raw storage code: (negative << (bits-1)) | magnitude, where magnitude is
/// |c| - 1 (zero-free) or |c| (with-zero, 0 = zero weight).
uint8_t rawCode(const KernelSpec &spec, int64_t code);

/// True if codes are stored two per byte (bits <= 4).
inline bool isNibblePacked(const KernelSpec &spec) {
  return spec.encoding.getBits() <= 4;
}

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
  /// A zero-initialized, 64-byte aligned scratch buffer.
  Value zeroBuffer(MemRefType type);
  /// A private constant memref.global holding `data`, returned by value.
  Value constantGlobal(StringRef name, DenseElementsAttr data);
};

/// Scans `value` (f32) for the exponent-add precondition: +-0, or normal
/// with biased exponent <= 254 - maxOffset. Returns the updated `safe` flag.
Value scanActivation(KB &k, Value value, Value safe, int64_t maxOffset);

/// Decodes raw codes (i32 scalars or vectors) into either shift words
/// ((m << 23) | (neg << 31)) or f32 weights s * 2^e (0 for the zero code).
Value decodeWord(KB &k, const KernelSpec &spec, Value raw);
Value decodeWeight(KB &k, const KernelSpec &spec, Value raw);

/// One multiply-free (or FMA) accumulation step.
Value accumulate(KB &k, bool exponentAdd, Value acc, Value x, Value weight);

/// Creates a private kernel function `name` with `argTypes`, marked
/// no_inline so that its code can be inspected in the object.
func::FuncOp createKernelFunc(OpBuilder &b, func::FuncOp next, StringRef name,
                              TypeRange argTypes);

LogicalResult generateConv2D(const KernelSpec &spec);
LogicalResult generateMatmul(const KernelSpec &spec);

} // namespace mlir::shift::kernel

#endif // DENSESHIFT_LIB_CONVERSION_SHIFTTOVECTOR_KERNELBUILDER_H
