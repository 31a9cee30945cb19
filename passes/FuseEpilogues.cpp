//===- FuseEpilogues.cpp - fold activations and residual adds -------------===//

#include "passes/Passes.h"

namespace switchyard {
#define GEN_PASS_DEF_FUSEEPILOGUES
#include "passes/Passes.h.inc"
} // namespace switchyard

using namespace mlir;
using namespace switchyard;

namespace {

/// The combine that `add` adds to a residual of the same type, if `add` is
/// its only use; the residual is the add's other operand.
std::optional<std::pair<moe::CombineOp, Value>>
residualCombine(mtf::BinaryOp add) {
  if (add.getKind() != mtf::BinaryKind::add ||
      add.getLhs().getType() != add.getResult().getType() ||
      add.getRhs().getType() != add.getResult().getType())
    return std::nullopt;
  for (auto [sum, residual] :
       {std::pair{add.getRhs(), add.getLhs()}, {add.getLhs(), add.getRhs()}}) {
    auto combine = sum.getDefiningOp<moe::CombineOp>();
    if (combine && !combine.getResidual() && combine->hasOneUse() &&
        combine->getBlock() == add->getBlock() && residual != sum)
      return std::pair{combine, residual};
  }
  return std::nullopt;
}

struct FuseEpiloguesPass
    : public switchyard::impl::FuseEpiloguesBase<FuseEpiloguesPass> {
  void runOnOperation() override {
    fuseActivations();
    fuseResidualAdds();
  }

  void fuseActivations() {
    SmallVector<mtf::UnaryOp> activations;
    getOperation().walk([&](mtf::UnaryOp unary) {
      if (!mtf::EinsumOp::isEpilogueActivation(unary.getKind()))
        return;
      auto einsum = unary.getInput().getDefiningOp<mtf::EinsumOp>();
      if (einsum && !einsum.getEpilogue() && einsum->hasOneUse())
        activations.push_back(unary);
    });
    for (mtf::UnaryOp unary : activations) {
      auto einsum = unary.getInput().getDefiningOp<mtf::EinsumOp>();
      einsum.setEpilogue(unary.getKind());
      einsum->setLoc(FusedLoc::get(&getContext(),
                                   {einsum->getLoc(), unary->getLoc()}));
      unary.replaceAllUsesWith(einsum.getResult());
      unary->erase();
    }
  }

  /// The combine moves down to the add, where the residual is defined too.
  void fuseResidualAdds() {
    SmallVector<mtf::BinaryOp> adds;
    getOperation().walk([&](mtf::BinaryOp add) {
      if (residualCombine(add))
        adds.push_back(add);
    });
    // Asked again: an earlier fusion may have replaced the residual.
    for (mtf::BinaryOp add : adds) {
      std::optional<std::pair<moe::CombineOp, Value>> fused =
          residualCombine(add);
      if (!fused)
        continue;
      auto [combine, residual] = *fused;
      combine.getResidualMutable().assign(residual);
      combine->moveBefore(add);
      combine->setLoc(
          FusedLoc::get(&getContext(), {combine->getLoc(), add->getLoc()}));
      add.replaceAllUsesWith(combine.getResult());
      add->erase();
    }
  }
};

} // namespace
