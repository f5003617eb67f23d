//===- KernelBuilder.cpp - Shared pieces of the kernel generators ---------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/Support/Format.h"

#include <cmath>

using namespace mlir;
using namespace mlir::shift;
using namespace mlir::shift::kernel;

/// The declaration's argument `i` as a ranked f32 memref of `rank`, or null.
static MemRefType argumentMemref(func::FuncOp func, unsigned i, int64_t rank) {
  if (func.getNumArguments() <= i)
    return {};
  auto type = dyn_cast<MemRefType>(func.getArgumentTypes()[i]);
  if (!type || type.getRank() != rank || !type.hasStaticShape() ||
      !type.getElementType().isF32())
    return {};
  return type;
}

FailureOr<KernelSpec> kernel::readSpec(func::FuncOp func) {
  auto kernel = func->getAttrOfType<KernelAttr>(kKernelAttrName);
  if (!kernel)
    return func.emitError("'")
           << kKernelAttrName << "' must be a #shift.kernel description, got "
           << func->getAttr(kKernelAttrName);
  // The attribute verified itself; what is left is its fit to the signature.
  bool conv = kernel.getKind() == KernelKind::conv2d;
  int64_t rank = conv ? 4 : 2;
  MemRefType in = argumentMemref(func, 0, rank);
  MemRefType out = argumentMemref(func, 1, rank);
  unsigned arguments = kernel.getResidual() ? 3 : 2;
  if (!in || !out || func.getNumArguments() != arguments ||
      (kernel.getResidual() && func.getArgumentTypes()[2] != out))
    return func.emitError("a ")
           << stringifyKernelKind(kernel.getKind()) << " kernel takes "
           << (kernel.getResidual() ? "input, output and shortcut"
                                    : "input and output")
           << " as static rank-" << rank << " f32 memrefs"
           << (kernel.getResidual() ? " (the shortcut of the output's type)"
                                    : "");
  ArrayRef<int64_t> w = kernel.getWeightShape();
  ArrayRef<int64_t> x = in.getShape(), y = out.getShape();
  bool fits =
      conv ? x[0] == y[0] && x[1] == w[1] * kernel.getGroups() && y[1] == w[0]
           : x[0] == y[0] && x[1] == w[1] && y[1] == w[0];
  if (!fits)
    return func.emitError("the ")
           << stringifyKernelKind(kernel.getKind()) << " kernel's weights "
           << "do not fit its input and output memrefs";
  KernelSpec spec;
  spec.func = func;
  spec.kernel = kernel;
  spec.floatWeights = kernel.getWeights();
  if (auto bias = kernel.getBias())
    for (APFloat v : bias.getValues<APFloat>())
      spec.bias.push_back(v.convertToFloat());
  spec.residual = kernel.getResidual();
  if (auto clamp = kernel.getClamp()) {
    spec.clampLow = clamp[0];
    spec.clampHigh = clamp[1];
  }
  if (spec.floatWeights) {
    // One per output channel: the f32 kernels' weights already hold it.
    spec.alpha.assign(w[0], 1.0f);
  } else {
    spec.codes = kernel.getCodes();
    spec.encoding = kernel.getEncoding();
    for (APFloat a : kernel.getAlpha().getValues<APFloat>())
      spec.alpha.push_back(a.convertToFloat());
  }
  spec.fastMode = kernel.getMode() == KernelMode::Fast;
  spec.useShift = kernel.getStrategy() == KernelStrategy::Shift;
  spec.lanes = kernel.getLanes();
  spec.rows = kernel.getRows();
  spec.cols = kernel.getCols();
  return spec;
}

std::vector<int64_t> kernel::codeValues(const KernelSpec &spec) {
  std::vector<int64_t> codes;
  codes.reserve(spec.codes.getNumElements());
  if (spec.codes.getElementType().isInteger(8)) {
    for (int8_t code : spec.codes.getValues<int8_t>())
      codes.push_back(code);
    return codes;
  }
  for (APInt code : spec.codes.getValues<APInt>())
    codes.push_back(code.getSExtValue());
  return codes;
}

