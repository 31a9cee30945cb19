//===- Generate.h - greedy decoding of seq2seq programs ---------*- C++ -*-===//
//
// Greedy generation with a program compiled from a Hugging Face config
// (inputs input_ids, attention_mask, decoder_input_ids; output logits),
// without a key/value cache: every step runs the whole program, whose
// static decoder length bounds the generated length. Compile it with
// decoder routing per position (HF-SWITCH-SEMANTICS §6.2) to match cached
// generation.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_GENERATE_H
#define SWITCHYARD_RUNTIME_GENERATE_H

#include "switchyard/Runtime/Session.h"

namespace switchyard::runtime {

struct GenerateOptions {
  /// At most this many new tokens; the program's decoder length must be at
  /// least one more.
  int64_t maxNewTokens = 16;
  int32_t decoderStartToken = 0;
  int32_t eosToken = 1;
  int32_t padToken = 0;
};

/// Greedy decoding as Hugging Face's generate(do_sample=False, num_beams=1):
/// every row starts with the start token and appends the argmax of its last
/// position's logits; rows that produced `eosToken` continue with
/// `padToken`; decoding stops when every row has finished or after
/// `maxNewTokens`. `inputs` are the program's other inputs (input_ids,
/// attention_mask). Returns [batch, steps + 1] i32 ids, start token
/// included.
[[nodiscard]] absl::StatusOr<HostTensor>
generateGreedy(Session &session, std::map<std::string, HostTensor> inputs,
               const GenerateOptions &options);

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_GENERATE_H
