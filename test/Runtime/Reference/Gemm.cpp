//===- Gemm.cpp - Matrix products on a CPU BLAS ---------------------------===//

#include "test/Runtime/Reference/Gemm.h"

#include "test/Runtime/Reference/KernelUtil.h"
#include "switchyard/Runtime/Status.h"

#include <algorithm>
#include <cblas.h>
#include <climits>

namespace switchyard::runtime::reference {

namespace {

absl::Status checkBlasSizes(absl::string_view kernel,
                            std::initializer_list<int64_t> sizes) {
  for (int64_t size : sizes)
    if (size < 0 || size > INT_MAX)
      return absl::InvalidArgumentError(absl::StrCat(
          kernel, ": size ", size, " is outside what BLAS can take"));
  return absl::OkStatus();
}

/// c[m, n] = a[m, k] . op(b) on raw row-major pointers, sizes checked.
void sgemm(int64_t m, int64_t n, int64_t k, bool transposeB, float alpha,
           const float *a, const float *b, float beta, float *c) {
  if (m == 0 || n == 0)
    return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans,
              transposeB ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
              std::max<int64_t>(k, 1), b,
              std::max<int64_t>(transposeB ? k : n, 1), beta, c, n);
}

} // namespace

absl::Status matmul(const GemmShape &shape, absl::Span<const float> a,
                    absl::Span<const float> b, absl::Span<float> c, float alpha,
                    float beta) {
  SY_RETURN_IF_ERROR(checkBlasSizes("matmul", {shape.m, shape.n, shape.k}));
  SY_RETURN_IF_ERROR(checkOperand("matmul", "a", a.size(), {shape.m, shape.k}));
  SY_RETURN_IF_ERROR(checkOperand("matmul", "b", b.size(), {shape.k, shape.n}));
  SY_RETURN_IF_ERROR(checkOperand("matmul", "c", c.size(), {shape.m, shape.n}));
  sgemm(shape.m, shape.n, shape.k, shape.transposeB, alpha, a.data(), b.data(),
        beta, c.data());
  return absl::OkStatus();
}

absl::Status expertMatmul(const ExpertGemmShape &shape,
                          absl::Span<const float> x, absl::Span<const float> w,
                          absl::Span<const int32_t> filled, absl::Span<float> y,
                          Activation activation) {
  const auto &[groups, experts, capacity, k, n, transposeW] = shape;
  SY_RETURN_IF_ERROR(
      checkBlasSizes("expert_matmul", {groups, experts, capacity, k, n}));
  SY_RETURN_IF_ERROR(checkOperand("expert_matmul", "x", x.size(),
                                  {groups, experts, capacity, k}));
  SY_RETURN_IF_ERROR(
      checkOperand("expert_matmul", "w", w.size(), {experts, k, n}));
  SY_RETURN_IF_ERROR(checkOperand("expert_matmul", "filled", filled.size(),
                                  {groups, experts}));
  SY_RETURN_IF_ERROR(checkOperand("expert_matmul", "y", y.size(),
                                  {groups, experts, capacity, n}));
  for (int64_t i = 0; i < groups * experts; ++i)
    if (filled[i] < 0 || filled[i] > capacity)
      return absl::OutOfRangeError(absl::StrCat(
          "expert_matmul: filled count ", filled[i], " of group ", i / experts,
          ", expert ", i % experts, " is outside [0, ", capacity, "]"));

  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t e = 0; e < experts; ++e) {
      const int64_t rows = filled[g * experts + e];
      const int64_t slab = g * experts + e;
      float *out = y.data() + slab * capacity * n;
      sgemm(rows, n, k, transposeW, 1.0f, x.data() + slab * capacity * k,
            w.data() + e * k * n, 0.0f, out);
      applyActivation(activation, absl::MakeSpan(out, rows * n));
      std::fill(out + rows * n, out + capacity * n, 0.0f);
    }
  }
  return absl::OkStatus();
}

} // namespace switchyard::runtime::reference
