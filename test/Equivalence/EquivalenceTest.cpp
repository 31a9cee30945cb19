//===- EquivalenceTest.cpp - partitioned programs match one device --------===//
//
// Compiles each model for a mesh and layout rules and for the same mesh
// with every axis of size 1, runs both on the CPU runtime with the same
// random weights and inputs, and compares: integer and boolean outputs
// (routing decisions) exactly, float outputs within a relative tolerance.
//
//===----------------------------------------------------------------------===//

#include "dialects/mtf/MtfDialect.h"
#include "switchyard/Compiler/Compile.h"
#include "switchyard/Compiler/Registration.h"
#include "switchyard/Runtime/CpuRuntime.h"
#include "switchyard/Runtime/Random.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/SourceMgr.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>

using namespace switchyard;
using namespace switchyard::runtime;

namespace {

struct Case {
  const char *model;
  const char *mesh;
  const char *layout;
};

std::ostream &operator<<(std::ostream &os, const Case &c) {
  return os << c.model << " on " << (*c.mesh ? c.mesh : "its mesh") << " with '"
            << c.layout << "'";
}

/// `mesh` with every axis of size 1: the same program on one device.
std::string unitMesh(const std::string &mesh) {
  return std::regex_replace(mesh, std::regex(":[0-9]+"), ":1");
}

/// Compiles `model` for `mesh` and `layout` (empty: the module's own).
absl::StatusOr<Executable> compile(const std::string &model,
                                   const std::string &mesh,
                                   const std::string &layout,
                                   bool unitSizes) {
  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
  std::string path = std::string(SWITCHYARD_SOURCE_DIR) +
                     "/test/Equivalence/models/" + model;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(path, sourceMgr, &context);
  if (!module)
    return absl::InvalidArgumentError("cannot parse " + path + ": " + diagnostics);
  std::string meshSpec = mesh;
  if (meshSpec.empty())
    if (auto attr = (*module)->getAttrOfType<mtf::MeshAttr>(
            mtf::MtfDialect::kMeshAttrName))
      meshSpec = attr.getSpec();
  if (unitSizes)
    meshSpec = unitMesh(meshSpec);
  mlir::FailureOr<std::string> bytes =
      compileToExecutable(*module, {meshSpec, layout, "", false});
  if (mlir::failed(bytes))
    return absl::InvalidArgumentError("cannot compile " + path + ": " +
                                      diagnostics);
  return Executable::loadBytes(std::move(*bytes), path);
}

class Equivalence : public testing::TestWithParam<Case> {};

TEST_P(Equivalence, MatchesOneDevice) {
  const Case &c = GetParam();
  absl::StatusOr<Executable> partitioned = compile(c.model, c.mesh, c.layout, false);
  ASSERT_TRUE(partitioned.ok()) << partitioned.status();
  absl::StatusOr<Executable> single = compile(c.model, c.mesh, c.layout, true);
  ASSERT_TRUE(single.ok()) << single.status();
  ASSERT_EQ(single->mesh().deviceCount(), 1);

  absl::StatusOr<MapWeightSource> weights = randomWeights(*single, 1234);
  ASSERT_TRUE(weights.ok()) << weights.status();
  absl::StatusOr<std::map<std::string, HostTensor>> inputs =
      randomInputs(*single, 5678);
  ASSERT_TRUE(inputs.ok()) << inputs.status();

  absl::StatusOr<RunResult> expected = runOnCpu(*single, &*weights, *inputs);
  ASSERT_TRUE(expected.ok()) << expected.status();
  absl::StatusOr<RunResult> actual = runOnCpu(*partitioned, &*weights, *inputs);
  ASSERT_TRUE(actual.ok()) << actual.status();
  int64_t collectives = 0;
  for (const CollectiveStats &stats : actual->stats.collectives)
    collectives += stats.count;
  EXPECT_GT(collectives, 0) << "the partitioned program moved no data";

  ASSERT_EQ(actual->outputs.size(), expected->outputs.size());
  for (size_t i = 0; i < expected->outputs.size(); ++i) {
    const auto &[name, want] = expected->outputs[i];
    const HostTensor &got = actual->outputs[i].second;
    ASSERT_EQ(got.shape(), want.shape()) << name;
    ASSERT_EQ(got.dtype(), want.dtype()) << name;
    if (want.dtype() == DType::F32) {
      double scale = 0, worst = 0;
      auto a = got.span<float>(), b = want.span<float>();
      for (size_t k = 0; k < b.size(); ++k) {
        scale = std::max(scale, std::fabs(double(b[k])));
        worst = std::max(worst, std::fabs(double(a[k]) - double(b[k])));
      }
      EXPECT_GT(scale, 0) << name << " is all zeros";
      EXPECT_LE(worst, 1e-5 * std::max(scale, 1e-30))
          << name << ": largest difference " << worst << " at scale " << scale;
    } else if (want.dtype() == DType::BF16) {
      // One bf16 ulp (2^-8 relative) of slack for f32 values that differ
      // in their last bits before rounding.
      auto toFloat = [](uint16_t bits) {
        uint32_t word = uint32_t(bits) << 16;
        float value;
        std::memcpy(&value, &word, sizeof value);
        return value;
      };
      auto a = static_cast<const uint16_t *>(got.data());
      auto b = static_cast<const uint16_t *>(want.data());
      for (int64_t k = 0; k < want.numElements(); ++k)
        ASSERT_NEAR(toFloat(a[k]), toFloat(b[k]),
                    std::fabs(toFloat(b[k])) * 0.0079 + 1e-30)
            << name << " element " << k;
    } else {
      EXPECT_EQ(std::memcmp(got.data(), want.data(), want.byteSize()), 0)
          << name << " differs (exact comparison)";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Einsum, Equivalence,
    testing::Values(Case{"einsum.mlir", "b:2", "batch:b"},
                    Case{"einsum.mlir", "m:4", "d_ff:m"},
                    Case{"einsum.mlir", "b:8", "d_model:b"},
                    Case{"einsum.mlir", "b:2,m:4", "batch:b;d_ff:m"},
                    Case{"einsum.mlir", "x:2,y:2,z:2", "batch:x;d_ff:y,z"},
                    Case{"einsum.mlir", "x:2,y:2", "d_model:x;d_ff:y"}));

INSTANTIATE_TEST_SUITE_P(
    WholeDims, Equivalence,
    testing::Values(Case{"norms.mlir", "l:2", "length:l"},
                    Case{"norms.mlir", "d:4", "d_model:d"},
                    Case{"norms.mlir", "v:2,b:2", "vocab:v;batch:b"},
                    Case{"norms.mlir", "b:8", "batch:b"}));

INSTANTIATE_TEST_SUITE_P(Reshard, Equivalence,
                         testing::Values(Case{"reshard.mlir", "", ""}));

INSTANTIATE_TEST_SUITE_P(
    SwitchLayer, Equivalence,
    testing::Values(Case{"moe.mlir", "b:2", "experts:b;batch:b"},
                    Case{"moe.mlir", "b:4", "experts:b;batch:b"},
                    Case{"moe.mlir", "b:8", "experts:b;batch:b"},
                    Case{"moe.mlir", "b:4", "batch:b;experts:b"},
                    Case{"moe.mlir", "e:4", "experts:e"},
                    Case{"moe.mlir", "b:2,e:2", "batch:b;experts:e"},
                    Case{"moe.mlir", "b:2,m:2", "batch:b;d_ff:m"},
                    Case{"moe.mlir", "b:2,e:2,m:2", "batch:b;experts:e;d_ff:m"},
                    Case{"moe.mlir", "l:2", "length:l"}));

} // namespace
