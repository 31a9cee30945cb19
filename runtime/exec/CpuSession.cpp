//===- CpuSession.cpp - Running an executable on a CPU mesh ---------------===//
//
// One thread per device runs the op list on the device's arena. Weights are
// read into the arenas once, when the session is created; a weight whose
// arena bytes the buffer plan gives to another value later is also kept
// aside and restored before every run.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Runtime/CpuRuntime.h"

#include "runtime/exec/Einsum.h"
#include "runtime/exec/HostBinding.h"
#include "runtime/exec/Kernels.h"
#include "runtime/exec/Program.h"
#include "runtime/exec/Strided.h"
#include "switchyard/Runtime/LocalCollective.h"
#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cblas.h>
#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

namespace switchyard::runtime {

absl::string_view collectiveKindName(CollectiveKind kind) {
  switch (kind) {
  case CollectiveKind::AllReduce:
    return "all_reduce";
  case CollectiveKind::AllGather:
    return "all_gather";
  case CollectiveKind::AllSlice:
    return "all_slice";
  case CollectiveKind::AllToAll:
    return "all_to_all";
  case CollectiveKind::ReduceScatter:
    return "reduce_scatter";
  }
  return "?";
}

const HostTensor *RunResult::find(const std::string &name) const {
  for (const auto &[key, tensor] : outputs)
    if (key == name)
      return &tensor;
  return nullptr;
}

namespace {

constexpr int kOpKindCount = static_cast<int>(fb::OpKind::MAX) + 1;

/// Runs `body(device)` on one thread per device of `devices`; returns the
/// first error, preferring a device's own failure to the timeouts and aborts
/// it causes in its peers.
absl::Status onEveryDevice(const std::vector<int64_t> &devices,
                           const std::function<absl::Status(int64_t)> &body) {
  std::vector<absl::Status> statuses(devices.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < devices.size(); ++i)
    threads.emplace_back([&, i] { statuses[i] = body(devices[i]); });
  for (std::thread &thread : threads)
    thread.join();
  const absl::Status *first = nullptr;
  int64_t firstDevice = 0;
  for (size_t i = 0; i < devices.size(); ++i) {
    const absl::Status &s = statuses[i];
    const int64_t d = devices[i];
    if (s.ok())
      continue;
    const bool secondary = absl::IsDeadlineExceeded(s) || absl::IsAborted(s);
    if (!first || (!secondary && (absl::IsDeadlineExceeded(*first) ||
                                  absl::IsAborted(*first)))) {
      first = &s;
      firstDevice = d;
    }
  }
  if (!first)
    return absl::OkStatus();
  return absl::Status(first->code(), absl::StrCat("device ", firstDevice, ": ",
                                                  first->message()));
}

} // namespace

struct CpuSession::State {
  Executable executable;
  const Program *program = nullptr;
  /// The devices this process runs (SessionOptions::localDevices).
  std::vector<int64_t> devices;
  CollectiveFactory collectives;
  /// Indexed by device id; empty for devices of other processes.
  std::vector<HostTensor> arenas;
  /// Only where other processes run some devices: per local device, per
  /// output, the all-gathered blocks of every device.
  std::vector<std::vector<std::vector<std::byte>>> gatheredOutputs;
  std::vector<Workspace> workspaces;
  /// Indexed by op; set for einsums.
  std::vector<std::unique_ptr<EinsumPlan>> einsums;
  /// Per device: (input binding index, copy of its local block) for weights
  /// whose arena bytes other values reuse.
  std::vector<std::vector<std::pair<int, HostTensor>>> savedWeights;
  std::array<int64_t, kCollectiveKindCount> collectiveCounts{};

  explicit State(Executable e) : executable(std::move(e)) {}

