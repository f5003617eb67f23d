//===- ShiftToVector.h - Multiplication-free vector kernels -----*- C++ -*-===//

#ifndef DENSESHIFT_CONVERSION_SHIFTTOVECTOR_SHIFTTOVECTOR_H
#define DENSESHIFT_CONVERSION_SHIFTTOVECTOR_SHIFTTOVECTOR_H

#include "DenseShift/Dialect/Shift/IR/ShiftOptions.h"
#include "DenseShift/Dialect/Shift/IR/ShiftDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

#include <optional>

namespace mlir {
class RewritePatternSet;

#define GEN_PASS_DECL_SHIFTOUTLINEKERNELS
#define GEN_PASS_DECL_CONVERTSHIFTTOVECTOR
#include "DenseShift/Conversion/Passes.h.inc"

namespace shift {

/// What the kernel generator needs to know about a target.
struct TargetInfo {
  StringRef name;     ///< Pipeline spelling, e.g. "x86-64-avx2".
  StringRef triple;   ///< LLVM target triple.
  StringRef cpu;      ///< LLVM CPU name.
  StringRef features; ///< LLVM target features (functions and the machine).
  /// /proc/cpuinfo flags a host needs to run the code natively ("" for a
  /// target that runs under an emulator here).
  StringRef hostFlags;
  unsigned lanes; ///< f32 lanes of one vector register.
  unsigned rows;  ///< Output channels per register block.
  unsigned cols;  ///< Pixel vectors per register block (at most).
  /// Cycles of the exponent-add MAC loop per cycle of the FMA loop on the
  /// preset CPU (llvm-mca, docs/kernels.md): strategy=auto's cost model.
  float exponentAddCost;
};

/// The one target table: the passes, denseshift-translate (and through
/// `denseshift-translate --print-targets`, the Python runtime) read it.
ArrayRef<TargetInfo> allTargets();
/// Looks up a target by its pipeline spelling.
std::optional<TargetInfo> lookupTarget(StringRef name);
/// The spellings `lookupTarget` accepts, comma separated.
StringRef knownTargets();
/// The row of a pass option's `target` (every Target has one; tested).
const TargetInfo &lookupTarget(Target target);

/// Attribute on a kernel declaration that carries what to generate.
constexpr StringLiteral kKernelAttrName = "shift.kernel";
/// Marks generated accumulation kernels; shift-annotate-target turns it into
/// LLVM's noinline so their code stays inspectable in the object.
constexpr StringLiteral kNoInlineAttrName = "shift.no_inline";

/// Tensor-level patterns: replace shift.conv2d (NCHW) and shift.matmul with
/// constant codes by a call to an outlined kernel declaration on buffers.
void populateShiftOutlineKernelsPatterns(RewritePatternSet &patterns,
                                         const TargetInfo &target,
                                         KernelMode mode,
                                         KernelStrategy strategy);

/// Lowers shift.shift_accumulate to arith ops (integer add on the exponent
/// field for exponent_add, an exact power-of-two multiply for ieee).
void populateShiftAccumulateToArithPatterns(RewritePatternSet &patterns);

/// Defines the body of one outlined kernel declaration.
LogicalResult generateKernel(func::FuncOp declaration);

} // namespace shift
} // namespace mlir

#endif // DENSESHIFT_CONVERSION_SHIFTTOVECTOR_SHIFTTOVECTOR_H
