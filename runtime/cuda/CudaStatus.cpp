//===- CudaStatus.cpp - CUDA and cuBLAS errors as absl::Status ------------===//

#include "runtime/cuda/CudaStatus.h"

#include "absl/strings/str_cat.h"

namespace switchyard::runtime::cuda {

absl::Status cudaStatus(cudaError_t error, const char *file, int line) {
  if (error == cudaSuccess)
    return absl::OkStatus();
  // Clear the sticky last error of non-fatal failures.
  cudaGetLastError();
  const std::string message =
      absl::StrCat(file, ":", line, ": CUDA error ", cudaGetErrorName(error),
                   ": ", cudaGetErrorString(error));
  switch (error) {
  case cudaErrorMemoryAllocation:
    return absl::ResourceExhaustedError(message);
  case cudaErrorNoDevice:
  case cudaErrorInsufficientDriver:
  case cudaErrorInvalidDevice:
    return absl::FailedPreconditionError(message);
  case cudaErrorInvalidValue:
    return absl::InvalidArgumentError(message);
  default:
    return absl::InternalError(message);
  }
}

absl::Status cublasStatus(cublasStatus_t status, const char *file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS)
    return absl::OkStatus();
  const std::string message = absl::StrCat(file, ":", line, ": cuBLAS error ",
                                           cublasGetStatusName(status), ": ",
                                           cublasGetStatusString(status));
  switch (status) {
  case CUBLAS_STATUS_ALLOC_FAILED:
    return absl::ResourceExhaustedError(message);
  case CUBLAS_STATUS_NOT_INITIALIZED:
  case CUBLAS_STATUS_ARCH_MISMATCH:
    return absl::FailedPreconditionError(message);
  case CUBLAS_STATUS_INVALID_VALUE:
    return absl::InvalidArgumentError(message);
  default:
    return absl::InternalError(message);
  }
}

} // namespace switchyard::runtime::cuda
