// RUN: denseshift-opt %s --pass-pipeline="builtin.module(func.func(shift-vectorize-linalg),canonicalize,cse)" | FileCheck %s
// RUN: denseshift-opt %s --pass-pipeline="builtin.module(func.func(shift-vectorize-linalg{target=x86-64-avx512}))" | FileCheck %s --check-prefix=AVX512
// RUN: not denseshift-opt %s --pass-pipeline="builtin.module(func.func(shift-vectorize-linalg{target=riscv}))" 2>&1 | FileCheck %s --check-prefix=BAD

// AVX-512 tiles are four zmm registers.
// AVX512-LABEL: func.func @relu(
// AVX512: vector<64xf32>
// BAD: for the --target option: unknown target 'riscv' (expected x86-64-avx2, x86-64-avx512 or aarch64-neon)

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#c4 = affine_map<(d0, d1, d2, d3) -> (d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// An elementwise op over identity maps is one flat row: four AVX2 vectors
// per tile and one static remainder tile (392 = 12 * 32 + 8), no masks.
// CHECK-LABEL: func.func @relu(
// CHECK: memref.collapse_shape %{{.*}} {{\[}}[0, 1, 2, 3]] : memref<1x8x7x7xf32> into memref<392xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c384 step %c32
// CHECK:   vector.load {{.*}} vector<32xf32>
// CHECK:   arith.maximumf {{.*}} : vector<32xf32>
// CHECK:   vector.store {{.*}} vector<32xf32>
// CHECK: memref.subview %{{.*}}[384] [8] [1]
// CHECK: arith.maximumf {{.*}} : vector<8xf32>
// CHECK-NOT: linalg.
func.func @relu(%x: memref<1x8x7x7xf32>, %y: memref<1x8x7x7xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x8x7x7xf32>) outs(%y : memref<1x8x7x7xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %z : f32
    linalg.yield %r : f32
  }
  return
}

