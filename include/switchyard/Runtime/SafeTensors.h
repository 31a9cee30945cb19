//===- SafeTensors.h - Reading and writing safetensors files ----*- C++ -*-===//
//
// A safetensors file is an 8-byte little-endian header length, a JSON header
// naming every tensor's dtype, shape and byte range, and the tensor data.
// SafeTensorsFile maps one file and validates its header completely on open;
// Checkpoint adds sharded checkpoints (`model.safetensors.index.json`).
// Reads copy a whole tensor or a hyper-rectangular slice of it, so that each
// device reads only the part of a weight it holds.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_SAFETENSORS_H
#define SWITCHYARD_RUNTIME_SAFETENSORS_H

#include "switchyard/Runtime/Tensor.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace switchyard::runtime {

/// One tensor of a safetensors header.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// Byte range [begin, end) relative to the start of the data region.
  uint64_t begin = 0;
  uint64_t end = 0;
};

/// One mapped and validated safetensors file.
class SafeTensorsFile {
public:
  /// Maps `path` and validates its header: the header length fits the file,
  /// the JSON parses and has the expected fields, every dtype is supported,
  /// every byte range matches its dtype and shape, and the ranges tile the
  /// data region exactly (no overlap, gap or trailing bytes).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SafeTensorsFile>>
  open(const std::string &path);

  ~SafeTensorsFile();

  const std::string &path() const { return path_; }
  /// The tensors in the order of their data.
  absl::Span<const TensorInfo> tensors() const { return tensors_; }
  /// The optional string-to-string `__metadata__` of the header.
  const std::map<std::string, std::string> &metadata() const {
    return metadata_;
  }
  /// The tensor called `name`, or null.
  const TensorInfo *find(absl::string_view name) const;

  /// Copies the slice of tensor `name` (one range per dimension) densely into
  /// `dst`, which must be exactly the slice's size in bytes.
  [[nodiscard]] absl::Status readSliceInto(absl::string_view name,
                                           absl::Span<const DimRange> slice,
                                           absl::Span<std::byte> dst) const;
  /// The slice of tensor `name` as a new tensor.
  [[nodiscard]] absl::StatusOr<HostTensor>
  readSlice(absl::string_view name, absl::Span<const DimRange> slice) const;
  /// The whole tensor `name`.
  [[nodiscard]] absl::StatusOr<HostTensor> read(absl::string_view name) const;

private:
  struct Mapping;
  SafeTensorsFile() = default;
  absl::StatusOr<const TensorInfo *> lookup(absl::string_view name) const;

  std::string path_;
  std::unique_ptr<Mapping> mapping_;
  const std::byte *data_ = nullptr;
  std::vector<TensorInfo> tensors_;
  absl::flat_hash_map<std::string, size_t> byName_;
  std::map<std::string, std::string> metadata_;
};

/// The tensors of a checkpoint: one safetensors file, or the shards listed by
/// the `weight_map` of a `model.safetensors.index.json`.
class Checkpoint {
public:
  /// Opens a `.safetensors` file, an index `.json` file, or a directory
  /// holding `model.safetensors.index.json` or else `model.safetensors`.
  /// Every shard of an index is opened and must hold the tensors mapped to it.
  [[nodiscard]] static absl::StatusOr<Checkpoint> open(const std::string &path);

  /// Tensor names, sorted.
  std::vector<std::string> names() const;
  /// The tensor called `name`, or null.
  const TensorInfo *find(absl::string_view name) const;

  /// As SafeTensorsFile::readSliceInto, on the shard holding `name`.
  [[nodiscard]] absl::Status readSliceInto(absl::string_view name,
                                           absl::Span<const DimRange> slice,
                                           absl::Span<std::byte> dst) const;
  [[nodiscard]] absl::StatusOr<HostTensor>
  readSlice(absl::string_view name, absl::Span<const DimRange> slice) const;
  [[nodiscard]] absl::StatusOr<HostTensor> read(absl::string_view name) const;

private:
  absl::StatusOr<const SafeTensorsFile *> shardOf(absl::string_view name) const;

  std::string path_;
  std::vector<std::unique_ptr<SafeTensorsFile>> shards_;
  absl::flat_hash_map<std::string, const SafeTensorsFile *> shardByName_;
};

/// Writes `tensors` (name and tensor, in data order) and optional `metadata`
/// as a safetensors file at `path`. Names must be unique and non-empty.
[[nodiscard]] absl::Status writeSafeTensors(
    const std::string &path,
    absl::Span<const std::pair<std::string, const HostTensor *>> tensors,
    const std::map<std::string, std::string> &metadata = {});

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_SAFETENSORS_H
