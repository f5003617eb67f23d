// LLVM's SLP vectorizer is off unless asked for: the pipeline's code is
// vector code already, and SLP took a third of the optimizer's time.
// Four adjacent scalar adds show which way it ran.
// RUN: denseshift-translate --target=x86-64-avx2 --emit=llvm %s | FileCheck %s --check-prefix=OFF
// RUN: denseshift-translate --target=x86-64-avx2 --slp-vectorize --emit=llvm %s | FileCheck %s --check-prefix=ON
// OFF-LABEL: define void @add4
// OFF-COUNT-4: fadd float
// OFF-NOT: <4 x float>
// ON-LABEL: define void @add4
// ON: fadd <4 x float>
// ON-NOT: fadd float
llvm.func @add4(%a: !llvm.ptr {llvm.noalias}, %b: !llvm.ptr {llvm.noalias}, %c: !llvm.ptr {llvm.noalias}) {
  %a0 = llvm.load %a : !llvm.ptr -> f32
  %b0 = llvm.load %b : !llvm.ptr -> f32
  %s0 = llvm.fadd %a0, %b0 : f32
  llvm.store %s0, %c : f32, !llvm.ptr
  %pa1 = llvm.getelementptr %a[1] : (!llvm.ptr) -> !llvm.ptr, f32
  %pb1 = llvm.getelementptr %b[1] : (!llvm.ptr) -> !llvm.ptr, f32
  %pc1 = llvm.getelementptr %c[1] : (!llvm.ptr) -> !llvm.ptr, f32
  %a1 = llvm.load %pa1 : !llvm.ptr -> f32
  %b1 = llvm.load %pb1 : !llvm.ptr -> f32
  %s1 = llvm.fadd %a1, %b1 : f32
  llvm.store %s1, %pc1 : f32, !llvm.ptr
  %pa2 = llvm.getelementptr %a[2] : (!llvm.ptr) -> !llvm.ptr, f32
  %pb2 = llvm.getelementptr %b[2] : (!llvm.ptr) -> !llvm.ptr, f32
  %pc2 = llvm.getelementptr %c[2] : (!llvm.ptr) -> !llvm.ptr, f32
  %a2 = llvm.load %pa2 : !llvm.ptr -> f32
  %b2 = llvm.load %pb2 : !llvm.ptr -> f32
  %s2 = llvm.fadd %a2, %b2 : f32
  llvm.store %s2, %pc2 : f32, !llvm.ptr
  %pa3 = llvm.getelementptr %a[3] : (!llvm.ptr) -> !llvm.ptr, f32
  %pb3 = llvm.getelementptr %b[3] : (!llvm.ptr) -> !llvm.ptr, f32
  %pc3 = llvm.getelementptr %c[3] : (!llvm.ptr) -> !llvm.ptr, f32
  %a3 = llvm.load %pa3 : !llvm.ptr -> f32
  %b3 = llvm.load %pb3 : !llvm.ptr -> f32
  %s3 = llvm.fadd %a3, %b3 : f32
  llvm.store %s3, %pc3 : f32, !llvm.ptr
  llvm.return
}
