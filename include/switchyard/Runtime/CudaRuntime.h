//===- CudaRuntime.h - Running an executable on a GPU -----------*- C++ -*-===//
//
// The cuda backend: every device of the executable's mesh is a virtual
// device on one GPU with its own allocation (arena, kept-aside weights,
// constants, scratch) and its own stream. One host thread enqueues the op
// list on every stream; collectives between virtual devices are kernels
// and copies ordered by events, so the devices' work overlaps on the GPU
// and is never serialized by the host. GEMMs go to cuBLAS (one
// strided-batched call per einsum), every other op to the kernels of
// runtime/cuda/. Results match the cpu backend up to floating-point
// summation order.
//
// Across processes (one GPU each, NCCL): with CudaSessionOptions::job, the
// process runs only its rank's device of the mesh, and the collectives go
// over NCCL (NcclJob.h).
//
// Only available when Switchyard is built with SWITCHYARD_ENABLE_CUDA; the
// library then defines SWITCHYARD_HAVE_CUDA for its users.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_CUDARUNTIME_H
#define SWITCHYARD_RUNTIME_CUDARUNTIME_H

#include "switchyard/Runtime/CpuRuntime.h"

#include <map>
#include <memory>
#include <string>

namespace switchyard::runtime {

class NcclJob;

/// The number of usable CUDA devices; 0 without a driver or a device.
int cudaDeviceCount();

struct CudaSessionOptions {
  /// The CUDA device all virtual devices run on.
  int gpu = 0;
  /// Let cuBLAS use TF32 tensor cores for f32 GEMMs (faster, ~10 bits of
  /// mantissa in the products).
  bool allowTf32 = false;
  /// Null: every device of the mesh runs here, as a virtual device on
  /// `gpu`. Otherwise this process runs mesh device job->rank() (the mesh
  /// must have job->size() devices) on GPU job->gpu(), which overrides
  /// `gpu`, and every run all-gathers the outputs so that each process
  /// returns the whole of them; statistics count this device only. Every
  /// process creates its session and runs it in step with the others.
  NcclJob *job = nullptr;
};

/// An executable bound to its weights on a GPU.
class CudaSession final : public Session {
public:
  /// As CpuSession::create; fails with FailedPrecondition when there is no
  /// CUDA device.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CudaSession>>
  create(const Executable &executable, const WeightSource *weights,
         const CudaSessionOptions &options = {});

  ~CudaSession() override;

  const Executable &executable() const override;

  /// As CpuSession::run. RunOptions::collectiveTimeout applies only in an
  /// NCCL job (in-process collectives cannot wait on a failed peer); with
  /// profileOps the host waits for every op, which serializes the devices.
  [[nodiscard]] absl::StatusOr<RunResult>
  run(const std::map<std::string, HostTensor> &inputs,
      const RunOptions &options = {}) override;

  /// The einsums that apply their epilogue inside cuBLASLt (EpilogueGemm)
  /// rather than in a kernel after the GEMM.
  int64_t epilogueGemmCount() const;

private:
  struct State;
  explicit CudaSession(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

/// Creates a session and runs it once.
[[nodiscard]] absl::StatusOr<RunResult>
runOnCuda(const Executable &executable, const WeightSource *weights,
          const std::map<std::string, HostTensor> &inputs,
          const RunOptions &options = {});

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_CUDARUNTIME_H
