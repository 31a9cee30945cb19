//===- Embedding.cpp - Embedding table lookup -----------------------------===//

#include "test/Runtime/Reference/Embedding.h"

#include "test/Runtime/Reference/KernelUtil.h"

#include <algorithm>

namespace switchyard::runtime::reference {

namespace {

template <typename Id>
absl::Status embedImpl(absl::Span<const float> table, int64_t vocab,
                       absl::Span<const Id> ids, absl::Span<float> out) {
  if (vocab < 1 || table.size() % vocab != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("embed: a table of ", table.size(), " elements has no ",
                     vocab, " rows"));
  const int64_t dim = table.size() / vocab;
  const int64_t count = ids.size();
  if (absl::Status s = checkOperand("embed", "out", out.size(), {count, dim});
      !s.ok())
    return s;
  for (int64_t i = 0; i < count; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab)
      return absl::OutOfRangeError(
          absl::StrCat("embed: id ", ids[i], " at position ", i,
                       " is outside [0, ", vocab, ")"));
    const float *row = table.data() + ids[i] * dim;
    std::copy(row, row + dim, out.data() + i * dim);
  }
  return absl::OkStatus();
}

} // namespace

absl::Status embed(absl::Span<const float> table, int64_t vocab,
                   absl::Span<const int32_t> ids, absl::Span<float> out) {
  return embedImpl(table, vocab, ids, out);
}

absl::Status embed(absl::Span<const float> table, int64_t vocab,
                   absl::Span<const int64_t> ids, absl::Span<float> out) {
  return embedImpl(table, vocab, ids, out);
}

} // namespace switchyard::runtime::reference
