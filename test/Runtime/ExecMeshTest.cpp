//===- ExecMeshTest.cpp - Executables on device meshes --------------------===//
//
// Every collective op on meshes [2] and [2, 2] over every ordered subset of
// axes, compared with a serial reference that simulates each device; weight
// binding with {dim} stacking and per-device slices, and from safetensors
// files of another float precision (converted at load); output assembly;
// repeated runs of one session; input errors and statistics.
//
//===----------------------------------------------------------------------===//

#include "ExecTestUtil.h"
#include "TestUtil.h"

#include "switchyard/Runtime/Mesh.h"
#include "switchyard/Runtime/SafeTensors.h"

#include <cmath>
#include <cstring>
#include <mutex>
#include <set>

namespace switchyard::runtime {
namespace {

using ::testing::ElementsAre;
using testing::f32Tensor;
using testing::floats;
using ::testing::HasSubstr;
using testing::OpFields;
using testing::ProgramBuilder;
using testing::randomValues;
using testing::runProgram;
namespace fb = ::switchyard::executable;

/// A local [rows, columns] f32 block.
struct Block {
  int64_t rows = 0, columns = 0;
  std::vector<float> data;

  float at(int64_t r, int64_t c) const { return data[r * columns + c]; }
};

struct CollectiveCase {
  std::vector<int64_t> mesh;
  std::vector<int> grid;
  fb::OpKind kind;
  fb::CollectiveReduction reduction = fb::CollectiveReduction::Sum;
};

std::string caseName(const ::testing::TestParamInfo<CollectiveCase> &info) {
  static const char *kinds[] = {"AllReduce", "AllGather", "AllSlice",
                                "AllToAll", "ReduceScatter"};
  static const char *reductions[] = {"Sum", "Average", "Max", "Min"};
  const CollectiveCase &c = info.param;
  std::string name =
      kinds[static_cast<int>(c.kind) - static_cast<int>(fb::OpKind::AllReduce)];
  if (c.kind == fb::OpKind::AllReduce || c.kind == fb::OpKind::ReduceScatter)
    name += reductions[static_cast<int>(c.reduction)];
  name += "_mesh";
  for (int64_t s : c.mesh)
    name += std::to_string(s);
  name += "_axes";
  for (int a : c.grid)
    name += std::to_string(a);
  return name;
}

std::vector<CollectiveCase> collectiveCases() {
  std::vector<CollectiveCase> cases;
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int>>> groups =
      {{{2}, {0}},
       {{2, 2}, {0}},
       {{2, 2}, {1}},
       {{2, 2}, {0, 1}},
       {{2, 2}, {1, 0}}};
  for (const auto &[mesh, grid] : groups) {
    for (auto reduction :
         {fb::CollectiveReduction::Sum, fb::CollectiveReduction::Average,
          fb::CollectiveReduction::Max, fb::CollectiveReduction::Min}) {
      cases.push_back({mesh, grid, fb::OpKind::AllReduce, reduction});
      cases.push_back({mesh, grid, fb::OpKind::ReduceScatter, reduction});
    }
    for (auto kind :
         {fb::OpKind::AllGather, fb::OpKind::AllSlice, fb::OpKind::AllToAll})
      cases.push_back({mesh, grid, kind});
  }
  return cases;
}

class CollectiveOpTest : public ::testing::TestWithParam<CollectiveCase> {};

/// Input x: global [blk: 2 * devices, col: 4], blk split over every mesh
/// axis, so device d holds rows [2d, 2d + 2). The result y's rows are split
/// over the mesh axes outside the group; the group shares (or, for
/// all_slice, reduce_scatter and all_to_all, splits by columns) them.
TEST_P(CollectiveOpTest, MatchesSerialReference) {
  const CollectiveCase &param = GetParam();
  const Mesh mesh = *Mesh::create(param.mesh);
  const int64_t devices = mesh.deviceCount();
  const int64_t n = mesh.group(0, param.grid).size();
  std::vector<std::pair<std::string, int64_t>> axes;
  std::vector<int> allAxes, otherAxes;
  for (int a = 0; a < mesh.axisCount(); ++a) {
    axes.push_back({"m" + std::to_string(a), param.mesh[a]});
    allAxes.push_back(a);
    if (std::find(param.grid.begin(), param.grid.end(), a) == param.grid.end())
      otherAxes.push_back(a);
  }
  const int64_t rows = 2, columns = 4;
  int64_t outRows = rows, outColumns = columns;
  if (param.kind == fb::OpKind::AllGather)
    outRows *= n;
  if (param.kind == fb::OpKind::AllSlice ||
      param.kind == fb::OpKind::ReduceScatter ||
      param.kind == fb::OpKind::AllToAll)
    outColumns /= n;
  if (param.kind == fb::OpKind::AllToAll)
    outRows *= n;

  ProgramBuilder p(axes);
  int x = p.value({{"blk", rows}, {"col", columns}});
  int y = p.value({{"blk", outRows}, {"col", outColumns}});
  OpFields fields;
  fields.gridAxes = param.grid;
  fields.reduction = param.reduction;
  fields.axis = param.kind == fb::OpKind::AllGather ? 0 : 1;
  fields.concatAxis = 0;
  p.op(param.kind, {x}, {y}, fields);
  p.input("x", x, {allAxes});
  p.output("y", y, {otherAxes});

  const std::vector<float> global = randomValues(devices * rows * columns, 5);
  std::map<std::string, HostTensor> inputs;
  inputs["x"] = f32Tensor({devices * rows, columns}, global);
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();

  // The serial reference: each device's block, then each device's result.
  auto local = [&](int64_t d) {
    return Block{rows, columns,
                 std::vector<float>(global.begin() + d * rows * columns,
                                    global.begin() + (d + 1) * rows * columns)};
  };
  auto reduced = [&](int64_t d) {
    std::vector<int64_t> group = mesh.group(d, param.grid);
    Block r = local(group[0]);
    for (size_t k = 1; k < group.size(); ++k)
      for (size_t i = 0; i < r.data.size(); ++i) {
        const float v = local(group[k]).data[i];
        float &a = r.data[i];
        switch (param.reduction) {
        case fb::CollectiveReduction::Max:
          a = std::max(a, v);
          break;
        case fb::CollectiveReduction::Min:
          a = std::min(a, v);
          break;
        default:
          a += v;
        }
      }
    if (param.reduction == fb::CollectiveReduction::Average)
      for (float &v : r.data)
        v /= static_cast<float>(n);
    return r;
  };
  auto result = [&](int64_t d) {
    const std::vector<int64_t> group = mesh.group(d, param.grid);
    const int64_t rank = mesh.groupRank(d, param.grid);
    Block out{outRows, outColumns, {}};
    for (int64_t r = 0; r < outRows; ++r)
      for (int64_t c = 0; c < outColumns; ++c) {
        float v = 0;
        switch (param.kind) {
        case fb::OpKind::AllReduce:
          v = reduced(d).at(r, c);
          break;
        case fb::OpKind::AllGather:
          v = local(group[r / rows]).at(r % rows, c);
          break;
        case fb::OpKind::AllSlice:
          v = local(d).at(r, rank * outColumns + c);
          break;
        case fb::OpKind::AllToAll:
          v = local(group[r / rows]).at(r % rows, rank * outColumns + c);
          break;
        default:
          v = reduced(d).at(r, rank * outColumns + c);
        }
        out.data.push_back(v);
      }
    return out;
  };
  // Assemble: devices at coordinate 0 along the group's axes supply the
  // rows block numbered by their other coordinates.
  const int64_t blocks = devices / n;
  std::vector<float> expected(blocks * outRows * outColumns);
  for (int64_t d = 0; d < devices; ++d) {
    const std::vector<int64_t> coords = mesh.coordinates(d);
    bool supplies = true;
    for (int a : param.grid)
      supplies = supplies && coords[a] == 0;
    if (!supplies)
      continue;
    int64_t index = 0;
    for (int a : otherAxes)
      index = index * param.mesh[a] + coords[a];
    const Block b = result(d);
    std::copy(b.data.begin(), b.data.end(),
              expected.begin() + index * outRows * outColumns);
  }
  const HostTensor &y0 = run->outputs[0].second;
  EXPECT_THAT(y0.shape(), ElementsAre(blocks * outRows, outColumns));
  EXPECT_THAT(floats(y0), testing::FloatsNear(expected));

  // Statistics: one op of this kind; bytes sent per device.
  const RunStats &stats = run->stats;
  const CollectiveKind kind = static_cast<CollectiveKind>(
      static_cast<int>(param.kind) - static_cast<int>(fb::OpKind::AllReduce));
  EXPECT_EQ(stats.of(kind).count, 1);
  const int64_t inBytes = rows * columns * 4;
  const int64_t perDevice =
      param.kind == fb::OpKind::AllSlice    ? 0
      : param.kind == fb::OpKind::AllReduce ? 2 * inBytes * (n - 1) / n
      : param.kind == fb::OpKind::AllGather ? (n - 1) * inBytes
                                            : (n - 1) * inBytes / n;
  EXPECT_EQ(stats.of(kind).bytes, devices * perDevice);
  EXPECT_THAT(stats.of(kind).bytesPerDevice,
              ::testing::Each(::testing::Eq(perDevice)));
}

INSTANTIATE_TEST_SUITE_P(Meshes, CollectiveOpTest,
                         ::testing::ValuesIn(collectiveCases()), caseName);

TEST(CollectiveOpTest, BF16AllReduce) {
  ProgramBuilder p({{"x", 2}});
  int a = p.value({{"d", 3}}, fb::DType::BF16);
  int b = p.value({{"d", 3}}, fb::DType::BF16);
  OpFields fields;
  fields.gridAxes = {0};
  p.op(fb::OpKind::AllReduce, {a}, {b}, fields);
  p.input("a", a, {{0}});
  p.output("b", b);
  HostTensor in = *HostTensor::allocate(DType::BF16, {6});
  const uint16_t bits[] = {0x3F80, 0x4000, 0xC000, 0x3F80, 0x4040, 0x3F00};
  std::memcpy(in.data(), bits, sizeof(bits));
  std::map<std::string, HostTensor> inputs;
  inputs["a"] = std::move(in);
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  const auto *out =
      static_cast<const uint16_t *>(run->outputs[0].second.data());
  // 1 + 1 = 2, 2 + 3 = 5, -2 + 0.5 = -1.5.
  EXPECT_THAT(std::vector<uint16_t>(out, out + 3),
              ElementsAre(0x4000, 0x40A0, 0xBFC0));
}

/// A WeightSource that records every read (thread-safe).
class RecordingSource final : public WeightSource {
public:
  explicit RecordingSource(const WeightSource &inner) : inner_(inner) {}

