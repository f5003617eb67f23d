// An op the pipeline has no lowering for is an error of denseshift-opt,
// located at the op, with a non-zero exit (not an LLVM-dialect module that
// denseshift-translate then rejects).
// RUN: not denseshift-opt %s --denseshift-pipeline="target=x86-64-avx2" -o /dev/null 2>&1 | FileCheck %s

// CHECK: unlowered-op.mlir:[[@LINE+6]]:10: error: 'math.asinh' was not lowered to the LLVM dialect
func.func @forward(%arg0: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %e = tensor.empty() : tensor<3x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]} ins(%arg0 : tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = math.asinh %in : f32
    linalg.yield %m : f32
  } -> tensor<3x4xf32>
  return %r : tensor<3x4xf32>
}
