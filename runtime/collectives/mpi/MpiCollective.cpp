//===- MpiCollective.cpp - Collectives across MPI processes ---------------===//
//
// Every operation is one or two exchanges: each member posts a receive from
// and a send to every other member of its group, then polls all of them
// against the deadline. Blocks are packed into and unpacked from contiguous
// staging buffers that the endpoint keeps across calls.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Runtime/MpiCollective.h"

#include "runtime/collectives/OpKind.h"
#include "runtime/collectives/Reduce.h"
#include "switchyard/Runtime/Status.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include <mpi.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iterator>
#include <mutex>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

namespace switchyard::runtime {

/// What SWITCHYARD_MPI_FAULT asks a rank to do (MpiCollective.h).
enum class Fault { None, Exit, Stall, Throw, Kill };

struct MpiJob::Shared {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  int nodeRank = 0;
  Fault fault = Fault::None;
  /// The terminate handler before initialize(), restored by ~MpiJob.
  std::terminate_handler previousTerminate = nullptr;

  /// Exchanges of this process's devices that have completed, for
  /// Fault::Kill.
  std::atomic<int64_t> exchanges{0};
  std::atomic<bool> broken{false};
  std::mutex mu;
  /// The first failure; guarded by `mu`.
  absl::Status failure;
  /// Staging buffers of failed calls, which MPI may still write into.
  std::vector<std::vector<std::byte>> abandoned;

  void fail(absl::Status status, std::vector<std::byte> &a,
            std::vector<std::byte> &b) {
    std::lock_guard<std::mutex> lock(mu);
    if (failure.ok())
      failure = std::move(status);
    abandoned.push_back(std::move(a));
    abandoned.push_back(std::move(b));
    broken = true;
  }
};

namespace {

absl::Status mpiError(absl::string_view what, int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return absl::InternalError(
      absl::StrCat(what, ": ", absl::string_view(text, length)));
}

using Deadline = std::chrono::steady_clock::time_point;

Deadline deadlineAfter(absl::Duration timeout) {
  return std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
}

/// Waits for `requests` until `deadline`, polling and backing off to short
/// sleeps so that oversubscribed ranks leave the cores to their peers.
/// Returns whether all of them completed; an MPI error names `what`.
absl::StatusOr<bool> waitUntil(std::vector<MPI_Request> &requests,
                               Deadline deadline, absl::string_view what) {
  for (int polls = 0;; ++polls) {
    int done = 0;
    if (int rc = MPI_Testall(static_cast<int>(requests.size()),
                             requests.data(), &done, MPI_STATUSES_IGNORE);
        rc != MPI_SUCCESS)
      return mpiError(what, rc);
    if (done)
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    if (polls > 100)
      std::this_thread::sleep_for(
          std::chrono::microseconds(std::min(1000, 10 * (polls - 100))));
  }
}

/// Waits for `request`, a call every rank makes, until `deadline`; a timeout
/// fails it with "WHERE: timed out after TIMEOUT waiting for ranks that
/// WHY". A failure breaks the job, which keeps `a` and `b`, since MPI may
/// still write into them.
absl::Status awaitJobCall(MpiJob::Shared &shared,
                          std::vector<MPI_Request> &request, Deadline deadline,
                          absl::Duration timeout, absl::string_view where,
                          absl::string_view why, std::vector<std::byte> &a,
                          std::vector<std::byte> &b) {
  absl::StatusOr<bool> done = waitUntil(request, deadline, where);
  if (done.ok() && !*done)
    done = absl::DeadlineExceededError(
        absl::StrCat(where, ": timed out after ", absl::FormatDuration(timeout),
                     " waiting for ranks that ", why));
  if (!done.ok()) {
    shared.fail(done.status(), a, b);
    return done.status();
  }
  return absl::OkStatus();
}

/// One message of an exchange: `bytes` bytes to or from group member
/// `member`.
struct Transfer {
  int64_t member;
  std::byte *data;
  int64_t bytes;
};

/// Copies block `index` of `n` (by `layout`) of `src` to the contiguous
/// `dst`, or back with `unpack`.
void moveBlock(std::byte *buffer, BlockLayout layout, int64_t n, int64_t index,
               std::byte *contiguous, size_t elementSize, bool unpack) {
  const size_t run = layout.inner * elementSize;
  if (run == 0) // Empty blocks may have null buffers.
    return;
  for (int64_t row = 0; row < layout.outer; ++row) {
    std::byte *strided = buffer + (row * n + index) * run;
    std::byte *packed = contiguous + row * run;
    if (unpack)
      std::memcpy(strided, packed, run);
    else
      std::memcpy(packed, strided, run);
  }
}

class MpiCollective final : public Collective {
public:
  MpiCollective(std::shared_ptr<MpiJob::Shared> shared, Mesh mesh,
                int64_t device, int64_t devicesPerProcess,
                absl::Duration timeout)
      : shared_(std::move(shared)), mesh_(std::move(mesh)), device_(device),
        devicesPerProcess_(devicesPerProcess), timeout_(timeout) {}

