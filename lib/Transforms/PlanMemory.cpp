//===- PlanMemory.cpp - One planned workspace instead of per-call mallocs -===//
//
// Every function gets a frame: the buffers it allocates once per call, plus
// the frames of the functions it calls, packed by live interval. Callees take
// their frame as a trailing memref<Nxi8>; public entry points get a reentrant
// `_ws` form that takes the workspace from the caller.
//
//===----------------------------------------------------------------------===//

#include "DenseShift/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <map>

namespace mlir::shift {
#define GEN_PASS_DEF_SHIFTPLANMEMORY
#include "DenseShift/Transforms/Passes.h.inc"
} // namespace mlir::shift

using namespace mlir;
using namespace mlir::shift;

namespace {

constexpr int64_t kAlignment = 64;

/// One buffer (an allocation, or a callee's frame during a call) live from
/// operation `begin` to operation `end` of the function's entry block.
struct Interval {
  Operation *op;
  int64_t begin, end, bytes;
  int64_t offset = 0;
};

/// Bytes of a static, identity-layout memref, or nullopt.
std::optional<int64_t> staticBytes(MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !type.getElementType().isIntOrFloat())
    return std::nullopt;
  int64_t bits = type.getElementType().getIntOrFloatBitWidth();
  return llvm::divideCeil(type.getNumElements() * bits, 8);
}

/// The interval of `alloc`'s buffer and the deallocations to erase, or
/// failure if an alias may outlive the call (returned, yielded, stored).
FailureOr<Interval> liveInterval(memref::AllocOp alloc, Block &entry,
                                 DenseMap<Operation *, int64_t> &position,
                                 SmallVectorImpl<Operation *> &deallocs) {
  Interval interval{alloc, position[alloc], position[alloc], 0};
  SmallVector<Value> worklist = {alloc.getResult()};
  DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    for (Operation *user : value.getUsers()) {
      Operation *top = entry.findAncestorOpInBlock(*user);
      if (!top)
        return failure();
      // The deallocation is erased, so it does not keep the buffer live:
      // the deallocation pipeline puts them all at the end of the function.
      if (isa<memref::DeallocOp>(user)) {
        deallocs.push_back(user);
        continue;
      }
      interval.end = std::max(interval.end, position[top]);
      if (auto view = dyn_cast<ViewLikeOpInterface>(user);
          view && view.getViewSource() == value) {
        for (Value result : user->getResults())
          worklist.push_back(result);
        continue;
      }
      if (auto metadata = dyn_cast<memref::ExtractStridedMetadataOp>(user)) {
        worklist.push_back(metadata.getBaseBuffer());
        continue;
      }
      if (isa<memref::CastOp>(user)) {
        worklist.push_back(user->getResult(0));
        continue;
      }
      // Any other op that hands a memref on (return, yield, select,
      // bufferization.dealloc) may let the buffer outlive its interval.
      if (isa<func::ReturnOp>(user) ||
          user->getName().getDialectNamespace() == "bufferization" ||
          llvm::any_of(user->getResultTypes(), llvm::IsaPred<BaseMemRefType>))
        return failure();
      if (user->hasTrait<OpTrait::IsTerminator>())
        return failure();
    }
  }
  return interval;
}

/// Greedy placement: largest first, at the lowest aligned offset that
/// overlaps no placed interval live at the same time. Returns the frame size.
int64_t place(MutableArrayRef<Interval> intervals) {
  SmallVector<Interval *> order;
  for (Interval &interval : intervals)
    order.push_back(&interval);
  llvm::stable_sort(
      order, [](Interval *a, Interval *b) { return a->bytes > b->bytes; });
  SmallVector<Interval *> placed;
  int64_t frame = 0;
  for (Interval *interval : order) {
    SmallVector<Interval *> conflicts;
    for (Interval *other : placed)
      if (other->begin <= interval->end && interval->begin <= other->end)
        conflicts.push_back(other);
    llvm::sort(conflicts,
               [](Interval *a, Interval *b) { return a->offset < b->offset; });
    int64_t offset = 0;
    for (Interval *other : conflicts) {
      if (offset + interval->bytes <= other->offset)
        break;
      offset = std::max(offset, int64_t(llvm::alignTo(
                                    other->offset + other->bytes, kAlignment)));
    }
    interval->offset = offset;
    frame = std::max(frame, offset + interval->bytes);
    placed.push_back(interval);
  }
  return int64_t(llvm::alignTo(frame, kAlignment));
}

