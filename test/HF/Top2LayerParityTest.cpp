//===- Top2LayerParityTest.cpp - top-2 routing against NLLB-MoE ----------===//
//
// For every layer under test/HF/layers (one NLLB-MoE sparse MLP each, with
// random weights, made by tools/hf_reference/make_top2_layer.py): compiles
// the case's hand-written layer.mlir, which binds the module's Hugging Face
// weight names, on one device and on several meshes, runs it on every
// backend built with the stored weights and hidden states, and compares with
// what transformers' router and experts computed: the layer output and the
// combine weights within 1e-5 of their largest magnitude, and the top-2
// expert choices, slot positions and drops exactly.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Compiler/Compile.h"
#include "switchyard/Compiler/CompilerContext.h"
#include "switchyard/Runtime/CpuRuntime.h"
#include "switchyard/Runtime/SafeTensors.h"
#include "switchyard/Runtime/Status.h"

#include "Backends.h"

#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

using namespace switchyard;
using namespace switchyard::runtime;
using switchyard::testsupport::Backend;
using switchyard::testsupport::elementAt;

namespace {

const std::string kLayerDir =
    std::string(SWITCHYARD_SOURCE_DIR) + "/test/HF/layers";

struct Case {
  std::string layer;
  std::string mesh;
  std::string layout;
  Backend backend;
};

void PrintTo(const Case &c, std::ostream *os) {
  *os << c.layer << " on " << (c.mesh.empty() ? "1 device" : c.mesh) << " ("
      << c.layout << "), " << switchyard::testsupport::backendName(c.backend);
}

std::vector<std::string> layers() {
  std::vector<std::string> names;
  if (std::filesystem::is_directory(kLayerDir))
    for (const auto &entry : std::filesystem::directory_iterator(kLayerDir))
      if (entry.is_directory())
        names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<Case> allCases() {
  // Expert parallelism (the dispatch/combine all-to-all), with and without
  // every device holding one expert; the experts' d_ff split (fc1's bias
  // sliced, fc2 a partial sum); the one token group split, alone and on the
  // experts' axis (Mesh TF's expert-parallel set-up, DESIGN.md decision 8).
  const std::vector<std::pair<std::string, std::string>> meshes = {
      {"", ""},
      {"e:4", "experts:e"},
      {"e:2", "experts:e"},
      {"m:2", "d_ff:m"},
      {"e:2,m:2", "experts:e;d_ff:m"},
      {"t:2", "tokens:t"},
      {"e:4", "experts:e;tokens:e"}};
  std::vector<Case> cases;
  for (Backend backend : switchyard::testsupport::builtBackends())
    for (const std::string &layer : layers())
      for (const auto &[mesh, layout] : meshes)
        cases.push_back({layer, mesh, layout, backend});
  return cases;
}

absl::StatusOr<Executable> compile(const Case &c) {
  const std::string path = kLayerDir + "/" + c.layer + "/layer.mlir";
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path);
  if (!file)
    return absl::NotFoundError("cannot read " + path);
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  CompilerContext compiler(os);
  mlir::OwningOpRef<mlir::ModuleOp> module = compiler.parse(std::move(*file));
  if (!module)
    return absl::InvalidArgumentError("parse: " + diagnostics);
  CompileOptions options{c.mesh, c.layout, "", false};
  mlir::FailureOr<std::string> bytes = compileToExecutable(*module, options);
  if (mlir::failed(bytes))
    return absl::InvalidArgumentError("compile: " + diagnostics);
  return Executable::loadBytes(std::move(*bytes), c.layer);
}

class Top2LayerParity : public testing::TestWithParam<Case> {};

TEST(Top2LayerData, Present) {
  EXPECT_GE(layers().size(), 2u) << "no layers under " << kLayerDir;
}

TEST_P(Top2LayerParity, MatchesTransformers) {
  const Case &c = GetParam();
  SKIP_UNLESS_AVAILABLE(c.backend);
  const std::string dir = kLayerDir + "/" + c.layer;
  absl::StatusOr<Checkpoint> checkpoint =
      Checkpoint::open(dir + "/model.safetensors");
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  absl::StatusOr<Checkpoint> inputFile =
      Checkpoint::open(dir + "/inputs.safetensors");
  ASSERT_TRUE(inputFile.ok()) << inputFile.status();
  absl::StatusOr<Checkpoint> expected =
      Checkpoint::open(dir + "/expected.safetensors");
  ASSERT_TRUE(expected.ok()) << expected.status();
  std::map<std::string, HostTensor> inputs;
  for (const std::string &name : inputFile->names()) {
    absl::StatusOr<HostTensor> tensor = inputFile->read(name);
    ASSERT_TRUE(tensor.ok()) << tensor.status();
    inputs.emplace(name, std::move(*tensor));
  }

  absl::StatusOr<Executable> executable = compile(c);
  ASSERT_TRUE(executable.ok()) << executable.status();
  CheckpointWeightSource weights(*checkpoint);
  absl::StatusOr<RunResult> result =
      switchyard::testsupport::runOn(c.backend, *executable, &weights, inputs);
  ASSERT_TRUE(result.ok()) << result.status();

  int compared = 0;
  for (const std::string &name : expected->names()) {
    absl::StatusOr<HostTensor> want = expected->read(name);
    ASSERT_TRUE(want.ok()) << want.status();
    const HostTensor *got = result->find(name);
    ASSERT_NE(got, nullptr) << "no output '" << name << "'";
    ASSERT_EQ(got->shape(), want->shape()) << name;
    // Choices, positions and drops (stored as i32; `dropped` comes out as
    // bool) exactly; floats relative to their largest magnitude.
    const bool exact = want->dtype() != DType::F32;
    double scale = 0, worst = 0;
    int64_t worstAt = 0;
    for (int64_t i = 0; i < want->numElements(); ++i) {
      scale = std::max(scale, std::fabs(elementAt(*want, i)));
      double difference = std::fabs(elementAt(*got, i) - elementAt(*want, i));
      if (!(difference <= worst)) {
        worst = std::isnan(difference) ? INFINITY : difference;
        worstAt = i;
      }
    }
    if (exact)
      EXPECT_EQ(worst, 0) << name << " differs first at element " << worstAt
                          << ": " << elementAt(*got, worstAt) << " vs "
                          << elementAt(*want, worstAt);
    else
      EXPECT_LE(worst, 1e-5 * scale)
          << name << ": largest difference " << worst << " at element "
          << worstAt << " (" << elementAt(*got, worstAt) << " vs "
          << elementAt(*want, worstAt) << "), scale " << scale;
    ++compared;
  }
  EXPECT_EQ(compared, 5) << "hidden_states, expert_index, position, dropped "
                            "and gate";
}

/// "layer_mesh_layout_backend" with every character but letters and digits as
/// '_'.
std::string caseName(const testing::TestParamInfo<Case> &info) {
  std::string name =
      info.param.layer + "_" +
      (info.param.mesh.empty() ? std::string("one")
                               : info.param.mesh + "_" + info.param.layout) +
      "_" + switchyard::testsupport::backendName(info.param.backend);
  for (char &ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Layers, Top2LayerParity, testing::ValuesIn(allCases()),
                         caseName);

} // namespace