  const Mesh &mesh() const override { return mesh_; }
  int64_t rank() const override { return device_; }

  absl::Status allReduce(absl::Span<const int> axes, DType dtype,
                         const void *in, void *out, int64_t count,
                         ReduceOp op) override {
    SY_RETURN_IF_ERROR(
        begin(CollectiveOpKind::AllReduce, axes, dtype, {1, count}, {1, count}, in, out));
    // Member i reduces chunk i of the elements in group order, then every
    // member gathers the reduced chunks.
    const int64_t n = members_.size(), elementSize = dtypeSize(dtype);
    auto chunk = [&](int64_t i) { return count * i / n * elementSize; };
    const int64_t mine = chunk(index_), mineBytes = chunk(index_ + 1) - mine;
    auto *input = static_cast<std::byte *>(const_cast<void *>(in));
    auto *output = static_cast<std::byte *>(out);
    recv_.resize(n * mineBytes);
    std::vector<Transfer> sends, recvs;
    for (int64_t i = 0; i < n; ++i) {
      sends.push_back({i, input + chunk(i), chunk(i + 1) - chunk(i)});
      recvs.push_back({i, recv_.data() + i * mineBytes, mineBytes});
    }
    SY_RETURN_IF_ERROR(exchange(sends, recvs));
    std::vector<const std::byte *> inputs;
    for (int64_t i = 0; i < n; ++i)
      inputs.push_back(recv_.data() + i * mineBytes);
    reduceInOrder(dtype, inputs, output + mine, mineBytes / elementSize, op);
    sends.clear();
    recvs.clear();
    for (int64_t i = 0; i < n; ++i) {
      sends.push_back({i, output + mine, mineBytes});
      recvs.push_back({i, output + chunk(i), chunk(i + 1) - chunk(i)});
    }
    return exchange(sends, recvs);
  }

  absl::Status allGather(absl::Span<const int> axes, DType dtype,
                         const void *in, void *out,
                         BlockLayout outLayout) override {
    SY_RETURN_IF_ERROR(begin(CollectiveOpKind::AllGather, axes, dtype,
                             {1, outLayout.blockSize()}, outLayout, in, out));
    const int64_t n = members_.size(), elementSize = dtypeSize(dtype);
    const int64_t bytes = outLayout.blockSize() * elementSize;
    recv_.resize(n * bytes);
    std::vector<Transfer> sends, recvs;
    for (int64_t i = 0; i < n; ++i) {
      sends.push_back(
          {i, static_cast<std::byte *>(const_cast<void *>(in)), bytes});
      recvs.push_back({i, recv_.data() + i * bytes, bytes});
    }
    SY_RETURN_IF_ERROR(exchange(sends, recvs));
    for (int64_t i = 0; i < n; ++i)
      moveBlock(static_cast<std::byte *>(out), outLayout, n, i,
                recv_.data() + i * bytes, elementSize, true);
    return absl::OkStatus();
  }