  absl::StatusOr<WeightInfo> describe(absl::string_view name) const override {
    return inner_.describe(name);
  }
  absl::Status readSliceInto(absl::string_view name,
                             absl::Span<const DimRange> slice,
                             absl::Span<std::byte> dst) const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string read = std::string(name);
    for (const DimRange &r : slice)
      read +=
          " [" + std::to_string(r.begin) + "," + std::to_string(r.end) + ")";
    reads_.insert(read);
    return inner_.readSliceInto(name, slice, dst);
  }
  std::set<std::string> reads() const { return reads_; }

private:
  const WeightSource &inner_;
  mutable std::mutex mu_;
  mutable std::set<std::string> reads_;
};

TEST(WeightTest, StackedAndSlicedPerDevice) {
  // Mesh x:2, y:2. wi: global [experts:4 over x, d_ff:6 over y, d_model:2],
  // stored as expert_0..3 of [6, 2]. wo: global [d_model:2, experts:4 over
  // y] with a non-leading stacked dimension, stored as wo_0..3 of [2].
  ProgramBuilder p({{"x", 2}, {"y", 2}});
  int wi = p.value({{"experts", 2}, {"d_ff", 3}, {"d_model", 2}});
  int wo = p.value({{"d_model", 2}, {"experts", 2}});
  p.input("wi", wi, {{0}, {1}, {}}, "mlp.experts.expert_{experts}.wi.weight");
  p.input("wo", wo, {{}, {1}}, "wo_{experts}");
  p.output("wi", wi, {{0}, {1}, {}});
  p.output("wo", wo, {{}, {1}});

  MapWeightSource weights;
  std::vector<float> wiGlobal, woGlobal(8);
  for (int e = 0; e < 4; ++e) {
    std::vector<float> v = randomValues(12, 30 + e);
    wiGlobal.insert(wiGlobal.end(), v.begin(), v.end());
    weights.add("mlp.experts.expert_" + std::to_string(e) + ".wi.weight",
                f32Tensor({6, 2}, v));
    std::vector<float> o = randomValues(2, 40 + e);
    woGlobal[0 * 4 + e] = o[0];
    woGlobal[1 * 4 + e] = o[1];
    weights.add("wo_" + std::to_string(e), f32Tensor({2}, o));
  }
  RecordingSource recording(weights);
  absl::StatusOr<RunResult> run = runProgram(p, {}, &recording);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(floats(*run->find("wi")), wiGlobal);
  EXPECT_EQ(floats(*run->find("wo")), woGlobal);
  // Device (x, y) reads experts [2x, 2x+2) of wi, rows [3y, 3y+3) of each,
  // and experts [2y, 2y+2) of wo whole.
  std::set<std::string> expected;
  for (int e = 0; e < 4; ++e)
    for (int y = 0; y < 2; ++y)
      expected.insert("mlp.experts.expert_" + std::to_string(e) +
                      ".wi.weight [" + std::to_string(3 * y) + "," +
                      std::to_string(3 * y + 3) + ") [0,2)");
  for (int e = 0; e < 4; ++e)
    expected.insert("wo_" + std::to_string(e) + " [0,2)");
  EXPECT_EQ(recording.reads(), expected);
}

TEST(WeightTest, Errors) {
  ProgramBuilder p;
  int w = p.value({{"experts", 2}, {"d", 3}});
  p.input("w", w, {}, "w_{experts}");
  p.output("w", w);
  MapWeightSource weights;
  weights.add("w_0", f32Tensor({3}, {1, 2, 3}));
  absl::StatusOr<RunResult> run = runProgram(p, {}, &weights);
  EXPECT_THAT(run.status().message(), HasSubstr("no weight tensor 'w_1'"));

  weights.add("w_1", *HostTensor::allocate(DType::I32, {3}));
  run = runProgram(p, {}, &weights);
  EXPECT_THAT(run.status().message(),
              HasSubstr("weight 'w_1' (for input 'w') is i32, the executable "
                        "expects f32"));

  weights.add("w_1", f32Tensor({4}, {1, 2, 3, 4}));
  run = runProgram(p, {}, &weights);
  EXPECT_THAT(run.status().message(),
              HasSubstr("weight 'w_1' (for input 'w') has shape [4], the "
                        "executable expects [3]"));

  run = runProgram(p, {}, nullptr);
  EXPECT_THAT(run.status().message(), HasSubstr("no weight source was given"));
}

/// A [rows:4, cols:2] tensor of `dtype` whose elements are `raw` as stored.
template <typename T>
HostTensor rawTensor(DType dtype, const std::vector<T> &raw) {
  HostTensor t = *HostTensor::allocate(dtype, {4, 2});
  EXPECT_EQ(t.byteSize(), raw.size() * sizeof(T));
  std::memcpy(t.data(), raw.data(), raw.size() * sizeof(T));
  return t;
}

/// The bit patterns of `values`, so that -0 and 0 differ.
std::vector<uint32_t> bitsOf(absl::Span<const float> values) {
  std::vector<uint32_t> bits(values.size());
  std::memcpy(bits.data(), values.data(), values.size() * sizeof(float));
  return bits;
}

/// Weights bound from a safetensors file.
class WeightFileTest : public TempDirTest {};

/// A checkpoint of another float precision converts to the executable's
/// dtype as `mtf.cast` does: bf16 and f16 widen exactly into f32 weights
/// (f16 subnormals, -0 and infinity included), f32 rounds to nearest even
/// into a bf16 weight. Each device of x:2 reads its half of the rows in the
/// checkpoint's dtype.
TEST_F(WeightFileTest, FloatCheckpointsConvertAtLoad) {
  // bf16 is the upper half of an f32: 1, -3, 0.15625, 3.140625, the largest
  // finite, the smallest subnormal, -0, -infinity.
  const std::vector<uint16_t> bf16 = {0x3F80, 0xC040, 0x3E20, 0x4049,
                                      0x7F7F, 0x0001, 0x8000, 0xFF80};
  // f16 bits and their values: 1, -5, 0.333..., the largest finite, the
  // smallest and largest subnormals, -0, infinity.
  const std::pair<uint16_t, float> f16[] = {
      {0x3C00, 1},     {0xC500, -5},       {0x3555, 0x1.554p-2f},
      {0x7BFF, 65504}, {0x0001, 0x1p-24f}, {0x03FF, 0x3FFp-24f},
      {0x8000, -0.0f}, {0x7C00, INFINITY}};
  // f32 values and their bf16 bits: ties 1 + 2^-8 (down to even) and
  // 1 + 3 * 2^-8 (up to even), one just past a tie, 3 and 2^-133 exact,
  // 65504 and 0.1 rounding up, -0.
  const std::pair<float, uint16_t> f32[] = {{1 + 0x1p-8f, 0x3F80},
                                            {1 + 0x3p-8f, 0x3F82},
                                            {-(1 + 0x1p-8f + 0x1p-20f), 0xBF81},
                                            {3, 0x4040},
                                            {0x1p-133f, 0x0001},
                                            {65504, 0x4780},
                                            {0.1f, 0x3DCD},
                                            {-0.0f, 0x8000}};
  std::vector<uint16_t> f16Bits, f32AsBf16;
  std::vector<float> f16Values, f32Values;
  for (const auto &[bits, value] : f16) {
    f16Bits.push_back(bits);
    f16Values.push_back(value);
  }
  for (const auto &[value, bits] : f32) {
    f32Values.push_back(value);
    f32AsBf16.push_back(bits);
  }
  const HostTensor bf16File = rawTensor(DType::BF16, bf16);
  const HostTensor f16File = rawTensor(DType::F16, f16Bits);
  const HostTensor f32File = rawTensor(DType::F32, f32Values);
  const std::string file = path("model.safetensors");
  ASSERT_TRUE(writeSafeTensors(file, {{"a.bf16", &bf16File},
                                      {"b.f16", &f16File},
                                      {"c.f32", &f32File}})
                  .ok());
  absl::StatusOr<Checkpoint> checkpoint = Checkpoint::open(file);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  CheckpointWeightSource weights(*checkpoint);
  RecordingSource recording(weights);

  ProgramBuilder p({{"x", 2}});
  const std::vector<testing::TestDim> half = {{"rows", 2}, {"cols", 2}};
  int a = p.value(half), b = p.value(half), c = p.value(half, fb::DType::BF16);
  p.input("a", a, {{0}}, "a.bf16");
  p.input("b", b, {{0}}, "b.f16");
  p.input("c", c, {{0}}, "c.f32");
  p.output("a", a, {{0}});
  p.output("b", b, {{0}});
  p.output("c", c, {{0}});
  absl::StatusOr<RunResult> run = runProgram(p, {}, &recording);
  ASSERT_TRUE(run.ok()) << run.status();

  std::vector<uint32_t> widened;
  for (uint16_t bits : bf16)
    widened.push_back(uint32_t{bits} << 16);
  EXPECT_EQ(bitsOf(run->find("a")->span<float>()), widened);
  EXPECT_EQ(bitsOf(run->find("b")->span<float>()), bitsOf(f16Values));
  const auto *rounded = static_cast<const uint16_t *>(run->find("c")->data());
  EXPECT_EQ(std::vector<uint16_t>(rounded, rounded + 8), f32AsBf16);
  std::set<std::string> expected;
  for (const char *name : {"a.bf16", "b.f16", "c.f32"})
    for (const char *rows : {" [0,2)", " [2,4)"})
      expected.insert(std::string(name) + rows + " [0,2)");
  EXPECT_EQ(recording.reads(), expected);
}

/// An integer checkpoint tensor for a float weight is refused, naming it.
TEST_F(WeightFileTest, IntegerCheckpointForFloatWeightRefused) {
  const HostTensor ids = rawTensor(DType::I32, std::vector<int32_t>(8, 1));
  const std::string file = path("model.safetensors");
  ASSERT_TRUE(writeSafeTensors(file, {{"ids", &ids}}).ok());
  absl::StatusOr<Checkpoint> checkpoint = Checkpoint::open(file);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  CheckpointWeightSource weights(*checkpoint);
  ProgramBuilder p({{"x", 2}});
  int w = p.value({{"rows", 2}, {"cols", 2}});
  p.input("w", w, {{0}}, "ids");
  p.output("w", w, {{0}});
  absl::StatusOr<RunResult> run = runProgram(p, {}, &weights);
  EXPECT_THAT(run.status().message(),
              HasSubstr("weight 'ids' (for input 'w') is i32, the executable "
                        "expects f32"));
}

TEST(SessionTest, RepeatedRunsRestoreReusedWeights) {
  // w lives at offset 0 until t = w + x; then u = -t reuses w's bytes.
  ProgramBuilder p;
  int w = p.value({{"d", 4}}, fb::DType::F32, int64_t{0});
  int x = p.value({{"d", 4}}, fb::DType::F32, int64_t{64});
  int t = p.value({{"d", 4}}, fb::DType::F32, int64_t{128});
  int u = p.value({{"d", 4}}, fb::DType::F32, int64_t{0});
  p.op(fb::OpKind::Binary, {w, x}, {t});
  p.op(fb::OpKind::Unary, {t}, {u});
  p.input("w", w, {}, "w");
  p.input("x", x);
  p.output("u", u);
  MapWeightSource weights;
  weights.add("w", f32Tensor({4}, {1, 2, 3, 4}));
  absl::StatusOr<Executable> executable = Executable::loadBytes(p.build());
  ASSERT_TRUE(executable.ok()) << executable.status();
  absl::StatusOr<std::unique_ptr<CpuSession>> session =
      CpuSession::create(*executable, &weights);
  ASSERT_TRUE(session.ok()) << session.status();
  for (int i = 0; i < 3; ++i) {
    std::map<std::string, HostTensor> inputs;
    inputs["x"] = f32Tensor({4}, {10.0f * i, 0, 0, 0});
    RunOptions options;
    options.profileOps = true;
    absl::StatusOr<RunResult> run = (*session)->run(inputs, options);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_THAT(floats(*run->find("u")),
                ElementsAre(-1 - 10.0f * i, -2, -3, -4));
    ASSERT_EQ(run->stats.opTimes.size(), 2u);
    EXPECT_EQ(run->stats.opTimes[0].kind, "unary");
    EXPECT_EQ(run->stats.opTimes[1].kind, "binary");
  }
}

TEST(SessionTest, InputErrors) {
  ProgramBuilder p({{"b", 2}});
  int x = p.value({{"batch", 2}});
  p.input("x", x, {{0}});
  p.output("x", x, {{0}});
  std::map<std::string, HostTensor> inputs;
  absl::StatusOr<RunResult> run = runProgram(p, inputs);
  EXPECT_THAT(run.status().message(),
              HasSubstr("missing input 'x' of type [batch:4] f32"));
  inputs["x"] = f32Tensor({3}, {1, 2, 3});
  run = runProgram(p, inputs);
  EXPECT_THAT(run.status().message(),
              HasSubstr("input 'x' is f32 [3], expected [batch:4] f32"));
  inputs["x"] = f32Tensor({4}, {1, 2, 3, 4});
  inputs["y"] = f32Tensor({1}, {1});
  run = runProgram(p, inputs);
  EXPECT_THAT(run.status().message(), HasSubstr("'y' is not a run-time input"));
  inputs.erase("y");
  run = runProgram(p, inputs);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(floats(*run->find("x")), ElementsAre(1, 2, 3, 4));
}

TEST(SessionTest, OutputBuffers) {
  // Output 'y' comes from both devices' blocks; 'z' is left to the run.
  ProgramBuilder p({{"b", 2}});
  int x = p.value({{"batch", 2}});
  int y = p.value({{"batch", 2}});
  OpFields neg;
  neg.unary = fb::UnaryKind::Neg;
  p.op(fb::OpKind::Unary, {x}, {y}, neg);
  p.input("x", x, {{0}});
  p.output("y", y, {{0}});
  p.output("z", x, {{0}});
  std::map<std::string, HostTensor> inputs;
  inputs["x"] = f32Tensor({4}, {1, 2, 3, 4});
  HostTensor buffer = f32Tensor({4}, {9, 9, 9, 9});
  RunOptions options;
  options.outputBuffers["y"] = &buffer;
  absl::StatusOr<RunResult> run = runProgram(p, inputs, nullptr, options);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->find("y")->data(), buffer.data());
  EXPECT_FALSE(run->find("y")->ownsData());
  EXPECT_THAT(floats(buffer), ElementsAre(-1, -2, -3, -4));
  EXPECT_TRUE(run->find("z")->ownsData());
  EXPECT_THAT(floats(*run->find("z")), ElementsAre(1, 2, 3, 4));

