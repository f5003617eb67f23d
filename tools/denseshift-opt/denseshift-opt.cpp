//===- denseshift-opt.cpp - DenseShift optimizer driver -------------------===//

#include "DenseShift/Conversion/Passes.h"
#include "DenseShift/Dialect/Shift/IR/ShiftDialect.h"
#include "DenseShift/Pipelines/Pipelines.h"
#include "DenseShift/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::registerDenseShiftConversionPasses();
  mlir::shift::registerDenseShiftTransformsPasses();
  mlir::shift::registerDenseShiftPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::shift::ShiftDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "DenseShift optimizer driver\n", registry));
}
