//===- Rendezvous.h - Processes of a job meet and share a key ---*- C++ -*-===//
//
// How the processes of a job that no MPI launcher started find each other:
// a server (the launcher of `switchyard run --launch N`) listens on a TCP
// address; every process connects, says its rank and the job size, and
// rank 0 also sends a key (the NCCL unique id). Once all N ranks have
// arrived, each receives the key. So the rendezvous is both a broadcast and
// a barrier, as torchrun's store is for PyTorch's NCCL process groups.
//
// A process learns its place from the environment the launcher sets:
// SWITCHYARD_RANK, SWITCHYARD_WORLD_SIZE and SWITCHYARD_RENDEZVOUS
// (host:port).
//
// Test hook: SWITCHYARD_RENDEZVOUS_FAULT=RANK:MODE makes rank RANK fail on
// purpose when it comes to the rendezvous. MODE exit: exit with code 70;
// stall: stop there for good.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_RENDEZVOUS_H
#define SWITCHYARD_RUNTIME_RENDEZVOUS_H

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace switchyard::runtime {

/// The environment variables of a launched process.
inline constexpr char kRankVariable[] = "SWITCHYARD_RANK";
inline constexpr char kWorldSizeVariable[] = "SWITCHYARD_WORLD_SIZE";
inline constexpr char kRendezvousVariable[] = "SWITCHYARD_RENDEZVOUS";

/// A process's place in a launched job.
struct JobPlace {
  int rank = 0;
  int size = 1;
  /// The rendezvous server, host:port.
  std::string address;
};

/// The place the environment gives this process: nullopt when
/// SWITCHYARD_RANK is unset, an error when the variables are incomplete or
/// malformed.
[[nodiscard]] absl::StatusOr<std::optional<JobPlace>> jobPlaceFromEnvironment();

/// The launcher's side: one rendezvous of `size` processes.
class RendezvousServer {
public:
  /// Listens on `host` at a port the system picks.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RendezvousServer>>
  listen(const std::string &host = "127.0.0.1");

  ~RendezvousServer();

  /// host:port, for SWITCHYARD_RENDEZVOUS.
  const std::string &address() const { return address_; }

  /// Waits until ranks 0 .. size - 1 have all connected, then sends every
  /// one rank 0's key. Fails, telling the connected processes why, when a
  /// process gives another job size, a rank outside it or a rank already
  /// seen; after `timeout` (DeadlineExceeded, naming the missing ranks); or
  /// once cancel() is called (Cancelled).
  [[nodiscard]] absl::Status serve(int size, absl::Duration timeout);

  /// Makes a serve() in progress (in another thread) return soon.
  void cancel() { cancelled_ = true; }

private:
  RendezvousServer(int socket, std::string address);

  int socket_;
  std::string address_;
  std::atomic<bool> cancelled_{false};
};

/// A process's side: connects to the server at `place.address` (retrying
/// until it listens), gives its rank and the job size, and returns rank 0's
/// key, which is `key` on rank 0 (and `key` is ignored elsewhere). Fails
/// after `timeout`, with the server's reason, or for a malformed
/// SWITCHYARD_RENDEZVOUS_FAULT.
[[nodiscard]] absl::StatusOr<std::string> rendezvous(const JobPlace &place,
                                                     const std::string &key,
                                                     absl::Duration timeout);

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_RENDEZVOUS_H
