//===- RoutingOps.cpp - Switch routing, dispatch, combine and losses ------===//
//
// The numerics of HF-SWITCH-SEMANTICS 1, 2 and 5 over tensors with named
// dimensions: a token's group is its index in every dimension but the
// tokens and experts dimensions. Route, the losses and every probability
// are computed in f32; dispatch is a scatter and combine a gather, both
// O(tokens x choices x features) (DESIGN.md, decision 3). Top-k routing
// (docs/dialects.md) carries a token's choices along a choices dimension of
// the routing values; without one, a token has one choice (top-1).
//
//===----------------------------------------------------------------------===//

#include "runtime/exec/ElementTypes.h"
#include "runtime/exec/Kernels.h"
#include "runtime/exec/Strided.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace switchyard::runtime {

namespace {

/// Softmax of `count` logits (stride `stride`) into `probs`, in f32.
void softmaxRow(DType dtype, const void *logits, int64_t base, int64_t stride,
                int64_t count, float *probs) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t e = 0; e < count; ++e) {
    probs[e] = loadAsFloat(dtype, logits, base + e * stride);
    max = std::max(max, probs[e]);
  }
  float sum = 0.0f;
  for (int64_t e = 0; e < count; ++e) {
    probs[e] = std::exp(probs[e] - max);
    sum += probs[e];
  }
  const float inverse = 1.0f / sum;
  for (int64_t e = 0; e < count; ++e)
    probs[e] *= inverse;
}

/// `value` rounded to the float type `dtype`.
float roundedTo(DType dtype, float value) {
  return visitDType(dtype, [&](auto tag) -> float {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<typename T::Compute>)
      return T::load(T::store(value));
    else
      return value;
  });
}

