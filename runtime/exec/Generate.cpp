//===- Generate.cpp - Greedy, sampled and beam decoding of seq2seq models -===//

#include "switchyard/Runtime/Generate.h"

#include "switchyard/Runtime/Status.h"

#include "absl/strings/match.h"
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

/// The rows (indices of the first dimension) `rows` of `tensor`, in that
/// order; each must lie in range.
absl::StatusOr<HostTensor> selectRows(const HostTensor &tensor,
                                      absl::Span<const int64_t> rows) {
  if (tensor.rank() == 0)
    return absl::InvalidArgumentError("a scalar has no rows");
  std::vector<int64_t> shape = tensor.shape();
  const int64_t count = shape[0];
  shape[0] = static_cast<int64_t>(rows.size());
  SY_ASSIGN_OR_RETURN(HostTensor selected,
                      HostTensor::allocate(tensor.dtype(), shape));
  const size_t rowBytes = count == 0 ? 0 : tensor.byteSize() / count;
  const auto *from = static_cast<const std::byte *>(tensor.data());
  auto *to = static_cast<std::byte *>(selected.data());
  for (size_t i = 0; i < rows.size(); ++i)
    std::memcpy(to + i * rowBytes, from + rows[i] * rowBytes, rowBytes);
  return selected;
}

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
                     std::map<std::string, HostTensor> inputs, int64_t copies) {
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
  decoder.encoderTime_ = encoded.stats.wallTime;
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
    HostTensor *value = nullptr;
    if (output != encoded.outputs.end())
      value = &output->second;
    else if (auto given = inputs.find(binding.name); given != inputs.end())
      value = &given->second;
    if (!value)
      continue;
    if (copies == 1) {
      decoder.inputs_.emplace(binding.name, std::move(*value));
      continue;
    }
    // Every row `copies` times in a row.
    std::vector<int64_t> rows;
    for (int64_t row = 0; value->rank() > 0 && row < value->shape()[0]; ++row)
      rows.insert(rows.end(), copies, row);
    SY_ASSIGN_OR_RETURN(HostTensor repeated, selectRows(*value, rows));
    decoder.inputs_.emplace(binding.name, std::move(repeated));
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
  stepTime_ += result.stats.wallTime;
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

absl::Status CachedDecoder::reorder(absl::Span<const int64_t> rows) {
  if (static_cast<int64_t>(rows.size()) != batch_)
    return absl::InvalidArgumentError(absl::StrCat(
        "a reordering takes ", batch_, " rows; got ", rows.size()));
  for (int64_t row : rows)
    if (row < 0 || row >= batch_)
      return absl::InvalidArgumentError(
          absl::StrCat("row ", row, " is outside [0, ", batch_, ")"));
  for (auto &[name, tensor] : inputs_) {
    if (absl::StartsWith(name, kPast)) {
      SY_ASSIGN_OR_RETURN(tensor, selectRows(tensor, rows));
    }
  }
  return absl::OkStatus();
}

namespace {

/// One hypothesis of beam search: its ids (start token first) and score.
struct Hypothesis {
  std::vector<int32_t> ids;
  float score = 0;
  bool finished = false;
};

/// The indices of the `count` largest of `scores`, largest first; of equal
/// scores the lower index first.
std::vector<int64_t> topIndices(const std::vector<float> &scores,
                                int64_t count) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  order.resize(count);
  return order;
}

/// log_softmax of `logits` in float, as torch computes it.
std::vector<float> logSoftmax(const float *logits, int64_t vocab) {
  const float max = *std::max_element(logits, logits + vocab);
  float sum = 0;
  for (int64_t v = 0; v < vocab; ++v)
    sum += std::exp(logits[v] - max);
  const float logSum = std::log(sum);
  std::vector<float> result(vocab);
  for (int64_t v = 0; v < vocab; ++v)
    result[v] = logits[v] - max - logSum;
  return result;
}

/// Beam search as transformers 5.x's _beam_search (one eos token, no logits
/// processors): per row, the 2 x beams best continuations of the running
/// beams; the best `beams` that did not end continue, those among the best
/// `beams` that did end (eos, or the last position) join the finished
/// hypotheses when they score higher; it stops as BeamOptions says.
absl::StatusOr<HostTensor> beamSearch(CachedDecoder &decoder,
                                      const GenerateOptions &options) {
  using EarlyStopping = BeamOptions::EarlyStopping;
  const BeamOptions &beam = options.beams;
  const int64_t beams = beam.beams, rows = decoder.batch() / beams;
  const int64_t candidates = 2 * beams;
  const int64_t maxLength = 1 + options.maxNewTokens;
  // transformers' -1e9, added to the scores that must lose a selection.
  constexpr float kOff = -1.0e9f;
  auto penalized = [&](float score, int64_t length) {
    return score / static_cast<float>(std::pow(static_cast<double>(length),
                                               beam.lengthPenalty));
  };
  std::vector<std::vector<Hypothesis>> running(rows), finished(rows);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < beams; ++j) {
      running[r].push_back({{options.decoderStartToken}, j == 0 ? 0 : kOff});
      finished[r].push_back({{options.decoderStartToken}, kOff});
    }
  std::vector<bool> improvable(rows, true);
  for (int64_t length = 1;; ++length) {
    std::vector<int32_t> last;
    for (int64_t r = 0; r < rows; ++r)
      for (const Hypothesis &h : running[r])
        last.push_back(h.ids.back());
    SY_ASSIGN_OR_RETURN(HostTensor logits, decoder.step(last));
    const int64_t vocab = logits.shape()[2];
    std::vector<int64_t> sources;
    bool allEnded = true;
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<float> accumulated(beams * vocab);
      for (int64_t j = 0; j < beams; ++j) {
        std::vector<float> logProbs = logSoftmax(
            logits.span<float>().data() + (r * beams + j) * vocab, vocab);
        for (int64_t v = 0; v < vocab; ++v)
          accumulated[j * vocab + v] = logProbs[v] + running[r][j].score;
      }
      std::vector<Hypothesis> top;
      std::vector<int64_t> topSources;
      std::vector<float> runningScores, finishedScores;
      std::vector<bool> ended;
      for (int64_t index : topIndices(accumulated, candidates)) {
        const int64_t source = index / vocab;
        const auto token = static_cast<int32_t>(index % vocab);
        Hypothesis h = running[r][source];
        h.ids.push_back(token);
        h.score = accumulated[index];
        const bool end = token == options.eosToken || length + 1 >= maxLength;
        allEnded = allEnded && end;
        ended.push_back(end);
        runningScores.push_back(h.score + (end ? kOff : -0.0f));
        top.push_back(std::move(h));
        topSources.push_back(source);
      }
      // The finished hypotheses: the best of the old ones and the best
      // `beams` candidates that ended.
      const bool full =
          beam.earlyStopping == EarlyStopping::Always &&
          std::all_of(finished[r].begin(), finished[r].end(),
                      [](const Hypothesis &h) { return h.finished; });
      std::vector<Hypothesis> merged = finished[r];
      std::vector<float> mergedScores;
      for (const Hypothesis &h : finished[r])
        mergedScores.push_back(h.score);
      for (int64_t c = 0; c < candidates; ++c) {
        const bool joins = ended[c] && c < beams;
        float score = penalized(top[c].score, length);
        score += full ? kOff : -0.0f;
        score += improvable[r] ? -0.0f : kOff;
        score += joins ? -0.0f : kOff;
        Hypothesis h = top[c];
        h.score = score;
        h.finished = joins;
        merged.push_back(std::move(h));
        mergedScores.push_back(score);
      }
      std::vector<Hypothesis> kept;
      for (int64_t index : topIndices(mergedScores, beams))
        kept.push_back(merged[index]);
      finished[r] = std::move(kept);
      // The running beams: the best `beams` candidates that did not end.
      std::vector<Hypothesis> next;
      for (int64_t index : topIndices(runningScores, beams)) {
        Hypothesis h = top[index];
        h.score = runningScores[index];
        next.push_back(std::move(h));
        sources.push_back(r * beams + topSources[index]);
      }
      running[r] = std::move(next);
    }
    if (allEnded)
      break;
    SY_RETURN_IF_ERROR(decoder.reorder(sources));
    // Whether a running beam could still beat the worst finished one.
    const int64_t nextLength = length + 1;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t bestLength =
          beam.earlyStopping == EarlyStopping::Never && beam.lengthPenalty > 0
              ? maxLength - 1
              : nextLength - 1;
      const float best = penalized(running[r][0].score, bestLength);
      float worst = std::numeric_limits<float>::infinity();
      for (const Hypothesis &h : finished[r])
        worst = std::min(worst, h.score);
      bool any = false;
      for (const Hypothesis &h : finished[r])
        any = any || best > (h.finished ? worst : kOff);
      improvable[r] = improvable[r] && any;
    }
    const bool allFinished = std::all_of(
        finished.begin(), finished.end(), [](const std::vector<Hypothesis> &f) {
          return std::all_of(f.begin(), f.end(),
                             [](const Hypothesis &h) { return h.finished; });
        });
    if (std::none_of(improvable.begin(), improvable.end(),
                     [](bool b) { return b; }) ||
        (allFinished && beam.earlyStopping == EarlyStopping::Always))
      break;
  }

  int64_t length = 0;
  for (const std::vector<Hypothesis> &f : finished)
    length = std::max<int64_t>(length, f.front().ids.size());
  // transformers fills with `pad_token_id or eos_token_id`.
  const int32_t fill =
      options.padToken != 0 ? options.padToken : options.eosToken;
  SY_ASSIGN_OR_RETURN(HostTensor result,
                      HostTensor::allocate(DType::I32, {rows, length}));
  auto ids = result.span<int32_t>();
  std::fill(ids.begin(), ids.end(), fill);
  for (int64_t r = 0; r < rows; ++r)
    std::copy(finished[r].front().ids.begin(), finished[r].front().ids.end(),
              ids.begin() + r * length);
  return result;
}

