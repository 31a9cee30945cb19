//===- NcclJob.cpp - One GPU per process, collectives over NCCL -----------===//

#include "switchyard/Runtime/NcclJob.h"

#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace switchyard::runtime {
namespace {

absl::Status ncclStatus(ncclResult_t result, absl::string_view what,
                        ncclComm_t comm = nullptr) {
  if (result == ncclSuccess)
    return absl::OkStatus();
  std::string message =
      absl::StrCat("NCCL ", what, ": ", ncclGetErrorString(result));
  if (const char *last = ncclGetLastError(comm); last && *last)
    absl::StrAppend(&message, " (", last, ")");
  return result == ncclInvalidArgument || result == ncclInvalidUsage
             ? absl::InvalidArgumentError(message)
             : absl::InternalError(message);
}

absl::Status cudaError(cudaError_t error, absl::string_view what) {
  if (error == cudaSuccess)
    return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(what, ": ", cudaGetErrorString(error)));
}

absl::StatusOr<ncclDataType_t> ncclTypeOf(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return ncclFloat32;
  case DType::BF16:
    return ncclBfloat16;
  case DType::F16:
    return ncclFloat16;
  case DType::I32:
    return ncclInt32;
  case DType::I64:
    return ncclInt64;
  case DType::Bool:
    break;
  }
  return absl::UnimplementedError(
      absl::StrCat("NCCL reductions of ", dtypeName(dtype)));
}

ncclRedOp_t ncclOpOf(ReduceOp op, bool average) {
  if (average)
    return ncclAvg;
  switch (op) {
  case ReduceOp::Max:
    return ncclMax;
  case ReduceOp::Min:
    return ncclMin;
  case ReduceOp::Sum:
    break;
  }
  return ncclSum;
}

} // namespace

absl::StatusOr<std::string> NcclJob::newUniqueId() {
  ncclUniqueId id;
  SY_RETURN_IF_ERROR(ncclStatus(ncclGetUniqueId(&id), "making a unique id"));
  return std::string(id.internal, sizeof(id.internal));
}

absl::StatusOr<std::unique_ptr<NcclJob>>
NcclJob::create(int rank, int size, const std::string &uniqueId, int gpu) {
  ncclUniqueId id;
  if (uniqueId.size() != sizeof(id.internal))
    return absl::InvalidArgumentError(
        absl::StrCat("an NCCL unique id has ", sizeof(id.internal),
                     " bytes, got ", uniqueId.size()));
  std::copy(uniqueId.begin(), uniqueId.end(), id.internal);
  SY_RETURN_IF_ERROR(
      cudaError(cudaSetDevice(gpu), absl::StrCat("selecting GPU ", gpu)));
  ncclComm_t world = nullptr;
  SY_RETURN_IF_ERROR(ncclStatus(
      ncclCommInitRank(&world, size, id, rank),
      absl::StrCat("joining a job of ", size, " processes as rank ", rank)));
  return std::unique_ptr<NcclJob>(new NcclJob(rank, size, gpu, world));
}

NcclJob::NcclJob(int rank, int size, int gpu, ncclComm *world)
    : rank_(rank), size_(size), gpu_(gpu), world_(world) {}

NcclJob::~NcclJob() {
  for (auto &[key, group] : groups_)
    aborted_ ? ncclCommAbort(group.comm) : ncclCommDestroy(group.comm);
  aborted_ ? ncclCommAbort(world_) : ncclCommDestroy(world_);
}

NcclGroup NcclJob::world() const { return {world_, size_, rank_}; }

absl::Status NcclJob::usable() const {
  if (aborted_)
    return absl::AbortedError(
        "the NCCL job was aborted after an earlier failure");
  return absl::OkStatus();
}

absl::StatusOr<NcclGroup> NcclJob::group(const Mesh &mesh,
                                         absl::Span<const int> axes) {
  SY_RETURN_IF_ERROR(usable());
  if (mesh.deviceCount() != size_)
    return absl::InvalidArgumentError(
        absl::StrCat("a mesh of ", mesh.deviceCount(), " devices on a job of ",
                     size_, " processes (one device each)"));
  auto key = std::make_pair(
      std::vector<int64_t>(mesh.axisSizes().begin(), mesh.axisSizes().end()),
      std::vector<int>(axes.begin(), axes.end()));
  if (auto found = groups_.find(key); found != groups_.end())
    return found->second;
  const std::vector<int64_t> members = mesh.group(rank_, axes);
  NcclGroup group;
  group.size = static_cast<int>(members.size());
  group.rank = static_cast<int>(mesh.groupRank(rank_, axes));
  const int color =
      static_cast<int>(*std::min_element(members.begin(), members.end()));
  SY_RETURN_IF_ERROR(ncclStatus(
      ncclCommSplit(world_, color, group.rank, &group.comm, nullptr),
      absl::StrCat("splitting a communicator of ", group.size, " ranks"),
      world_));
  groups_.emplace(std::move(key), group);
  return group;
}

