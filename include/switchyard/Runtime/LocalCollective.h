//===- LocalCollective.h - In-process collectives ---------------*- C++ -*-===//
//
// The `local` collectives: the devices of a mesh are threads of one process
// and exchange data through shared memory. Each device thread uses its own
// endpoint. A call that waits longer than the timeout for the rest of its
// group fails with DeadlineExceeded; after that every endpoint of the mesh
// fails with Aborted, since the devices no longer agree on where they are.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_LOCALCOLLECTIVE_H
#define SWITCHYARD_RUNTIME_LOCALCOLLECTIVE_H

#include "switchyard/Runtime/Collective.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include <memory>
#include <vector>

namespace switchyard::runtime {

struct LocalCollectiveOptions {
  /// How long a call waits for the other members of its group.
  absl::Duration timeout = absl::Seconds(60);
};

/// One endpoint per device of `mesh`, indexed by device id.
[[nodiscard]] absl::StatusOr<std::vector<std::unique_ptr<Collective>>>
createLocalCollectives(const Mesh &mesh, LocalCollectiveOptions options = {});

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_LOCALCOLLECTIVE_H
