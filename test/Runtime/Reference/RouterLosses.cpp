//===- RouterLosses.cpp - Switch router z-loss and load-balancing loss ----===//
//
// Per-token values are computed in f32 as Hugging Face does; the means are
// accumulated in double and rounded once.
//
//===----------------------------------------------------------------------===//

#include "test/Runtime/Reference/RouterLosses.h"

#include "test/Runtime/Reference/KernelUtil.h"
#include "test/Runtime/Reference/Normalization.h"
#include "switchyard/Runtime/Status.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace switchyard::runtime::reference {

namespace {

absl::Status checkLogits(absl::string_view kernel,
                         absl::Span<const float> logits, int64_t groups,
                         int64_t tokens, int64_t experts) {
  if (groups < 1 || tokens < 1 || experts < 1)
    return absl::InvalidArgumentError(
        absl::StrCat(kernel, ": needs at least one group, token and expert"));
  return checkOperand(kernel, "logits", logits.size(),
                      {groups, tokens, experts});
}

} // namespace

absl::StatusOr<float> routerZLoss(absl::Span<const float> logits,
                                  int64_t groups, int64_t tokens,
                                  int64_t experts) {
  SY_RETURN_IF_ERROR(
      checkLogits("router_z_loss", logits, groups, tokens, experts));
  double total = 0.0;
  for (int64_t i = 0; i < groups * tokens; ++i) {
    const float *z = logits.data() + i * experts;
    const float max = *std::max_element(z, z + experts);
    float sum = 0.0f;
    for (int64_t e = 0; e < experts; ++e)
      sum += std::exp(z[e] - max);
    const float logSumExp = max + std::log(sum);
    total += logSumExp * logSumExp;
  }
  return static_cast<float>(total / static_cast<double>(groups * tokens));
}

absl::StatusOr<float> loadBalancingLoss(absl::Span<const float> logits,
                                        int64_t groups, int64_t tokens,
                                        int64_t experts) {
  SY_RETURN_IF_ERROR(
      checkLogits("load_balancing_loss", logits, groups, tokens, experts));
  std::vector<float> probs(experts);
  std::vector<double> chosen(experts), probSum(experts);
  double total = 0.0;
  for (int64_t g = 0; g < groups; ++g) {
    std::fill(chosen.begin(), chosen.end(), 0.0);
    std::fill(probSum.begin(), probSum.end(), 0.0);
    for (int64_t t = 0; t < tokens; ++t) {
      absl::Span<const float> z =
          logits.subspan((g * tokens + t) * experts, experts);
      ++chosen[std::max_element(z.begin(), z.end()) - z.begin()];
      SY_RETURN_IF_ERROR(softmax(z, experts, absl::MakeSpan(probs)));
      for (int64_t e = 0; e < experts; ++e)
        probSum[e] += probs[e];
    }
    for (int64_t e = 0; e < experts; ++e)
      total += (chosen[e] / tokens) * (probSum[e] / tokens);
  }
  const double mean = total / static_cast<double>(groups * experts);
  return static_cast<float>(mean * static_cast<double>(experts * experts));
}

} // namespace switchyard::runtime::reference
