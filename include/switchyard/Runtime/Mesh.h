//===- Mesh.h - A logical device mesh and its subgroups ---------*- C++ -*-===//
//
// A mesh is a list of axis sizes, e.g. [2, 4]. Devices are numbered in
// row-major order of their coordinates: device (i, j) of [2, 4] is 4*i + j.
// A collective over a set of mesh axes runs within each group of devices
// that differ only in those axes' coordinates.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_MESH_H
#define SWITCHYARD_RUNTIME_MESH_H

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cstdint>
#include <string>
#include <vector>

namespace switchyard::runtime {

class Mesh {
public:
  /// A mesh with the given axis sizes, each at least 1. No axes is one
  /// device.
  [[nodiscard]] static absl::StatusOr<Mesh>
  create(std::vector<int64_t> axisSizes);

  absl::Span<const int64_t> axisSizes() const { return axisSizes_; }
  int axisCount() const { return static_cast<int>(axisSizes_.size()); }
  int64_t deviceCount() const { return deviceCount_; }

  /// The coordinates of `device` along each axis.
  std::vector<int64_t> coordinates(int64_t device) const;

  /// Checks that `axes` are distinct axes of this mesh.
  [[nodiscard]] absl::Status checkAxes(absl::Span<const int> axes) const;

  /// The devices that differ from `device` only in the coordinates along
  /// `axes` (checked with checkAxes), ordered row-major by those coordinates
  /// with the first listed axis most significant. `device` is at index
  /// groupRank(device, axes).
  std::vector<int64_t> group(int64_t device, absl::Span<const int> axes) const;
  int64_t groupRank(int64_t device, absl::Span<const int> axes) const;
  /// The number of devices in every group along `axes` (checked with
  /// checkAxes), without listing them.
  int64_t groupSize(absl::Span<const int> axes) const;

  /// "[2, 4]".
  std::string toString() const;

private:
  explicit Mesh(std::vector<int64_t> axisSizes);

  std::vector<int64_t> axisSizes_;
  /// Row-major strides of the device numbering.
  std::vector<int64_t> strides_;
  int64_t deviceCount_ = 1;
};

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_MESH_H
