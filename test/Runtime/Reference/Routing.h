//===- Routing.h - Switch top-1 routing, dispatch and combine ---*- C++ -*-===//
//
// The numerics of Hugging Face's SwitchTransformersTop1Router and sparse MLP
// (HF-SWITCH-SEMANTICS 1 and 2). Dispatch is a scatter into per-expert slot
// buffers and combine a gather, both O(tokens x d_model) (DESIGN.md,
// decision 3).
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_TEST_RUNTIME_REFERENCE_ROUTING_H
#define SWITCHYARD_TEST_RUNTIME_REFERENCE_ROUTING_H

#include "absl/status/status.h"
#include "absl/types/span.h"

#include <cstdint>

namespace switchyard::runtime::reference {

/// The sizes of a routing problem. Tokens compete for capacity only within
/// their group (HF: a batch row).
struct RoutingShape {
  int64_t groups = 0;
  int64_t tokens = 0;
  int64_t experts = 0;
  /// Slots per expert and group; 0 drops every token.
  int64_t capacity = 0;
};

/// The per-token outputs of the router, each [groups, tokens].
struct Top1Routes {
  /// argmax of the probabilities, the first maximum winning.
  absl::Span<int32_t> expert;
  /// The chosen expert's probability, whether or not the token is kept.
  absl::Span<float> gate;
  /// The token's slot in its expert's buffer, or -1 when dropped.
  absl::Span<int32_t> position;
  /// 1 when the expert was already full, else 0.
  absl::Span<uint8_t> dropped;
};

/// Routes each token of `logits` [groups, tokens, experts] (f32 router
/// logits) to one expert: softmax, argmax of the probabilities, and slots in
/// token order, a token kept iff it is among the first `capacity` of its
/// group to choose its expert.
[[nodiscard]] absl::Status top1Route(const RoutingShape &shape,
                                     absl::Span<const float> logits,
                                     Top1Routes routes);

/// Scatters `tokens` [groups, tokens, dModel] into `slots` [groups, experts,
/// capacity, dModel] at each kept token's (expert, position), zero-filling
/// the unused slots, and sets `filled` [groups, experts] to the number of
/// used slots (which are the first ones). Positions must be distinct and
/// contiguous from 0 per (group, expert), as top1Route makes them.
[[nodiscard]] absl::Status dispatch(const RoutingShape &shape, int64_t dModel,
                                    absl::Span<const float> tokens,
                                    absl::Span<const int32_t> expert,
                                    absl::Span<const int32_t> position,
                                    absl::Span<float> slots,
                                    absl::Span<int32_t> filled);

/// out[g, t] = gate[g, t] * slots[g, expert, position] for kept tokens and
/// exactly 0 for dropped ones (position -1).
[[nodiscard]] absl::Status combine(const RoutingShape &shape, int64_t dModel,
                                   absl::Span<const float> slots,
                                   absl::Span<const int32_t> expert,
                                   absl::Span<const int32_t> position,
                                   absl::Span<const float> gate,
                                   absl::Span<float> out);

} // namespace switchyard::runtime::reference

#endif // SWITCHYARD_TEST_RUNTIME_REFERENCE_ROUTING_H
