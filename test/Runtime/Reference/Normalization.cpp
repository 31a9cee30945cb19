//===- Normalization.cpp - Softmax and T5 RMS norm ------------------------===//

#include "test/Runtime/Reference/Normalization.h"

#include "test/Runtime/Reference/KernelUtil.h"

#include <algorithm>
#include <cmath>

namespace switchyard::runtime::reference {

absl::Status softmax(absl::Span<const float> in, int64_t columns,
                     absl::Span<float> out) {
  if (columns < 1 || in.size() % columns != 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "softmax: ", in.size(), " elements are not rows of ", columns));
  const int64_t rows = in.size() / columns;
  if (absl::Status s =
          checkOperand("softmax", "out", out.size(), {rows, columns});
      !s.ok())
    return s;
  for (int64_t r = 0; r < rows; ++r) {
    const float *x = in.data() + r * columns;
    float *y = out.data() + r * columns;
    const float max = *std::max_element(x, x + columns);
    float sum = 0.0f;
    for (int64_t c = 0; c < columns; ++c) {
      y[c] = std::exp(x[c] - max);
      sum += y[c];
    }
    const float inverse = 1.0f / sum;
    for (int64_t c = 0; c < columns; ++c)
      y[c] *= inverse;
  }
  return absl::OkStatus();
}

absl::Status rmsNorm(absl::Span<const float> x, absl::Span<const float> weight,
                     float eps, absl::Span<float> out) {
  const int64_t columns = weight.size();
  if (columns < 1 || x.size() % columns != 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "rms_norm: ", x.size(), " elements are not rows of ", columns));
  const int64_t rows = x.size() / columns;
  if (absl::Status s =
          checkOperand("rms_norm", "out", out.size(), {rows, columns});
      !s.ok())
    return s;
  for (int64_t r = 0; r < rows; ++r) {
    const float *in = x.data() + r * columns;
    float *y = out.data() + r * columns;
    double squares = 0.0;
    for (int64_t c = 0; c < columns; ++c)
      squares += static_cast<double>(in[c]) * in[c];
    const float variance = static_cast<float>(squares / columns);
    const float scale = 1.0f / std::sqrt(variance + eps);
    for (int64_t c = 0; c < columns; ++c)
      y[c] = weight[c] * (in[c] * scale);
  }
  return absl::OkStatus();
}

} // namespace switchyard::runtime::reference
