//===- ShiftOps.h - Shift dialect operations --------------------*- C++ -*-===//

#ifndef DENSESHIFT_DIALECT_SHIFT_IR_SHIFTOPS_H
#define DENSESHIFT_DIALECT_SHIFT_IR_SHIFTOPS_H

#include "DenseShift/Dialect/Shift/IR/ShiftAttributes.h"
#include "DenseShift/Dialect/Shift/IR/ShiftDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "DenseShift/Dialect/Shift/IR/ShiftOps.h.inc"

#endif // DENSESHIFT_DIALECT_SHIFT_IR_SHIFTOPS_H
