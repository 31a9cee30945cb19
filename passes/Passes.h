//===- Passes.h - Switchyard passes and pipelines ---------------*- C++ -*-===//

#ifndef SWITCHYARD_PASSES_PASSES_H
#define SWITCHYARD_PASSES_PASSES_H

#include "dialects/moe/MoeOps.h"
#include "dialects/mtf/MtfOps.h"

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace switchyard {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Options of the `switchyard-partition` pipeline.
struct PartitionPipelineOptions
    : public mlir::PassPipelineOptions<PartitionPipelineOptions> {
  Option<std::string> mesh{*this, "mesh",
                           llvm::cl::desc("Device mesh, e.g. \"b:4,e:2\"")};
  Option<std::string> layout{
      *this, "layout", llvm::cl::desc("Layout rules, e.g. \"batch:b;experts:e\"")};
  Option<bool> explain{
      *this, "explain",
      llvm::cl::desc("Remark on every dimension a conflicting rule leaves whole"),
      llvm::cl::init(false)};
};

/// Layout assignment, partitioning, collective clean-up and epilogue
/// fusion.
void buildPartitionPipeline(mlir::OpPassManager &pm,
                            const PartitionPipelineOptions &options);

/// Registers `switchyard-partition` with the global pipeline registry.
void registerPartitionPipeline();

} // namespace switchyard

#endif // SWITCHYARD_PASSES_PASSES_H
