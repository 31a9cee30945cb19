//===- NcclJob.h - One GPU per process, collectives over NCCL ---*- C++ -*-===//
//
// The `nccl` collectives of the cuda backend: the devices of a mesh are the
// GPUs of a job of one process per GPU, mesh device d on rank d (NCCL
// refuses two ranks on one GPU, so several virtual devices on one GPU stay
// in one process with the in-process collectives). The processes find each
// other through an MPI launcher (the unique id broadcast over MPI) or
// through `switchyard run --launch N` (Rendezvous.h).
//
// A collective over some mesh axes runs on a communicator of its group,
// split from the job's (ncclCommSplit, color: the group's first device, key:
// the group rank), so NCCL's ranks are the group ranks of Collective.h. The
// calls enqueue on a CUDA stream; buffers hold whole blocks, one per member
// in group order (the cuda backend packs and unpacks strided blocks).
// Reductions follow NCCL's algorithms: every member gets the same result,
// but the summation order is NCCL's, not group order.
//
// A process that fails must end the job (its launcher does): its peers'
// collectives wait for it, until wait() gives up and aborts the
// communicators.
//
// Only available when Switchyard is built with SWITCHYARD_ENABLE_NCCL; the
// library then defines SWITCHYARD_HAVE_NCCL for its users.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_NCCLJOB_H
#define SWITCHYARD_RUNTIME_NCCLJOB_H

#include "switchyard/Runtime/Collective.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

/// NCCL's communicator and CUDA's stream, as their headers declare them.
struct ncclComm;
struct CUstream_st;

namespace switchyard::runtime {

/// The communicator of one group: its members ranked by group rank.
struct NcclGroup {
  ncclComm *comm = nullptr;
  int size = 1;
  int rank = 0;
};

/// This process's membership of an NCCL job.
class NcclJob {
public:
  /// A new NCCL unique id, for rank 0 to give every process.
  [[nodiscard]] static absl::StatusOr<std::string> newUniqueId();

  /// Joins the job of `size` processes as `rank`, on CUDA device `gpu`.
  /// Every process calls it with rank 0's id; it returns once all have.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<NcclJob>>
  create(int rank, int size, const std::string &uniqueId, int gpu);

  ~NcclJob();

  int rank() const { return rank_; }
  int size() const { return size_; }
  int gpu() const { return gpu_; }

  /// The communicator of the whole job.
  NcclGroup world() const;

  /// The communicator of this process's group over `axes` of `mesh` (whose
  /// device count must be the job size), split from the job's on first use.
  /// A collective call: every process must ask for the same axes of the
  /// same mesh in the same order.
  [[nodiscard]] absl::StatusOr<NcclGroup> group(const Mesh &mesh,
                                                absl::Span<const int> axes);

  /// out = reduce over the group of `in` (`count` elements each), divided
  /// by the group size if `average` (with `op` Sum); `out` may be `in`. f32,
  /// bf16, f16, i32 and i64.
  [[nodiscard]] absl::Status allReduce(const NcclGroup &group, DType dtype,
                                       const void *in, void *out, int64_t count,
                                       ReduceOp op, bool average,
                                       CUstream_st *stream);
  /// Block i of `out` = member i's `in` (`bytes` each).
  [[nodiscard]] absl::Status allGather(const NcclGroup &group, const void *in,
                                       void *out, int64_t bytes,
                                       CUstream_st *stream);
  /// `out` (`count` elements) = reduce over the group of block `rank` of
  /// each member's `in`, as allReduce.
  [[nodiscard]] absl::Status reduceScatter(const NcclGroup &group, DType dtype,
                                           const void *in, void *out,
                                           int64_t count, ReduceOp op,
                                           bool average, CUstream_st *stream);
  /// Block i of `out` = block `rank` of member i's `in` (`bytes` each), by
  /// grouped sends and receives.
  [[nodiscard]] absl::Status allToAll(const NcclGroup &group, const void *in,
                                      void *out, int64_t bytes,
                                      CUstream_st *stream);

  /// Waits for the work enqueued on `stream`, watching NCCL for errors. A
  /// peer that does not take part within `timeout` makes it abort every
  /// communicator of the job and fail with DeadlineExceeded; every later
  /// call fails with Aborted.
  [[nodiscard]] absl::Status wait(CUstream_st *stream, absl::Duration timeout);

private:
  NcclJob(int rank, int size, int gpu, ncclComm *world);

  /// Aborted after a failed wait().
  absl::Status usable() const;

  int rank_, size_, gpu_;
  ncclComm *world_;
  /// Split communicators by (mesh shape, axes).
  std::map<std::pair<std::vector<int64_t>, std::vector<int>>, NcclGroup>
      groups_;
  bool aborted_ = false;
};

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_NCCLJOB_H
