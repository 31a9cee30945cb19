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

/// all_gather(all_gather(x, A, d), B, d) -> all_gather(x, B ++ A, d): the
/// later gather's axis is the more major one.
struct MergeAllGathers : public OpRewritePattern<AllGatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AllGatherOp op,
                                PatternRewriter &rewriter) const override {
    auto first = producedOnceBy<AllGatherOp>(op.getInput());
    if (!first || first.getGatherAxis() != op.getGatherAxis() ||
        first.getGrid() != op.getGrid())
      return failure();
    SmallVector<int16_t> axes(op.getGridAxes());
    llvm::append_range(axes, first.getGridAxes());
    rewriter.replaceOpWithNewOp<AllGatherOp>(
        op, op.getType(), op.getGridAttr(), rewriter.getDenseI16ArrayAttr(axes),
        first.getInput(), op.getGatherAxisAttr());
    return success();
  }
};

/// all_slice(all_slice(x, A, d), B, d) -> all_slice(x, A ++ B, d).
struct MergeAllSlices : public OpRewritePattern<AllSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AllSliceOp op,
                                PatternRewriter &rewriter) const override {
    auto first = producedOnceBy<AllSliceOp>(op.getInput());
    if (!first || first.getSliceAxis() != op.getSliceAxis() ||
        first.getGrid() != op.getGrid())
      return failure();
    SmallVector<int16_t> axes(first.getGridAxes());
    llvm::append_range(axes, op.getGridAxes());
    rewriter.replaceOpWithNewOp<AllSliceOp>(
        op, op.getType(), op.getGridAttr(), rewriter.getDenseI16ArrayAttr(axes),
        first.getInput(), op.getSliceAxisAttr());
    return success();
  }
};

/// all_reduce(all_reduce(x, A, k), B, k) -> all_reduce(x, A ++ B, k).
struct MergeAllReduces : public OpRewritePattern<AllReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AllReduceOp op,
                                PatternRewriter &rewriter) const override {
    auto first = producedOnceBy<AllReduceOp>(op.getInput());
    if (!first || first.getReduction() != op.getReduction() ||
        first.getGrid() != op.getGrid() ||
        first.getInput().getType() != op.getType())
      return failure();
    SmallVector<int16_t> axes(first.getGridAxes());
    llvm::append_range(axes, op.getGridAxes());
    rewriter.replaceOpWithNewOp<AllReduceOp>(
        op, op.getType(), op.getGridAttr(), rewriter.getDenseI16ArrayAttr(axes),
        first.getInput(), op.getReductionAttr());
    return success();
  }
};

/// reduce_scatter(reduce_scatter(x, A, k, d), B, k, d) ->
/// reduce_scatter(x, A ++ B, k, d): as for slices, the later scatter's axis
/// is the more minor one.
struct MergeReduceScatters : public OpRewritePattern<ReduceScatterOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceScatterOp op,
                                PatternRewriter &rewriter) const override {
    auto first = producedOnceBy<ReduceScatterOp>(op.getInput());
    if (!first || first.getReduction() != op.getReduction() ||
        first.getScatterAxis() != op.getScatterAxis() ||
        first.getGrid() != op.getGrid())
      return failure();
    SmallVector<int16_t> axes(first.getGridAxes());
    llvm::append_range(axes, op.getGridAxes());
    rewriter.replaceOpWithNewOp<ReduceScatterOp>(
        op, op.getType(), op.getGridAttr(), rewriter.getDenseI16ArrayAttr(axes),
        first.getInput(), op.getReductionAttr(), op.getScatterAxisAttr());
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
                 DropUnitAxes<ReduceScatterOp>, MergeAllGathers, MergeAllSlices,
                 MergeAllReduces, MergeReduceScatters,
                 AllReduceSliceToReduceScatter,
                 GatherThenSliceIsIdentity>(context);
    mtf::AsNamedOp::getCanonicalizationPatterns(patterns, context);
    mtf::AsTensorOp::getCanonicalizationPatterns(patterns, context);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
