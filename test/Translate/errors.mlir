// Every bad input is a clear error and exit code 1, never a crash (`not`
// without --crash fails on a signal), and a failed run leaves no output.

// RUN: rm -rf %t && split-file %s %t

// RUN: not denseshift-translate %t/ok.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=NO-TARGET
// NO-TARGET: denseshift-translate: error: no target: pass --target=<x86-64-avx2, x86-64-avx512, aarch64-neon> or --triple=<triple>

// RUN: not denseshift-translate --target=riscv64-rvv %t/ok.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=PRESET
// PRESET: error: unknown target preset 'riscv64-rvv' (expected one of: x86-64-avx2, x86-64-avx512, aarch64-neon)

// RUN: not denseshift-translate --triple=foo-bar-baz %t/ok.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=TRIPLE
// RUN: not denseshift-translate --target=x86-64-avx2 --triple=sparcv99-linux %t/ok.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=TRIPLE
// TRIPLE: error: unknown target triple '{{foo-bar-baz|sparcv99-linux}}': No available targets are compatible with triple

// RUN: not denseshift-translate --target=x86-64-avx2 --cpu=cortex-a72 %t/ok.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=CPU-X86
// CPU-X86-NOT: not a recognized processor
// CPU-X86: error: unknown CPU 'cortex-a72' for target 'x86_64-unknown-linux-gnu'
// RUN: not denseshift-translate --target=aarch64-neon --cpu=haswell %t/ok.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=CPU-ARM
// CPU-ARM: error: unknown CPU 'haswell' for target 'aarch64-unknown-linux-gnu'

// RUN: not denseshift-translate --target=aarch64-neon --features=+neon,+avx2 %t/ok.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=FEATURE
// FEATURE: error: unknown feature 'avx2' for target 'aarch64-unknown-linux-gnu'
// RUN: not denseshift-translate --target=aarch64-neon --features=neon %t/ok.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=FEATURE-SIGN
// FEATURE-SIGN: error: feature 'neon' must start with '+' or '-'

// RUN: not denseshift-translate --target=x86-64-avx2 --emit=exe %t/ok.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=EMIT
// EMIT: for the --emit option: Cannot find option named 'exe'!
// RUN: not denseshift-translate --target=x86-64-avx2 -O4 %t/ok.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=OPT
// OPT: error: invalid optimization level -O4 (0-3)

// RUN: not denseshift-translate --target=x86-64-avx2 %t/does-not-exist.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=INPUT
// INPUT: error: cannot open input file '{{.*}}does-not-exist.mlir': No such file or directory

// RUN: not denseshift-translate --target=x86-64-avx2 %t/ok.mlir -o %t/no-such-dir/out.o 2>&1 | FileCheck %s --check-prefix=OUTPUT
// OUTPUT: error: cannot open output file '{{.*}}no-such-dir/out.o': No such file or directory
// RUN: not denseshift-translate --target=x86-64-avx2 %t/ok.mlir -o %t/out.o --header %t/no-such-dir/out.h 2>&1 | FileCheck %s --check-prefix=HEADER-PATH
// HEADER-PATH: error: cannot open output file '{{.*}}no-such-dir/out.h': No such file or directory

// RUN: not denseshift-translate --target=x86-64-avx2 %t/malformed.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=MALFORMED
// MALFORMED: malformed.mlir:3:14: error: expected '}' in attribute dictionary

// RUN: not denseshift-translate --target=x86-64-avx2 %t/not-lowered.mlir -o %t/out.o --header %t/out.h 2>&1 | FileCheck %s --check-prefix=NOT-LLVM
// NOT-LLVM: not-lowered.mlir:1:1: error: 'func.func' is not in the LLVM dialect; lower the module first (denseshift-opt --denseshift-pipeline=...)
// NOT-LLVM-NOT: see current operation

// RUN: not denseshift-translate --target=x86-64-avx2 %t/untranslatable.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=TRANSLATE
// TRANSLATE: untranslatable.mlir:3:8: error: LLVM Translation failed for operation: builtin.unrealized_conversion_cast
// TRANSLATE: error: failed to translate 'untranslatable.mlir' to LLVM IR

// RUN: not denseshift-translate --target=x86-64-avx2 %t/bad-prototype.mlir -o %t/out.o --header %t/out.h 2>&1 | FileCheck %s --check-prefix=PROTOTYPE
// PROTOTYPE: bad-prototype.mlir:1:1: error: 'denseshift.c_prototype' must be a string attribute

// RUN: not denseshift-translate --target=x86-64-avx2 %t/lowered-for-avx512.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=MISMATCH
// RUN: not denseshift-translate --target=aarch64-neon %t/lowered-for-avx512.mlir -o %t/out.o 2>&1 | FileCheck %s --check-prefix=MISMATCH-ARCH
// MISMATCH: error: function 'forward' was lowered for '+avx512f', which the target (x86_64-unknown-linux-gnu, cpu haswell) lacks; lower and translate for the same target
// MISMATCH-ARCH: error: function 'forward' was lowered for '+avx2', which the target (aarch64-unknown-linux-gnu, cpu neoverse-n1) lacks
// RUN: denseshift-translate --target=x86-64-avx512 %t/lowered-for-avx512.mlir -o %t/avx512.o

// None of the failures above left a file behind; the good input works.
// RUN: not ls %t/out.o
// RUN: not ls %t/out.h
// RUN: denseshift-translate --target=x86-64-avx2 %t/ok.mlir -o %t/out.o --header %t/out.h
// RUN: ls %t/out.o %t/out.h

//--- ok.mlir
llvm.func @forward(%in: !llvm.ptr, %out: !llvm.ptr) {
  llvm.return
}

//--- malformed.mlir
// A function missing its closing brace and result type.
llvm.func @forward(%in: !llvm.ptr {
  llvm.return

//--- not-lowered.mlir
func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

//--- untranslatable.mlir
// A cast left over from an incomplete conversion.
llvm.func @forward() -> i32 {
  %0 = builtin.unrealized_conversion_cast to i32
  llvm.return %0 : i32
}

//--- bad-prototype.mlir
llvm.func @forward(%in: !llvm.ptr, %out: !llvm.ptr) attributes {denseshift.c_prototype = 42 : i32} {
  llvm.return
}

//--- lowered-for-avx512.mlir
llvm.func @forward(%in: !llvm.ptr, %out: !llvm.ptr) attributes {target_cpu = "skylake-avx512", target_features = #llvm.target_features<["+avx2", "+avx512f"]>} {
  llvm.return
}
