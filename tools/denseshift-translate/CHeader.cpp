//===- CHeader.cpp - C header for the public functions of a module --------===//

#include "CHeader.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringExtras.h"

#include <optional>
#include <string>

using namespace mlir;

namespace {

/// C spelling of a parameter or result type of a bare-pointer LLVM function.
/// Pointers are the model's tensors, hence `float *`.
std::optional<std::string> cTypeName(Type type) {
  if (isa<LLVM::LLVMPointerType>(type))
    return std::string("float *");
  if (isa<LLVM::LLVMVoidType>(type))
    return std::string("void");
  if (type.isF32())
    return std::string("float");
  if (type.isF64())
    return std::string("double");
  if (auto intType = dyn_cast<IntegerType>(type)) {
    switch (intType.getWidth()) {
    case 1:
      return std::string("bool");
    case 8:
    case 16:
    case 32:
    case 64:
      return "int" + std::to_string(intType.getWidth()) + "_t";
    default:
      return std::nullopt;
    }
  }
  return std::nullopt;
}

/// Prototype of `func` derived from its LLVM function type, or nullopt (with
/// a warning) when some type has no C spelling.
std::optional<std::string> derivePrototype(LLVM::LLVMFuncOp func) {
  LLVM::LLVMFunctionType type = func.getFunctionType();
  auto unsupported = [&](Type bad) -> std::optional<std::string> {
    func.emitWarning() << "no C spelling for type " << bad
                       << "; left out of the header (set a string attribute '"
                       << denseshift::kCPrototypeAttrName << "' to declare it)";
    return std::nullopt;
  };

  std::optional<std::string> result = cTypeName(type.getReturnType());
  if (!result)
    return unsupported(type.getReturnType());

  std::string proto = *result;
  if (!llvm::StringRef(proto).ends_with("*"))
    proto += ' ';
  proto += func.getSymName();
  proto += '(';
  llvm::ArrayRef<Type> params = type.getParams();
  for (auto [index, param] : llvm::enumerate(params)) {
    std::optional<std::string> name = cTypeName(param);
    if (!name || isa<LLVM::LLVMVoidType>(param))
      return unsupported(param);
    if (index)
      proto += ", ";
    proto += *name;
    if (!llvm::StringRef(*name).ends_with("*"))
      proto += ' ';
    proto += "arg" + std::to_string(index);
  }
  if (type.isVarArg())
    proto += params.empty() ? "..." : ", ...";
  else if (params.empty())
    proto += "void";
  proto += ");";
  return proto;
}

bool isPublicDefinition(LLVM::LLVMFuncOp func) {
  if (func.isExternal())
    return false;
  if (SymbolTable::getSymbolVisibility(func) ==
      SymbolTable::Visibility::Private)
    return false;
  LLVM::Linkage linkage = func.getLinkage();
  return linkage != LLVM::Linkage::Private &&
         linkage != LLVM::Linkage::Internal;
}

std::string includeGuard(llvm::StringRef seed) {
  std::string guard = "DENSESHIFT_";
  for (char c : seed)
    guard += llvm::isAlnum(c) ? llvm::toUpper(c) : '_';
  return guard + "_H";
}

} // namespace

LogicalResult denseshift::writeCHeader(ModuleOp module,
                                       llvm::StringRef guardName,
                                       llvm::StringRef banner,
                                       llvm::raw_ostream &os) {
  std::string body;
  llvm::raw_string_ostream bodyStream(body);
  bool failed = false;
  module.walk([&](LLVM::LLVMFuncOp func) {
    if (!isPublicDefinition(func))
      return;
    if (Attribute attr = func->getDiscardableAttr(kCPrototypeAttrName)) {
      auto text = dyn_cast<StringAttr>(attr);
      if (!text) {
        func.emitError() << "'" << kCPrototypeAttrName
                         << "' must be a string attribute";
        failed = true;
        return;
      }
      // Verbatim, but always a complete declaration.
      llvm::StringRef proto = text.getValue().trim();
      bodyStream << proto << (proto.ends_with(";") ? "\n" : ";\n");
      return;
    }
    if (std::optional<std::string> proto = derivePrototype(func))
      bodyStream << *proto << "\n";
  });
  if (failed)
    return failure();

  std::string guard = includeGuard(guardName);
  os << "/* " << banner << " */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << body << "\n"
     << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n"
     << "#endif /* " << guard << " */\n";
  return success();
}
