// RUN: denseshift-opt %s -shift-static-buffers -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-DAG: memref.global "private" @__shift_buffer_{{[0-9]+}} : memref<4x8xf32> {alignment = 64 : i64}
// CHECK-DAG: memref.global "private" @__shift_buffer_{{[0-9]+}} : memref<16xi32>
// CHECK-LABEL: func.func @scratch
// CHECK-NOT: memref.alloc
// CHECK: %[[A:.*]] = memref.get_global @__shift_buffer_{{[0-9]+}} : memref<4x8xf32>
// CHECK: %[[B:.*]] = memref.get_global @__shift_buffer_{{[0-9]+}} : memref<16xi32>
// CHECK: memref.copy %arg0, %[[A]]
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @scratch(%arg0: memref<4x8xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<4x8xf32>
  %b = memref.alloc() : memref<16xi32>
  memref.copy %arg0, %a : memref<4x8xf32> to memref<4x8xf32>
  memref.dealloc %a : memref<4x8xf32>
  memref.dealloc %b : memref<16xi32>
  return
}

// -----

// An allocation in a loop may be live in two iterations: it stays.
// CHECK-LABEL: func.func @in_loop
// CHECK: scf.for
// CHECK: memref.alloc
// CHECK: memref.dealloc
func.func @in_loop(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %a = memref.alloc() : memref<4xf32>
    memref.dealloc %a : memref<4xf32>
  }
  return
}

// -----

func.func @dynamic(%n: index) {
  // expected-error @below {{static-buffers: allocation of 'memref<?xf32>' has no static shape and identity layout}}
  %a = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %a : memref<?xf32>
  return
}

// -----

func.func @escapes() -> memref<4xf32> {
  // expected-error @below {{static-buffers: a returned buffer cannot be a global}}
  %a = memref.alloc() : memref<4xf32>
  return %a : memref<4xf32>
}
