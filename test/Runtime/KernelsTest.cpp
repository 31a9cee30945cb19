//===- KernelsTest.cpp - Tests of the dense CPU kernels -------------------===//

#include "test/Runtime/Reference/Activation.h"
#include "test/Runtime/Reference/Embedding.h"
#include "test/Runtime/Reference/Gemm.h"
#include "test/Runtime/Reference/Normalization.h"

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
using ::testing::Pointwise;

TEST(SoftmaxTest, RowsAndInPlace) {
  std::vector<float> x = {1, 2, 3, 1000, 1000, 1000};
  std::vector<float> y(6);
  ASSERT_TRUE(softmax(x, 3, absl::MakeSpan(y)).ok());
  double sum = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_THAT(y, ElementsAre(FloatNear(std::exp(1.0) / sum, 1e-7),
                             FloatNear(std::exp(2.0) / sum, 1e-7),
                             FloatNear(std::exp(3.0) / sum, 1e-7),
                             FloatNear(1 / 3.0, 1e-7), FloatNear(1 / 3.0, 1e-7),
                             FloatNear(1 / 3.0, 1e-7)));
  ASSERT_TRUE(softmax(x, 3, absl::MakeSpan(x)).ok());
  EXPECT_EQ(x, y);
  EXPECT_FALSE(softmax(x, 4, absl::MakeSpan(y)).ok());
  EXPECT_FALSE(softmax(x, 3, absl::MakeSpan(y).subspan(1)).ok());
}

TEST(RmsNormTest, NoMeanSubtraction) {
  std::vector<float> x = {3, 4, 1, 1}, w = {1, 2}, y(4);
  ASSERT_TRUE(rmsNorm(x, w, 1e-6f, absl::MakeSpan(y)).ok());
  double s = 1 / std::sqrt(12.5 + 1e-6);
  EXPECT_THAT(y, ElementsAre(FloatNear(3 * s, 1e-6), FloatNear(8 * s, 1e-6),
                             FloatNear(1 / std::sqrt(1 + 1e-6), 1e-6),
                             FloatNear(2 / std::sqrt(1 + 1e-6), 1e-6)));
  EXPECT_FALSE(rmsNorm(x, {1, 2, 3}, 1e-6f, absl::MakeSpan(y)).ok());
}

TEST(ActivationTest, Functions) {
  std::vector<float> x = {-1, 0, 1, 2};
  std::vector<float> relu = x, gelu = x, geluNew = x;
  applyActivation(Activation::Relu, absl::MakeSpan(relu));
  applyActivation(Activation::Gelu, absl::MakeSpan(gelu));
  applyActivation(Activation::GeluNew, absl::MakeSpan(geluNew));
  EXPECT_THAT(relu, ElementsAre(0, 0, 1, 2));
  EXPECT_THAT(gelu, ElementsAre(FloatNear(-0.15865525f, 1e-6), 0,
                                FloatNear(0.84134475f, 1e-6),
                                FloatNear(1.95449974f, 1e-6)));
  EXPECT_THAT(geluNew, ElementsAre(FloatNear(-0.15880801f, 1e-6), 0,
                                   FloatNear(0.84119199f, 1e-6),
                                   FloatNear(1.95459769f, 1e-6)));
  EXPECT_EQ(*parseActivation("gelu_new"), Activation::GeluNew);
  EXPECT_EQ(*parseActivation("relu"), Activation::Relu);
  EXPECT_THAT(parseActivation("gated-gelu").status().message(),
              HasSubstr("unsupported activation 'gated-gelu'"));
}

TEST(EmbeddingTest, GathersRows) {
  std::vector<float> table = {0, 1, 10, 11, 20, 21};
  std::vector<float> out(4);
  std::vector<int32_t> ids = {2, 0};
  ASSERT_TRUE(embed(table, 3, ids, absl::MakeSpan(out)).ok());
  EXPECT_THAT(out, ElementsAre(20, 21, 0, 1));
  std::vector<int64_t> bad = {1, 3};
  absl::Status status = embed(table, 3, bad, absl::MakeSpan(out));
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(status.message(), HasSubstr("id 3 at position 1"));
}

TEST(GemmTest, MatmulAndTranspose) {
  std::vector<float> a = {1, 2, 3, 4, 5, 6};  // [2, 3]
  std::vector<float> b = {1, 0, 0, 1, 1, 1};  // [3, 2]
  std::vector<float> bt = {1, 0, 1, 0, 1, 1}; // [2, 3] = b^T
  std::vector<float> c(4);
  ASSERT_TRUE(matmul({2, 2, 3, false}, a, b, absl::MakeSpan(c)).ok());
  EXPECT_THAT(c, ElementsAre(4, 5, 10, 11));
  ASSERT_TRUE(
      matmul({2, 2, 3, true}, a, bt, absl::MakeSpan(c), 2.0f, 1.0f).ok());
  EXPECT_THAT(c, ElementsAre(12, 15, 30, 33));
  EXPECT_THAT(matmul({2, 2, 4, false}, a, b, absl::MakeSpan(c)).message(),
              HasSubstr("a has 6 elements, expected [2, 4] = 8"));
}

TEST(GemmTest, ExpertMatmulMultipliesFilledRowsOnly) {
  const ExpertGemmShape shape{2, 2, 3, 2, 2, true};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x(2 * 2 * 3 * 2, nan);
  std::vector<int32_t> filled = {2, 0, 3, 1};
  for (int slab = 0; slab < 4; ++slab)
    for (int row = 0; row < filled[slab]; ++row)
      for (int col = 0; col < 2; ++col)
        x[(slab * 3 + row) * 2 + col] = slab + row - col;
  // w[e] is [n, k] (transposed): expert 0 negates, expert 1 swaps columns.
  std::vector<float> w = {-1, 0, 0, -1, 0, 1, 1, 0};
  std::vector<float> y(2 * 2 * 3 * 2, 99.0f);
  ASSERT_TRUE(
      expertMatmul(shape, x, w, filled, absl::MakeSpan(y), Activation::Relu)
          .ok());
  std::vector<float> expected(y.size(), 0.0f);
  for (int slab = 0; slab < 4; ++slab)
    for (int row = 0; row < filled[slab]; ++row) {
      float x0 = x[(slab * 3 + row) * 2], x1 = x[(slab * 3 + row) * 2 + 1];
      bool negate = slab % 2 == 0;
      expected[(slab * 3 + row) * 2] = std::max(negate ? -x0 : x1, 0.0f);
      expected[(slab * 3 + row) * 2 + 1] = std::max(negate ? -x1 : x0, 0.0f);
    }
  EXPECT_THAT(y, Pointwise(::testing::FloatEq(), expected));

  filled[1] = 4;
  EXPECT_THAT(expertMatmul(shape, x, w, filled, absl::MakeSpan(y)).message(),
              HasSubstr("filled count 4 of group 0, expert 1"));
}

} // namespace
} // namespace switchyard::runtime::reference
