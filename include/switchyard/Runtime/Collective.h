//===- Collective.h - Collective operations among mesh devices --*- C++ -*-===//
//
// A Collective is one device's endpoint for collective operations over
// subgroups of a device mesh (cf. IREE's HAL channel: a rank, a count and an
// opaque communicator). Every operation names the mesh axes it runs over;
// the devices that differ only along those axes take part, each with its
// position in that group (Mesh::groupRank) as its index.
//
// Buffers are flat arrays of elements. Where an operation splits a buffer
// into one block per group member, or assembles one from such blocks, a
// BlockLayout says where the blocks are, so a split or concatenation along
// any dimension of a row-major tensor needs no packing.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_COLLECTIVE_H
#define SWITCHYARD_RUNTIME_COLLECTIVE_H

#include "switchyard/Runtime/Mesh.h"
#include "switchyard/Runtime/Tensor.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cstdint>

namespace switchyard::runtime {

enum class ReduceOp { Sum, Max, Min };

/// Where the per-member blocks of a buffer are: the buffer is `outer` rows,
/// each holding one run of `inner` elements per group member, in group
/// order. Block `i` is the `outer` runs at offsets `(r * n + i) * inner`, so
/// each block holds `outer * inner` elements and the buffer n times that.
struct BlockLayout {
  int64_t outer = 1;
  int64_t inner = 0;

  int64_t blockSize() const { return outer * inner; }
};

/// The layout of splitting a row-major tensor of `shape` into `parts` equal
/// blocks along dimension `dim` (or of concatenating such blocks into it):
/// `{prod(shape[:dim]), shape[dim] / parts * prod(shape[dim+1:])}`.
[[nodiscard]] absl::StatusOr<BlockLayout>
blockLayoutAlong(absl::Span<const int64_t> shape, int dim, int64_t parts);

/// One device's endpoint. Every device of a group must make the same calls
/// in the same order; calls that disagree (operation, dtype, sizes) fail on
/// all of them. Reductions combine the members' values in group order, so
/// results are identical on every member and in every run. Reductions
/// support f32, i32 and i64; data movement any dtype. Unless stated,
/// outputs must not overlap inputs.
class Collective {
public:
  virtual ~Collective();

  virtual const Mesh &mesh() const = 0;
  /// This device's id in the mesh.
  virtual int64_t rank() const = 0;
  /// The number of devices in the mesh.
  int64_t count() const { return mesh().deviceCount(); }

  /// out = reduce over the group of `in` (`count` elements each). `out` may
  /// be `in`.
  [[nodiscard]] virtual absl::Status allReduce(absl::Span<const int> axes,
                                               DType dtype, const void *in,
                                               void *out, int64_t count,
                                               ReduceOp op) = 0;

  /// Block i of `out` (laid out by `outLayout`) = member i's `in`, which
  /// holds `outLayout.blockSize()` elements.
  [[nodiscard]] virtual absl::Status allGather(absl::Span<const int> axes,
                                               DType dtype, const void *in,
                                               void *out,
                                               BlockLayout outLayout) = 0;

  /// `out` (`inLayout.blockSize()` elements) = reduce over the group of
  /// block `groupRank` of each member's `in`.
  [[nodiscard]] virtual absl::Status reduceScatter(absl::Span<const int> axes,
                                                   DType dtype, const void *in,
                                                   BlockLayout inLayout,
                                                   void *out, ReduceOp op) = 0;

  /// Block i of `out` (by `outLayout`) = block `groupRank` of member i's `in`
  /// (by `inLayout`); both layouts must have the same block size. Splitting
  /// dimension s and concatenating along dimension c of a local tensor of
  /// shape S over n members is `inLayout = blockLayoutAlong(S, s, n)`,
  /// `outLayout = blockLayoutAlong(S', c, n)` with S' = S, S'[s] /= n,
  /// S'[c] *= n.
  [[nodiscard]] virtual absl::Status allToAll(absl::Span<const int> axes,
                                              DType dtype, const void *in,
                                              BlockLayout inLayout, void *out,
                                              BlockLayout outLayout) = 0;
};

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_COLLECTIVE_H
