//===- Generate.h - Decoding with seq2seq programs --------------*- C++ -*-===//
//
// Generation (greedy, sampled, beam search) with the two programs of cached
// generation compiled from a Hugging Face config (compile --program encoder
// and decoder-step): the encoder runs once; then the decoder step runs once
// per new token, on that token alone, with a key/value cache of the
// positions before it.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_GENERATE_H
#define SWITCHYARD_RUNTIME_GENERATE_H

#include "switchyard/Runtime/Session.h"

#include "absl/types/span.h"

#include <vector>

namespace switchyard::runtime {

/// How the next token is picked from a position's logits: the argmax, or a
/// draw as Hugging Face's generate(do_sample=True) makes it (its logits
/// warpers in its order: temperature, top-k, top-p).
struct SamplingOptions {
  bool sample = false;
  /// Divides the logits; must be positive.
  float temperature = 1.0f;
  /// Keeps the tokens whose logit is at least the k-th largest (ties kept);
  /// 0 keeps all. 50 as in transformers' GenerationConfig.
  int64_t topK = 50;
  /// Keeps the most probable tokens whose probabilities sum to at least p
  /// (the most probable one always); 1 keeps all.
  float topP = 1.0f;
  /// Seeds the draws: the same seed and inputs give the same tokens.
  uint64_t seed = 0;
};

/// Beam search as Hugging Face's generate(num_beams=N, do_sample=False).
struct BeamOptions {
  /// 1: no beam search.
  int64_t beams = 1;
  /// A finished hypothesis scores its summed log probabilities divided by
  /// (generated tokens)^lengthPenalty.
  float lengthPenalty = 1.0f;
  /// transformers' early_stopping: False (stop when the best running beam,
  /// scored at its current length, cannot beat the worst finished one),
  /// True (stop as soon as every row has `beams` finished hypotheses) or
  /// "never" (as False, scoring the running beam at the longest length
  /// when the length penalty is positive).
  enum class EarlyStopping { Heuristic, Always, Never };
  EarlyStopping earlyStopping = EarlyStopping::Heuristic;
};

struct GenerateOptions {
  /// At most this many new tokens; the decoder step's cache must hold at
  /// least this many positions.
  int64_t maxNewTokens = 16;
  int32_t decoderStartToken = 0;
  int32_t eosToken = 1;
  int32_t padToken = 0;
  SamplingOptions sampling;
  BeamOptions beams;
};

/// An error for a temperature that is not positive, a negative top-k or a
/// top-p outside (0, 1].
[[nodiscard]] absl::Status checkSampling(const SamplingOptions &options);

/// The distribution sampling draws a token from, for one position's
/// `logits`: softmax of the warped logits, 0 for the tokens the warpers
/// removed; checkSampling's errors.
[[nodiscard]] absl::StatusOr<std::vector<double>>
samplingDistribution(absl::Span<const float> logits,
                     const SamplingOptions &options);

/// Runs the two programs of cached generation: `encoder` once, then
/// `decoderStep` once per position, on one token of every row with a
/// key/value cache of the positions before it.
///
/// The decoder step takes `decoder_input_ids` [batch, 1] and the scalar
/// `decoder_position`; an input named `past_X` takes the previous step's
/// output `present_X` (zeros at the first step); any other input takes the
/// encoder's output of its name, or else the one given to start(). Its
/// output `logits` is [batch, 1, vocab] f32.
class CachedDecoder {
public:
  /// Checks the decoder step's interface and runs the encoder on `inputs`
  /// (input_ids, attention_mask). With `copies` > 1 the decoder step's batch
  /// holds that many consecutive rows per encoder row (the beams of beam
  /// search): its inputs from the encoder and from `inputs` repeat each row.
  /// Both sessions must outlive the decoder.
  [[nodiscard]] static absl::StatusOr<CachedDecoder>
  start(Session &encoder, Session &decoderStep,
        std::map<std::string, HostTensor> inputs, int64_t copies = 1);

  int64_t batch() const { return batch_; }
  /// The positions the cache holds: at most this many steps.
  int64_t positions() const { return positions_; }
  /// The position the next step decodes.
  int64_t position() const { return position_; }
  /// The wall time of the encoder's run, and of the steps' runs together.
  absl::Duration encoderTime() const { return encoderTime_; }
  absl::Duration stepTime() const { return stepTime_; }

  /// Decodes `ids` (a token per row) at position() and moves to the next
  /// one. Returns the logits [batch, 1, vocab].
  [[nodiscard]] absl::StatusOr<HostTensor> step(absl::Span<const int32_t> ids);

  /// Makes row i of the cache what row `rows[i]` was (beam search keeps
  /// some beams and drops others).
  [[nodiscard]] absl::Status reorder(absl::Span<const int64_t> rows);

private:
  CachedDecoder(Session &decoderStep) : decoderStep_(&decoderStep) {}

  Session *decoderStep_;
  int64_t batch_ = 0, positions_ = 0, position_ = 0;
  absl::Duration encoderTime_, stepTime_;
  /// The decoder step's run-time inputs; the ids and position are views of
  /// the two tensors below.
  std::map<std::string, HostTensor> inputs_;
  HostTensor ids_, positionTensor_;
};

/// Decoding as Hugging Face's generate with a CachedDecoder. With one beam
/// every row starts with the start token and appends the argmax of the
/// logits at its last position, or a token drawn as `options.sampling` says;
/// rows that produced `eosToken` continue with `padToken`; decoding stops
/// when every row has finished or after `maxNewTokens`. With several beams
/// (`options.beams`; the decoder step's batch is the encoder's times the
/// beams) each row returns its best finished hypothesis, shorter ones filled
/// as transformers fills them (`padToken`, or `eosToken` where the pad token
/// is 0). Returns [batch, length] i32 ids, start token included, and fills
/// `stats` where given.
/// Where a generate call's time went (wall times of the runs).
struct GenerateStats {
  absl::Duration encoder;
  int64_t steps = 0;
  absl::Duration decoderSteps;
};

[[nodiscard]] absl::StatusOr<HostTensor>
generate(Session &encoder, Session &decoderStep,
         std::map<std::string, HostTensor> inputs,
         const GenerateOptions &options, GenerateStats *stats = nullptr);

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_GENERATE_H
