//===- ShiftDialect.td - Shift dialect definition ----------*- tablegen -*-===//
//
// The `shift` dialect: sign-scale (power-of-two) weights and the
// shift-accumulate operations that replace multiplications by them.
//
//===----------------------------------------------------------------------===//

#ifndef DENSESHIFT_DIALECT_SHIFT_IR_SHIFTDIALECT_TD
#define DENSESHIFT_DIALECT_SHIFT_IR_SHIFTDIALECT_TD

include "mlir/IR/OpBase.td"

def Shift_Dialect : Dialect {
  let name = "shift";
  let cppNamespace = "::mlir::shift";
  let summary = "Sign-scale (power-of-two) weights and shift-accumulate ops";
  let description = [{
    The `shift` dialect models the weights of shift networks (DeepShift,
    S3, DenseShift): every weight is `alpha[o] * s * 2^e` with a sign
    `s` in {-1, +1}, an integer exponent `e` and a per-output-channel f32
    scale `alpha[o]`. Weights are carried *unpacked* as integer code tensors
    (one code per element, readable in tests) together with an
    `#shift.encoding` attribute and an `alpha` tensor; they are packed to
    b-bit storage only when lowered to code.

    Code convention (signed magnitude, one code per element):

    * zero-free encoding (DenseShift): code `c` in `[-2^(b-1), -1] U [1, 2^(b-1)]`
      means `sign(c) * 2^(emin + |c| - 1)`; the code `0` is invalid.
    * with-zero encoding (DeepShift, S3): code `c` in
      `[-(2^(b-1)-1), 2^(b-1)-1]`; `0` means the weight 0 and `c != 0`
      means `sign(c) * 2^(emin + |c| - 1)`.

    So 3-bit zero-free codes `{-4..-1, 1..4}` are the values
    `{-8, -4, -2, -1, 1, 2, 4, 8} * 2^emin`. Code tensors are `i8`, except
    that 8-bit zero-free codes (`+-128`) need `i16`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

#endif // DENSESHIFT_DIALECT_SHIFT_IR_SHIFTDIALECT_TD
