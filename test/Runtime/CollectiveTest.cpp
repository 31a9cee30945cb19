//===- CollectiveTest.cpp - Tests of the mesh and the local collectives ---===//
//
// Every collective runs on meshes [2], [4], [2, 2] and [2, 4] over every
// ordered subset of their axes, one thread per device, and is compared
// bit for bit with a serial reference that combines in group order.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Runtime/LocalCollective.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <functional>
#include <thread>

namespace switchyard::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(MeshTest, Numbering) {
  Mesh mesh = *Mesh::create({2, 4});
  EXPECT_EQ(mesh.deviceCount(), 8);
  EXPECT_THAT(mesh.coordinates(6), ElementsAre(1, 2));
  EXPECT_THAT(mesh.group(5, {1}), ElementsAre(4, 5, 6, 7));
  EXPECT_EQ(mesh.groupRank(5, {1}), 1);
  EXPECT_THAT(mesh.group(5, {0}), ElementsAre(1, 5));
  EXPECT_EQ(mesh.groupRank(5, {0}), 1);
  EXPECT_THAT(mesh.group(5, {}), ElementsAre(5));
  EXPECT_THAT(mesh.group(5, {0, 1}), ElementsAre(0, 1, 2, 3, 4, 5, 6, 7));
  EXPECT_THAT(mesh.group(5, {1, 0}), ElementsAre(0, 4, 1, 5, 2, 6, 3, 7));
  EXPECT_EQ(mesh.groupRank(5, {1, 0}), 3);
  EXPECT_EQ(mesh.toString(), "[2, 4]");
}

TEST(MeshTest, Errors) {
  EXPECT_FALSE(Mesh::create({2, 0}).ok());
  EXPECT_EQ(Mesh::create({}).value().deviceCount(), 1);
  Mesh mesh = *Mesh::create({2, 2});
  EXPECT_THAT(mesh.checkAxes({2}).message(), HasSubstr("not an axis"));
  EXPECT_THAT(mesh.checkAxes({0, 0}).message(), HasSubstr("listed twice"));
  EXPECT_TRUE(mesh.checkAxes({1, 0}).ok());
}

TEST(BlockLayoutTest, AlongDimension) {
  BlockLayout layout = *blockLayoutAlong({2, 6, 5}, 1, 3);
  EXPECT_EQ(layout.outer, 2);
  EXPECT_EQ(layout.inner, 10);
  layout = *blockLayoutAlong({4, 3}, 0, 2);
  EXPECT_EQ(layout.outer, 1);
  EXPECT_EQ(layout.inner, 6);
  EXPECT_FALSE(blockLayoutAlong({4, 3}, 1, 2).ok());
  EXPECT_FALSE(blockLayoutAlong({4, 3}, 2, 1).ok());
}

/// Runs `body(endpoint)` on one thread per device and returns the statuses.
std::vector<absl::Status>
runOnDevices(std::vector<std::unique_ptr<Collective>> &endpoints,
             const std::function<absl::Status(Collective &)> &body) {
  std::vector<absl::Status> statuses(endpoints.size());
  std::vector<std::thread> threads;
  for (size_t d = 0; d < endpoints.size(); ++d)
    threads.emplace_back([&, d] { statuses[d] = body(*endpoints[d]); });
  for (std::thread &t : threads)
    t.join();
  return statuses;
}

/// A deterministic, non-trivially rounding value for element i of device d.
float valueOf(int64_t device, int64_t i) {
  return 0.1f * (device + 1) + 0.37f * i - 0.011f * device * i;
}

/// a op b for a reduction.
float combined(ReduceOp op, float a, float b) {
  switch (op) {
  case ReduceOp::Sum:
    return a + b;
  case ReduceOp::Max:
    return std::max(a, b);
  case ReduceOp::Min:
    return std::min(a, b);
  }
  return 0.0f;
}

struct MeshAxes {
  std::vector<int64_t> mesh;
  std::vector<int> axes;
};

std::string nameOf(const ::testing::TestParamInfo<MeshAxes> &info) {
  std::string name = "mesh";
  for (int64_t size : info.param.mesh)
    name += "_" + std::to_string(size);
  name += "_axes";
  for (int axis : info.param.axes)
    name += "_" + std::to_string(axis);
  return name;
}

