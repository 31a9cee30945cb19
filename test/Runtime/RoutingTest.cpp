//===- RoutingTest.cpp - Tests of routing, dispatch, combine and losses ---===//
//
// Small hand-checked cases of HF-SWITCH-SEMANTICS 1, 2 and 5.
//
//===----------------------------------------------------------------------===//

#include "test/Runtime/Reference/Routing.h"
#include "test/Runtime/Reference/RouterLosses.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <vector>

namespace switchyard::runtime::reference {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;

/// The router's outputs, owned.
struct Routes {
  explicit Routes(int64_t count)
      : expert(count, -7), gate(count, -7), position(count, -7),
        dropped(count, 7) {}
  Top1Routes spans() {
    return {absl::MakeSpan(expert), absl::MakeSpan(gate),
            absl::MakeSpan(position), absl::MakeSpan(dropped)};
  }
  std::vector<int32_t> expert;
  std::vector<float> gate;
  std::vector<int32_t> position;
  std::vector<uint8_t> dropped;
};

/// softmax(logits)[e] in double.
double probability(std::vector<double> logits, int e) {
  double sum = 0;
  for (double z : logits)
    sum += std::exp(z);
  return std::exp(logits[e]) / sum;
}

TEST(Top1RouteTest, CapacityInTokenOrder) {
  RoutingShape shape{1, 4, 3, 2};
  std::vector<float> logits = {0, 1, 0, 0, 2, 1, 1, 3, 0, 5, 0, 0};
  Routes routes(4);
  ASSERT_TRUE(top1Route(shape, logits, routes.spans()).ok());
  EXPECT_THAT(routes.expert, ElementsAre(1, 1, 1, 0));
  EXPECT_THAT(routes.position, ElementsAre(0, 1, -1, 0));
  EXPECT_THAT(routes.dropped, ElementsAre(0, 0, 1, 0));
  EXPECT_THAT(routes.gate,
              ElementsAre(FloatNear(probability({0, 1, 0}, 1), 1e-7),
                          FloatNear(probability({0, 2, 1}, 1), 1e-7),
                          FloatNear(probability({1, 3, 0}, 1), 1e-7),
                          FloatNear(probability({5, 0, 0}, 0), 1e-7)));
}

TEST(Top1RouteTest, GroupsDoNotCompete) {
  RoutingShape shape{2, 2, 2, 1};
  std::vector<float> logits = {1, 0, 1, 0, 1, 0, 0, 1};
  Routes routes(4);
  ASSERT_TRUE(top1Route(shape, logits, routes.spans()).ok());
  EXPECT_THAT(routes.expert, ElementsAre(0, 0, 0, 1));
  EXPECT_THAT(routes.position, ElementsAre(0, -1, 0, 0));
  EXPECT_THAT(routes.dropped, ElementsAre(0, 1, 0, 0));
}

TEST(Top1RouteTest, TiesPickTheFirstMaximalProbability) {
  RoutingShape shape{1, 2, 3, 4};
  // Equal logits; and logits 0 < 1e-30 whose probabilities are bit-equal, so
  // the lower index wins although argmax of the logits would be expert 2.
  std::vector<float> logits = {2, 2, 1, -1, 0, 1e-30f};
  Routes routes(2);
  ASSERT_TRUE(top1Route(shape, logits, routes.spans()).ok());
  EXPECT_THAT(routes.expert, ElementsAre(0, 1));
  EXPECT_THAT(routes.gate[0], FloatNear(probability({2, 2, 1}, 0), 1e-7));
  EXPECT_THAT(routes.gate[1], FloatNear(probability({-1, 0, 0}, 1), 1e-7));
}

TEST(Top1RouteTest, ZeroCapacityDropsEverything) {
  RoutingShape shape{1, 3, 2, 0};
  std::vector<float> logits = {1, 0, 0, 1, 3, 3};
  Routes routes(3);
  ASSERT_TRUE(top1Route(shape, logits, routes.spans()).ok());
  EXPECT_THAT(routes.expert, ElementsAre(0, 1, 0));
  EXPECT_THAT(routes.position, ElementsAre(-1, -1, -1));
  EXPECT_THAT(routes.dropped, ElementsAre(1, 1, 1));
  EXPECT_THAT(routes.gate[2], FloatNear(0.5f, 1e-7));
}

TEST(Top1RouteTest, RejectsWrongSizes) {
  Routes routes(2);
  std::vector<float> logits(5);
  absl::Status status = top1Route({1, 2, 3, 1}, logits, routes.spans());
  EXPECT_THAT(status.message(),
              HasSubstr("logits has 5 elements, expected [1, 2, 3] = 6"));
  logits.resize(6);
  EXPECT_FALSE(top1Route({1, 2, 0, 1}, logits, routes.spans()).ok());
  EXPECT_FALSE(top1Route({1, 3, 2, 1}, logits, routes.spans()).ok());
}

TEST(DispatchTest, ScattersAndZeroFills) {
  // 4 tokens of d_model 2 routed as in CapacityInTokenOrder.
  RoutingShape shape{1, 4, 3, 2};
  std::vector<float> tokens = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<int32_t> expert = {1, 1, 1, 0}, position = {0, 1, -1, 0};
  std::vector<float> slots(12, 99.0f);
  std::vector<int32_t> filled(3, -1);
  ASSERT_TRUE(dispatch(shape, 2, tokens, expert, position,
                       absl::MakeSpan(slots), absl::MakeSpan(filled))
                  .ok());
  EXPECT_THAT(slots, ElementsAre(7, 8, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0));
  EXPECT_THAT(filled, ElementsAre(1, 2, 0));
}

TEST(DispatchTest, ZeroCapacity) {
  RoutingShape shape{2, 1, 2, 0};
  std::vector<float> tokens = {1, 2};
  std::vector<int32_t> expert = {0, 1}, position = {-1, -1};
  std::vector<float> slots;
  std::vector<int32_t> filled(4, -1);
  ASSERT_TRUE(dispatch(shape, 1, tokens, expert, position,
                       absl::MakeSpan(slots), absl::MakeSpan(filled))
                  .ok());
  EXPECT_THAT(filled, ElementsAre(0, 0, 0, 0));
}

TEST(DispatchTest, RejectsBadPositions) {
  RoutingShape shape{1, 2, 2, 2};
  std::vector<float> tokens(2), slots(4);
  std::vector<int32_t> filled(2);
  auto run = [&](std::vector<int32_t> expert, std::vector<int32_t> position) {
    return dispatch(shape, 1, tokens, expert, position, absl::MakeSpan(slots),
                    absl::MakeSpan(filled));
  };
  EXPECT_THAT(run({0, 0}, {0, 0}).message(),
              HasSubstr("two tokens of group 0 take position 0 of expert 0"));
  EXPECT_THAT(run({0, 0}, {1, -1}).message(),
              HasSubstr("positions of expert 0 in group 0 are not 0 to 0"));
  EXPECT_EQ(run({2, 0}, {0, -1}).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(run({0, 0}, {2, -1}).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(run({0, 0}, {-2, -1}).code(), absl::StatusCode::kOutOfRange);
}

TEST(CombineTest, GatesKeptTokensAndZeroesDropped) {
  RoutingShape shape{1, 4, 3, 2};
  std::vector<float> slots = {7, 8, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0};
  std::vector<int32_t> expert = {1, 1, 1, 0}, position = {0, 1, -1, 0};
  std::vector<float> gate = {0.5f, 0.25f, 0.9f, 2.0f};
  std::vector<float> out(8, std::numeric_limits<float>::quiet_NaN());
  ASSERT_TRUE(
      combine(shape, 2, slots, expert, position, gate, absl::MakeSpan(out))
          .ok());
  EXPECT_THAT(out,
              ElementsAre(0.5f, 1.0f, 0.75f, 1.0f, 0.0f, 0.0f, 14.0f, 16.0f));
  EXPECT_FALSE(std::signbit(out[4]));
}

TEST(CombineTest, RejectsBadRoutes) {
  RoutingShape shape{1, 1, 2, 1};
  std::vector<float> slots(2), gate(1), out(1);
  std::vector<int32_t> expert = {0}, position = {1};
  EXPECT_EQ(
      combine(shape, 1, slots, expert, position, gate, absl::MakeSpan(out))
          .code(),
      absl::StatusCode::kOutOfRange);
  EXPECT_FALSE(
      combine(shape, 1, slots, expert, position, {}, absl::MakeSpan(out)).ok());
}

TEST(RouterZLossTest, MeanOfSquaredLogSumExp) {
  std::vector<float> logits = {0, 0, 1, 1, 2, -1};
  absl::StatusOr<float> z = routerZLoss(logits, 1, 3, 2);
  ASSERT_TRUE(z.ok());
  double a = std::log(2.0), b = 1 + std::log(2.0),
         c = std::log(std::exp(2.0) + std::exp(-1.0));
  EXPECT_NEAR(*z, (a * a + b * b + c * c) / 3, 1e-6);
  EXPECT_FALSE(routerZLoss(logits, 1, 2, 2).ok());
  EXPECT_FALSE(routerZLoss({}, 0, 1, 1).ok());
}

/// E^2 * mean_{g,e} f[g,e] * p[g,e], in double from `choices`.
double expectedAux(const std::vector<std::vector<double>> &rows,
                   const std::vector<int> &choices, int groups) {
  const int tokens = rows.size() / groups, experts = rows[0].size();
  double total = 0;
  for (int g = 0; g < groups; ++g)
    for (int e = 0; e < experts; ++e) {
      double f = 0, p = 0;
      for (int t = 0; t < tokens; ++t) {
        f += choices[g * tokens + t] == e;
        p += probability(rows[g * tokens + t], e);
      }
      total += (f / tokens) * (p / tokens);
    }
  return experts * experts * total / (groups * experts);
}

TEST(LoadBalancingLossTest, UsesArgmaxOfRawLogits) {
  // Row 0's probabilities tie (the router picks expert 0) but its logits do
  // not: the loss counts it for expert 1.
  std::vector<float> logits = {0, 1e-30f, 0, -1};
  absl::StatusOr<float> aux = loadBalancingLoss(logits, 1, 2, 2);
  ASSERT_TRUE(aux.ok());
  std::vector<std::vector<double>> rows = {{0, 1e-30}, {0, -1}};
  EXPECT_NEAR(*aux, expectedAux(rows, {1, 0}, 1), 1e-6);
  EXPECT_NEAR(*aux, 1.0, 1e-6);
  EXPECT_GT(std::abs(expectedAux(rows, {0, 0}, 1) - 1.0), 0.1);
}

TEST(LoadBalancingLossTest, PerGroupMeansOverPooledPositions) {
  // Two groups of three positions (e.g. two sparse blocks' logits
  // concatenated), three experts; ties in the logits pick the first.
  std::vector<std::vector<double>> rows = {{2, 0, 0}, {1, 0, 1},  {0, 0.5, 0},
                                           {0, 0, 3}, {-1, 2, 0}, {0, 0, 3}};
  std::vector<float> logits;
  for (const auto &row : rows)
    logits.insert(logits.end(), row.begin(), row.end());
  absl::StatusOr<float> aux = loadBalancingLoss(logits, 2, 3, 3);
  ASSERT_TRUE(aux.ok());
  EXPECT_NEAR(*aux, expectedAux(rows, {0, 0, 1, 2, 1, 2}, 2), 1e-6);
}

} // namespace
} // namespace switchyard::runtime::reference
