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

/// The block of `binding` that device `device` holds, one range per
/// dimension.
std::vector<DimRange> blockOf(const Program &program,
                              const BindingSpec &binding, int64_t device) {
  const std::vector<int64_t> coords = program.mesh.coordinates(device);
  const TensorSpec &local = program.values[binding.value].type;
  std::vector<DimRange> block;
  for (size_t d = 0; d < local.dims.size(); ++d) {
    int64_t index = 0;
    for (int axis : binding.global.dims[d].axes)
      index = index * program.mesh.axisSizes()[axis] + coords[axis];
    const int64_t size = local.dims[d].size;
    block.push_back({index * size, (index + 1) * size});
  }
  return block;
}

/// Whether `device` is the one that supplies its block of an output: its
/// coordinates along the mesh axes the output does not split are all zero.
bool suppliesOutput(const Program &program, const BindingSpec &binding,
                    int64_t device) {
  std::vector<bool> used(program.mesh.axisCount());
  for (const DimSpec &dim : binding.global.dims)
    for (int axis : dim.axes)
      used[axis] = true;
  const std::vector<int64_t> coords = program.mesh.coordinates(device);
  for (int axis = 0; axis < program.mesh.axisCount(); ++axis)
    if (!used[axis] && coords[axis] != 0)
      return false;
  return true;
}