std::vector<MeshAxes> allMeshAxes() {
  std::vector<MeshAxes> result;
  for (std::vector<int64_t> mesh :
       {std::vector<int64_t>{2}, {4}, {2, 2}, {2, 4}}) {
    std::vector<std::vector<int>> subsets = {{}, {0}};
    if (mesh.size() == 2)
      subsets = {{}, {0}, {1}, {0, 1}, {1, 0}};
    for (const std::vector<int> &axes : subsets)
      result.push_back({mesh, axes});
  }
  return result;
}

class CollectiveTest : public ::testing::TestWithParam<MeshAxes> {
protected:
  void SetUp() override {
    mesh_ = *Mesh::create(GetParam().mesh);
    axes_ = GetParam().axes;
    endpoints_ = *createLocalCollectives(mesh_, {absl::Seconds(30)});
    groupSize_ = mesh_.group(0, axes_).size();
  }

  /// Element i of device d's input.
  std::vector<float> input(int64_t device, int64_t count) const {
    std::vector<float> values(count);
    for (int64_t i = 0; i < count; ++i)
      values[i] = valueOf(device, i);
    return values;
  }

  /// Runs `body(endpoint, input, output)` on every device with `inCount`
  /// input and `outCount` output elements; returns the outputs.
  std::vector<std::vector<float>>
  run(int64_t inCount, int64_t outCount,
      const std::function<absl::Status(Collective &, const float *, float *)>
          &body) {
    std::vector<std::vector<float>> outputs(
        mesh_.deviceCount(), std::vector<float>(outCount, -1.0f));
    std::vector<std::vector<float>> inputs;
    for (int64_t d = 0; d < mesh_.deviceCount(); ++d)
      inputs.push_back(input(d, inCount));
    std::vector<absl::Status> statuses =
        runOnDevices(endpoints_, [&](Collective &c) {
          return body(c, inputs[c.rank()].data(), outputs[c.rank()].data());
        });
    for (const absl::Status &status : statuses)
      EXPECT_TRUE(status.ok()) << status;
    return outputs;
  }

  Mesh mesh_ = *Mesh::create({});
  std::vector<int> axes_;
  std::vector<std::unique_ptr<Collective>> endpoints_;
  int64_t groupSize_ = 1;
};

TEST_P(CollectiveTest, AllReduce) {
  const int64_t count = 7;
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
    auto outputs =
        run(count, count, [&](Collective &c, const float *in, float *out) {
          return c.allReduce(axes_, DType::F32, in, out, count, op);
        });
    for (int64_t d = 0; d < mesh_.deviceCount(); ++d) {
      std::vector<int64_t> group = mesh_.group(d, axes_);
      for (int64_t i = 0; i < count; ++i) {
        float expected = valueOf(group[0], i);
        for (size_t k = 1; k < group.size(); ++k)
          expected = combined(op, expected, valueOf(group[k], i));
        EXPECT_EQ(outputs[d][i], expected) << "device " << d << " i " << i;
      }
    }
  }
}

TEST_P(CollectiveTest, AllReduceInPlaceAndIntegers) {
  const int64_t count = 5;
  std::vector<std::vector<int32_t>> buffers(mesh_.deviceCount());
  for (int64_t d = 0; d < mesh_.deviceCount(); ++d)
    for (int64_t i = 0; i < count; ++i)
      buffers[d].push_back(static_cast<int32_t>(10 * d + i));
  std::vector<absl::Status> statuses =
      runOnDevices(endpoints_, [&](Collective &c) {
        int32_t *buffer = buffers[c.rank()].data();
        return c.allReduce(axes_, DType::I32, buffer, buffer, count,
                           ReduceOp::Sum);
      });
  for (int64_t d = 0; d < mesh_.deviceCount(); ++d) {
    ASSERT_TRUE(statuses[d].ok()) << statuses[d];
    std::vector<int64_t> group = mesh_.group(d, axes_);
    for (int64_t i = 0; i < count; ++i) {
      int32_t expected = 0;
      for (int64_t member : group)
        expected += static_cast<int32_t>(10 * member + i);
      EXPECT_EQ(buffers[d][i], expected);
    }
  }
}