  absl::Status reduceScatter(absl::Span<const int> axes, DType dtype,
                             const void *in, BlockLayout inLayout, void *out,
                             ReduceOp op) override {
    SY_RETURN_IF_ERROR(begin(CollectiveOpKind::ReduceScatter, axes, dtype, inLayout,
                             {1, inLayout.blockSize()}, in, out));
    SY_RETURN_IF_ERROR(scatterBlocks(dtype, in, inLayout));
    const int64_t n = members_.size(), elementSize = dtypeSize(dtype);
    const int64_t bytes = inLayout.blockSize() * elementSize;
    std::vector<const std::byte *> inputs;
    for (int64_t i = 0; i < n; ++i)
      inputs.push_back(recv_.data() + i * bytes);
    reduceInOrder(dtype, inputs, static_cast<std::byte *>(out),
                  inLayout.blockSize(), op);
    return absl::OkStatus();
  }

  absl::Status allToAll(absl::Span<const int> axes, DType dtype, const void *in,
                        BlockLayout inLayout, void *out,
                        BlockLayout outLayout) override {
    SY_RETURN_IF_ERROR(
        begin(CollectiveOpKind::AllToAll, axes, dtype, inLayout, outLayout, in, out));
    if (inLayout.blockSize() != outLayout.blockSize())
      return absl::InvalidArgumentError(
          absl::StrCat("all_to_all on device ", device_, ": input blocks of ",
                       inLayout.blockSize(), " elements but output blocks of ",
                       outLayout.blockSize()));
    SY_RETURN_IF_ERROR(scatterBlocks(dtype, in, inLayout));
    const int64_t n = members_.size(), elementSize = dtypeSize(dtype);
    const int64_t bytes = outLayout.blockSize() * elementSize;
    for (int64_t i = 0; i < n; ++i)
      moveBlock(static_cast<std::byte *>(out), outLayout, n, i,
                recv_.data() + i * bytes, elementSize, true);
    return absl::OkStatus();
  }

private:
  /// The MPI rank that runs `device`.
  int owner(int64_t device) const {
    return static_cast<int>(device / devicesPerProcess_);
  }

  /// Each (sender, receiver) pair of devices has its own tag, so messages
  /// between two devices arrive in the order they were sent.
  int tag(int64_t from, int64_t to) const {
    return static_cast<int>(from * mesh_.deviceCount() + to);
  }

  std::string where() const {
    return absl::StrCat(opName(kind_), " on device ", device_,
                        " over mesh axes [", absl::StrJoin(axes_, ", "),
                        "] of mesh ", mesh_.toString());
  }

  /// Checks the arguments, finds this device's group and acts on a fault
  /// injected for tests.
  absl::Status begin(CollectiveOpKind kind, absl::Span<const int> axes, DType dtype,
                     BlockLayout in, BlockLayout out, const void *input,
                     const void *output) {
    kind_ = kind;
    axes_.assign(axes.begin(), axes.end());
    auto error = [&](absl::string_view message) {
      return absl::InvalidArgumentError(
          absl::StrCat(opName(kind), " on device ", device_, ": ", message));
    };
    if (shared_->broken) {
      std::lock_guard<std::mutex> lock(shared_->mu);
      return absl::AbortedError(
          absl::StrCat(where(), ": the job's collectives failed earlier: ",
                       shared_->failure.message()));
    }
    injectFault();
    if (absl::Status status = mesh_.checkAxes(axes); !status.ok())
      return error(status.message());
    const bool reduction = isReduction(kind);
    if (reduction && dtype != DType::F32 && dtype != DType::I32 &&
        dtype != DType::I64)
      return error(absl::StrCat("cannot reduce ", dtypeName(dtype),
                                " (supported: f32, i32, i64)"));
    members_ = mesh_.group(device_, axes);
    index_ = mesh_.groupRank(device_, axes);
    const int64_t n = members_.size();
    for (const BlockLayout &layout : {in, out}) {
      int64_t size;
      if (layout.outer < 0 || layout.inner < 0 ||
          __builtin_mul_overflow(layout.outer, layout.inner, &size) ||
          __builtin_mul_overflow(size, n * int64_t(dtypeSize(dtype)), &size) ||
          size > INT_MAX)
        return error(absl::StrCat("invalid or over 2 GiB buffer layout {",
                                  layout.outer, " x ", layout.inner, "}"));
    }
    if ((in.blockSize() > 0 && !input) ||
        ((in.blockSize() > 0 || out.blockSize() > 0) && !output))
      return error("null buffer");
    return absl::OkStatus();
  }