// A per-channel bias: H and W collapse, N and C stay loops; the bias is
// read once per row and broadcast.
// CHECK-LABEL: func.func @bias(
// CHECK: memref.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : memref<2x3x5x9xf32> into memref<2x3x45xf32>
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     vector.load {{.*}} : memref<f32, {{.*}}>, vector<f32>
// CHECK:     arith.addf {{.*}} : vector<32xf32>
// CHECK:     arith.addf {{.*}} : vector<13xf32>
// CHECK-NOT: linalg.
func.func @bias(%x: memref<2x3x5x9xf32>, %b: memref<3xf32>, %y: memref<2x3x5x9xf32>) {
  linalg.generic {indexing_maps = [#id4, #c4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %b : memref<2x3x5x9xf32>, memref<3xf32>) outs(%y : memref<2x3x5x9xf32>) {
  ^bb0(%in: f32, %bb: f32, %out: f32):
    %r = arith.addf %in, %bb : f32
    linalg.yield %r : f32
  }
  return
}

// A reduction along the rows (softmax's max): each tile is reduced into the
// row's accumulator.
// CHECK-LABEL: func.func @row_max(
// CHECK: scf.for
// CHECK:   scf.for %{{.*}} = %c0 to %c992 step %c32
// CHECK:     vector.reduction <maximumf>, %{{.*}}, %{{.*}} : vector<32xf32> into f32
// CHECK:   vector.reduction <maximumf>, %{{.*}}, %{{.*}} : vector<8xf32> into f32
// CHECK-NOT: linalg.
func.func @row_max(%x: memref<4x1000xf32>, %y: memref<4xf32>) {
  linalg.generic {indexing_maps = [#id2, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x1000xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %out : f32
    linalg.yield %r : f32
  }
  return
}

// A transpose writes rows of the output; the strided column read stays a
// transfer_read (unrolled later by convert-vector-to-scf).
// CHECK-LABEL: func.func @transpose(
// CHECK: scf.for
// CHECK:   vector.transfer_read {{.*}} : memref<6x1xf32, {{.*}}>, vector<6xf32>
// CHECK:   vector.store {{.*}} vector<6xf32>
// CHECK-NOT: linalg.
func.func @transpose(%x: memref<6x10xf32>, %y: memref<10x6xf32>) {
  linalg.transpose ins(%x : memref<6x10xf32>) outs(%y : memref<10x6xf32>) permutation = [1, 0]
  return
}

// A copy into the interior of a padded buffer (strided): no collapse, rows
// of 40 = 32 + 8.
// CHECK-LABEL: func.func @copy_into_pad(
// CHECK-NOT: memref.collapse_shape
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     vector.load {{.*}} vector<32xf32>
// CHECK:     vector.store {{.*}} vector<32xf32>
// CHECK:     vector.load {{.*}} vector<8xf32>
// CHECK-NOT: linalg.
func.func @copy_into_pad(%x: memref<1x2x5x40xf32>, %p: memref<1x2x7x42xf32>) {
  %s = memref.subview %p[0, 0, 1, 1] [1, 2, 5, 40] [1, 1, 1, 1] : memref<1x2x7x42xf32> to memref<1x2x5x40xf32, strided<[588, 294, 42, 1], offset: 43>>
  linalg.copy ins(%x : memref<1x2x5x40xf32>) outs(%s : memref<1x2x5x40xf32, strided<[588, 294, 42, 1], offset: 43>>)
  return
}

// An activation x activation matmul: vectors along N, one k per tile, so
// the reduction over k folds into an elementwise add (mulf then addf, as
// the scalar loops round).
// CHECK-LABEL: func.func @attention(
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:       vector.broadcast {{.*}} : f32 to vector<12x1xf32>
// CHECK:       arith.mulf {{.*}} : vector<12x1xf32>
// CHECK:       arith.addf {{.*}} : vector<12xf32>
// CHECK-NOT: vector.extract
// CHECK-NOT: linalg.
func.func @attention(%q: memref<2x5x16xf32>, %k: memref<2x16x12xf32>, %s: memref<2x5x12xf32>) {
  linalg.batch_matmul ins(%q, %k : memref<2x5x16xf32>, memref<2x16x12xf32>) outs(%s : memref<2x5x12xf32>)
  return
}

// Stride-2 max pooling with an output row narrower than a vector: each tap
// loads exactly the 7 columns it needs and keeps every second one.
// CHECK-LABEL: func.func @max_pool_s2(
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     vector.load %arg1{{.*}} vector<4xf32>
// CHECK-COUNT-9: vector.shuffle %{{.*}}, %{{.*}} [0, 2, 4, 6] : vector<7xf32>, vector<7xf32>
// CHECK:     vector.store %{{.*}}, %arg1{{.*}} vector<4xf32>
// CHECK-NOT: linalg.
func.func @max_pool_s2(%x: memref<1x2x9x9xf32>, %y: memref<1x2x4x4xf32>) {
  %w = memref.alloc() : memref<3x3xf32>
  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%x, %w : memref<1x2x9x9xf32>, memref<3x3xf32>) outs(%y : memref<1x2x4x4xf32>)
  memref.dealloc %w : memref<3x3xf32>
  return
}

// Stride-1 sum pooling: a vector load per tap, a loop over full vectors of
// the output row and a static tail (19 = 2 * 8 + 3).
// CHECK-LABEL: func.func @sum_pool_s1(
// CHECK: scf.for
// CHECK:   scf.for %{{.*}} = %c0 to %c16 step %c8
// CHECK-COUNT-4: arith.addf {{.*}} : vector<8xf32>
// CHECK:   }
// CHECK-COUNT-4: arith.addf {{.*}} : vector<3xf32>
// CHECK-NOT: linalg.
func.func @sum_pool_s1(%x: memref<1x1x4x20xf32>, %y: memref<1x1x3x19xf32>) {
  %w = memref.alloc() : memref<2x2xf32>
  linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<1x1x4x20xf32>, memref<2x2xf32>) outs(%y : memref<1x1x3x19xf32>)
  memref.dealloc %w : memref<2x2xf32>
  return
}

