//===- RendezvousTest.cpp - Tests of the launched processes' rendezvous ---===//
//
// The server and its processes run as threads: every rank gets rank 0's
// key; a wrong job size, a repeated rank, a missing rank and a server that
// never listens each fail with a reason on every side.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Runtime/Rendezvous.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <cstdlib>
#include <thread>
#include <vector>

namespace switchyard::runtime {
namespace {

using ::testing::HasSubstr;

/// Runs a rendezvous of `size` with the processes `ranks` (rank, size each
/// says), returning the server's status and each process's result.
struct Outcome {
  absl::Status server;
  std::vector<absl::StatusOr<std::string>> processes;
};

Outcome meet(int size, const std::vector<std::pair<int, int>> &ranks,
             absl::Duration timeout = absl::Seconds(20)) {
  std::unique_ptr<RendezvousServer> server = *RendezvousServer::listen();
  Outcome outcome;
  outcome.processes.resize(ranks.size(), absl::UnknownError("not run"));
  std::thread serving([&] { outcome.server = server->serve(size, timeout); });
  std::vector<std::thread> processes;
  for (size_t i = 0; i < ranks.size(); ++i)
    processes.emplace_back([&, i] {
      const JobPlace place{ranks[i].first, ranks[i].second, server->address()};
      outcome.processes[i] = rendezvous(
          place, std::string("key\0of rank 0", 13), absl::Seconds(20));
    });
  for (std::thread &process : processes)
    process.join();
  serving.join();
  return outcome;
}

TEST(RendezvousTest, EveryRankGetsRankZerosKey) {
  const Outcome outcome = meet(4, {{2, 4}, {0, 4}, {3, 4}, {1, 4}});
  ASSERT_TRUE(outcome.server.ok()) << outcome.server;
  for (const absl::StatusOr<std::string> &key : outcome.processes) {
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(*key, std::string("key\0of rank 0", 13));
  }
}

TEST(RendezvousTest, WrongJobSize) {
  const Outcome outcome = meet(2, {{1, 3}});
  EXPECT_THAT(outcome.server.message(),
              HasSubstr("rank 1 belongs to a job of 3 processes, this "
                        "rendezvous is for 2"));
  EXPECT_THAT(outcome.processes[0].status().message(),
              HasSubstr("a job of 3 processes"));
}

TEST(RendezvousTest, RankTwice) {
  const Outcome outcome = meet(3, {{1, 3}, {1, 3}});
  EXPECT_THAT(outcome.server.message(), HasSubstr("rank 1 arrived twice"));
  for (const absl::StatusOr<std::string> &key : outcome.processes)
    EXPECT_THAT(key.status().message(), HasSubstr("rank 1 arrived twice"));
}

TEST(RendezvousTest, MissingRankTimesOut) {
  const Outcome outcome = meet(3, {{0, 3}, {2, 3}}, absl::Milliseconds(300));
  EXPECT_EQ(outcome.server.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(outcome.server.message(),
              HasSubstr("rank(s) 1 of 3 did not arrive"));
  for (const absl::StatusOr<std::string> &key : outcome.processes)
    EXPECT_THAT(key.status().message(), HasSubstr("rank(s) 1 of 3"));
}

TEST(RendezvousTest, NobodyListens) {
  std::string address;
  {
    // A port that was free a moment ago.
    address = (*RendezvousServer::listen())->address();
  }
  absl::StatusOr<std::string> key =
      rendezvous({1, 2, address}, "", absl::Milliseconds(200));
  EXPECT_EQ(key.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(key.status().message(), HasSubstr("nothing listens"));
}

TEST(RendezvousTest, Cancel) {
  std::unique_ptr<RendezvousServer> server = *RendezvousServer::listen();
  std::thread cancelling([&] { server->cancel(); });
  EXPECT_EQ(server->serve(2, absl::Seconds(20)).code(),
            absl::StatusCode::kCancelled);
  cancelling.join();
}

TEST(RendezvousTest, PlaceFromEnvironment) {
  unsetenv(kRankVariable);
  EXPECT_EQ(*jobPlaceFromEnvironment(), std::nullopt);
  setenv(kRankVariable, "1", 1);
  setenv(kWorldSizeVariable, "2", 1);
  EXPECT_THAT(jobPlaceFromEnvironment().status().message(),
              HasSubstr("SWITCHYARD_RENDEZVOUS is not"));
  setenv(kRendezvousVariable, "127.0.0.1:4000", 1);
  absl::StatusOr<std::optional<JobPlace>> place = jobPlaceFromEnvironment();
  ASSERT_TRUE(place.ok() && place->has_value()) << place.status();
  EXPECT_EQ((*place)->rank, 1);
  EXPECT_EQ((*place)->size, 2);
  EXPECT_EQ((*place)->address, "127.0.0.1:4000");
  setenv(kRankVariable, "2", 1);
  EXPECT_THAT(
      jobPlaceFromEnvironment().status().message(),
      HasSubstr("SWITCHYARD_RANK 2 is outside SWITCHYARD_WORLD_SIZE 2"));
  setenv(kRankVariable, "x", 1);
  EXPECT_THAT(jobPlaceFromEnvironment().status().message(),
              HasSubstr("SWITCHYARD_RANK must be an integer"));
  setenv(kRankVariable, "0", 1);
  setenv(kRendezvousVariable, "nohost", 1);
  EXPECT_THAT(jobPlaceFromEnvironment().status().message(),
              HasSubstr("is not HOST:PORT"));
  for (const char *name :
       {kRankVariable, kWorldSizeVariable, kRendezvousVariable})
    unsetenv(name);
}

} // namespace
} // namespace switchyard::runtime
