//===- switchyard-opt.cpp - the pass driver for lit tests -----------------===//
//
// Parses, verifies, transforms and prints Switchyard IR, like mlir-opt, with
// the mtf and moe dialects and every Switchyard pass registered.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  switchyard::registerAllDialects(registry);
  switchyard::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Switchyard optimizer driver\n", registry));
}
