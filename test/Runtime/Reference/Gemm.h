//===- Gemm.h - Matrix products on a CPU BLAS -------------------*- C++ -*-===//
//
// Row-major f32 GEMMs through CBLAS, and the experts' GEMM that multiplies
// only the rows tokens fill (DESIGN.md, decision 6).
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_TEST_RUNTIME_REFERENCE_GEMM_H
#define SWITCHYARD_TEST_RUNTIME_REFERENCE_GEMM_H

#include "test/Runtime/Reference/Activation.h"

#include "absl/status/status.h"
#include "absl/types/span.h"

#include <cstdint>

namespace switchyard::runtime::reference {

/// The sizes of c[m, n] = a[m, k] . b, with b stored [k, n], or [n, k] and
/// transposed when `transposeB` (a torch Linear weight: y = x W^T).
struct GemmShape {
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  bool transposeB = false;
};

/// c = alpha * a . op(b) + beta * c.
[[nodiscard]] absl::Status matmul(const GemmShape &shape,
                                  absl::Span<const float> a,
                                  absl::Span<const float> b,
                                  absl::Span<float> c, float alpha = 1.0f,
                                  float beta = 0.0f);

/// The sizes of the experts' GEMM: x [groups, experts, capacity, k] times
/// each expert's weight w[e] ([k, n], or [n, k] when `transposeW`) gives
/// y [groups, experts, capacity, n].
struct ExpertGemmShape {
  int64_t groups = 0;
  int64_t experts = 0;
  int64_t capacity = 0;
  int64_t k = 0;
  int64_t n = 0;
  bool transposeW = false;
};

/// For every group g and expert e, with f = filled[g, e] (dispatch's count):
/// y[g, e, :f] = activation(x[g, e, :f] . op(w[e])) and y[g, e, f:] = 0.
/// Capacity padding is never multiplied.
[[nodiscard]] absl::Status
expertMatmul(const ExpertGemmShape &shape, absl::Span<const float> x,
             absl::Span<const float> w, absl::Span<const int32_t> filled,
             absl::Span<float> y, Activation activation = Activation::Identity);

} // namespace switchyard::runtime::reference

#endif // SWITCHYARD_TEST_RUNTIME_REFERENCE_GEMM_H
