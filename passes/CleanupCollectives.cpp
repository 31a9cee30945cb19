//===- CleanupCollectives.cpp - simplify partitioned programs -------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace switchyard {
#define GEN_PASS_DEF_CLEANUPCOLLECTIVES
#include "passes/Passes.h.inc"
} // namespace switchyard

using namespace mlir;
using namespace mlir::shard;
using namespace switchyard;

namespace {

/// The grid a collective runs on, or null when the symbol is missing.
GridOp lookupGrid(Operation *op, FlatSymbolRefAttr grid) {
  return SymbolTable::lookupNearestSymbolFrom<GridOp>(op, grid);
}

/// Drops grid axes of size 1, and the collective when none is left.
template <typename CollectiveOp>
struct DropUnitAxes : public OpRewritePattern<CollectiveOp> {
  using OpRewritePattern<CollectiveOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(CollectiveOp op,
                                PatternRewriter &rewriter) const override {
    GridOp grid = lookupGrid(op, op.getGridAttr());
    if (!grid)
      return failure();
    SmallVector<int16_t> kept;
    for (int16_t axis : op.getGridAxes())
      if (grid.getShape()[axis] != 1)
        kept.push_back(axis);
    if (kept.size() == op.getGridAxes().size())
      return failure();
    if (kept.empty() && op.getInput().getType() == op.getResult().getType()) {
      rewriter.replaceOp(op, op.getInput());
      return success();
    }
    rewriter.modifyOpInPlace(op, [&] { op.setGridAxes(kept); });
    return success();
  }
};

/// The single-use collective of type `OpTy` that produces `value`.
template <typename OpTy>
OpTy producedOnceBy(Value value) {
  auto op = value.getDefiningOp<OpTy>();
  if (!op || !op->hasOneUse())
    return {};
  return op;
}

/// Whether two collectives of one kind in a row do the same thing (beyond
/// their grid axes), so that one over both sets of axes can replace them.
bool sameParameters(AllGatherOp first, AllGatherOp op) {
  return first.getGatherAxis() == op.getGatherAxis();
}
bool sameParameters(AllSliceOp first, AllSliceOp op) {
  return first.getSliceAxis() == op.getSliceAxis();
}
bool sameParameters(AllReduceOp first, AllReduceOp op) {
  return first.getReduction() == op.getReduction() &&
         first.getInput().getType() == op.getType();
}
bool sameParameters(ReduceScatterOp first, ReduceScatterOp op) {
  return first.getReduction() == op.getReduction() &&
         first.getScatterAxis() == op.getScatterAxis();
}

/// op(first(x, A), B) -> op(x, A ++ B) for two collectives of one kind with
/// the same parameters: all_slice, all_reduce and reduce_scatter, where the
/// later op's axis is the more minor. For all_gather the later gather's axis
/// is the more major one: op(x, B ++ A).
template <typename CollectiveOp>
struct MergeCollectives : public OpRewritePattern<CollectiveOp> {
  using OpRewritePattern<CollectiveOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(CollectiveOp op,
                                PatternRewriter &rewriter) const override {
    auto first = producedOnceBy<CollectiveOp>(op.getInput());
    if (!first || first.getGrid() != op.getGrid() || !sameParameters(first, op))
      return failure();
    SmallVector<int16_t> axes(first.getGridAxes());
    if constexpr (std::is_same_v<CollectiveOp, AllGatherOp>)
      axes.insert(axes.begin(), op.getGridAxes().begin(),
                  op.getGridAxes().end());
    else
      llvm::append_range(axes, op.getGridAxes());
    rewriter.modifyOpInPlace(op, [&] {
      op.setGridAxes(axes);
      op.getInputMutable().assign(first.getInput());
    });
    return success();
  }
};

/// all_slice(all_reduce(x, A), A, d) -> reduce_scatter(x, A, d).
struct AllReduceSliceToReduceScatter : public OpRewritePattern<AllSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AllSliceOp op,
                                PatternRewriter &rewriter) const override {
    auto reduce = producedOnceBy<AllReduceOp>(op.getInput());
    if (!reduce || reduce.getGridAxes() != op.getGridAxes() ||
        reduce.getGrid() != op.getGrid() ||
        reduce.getInput().getType() != reduce.getType())
      return failure();
    rewriter.replaceOpWithNewOp<ReduceScatterOp>(
        op, op.getType(), op.getGridAttr(), op.getGridAxesAttr(),
        reduce.getInput(), reduce.getReductionAttr(), op.getSliceAxisAttr());
    return success();
  }
};

/// all_slice(all_gather(x, A, d), A, d) -> x.
struct GatherThenSliceIsIdentity : public OpRewritePattern<AllSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AllSliceOp op,
                                PatternRewriter &rewriter) const override {
    auto gather = op.getInput().getDefiningOp<AllGatherOp>();
    if (!gather || gather.getGridAxes() != op.getGridAxes() ||
        gather.getGrid() != op.getGrid() ||
        gather.getGatherAxis() != op.getSliceAxis() ||
        gather.getInput().getType() != op.getType())
      return failure();
    rewriter.replaceOp(op, gather.getInput());
    return success();
  }
};

struct CleanupCollectivesPass
    : public switchyard::impl::CleanupCollectivesBase<CleanupCollectivesPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    patterns.add<DropUnitAxes<AllGatherOp>, DropUnitAxes<AllSliceOp>,
                 DropUnitAxes<AllToAllOp>, DropUnitAxes<AllReduceOp>,
                 DropUnitAxes<ReduceScatterOp>, MergeCollectives<AllGatherOp>,
                 MergeCollectives<AllSliceOp>, MergeCollectives<AllReduceOp>,
                 MergeCollectives<ReduceScatterOp>,
                 AllReduceSliceToReduceScatter,
                 GatherThenSliceIsIdentity>(context);
    mtf::AsNamedOp::getCanonicalizationPatterns(patterns, context);
    mtf::AsTensorOp::getCanonicalizationPatterns(patterns, context);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
