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

/// The collective op kinds, for statistics.
enum class CollectiveKind {
  AllReduce,
  AllGather,
  AllSlice,
  AllToAll,
  ReduceScatter
};
inline constexpr int kCollectiveKindCount = 5;
/// "all_reduce", "all_gather", ...
absl::string_view collectiveKindName(CollectiveKind kind);

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

struct RunOptions {
  /// How long a device waits in a collective for the rest of its group.
  /// A device that fails leaves its peers waiting until this expires.
  absl::Duration collectiveTimeout = absl::Seconds(60);
  /// Measure the time of every op, summed per op kind.
  bool profileOps = false;
};

/// Collective traffic of one kind. A device's bytes are what it sends under
/// the usual algorithms, the model the compiler's writer counts with: for a
/// group of n and an input of B bytes, 2 B (n - 1) / n for all_reduce (ring),
/// B (n - 1) for all_gather, B (n - 1) / n for reduce_scatter and all_to_all,
/// nothing for all_slice.
struct CollectiveStats {
  /// Ops of this kind in the program (each device runs every one).
  int64_t count = 0;
  /// Bytes summed over all devices.
  int64_t bytes = 0;
  /// Bytes per device, indexed by device id (0 for devices of other
  /// processes).
  std::vector<int64_t> bytesPerDevice;
};

/// Time spent in ops of one kind, summed over devices.
struct OpKindTime {
  std::string kind;
  /// Ops of this kind executed, summed over devices.
  int64_t count = 0;
  absl::Duration time;
};

struct RunStats {
  /// Wall time of the run, from starting the device threads to having
  /// assembled the outputs.
  absl::Duration wallTime;
  /// Indexed by CollectiveKind.
  std::array<CollectiveStats, kCollectiveKindCount> collectives;
  /// Only with RunOptions::profileOps; kinds that ran, in OpKind order.
  std::vector<OpKindTime> opTimes;

  const CollectiveStats &of(CollectiveKind kind) const {
    return collectives[static_cast<int>(kind)];
  }
};

struct RunResult {
  /// The global outputs, in the executable's output order.
  std::vector<std::pair<std::string, HostTensor>> outputs;
  RunStats stats;

  /// The output called `name`, or null.
  const HostTensor *find(const std::string &name) const;
};

/// An executable bound to its weights, with one arena per device.
class CpuSession {
public:
  /// Binds the weights of `executable` from `weights` (which may be null if
  /// the executable has none): each device reads only its slice of each
  /// checkpoint tensor. Plans every op.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CpuSession>>
  create(const Executable &executable, const WeightSource *weights,
         const SessionOptions &options = {});

  ~CpuSession();

  const Executable &executable() const;

  /// Runs the program once. `inputs` maps every run-time input's name to its
  /// global tensor (dtype and shape as in the binding); missing, unknown or
  /// mis-shaped inputs are errors. Not reentrant: one run at a time.
  [[nodiscard]] absl::StatusOr<RunResult>
  run(const std::map<std::string, HostTensor> &inputs,
      const RunOptions &options = {});

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