TEST_P(CollectiveTest, AllGatherAlongDimension1) {
  // Local [3, 2] gathered along dimension 1 into [3, 2n].
  const int64_t n = groupSize_;
  BlockLayout layout = *blockLayoutAlong({3, 2 * n}, 1, n);
  auto outputs = run(6, 6 * n, [&](Collective &c, const float *in, float *out) {
    return c.allGather(axes_, DType::F32, in, out, layout);
  });
  for (int64_t d = 0; d < mesh_.deviceCount(); ++d) {
    std::vector<int64_t> group = mesh_.group(d, axes_);
    for (int64_t row = 0; row < 3; ++row)
      for (int64_t col = 0; col < 2 * n; ++col)
        EXPECT_EQ(outputs[d][row * 2 * n + col],
                  valueOf(group[col / 2], row * 2 + col % 2));
  }
}

TEST_P(CollectiveTest, ReduceScatterAlongDimension1) {
  // Local [2, 3n] reduced and scattered along dimension 1 into [2, 3].
  const int64_t n = groupSize_;
  BlockLayout layout = *blockLayoutAlong({2, 3 * n}, 1, n);
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
    auto outputs =
        run(6 * n, 6, [&](Collective &c, const float *in, float *out) {
          return c.reduceScatter(axes_, DType::F32, in, layout, out, op);
        });
    for (int64_t d = 0; d < mesh_.deviceCount(); ++d) {
      std::vector<int64_t> group = mesh_.group(d, axes_);
      int64_t r = mesh_.groupRank(d, axes_);
      for (int64_t row = 0; row < 2; ++row)
        for (int64_t col = 0; col < 3; ++col) {
          int64_t i = row * 3 * n + r * 3 + col;
          float expected = valueOf(group[0], i);
          for (size_t k = 1; k < group.size(); ++k)
            expected = combined(op, expected, valueOf(group[k], i));
          EXPECT_EQ(outputs[d][row * 3 + col], expected);
        }
    }
  }
}

TEST_P(CollectiveTest, AllToAllSplitExpertsConcatGroups) {
  // Dispatch's exchange: local [G=2, E=2n, K=3], split E, concat G:
  // out [2n, 2, 3], out[i*2 + g, e, k] = in_i[g, r*2 + e, k].
  const int64_t n = groupSize_;
  BlockLayout in = *blockLayoutAlong({2, 2 * n, 3}, 1, n);
  BlockLayout out = *blockLayoutAlong({2 * n, 2, 3}, 0, n);
  auto outputs = run(
      12 * n, 12 * n, [&](Collective &c, const float *input, float *output) {
        return c.allToAll(axes_, DType::F32, input, in, output, out);
      });
  for (int64_t d = 0; d < mesh_.deviceCount(); ++d) {
    std::vector<int64_t> group = mesh_.group(d, axes_);
    int64_t r = mesh_.groupRank(d, axes_);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t g = 0; g < 2; ++g)
        for (int64_t e = 0; e < 2; ++e)
          for (int64_t k = 0; k < 3; ++k)
            EXPECT_EQ(outputs[d][((i * 2 + g) * 2 + e) * 3 + k],
                      valueOf(group[i], (g * 2 * n + r * 2 + e) * 3 + k));
  }
}

TEST_P(CollectiveTest, AllToAllSplitRowsConcatColumns) {
  // Local [2n, 3], split dimension 0, concat dimension 1: out [2, 3n],
  // out[x, i*3 + y] = in_i[r*2 + x, y].
  const int64_t n = groupSize_;
  BlockLayout in = *blockLayoutAlong({2 * n, 3}, 0, n);
  BlockLayout out = *blockLayoutAlong({2, 3 * n}, 1, n);
  auto outputs =
      run(6 * n, 6 * n, [&](Collective &c, const float *input, float *output) {
        return c.allToAll(axes_, DType::F32, input, in, output, out);
      });
  for (int64_t d = 0; d < mesh_.deviceCount(); ++d) {
    std::vector<int64_t> group = mesh_.group(d, axes_);
    int64_t r = mesh_.groupRank(d, axes_);
    for (int64_t x = 0; x < 2; ++x)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t y = 0; y < 3; ++y)
          EXPECT_EQ(outputs[d][x * 3 * n + i * 3 + y],
                    valueOf(group[i], (r * 2 + x) * 3 + y));
  }
}

