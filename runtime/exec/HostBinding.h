//===- HostBinding.h - Host-side binding shared by the backends -*- C++ -*-===//
//
// What every backend does on the host around running a program: finding a
// device's block of a binding, reading its weight slices, checking the
// run-time inputs, assembling the global outputs from the devices' blocks
// and counting collective traffic. The backends differ only in where the
// arena lives (host memory or a GPU) and how ops run.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_EXEC_HOSTBINDING_H
#define SWITCHYARD_RUNTIME_EXEC_HOSTBINDING_H

#include "runtime/exec/Program.h"
#include "switchyard/Runtime/CpuRuntime.h"
#include "switchyard/Runtime/Tensor.h"
#include "switchyard/Runtime/WeightSource.h"

#include "absl/status/statusor.h"

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace switchyard::runtime {

/// The block of `binding` that device `device` holds, one range per
/// dimension.
std::vector<DimRange> blockOf(const Program &program,
                              const BindingSpec &binding, int64_t device);

/// Whether `device` is the one that supplies its block of an output: its
/// coordinates along the mesh axes the output does not split are all zero.
bool suppliesOutput(const Program &program, const BindingSpec &binding,
                    int64_t device);

/// The indices of the weight inputs; an error if there are some and
/// `weights` is null.
absl::StatusOr<std::vector<int>> weightInputs(const Program &program,
                                              const WeightSource *weights);

/// Reads device `device`'s block of weight `binding` from `weights` into
/// `value` (the value's bytes, laid out as its local type).
absl::Status readWeightBlock(const Program &program,
                             const WeightSource &weights,
                             const BindingSpec &binding, int64_t device,
                             std::byte *value);

/// Whether other values reuse some of the arena bytes of weight input
/// `input`, so that it must be restored before every run.
bool weightBytesReused(const Program &program, int input);

/// Checks that `inputs` holds exactly the run-time inputs, with their global
/// dtypes and shapes.
absl::Status checkRunInputs(const Program &program,
                            const std::map<std::string, HostTensor> &inputs);

/// Copies device `device`'s block of run-time input `binding` out of its
/// global tensor in `inputs` into `value`.
void sliceRunInput(const Program &program, const BindingSpec &binding,
                   int64_t device,
                   const std::map<std::string, HostTensor> &inputs,
                   std::byte *value);

/// Checks that every tensor of `buffers` (RunOptions::outputBuffers) names
/// an output and has its global dtype and shape.
absl::Status
checkOutputBuffers(const Program &program,
                   const std::map<std::string, HostTensor *> &buffers);

/// The global outputs, in the executable's order, assembled from the blocks
/// of the supplying devices into `buffers` (checked by checkOutputBuffers)
/// or fresh tensors; `block(device, value)` gives the host address of a
/// value's bytes on a device.
absl::StatusOr<std::vector<std::pair<std::string, HostTensor>>>
assembleOutputs(const Program &program,
                const std::function<const std::byte *(int64_t, int)> &block,
                const std::map<std::string, HostTensor *> &buffers);

/// The number of collective ops of each CollectiveKind in the program.
std::array<int64_t, kCollectiveKindCount>
countCollectives(const Program &program);

/// The bytes each device sends for collective op `op` (CollectiveStats).
int64_t collectiveBytes(const Program &program, const OpSpec &op);

/// Fills the collective part of `stats` from the per-op counts and the
/// bytes per device (indexed by device, then CollectiveKind).
void fillCollectiveStats(
    const std::array<int64_t, kCollectiveKindCount> &counts,
    const std::vector<std::array<int64_t, kCollectiveKindCount>> &bytes,
    RunStats &stats);

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_EXEC_HOSTBINDING_H
