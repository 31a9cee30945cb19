//===- Collective.cpp - Collective operations among mesh devices ----------===//

#include "switchyard/Runtime/Collective.h"

#include "absl/strings/str_cat.h"

namespace switchyard::runtime {

Collective::~Collective() = default;

absl::StatusOr<BlockLayout> blockLayoutAlong(absl::Span<const int64_t> shape,
                                             int dim, int64_t parts) {
  if (dim < 0 || dim >= static_cast<int>(shape.size()))
    return absl::InvalidArgumentError(
        absl::StrCat("dimension ", dim, " is not a dimension of shape ",
                     shapeToString(shape)));
  if (parts < 1 || shape[dim] % parts != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("dimension ", dim, " of shape ", shapeToString(shape),
                     " does not split into ", parts, " equal parts"));
  BlockLayout layout{1, shape[dim] / parts};
  for (int d = 0; d < dim; ++d)
    layout.outer *= shape[d];
  for (size_t d = dim + 1; d < shape.size(); ++d)
    layout.inner *= shape[d];
  return layout;
}

} // namespace switchyard::runtime
