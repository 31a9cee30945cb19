//===- Tensor.cpp - Element types and the host tensor ---------------------===//

#include "switchyard/Runtime/Tensor.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <new>

#include <sys/mman.h>

namespace switchyard::runtime {

namespace {
constexpr std::align_val_t kAlignment{64};
/// Buffers from this size on get a memory mapping of their own, aligned to
/// and rounded up to it: the kernel hands out zeroed pages (no memset), in
/// huge pages where it can, with one fault per huge page instead of one per
/// 4 KiB page of a fresh heap buffer.
constexpr size_t kHugePageBytes = size_t{2} << 20;

/// A zero-filled kHugePageBytes-aligned mapping of `bytes` (a multiple of
/// kHugePageBytes), or null.
std::byte *mapHugePages(size_t bytes) {
  // Map one huge page more, then unmap what lies outside the aligned part.
  void *mapped = mmap(nullptr, bytes + kHugePageBytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED)
    return nullptr;
  auto *begin = static_cast<std::byte *>(mapped);
  const auto address = reinterpret_cast<uintptr_t>(begin);
  const size_t head =
      (kHugePageBytes - address % kHugePageBytes) % kHugePageBytes;
  if (head)
    munmap(begin, head);
  munmap(begin + head + bytes, kHugePageBytes - head);
#ifdef MADV_HUGEPAGE
  // Only advice: without transparent huge pages the mapping still works.
  madvise(begin + head, bytes, MADV_HUGEPAGE);
#endif
  return begin + head;
}
} // namespace

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::I64:
    return 8;
  case DType::Bool:
    return 1;
  }
  return 0;
}

absl::string_view dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::Bool:
    return "bool";
  }
  return "?";
}

absl::StatusOr<int64_t> checkedNumElements(absl::Span<const int64_t> shape,
                                           DType dtype) {
  const int64_t maxElements = std::numeric_limits<int64_t>::max() /
                              static_cast<int64_t>(dtypeSize(dtype));
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return absl::InvalidArgumentError(
          absl::StrCat("negative dimension in shape ", shapeToString(shape)));
    if (dim != 0 && count > maxElements / dim)
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", shapeToString(shape), " of ", dtypeName(dtype),
                       " is too large"));
    count *= dim;
  }
  return count;
}

std::string shapeToString(absl::Span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::StatusOr<std::vector<int64_t>>
sliceShape(absl::Span<const int64_t> shape, absl::Span<const DimRange> slice) {
  if (slice.size() != shape.size())
    return absl::InvalidArgumentError(
        absl::StrCat("slice has ", slice.size(),
                     " ranges for a tensor of rank ", shape.size()));
  std::vector<int64_t> result(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    const DimRange &r = slice[d];
    if (r.begin < 0 || r.begin > r.end || r.end > shape[d])
      return absl::OutOfRangeError(absl::StrCat(
          "slice [", r.begin, ", ", r.end, ") of dimension ", d,
          " is outside [0, ", shape[d], ") of shape ", shapeToString(shape)));
    result[d] = r.end - r.begin;
  }
  return result;
}

namespace {

/// Calls `run(offsetBytes, runBytes)` for each contiguous run of the
/// hyper-rectangle `slice` of a row-major array of `shape`, in row-major
/// order; the runs together are the slice, densely.
template <typename RunFn>
void forEachSliceRun(absl::Span<const int64_t> shape, size_t elementSize,
                     absl::Span<const DimRange> slice, RunFn run) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> strides(rank);
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= shape[d];
    if (slice[d].begin == slice[d].end)
      return;
  }
  // Dimensions after `k` are taken whole, so every run along `k` and the
  // dimensions after it is contiguous.
  int64_t k = rank - 1;
  while (k >= 0 && slice[k].begin == 0 && slice[k].end == shape[k])
    --k;
  if (k < 0) {
    run(0, stride * elementSize);
    return;
  }
  const size_t runBytes =
      (slice[k].end - slice[k].begin) * strides[k] * elementSize;
  // An odometer over the sliced dimensions before `k`.
  std::vector<int64_t> index(k);
  for (int64_t d = 0; d < k; ++d)
    index[d] = slice[d].begin;
  while (true) {
    int64_t offset = slice[k].begin * strides[k];
    for (int64_t d = 0; d < k; ++d)
      offset += index[d] * strides[d];
    run(offset * elementSize, runBytes);
    int64_t d = k - 1;
    while (d >= 0 && ++index[d] == slice[d].end) {
      index[d] = slice[d].begin;
      --d;
    }
    if (d < 0)
      return;
  }
}

} // namespace

void copySlice(const void *src, absl::Span<const int64_t> shape,
               size_t elementSize, absl::Span<const DimRange> slice,
               void *dst) {
  const auto *in = static_cast<const std::byte *>(src);
  auto *out = static_cast<std::byte *>(dst);
  forEachSliceRun(shape, elementSize, slice, [&](size_t offset, size_t bytes) {
    std::memcpy(out, in + offset, bytes);
    out += bytes;
  });
}

void insertSlice(const void *src, absl::Span<const int64_t> shape,
                 size_t elementSize, absl::Span<const DimRange> slice,
                 void *dst) {
  const auto *in = static_cast<const std::byte *>(src);
  auto *out = static_cast<std::byte *>(dst);
  forEachSliceRun(shape, elementSize, slice, [&](size_t offset, size_t bytes) {
    std::memcpy(out + offset, in, bytes);
    in += bytes;
  });
}

void HostTensor::Release::operator()(std::byte *p) const {
  if (mappedBytes)
    munmap(p, mappedBytes);
  else
    ::operator delete[](p, kAlignment);
}

absl::StatusOr<HostTensor> HostTensor::allocate(DType dtype,
                                                std::vector<int64_t> shape) {
  absl::StatusOr<int64_t> count = checkedNumElements(shape, dtype);
  if (!count.ok())
    return count.status();
  HostTensor tensor;
  tensor.dtype_ = dtype;
  tensor.shape_ = std::move(shape);
  tensor.numElements_ = *count;
  size_t bytes = tensor.byteSize();
  std::byte *buffer = nullptr;
  if (bytes >= kHugePageBytes) {
    const size_t mapped =
        (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    buffer = mapHugePages(mapped);
    tensor.storage_ = {buffer, Release{mapped}};
  } else {
    // At least one byte, so that an empty tensor still owns a buffer.
    buffer = static_cast<std::byte *>(
        ::operator new[](bytes ? bytes : 1, kAlignment, std::nothrow));
    if (buffer)
      std::memset(buffer, 0, bytes);
    tensor.storage_.reset(buffer);
  }
  if (!buffer)
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate ", bytes, " bytes for a tensor of shape ",
                     shapeToString(tensor.shape_)));
  tensor.data_ = buffer;
  return tensor;
}

absl::StatusOr<HostTensor>
HostTensor::view(DType dtype, std::vector<int64_t> shape, void *data) {
  absl::StatusOr<int64_t> count = checkedNumElements(shape, dtype);
  if (!count.ok())
    return count.status();
  if (!data && *count != 0)
    return absl::InvalidArgumentError("view of a null pointer");
  HostTensor tensor;
  tensor.dtype_ = dtype;
  tensor.shape_ = std::move(shape);
  tensor.numElements_ = *count;
  tensor.data_ = data;
  return tensor;
}

HostTensor HostTensor::view() {
  HostTensor tensor;
  tensor.dtype_ = dtype_;
  tensor.shape_ = shape_;
  tensor.numElements_ = numElements_;
  tensor.data_ = data_;
  return tensor;
}

} // namespace switchyard::runtime
