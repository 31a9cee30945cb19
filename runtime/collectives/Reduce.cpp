//===- Reduce.cpp - Element-wise reduction shared by the collectives ------===//

#include "runtime/collectives/Reduce.h"

#include <algorithm>

namespace switchyard::runtime {

namespace {

/// Elements reduced per tile: inputs are combined tile by tile in group
/// order, so an output may alias an input.
constexpr int64_t kTile = 256;

template <typename T>
void reduceTyped(absl::Span<const std::byte *const> inputs, std::byte *output,
                 int64_t count, ReduceOp op) {
  T tile[kTile];
  for (int64_t begin = 0; begin < count; begin += kTile) {
    const int64_t size = std::min(kTile, count - begin);
    const T *first = reinterpret_cast<const T *>(inputs[0]) + begin;
    std::copy(first, first + size, tile);
    for (size_t q = 1; q < inputs.size(); ++q) {
      const T *in = reinterpret_cast<const T *>(inputs[q]) + begin;
      switch (op) {
      case ReduceOp::Sum:
        for (int64_t i = 0; i < size; ++i)
          tile[i] += in[i];
        break;
      case ReduceOp::Max:
        for (int64_t i = 0; i < size; ++i)
          tile[i] = std::max(tile[i], in[i]);
        break;
      case ReduceOp::Min:
        for (int64_t i = 0; i < size; ++i)
          tile[i] = std::min(tile[i], in[i]);
        break;
      }
    }
    std::copy(tile, tile + size, reinterpret_cast<T *>(output) + begin);
  }
}

} // namespace

void reduceInOrder(DType dtype, absl::Span<const std::byte *const> inputs,
                   std::byte *output, int64_t count, ReduceOp op) {
  switch (dtype) {
  case DType::F32:
    return reduceTyped<float>(inputs, output, count, op);
  case DType::I32:
    return reduceTyped<int32_t>(inputs, output, count, op);
  case DType::I64:
    return reduceTyped<int64_t>(inputs, output, count, op);
  default:
    return;
  }
}

} // namespace switchyard::runtime
