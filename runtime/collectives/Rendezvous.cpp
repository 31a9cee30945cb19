//===- Rendezvous.cpp - Processes of a job meet and share a key -----------===//
//
// The wire format, all integers 32-bit little-endian (the processes of a
// launched job run on one machine):
//   process -> server: "SYRV", rank, size, key length, key bytes
//   server -> process: code (0: the key follows, else a reason), length,
//                      bytes
//
//===----------------------------------------------------------------------===//

#include "switchyard/Runtime/Rendezvous.h"

#include "switchyard/Runtime/Status.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

namespace switchyard::runtime {
namespace {

constexpr char kMagic[4] = {'S', 'Y', 'R', 'V'};
/// Keys are NCCL unique ids (128 bytes); anything much longer is not one.
constexpr uint32_t kMaxKeyBytes = 1 << 16;

using Clock = std::chrono::steady_clock;

absl::Status systemError(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

/// Milliseconds left until `deadline`, at least 0.
int millisecondsUntil(Clock::time_point deadline) {
  return static_cast<int>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                               Clock::now())
             .count()));
}

/// Reads exactly `size` bytes from `fd`, waiting at most until `deadline`.
absl::Status readExactly(int fd, void *data, size_t size,
                         Clock::time_point deadline, absl::string_view peer) {
  auto *bytes = static_cast<char *>(data);
  while (size > 0) {
    pollfd entry{fd, POLLIN, 0};
    const int ready = poll(&entry, 1, millisecondsUntil(deadline));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready < 0)
      return systemError(absl::StrCat("waiting for ", peer));
    if (ready == 0)
      return absl::DeadlineExceededError(
          absl::StrCat("timed out waiting for ", peer));
    const ssize_t got = recv(fd, bytes, size, 0);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return systemError(absl::StrCat("reading from ", peer));
    if (got == 0)
      return absl::UnavailableError(
          absl::StrCat(peer, " closed the connection"));
    bytes += got;
    size -= static_cast<size_t>(got);
  }
  return absl::OkStatus();
}

absl::Status writeAll(int fd, const std::string &data, absl::string_view peer) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n =
        send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return systemError(absl::StrCat("writing to ", peer));
    sent += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

void appendWord(std::string &out, uint32_t value) {
  out.append(reinterpret_cast<const char *>(&value), sizeof(value));
}

/// A reply of the server: code 0 and the key, or 1 and a reason.
std::string reply(uint32_t code, const std::string &bytes) {
  std::string message;
  appendWord(message, code);
  appendWord(message, static_cast<uint32_t>(bytes.size()));
  return message + bytes;
}

/// "host:port" split, with a port in [1, 65535].
absl::StatusOr<std::pair<std::string, std::string>>
splitAddress(const std::string &address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 1 ||
      port > 65535)
    return absl::InvalidArgumentError(
        absl::StrCat("rendezvous address '", address, "' is not HOST:PORT"));
  return std::make_pair(address.substr(0, colon), address.substr(colon + 1));
}