int64_t KernelSpec::maxBiasedExponent() const {
  float largest = 0;
  for (float a : alpha)
    largest = std::max(largest, std::fabs(a));
  // |alpha| < 2^alphaExponent.
  int64_t alphaExponent = largest > 0 ? std::ilogb(largest) + 1 : 0;
  return 254 - maxOffset() - std::max<int64_t>(0, alphaExponent);
}

uint8_t kernel::rawCode(const KernelSpec &spec, int64_t code, unsigned signAt) {
  int64_t magnitude = code < 0 ? -code : code;
  if (spec.encoding.getZeroFree())
    magnitude -= 1;
  return uint8_t(((code < 0 ? 1u : 0u) << signAt) | uint64_t(magnitude));
}

Value KB::zeroBuffer(MemRefType type) {
  Value buffer = memref::AllocOp::create(b, loc, type, b.getI64IntegerAttr(64));
  Attribute zero = b.getZeroAttr(type.getElementType());
  Value zeroValue = arith::ConstantOp::create(b, loc, cast<TypedAttr>(zero));
  linalg::FillOp::create(b, loc, ValueRange{zeroValue}, ValueRange{buffer});
  return buffer;
}

Value KB::constantGlobal(StringRef name, DenseElementsAttr data) {
  auto type = MemRefType::get(data.getType().getShape(),
                              data.getType().getElementType());
  Operation *anchor = b.getInsertionBlock()->getParentOp();
  auto module = anchor->getParentOfType<ModuleOp>();
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    memref::GlobalOp::create(b, loc, b.getStringAttr(name),
                             b.getStringAttr("private"), TypeAttr::get(type),
                             data, b.getUnitAttr(), b.getI64IntegerAttr(64));
  }
  return memref::GetGlobalOp::create(b, loc, type, name);
}

/// Splats a scalar i32 constant to the shape of `like`.
static Value constLike(KB &k, Value like, int64_t v) {
  if (auto type = dyn_cast<VectorType>(like.getType()))
    return k.splat(type, k.b.getI32IntegerAttr(int32_t(v)));
  return k.i32(v);
}

Value kernel::scanActivation(KB &k, const KernelSpec &spec, Value value,
                             Value safe, Value limit) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  Type bitsType = b.getI32Type();
  auto vectorType = dyn_cast<VectorType>(value.getType());
  if (vectorType) {
    bitsType = VectorType::get(vectorType.getShape(), b.getI32Type());
    limit = vector::BroadcastOp::create(b, loc, bitsType, limit);
  }
  Value bits = arith::BitcastOp::create(b, loc, bitsType, value);
  Value magnitude =
      arith::AndIOp::create(b, loc, bits, constLike(k, bits, 0x7FFFFFFF));
  Value isZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                       magnitude, constLike(k, bits, 0));
  // min <= biased exponent <= 254 - K (no product overflows; no NaN/Inf).
  Value lowest = constLike(k, bits, spec.minBiasedExponent() << 23);
  Value aboveLow = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                         magnitude, lowest);
  Value belowHigh = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle,
                                          magnitude, limit);
  Value inRange = arith::AndIOp::create(b, loc, aboveLow, belowHigh);
  Value ok = arith::OrIOp::create(b, loc, isZero, inRange);
  return arith::AndIOp::create(b, loc, safe, ok);
}

Value kernel::decodeWord(KB &k, const KernelSpec &spec, Value raw,
                         unsigned signAt) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  Value magnitude =
      arith::AndIOp::create(b, loc, raw, constLike(k, raw, (1 << signAt) - 1));
  Value sign = arith::ShRUIOp::create(b, loc, raw, constLike(k, raw, signAt));
  Value exponentField =
      arith::ShLIOp::create(b, loc, magnitude, constLike(k, raw, 23));
  Value signField = arith::ShLIOp::create(b, loc, sign, constLike(k, raw, 31));
  return arith::OrIOp::create(b, loc, exponentField, signField);
}

