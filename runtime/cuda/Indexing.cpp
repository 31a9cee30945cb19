//===- Indexing.cpp - Index spaces of the cuda backend's kernels ----------===//

#include "runtime/cuda/Indexing.h"

#include "runtime/exec/Program.h"
#include "runtime/exec/Strided.h"

#include "absl/strings/str_cat.h"

namespace switchyard::runtime::cuda {

absl::StatusOr<Indexer>
makeIndexer(const std::vector<int64_t> &shape,
            const std::vector<std::vector<int64_t>> &strides) {
  if (strides.size() > static_cast<size_t>(kMaxTensors))
    return absl::UnimplementedError(absl::StrCat(
        "a kernel addresses ", strides.size(), " tensors, over ", kMaxTensors));
  const StridedLoop loop(shape, strides);
  const std::vector<int64_t> &dims = loop.shape();
  if (dims.size() > static_cast<size_t>(kMaxRank))
    return absl::UnimplementedError(
        absl::StrCat("a kernel's index space has ", dims.size(),
                     " dimensions, over ", kMaxRank));
  Indexer index;
  index.rank = static_cast<int32_t>(dims.size());
  index.tensors = static_cast<int32_t>(strides.size());
  index.count = loop.numElements();
  for (size_t d = 0; d < dims.size(); ++d) {
    index.shape[d] = dims[d];
    for (size_t k = 0; k < strides.size(); ++k)
      index.strides[k][d] = loop.strides()[k][d];
  }
  return index;
}

std::pair<std::vector<int64_t>, int64_t>
blockAlong(const std::vector<int64_t> &shape, int axis, int64_t n,
           int64_t rank) {
  const std::vector<int64_t> strides = rowMajor(shape);
  return {strides, rank * (shape[axis] / n) * strides[axis]};
}

std::vector<int64_t> blockShape(std::vector<int64_t> shape, int axis,
                                int64_t n) {
  shape[axis] /= n;
  return shape;
}

std::vector<int64_t> rowMajor(const std::vector<int64_t> &shape) {
  TensorSpec type;
  for (int64_t size : shape)
    type.dims.push_back({"", size, {}});
  return rowMajorStrides(type);
}

absl::StatusOr<Indexer> blocksIndexer(BlockLayout layout, int64_t n,
                                      bool pack) {
  // Member j's run of row r: at (r n + j) inner in the buffer, at
  // (j outer + r) inner in the pieces.
  const std::vector<int64_t> inBuffer = {layout.inner, n * layout.inner, 1};
  const std::vector<int64_t> inPieces = {layout.outer * layout.inner,
                                         layout.inner, 1};
  const std::vector<int64_t> space = {n, layout.outer, layout.inner};
  if (pack)
    return makeIndexer(space, {inBuffer, inPieces});
  return makeIndexer(space, {inPieces, inBuffer});
}

} // namespace switchyard::runtime::cuda
