//===- SamplingTest.cpp - The distribution generate --do-sample draws from ===//
//
// Temperature, top-k (ties kept) and top-p (the least probable removed while
// their mass is at most 1 - p, the most probable always kept) on
// hand-computed logits, in transformers' order, and the option errors.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Runtime/Generate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace switchyard::runtime {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pointwise;

/// softmax(logits / temperature) in double.
std::vector<double> softmax(const std::vector<float> &logits,
                            double temperature = 1) {
  std::vector<double> p;
  double sum = 0;
  for (float logit : logits)
    sum += p.emplace_back(std::exp(logit / temperature));
  for (double &v : p)
    v /= sum;
  return p;
}

std::vector<double> distribution(const std::vector<float> &logits,
                                 SamplingOptions options) {
  absl::StatusOr<std::vector<double>> p = samplingDistribution(logits, options);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : std::vector<double>();
}

SamplingOptions keepAll() {
  SamplingOptions options;
  options.sample = true;
  options.topK = 0;
  return options;
}

TEST(SamplingTest, TemperatureScalesTheLogits) {
  const std::vector<float> logits = {0.5f, -1.0f, 2.0f, 0.0f};
  SamplingOptions options = keepAll();
  EXPECT_THAT(distribution(logits, options),
              Pointwise(DoubleNear(1e-7), softmax(logits)));
  options.temperature = 0.5f;
  EXPECT_THAT(distribution(logits, options),
              Pointwise(DoubleNear(1e-7), softmax(logits, 0.5)));
}

TEST(SamplingTest, TopKKeepsTiesWithTheKth) {
  SamplingOptions options = keepAll();
  options.topK = 2;
  std::vector<double> p = distribution({1, 3, 2, 0}, options);
  std::vector<double> kept = softmax({3, 2});
  EXPECT_THAT(p, Pointwise(DoubleNear(1e-7),
                           std::vector<double>{0, kept[0], kept[1], 0}));
  // The second largest logit is tied: both stay.
  p = distribution({1, 3, 2, 2}, options);
  kept = softmax({3, 2, 2});
  EXPECT_THAT(p, Pointwise(DoubleNear(1e-7),
                           std::vector<double>{0, kept[0], kept[1], kept[2]}));
  // A k beyond the vocabulary keeps everything.
  options.topK = 9;
  EXPECT_THAT(distribution({1, 3, 2, 0}, options),
              Pointwise(DoubleNear(1e-7), softmax({1, 3, 2, 0})));
}

TEST(SamplingTest, TopPRemovesTheLeastProbableMass) {
  // Probabilities 0.5, 0.3, 0.15, 0.05: ascending cumulative 0.05, 0.2,
  // 0.5, 1.
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f),
                                     std::log(0.15f), std::log(0.05f)};
  SamplingOptions options = keepAll();
  options.topP = 0.9f; // removes while the mass is <= 0.1: 0.05
  EXPECT_THAT(
      distribution(logits, options),
      Pointwise(DoubleNear(1e-6),
                std::vector<double>{0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}));
  options.topP = 0.75f; // mass <= 0.25: 0.05 and 0.15
  EXPECT_THAT(
      distribution(logits, options),
      Pointwise(DoubleNear(1e-6), std::vector<double>{0.625, 0.375, 0, 0}));
  options.topP = 1e-6f; // only the most probable
  EXPECT_THAT(distribution(logits, options), ElementsAre(1, 0, 0, 0));
}

TEST(SamplingTest, TopKBeforeTopP) {
  // Top-k 3 leaves 0.5, 0.3, 0.15 (renormalized: 0.526, 0.316, 0.158); top-p
  // 0.8 then removes 0.158 (<= 0.2) but not 0.316.
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f),
                                     std::log(0.15f), std::log(0.05f)};
  SamplingOptions options = keepAll();
  options.topK = 3;
  options.topP = 0.8f;
  EXPECT_THAT(
      distribution(logits, options),
      Pointwise(DoubleNear(1e-6), std::vector<double>{0.625, 0.375, 0, 0}));
}

TEST(SamplingTest, OptionErrors) {
  const std::vector<float> logits = {0, 1};
  SamplingOptions options = keepAll();
  options.temperature = 0;
  EXPECT_THAT(samplingDistribution(logits, options).status().message(),
              HasSubstr("the temperature must be positive, got 0"));
  options = keepAll();
  options.topK = -1;
  EXPECT_THAT(checkSampling(options).message(),
              HasSubstr("top-k must be 0 (all tokens) or positive, got -1"));
  options = keepAll();
  options.topP = 1.5f;
  EXPECT_THAT(checkSampling(options).message(),
              HasSubstr("top-p must be in (0, 1], got 1.5"));
  options.topP = std::nanf("");
  EXPECT_FALSE(checkSampling(options).ok());
}

} // namespace
} // namespace switchyard::runtime