// Global pooling: each channel's 7x7 map is one contiguous row of 49.
// CHECK-LABEL: func.func @global_pool(
// CHECK: memref.collapse_shape %{{.*}} {{\[}}[0, 1], [2, 3]] : memref<1x16x7x7xf32> into memref<16x49xf32>
// CHECK: scf.for
// CHECK:   vector.reduction <add>, %{{.*}}, %{{.*}} : vector<32xf32> into f32
// CHECK:   vector.reduction <add>, %{{.*}}, %{{.*}} : vector<17xf32> into f32
// CHECK-NOT: linalg.
func.func @global_pool(%x: memref<1x16x7x7xf32>, %y: memref<1x16x1x1xf32>) {
  %w = memref.alloc() : memref<7x7xf32>
  linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<1x16x7x7xf32>, memref<7x7xf32>) outs(%y : memref<1x16x1x1xf32>)
  memref.dealloc %w : memref<7x7xf32>
  return
}

// Dynamic shapes are left for the scalar loops (and the report).
// CHECK-LABEL: func.func @dynamic(
// CHECK: linalg.copy
func.func @dynamic(%x: memref<?xf32>, %y: memref<?xf32>) {
  linalg.copy ins(%x : memref<?xf32>) outs(%y : memref<?xf32>)
  return
}


// A window of more than 25 taps loops over its rows (taps of one row
// unrolled), so that code size does not grow with the window.
// CHECK-LABEL: func.func @big_window(
// CHECK: scf.for
// CHECK:   scf.for %{{.*}} = %c0 to %c11 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (vector<6xf32>)
// CHECK-COUNT-11: arith.maximumf {{.*}} : vector<6xf32>
// CHECK:       scf.yield
func.func @big_window(%x: memref<1x1x16x16xf32>, %y: memref<1x1x6x6xf32>) {
  %w = memref.alloc() : memref<11x11xf32>
  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<1x1x16x16xf32>, memref<11x11xf32>) outs(%y : memref<1x1x6x6xf32>)
  memref.dealloc %w : memref<11x11xf32>
  return
}

// A column stride above 4 would make every tap a gather: left for the
// scalar loops.
// CHECK-LABEL: func.func @wide_stride(
// CHECK: linalg.pooling_nchw_max
func.func @wide_stride(%x: memref<1x1x20x20xf32>, %y: memref<1x1x2x2xf32>) {
  %w = memref.alloc() : memref<10x10xf32>
  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<10> : tensor<2xi64>}
      ins(%x, %w : memref<1x1x20x20xf32>, memref<10x10xf32>) outs(%y : memref<1x1x2x2xf32>)
  memref.dealloc %w : memref<10x10xf32>
  return
}

// linalg.index counts from the tile's origin, so each tile offsets it by
// its induction variable (the collapsed index is then split back into
// (i, j) by division and remainder).
// CHECK-LABEL: func.func @iota(
// CHECK: scf.for %[[I:.*]] = %c0 to %c96 step %c32
// CHECK:   %[[STEP:.*]] = vector.step : vector<32xindex>
// CHECK:   %[[BASE:.*]] = vector.broadcast %[[I]] : index to vector<32xindex>
// CHECK:   %[[LIN:.*]] = arith.addi %[[BASE]], %[[STEP]] : vector<32xindex>
// CHECK:   arith.remsi %[[LIN]]
// CHECK:   arith.divsi %[[LIN]]
// CHECK: vector.step : vector<24xindex>
// CHECK: arith.addi %{{.*}}, %{{.*}} : vector<24xindex>
#iota = affine_map<(d0, d1) -> (d0, d1)>
func.func @iota(%y: memref<3x40xf32>) {
  linalg.generic {indexing_maps = [#iota], iterator_types = ["parallel", "parallel"]} outs(%y : memref<3x40xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %k = arith.muli %i, %j : index
    %c = arith.index_cast %k : index to i32
    %f = arith.sitofp %c : i32 to f32
    linalg.yield %f : f32
  }
  return
}
