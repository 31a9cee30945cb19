//===- Kernels.h - The cpu backend's op kernels -----------------*- C++ -*-===//
//
// Each kernel runs one op of a validated program on one device's arena.
// Kernels trust what the loader checked (Program.h) and report only
// data-dependent failures (a routed position outside the capacity, a failed
// collective) as errors.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_EXEC_KERNELS_H
#define SWITCHYARD_RUNTIME_EXEC_KERNELS_H

#include "runtime/exec/Program.h"
#include "switchyard/Runtime/Collective.h"
#include "switchyard/Runtime/CpuRuntime.h"

#include "absl/status/status.h"

#include <array>
#include <cstddef>
#include <vector>

namespace switchyard::runtime {

/// Per-device scratch buffers that only grow, so that after the first run
/// kernels allocate nothing large.
struct Workspace {
  std::vector<float> floats[8];
  std::vector<double> sums;
  std::vector<int64_t> counts;

  template <typename T> static T *grow(std::vector<T> &buffer, size_t size) {
    if (buffer.size() < size)
      buffer.resize(size);
    return buffer.data();
  }
};

/// One device's state while it runs the program.
struct DeviceContext {
  const Program *program = nullptr;
  std::byte *arena = nullptr;
  int64_t device = 0;
  Collective *collective = nullptr;
  Workspace *workspace = nullptr;
  /// Bytes sent (CollectiveStats), by CollectiveKind.
  std::array<int64_t, kCollectiveKindCount> collectiveBytes{};

  void *data(int value) const { return arena + program->values[value].offset; }
  const TensorSpec &type(int value) const {
    return program->values[value].type;
  }
};

/// out = kind(in), elementwise over `count` elements of `dtype`; `out` may
/// be `in` (an einsum's epilogue).
void unaryInto(fb::UnaryKind kind, DType dtype, const void *in, void *out,
               int64_t count);

/// unary, binary, reduce, softmax, rms_norm, cast, reshape, gather,
/// one_hot, cumsum, constant, iota.
absl::Status runElementwiseOp(const OpSpec &op, DeviceContext &context);

/// route, dispatch, combine, z_loss, load_balancing_loss.
absl::Status runRoutingOp(const OpSpec &op, DeviceContext &context);

/// The statistics kind of a collective op kind.
CollectiveKind collectiveKindOf(fb::OpKind kind);

/// The reduction a collective's endpoint runs for `reduction`: Sum for Sum
/// and Average (whose division is the caller's).
ReduceOp reduceOpOf(fb::CollectiveReduction reduction);

/// all_reduce, all_gather, all_slice, all_to_all, reduce_scatter.
absl::Status runCollectiveOp(const OpSpec &op, DeviceContext &context);

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_EXEC_KERNELS_H
