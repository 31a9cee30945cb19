//===- Activation.cpp - Element-wise activation functions -----------------===//

#include "test/Runtime/Reference/Activation.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>

namespace switchyard::runtime::reference {

absl::StatusOr<Activation> parseActivation(absl::string_view name) {
  if (name == "relu")
    return Activation::Relu;
  if (name == "gelu")
    return Activation::Gelu;
  if (name == "gelu_new")
    return Activation::GeluNew;
  if (name == "linear")
    return Activation::Identity;
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported activation '", name,
                   "' (expected relu, gelu, gelu_new or linear)"));
}

void applyActivation(Activation activation, absl::Span<float> values) {
  switch (activation) {
  case Activation::Identity:
    return;
  case Activation::Relu:
    for (float &x : values)
      x = std::max(x, 0.0f);
    return;
  case Activation::Gelu:
    for (float &x : values)
      x = 0.5f * x * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
    return;
  case Activation::GeluNew: {
    const float scale = std::sqrt(2.0f / static_cast<float>(M_PI));
    for (float &x : values)
      x = 0.5f * x * (1.0f + std::tanh(scale * (x + 0.044715f * x * x * x)));
    return;
  }
  }
}

} // namespace switchyard::runtime::reference
