// The exponent-add kernels contain no multiply or FMA instruction on any
// target, and use the target's vector registers.
//
// RUN: denseshift-opt %s --denseshift-pipeline="target=x86-64-avx2" -o %t.avx2.mlir
// RUN: denseshift-translate --target=x86-64-avx2 %t.avx2.mlir -o %t.avx2.o
// RUN: llvm-objdump -d --no-show-raw-insn %t.avx2.o | FileCheck %s --check-prefix=AVX2
// RUN: denseshift-opt %s --denseshift-pipeline="target=x86-64-avx512" -o %t.avx512.mlir
// RUN: denseshift-translate --target=x86-64-avx512 %t.avx512.mlir -o %t.avx512.o
// RUN: llvm-objdump -d --no-show-raw-insn %t.avx512.o | FileCheck %s --check-prefix=AVX512
// RUN: denseshift-opt %s --denseshift-pipeline="target=aarch64-neon" -o %t.neon.mlir
// RUN: denseshift-translate --target=aarch64-neon %t.neon.mlir -o %t.neon.o
// RUN: llvm-objdump -d --no-show-raw-insn %t.neon.o | FileCheck %s --check-prefix=NEON
//
// The IEEE fallback kernel is where the multiplies live (the check can fail).
// RUN: llvm-objdump -d --no-show-raw-insn %t.avx2.o | FileCheck %s --check-prefix=AVX2-IEEE

// Kernels appear in address order: the matmul's first; each kernel is
// bounded by the label of the IEEE fallback that follows it, and must contain
// its integer add and float add (an empty kernel fails).
// AVX2-LABEL: <__shift_matmul_{{.*}}_xadd>:
// AVX2-NOT: {{vmul|vfmadd|vfmsub|vfnmadd|vpmull}}
// AVX2: vpaddd {{.*}}%ymm
// AVX2-NOT: {{vmul|vfmadd|vfmsub|vfnmadd|vpmull}}
// AVX2-LABEL: <__shift_matmul_{{.*}}_ieee>:
// AVX2-LABEL: <__shift_conv2d_{{.*}}_xadd>:
// AVX2-NOT: {{vmul|vfmadd|vfmsub|vfnmadd|vpmull}}
// AVX2: vpaddd {{.*}}%ymm
// AVX2-NOT: {{vmul|vfmadd|vfmsub|vfnmadd|vpmull}}
// AVX2: vaddps {{.*}}%ymm
// AVX2-NOT: {{vmul|vfmadd|vfmsub|vfnmadd|vpmull}}
// AVX2-LABEL: <__shift_conv2d_{{.*}}_ieee>:

// AVX512-LABEL: <__shift_matmul_{{.*}}_xadd>:
// AVX512-NOT: {{vmul|vfmadd|vfmsub|vfnmadd|vpmull}}
// AVX512: vpaddd {{.*}}%zmm
// AVX512-NOT: {{vmul|vfmadd|vfmsub|vfnmadd|vpmull}}
// AVX512: vaddps {{.*}}%zmm
// AVX512-NOT: {{vmul|vfmadd|vfmsub|vfnmadd|vpmull}}
// AVX512-LABEL: <__shift_matmul_{{.*}}_ieee>:
// AVX512-LABEL: <__shift_conv2d_{{.*}}_xadd>:
// AVX512-NOT: {{vmul|vfmadd|vfmsub|vfnmadd|vpmull}}
// AVX512: vpaddd {{.*}}%zmm
// AVX512-NOT: {{vmul|vfmadd|vfmsub|vfnmadd|vpmull}}
// AVX512: vaddps {{.*}}%zmm
// AVX512-NOT: {{vmul|vfmadd|vfmsub|vfnmadd|vpmull}}
// AVX512-LABEL: <__shift_conv2d_{{.*}}_ieee>:

// NEON-LABEL: <__shift_matmul_{{.*}}_xadd>:
// NEON-NOT: {{fmul|fmla|fmls|[[:space:]]mul[[:space:]]|[[:space:]]mla[[:space:]]}}
// NEON: add {{.*}}v{{[0-9]+}}.4s
// NEON-NOT: {{fmul|fmla|fmls|[[:space:]]mul[[:space:]]|[[:space:]]mla[[:space:]]}}
// NEON: fadd {{.*}}v{{[0-9]+}}.4s
// NEON-NOT: {{fmul|fmla|fmls|[[:space:]]mul[[:space:]]|[[:space:]]mla[[:space:]]}}
// NEON-LABEL: <__shift_matmul_{{.*}}_ieee>:
// NEON-LABEL: <__shift_conv2d_{{.*}}_xadd>:
// NEON-NOT: {{fmul|fmla|fmls|[[:space:]]mul[[:space:]]|[[:space:]]mla[[:space:]]}}
// NEON: add {{.*}}v{{[0-9]+}}.4s
// NEON-NOT: {{fmul|fmla|fmls|[[:space:]]mul[[:space:]]|[[:space:]]mla[[:space:]]}}
// NEON: fadd {{.*}}v{{[0-9]+}}.4s
// NEON-NOT: {{fmul|fmla|fmls|[[:space:]]mul[[:space:]]|[[:space:]]mla[[:space:]]}}
// NEON-LABEL: <__shift_conv2d_{{.*}}_ieee>:

