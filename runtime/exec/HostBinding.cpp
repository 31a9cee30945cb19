//===- HostBinding.cpp - Host-side binding shared by the backends ---------===//

#include "runtime/exec/HostBinding.h"

#include "runtime/exec/ElementTypes.h"
#include "runtime/exec/Kernels.h"
#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace switchyard::runtime {

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

absl::StatusOr<std::vector<int>> weightInputs(const Program &program,
                                              const WeightSource *weights) {
  std::vector<int> result;
  for (size_t i = 0; i < program.inputs.size(); ++i)
    if (program.inputs[i].isWeight())
      result.push_back(static_cast<int>(i));
  if (!result.empty() && !weights)
    return absl::InvalidArgumentError(absl::StrCat(
        "the executable binds ", result.size(), " weights (the first is '",
        program.inputs[result.front()].param,
        "') but no weight source was given"));
  return result;
}

absl::Status readWeightBlock(const Program &program,
                             const WeightSource &weights,
                             const BindingSpec &binding, int64_t device,
                             std::byte *value) {
  const TensorSpec &local = program.values[binding.value].type;
  const TensorSpec &global = binding.global;
  const std::vector<DimRange> block = blockOf(program, binding, device);
  const std::vector<bool> stacked = binding.stackedDims();
  // The checkpoint tensor's shape and this device's slice of it.
  std::vector<int64_t> tensorShape;
  std::vector<DimRange> tensorSlice;
  for (size_t d = 0; d < global.dims.size(); ++d)
    if (!stacked[d]) {
      tensorShape.push_back(global.dims[d].size);
      tensorSlice.push_back(block[d]);
    }
  // A checkpoint that stacks more entries than the program has (an
  // `expert_8` for 8 experts) was made for another model.
  for (size_t d = 0; d < global.dims.size(); ++d) {
    if (!stacked[d])
      continue;
    std::vector<int64_t> beyond(global.dims.size(), 0);
    beyond[d] = global.dims[d].size;
    const std::string extra = binding.checkpointName(beyond);
    if (weights.describe(extra).ok())
      return absl::InvalidArgumentError(absl::StrCat(
          "the checkpoint has '", extra, "' but the program stacks ",
          global.dims[d].size, " of '", binding.param, "' along '",
          global.dims[d].name, "': the checkpoint was made for another model"));
  }
  const size_t elementSize = dtypeSize(local.dtype);
  std::vector<std::byte> piece, convertedPiece;
  // An odometer over the stacked indices this device holds.
  std::vector<int64_t> index(global.dims.size(), 0);
  for (size_t d = 0; d < global.dims.size(); ++d)
    index[d] = block[d].begin;
  while (true) {
    const std::string name = binding.checkpointName(index);
    SY_ASSIGN_OR_RETURN(WeightInfo info, weights.describe(name));
    const bool converted = info.dtype != global.dtype;
    if (converted && !(isFloatDType(info.dtype) && isFloatDType(global.dtype)))
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
    // A float checkpoint of another precision converts, as `mtf.cast`.
    piece.resize(count * dtypeSize(info.dtype));
    SY_RETURN_IF_ERROR(
        weights.readSliceInto(name, tensorSlice, absl::MakeSpan(piece)));
    if (converted) {
      convertedPiece.resize(count * elementSize);
      convertElements(info.dtype, piece.data(), global.dtype,
                      convertedPiece.data(), count);
    }
    insertSlice(converted ? convertedPiece.data() : piece.data(), local.shape(),
                elementSize, place, value);

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

bool weightBytesReused(const Program &program, int input) {
  const int valueIndex = program.inputs[input].value;
  const ValueSpec &weight = program.values[valueIndex];
  const int64_t begin = weight.offset, end = begin + weight.type.byteSize();
  for (size_t v = 0; v < program.values.size(); ++v) {
    const ValueSpec &other = program.values[v];
    const int64_t b = other.offset, e = b + other.type.byteSize();
    if (static_cast<int>(v) != valueIndex && b < e && b < end && begin < e)
      return true;
  }
  return false;
}

namespace {

/// Checks that every id of `tensor`, which indexes a gathered or one-hot
/// dimension (BindingSpec::indexBound), lies in range or is the input's
/// ignored index where no gather reads it, naming the first that does not.
absl::Status checkIndices(const BindingSpec &binding, const HostTensor &tensor) {
  const bool ignores = binding.ignoredIndex && !binding.indexesGather;
  absl::Span<const int32_t> ids = tensor.span<int32_t>();
  for (size_t i = 0; i < ids.size(); ++i) {
    if ((ids[i] >= 0 && ids[i] < binding.indexBound) ||
        (ignores && ids[i] == *binding.ignoredIndex))
      continue;
    std::vector<int64_t> position(tensor.shape().size());
    for (int64_t k = tensor.rank() - 1, rest = i; k >= 0; --k) {
      position[k] = rest % tensor.shape()[k];
      rest /= tensor.shape()[k];
    }
    std::string ignored;
    if (ignores)
      ignored =
          absl::StrCat(", or is the ignored index ", *binding.ignoredIndex);
    else if (binding.ignoredIndex && ids[i] == *binding.ignoredIndex)
      ignored = " (the ignored index, which a gather reading the input has no "
                "row for)";
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", binding.name, "' holds ", ids[i], " at ",
        shapeToString(position), ", outside [0, ", binding.indexBound,
        "): it indexes dimension '", binding.indexDim, "' of size ",
        binding.indexBound, ignored));
  }
  return absl::OkStatus();
}

} // namespace

