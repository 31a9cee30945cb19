//===- Compile.cpp - from a model module to an executable -----------------===//

#include "switchyard/Compiler/Compile.h"

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace switchyard;

FailureOr<func::FuncOp>
switchyard::partitionModule(ModuleOp module, const CompileOptions &options) {
  func::FuncOp function;
  for (auto candidate : module.getOps<func::FuncOp>()) {
    if (candidate.isExternal())
      continue;
    if (!options.function.empty()) {
      if (candidate.getSymName() == options.function)
        function = candidate;
      continue;
    }
    if (function)
      return module.emitError()
             << "the module defines several functions; choose one by name";
    function = candidate;
  }
  if (!function)
    return module.emitError()
           << (options.function.empty()
                   ? std::string("the module defines no function")
                   : "the module defines no function '" + options.function +
                         "'");

  bool partitioned = !module.getOps<shard::GridOp>().empty();
  if (partitioned && (!options.mesh.empty() || !options.layout.empty() ||
                      options.precision != "f32"))
    return module.emitError() << "the module is already partitioned; it "
                                 "takes no mesh, layout or precision";
  if (!partitioned) {
    // Without a mesh anywhere, the program runs on one device.
    std::string mesh = options.mesh;
    if (mesh.empty() && !module->hasAttr(mtf::MtfDialect::kMeshAttrName))
      module->setAttr(mtf::MtfDialect::kMeshAttrName,
                      mtf::MeshAttr::get(module.getContext(), {}, {}));
    PassManager pm(module.getContext());
    pm.enableVerifier(options.verify);
    if (options.precision != "f32")
      pm.addPass(createSelectivePrecision({options.precision}));
    PartitionPipelineOptions pipeline;
    pipeline.mesh = mesh;
    pipeline.layout = options.layout;
    pipeline.explain = options.explain;
    buildPartitionPipeline(pm, pipeline);
    if (failed(pm.run(module)))
      return failure();
  }
  return function;
}

FailureOr<std::string>
switchyard::compileToExecutable(ModuleOp module, const CompileOptions &options,
                                ExecutableStats *stats) {
  FailureOr<func::FuncOp> function = partitionModule(module, options);
  if (failed(function))
    return failure();
  return writeExecutable(module, *function, stats);
}
