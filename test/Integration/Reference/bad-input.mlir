// denseshift-opt must fail with a non-zero exit code and a clear diagnostic
// on input it cannot use, never crash or print a module.
//
// RUN: rm -rf %t && split-file %s %t
//
// RUN: not denseshift-opt %t/malformed.mlir 2>&1 | FileCheck %s --check-prefix=MALFORMED
// MALFORMED: malformed.mlir:2:35: error: expected '}' in attribute dictionary
// MALFORMED-NOT: func.func
//
// RUN: not denseshift-opt %t/unknown-op.mlir 2>&1 | FileCheck %s --check-prefix=UNKNOWN-OP
// UNKNOWN-OP: unknown-op.mlir:2:8: error: custom op 'shift.frobnicate' is unknown
//
// RUN: not denseshift-opt %t/unknown-generic-op.mlir 2>&1 | FileCheck %s --check-prefix=UNKNOWN-GENERIC
// UNKNOWN-GENERIC: unknown-generic-op.mlir:2:3: error: unregistered operation 'shift.frobnicate' found in dialect ('shift') that does not allow unknown operations
//
// RUN: not denseshift-opt %t/invalid-encoding.mlir 2>&1 | FileCheck %s --check-prefix=ENCODING
// ENCODING: invalid-encoding.mlir:3:{{[0-9]+}}: error: bits must be in [2, 8], got 9
//
// RUN: not denseshift-opt %t/invalid-code.mlir --convert-shift-to-linalg 2>&1 | FileCheck %s --check-prefix=CODE
// CODE: invalid-code.mlir:3:8: error: 'shift.dequantize' op code 0 at flat index 1 is not allowed in a zero-free encoding
// CODE-NOT: linalg.generic
//
// RUN: not denseshift-opt %t/does-not-exist.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: cannot open input file '{{.*}}does-not-exist.mlir': No such file or directory
//
// RUN: not denseshift-opt %t/empty-func.mlir --no-such-pass 2>&1 | FileCheck %s --check-prefix=FLAG
// FLAG: Unknown command line argument '--no-such-pass'
//
// The well-formed control case must succeed, so the failures above are
// about the input and not about the tool.
// RUN: denseshift-opt %t/empty-func.mlir | FileCheck %s --check-prefix=GOOD
// GOOD: func.func @good()

//--- malformed.mlir
func.func @broken(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = shift.quantize %x {encoding tensor<4xf32>
}

//--- unknown-op.mlir
func.func @unknown(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = shift.frobnicate %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

//--- unknown-generic-op.mlir
func.func @unknown_generic(%x: tensor<4xf32>) {
  "shift.frobnicate"(%x) : (tensor<4xf32>) -> ()
  return
}

//--- invalid-encoding.mlir
func.func @bad_encoding(%w: tensor<1x4xf32>) -> (tensor<1x4xi16>, tensor<1xf32>) {
  %c, %a = shift.quantize %w
      {encoding = #shift.encoding<bits = 9, zero_free = true, emin = 0>}
      : tensor<1x4xf32> -> tensor<1x4xi16>, tensor<1xf32>
  return %c, %a : tensor<1x4xi16>, tensor<1xf32>
}

//--- invalid-code.mlir
func.func @bad_code(%alpha: tensor<1xf32>) -> tensor<1x2xf32> {
  %codes = arith.constant dense<[[1, 0]]> : tensor<1x2xi8>
  %w = shift.dequantize %codes, %alpha {encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
      : tensor<1x2xi8>, tensor<1xf32> -> tensor<1x2xf32>
  return %w : tensor<1x2xf32>
}

//--- empty-func.mlir
func.func @good() {
  return
}
