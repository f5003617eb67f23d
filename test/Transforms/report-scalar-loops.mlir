// RUN: denseshift-opt %s -shift-report-scalar-loops -verify-diagnostics
// RUN: not denseshift-opt %s -shift-report-scalar-loops=as-error 2>&1 | FileCheck %s --check-prefix=ERR

// Every linalg op still present is named, with its function and iteration
// space; vector code and kernels calls are not.
func.func @model(%x: memref<?xf32>, %y: memref<?xf32>, %v: memref<8xf32>) {
  // expected-remark @below {{'linalg.copy' in @model is lowered to scalar loops (iteration space ?)}}
  linalg.copy ins(%x : memref<?xf32>) outs(%y : memref<?xf32>)
  %c0 = arith.constant 0 : index
  %z = arith.constant dense<0.0> : vector<8xf32>
  vector.store %z, %v[%c0] : memref<8xf32>, vector<8xf32>
  return
}

func.func @conv3d(%x: memref<1x2x4x4x4xf32>, %w: memref<3x2x3x3x3xf32>, %y: memref<1x3x2x2x2xf32>) {
  // expected-remark @below {{'linalg.conv_3d_ncdhw_fcdhw' in @conv3d is lowered to scalar loops (iteration space 1x3x2x2x2x2x3x3x3)}}
  linalg.conv_3d_ncdhw_fcdhw ins(%x, %w : memref<1x2x4x4x4xf32>, memref<3x2x3x3x3xf32>) outs(%y : memref<1x3x2x2x2xf32>)
  return
}
// ERR: error: 'linalg.copy' in @model is lowered to scalar loops
// ERR: error: 'linalg.conv_3d_ncdhw_fcdhw' in @conv3d is lowered to scalar loops
