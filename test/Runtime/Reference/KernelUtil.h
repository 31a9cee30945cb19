//===- KernelUtil.h - Argument checks shared by the CPU kernels -*- C++ -*-===//

#ifndef SWITCHYARD_TEST_RUNTIME_REFERENCE_KERNELUTIL_H
#define SWITCHYARD_TEST_RUNTIME_REFERENCE_KERNELUTIL_H

#include "switchyard/Runtime/Tensor.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include <initializer_list>

namespace switchyard::runtime::reference {

/// Checks that the buffer `operand` of `kernel` has the size of `shape`.
inline absl::Status checkOperand(absl::string_view kernel,
                                 absl::string_view operand, size_t size,
                                 std::initializer_list<int64_t> shape) {
  absl::StatusOr<int64_t> expected = checkedNumElements(shape, DType::F32);
  if (!expected.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(kernel, ": ", operand, ": ", expected.status().message()));
  if (size != static_cast<size_t>(*expected))
    return absl::InvalidArgumentError(absl::StrCat(
        kernel, ": ", operand, " has ", size, " elements, expected ",
        shapeToString(shape), " = ", *expected));
  return absl::OkStatus();
}

} // namespace switchyard::runtime::reference

#endif // SWITCHYARD_TEST_RUNTIME_REFERENCE_KERNELUTIL_H
