//===- HFParityTest.cpp - Hugging Face models, the same numbers out -------===//
//
// For every model under test/HF/data (random-weight checkpoints and the
// outputs transformers computed for them, made by tools/hf_reference), on
// one device and on several meshes, on every backend built: logits and hidden
// states within 1e-4 relative, router logits too, the same expert choice and
// drop for every token, the losses within 1e-5, and the same greedy generation.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Compiler/Compile.h"
#include "switchyard/Compiler/CompilerContext.h"
#include "switchyard/Compiler/HFImport.h"
#include "switchyard/Runtime/CpuRuntime.h"
#include "switchyard/Runtime/Generate.h"
#include "switchyard/Runtime/SafeTensors.h"
#include "switchyard/Runtime/Status.h"

#include "Backends.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

using namespace switchyard;
using namespace switchyard::runtime;
using switchyard::testsupport::Backend;
using switchyard::testsupport::elementAt;
using ::testing::HasSubstr;

namespace {

const std::string kDataDir =
    std::string(SWITCHYARD_SOURCE_DIR) + "/test/HF/data";

struct Case {
  std::string model;
  std::string mesh;
  std::string layout;
  Backend backend;
  /// Where the model's config.json is read from (default: the model's
  /// directory under test/HF/data).
  std::string configDir = "";
};

void PrintTo(const Case &c, std::ostream *os) {
  *os << c.model << " on " << (c.mesh.empty() ? "1 device" : c.mesh) << ", "
      << switchyard::testsupport::backendName(c.backend);
}

std::vector<Case> allCases() {
  const std::vector<std::pair<std::string, std::string>> meshes = {
      {"", ""},
      {"b:4", "batch:b"},
      {"e:4", "experts:e"},
      {"b:2,e:2", "batch:b;experts:e"},
      {"b:2,e:2,m:2", "batch:b;experts:e;d_ff:m"},
      {"b:2,h:2", "batch:b;heads:h;vocab:h"}};
  std::vector<std::string> models;
  for (const auto &entry : std::filesystem::directory_iterator(kDataDir))
    if (entry.is_directory())
      models.push_back(entry.path().filename().string());
  std::sort(models.begin(), models.end());
  std::vector<Case> cases;
  for (Backend backend : switchyard::testsupport::builtBackends())
    for (const std::string &model : models)
      for (const auto &[mesh, layout] : meshes)
        cases.push_back({model, mesh, layout, backend});
  return cases;
}

/// Compiles the model's `program` for `batch` x `length` inputs and
/// `targetLength` decoder positions (the forward program with `labels`).
absl::StatusOr<Executable> compile(const Case &c, const Checkpoint &checkpoint,
                                   int64_t batch, int64_t length,
                                   int64_t targetLength, HFProgram program,
                                   const std::string &precision = "f32") {
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  CompilerContext compiler(os);
  HFImportOptions options{batch, length, targetLength, program,
                          program == HFProgram::Forward};
  options.hasWeight = [&](llvm::StringRef name) {
    return checkpoint.find(absl::string_view(name.data(), name.size())) !=
           nullptr;
  };
  auto module = importHuggingFaceModel(
      compiler.get(),
      c.configDir.empty() ? kDataDir + "/" + c.model : c.configDir, options);
  if (mlir::failed(module))
    return absl::InvalidArgumentError("import: " + diagnostics);
  CompileOptions compileOptions{c.mesh, c.layout, "", false};
  compileOptions.precision = precision;
  mlir::FailureOr<std::string> bytes =
      compileToExecutable(**module, compileOptions);
  if (mlir::failed(bytes))
    return absl::InvalidArgumentError("compile: " + diagnostics);
  return Executable::loadBytes(std::move(*bytes), c.model);
}

/// One test model: its checkpoint, run-time inputs and what transformers
/// computed for them.
struct ModelData {
  Checkpoint checkpoint;
  std::map<std::string, HostTensor> inputs;
  Checkpoint expected;
  int64_t batch = 0, length = 0, target = 0;
};

absl::StatusOr<ModelData> loadModel(const std::string &model) {
  const std::string dir = kDataDir + "/" + model;
  SY_ASSIGN_OR_RETURN(Checkpoint checkpoint,
                      Checkpoint::open(dir + "/model.safetensors"));
  SY_ASSIGN_OR_RETURN(Checkpoint inputFile,
                      Checkpoint::open(dir + "/inputs.safetensors"));
  SY_ASSIGN_OR_RETURN(Checkpoint expected,
                      Checkpoint::open(dir + "/expected.safetensors"));
  ModelData data{std::move(checkpoint), {}, std::move(expected)};
  for (const std::string &name : inputFile.names()) {
    SY_ASSIGN_OR_RETURN(HostTensor tensor, inputFile.read(name));
    data.inputs.emplace(name, std::move(tensor));
  }
  const std::vector<int64_t> &idsShape = data.inputs.at("input_ids").shape();
  data.batch = idsShape[0];
  data.length = idsShape[1];
  data.target = data.inputs.at("decoder_input_ids").shape()[1];
  return data;
}

/// Largest differences allowed, relative to max(1, largest |expected|).
struct Tolerance {
  double values;
  double losses;
};

/// Compiles the model of `c` in `precision`, runs it on its backend and
/// compares every output transformers recorded (but generation): integer
/// and bool outputs (expert choices, drops) exactly, floats within
/// `tolerance`.
void expectMatchesTransformers(const Case &c, const ModelData &data,
                               const std::string &precision,
                               Tolerance tolerance) {
  absl::StatusOr<Executable> executable =
      compile(c, data.checkpoint, data.batch, data.length, data.target,
              HFProgram::Forward, precision);
  ASSERT_TRUE(executable.ok()) << executable.status();
  CheckpointWeightSource weights(data.checkpoint);
  absl::StatusOr<RunResult> result = switchyard::testsupport::runOn(
      c.backend, *executable, &weights, data.inputs);
  ASSERT_TRUE(result.ok()) << result.status();

  int compared = 0;
  for (const std::string &name : data.expected.names()) {
    // Generation results are checked separately.
    if (name.rfind("greedy_", 0) == 0 || name.rfind("beam", 0) == 0)
      continue;
    absl::StatusOr<HostTensor> want = data.expected.read(name);
    ASSERT_TRUE(want.ok()) << want.status();
    const HostTensor *got = result->find(name);
    ASSERT_NE(got, nullptr) << "no output '" << name << "'";
    ASSERT_EQ(got->shape(), want->shape()) << name;
    bool exact = want->dtype() != DType::F32;
    bool loss = name == "loss" || name == "cross_entropy" ||
                name.find("_loss") != std::string::npos;
    double allowed = loss ? tolerance.losses : tolerance.values, scale = 0,
           worst = 0;
    for (int64_t i = 0; i < want->numElements(); ++i) {
      scale = std::max(scale, std::fabs(elementAt(*want, i)));
      worst =
          std::max(worst, std::fabs(elementAt(*got, i) - elementAt(*want, i)));
    }
    if (exact)
      EXPECT_EQ(worst, 0) << name << " differs";
    else
      EXPECT_LE(worst, allowed * std::max(scale, 1.0))
          << name << ": largest difference " << worst << " at scale " << scale;
    ++compared;
  }
  EXPECT_GE(compared, 2) << "logits and the encoder state at least";
}

/// The two programs of cached generation of `c`'s model, compiled and bound
/// to its checkpoint for `positions` decoder positions and `beams` beams.
struct Generator {
  Generator(const Case &c, ModelData &data, int64_t positions,
            int64_t beams = 1)
      : data(data), weights(data.checkpoint) {
    absl::StatusOr<Executable> encoderProgram =
        compile(c, data.checkpoint, data.batch, data.length, positions,
                HFProgram::Encoder);
    absl::StatusOr<Executable> stepProgram =
        compile(c, data.checkpoint, data.batch * beams, data.length, positions,
                HFProgram::DecoderStep);
    if (!encoderProgram.ok() || !stepProgram.ok()) {
      status =
          encoderProgram.ok() ? stepProgram.status() : encoderProgram.status();
      return;
    }
    programs = {std::move(*encoderProgram), std::move(*stepProgram)};
    absl::StatusOr<std::unique_ptr<Session>> opened[2];
    for (int i = 0; i < 2; ++i) {
      opened[i] = switchyard::testsupport::openSession(c.backend, programs[i],
                                                       &weights);
      if (!opened[i].ok()) {
        status = opened[i].status();
        return;
      }
    }
    encoder = std::move(*opened[0]);
    decoderStep = std::move(*opened[1]);
  }

