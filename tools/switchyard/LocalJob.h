//===- LocalJob.h - switchyard run --launch without MPI ---------*- C++ -*-===//

#ifndef SWITCHYARD_TOOLS_SWITCHYARD_LOCALJOB_H
#define SWITCHYARD_TOOLS_SWITCHYARD_LOCALJOB_H

#include "absl/time/time.h"

#include <string>
#include <vector>

namespace switchyard::driver {

/// Runs `command` (a program and its arguments) as `processes` local
/// processes of one job: rank r gets SWITCHYARD_RANK=r,
/// SWITCHYARD_WORLD_SIZE and SWITCHYARD_RENDEZVOUS, the address of a
/// rendezvous (Rendezvous.h) this process serves for `rendezvousTimeout`.
/// When a process fails (a non-zero exit or a signal), the others get
/// SIGTERM, and SIGKILL if they have not ended after a grace period; SIGINT
/// and SIGTERM to this process are passed on to every one. Returns the exit
/// code: 0, the first failure's code, or 128 + the signal that ended it.
int runLocalJob(const std::vector<std::string> &command, int processes,
                absl::Duration rendezvousTimeout);

} // namespace switchyard::driver

#endif // SWITCHYARD_TOOLS_SWITCHYARD_LOCALJOB_H
