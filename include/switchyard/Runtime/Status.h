//===- Status.h - Error propagation helpers for the runtime ----*- C++ -*-===//
//
// The runtime reports every failure as an absl::Status value (never an
// exception or an abort). These macros propagate such values.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_STATUS_H
#define SWITCHYARD_RUNTIME_STATUS_H

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SY_STATUS_CONCAT_INNER(a, b) a##b
#define SY_STATUS_CONCAT(a, b) SY_STATUS_CONCAT_INNER(a, b)

/// Returns from the enclosing function if `expr` is not OK.
#define SY_RETURN_IF_ERROR(expr)                                               \
  do {                                                                         \
    if (absl::Status sy_status_ = (expr); !sy_status_.ok())                    \
      return sy_status_;                                                       \
  } while (false)

/// Evaluates `rexpr` (an absl::StatusOr), returns its status if not OK and
/// otherwise moves its value into `lhs` (which may be a declaration).
#define SY_ASSIGN_OR_RETURN(lhs, rexpr)                                        \
  SY_ASSIGN_OR_RETURN_IMPL(SY_STATUS_CONCAT(sy_statusor_, __LINE__), lhs, rexpr)

#define SY_ASSIGN_OR_RETURN_IMPL(var, lhs, rexpr)                              \
  auto var = (rexpr);                                                          \
  if (!var.ok())                                                               \
    return std::move(var).status();                                            \
  lhs = *std::move(var)

#endif // SWITCHYARD_RUNTIME_STATUS_H