TEST_P(CollectiveTest, ManyCallsAreDeterministic) {
  const int64_t count = 33;
  std::vector<float> first;
  for (int repeat = 0; repeat < 3; ++repeat) {
    auto outputs =
        run(count, count, [&](Collective &c, const float *in, float *out) {
          std::vector<float> buffer(in, in + count);
          for (int step = 0; step < 20; ++step) {
            absl::Status status =
                c.allReduce(axes_, DType::F32, buffer.data(), buffer.data(),
                            count, ReduceOp::Sum);
            if (!status.ok())
              return status;
            for (float &x : buffer)
              x *= 0.3f;
          }
          std::copy(buffer.begin(), buffer.end(), out);
          return absl::OkStatus();
        });
    if (repeat == 0)
      first = outputs[0];
    EXPECT_EQ(outputs[0], first);
    for (int64_t d : mesh_.group(0, axes_))
      EXPECT_EQ(outputs[d], outputs[0]);
  }
}

INSTANTIATE_TEST_SUITE_P(Meshes, CollectiveTest,
                         ::testing::ValuesIn(allMeshAxes()), nameOf);

TEST(LocalCollectiveTest, MissingDeviceTimesOut) {
  Mesh mesh = *Mesh::create({2, 2});
  auto endpoints = *createLocalCollectives(mesh, {absl::Milliseconds(200)});
  absl::Time start = absl::Now();
  std::vector<absl::Status> statuses =
      runOnDevices(endpoints, [&](Collective &c) {
        if (c.rank() == 3)
          return absl::OkStatus();
        float x = 1.0f;
        return c.allReduce({0, 1}, DType::F32, &x, &x, 1, ReduceOp::Sum);
      });
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  int deadlines = 0;
  for (int d = 0; d < 3; ++d) {
    EXPECT_FALSE(statuses[d].ok());
    if (absl::IsDeadlineExceeded(statuses[d])) {
      ++deadlines;
      EXPECT_THAT(statuses[d].message(), HasSubstr("waiting for devices [3]"));
    } else {
      EXPECT_TRUE(absl::IsAborted(statuses[d])) << statuses[d];
    }
  }
  EXPECT_GE(deadlines, 1);
  // The mesh stays failed: later calls return at once.
  float x = 1.0f;
  absl::Status later =
      endpoints[3]->allReduce({1}, DType::F32, &x, &x, 1, ReduceOp::Sum);
  EXPECT_TRUE(absl::IsAborted(later)) << later;
}

TEST(LocalCollectiveTest, DisagreeingCallsFailEverywhere) {
  Mesh mesh = *Mesh::create({2});
  auto endpoints = *createLocalCollectives(mesh, {absl::Seconds(30)});
  std::vector<absl::Status> statuses =
      runOnDevices(endpoints, [&](Collective &c) {
        std::vector<float> buffer(5, 1.0f);
        return c.allReduce({0}, DType::F32, buffer.data(), buffer.data(),
                           4 + c.rank(), ReduceOp::Sum);
      });
  for (const absl::Status &status : statuses) {
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
    EXPECT_THAT(status.message(), HasSubstr("disagree"));
  }
  // The group is still usable.
  statuses = runOnDevices(endpoints, [&](Collective &c) {
    float x = 1.0f;
    return c.allReduce({0}, DType::F32, &x, &x, 1, ReduceOp::Sum);
  });
  for (const absl::Status &status : statuses)
    EXPECT_TRUE(status.ok()) << status;
}

TEST(LocalCollectiveTest, InvalidArguments) {
  Mesh mesh = *Mesh::create({2});
  auto endpoints = *createLocalCollectives(mesh);
  Collective &c = *endpoints[0];
  EXPECT_EQ(c.count(), 2);
  float x = 0.0f, y = 0.0f;
  EXPECT_THAT(c.allReduce({1}, DType::F32, &x, &y, 1, ReduceOp::Sum).message(),
              HasSubstr("not an axis"));
  EXPECT_THAT(c.allReduce({0}, DType::BF16, &x, &y, 1, ReduceOp::Sum).message(),
              HasSubstr("cannot reduce bf16"));
  EXPECT_THAT(c.allReduce({0}, DType::F32, &x, &y, -1, ReduceOp::Sum).message(),
              HasSubstr("invalid buffer layout"));
  EXPECT_THAT(
      c.allReduce({0}, DType::F32, nullptr, &y, 1, ReduceOp::Sum).message(),
      HasSubstr("null buffer"));
  EXPECT_THAT(c.allToAll({0}, DType::F32, &x, {1, 1}, &y, {1, 2}).message(),
              HasSubstr("input blocks of 1 elements but output blocks of 2"));
  EXPECT_FALSE(
      createLocalCollectives(mesh, {absl::ZeroDuration()}).status().ok());
}

} // namespace
} // namespace switchyard::runtime
