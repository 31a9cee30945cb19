//===- MpiCollective.h - Collectives across MPI processes -------*- C++ -*-===//
//
// The `mpi` collectives: the devices of a mesh are spread over the processes
// of an MPI job, P processes with V = devices / P consecutive devices each
// (rank r runs devices [r V, (r + 1) V), so with V = 1 the rank is the
// device id). Every device keeps its own endpoint, as with the `local`
// collectives, and the same executable runs on every rank.
//
// Devices exchange their blocks point to point over one communicator of the
// job, each (sender, receiver) pair on its own tag, whether the peer is in
// this process (hybrid P x V meshes) or another. A group therefore needs no
// communicator of its own: with V > 1 one process's devices sit in several
// groups of the same axes, which MPI_Comm_split cannot express. Reductions
// combine the members' values in group order with the same code as the
// `local` collectives, so results are bit-identical to an in-process run.
//
// Every wait polls its requests against a deadline: a member that does not
// answer makes the call fail with DeadlineExceeded naming the missing devices
// and their ranks, and every later call of the process fails with Aborted.
// After a failure the caller must end the job (MpiJob::abort); the pending
// messages are not drained.
//
// Test hook: SWITCHYARD_MPI_FAULT=RANK:MODE makes rank RANK fail on purpose.
// MODE exit: exit with code 70 at its first collective call; stall: stop
// there for good; throw: throw an exception nothing catches there (as a
// failed allocation would); kill: SIGKILL itself at its first collective
// call after one of its exchanges has completed, i.e. mid-run.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_MPICOLLECTIVE_H
#define SWITCHYARD_RUNTIME_MPICOLLECTIVE_H

#include "switchyard/Runtime/Collective.h"
#include "switchyard/Runtime/Session.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include <memory>
#include <string>
#include <vector>

namespace switchyard::runtime {

/// This process's membership of an MPI job. MPI is initialized (with
/// MPI_THREAD_MULTIPLE, since every device is a thread) by initialize() and
/// finalized when the object is destroyed; there is at most one per process.
/// While it lives, an exception that nothing catches ends the whole job
/// (MPI_Abort) with "switchyard: rank R: uncaught exception: ..." .
class MpiJob {
public:
  /// Whether an MPI launcher (mpirun, srun) started this process.
  static bool launched();

  /// The command line that starts `processes` local processes of a new MPI
  /// job, to be followed by the program and its arguments: the `mpiexec` of
  /// the MPI library switchyard was built with (found at configure time;
  /// "mpiexec" on PATH if it has gone since), `-np N`, and for OpenMPI
  /// `--oversubscribe` (more processes than cores) and, when run as root,
  /// `--allow-run-as-root`. The processes then meet through the launcher
  /// (MPI_Init), as an NCCL path does before broadcasting its id over MPI.
  static std::vector<std::string> localLaunchCommand(int processes);

  /// How many devices of `mesh` each of `processes` processes runs; an error
  /// when the mesh size is not a multiple of `processes`.
  [[nodiscard]] static absl::StatusOr<int64_t>
  devicesPerProcess(const Mesh &mesh, int processes);

  /// Initializes MPI.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<MpiJob>> initialize();

  ~MpiJob();

  int rank() const { return rank_; }
  int size() const { return size_; }
  /// This process's rank among the job's processes on its machine (which
  /// GPU it takes).
  int nodeRank() const;

  /// Gives every rank rank 0's `bytes` (a collective call); a rank that
  /// does not arrive within `timeout` makes it fail (DeadlineExceeded).
  [[nodiscard]] absl::Status broadcast(std::string &bytes,
                                       absl::Duration timeout);

  /// The devices this process runs when `mesh` is split evenly over the
  /// job; an error when the mesh size is not a multiple of the job size.
  [[nodiscard]] absl::StatusOr<std::vector<int64_t>>
  localDevices(const Mesh &mesh) const;

  /// One endpoint per device of localDevices(mesh), in that order. Every
  /// process must create its endpoints for the same mesh; endpoints of
  /// successive runs may share the job, one run at a time.
  [[nodiscard]] absl::StatusOr<std::vector<std::unique_ptr<Collective>>>
  createCollectives(const Mesh &mesh, absl::Duration timeout);

  /// Makes `stats` of one run the job's: collective bytes (per device and in
  /// all) and op times are summed over the ranks, the wall time is the
  /// slowest rank's. Every rank must call it after the same run; a rank that
  /// does not arrive within `timeout` makes it fail (DeadlineExceeded).
  [[nodiscard]] absl::Status sumStats(RunStats &stats, absl::Duration timeout);

  /// Ends every process of the job with exit code `code` (MPI_Abort).
  [[noreturn]] void abort(int code);

  /// The state the job shares with its endpoints (MpiCollective.cpp).
  struct Shared;

private:
  MpiJob(int rank, int size, std::shared_ptr<Shared> shared);

  int rank_;
  int size_;
  std::shared_ptr<Shared> shared_;
};

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_MPICOLLECTIVE_H
