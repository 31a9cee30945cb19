//===- Random.cpp - reproducible random weights and inputs ----------------===//

#include "switchyard/Runtime/Random.h"

#include "ElementTypes.h"
#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace switchyard::runtime {

absl::Status fillRandom(HostTensor &tensor, std::mt19937_64 &engine,
                        float stddev, int32_t intBound) {
  std::normal_distribution<float> normal(0.0f, stddev);
  switch (tensor.dtype()) {
  case DType::F32:
    for (float &value : tensor.span<float>())
      value = normal(engine);
    return absl::OkStatus();
  case DType::BF16:
  case DType::F16: {
    auto *bits = static_cast<uint16_t *>(tensor.data());
    for (int64_t i = 0; i < tensor.numElements(); ++i)
      bits[i] = tensor.dtype() == DType::BF16 ? floatToBf16(normal(engine))
                                              : floatToF16(normal(engine));
    return absl::OkStatus();
  }
  case DType::I32: {
    std::uniform_int_distribution<int32_t> uniform(0, intBound - 1);
    for (int32_t &value : tensor.span<int32_t>())
      value = uniform(engine);
    return absl::OkStatus();
  }
  case DType::Bool: {
    auto *bytes = static_cast<uint8_t *>(tensor.data());
    for (int64_t i = 0; i < tensor.numElements(); ++i)
      bytes[i] = engine() & 1;
    return absl::OkStatus();
  }
  default:
    return absl::InvalidArgumentError(
        absl::StrCat("no random values for dtype ", dtypeName(tensor.dtype())));
  }
}

absl::StatusOr<MapWeightSource> randomWeights(const Executable &executable,
                                              uint64_t seed) {
  std::mt19937_64 engine(seed);
  MapWeightSource weights;
  for (const BindingSpec &binding : executable.inputs()) {
    if (!binding.isWeight())
      continue;
    for (auto &[name, shape] : binding.checkpointTensors()) {
      SY_ASSIGN_OR_RETURN(HostTensor tensor,
                          HostTensor::allocate(binding.global.dtype, shape));
      SY_RETURN_IF_ERROR(fillRandom(tensor, engine));
      weights.add(name, std::move(tensor));
    }
  }
  return weights;
}

absl::StatusOr<std::map<std::string, HostTensor>>
randomInputs(const Executable &executable, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::map<std::string, HostTensor> inputs;
  for (const BindingSpec &binding : executable.inputs()) {
    if (binding.isWeight())
      continue;
    SY_ASSIGN_OR_RETURN(HostTensor tensor,
                        HostTensor::allocate(binding.global.dtype,
                                             binding.global.shape()));
    // Ids that index a gather or a one_hot stay inside its table or depth.
    SY_RETURN_IF_ERROR(fillRandom(
        tensor, engine, 0.5f,
        binding.indexBound > 0 ? int32_t(std::min<int64_t>(32, binding.indexBound))
                               : 32));
    inputs.emplace(binding.name, std::move(tensor));
  }
  return inputs;
}

} // namespace switchyard::runtime