  /// Acts on SWITCHYARD_MPI_FAULT for this rank at the start of a call.
  void injectFault() {
    const int rank = shared_->rank;
    switch (shared_->fault) {
    case Fault::None:
      return;
    case Fault::Exit:
      std::fprintf(stderr, "switchyard: SWITCHYARD_MPI_FAULT: rank %d exits\n",
                   rank);
      std::fflush(stderr);
      std::_Exit(70);
    case Fault::Stall:
      for (;;)
        std::this_thread::sleep_for(std::chrono::hours(1));
    case Fault::Throw:
      throw std::runtime_error(
          absl::StrCat("SWITCHYARD_MPI_FAULT: rank ", rank, " throws"));
    case Fault::Kill:
      if (shared_->exchanges == 0)
        return;
      std::fprintf(stderr,
                   "switchyard: SWITCHYARD_MPI_FAULT: rank %d kills itself\n",
                   rank);
      std::fflush(stderr);
      std::raise(SIGKILL);
    }
  }

  /// Sends block i of `in` (by `layout`) to member i and receives block
  /// `index_` of every member's into block i of `recv_`.
  absl::Status scatterBlocks(DType dtype, const void *in, BlockLayout layout) {
    const int64_t n = members_.size(), elementSize = dtypeSize(dtype);
    const int64_t bytes = layout.blockSize() * elementSize;
    send_.resize(n * bytes);
    recv_.resize(n * bytes);
    std::vector<Transfer> sends, recvs;
    for (int64_t i = 0; i < n; ++i) {
      moveBlock(static_cast<std::byte *>(const_cast<void *>(in)), layout, n, i,
                send_.data() + i * bytes, elementSize, false);
      sends.push_back({i, send_.data() + i * bytes, bytes});
      recvs.push_back({i, recv_.data() + i * bytes, bytes});
    }
    return exchange(sends, recvs);
  }

  /// Performs `sends` and `recvs` (one per member; this device's own pair is
  /// a copy) and waits for them until the deadline.
  absl::Status exchange(const std::vector<Transfer> &sends,
                        const std::vector<Transfer> &recvs) {
    const Deadline deadline = deadlineAfter(timeout_);
    std::vector<MPI_Request> requests;
    std::vector<int64_t> peers;
    auto failed = [&](absl::Status status) {
      shared_->fail(status, send_, recv_);
      return status;
    };
    for (const Transfer &t : recvs) {
      if (t.member == index_)
        continue;
      const int64_t peer = members_[t.member];
      requests.emplace_back();
      peers.push_back(peer);
      if (int rc = MPI_Irecv(t.data, static_cast<int>(t.bytes), MPI_BYTE,
                             owner(peer), tag(peer, device_), shared_->comm,
                             &requests.back());
          rc != MPI_SUCCESS)
        return failed(mpiError(where(), rc));
    }
    for (const Transfer &t : sends) {
      if (t.member == index_) {
        // An empty block's buffers may be null.
        if (t.bytes > 0 && recvs[t.member].data != t.data)
          std::memcpy(recvs[t.member].data, t.data, t.bytes);
        continue;
      }
      const int64_t peer = members_[t.member];
      requests.emplace_back();
      peers.push_back(peer);
      if (int rc = MPI_Isend(t.data, static_cast<int>(t.bytes), MPI_BYTE,
                             owner(peer), tag(device_, peer), shared_->comm,
                             &requests.back());
          rc != MPI_SUCCESS)
        return failed(mpiError(where(), rc));
    }
    absl::StatusOr<bool> done = waitUntil(requests, deadline, where());
    if (!done.ok())
      return failed(done.status());
    if (*done) {
      ++shared_->exchanges;
      return absl::OkStatus();
    }
    std::set<int64_t> missing;
    std::set<int> ranks;
    for (size_t r = 0; r < requests.size(); ++r) {
      int done = 0;
      MPI_Test(&requests[r], &done, MPI_STATUS_IGNORE);
      if (!done) {
        missing.insert(peers[r]);
        ranks.insert(owner(peers[r]));
      }
    }
    return failed(absl::DeadlineExceededError(absl::StrCat(
        where(), ": timed out after ", absl::FormatDuration(timeout_),
        " waiting for devices [", absl::StrJoin(missing, ", "), "] (MPI rank ",
        absl::StrJoin(ranks, ", "), ")")));
  }