  HostTensor wrong = f32Tensor({3}, {0, 0, 0});
  options.outputBuffers["y"] = &wrong;
  run = runProgram(p, inputs, nullptr, options);
  EXPECT_THAT(run.status().message(),
              HasSubstr("output buffer 'y' is f32 [3], expected [batch:4] f32"));
  options.outputBuffers = {{"w", &buffer}};
  run = runProgram(p, inputs, nullptr, options);
  EXPECT_THAT(run.status().message(),
              HasSubstr("output buffer 'w': the executable has no such output"));
  options.outputBuffers = {{"y", nullptr}};
  run = runProgram(p, inputs, nullptr, options);
  EXPECT_THAT(run.status().message(), HasSubstr("output buffer 'y' is null"));
}

TEST(SessionTest, FailingDeviceReportsItsOwnError) {
  // Device 1 routes a token outside the capacity; device 0 then waits in the
  // all-reduce until the timeout. The run reports device 1's error.
  ProgramBuilder p({{"b", 2}});
  int x = p.value({{"t", 1}, {"d", 2}});
  int expert = p.value({{"t", 1}}, fb::DType::I32);
  int position = p.value({{"t", 1}}, fb::DType::I32);
  int dropped = p.value({{"t", 1}}, fb::DType::I1);
  int slots = p.value({{"e", 1}, {"c", 1}, {"d", 2}});
  int sum = p.value({{"e", 1}, {"c", 1}, {"d", 2}});
  OpFields f;
  f.tokensDim = "t";
  f.expertsDim = "e";
  f.capacityDim = "c";
  p.op(fb::OpKind::Dispatch, {x, expert, position, dropped}, {slots}, f);
  OpFields reduce;
  reduce.gridAxes = {0};
  p.op(fb::OpKind::AllReduce, {slots}, {sum}, reduce);
  p.input("x", x, {{0}});
  p.input("expert", expert, {{0}});
  p.input("position", position, {{0}});
  p.input("dropped", dropped, {{0}});
  p.output("sum", sum);
  std::map<std::string, HostTensor> inputs;
  inputs["x"] = f32Tensor({2, 2}, {1, 2, 3, 4});
  inputs["expert"] = testing::i32Tensor({2}, {0, 0});
  inputs["position"] = testing::i32Tensor({2}, {0, 5});
  inputs["dropped"] = *HostTensor::allocate(DType::Bool, {2});
  RunOptions options;
  options.collectiveTimeout = absl::Milliseconds(200);
  absl::StatusOr<RunResult> run = runProgram(p, inputs, nullptr, options);
  EXPECT_THAT(run.status().message(),
              HasSubstr("device 1: op 0 (dispatch at test.mlir:1)"));
  inputs["position"] = testing::i32Tensor({2}, {0, 0});
  run = runProgram(p, inputs, nullptr, options);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(floats(*run->find("sum")), ElementsAre(4, 6));
}

} // namespace
} // namespace switchyard::runtime
