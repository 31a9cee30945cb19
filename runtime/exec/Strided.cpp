//===- Strided.cpp - Loops over named-dimension index spaces --------------===//

#include "runtime/exec/Strided.h"

#include <cstring>

namespace switchyard::runtime {

std::vector<int64_t> rowMajorStrides(const TensorSpec &type) {
  std::vector<int64_t> strides(type.dims.size());
  int64_t stride = 1;
  for (size_t d = type.dims.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= type.dims[d].size;
  }
  return strides;
}

std::vector<int64_t> stridesIn(const TensorSpec &tensor,
                               const TensorSpec &space) {
  const std::vector<int64_t> own = rowMajorStrides(tensor);
  std::vector<int64_t> strides(space.dims.size(), 0);
  for (size_t d = 0; d < space.dims.size(); ++d)
    if (int t = tensor.find(space.dims[d].name); t >= 0)
      strides[d] = own[t];
  return strides;
}

void insertSlice(const void *src, absl::Span<const int64_t> shape,
                 size_t elementSize, absl::Span<const DimRange> slice,
                 void *dst) {
  const int rank = static_cast<int>(shape.size());
  std::vector<int64_t> strides(rank);
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= shape[d];
    if (slice[d].begin == slice[d].end)
      return;
  }
  // Dimensions after `k` are whole, so each run along `k` is contiguous.
  int k = rank - 1;
  while (k >= 0 && slice[k].begin == 0 && slice[k].end == shape[k])
    --k;
  const auto *in = static_cast<const std::byte *>(src);
  auto *out = static_cast<std::byte *>(dst);
  if (k < 0) {
    std::memcpy(out, in, stride * elementSize);
    return;
  }
  const size_t runBytes =
      (slice[k].end - slice[k].begin) * strides[k] * elementSize;
  std::vector<int64_t> index(k);
  for (int d = 0; d < k; ++d)
    index[d] = slice[d].begin;
  while (true) {
    int64_t offset = slice[k].begin * strides[k];
    for (int d = 0; d < k; ++d)
      offset += index[d] * strides[d];
    std::memcpy(out + offset * elementSize, in, runBytes);
    in += runBytes;
    int d = k - 1;
    while (d >= 0 && ++index[d] == slice[d].end) {
      index[d] = slice[d].begin;
      --d;
    }
    if (d < 0)
      return;
  }
}

StridedLoop::StridedLoop(std::vector<int64_t> shape,
                         std::vector<std::vector<int64_t>> strides)
    : strides_(strides.size()) {
  for (int64_t size : shape)
    numElements_ *= size;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    // Merge into the previous kept dimension when every tensor steps
    // through both as through one.
    bool merge = !shape_.empty();
    for (size_t k = 0; merge && k < strides.size(); ++k)
      merge = strides_[k].back() == strides[k][d] * shape[d];
    if (merge) {
      shape_.back() *= shape[d];
      for (size_t k = 0; k < strides.size(); ++k)
        strides_[k].back() = strides[k][d];
      continue;
    }
    shape_.push_back(shape[d]);
    for (size_t k = 0; k < strides.size(); ++k)
      strides_[k].push_back(strides[k][d]);
  }
}

} // namespace switchyard::runtime