  absl::Status runDevice(int64_t device, Collective &collective,
                         const std::map<std::string, HostTensor> &inputs,
                         const RunOptions &options,
                         std::array<int64_t, kCollectiveKindCount> &bytes,
                         std::vector<OpKindTime> &times);
};

absl::Status
CpuSession::State::runDevice(int64_t device, Collective &collective,
                             const std::map<std::string, HostTensor> &inputs,
                             const RunOptions &options,
                             std::array<int64_t, kCollectiveKindCount> &bytes,
                             std::vector<OpKindTime> &times) {
  auto *arena = static_cast<std::byte *>(arenas[device].data());
  for (const auto &[input, saved] : savedWeights[device])
    std::memcpy(arena + program->values[program->inputs[input].value].offset,
                saved.data(), saved.byteSize());
  for (const BindingSpec &binding : program->inputs)
    if (!binding.isWeight())
      sliceRunInput(*program, binding, device, inputs,
                    arena + program->values[binding.value].offset);
  DeviceContext context;
  context.program = program;
  context.arena = arena;
  context.device = device;
  context.collective = &collective;
  context.workspace = &workspaces[device];
  for (size_t i = 0; i < program->ops.size(); ++i) {
    const OpSpec &op = program->ops[i];
    const auto start = std::chrono::steady_clock::now();
    absl::Status status;
    switch (op.kind) {
    case fb::OpKind::Einsum:
      status = einsums[i]->run(op, context);
      if (status.ok() && op.epilogue) {
        const TensorSpec &result = context.type(op.results[0]);
        void *sums = context.data(op.results[0]);
        unaryInto(*op.epilogue, result.dtype, sums, sums, result.numElements());
      }
      break;
    case fb::OpKind::Route:
    case fb::OpKind::Dispatch:
    case fb::OpKind::Combine:
    case fb::OpKind::ZLoss:
    case fb::OpKind::LoadBalancingLoss:
      status = runRoutingOp(op, context);
      break;
    case fb::OpKind::AllReduce:
    case fb::OpKind::AllGather:
    case fb::OpKind::AllSlice:
    case fb::OpKind::AllToAll:
    case fb::OpKind::ReduceScatter:
      status = runCollectiveOp(op, context);
      break;
    default:
      status = runElementwiseOp(op, context);
      break;
    }
    if (!status.ok())
      return absl::Status(status.code(), absl::StrCat(describeOp(*program, i),
                                                      ": ", status.message()));
    if (options.profileOps) {
      OpKindTime &time = times[static_cast<int>(op.kind)];
      ++time.count;
      time.time += absl::FromChrono(std::chrono::steady_clock::now() - start);
    }
  }
  bytes = context.collectiveBytes;
  return absl::OkStatus();
}

CpuSession::CpuSession(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
Session::~Session() = default;

CpuSession::~CpuSession() = default;

const Executable &CpuSession::executable() const { return state_->executable; }

absl::StatusOr<std::unique_ptr<CpuSession>>
CpuSession::create(const Executable &executable, const WeightSource *weights,
                   const SessionOptions &options) {
  auto state = std::make_unique<State>(executable);
  const Program &program = executable.program();
  state->program = &program;
  const int64_t devices = program.mesh.deviceCount();
  state->devices = options.localDevices;
  if (state->devices.empty())
    for (int64_t d = 0; d < devices; ++d)
      state->devices.push_back(d);
  for (int64_t d : state->devices)
    if (d < 0 || d >= devices)
      return absl::InvalidArgumentError(
          absl::StrCat("local device ", d, " is not a device of the mesh ",
                       program.mesh.toString()));
  if (!options.collectives &&
      static_cast<int64_t>(state->devices.size()) != devices)
    return absl::InvalidArgumentError(
        "running only some of the mesh's devices needs a collective factory");
  state->collectives = options.collectives;
  if (options.blasThreads >= 0) {
    const int64_t hardware = std::max(1u, std::thread::hardware_concurrency());
    openblas_set_num_threads(static_cast<int>(
        options.blasThreads > 0 ? options.blasThreads
                                : std::max<int64_t>(1, hardware / devices)));
  }
  state->arenas.resize(devices);
  for (int64_t d : state->devices) {
    SY_ASSIGN_OR_RETURN(
        state->arenas[d],
        HostTensor::allocate(DType::Bool, {program.arenaBytes}));
  }
  state->workspaces.resize(devices);
  state->savedWeights.resize(devices);
  for (const OpSpec &op : program.ops)
    state->einsums.push_back(op.kind == fb::OpKind::Einsum
                                 ? std::make_unique<EinsumPlan>(program, op)
                                 : nullptr);
  state->collectiveCounts = countCollectives(program);

  SY_ASSIGN_OR_RETURN(std::vector<int> weightInputs,
                      weightInputs(program, weights));
  SY_RETURN_IF_ERROR(onEveryDevice(state->devices, [&](int64_t device) {
    for (int input : weightInputs) {
      const BindingSpec &binding = program.inputs[input];
      SY_RETURN_IF_ERROR(readWeightBlock(
          program, *weights, binding, device,
          static_cast<std::byte *>(state->arenas[device].data()) +
              program.values[binding.value].offset));
    }
    return absl::OkStatus();
  }));

  // Keep aside the weights whose bytes other values reuse.
  for (int input : weightInputs) {
    if (!weightBytesReused(program, input))
      continue;
    const ValueSpec &weight = program.values[program.inputs[input].value];
    for (int64_t d : state->devices) {
      SY_ASSIGN_OR_RETURN(
          HostTensor saved,
          HostTensor::allocate(DType::Bool, {weight.type.byteSize()}));
      std::memcpy(saved.data(),
                  static_cast<std::byte *>(state->arenas[d].data()) +
                      weight.offset,
                  saved.byteSize());
      state->savedWeights[d].emplace_back(input, std::move(saved));
    }
  }
  return std::unique_ptr<CpuSession>(new CpuSession(std::move(state)));
}

absl::StatusOr<RunResult>
CpuSession::run(const std::map<std::string, HostTensor> &inputs,
                const RunOptions &options) {
  const Program &program = *state_->program;
  const int64_t devices = program.mesh.deviceCount();
  SY_RETURN_IF_ERROR(checkRunInputs(program, inputs));
  SY_RETURN_IF_ERROR(checkOutputBuffers(program, options.outputBuffers));

  const auto start = absl::Now();
  const std::vector<int64_t> &local = state_->devices;
  std::vector<std::unique_ptr<Collective>> collectives;
  if (state_->collectives) {
    SY_ASSIGN_OR_RETURN(
        collectives,
        state_->collectives(program.mesh, options.collectiveTimeout));
  } else {
    SY_ASSIGN_OR_RETURN(
        collectives,
        createLocalCollectives(program.mesh, {options.collectiveTimeout}));
  }
  if (collectives.size() != local.size())
    return absl::InternalError(
        absl::StrCat("the collective factory made ", collectives.size(),
                     " endpoints for ", local.size(), " devices"));
  std::vector<Collective *> collectiveOf(devices);
  for (size_t i = 0; i < local.size(); ++i)
    collectiveOf[local[i]] = collectives[i].get();
  // Where other processes run some devices, every device all-gathers the
  // outputs' blocks over the whole mesh (group order is device order).
  const bool distributed = static_cast<int64_t>(local.size()) != devices;
  std::vector<int> allAxes(program.mesh.axisCount());
  for (size_t a = 0; a < allAxes.size(); ++a)
    allAxes[a] = static_cast<int>(a);
  state_->gatheredOutputs.resize(distributed ? devices : 0);
  std::vector<std::array<int64_t, kCollectiveKindCount>> bytes(devices);
  std::vector<std::vector<OpKindTime>> times(
      devices, std::vector<OpKindTime>(kOpKindCount));
  SY_RETURN_IF_ERROR(onEveryDevice(local, [&](int64_t device) {
    Collective &collective = *collectiveOf[device];
    SY_RETURN_IF_ERROR(state_->runDevice(device, collective, inputs, options,
                                         bytes[device], times[device]));
    if (!distributed)
      return absl::OkStatus();
    std::vector<std::vector<std::byte>> &gathered =
        state_->gatheredOutputs[device];
    gathered.resize(program.outputs.size());
    for (size_t o = 0; o < program.outputs.size(); ++o) {
      const ValueSpec &value = program.values[program.outputs[o].value];
      gathered[o].resize(value.type.byteSize() * devices);
      SY_RETURN_IF_ERROR(collective.allGather(
          allAxes, value.type.dtype,
          static_cast<const std::byte *>(state_->arenas[device].data()) +
              value.offset,
          gathered[o].data(),
          {1, value.type.byteSize() /
                  static_cast<int64_t>(dtypeSize(value.type.dtype))}));
    }
    return absl::OkStatus();
  }));

  // A value's bytes on a device: in its arena, or where other processes run
  // some devices, in the all-gathered blocks.
  auto block = [&](int64_t device, int value) -> const std::byte * {
    if (!distributed)
      return static_cast<const std::byte *>(state_->arenas[device].data()) +
             program.values[value].offset;
    const auto output =
        std::find_if(program.outputs.begin(), program.outputs.end(),
                     [&](const BindingSpec &b) { return b.value == value; });
    return state_
               ->gatheredOutputs[local.front()]
                                [output - program.outputs.begin()]
               .data() +
           device * program.values[value].type.byteSize();
  };
  RunResult result;
  SY_ASSIGN_OR_RETURN(result.outputs,
                      assembleOutputs(program, block, options.outputBuffers));
  RunStats &stats = result.stats;
  fillCollectiveStats(state_->collectiveCounts, bytes, stats);
  if (options.profileOps)
    for (int k = 0; k < kOpKindCount; ++k) {
      OpKindTime total;
      total.kind = opKindName(static_cast<fb::OpKind>(k));
      for (int64_t d = 0; d < devices; ++d) {
        total.count += times[d][k].count;
        total.time += times[d][k].time;
      }
      if (total.count > 0)
        stats.opTimes.push_back(std::move(total));
    }
  stats.wallTime = absl::Now() - start;
  return result;
}

absl::StatusOr<RunResult>
runOnCpu(const Executable &executable, const WeightSource *weights,
         const std::map<std::string, HostTensor> &inputs,
         const RunOptions &options) {
  SY_ASSIGN_OR_RETURN(std::unique_ptr<CpuSession> session,
                      CpuSession::create(executable, weights));
  return session->run(inputs, options);
}

} // namespace switchyard::runtime