  /// Views of the model's input_ids and attention_mask.
  std::map<std::string, HostTensor> encoderInputs() const {
    std::map<std::string, HostTensor> inputs;
    for (const char *name : {"input_ids", "attention_mask"})
      inputs.emplace(name, data.inputs.at(name).view());
    return inputs;
  }
  absl::StatusOr<HostTensor> run(const GenerateOptions &options) const {
    return generate(*encoder, *decoderStep, encoderInputs(), options);
  }

  ModelData &data;
  CheckpointWeightSource weights;
  std::vector<Executable> programs;
  std::unique_ptr<Session> encoder, decoderStep;
  absl::Status status;
};

class HFParity : public testing::TestWithParam<Case> {};

TEST_P(HFParity, MatchesTransformers) {
  const Case &c = GetParam();
  SKIP_UNLESS_AVAILABLE(c.backend);
  absl::StatusOr<ModelData> data = loadModel(c.model);
  ASSERT_TRUE(data.ok()) << data.status();
  expectMatchesTransformers(c, *data, "f32", {1e-4, 1e-5});

  // Cached generation: the encoder program once, then the decoder step
  // once per token, each routed alone (§6.2).
  absl::StatusOr<HostTensor> greedy = data->expected.read("greedy_ids");
  ASSERT_TRUE(greedy.ok()) << greedy.status();
  const int64_t newTokens = greedy->shape()[1] - 1;
  const int64_t positions = std::max(newTokens, data->target);
  Generator generator(c, *data, positions);
  ASSERT_TRUE(generator.status.ok()) << generator.status;
  GenerateOptions options;
  options.maxNewTokens = newTokens;
  absl::StatusOr<HostTensor> generated = generator.run(options);
  ASSERT_TRUE(generated.ok()) << generated.status();
  ASSERT_EQ(generated->shape(), greedy->shape());
  EXPECT_EQ(std::memcmp(generated->data(), greedy->data(), greedy->byteSize()),
            0)
      << "greedy generation differs";

  // Beam search: the same ids as transformers' for each recorded setting.
  using EarlyStopping = BeamOptions::EarlyStopping;
  const std::pair<const char *, BeamOptions> searches[] = {
      {"beam3_ids", {3, 1.0f, EarlyStopping::Heuristic}},
      {"beam2_lp2_early_ids", {2, 2.0f, EarlyStopping::Always}},
      {"beam4_lp05_never_ids", {4, 0.5f, EarlyStopping::Never}}};
  for (const auto &[name, beams] : searches) {
    absl::StatusOr<HostTensor> want = data->expected.read(name);
    ASSERT_TRUE(want.ok()) << want.status();
    Generator beamGenerator(c, *data, newTokens, beams.beams);
    ASSERT_TRUE(beamGenerator.status.ok()) << beamGenerator.status;
    GenerateOptions beamOptions = options;
    beamOptions.beams = beams;
    absl::StatusOr<HostTensor> got = beamGenerator.run(beamOptions);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->shape(), want->shape()) << name;
    EXPECT_EQ(std::vector<int32_t>(got->span<int32_t>().begin(),
                                   got->span<int32_t>().end()),
              std::vector<int32_t>(want->span<int32_t>().begin(),
                                   want->span<int32_t>().end()))
        << name;
  }

