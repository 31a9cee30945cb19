//===- Pipelines.cpp - pass pipelines -------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void switchyard::buildPartitionPipeline(OpPassManager &pm,
                                        const PartitionPipelineOptions &options) {
  pm.addPass(
      createAssignLayouts({options.mesh, options.layout, options.explain}));
  pm.addPass(createPartition());
  pm.addPass(createCleanupCollectives());
  pm.addPass(createFuseEpilogues());
}

void switchyard::registerPartitionPipeline() {
  PassPipelineRegistration<PartitionPipelineOptions>(
      "switchyard-partition",
      "Assign layouts from mesh and layout rules, partition into the SPMD "
      "program each device runs, clean up its collectives, fold "
      "activations into einsums and residual adds into combines",
      buildPartitionPipeline);
}