/// Top-k routing (top-1 without a choices dimension): per group, the
/// choices of every token, then the positions (all first choices in token
/// order, then all second choices, ...), then the gates.
absl::Status runRoute(const OpSpec &op, DeviceContext &c) {
  const TensorSpec &logits = c.type(op.operands[0]);
  const TensorSpec groups = logits.without({op.tokensDim, op.expertsDim});
  const int64_t tokens = logits.dims[logits.find(op.tokensDim)].size;
  const int64_t experts = logits.dims[logits.find(op.expertsDim)].size;
  const int64_t choices = choicesOf(c.type(op.results[0]), op.choicesDim).count;
  const int64_t expertStride = strideOf(logits, op.expertsDim);
  std::vector<std::vector<int64_t>> strides = {stridesIn(logits, groups)};
  std::vector<int64_t> tokenStrides = {strideOf(logits, op.tokensDim)};
  std::vector<int64_t> choiceStrides = {0};
  for (int result : op.results) {
    strides.push_back(stridesIn(c.type(result), groups));
    tokenStrides.push_back(strideOf(c.type(result), op.tokensDim));
    choiceStrides.push_back(choicesOf(c.type(result), op.choicesDim).stride);
  }
  float *probs = Workspace::grow(c.workspace->floats[0], experts);
  // The probabilities of the group's tokens' choices.
  float *chosen = Workspace::grow(c.workspace->floats[1], tokens * choices);
  int64_t *counts = Workspace::grow(c.workspace->counts, experts);
  const DType gateType = c.type(op.results[1]).dtype;
  const bool afterDrops =
      op.gateNormalization == fb::GateNormalization::AfterDrops;
  const void *z = c.data(op.operands[0]);
  auto *expert = static_cast<int32_t *>(c.data(op.results[0]));
  void *gate = c.data(op.results[1]);
  auto *position = static_cast<int32_t *>(c.data(op.results[2]));
  auto *dropped = static_cast<uint8_t *>(c.data(op.results[3]));
  StridedLoop loop(groups.shape(), strides);
  loop.run([&](const int64_t *o) {
    // The offset of choice j of token t in operand or result k.
    auto at = [&](int k, int64_t t, int64_t j) {
      return o[k] + t * tokenStrides[k] + j * choiceStrides[k];
    };
    for (int64_t t = 0; t < tokens; ++t) {
      softmaxRow(logits.dtype, z, at(0, t, 0), expertStride, experts, probs);
      // HF takes the argmax of the probabilities in the activation dtype.
      if (gateType != DType::F32)
        for (int64_t e = 0; e < experts; ++e)
          probs[e] = roundedTo(gateType, probs[e]);
      // Choice j: the most probable expert not chosen before, the first on
      // ties. Chosen experts are marked -1, below every probability.
      for (int64_t j = 0; j < choices; ++j) {
        int64_t best = -1;
        for (int64_t e = 0; e < experts; ++e)
          if (!(probs[e] < 0.0f) && (best < 0 || probs[best] < probs[e]))
            best = e;
        expert[at(1, t, j)] = static_cast<int32_t>(best);
        chosen[t * choices + j] = probs[best];
        probs[best] = -1.0f;
      }
    }
    std::fill(counts, counts + experts, 0);
    for (int64_t j = 0; j < choices; ++j)
      for (int64_t t = 0; t < tokens; ++t) {
        const int64_t slot = counts[expert[at(1, t, j)]]++;
        position[at(3, t, j)] = static_cast<int32_t>(slot);
        dropped[at(4, t, j)] = slot >= op.capacity;
      }
    // The gates: the probabilities divided (in f32, rounded once) by 1, by
    // their sum, or by the sum over the kept choices (at least f32's
    // epsilon), a dropped choice's gate 0.
    for (int64_t t = 0; t < tokens; ++t) {
      const float *p = chosen + t * choices;
      auto zeroed = [&](int64_t j) {
        return afterDrops && dropped[at(4, t, j)];
      };
      float sum = 1.0f;
      if (op.gateNormalization != fb::GateNormalization::None) {
        sum = 0.0f;
        for (int64_t j = 0; j < choices; ++j)
          if (!zeroed(j))
            sum += p[j];
        if (afterDrops)
          sum = std::max(sum, std::numeric_limits<float>::epsilon());
      }
      for (int64_t j = 0; j < choices; ++j)
        storeFloat(gateType, gate, at(2, t, j), zeroed(j) ? 0.0f : p[j] / sum);
    }
  });
  return absl::OkStatus();
}

/// Moves the features of one token between its tokens-side and slots-side
/// places. The features are dimensions both sides share beyond the routing
/// dimensions; when they are trailing and in the same order on both sides
/// they are one contiguous run.
class FeatureCopy {
public:
  FeatureCopy(const TensorSpec &tokens, const TensorSpec &slots,
              const TensorSpec &routing) {
    TensorSpec features = tokens;
    features.dims.clear();
    for (const DimSpec &dim : tokens.dims)
      if (routing.find(dim.name) < 0)
        features.dims.push_back(dim);
    count_ = features.numElements();
    tokenStrides_ = stridesIn(tokens, features);
    slotStrides_ = stridesIn(slots, features);
    contiguous_ = tokenStrides_ == rowMajorStrides(features) &&
                  slotStrides_ == rowMajorStrides(features);
    shape_ = features.shape();
  }

  int64_t count() const { return count_; }
  bool contiguous() const { return contiguous_; }
  /// Calls body(tokenOffset, slotOffset) for every feature element.
  template <typename F> void forEach(F &&body) const {
    StridedLoop(shape_, {tokenStrides_, slotStrides_})
        .run([&](const int64_t *o) { body(o[0], o[1]); });
  }

private:
  int64_t count_ = 1;
  bool contiguous_ = true;
  std::vector<int64_t> shape_, tokenStrides_, slotStrides_;
};

