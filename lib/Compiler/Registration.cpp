//===- Registration.cpp - dialects and passes of the compiler -------------===//

#include "switchyard/Compiler/Registration.h"

#include "dialects/moe/MoeOps.h"
#include "dialects/mtf/MtfOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

void switchyard::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<mtf::MtfDialect, moe::MoeDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::shard::ShardDialect,
                  mlir::tensor::TensorDialect>();
}

void switchyard::registerAllPasses() {
  registerSwitchyardPasses();
  registerPartitionPipeline();
}
