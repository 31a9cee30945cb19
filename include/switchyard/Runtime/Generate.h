//===- Generate.h - greedy decoding of seq2seq programs ---------*- C++ -*-===//
//
// Greedy generation with the two programs of cached generation compiled from
// a Hugging Face config (compile --program encoder and decoder-step): the
// encoder runs once; then the decoder step runs once per new token, on that
// token alone, with a key/value cache of the positions before it.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_GENERATE_H
#define SWITCHYARD_RUNTIME_GENERATE_H

#include "switchyard/Runtime/Session.h"

#include "absl/types/span.h"

namespace switchyard::runtime {

struct GenerateOptions {
  /// At most this many new tokens; the decoder step's cache must hold at
  /// least this many positions.
  int64_t maxNewTokens = 16;
  int32_t decoderStartToken = 0;
  int32_t eosToken = 1;
  int32_t padToken = 0;
};

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
  /// (input_ids, attention_mask). Both sessions must outlive the decoder.
  [[nodiscard]] static absl::StatusOr<CachedDecoder>
  start(Session &encoder, Session &decoderStep,
        std::map<std::string, HostTensor> inputs);

  int64_t batch() const { return batch_; }
  /// The positions the cache holds: at most this many steps.
  int64_t positions() const { return positions_; }
  /// The position the next step decodes.
  int64_t position() const { return position_; }

  /// Decodes `ids` (a token per row) at position() and moves to the next
  /// one. Returns the logits [batch, 1, vocab].
  [[nodiscard]] absl::StatusOr<HostTensor> step(absl::Span<const int32_t> ids);

private:
  CachedDecoder(Session &decoderStep) : decoderStep_(&decoderStep) {}

  Session *decoderStep_;
  int64_t batch_ = 0, positions_ = 0, position_ = 0;
  /// The decoder step's run-time inputs; the ids and position are views of
  /// the two tensors below.
  std::map<std::string, HostTensor> inputs_;
  HostTensor ids_, positionTensor_;
};

/// Greedy decoding as Hugging Face's generate(do_sample=False, num_beams=1)
/// with a CachedDecoder: every row starts with the start token and appends
/// the argmax of the logits at its last position; rows that produced
/// `eosToken` continue with `padToken`; decoding stops when every row has
/// finished or after `maxNewTokens`. Returns [batch, steps + 1] i32 ids,
/// start token included.
[[nodiscard]] absl::StatusOr<HostTensor>
generateGreedy(Session &encoder, Session &decoderStep,
               std::map<std::string, HostTensor> inputs,
               const GenerateOptions &options);

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_GENERATE_H
