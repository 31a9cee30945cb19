//===- ExecOpsTest.cpp - Every op kind on one device ----------------------===//
//
// Each op runs in a one-device executable and is compared with a reference
// computed here (or with the colleague CPU kernels for routing and losses).
// Dimensions are deliberately permuted between operands and results, since
// ops match them by name.
//
//===----------------------------------------------------------------------===//

#include "ExecTestUtil.h"

#include "runtime/exec/ElementTypes.h"
#include "runtime/exec/VectorMath.h"
#include "test/Runtime/Reference/RouterLosses.h"
#include "test/Runtime/Reference/Routing.h"

#include <cstring>
#include <map>

namespace switchyard::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using testing::f32Tensor;
using ::testing::FloatEq;
using testing::floats;
using testing::FloatsNear;
using testing::forEachIndex;
using ::testing::HasSubstr;
using testing::i32Tensor;
using testing::ints;
using ::testing::Not;
using testing::OpFields;
using ::testing::Pointwise;
using testing::ProgramBuilder;
using testing::randomValues;
using testing::runProgram;
using testing::TestDim;
using testing::transpose;
namespace fb = ::switchyard::executable;

std::vector<int64_t> shapeOf(const std::vector<TestDim> &dims) {
  std::vector<int64_t> shape;
  for (const TestDim &d : dims)
    shape.push_back(d.size);
  return shape;
}

int64_t countOf(const std::vector<TestDim> &dims) {
  int64_t n = 1;
  for (const TestDim &d : dims)
    n *= d.size;
  return n;
}

/// A tensor with named dimensions for reference computations.
struct Named {
  std::vector<TestDim> dims;
  std::vector<float> data;

  float at(const std::map<std::string, int64_t> &index) const {
    int64_t offset = 0;
    for (const TestDim &d : dims)
      offset = offset * d.size + index.at(d.name);
    return data[offset];
  }
};

std::vector<float> referenceEinsum(const std::vector<Named> &operands,
                                   const std::vector<TestDim> &out) {
  std::vector<TestDim> all = out;
  for (const Named &op : operands)
    for (const TestDim &d : op.dims)
      if (std::none_of(all.begin(), all.end(),
                       [&](const TestDim &a) { return a.name == d.name; }))
        all.push_back(d);
  std::vector<double> result(countOf(out));
  forEachIndex(all, [&](const std::map<std::string, int64_t> &index) {
    double product = 1.0;
    for (const Named &op : operands)
      product *= op.at(index);
    int64_t offset = 0;
    for (const TestDim &d : out)
      offset = offset * d.size + index.at(d.name);
    result[offset] += product;
  });
  return {result.begin(), result.end()};
}

