//===- Einsum.h - Einsum by dimension names ---------------------*- C++ -*-===//
//
// An einsum multiplies its operands element-wise, matching dimensions by
// name, and sums over the dimensions the result lacks. Two operands go to
// BLAS: dimensions are classified as batch (both operands and the result),
// M (first operand and result), N (second operand and result) and K (both
// operands, not the result); dimensions only one operand has and the result
// lacks are summed out while packing. Operands already laid out as
// [batch, M, K] / [batch, K, M] (and [batch, K, N] / [batch, N, K]) are used
// in place, as is a result laid out [batch, M, N]; the rest is packed.
// Other operand counts use a direct loop.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_EXEC_EINSUM_H
#define SWITCHYARD_RUNTIME_EXEC_EINSUM_H

#include "runtime/exec/Kernels.h"

namespace switchyard::runtime {

/// An operand's or the result's way to or from its packed matrix.
struct EinsumPacking {
  /// Used in place (no packing); `transposed` says which of the two layouts
  /// it has.
  bool direct = false;
  bool transposed = false;
  /// Sums dimensions out while packing.
  bool accumulate = false;
  /// The loop over the source tensor's index space, addressing source and
  /// packed destination (or packed source and destination, for results).
  std::vector<int64_t> shape;
  std::vector<std::vector<int64_t>> strides;
};

/// How an einsum op maps onto a batched GEMM (two operands) or a direct
/// loop, derived from its types alone; every backend runs this layout.
struct EinsumLayout {
  EinsumLayout(const Program &program, const OpSpec &op);

  bool gemm = false;
  int64_t batch = 1, m = 1, n = 1, k = 1;
  /// The first operand as [batch, M, K], the second as [batch, K, N], the
  /// result as [batch, M, N].
  EinsumPacking a, b, c;
  /// The direct loop: the index space (the result's dimensions first, then
  /// the summed ones) and each operand's then the result's strides in it.
  std::vector<int64_t> loopShape;
  std::vector<std::vector<int64_t>> loopStrides;
  /// How many leading dimensions of loopShape are the result's.
  size_t resultRank = 0;
};

/// How one einsum op runs on the cpu backend, derived once from its types.
class EinsumPlan {
public:
  explicit EinsumPlan(const Program &program, const OpSpec &op)
      : layout_(program, op) {}

  absl::Status run(const OpSpec &op, DeviceContext &context) const;

private:
  void runGemm(const float *a, const float *b, float *r,
               Workspace &workspace) const;
  void runLoop(const OpSpec &op, DeviceContext &context) const;

  EinsumLayout layout_;
};

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_EXEC_EINSUM_H
