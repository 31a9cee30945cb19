//===- ExecutableLoadTest.cpp - Loading and validating executables --------===//
//
// A well-formed executable loads with the expected accessors; every kind of
// bad file is a clear error, never a crash.
//
//===----------------------------------------------------------------------===//

#include "ProgramBuilder.h"
#include "TestUtil.h"

#include "switchyard/Runtime/Executable.h"

namespace switchyard::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::OpFields;
using testing::ProgramBuilder;
using testing::TestDim;
namespace fb = ::switchyard::executable;

/// x [batch:4 over b, d:8] -> y = relu(x), on a mesh b:2.
ProgramBuilder reluProgram() {
  ProgramBuilder p({{"b", 2}});
  int x = p.value({{"batch", 2}, {"d", 8}});
  int y = p.value({{"batch", 2}, {"d", 8}});
  OpFields relu;
  relu.unary = fb::UnaryKind::Relu;
  p.op(fb::OpKind::Unary, {x}, {y}, relu);
  p.input("x", x, {{0}});
  p.output("y", y, {{0}});
  return p;
}

std::string loadError(const std::string &bytes) {
  absl::StatusOr<Executable> e = Executable::loadBytes(bytes, "test.syx");
  EXPECT_FALSE(e.ok());
  return std::string(e.status().message());
}

TEST(ExecutableLoadTest, Accessors) {
  absl::StatusOr<Executable> e = Executable::loadBytes(reluProgram().build());
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->mesh().deviceCount(), 2);
  EXPECT_THAT(e->axisNames(), ElementsAre("b"));
  ASSERT_EQ(e->inputs().size(), 1u);
  EXPECT_EQ(e->inputs()[0].name, "x");
  EXPECT_FALSE(e->inputs()[0].isWeight());
  EXPECT_THAT(e->inputs()[0].global.shape(), ElementsAre(4, 8));
  EXPECT_THAT(e->inputs()[0].global.dims[0].axes, ElementsAre(0));
  EXPECT_EQ(e->inputs()[0].global.dtype, DType::F32);
  EXPECT_EQ(e->outputs()[0].name, "y");
  EXPECT_EQ(e->valueCount(), 2);
  EXPECT_EQ(e->opCount(), 1);
  EXPECT_EQ(e->arenaBytes(), 128);
  EXPECT_EQ(e->valueType(1).toString(), "[batch:2, d:8] f32");
}

class ExecutableFileTest : public TempDirTest {};

TEST_F(ExecutableFileTest, LoadFile) {
  std::string path = writeFile("relu.syx", reluProgram().build());
  EXPECT_TRUE(Executable::loadFile(path).ok());
  absl::StatusOr<Executable> missing = Executable::loadFile(this->path("no"));
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
}

TEST(ExecutableLoadTest, TruncatedBytes) {
  const std::string bytes = reluProgram().build();
  EXPECT_THAT(loadError(""), HasSubstr("not a Switchyard executable"));
  EXPECT_THAT(loadError(bytes.substr(0, 7)),
              HasSubstr("not a Switchyard executable"));
  for (size_t size : {size_t{12}, bytes.size() / 2, bytes.size() - 8})
    EXPECT_THAT(loadError(bytes.substr(0, size)),
                HasSubstr("invalid executable 'test.syx'"));
}

TEST(ExecutableLoadTest, WrongIdentifier) {
  std::string bytes = reluProgram().build();
  bytes[4] = 'X';
  EXPECT_THAT(loadError(bytes), HasSubstr("expected file identifier 'SYX1'"));
}

TEST(ExecutableLoadTest, CorruptOffsets) {
  std::string bytes = reluProgram().build();
  // The root offset points past the end.
  bytes[0] = '\xff';
  bytes[1] = '\xff';
  EXPECT_THAT(loadError(bytes), HasSubstr("verifier"));
}

TEST(ExecutableLoadTest, WrongVersion) {
  EXPECT_THAT(loadError(reluProgram().build(7)),
              HasSubstr("format version 7 is not supported (expected 2)"));
}

TEST(ExecutableLoadTest, OperandIndexOutOfRange) {
  ProgramBuilder p = reluProgram();
  p.op(fb::OpKind::Unary, {5}, {1});
  EXPECT_THAT(loadError(p.build()),
              HasSubstr("op 1 (unary): operand 5 is not a value index"));
}