/// The checked slot of a kept token, or an error naming it.
absl::Status checkSlot(const OpSpec &op, int32_t expert, int32_t position,
                       int64_t experts, int64_t capacity) {
  if (expert < 0 || expert >= experts || position < 0 || position >= capacity)
    return absl::OutOfRangeError(
        absl::StrCat(opKindName(op.kind), ": a kept token has expert ", expert,
                     " and position ", position, ", outside ", experts,
                     " experts of capacity ", capacity));
  return absl::OkStatus();
}

/// Dispatch (scatter) or combine (gather), token by token: dispatch copies
/// a token into the slot of each of its kept choices; combine sums the
/// gated slots of its kept choices in the compute type (in choice order,
/// then the residual added) and rounds once.
absl::Status runMove(const OpSpec &op, DeviceContext &c) {
  const bool dispatch = op.kind == fb::OpKind::Dispatch;
  const TensorSpec &routing = c.type(op.operands[1]);
  const TensorSpec perToken = routing.without({op.choicesDim});
  const int tokensSide = dispatch ? op.operands[0] : op.results[0];
  const int slotsSide = dispatch ? op.results[0] : op.operands[0];
  const TensorSpec &tokens = c.type(tokensSide), &slots = c.type(slotsSide);
  const int64_t experts = slots.dims[slots.find(op.expertsDim)].size;
  const int64_t capacity = slots.dims[slots.find(op.capacityDim)].size;
  const int64_t expertStride = strideOf(slots, op.expertsDim);
  const int64_t slotStride = strideOf(slots, op.capacityDim);
  const Choices routingChoices = choicesOf(routing, op.choicesDim);
  const int64_t choices = routingChoices.count;
  const FeatureCopy features(tokens, slots, routing);
  const size_t elementSize = dtypeSize(tokens.dtype);
  if (dispatch)
    std::memset(c.data(slotsSide), 0, slots.byteSize());

  // Per token: expert, position, dropped, tokens side, slots side and a
  // combine's gate; the routing operands' choices are `choiceStride` apart.
  std::vector<std::vector<int64_t>> strides = {
      stridesIn(routing, perToken), stridesIn(c.type(op.operands[2]), perToken),
      stridesIn(c.type(op.operands[3]), perToken), stridesIn(tokens, perToken),
      stridesIn(slots, perToken)};
  std::vector<int64_t> choiceStride = {
      routingChoices.stride,
      choicesOf(c.type(op.operands[2]), op.choicesDim).stride,
      choicesOf(c.type(op.operands[3]), op.choicesDim).stride};
  if (!dispatch) {
    strides.push_back(stridesIn(c.type(op.operands[4]), perToken));
    choiceStride.push_back(
        choicesOf(c.type(op.operands[4]), op.choicesDim).stride);
  }
  const auto *expert = static_cast<const int32_t *>(c.data(op.operands[1]));
  const auto *position = static_cast<const int32_t *>(c.data(op.operands[2]));
  const auto *dropped = static_cast<const uint8_t *>(c.data(op.operands[3]));
  auto *tokenData = static_cast<std::byte *>(c.data(tokensSide));
  auto *slotData = static_cast<std::byte *>(c.data(slotsSide));
  // A combine's residual has the result's type: the same offsets.
  const auto *residual =
      op.operands.size() == 6
          ? static_cast<const std::byte *>(c.data(op.operands[5]))
          : nullptr;
  // The slot offsets and gates of one token's kept choices.
  int64_t *keptSlots = Workspace::grow(c.workspace->counts, choices);
  float *keptGates = Workspace::grow(c.workspace->floats[0], choices);
  const DType dtype = tokens.dtype;
  absl::Status status;
  StridedLoop(perToken.shape(), strides).run([&](const int64_t *o) {
    if (!status.ok())
      return;
    int64_t kept = 0;
    for (int64_t j = 0; j < choices; ++j) {
      if (dropped[o[2] + j * choiceStride[2]])
        continue;
      const int32_t e = expert[o[0] + j * choiceStride[0]],
                    p = position[o[1] + j * choiceStride[1]];
      status = checkSlot(op, e, p, experts, capacity);
      if (!status.ok())
        return;
      keptSlots[kept] = o[4] + e * expertStride + p * slotStride;
      if (!dispatch)
        keptGates[kept] =
            loadAsFloat(c.type(op.operands[4]).dtype, c.data(op.operands[4]),
                        o[5] + j * choiceStride[3]);
      ++kept;
    }
    const int64_t tokenBase = o[3];
    if (dispatch) {
      for (int64_t k = 0; k < kept; ++k) {
        const int64_t slotBase = keptSlots[k];
        if (features.contiguous())
          std::memcpy(slotData + slotBase * elementSize,
                      tokenData + tokenBase * elementSize,
                      features.count() * elementSize);
        else
          features.forEach([&](int64_t t, int64_t s) {
            std::memcpy(slotData + (slotBase + s) * elementSize,
                        tokenData + (tokenBase + t) * elementSize, elementSize);
          });
      }
      return;
    }
    if (kept == 0) {
      // The residual alone, or zero.
      auto fill = [&](int64_t offset, int64_t count) {
        if (residual)
          std::memcpy(tokenData + offset * elementSize,
                      residual + offset * elementSize, count * elementSize);
        else
          std::memset(tokenData + offset * elementSize, 0, count * elementSize);
      };
      if (features.contiguous())
        fill(tokenBase, features.count());
      else
        features.forEach([&](int64_t t, int64_t) { fill(tokenBase + t, 1); });
      return;
    }
    visitDType(dtype, [&](auto tag) {
      using T = decltype(tag);
      using S = typename T::Storage;
      if constexpr (std::is_floating_point_v<typename T::Compute>) {
        auto *out = reinterpret_cast<S *>(tokenData) + tokenBase;
        const auto *in = reinterpret_cast<const S *>(slotData);
        const auto *res =
            residual ? reinterpret_cast<const S *>(residual) + tokenBase
                     : nullptr;
        // The first choice's gate and slot in locals: stores to `out`
        // could alias the workspace, which would keep the one-choice loop
        // (all of top-1) from vectorizing.
        const float gate = keptGates[0];
        const S *first = in + keptSlots[0];
        auto combine = [&](int64_t t, int64_t s) {
          auto sum = gate * T::load(first[s]);
          for (int64_t k = 1; k < kept; ++k)
            sum += keptGates[k] * T::load(in[keptSlots[k] + s]);
          out[t] = T::store(res ? T::load(res[t]) + sum : sum);
        };
        if (!features.contiguous())
          features.forEach(combine);
        else if (kept > 1)
          for (int64_t f = 0; f < features.count(); ++f)
            combine(f, f);
        else if (res)
          for (int64_t f = 0; f < features.count(); ++f)
            out[f] = T::store(T::load(res[f]) + gate * T::load(first[f]));
        else
          for (int64_t f = 0; f < features.count(); ++f)
            out[f] = T::store(gate * T::load(first[f]));
      }
    });
  });
  return status;
}

