//===- TopKRoutingTest.cpp - Top-k route, dispatch and combine ------------===//
//
// Hand-computed top-k cases (docs/dialects.md, "Top-k routing") on one
// device: choices, positions (all first choices before any second choice),
// drops per choice, the gate normalizations, and dispatch and combine over
// a choices dimension in any position.
//
//===----------------------------------------------------------------------===//

#include "ExecTestUtil.h"

#include "runtime/exec/ElementTypes.h"

#include <cmath>
#include <map>

namespace switchyard::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using testing::f32Tensor;
using ::testing::FloatEq;
using ::testing::FloatNear;
using testing::floats;
using testing::i32Tensor;
using testing::ints;
using testing::OpFields;
using ::testing::Pointwise;
using testing::ProgramBuilder;
using testing::randomValues;
using testing::runProgram;
using testing::TestDim;
using testing::transpose;
namespace fb = ::switchyard::executable;

/// Route, dispatch and combine fields: tokens t, experts e, capacity c,
/// choices k.
OpFields topK(fb::GateNormalization normalization, int64_t capacity = 0) {
  OpFields f;
  f.tokensDim = "t";
  f.expertsDim = "e";
  f.capacityDim = "c";
  f.choicesDim = "k";
  f.capacity = capacity;
  f.gateNormalization = normalization;
  return f;
}

/// A route of input "logits" (`logits`) into outputs "expert", "gate",
/// "position" and "dropped" of dimensions `routing`, the gate of type
/// `gateType`.
ProgramBuilder routeProgram(const std::vector<TestDim> &logits,
                            const std::vector<TestDim> &routing,
                            OpFields fields,
                            fb::DType gateType = fb::DType::F32) {
  ProgramBuilder p;
  int z = p.value(logits);
  int expert = p.value(routing, fb::DType::I32);
  int gate = p.value(routing, gateType);
  int position = p.value(routing, fb::DType::I32);
  int dropped = p.value(routing, fb::DType::I1);
  p.op(fb::OpKind::Route, {z}, {expert, gate, position, dropped}, fields);
  p.input("logits", z);
  p.output("expert", expert);
  p.output("gate", gate);
  p.output("position", position);
  p.output("dropped", dropped);
  return p;
}

/// Logits whose softmax is `probabilities` (each row sums to 1).
std::vector<float> logitsOf(const std::vector<float> &probabilities) {
  std::vector<float> z;
  for (float p : probabilities)
    z.push_back(std::log(p));
  return z;
}

std::vector<uint8_t> bools(const HostTensor &t) {
  const auto *bits = static_cast<const uint8_t *>(t.data());
  return {bits, bits + t.numElements()};
}

std::vector<float> bf16s(const HostTensor &t) {
  const auto *bits = static_cast<const uint16_t *>(t.data());
  std::vector<float> values;
  for (int64_t i = 0; i < t.numElements(); ++i)
    values.push_back(bf16ToFloat(bits[i]));
  return values;
}

/// Five tokens of three experts, top-2 at capacity 2, in groups [g:2] that
/// route alike (they do not compete):
///   t0 [.5 .3 .2] -> e0 p0, e1 p1
///   t1 [.2 .5 .3] -> e1 p0, e2 p1
///   t2 [.6 .1 .3] -> e0 p1, e2 p2 dropped
///   t3 [.3 .2 .5] -> e2 p0, e0 p3 dropped (after all three first e0s)
///   t4 [.7 .2 .1] -> e0 p2 dropped, e1 p2 dropped
const TestDim kG{"g", 2}, kT{"t", 5}, kE{"e", 3}, kK{"k", 2};

std::vector<float> twoGroupLogits() {
  const std::vector<float> group =
      logitsOf({.5f, .3f, .2f, .2f, .5f, .3f, .6f, .1f, .3f, .3f, .2f, .5f, .7f,
                .2f, .1f});
  std::vector<float> z = group;
  z.insert(z.end(), group.begin(), group.end());
  return z;
}

/// `group` (one group's [t, k] values) for both groups.
template <typename T> std::vector<T> twice(std::vector<T> group) {
  group.insert(group.end(), group.begin(), group.end());
  return group;
}

