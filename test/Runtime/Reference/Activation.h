//===- Activation.h - Element-wise activation functions ---------*- C++ -*-===//

#ifndef SWITCHYARD_TEST_RUNTIME_REFERENCE_ACTIVATION_H
#define SWITCHYARD_TEST_RUNTIME_REFERENCE_ACTIVATION_H

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace switchyard::runtime::reference {

/// The feed-forward activations of Switch/T5 (HF-SWITCH-SEMANTICS 2.1).
enum class Activation {
  Identity,
  Relu,
  /// The exact form 0.5 x (1 + erf(x / sqrt 2)).
  Gelu,
  /// The tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  GeluNew,
};

/// The activation of a Hugging Face `dense_act_fn` name: "relu", "gelu",
/// "gelu_new" (or "linear").
[[nodiscard]] absl::StatusOr<Activation>
parseActivation(absl::string_view name);

/// Applies `activation` to `values` in place.
void applyActivation(Activation activation, absl::Span<float> values);

} // namespace switchyard::runtime::reference

#endif // SWITCHYARD_TEST_RUNTIME_REFERENCE_ACTIVATION_H
