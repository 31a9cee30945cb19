//===- ExecutableWriter.h - partitioned IR to an executable -----*- C++ -*-===//
//
// Lowers a partitioned module (the output of the switchyard-partition
// pipeline) to the flat executable file the runtime loads, with a static,
// liveness-based buffer plan per device.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_COMPILER_EXECUTABLEWRITER_H
#define SWITCHYARD_COMPILER_EXECUTABLEWRITER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"

#include <string>

namespace switchyard {

/// What the buffer plan and the program hold, for `--stats`.
struct ExecutableStats {
  int64_t numOps = 0;
  int64_t numValues = 0;
  /// Bytes of each device's arena: the plan's peak.
  int64_t arenaBytes = 0;
  /// Bytes of the arguments (weights and inputs), which stay resident.
  int64_t residentBytes = 0;
  /// Bytes every value would need without reuse.
  int64_t unplannedBytes = 0;
  /// The largest values: (description, bytes), largest first.
  llvm::SmallVector<std::pair<std::string, int64_t>> largestValues;
  /// Per collective kind ("all_to_all", ...): how many, and the bytes one
  /// device sends for them (ring-algorithm volumes).
  llvm::StringMap<std::pair<int64_t, int64_t>> collectives;
};

/// Serializes `function` of a partitioned module (local types, `shard`
/// collectives on `@mesh`) as an executable. Emits an error at the op that
/// cannot be lowered and fails.
mlir::FailureOr<std::string> writeExecutable(mlir::ModuleOp module,
                                       mlir::func::FuncOp function,
                                       ExecutableStats *stats = nullptr);

/// Lowers `function` and plans its buffers as writeExecutable does, without
/// serializing: the statistics of the executable it would write.
mlir::FailureOr<ExecutableStats> planExecutable(mlir::ModuleOp module,
                                                mlir::func::FuncOp function);

} // namespace switchyard

#endif // SWITCHYARD_COMPILER_EXECUTABLEWRITER_H