/// Runs the five-token route under `normalization` with results in the
/// order `routing`; the outputs come back in [g, t, k] order.
struct TopTwo {
  std::vector<int32_t> expert, position;
  std::vector<float> gate;
  std::vector<uint8_t> dropped;
};
TopTwo routeFiveTokens(fb::GateNormalization normalization,
                       const std::vector<TestDim> &routing) {
  std::map<std::string, HostTensor> inputs;
  inputs["logits"] = f32Tensor({2, 5, 3}, twoGroupLogits());
  absl::StatusOr<RunResult> run = runProgram(
      routeProgram({kG, kT, kE}, routing, topK(normalization, 2)), inputs);
  EXPECT_TRUE(run.ok()) << run.status();
  if (!run.ok())
    return {};
  const std::vector<TestDim> canonical = {kG, kT, kK};
  return {transpose(ints(*run->find("expert")), routing, canonical),
          transpose(ints(*run->find("position")), routing, canonical),
          transpose(floats(*run->find("gate")), routing, canonical),
          transpose(bools(*run->find("dropped")), routing, canonical)};
}

TEST(TopKRouteTest, SecondChoicesTakeSlotsAfterAllFirstChoices) {
  // The choices dimension last, first, and between the others.
  for (const std::vector<TestDim> &routing :
       {std::vector<TestDim>{kG, kT, kK}, {kK, kG, kT}, {kT, kK, kG}}) {
    SCOPED_TRACE(routing[0].name + routing[1].name + routing[2].name);
    TopTwo r = routeFiveTokens(fb::GateNormalization::None, routing);
    EXPECT_EQ(r.expert, twice<int32_t>({0, 1, 1, 2, 0, 2, 2, 0, 0, 1}));
    EXPECT_EQ(r.position, twice<int32_t>({0, 1, 0, 1, 1, 2, 0, 3, 2, 2}));
    EXPECT_EQ(r.dropped, twice<uint8_t>({0, 0, 0, 0, 0, 1, 0, 1, 1, 1}));
    // Without normalization: each choice's probability, dropped or not.
    EXPECT_THAT(r.gate, Pointwise(FloatNear(1e-6f),
                                  twice<float>({.5f, .3f, .5f, .3f, .6f, .3f,
                                                .5f, .3f, .7f, .2f})));
  }
}

TEST(TopKRouteTest, NormalizeBeforeDrops) {
  TopTwo r = routeFiveTokens(fb::GateNormalization::BeforeDrops, {kG, kK, kT});
  EXPECT_THAT(r.gate, Pointwise(FloatNear(1e-6f),
                                twice<float>({.625f, .375f, .625f, .375f,
                                              2.f / 3, 1.f / 3, .625f, .375f,
                                              7.f / 9, 2.f / 9})));
  EXPECT_EQ(r.dropped, twice<uint8_t>({0, 0, 0, 0, 0, 1, 0, 1, 1, 1}));
}

TEST(TopKRouteTest, NormalizeAfterDrops) {
  TopTwo r = routeFiveTokens(fb::GateNormalization::AfterDrops, {kK, kT, kG});
  // A token with one kept choice gets gate 1 on it (exactly: p / p); t4
  // keeps neither, and its gates are 0, not 0 / epsilon.
  EXPECT_THAT(r.gate, Pointwise(FloatNear(1e-6f),
                                twice<float>({.625f, .375f, .625f, .375f, 1, 0,
                                              1, 0, 0, 0})));
  EXPECT_EQ(r.gate[4], 1.0f);
  EXPECT_EQ(r.gate[7], 0.0f);
  EXPECT_EQ(r.gate[8], 0.0f);
  EXPECT_EQ(r.gate[9], 0.0f);
}