/// Runs `body(device)` on one thread per device; returns the first error,
/// preferring a device's own failure to the timeouts and aborts it causes
/// in its peers.
absl::Status onEveryDevice(int64_t devices,
                           const std::function<absl::Status(int64_t)> &body) {
  std::vector<absl::Status> statuses(devices);
  std::vector<std::thread> threads;
  for (int64_t d = 0; d < devices; ++d)
    threads.emplace_back([&, d] { statuses[d] = body(d); });
  for (std::thread &thread : threads)
    thread.join();
  const absl::Status *first = nullptr;
  int64_t firstDevice = 0;
  for (int64_t d = 0; d < devices; ++d) {
    const absl::Status &s = statuses[d];
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
  std::vector<HostTensor> arenas;
  std::vector<Workspace> workspaces;
  /// Indexed by op; set for einsums.
  std::vector<std::unique_ptr<EinsumPlan>> einsums;
  /// Per device: (input binding index, copy of its local block) for weights
  /// whose arena bytes other values reuse.
  std::vector<std::vector<std::pair<int, HostTensor>>> savedWeights;
  std::array<int64_t, kCollectiveKindCount> collectiveCounts{};

  explicit State(Executable e) : executable(std::move(e)) {}

  absl::Status bindWeight(const WeightSource &weights,
                          const BindingSpec &binding, int64_t device);
  absl::Status runDevice(int64_t device, Collective &collective,
                         const std::map<std::string, HostTensor> &inputs,
                         const RunOptions &options,
                         std::array<int64_t, kCollectiveKindCount> &bytes,
                         std::vector<OpKindTime> &times);
};

absl::Status CpuSession::State::bindWeight(const WeightSource &weights,
                                           const BindingSpec &binding,
                                           int64_t device) {
  const TensorSpec &local = program->values[binding.value].type;
  const TensorSpec &global = binding.global;
  const std::vector<DimRange> block = blockOf(*program, binding, device);
  const std::vector<bool> stacked = binding.stackedDims();
  // The checkpoint tensor's shape and this device's slice of it.
  std::vector<int64_t> tensorShape;
  std::vector<DimRange> tensorSlice;
  for (size_t d = 0; d < global.dims.size(); ++d)
    if (!stacked[d]) {
      tensorShape.push_back(global.dims[d].size);
      tensorSlice.push_back(block[d]);
    }
  const size_t elementSize = dtypeSize(local.dtype);
  std::byte *value = static_cast<std::byte *>(arenas[device].data()) +
                     program->values[binding.value].offset;
  std::vector<std::byte> piece;
  // An odometer over the stacked indices this device holds.
  std::vector<int64_t> index(global.dims.size(), 0);
  for (size_t d = 0; d < global.dims.size(); ++d)
    index[d] = block[d].begin;
  while (true) {
    const std::string name = binding.checkpointName(index);
    SY_ASSIGN_OR_RETURN(WeightInfo info, weights.describe(name));
    if (info.dtype != global.dtype)
      return absl::InvalidArgumentError(
          absl::StrCat("weight '", name, "' (for input '", binding.name,
                       "') is ", dtypeName(info.dtype),
                       ", the executable expects ", dtypeName(global.dtype)));
    if (info.shape != tensorShape)
      return absl::InvalidArgumentError(absl::StrCat(
          "weight '", name, "' (for input '", binding.name, "') has shape ",
          shapeToString(info.shape), ", the executable expects ",
          shapeToString(tensorShape)));
    // Where this tensor's slice goes in the local block.
    std::vector<DimRange> place;
    for (size_t d = 0; d < global.dims.size(); ++d)
      place.push_back(stacked[d] ? DimRange{index[d] - block[d].begin,
                                            index[d] - block[d].begin + 1}
                                 : DimRange{0, local.dims[d].size});
    int64_t count = 1;
    for (const DimRange &r : tensorSlice)
      count *= r.end - r.begin;
    piece.resize(count * elementSize);
    SY_RETURN_IF_ERROR(
        weights.readSliceInto(name, tensorSlice, absl::MakeSpan(piece)));
    insertSlice(piece.data(), local.shape(), elementSize, place, value);

    int d = static_cast<int>(global.dims.size()) - 1;
    for (; d >= 0; --d) {
      if (!stacked[d])
        continue;
      if (++index[d] < block[d].end)
        break;
      index[d] = block[d].begin;
    }
    if (d < 0)
      return absl::OkStatus();
  }
}

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
  for (const BindingSpec &binding : program->inputs) {
    if (binding.isWeight())
      continue;
    const HostTensor &global = inputs.at(binding.name);
    copySlice(global.data(), global.shape(), dtypeSize(global.dtype()),
              blockOf(*program, binding, device),
              arena + program->values[binding.value].offset);
  }
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
CpuSession::~CpuSession() = default;

const Executable &CpuSession::executable() const { return state_->executable; }

absl::StatusOr<std::unique_ptr<CpuSession>>
CpuSession::create(const Executable &executable, const WeightSource *weights,
                   const SessionOptions &options) {
  auto state = std::make_unique<State>(executable);
  const Program &program = executable.program();
  state->program = &program;
  const int64_t devices = program.mesh.deviceCount();
  if (options.blasThreads >= 0) {
    const int64_t hardware = std::max(1u, std::thread::hardware_concurrency());
    openblas_set_num_threads(static_cast<int>(
        options.blasThreads > 0 ? options.blasThreads
                                : std::max<int64_t>(1, hardware / devices)));
  }
  for (int64_t d = 0; d < devices; ++d) {
    SY_ASSIGN_OR_RETURN(
        HostTensor arena,
        HostTensor::allocate(DType::Bool, {program.arenaBytes}));
    state->arenas.push_back(std::move(arena));
  }
  state->workspaces.resize(devices);
  state->savedWeights.resize(devices);
  for (const OpSpec &op : program.ops) {
    state->einsums.push_back(op.kind == fb::OpKind::Einsum
                                 ? std::make_unique<EinsumPlan>(program, op)
                                 : nullptr);
    if (op.kind >= fb::OpKind::AllReduce)
      ++state->collectiveCounts[static_cast<int>(collectiveKindOf(op.kind))];
  }

  std::vector<int> weightInputs;
  for (size_t i = 0; i < program.inputs.size(); ++i)
    if (program.inputs[i].isWeight())
      weightInputs.push_back(static_cast<int>(i));
  if (!weightInputs.empty() && !weights)
    return absl::InvalidArgumentError(absl::StrCat(
        "the executable binds ", weightInputs.size(),
        " weights (the first is '", program.inputs[weightInputs.front()].param,
        "') but no weight source was given"));
  SY_RETURN_IF_ERROR(onEveryDevice(devices, [&](int64_t device) {
    for (int input : weightInputs)
      SY_RETURN_IF_ERROR(
          state->bindWeight(*weights, program.inputs[input], device));
    return absl::OkStatus();
  }));

  // Keep aside the weights whose bytes other values reuse.
  for (int input : weightInputs) {
    const ValueSpec &weight = program.values[program.inputs[input].value];
    const int64_t begin = weight.offset, end = begin + weight.type.byteSize();
    bool shared = false;
    for (size_t v = 0; v < program.values.size() && !shared; ++v) {
      const ValueSpec &other = program.values[v];
      const int64_t b = other.offset, e = b + other.type.byteSize();
      shared = static_cast<int>(v) != program.inputs[input].value && b < e &&
               b < end && begin < e;
    }
    if (!shared)
      continue;
    for (int64_t d = 0; d < devices; ++d) {
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
  for (const BindingSpec &binding : program.inputs) {
    if (binding.isWeight())
      continue;
    auto it = inputs.find(binding.name);
    if (it == inputs.end())
      return absl::InvalidArgumentError(
          absl::StrCat("missing input '", binding.name, "' of type ",
                       binding.global.toString()));
    const HostTensor &tensor = it->second;
    if (tensor.dtype() != binding.global.dtype ||
        tensor.shape() != binding.global.shape())
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", binding.name, "' is ", dtypeName(tensor.dtype()), " ",
          shapeToString(tensor.shape()), ", expected ",
          binding.global.toString()));
  }
  for (const auto &[name, tensor] : inputs) {
    auto it = std::find_if(
        program.inputs.begin(), program.inputs.end(),
        [&](const BindingSpec &b) { return !b.isWeight() && b.name == name; });
    if (it == program.inputs.end())
      return absl::InvalidArgumentError(absl::StrCat(
          "'", name, "' is not a run-time input of the executable"));
  }

  const auto start = absl::Now();
  SY_ASSIGN_OR_RETURN(
      std::vector<std::unique_ptr<Collective>> collectives,
      createLocalCollectives(program.mesh, {options.collectiveTimeout}));
  std::vector<std::array<int64_t, kCollectiveKindCount>> bytes(devices);
  std::vector<std::vector<OpKindTime>> times(
      devices, std::vector<OpKindTime>(kOpKindCount));
  SY_RETURN_IF_ERROR(onEveryDevice(devices, [&](int64_t device) {
    return state_->runDevice(device, *collectives[device], inputs, options,
                             bytes[device], times[device]);
  }));

  RunResult result;
  for (const BindingSpec &binding : program.outputs) {
    SY_ASSIGN_OR_RETURN(
        HostTensor global,
        HostTensor::allocate(binding.global.dtype, binding.global.shape()));
    const ValueSpec &value = program.values[binding.value];
    for (int64_t d = 0; d < devices; ++d)
      if (suppliesOutput(program, binding, d))
        insertSlice(static_cast<std::byte *>(state_->arenas[d].data()) +
                        value.offset,
                    global.shape(), dtypeSize(global.dtype()),
                    blockOf(program, binding, d), global.data());
    result.outputs.emplace_back(binding.name, std::move(global));
  }

  RunStats &stats = result.stats;
  for (int k = 0; k < kCollectiveKindCount; ++k) {
    CollectiveStats &kind = stats.collectives[k];
    kind.count = state_->collectiveCounts[k];
    for (int64_t d = 0; d < devices; ++d) {
      kind.bytesPerDevice.push_back(bytes[d][k]);
      kind.bytes += bytes[d][k];
    }
  }
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
