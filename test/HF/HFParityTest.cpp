//===- HFParityTest.cpp - Hugging Face models, the same numbers out -------===//
//
// For every model under test/HF/data (random-weight checkpoints and the
// outputs transformers computed for them, made by tools/hf_reference), on
// one device and on several meshes: logits and hidden states within 1e-4
// relative, router logits too, the same expert choice and drop for every
// token, the losses within 1e-5, and the same greedy generation.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Compiler/Compile.h"
#include "switchyard/Compiler/HFImport.h"
#include "switchyard/Compiler/Registration.h"
#include "switchyard/Runtime/CpuRuntime.h"
#include "switchyard/Runtime/Generate.h"
#include "switchyard/Runtime/SafeTensors.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/SourceMgr.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

using namespace switchyard;
using namespace switchyard::runtime;

namespace {

const std::string kDataDir = std::string(SWITCHYARD_SOURCE_DIR) + "/test/HF/data";

struct Case {
  std::string model;
  std::string mesh;
  std::string layout;
};

void PrintTo(const Case &c, std::ostream *os) {
  *os << c.model << " on " << (c.mesh.empty() ? "1 device" : c.mesh);
}

std::vector<Case> allCases() {
  const std::vector<std::pair<std::string, std::string>> meshes = {
      {"", ""},
      {"b:4", "batch:b"},
      {"e:4", "experts:e"},
      {"b:2,e:2", "batch:b;experts:e"},
      {"b:2,e:2,m:2", "batch:b;experts:e;d_ff:m"}};
  std::vector<std::string> models;
  for (const auto &entry : std::filesystem::directory_iterator(kDataDir))
    if (entry.is_directory())
      models.push_back(entry.path().filename().string());
  std::sort(models.begin(), models.end());
  std::vector<Case> cases;
  for (const std::string &model : models)
    for (const auto &[mesh, layout] : meshes)
      cases.push_back({model, mesh, layout});
  return cases;
}

/// Compiles the model for `batch` x `length` inputs and `targetLength`
/// decoder positions.
absl::StatusOr<Executable> compile(const Case &c, const Checkpoint &checkpoint,
                                   int64_t batch, int64_t length,
                                   int64_t targetLength, bool generation) {
  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
  HFImportOptions options{batch, length, targetLength, generation};
  options.hasWeight = [&](llvm::StringRef name) {
    return checkpoint.find(absl::string_view(name.data(), name.size())) !=
           nullptr;
  };
  auto module =
      importHuggingFaceModel(&context, kDataDir + "/" + c.model, options);
  if (mlir::failed(module))
    return absl::InvalidArgumentError("import: " + diagnostics);
  mlir::FailureOr<std::string> bytes =
      compileToExecutable(**module, {c.mesh, c.layout, "", false});
  if (mlir::failed(bytes))
    return absl::InvalidArgumentError("compile: " + diagnostics);
  return Executable::loadBytes(std::move(*bytes), c.model);
}

/// Element `i` of a float, i32 or bool tensor, as a double.
double at(const HostTensor &tensor, int64_t i) {
  switch (tensor.dtype()) {
  case DType::F32:
    return tensor.span<float>()[i];
  case DType::I32:
    return tensor.span<int32_t>()[i];
  case DType::Bool:
    return static_cast<const uint8_t *>(tensor.data())[i];
  default:
    ADD_FAILURE() << "unexpected dtype " << dtypeName(tensor.dtype());
    return 0;
  }
}

class HFParity : public testing::TestWithParam<Case> {};

TEST_P(HFParity, MatchesTransformers) {
  const Case &c = GetParam();
  const std::string dir = kDataDir + "/" + c.model;
  absl::StatusOr<Checkpoint> checkpoint = Checkpoint::open(dir + "/model.safetensors");
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  absl::StatusOr<Checkpoint> inputFile = Checkpoint::open(dir + "/inputs.safetensors");
  ASSERT_TRUE(inputFile.ok()) << inputFile.status();
  absl::StatusOr<Checkpoint> expectedFile =
      Checkpoint::open(dir + "/expected.safetensors");
  ASSERT_TRUE(expectedFile.ok()) << expectedFile.status();

  std::map<std::string, HostTensor> inputs;
  for (const std::string &name : inputFile->names()) {
    absl::StatusOr<HostTensor> tensor = inputFile->read(name);
    ASSERT_TRUE(tensor.ok()) << tensor.status();
    inputs.emplace(name, std::move(*tensor));
  }
  const std::vector<int64_t> &idsShape = inputs.at("input_ids").shape();
  const int64_t batch = idsShape[0], length = idsShape[1];
  const int64_t target = inputs.at("decoder_input_ids").shape()[1];

  absl::StatusOr<Executable> executable = compile(c, *checkpoint, batch, length, target, false);
  ASSERT_TRUE(executable.ok()) << executable.status();
  CheckpointWeightSource weights(*checkpoint);
  absl::StatusOr<RunResult> result = runOnCpu(*executable, &weights, inputs);
  ASSERT_TRUE(result.ok()) << result.status();

  int compared = 0;
  for (const std::string &name : expectedFile->names()) {
    // Generation results are checked below.
    if (name.rfind("greedy_", 0) == 0)
      continue;
    absl::StatusOr<HostTensor> want = expectedFile->read(name);
    ASSERT_TRUE(want.ok()) << want.status();
    const HostTensor *got = result->find(name);
    ASSERT_NE(got, nullptr) << "no output '" << name << "'";
    ASSERT_EQ(got->shape(), want->shape()) << name;
    bool exact = want->dtype() != DType::F32;
    bool loss = name.find("_loss") != std::string::npos;
    double tolerance = loss ? 1e-5 : 1e-4, scale = 0, worst = 0;
    for (int64_t i = 0; i < want->numElements(); ++i) {
      scale = std::max(scale, std::fabs(at(*want, i)));
      worst = std::max(worst, std::fabs(at(*got, i) - at(*want, i)));
    }
    if (exact)
      EXPECT_EQ(worst, 0) << name << " differs";
    else
      EXPECT_LE(worst, tolerance * std::max(scale, 1.0))
          << name << ": largest difference " << worst << " at scale " << scale;
    ++compared;
  }
  EXPECT_GE(compared, 2) << "logits and the encoder state at least";

  // Greedy generation routes each new decoder token alone (§6.2).
  absl::StatusOr<HostTensor> greedy = expectedFile->read("greedy_ids");
  ASSERT_TRUE(greedy.ok()) << greedy.status();
  const int64_t newTokens = greedy->shape()[1] - 1;
  absl::StatusOr<Executable> generator =
      compile(c, *checkpoint, batch, length, newTokens + 1, true);
  ASSERT_TRUE(generator.ok()) << generator.status();
  absl::StatusOr<std::unique_ptr<CpuSession>> session =
      CpuSession::create(*generator, &weights);
  ASSERT_TRUE(session.ok()) << session.status();
  std::map<std::string, HostTensor> encoderInputs;
  encoderInputs.emplace("input_ids", inputs.at("input_ids").view());
  encoderInputs.emplace("attention_mask", inputs.at("attention_mask").view());
  GenerateOptions options;
  options.maxNewTokens = newTokens;
  absl::StatusOr<HostTensor> generated =
      generateGreedy(**session, std::move(encoderInputs), options);
  ASSERT_TRUE(generated.ok()) << generated.status();
  ASSERT_EQ(generated->shape(), greedy->shape());
  EXPECT_EQ(std::memcmp(generated->data(), greedy->data(), greedy->byteSize()), 0)
      << "greedy generation differs";
}

INSTANTIATE_TEST_SUITE_P(Models, HFParity, testing::ValuesIn(allCases()),
                         [](const testing::TestParamInfo<Case> &info) {
                           std::string name = info.param.model + "_" +
                                              (info.param.mesh.empty()
                                                   ? std::string("one")
                                                   : info.param.mesh);
                           for (char &ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           return name;
                         });

} // namespace
