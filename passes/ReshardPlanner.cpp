//===- ReshardPlanner.cpp - layout changes as collective steps ------------===//

#include "passes/ReshardPlanner.h"

#include "llvm/ADT/STLExtras.h"

using namespace llvm;
using namespace switchyard;

namespace {

/// Whether `axes` is a prefix of `target`.
bool isPrefix(ArrayRef<StringRef> axes, ArrayRef<StringRef> target) {
  return axes.size() <= target.size() &&
         std::equal(axes.begin(), axes.end(), target.begin());
}

/// The dimension (other than `except`) that `to` splits next over `axis`
/// and that is ready for it: what it holds now is a prefix of its target.
std::optional<int64_t> readyDimFor(StringRef axis, const TensorLayout &current,
                                   const TensorLayout &to, int64_t except) {
  for (auto [dim, target] : enumerate(to)) {
    if (static_cast<int64_t>(dim) == except)
      continue;
    ArrayRef<StringRef> held = current[dim];
    if (isPrefix(held, target) && target.size() > held.size() &&
        target[held.size()] == axis)
      return dim;
  }
  return std::nullopt;
}

/// Whether `to` splits a dimension other than `except` over `axis`.
bool neededElsewhere(StringRef axis, const TensorLayout &to, int64_t except) {
  for (auto [dim, target] : enumerate(to))
    if (static_cast<int64_t>(dim) != except && is_contained(target, axis))
      return true;
  return false;
}

} // namespace

void switchyard::applyReshardStep(TensorLayout &layout,
                                  const ReshardStep &step) {
  switch (step.kind) {
  case CollectiveKind::AllReduce:
    return;
  case CollectiveKind::ReduceScatter:
  case CollectiveKind::AllSlice:
    layout[step.dim].append(step.axes.begin(), step.axes.end());
    return;
  case CollectiveKind::AllGather:
    layout[step.dim].pop_back_n(step.axes.size());
    return;
  case CollectiveKind::AllToAll:
    layout[step.sourceDim].pop_back_n(step.axes.size());
    layout[step.dim].append(step.axes.begin(), step.axes.end());
    return;
  }
}

SmallVector<ReshardStep> switchyard::planReshard(TensorLayout current,
                                                 ArrayRef<StringRef> partialAxes,
                                                 const TensorLayout &to) {
  SmallVector<ReshardStep> steps;
  auto emit = [&](ReshardStep step) {
    applyReshardStep(current, step);
    steps.push_back(std::move(step));
  };

  // Partial sums: scatter onto the dimension that takes the axis next.
  for (StringRef axis : partialAxes) {
    if (std::optional<int64_t> dim = readyDimFor(axis, current, to, -1))
      emit({CollectiveKind::ReduceScatter, {axis}, *dim});
    else
      emit({CollectiveKind::AllReduce, {axis}});
  }

  // Give up the axes each dimension does not keep, minor first.
  while (true) {
    bool blocked = false, progress = false;
    for (int64_t dim = 0, e = current.size(); dim < e; ++dim) {
      while (!isPrefix(current[dim], to[dim])) {
        StringRef axis = current[dim].back();
        if (std::optional<int64_t> target = readyDimFor(axis, current, to, dim)) {
          emit({CollectiveKind::AllToAll, {axis}, *target, dim});
        } else if (!neededElsewhere(axis, to, dim)) {
          emit({CollectiveKind::AllGather, {axis}, dim});
        } else {
          blocked = true;
          break;
        }
        progress = true;
      }
    }
    if (!blocked)
      break;
    if (!progress) {
      // A cycle of moves (x: a->b while y: b->a): gather one axis to break it.
      for (int64_t dim = 0, e = current.size(); dim < e; ++dim)
        if (!isPrefix(current[dim], to[dim])) {
          emit({CollectiveKind::AllGather, {current[dim].back()}, dim});
          break;
        }
    }
  }

  // Add the axes still missing.
  for (int64_t dim = 0, e = current.size(); dim < e; ++dim)
    for (size_t i = current[dim].size(); i < to[dim].size(); ++i)
      emit({CollectiveKind::AllSlice, {to[dim][i]}, dim});
  return steps;
}
