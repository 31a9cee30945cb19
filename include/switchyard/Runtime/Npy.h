//===- Npy.h - Reading and writing NumPy .npy files -------------*- C++ -*-===//
//
// The .npy format (versions 1.0 and 2.0): a magic string, a version, a
// header length, a Python dict literal `{'descr': '<f4', 'fortran_order':
// False, 'shape': (2, 3), }` and the raw data. Only little-endian, C-order
// arrays of the runtime's dtypes are supported.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_NPY_H
#define SWITCHYARD_RUNTIME_NPY_H

#include "switchyard/Runtime/Tensor.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <string>

namespace switchyard::runtime {

/// Reads a .npy file of dtype '<f4', '<f2', '<i4', '<i8' or '|b1'.
[[nodiscard]] absl::StatusOr<HostTensor> readNpy(const std::string &path);

/// Writes `tensor` as a .npy file (version 1.0 unless the header needs 2.0).
/// bf16 has no NumPy dtype: a bf16 tensor is written as '<f4', its values
/// widened to f32 (exactly; a .safetensors file keeps bf16).
[[nodiscard]] absl::Status writeNpy(const std::string &path,
                                    const HostTensor &tensor);

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_NPY_H