Value kernel::decodeWeight(KB &k, const KernelSpec &spec, Value raw,
                           unsigned signAt) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  Value word = decodeWord(k, spec, raw, signAt);
  Type f32Type = b.getF32Type();
  if (auto type = dyn_cast<VectorType>(raw.getType()))
    f32Type = VectorType::get(type.getShape(), b.getF32Type());
  // word + bits(1.0) is the bit pattern of s * 2^m.
  if (spec.encoding.getZeroFree())
    return arith::BitcastOp::create(
        b, loc, f32Type,
        arith::AddIOp::create(b, loc, word, constLike(k, raw, 0x3F800000)));
  // With-zero: magnitude m means 2^(m-1); m = 0 is the weight 0.
  Value power = arith::BitcastOp::create(
      b, loc, f32Type,
      arith::AddIOp::create(b, loc, word,
                            constLike(k, raw, 0x3F800000 - (1 << 23))));
  Value magnitude =
      arith::AndIOp::create(b, loc, raw, constLike(k, raw, (1 << signAt) - 1));
  Value isZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                       magnitude, constLike(k, raw, 0));
  Value zero = isa<VectorType>(f32Type)
                   ? k.splat(cast<VectorType>(f32Type), b.getF32FloatAttr(0))
                   : k.f32(0);
  return arith::SelectOp::create(b, loc, isZero, zero, power);
}

Value kernel::flushResidue(KB &k, const KernelSpec &spec, Value acc) {
  if (!spec.unguardedZeros())
    return acc;
  OpBuilder &b = k.b;
  Location loc = k.loc;
  Value threshold = k.f32(kFlushBelow), zero = k.f32(0);
  if (auto type = dyn_cast<VectorType>(acc.getType())) {
    threshold = k.splat(type, b.getF32FloatAttr(kFlushBelow));
    zero = k.splat(type, b.getF32FloatAttr(0));
  }
  Value magnitude = math::AbsFOp::create(b, loc, acc);
  Value tiny = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                     magnitude, threshold);
  return arith::SelectOp::create(b, loc, tiny, zero, acc);
}

Value kernel::accumulate(KB &k, const KernelSpec &spec, MacKind kind, Value acc,
                         Value x, Value weight) {
  switch (kind) {
  case MacKind::ExponentAdd:
    return ShiftAccumulateOp::create(
        k.b, k.loc, acc, x, weight,
        AccumulateModeAttr::get(k.b.getContext(), spec.exponentAddMode()));
  case MacKind::FusedMultiplyAdd:
    return vector::FMAOp::create(k.b, k.loc, x, weight, acc);
  case MacKind::MultiplyThenAdd:
    return arith::AddFOp::create(k.b, k.loc, acc,
                                 arith::MulFOp::create(k.b, k.loc, x, weight));
  }
  llvm_unreachable("unknown MacKind");
}

StringRef kernel::kernelSuffix(MacKind kind) {
  switch (kind) {
  case MacKind::ExponentAdd:
    return "_xadd";
  case MacKind::FusedMultiplyAdd:
    return "_fma";
  case MacKind::MultiplyThenAdd:
    return "_ieee";
  }
  llvm_unreachable("unknown MacKind");
}

void kernel::emitDispatch(
    KB &k, const KernelSpec &spec, Value safe,
    function_ref<void(OpBuilder &, Location, MacKind)> call) {
  if (!spec.hasFallback()) {
    call(k.b, k.loc, spec.fastKernel());
    return;
  }
  scf::IfOp::create(
      k.b, k.loc, safe,
      [&](OpBuilder &b, Location loc) {
        call(b, loc, spec.fastKernel());
        scf::YieldOp::create(b, loc);
      },
      [&](OpBuilder &b, Location loc) {
        call(b, loc, MacKind::MultiplyThenAdd);
        scf::YieldOp::create(b, loc);
      });
}

