//===- RouterLosses.h - Router z-loss and load-balancing loss ---*- C++ -*-===//
//
// The auxiliary losses of one stack (HF-SWITCH-SEMANTICS 5.2-5.4), computed
// from the raw router logits of all its sparse blocks concatenated along the
// token axis: [groups, blocks * tokens, experts].
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_TEST_RUNTIME_REFERENCE_ROUTERLOSSES_H
#define SWITCHYARD_TEST_RUNTIME_REFERENCE_ROUTERLOSSES_H

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cstdint>

namespace switchyard::runtime::reference {

/// z = mean over (group, token) of logsumexp_e(logits)^2.
[[nodiscard]] absl::StatusOr<float> routerZLoss(absl::Span<const float> logits,
                                                int64_t groups, int64_t tokens,
                                                int64_t experts);

/// aux = E^2 * mean over (group, expert) of f[g, e] * p[g, e], where f is
/// the fraction of the group's tokens whose argmax of the raw logits (first
/// maximum; not capacity-masked) is e, and p the mean softmax probability of
/// e over the group's tokens.
[[nodiscard]] absl::StatusOr<float>
loadBalancingLoss(absl::Span<const float> logits, int64_t groups,
                  int64_t tokens, int64_t experts);

} // namespace switchyard::runtime::reference

#endif // SWITCHYARD_TEST_RUNTIME_REFERENCE_ROUTERLOSSES_H
