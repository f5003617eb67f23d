// --triple, --cpu and --features override the preset field by field, and
// the tool's choice replaces whatever target attributes the input carried.

// RUN: denseshift-translate --target=x86-64-avx2 --cpu=x86-64 --features= --emit=llvm %s | FileCheck %s --check-prefix=CPU
// RUN: denseshift-translate --target=x86-64-avx2 --cpu=x86-64 --features= --emit=asm %s -o - | FileCheck %s --check-prefix=CPU-ASM
// RUN: denseshift-translate --target=x86-64-avx512 --features=+avx2,+fma --emit=llvm %s | FileCheck %s --check-prefix=FEATURES
// RUN: denseshift-translate --target=x86-64-avx2 --cpu=x86-64-v4 --emit=asm %s -o - | FileCheck %s --check-prefix=V4-ASM
// RUN: denseshift-translate --triple=aarch64-unknown-linux-gnu --emit=llvm %s | FileCheck %s --check-prefix=TRIPLE
// RUN: denseshift-translate --target=x86-64-avx2 --triple=aarch64-unknown-linux-gnu --cpu=cortex-a72 --features=+neon --emit=llvm %s | FileCheck %s --check-prefix=MIXED
// The preset's x86 features do not carry over silently to another triple:
// RUN: not denseshift-translate --target=x86-64-avx2 --triple=aarch64-unknown-linux-gnu --cpu=cortex-a72 --emit=llvm %s 2>&1 | FileCheck %s --check-prefix=MIXED-FEATURES
// MIXED-FEATURES: error: unknown feature 'avx' for target 'aarch64-unknown-linux-gnu'
// RUN: denseshift-translate --target=x86-64-avx2 -O0 --emit=llvm %s | FileCheck %s --check-prefix=O0

// CPU: define void @forward
// CPU-NOT: "target-cpu"="znver4"
// CPU: "target-cpu"="x86-64"
// CPU-NOT: "target-features"
// CPU-ASM-NOT: ymm
// CPU-ASM: mulps {{.*}}%xmm

// FEATURES: "target-cpu"="skylake-avx512" "target-features"="+avx2,+fma"

// x86-64-v4 has AVX-512 but keeps the 256-bit preference.
// V4-ASM: vmulps {{.*}}%ymm

// TRIPLE: target triple = "aarch64-unknown-linux-gnu"
// TRIPLE: "target-cpu"="generic"
// TRIPLE-NOT: "target-features"

// MIXED: target triple = "aarch64-unknown-linux-gnu"
// MIXED: "target-cpu"="cortex-a72"

// O0: define void @forward
// O0-NOT: <{{[0-9]+}} x float>
// O0: ret void

llvm.func @forward(%in: !llvm.ptr {llvm.noalias, llvm.readonly}, %out: !llvm.ptr {llvm.noalias}) attributes {target_cpu = "znver4"} {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  %c1 = llvm.mlir.constant(1 : i64) : i64
  %n = llvm.mlir.constant(1024 : i64) : i64
  %three = llvm.mlir.constant(3.0 : f32) : f32
  llvm.br ^loop(%c0 : i64)
^loop(%i: i64):
  %more = llvm.icmp "slt" %i, %n : i64
  llvm.cond_br %more, ^body, ^exit
^body:
  %src = llvm.getelementptr %in[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  %x = llvm.load %src : !llvm.ptr -> f32
  %y = llvm.fmul %x, %three : f32
  %dst = llvm.getelementptr %out[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %y, %dst : f32, !llvm.ptr
  %next = llvm.add %i, %c1 : i64
  llvm.br ^loop(%next : i64)
^exit:
  llvm.return
}
