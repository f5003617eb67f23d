//===- ShiftDialect.h - Shift dialect ---------------------------*- C++ -*-===//

#ifndef DENSESHIFT_DIALECT_SHIFT_IR_SHIFTDIALECT_H
#define DENSESHIFT_DIALECT_SHIFT_IR_SHIFTDIALECT_H

#include "mlir/IR/Dialect.h"

#include "DenseShift/Dialect/Shift/IR/ShiftDialect.h.inc"

#endif // DENSESHIFT_DIALECT_SHIFT_IR_SHIFTDIALECT_H
