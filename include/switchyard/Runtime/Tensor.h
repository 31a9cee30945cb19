//===- Tensor.h - Element types and the host tensor -------------*- C++ -*-===//
//
// DType names the element types the runtime moves and computes on; HostTensor
// is a dense row-major array in host memory that either owns its bytes or
// views bytes owned elsewhere.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_TENSOR_H
#define SWITCHYARD_RUNTIME_TENSOR_H

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace switchyard::runtime {

/// Element types. bf16 and f16 are storage types (2 bytes, no arithmetic
/// here); Bool is stored as one byte holding 0 or 1.
enum class DType : uint8_t { F32, F16, BF16, I32, I64, Bool };

/// Size of one element in bytes.
size_t dtypeSize(DType dtype);

/// Whether `dtype` is a floating-point type (f32, f16, bf16).
constexpr bool isFloatDType(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16;
}

/// Lower-case name used in messages: "f32", "bf16", "bool", ...
absl::string_view dtypeName(DType dtype);

/// The DType stored as the C++ type T (float, int32_t, int64_t, uint8_t).
template <typename T> constexpr DType dtypeOf();
template <> constexpr DType dtypeOf<float>() { return DType::F32; }
template <> constexpr DType dtypeOf<int32_t>() { return DType::I32; }
template <> constexpr DType dtypeOf<int64_t>() { return DType::I64; }
template <> constexpr DType dtypeOf<uint8_t>() { return DType::Bool; }

/// Number of elements of `shape`; an error if a dimension is negative or the
/// count (or its size in bytes for `dtype`) overflows.
[[nodiscard]] absl::StatusOr<int64_t>
checkedNumElements(absl::Span<const int64_t> shape, DType dtype);

/// "[2, 3, 4]".
std::string shapeToString(absl::Span<const int64_t> shape);

/// A half-open index range [begin, end) along one dimension.
struct DimRange {
  int64_t begin = 0;
  int64_t end = 0;
};

/// Checks that `slice` has one range per dimension of `shape`, each within
/// it, and returns the slice's shape.
[[nodiscard]] absl::StatusOr<std::vector<int64_t>>
sliceShape(absl::Span<const int64_t> shape, absl::Span<const DimRange> slice);

/// Copies the hyper-rectangle `slice` of the row-major array `src` of `shape`
/// (elements of `elementSize` bytes) to `dst`, densely and row-major. `slice`
/// must have been checked with sliceShape().
void copySlice(const void *src, absl::Span<const int64_t> shape,
               size_t elementSize, absl::Span<const DimRange> slice, void *dst);

/// The inverse of copySlice: copies the dense block `src` into the
/// hyper-rectangle `slice` (checked with sliceShape()) of the row-major
/// array `dst` of `shape`.
void insertSlice(const void *src, absl::Span<const int64_t> shape,
                 size_t elementSize, absl::Span<const DimRange> slice,
                 void *dst);

/// A dense row-major tensor in host memory. Move-only; an owning tensor frees
/// its buffer (64-byte aligned; from 2 MiB on, transparent huge pages where
/// the system offers them) on destruction, a view never frees.
class HostTensor {
public:
  /// An empty f32 tensor of shape [0].
  HostTensor() : shape_{0} {}

  /// A zero-filled owning tensor.
  [[nodiscard]] static absl::StatusOr<HostTensor>
  allocate(DType dtype, std::vector<int64_t> shape);

  /// A view of `data`, which must hold the whole tensor and outlive the view.
  [[nodiscard]] static absl::StatusOr<HostTensor>
  view(DType dtype, std::vector<int64_t> shape, void *data);

  HostTensor(HostTensor &&) = default;
  HostTensor &operator=(HostTensor &&) = default;

  DType dtype() const { return dtype_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numElements() const { return numElements_; }
  size_t byteSize() const { return numElements_ * dtypeSize(dtype_); }
  bool ownsData() const { return storage_ != nullptr; }

  void *data() { return data_; }
  const void *data() const { return data_; }

  /// The elements as T; T must match dtype().
  template <typename T> absl::Span<T> span() {
    assert(dtypeOf<T>() == dtype_ && "element type mismatch");
    return {static_cast<T *>(data_), static_cast<size_t>(numElements_)};
  }
  template <typename T> absl::Span<const T> span() const {
    assert(dtypeOf<T>() == dtype_ && "element type mismatch");
    return {static_cast<const T *>(data_), static_cast<size_t>(numElements_)};
  }

  /// A non-owning view of this tensor's data.
  HostTensor view();

private:
  /// Frees an owning tensor's buffer.
  struct Release {
    /// The length of the buffer's own memory mapping; 0 (as value-initialized
    /// by unique_ptr) for a buffer from the heap.
    size_t mappedBytes;
    void operator()(std::byte *p) const;
  };

  DType dtype_ = DType::F32;
  std::vector<int64_t> shape_;
  int64_t numElements_ = 0;
  void *data_ = nullptr;
  std::unique_ptr<std::byte[], Release> storage_;
};

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_TENSOR_H
