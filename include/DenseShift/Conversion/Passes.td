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
    `linalg.depthwise_conv_2d_nchw_chw`/`_nhwc_hwc`,
    `linalg.conv_2d_ngchw_fgchw`/`_gfchw`
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
    Option<"mode", "mode", "::mlir::shift::WeightsMode",
           /*default=*/"::mlir::shift::WeightsMode::Exact",
           "exact (lossless, only alpha*s*2^e weights) or quantize">,
    Option<"bits", "bits", "unsigned", /*default=*/"0",
           "code width: the largest accepted (exact; default 8) or the target "
           "(quantize; default 4)">,
    Option<"zeroFree", "zero-free", "bool", /*default=*/"true",
           "quantize to the zero-free DenseShift format (quantize mode)">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "emit a remark for every convolution or matmul left as linalg">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::shift::ShiftDialect",
                           "mlir::tensor::TensorDialect"];
}

//===----------------------------------------------------------------------===//
// ShiftToVector
//===----------------------------------------------------------------------===//

def ShiftOutlineKernels : Pass<"shift-outline-kernels", "ModuleOp"> {
  let summary = "Replace shift convolutions and matmuls by calls to kernels "
                "on buffers";
  let description = [{
    Runs on tensors, before bufferization. Every `shift.conv2d` and every
    `shift.matmul` whose codes and alpha are constants becomes

    ```mlir
    %in = bufferization.to_buffer %x read_only : tensor<..> to memref<..>
    %out = memref.alloc() : memref<..>
    func.call @__shift_conv2d_0(%in, %out) : (memref<..>, memref<..>) -> ()
    %y = bufferization.to_tensor %out restrict writable : memref<..> to tensor<..>
    ```

    where `@__shift_conv2d_0` is a private declaration whose `shift.kernel`
    attribute, a `#shift.kernel`, records the codes, alpha, geometry,
    epilogue, target, blocking, `mode` and `strategy`; layers with equal
    descriptions and signatures share one declaration.
    `convert-shift-to-vector` defines its body after bufferization. Other
    shift ops are left for `convert-shift-to-linalg`. An `f32`
    `linalg.conv_2d_nchw_fchw` or `linalg.matmul` with constant weights (a
    layer that keeps float weights) gets a kernel with f32 weights.

    The kernels are NCHW. A convolution in `nhwc_hwcf` layout (and an `f32`
    `linalg.conv_2d_nhwc_hwcf`) calls the same kernel between two
    `linalg.transpose`s, with its codes or weights permuted to FCHW at
    compile time; a bias and a clamp after it are absorbed as in NCHW. Back
    to back, the transposes of two NHWC layers cancel (canonicalization),
    so an NHWC network runs NCHW between its layers.

    `strategy=auto` decides per layer: a layer with fewer than 16 MACs per
    weight (batch-1 fully connected layers) is bound by reading its codes
    and stays `shift`; any other takes `decode-fma` when the target's
    exponent-add MAC loop costs at least 1.1x its FMA loop (llvm-mca: AVX2
    1.52x, AVX-512 2.0x, NEON 1.67x), else `shift`. The default remains
    `shift`, multiplication-free.
  }];
  let options = [
    Option<"target", "target", "::mlir::shift::Target",
           /*default=*/"::mlir::shift::Target::X86_64_AVX2",
           "x86-64-avx2, x86-64-avx512 or aarch64-neon">,
    Option<"mode", "mode", "::mlir::shift::KernelMode",
           /*default=*/"::mlir::shift::KernelMode::Default",
           "default (IEEE-exact, pre-scanned) or fast (assumes finite, "
           "normal-range activations)">,
    Option<"strategy", "strategy", "::mlir::shift::KernelStrategy",
           /*default=*/"::mlir::shift::KernelStrategy::Shift",
           "shift (exponent-add MACs), decode-fma (decode to f32, FMA) or "
           "auto (per layer, from the target's cost model)">
  ];
  // The shift dialect for #shift.kernel: a float-only module has no shift op.
  let dependentDialects = ["mlir::bufferization::BufferizationDialect",
                           "mlir::func::FuncDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::shift::ShiftDialect",
                           "mlir::tensor::TensorDialect"];
}

def ConvertShiftToVector : Pass<"convert-shift-to-vector", "ModuleOp"> {
  let summary = "Generate vectorized multiplication-free kernels";
  let description = [{
    Defines every kernel declared by `shift-outline-kernels` with `scf`
    loops over `vector` ops: the activations are copied once into a padded
    (and, for strided convolutions, phase-split) buffer while being
    scanned; the codes, packed at 4 bits (or 8 for 5..8-bit encodings) in
    a constant `memref.global`, are decoded once per call (convolutions)
    or in the inner loop (matmuls); register-blocked accumulation uses
    `shift.shift_accumulate` in `exponent_add` mode, and the per-channel
    alpha is applied once per output.

    In `mode=default` the scan proves the fast kernel's precondition: every
    activation is +-0 or normal, at least 2^-63 in magnitude when zeros go
    through the add unguarded (their residue, at most 2^-89 per output, is
    flushed below 2^-87), and small enough that no product
    `x * alpha * s * 2^e` overflows. Otherwise the call takes the `_ieee`
    kernel: exact f32 weights, separate IEEE multiply and add, so NaN, Inf,
    denormals and overflow behave as in IEEE arithmetic. `mode=fast` skips
    the scan (finite, normal-range activations assumed).
    `strategy=decode-fma` replaces the exponent-add kernel by one that
    decodes f32 weights and uses FMA, as do with-zero encodings.

    Finally lowers `shift.shift_accumulate` to `arith`, and `memref.copy`
    to `linalg.copy` so that no copy becomes a call into MLIR's runner
    library (compiled models link with libc alone).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}


#endif // DENSESHIFT_CONVERSION_PASSES_TD