TEST(ExecutableLoadTest, ResultIndexOutOfRange) {
  ProgramBuilder p = reluProgram();
  p.op(fb::OpKind::Unary, {0}, {-1});
  EXPECT_THAT(loadError(p.build()), HasSubstr("result -1 is not a value"));
}

TEST(ExecutableLoadTest, BindingIndexOutOfRange) {
  ProgramBuilder p = reluProgram();
  p.output("z", 9);
  EXPECT_THAT(loadError(p.build()),
              HasSubstr("output 'z': value 9 is not a value index"));
}

TEST(ExecutableLoadTest, IgnoredIndexOnlyOnRunTimeI32Inputs) {
  ProgramBuilder p = reluProgram();
  p.ignoredIndex("x", -100);
  EXPECT_THAT(loadError(p.build()),
              HasSubstr("input 'x': an ignored index (-100) belongs only to a "
                        "run-time i32 input"));
  ProgramBuilder q;
  int w = q.value({{"d", 4}}, fb::DType::I32);
  q.input("w", w, {}, "weight");
  q.ignoredIndex("w", -1);
  EXPECT_THAT(loadError(q.build()),
              HasSubstr("input 'w': an ignored index (-1) belongs only to a "
                        "run-time i32 input"));
}

TEST(ExecutableLoadTest, OffsetOutsideArena) {
  ProgramBuilder p = reluProgram();
  EXPECT_THAT(loadError(p.build(executable::kFormatVersion, 100)),
              HasSubstr("value 1 at offset 64 of 64 bytes lies outside the "
                        "arena of 100 bytes"));
  ProgramBuilder q;
  q.value({{"d", 4}}, fb::DType::F32, int64_t{-64});
  EXPECT_THAT(loadError(q.build(executable::kFormatVersion, 64)),
              HasSubstr("lies outside the arena"));
}

TEST(ExecutableLoadTest, MisalignedOffset) {
  ProgramBuilder p;
  p.value({{"d", 4}}, fb::DType::F32, int64_t{4});
  EXPECT_THAT(loadError(p.build(executable::kFormatVersion, 64)),
              HasSubstr("not aligned to 64 bytes"));
}

TEST(ExecutableLoadTest, OpSignatures) {
  auto expectError = [](auto setUp, const std::string &message) {
    ProgramBuilder p;
    setUp(p);
    EXPECT_THAT(loadError(p.build()), HasSubstr(message));
  };
  expectError(
      [](ProgramBuilder &p) {
        int a = p.value({{"d", 4}});
        p.op(fb::OpKind::Unary, {a, a}, {a});
      },
      "expects 1 operands and 1 results, got 2 and 1");
  expectError(
      [](ProgramBuilder &p) {
        int a = p.value({{"d", 4}});
        int b = p.value({{"d", 5}});
        p.op(fb::OpKind::Unary, {a}, {b});
      },
      "operand and result must have the same dimensions");
  expectError(
      [](ProgramBuilder &p) {
        int a = p.value({{"d", 4}}, fb::DType::I32);
        int b = p.value({{"d", 4}}, fb::DType::I32);
        OpFields f;
        f.unary = fb::UnaryKind::Exp;
        p.op(fb::OpKind::Unary, {a}, {b}, f);
      },
      "operand has type [d:4] i32, expected f32, bf16, f16");
  expectError(
      [](ProgramBuilder &p) {
        int a = p.value({{"m", 2}, {"k", 3}});
        int b = p.value({{"k", 4}, {"n", 2}});
        int c = p.value({{"m", 2}, {"n", 2}});
        p.op(fb::OpKind::Einsum, {a, b}, {c});
      },
      "dimension 'k' of [k:4, n:2] f32 is not in");
  expectError(
      [](ProgramBuilder &p) {
        int a = p.value({{"m", 2}, {"k", 3}});
        int b = p.value({{"k", 3}, {"n", 2}});
        int c = p.value({{"m", 2}, {"n", 2}});
        OpFields f;
        f.epilogue = fb::UnaryKind::Exp;
        p.op(fb::OpKind::Einsum, {a, b}, {c}, f);
      },
      "an epilogue must be relu, gelu, gelu_tanh or silu");
  // A combine's residual (its sixth operand) has the result's type.
  auto combineWithResidual = [](std::vector<TestDim> residualDims,
                                fb::DType residualType) {
    return [=](ProgramBuilder &p) {
      int slots = p.value({{"e", 2}, {"c", 1}, {"d", 2}});
      int expert = p.value({{"t", 2}}, fb::DType::I32);
      int position = p.value({{"t", 2}}, fb::DType::I32);
      int dropped = p.value({{"t", 2}}, fb::DType::I1);
      int gate = p.value({{"t", 2}});
      int residual = p.value(residualDims, residualType);
      int y = p.value({{"t", 2}, {"d", 2}});
      OpFields f;
      f.tokensDim = "t";
      f.expertsDim = "e";
      f.capacityDim = "c";
      p.op(fb::OpKind::Combine,
           {slots, expert, position, dropped, gate, residual}, {y}, f);
    };
  };
  expectError(combineWithResidual({{"d", 2}, {"t", 2}}, fb::DType::F32),
              "residual and result must have the same dimensions");
  expectError(combineWithResidual({{"t", 2}, {"d", 2}}, fb::DType::BF16),
              "residual and result have different element types");
  expectError(
      [](ProgramBuilder &p) {
        int a = p.value({{"d", 4}});
        p.op(fb::OpKind::Unary, {a}, {a});
      },
      "result value 0 overlaps operand value 0");
  expectError(
      [](ProgramBuilder &p) {
        int a = p.value({{"d", 4}});
        int b = p.value({{"d", 4}});
        OpFields f;
        f.dim = "e";
        p.op(fb::OpKind::Softmax, {a}, {b}, f);
      },
      "has no dimension 'e'");
  expectError(
      [](ProgramBuilder &p) {
        int a = p.value({{"d", 4}});
        OpFields f;
        f.constant = {1, 2, 3};
        p.op(fb::OpKind::Constant, {}, {a}, f);
      },
      "constant has 3 bytes but result [d:4] f32 needs 16");
  expectError(
      [](ProgramBuilder &p) {
        int a = p.value({{"d", 4}});
        int b = p.value({{"d", 8}});
        OpFields f;
        f.gridAxes = {0};
        p.op(fb::OpKind::AllGather, {a}, {b}, f);
      },
      "mesh axis 0 is not an axis of mesh []");
}

