//===- Indexing.h - Index spaces of the cuda backend's kernels --*- C++ -*-===//
//
// Host code that builds the Indexers the kernels walk (CudaKernels.h): row
// by row over a shape, with one stride vector per addressed tensor, and the
// blocks of a tensor split along a dimension, which the collectives move.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_CUDA_INDEXING_H
#define SWITCHYARD_RUNTIME_CUDA_INDEXING_H

#include "runtime/cuda/CudaKernels.h"
#include "switchyard/Runtime/Collective.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace switchyard::runtime::cuda {

/// An indexer over `shape` addressing one tensor per stride vector, over
/// the index space a StridedLoop of them walks (size-1 dimensions dropped,
/// neighbours every tensor addresses contiguously merged).
[[nodiscard]] absl::StatusOr<Indexer>
makeIndexer(const std::vector<int64_t> &shape,
            const std::vector<std::vector<int64_t>> &strides);

/// The row-major strides of `shape`.
std::vector<int64_t> rowMajor(const std::vector<int64_t> &shape);

/// The row-major strides of block `rank` of `n` along `axis` of `shape`,
/// and its element offset.
std::pair<std::vector<int64_t>, int64_t>
blockAlong(const std::vector<int64_t> &shape, int axis, int64_t n,
           int64_t rank);

/// `shape` with dimension `axis` divided by `n`: one block's.
std::vector<int64_t> blockShape(std::vector<int64_t> shape, int axis,
                                int64_t n);

/// An indexer that copies the `n` member blocks of a buffer laid out by
/// `layout` (Collective.h) into one piece each, in member order (`pack`:
/// strides {buffer, pieces}), or back (strides {pieces, buffer}).
[[nodiscard]] absl::StatusOr<Indexer> blocksIndexer(BlockLayout layout,
                                                    int64_t n, bool pack);

} // namespace switchyard::runtime::cuda

#endif // SWITCHYARD_RUNTIME_CUDA_INDEXING_H