/// Runs einsum(operands) -> out of `dtype`, with `epilogue` (relu or silu)
/// if given, and compares with the reference. The rows (runs along its last
/// dimension) of the first operand numbered in `zeroRows` are zeros.
void checkEinsum(const std::vector<std::vector<TestDim>> &operands,
                 const std::vector<TestDim> &out,
                 fb::DType dtype = fb::DType::F32,
                 std::optional<fb::UnaryKind> epilogue = std::nullopt,
                 const std::vector<int64_t> &zeroRows = {}) {
  SCOPED_TRACE(::testing::Message() << "einsum with " << operands.size()
                                    << " operands into rank " << out.size());
  ProgramBuilder p;
  std::vector<int> values;
  std::vector<Named> named;
  std::map<std::string, HostTensor> inputs;
  for (size_t i = 0; i < operands.size(); ++i) {
    values.push_back(p.value(operands[i], dtype));
    const std::string name = "in" + std::to_string(i);
    p.input(name, values.back());
    std::vector<float> data = randomValues(countOf(operands[i]), i + 1);
    if (i == 0)
      for (int64_t row : zeroRows) {
        const int64_t length = operands[0].back().size;
        std::fill_n(data.begin() + row * length, length, 0.0f);
      }
    if (dtype == fb::DType::BF16) {
      HostTensor t = *HostTensor::allocate(DType::BF16, shapeOf(operands[i]));
      auto *bits = static_cast<uint16_t *>(t.data());
      for (size_t k = 0; k < data.size(); ++k) {
        bits[k] = floatToBf16(data[k]);
        data[k] = bf16ToFloat(bits[k]);
      }
      inputs[name] = std::move(t);
    } else {
      inputs[name] = f32Tensor(shapeOf(operands[i]), data);
    }
    named.push_back({operands[i], data});
  }
  int result = p.value(out, dtype);
  OpFields fields;
  fields.epilogue = epilogue;
  p.op(fb::OpKind::Einsum, values, {result}, fields);
  p.output("out", result);
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<float> expected = referenceEinsum(named, out);
  for (float &value : expected)
    if (epilogue == fb::UnaryKind::Relu)
      value = std::max(value, 0.0f);
    else if (epilogue == fb::UnaryKind::Silu)
      value = value / (1.0f + std::exp(-value));
  const HostTensor &actual = run->outputs[0].second;
  ASSERT_EQ(actual.numElements(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    const float value =
        loadAsFloat(actual.dtype(), actual.data(), static_cast<int64_t>(i));
    const float tolerance = dtype == fb::DType::BF16
                                ? 1e-2f * (1.0f + std::fabs(expected[i]))
                                : 1e-4f * (1.0f + std::fabs(expected[i]));
    EXPECT_NEAR(value, expected[i], tolerance) << "element " << i;
  }
}

TEST(EinsumTest, TwoOperandLayouts) {
  const TestDim m{"m", 3}, k{"k", 5}, n{"n", 4}, b{"b", 2}, s{"s", 3};
  checkEinsum({{m, k}, {k, n}}, {m, n});               // all in place
  checkEinsum({{k, m}, {n, k}}, {m, n});               // both transposed
  checkEinsum({{b, m, k}, {b, k, n}}, {b, m, n});      // batched in place
  checkEinsum({{m, b, k}, {k, b, n}}, {n, b, m});      // packed and unpacked
  checkEinsum({{m, k, s}, {k, n}}, {m, n});            // s summed out of A
  checkEinsum({{m, k}, {s, k, n}}, {n, m});            // s summed out of B
  checkEinsum({{m}, {n}}, {m, n});                     // outer product
  checkEinsum({{m, k}, {k}}, {m});                     // matrix-vector
  checkEinsum({{k}, {k}}, {});                         // dot product
  checkEinsum({{b, m}, {b, m}}, {b, m});               // element-wise product
  checkEinsum({{m, {"z", 0}}, {{"z", 0}, n}}, {m, n}); // empty contraction
}

TEST(EinsumTest, OtherOperandCounts) {
  const TestDim m{"m", 3}, k{"k", 5}, n{"n", 4};
  checkEinsum({{m, k}}, {m});
  checkEinsum({{m, k}, {k, n}, {n}}, {m});
  checkEinsum({{m, k}, {k, n}, {n, m}}, {k});
}

TEST(EinsumTest, Epilogues) {
  const TestDim m{"m", 3}, k{"k", 5}, n{"n", 4}, b{"b", 2};
  checkEinsum({{b, m, k}, {b, k, n}}, {b, m, n}, fb::DType::F32,
              fb::UnaryKind::Relu);
  checkEinsum({{m, k}, {k, n}}, {n, m}, fb::DType::F32, fb::UnaryKind::Silu);
  checkEinsum({{m, b, k}, {k, b, n}}, {n, b, m}, fb::DType::BF16,
              fb::UnaryKind::Relu);
}

/// Zero rows of the first operand are left out of the GEMM where they are
/// an eighth or more of a batch's rows (the experts' capacity padding).
TEST(EinsumTest, ZeroRows) {
  const TestDim m{"m", 16}, k{"k", 8}, n{"n", 5}, b{"b", 3};
  // In place [b, m, k]: batch 0 mostly zeros (gathered), batch 1 one zero
  // row (dense), batch 2 all zeros.
  std::vector<int64_t> rows = {0, 3, 4, 5, 6, 7, 8, 9, 15, 16 + 4};
  for (int64_t r = 32; r < 48; ++r)
    rows.push_back(r);
  checkEinsum({{b, m, k}, {b, k, n}}, {b, m, n}, fb::DType::F32, std::nullopt,
              rows);
  checkEinsum({{b, m, k}, {b, k, n}}, {b, m, n}, fb::DType::F32,
              fb::UnaryKind::Relu, rows);
  // Packed [m, b, k] -> [b, m, k], and a result packed back to [n, b, m].
  checkEinsum({{m, b, k}, {k, b, n}}, {n, b, m}, fb::DType::F32, std::nullopt,
              rows);
  checkEinsum({{m, b, k}, {k, b, n}}, {n, b, m}, fb::DType::BF16, std::nullopt,
              rows);
  // The first operand transposed ([k, m]): never gathered.
  checkEinsum({{k, m}, {k, n}}, {m, n}, fb::DType::F32, std::nullopt,
              {0, 1, 2, 3});
}

TEST(EinsumTest, BF16) {
  const TestDim m{"m", 3}, k{"k", 5}, n{"n", 4}, b{"b", 2};
  checkEinsum({{m, b, k}, {k, b, n}}, {n, b, m}, fb::DType::BF16);
  checkEinsum({{m, k}, {k, n}, {n}}, {m}, fb::DType::BF16);
}

/// Runs a one-operand op from x [a:2, b:3] (values `x`) to `out`.
absl::StatusOr<RunResult> runUnaryOp(fb::OpKind kind, OpFields fields,
                                     const std::vector<TestDim> &in,
                                     const std::vector<TestDim> &out,
                                     HostTensor x, fb::DType inType,
                                     fb::DType outType) {
  ProgramBuilder p;
  int a = p.value(in, inType);
  int r = p.value(out, outType);
  p.op(kind, {a}, {r}, fields);
  p.input("x", a);
  p.output("r", r);
  std::map<std::string, HostTensor> inputs;
  inputs["x"] = std::move(x);
  return runProgram(p, inputs);
}

TEST(ElementwiseTest, UnaryFloat) {
  const std::vector<TestDim> dims = {{"a", 2}, {"b", 3}};
  std::vector<float> x = randomValues(6, 7);
  x[0] = 0.75f; // positive for log and sqrt
  const float s = std::sqrt(2.0f / static_cast<float>(M_PI));
  const std::vector<std::pair<fb::UnaryKind, float (*)(float)>> cases = {
      {fb::UnaryKind::Neg, [](float v) { return -v; }},
      {fb::UnaryKind::Abs, [](float v) { return std::fabs(v); }},
      {fb::UnaryKind::Exp, [](float v) { return std::exp(v); }},
      {fb::UnaryKind::Log, [](float v) { return std::log(v); }},
      {fb::UnaryKind::Sqrt, [](float v) { return std::sqrt(v); }},
      {fb::UnaryKind::Rsqrt, [](float v) { return 1.0f / std::sqrt(v); }},
      {fb::UnaryKind::Square, [](float v) { return v * v; }},
      {fb::UnaryKind::Reciprocal, [](float v) { return 1.0f / v; }},
      {fb::UnaryKind::Tanh, [](float v) { return std::tanh(v); }},
      {fb::UnaryKind::Relu, [](float v) { return std::max(v, 0.0f); }},
      {fb::UnaryKind::Gelu,
       [](float v) {
         return 0.5f * v * (1.0f + std::erf(v / std::sqrt(2.0f)));
       }},
      {fb::UnaryKind::Silu, [](float v) { return v / (1.0f + std::exp(-v)); }},
  };
  for (const auto &[kind, f] : cases) {
    SCOPED_TRACE(static_cast<int>(kind));
    OpFields fields;
    fields.unary = kind;
    absl::StatusOr<RunResult> run =
        runUnaryOp(fb::OpKind::Unary, fields, dims, dims, f32Tensor({2, 3}, x),
                   fb::DType::F32, fb::DType::F32);
    ASSERT_TRUE(run.ok()) << run.status();
    std::vector<float> expected;
    for (float v : x)
      expected.push_back(f(v));
    EXPECT_THAT(floats(run->outputs[0].second), FloatsNear(expected));
  }
  OpFields gelu;
  gelu.unary = fb::UnaryKind::GeluTanh;
  absl::StatusOr<RunResult> run =
      runUnaryOp(fb::OpKind::Unary, gelu, dims, dims, f32Tensor({2, 3}, x),
                 fb::DType::F32, fb::DType::F32);
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<float> expected;
  for (float v : x)
    expected.push_back(0.5f * v *
                       (1.0f + std::tanh(s * (v + 0.044715f * v * v * v))));
  EXPECT_THAT(floats(run->outputs[0].second), FloatsNear(expected));
}

TEST(ElementwiseTest, UnaryInt) {
  const std::vector<TestDim> dims = {{"a", 4}};
  const std::vector<int32_t> x = {-3, 0, 7, INT32_MIN};
  for (auto [kind, expected] :
       {std::pair{fb::UnaryKind::Neg,
                  std::vector<int32_t>{3, 0, -7, INT32_MIN}},
        {fb::UnaryKind::Abs, {3, 0, 7, INT32_MIN}},
        {fb::UnaryKind::Square, {9, 0, 49, 0}}}) {
    OpFields fields;
    fields.unary = kind;
    absl::StatusOr<RunResult> run =
        runUnaryOp(fb::OpKind::Unary, fields, dims, dims, i32Tensor({4}, x),
                   fb::DType::I32, fb::DType::I32);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(ints(run->outputs[0].second), expected);
  }
}

TEST(ElementwiseTest, BinaryBroadcastsByName) {
  // a [x:2, y:3] op b [y:3, z:4] -> r [z:4, x:2, y:3].
  const std::vector<float> av = randomValues(6, 1), bv = randomValues(12, 2);
  const std::vector<std::pair<fb::BinaryKind, float (*)(float, float)>> cases =
      {{fb::BinaryKind::Add, [](float a, float b) { return a + b; }},
       {fb::BinaryKind::Sub, [](float a, float b) { return a - b; }},
       {fb::BinaryKind::Mul, [](float a, float b) { return a * b; }},
       {fb::BinaryKind::Div, [](float a, float b) { return a / b; }},
       {fb::BinaryKind::Max, [](float a, float b) { return std::max(a, b); }},
       {fb::BinaryKind::Min, [](float a, float b) { return std::min(a, b); }},
       {fb::BinaryKind::Pow,
        [](float a, float b) { return std::pow(std::fabs(a), b); }}};
  for (const auto &[kind, f] : cases) {
    SCOPED_TRACE(static_cast<int>(kind));
    ProgramBuilder p;
    int a = p.value({{"x", 2}, {"y", 3}});
    int b = p.value({{"y", 3}, {"z", 4}});
    int r = p.value({{"z", 4}, {"x", 2}, {"y", 3}});
    OpFields fields;
    fields.binary = kind;
    p.op(fb::OpKind::Binary, {a, b}, {r}, fields);
    p.input("a", a);
    p.input("b", b);
    p.output("r", r);
    std::vector<float> aData = av;
    if (kind == fb::BinaryKind::Pow)
      for (float &v : aData)
        v = std::fabs(v);
    std::map<std::string, HostTensor> inputs;
    inputs["a"] = f32Tensor({2, 3}, aData);
    inputs["b"] = f32Tensor({3, 4}, bv);
    absl::StatusOr<RunResult> run = runProgram(p, inputs);
    ASSERT_TRUE(run.ok()) << run.status();
    std::vector<float> expected;
    for (int z = 0; z < 4; ++z)
      for (int x = 0; x < 2; ++x)
        for (int y = 0; y < 3; ++y)
          expected.push_back(f(aData[x * 3 + y], bv[y * 4 + z]));
    EXPECT_THAT(floats(run->outputs[0].second), FloatsNear(expected));
  }
}

TEST(ElementwiseTest, BinaryRunsOfEveryShape) {
  // r [x:3, y:5] = a op b where the runs along y are contiguous in both
  // operands, constant in one of them, or strided; Sub and Div catch
  // swapped operands.
  struct Layout {
    std::vector<testing::TestDim> a, b;
  };
  const std::vector<Layout> layouts = {
      {{{"x", 3}, {"y", 5}}, {{"x", 3}, {"y", 5}}},
      {{{"x", 3}, {"y", 5}}, {{"x", 3}}},
      {{{"x", 3}}, {{"x", 3}, {"y", 5}}},
      {{{"y", 5}, {"x", 3}}, {{"x", 3}, {"y", 5}}}};
  const std::vector<std::pair<fb::BinaryKind, float (*)(float, float)>> kinds =
      {{fb::BinaryKind::Sub, [](float a, float b) { return a - b; }},
       {fb::BinaryKind::Div, [](float a, float b) { return a / b; }}};
  for (size_t l = 0; l < layouts.size(); ++l)
    for (const auto &[kind, f] : kinds) {
      SCOPED_TRACE(::testing::Message()
                   << "layout " << l << ", kind " << static_cast<int>(kind));
      const Layout &layout = layouts[l];
      ProgramBuilder p;
      int a = p.value(layout.a);
      int b = p.value(layout.b);
      int r = p.value({{"x", 3}, {"y", 5}});
      OpFields fields;
      fields.binary = kind;
      p.op(fb::OpKind::Binary, {a, b}, {r}, fields);
      p.input("a", a);
      p.input("b", b);
      p.output("r", r);
      // The element of `dims` at (x, y), row-major.
      auto at = [](const std::vector<testing::TestDim> &dims, int x, int y) {
        int64_t offset = 0;
        for (const testing::TestDim &dim : dims)
          offset = offset * dim.size + (dim.name == "x" ? x : y);
        return offset;
      };
      auto shape = [](const std::vector<testing::TestDim> &dims) {
        std::vector<int64_t> sizes;
        for (const testing::TestDim &dim : dims)
          sizes.push_back(dim.size);
        return sizes;
      };
      const std::vector<float> av =
          randomValues(layout.a.size() == 2 ? 15 : 3, 4);
      const std::vector<float> bv =
          randomValues(layout.b.size() == 2 ? 15 : 3, 5);
      std::map<std::string, HostTensor> inputs;
      inputs["a"] = f32Tensor(shape(layout.a), av);
      inputs["b"] = f32Tensor(shape(layout.b), bv);
      absl::StatusOr<RunResult> run = runProgram(p, inputs);
      ASSERT_TRUE(run.ok()) << run.status();
      std::vector<float> expected;
      for (int x = 0; x < 3; ++x)
        for (int y = 0; y < 5; ++y)
          expected.push_back(f(av[at(layout.a, x, y)], bv[at(layout.b, x, y)]));
      EXPECT_EQ(floats(run->outputs[0].second), expected);
    }
}

TEST(ElementwiseTest, BinaryInt) {
  ProgramBuilder p;
  int a = p.value({{"x", 4}}, fb::DType::I32);
  int b = p.value({{"x", 4}}, fb::DType::I32);
  int r = p.value({{"x", 4}}, fb::DType::I32);
  OpFields div;
  div.binary = fb::BinaryKind::Div;
  p.op(fb::OpKind::Binary, {a, b}, {r}, div);
  p.input("a", a);
  p.input("b", b);
  p.output("r", r);
  std::map<std::string, HostTensor> inputs;
  inputs["a"] = i32Tensor({4}, {7, -7, 5, INT32_MIN});
  inputs["b"] = i32Tensor({4}, {2, 2, 0, -1});
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(ints(run->outputs[0].second), ElementsAre(3, -3, 0, INT32_MIN));
}

TEST(ElementwiseTest, Reduce) {
  // x [a:2, b:3, c:4] -> r [c:4, a:2].
  const std::vector<float> x = randomValues(24, 3);
  for (fb::ReduceKind kind : {fb::ReduceKind::Sum, fb::ReduceKind::Mean,
                              fb::ReduceKind::Max, fb::ReduceKind::Min}) {
    OpFields fields;
    fields.reduce = kind;
    absl::StatusOr<RunResult> run =
        runUnaryOp(fb::OpKind::Reduce, fields, {{"a", 2}, {"b", 3}, {"c", 4}},
                   {{"c", 4}, {"a", 2}}, f32Tensor({2, 3, 4}, x),
                   fb::DType::F32, fb::DType::F32);
    ASSERT_TRUE(run.ok()) << run.status();
    std::vector<float> expected;
    for (int c = 0; c < 4; ++c)
      for (int a = 0; a < 2; ++a) {
        float sum = 0, max = -INFINITY, min = INFINITY;
        for (int b = 0; b < 3; ++b) {
          const float v = x[(a * 3 + b) * 4 + c];
          sum += v;
          max = std::max(max, v);
          min = std::min(min, v);
        }
        expected.push_back(kind == fb::ReduceKind::Sum    ? sum
                           : kind == fb::ReduceKind::Mean ? sum / 3
                           : kind == fb::ReduceKind::Max  ? max
                                                          : min);
      }
    EXPECT_THAT(floats(run->outputs[0].second), FloatsNear(expected));
  }
}

TEST(ElementwiseTest, SoftmaxAlongMiddleDimension) {
  const std::vector<float> x = randomValues(24, 4);
  OpFields fields;
  fields.dim = "b";
  const std::vector<TestDim> dims = {{"a", 2}, {"b", 3}, {"c", 4}};
  absl::StatusOr<RunResult> run =
      runUnaryOp(fb::OpKind::Softmax, fields, dims, dims,
                 f32Tensor({2, 3, 4}, x), fb::DType::F32, fb::DType::F32);
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<float> expected(24);
  for (int a = 0; a < 2; ++a)
    for (int c = 0; c < 4; ++c) {
      double sum = 0;
      for (int b = 0; b < 3; ++b)
        sum += std::exp(x[(a * 3 + b) * 4 + c]);
      for (int b = 0; b < 3; ++b)
        expected[(a * 3 + b) * 4 + c] = std::exp(x[(a * 3 + b) * 4 + c]) / sum;
    }
  EXPECT_THAT(floats(run->outputs[0].second), FloatsNear(expected));
}

TEST(VectorMathTest, ExpInPlaceMatchesStdExp) {
  // Every length up to three vectors of eight, so that each tail length
  // runs, over values from underflow to 1 (a softmax's shifted logits),
  // with -inf (a masked logit) and 0.
  for (int64_t n = 0; n <= 24; ++n) {
    std::vector<float> x(n);
    for (int64_t i = 0; i < n; ++i)
      x[i] = 1.0f - 110.0f * static_cast<float>(i) / 24.0f;
    if (n > 3) {
      x[1] = -std::numeric_limits<float>::infinity();
      x[2] = 0.0f;
    }
    std::vector<float> y = x;
    expInPlace(y.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double exact = std::exp(static_cast<double>(x[i]));
      EXPECT_NEAR(y[i], exact, 3e-7 * exact + 1e-44)
          << "exp(" << x[i] << "), length " << n;
    }
  }
}

TEST(ElementwiseTest, RmsNorm) {
  // x [d:4, t:3] normalized along d with scale [d:4].
  const std::vector<float> x = randomValues(12, 5), w = randomValues(4, 6);
  ProgramBuilder p;
  int xv = p.value({{"d", 4}, {"t", 3}});
  int wv = p.value({{"d", 4}});
  int r = p.value({{"d", 4}, {"t", 3}});
  OpFields fields;
  fields.dim = "d";
  fields.epsilon = 1e-6;
  p.op(fb::OpKind::RmsNorm, {xv, wv}, {r}, fields);
  p.input("x", xv);
  p.input("w", wv);
  p.output("r", r);
  std::map<std::string, HostTensor> inputs;
  inputs["x"] = f32Tensor({4, 3}, x);
  inputs["w"] = f32Tensor({4}, w);
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<float> expected(12);
  for (int t = 0; t < 3; ++t) {
    double squares = 0;
    for (int d = 0; d < 4; ++d)
      squares += x[d * 3 + t] * x[d * 3 + t];
    const float scale =
        1.0f / std::sqrt(static_cast<float>(squares / 4) + 1e-6f);
    for (int d = 0; d < 4; ++d)
      expected[d * 3 + t] = w[d] * (x[d * 3 + t] * scale);
  }
  EXPECT_THAT(floats(run->outputs[0].second), FloatsNear(expected));
}

TEST(ElementwiseTest, Casts) {
  const std::vector<TestDim> dims = {{"a", 6}};
  const std::vector<float> x = {1.5f, -2.7f, 0.0f, 1.00390625f, 3e9f, 0.25f};
  // f32 -> i32 truncates toward zero and saturates.
  absl::StatusOr<RunResult> run =
      runUnaryOp(fb::OpKind::Cast, {}, dims, dims, f32Tensor({6}, x),
                 fb::DType::F32, fb::DType::I32);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(ints(run->outputs[0].second),
              ElementsAre(1, -2, 0, 1, INT32_MAX, 0));
  // f32 -> bool is x != 0.
  run = runUnaryOp(fb::OpKind::Cast, {}, dims, dims, f32Tensor({6}, x),
                   fb::DType::F32, fb::DType::I1);
  ASSERT_TRUE(run.ok()) << run.status();
  const auto *bits =
      static_cast<const uint8_t *>(run->outputs[0].second.data());
  EXPECT_THAT(std::vector<int>(bits, bits + 6), ElementsAre(1, 1, 0, 1, 1, 1));
  // f32 -> bf16 rounds to nearest even: 1 + 2^-8 is a tie between 1 and
  // 1 + 2^-7 and goes to 1.
  run = runUnaryOp(fb::OpKind::Cast, {}, dims, dims, f32Tensor({6}, x),
                   fb::DType::F32, fb::DType::BF16);
  ASSERT_TRUE(run.ok()) << run.status();
  const auto *half =
      static_cast<const uint16_t *>(run->outputs[0].second.data());
  EXPECT_EQ(half[0], 0x3FC0);
  EXPECT_EQ(half[3], 0x3F80);
  EXPECT_EQ(bf16ToFloat(half[1]), -2.703125f);
  // f32 -> f16.
  run = runUnaryOp(fb::OpKind::Cast, {}, dims, dims, f32Tensor({6}, x),
                   fb::DType::F32, fb::DType::F16);
  ASSERT_TRUE(run.ok()) << run.status();
  half = static_cast<const uint16_t *>(run->outputs[0].second.data());
  EXPECT_EQ(half[0], 0x3E00);
  EXPECT_EQ(half[4], 0x7C00); // 3e9 overflows to inf
  EXPECT_EQ(half[5], 0x3400);
  EXPECT_EQ(f16ToFloat(half[1]), -2.69921875f);
  // i32 -> f32.
  run = runUnaryOp(fb::OpKind::Cast, {}, {{"a", 2}}, {{"a", 2}},
                   i32Tensor({2}, {-5, 9}), fb::DType::I32, fb::DType::F32);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(floats(run->outputs[0].second), ElementsAre(-5.0f, 9.0f));
}

TEST(ElementwiseTest, HalfConversions) {
  for (float v : {0.0f, -0.0f, 1.0f, 65504.0f, 6.103515625e-05f,
                  5.960464477539063e-08f, 1e-9f, -3.140625f})
    EXPECT_EQ(f16ToFloat(floatToF16(v)),
              std::fabs(v) < 2.98e-8f ? std::copysign(0.0f, v) : v)
        << v;
  EXPECT_TRUE(std::isnan(f16ToFloat(floatToF16(NAN))));
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(NAN))));
  EXPECT_EQ(floatToBf16(INFINITY), 0x7F80);
}

