//===- Generate.cpp - greedy decoding of seq2seq programs -----------------===//

#include "switchyard/Runtime/Generate.h"

#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#include <algorithm>
#include <cstring>

namespace switchyard::runtime {

namespace {

/// The binding called `name` among `bindings`, or null.
const BindingSpec *find(absl::Span<const BindingSpec> bindings,
                        absl::string_view name) {
  for (const BindingSpec &binding : bindings)
    if (binding.name == name)
      return &binding;
  return nullptr;
}

constexpr absl::string_view kPast = "past_", kPresent = "present_";

} // namespace

absl::StatusOr<CachedDecoder>
CachedDecoder::start(Session &encoder, Session &decoderStep,
                     std::map<std::string, HostTensor> inputs) {
  const Executable &step = decoderStep.executable();
  const BindingSpec *ids = find(step.inputs(), "decoder_input_ids");
  const BindingSpec *position = find(step.inputs(), "decoder_position");
  if (!ids || ids->global.dims.size() != 2 || ids->global.dims[1].size != 1 ||
      !position || !position->global.dims.empty() || position->indexBound < 1)
    return absl::InvalidArgumentError(
        "the decoder step needs a [batch, 1] input 'decoder_input_ids' and a "
        "scalar input 'decoder_position' that indexes its positions (compile "
        "--program decoder-step)");
  CachedDecoder decoder(decoderStep);
  decoder.batch_ = ids->global.dims[0].size;
  decoder.positions_ = position->indexBound;

  SY_ASSIGN_OR_RETURN(RunResult encoded, encoder.run(inputs));
  for (const BindingSpec &binding : step.inputs()) {
    if (binding.isWeight() || &binding == ids || &binding == position)
      continue;
    absl::string_view cached = binding.name;
    if (absl::ConsumePrefix(&cached, kPast)) {
      if (!find(step.outputs(), absl::StrCat(kPresent, cached)))
        return absl::InvalidArgumentError(
            absl::StrCat("the decoder step has an input '", binding.name,
                         "' but no output '", kPresent, cached, "'"));
      SY_ASSIGN_OR_RETURN(
          HostTensor zeros,
          HostTensor::allocate(binding.global.dtype, binding.global.shape()));
      decoder.inputs_.emplace(binding.name, std::move(zeros));
      continue;
    }
    auto output = std::find_if(
        encoded.outputs.begin(), encoded.outputs.end(),
        [&](const auto &entry) { return entry.first == binding.name; });
    if (output != encoded.outputs.end())
      decoder.inputs_.emplace(binding.name, std::move(output->second));
    else if (auto given = inputs.find(binding.name); given != inputs.end())
      decoder.inputs_.emplace(binding.name, std::move(given->second));
  }
  SY_ASSIGN_OR_RETURN(decoder.ids_,
                      HostTensor::allocate(DType::I32, {decoder.batch_, 1}));
  SY_ASSIGN_OR_RETURN(decoder.positionTensor_,
                      HostTensor::allocate(DType::I32, {}));
  decoder.inputs_.insert_or_assign("decoder_input_ids", decoder.ids_.view());
  decoder.inputs_.insert_or_assign("decoder_position",
                                   decoder.positionTensor_.view());
  return decoder;
}

absl::StatusOr<HostTensor> CachedDecoder::step(absl::Span<const int32_t> ids) {
  if (static_cast<int64_t>(ids.size()) != batch_)
    return absl::InvalidArgumentError(
        absl::StrCat("a decoder step takes ", batch_, " ids, one per row; got ",
                     ids.size()));
  if (position_ >= positions_)
    return absl::OutOfRangeError(
        absl::StrCat("the decoder step's cache holds ", positions_,
                     " positions, all of them decoded"));
  std::copy(ids.begin(), ids.end(), ids_.span<int32_t>().begin());
  positionTensor_.span<int32_t>()[0] = static_cast<int32_t>(position_);
  SY_ASSIGN_OR_RETURN(RunResult result, decoderStep_->run(inputs_));
  HostTensor logits;
  for (auto &[name, tensor] : result.outputs) {
    absl::string_view cached = name;
    if (name == "logits")
      logits = std::move(tensor);
    else if (absl::ConsumePrefix(&cached, kPresent))
      if (auto past = inputs_.find(absl::StrCat(kPast, cached));
          past != inputs_.end())
        past->second = std::move(tensor);
  }
  if (logits.dtype() != DType::F32 || logits.rank() != 3 ||
      logits.shape()[0] != batch_ || logits.shape()[1] != 1)
    return absl::InvalidArgumentError(
        "the decoder step needs an f32 output 'logits' of [batch, 1, vocab]");
  ++position_;
  return logits;
}

absl::StatusOr<HostTensor>
generateGreedy(Session &encoder, Session &decoderStep,
               std::map<std::string, HostTensor> inputs,
               const GenerateOptions &options) {
  SY_ASSIGN_OR_RETURN(
      CachedDecoder decoder,
      CachedDecoder::start(encoder, decoderStep, std::move(inputs)));
  if (options.maxNewTokens < 1 || options.maxNewTokens > decoder.positions())
    return absl::InvalidArgumentError(
        absl::StrCat("the decoder step's cache holds ", decoder.positions(),
                     " positions, which allows 1 to ", decoder.positions(),
                     " new tokens; asked for ", options.maxNewTokens));
  const int64_t batch = decoder.batch();
  std::vector<std::vector<int32_t>> rows(batch, {options.decoderStartToken});
  std::vector<int32_t> last(batch, options.decoderStartToken);
  std::vector<bool> finished(batch, false);
  while (decoder.position() < options.maxNewTokens &&
         !std::all_of(finished.begin(), finished.end(),
                      [](bool f) { return f; })) {
    SY_ASSIGN_OR_RETURN(HostTensor logits, decoder.step(last));
    const int64_t vocab = logits.shape()[2];
    for (int64_t b = 0; b < batch; ++b) {
      int32_t next = options.padToken;
      if (!finished[b]) {
        const float *row = logits.span<float>().data() + b * vocab;
        next = static_cast<int32_t>(std::max_element(row, row + vocab) - row);
        finished[b] = next == options.eosToken;
      }
      rows[b].push_back(next);
      last[b] = next;
    }
  }

  const int64_t length = static_cast<int64_t>(rows.front().size());
  SY_ASSIGN_OR_RETURN(HostTensor generated,
                      HostTensor::allocate(DType::I32, {batch, length}));
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(generated.span<int32_t>().data() + b * length, rows[b].data(),
                length * sizeof(int32_t));
  return generated;
}

} // namespace switchyard::runtime