  // Fed transformers' decoder_input_ids one by one, the decoder step gives
  // its forward logits, unless capacity dropped a decoder token there
  // (routing a whole sequence differs from routing each token alone).
  for (const std::string &name : data->expected.names())
    if (name.rfind("decoder_dropped", 0) == 0) {
      absl::StatusOr<HostTensor> dropped = data->expected.read(name);
      ASSERT_TRUE(dropped.ok()) << dropped.status();
      for (int64_t i = 0; i < dropped->numElements(); ++i)
        if (elementAt(*dropped, i) != 0)
          return;
    }
  absl::StatusOr<CachedDecoder> decoder = CachedDecoder::start(
      *generator.encoder, *generator.decoderStep, generator.encoderInputs());
  ASSERT_TRUE(decoder.ok()) << decoder.status();
  absl::StatusOr<HostTensor> want = data->expected.read("logits");
  ASSERT_TRUE(want.ok()) << want.status();
  const HostTensor &ids = data->inputs.at("decoder_input_ids");
  const int64_t vocab = want->shape()[2];
  double worst = 0, scale = 0;
  for (int64_t t = 0; t < data->target; ++t) {
    std::vector<int32_t> column;
    for (int64_t b = 0; b < data->batch; ++b)
      column.push_back(ids.span<int32_t>()[b * data->target + t]);
    absl::StatusOr<HostTensor> logits = decoder->step(column);
    ASSERT_TRUE(logits.ok()) << logits.status();
    for (int64_t b = 0; b < data->batch; ++b)
      for (int64_t v = 0; v < vocab; ++v) {
        double expected = elementAt(*want, (b * data->target + t) * vocab + v);
        scale = std::max(scale, std::fabs(expected));
        worst = std::max(
            worst, std::fabs(elementAt(*logits, b * vocab + v) - expected));
      }
  }
  EXPECT_LE(worst, 1e-4 * std::max(scale, 1.0))
      << "decoder step logits: largest difference " << worst;
}

