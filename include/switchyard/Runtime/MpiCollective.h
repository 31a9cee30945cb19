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
// Test hook: SWITCHYARD_MPI_FAULT=RANK:exit makes rank RANK exit with code 70
// at its first collective call; RANK:stall makes it stop there for good.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_MPICOLLECTIVE_H
#define SWITCHYARD_RUNTIME_MPICOLLECTIVE_H

#include "switchyard/Runtime/Collective.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include <memory>
#include <vector>

namespace switchyard::runtime {

/// This process's membership of an MPI job. MPI is initialized (with
/// MPI_THREAD_MULTIPLE, since every device is a thread) by initialize() and
/// finalized when the object is destroyed; there is at most one per process.
class MpiJob {
public:
  /// Whether an MPI launcher (mpirun, srun) started this process.
  static bool launched();

  /// Initializes MPI.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<MpiJob>> initialize();

  ~MpiJob();

  int rank() const { return rank_; }
  int size() const { return size_; }

  /// The devices this process runs when `mesh` is split evenly over the
  /// job; an error when the mesh size is not a multiple of the job size.
  [[nodiscard]] absl::StatusOr<std::vector<int64_t>>
  localDevices(const Mesh &mesh) const;

  /// One endpoint per device of localDevices(mesh), in that order. Every
  /// process must create its endpoints for the same mesh; endpoints of
  /// successive runs may share the job, one run at a time.
  [[nodiscard]] absl::StatusOr<std::vector<std::unique_ptr<Collective>>>
  createCollectives(const Mesh &mesh, absl::Duration timeout);

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
