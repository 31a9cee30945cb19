//===- AssignLayouts.cpp - layouts from mesh and layout rules -------------===//
//
// Gives every named tensor of a module its layout, as Mesh TensorFlow's
// layout rules do: a dimension named by a rule is split over the rule's
// mesh axes unless another dimension of the tensor already uses one of
// them (DESIGN.md, decision 8).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/SmallSet.h"

namespace switchyard {
#define GEN_PASS_DEF_ASSIGNLAYOUTS
#include "passes/Passes.h.inc"
} // namespace switchyard

using namespace mlir;
using namespace switchyard;
using namespace switchyard::mtf;

namespace {

struct AssignLayoutsPass
    : public switchyard::impl::AssignLayoutsBase<AssignLayoutsPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// The mesh and rules in force, from the options or the module.
  LogicalResult resolveMeshAndRules();
  /// `type` laid out by the rules; other types are returned unchanged.
  FailureOr<Type> layOut(Type type, Location loc);
  /// Lays out every type in `types`.
  FailureOr<SmallVector<Type>> layOut(TypeRange types, Location loc);

  MeshAttr meshAttr;
  LayoutAttr rules;
  DenseMap<Type, Type> laidOut;
};

LogicalResult AssignLayoutsPass::resolveMeshAndRules() {
  ModuleOp module = getOperation();
  MLIRContext *context = &getContext();
  auto emit = [&] { return module.emitError(); };
  if (!mesh.empty()) {
    FailureOr<MeshAttr> parsed = MeshAttr::parseSpec(context, mesh, emit);
    if (failed(parsed))
      return failure();
    meshAttr = *parsed;
  } else {
    meshAttr = module->getAttrOfType<MeshAttr>(MtfDialect::kMeshAttrName);
    if (!meshAttr)
      return module.emitError()
             << "no mesh: pass the 'mesh' option (e.g. mesh=\"b:4,e:2\") or "
                "give the module an '"
             << MtfDialect::kMeshAttrName << "' attribute";
  }
  if (!layout.empty()) {
    FailureOr<LayoutAttr> parsed = LayoutAttr::parseSpec(context, layout, emit);
    if (failed(parsed))
      return failure();
    rules = *parsed;
  } else {
    rules = module->getAttrOfType<LayoutAttr>(MtfDialect::kLayoutAttrName);
    if (!rules)
      rules = LayoutAttr::get(context, {}, {});
  }
  for (auto [dim, axes] : llvm::zip(rules.getDimNames(), rules.getDimAxes()))
    for (auto axis : axes.getAsRange<StringAttr>())
      if (!meshAttr.getAxisSize(axis.getValue()))
        return module.emitError()
               << "layout rule for '" << dim.getValue() << "' names mesh axis '"
               << axis.getValue() << "', which mesh \"" << meshAttr.getSpec()
               << "\" does not have";
  module->setAttr(MtfDialect::kMeshAttrName, meshAttr);
  module->setAttr(MtfDialect::kLayoutAttrName, rules);
  return success();
}

FailureOr<Type> AssignLayoutsPass::layOut(Type type, Location loc) {
  auto tensor = dyn_cast<NamedTensorType>(type);
  // An explicit layout in the input wins over the rules.
  if (!tensor || tensor.isLaidOut())
    return type;
  if (Type known = laidOut.lookup(type))
    return known;
  SmallVector<DimAttr> dims(tensor.getDims());
  llvm::SmallDenseMap<StringRef, StringRef> axisOwner;
  for (auto [dimName, axisList] :
       llvm::zip(rules.getDimNames(), rules.getDimAxes())) {
    std::optional<unsigned> index = tensor.findDim(dimName.getValue());
    if (!index)
      continue;
    SmallVector<StringAttr> axes =
        llvm::to_vector(axisList.getAsRange<StringAttr>());
    auto taken = llvm::find_if(
        axes, [&](StringAttr axis) { return axisOwner.count(axis.getValue()); });
    if (taken != axes.end()) {
      if (explain)
        emitRemark(loc) << "dimension '" << dimName.getValue()
                        << "' stays whole in " << type << ": mesh axis '"
                        << taken->getValue() << "' already splits '"
                        << axisOwner.lookup(taken->getValue()) << "'";
      continue;
    }
    int64_t parts = 1;
    for (StringAttr axis : axes)
      parts *= *meshAttr.getAxisSize(axis.getValue());
    if (dims[*index].getSize() % parts != 0)
      return emitError(loc) << "layout rule '" << dimName.getValue() << ":"
                            << [&] {
                                 std::string text;
                                 llvm::raw_string_ostream os(text);
                                 llvm::interleave(
                                     axes, os,
                                     [&](StringAttr a) { os << a.getValue(); },
                                     ",");
                                 return text;
                               }()
                            << "' splits dimension '" << dimName.getValue()
                            << "' of size " << dims[*index].getSize()
                            << " into " << parts
                            << " parts, which does not divide it";
    for (StringAttr axis : axes)
      axisOwner[axis.getValue()] = dimName.getValue();
    dims[*index] = dims[*index].withAxes(axes);
  }
  Type result = NamedTensorType::get(type.getContext(), dims,
                                     tensor.getElementType());
  laidOut[type] = result;
  return result;
}

FailureOr<SmallVector<Type>> AssignLayoutsPass::layOut(TypeRange types,
                                                       Location loc) {
  SmallVector<Type> result;
  for (Type type : types) {
    FailureOr<Type> converted = layOut(type, loc);
    if (failed(converted))
      return failure();
    result.push_back(*converted);
  }
  return result;
}

void AssignLayoutsPass::runOnOperation() {
  if (!getOperation().getOps<shard::GridOp>().empty()) {
    getOperation().emitError()
        << "the module is already partitioned (it has a 'shard.grid'); "
           "layouts apply to global programs";
    return signalPassFailure();
  }
  if (failed(resolveMeshAndRules()))
    return signalPassFailure();
  WalkResult walk = getOperation()->walk([&](Operation *op) -> WalkResult {
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument argument : block.getArguments()) {
          FailureOr<Type> type = layOut(argument.getType(), argument.getLoc());
          if (failed(type))
            return WalkResult::interrupt();
          argument.setType(*type);
        }
    for (OpResult result : op->getResults()) {
      FailureOr<Type> type = layOut(result.getType(), op->getLoc());
      if (failed(type))
        return WalkResult::interrupt();
      result.setType(*type);
    }
    if (auto function = dyn_cast<FunctionOpInterface>(op)) {
      FailureOr<SmallVector<Type>> inputs =
          layOut(function.getArgumentTypes(), op->getLoc());
      FailureOr<SmallVector<Type>> results =
          layOut(function.getResultTypes(), op->getLoc());
      if (failed(inputs) || failed(results))
        return WalkResult::interrupt();
      function.setType(
          FunctionType::get(op->getContext(), *inputs, *results));
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    signalPassFailure();
}

} // namespace