/// `--precision bf16` (selective precision: bf16 but for the float32
/// router) against transformers' float32 outputs: the drift that bf16
/// rounding implies (docs/precision.md), and for these models the same
/// expert choices and drops.
class HFParityBf16 : public testing::TestWithParam<Case> {};

TEST_P(HFParityBf16, WithinBf16Tolerance) {
  const Case &c = GetParam();
  SKIP_UNLESS_AVAILABLE(c.backend);
  absl::StatusOr<ModelData> data = loadModel(c.model);
  ASSERT_TRUE(data.ok()) << data.status();
  expectMatchesTransformers(c, *data, "bf16", {3e-2, 1e-2});
}

/// Sampling with top-k 1 is greedy; the same seed gives the same tokens on
/// every mesh, and another seed others.
TEST(HFParityGenerate, SamplingIsSeededAndTopK1IsGreedy) {
  const std::string model = "switch-e8-nodrop-step2-gelu";
  absl::StatusOr<ModelData> data = loadModel(model);
  ASSERT_TRUE(data.ok()) << data.status();
  absl::StatusOr<HostTensor> greedy = data->expected.read("greedy_ids");
  ASSERT_TRUE(greedy.ok()) << greedy.status();
  const int64_t newTokens = greedy->shape()[1] - 1;
  auto ids = [](const HostTensor &tensor) {
    return std::vector<int32_t>(tensor.span<int32_t>().begin(),
                                tensor.span<int32_t>().end());
  };
  GenerateOptions options;
  options.maxNewTokens = newTokens;
  options.sampling.sample = true;
  options.sampling.temperature = 3;
  std::vector<std::vector<int32_t>> seeded;
  for (auto [mesh, layout] : {std::pair<std::string, std::string>{"", ""},
                              {"b:2,e:2", "batch:b;experts:e"}}) {
    Generator generator({model, mesh, layout, Backend::Cpu}, *data, newTokens);
    ASSERT_TRUE(generator.status.ok()) << generator.status;
    options.sampling.topK = 1;
    absl::StatusOr<HostTensor> topOne = generator.run(options);
    ASSERT_TRUE(topOne.ok()) << topOne.status();
    EXPECT_EQ(ids(*topOne), ids(*greedy)) << mesh;
    options.sampling.topK = 0;
    for (uint64_t seed : {7, 8}) {
      options.sampling.seed = seed;
      absl::StatusOr<HostTensor> drawn = generator.run(options);
      ASSERT_TRUE(drawn.ok()) << drawn.status();
      seeded.push_back(ids(*drawn));
    }
  }
  EXPECT_EQ(seeded[0], seeded[2]) << "seed 7 on one device and on b:2,e:2";
  EXPECT_EQ(seeded[1], seeded[3]) << "seed 8 on one device and on b:2,e:2";
  EXPECT_NE(seeded[0], seeded[1]) << "seeds 7 and 8";
  EXPECT_NE(seeded[0], ids(*greedy)) << "temperature 3 without top-k";
}