  std::shared_ptr<MpiJob::Shared> shared_;
  const Mesh mesh_;
  const int64_t device_;
  const int64_t devicesPerProcess_;
  const absl::Duration timeout_;
  /// The current call.
  CollectiveOpKind kind_ = CollectiveOpKind::AllReduce;
  std::vector<int> axes_;
  std::vector<int64_t> members_;
  int64_t index_ = 0;
  /// Staging buffers, kept across calls.
  std::vector<std::byte> send_, recv_;
};

/// Parses SWITCHYARD_MPI_FAULT for rank `rank`.
absl::StatusOr<Fault> faultFor(int rank) {
  const char *spec = std::getenv("SWITCHYARD_MPI_FAULT");
  if (!spec || !*spec)
    return Fault::None;
  std::pair<std::string, std::string> parts = absl::StrSplit(spec, ':');
  static const std::pair<const char *, Fault> modes[] = {
      {"exit", Fault::Exit},
      {"stall", Fault::Stall},
      {"throw", Fault::Throw},
      {"kill", Fault::Kill}};
  int target;
  const auto mode =
      std::find_if(std::begin(modes), std::end(modes),
                   [&](const auto &m) { return parts.second == m.first; });
  if (!absl::SimpleAtoi(parts.first, &target) || mode == std::end(modes))
    return absl::InvalidArgumentError(
        absl::StrCat("SWITCHYARD_MPI_FAULT='", spec,
                     "' must be RANK:MODE, MODE one of exit, stall, throw, "
                     "kill"));
  return target == rank ? mode->second : Fault::None;
}

/// The terminate handler of a process in an MPI job: an exception that
/// escapes (on a device thread, say) ends the job naming this rank and the
/// exception, as a failed run does, rather than leaving it to the launcher
/// to report a process killed by SIGABRT.
[[noreturn]] void abortJobOnTerminate() {
  std::string what = "std::terminate called without an active exception";
  if (std::exception_ptr exception = std::current_exception()) {
    try {
      std::rethrow_exception(exception);
    } catch (const std::exception &error) {
      what = absl::StrCat("uncaught exception: ", error.what());
    } catch (...) {
      what = "uncaught exception of a type not derived from std::exception";
    }
  }
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::fprintf(stderr, "switchyard: rank %d: %s\n", rank, what.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

} // namespace

bool MpiJob::launched() {
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(name))
      return true;
  return false;
}

MpiJob::MpiJob(int rank, int size, std::shared_ptr<Shared> shared)
    : rank_(rank), size_(size), shared_(std::move(shared)) {}

absl::StatusOr<std::unique_ptr<MpiJob>> MpiJob::initialize() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized)
    return absl::FailedPreconditionError("MPI is already initialized");
  int provided = 0;
  if (int rc =
          MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
      rc != MPI_SUCCESS)
    return mpiError("MPI_Init_thread", rc);
  if (provided < MPI_THREAD_MULTIPLE) {
    MPI_Finalize();
    return absl::FailedPreconditionError(
        "this MPI library does not support MPI_THREAD_MULTIPLE, which the "
        "device threads need");
  }
  auto shared = std::make_shared<Shared>();
  MPI_Comm_rank(MPI_COMM_WORLD, &shared->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &shared->size);
  MPI_Comm_dup(MPI_COMM_WORLD, &shared->comm);
  MPI_Comm_set_errhandler(shared->comm, MPI_ERRORS_RETURN);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, shared->rank,
                      MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &shared->nodeRank);
  MPI_Comm_free(&node);
  absl::StatusOr<Fault> fault = faultFor(shared->rank);
  if (!fault.ok()) {
    MPI_Comm_free(&shared->comm);
    MPI_Finalize();
    return fault.status();
  }
  shared->fault = *fault;
  shared->previousTerminate = std::set_terminate(abortJobOnTerminate);
  const int rank = shared->rank, size = shared->size;
  return std::unique_ptr<MpiJob>(new MpiJob(rank, size, std::move(shared)));
}

