//===- TensorTest.cpp - Tests of HostTensor and slice copies --------------===//

#include "switchyard/Runtime/Tensor.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <numeric>

namespace switchyard::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TensorTest, AllocateIsZeroedAndAligned) {
  absl::StatusOr<HostTensor> t = HostTensor::allocate(DType::F32, {2, 3});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->ownsData());
  EXPECT_EQ(t->numElements(), 6);
  EXPECT_EQ(t->byteSize(), 24u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data()) % 64, 0u);
  EXPECT_THAT(t->span<float>(), ElementsAre(0, 0, 0, 0, 0, 0));
  HostTensor v = t->view();
  EXPECT_FALSE(v.ownsData());
  EXPECT_EQ(v.data(), t->data());
  EXPECT_EQ(v.shape(), t->shape());
}

TEST(TensorTest, LargeTensorsGetTheirOwnMapping) {
  // 3 MiB + 4 bytes: a mapping of two huge pages, zero-filled by the kernel.
  const int64_t count = (3 << 20) / 4 + 1;
  absl::StatusOr<HostTensor> t = HostTensor::allocate(DType::F32, {count});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data()) % (2 << 20), 0u);
  absl::Span<float> values = t->span<float>();
  EXPECT_TRUE(std::all_of(values.begin(), values.end(),
                          [](float v) { return v == 0.0f; }));
  values.front() = 1.0f;
  values.back() = 2.0f;
  // Moving hands the mapping over; the moved-to tensor frees it.
  HostTensor moved = std::move(*t);
  EXPECT_EQ(moved.span<float>().back(), 2.0f);
  moved = *HostTensor::allocate(DType::F32, {count});
  EXPECT_EQ(moved.span<float>().front(), 0.0f);
}

TEST(TensorTest, ScalarAndEmpty) {
  absl::StatusOr<HostTensor> scalar = HostTensor::allocate(DType::I64, {});
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(scalar->numElements(), 1);
  EXPECT_EQ(scalar->byteSize(), 8u);
  absl::StatusOr<HostTensor> empty = HostTensor::allocate(DType::BF16, {0, 7});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->byteSize(), 0u);
}

TEST(TensorTest, RejectsBadShapes) {
  absl::StatusOr<HostTensor> negative = HostTensor::allocate(DType::F32, {-1});
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(negative.status().message(), HasSubstr("negative dimension"));
  absl::StatusOr<HostTensor> huge =
      HostTensor::allocate(DType::F32, {1LL << 40, 1LL << 40});
  EXPECT_THAT(huge.status().message(), HasSubstr("too large"));
  EXPECT_FALSE(HostTensor::view(DType::F32, {2}, nullptr).ok());
}

TEST(TensorTest, CopySlice) {
  std::vector<int32_t> src(2 * 3 * 4);
  std::iota(src.begin(), src.end(), 0);
  std::vector<int64_t> shape = {2, 3, 4};
  std::vector<DimRange> slice = {{1, 2}, {0, 3}, {1, 3}};
  absl::StatusOr<std::vector<int64_t>> sliced = sliceShape(shape, slice);
  ASSERT_TRUE(sliced.ok());
  EXPECT_THAT(*sliced, ElementsAre(1, 3, 2));
  std::vector<int32_t> dst(6);
  copySlice(src.data(), shape, sizeof(int32_t), slice, dst.data());
  EXPECT_THAT(dst, ElementsAre(13, 14, 17, 18, 21, 22));

  EXPECT_EQ(sliceShape(shape, {{0, 1}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sliceShape(shape, {{0, 3}, {0, 3}, {0, 4}}).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_FALSE(sliceShape(shape, {{1, 0}, {0, 3}, {0, 4}}).ok());
}

} // namespace
} // namespace switchyard::runtime