TEST(TopKRouteTest, TiesPickTheFirstExpertNotChosen) {
  // Three choices of four experts: equal logits in index order; a tie with
  // an expert already chosen goes to the next one.
  const TestDim t{"t", 3}, e{"e", 4}, k{"k", 3};
  std::map<std::string, HostTensor> inputs;
  inputs["logits"] = f32Tensor({3, 4}, {1, 1, 1, 0, 3, 1, 3, 1, 0, 2, 2, 2});
  absl::StatusOr<RunResult> run = runProgram(
      routeProgram({t, e}, {t, k}, topK(fb::GateNormalization::None, 3)),
      inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(ints(*run->find("expert")),
              ElementsAre(0, 1, 2, 0, 2, 1, 1, 2, 3));
  // Choice 1 of token 1 (expert 2) has choice 0's probability.
  const std::vector<float> gate = floats(*run->find("gate"));
  EXPECT_EQ(gate[3], gate[4]);
  EXPECT_EQ(gate[6], gate[7]);
}

TEST(TopKRouteTest, AsManyChoicesAsExperts) {
  // Every expert once per token, by falling probability; with capacity 2
  // each expert takes both tokens, the normalized gates sum to 1.
  const TestDim t{"t", 2}, e{"e", 3}, k{"k", 3};
  std::map<std::string, HostTensor> inputs;
  inputs["logits"] =
      f32Tensor({2, 3}, logitsOf({.2f, .5f, .3f, .6f, .1f, .3f}));
  absl::StatusOr<RunResult> run = runProgram(
      routeProgram({t, e}, {k, t}, topK(fb::GateNormalization::BeforeDrops, 2)),
      inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  // [k, t]: choice 0 of both tokens, then choice 1, then choice 2.
  EXPECT_THAT(ints(*run->find("expert")), ElementsAre(1, 0, 2, 2, 0, 1));
  EXPECT_THAT(ints(*run->find("position")), ElementsAre(0, 0, 0, 1, 1, 1));
  EXPECT_THAT(bools(*run->find("dropped")), ElementsAre(0, 0, 0, 0, 0, 0));
  EXPECT_THAT(floats(*run->find("gate")),
              Pointwise(FloatNear(1e-6f), {.5f, .6f, .3f, .3f, .2f, .1f}));
}

TEST(TopKRouteTest, OneChoiceIsTop1) {
  // Bit for bit, with the choices dimension in the middle.
  const TestDim g{"g", 2}, t{"t", 7}, e{"e", 4}, k{"k", 1};
  std::map<std::string, HostTensor> inputs;
  inputs["logits"] = f32Tensor({2, 7, 4}, randomValues(2 * 7 * 4, 5));
  OpFields top1 = topK(fb::GateNormalization::None, 2);
  top1.choicesDim.clear();
  absl::StatusOr<RunResult> one =
      runProgram(routeProgram({g, t, e}, {g, t}, top1), inputs);
  absl::StatusOr<RunResult> choices = runProgram(
      routeProgram({g, t, e}, {g, k, t}, topK(fb::GateNormalization::None, 2)),
      inputs);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(choices.ok()) << choices.status();
  for (const char *name : {"expert", "position"})
    EXPECT_EQ(ints(*one->find(name)), ints(*choices->find(name))) << name;
  EXPECT_EQ(floats(*one->find("gate")), floats(*choices->find("gate")));
  EXPECT_EQ(bools(*one->find("dropped")), bools(*choices->find("dropped")));
  EXPECT_THAT(bools(*one->find("dropped")), ::testing::Contains(1));
}

TEST(TopKRouteTest, Bf16GatesRoundTheProbabilitiesFirst) {
  // Token 0's experts 1 and 2 differ in f32 but tie in bf16: the f32 route
  // picks 2 then 1, the bf16 route 1 then 2. The normalized bf16 gates
  // divide the rounded probabilities in f32 and round once.
  const TestDim t{"t", 2}, e{"e", 3}, k{"k", 2};
  std::map<std::string, HostTensor> inputs;
  inputs["logits"] = f32Tensor({2, 3}, {0, 1, 1.001f, 0, 2, 1});
  auto route = [&](fb::GateNormalization normalization, fb::DType gateType) {
    return runProgram(
        routeProgram({t, e}, {t, k}, topK(normalization, 4), gateType), inputs);
  };
  absl::StatusOr<RunResult> f32 =
      route(fb::GateNormalization::None, fb::DType::F32);
  absl::StatusOr<RunResult> raw =
      route(fb::GateNormalization::None, fb::DType::BF16);
  absl::StatusOr<RunResult> normalized =
      route(fb::GateNormalization::BeforeDrops, fb::DType::BF16);
  ASSERT_TRUE(f32.ok()) << f32.status();
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE(normalized.ok()) << normalized.status();
  const std::vector<float> p = floats(*f32->find("gate"));
  ASSERT_LT(p[1], p[0]);
  ASSERT_EQ(floatToBf16(p[0]), floatToBf16(p[1]));
  EXPECT_THAT(ints(*f32->find("expert")), ElementsAre(2, 1, 1, 2));
  EXPECT_THAT(ints(*raw->find("expert")), ElementsAre(1, 2, 1, 2));
  EXPECT_THAT(ints(*normalized->find("expert")), ElementsAre(1, 2, 1, 2));
  std::vector<float> rounded, expected;
  for (int i : {1, 0, 2, 3})
    rounded.push_back(bf16ToFloat(floatToBf16(p[i])));
  EXPECT_EQ(bf16s(*raw->find("gate")), rounded);
  for (int i = 0; i < 4; ++i)
    expected.push_back(bf16ToFloat(floatToBf16(
        rounded[i] / (rounded[i / 2 * 2] + rounded[i / 2 * 2 + 1]))));
  EXPECT_EQ(bf16s(*normalized->find("gate")), expected);
}

/// Four tokens [t:4, d:2] of two experts at capacity 3, choices first
/// ([k, t]); token 2 keeps only its first choice, token 3 neither:
///   t0 -> e0 c0, e1 c2;  t1 -> e1 c0, e0 c2;  t2 -> e1 c1, (e0);
///   t3 -> (e0), (e1).
const TestDim kRoutedT{"t", 4}, kTwoE{"e", 2}, kC{"c", 3}, kD{"d", 2};
std::map<std::string, HostTensor> handRoutes() {
  std::map<std::string, HostTensor> inputs;
  inputs["expert"] = i32Tensor({2, 4}, {0, 1, 1, 0, 1, 0, 0, 1});
  inputs["position"] = i32Tensor({2, 4}, {0, 0, 1, 3, 2, 2, 3, 3});
  inputs["dropped"] = *HostTensor::allocate(DType::Bool, {2, 4});
  auto *dropped = static_cast<uint8_t *>(inputs["dropped"].data());
  for (int i : {3, 6, 7})
    dropped[i] = 1;
  return inputs;
}

TEST(TopKMoveTest, DispatchCopiesATokenIntoEveryKeptChoice) {
  ProgramBuilder p;
  int x = p.value({kRoutedT, kD});
  int expert = p.value({kK, kRoutedT}, fb::DType::I32);
  int position = p.value({kK, kRoutedT}, fb::DType::I32);
  int dropped = p.value({kK, kRoutedT}, fb::DType::I1);
  int slots = p.value({kTwoE, kC, kD});
  p.op(fb::OpKind::Dispatch, {x, expert, position, dropped}, {slots},
       topK(fb::GateNormalization::None));
  for (auto [name, value] : {std::pair{"x", x},
                             {"expert", expert},
                             {"position", position},
                             {"dropped", dropped}})
    p.input(name, value);
  p.output("slots", slots);
  std::map<std::string, HostTensor> inputs = handRoutes();
  inputs["x"] = f32Tensor({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(floats(*run->find("slots")),
              ElementsAre(1, 2, 0, 0, 3, 4, 3, 4, 5, 6, 1, 2));
}

/// Combine of slots [e:2, c:3, d:2] with the hand routes and gates
/// [[.5 .25 1 .5] [.5 .75 .25 .5]]; with `residual`, input "r" is added.
absl::StatusOr<RunResult> combineHandRoutes(bool residual) {
  ProgramBuilder p;
  int slots = p.value({kTwoE, kC, kD});
  int expert = p.value({kK, kRoutedT}, fb::DType::I32);
  int position = p.value({kK, kRoutedT}, fb::DType::I32);
  int dropped = p.value({kK, kRoutedT}, fb::DType::I1);
  int gate = p.value({kK, kRoutedT});
  std::vector<int> operands = {slots, expert, position, dropped, gate};
  std::map<std::string, HostTensor> inputs = handRoutes();
  if (residual) {
    operands.push_back(p.value({kRoutedT, kD}));
    p.input("r", operands.back());
    inputs["r"] = f32Tensor({4, 2}, {1, 1, 2, 2, 3, 3, 4, 4});
  }
  int y = p.value({kRoutedT, kD});
  p.op(fb::OpKind::Combine, operands, {y}, topK(fb::GateNormalization::None));
  for (auto [name, value] : {std::pair{"slots", slots},
                             {"expert", expert},
                             {"position", position},
                             {"dropped", dropped},
                             {"gate", gate}})
    p.input(name, value);
  p.output("y", y);
  inputs["slots"] =
      f32Tensor({2, 3, 2}, {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120});
  inputs["gate"] = f32Tensor({2, 4}, {.5f, .25f, 1, .5f, .5f, .75f, .25f, .5f});
  return runProgram(p, inputs);
}

TEST(TopKMoveTest, CombineSumsTheGatedKeptChoices) {
  // t0: .5 (10 20) + .5 (110 120); t1: .25 (70 80) + .75 (50 60);
  // t2: 1 (90 100), its dropped choice ignored; t3: exactly zero.
  absl::StatusOr<RunResult> run = combineHandRoutes(false);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(floats(*run->find("y")),
              ElementsAre(60, 70, 55, 65, 90, 100, 0, 0));
}

TEST(TopKMoveTest, CombineAddsTheResidual) {
  // A token with no kept choice gets the residual alone.
  absl::StatusOr<RunResult> run = combineHandRoutes(true);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(floats(*run->find("y")),
              ElementsAre(61, 71, 57, 67, 93, 103, 4, 4));
}

TEST(TopKMoveTest, RouteDispatchCombineRoundTrip) {
  // Identity experts and normalization after drops: a token with a kept
  // choice comes back as x + r (its kept gates sum to 1), one without as r.
  // Routing values [t, k, g], buffers [c, g, e, d].
  const TestDim g{"g", 2}, t{"t", 8}, e{"e", 4}, k{"k", 2}, c{"c", 2},
      d{"d", 3};
  ProgramBuilder p;
  int logits = p.value({g, t, e});
  int x = p.value({t, d, g});
  int r = p.value({g, t, d});
  const std::vector<TestDim> routing = {t, k, g};
  int expert = p.value(routing, fb::DType::I32);
  int gate = p.value(routing);
  int position = p.value(routing, fb::DType::I32);
  int dropped = p.value(routing, fb::DType::I1);
  int slots = p.value({c, g, e, d});
  int y = p.value({g, t, d});
  const OpFields f = topK(fb::GateNormalization::AfterDrops, 2);
  p.op(fb::OpKind::Route, {logits}, {expert, gate, position, dropped}, f);
  p.op(fb::OpKind::Dispatch, {x, expert, position, dropped}, {slots}, f);
  p.op(fb::OpKind::Combine, {slots, expert, position, dropped, gate, r}, {y},
       f);
  p.input("logits", logits);
  p.input("x", x);
  p.input("r", r);
  p.output("expert", expert);
  p.output("dropped", dropped);
  p.output("y", y);
  const std::vector<float> xs = randomValues(2 * 8 * 3, 31),
                           rs = randomValues(2 * 8 * 3, 32);
  std::map<std::string, HostTensor> inputs;
  inputs["logits"] = f32Tensor({2, 8, 4}, randomValues(2 * 8 * 4, 30));
  inputs["x"] = f32Tensor({8, 3, 2}, xs);
  inputs["r"] = f32Tensor({2, 8, 3}, rs);
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  const std::vector<int32_t> experts =
      transpose(ints(*run->find("expert")), routing, {g, t, k});
  const std::vector<uint8_t> drops =
      transpose(bools(*run->find("dropped")), routing, {g, t, k});
  const std::vector<float> xInGtd = transpose(xs, {t, d, g}, {g, t, d});
  std::vector<float> expected = rs;
  int neither = 0;
  for (int64_t token = 0; token < 2 * 8; ++token) {
    EXPECT_NE(experts[2 * token], experts[2 * token + 1]);
    const bool kept = !drops[2 * token] || !drops[2 * token + 1];
    neither += !kept;
    if (kept)
      for (int64_t i = 0; i < 3; ++i)
        expected[3 * token + i] += xInGtd[3 * token + i];
  }
  EXPECT_GT(neither, 0);
  EXPECT_THAT(floats(*run->find("y")), Pointwise(FloatNear(1e-5f), expected));
}

} // namespace
} // namespace switchyard::runtime