/// Greedy or sampled decoding, one sequence per row (generate's first mode).
absl::StatusOr<HostTensor> decodeOneBeam(CachedDecoder &decoder,
                                         const GenerateOptions &options) {
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

} // namespace

absl::StatusOr<HostTensor> generate(Session &encoder, Session &decoderStep,
                                    std::map<std::string, HostTensor> inputs,
                                    const GenerateOptions &options,
                                    GenerateStats *stats) {
  if (options.sampling.sample)
    SY_RETURN_IF_ERROR(checkSampling(options.sampling));
  const int64_t beams = options.beams.beams;
  if (beams < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("the number of beams must be positive, got ", beams));
  if (beams > 1 && options.sampling.sample)
    return absl::InvalidArgumentError(
        "beam search draws no samples: sampling takes one beam");
  SY_ASSIGN_OR_RETURN(
      CachedDecoder decoder,
      CachedDecoder::start(encoder, decoderStep, std::move(inputs), beams));
  if (options.maxNewTokens < 1 || options.maxNewTokens > decoder.positions())
    return absl::InvalidArgumentError(
        absl::StrCat("the decoder step's cache holds ", decoder.positions(),
                     " positions, which allows 1 to ", decoder.positions(),
                     " new tokens; asked for ", options.maxNewTokens));
  absl::StatusOr<HostTensor> ids = beams > 1 ? beamSearch(decoder, options)
                                             : decodeOneBeam(decoder, options);
  if (stats)
    *stats = {decoder.encoderTime(), decoder.position(), decoder.stepTime()};
  return ids;
}

} // namespace switchyard::runtime
