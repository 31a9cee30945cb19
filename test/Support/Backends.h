//===- Backends.h - The suites' runs on every backend built -----*- C++ -*-===//
//
// The equivalence, property and Hugging Face parity suites run each case on
// every backend this build has: the cpu mesh always, the cuda backend when
// Switchyard is built with it (its cases skip where there is no GPU). Case
// names end in the backend's name, so `--gtest_filter='*cuda*'` selects the
// GPU runs.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_TEST_SUPPORT_BACKENDS_H
#define SWITCHYARD_TEST_SUPPORT_BACKENDS_H

#include "switchyard/Runtime/CpuRuntime.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace switchyard::testsupport {

enum class Backend { Cpu, Cuda };

/// "cpu" or "cuda", as `switchyard run --backend` spells them.
const char *backendName(Backend backend);

/// The backends this build has.
std::vector<Backend> builtBackends();

/// Whether `backend` can run here (a cuda build on a machine without a GPU
/// cannot).
bool backendAvailable(Backend backend);

/// An executable bound to `weights` on `backend`.
absl::StatusOr<std::unique_ptr<runtime::Session>>
openSession(Backend backend, const runtime::Executable &executable,
            const runtime::WeightSource *weights);

/// Opens a session and runs it once.
absl::StatusOr<runtime::RunResult>
runOn(Backend backend, const runtime::Executable &executable,
      const runtime::WeightSource *weights,
      const std::map<std::string, runtime::HostTensor> &inputs);

/// Element `i` of an f32, i32 or bool tensor, as a double (a test failure
/// for another dtype), for comparing outputs of any of those types.
double elementAt(const runtime::HostTensor &tensor, int64_t i);

} // namespace switchyard::testsupport

/// Skips the test when `backend` cannot run here.
#define SKIP_UNLESS_AVAILABLE(backend)                                         \
  do {                                                                         \
    if (!::switchyard::testsupport::backendAvailable(backend))                 \
      GTEST_SKIP() << "no " << ::switchyard::testsupport::backendName(backend) \
                   << " device";                                               \
  } while (false)

#endif // SWITCHYARD_TEST_SUPPORT_BACKENDS_H
