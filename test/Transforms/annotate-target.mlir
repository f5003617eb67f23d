// RUN: denseshift-opt %s -shift-annotate-target="target=aarch64-neon" | FileCheck %s
// RUN: not denseshift-opt %s -shift-annotate-target="target=sparc" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not denseshift-opt %S/Inputs/unlowered.mlir -shift-annotate-target 2>&1 | FileCheck %s --check-prefix=UNLOWERED

// UNLOWERED: unlowered.mlir:5:8: error: 'math.asinh' was not lowered to the LLVM dialect

// BAD: for the --target option: unknown target 'sparc' (expected x86-64-avx2, x86-64-avx512 or aarch64-neon)

// CHECK-LABEL: llvm.func @forward
// CHECK-SAME: target_cpu = "neoverse-n1"
// CHECK-SAME: target_features = #llvm.target_features<["+neon"]>
llvm.func @forward(%arg0: !llvm.ptr) {
  llvm.return
}

// Generated kernels become internal and keep their noinline marker.
// CHECK-LABEL: llvm.func internal @__shift_conv2d_0_xadd
// CHECK-SAME: no_inline
llvm.func @__shift_conv2d_0_xadd(%arg0: !llvm.ptr) attributes {shift.no_inline} {
  llvm.return
}

// Declarations are left alone.
// CHECK: llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-NOT: target_cpu
llvm.func @malloc(i64) -> !llvm.ptr
