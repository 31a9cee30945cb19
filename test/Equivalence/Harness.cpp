//===- Harness.cpp - a partitioned program against its one-device run -----===//

#include "Harness.h"

#include "dialects/mtf/MtfDialect.h"
#include "switchyard/Compiler/Compile.h"
#include "switchyard/Compiler/CompilerContext.h"
#include "switchyard/Runtime/CpuRuntime.h"
#include "switchyard/Runtime/Random.h"

#include <cmath>
#include <cstring>
#include <regex>
#include <sstream>

using namespace switchyard;
using namespace switchyard::runtime;

namespace switchyard::equivalence {

std::string unitMesh(const std::string &mesh) {
  return std::regex_replace(mesh, std::regex(":[0-9]+"), ":1");
}

namespace {

/// Compiles `c` for its mesh (every axis of size 1 when `unitSizes`).
absl::StatusOr<Executable> compile(const EquivalenceCase &c, bool unitSizes) {
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  CompilerContext compiler(os);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      compiler.parse(c.source, c.sourceName);
  if (!module)
    return absl::InvalidArgumentError("cannot parse " + c.sourceName + ": " +
                                      diagnostics);
  std::string meshSpec = c.mesh;
  if (meshSpec.empty())
    if (auto attr = (*module)->getAttrOfType<mtf::MeshAttr>(
            mtf::MtfDialect::kMeshAttrName))
      meshSpec = attr.getSpec();
  if (unitSizes)
    meshSpec = unitMesh(meshSpec);
  mlir::FailureOr<std::string> bytes =
      compileToExecutable(*module, {meshSpec, c.layout, "", false});
  if (mlir::failed(bytes))
    return absl::InvalidArgumentError("cannot compile " + c.sourceName +
                                      " for mesh '" + meshSpec +
                                      "': " + diagnostics);
  return Executable::loadBytes(std::move(*bytes), c.sourceName);
}

float bf16ToFloat(uint16_t bits) {
  uint32_t word = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &word, sizeof value);
  return value;
}

/// Appends to `problems` how `got` differs from `want` beyond the tolerance.
void compareOutput(const std::string &name, const HostTensor &got,
                   const HostTensor &want, std::ostream &problems) {
  if (got.shape() != want.shape() || got.dtype() != want.dtype()) {
    problems << "  " << name << ": the partitioned run returned another "
             << "shape or dtype\n";
    return;
  }
  if (want.dtype() == DType::F32) {
    double scale = 0, worst = 0;
    int64_t worstAt = 0;
    auto a = got.span<float>(), b = want.span<float>();
    for (size_t k = 0; k < b.size(); ++k) {
      scale = std::max(scale, std::fabs(double(b[k])));
      double difference = std::fabs(double(a[k]) - double(b[k]));
      // A NaN on either side is a difference, not something to skip.
      if (!(difference <= worst)) {
        worst = std::isnan(difference) ? INFINITY : difference;
        worstAt = k;
      }
    }
    if (scale == 0)
      problems << "  " << name << " is all zeros\n";
    else if (worst > 1e-5 * scale)
      problems << "  " << name << ": largest difference " << worst
               << " at element " << worstAt << " (" << a[worstAt] << " vs "
               << b[worstAt] << "), scale " << scale << "\n";
  } else if (want.dtype() == DType::BF16) {
    // One bf16 ulp (2^-8 relative) of slack for f32 values that differ in
    // their last bits before rounding.
    auto a = static_cast<const uint16_t *>(got.data());
    auto b = static_cast<const uint16_t *>(want.data());
    for (int64_t k = 0; k < want.numElements(); ++k) {
      float x = bf16ToFloat(a[k]), y = bf16ToFloat(b[k]);
      if (!(std::fabs(x - y) <= std::fabs(y) * 0.0079 + 1e-30)) {
        problems << "  " << name << " element " << k << ": " << x << " vs " << y
                 << "\n";
        return;
      }
    }
  } else {
    const auto *a = static_cast<const uint8_t *>(got.data());
    const auto *b = static_cast<const uint8_t *>(want.data());
    size_t elementBytes =
        want.byteSize() / std::max<int64_t>(1, want.numElements());
    for (size_t k = 0; k < want.byteSize(); ++k)
      if (a[k] != b[k]) {
        problems << "  " << name << " differs at element " << k / elementBytes
                 << " (exact comparison)\n";
        return;
      }
  }
}

} // namespace

testing::AssertionResult matchesOneDevice(const EquivalenceCase &c,
                                          int64_t *collectives) {
  absl::StatusOr<Executable> partitioned = compile(c, false);
  if (!partitioned.ok())
    return testing::AssertionFailure() << partitioned.status();
  absl::StatusOr<Executable> single = compile(c, true);
  if (!single.ok())
    return testing::AssertionFailure() << single.status();
  if (single->mesh().deviceCount() != 1)
    return testing::AssertionFailure()
           << "the unit mesh has " << single->mesh().deviceCount()
           << " devices";

  absl::StatusOr<MapWeightSource> weights =
      randomWeights(*single, c.weightSeed);
  if (!weights.ok())
    return testing::AssertionFailure() << weights.status();
  absl::StatusOr<std::map<std::string, HostTensor>> inputs =
      randomInputs(*single, c.inputSeed);
  if (!inputs.ok())
    return testing::AssertionFailure() << inputs.status();

  absl::StatusOr<RunResult> expected = runOnCpu(*single, &*weights, *inputs);
  if (!expected.ok())
    return testing::AssertionFailure() << "one device: " << expected.status();
  absl::StatusOr<RunResult> actual =
      testsupport::runOn(c.backend, *partitioned, &*weights, *inputs);
  if (!actual.ok())
    return testing::AssertionFailure()
           << "partitioned, on " << testsupport::backendName(c.backend) << ": "
           << actual.status();
  if (collectives) {
    *collectives = 0;
    for (const CollectiveStats &stats : actual->stats.collectives)
      *collectives += stats.count;
  }

  if (actual->outputs.size() != expected->outputs.size())
    return testing::AssertionFailure()
           << "the partitioned run returned " << actual->outputs.size()
           << " outputs, the one-device run " << expected->outputs.size();
  std::ostringstream problems;
  for (size_t i = 0; i < expected->outputs.size(); ++i)
    compareOutput(expected->outputs[i].first, actual->outputs[i].second,
                  expected->outputs[i].second, problems);
  if (!problems.str().empty())
    return testing::AssertionFailure() << "outputs differ:\n" << problems.str();
  return testing::AssertionSuccess();
}

} // namespace switchyard::equivalence
