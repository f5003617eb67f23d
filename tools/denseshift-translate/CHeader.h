//===- CHeader.h - C header for the public functions of a module ----------===//
//
// Writes the C declarations a caller needs to link against the object file
// denseshift-translate produces from the same LLVM-dialect module.
//
//===----------------------------------------------------------------------===//

#ifndef DENSESHIFT_TRANSLATE_CHEADER_H
#define DENSESHIFT_TRANSLATE_CHEADER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

namespace denseshift {

/// Name of the string attribute on `llvm.func` that, when present, is written
/// to the header verbatim instead of a prototype derived from the type.
inline constexpr llvm::StringLiteral kCPrototypeAttrName =
    "denseshift.c_prototype";

/// Declares every public (not private or internal), defined `llvm.func` of
/// `module` in a self-contained C header. `guardName` seeds the include
/// guard; `banner` becomes the opening comment. Emits a diagnostic and fails
/// when a `denseshift.c_prototype` attribute is not a string.
mlir::LogicalResult writeCHeader(mlir::ModuleOp module,
                                 llvm::StringRef guardName,
                                 llvm::StringRef banner, llvm::raw_ostream &os);

} // namespace denseshift

#endif // DENSESHIFT_TRANSLATE_CHEADER_H