/// The load error of a route of logits [t:4, e:3] into results of
/// dimensions `results` (the gate's `gate`, if given): tokens t, experts e,
/// choices k, normalized after drops, unless `change` changes the fields.
std::string routeError(std::vector<TestDim> results,
                       void (*change)(OpFields &) = nullptr,
                       std::vector<TestDim> gate = {}) {
  ProgramBuilder p;
  int logits = p.value({{"t", 4}, {"e", 3}});
  int expert = p.value(results, fb::DType::I32);
  int gateValue = p.value(gate.empty() ? results : gate);
  int position = p.value(results, fb::DType::I32);
  int dropped = p.value(results, fb::DType::I1);
  OpFields f;
  f.tokensDim = "t";
  f.expertsDim = "e";
  f.choicesDim = "k";
  f.gateNormalization = fb::GateNormalization::AfterDrops;
  if (change)
    change(f);
  p.op(fb::OpKind::Route, {logits}, {expert, gateValue, position, dropped}, f);
  return loadError(p.build());
}

TEST(ExecutableLoadTest, TopKRouteSignatures) {
  const TestDim t{"t", 4}, k{"k", 2};
  EXPECT_THAT(routeError({t, k},
                         [](OpFields &f) {
                           f.gateNormalization =
                               static_cast<fb::GateNormalization>(7);
                         }),
              HasSubstr("op 0 (route at test.mlir:1): unknown gate "
                        "normalization"));
  EXPECT_THAT(routeError({t}, [](OpFields &f) { f.choicesDim.clear(); }),
              HasSubstr("gate normalization needs a choices dimension"));
  EXPECT_THAT(
      routeError({t, {"e", 2}}, [](OpFields &f) { f.choicesDim = "e"; }),
      HasSubstr("choices dimension 'e' must not be a dimension of "
                "the logits [t:4, e:3] f32"));
  EXPECT_THAT(routeError({t}),
              HasSubstr("expert [t:4] i32 must have the dimensions of the "
                        "logits [t:4, e:3] f32 with 'k' for experts"));
  EXPECT_THAT(routeError({t, k, {"e", 3}}), HasSubstr("with 'k' for experts"));
  EXPECT_THAT(routeError({t, {"k", 4}}),
              HasSubstr("choices dimension 'k' has 4 choices, expected 1 to "
                        "3 (the experts)"));
  EXPECT_THAT(routeError({t, {"k", 0}}), HasSubstr("has 0 choices"));
  EXPECT_THAT(routeError({t, k}, nullptr, {{"k", 3}, t}),
              HasSubstr("routing results: dimension 'k' of [k:3, t:4] f32 "
                        "is not in [t:4, k:2] i32 with the same size"));
  // Without a choices dimension the results lose experts, as before.
  EXPECT_THAT(routeError({t, {"e", 3}},
                         [](OpFields &f) {
                           f.choicesDim.clear();
                           f.gateNormalization = fb::GateNormalization::None;
                         }),
              HasSubstr("must have the dimensions of the logits [t:4, e:3] "
                        "f32 but experts"));
}

