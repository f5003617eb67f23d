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

def Shift_KernelKind : I32EnumAttr<"KernelKind",
    "operation a generated kernel computes", [
      I32EnumAttrCase<"conv2d", 0>,
      I32EnumAttrCase<"matmul", 1>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::shift";
}

/// A target, mode or strategy, spelled as the pass options spell it
/// (ShiftOptions.h), e.g. "x86-64-avx2".
class Shift_OptionParameter<string cppType, string desc>
    : AttrParameter<cppType, desc> {
  let parser = "::mlir::shift::parseOption<" # cppType # ">($_parser)";
  let printer = "::mlir::shift::printOption($_printer, $_self)";
}

def Shift_KernelAttr : Shift_Attr<"Kernel", "kernel"> {
  let summary = "What a generated kernel computes and how it is blocked";
  let description = [{
    `shift-outline-kernels` replaces a layer by a call of a private
    declaration and records the layer on it as `shift.kernel =
    #shift.kernel<...>`; `convert-shift-to-vector` generates the body from
    this attribute alone, so the attribute is the whole contract between
    the two passes (docs/kernels.md). The context uniques it: two layers
    with the same description share one kernel.

    * `kind`: `conv2d` (input N x C x H x W, weights F x C/groups x KH x KW,
      `layout` `nchw_fchw`; `strides`, `dilations`, `padding` [top, left,
      bottom, right] and `groups` required) or `matmul` (input M x K,
      weights N x K; no convolution parameters);
    * `target`, `mode`, `strategy`: the options the kernel was made for, as
      the passes spell them; `strategy` is `shift` or `decode-fma` (the pass
      resolves `auto` per layer);
    * `lanes`, `rows`, `cols`: the register blocking (vector width in f32
      lanes, output channels x vectors per accumulator block);
    * weights: either `codes` (signed-magnitude integer codes), `alpha` (f32,
      one per output channel, already times 2^emin) and `encoding`, or f32
      `weights` (a layer that keeps float weights);
    * epilogue, applied while the outputs are in registers: `bias` (f32, one
      per output channel), `residual` (the shortcut is the declaration's
      third argument; convolutions only), `clamp` = [low, high].

    Example:

    ```mlir
    #shift.kernel<kind = matmul, target = "x86-64-avx2", mode = "default",
                  strategy = "shift", lanes = 8, rows = 4, cols = 2,
                  codes = dense<[[1, -2]]> : tensor<1x2xi8>,
                  alpha = dense<0.5> : tensor<1xf32>,
                  encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>>
    ```
  }];
  let parameters = (ins
    EnumParameter<Shift_KernelKind>:$kind,
    Shift_OptionParameter<"::mlir::shift::Target", "code generation target">:$target,
    Shift_OptionParameter<"::mlir::shift::KernelMode", "kernel mode">:$mode,
    Shift_OptionParameter<"::mlir::shift::KernelStrategy", "multiplication strategy">:$strategy,
    "int64_t":$lanes,
    "int64_t":$rows,
    "int64_t":$cols,
    OptionalParameter<"::mlir::DenseIntElementsAttr">:$codes,
    OptionalParameter<"::mlir::DenseFPElementsAttr">:$alpha,
    OptionalParameter<"::mlir::shift::EncodingAttr">:$encoding,
    OptionalParameter<"::mlir::DenseFPElementsAttr">:$weights,
    DefaultValuedParameter<"::mlir::shift::ConvLayout",
                           "::mlir::shift::ConvLayout::nchw_fchw">:$layout,
    OptionalParameter<"::mlir::DenseI64ArrayAttr">:$strides,
    OptionalParameter<"::mlir::DenseI64ArrayAttr">:$dilations,
    OptionalParameter<"::mlir::DenseI64ArrayAttr">:$padding,
    DefaultValuedParameter<"int64_t", "1">:$groups,
    OptionalParameter<"::mlir::DenseFPElementsAttr">:$bias,
    DefaultValuedParameter<"bool", "false">:$residual,
    OptionalParameter<"::mlir::DenseF32ArrayAttr">:$clamp
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True for a layer that keeps f32 weights (FMA kernel, no codes).
    bool isFloat() const { return bool(getWeights()); }
    /// Shape of the weights: codes or f32 weights.
    ::llvm::ArrayRef<int64_t> getWeightShape() const;
  }];
}

#endif // DENSESHIFT_DIALECT_SHIFT_IR_SHIFTATTRIBUTES_TD
