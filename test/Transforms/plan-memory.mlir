// RUN: denseshift-opt %s -shift-plan-memory -split-input-file | FileCheck %s
// RUN: not denseshift-opt %s -shift-plan-memory=max-workspace=1000 -split-input-file -o /dev/null 2>&1 | FileCheck %s --check-prefix=LIMIT

// Three buffers of 4096 bytes: %a and %b are live at the same time, %c only
// after both are freed, so it reuses %a's offset. The workspace is 8192
// bytes, not 12288, and no allocation or deallocation is left in the body.
// CHECK-LABEL: func.func private @__shift_forward_body(
// CHECK-SAME: %[[IN:[^ ]*]]: memref<1024xf32>, %[[OUT:[^ ]*]]: memref<1024xf32>, %[[WS:[^ ]*]]: memref<8192xi8>)
// CHECK-NOT: memref.alloc
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[A:.*]] = memref.view %[[WS]][%[[C0]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: %[[C4096:.*]] = arith.constant 4096 : index
// CHECK: %[[B:.*]] = memref.view %[[WS]][%[[C4096]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: memref.copy %[[IN]], %[[A]]
// CHECK: memref.copy %[[A]], %[[B]]
// CHECK: %[[C0B:.*]] = arith.constant 0 : index
// CHECK: %[[C:.*]] = memref.view %[[WS]][%[[C0B]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: memref.copy %[[B]], %[[C]]
// CHECK-NOT: memref.dealloc
// CHECK: return

// @forward allocates the workspace once per call; @forward_ws checks it.
// CHECK-LABEL: func.func @forward(%{{.*}}: memref<1024xf32>, %{{.*}}: memref<1024xf32>)
// CHECK: %[[W:.*]] = memref.alloc() {alignment = 64 : i64} : memref<8192xi8>
// CHECK: call @__shift_forward_body(%{{.*}}, %{{.*}}, %[[W]])
// CHECK: memref.dealloc %[[W]]
// CHECK-LABEL: func.func @forward_ws(
// CHECK-SAME: -> i32
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: arith.remui
// CHECK: scf.if
// CHECK: arith.constant 1 : i32
// CHECK: call @__shift_forward_body
// CHECK: arith.constant 0 : i32
// CHECK-LABEL: func.func @forward_workspace_size() -> i64
// CHECK: arith.constant 8192 : i64

// LIMIT: error: entry point 'forward' needs a workspace of 8192 bytes, more than max-workspace=1000
func.func @forward(%in: memref<1024xf32>, %out: memref<1024xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  memref.copy %in, %a : memref<1024xf32> to memref<1024xf32>
  memref.copy %a, %b : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %a : memref<1024xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  memref.copy %b, %c : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %b : memref<1024xf32>
  memref.copy %c, %out : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %c : memref<1024xf32>
  return
}

// -----

// A callee's own scratch becomes its frame, passed as a trailing argument;
// the caller places it beside the buffers live at the call. An allocation in
// a loop stays on the heap (it may be live twice at once), and a buffer
// freed through an alias of its base is planned all the same.
// CHECK-LABEL: func.func private @driver(
// CHECK-SAME: %{{.*}}: memref<16xf32>, %[[DWS:[^ ]*]]: memref<64xi8>)
// CHECK: memref.view %[[DWS]]
// CHECK: scf.for
// CHECK: memref.alloc() : memref<4xf32>
// CHECK: memref.dealloc
// CHECK: }
// CHECK-NOT: memref.dealloc
// CHECK: return
// CHECK-LABEL: func.func private @__shift_model_body(
// CHECK-SAME: %[[MWS:[^ ]*]]: memref<128xi8>)
// CHECK: %[[T:.*]] = memref.view %[[MWS]][%{{.*}}][] : memref<128xi8> to memref<16xf32>
// CHECK: %[[F:.*]] = memref.view %[[MWS]][%{{.*}}][] : memref<128xi8> to memref<64xi8>
// CHECK: call @driver(%[[T]], %[[F]])
// CHECK-LABEL: func.func @model_workspace_size() -> i64
// CHECK: arith.constant 128 : i64
func.func private @driver(%x: memref<16xf32>) {
  %s = memref.alloc() : memref<16xf32>
  memref.copy %x, %s : memref<16xf32> to memref<16xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.for %i = %c0 to %c2 step %c1 {
    %l = memref.alloc() : memref<4xf32>
    memref.dealloc %l : memref<4xf32>
  }
  memref.copy %s, %x : memref<16xf32> to memref<16xf32>
  %base, %offset, %size, %stride = memref.extract_strided_metadata %s
      : memref<16xf32> -> memref<f32>, index, index, index
  memref.dealloc %base : memref<f32>
  return
}

func.func @model(%in: memref<16xf32>, %out: memref<16xf32>) {
  %t = memref.alloc() : memref<16xf32>
  memref.copy %in, %t : memref<16xf32> to memref<16xf32>
  call @driver(%t) : (memref<16xf32>) -> ()
  memref.copy %t, %out : memref<16xf32> to memref<16xf32>
  memref.dealloc %t : memref<16xf32>
  return
}

// -----

// The deallocation pipeline frees every buffer at the end of the function;
// a buffer is live only up to its last use all the same, so %z reuses %x.
// CHECK-LABEL: func.func private @__shift_late_body(
// CHECK-SAME: %{{.*}}: memref<8192xi8>)
// CHECK: memref.view %{{.*}}[%[[X:c0[_0-9]*]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: memref.view %{{.*}}[%{{c4096[_0-9]*}}][] : memref<8192xi8> to memref<1024xf32>
// CHECK: memref.view %{{.*}}[%{{c0[_0-9]*}}][] : memref<8192xi8> to memref<1024xf32>
// CHECK-LABEL: func.func @late_workspace_size() -> i64
// CHECK: arith.constant 8192 : i64
func.func @late(%in: memref<1024xf32>, %out: memref<1024xf32>) {
  %x = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  %y = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  memref.copy %in, %x : memref<1024xf32> to memref<1024xf32>
  memref.copy %x, %y : memref<1024xf32> to memref<1024xf32>
  %z = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  memref.copy %y, %z : memref<1024xf32> to memref<1024xf32>
  memref.copy %z, %out : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %x : memref<1024xf32>
  memref.dealloc %y : memref<1024xf32>
  memref.dealloc %z : memref<1024xf32>
  return
}

// -----

// A returned buffer cannot live in the workspace: it stays an allocation.
// CHECK-LABEL: func.func private @make(
// CHECK-SAME: ) -> memref<8xf32>
// CHECK: memref.alloc() : memref<8xf32>
func.func private @make() -> memref<8xf32> {
  %r = memref.alloc() : memref<8xf32>
  return %r : memref<8xf32>
}