/// The load error of a dispatch of x (`tokens`) by routing values of
/// dimensions `routing` (the position's `position`, if given) into slots
/// [e:2, c:1, d:2], with choices dimension `choices`.
std::string dispatchError(std::vector<TestDim> tokens,
                          std::vector<TestDim> routing, std::string choices,
                          std::vector<TestDim> position = {}) {
  ProgramBuilder p;
  int x = p.value(tokens);
  int expert = p.value(routing, fb::DType::I32);
  int positionValue =
      p.value(position.empty() ? routing : position, fb::DType::I32);
  int dropped = p.value(routing, fb::DType::I1);
  int slots = p.value({{"e", 2}, {"c", 1}, {"d", 2}});
  OpFields f;
  f.tokensDim = "t";
  f.expertsDim = "e";
  f.capacityDim = "c";
  f.choicesDim = std::move(choices);
  p.op(fb::OpKind::Dispatch, {x, expert, positionValue, dropped}, {slots}, f);
  return loadError(p.build());
}

TEST(ExecutableLoadTest, TopKDispatchAndCombineSignatures) {
  const TestDim t{"t", 2}, k{"k", 2}, d{"d", 2};
  EXPECT_THAT(dispatchError({t, d}, {t, k}, "t"),
              HasSubstr("op 0 (dispatch at test.mlir:1): the choices and "
                        "tokens dimensions must differ"));
  EXPECT_THAT(dispatchError({t, d}, {t}, "k"),
              HasSubstr("expert [t:2] i32 has no dimension 'k'"));
  EXPECT_THAT(dispatchError({t, d}, {t, k}, "k", {t}),
              HasSubstr("the routing operands must have the same dimensions"));
  EXPECT_THAT(dispatchError({t, k, d}, {t, k}, "k"),
              HasSubstr("choices dimension 'k' must be in the routing "
                        "operands only, not in [t:2, k:2, d:2] f32 or"));
  // Without a choices dimension, the routing operands have only token-side
  // dimensions.
  EXPECT_THAT(dispatchError({t, d}, {t, k}, ""),
              HasSubstr("routing operands: dimension 'k' of [t:2, k:2] i32 "
                        "is not in [t:2, d:2] f32 with the same size"));
  // A combine's gate has the choices dimension as well.
  ProgramBuilder p;
  int slots = p.value({{"e", 2}, {"c", 1}, d});
  int expert = p.value({t, k}, fb::DType::I32);
  int position = p.value({t, k}, fb::DType::I32);
  int dropped = p.value({t, k}, fb::DType::I1);
  int gate = p.value({t});
  int y = p.value({t, d});
  OpFields f;
  f.tokensDim = "t";
  f.expertsDim = "e";
  f.capacityDim = "c";
  f.choicesDim = "k";
  p.op(fb::OpKind::Combine, {slots, expert, position, dropped, gate}, {y}, f);
  EXPECT_THAT(loadError(p.build()),
              HasSubstr("op 0 (combine at test.mlir:1): the routing operands "
                        "must have the same dimensions"));
}

TEST(ExecutableLoadTest, BadBindings) {
  ProgramBuilder p({{"b", 2}});
  int x = p.value({{"batch", 3}});
  p.input("x", x, {{0}});
  p.input("x", x, {{0}});
  EXPECT_THAT(loadError(p.build()), HasSubstr("input 'x' is bound twice"));

  ProgramBuilder q({{"b", 2}});
  x = q.value({{"batch", 3}});
  q.input("w", x, {{0, 0}}, "w");
  EXPECT_THAT(loadError(q.build()), HasSubstr("mesh axis 0 is used twice"));

  ProgramBuilder r;
  x = r.value({{"experts", 3}});
  r.input("w", x, {}, "w_{expert}");
  EXPECT_THAT(loadError(r.build()),
              HasSubstr("names '{expert}', which is not a dimension"));
}

} // namespace
} // namespace switchyard::runtime
