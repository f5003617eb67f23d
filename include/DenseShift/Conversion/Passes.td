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

#endif // DENSESHIFT_CONVERSION_PASSES_TD
