//===- MappedFile.h - A read-only memory-mapped file ------------*- C++ -*-===//

#ifndef SWITCHYARD_RUNTIME_IO_MAPPEDFILE_H
#define SWITCHYARD_RUNTIME_IO_MAPPEDFILE_H

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cstddef>
#include <string>

namespace switchyard::runtime {

/// A whole file mapped read-only into memory; unmapped on destruction.
class MappedFile {
public:
  [[nodiscard]] static absl::StatusOr<MappedFile> open(const std::string &path);

  MappedFile(MappedFile &&other) noexcept;
  MappedFile &operator=(MappedFile &&other) noexcept;
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;
  ~MappedFile();

  absl::Span<const std::byte> bytes() const { return {data_, size_}; }

private:
  MappedFile(const std::byte *data, size_t size) : data_(data), size_(size) {}

  const std::byte *data_ = nullptr;
  size_t size_ = 0;
};

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_IO_MAPPEDFILE_H