/// Calls body(offset) for the first logit of every position (all indices
/// but the experts dimension's) of `logits`.
template <typename F>
void forEachPosition(const TensorSpec &logits, const std::string &experts,
                     F &&body) {
  const TensorSpec positions = logits.without({experts});
  StridedLoop(positions.shape(), {stridesIn(logits, positions)})
      .run([&](const int64_t *o) { body(o[0]); });
}

void runZLoss(const OpSpec &op, DeviceContext &c) {
  double total = 0.0;
  int64_t positions = 0;
  for (int operand : op.operands) {
    const TensorSpec &logits = c.type(operand);
    const int64_t experts = logits.dims[logits.find(op.expertsDim)].size;
    const int64_t stride = strideOf(logits, op.expertsDim);
    const void *z = c.data(operand);
    forEachPosition(logits, op.expertsDim, [&](int64_t base) {
      float max = -std::numeric_limits<float>::infinity();
      for (int64_t e = 0; e < experts; ++e)
        max = std::max(max, loadAsFloat(logits.dtype, z, base + e * stride));
      float sum = 0.0f;
      for (int64_t e = 0; e < experts; ++e)
        sum += std::exp(loadAsFloat(logits.dtype, z, base + e * stride) - max);
      const float logSumExp = max + std::log(sum);
      total += logSumExp * logSumExp;
      ++positions;
    });
  }
  storeFloat(c.type(op.results[0]).dtype, c.data(op.results[0]), 0,
             positions ? static_cast<float>(total / positions) : 0.0f);
}

