//===- Embedding.h - Embedding table lookup ---------------------*- C++ -*-===//

#ifndef SWITCHYARD_TEST_RUNTIME_REFERENCE_EMBEDDING_H
#define SWITCHYARD_TEST_RUNTIME_REFERENCE_EMBEDDING_H

#include "absl/status/status.h"
#include "absl/types/span.h"

#include <cstdint>

namespace switchyard::runtime::reference {

/// out[i, :] = table[ids[i], :] for a table of `vocab` rows (no scaling,
/// HF-SWITCH-SEMANTICS 4.1). An id outside [0, vocab) is an error.
[[nodiscard]] absl::Status embed(absl::Span<const float> table, int64_t vocab,
                                 absl::Span<const int32_t> ids,
                                 absl::Span<float> out);
[[nodiscard]] absl::Status embed(absl::Span<const float> table, int64_t vocab,
                                 absl::Span<const int64_t> ids,
                                 absl::Span<float> out);

} // namespace switchyard::runtime::reference

#endif // SWITCHYARD_TEST_RUNTIME_REFERENCE_EMBEDDING_H
