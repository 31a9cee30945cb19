//===- Routing.cpp - Switch top-1 routing, dispatch and combine -----------===//

#include "test/Runtime/Reference/Routing.h"

#include "test/Runtime/Reference/KernelUtil.h"
#include "test/Runtime/Reference/Normalization.h"
#include "switchyard/Runtime/Status.h"

#include <algorithm>
#include <climits>
#include <vector>

namespace switchyard::runtime::reference {

namespace {

absl::Status checkShape(absl::string_view kernel, const RoutingShape &shape) {
  if (shape.groups < 0 || shape.tokens < 0 || shape.experts < 1 ||
      shape.capacity < 0 || shape.tokens > INT32_MAX ||
      shape.experts > INT32_MAX)
    return absl::InvalidArgumentError(
        absl::StrCat(kernel, ": invalid routing shape (groups ", shape.groups,
                     ", tokens ", shape.tokens, ", experts ", shape.experts,
                     ", capacity ", shape.capacity, ")"));
  return absl::OkStatus();
}

/// Checks the routes of dispatch and combine: every kept token's expert and
/// position are in range.
absl::Status checkRoutes(absl::string_view kernel, const RoutingShape &shape,
                         absl::Span<const int32_t> expert,
                         absl::Span<const int32_t> position) {
  const int64_t count = shape.groups * shape.tokens;
  SY_RETURN_IF_ERROR(checkOperand(kernel, "expert", expert.size(),
                                  {shape.groups, shape.tokens}));
  SY_RETURN_IF_ERROR(checkOperand(kernel, "position", position.size(),
                                  {shape.groups, shape.tokens}));
  for (int64_t i = 0; i < count; ++i) {
    if (position[i] == -1)
      continue;
    if (expert[i] < 0 || expert[i] >= shape.experts || position[i] < 0 ||
        position[i] >= shape.capacity)
      return absl::OutOfRangeError(
          absl::StrCat(kernel, ": token ", i % shape.tokens, " of group ",
                       i / shape.tokens, " has expert ", expert[i],
                       " and position ", position[i], ", outside ",
                       shape.experts, " experts of capacity ", shape.capacity));
  }
  return absl::OkStatus();
}

} // namespace

absl::Status top1Route(const RoutingShape &shape,
                       absl::Span<const float> logits, Top1Routes routes) {
  const auto &[groups, tokens, experts, capacity] = shape;
  SY_RETURN_IF_ERROR(checkShape("top1_route", shape));
  SY_RETURN_IF_ERROR(checkOperand("top1_route", "logits", logits.size(),
                                  {groups, tokens, experts}));
  for (auto [name, size] : {std::pair{"expert", routes.expert.size()},
                            {"gate", routes.gate.size()},
                            {"position", routes.position.size()},
                            {"dropped", routes.dropped.size()}})
    SY_RETURN_IF_ERROR(
        checkOperand("top1_route", name, size, {groups, tokens}));

  std::vector<float> probs(experts);
  std::vector<int64_t> counts(experts);
  for (int64_t g = 0; g < groups; ++g) {
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t t = 0; t < tokens; ++t) {
      const int64_t i = g * tokens + t;
      SY_RETURN_IF_ERROR(softmax(logits.subspan(i * experts, experts), experts,
                                 absl::MakeSpan(probs)));
      // std::max_element returns the first maximum.
      const int64_t e =
          std::max_element(probs.begin(), probs.end()) - probs.begin();
      const bool kept = ++counts[e] <= capacity;
      routes.expert[i] = static_cast<int32_t>(e);
      routes.gate[i] = probs[e];
      routes.position[i] = kept ? static_cast<int32_t>(counts[e] - 1) : -1;
      routes.dropped[i] = kept ? 0 : 1;
    }
  }
  return absl::OkStatus();
}

absl::Status dispatch(const RoutingShape &shape, int64_t dModel,
                      absl::Span<const float> tokens,
                      absl::Span<const int32_t> expert,
                      absl::Span<const int32_t> position,
                      absl::Span<float> slots, absl::Span<int32_t> filled) {
  const auto &[groups, length, experts, capacity] = shape;
  SY_RETURN_IF_ERROR(checkShape("dispatch", shape));
  SY_RETURN_IF_ERROR(checkOperand("dispatch", "tokens", tokens.size(),
                                  {groups, length, dModel}));
  SY_RETURN_IF_ERROR(checkOperand("dispatch", "slots", slots.size(),
                                  {groups, experts, capacity, dModel}));
  SY_RETURN_IF_ERROR(
      checkOperand("dispatch", "filled", filled.size(), {groups, experts}));
  SY_RETURN_IF_ERROR(checkRoutes("dispatch", shape, expert, position));

  std::vector<uint8_t> used(experts * capacity);
  for (int64_t g = 0; g < groups; ++g) {
    std::fill(used.begin(), used.end(), 0);
    int32_t *count = filled.data() + g * experts;
    std::fill(count, count + experts, 0);
    for (int64_t t = 0; t < length; ++t) {
      const int64_t i = g * length + t;
      if (position[i] == -1)
        continue;
      const int64_t slot = expert[i] * capacity + position[i];
      if (used[slot])
        return absl::InvalidArgumentError(
            absl::StrCat("dispatch: two tokens of group ", g, " take position ",
                         position[i], " of expert ", expert[i]));
      used[slot] = 1;
      ++count[expert[i]];
      const float *src = tokens.data() + i * dModel;
      std::copy(src, src + dModel,
                slots.data() + (g * experts * capacity + slot) * dModel);
    }
    for (int64_t e = 0; e < experts; ++e) {
      if (!std::all_of(used.begin() + e * capacity,
                       used.begin() + e * capacity + count[e],
                       [](uint8_t u) { return u; }))
        return absl::InvalidArgumentError(
            absl::StrCat("dispatch: the positions of expert ", e, " in group ",
                         g, " are not 0 to ", count[e] - 1));
      float *unused =
          slots.data() + ((g * experts + e) * capacity + count[e]) * dModel;
      std::fill(unused, unused + (capacity - count[e]) * dModel, 0.0f);
    }
  }
  return absl::OkStatus();
}

absl::Status combine(const RoutingShape &shape, int64_t dModel,
                     absl::Span<const float> slots,
                     absl::Span<const int32_t> expert,
                     absl::Span<const int32_t> position,
                     absl::Span<const float> gate, absl::Span<float> out) {
  const auto &[groups, length, experts, capacity] = shape;
  SY_RETURN_IF_ERROR(checkShape("combine", shape));
  SY_RETURN_IF_ERROR(checkOperand("combine", "slots", slots.size(),
                                  {groups, experts, capacity, dModel}));
  SY_RETURN_IF_ERROR(
      checkOperand("combine", "gate", gate.size(), {groups, length}));
  SY_RETURN_IF_ERROR(
      checkOperand("combine", "out", out.size(), {groups, length, dModel}));
  SY_RETURN_IF_ERROR(checkRoutes("combine", shape, expert, position));

  for (int64_t i = 0; i < groups * length; ++i) {
    float *dst = out.data() + i * dModel;
    if (position[i] == -1) {
      std::fill(dst, dst + dModel, 0.0f);
      continue;
    }
    const int64_t g = i / length;
    const float *src =
        slots.data() +
        ((g * experts + expert[i]) * capacity + position[i]) * dModel;
    for (int64_t d = 0; d < dModel; ++d)
      dst[d] = src[d] * gate[i];
  }
  return absl::OkStatus();
}

} // namespace switchyard::runtime::reference
