//===- SelectivePrecision.cpp - bf16 everywhere but the router ------------===//
//
// The Switch Transformer trains in bfloat16 except for the router, whose
// softmax and argmax stay in float32 ("selective precision", Fedus et al.
// 2021, section 2.4). This pass retypes a global (not yet laid out) program
// that way and inserts the casts where the two precisions meet.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

namespace switchyard {
#define GEN_PASS_DEF_SELECTIVEPRECISION
#include "passes/Passes.h.inc"
} // namespace switchyard

using namespace mlir;
using namespace switchyard;
using namespace switchyard::mtf;

namespace {

bool isF32Tensor(Type type) {
  auto tensor = dyn_cast<NamedTensorType>(type);
  return tensor && tensor.getElementType().isF32();
}

/// The router ops that the pass keeps in float32 whatever their uses.
bool isRouterOp(Operation *op) {
  return isa<moe::RouteOp, moe::ZLossOp, moe::LoadBalancingLossOp>(op);
}

/// Whether every user of `users` stays in float32 (or returns the value, as
/// the router logits are returned) and at least one is an op that stays.
template <typename Users>
bool onlyRouterUses(Users users, const llvm::DenseSet<Operation *> &kept) {
  bool any = false;
  for (Operation *user : users) {
    if (kept.contains(user))
      any = true;
    else if (!user->hasTrait<mlir::OpTrait::IsTerminator>())
      return false;
  }
  return any;
}

/// Ops that stay in float32: the router ops and every op whose results
/// only they use. One walk backwards over the block suffices since users
/// follow their definitions.
llvm::DenseSet<Operation *> routerOps(Block &body) {
  llvm::DenseSet<Operation *> kept;
  for (Operation &op : llvm::reverse(body))
    if (isRouterOp(&op) || onlyRouterUses(op.getUsers(), kept))
      kept.insert(&op);
  return kept;
}

/// `value` converted to `semantics`, finite values beyond its range
/// saturating to its largest finite value.
APFloat roundSaturating(APFloat value, const llvm::fltSemantics &semantics) {
  const bool finite = value.isFinite();
  bool losesInfo = false;
  value.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
  if (finite && value.isInfinity())
    return APFloat::getLargest(semantics, value.isNegative());
  return value;
}

struct SelectivePrecisionPass
    : public switchyard::impl::SelectivePrecisionBase<SelectivePrecisionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder builder(module.getContext());
    Type compute;
    if (precision == "bf16")
      compute = builder.getBF16Type();
    else if (precision == "f16")
      compute = builder.getF16Type();
    else if (precision != "f32") {
      module.emitError() << "unknown precision '" << precision
                         << "'; expected bf16, f16 or f32";
      return signalPassFailure();
    }
    if (!compute)
      return;
    if (!module.getOps<shard::GridOp>().empty()) {
      module.emitError() << "selective precision applies to a global "
                            "program; this module is already partitioned";
      return signalPassFailure();
    }
    for (auto function : module.getOps<func::FuncOp>())
      if (!function.isExternal() && failed(lower(function, compute)))
        return signalPassFailure();
  }

  LogicalResult lower(func::FuncOp function, Type compute);
};

LogicalResult SelectivePrecisionPass::lower(func::FuncOp function,
                                            Type compute) {
  if (!function.getBody().hasOneBlock())
    return function.emitError()
           << "selective precision expects a function of one block";
  Block &body = function.front();
  const llvm::DenseSet<Operation *> kept = routerOps(body);
  auto narrow = [&](Type type) {
    return cast<NamedTensorType>(type).withElementType(compute);
  };
  const auto &semantics = cast<FloatType>(compute).getFloatSemantics();

  // Values that had a float32 type before the pass changed it.
  llvm::DenseSet<Value> narrowed;
  OpBuilder builder(function.getContext());

  // Weights change type; the runtime converts them at load. Other inputs
  // are cast once at the entry.
  SmallVector<Type> argumentTypes;
  for (BlockArgument argument : body.getArguments()) {
    if (!isF32Tensor(argument.getType()) ||
        onlyRouterUses(argument.getUsers(), kept)) {
      argumentTypes.push_back(argument.getType());
      continue;
    }
    if (function.getArgAttr(argument.getArgNumber(),
                            MtfDialect::kParamAttrName)) {
      argument.setType(narrow(argument.getType()));
      narrowed.insert(argument);
    } else {
      builder.setInsertionPointToStart(&body);
      auto entry = CastOp::create(builder, argument.getLoc(),
                                  narrow(argument.getType()), argument);
      argument.replaceUsesWithIf(entry, [&](OpOperand &use) {
        return use.getOwner() != entry && !kept.contains(use.getOwner());
      });
    }
    argumentTypes.push_back(argument.getType());
  }

  // Everything outside the router computes in `compute`.
  for (Operation &op : body) {
    if (kept.contains(&op))
      continue;
    if (auto constant = dyn_cast<ConstantOp>(op)) {
      auto value = dyn_cast<DenseFPElementsAttr>(constant.getValue());
      if (!value || !value.getElementType().isF32())
        continue;
      constant.setValueAttr(value.mapValues(compute, [&](const APFloat &v) {
        return roundSaturating(v, semantics).bitcastToAPInt();
      }));
    }
    for (OpResult result : op.getResults())
      if (isF32Tensor(result.getType())) {
        result.setType(narrow(result.getType()));
        narrowed.insert(result);
      }
  }

  // Casts where the two precisions meet, one per value and type.
  llvm::DenseMap<std::pair<Value, Type>, Value> casts;
  auto castTo = [&](Value value, Type type) -> Value {
    Value &cached = casts[{value, type}];
    if (!cached) {
      builder.setInsertionPointAfterValue(value);
      cached = CastOp::create(builder, value.getLoc(), type, value);
    }
    return cached;
  };
  auto returnOp = cast<func::ReturnOp>(body.getTerminator());
  for (Operation &op : llvm::make_early_inc_range(body)) {
    // A cast converts whatever it is given.
    if (isa<CastOp>(op))
      continue;
    for (OpOperand &operand : op.getOpOperands()) {
      Value value = operand.get();
      Type want;
      if (&op == returnOp.getOperation())
        want = function.getResultTypes()[operand.getOperandNumber()];
      else if (kept.contains(&op) && narrowed.contains(value))
        want = cast<NamedTensorType>(value.getType())
                   .withElementType(builder.getF32Type());
      else if (!kept.contains(&op) && isF32Tensor(value.getType()))
        want = narrow(value.getType());
      if (want && want != value.getType())
        operand.set(castTo(value, want));
    }
  }

  // A cast the retyping made an identity (the model's own casts between
  // float32 and `compute`) goes.
  for (auto castOp : llvm::make_early_inc_range(body.getOps<CastOp>()))
    if (castOp.getInput().getType() == castOp.getResult().getType()) {
      castOp.getResult().replaceAllUsesWith(castOp.getInput());
      castOp.erase();
    }

  function.setFunctionType(builder.getFunctionType(
      argumentTypes, function.getFunctionType().getResults()));
  return success();
}

} // namespace
