//===- Passes.td - DenseShift conversion passes ------------*- tablegen -*-===//

#ifndef DENSESHIFT_CONVERSION_PASSES_TD
#define DENSESHIFT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// ShiftToLinalg
//===----------------------------------------------------------------------===//

def ConvertShiftToLinalg : Pass<"convert-shift-to-linalg"> {
  let summary = "Reference lowering of shift ops to linalg, tensor and arith";
  let description = [{
    Lowers every `shift` op on tensors to upstream dialects by dequantizing
    the codes to f32 weights and using plain f32 arithmetic:
    `shift.conv2d` becomes `tensor.pad` + a `linalg.generic` grouped
    convolution, `shift.matmul` a `linalg.generic` contraction,
    `shift.quantize`/`shift.dequantize` elementwise `linalg.generic`s and
    `shift.shift_accumulate` `arith.mulf` + `arith.addf`.

    This lowering is the oracle every faster lowering is tested against; it
    is slow on purpose and makes every `shift` program runnable through
    `mlir-runner`.

    ```mlir
    // Before
    %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<...>}
        : tensor<2x64xf32>, tensor<10x64xi8>, tensor<10xf32> -> tensor<2x10xf32>
    // After
    %w = linalg.generic ... // alpha[n] * sign * 2^e from the codes
    %y = linalg.generic ... // y[m, n] += x[m, k] * w[n, k]
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}


//===----------------------------------------------------------------------===//
// LinalgToShift
//===----------------------------------------------------------------------===//

def ConvertLinalgToShift : Pass<"shift-from-linalg"> {
  let summary = "Rewrite linalg convolutions and matmuls with constant weights "
                "into shift ops";
  let description = [{
    Matches `linalg.conv_2d_nchw_fchw`, `linalg.conv_2d_nhwc_hwcf`,
    `linalg.depthwise_conv_2d_nchw_chw`, `linalg.conv_2d_ngchw_fgchw`
    (between `tensor.expand_shape`/`tensor.collapse_shape`, as the frontend
    exports grouped convolutions) and `linalg.matmul` (plain or with the
    transposed-weight indexing maps) whose weights are `arith.constant`s and
    whose init is a zero `linalg.fill`. A producing `tensor.pad` with a zero
    pad value is folded into the convolution's `padding`.

    * `mode=exact` accepts only weights that already are `alpha[o] * s * 2^e`
      with exponents spanning at most `bits` codes (what the training
      frontend exports) and converts them losslessly, choosing the smallest
      width that fits; zero weights select the with-zero format. Any other
      op is left alone (with `remarks=true`, a remark says why).
    * `mode=quantize` rounds float weights to `bits`-bit codes (zero-free or
      not, per `zero-free`), with the alpha and log-domain rounding of
      `shift.quantize`.

    ```mlir
    // Before
    %w = arith.constant dense<[[2.0, -0.5], [1.0, 4.0]]> : tensor<2x2xf32>
    %y = linalg.matmul ins(%x, %w : tensor<1x2xf32>, tensor<2x2xf32>)
                       outs(%zero : tensor<1x2xf32>) -> tensor<1x2xf32>
    // After
    %y = shift.matmul %x, %codes, %alpha {encoding = #shift.encoding<...>}
    ```
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"exact\"",
           "exact (lossless, only alpha*s*2^e weights) or quantize">,
    Option<"bits", "bits", "unsigned", /*default=*/"4",
           "code width: the largest accepted (exact) or the target (quantize)">,
    Option<"zeroFree", "zero-free", "bool", /*default=*/"true",
           "quantize to the zero-free DenseShift format (quantize mode)">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "emit a remark for every convolution or matmul left as linalg">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::shift::ShiftDialect",
                           "mlir::tensor::TensorDialect"];
}

#endif // DENSESHIFT_CONVERSION_PASSES_TD
