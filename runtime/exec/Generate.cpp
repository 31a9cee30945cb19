//===- Generate.cpp - greedy decoding of seq2seq programs -----------------===//

#include "switchyard/Runtime/Generate.h"

#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <random>

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

/// A uniform double in [0, 1) from the top 53 bits of a draw of `rng`: the
/// same on every platform, unlike std::uniform_real_distribution.
double uniform(std::mt19937_64 &rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

/// The token at which the cumulative probability first exceeds `u` times
/// the total.
int32_t draw(const std::vector<double> &probabilities, double u) {
  double total = 0;
  for (double p : probabilities)
    total += p;
  const double target = u * total;
  double cumulative = 0;
  int32_t last = 0;
  for (size_t token = 0; token < probabilities.size(); ++token) {
    if (probabilities[token] == 0)
      continue;
    last = static_cast<int32_t>(token);
    cumulative += probabilities[token];
    if (target < cumulative)
      break;
  }
  return last;
}

} // namespace

absl::Status checkSampling(const SamplingOptions &options) {
  if (!(options.temperature > 0))
    return absl::InvalidArgumentError(absl::StrCat(
        "the temperature must be positive, got ", options.temperature));
  if (options.topK < 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "top-k must be 0 (all tokens) or positive, got ", options.topK));
  if (!(options.topP > 0 && options.topP <= 1))
    return absl::InvalidArgumentError(
        absl::StrCat("top-p must be in (0, 1], got ", options.topP));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<double>>
samplingDistribution(absl::Span<const float> logits,
                     const SamplingOptions &options) {
  SY_RETURN_IF_ERROR(checkSampling(options));
  const int64_t vocab = static_cast<int64_t>(logits.size());
  constexpr float kRemoved = -std::numeric_limits<float>::infinity();
  // In float32, as transformers' warpers compute.
  std::vector<float> scores(logits.begin(), logits.end());
  for (float &score : scores)
    score /= options.temperature;
  if (options.topK > 0 && options.topK < vocab) {
    std::vector<float> sorted(scores);
    std::nth_element(sorted.begin(), sorted.begin() + options.topK - 1,
                     sorted.end(), std::greater<float>());
    const float kth = sorted[options.topK - 1];
    for (float &score : scores)
      if (score < kth)
        score = kRemoved;
  }
  if (options.topP < 1) {
    // Ascending; of tied tokens the lower id counts as the less probable.
    std::vector<int64_t> order(vocab);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return scores[a] < scores[b];
    });
    const float max = scores[order.back()];
    std::vector<float> sortedProbabilities(vocab);
    float sum = 0;
    for (int64_t i = 0; i < vocab; ++i)
      sum += sortedProbabilities[i] = std::exp(scores[order[i]] - max);
    // Removes the least probable tokens while their mass is at most 1 - p,
    // keeping the most probable one.
    float cumulative = 0;
    for (int64_t i = 0; i + 1 < vocab; ++i) {
      cumulative += sortedProbabilities[i] / sum;
      if (cumulative > 1 - options.topP)
        break;
      scores[order[i]] = kRemoved;
    }
  }
  const float max = *std::max_element(scores.begin(), scores.end());
  std::vector<double> probabilities(vocab);
  double sum = 0;
  for (int64_t token = 0; token < vocab; ++token)
    sum += probabilities[token] =
        scores[token] == kRemoved ? 0.0 : std::exp(double{scores[token]} - max);
  for (double &p : probabilities)
    p /= sum;
  return probabilities;
}

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

absl::StatusOr<HostTensor> generate(Session &encoder, Session &decoderStep,
                                    std::map<std::string, HostTensor> inputs,
                                    const GenerateOptions &options) {
  if (options.sampling.sample)
    SY_RETURN_IF_ERROR(checkSampling(options.sampling));
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
  std::mt19937_64 rng(options.sampling.seed);
  while (decoder.position() < options.maxNewTokens &&
         !std::all_of(finished.begin(), finished.end(),
                      [](bool f) { return f; })) {
    SY_ASSIGN_OR_RETURN(HostTensor logits, decoder.step(last));
    const int64_t vocab = logits.shape()[2];
    for (int64_t b = 0; b < batch; ++b) {
      int32_t next = options.padToken;
      if (!finished[b]) {
        const float *row = logits.span<float>().data() + b * vocab;
        if (options.sampling.sample) {
          SY_ASSIGN_OR_RETURN(
              std::vector<double> probabilities,
              samplingDistribution(absl::MakeConstSpan(row, vocab),
                                   options.sampling));
          next = draw(probabilities, uniform(rng));
        } else {
          next = static_cast<int32_t>(std::max_element(row, row + vocab) - row);
        }
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
