// One LLVM-dialect kernel through each target preset: the module gets the
// preset's triple, data layout, CPU and features, O3 vectorizes at the
// preset's width, and the object is PIC (the external global goes through
// the GOT, as a shared library needs).

// The presets are the compiler's one target table, the same the passes read
// (shift-annotate-target, the kernel generator); --print-targets shows it.
// RUN: denseshift-translate --print-targets | FileCheck %s --check-prefix=TABLE
// TABLE: x86-64-avx2 x86_64-unknown-linux-gnu haswell +avx,+avx2,+fma,+sse4.2,+popcnt 8 avx2 fma
// TABLE-NEXT: x86-64-avx512 x86_64-unknown-linux-gnu skylake-avx512 +avx,+avx2,+fma,+avx512f,+avx512bw,+avx512vl,+avx512dq,-prefer-256-bit 16 avx512f avx512bw avx512vl avx512dq
// TABLE-NEXT: aarch64-neon aarch64-unknown-linux-gnu neoverse-n1 +neon 4

// RUN: denseshift-translate --target=x86-64-avx2 --emit=llvm %s | FileCheck %s --check-prefixes=IR,AVX2-IR
// RUN: denseshift-translate --target=x86-64-avx2 %s -o %t.avx2.o
// RUN: llvm-readelf -h -r %t.avx2.o | FileCheck %s --check-prefixes=X86-ELF
// RUN: llvm-objdump -d %t.avx2.o | FileCheck %s --check-prefix=AVX2-ASM

// RUN: denseshift-translate --target=x86-64-avx512 --emit=llvm %s | FileCheck %s --check-prefixes=IR,AVX512-IR
// RUN: denseshift-translate --target=x86-64-avx512 %s -o %t.avx512.o
// RUN: llvm-readelf -h -r %t.avx512.o | FileCheck %s --check-prefixes=X86-ELF
// RUN: llvm-objdump -d %t.avx512.o | FileCheck %s --check-prefix=AVX512-ASM

// RUN: denseshift-translate --target=aarch64-neon --emit=llvm %s | FileCheck %s --check-prefixes=IR,NEON-IR
// RUN: denseshift-translate --target=aarch64-neon %s -o %t.neon.o
// RUN: llvm-readelf -h -r %t.neon.o | FileCheck %s --check-prefix=NEON-ELF
// RUN: llvm-objdump -d %t.neon.o | FileCheck %s --check-prefix=NEON-ASM
// RUN: denseshift-translate --target=aarch64-neon --emit=asm %s -o - | FileCheck %s --check-prefix=NEON-S

// AVX2-IR: target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
// AVX2-IR: target triple = "x86_64-unknown-linux-gnu"
// AVX512-IR: target triple = "x86_64-unknown-linux-gnu"
// NEON-IR: target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i8:8:32-i16:16:32-i64:64-i128:128-n32:64-S128-Fn32"
// NEON-IR: target triple = "aarch64-unknown-linux-gnu"
// IR-LABEL: define void @forward(
// AVX2-IR: fmul <8 x float>
// AVX512-IR: fmul <16 x float>
// NEON-IR: fmul <4 x float>
// AVX2-IR: attributes #{{[0-9]+}} = { {{.*}}"target-cpu"="haswell" "target-features"="+avx,+avx2,+fma,+sse4.2,+popcnt"
// AVX512-IR: attributes #{{[0-9]+}} = { {{.*}}"target-cpu"="skylake-avx512" "target-features"="+avx,+avx2,+fma,+avx512f,+avx512bw,+avx512vl,+avx512dq,-prefer-256-bit"
// NEON-IR: attributes #{{[0-9]+}} = { {{.*}}"target-cpu"="neoverse-n1" "target-features"="+neon"
// IR: !{i32 8, !"PIC Level", i32 2}

// X86-ELF: Class: ELF64
// X86-ELF: Type: REL (Relocatable file)
// X86-ELF: Machine: Advanced Micro Devices X86-64
// X86-ELF: R_X86_64_REX_GOTPCRELX {{.*}} gain

// NEON-ELF: Class: ELF64
// NEON-ELF: Type: REL (Relocatable file)
// NEON-ELF: Machine: AArch64
// NEON-ELF: R_AARCH64_ADR_GOT_PAGE {{.*}} gain

// AVX2-ASM-LABEL: <forward>:
// AVX2-ASM: vmulps {{.*}}%ymm
// AVX512-ASM-LABEL: <forward>:
// AVX512-ASM: vmulps {{.*}}%zmm
// NEON-ASM-LABEL: <forward>:
// NEON-ASM: fmul v{{[0-9]+}}.4s
// NEON-S: .globl forward
// NEON-S: fmul v{{[0-9]+}}.4s

// out[i] = in[i] * gain over 1024 floats.
llvm.mlir.global external @gain() {addr_space = 0 : i32} : f32

llvm.func @forward(%in: !llvm.ptr {llvm.noalias, llvm.readonly}, %out: !llvm.ptr {llvm.noalias}) {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  %c1 = llvm.mlir.constant(1 : i64) : i64
  %n = llvm.mlir.constant(1024 : i64) : i64
  %gain_addr = llvm.mlir.addressof @gain : !llvm.ptr
  %gain = llvm.load %gain_addr : !llvm.ptr -> f32
  llvm.br ^loop(%c0 : i64)
^loop(%i: i64):
  %more = llvm.icmp "slt" %i, %n : i64
  llvm.cond_br %more, ^body, ^exit
^body:
  %src = llvm.getelementptr %in[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  %x = llvm.load %src : !llvm.ptr -> f32
  %y = llvm.fmul %x, %gain : f32
  %dst = llvm.getelementptr %out[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %y, %dst : f32, !llvm.ptr
  %next = llvm.add %i, %c1 : i64
  llvm.br ^loop(%next : i64)
^exit:
  llvm.return
}