/// CachedDecoder refuses a step with a wrong number of ids, a step past its
/// cache and a reordering of the wrong length or to rows it does not have.
TEST(HFParityGenerate, CachedDecoderRefusesMisuse) {
  const std::string model = "switch-e8-nodrop-step2-gelu";
  absl::StatusOr<ModelData> data = loadModel(model);
  ASSERT_TRUE(data.ok()) << data.status();
  Generator generator({model, "", "", Backend::Cpu}, *data, /*positions=*/2);
  ASSERT_TRUE(generator.status.ok()) << generator.status;
  absl::StatusOr<CachedDecoder> decoder = CachedDecoder::start(
      *generator.encoder, *generator.decoderStep, generator.encoderInputs());
  ASSERT_TRUE(decoder.ok()) << decoder.status();
  const std::vector<int32_t> starts(data->batch, 0);

  absl::StatusOr<HostTensor> logits =
      decoder->step(absl::MakeConstSpan(starts).subspan(1));
  EXPECT_EQ(logits.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(logits.status().message(),
              HasSubstr("a decoder step takes 4 ids, one per row; got 3"));

  const std::vector<int64_t> tooFew = {0, 1}, outside = {0, 1, 2, 4};
  EXPECT_THAT(decoder->reorder(tooFew).message(),
              HasSubstr("a reordering takes 4 rows; got 2"));
  EXPECT_THAT(decoder->reorder(outside).message(),
              HasSubstr("row 4 is outside [0, 4)"));

  for (int position = 0; position < 2; ++position) {
    logits = decoder->step(starts);
    ASSERT_TRUE(logits.ok()) << logits.status();
  }
  logits = decoder->step(starts);
  EXPECT_EQ(logits.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(logits.status().message(),
              HasSubstr("the decoder step's cache holds 2 positions, all of "
                        "them decoded"));
}

/// transformers 4.x wrote an untied T5's config.json (T5 v1.1 and Flan-T5 on
/// the hub) with `tie_word_embeddings: false` and no `scale_decoder_outputs`;
/// 5.x reads it as t5-untied-head's 5.x config says (§4.9): its own head, no
/// output scale.
TEST(HFParityConfig, UntiedT5ConfigOfTransformers4) {
  const std::string model = "t5-untied-head";
  auto file =
      llvm::MemoryBuffer::getFile(kDataDir + "/" + model + "/config.json");
  ASSERT_TRUE(file) << file.getError().message();
  llvm::Expected<llvm::json::Value> config =
      llvm::json::parse((*file)->getBuffer());
  ASSERT_TRUE(static_cast<bool>(config)) << llvm::toString(config.takeError());
  llvm::json::Object &fields = *config->getAsObject();
  ASSERT_EQ(fields.erase("scale_decoder_outputs"), true);
  fields["tie_word_embeddings"] = false;
  const std::string dir = testing::TempDir() + "/transformers4-" + model;
  std::filesystem::create_directories(dir);
  std::error_code error;
  llvm::raw_fd_ostream out(dir + "/config.json", error);
  ASSERT_FALSE(error) << error.message();
  out << *config;
  out.close();

  absl::StatusOr<ModelData> data = loadModel(model);
  ASSERT_TRUE(data.ok()) << data.status();
  Case c{model, "b:2,e:2", "batch:b;experts:e", Backend::Cpu, dir};
  expectMatchesTransformers(c, *data, "f32", {1e-4, 1e-5});
}

/// "model_mesh_backend" with every character but letters and digits as '_'.
std::string caseName(const testing::TestParamInfo<Case> &info) {
  std::string name =
      info.param.model + "_" +
      (info.param.mesh.empty() ? std::string("one") : info.param.mesh) + "_" +
      switchyard::testsupport::backendName(info.param.backend);
  for (char &ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Models, HFParity, testing::ValuesIn(allCases()),
                         caseName);

INSTANTIATE_TEST_SUITE_P(Models, HFParityBf16, testing::ValuesIn(allCases()),
                         caseName);

} // namespace