TEST(ElementwiseTest, Reshape) {
  const std::vector<float> x = randomValues(6, 8);
  absl::StatusOr<RunResult> run = runUnaryOp(
      fb::OpKind::Reshape, {}, {{"a", 2}, {"b", 3}}, {{"c", 3}, {"d", 2}},
      f32Tensor({2, 3}, x), fb::DType::F32, fb::DType::F32);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(floats(run->outputs[0].second), x);
}

TEST(ElementwiseTest, Gather) {
  // table [vocab:5, d:3], ids [b:2, l:3] -> r [d:3, b:2, l:3].
  const std::vector<float> table = randomValues(15, 9);
  const std::vector<int32_t> ids = {0, 4, 2, 1, 4, 3};
  ProgramBuilder p;
  int t = p.value({{"vocab", 5}, {"d", 3}});
  int i = p.value({{"b", 2}, {"l", 3}}, fb::DType::I32);
  int r = p.value({{"d", 3}, {"b", 2}, {"l", 3}});
  OpFields fields;
  fields.dim = "vocab";
  p.op(fb::OpKind::Gather, {t, i}, {r}, fields);
  p.input("table", t);
  p.input("ids", i);
  p.output("r", r);
  std::map<std::string, HostTensor> inputs;
  inputs["table"] = f32Tensor({5, 3}, table);
  inputs["ids"] = i32Tensor({2, 3}, ids);
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<float> expected;
  for (int d = 0; d < 3; ++d)
    for (int k = 0; k < 6; ++k)
      expected.push_back(table[ids[k] * 3 + d]);
  EXPECT_EQ(floats(run->outputs[0].second), expected);

  // An input id outside the table is refused before the run, naming the
  // input, the id and its position.
  for (int32_t bad : {5, -1}) {
    inputs["ids"] = i32Tensor({2, 3}, {0, 4, 2, 1, bad, 3});
    run = runProgram(p, inputs);
    EXPECT_EQ(run.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(run.status().message(),
                HasSubstr("input 'ids' holds " + std::to_string(bad) +
                          " at [1, 1], outside [0, 5): it indexes dimension "
                          "'vocab' of size 5"));
  }
}

TEST(ElementwiseTest, GatherOfComputedIdsOutsideTheTable) {
  // ids + ids: the kernel refuses 6 >= 5, naming the op.
  absl::StatusOr<RunResult> run =
      runProgram(testing::gatherOfDoubledIds(),
                 testing::gatherOfDoubledIdsOutOfRange());
  EXPECT_THAT(run.status().message(), HasSubstr("op 1 (gather"));
  EXPECT_THAT(run.status().message(),
              HasSubstr("index 6 (element 1 of the device's indices) is "
                        "outside [0, 5) along 'vocab'"));
}

TEST(ElementwiseTest, OneHot) {
  absl::StatusOr<RunResult> run =
      runUnaryOp(fb::OpKind::OneHot, {}, {{"t", 3}}, {{"e", 4}, {"t", 3}},
                 i32Tensor({3}, {2, 0, 3}), fb::DType::I32, fb::DType::F32);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(floats(run->outputs[0].second),
              ElementsAre(0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1));

  // An input index outside the depth is refused before the run, as for a
  // gather; one the program computes (here -(-9)) gives a zero row.
  run = runUnaryOp(fb::OpKind::OneHot, {}, {{"t", 3}}, {{"e", 4}, {"t", 3}},
                   i32Tensor({3}, {2, 0, 9}), fb::DType::I32, fb::DType::F32);
  EXPECT_EQ(run.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(run.status().message(),
              HasSubstr("input 'x' holds 9 at [2], outside [0, 4): it indexes "
                        "dimension 'e' of size 4"));
  ProgramBuilder p;
  int x = p.value({{"t", 3}}, fb::DType::I32);
  int negated = p.value({{"t", 3}}, fb::DType::I32);
  int r = p.value({{"e", 4}, {"t", 3}});
  OpFields neg;
  neg.unary = fb::UnaryKind::Neg;
  p.op(fb::OpKind::Unary, {x}, {negated}, neg);
  p.op(fb::OpKind::OneHot, {negated}, {r});
  p.input("x", x);
  p.output("r", r);
  std::map<std::string, HostTensor> inputs;
  inputs["x"] = i32Tensor({3}, {-2, 0, -9});
  run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(floats(run->outputs[0].second),
              ElementsAre(0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0));
}

/// labels [rows:5] i32 -> one_hot [rows:5, classes:8] f32, with
/// `ignoredIndex` as the labels' ignored index if given.
ProgramBuilder oneHotOfLabels(std::optional<int32_t> ignoredIndex) {
  ProgramBuilder p;
  int labels = p.value({{"rows", 5}}, fb::DType::I32);
  int r = p.value({{"rows", 5}, {"classes", 8}});
  p.op(fb::OpKind::OneHot, {labels}, {r});
  p.input("labels", labels);
  if (ignoredIndex)
    p.ignoredIndex("labels", *ignoredIndex);
  p.output("r", r);
  return p;
}

TEST(ElementwiseTest, OneHotIgnoredIndex) {
  // Labels in [0, 8) and the ignored index -100 run; -100 is a zero row.
  const ProgramBuilder p = oneHotOfLabels(-100);
  absl::StatusOr<Executable> executable = Executable::loadBytes(p.build());
  ASSERT_TRUE(executable.ok()) << executable.status();
  EXPECT_EQ(executable->inputs()[0].indexBound, 8);
  EXPECT_EQ(executable->inputs()[0].indexDim, "classes");
  EXPECT_EQ(executable->inputs()[0].ignoredIndex, -100);
  std::map<std::string, HostTensor> inputs;
  const std::vector<int32_t> labels = {3, -100, 0, 7, -100};
  inputs["labels"] = i32Tensor({5}, labels);
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<float> expected(5 * 8, 0.0f);
  for (int row = 0; row < 5; ++row)
    if (labels[row] >= 0)
      expected[row * 8 + labels[row]] = 1.0f;
  EXPECT_EQ(floats(run->outputs[0].second), expected);

  // Any other value outside the depth is refused, naming the input, the
  // value, its position, the bound and the ignored index.
  for (int32_t bad : {8, -5}) {
    inputs["labels"] = i32Tensor({5}, {3, -100, bad, 7, -100});
    run = runProgram(p, inputs);
    EXPECT_EQ(run.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(run.status().message(),
                HasSubstr("input 'labels' holds " + std::to_string(bad) +
                          " at [2], outside [0, 8): it indexes dimension "
                          "'classes' of size 8, or is the ignored index -100"));
  }
}

TEST(ElementwiseTest, OneHotWithoutIgnoredIndexRefusesIt) {
  std::map<std::string, HostTensor> inputs;
  inputs["labels"] = i32Tensor({5}, {3, -100, 0, 7, 1});
  absl::StatusOr<RunResult> run =
      runProgram(oneHotOfLabels(std::nullopt), inputs);
  EXPECT_EQ(run.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(run.status().message(),
              HasSubstr("input 'labels' holds -100 at [1], outside [0, 8): it "
                        "indexes dimension 'classes' of size 8"));
  EXPECT_THAT(run.status().message(), Not(HasSubstr("ignored")));
  // Another ignored index does not exempt -100.
  run = runProgram(oneHotOfLabels(-1), inputs);
  EXPECT_THAT(run.status().message(),
              HasSubstr("input 'labels' holds -100 at [1], outside [0, 8): it "
                        "indexes dimension 'classes' of size 8, or is the "
                        "ignored index -1"));
}

TEST(ElementwiseTest, IgnoredIndexOfAnInputAGatherReads) {
  // ids [l:2] reach a one_hot of depth 6 and, reshaped, a gather from a
  // table of 4 rows: the smaller bound holds, and a gather has no row for
  // the ignored index, so it is refused too.
  ProgramBuilder p;
  int t = p.value({{"vocab", 4}, {"d", 1}});
  int ids = p.value({{"l", 2}}, fb::DType::I32);
  int reshaped = p.value({{"m", 2}}, fb::DType::I32);
  int hot = p.value({{"l", 2}, {"depth", 6}});
  int gathered = p.value({{"m", 2}, {"d", 1}});
  p.op(fb::OpKind::OneHot, {ids}, {hot});
  p.op(fb::OpKind::Reshape, {ids}, {reshaped});
  OpFields fields;
  fields.dim = "vocab";
  p.op(fb::OpKind::Gather, {t, reshaped}, {gathered}, fields);
  p.input("table", t);
  p.input("ids", ids);
  p.ignoredIndex("ids", -100);
  p.output("hot", hot);
  p.output("gathered", gathered);
  absl::StatusOr<Executable> executable = Executable::loadBytes(p.build());
  ASSERT_TRUE(executable.ok()) << executable.status();
  EXPECT_EQ(executable->inputs()[1].indexBound, 4);
  EXPECT_EQ(executable->inputs()[1].indexDim, "vocab");
  EXPECT_TRUE(executable->inputs()[1].indexesGather);

  std::map<std::string, HostTensor> inputs;
  inputs["table"] = f32Tensor({4, 1}, {0, 1, 2, 3});
  inputs["ids"] = i32Tensor({2}, {3, 1});
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(floats(run->outputs[1].second), ElementsAre(3, 1));
  for (int32_t bad : {4, -100}) {
    inputs["ids"] = i32Tensor({2}, {3, bad});
    run = runProgram(p, inputs);
    EXPECT_THAT(run.status().message(),
                HasSubstr("input 'ids' holds " + std::to_string(bad) +
                          " at [1], outside [0, 4): it indexes dimension "
                          "'vocab' of size 4"));
  }
  EXPECT_THAT(run.status().message(),
              HasSubstr("(the ignored index, which a gather reading the input "
                        "has no row for)"));
}

TEST(ElementwiseTest, Cumsum) {
  // x [t:4, e:2] along t.
  const std::vector<int32_t> x = {1, 0, 0, 1, 1, 1, 0, 1};
  for (bool exclusive : {false, true}) {
    OpFields fields;
    fields.dim = "t";
    fields.exclusive = exclusive;
    absl::StatusOr<RunResult> run = runUnaryOp(
        fb::OpKind::Cumsum, fields, {{"t", 4}, {"e", 2}}, {{"t", 4}, {"e", 2}},
        i32Tensor({4, 2}, x), fb::DType::I32, fb::DType::I32);
    ASSERT_TRUE(run.ok()) << run.status();
    const std::vector<int32_t> expected =
        exclusive ? std::vector<int32_t>{0, 0, 1, 0, 1, 1, 2, 2}
                  : std::vector<int32_t>{1, 0, 1, 1, 2, 2, 2, 3};
    EXPECT_EQ(ints(run->outputs[0].second), expected);
  }
}

TEST(ElementwiseTest, ConstantAndIota) {
  ProgramBuilder p;
  int c = p.value({{"a", 3}}, fb::DType::I32);
  int iota = p.value({{"a", 2}, {"b", 3}});
  OpFields constant;
  const int32_t data[] = {4, -1, 9};
  constant.constant.resize(12);
  std::memcpy(constant.constant.data(), data, 12);
  p.op(fb::OpKind::Constant, {}, {c}, constant);
  OpFields along;
  along.dim = "b";
  p.op(fb::OpKind::Iota, {}, {iota}, along);
  p.output("c", c);
  p.output("iota", iota);
  absl::StatusOr<RunResult> run = runProgram(p, {});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(ints(*run->find("c")), ElementsAre(4, -1, 9));
  EXPECT_THAT(floats(*run->find("iota")), ElementsAre(0, 1, 2, 0, 1, 2));
}

// Routing: groups g:2, tokens t:6, experts e:3, capacity 2, features d:4.
constexpr int64_t kG = 2, kT = 6, kE = 3, kC = 2, kD = 4;

/// Logits where several tokens of a group pick the same expert (so some
/// are dropped) and one token ties two experts exactly.
std::vector<float> routingLogits() {
  std::vector<float> z = randomValues(kG * kT * kE, 11);
  for (int64_t g = 0; g < kG; ++g)
    for (int64_t t = 0; t < 4; ++t)
      z[(g * kT + t) * kE + 1] = 3.0f; // tokens 0-3 prefer expert 1
  z[(1 * kT + 5) * kE + 0] = z[(1 * kT + 5) * kE + 2] = 5.0f; // a tie
  return z;
}

/// A route, dispatch, expert scaling and combine program in the canonical
/// order ([g, t, e], [g, e, c, d]) or with every dimension order permuted;
/// with `residual`, the combine adds input "r" (of y's type).
ProgramBuilder routingProgram(bool permuted, bool residual = false) {
  ProgramBuilder p;
  const TestDim g{"g", kG}, t{"t", kT}, e{"e", kE}, c{"c", kC}, d{"d", kD};
  auto order = [&](std::vector<TestDim> canonical, std::vector<TestDim> other) {
    return permuted ? other : canonical;
  };
  int logits = p.value(order({g, t, e}, {e, t, g}));
  int x = p.value(order({g, t, d}, {d, g, t}));
  int expert = p.value(order({g, t}, {t, g}), fb::DType::I32);
  int gate = p.value(order({g, t}, {g, t}));
  int position = p.value(order({g, t}, {t, g}), fb::DType::I32);
  int dropped = p.value(order({g, t}, {g, t}), fb::DType::I1);
  int slots = p.value(order({g, e, c, d}, {c, d, e, g}));
  int scaled = p.value(order({g, e, c, d}, {c, d, e, g}));
  int two = p.value({});
  int y = p.value(order({g, t, d}, {t, d, g}));
  OpFields route;
  route.tokensDim = "t";
  route.expertsDim = "e";
  route.capacityDim = "c";
  route.capacity = kC;
  p.op(fb::OpKind::Route, {logits}, {expert, gate, position, dropped}, route);
  p.op(fb::OpKind::Dispatch, {x, expert, position, dropped}, {slots}, route);
  OpFields constant;
  const float twoValue = 2.0f;
  constant.constant.resize(4);
  std::memcpy(constant.constant.data(), &twoValue, 4);
  p.op(fb::OpKind::Constant, {}, {two}, constant);
  OpFields mul;
  mul.binary = fb::BinaryKind::Mul;
  p.op(fb::OpKind::Binary, {slots, two}, {scaled}, mul);
  std::vector<int> combined = {scaled, expert, position, dropped, gate};
  if (residual) {
    combined.push_back(p.value(order({g, t, d}, {t, d, g})));
    p.input("r", combined.back());
  }
  p.op(fb::OpKind::Combine, combined, {y}, route);
  p.input("logits", logits);
  p.input("x", x);
  for (auto [name, value] : {std::pair{"expert", expert},
                             {"gate", gate},
                             {"position", position},
                             {"dropped", dropped},
                             {"slots", slots},
                             {"y", y}})
    p.output(name, value);
  return p;
}

TEST(RoutingTest, MatchesTheCpuKernels) {
  const std::vector<float> logits = routingLogits();
  const std::vector<float> x = randomValues(kG * kT * kD, 12);
  std::map<std::string, HostTensor> inputs;
  inputs["logits"] = f32Tensor({kG, kT, kE}, logits);
  inputs["x"] = f32Tensor({kG, kT, kD}, x);
  absl::StatusOr<RunResult> run = runProgram(routingProgram(false), inputs);
  ASSERT_TRUE(run.ok()) << run.status();

  const reference::RoutingShape shape{kG, kT, kE, kC};
  std::vector<int32_t> expert(kG * kT), position(kG * kT), filled(kG * kE);
  std::vector<float> gate(kG * kT), slots(kG * kE * kC * kD), y(kG * kT * kD);
  std::vector<uint8_t> dropped(kG * kT);
  ASSERT_TRUE(
      reference::top1Route(shape, logits,
                     {absl::MakeSpan(expert), absl::MakeSpan(gate),
                      absl::MakeSpan(position), absl::MakeSpan(dropped)})
          .ok());
  ASSERT_TRUE(reference::dispatch(shape, kD, x, expert, position,
                            absl::MakeSpan(slots), absl::MakeSpan(filled))
                  .ok());
  for (float &v : slots)
    v *= 2.0f;
  ASSERT_TRUE(
      reference::combine(shape, kD, slots, expert, position, gate, absl::MakeSpan(y))
          .ok());

  EXPECT_EQ(ints(*run->find("expert")), expert);
  EXPECT_EQ(floats(*run->find("gate")), gate);
  EXPECT_EQ(floats(*run->find("y")), y);
  const HostTensor &ourDropped = *run->find("dropped");
  const auto *bits = static_cast<const uint8_t *>(ourDropped.data());
  EXPECT_EQ(std::vector<uint8_t>(bits, bits + kG * kT), dropped);
  EXPECT_GT(std::count(dropped.begin(), dropped.end(), 1), 0);
  // The tie goes to the first expert.
  EXPECT_EQ(expert[1 * kT + 5], 0);
  // Positions are the running counts, also for dropped tokens.
  std::vector<int32_t> ourPosition = ints(*run->find("position"));
  for (int64_t i = 0; i < kG * kT; ++i) {
    if (dropped[i])
      EXPECT_GE(ourPosition[i], kC);
    else
      EXPECT_EQ(ourPosition[i], position[i]);
  }
  std::vector<float> ourSlots = floats(*run->find("slots"));
  for (float &v : ourSlots)
    v *= 2.0f;
  EXPECT_EQ(ourSlots, slots);
}

TEST(RoutingTest, DimensionsMatchByName) {
  const TestDim g{"g", kG}, t{"t", kT}, e{"e", kE}, c{"c", kC}, d{"d", kD};
  const std::vector<float> logits = routingLogits();
  const std::vector<float> x = randomValues(kG * kT * kD, 12);
  std::map<std::string, HostTensor> canonicalInputs, permutedInputs;
  canonicalInputs["logits"] = f32Tensor({kG, kT, kE}, logits);
  canonicalInputs["x"] = f32Tensor({kG, kT, kD}, x);
  permutedInputs["logits"] =
      f32Tensor({kE, kT, kG}, transpose(logits, {g, t, e}, {e, t, g}));
  permutedInputs["x"] =
      f32Tensor({kD, kG, kT}, transpose(x, {g, t, d}, {d, g, t}));
  absl::StatusOr<RunResult> canonical =
      runProgram(routingProgram(false), canonicalInputs);
  absl::StatusOr<RunResult> permuted =
      runProgram(routingProgram(true), permutedInputs);
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  ASSERT_TRUE(permuted.ok()) << permuted.status();
  EXPECT_EQ(ints(*permuted->find("expert")),
            transpose(ints(*canonical->find("expert")), {g, t}, {t, g}));
  EXPECT_EQ(ints(*permuted->find("position")),
            transpose(ints(*canonical->find("position")), {g, t}, {t, g}));
  EXPECT_EQ(
      floats(*permuted->find("slots")),
      transpose(floats(*canonical->find("slots")), {g, e, c, d}, {c, d, e, g}));
  EXPECT_EQ(floats(*permuted->find("y")),
            transpose(floats(*canonical->find("y")), {g, t, d}, {t, d, g}));
}

TEST(RoutingTest, CombineAddsTheResidual) {
  const TestDim g{"g", kG}, t{"t", kT}, d{"d", kD};
  const std::vector<float> logits = routingLogits();
  const std::vector<float> x = randomValues(kG * kT * kD, 12);
  const std::vector<float> r = randomValues(kG * kT * kD, 13);
  std::map<std::string, HostTensor> inputs;
  inputs["logits"] = f32Tensor({kG, kT, kE}, logits);
  inputs["x"] = f32Tensor({kG, kT, kD}, x);
  absl::StatusOr<RunResult> plain = runProgram(routingProgram(false), inputs);
  ASSERT_TRUE(plain.ok()) << plain.status();
  std::vector<float> expected = floats(*plain->find("y"));
  for (size_t i = 0; i < expected.size(); ++i)
    expected[i] += r[i];
  // Dropped tokens (there are some) get the residual alone.
  inputs["r"] = f32Tensor({kG, kT, kD}, r);
  absl::StatusOr<RunResult> added =
      runProgram(routingProgram(false, true), inputs);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_THAT(floats(*added->find("y")), Pointwise(FloatEq(), expected));

  const TestDim e{"e", kE};
  inputs["logits"] =
      f32Tensor({kE, kT, kG}, transpose(logits, {g, t, e}, {e, t, g}));
  inputs["x"] = f32Tensor({kD, kG, kT}, transpose(x, {g, t, d}, {d, g, t}));
  inputs["r"] = f32Tensor({kT, kD, kG}, transpose(r, {g, t, d}, {t, d, g}));
  absl::StatusOr<RunResult> permuted =
      runProgram(routingProgram(true, true), inputs);
  ASSERT_TRUE(permuted.ok()) << permuted.status();
  EXPECT_THAT(floats(*permuted->find("y")),
              Pointwise(FloatEq(), transpose(expected, {g, t, d}, {t, d, g})));
}

TEST(RoutingTest, PositionOutsideCapacityIsAnError) {
  ProgramBuilder p;
  int x = p.value({{"t", 2}, {"d", 2}});
  int expert = p.value({{"t", 2}}, fb::DType::I32);
  int position = p.value({{"t", 2}}, fb::DType::I32);
  int dropped = p.value({{"t", 2}}, fb::DType::I1);
  int slots = p.value({{"e", 2}, {"c", 1}, {"d", 2}});
  OpFields f;
  f.tokensDim = "t";
  f.expertsDim = "e";
  f.capacityDim = "c";
  p.op(fb::OpKind::Dispatch, {x, expert, position, dropped}, {slots}, f);
  p.input("x", x);
  p.input("expert", expert);
  p.input("position", position);
  p.input("dropped", dropped);
  p.output("slots", slots);
  std::map<std::string, HostTensor> inputs;
  inputs["x"] = f32Tensor({2, 2}, {1, 2, 3, 4});
  inputs["expert"] = i32Tensor({2}, {0, 1});
  inputs["position"] = i32Tensor({2}, {0, 3});
  inputs["dropped"] = *HostTensor::allocate(DType::Bool, {2});
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  ASSERT_FALSE(run.ok());
  EXPECT_THAT(run.status().message(),
              HasSubstr("op 0 (dispatch at test.mlir:1): dispatch: a kept "
                        "token has expert 1 and position 3"));
}

TEST(RouterLossTest, MatchesTheCpuKernelsOnPooledLogits) {
  // Two logits operands [g:2, t:3, e:4] (the second stored [e, g, t]) pool
  // like HF's concatenation along the tokens axis.
  const int64_t g = 2, t = 3, e = 4;
  const std::vector<float> first = randomValues(g * t * e, 21);
  const std::vector<float> second = randomValues(g * t * e, 22);
  std::vector<float> pooled;
  for (int64_t i = 0; i < g; ++i) {
    pooled.insert(pooled.end(), first.begin() + i * t * e,
                  first.begin() + (i + 1) * t * e);
    pooled.insert(pooled.end(), second.begin() + i * t * e,
                  second.begin() + (i + 1) * t * e);
  }
  const TestDim gd{"g", g}, td{"t", t}, ed{"e", e};
  ProgramBuilder p;
  int a = p.value({gd, td, ed});
  int b = p.value({ed, gd, td});
  int z = p.value({});
  int aux = p.value({});
  OpFields f;
  f.tokensDim = "t";
  f.expertsDim = "e";
  p.op(fb::OpKind::ZLoss, {a, b}, {z}, f);
  p.op(fb::OpKind::LoadBalancingLoss, {a, b}, {aux}, f);
  p.input("a", a);
  p.input("b", b);
  p.output("z", z);
  p.output("aux", aux);
  std::map<std::string, HostTensor> inputs;
  inputs["a"] = f32Tensor({g, t, e}, first);
  inputs["b"] =
      f32Tensor({e, g, t}, transpose(second, {gd, td, ed}, {ed, gd, td}));
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_FLOAT_EQ(floats(*run->find("z"))[0],
                  *reference::routerZLoss(pooled, g, 2 * t, e));
  EXPECT_FLOAT_EQ(floats(*run->find("aux"))[0],
                  *reference::loadBalancingLoss(pooled, g, 2 * t, e));
}

} // namespace
} // namespace switchyard::runtime
