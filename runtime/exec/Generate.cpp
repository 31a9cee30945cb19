//===- Generate.cpp - greedy decoding of seq2seq programs -----------------===//

#include "switchyard/Runtime/Generate.h"

#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstring>

namespace switchyard::runtime {

absl::StatusOr<HostTensor>
generateGreedy(Session &session, std::map<std::string, HostTensor> inputs,
               const GenerateOptions &options) {
  const BindingSpec *decoderBinding = nullptr;
  for (const BindingSpec &binding : session.executable().inputs())
    if (binding.name == "decoder_input_ids")
      decoderBinding = &binding;
  if (!decoderBinding || decoderBinding->global.dims.size() != 2)
    return absl::InvalidArgumentError(
        "generation needs a program with a [batch, length] input named "
        "'decoder_input_ids'");
  const int64_t batch = decoderBinding->global.dims[0].size;
  const int64_t length = decoderBinding->global.dims[1].size;
  if (options.maxNewTokens < 1 || options.maxNewTokens + 1 > length)
    return absl::InvalidArgumentError(absl::StrCat(
        "the program's decoder length ", length, " allows at most ",
        length - 1, " new tokens; asked for ", options.maxNewTokens));

  SY_ASSIGN_OR_RETURN(HostTensor decoderIds,
                      HostTensor::allocate(DType::I32, {batch, length}));
  auto ids = decoderIds.span<int32_t>();
  inputs.insert_or_assign("decoder_input_ids", decoderIds.view());
  std::fill(ids.begin(), ids.end(), options.padToken);
  for (int64_t b = 0; b < batch; ++b)
    ids[b * length] = options.decoderStartToken;
  std::vector<bool> finished(batch, false);
  int64_t steps = 0;
  while (steps < options.maxNewTokens &&
         !std::all_of(finished.begin(), finished.end(), [](bool f) { return f; })) {
    SY_ASSIGN_OR_RETURN(RunResult result, session.run(inputs));
    const HostTensor *logits = result.find("logits");
    if (!logits || logits->dtype() != DType::F32 || logits->rank() != 3)
      return absl::InvalidArgumentError(
          "generation needs an f32 output 'logits' of [batch, length, vocab]");
    const int64_t vocab = logits->shape()[2];
    auto values = logits->span<float>();
    for (int64_t b = 0; b < batch; ++b) {
      int32_t next = options.padToken;
      if (!finished[b]) {
        const float *row = values.data() + (b * length + steps) * vocab;
        next = static_cast<int32_t>(std::max_element(row, row + vocab) - row);
        finished[b] = next == options.eosToken;
      }
      ids[b * length + steps + 1] = next;
    }
    ++steps;
  }

  SY_ASSIGN_OR_RETURN(HostTensor generated,
                      HostTensor::allocate(DType::I32, {batch, steps + 1}));
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(generated.span<int32_t>().data() + b * (steps + 1),
                ids.data() + b * length, (steps + 1) * sizeof(int32_t));
  return generated;
}

} // namespace switchyard::runtime