absl::Status NcclJob::allReduce(const NcclGroup &group, DType dtype,
                                const void *in, void *out, int64_t count,
                                ReduceOp op, bool average,
                                CUstream_st *stream) {
  SY_RETURN_IF_ERROR(usable());
  SY_ASSIGN_OR_RETURN(ncclDataType_t type, ncclTypeOf(dtype));
  return ncclStatus(ncclAllReduce(in, out, static_cast<size_t>(count), type,
                                  ncclOpOf(op, average), group.comm, stream),
                    "all_reduce", group.comm);
}

absl::Status NcclJob::allGather(const NcclGroup &group, const void *in,
                                void *out, int64_t bytes, CUstream_st *stream) {
  SY_RETURN_IF_ERROR(usable());
  return ncclStatus(ncclAllGather(in, out, static_cast<size_t>(bytes),
                                  ncclUint8, group.comm, stream),
                    "all_gather", group.comm);
}

absl::Status NcclJob::reduceScatter(const NcclGroup &group, DType dtype,
                                    const void *in, void *out, int64_t count,
                                    ReduceOp op, bool average,
                                    CUstream_st *stream) {
  SY_RETURN_IF_ERROR(usable());
  SY_ASSIGN_OR_RETURN(ncclDataType_t type, ncclTypeOf(dtype));
  return ncclStatus(ncclReduceScatter(in, out, static_cast<size_t>(count), type,
                                      ncclOpOf(op, average), group.comm,
                                      stream),
                    "reduce_scatter", group.comm);
}

absl::Status NcclJob::allToAll(const NcclGroup &group, const void *in,
                               void *out, int64_t bytes, CUstream_st *stream) {
  SY_RETURN_IF_ERROR(usable());
  const auto *from = static_cast<const std::byte *>(in);
  auto *to = static_cast<std::byte *>(out);
  SY_RETURN_IF_ERROR(ncclStatus(ncclGroupStart(), "all_to_all"));
  absl::Status status;
  for (int peer = 0; peer < group.size && status.ok(); ++peer) {
    status =
        ncclStatus(ncclSend(from + peer * bytes, static_cast<size_t>(bytes),
                            ncclUint8, peer, group.comm, stream),
                   "all_to_all send", group.comm);
    if (status.ok())
      status =
          ncclStatus(ncclRecv(to + peer * bytes, static_cast<size_t>(bytes),
                              ncclUint8, peer, group.comm, stream),
                     "all_to_all receive", group.comm);
  }
  // The group must end even after a failed call.
  absl::Status ended = ncclStatus(ncclGroupEnd(), "all_to_all", group.comm);
  return status.ok() ? ended : status;
}

absl::Status NcclJob::wait(CUstream_st *stream, absl::Duration timeout) {
  SY_RETURN_IF_ERROR(usable());
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  std::vector<ncclComm_t> comms = {world_};
  for (const auto &[key, group] : groups_)
    comms.push_back(group.comm);
  for (int polls = 0;; ++polls) {
    const cudaError_t done = cudaStreamQuery(stream);
    if (done == cudaSuccess)
      return absl::OkStatus();
    if (done != cudaErrorNotReady)
      return cudaError(done, "running on the GPU");
    for (ncclComm_t comm : comms) {
      ncclResult_t asyncError = ncclSuccess;
      SY_RETURN_IF_ERROR(ncclStatus(ncclCommGetAsyncError(comm, &asyncError),
                                    "checking for errors", comm));
      if (asyncError != ncclSuccess && asyncError != ncclInProgress) {
        aborted_ = true;
        return ncclStatus(asyncError, "a collective failed", comm);
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      aborted_ = true;
      return absl::DeadlineExceededError(absl::StrCat(
          "rank ", rank_, ": the GPU's work did not finish within ",
          absl::FormatDuration(timeout),
          "; a peer process may have failed or stopped"));
    }
    if (polls > 100)
      std::this_thread::sleep_for(
          std::chrono::microseconds(std::min(1000, 10 * (polls - 100))));
  }
}

} // namespace switchyard::runtime
