//===- OpKind.h - What a collective implementation runs ----*- C++ -*-===//
//
// Shared by the local and mpi implementations for matching calls across
// group members and for naming the operation in errors.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_COLLECTIVES_OPKIND_H
#define SWITCHYARD_RUNTIME_COLLECTIVES_OPKIND_H

#include "absl/strings/string_view.h"

namespace switchyard::runtime {

enum class CollectiveOpKind { AllReduce, AllGather, ReduceScatter, AllToAll };

/// "all_reduce", "all_gather", ...
inline absl::string_view opName(CollectiveOpKind kind) {
  switch (kind) {
  case CollectiveOpKind::AllReduce:
    return "all_reduce";
  case CollectiveOpKind::AllGather:
    return "all_gather";
  case CollectiveOpKind::ReduceScatter:
    return "reduce_scatter";
  case CollectiveOpKind::AllToAll:
    return "all_to_all";
  }
  return "?";
}

/// Whether the operation combines the members' values.
inline bool isReduction(CollectiveOpKind kind) {
  return kind == CollectiveOpKind::AllReduce ||
         kind == CollectiveOpKind::ReduceScatter;
}

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_COLLECTIVES_OPKIND_H