void runLoadBalancingLoss(const OpSpec &op, DeviceContext &c) {
  const TensorSpec &first = c.type(op.operands[0]);
  const TensorSpec groups = first.without({op.tokensDim, op.expertsDim});
  const int64_t experts = first.dims[first.find(op.expertsDim)].size;
  const int64_t groupCount = groups.numElements();
  double *chosen = Workspace::grow(c.workspace->sums, 2 * groupCount * experts);
  double *probSum = chosen + groupCount * experts;
  std::fill(chosen, chosen + 2 * groupCount * experts, 0.0);
  float *probs = Workspace::grow(c.workspace->floats[0], experts);
  int64_t tokensPerGroup = 0;
  for (int operand : op.operands) {
    const TensorSpec &logits = c.type(operand);
    const int64_t tokens = logits.dims[logits.find(op.tokensDim)].size;
    const int64_t tokenStride = strideOf(logits, op.tokensDim);
    const int64_t expertStride = strideOf(logits, op.expertsDim);
    const void *z = c.data(operand);
    tokensPerGroup += tokens;
    StridedLoop(groups.shape(),
                {stridesIn(logits, groups), rowMajorStrides(groups)})
        .run([&](const int64_t *o) {
          double *groupChosen = chosen + o[1] * experts;
          double *groupProbs = probSum + o[1] * experts;
          for (int64_t t = 0; t < tokens; ++t) {
            const int64_t base = o[0] + t * tokenStride;
            // The argmax of the raw logits, first maximum winning.
            int64_t best = 0;
            float bestLogit = loadAsFloat(logits.dtype, z, base);
            for (int64_t e = 1; e < experts; ++e) {
              const float v =
                  loadAsFloat(logits.dtype, z, base + e * expertStride);
              if (v > bestLogit) {
                best = e;
                bestLogit = v;
              }
            }
            ++groupChosen[best];
            softmaxRow(logits.dtype, z, base, expertStride, experts, probs);
            for (int64_t e = 0; e < experts; ++e)
              groupProbs[e] += probs[e];
          }
        });
  }
  double total = 0.0;
  for (int64_t i = 0; i < groupCount * experts; ++i)
    total += (chosen[i] / tokensPerGroup) * (probSum[i] / tokensPerGroup);
  const double mean = total / static_cast<double>(groupCount * experts);
  storeFloat(
      c.type(op.results[0]).dtype, c.data(op.results[0]), 0,
      static_cast<float>(tokensPerGroup && groupCount
                             ? mean * static_cast<double>(experts * experts)
                             : 0.0));
}

} // namespace

absl::Status runRoutingOp(const OpSpec &op, DeviceContext &c) {
  switch (op.kind) {
  case fb::OpKind::Route:
    return runRoute(op, c);
  case fb::OpKind::Dispatch:
  case fb::OpKind::Combine:
    return runMove(op, c);
  case fb::OpKind::ZLoss:
    runZLoss(op, c);
    return absl::OkStatus();
  case fb::OpKind::LoadBalancingLoss:
    runLoadBalancingLoss(op, c);
    return absl::OkStatus();
  default:
    return absl::InternalError(
        absl::StrCat(opKindName(op.kind), " is not a routing op"));
  }
}

} // namespace switchyard::runtime
