//===- Partition.cpp - laid-out programs to per-device SPMD programs ------===//
//
// Rewrites each function in place: every named tensor becomes the block one
// device holds, each op computes on the layout its kind allows, and operands
// are resharded to that layout by collectives the reshard planner chooses.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/ReshardPlanner.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/TypeSwitch.h"

namespace switchyard {
#define GEN_PASS_DEF_PARTITION
#include "passes/Passes.h.inc"
} // namespace switchyard

using namespace mlir;
using namespace switchyard;
using namespace switchyard::mtf;
using mlir::shard::ReductionKind;

namespace {

/// The name of the `shard.grid` that mirrors the module's mesh.
constexpr StringLiteral kGridName = "mesh";

TensorLayout layoutOf(NamedTensorType type) {
  TensorLayout layout;
  for (DimAttr dim : type.getDims())
    layout.push_back(llvm::map_to_vector<2>(
        dim.getAxes(), [](StringAttr axis) { return axis.getValue(); }));
  return layout;
}

NamedTensorType withLayout(NamedTensorType type, const TensorLayout &layout) {
  MLIRContext *context = type.getContext();
  SmallVector<DimAttr> dims;
  for (auto [dim, axes] : llvm::zip(type.getDims(), layout))
    dims.push_back(dim.withAxes(llvm::map_to_vector(
        axes, [&](StringRef axis) { return StringAttr::get(context, axis); })));
  return NamedTensorType::get(context, dims, type.getElementType());
}

/// `type` split like the same-named dimensions of `source`; dimensions that
/// `source` lacks, or that `whole` names, are replicated.
NamedTensorType follow(NamedTensorType type, NamedTensorType source,
                       ArrayRef<StringRef> whole = {}) {
  SmallVector<DimAttr> dims;
  for (DimAttr dim : type.getDims()) {
    StringRef name = dim.getName().getValue();
    std::optional<unsigned> index = source.findDim(name);
    if (!index || llvm::is_contained(whole, name))
      dims.push_back(dim.withAxes({}));
    else
      dims.push_back(dim.withAxes(source.getDims()[*index].getAxes()));
  }
  return NamedTensorType::get(type.getContext(), dims, type.getElementType());
}

/// What the partitioner knows about a value of the original program.
struct Placed {
  /// The value that holds this device's block.
  Value local;
  /// The global type with the layout `local` is in.
  NamedTensorType global;
  /// Mesh axes over which `local` is still a partial result.
  SmallVector<StringRef, 2> partialAxes;
  ReductionKind reduction = ReductionKind::Sum;
};

/// How one op is computed: the layouts its operands need and the layouts
/// (and pending partial results) of what it produces.
struct OpPlan {
  SmallVector<NamedTensorType> operands;
  SmallVector<NamedTensorType> results;
  SmallVector<StringRef, 2> partialAxes;
  ReductionKind reduction = ReductionKind::Sum;
};

class Partitioner {
public:
  Partitioner(ModuleOp module, MeshAttr mesh) : module(module), mesh(mesh) {}

  LogicalResult run();

private:
  LogicalResult partition(func::FuncOp function);
  FailureOr<OpPlan> planOp(Operation *op);
  /// How an einsum or a reduction contracts `contracted` of `inputs` into
  /// `result`: of the result's own layout and the layouts that follow each
  /// input, the one that moves the fewest bytes (ties: the result's).
  OpPlan planContraction(ValueRange inputs, NamedTensorType result,
                         ArrayRef<StringAttr> contracted);
  /// The contraction computed toward `desired`: contracted dimensions keep
  /// a split of their inputs where they can, making partial sums over those
  /// axes, and the result drops the axes those sums still run over.
  OpPlan planContractionToward(ValueRange inputs, NamedTensorType desired,
                               ArrayRef<StringAttr> contracted);
  /// Bytes one device sends to reshard `global` from `from` (with partial
  /// sums over `partialAxes`) to `to`.
  int64_t reshardBytes(NamedTensorType global, NamedTensorType from,
                       ArrayRef<StringRef> partialAxes, NamedTensorType to);
  /// This device's block of `original` in layout `target`, fully reduced.
  Value reshard(Value original, NamedTensorType target, OpBuilder &builder,
                Location loc);
  NamedTensorType current(Value original) { return placed[original].global; }

