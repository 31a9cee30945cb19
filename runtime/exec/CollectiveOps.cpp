//===- CollectiveOps.cpp - The executable's collectives on a Collective ---===//
//
// Each collective op maps onto one call of the device's Collective endpoint
// over the op's grid axes, with BlockLayouts for splitting and
// concatenating along a dimension. bf16 and f16 reductions go through f32.
//
//===----------------------------------------------------------------------===//

#include "runtime/exec/ElementTypes.h"
#include "runtime/exec/HostBinding.h"
#include "runtime/exec/Kernels.h"

#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"

namespace switchyard::runtime {

ReduceOp reduceOpOf(fb::CollectiveReduction reduction) {
  switch (reduction) {
  case fb::CollectiveReduction::Max:
    return ReduceOp::Max;
  case fb::CollectiveReduction::Min:
    return ReduceOp::Min;
  default:
    return ReduceOp::Sum;
  }
}

namespace {

/// Divides `count` elements of `data` by `n` (an average's last step).
void divide(DType dtype, void *data, int64_t count, int64_t n) {
  if (dtype == DType::I32) {
    auto *values = static_cast<int32_t *>(data);
    for (int64_t i = 0; i < count; ++i)
      values[i] = static_cast<int32_t>(values[i] / n);
    return;
  }
  auto *values = static_cast<float *>(data);
  for (int64_t i = 0; i < count; ++i)
    values[i] /= static_cast<float>(n);
}

/// Runs `reduce(in, out)` on f32 or i32 buffers: in place for those types,
/// through f32 copies for bf16 and f16; then averages if asked.
template <typename F>
absl::Status reduceVia(const OpSpec &op, DeviceContext &c, int64_t n,
                       F &&reduce) {
  const TensorSpec &in = c.type(op.operands[0]), &out = c.type(op.results[0]);
  const bool average = op.reduction == fb::CollectiveReduction::Average;
  if (in.dtype == DType::F32 || in.dtype == DType::I32) {
    SY_RETURN_IF_ERROR(
        reduce(in.dtype, c.data(op.operands[0]), c.data(op.results[0])));
    if (average)
      divide(in.dtype, c.data(op.results[0]), out.numElements(), n);
    return absl::OkStatus();
  }
  float *wideIn = Workspace::grow(c.workspace->floats[0], in.numElements());
  float *wideOut = Workspace::grow(c.workspace->floats[1], out.numElements());
  for (int64_t i = 0; i < in.numElements(); ++i)
    wideIn[i] = loadAsFloat(in.dtype, c.data(op.operands[0]), i);
  SY_RETURN_IF_ERROR(reduce(DType::F32, wideIn, wideOut));
  if (average)
    divide(DType::F32, wideOut, out.numElements(), n);
  for (int64_t i = 0; i < out.numElements(); ++i)
    storeFloat(out.dtype, c.data(op.results[0]), i, wideOut[i]);
  return absl::OkStatus();
}

} // namespace

CollectiveKind collectiveKindOf(fb::OpKind kind) {
  switch (kind) {
  case fb::OpKind::AllGather:
    return CollectiveKind::AllGather;
  case fb::OpKind::AllSlice:
    return CollectiveKind::AllSlice;
  case fb::OpKind::AllToAll:
    return CollectiveKind::AllToAll;
  case fb::OpKind::ReduceScatter:
    return CollectiveKind::ReduceScatter;
  default:
    return CollectiveKind::AllReduce;
  }
}

absl::Status runCollectiveOp(const OpSpec &op, DeviceContext &c) {
  const Mesh &mesh = c.program->mesh;
  const TensorSpec &in = c.type(op.operands[0]), &out = c.type(op.results[0]);
  const std::vector<int> &axes = op.gridAxes;
  const int64_t n = mesh.groupSize(axes);
  const int64_t rank = mesh.groupRank(c.device, axes);
  const int axis = static_cast<int>(op.axis);
  Collective &collective = *c.collective;
  absl::Status status;
  switch (op.kind) {
  case fb::OpKind::AllReduce:
    status = reduceVia(op, c, n, [&](DType dtype, const void *src, void *dst) {
      return collective.allReduce(axes, dtype, src, dst, in.numElements(),
                                  reduceOpOf(op.reduction));
    });
    break;
  case fb::OpKind::AllGather: {
    SY_ASSIGN_OR_RETURN(BlockLayout layout,
                        blockLayoutAlong(out.shape(), axis, n));
    status = collective.allGather(axes, in.dtype, c.data(op.operands[0]),
                                  c.data(op.results[0]), layout);
    break;
  }
  case fb::OpKind::AllSlice: {
    const std::vector<int64_t> shape = in.shape();
    std::vector<DimRange> slice;
    for (int64_t size : shape)
      slice.push_back({0, size});
    const int64_t block = shape[axis] / n;
    slice[axis] = {rank * block, (rank + 1) * block};
    copySlice(c.data(op.operands[0]), shape, dtypeSize(in.dtype), slice,
              c.data(op.results[0]));
    break;
  }
  case fb::OpKind::AllToAll: {
    SY_ASSIGN_OR_RETURN(BlockLayout inLayout,
                        blockLayoutAlong(in.shape(), axis, n));
    SY_ASSIGN_OR_RETURN(
        BlockLayout outLayout,
        blockLayoutAlong(out.shape(), static_cast<int>(op.concatAxis), n));
    status = collective.allToAll(axes, in.dtype, c.data(op.operands[0]),
                                 inLayout, c.data(op.results[0]), outLayout);
    break;
  }
  case fb::OpKind::ReduceScatter: {
    SY_ASSIGN_OR_RETURN(BlockLayout layout,
                        blockLayoutAlong(in.shape(), axis, n));
    status = reduceVia(op, c, n, [&](DType dtype, const void *src, void *dst) {
      return collective.reduceScatter(axes, dtype, src, layout, dst,
                                      reduceOpOf(op.reduction));
    });
    break;
  }
  default:
    return absl::InternalError(
        absl::StrCat(opKindName(op.kind), " is not a collective"));
  }
  c.collectiveBytes[static_cast<int>(collectiveKindOf(op.kind))] +=
      collectiveBytes(*c.program, op);
  return status;
}

} // namespace switchyard::runtime
