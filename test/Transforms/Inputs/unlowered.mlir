// Input of annotate-target.mlir: a math op the pipeline cannot lower (what
// an ONNX Asinh used to leave behind until denseshift-translate failed).
llvm.func @forward(%arg0: !llvm.ptr) {
  %0 = llvm.load %arg0 : !llvm.ptr -> f32
  %1 = math.asinh %0 : f32
  llvm.store %1, %arg0 : f32, !llvm.ptr
  llvm.return
}
