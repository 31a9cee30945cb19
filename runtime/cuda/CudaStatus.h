//===- CudaStatus.h - CUDA and cuBLAS errors as absl::Status -----*- C++ -*-===//
//
// Every call into the CUDA runtime or cuBLAS goes through one of these
// macros, which turn a failure into an absl::Status naming the call's
// source location and the library's own error name and description.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_CUDA_CUDASTATUS_H
#define SWITCHYARD_RUNTIME_CUDA_CUDASTATUS_H

#include "absl/status/status.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace switchyard::runtime::cuda {

/// OK for cudaSuccess; otherwise an error whose code follows the kind of
/// failure (out of memory is ResourceExhausted, no device is
/// FailedPrecondition) and whose message names `file`:`line`.
absl::Status cudaStatus(cudaError_t error, const char *file, int line);
absl::Status cublasStatus(cublasStatus_t status, const char *file, int line);

} // namespace switchyard::runtime::cuda

/// Returns the status of a failed CUDA runtime call from the enclosing
/// function.
#define SY_CUDA_RETURN_IF_ERROR(expr)                                          \
  do {                                                                         \
    if (absl::Status sy_cuda_status_ =                                         \
            ::switchyard::runtime::cuda::cudaStatus((expr), __FILE__,          \
                                                    __LINE__);                 \
        !sy_cuda_status_.ok())                                                 \
      return sy_cuda_status_;                                                  \
  } while (false)

/// Returns the status of a failed cuBLAS call from the enclosing function.
#define SY_CUBLAS_RETURN_IF_ERROR(expr)                                        \
  do {                                                                         \
    if (absl::Status sy_cuda_status_ =                                         \
            ::switchyard::runtime::cuda::cublasStatus((expr), __FILE__,        \
                                                      __LINE__);               \
        !sy_cuda_status_.ok())                                                 \
      return sy_cuda_status_;                                                  \
  } while (false)

#endif // SWITCHYARD_RUNTIME_CUDA_CUDASTATUS_H
