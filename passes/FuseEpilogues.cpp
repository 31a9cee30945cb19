//===- FuseEpilogues.cpp - fold activations into einsums ------------------===//

#include "passes/Passes.h"

namespace switchyard {
#define GEN_PASS_DEF_FUSEEPILOGUES
#include "passes/Passes.h.inc"
} // namespace switchyard

using namespace mlir;
using namespace switchyard;

namespace {

struct FuseEpiloguesPass
    : public switchyard::impl::FuseEpiloguesBase<FuseEpiloguesPass> {
  void runOnOperation() override {
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
};

} // namespace
