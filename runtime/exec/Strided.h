//===- Strided.h - Loops over named-dimension index spaces ------*- C++ -*-===//
//
// Most kernels walk an index space (usually one tensor's dimensions) and
// address several tensors in it, each through its own strides: the stride
// of each index-space dimension in that tensor, or 0 where the tensor lacks
// the dimension (broadcast, or a reduction into it).
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_EXEC_STRIDED_H
#define SWITCHYARD_RUNTIME_EXEC_STRIDED_H

#include "switchyard/Runtime/Executable.h"

#include "absl/types/span.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace switchyard::runtime {

/// Row-major element strides of `type`.
std::vector<int64_t> rowMajorStrides(const TensorSpec &type);

/// For each dimension of `space`, its element stride in `tensor`, or 0 where
/// `tensor` has no dimension of that name.
std::vector<int64_t> stridesIn(const TensorSpec &tensor,
                               const TensorSpec &space);

/// The element stride of dimension `name`, which `type` has.
int64_t strideOf(const TensorSpec &type, const std::string &name);

/// A routing value's choices dimension (top-k routing): its size and element
/// stride; one choice of stride 0 where `name` is empty (top-1).
struct Choices {
  int64_t count = 1;
  int64_t stride = 0;
};
Choices choicesOf(const TensorSpec &type, const std::string &name);

/// An index space with one stride vector per addressed tensor, simplified:
/// size-1 dimensions are dropped and neighbours that every tensor addresses
/// contiguously are merged, so the innermost loop is as long as possible.
class StridedLoop {
public:
  StridedLoop(std::vector<int64_t> shape,
              std::vector<std::vector<int64_t>> strides);

  int64_t numElements() const { return numElements_; }
  /// The index space it walks: size-1 dimensions dropped, neighbours every
  /// tensor steps through as through one merged; and each tensor's strides
  /// in it.
  const std::vector<int64_t> &shape() const { return shape_; }
  const std::vector<std::vector<int64_t>> &strides() const { return strides_; }

  /// Calls `rows(offsets, count, steps)` for every run along the innermost
  /// dimension, in row-major order: offsets[k] is the element offset of the
  /// run's first index in tensor k, steps[k] tensor k's stride along it.
  /// Kernels loop over the run themselves, so that the compiler can
  /// vectorize it.
  template <typename F> void runRows(F &&rows) const {
    if (numElements_ == 0)
      return;
    const size_t tensors = strides_.size();
    const int rank = static_cast<int>(shape_.size());
    std::vector<int64_t> offsets(tensors, 0);
    if (rank == 0) {
      const std::vector<int64_t> steps(tensors, 0);
      rows(static_cast<const int64_t *>(offsets.data()), int64_t{1},
           steps.data());
      return;
    }
    const int inner = rank - 1;
    std::vector<int64_t> index(rank, 0), steps(tensors);
    for (size_t k = 0; k < tensors; ++k)
      steps[k] = strides_[k][inner];
    while (true) {
      rows(static_cast<const int64_t *>(offsets.data()), shape_[inner],
           static_cast<const int64_t *>(steps.data()));
      int d = inner - 1;
      for (; d >= 0; --d) {
        ++index[d];
        for (size_t k = 0; k < tensors; ++k)
          offsets[k] += strides_[k][d];
        if (index[d] < shape_[d])
          break;
        for (size_t k = 0; k < tensors; ++k)
          offsets[k] -= strides_[k][d] * shape_[d];
        index[d] = 0;
      }
      if (d < 0)
        return;
    }
  }

  /// Calls `body(offsets)` for every index in row-major order, where
  /// offsets[k] is the element offset of the index in tensor k.
  template <typename F> void run(F &&body) const {
    std::vector<int64_t> offsets(strides_.size());
    runRows([&](const int64_t *start, int64_t count, const int64_t *steps) {
      std::copy_n(start, offsets.size(), offsets.begin());
      for (int64_t i = 0; i < count; ++i) {
        body(static_cast<const int64_t *>(offsets.data()));
        for (size_t k = 0; k < offsets.size(); ++k)
          offsets[k] += steps[k];
      }
    });
  }

private:
  std::vector<int64_t> shape_;
  std::vector<std::vector<int64_t>> strides_;
  int64_t numElements_ = 1;
};

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_EXEC_STRIDED_H