struct ShiftPlanMemoryPass
    : shift::impl::ShiftPlanMemoryBase<ShiftPlanMemoryPass> {
  using ShiftPlanMemoryBase::ShiftPlanMemoryBase;

  /// Frame bytes of each function already planned.
  std::map<Operation *, int64_t> frames;

  LogicalResult planFunction(func::FuncOp func, SymbolTable &symbols);
  LogicalResult addEntryPoints(func::FuncOp func, int64_t frame,
                               SymbolTable &symbols);

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    // Callees before callers, so that a call knows its callee's frame.
    SmallVector<func::FuncOp> postOrder;
    DenseSet<Operation *> visited;
    std::function<void(func::FuncOp)> visit = [&](func::FuncOp func) {
      if (!visited.insert(func).second)
        return;
      func.walk([&](func::CallOp call) {
        if (auto callee = symbols.lookup<func::FuncOp>(call.getCallee()))
          if (!callee.isDeclaration())
            visit(callee);
      });
      postOrder.push_back(func);
    };
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isDeclaration())
        visit(func);
    for (func::FuncOp func : postOrder)
      if (failed(planFunction(func, symbols)))
        return signalPassFailure();
  }
};

LogicalResult ShiftPlanMemoryPass::planFunction(func::FuncOp func,
                                                SymbolTable &symbols) {
  Block &entry = func.getBody().front();
  DenseMap<Operation *, int64_t> position;
  int64_t index = 0;
  for (Operation &op : entry)
    position[&op] = index++;

  SmallVector<Interval> intervals;
  SmallVector<Operation *> deallocs;
  for (Operation &op : entry) {
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      std::optional<int64_t> bytes = staticBytes(alloc.getType());
      if (!bytes)
        continue;
      SmallVector<Operation *> own;
      FailureOr<Interval> interval = liveInterval(alloc, entry, position, own);
      if (failed(interval))
        continue;
      interval->bytes = *bytes;
      intervals.push_back(*interval);
      deallocs.append(own);
    }
  }
  // Calls anywhere in the body need the callee's frame while they run.
  func.walk([&](func::CallOp call) {
    auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
    auto it = callee ? frames.find(callee) : frames.end();
    if (it == frames.end() || it->second == 0)
      return;
    int64_t at = position[entry.findAncestorOpInBlock(*call)];
    intervals.push_back({call, at, at, it->second});
  });
  int64_t frame = place(intervals);
  frames[func] = frame;

  bool entryPoint = func.isPublic();
  if (frame == 0 && !entryPoint)
    return success();

  OpBuilder b(func.getContext());
  auto wsType = MemRefType::get({frame}, b.getI8Type());
  unsigned wsIndex = func.getNumArguments();
  if (failed(func.insertArgument(wsIndex, wsType, DictionaryAttr(),
                                 func.getLoc())))
    return func.emitError("plan-memory: cannot add the workspace argument");
  Value ws = func.getArgument(wsIndex);

  for (Interval &interval : intervals) {
    b.setInsertionPoint(interval.op);
    Location loc = interval.op->getLoc();
    Value offset = arith::ConstantIndexOp::create(b, loc, interval.offset);
    if (auto alloc = dyn_cast<memref::AllocOp>(interval.op)) {
      Value view = memref::ViewOp::create(b, loc, alloc.getType(), ws, offset,
                                          ValueRange{});
      alloc.replaceAllUsesWith(view);
      continue;
    }
    auto calleeType = MemRefType::get({interval.bytes}, b.getI8Type());
    Value view =
        memref::ViewOp::create(b, loc, calleeType, ws, offset, ValueRange{});
    cast<func::CallOp>(interval.op).getOperandsMutable().append(view);
  }
  for (Operation *dealloc : deallocs)
    dealloc->erase();
  for (Interval &interval : intervals)
    if (isa<memref::AllocOp>(interval.op))
      interval.op->erase();

  if (entryPoint)
    return addEntryPoints(func, frame, symbols);
  return success();
}