Value kernel::exponentAddRan(KB &k, const KernelSpec &spec, Value safe) {
  if (spec.fastKernel() != MacKind::ExponentAdd || !spec.hasFallback())
    return arith::ConstantOp::create(
        k.b, k.loc, k.b.getBoolAttr(spec.fastKernel() == MacKind::ExponentAdd));
  return safe;
}

void kernel::defineWithSharedDriver(const KernelSpec &spec, StringRef family,
                                    StringRef driverKey,
                                    DenseElementsAttr packed,
                                    DenseElementsAttr alpha,
                                    function_ref<void(func::FuncOp)> build) {
  func::FuncOp layer = spec.func;
  MLIRContext *ctx = layer.getContext();
  OpBuilder b(ctx);
  Location loc = layer.getLoc();
  auto module = layer->getParentOfType<ModuleOp>();
  auto memrefOf = [](DenseElementsAttr data) {
    return MemRefType::get(data.getType().getShape(),
                           data.getType().getElementType());
  };
  std::string name = ("__shift_" + family + "_" + driverKey).str();
  auto driver = module.lookupSymbol<func::FuncOp>(name);
  if (!driver) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(layer);
    // (input, output, tables, alpha, limit[, bias][, residual]).
    SmallVector<Type> args(layer.getArgumentTypes().take_front(2));
    args.append({memrefOf(packed), memrefOf(alpha), b.getI32Type()});
    if (!spec.bias.empty())
      args.push_back(
          MemRefType::get({int64_t(spec.bias.size())}, b.getF32Type()));
    if (spec.residual)
      args.push_back(layer.getArgumentTypes()[2]);
    driver = func::FuncOp::create(b, loc, name, b.getFunctionType(args, {}));
    driver.setPrivate();
    // One copy of the driver serves every layer of its shape.
    driver->setAttr(kNoInlineAttrName, b.getUnitAttr());
    driver.addEntryBlock();
    build(driver);
  }
  Block *entry = layer.addEntryBlock();
  b.setInsertionPointToStart(entry);
  KB k{b, loc};
  std::string layerName = layer.getSymName().str();
  Value codes = k.constantGlobal(
      layerName + (spec.isFloat() ? "_weights" : "_codes"), packed);
  Value scales = k.constantGlobal(layerName + "_alpha", alpha);
  Value limit = k.i32((spec.maxBiasedExponent() << 23) | 0x7FFFFF);
  SmallVector<Value> operands = {entry->getArgument(0), entry->getArgument(1),
                                 codes, scales, limit};
  if (!spec.bias.empty()) {
    auto biasType =
        RankedTensorType::get({int64_t(spec.bias.size())}, b.getF32Type());
    operands.push_back(k.constantGlobal(
        layerName + "_bias",
        DenseElementsAttr::get(biasType, ArrayRef(spec.bias))));
  }
  if (spec.residual)
    operands.push_back(entry->getArgument(2));
  func::CallOp::create(b, loc, driver, operands);
  func::ReturnOp::create(b, loc);
  layer->removeAttr(kKernelAttrName);
}

void kernel::buildDriver(func::FuncOp driver, const KernelSpec &spec,
                         const std::map<MacKind, func::FuncOp> &kernels,
                         const DriverRecipe &recipe) {
  OpBuilder b(driver.getContext());
  Location loc = driver.getLoc();
  Block *entry = &driver.getBody().front();
  b.setInsertionPointToStart(entry);
  KB k{b, loc};
  DriverArgs args;
  args.input = entry->getArgument(0);
  args.output = entry->getArgument(1);
  args.packed = entry->getArgument(2);
  args.alpha = entry->getArgument(3);
  args.limit = entry->getArgument(4);
  unsigned next = 5;
  if (!spec.bias.empty())
    args.bias = entry->getArgument(next++);
  if (spec.residual)
    args.residual = entry->getArgument(next++);

  Value staged, safe;
  std::tie(staged, safe) = recipe.stage(k, args);
  SmallVector<Value> scratch;
  if (recipe.scratch)
    scratch = recipe.scratch(k, args);
  Value yp = memref::AllocOp::create(b, loc, recipe.accumulators,
                                     b.getI64IntegerAttr(64));
  emitDispatch(k, spec, safe, [&](OpBuilder &b, Location loc, MacKind kind) {
    SmallVector<Value> operands = {staged};
    llvm::append_range(operands, recipe.weights(b, loc, args, kind, scratch));
    operands.push_back(yp);
    func::CallOp::create(b, loc, kernels.at(kind), operands);
  });
  recipe.epilogue(k, args, yp, exponentAddRan(k, spec, safe));

  b.setInsertionPointToEnd(entry);
  SmallVector<Value> buffers = {staged};
  llvm::append_range(buffers, scratch);
  buffers.push_back(yp);
  for (Value buffer : buffers)
    if (buffer)
      memref::DeallocOp::create(b, loc, buffer);
  func::ReturnOp::create(b, loc);
}

