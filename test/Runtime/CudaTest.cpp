//===- CudaTest.cpp - The cuda backend against the cpu backend ------------===//
//
// Each test builds a program, runs it on both backends and compares the
// outputs. Without a CUDA device every test skips.
//
//===----------------------------------------------------------------------===//

#include "Backends.h"
#include "ExecTestUtil.h"

#include "switchyard/Runtime/CudaRuntime.h"

#include <cstring>

namespace switchyard::runtime {
namespace {

using testing::f32Tensor;
using testing::OpFields;
using testing::ProgramBuilder;
using testing::randomValues;
namespace fb = ::switchyard::executable;

/// Runs `program` on both backends and expects equal outputs: exactly for
/// integers and bool, within `tolerance` (relative and absolute) for floats.
void expectBackendsAgree(const ProgramBuilder &program,
                         const std::map<std::string, HostTensor> &inputs,
                         float tolerance = 1e-4f) {
  absl::StatusOr<Executable> executable =
      Executable::loadBytes(program.build(), "test");
  ASSERT_TRUE(executable.ok()) << executable.status();
  absl::StatusOr<RunResult> cpu = runOnCpu(*executable, nullptr, inputs);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  absl::StatusOr<std::unique_ptr<CudaSession>> session =
      CudaSession::create(*executable, nullptr);
  ASSERT_TRUE(session.ok()) << session.status();
  // Twice, to check that a session runs repeatedly.
  for (int repeat = 0; repeat < 2; ++repeat) {
    absl::StatusOr<RunResult> gpu = (*session)->run(inputs);
    ASSERT_TRUE(gpu.ok()) << gpu.status();
    ASSERT_EQ(gpu->outputs.size(), cpu->outputs.size());
    for (size_t i = 0; i < cpu->outputs.size(); ++i) {
      const HostTensor &want = cpu->outputs[i].second;
      const HostTensor &got = gpu->outputs[i].second;
      SCOPED_TRACE(cpu->outputs[i].first);
      ASSERT_EQ(got.dtype(), want.dtype());
      ASSERT_EQ(got.shape(), want.shape());
      if (want.dtype() != DType::F32) {
        EXPECT_EQ(std::memcmp(got.data(), want.data(), want.byteSize()), 0);
        continue;
      }
      auto w = want.span<float>(), g = got.span<float>();
      for (size_t k = 0; k < w.size(); ++k)
        ASSERT_NEAR(g[k], w[k], tolerance * (1.0f + std::fabs(w[k])))
            << "element " << k;
    }
    EXPECT_EQ(gpu->stats.of(CollectiveKind::AllReduce).bytes,
              cpu->stats.of(CollectiveKind::AllReduce).bytes);
  }
}

TEST(CudaTest, ReportsNoDeviceOrCreatesSessions) {
  ProgramBuilder p;
  int x = p.value({{"a", 4}});
  int y = p.value({{"a", 4}});
  p.op(fb::OpKind::Unary, {x}, {y});
  p.input("x", x);
  p.output("y", y);
  absl::StatusOr<Executable> executable =
      Executable::loadBytes(p.build(), "test");
  ASSERT_TRUE(executable.ok()) << executable.status();
  absl::StatusOr<std::unique_ptr<CudaSession>> session =
      CudaSession::create(*executable, nullptr);
  if (cudaDeviceCount() == 0) {
    EXPECT_TRUE(absl::IsFailedPrecondition(session.status()));
    GTEST_SKIP() << "no CUDA device";
  }
  EXPECT_TRUE(session.ok()) << session.status();
}

TEST(CudaTest, ElementwiseOps) {
  SKIP_UNLESS_AVAILABLE(testsupport::Backend::Cuda);
  ProgramBuilder p;
  int x = p.value({{"b", 3}, {"d", 40}});
  int scale = p.value({{"d", 40}});
  int bias = p.value({{"d", 40}});
  int normed = p.value({{"b", 3}, {"d", 40}});
  int gelu = p.value({{"b", 3}, {"d", 40}});
  int sum = p.value({{"b", 3}, {"d", 40}});
  int soft = p.value({{"b", 3}, {"d", 40}});
  int mean = p.value({{"b", 3}});
  int cum = p.value({{"b", 3}, {"d", 40}});
  OpFields norm;
  norm.dim = "d";
  norm.epsilon = 1e-6;
  p.op(fb::OpKind::RmsNorm, {x, scale}, {normed}, norm);
  OpFields act;
  act.unary = fb::UnaryKind::Gelu;
  p.op(fb::OpKind::Unary, {normed}, {gelu}, act);
  p.op(fb::OpKind::Binary, {gelu, bias}, {sum});
  OpFields along;
  along.dim = "d";
  p.op(fb::OpKind::Softmax, {sum}, {soft}, along);
  OpFields reduce;
  reduce.reduce = fb::ReduceKind::Mean;
  p.op(fb::OpKind::Reduce, {soft}, {mean}, reduce);
  p.op(fb::OpKind::Cumsum, {sum}, {cum}, along);
  p.input("x", x);
  p.input("scale", scale);
  p.input("bias", bias);
  p.output("soft", soft);
  p.output("mean", mean);
  p.output("cum", cum);
  std::map<std::string, HostTensor> inputs;
  inputs["x"] = f32Tensor({3, 40}, randomValues(120, 1));
  inputs["scale"] = f32Tensor({40}, randomValues(40, 2));
  inputs["bias"] = f32Tensor({40}, randomValues(40, 3));
  expectBackendsAgree(p, inputs);
}

/// A Switch MoE layer on one device: router einsum, route, dispatch, the
/// experts' GEMMs, combine and both losses; `fused` as sy-fuse-epilogues
/// leaves it: the relu as the first expert GEMM's epilogue (a cuBLASLt
/// epilogue), the residual add in the combine.
void checkMoeLayer(bool fused) {
  const int64_t tokens = 64, model = 16, hidden = 32, experts = 4,
                capacity = 20;
  ProgramBuilder p;
  int x = p.value({{"t", tokens}, {"m", model}});
  int router = p.value({{"m", model}, {"e", experts}});
  int wi = p.value({{"e", experts}, {"m", model}, {"h", hidden}});
  int wo = p.value({{"e", experts}, {"h", hidden}, {"m", model}});
  int logits = p.value({{"t", tokens}, {"e", experts}});
  int expert = p.value({{"t", tokens}}, fb::DType::I32);
  int gate = p.value({{"t", tokens}});
  int position = p.value({{"t", tokens}}, fb::DType::I32);
  int dropped = p.value({{"t", tokens}}, fb::DType::I1);
  int slots = p.value({{"e", experts}, {"c", capacity}, {"m", model}});
  int h = p.value({{"e", experts}, {"c", capacity}, {"h", hidden}});
  int a = p.value({{"e", experts}, {"c", capacity}, {"h", hidden}});
  int back = p.value({{"e", experts}, {"c", capacity}, {"m", model}});
  int y = p.value({{"t", tokens}, {"m", model}});
  int zLoss = p.value({});
  int balance = p.value({});
  p.op(fb::OpKind::Einsum, {x, router}, {logits});
  OpFields route;
  route.tokensDim = "t";
  route.expertsDim = "e";
  route.capacityDim = "c";
  route.capacity = capacity;
  p.op(fb::OpKind::Route, {logits}, {expert, gate, position, dropped}, route);
  p.op(fb::OpKind::Dispatch, {x, expert, position, dropped}, {slots}, route);
  if (fused) {
    OpFields epilogue;
    epilogue.epilogue = fb::UnaryKind::Relu;
    p.op(fb::OpKind::Einsum, {slots, wi}, {a}, epilogue);
  } else {
    p.op(fb::OpKind::Einsum, {slots, wi}, {h});
    OpFields relu;
    relu.unary = fb::UnaryKind::Relu;
    p.op(fb::OpKind::Unary, {h}, {a}, relu);
  }
  p.op(fb::OpKind::Einsum, {a, wo}, {back});
  std::vector<int> combined = {back, expert, position, dropped, gate};
  if (fused)
    combined.push_back(x);
  p.op(fb::OpKind::Combine, combined, {y}, route);
  p.op(fb::OpKind::ZLoss, {logits}, {zLoss}, route);
  p.op(fb::OpKind::LoadBalancingLoss, {logits}, {balance}, route);
  p.input("x", x);
  p.input("router", router);
  p.input("wi", wi);
  p.input("wo", wo);
  p.output("y", y);
  p.output("expert", expert);
  p.output("position", position);
  p.output("dropped", dropped);
  p.output("z_loss", zLoss);
  p.output("balance", balance);
  std::map<std::string, HostTensor> inputs;
  inputs["x"] = f32Tensor({tokens, model}, randomValues(tokens * model, 4));
  inputs["router"] =
      f32Tensor({model, experts}, randomValues(model * experts, 5));
  inputs["wi"] = f32Tensor({experts, model, hidden},
                           randomValues(experts * model * hidden, 6));
  inputs["wo"] = f32Tensor({experts, hidden, model},
                           randomValues(experts * hidden * model, 7));
  expectBackendsAgree(p, inputs);
}

TEST(CudaTest, MoeLayer) {
  SKIP_UNLESS_AVAILABLE(testsupport::Backend::Cuda);
  checkMoeLayer(false);
}

TEST(CudaTest, MoeLayerFused) {
  SKIP_UNLESS_AVAILABLE(testsupport::Backend::Cuda);
  checkMoeLayer(true);
}

/// A top-k MoE layer over 2 groups: router einsum, route, dispatch, an
/// expert-wise scale, combine. The logits are [b, t, e], or [b, e, t] with
/// `expertsBeforeTokens` (the choices then come before the tokens too).
struct TopKLayer {
  int64_t tokens = 32, experts = 4, choices = 2, capacity = 12;
  fb::GateNormalization normalization = fb::GateNormalization::None;
  bool bf16 = false, residual = false, expertsBeforeTokens = false;
};

/// Runs `layer` on both backends: its routing values exactly, its gates
/// and output (cast to f32) within a tolerance, 1e-2 in bf16.
void checkTopKLayer(const TopKLayer &layer) {
  const int64_t groups = 2, model = 8;
  const fb::DType type = layer.bf16 ? fb::DType::BF16 : fb::DType::F32;
  ProgramBuilder p;
  auto tokensAnd = [&](testing::TestDim dim) {
    return layer.expertsBeforeTokens
               ? std::vector<testing::TestDim>{{"b", groups},
                                               dim,
                                               {"t", layer.tokens}}
               : std::vector<testing::TestDim>{
                     {"b", groups}, {"t", layer.tokens}, dim};
  };
  const std::vector<testing::TestDim> routing = tokensAnd({"k", layer.choices});
  const std::vector<testing::TestDim> slotDims = {
      {"b", groups}, {"e", layer.experts}, {"c", layer.capacity}, {"m", model}};
  int x = p.value({{"b", groups}, {"t", layer.tokens}, {"m", model}});
  int router = p.value({{"m", model}, {"e", layer.experts}});
  int scale = p.value({{"e", layer.experts}, {"m", model}});
  int logits = p.value(tokensAnd({"e", layer.experts}));
  int expert = p.value(routing, fb::DType::I32);
  int gate = p.value(routing, type);
  int position = p.value(routing, fb::DType::I32);
  int dropped = p.value(routing, fb::DType::I1);
  int slots = p.value(slotDims, type);
  int scaled = p.value(slotDims, type);
  int y = p.value({{"b", groups}, {"t", layer.tokens}, {"m", model}}, type);
  p.op(fb::OpKind::Einsum, {x, router}, {logits});
  // In bf16: logits, tokens and scale cast from their f32 values; the
  // gates and output cast back.
  auto inType = [&](int value, std::vector<testing::TestDim> dims) {
    if (!layer.bf16)
      return value;
    const int cast = p.value(std::move(dims), type);
    p.op(fb::OpKind::Cast, {value}, {cast});
    return cast;
  };
  auto asF32 = [&](int value, std::vector<testing::TestDim> dims) {
    if (!layer.bf16)
      return value;
    const int cast = p.value(std::move(dims));
    p.op(fb::OpKind::Cast, {value}, {cast});
    return cast;
  };
  const int routed = inType(logits, tokensAnd({"e", layer.experts}));
  const int activations =
      inType(x, {{"b", groups}, {"t", layer.tokens}, {"m", model}});
  const int expertScale = inType(scale, {{"e", layer.experts}, {"m", model}});
  OpFields route;
  route.tokensDim = "t";
  route.expertsDim = "e";
  route.capacityDim = "c";
  route.choicesDim = "k";
  route.capacity = layer.capacity;
  route.gateNormalization = layer.normalization;
  p.op(fb::OpKind::Route, {routed}, {expert, gate, position, dropped}, route);
  p.op(fb::OpKind::Dispatch, {activations, expert, position, dropped}, {slots},
       route);
  OpFields mul;
  mul.binary = fb::BinaryKind::Mul;
  p.op(fb::OpKind::Binary, {slots, expertScale}, {scaled}, mul);
  std::vector<int> combined = {scaled, expert, position, dropped, gate};
  if (layer.residual)
    combined.push_back(activations);
  p.op(fb::OpKind::Combine, combined, {y}, route);
  p.input("x", x);
  p.input("router", router);
  p.input("scale", scale);
  p.output("y", asF32(y, {{"b", groups}, {"t", layer.tokens}, {"m", model}}));
  p.output("gate", asF32(gate, routing));
  p.output("expert", expert);
  p.output("position", position);
  p.output("dropped", dropped);
  std::map<std::string, HostTensor> inputs;
  inputs["x"] = f32Tensor({groups, layer.tokens, model},
                          randomValues(groups * layer.tokens * model, 12));
  inputs["router"] = f32Tensor({model, layer.experts},
                               randomValues(model * layer.experts, 13));
  inputs["scale"] = f32Tensor({layer.experts, model},
                              randomValues(layer.experts * model, 14));
  expectBackendsAgree(p, inputs, layer.bf16 ? 1e-2f : 1e-4f);
}

/// Top-2 with each gate normalization, with drops (capacity 12 of 16
/// choices per expert on average) and without (capacity 32).
TEST(CudaTest, TopKNormalizations) {
  SKIP_UNLESS_AVAILABLE(testsupport::Backend::Cuda);
  for (fb::GateNormalization normalization :
       {fb::GateNormalization::None, fb::GateNormalization::BeforeDrops,
        fb::GateNormalization::AfterDrops})
    for (int64_t capacity : {12, 32}) {
      SCOPED_TRACE("normalization " +
                   std::to_string(static_cast<int>(normalization)) +
                   ", capacity " + std::to_string(capacity));
      TopKLayer layer;
      layer.normalization = normalization;
      layer.capacity = capacity;
      checkTopKLayer(layer);
    }
}

/// Top-2 in bf16 (probabilities rounded before the choices) with the
/// residual added in the combine.
TEST(CudaTest, TopKBf16WithResidual) {
  SKIP_UNLESS_AVAILABLE(testsupport::Backend::Cuda);
  for (fb::GateNormalization normalization :
       {fb::GateNormalization::None, fb::GateNormalization::AfterDrops}) {
    SCOPED_TRACE("normalization " +
                 std::to_string(static_cast<int>(normalization)));
    TopKLayer layer;
    layer.normalization = normalization;
    layer.bf16 = true;
    layer.residual = true;
    checkTopKLayer(layer);
  }
}

/// Top-3 with the choices before the tokens, over more tokens than the
/// position scan takes at once (1024), with drops and the residual.
TEST(CudaTest, TopKChoicesBeforeTokensInSeveralChunks) {
  SKIP_UNLESS_AVAILABLE(testsupport::Backend::Cuda);
  TopKLayer layer;
  layer.tokens = 1100;
  layer.experts = 5;
  layer.choices = 3;
  layer.capacity = 600;
  layer.normalization = fb::GateNormalization::AfterDrops;
  layer.residual = true;
  layer.expertsBeforeTokens = true;
  checkTopKLayer(layer);
}

/// The relu epilogue of an f32 expert GEMM written in place runs inside
/// cuBLASLt, not as a fallback.
TEST(CudaTest, ReluEpilogueRunsInCublasLt) {
  SKIP_UNLESS_AVAILABLE(testsupport::Backend::Cuda);
  ProgramBuilder p;
  int x = p.value({{"e", 4}, {"c", 20}, {"m", 16}});
  int w = p.value({{"e", 4}, {"m", 16}, {"h", 32}});
  int h = p.value({{"e", 4}, {"c", 20}, {"h", 32}});
  OpFields epilogue;
  epilogue.epilogue = fb::UnaryKind::Relu;
  p.op(fb::OpKind::Einsum, {x, w}, {h}, epilogue);
  p.input("x", x);
  p.input("w", w);
  p.output("h", h);
  absl::StatusOr<Executable> executable =
      Executable::loadBytes(p.build(), "test");
  ASSERT_TRUE(executable.ok()) << executable.status();
  absl::StatusOr<std::unique_ptr<CudaSession>> session =
      CudaSession::create(*executable, nullptr);
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ((*session)->epilogueGemmCount(), 1);
}

/// bf16 einsums run as half-precision GEMMs with float32 accumulation:
/// operands used in place, packed (a transposed contraction) and summed out
/// while packing (the widening path); within two bf16 roundings of the cpu.
TEST(CudaTest, Bf16Einsums) {
  SKIP_UNLESS_AVAILABLE(testsupport::Backend::Cuda);
  const int64_t batch = 3, rows = 24, inner = 40, cols = 16;
  ProgramBuilder p;
  int x = p.value({{"b", batch}, {"r", rows}, {"k", inner}});
  int w = p.value({{"b", batch}, {"k", inner}, {"c", cols}});
  int wt = p.value({{"b", batch}, {"c", cols}, {"k", inner}});
  int v = p.value({{"k", inner}, {"c", cols}});
  auto half = [&](std::vector<testing::TestDim> dims) {
    return p.value(std::move(dims), fb::DType::BF16);
  };
  int x16 = half({{"b", batch}, {"r", rows}, {"k", inner}});
  int w16 = half({{"b", batch}, {"k", inner}, {"c", cols}});
  int wt16 = half({{"b", batch}, {"c", cols}, {"k", inner}});
  int v16 = half({{"k", inner}, {"c", cols}});
  int direct = half({{"b", batch}, {"r", rows}, {"c", cols}});
  int packed = half({{"b", batch}, {"c", cols}, {"r", rows}});
  int summed = half({{"r", rows}, {"c", cols}});
  int out0 = p.value({{"b", batch}, {"r", rows}, {"c", cols}});
  int out1 = p.value({{"b", batch}, {"c", cols}, {"r", rows}});
  int out2 = p.value({{"r", rows}, {"c", cols}});
  p.op(fb::OpKind::Cast, {x}, {x16});
  p.op(fb::OpKind::Cast, {w}, {w16});
  p.op(fb::OpKind::Cast, {wt}, {wt16});
  p.op(fb::OpKind::Cast, {v}, {v16});
  p.op(fb::OpKind::Einsum, {x16, w16}, {direct});
  p.op(fb::OpKind::Einsum, {x16, wt16}, {packed});
  p.op(fb::OpKind::Einsum, {x16, v16}, {summed});
  p.op(fb::OpKind::Cast, {direct}, {out0});
  p.op(fb::OpKind::Cast, {packed}, {out1});
  p.op(fb::OpKind::Cast, {summed}, {out2});
  p.input("x", x);
  p.input("w", w);
  p.input("wt", wt);
  p.input("v", v);
  p.output("direct", out0);
  p.output("packed", out1);
  p.output("summed", out2);
  std::map<std::string, HostTensor> inputs;
  inputs["x"] = f32Tensor({batch, rows, inner},
                          randomValues(batch * rows * inner, 8));
  inputs["w"] = f32Tensor({batch, inner, cols},
                          randomValues(batch * inner * cols, 9));
  inputs["wt"] = f32Tensor({batch, cols, inner},
                           randomValues(batch * cols * inner, 10));
  inputs["v"] = f32Tensor({inner, cols}, randomValues(inner * cols, 11));
  expectBackendsAgree(p, inputs, 1e-2f);
}

/// An id the program computes outside the table sets the error flag; the
/// run fails naming the gather (the run-time inputs are checked before).
TEST(CudaTest, GatherOfComputedIdsOutsideTheTable) {
  SKIP_UNLESS_AVAILABLE(testsupport::Backend::Cuda);
  absl::StatusOr<Executable> executable =
      Executable::loadBytes(testing::gatherOfDoubledIds().build(), "test");
  ASSERT_TRUE(executable.ok()) << executable.status();
  absl::StatusOr<RunResult> run =
      runOnCuda(*executable, nullptr, testing::gatherOfDoubledIdsOutOfRange());
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("op 1 (gather"), std::string::npos)
      << run.status();
  EXPECT_NE(run.status().message().find("an index outside the table"),
            std::string::npos)
      << run.status();
}

/// Every collective over each axis of a [2, 2] mesh.
TEST(CudaTest, Collectives) {
  SKIP_UNLESS_AVAILABLE(testsupport::Backend::Cuda);
  const std::vector<fb::OpKind> kinds = {
      fb::OpKind::AllReduce, fb::OpKind::AllGather, fb::OpKind::AllSlice,
      fb::OpKind::AllToAll, fb::OpKind::ReduceScatter};
  for (fb::OpKind kind : kinds)
    for (std::vector<int> grid :
         {std::vector<int>{0}, std::vector<int>{1}, std::vector<int>{0, 1}}) {
      SCOPED_TRACE("op kind " + std::to_string(static_cast<int>(kind)) +
                   " over " + std::to_string(grid.size()) +
                   " axes, the first " + std::to_string(grid[0]));
      const int64_t n = grid.size() == 2 ? 4 : 2;
      const int64_t rows = 2, columns = 4;
      int64_t outRows = rows, outColumns = columns;
      if (kind == fb::OpKind::AllGather)
        outRows *= n;
      if (kind == fb::OpKind::AllSlice || kind == fb::OpKind::ReduceScatter ||
          kind == fb::OpKind::AllToAll)
        outColumns /= n;
      if (kind == fb::OpKind::AllToAll)
        outRows *= n;
      ProgramBuilder p({{"m0", 2}, {"m1", 2}});
      int x = p.value({{"blk", rows}, {"col", columns}});
      int y = p.value({{"blk", outRows}, {"col", outColumns}});
      OpFields fields;
      fields.gridAxes = grid;
      fields.axis = kind == fb::OpKind::AllGather ? 0 : 1;
      fields.concatAxis = 0;
      p.op(kind, {x}, {y}, fields);
      p.input("x", x, {{0, 1}});
      p.output("y", y, {{0, 1}});
      std::map<std::string, HostTensor> inputs;
      inputs["x"] =
          f32Tensor({4 * rows, columns}, randomValues(4 * rows * columns, 8));
      expectBackendsAgree(p, inputs, 1e-6f);
    }
}

} // namespace
} // namespace switchyard::runtime
