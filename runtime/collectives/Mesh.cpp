//===- Mesh.cpp - A logical device mesh and its subgroups -----------------===//

#include "switchyard/Runtime/Mesh.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <limits>

namespace switchyard::runtime {

Mesh::Mesh(std::vector<int64_t> axisSizes)
    : axisSizes_(std::move(axisSizes)), strides_(axisSizes_.size()) {
  for (int axis = axisCount() - 1; axis >= 0; --axis) {
    strides_[axis] = deviceCount_;
    deviceCount_ *= axisSizes_[axis];
  }
}

absl::StatusOr<Mesh> Mesh::create(std::vector<int64_t> axisSizes) {
  int64_t count = 1;
  for (int64_t size : axisSizes) {
    if (size < 1)
      return absl::InvalidArgumentError(
          absl::StrCat("mesh axis sizes must be at least 1, got [",
                       absl::StrJoin(axisSizes, ", "), "]"));
    if (count > std::numeric_limits<int32_t>::max() / size)
      return absl::InvalidArgumentError(absl::StrCat(
          "mesh [", absl::StrJoin(axisSizes, ", "), "] has too many devices"));
    count *= size;
  }
  return Mesh(std::move(axisSizes));
}

std::vector<int64_t> Mesh::coordinates(int64_t device) const {
  std::vector<int64_t> coords(axisSizes_.size());
  for (int axis = 0; axis < axisCount(); ++axis)
    coords[axis] = device / strides_[axis] % axisSizes_[axis];
  return coords;
}

absl::Status Mesh::checkAxes(absl::Span<const int> axes) const {
  std::vector<bool> seen(axisSizes_.size());
  for (int axis : axes) {
    if (axis < 0 || axis >= axisCount())
      return absl::InvalidArgumentError(absl::StrCat(
          "mesh axis ", axis, " is not an axis of mesh ", toString()));
    if (seen[axis])
      return absl::InvalidArgumentError(
          absl::StrCat("mesh axis ", axis, " is listed twice"));
    seen[axis] = true;
  }
  return absl::OkStatus();
}

std::vector<int64_t> Mesh::group(int64_t device,
                                 absl::Span<const int> axes) const {
  // The member whose coordinates along `axes` are all zero.
  int64_t base = device;
  for (int axis : axes)
    base -= (device / strides_[axis] % axisSizes_[axis]) * strides_[axis];
  const int64_t size = groupSize(axes);
  std::vector<int64_t> members(size);
  for (int64_t index = 0; index < size; ++index) {
    int64_t member = base;
    int64_t rest = index;
    for (auto axis = axes.rbegin(); axis != axes.rend(); ++axis) {
      member += (rest % axisSizes_[*axis]) * strides_[*axis];
      rest /= axisSizes_[*axis];
    }
    members[index] = member;
  }
  return members;
}

int64_t Mesh::groupSize(absl::Span<const int> axes) const {
  int64_t size = 1;
  for (int axis : axes)
    size *= axisSizes_[axis];
  return size;
}

int64_t Mesh::groupRank(int64_t device, absl::Span<const int> axes) const {
  int64_t rank = 0;
  for (int axis : axes)
    rank = rank * axisSizes_[axis] + device / strides_[axis] % axisSizes_[axis];
  return rank;
}

std::string Mesh::toString() const {
  return absl::StrCat("[", absl::StrJoin(axisSizes_, ", "), "]");
}

} // namespace switchyard::runtime