// AVX2-IEEE: <__shift_conv2d_{{.*}}_ieee>:
// AVX2-IEEE: vmulps{{.*}}%ymm

func.func @forward(%x: tensor<1x4x12x12xf32>, %v: tensor<1x40xf32>) -> (tensor<1x8x12x12xf32>, tensor<1x10xf32>) {
  %wc = arith.constant dense<[[[[-0.5, 2.0, -0.25], [1.0, -0.5, 2.0], [0.5, -0.5, 0.25]], [[-0.5, -1.0, -1.0], [2.0, 2.0, 0.5], [0.25, -0.5, 0.5]], [[2.0, 2.0, 1.0], [0.5, 0.25, 0.5], [0.25, -1.0, 0.25]], [[-2.0, 0.25, 0.25], [0.5, -1.0, 2.0], [-0.25, -2.0, 1.0]]], [[[-0.25, 0.25, -0.25], [-0.5, 1.0, 0.5], [-1.0, 1.0, -2.0]], [[2.0, 0.25, 2.0], [-1.0, 1.0, 1.0], [-2.0, 0.25, 0.5]], [[-1.0, 1.0, 1.0], [0.25, -0.25, 1.0], [1.0, 0.5, 0.5]], [[1.0, 1.0, 0.25], [-0.5, 0.5, 0.5], [0.5, 0.25, -1.0]]], [[[0.5, 0.5, -1.0], [-2.0, 0.5, -0.25], [-1.0, -1.0, 0.25]], [[0.5, 1.0, 2.0], [2.0, 2.0, 0.25], [0.5, -0.25, 2.0]], [[-0.25, 1.0, 0.5], [-1.0, -0.5, -0.25], [-2.0, -0.25, 0.25]], [[-1.0, -0.25, 0.25], [-1.0, -1.0, 0.25], [0.5, -0.25, -0.5]]], [[[-1.0, -0.25, 2.0], [-1.0, -1.0, 0.25], [1.0, -0.25, -0.25]], [[-0.25, -2.0, -0.25], [1.0, -1.0, -1.0], [2.0, 1.0, 0.5]], [[2.0, -0.5, -2.0], [-0.5, -1.0, 2.0], [-2.0, -1.0, 1.0]], [[2.0, 0.25, -0.5], [0.25, 0.5, 0.5], [-1.0, 1.0, -2.0]]], [[[-2.0, -1.0, -0.25], [0.5, -2.0, -0.25], [-2.0, -0.25, 0.25]], [[-0.25, 1.0, 0.25], [-0.5, -0.25, -1.0], [-0.25, -0.5, -2.0]], [[1.0, 2.0, 2.0], [-2.0, -2.0, -2.0], [0.5, 0.5, -0.25]], [[2.0, 0.5, -1.0], [-0.5, 0.5, 2.0], [0.5, 0.25, 2.0]]], [[[0.5, -1.0, -1.0], [0.5, 2.0, -2.0], [-2.0, -2.0, -2.0]], [[-0.5, -0.5, 0.5], [-1.0, -0.5, -1.0], [-0.25, 0.5, 0.25]], [[-0.25, -1.0, 0.25], [2.0, 0.25, -1.0], [2.0, 2.0, -0.5]], [[2.0, -1.0, -1.0], [-2.0, -2.0, 0.25], [1.0, 1.0, 0.25]]], [[[0.25, 1.0, -1.0], [-0.5, -1.0, 0.25], [-0.5, 2.0, 0.5]], [[2.0, 0.5, -0.25], [-2.0, 0.25, 1.0], [0.25, -0.25, 1.0]], [[-1.0, 2.0, 0.25], [2.0, -0.5, 0.25], [-0.25, -0.5, 2.0]], [[-0.5, 0.5, -0.5], [-1.0, 1.0, -2.0], [2.0, 1.0, 1.0]]], [[[0.25, -0.25, -0.5], [0.5, 0.5, -0.5], [-2.0, -1.0, -0.5]], [[0.25, -0.25, 0.5], [-2.0, -1.0, 1.0], [0.5, -0.25, -1.0]], [[-0.25, -2.0, -2.0], [0.25, -2.0, -0.5], [-2.0, 2.0, -2.0]], [[-2.0, 0.25, 2.0], [2.0, -2.0, -1.0], [1.0, 1.0, 0.5]]]]> : tensor<8x4x3x3xf32>
  %z = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %z : f32
  } : tensor<1x4x12x12xf32> to tensor<1x4x14x14xf32>
  %e = tensor.empty() : tensor<1x8x12x12xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x8x12x12xf32>) -> tensor<1x8x12x12xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%p, %wc : tensor<1x4x14x14xf32>, tensor<8x4x3x3xf32>) outs(%i : tensor<1x8x12x12xf32>) -> tensor<1x8x12x12xf32>
  %fw = arith.constant dense<0.25> : tensor<40x10xf32>
  %fe = tensor.empty() : tensor<1x10xf32>
  %fi = linalg.fill ins(%z : f32) outs(%fe : tensor<1x10xf32>) -> tensor<1x10xf32>
  %f = linalg.matmul ins(%v, %fw : tensor<1x40xf32>, tensor<40x10xf32>) outs(%fi : tensor<1x10xf32>) -> tensor<1x10xf32>
  return %y, %f : tensor<1x8x12x12xf32>, tensor<1x10xf32>
}