std::string kernel::specKey(const KernelSpec &spec) {
  std::string key = "l" + std::to_string(spec.lanes) + "r" +
                    std::to_string(spec.rows) + "c" + std::to_string(spec.cols);
  if (spec.fastKernel() == MacKind::ExponentAdd)
    key += spec.unguardedZeros() ? "u" : "g";
  else
    key += "f";
  return key;
}

std::map<MacKind, func::FuncOp>
kernel::createKernels(OpBuilder &b, const KernelSpec &spec, StringRef family,
                      StringRef key,
                      function_ref<SmallVector<Type>(MacKind)> argTypes,
                      function_ref<void(func::FuncOp, MacKind)> build) {
  SmallVector<MacKind> kinds = {spec.fastKernel()};
  if (spec.hasFallback())
    kinds.push_back(MacKind::MultiplyThenAdd);
  auto module = spec.func->getParentOfType<ModuleOp>();
  std::map<MacKind, func::FuncOp> kernels;
  for (MacKind kind : kinds) {
    std::string name =
        ("__shift_" + family + "_" + key + kernelSuffix(kind)).str();
    if (auto existing = module.lookupSymbol<func::FuncOp>(name)) {
      kernels[kind] = existing;
      continue;
    }
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(spec.func);
    auto func = func::FuncOp::create(b, spec.func.getLoc(), name,
                                     b.getFunctionType(argTypes(kind), {}));
    func.setPrivate();
    func->setAttr(kNoInlineAttrName, b.getUnitAttr());
    func.addEntryBlock();
    build(func, kind);
    kernels[kind] = func;
  }
  return kernels;
}

std::string kernel::epilogueKey(const KernelSpec &spec) {
  if (!spec.hasEpilogue())
    return "";
  std::string key = spec.bias.empty() ? "_e" : "_eb";
  if (spec.residual)
    key += "r";
  auto bound = [](float v) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << llvm::format("%a", double(v));
    return text;
  };
  if (spec.clampLow != -INFINITY || spec.clampHigh != INFINITY)
    key += "c" + bound(spec.clampLow) + "," + bound(spec.clampHigh);
  // Symbol-safe: '-', '.', '+' and ',' appear in %a bounds.
  for (char &c : key)
    if (!llvm::isAlnum(c))
      c = '_';
  return key;
}

Value kernel::applyEpilogue(KB &k, const KernelSpec &spec, Value value,
                            Value bias, Value channel, Value residual) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  auto type = cast<VectorType>(value.getType());
  if (!spec.bias.empty()) {
    Value scalar = memref::LoadOp::create(b, loc, bias, ValueRange{channel});
    value = arith::AddFOp::create(
        b, loc, value, vector::BroadcastOp::create(b, loc, type, scalar));
  }
  if (residual)
    value = arith::AddFOp::create(b, loc, value, residual);
  if (spec.clampLow != -INFINITY)
    value = arith::MaximumFOp::create(
        b, loc, value, k.splat(type, b.getF32FloatAttr(spec.clampLow)));
  if (spec.clampHigh != INFINITY)
    value = arith::MinimumFOp::create(
        b, loc, value, k.splat(type, b.getF32FloatAttr(spec.clampHigh)));
  return value;
}
