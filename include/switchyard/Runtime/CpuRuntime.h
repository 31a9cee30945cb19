//===- CpuRuntime.h - Running an executable on a CPU mesh -------*- C++ -*-===//
//
// The cpu backend: every device of the executable's mesh is a thread of this
// process with its own arena, and the devices exchange data through the
// in-process `local` collectives. A CpuSession binds the weights and
// allocates the arenas once; run() can then be called any number of times
// without large allocations (DESIGN.md, decision 6) except for the global
// output tensors it returns.
//
// BLAS threads: the devices run their GEMMs concurrently, so a session sets
// OpenBLAS's (process-wide) thread count to max(1, hardware threads /
// devices) unless SessionOptions::blasThreads says otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_CPURUNTIME_H
#define SWITCHYARD_RUNTIME_CPURUNTIME_H

#include "switchyard/Runtime/Collective.h"
#include "switchyard/Runtime/Executable.h"
#include "switchyard/Runtime/Session.h"
#include "switchyard/Runtime/Tensor.h"
#include "switchyard/Runtime/WeightSource.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace switchyard::runtime {

/// Makes the collective endpoints of one run, one per device the session
/// runs, in SessionOptions::localDevices order, waiting at most `timeout`.
using CollectiveFactory =
    std::function<absl::StatusOr<std::vector<std::unique_ptr<Collective>>>(
        const Mesh &mesh, absl::Duration timeout)>;

struct SessionOptions {
  /// OpenBLAS threads for the whole process; 0 picks max(1, hardware
  /// threads / devices), a negative value leaves the setting alone.
  int blasThreads = 0;
  /// The mesh devices this process runs, e.g. one MPI rank's (MpiJob); empty
  /// runs them all. Each reads only its own weight slices. With only some
  /// devices here, `collectives` must reach the others, and every run
  /// all-gathers the outputs' blocks so that each process returns the whole
  /// outputs; statistics count this process's devices only.
  std::vector<int64_t> localDevices;
  /// Null: the in-process `local` collectives, which need every device here.
  CollectiveFactory collectives;
};

/// An executable bound to its weights, with one arena per device.
class CpuSession final : public Session {
public:
  /// Binds the weights of `executable` from `weights` (which may be null if
  /// the executable has none): each device reads only its slice of each
  /// checkpoint tensor. Plans every op.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CpuSession>>
  create(const Executable &executable, const WeightSource *weights,
         const SessionOptions &options = {});

  ~CpuSession() override;

  const Executable &executable() const override;

  /// Runs the program once. `inputs` maps every run-time input's name to its
  /// global tensor (dtype and shape as in the binding); missing, unknown or
  /// mis-shaped inputs are errors. Not reentrant: one run at a time.
  [[nodiscard]] absl::StatusOr<RunResult>
  run(const std::map<std::string, HostTensor> &inputs,
      const RunOptions &options = {}) override;

private:
  struct State;
  explicit CpuSession(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

/// Creates a session and runs it once.
[[nodiscard]] absl::StatusOr<RunResult>
runOnCpu(const Executable &executable, const WeightSource *weights,
         const std::map<std::string, HostTensor> &inputs,
         const RunOptions &options = {});

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_CPURUNTIME_H
