//===- Session.h - An executable bound to a backend -------------*- C++ -*-===//
//
// What every backend's session offers (cpu: CpuRuntime.h, cuda:
// CudaRuntime.h): run the bound program on global inputs, get global outputs
// and statistics back.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_SESSION_H
#define SWITCHYARD_RUNTIME_SESSION_H

#include "switchyard/Runtime/Executable.h"
#include "switchyard/Runtime/Tensor.h"

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include <array>
#include <cstdint>
#include <map>
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

struct RunOptions {
  /// How long a device waits in a collective for the rest of its group.
  /// A device that fails leaves its peers waiting until this expires.
  absl::Duration collectiveTimeout = absl::Seconds(60);
  /// Measure the time of every op, summed per op kind.
  bool profileOps = false;
  /// Tensors the caller owns that outputs are written into, by output name,
  /// each of its output's global dtype and shape; RunResult::outputs then
  /// holds views of them. Reused from run to run, they spare allocating
  /// (and faulting in) the outputs every time. Outputs not named here get
  /// tensors of their own.
  std::map<std::string, HostTensor *> outputBuffers;
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
  /// The cuda backend's GPU time from the first op to the last, uploads
  /// and downloads left out; zero on the cpu backend.
  absl::Duration deviceTime;
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

/// An executable bound to its weights on some backend.
class Session {
public:
  virtual ~Session();

  virtual const Executable &executable() const = 0;

  /// Runs the program once. `inputs` maps every run-time input's name to its
  /// global tensor (dtype and shape as in the binding); missing, unknown or
  /// mis-shaped inputs are errors. Not reentrant: one run at a time.
  [[nodiscard]] virtual absl::StatusOr<RunResult>
  run(const std::map<std::string, HostTensor> &inputs,
      const RunOptions &options = {}) = 0;
};

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_SESSION_H