/// `@f` → private body, plus public `@f`, `@f_ws` and `@f_workspace_size`.
LogicalResult ShiftPlanMemoryPass::addEntryPoints(func::FuncOp body,
                                                  int64_t frame,
                                                  SymbolTable &symbols) {
  if (maxWorkspace != 0 && uint64_t(frame) > maxWorkspace)
    return body.emitError("entry point '")
           << body.getSymName() << "' needs a workspace of " << frame
           << " bytes, more than max-workspace=" << int64_t(maxWorkspace);
  std::string name = body.getSymName().str();
  for (StringRef suffix : {"_ws", "_workspace_size"})
    if (symbols.lookup(name + suffix.str()))
      return body.emitError("plan-memory: '")
             << name << suffix << "' already exists";
  MLIRContext *ctx = body.getContext();
  OpBuilder b(ctx);
  Location loc = body.getLoc();
  auto prototype = body->getAttrOfType<StringAttr>(kCPrototypeAttrName);
  body->removeAttr(kCPrototypeAttrName);
  symbols.setSymbolName(body, "__shift_" + name + "_body");
  body.setPrivate();

  FunctionType bodyType = body.getFunctionType();
  ArrayRef<Type> params = bodyType.getInputs().drop_back();
  Type wsType = bodyType.getInputs().back();
  b.setInsertionPointAfter(body);

  // @f(in, out): the workspace is allocated once per call.
  auto plain =
      func::FuncOp::create(b, loc, name, b.getFunctionType(params, {}));
  if (prototype)
    plain->setAttr(kCPrototypeAttrName, prototype);
  {
    OpBuilder::InsertionGuard guard(b);
    Block *block = plain.addEntryBlock();
    b.setInsertionPointToStart(block);
    SmallVector<Value> args(block->getArguments());
    Value ws = frame == 0
                   ? memref::AllocaOp::create(b, loc, cast<MemRefType>(wsType))
                         .getResult()
                   : memref::AllocOp::create(b, loc, cast<MemRefType>(wsType),
                                             b.getI64IntegerAttr(kAlignment))
                         .getResult();
    args.push_back(ws);
    func::CallOp::create(b, loc, body, args);
    if (frame != 0)
      memref::DeallocOp::create(b, loc, ws);
    func::ReturnOp::create(b, loc);
  }

  // @f_ws(in, out, ws) -> i32: 1 (nothing written) for a NULL or misaligned
  // workspace, else 0.
  SmallVector<Type> wsParams(params);
  wsParams.push_back(wsType);
  auto reentrant = func::FuncOp::create(
      b, loc, name + "_ws", b.getFunctionType(wsParams, {b.getI32Type()}));
  if (prototype) {
    std::string text = prototype.getValue().str();
    size_t at = text.find("void " + name + "(");
    size_t close = text.rfind(");");
    if (at != std::string::npos && close != std::string::npos) {
      text.replace(close, 2, ", void *workspace);");
      text.replace(at, name.size() + 6, "int " + name + "_ws(");
      reentrant->setAttr(kCPrototypeAttrName, b.getStringAttr(text));
    }
  }
  {
    OpBuilder::InsertionGuard guard(b);
    Block *block = reentrant.addEntryBlock();
    b.setInsertionPointToStart(block);
    Value ws = block->getArguments().back();
    Value bad;
    if (frame == 0) {
      bad = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
    } else {
      Value address =
          memref::ExtractAlignedPointerAsIndexOp::create(b, loc, ws);
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      Value alignment = arith::ConstantIndexOp::create(b, loc, kAlignment);
      Value misaligned = arith::RemUIOp::create(b, loc, address, alignment);
      Value null = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                         address, zero);
      Value offAlignment = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::ne, misaligned, zero);
      bad = arith::OrIOp::create(b, loc, null, offAlignment);
    }
    auto status = scf::IfOp::create(
        b, loc, bad,
        [&](OpBuilder &b, Location loc) {
          scf::YieldOp::create(b, loc,
                               ValueRange{arith::ConstantOp::create(
                                   b, loc, b.getI32IntegerAttr(1))});
        },
        [&](OpBuilder &b, Location loc) {
          func::CallOp::create(b, loc, body, block->getArguments());
          scf::YieldOp::create(b, loc,
                               ValueRange{arith::ConstantOp::create(
                                   b, loc, b.getI32IntegerAttr(0))});
        });
    func::ReturnOp::create(b, loc, status.getResults());
  }

  // @f_workspace_size() -> i64.
  auto size = func::FuncOp::create(b, loc, name + "_workspace_size",
                                   b.getFunctionType({}, {b.getI64Type()}));
  size->setAttr(kCPrototypeAttrName,
                b.getStringAttr("size_t " + name + "_workspace_size(void);"));
  {
    OpBuilder::InsertionGuard guard(b);
    Block *block = size.addEntryBlock();
    b.setInsertionPointToStart(block);
    func::ReturnOp::create(b, loc,
                           ValueRange{arith::ConstantOp::create(
                               b, loc, b.getI64IntegerAttr(frame))});
  }
  return success();
}

} // namespace
