//===- CudaKernels.h - The cuda backend's kernels ---------------*- C++ -*-===//
//
// Host-side launchers of the cuda backend's kernels, one per op family.
// Kernels address tensors through an Indexer: an index space of at most
// kMaxRank dimensions and, per addressed tensor, its element strides in
// that space (the CPU's StridedLoop, flattened for a kernel argument).
// Launchers only enqueue work on `stream`; launch errors surface through
// cudaGetLastError. Float types compute in f32, i32 and bool in int32_t,
// with the cpu backend's semantics (ElementwiseOps.cpp, RoutingOps.cpp).
//
// This header is plain C++ so that both nvcc and the host compiler read it.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_CUDA_CUDAKERNELS_H
#define SWITCHYARD_RUNTIME_CUDA_CUDAKERNELS_H

#include <cstdint>
#include <cuda_runtime.h>

namespace switchyard::runtime::cuda {

constexpr int kMaxRank = 8;
constexpr int kMaxTensors = 6;
/// The most members of a collective group.
constexpr int kMaxGroup = 64;

/// An element type as the kernels see it.
enum class ElemType : int32_t { F32, F16, BF16, I32, Bool };

/// An index space and the strides of up to kMaxTensors tensors in it.
struct Indexer {
  int32_t rank = 0;
  int32_t tensors = 0;
  int64_t count = 1;
  int64_t shape[kMaxRank] = {};
  int64_t strides[kMaxTensors][kMaxRank] = {};
};

/// The members' buffers of a collective, in group order.
struct GroupBuffers {
  const void *data[kMaxGroup] = {};
};

/// y = unary(x) for `count` elements; `kind` is an fb::UnaryKind.
void launchUnary(cudaStream_t stream, int kind, ElemType type, const void *x,
                 void *y, int64_t count);

/// r = binary(a, b); the indexer addresses r, a, b.
void launchBinary(cudaStream_t stream, int kind, ElemType type, const void *a,
                  const void *b, void *r, const Indexer &index);

/// out = reduce(in): `outer` spans out (addressing out, in) and `inner` the
/// reduced dimensions (addressing in); `kind` is an fb::ReduceKind.
void launchReduce(cudaStream_t stream, int kind, ElemType type, const void *in,
                  void *out, const Indexer &outer, const Indexer &inner);

/// An einsum's direct loop: `outer` spans the result (addressing each
/// operand, then the result), `inner` the summed dimensions (addressing
/// each operand). At most kMaxTensors - 1 operands.
void launchEinsumLoop(cudaStream_t stream, ElemType type,
                      const void *const *operands, int operandCount,
                      void *result, const Indexer &outer, const Indexer &inner);

/// Softmax and RMS norm along the middle of [outer, size, inner].
void launchSoftmax(cudaStream_t stream, ElemType type, const void *x, void *y,
                   int64_t outer, int64_t size, int64_t inner);
void launchRmsNorm(cudaStream_t stream, ElemType type, ElemType scaleType,
                   const void *x, const void *scale, void *y, int64_t outer,
                   int64_t size, int64_t inner, float epsilon);
void launchCumsum(cudaStream_t stream, ElemType type, bool exclusive,
                  const void *x, void *y, int64_t outer, int64_t size,
                  int64_t inner);

void launchCast(cudaStream_t stream, ElemType from, ElemType to, const void *x,
                void *y, int64_t count);

/// out = table[ids] along a dimension of `rows` rows `rowStride` apart; the
/// indexer addresses out, ids, table. An id outside [0, rows) sets *error
/// to `errorCode` if it is still 0.
void launchGather(cudaStream_t stream, int elementSize, const void *table,
                  const int32_t *ids, void *out, const Indexer &index,
                  int64_t rows, int64_t rowStride, int32_t *error,
                  int32_t errorCode);

/// out = (ids == depth index); the indexer addresses out, ids and gives
/// the depth index as its third offset.
void launchOneHot(cudaStream_t stream, ElemType type, const int32_t *ids,
                  void *out, const Indexer &index);

/// out = the index along a dimension (the indexer's second offset).
void launchIota(cudaStream_t stream, ElemType type, void *out,
                const Indexer &index);

/// dst = src over an index space addressing src, then dst (elements of 1,
/// 2, 4 or 8 bytes).
void launchStridedCopy(cudaStream_t stream, int elementSize, const void *src,
                       void *dst, const Indexer &index);

/// dst += src (f32) over an index space addressing src, then dst; dst must
/// be zeroed first.
void launchStridedAccumulate(cudaStream_t stream, const float *src, float *dst,
                             const Indexer &index);

/// Route, first half: per token (the indexer spans the groups, addressing
/// logits, expert, gate), the f32 softmax over experts, rounded to the gate
/// type, and its `choices` largest probabilities in order, the first index
/// on ties: choice j's expert and probability (the gate before any
/// normalization), `choiceStrides` (expert, gate) apart. Top-1 routing is
/// one choice.
void launchRouteGates(cudaStream_t stream, ElemType logitsType,
                      ElemType gateType, const void *logits, int32_t *expert,
                      void *gate, const Indexer &groups, int64_t tokens,
                      const int64_t tokenStrides[3], int64_t choices,
                      const int64_t choiceStrides[2], int64_t experts,
                      int64_t expertStride);

/// Route, second half: each choice's position among its group's choices
/// of the same expert, in the order all first choices in token order, then
/// all second choices and so on (a scan), and whether it is at or beyond
/// `capacity`. The indexer spans the groups, addressing expert, position,
/// dropped; `choiceStrides` are theirs.
cudaError_t launchRoutePositions(cudaStream_t stream, const int32_t *expert,
                                 int32_t *position, uint8_t *dropped,
                                 const Indexer &groups, int64_t tokens,
                                 const int64_t tokenStrides[3], int64_t choices,
                                 const int64_t choiceStrides[3],
                                 int64_t experts, int64_t capacity);

/// Route, after the positions where the gates are normalized: per token,
/// each choice's probability (as launchRouteGates left it) divided in f32
/// by the sum over the token's choices or, `afterDrops`, over its kept
/// choices (at least 2^-23), a dropped choice's gate 0. The indexer spans
/// the groups, addressing gate, dropped; the strides are theirs.
void launchRouteNormalize(cudaStream_t stream, ElemType gateType, void *gate,
                          const uint8_t *dropped, bool afterDrops,
                          const Indexer &groups, int64_t tokens,
                          const int64_t tokenStrides[2], int64_t choices,
                          const int64_t choiceStrides[2]);

/// Dispatch (scatter tokens into slots; slots must be zeroed first) or
/// combine (gather slots times gate into tokens, plus `residual` where it
/// is not null: a buffer of the tokens' type). The indexer spans the
/// routing dimensions but the choices, then the features, addressing
/// expert, position, dropped, tokens, slots and (combine) gate; each
/// element moves its token's `choices` choices, `choiceStrides` (expert,
/// position, dropped, gate) apart: dispatch copies it to every kept
/// choice's slot, combine sums the kept choices' gated slots in f32. A kept
/// choice outside the slots sets *error to `errorCode` if it is still 0.
void launchMove(cudaStream_t stream, bool dispatch, ElemType type,
                ElemType gateType, void *tokens, void *slots,
                const int32_t *expert, const int32_t *position,
                const uint8_t *dropped, const void *gate, const void *residual,
                const Indexer &index, int64_t choices,
                const int64_t choiceStrides[4], int64_t expertStride,
                int64_t slotStride, int64_t experts, int64_t capacity,
                int32_t *error, int32_t errorCode);

/// Adds the squared log-sum-exp over experts of every position (the
/// indexer spans the positions, addressing logits) to *sum.
void launchZLossSum(cudaStream_t stream, ElemType type, const void *logits,
                    const Indexer &positions, int64_t experts,
                    int64_t expertStride, double *sum);

/// Load-balancing statistics of one operand: per (group, expert), tokens
/// whose logit argmax is the expert (into chosen) and the sum of the
/// expert's probabilities (into probSum). The indexer spans the groups,
/// addressing the logits and the row-major group index.
void launchLoadBalancingSums(cudaStream_t stream, ElemType type,
                             const void *logits, const Indexer &groups,
                             int64_t tokens, int64_t tokenStride,
                             int64_t experts, int64_t expertStride,
                             double *chosen, double *probSum);

/// out[0] = sum / count (0 if count is 0).
void launchZLossFinish(cudaStream_t stream, ElemType type, void *out,
                       const double *sum, int64_t count);

/// out[0] = mean((chosen / tokens) * (probSum / tokens)) * experts^2 over
/// `cells` = groups * experts entries (0 without tokens or cells).
void launchLoadBalancingFinish(cudaStream_t stream, ElemType type, void *out,
                               const double *chosen, const double *probSum,
                               int64_t cells, int64_t tokensPerGroup,
                               int64_t experts);

/// dst = reduce over the `count` members of sources[j] + base (elements)
/// over an index space addressing dst, then the sources; `reduction` is an
/// fb::CollectiveReduction (Average divides by count).
void launchGroupReduce(cudaStream_t stream, int reduction, ElemType type,
                       const GroupBuffers &sources, int count, int64_t base,
                       void *dst, const Indexer &index);

} // namespace switchyard::runtime::cuda

#endif // SWITCHYARD_RUNTIME_CUDA_CUDAKERNELS_H
