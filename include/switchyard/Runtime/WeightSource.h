//===- WeightSource.h - Where a program's weights come from -----*- C++ -*-===//
//
// Binding weights reads, on every device, only the slice of each checkpoint
// tensor that the device holds. A WeightSource answers those reads: from a
// safetensors checkpoint on disk, or from tensors in memory (tests, tools
// that generate random weights).
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_WEIGHTSOURCE_H
#define SWITCHYARD_RUNTIME_WEIGHTSOURCE_H

#include "switchyard/Runtime/SafeTensors.h"
#include "switchyard/Runtime/Tensor.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include <map>
#include <string>
#include <vector>

namespace switchyard::runtime {

/// The element type and shape of one stored weight.
struct WeightInfo {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
};

/// Named tensors that can be read by slices. Reads may come from several
/// threads at once (one per device); implementations must allow that.
class WeightSource {
public:
  virtual ~WeightSource();

  /// The dtype and shape of tensor `name`; NotFound if there is none.
  [[nodiscard]] virtual absl::StatusOr<WeightInfo>
  describe(absl::string_view name) const = 0;

  /// Copies the slice (one range per dimension) of tensor `name` densely
  /// into `dst`, which must be exactly the slice's size in bytes.
  [[nodiscard]] virtual absl::Status
  readSliceInto(absl::string_view name, absl::Span<const DimRange> slice,
                absl::Span<std::byte> dst) const = 0;

  /// The slice of tensor `name` as a new tensor.
  [[nodiscard]] absl::StatusOr<HostTensor>
  readSlice(absl::string_view name, absl::Span<const DimRange> slice) const;
};

/// The tensors of a safetensors checkpoint, which must outlive the source.
class CheckpointWeightSource final : public WeightSource {
public:
  explicit CheckpointWeightSource(const Checkpoint &checkpoint)
      : checkpoint_(checkpoint) {}

  absl::StatusOr<WeightInfo> describe(absl::string_view name) const override;
  absl::Status readSliceInto(absl::string_view name,
                             absl::Span<const DimRange> slice,
                             absl::Span<std::byte> dst) const override;

private:
  const Checkpoint &checkpoint_;
};

/// Tensors held in memory, by name.
class MapWeightSource final : public WeightSource {
public:
  MapWeightSource() = default;

  /// Adds or replaces tensor `name`.
  void add(std::string name, HostTensor tensor);

  absl::StatusOr<WeightInfo> describe(absl::string_view name) const override;
  absl::Status readSliceInto(absl::string_view name,
                             absl::Span<const DimRange> slice,
                             absl::Span<std::byte> dst) const override;

private:
  absl::StatusOr<const HostTensor *> lookup(absl::string_view name) const;

  std::map<std::string, HostTensor, std::less<>> tensors_;
};

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_WEIGHTSOURCE_H