/// Connects to `address`, retrying while nothing listens there yet.
absl::StatusOr<int> connectUntil(const std::string &address,
                                 Clock::time_point deadline) {
  SY_ASSIGN_OR_RETURN(auto hostPort, splitAddress(address));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo *found = nullptr;
  if (int rc = getaddrinfo(hostPort.first.c_str(), hostPort.second.c_str(),
                           &hints, &found);
      rc != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("rendezvous address '", address, "': ", gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found,
                                                           &freeaddrinfo);
  while (true) {
    const int fd = socket(found->ai_family, found->ai_socktype, 0);
    if (fd < 0)
      return systemError("creating a socket");
    if (connect(fd, found->ai_addr, found->ai_addrlen) == 0)
      return fd;
    const int error = errno;
    close(fd);
    if (error != ECONNREFUSED && error != EINTR) {
      errno = error;
      return systemError(
          absl::StrCat("connecting to the rendezvous at ", address));
    }
    if (Clock::now() >= deadline)
      return absl::DeadlineExceededError(
          absl::StrCat("nothing listens at the rendezvous address ", address));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

/// Carries out SWITCHYARD_RENDEZVOUS_FAULT (Rendezvous.h) for `rank`.
absl::Status injectFault(int rank) {
  const char *spec = std::getenv("SWITCHYARD_RENDEZVOUS_FAULT");
  if (spec == nullptr || *spec == '\0')
    return absl::OkStatus();
  const std::pair<std::string, std::string> parts = absl::StrSplit(spec, ':');
  int target = 0;
  if (!absl::SimpleAtoi(parts.first, &target) ||
      (parts.second != "exit" && parts.second != "stall"))
    return absl::InvalidArgumentError(
        absl::StrCat("SWITCHYARD_RENDEZVOUS_FAULT='", spec,
                     "' must be RANK:MODE, MODE exit or stall"));
  if (target != rank)
    return absl::OkStatus();
  if (parts.second == "exit")
    std::_Exit(70);
  while (true)
    pause();
}

absl::StatusOr<int> parseVariable(const char *name, int min) {
  const char *text = std::getenv(name);
  int value = 0;
  if (text == nullptr || !absl::SimpleAtoi(text, &value) || value < min)
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be an integer of at least ", min, ", got '",
                     text ? text : "(unset)", "'"));
  return value;
}

} // namespace

absl::StatusOr<std::optional<JobPlace>> jobPlaceFromEnvironment() {
  if (std::getenv(kRankVariable) == nullptr)
    return std::nullopt;
  JobPlace place;
  SY_ASSIGN_OR_RETURN(place.rank, parseVariable(kRankVariable, 0));
  SY_ASSIGN_OR_RETURN(place.size, parseVariable(kWorldSizeVariable, 1));
  if (place.rank >= place.size)
    return absl::InvalidArgumentError(
        absl::StrCat(kRankVariable, " ", place.rank, " is outside ",
                     kWorldSizeVariable, " ", place.size));
  const char *address = std::getenv(kRendezvousVariable);
  if (address == nullptr)
    return absl::InvalidArgumentError(absl::StrCat(
        kRankVariable, " is set but ", kRendezvousVariable, " is not"));
  place.address = address;
  SY_RETURN_IF_ERROR(splitAddress(place.address).status());
  return place;
}

RendezvousServer::RendezvousServer(int socket, std::string address)
    : socket_(socket), address_(std::move(address)) {}

RendezvousServer::~RendezvousServer() { close(socket_); }

absl::StatusOr<std::unique_ptr<RendezvousServer>>
RendezvousServer::listen(const std::string &host) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1)
    return absl::InvalidArgumentError(
        absl::StrCat("rendezvous host '", host, "' is not an IPv4 address"));
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return systemError("creating the rendezvous socket");
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0 ||
      ::listen(fd, SOMAXCONN) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
    absl::Status status = systemError("listening for the rendezvous");
    close(fd);
    return status;
  }
  return std::unique_ptr<RendezvousServer>(new RendezvousServer(
      fd, absl::StrCat(host, ":", ntohs(address.sin_port))));
}