MpiJob::~MpiJob() {
  std::set_terminate(shared_->previousTerminate);
  MPI_Comm_free(&shared_->comm);
  MPI_Finalize();
}

std::vector<std::string> MpiJob::localLaunchCommand(int processes) {
  const char *mpiexec = SWITCHYARD_MPIEXEC;
  std::vector<std::string> command = {
      access(mpiexec, X_OK) == 0 ? mpiexec : "mpiexec", "-np",
      std::to_string(processes)};
#ifdef OMPI_MAJOR_VERSION
  command.push_back("--oversubscribe");
  if (geteuid() == 0)
    command.push_back("--allow-run-as-root");
#endif
  return command;
}

absl::StatusOr<int64_t> MpiJob::devicesPerProcess(const Mesh &mesh,
                                                  int processes) {
  const int64_t devices = mesh.deviceCount();
  if (processes < 1 || devices % processes != 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "the mesh ", mesh.toString(), " has ", devices,
        " devices, which do not split evenly over ", processes,
        " MPI processes; run with a number of processes that divides ",
        devices));
  return devices / processes;
}

absl::StatusOr<std::vector<int64_t>>
MpiJob::localDevices(const Mesh &mesh) const {
  SY_ASSIGN_OR_RETURN(const int64_t perProcess,
                      devicesPerProcess(mesh, size_));
  std::vector<int64_t> local;
  for (int64_t d = 0; d < perProcess; ++d)
    local.push_back(rank_ * perProcess + d);
  return local;
}

absl::StatusOr<std::vector<std::unique_ptr<Collective>>>
MpiJob::createCollectives(const Mesh &mesh, absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration())
    return absl::InvalidArgumentError(
        "the collective timeout must be positive");
  SY_ASSIGN_OR_RETURN(std::vector<int64_t> local, localDevices(mesh));
  int *tagBound = nullptr;
  int found = 0;
  MPI_Comm_get_attr(shared_->comm, MPI_TAG_UB, &tagBound, &found);
  const int64_t devices = mesh.deviceCount();
  if (!found || devices * devices > int64_t(*tagBound) + 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "a mesh of ", devices, " devices needs more MPI tags than the ",
        found ? *tagBound : 0, " this MPI library offers"));
  std::vector<std::unique_ptr<Collective>> endpoints;
  for (int64_t device : local)
    endpoints.push_back(std::make_unique<MpiCollective>(
        shared_, mesh, device, static_cast<int64_t>(local.size()), timeout));
  return endpoints;
}