absl::Status checkRunInputs(const Program &program,
                            const std::map<std::string, HostTensor> &inputs) {
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
    if (binding.indexBound > 0)
      SY_RETURN_IF_ERROR(checkIndices(binding, tensor));
  }
  for (const auto &input : inputs) {
    // Not a structured binding: C++17 lambdas cannot capture those.
    const std::string &name = input.first;
    auto it = std::find_if(
        program.inputs.begin(), program.inputs.end(),
        [&](const BindingSpec &b) { return !b.isWeight() && b.name == name; });
    if (it == program.inputs.end())
      return absl::InvalidArgumentError(absl::StrCat(
          "'", name, "' is not a run-time input of the executable"));
  }
  return absl::OkStatus();
}

void sliceRunInput(const Program &program, const BindingSpec &binding,
                   int64_t device,
                   const std::map<std::string, HostTensor> &inputs,
                   std::byte *value) {
  const HostTensor &global = inputs.at(binding.name);
  copySlice(global.data(), global.shape(), dtypeSize(global.dtype()),
            blockOf(program, binding, device), value);
}

absl::Status
checkOutputBuffers(const Program &program,
                   const std::map<std::string, HostTensor *> &buffers) {
  for (const auto &buffer : buffers) {
    // Not a structured binding: C++17 lambdas cannot capture those.
    const std::string &name = buffer.first;
    const HostTensor *tensor = buffer.second;
    auto binding =
        std::find_if(program.outputs.begin(), program.outputs.end(),
                     [&](const BindingSpec &b) { return b.name == name; });
    if (binding == program.outputs.end())
      return absl::InvalidArgumentError(absl::StrCat(
          "output buffer '", name, "': the executable has no such output"));
    if (!tensor || tensor->dtype() != binding->global.dtype ||
        tensor->shape() != binding->global.shape())
      return absl::InvalidArgumentError(
          absl::StrCat("output buffer '", name, "' is ",
                       tensor ? absl::StrCat(dtypeName(tensor->dtype()), " ",
                                             shapeToString(tensor->shape()))
                              : "null",
                       ", expected ", binding->global.toString()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, HostTensor>>>
assembleOutputs(const Program &program,
                const std::function<const std::byte *(int64_t, int)> &block,
                const std::map<std::string, HostTensor *> &buffers) {
  std::vector<std::pair<std::string, HostTensor>> outputs;
  for (const BindingSpec &binding : program.outputs) {
    auto buffer = buffers.find(binding.name);
    SY_ASSIGN_OR_RETURN(HostTensor global,
                        buffer != buffers.end()
                            ? buffer->second->view()
                            : HostTensor::allocate(binding.global.dtype,
                                                   binding.global.shape()));
    for (int64_t d = 0; d < program.mesh.deviceCount(); ++d)
      if (suppliesOutput(program, binding, d))
        insertSlice(block(d, binding.value), global.shape(),
                    dtypeSize(global.dtype()), blockOf(program, binding, d),
                    global.data());
    outputs.emplace_back(binding.name, std::move(global));
  }
  return outputs;
}

std::array<int64_t, kCollectiveKindCount>
countCollectives(const Program &program) {
  std::array<int64_t, kCollectiveKindCount> counts{};
  for (const OpSpec &op : program.ops)
    if (op.kind >= fb::OpKind::AllReduce)
      ++counts[static_cast<int>(collectiveKindOf(op.kind))];
  return counts;
}

int64_t collectiveBytes(const Program &program, const OpSpec &op) {
  const int64_t n = program.mesh.groupSize(op.gridAxes);
  const int64_t in = program.values[op.operands[0]].type.byteSize();
  const int64_t out = program.values[op.results[0]].type.byteSize();
  switch (op.kind) {
  case fb::OpKind::AllReduce:
    return 2 * in * (n - 1) / n;
  case fb::OpKind::AllGather:
    return (n - 1) * in;
  case fb::OpKind::AllToAll:
    return (n - 1) * (in / n);
  case fb::OpKind::ReduceScatter:
    return (n - 1) * out;
  default:
    return 0;
  }
}

void fillCollectiveStats(
    const std::array<int64_t, kCollectiveKindCount> &counts,
    const std::vector<std::array<int64_t, kCollectiveKindCount>> &bytes,
    RunStats &stats) {
  for (int k = 0; k < kCollectiveKindCount; ++k) {
    CollectiveStats &kind = stats.collectives[k];
    kind.count = counts[k];
    for (const auto &deviceBytes : bytes) {
      kind.bytesPerDevice.push_back(deviceBytes[k]);
      kind.bytes += deviceBytes[k];
    }
  }
}

} // namespace switchyard::runtime