  ModuleOp module;
  MeshAttr mesh;
  DenseMap<Value, Placed> placed;
  DenseMap<std::pair<Value, Type>, Value> resharded;
};

int64_t Partitioner::reshardBytes(NamedTensorType global, NamedTensorType from,
                                  ArrayRef<StringRef> partialAxes,
                                  NamedTensorType to) {
  TensorLayout layout = layoutOf(from);
  int64_t elementBytes =
      std::max<int64_t>(1, global.getElementType().getIntOrFloatBitWidth() / 8);
  // Counted from the layout: building the local type would unique new
  // attributes for every step of every strategy tried.
  auto localBytes = [&] {
    int64_t elements = 1;
    for (auto [dim, axes] : llvm::zip(global.getDims(), layout)) {
      int64_t size = dim.getSize();
      for (StringRef axis : axes)
        size /= *mesh.getAxisSize(axis);
      elements *= size;
    }
    return elements * elementBytes;
  };
  int64_t bytes = 0;
  for (const ReshardStep &step :
       planReshard(layoutOf(from), partialAxes, layoutOf(to))) {
    int64_t group = 1;
    for (StringRef axis : step.axes)
      group *= *mesh.getAxisSize(axis);
    int64_t before = localBytes();
    applyReshardStep(layout, step);
    int64_t after = localBytes();
    // Ring-algorithm volumes; a slice is local and sends nothing.
    switch (step.kind) {
    case CollectiveKind::AllReduce:
      bytes += 2 * before * (group - 1) / group;
      break;
    case CollectiveKind::ReduceScatter:
    case CollectiveKind::AllToAll:
      bytes += before * (group - 1) / group;
      break;
    case CollectiveKind::AllGather:
      bytes += after * (group - 1) / group;
      break;
    case CollectiveKind::AllSlice:
      break;
    }
  }
  return bytes;
}

OpPlan Partitioner::planContraction(ValueRange inputs, NamedTensorType result,
                                    ArrayRef<StringAttr> contracted) {
  SmallVector<NamedTensorType> candidates = {result};
  for (Value input : inputs)
    candidates.push_back(follow(result, current(input)));
  std::optional<OpPlan> best;
  int64_t bestBytes = 0;
  for (NamedTensorType desired : candidates) {
    OpPlan plan = planContractionToward(inputs, desired, contracted);
    int64_t bytes = reshardBytes(result, plan.results.front(),
                                 plan.partialAxes, result);
    for (auto [input, target] : llvm::zip(inputs, plan.operands))
      bytes += reshardBytes(target, current(input),
                            placed[input].partialAxes, target);
    if (!best || bytes < bestBytes) {
      best = std::move(plan);
      bestBytes = bytes;
    }
  }
  return *best;
}

OpPlan Partitioner::planContractionToward(ValueRange inputs,
                                          NamedTensorType result,
                                          ArrayRef<StringAttr> contracted) {
  OpPlan plan;
  llvm::StringMap<SmallVector<StringAttr>> chosen;
  llvm::SmallDenseSet<StringRef> taken;
  for (StringAttr dim : contracted) {
    for (Value input : inputs) {
      NamedTensorType type = current(input);
      if (!type.hasDim(dim.getValue()))
        continue;
      ArrayRef<StringAttr> axes = type.getDim(dim.getValue()).getAxes();
      if (llvm::none_of(axes, [&](StringAttr axis) {
            return taken.contains(axis.getValue());
          })) {
        chosen[dim.getValue()] = llvm::to_vector(axes);
        for (StringAttr axis : axes) {
          taken.insert(axis.getValue());
          if (mesh.getAxisSize(axis.getValue()) != 1)
            plan.partialAxes.push_back(axis.getValue());
        }
      }
      break;
    }
  }
  // The result cannot also be split over an axis that is still summed over.
  SmallVector<DimAttr> dims;
  for (DimAttr dim : result.getDims()) {
    bool clash = llvm::any_of(dim.getAxes(), [&](StringAttr axis) {
      return taken.contains(axis.getValue());
    });
    dims.push_back(clash ? dim.withAxes({}) : dim);
  }
  auto computed = NamedTensorType::get(result.getContext(), dims,
                                       result.getElementType());
  for (Value input : inputs) {
    NamedTensorType type = current(input);
    SmallVector<DimAttr> inputDims;
    for (DimAttr dim : type.getDims()) {
      auto it = chosen.find(dim.getName().getValue());
      if (it != chosen.end())
        inputDims.push_back(dim.withAxes(it->second));
      else if (computed.hasDim(dim.getName().getValue()))
        inputDims.push_back(
            dim.withAxes(computed.getDim(dim.getName().getValue()).getAxes()));
      else
        inputDims.push_back(dim.withAxes({}));
    }
    plan.operands.push_back(NamedTensorType::get(
        type.getContext(), inputDims, type.getElementType()));
  }
  plan.results.push_back(computed);
  return plan;
}

FailureOr<OpPlan> Partitioner::planOp(Operation *op) {
  auto resultType = [&](unsigned index = 0) {
    return cast<NamedTensorType>(op->getResult(index).getType());
  };
  // Operands are already local here: their global types come from `placed`.
  auto operandType = [&](unsigned index) {
    return current(op->getOperand(index));
  };
  // Elementwise: computed in the result's layout, operands follow it.
  auto elementwise = [&](NamedTensorType computed) {
    OpPlan plan;
    for (Value operand : op->getOperands())
      plan.operands.push_back(follow(current(operand), computed));
    plan.results.push_back(computed);
    return plan;
  };
  auto whole = [&](NamedTensorType type, ArrayRef<StringRef> dims) {
    return follow(type, type, dims);
  };

  return TypeSwitch<Operation *, FailureOr<OpPlan>>(op)
      .Case<UnaryOp, BinaryOp, CastOp, RelayoutOp>(
          [&](auto) { return elementwise(resultType()); })
      .Case<SoftmaxOp, CumsumOp>([&](auto typed) {
        return elementwise(whole(resultType(), {typed.getDim()}));
      })
      .Case([&](RmsNormOp norm) {
        NamedTensorType computed = whole(resultType(), {norm.getDim()});
        OpPlan plan = elementwise(computed);
        plan.operands[1] = whole(operandType(1), {norm.getDim()});
        return plan;
      })
      .Case([&](EinsumOp einsum) {
        return planContraction(einsum.getInputs(), resultType(),
                               einsum.getContractedDims());
      })
      .Case([&](ReduceOp reduce) {
        OpPlan plan = planContraction(reduce->getOperands(), resultType(),
                                      reduce.getReducedDims());
        switch (reduce.getKind()) {
        case ReduceKind::sum:
          plan.reduction = ReductionKind::Sum;
          break;
        case ReduceKind::mean:
          plan.reduction = ReductionKind::Average;
          break;
        case ReduceKind::max:
          plan.reduction = ReductionKind::Max;
          break;
        case ReduceKind::min:
          plan.reduction = ReductionKind::Min;
          break;
        }
        return plan;
      })
      .Case([&](GatherOp gather) {
        OpPlan plan = elementwise(resultType());
        plan.operands[0] = follow(operandType(0), resultType(), {gather.getDim()});
        return plan;
      })
      .Case([&](OneHotOp oneHot) {
        return elementwise(whole(
            resultType(), {oneHot.getDepthDim().getName().getValue()}));
      })
      .Case<IotaOp, ConstantOp>([&](auto) {
        OpPlan plan;
        plan.results.push_back(resultType().withoutLayout());
        return plan;
      })
      .Case([&](ReshapeOp reshape) {
        NamedTensorType input = operandType(0), result = resultType();
        OpPlan plan;
        // A reshape that only renames dimensions, or adds and removes ones
        // of size 1, keeps each block where it is: the other dimensions
        // pair up in order and keep their axes.
        auto nonUnit = [](NamedTensorType type) {
          SmallVector<unsigned> dims;
          for (auto [index, dim] : llvm::enumerate(type.getDims()))
            if (dim.getSize() != 1)
              dims.push_back(index);
          return dims;
        };
        SmallVector<unsigned> from = nonUnit(input), to = nonUnit(result);
        bool aligned =
            from.size() == to.size() &&
            llvm::all_of(llvm::zip(from, to), [&](auto pair) {
              return input.getDims()[std::get<0>(pair)].getSize() ==
                     result.getDims()[std::get<1>(pair)].getSize();
            });
        if (!aligned) {
          plan.operands.push_back(input.withoutLayout());
          plan.results.push_back(result.withoutLayout());
          return plan;
        }
        TensorLayout assigned = layoutOf(result);
        TensorLayout inputLayout(input.getRank()), resultLayout(result.getRank());
        for (auto [in, out] : llvm::zip(from, to)) {
          inputLayout[in] = assigned[out];
          resultLayout[out] = assigned[out];
        }
        plan.operands.push_back(withLayout(input, inputLayout));
        plan.results.push_back(withLayout(result, resultLayout));
        return plan;
      })
      .Case([&](moe::RouteOp route) {
        // Routing counts along the tokens and over a token's choices.
        SmallVector<StringRef> routed = {route.getTokensDim()};
        if (std::optional<StringRef> choices = route.getChoicesDim())
          routed.push_back(*choices);
        NamedTensorType computed = whole(resultType(), routed);
        OpPlan plan;
        plan.operands.push_back(follow(operandType(0), computed));
        for (OpResult result : route->getResults())
          plan.results.push_back(
              follow(cast<NamedTensorType>(result.getType()), computed));
        return plan;
      })
      .Case([&](moe::DispatchOp dispatch) {
        // Dispatch runs where the tokens are; the buffers then move to the
        // experts' layout (an all-to-all when the axis changes dimension).
        NamedTensorType input =
            whole(current(dispatch.getInput()), {dispatch.getTokensDim()});
        OpPlan plan = elementwise(follow(resultType(), input));
        plan.operands[0] = input;
        return plan;
      })
      .Case([&](moe::CombineOp combine) {
        NamedTensorType computed = whole(resultType(), {combine.getTokensDim()});
        OpPlan plan = elementwise(computed);
        plan.operands[0] = follow(operandType(0), computed,
                                  {combine.getExpertsDim(), combine.getCapacityDim()});
        return plan;
      })
      .Case<moe::ZLossOp, moe::LoadBalancingLossOp>([&](auto loss) {
        SmallVector<StringRef> reduced = {loss.getExpertsDim()};
        if constexpr (std::is_same_v<decltype(loss), moe::LoadBalancingLossOp>)
          reduced.push_back(loss.getTokensDim());
        // Each device averages the positions it holds; equal blocks make the
        // mean of those averages the global mean. Operands of other shapes
        // are computed whole.
        NamedTensorType first = current(loss->getOperand(0));
        bool sameShapes = llvm::all_of(loss->getOperands(), [&](Value value) {
          return current(value).withoutLayout() == first.withoutLayout();
        });
        NamedTensorType layout =
            sameShapes ? whole(first, reduced) : first.withoutLayout();
        OpPlan plan;
        for (Value operand : loss->getOperands())
          plan.operands.push_back(follow(current(operand), layout));
        plan.results.push_back(resultType());
        for (DimAttr dim : layout.getDims())
          for (StringAttr axis : dim.getAxes())
            if (mesh.getAxisSize(axis.getValue()) != 1)
              plan.partialAxes.push_back(axis.getValue());
        plan.reduction = ReductionKind::Average;
        return plan;
      })
      .Case<AsTensorOp, AsNamedOp>([&](Operation *op) -> FailureOr<OpPlan> {
        return op->emitOpError() << "belongs to an already partitioned program";
      })
      .Default([&](Operation *op) -> FailureOr<OpPlan> {
        return op->emitOpError() << "cannot be partitioned";
      });
}

Value Partitioner::reshard(Value original, NamedTensorType target,
                           OpBuilder &builder, Location loc) {
  Placed &from = placed[original];
  if (from.global == target && from.partialAxes.empty())
    return from.local;
  auto key = std::make_pair(original, Type(target));
  if (Value known = resharded.lookup(key))
    return known;

  SmallVector<ReshardStep> steps =
      planReshard(layoutOf(from.global), from.partialAxes, layoutOf(target));
  auto builtinType = [&](const TensorLayout &layout) {
    NamedTensorType local = withLayout(target, layout).getLocalType(mesh);
    return RankedTensorType::get(local.getShape(), local.getElementType());
  };
  auto gridAxes = [&](ArrayRef<StringRef> axes) {
    SmallVector<int16_t> indices;
    for (StringRef axis : axes) {
      if (mesh.getAxisSize(axis) == 1)
        continue;
      auto names = mesh.getAxisNames();
      indices.push_back(llvm::find_if(names, [&](StringAttr name) {
                          return name.getValue() == axis;
                        }) -
                        names.begin());
    }
    return indices;
  };

  TensorLayout layout = layoutOf(from.global);
  Value value;
  auto grid = FlatSymbolRefAttr::get(builder.getContext(), kGridName);
  auto reduction =
      shard::ReductionKindAttr::get(builder.getContext(), from.reduction);
  for (const ReshardStep &step : steps) {
    applyReshardStep(layout, step);
    SmallVector<int16_t> axes = gridAxes(step.axes);
    if (axes.empty())
      continue;
    if (!value)
      value = AsTensorOp::create(builder, loc,
                                 builtinType(layoutOf(from.global)), from.local);
    Type type = builtinType(layout);
    auto axesAttr = builder.getDenseI16ArrayAttr(axes);
    auto index = [&](int64_t dim) { return builder.getIndexAttr(dim); };
    switch (step.kind) {
    case CollectiveKind::AllReduce:
      value = shard::AllReduceOp::create(builder, loc, type, grid, axesAttr,
                                         value, reduction);
      break;
    case CollectiveKind::ReduceScatter:
      value = shard::ReduceScatterOp::create(builder, loc, type, grid, axesAttr,
                                             value, reduction, index(step.dim));
      break;
    case CollectiveKind::AllGather:
      value = shard::AllGatherOp::create(builder, loc, type, grid, axesAttr,
                                         value, index(step.dim));
      break;
    case CollectiveKind::AllSlice:
      value = shard::AllSliceOp::create(builder, loc, type, grid, axesAttr,
                                        value, index(step.dim));
      break;
    case CollectiveKind::AllToAll:
      value = shard::AllToAllOp::create(builder, loc, type, grid, axesAttr,
                                        value, index(step.dim),
                                        index(step.sourceDim));
      break;
    }
  }
  Value result = from.local;
  if (value)
    result = AsNamedOp::create(builder, loc, target.getLocalType(mesh), value);
  resharded[key] = result;
  return result;
}

LogicalResult Partitioner::partition(func::FuncOp function) {
  if (!function.getBody().hasOneBlock())
    return function.emitOpError() << "must have a single block to be partitioned";
  MLIRContext *context = module.getContext();
  Block &body = function.getBody().front();

  // The attributes of every argument (and result) are set at once: setting
  // them one by one rebuilds the list each time, quadratic in the weights.
  SmallVector<Type> argumentTypes;
  SmallVector<DictionaryAttr> argumentAttrs;
  for (BlockArgument argument : body.getArguments()) {
    NamedAttrList attrs(function.getArgAttrDict(argument.getArgNumber()));
    auto global = dyn_cast<NamedTensorType>(argument.getType());
    if (global) {
      argument.setType(global.getLocalType(mesh));
      attrs.set(MtfDialect::kGlobalAttrName, TypeAttr::get(global));
      placed[argument] = {argument, global, {}, ReductionKind::Sum};
    }
    argumentTypes.push_back(argument.getType());
    argumentAttrs.push_back(attrs.getDictionary(context));
  }
  function.setAllArgAttrs(argumentAttrs);

  OpBuilder builder(context);
  for (Operation &op : llvm::make_early_inc_range(body)) {
    builder.setInsertionPoint(&op);
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      SmallVector<Type> resultTypes;
      SmallVector<DictionaryAttr> resultAttrs;
      for (auto [index, operand] : llvm::enumerate(ret.getOperands())) {
        NamedAttrList attrs(function.getResultAttrDict(index));
        auto global =
            dyn_cast<NamedTensorType>(function.getResultTypes()[index]);
        if (global) {
          ret->setOperand(index, reshard(operand, global, builder, op.getLoc()));
          attrs.set(MtfDialect::kGlobalAttrName, TypeAttr::get(global));
        }
        resultTypes.push_back(ret->getOperand(index).getType());
        resultAttrs.push_back(attrs.getDictionary(context));
      }
      function.setAllResultAttrs(resultAttrs);
      function.setType(FunctionType::get(context, argumentTypes, resultTypes));
      continue;
    }
    if (op.getNumRegions() != 0)
      return op.emitOpError() << "has regions, which partitioning does not support";
    FailureOr<OpPlan> plan = planOp(&op);
    if (failed(plan))
      return failure();
    for (auto [index, target] : llvm::enumerate(plan->operands))
      op.setOperand(index,
                    reshard(op.getOperand(index), target, builder, op.getLoc()));
    for (auto [result, computed] :
         llvm::zip(op.getResults(), plan->results)) {
      result.setType(computed.getLocalType(mesh));
      placed[result] = {result, computed, plan->partialAxes, plan->reduction};
    }
  }
  return success();
}

LogicalResult Partitioner::run() {
  SymbolTable symbols(module);
  if (symbols.lookup(kGridName))
    return module.emitError() << "module already has a symbol '" << kGridName
                              << "'; is it partitioned already?";
  OpBuilder builder(module.getBodyRegion());
  // A grid needs an axis; a mesh without axes is one device.
  SmallVector<int64_t> shape(mesh.getAxisSizes());
  if (shape.empty())
    shape.push_back(1);
  auto grid = shard::GridOp::create(builder, module.getLoc(), kGridName, shape);
  symbols.insert(grid, module.getBody()->begin());
  for (auto function :
       llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
    if (function.isExternal())
      continue;
    if (failed(partition(function)))
      return failure();
  }
  return success();
}

struct PartitionPass : public switchyard::impl::PartitionBase<PartitionPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto mesh = module->getAttrOfType<MeshAttr>(MtfDialect::kMeshAttrName);
    if (!mesh) {
      module.emitError() << "partitioning needs the module's '"
                         << MtfDialect::kMeshAttrName
                         << "'; run -sy-assign-layouts first";
      return signalPassFailure();
    }
    if (failed(Partitioner(module, mesh).run()))
      signalPassFailure();
  }
};

} // namespace