absl::Status RendezvousServer::serve(int size, absl::Duration timeout) {
  const Clock::time_point deadline =
      Clock::now() + absl::ToChronoNanoseconds(timeout);
  /// The connection of each rank that has said hello.
  std::map<int, int> ranks;
  std::string key;
  // Tells every connected process why the rendezvous failed.
  auto fail = [&](absl::Status status) {
    for (const auto &[rank, fd] : ranks) {
      (void)writeAll(fd, reply(1, std::string(status.message())), "a process");
      close(fd);
    }
    return status;
  };
  while (static_cast<int>(ranks.size()) < size) {
    if (cancelled_)
      return fail(absl::CancelledError("the rendezvous was cancelled"));
    if (Clock::now() >= deadline) {
      std::vector<int> missing;
      for (int rank = 0; rank < size; ++rank)
        if (!ranks.count(rank))
          missing.push_back(rank);
      return fail(absl::DeadlineExceededError(
          absl::StrCat("rank(s) ", absl::StrJoin(missing, ", "), " of ", size,
                       " did not arrive at the rendezvous within ",
                       absl::FormatDuration(timeout))));
    }
    pollfd entry{socket_, POLLIN, 0};
    const int ready =
        poll(&entry, 1, std::min(100, millisecondsUntil(deadline)));
    if (ready < 0 && errno != EINTR)
      return fail(systemError("waiting for processes"));
    if (ready <= 0)
      continue;
    const int fd = accept(socket_, nullptr, nullptr);
    if (fd < 0)
      continue;
    // A process sends its hello as soon as it has connected.
    uint32_t hello[4];
    absl::Status status =
        readExactly(fd, hello, sizeof(hello), deadline, "a connecting process");
    std::string bytes;
    if (status.ok() && std::memcmp(hello, kMagic, sizeof(kMagic)) != 0)
      status = absl::InvalidArgumentError(
          "a connection that is not a switchyard process");
    const int rank = static_cast<int>(hello[1]);
    if (status.ok() && hello[3] > kMaxKeyBytes)
      status = absl::InvalidArgumentError(
          absl::StrCat("rank ", rank, " sent a key of ", hello[3], " bytes"));
    if (status.ok()) {
      bytes.resize(hello[3]);
      status = readExactly(fd, bytes.data(), bytes.size(), deadline,
                           absl::StrCat("rank ", rank));
    }
    if (status.ok() && static_cast<int>(hello[2]) != size)
      status = absl::InvalidArgumentError(
          absl::StrCat("rank ", rank, " belongs to a job of ", hello[2],
                       " processes, this rendezvous is for ", size));
    else if (status.ok() && (rank < 0 || rank >= size))
      status = absl::InvalidArgumentError(absl::StrCat(
          "rank ", rank, " is outside a job of ", size, " processes"));
    else if (status.ok() && ranks.count(rank))
      status = absl::InvalidArgumentError(
          absl::StrCat("rank ", rank, " arrived twice"));
    if (!status.ok()) {
      (void)writeAll(fd, reply(1, std::string(status.message())), "a process");
      close(fd);
      return fail(status);
    }
    if (rank == 0)
      key = std::move(bytes);
    ranks[rank] = fd;
  }
  absl::Status sent;
  for (const auto &[rank, fd] : ranks) {
    if (absl::Status status =
            writeAll(fd, reply(0, key), absl::StrCat("rank ", rank));
        !status.ok() && sent.ok())
      sent = status;
    close(fd);
  }
  return sent;
}

absl::StatusOr<std::string> rendezvous(const JobPlace &place,
                                       const std::string &key,
                                       absl::Duration timeout) {
  const Clock::time_point deadline =
      Clock::now() + absl::ToChronoNanoseconds(timeout);
  const std::string where =
      absl::StrCat("rendezvous of rank ", place.rank, " at ", place.address);
  auto inContext = [&](const absl::Status &status) {
    return absl::Status(status.code(),
                        absl::StrCat(where, ": ", status.message()));
  };
  SY_RETURN_IF_ERROR(injectFault(place.rank));
  absl::StatusOr<int> fd = connectUntil(place.address, deadline);
  if (!fd.ok())
    return inContext(fd.status());
  const std::string sentKey = place.rank == 0 ? key : std::string();
  std::string hello(kMagic, sizeof(kMagic));
  appendWord(hello, static_cast<uint32_t>(place.rank));
  appendWord(hello, static_cast<uint32_t>(place.size));
  appendWord(hello, static_cast<uint32_t>(sentKey.size()));
  hello += sentKey;
  absl::Status status = writeAll(*fd, hello, "the rendezvous server");
  uint32_t header[2] = {0, 0};
  if (status.ok())
    status = readExactly(*fd, header, sizeof(header), deadline,
                         "the other processes at the rendezvous");
  std::string bytes;
  if (status.ok() && header[1] > kMaxKeyBytes)
    status = absl::InternalError("the rendezvous server sent a garbled reply");
  if (status.ok()) {
    bytes.resize(header[1]);
    status = readExactly(*fd, bytes.data(), bytes.size(), deadline,
                         "the rendezvous server");
  }
  close(*fd);
  if (!status.ok())
    return inContext(status);
  if (header[0] != 0)
    return absl::FailedPreconditionError(absl::StrCat(where, ": ", bytes));
  return bytes;
}

} // namespace switchyard::runtime