absl::Status MpiJob::sumStats(RunStats &stats, absl::Duration timeout) {
  const Deadline deadline = deadlineAfter(timeout);
  // Both buffers outlive a call that times out (Shared::abandoned), since
  // MPI may still write into them.
  std::vector<std::byte> send, recv;
  // Reduces `values` over the job into themselves with `op`.
  auto reduce = [&](std::vector<int64_t> &values, MPI_Op op,
                    absl::string_view what) -> absl::Status {
    const size_t bytes = values.size() * sizeof(int64_t);
    send.resize(bytes);
    recv.resize(bytes);
    std::memcpy(send.data(), values.data(), bytes);
    std::vector<MPI_Request> request(1);
    const std::string where = absl::StrCat("summing ", what, " over the ranks");
    if (int rc = MPI_Iallreduce(send.data(), recv.data(),
                                static_cast<int>(values.size()), MPI_INT64_T,
                                op, shared_->comm, request.data());
        rc != MPI_SUCCESS)
      return mpiError(where, rc);
    SY_RETURN_IF_ERROR(awaitJobCall(*shared_, request, deadline, timeout,
                                    where, "did not finish the run", send,
                                    recv));
    std::memcpy(values.data(), recv.data(), bytes);
    return absl::OkStatus();
  };

  const int64_t kinds = stats.opTimes.size();
  const int64_t devices = stats.collectives[0].bytesPerDevice.size();
  for (const CollectiveStats &kind : stats.collectives)
    if (static_cast<int64_t>(kind.bytesPerDevice.size()) != devices)
      return absl::InternalError(
          "summing statistics over the ranks: collective kinds count "
          "different devices");
  // First the shapes, so that the sums below have equal lengths everywhere.
  std::vector<int64_t> maxima = {absl::ToInt64Nanoseconds(stats.wallTime),
                                 kinds, -kinds, devices, -devices};
  SY_RETURN_IF_ERROR(reduce(maxima, MPI_MAX, "the wall time"));
  if (maxima[1] != -maxima[2] || maxima[3] != -maxima[4])
    return absl::InternalError(
        "summing statistics over the ranks: the ranks timed different op "
        "kinds or counted different devices");
  stats.wallTime = absl::Nanoseconds(maxima[0]);

  std::vector<int64_t> sums;
  for (const CollectiveStats &kind : stats.collectives)
    sums.insert(sums.end(), kind.bytesPerDevice.begin(),
                kind.bytesPerDevice.end());
  for (const OpKindTime &op : stats.opTimes) {
    sums.push_back(op.count);
    sums.push_back(absl::ToInt64Nanoseconds(op.time));
  }
  SY_RETURN_IF_ERROR(reduce(sums, MPI_SUM, "the statistics"));
  auto next = sums.begin();
  for (CollectiveStats &kind : stats.collectives) {
    std::copy(next, next + devices, kind.bytesPerDevice.begin());
    next += devices;
    kind.bytes = std::accumulate(kind.bytesPerDevice.begin(),
                                 kind.bytesPerDevice.end(), int64_t(0));
  }
  for (OpKindTime &op : stats.opTimes) {
    op.count = *next++;
    op.time = absl::Nanoseconds(*next++);
  }
  return absl::OkStatus();
}

int MpiJob::nodeRank() const { return shared_->nodeRank; }

absl::Status MpiJob::broadcast(std::string &bytes, absl::Duration timeout) {
  const Deadline deadline = deadlineAfter(timeout);
  // Both buffers outlive a call that times out (Shared::abandoned), since
  // MPI may still write into them.
  std::vector<std::byte> size(sizeof(int64_t)), data;
  auto step = [&](std::vector<std::byte> &buffer) -> absl::Status {
    std::vector<MPI_Request> request(1);
    const std::string where = "broadcasting from rank 0";
    if (int rc = MPI_Ibcast(buffer.data(), static_cast<int>(buffer.size()),
                            MPI_BYTE, 0, shared_->comm, request.data());
        rc != MPI_SUCCESS)
      return mpiError(where, rc);
    return awaitJobCall(*shared_, request, deadline, timeout, where,
                        "did not arrive", size, data);
  };
  const int64_t length = static_cast<int64_t>(bytes.size());
  std::memcpy(size.data(), &length, sizeof(length));
  SY_RETURN_IF_ERROR(step(size));
  int64_t received = 0;
  std::memcpy(&received, size.data(), sizeof(received));
  data.resize(received);
  if (shared_->rank == 0)
    std::memcpy(data.data(), bytes.data(), bytes.size());
  SY_RETURN_IF_ERROR(step(data));
  bytes.assign(reinterpret_cast<const char *>(data.data()), data.size());
  return absl::OkStatus();
}

void MpiJob::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

} // namespace switchyard::runtime
