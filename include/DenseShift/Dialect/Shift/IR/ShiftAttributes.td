//===- ShiftAttributes.td - Shift dialect attributes -------*- tablegen -*-===//

#ifndef DENSESHIFT_DIALECT_SHIFT_IR_SHIFTATTRIBUTES_TD
#define DENSESHIFT_DIALECT_SHIFT_IR_SHIFTATTRIBUTES_TD

include "DenseShift/Dialect/Shift/IR/ShiftDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

class Shift_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Shift_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Shift_EncodingAttr : Shift_Attr<"Encoding", "encoding"> {
  let summary = "Number format of sign-scale weight codes";
  let description = [{
    Describes how an integer code tensor maps to weights `s * 2^e`:

    * `bits` (2..8): storage width of one code, 1 sign bit + (bits-1)
      exponent bits;
    * `zero_free`: DenseShift's zero-free format (all 2^bits codes are
      non-zero values) when true; the DeepShift/S3 format with one code
      reserved for 0 (2^bits - 1 values) when false;
    * `emin`: exponent of the smallest magnitude, so `e = emin + |c| - 1`.

    `emin` and the largest exponent must both lie in [-126, 127] so that
    every value is a normal f32 power of two.

    Example:

    ```mlir
    // {-8, -4, -2, -1, 1, 2, 4, 8} / 8
    #shift.encoding<bits = 3, zero_free = true, emin = -3>
    ```
  }];
  let parameters = (ins "unsigned":$bits, "bool":$zero_free, "int64_t":$emin);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Largest |code| of this encoding.
    int64_t getMaxMagnitude() const;
    /// Largest exponent offset k (e = emin + k).
    int64_t getMaxExponentOffset() const { return getMaxMagnitude() - 1; }
    /// Returns true if `code` is a valid code of this encoding.
    bool isValidCode(int64_t code) const;
    /// Returns the weight (without alpha) that `code` denotes.
    double decode(int64_t code) const;
    /// Minimal integer width a code tensor of this encoding needs.
    unsigned getRequiredCodeWidth() const;
  }];
}

def Shift_ConvLayout : I32EnumAttr<"ConvLayout",
    "data layout of a shift convolution", [
      I32EnumAttrCase<"nchw_fchw", 0>,
      I32EnumAttrCase<"nhwc_hwcf", 1>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::shift";
}

def Shift_ConvLayoutAttr : EnumAttr<Shift_Dialect, Shift_ConvLayout, "layout"> {
  let summary = "Data layout of a shift convolution";
  let description = [{
    `nchw_fchw`: input N x C x H x W, codes F x C/groups x KH x KW.
    `nhwc_hwcf`: input N x H x W x C, codes KH x KW x C/groups x F.
  }];
  let assemblyFormat = "`<` $value `>`";
}

def Shift_AccumulateMode : I32EnumAttr<"AccumulateMode",
    "how shift.shift_accumulate scales its operand", [
      I32EnumAttrCase<"ieee", 0>,
      I32EnumAttrCase<"exponent_add", 1>,
      I32EnumAttrCase<"exponent_add_unguarded", 2>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::shift";
}

def Shift_AccumulateModeAttr
    : EnumAttr<Shift_Dialect, Shift_AccumulateMode, "mode"> {
  let summary = "Scaling strategy of shift.shift_accumulate";
  let description = [{
    `ieee`: exact IEEE-754 semantics of `x * (s * 2^e)` for every input.
    `exponent_add`: one integer add on the bit pattern of `x`; valid only
    for `x` that is +-0 or normal with biased exponent + e <= 254 (the
    caller proves this, e.g. by pre-scanning the activations).
    `exponent_add_unguarded`: the same add without the test that keeps
    +-0 exact, so a zero `x` contributes the tiny `s * 2^(e - 127)`; for
    callers that bound and flush that residue (it saves one instruction
    per MAC).
  }];
  let assemblyFormat = "`<` $value `>`";
}

#endif // DENSESHIFT_DIALECT_SHIFT_IR_SHIFTATTRIBUTES_TD
