//===- ExecutableFuzzer.cpp - libFuzzer target: the executable loader -----===//
//
// Any bytes given as an executable must load or give an error. Loading
// promises that running never meets a malformed program (Executable.h), so
// every small executable that loads is also run once on the CPU mesh with
// random weights and inputs: it must run or give an error, never crash.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Runtime/CpuRuntime.h"
#include "switchyard/Runtime/Executable.h"
#include "switchyard/Runtime/Random.h"

#include <string>

using namespace switchyard::runtime;

namespace {

/// Runs stay below this many bytes per device and devices, to keep the
/// fuzzer fast; larger programs are only loaded.
constexpr int64_t kMaxRunBytes = 1 << 20;
constexpr int64_t kMaxRunDevices = 8;

int64_t globalBytes(absl::Span<const BindingSpec> bindings) {
  int64_t total = 0;
  for (const BindingSpec &binding : bindings)
    total += binding.global.byteSize();
  return total;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  absl::StatusOr<Executable> executable = Executable::loadBytes(
      std::string(reinterpret_cast<const char *>(data), size), "<fuzz>");
  if (!executable.ok())
    return 0;
  if (executable->mesh().deviceCount() > kMaxRunDevices ||
      executable->arenaBytes() > kMaxRunBytes ||
      globalBytes(executable->inputs()) > kMaxRunBytes ||
      globalBytes(executable->outputs()) > kMaxRunBytes)
    return 0;
  absl::StatusOr<MapWeightSource> weights = randomWeights(*executable, 1);
  absl::StatusOr<std::map<std::string, HostTensor>> inputs =
      randomInputs(*executable, 2);
  if (!weights.ok() || !inputs.ok())
    return 0;
  RunOptions options;
  options.collectiveTimeout = absl::Seconds(5);
  (void)runOnCpu(*executable, &*weights, *inputs, options);
  return 0;
}
