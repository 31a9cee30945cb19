//===- ReshardPlanner.h - layout changes as collective steps ----*- C++ -*-===//
//
// Plans how a tensor moves from one layout to another (and how its pending
// partial sums are resolved) as a sequence of collectives over mesh axes.
// Pure logic on layouts: the partitioner emits the steps as `shard` ops and
// the explorer costs them.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_PASSES_RESHARDPLANNER_H
#define SWITCHYARD_PASSES_RESHARDPLANNER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

namespace switchyard {

/// The mesh axes splitting each dimension of a tensor, major to minor, in
/// the tensor's dimension order.
using TensorLayout = llvm::SmallVector<llvm::SmallVector<llvm::StringRef, 2>>;

enum class CollectiveKind { AllReduce, ReduceScatter, AllGather, AllSlice, AllToAll };

/// One collective of a plan.
struct ReshardStep {
  CollectiveKind kind;
  /// The mesh axes whose device groups run the collective.
  llvm::SmallVector<llvm::StringRef, 2> axes;
  /// The dimension gathered, sliced or scattered; for an all-to-all, the
  /// dimension the axis moves to (split).
  int64_t dim = -1;
  /// For an all-to-all, the dimension the axis leaves (concatenated).
  int64_t sourceDim = -1;
};

/// Applies one step to `layout`.
void applyReshardStep(TensorLayout &layout, const ReshardStep &step);

/// Plans the steps from `from`, with partial sums pending over
/// `partialAxes`, to the fully reduced `to`. Partial sums resolve first, as
/// a reduce-scatter onto the dimension that `to` splits next over the axis
/// or else an all-reduce; then each dimension gives up the axes `to` does
/// not keep there, minor first, by an all-to-all straight to the dimension
/// that takes the axis next or else an all-gather; last, all-slices add the
/// axes still missing. Never fails: a cycle of moves falls back to a gather.
llvm::SmallVector<ReshardStep> planReshard(TensorLayout from,
                                           llvm::ArrayRef<llvm::StringRef> partialAxes,
                                           const TensorLayout &to);

} // namespace switchyard

#endif // SWITCHYARD_PASSES_RESHARDPLANNER_H
