//===- LocalJob.cpp - switchyard run --launch without MPI -----------------===//

#include "LocalJob.h"

#include "switchyard/Runtime/Rendezvous.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "llvm/Support/raw_ostream.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

extern char **environ;

namespace switchyard::driver {
namespace {

/// The processes' ids, for the signal handler (0: ended or not started).
constexpr int kMaxProcesses = 4096;
pid_t processIds[kMaxProcesses];
volatile sig_atomic_t processCount = 0;

void passOn(int signal) {
  for (int i = 0; i < processCount; ++i)
    if (processIds[i] > 0)
      kill(processIds[i], signal);
}

/// How a process ended, and the exit code that stands for it.
std::pair<std::string, int> describeEnd(int status) {
  if (WIFSIGNALED(status))
    return {absl::StrCat("was ended by signal ", WTERMSIG(status), " (",
                         strsignal(WTERMSIG(status)), ")"),
            128 + WTERMSIG(status)};
  return {absl::StrCat("exited with code ", WEXITSTATUS(status)),
          WEXITSTATUS(status)};
}

} // namespace

int runLocalJob(const std::vector<std::string> &command, int processes,
                absl::Duration rendezvousTimeout) {
  auto fail = [](const absl::Status &status) {
    llvm::errs() << "switchyard run: --launch: " << status.ToString() << "\n";
    return 1;
  };
  if (processes < 1 || processes > kMaxProcesses)
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "--launch takes 1 to ", kMaxProcesses, " processes, got ", processes)));
  absl::StatusOr<std::unique_ptr<runtime::RendezvousServer>> server =
      runtime::RendezvousServer::listen();
  if (!server.ok())
    return fail(server.status());

  std::vector<char *> args;
  for (const std::string &arg : command)
    args.push_back(const_cast<char *>(arg.c_str()));
  args.push_back(nullptr);
  // This process's environment without the job's variables, then them.
  std::vector<std::string> variables;
  for (char **entry = environ; *entry; ++entry) {
    const std::string text(*entry);
    bool ours = false;
    for (const char *name :
         {runtime::kRankVariable, runtime::kWorldSizeVariable,
          runtime::kRendezvousVariable})
      ours = ours || text.rfind(absl::StrCat(name, "="), 0) == 0;
    if (!ours)
      variables.push_back(text);
  }
  variables.push_back(
      absl::StrCat(runtime::kWorldSizeVariable, "=", processes));
  variables.push_back(
      absl::StrCat(runtime::kRendezvousVariable, "=", (*server)->address()));
  variables.push_back("");

  absl::Status served;
  std::thread serving(
      [&] { served = (*server)->serve(processes, rendezvousTimeout); });
  struct sigaction action {};
  action.sa_handler = passOn;
  sigemptyset(&action.sa_mask);
  struct sigaction previousInt, previousTerm;
  sigaction(SIGINT, &action, &previousInt);
  sigaction(SIGTERM, &action, &previousTerm);

  int exitCode = 0;
  int running = 0;
  for (int rank = 0; rank < processes; ++rank) {
    variables.back() = absl::StrCat(runtime::kRankVariable, "=", rank);
    std::vector<char *> environment;
    for (std::string &variable : variables)
      environment.push_back(variable.data());
    environment.push_back(nullptr);
    pid_t id = 0;
    if (int error = posix_spawn(&id, args[0], nullptr, nullptr, args.data(),
                                environment.data());
        error != 0) {
      llvm::errs() << "switchyard run: --launch: cannot start '" << args[0]
                   << "': " << std::strerror(error) << "\n";
      exitCode = 1;
      break;
    }
    processIds[rank] = id;
    processCount = rank + 1;
    ++running;
  }

  // After the first failure: when the others were told to end, and whether
  // they were killed.
  std::chrono::steady_clock::time_point stopping;
  bool stopped = exitCode != 0, killed = false;
  if (stopped) {
    passOn(SIGTERM);
    stopping = std::chrono::steady_clock::now();
  }
  while (running > 0) {
    int status = 0;
    const pid_t ended = waitpid(-1, &status, stopped ? WNOHANG : 0);
    if (ended < 0 && errno == EINTR)
      continue;
    if (ended < 0)
      break;
    if (ended == 0) {
      if (!killed && std::chrono::steady_clock::now() - stopping >
                         std::chrono::seconds(10)) {
        passOn(SIGKILL);
        killed = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    --running;
    int rank = 0;
    while (rank < processCount && processIds[rank] != ended)
      ++rank;
    if (rank < processCount)
      processIds[rank] = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
      continue;
    if (!stopped) {
      const auto [how, code] = describeEnd(status);
      llvm::errs() << "switchyard run: --launch: rank " << rank << " " << how
                   << "; ending the other processes\n";
      exitCode = code;
      stopped = true;
      stopping = std::chrono::steady_clock::now();
      passOn(SIGTERM);
    }
  }
  processCount = 0;
  sigaction(SIGINT, &previousInt, nullptr);
  sigaction(SIGTERM, &previousTerm, nullptr);
  // Processes that ended before they met leave the rendezvous waiting.
  (*server)->cancel();
  serving.join();
  return exitCode;
}

} // namespace switchyard::driver
