//===- ExecTestUtil.h - Helpers for the runtime tests -----------*- C++ -*-===//

#ifndef SWITCHYARD_TEST_RUNTIME_EXECTESTUTIL_H
#define SWITCHYARD_TEST_RUNTIME_EXECTESTUTIL_H

#include "ProgramBuilder.h"

#include "switchyard/Runtime/CpuRuntime.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace switchyard::runtime::testing {

/// Deterministic values in [-2, 2) that round non-trivially.
inline std::vector<float> randomValues(int64_t count, uint32_t seed) {
  std::vector<float> values(count);
  uint32_t state = seed * 2654435761u + 12345u;
  for (float &v : values) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(state >> 8) / static_cast<float>(1u << 24) * 4.0f -
        2.0f;
  }
  return values;
}

/// An f32 tensor of `shape` holding `values`.
inline HostTensor f32Tensor(std::vector<int64_t> shape,
                            const std::vector<float> &values) {
  HostTensor t = *HostTensor::allocate(DType::F32, std::move(shape));
  EXPECT_EQ(static_cast<size_t>(t.numElements()), values.size());
  std::copy(values.begin(), values.end(), t.span<float>().begin());
  return t;
}

inline HostTensor i32Tensor(std::vector<int64_t> shape,
                            const std::vector<int32_t> &values) {
  HostTensor t = *HostTensor::allocate(DType::I32, std::move(shape));
  EXPECT_EQ(static_cast<size_t>(t.numElements()), values.size());
  std::copy(values.begin(), values.end(), t.span<int32_t>().begin());
  return t;
}

inline std::vector<float> floats(const HostTensor &t) {
  auto span = t.span<float>();
  return {span.begin(), span.end()};
}

inline std::vector<int32_t> ints(const HostTensor &t) {
  auto span = t.span<int32_t>();
  return {span.begin(), span.end()};
}

/// A gather at ids the program computes (ids + ids) from a table [vocab:5,
/// d:1]; `outOfRangeInputs` doubles 3 to 6, outside the table (op 1).
inline ProgramBuilder gatherOfDoubledIds() {
  ProgramBuilder p;
  int t = p.value({{"vocab", 5}, {"d", 1}});
  int i = p.value({{"l", 2}}, fb::DType::I32);
  int doubled = p.value({{"l", 2}}, fb::DType::I32);
  int r = p.value({{"l", 2}, {"d", 1}});
  p.op(fb::OpKind::Binary, {i, i}, {doubled});
  OpFields fields;
  fields.dim = "vocab";
  p.op(fb::OpKind::Gather, {t, doubled}, {r}, fields);
  p.input("table", t);
  p.input("ids", i);
  p.output("r", r);
  return p;
}

/// Inputs of gatherOfDoubledIds whose second doubled id lies outside.
inline std::map<std::string, HostTensor> gatherOfDoubledIdsOutOfRange() {
  std::map<std::string, HostTensor> inputs;
  inputs["table"] = f32Tensor({5, 1}, {0, 1, 2, 3, 4});
  inputs["ids"] = i32Tensor({2}, {2, 3});
  return inputs;
}

/// Calls body(index) for every index of `dims` (row-major).
template <typename F>
void forEachIndex(const std::vector<TestDim> &dims, F &&body) {
  std::map<std::string, int64_t> index;
  for (const TestDim &d : dims) {
    if (d.size == 0)
      return;
    index[d.name] = 0;
  }
  while (true) {
    body(index);
    int d = static_cast<int>(dims.size()) - 1;
    for (; d >= 0; --d) {
      if (++index[dims[d].name] < dims[d].size)
        break;
      index[dims[d].name] = 0;
    }
    if (d < 0)
      return;
  }
}

/// Transposes `data` of dims `from` into the order of `to` (same names).
template <typename T>
std::vector<T> transpose(const std::vector<T> &data,
                         const std::vector<TestDim> &from,
                         const std::vector<TestDim> &to) {
  std::vector<T> out(data.size());
  int64_t i = 0;
  forEachIndex(to, [&](const std::map<std::string, int64_t> &index) {
    int64_t offset = 0;
    for (const TestDim &d : from)
      offset = offset * d.size + index.at(d.name);
    out[i++] = data[offset];
  });
  return out;
}

/// Loads `program` and runs it once with `inputs` and `weights`.
inline absl::StatusOr<RunResult>
runProgram(const ProgramBuilder &program,
           const std::map<std::string, HostTensor> &inputs,
           const WeightSource *weights = nullptr, RunOptions options = {}) {
  absl::StatusOr<Executable> executable =
      Executable::loadBytes(program.build(), "test");
  if (!executable.ok())
    return executable.status();
  return runOnCpu(*executable, weights, inputs, options);
}

/// Elementwise near-equality with a relative and absolute tolerance.
MATCHER_P(FloatsNear, expected, "") {
  const std::vector<float> &actual = arg;
  if (actual.size() != expected.size()) {
    *result_listener << "size " << actual.size() << " vs " << expected.size();
    return false;
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    const float tolerance = 1e-5f + 1e-5f * std::fabs(expected[i]);
    if (!(std::fabs(actual[i] - expected[i]) <= tolerance) &&
        !(std::isnan(actual[i]) && std::isnan(expected[i]))) {
      *result_listener << "element " << i << ": " << actual[i] << " vs "
                       << expected[i];
      return false;
    }
  }
  return true;
}

} // namespace switchyard::runtime::testing

#endif // SWITCHYARD_TEST_RUNTIME_EXECTESTUTIL_H
