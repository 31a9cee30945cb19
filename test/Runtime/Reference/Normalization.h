//===- Normalization.h - Softmax and T5 RMS norm ----------------*- C++ -*-===//

#ifndef SWITCHYARD_TEST_RUNTIME_REFERENCE_NORMALIZATION_H
#define SWITCHYARD_TEST_RUNTIME_REFERENCE_NORMALIZATION_H

#include "absl/status/status.h"
#include "absl/types/span.h"

#include <cstdint>

namespace switchyard::runtime::reference {

/// Softmax along the last axis of rows of `columns` elements:
/// exp(x - max) * (1 / sum). `out` may be `in`.
[[nodiscard]] absl::Status softmax(absl::Span<const float> in, int64_t columns,
                                   absl::Span<float> out);

/// T5's RMS norm along the last axis (HF-SWITCH-SEMANTICS 4.2): per row,
/// var = mean(x^2) (accumulated in double, rounded to f32), no mean
/// subtraction, out = weight * (x * (1 / sqrt(var + eps))). The row length is
/// weight.size(). `out` may be `x`.
[[nodiscard]] absl::Status rmsNorm(absl::Span<const float> x,
                                   absl::Span<const float> weight, float eps,
                                   absl::Span<float> out);

} // namespace switchyard::runtime::reference

#endif // SWITCHYARD_TEST_RUNTIME_REFERENCE_NORMALIZATION_H
