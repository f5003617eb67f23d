//===- ShiftOps.td - Shift dialect operations --------------*- tablegen -*-===//

#ifndef DENSESHIFT_DIALECT_SHIFT_IR_SHIFTOPS_TD
#define DENSESHIFT_DIALECT_SHIFT_IR_SHIFTOPS_TD

include "DenseShift/Dialect/Shift/IR/ShiftDialect.td"
include "DenseShift/Dialect/Shift/IR/ShiftAttributes.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

class Shift_Op<string mnemonic, list<Trait> traits = []>
    : Op<Shift_Dialect, mnemonic, traits>;

def Shift_F32Tensor : RankedTensorOf<[F32]>;
def Shift_CodeTensor : RankedTensorOf<[I8, I16]>;
def Shift_AlphaTensor : 1DTensorOf<[F32]>;

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

def Shift_QuantizeOp : Shift_Op<"quantize", [Pure]> {
  let summary = "Round float weights to sign-scale codes";
  let description = [{
    Rounds `weights` to the `encoding`, per output channel along `axis`
    (dimension 0 for FCHW and matmul weights, 3 for HWCF):

    * `alpha[o] = max|w[o]| / 2^(emin + K)` with `K` the largest exponent
      offset, so the largest magnitude of a channel maps exactly to the
      largest code (`alpha[o] = 0` for an all-zero channel);
    * `e = clamp(round_log2(|w| / alpha[o]), emin, emin + K)` where
      rounding happens in the log domain: the decision point between
      `2^k` and `2^(k+1)` is `sqrt(2) * 2^k`;
    * zero-free encodings map `w = +-0` to the smallest magnitude with
      sign +; with-zero encodings map every `w` whose rounded exponent is
      below `emin` to the code 0.

    Quantizing a constant folds to constant codes and alpha. NaN or Inf
    weights cannot be quantized: folding a constant that holds them is an
    error, and at run time they yield NaN alpha for that channel.

    Example:

    ```mlir
    %codes, %alpha = shift.quantize %w {axis = 0 : i64,
        encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>}
        : tensor<8x4x3x3xf32> -> tensor<8x4x3x3xi8>, tensor<8xf32>
    ```
  }];
  let arguments = (ins Shift_F32Tensor:$weights, Shift_EncodingAttr:$encoding,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs Shift_CodeTensor:$codes, Shift_AlphaTensor:$alpha);
  let assemblyFormat = [{
    $weights attr-dict `:` type($weights) `->` type($codes) `,` type($alpha)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

def Shift_DequantizeOp : Shift_Op<"dequantize", [Pure]> {
  let summary = "Expand sign-scale codes to float weights";
  let description = [{
    Computes `w = alpha[o] * decode(code)` where `o` indexes dimension
    `axis` of `codes`. It is the inverse of `shift.quantize` on values that
    are already in the format, and the basis of the reference lowering.
    Dequantizing constants folds to a float constant.

    Example:

    ```mlir
    %w = shift.dequantize %codes, %alpha {axis = 0 : i64,
        encoding = #shift.encoding<bits = 4, zero_free = false, emin = -2>}
        : tensor<16x32xi8>, tensor<16xf32> -> tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Shift_CodeTensor:$codes, Shift_AlphaTensor:$alpha,
                       Shift_EncodingAttr:$encoding,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs Shift_F32Tensor:$weights);
  let assemblyFormat = [{
    $codes `,` $alpha attr-dict `:` type($codes) `,` type($alpha) `->`
    type($weights)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

def Shift_Conv2DOp : Shift_Op<"conv2d", [Pure]> {
  let summary = "2-D convolution with sign-scale weights";
  let description = [{
    `y = conv(x, alpha[f] * decode(codes))`, a grouped 2-D cross-correlation
    (the semantics of `linalg.conv_2d_nchw_fchw`/`conv_2d_nhwc_hwcf`
    and their grouped and depthwise forms) with f32 activations.

    * `layout`: `nchw_fchw` (input NxCxHxW, codes FxC/groups xKHxKW, result
      NxFxOHxOW) or `nhwc_hwcf` (input NxHxWxC, codes KHxKWxC/groups xF,
      result NxOHxOWxF);
    * `strides`, `dilations`: two positive integers (H, W);
    * `padding`: four non-negative integers `[top, left, bottom, right]`
      of zero padding;
    * `groups`: divides both C and F; depthwise is `groups = C`.

    `OH = (H + top + bottom - dh * (KH - 1) - 1) / sh + 1`, likewise OW.

    Example:

    ```mlir
    %y = shift.conv2d %x, %codes, %alpha {
        encoding = #shift.encoding<bits = 3, zero_free = true, emin = 0>,
        layout = #shift.layout<nchw_fchw>, strides = array<i64: 1, 1>,
        dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
        groups = 1 : i64}
        : tensor<1x4x8x8xf32>, tensor<8x4x3x3xi8>, tensor<8xf32>
        -> tensor<1x8x8x8xf32>
    ```
  }];
  let arguments = (ins Shift_F32Tensor:$input, Shift_CodeTensor:$codes,
                       Shift_AlphaTensor:$alpha, Shift_EncodingAttr:$encoding,
                       Shift_ConvLayoutAttr:$layout,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$padding,
                       DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Shift_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $codes `,` $alpha attr-dict `:` type($input) `,` type($codes)
    `,` type($alpha) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool isNCHW() { return getLayout() == ConvLayout::nchw_fchw; }
    /// Output-channel count F.
    int64_t getNumOutputChannels();
    /// Input-channel count C.
    int64_t getNumInputChannels();
  }];
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

def Shift_MatmulOp : Shift_Op<"matmul", [Pure]> {
  let summary = "Fully connected layer with sign-scale weights";
  let description = [{
    `y[m, n] = sum_k x[m, k] * alpha[n] * decode(codes[n, k])`: the weight
    is stored as `out_features x in_features`, like `torch.nn.Linear`.

    Example:

    ```mlir
    %y = shift.matmul %x, %codes, %alpha {
        encoding = #shift.encoding<bits = 4, zero_free = true, emin = -4>}
        : tensor<2x64xf32>, tensor<10x64xi8>, tensor<10xf32>
        -> tensor<2x10xf32>
    ```
  }];
  let arguments = (ins Shift_F32Tensor:$input, Shift_CodeTensor:$codes,
                       Shift_AlphaTensor:$alpha, Shift_EncodingAttr:$encoding);
  let results = (outs Shift_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $codes `,` $alpha attr-dict `:` type($input) `,` type($codes)
    `,` type($alpha) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// ShiftAccumulateOp
//===----------------------------------------------------------------------===//

def Shift_ShiftAccumulateOp : Shift_Op<"shift_accumulate",
    [Pure, AllTypesMatch<["acc", "x", "result"]>]> {
  let summary = "acc + s * x * 2^e, the multiplication-free MAC";
  let description = [{
    The low-level step between the kernel generator and LLVM: adds
    `s * x * 2^e` to `acc`, elementwise on scalars or vectors. The weight
    is given as a *shift word* `word = (e << 23) | (s_neg << 31)` with
    `e` in [0, 127] (the IEEE-754 bit pattern of `s * 2^e` minus that of
    1.0), which kernels keep pre-decoded in registers.

    * `mode = ieee` is exact IEEE-754 `acc + x * (s * 2^e)` for every `x`
      (zeros, denormals, NaN, Inf, overflow);
    * `mode = exponent_add` adds `word` to the bit pattern of `x` (one
      integer add) and keeps +-0 exact; it requires `x` to be +-0 or a
      normal number whose biased exponent plus `e` is at most 254;
    * `mode = exponent_add_unguarded` drops the zero test: a +-0 `x`
      contributes `+-2^(e - 127)` instead of 0.

    Example:

    ```mlir
    %r = shift.shift_accumulate %acc, %x, %word {mode = #shift.mode<exponent_add>}
        : vector<8xf32>, vector<8xi32>
    ```
  }];
  let arguments = (ins AnyTypeOf<[F32, VectorOfAnyRankOf<[F32]>]>:$acc,
                       AnyTypeOf<[F32, VectorOfAnyRankOf<[F32]>]>:$x,
                       AnyTypeOf<[I32, VectorOfAnyRankOf<[I32]>]>:$word,
                       Shift_AccumulateModeAttr:$mode);
  let results = (outs AnyTypeOf<[F32, VectorOfAnyRankOf<[F32]>]>:$result);
  let assemblyFormat = [{
    $acc `,` $x `,` $word attr-dict `:` type($acc) `,` type($word)
  }];
  let hasVerifier = 1;
}

#endif // DENSESHIFT_DIALECT_SHIFT_IR_SHIFTOPS_TD
