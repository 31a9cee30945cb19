//===- Backends.cpp - The suites' runs on every backend built -------------===//

#include "Backends.h"

#ifdef SWITCHYARD_HAVE_CUDA
#include "switchyard/Runtime/CudaRuntime.h"
#endif

namespace switchyard::testsupport {

using namespace runtime;

const char *backendName(Backend backend) {
  return backend == Backend::Cuda ? "cuda" : "cpu";
}

std::vector<Backend> builtBackends() {
#ifdef SWITCHYARD_HAVE_CUDA
  return {Backend::Cpu, Backend::Cuda};
#else
  return {Backend::Cpu};
#endif
}

bool backendAvailable(Backend backend) {
  if (backend == Backend::Cpu)
    return true;
#ifdef SWITCHYARD_HAVE_CUDA
  return cudaDeviceCount() > 0;
#else
  return false;
#endif
}

absl::StatusOr<std::unique_ptr<Session>>
openSession(Backend backend, const Executable &executable,
            const WeightSource *weights) {
  if (backend == Backend::Cpu)
    return CpuSession::create(executable, weights);
#ifdef SWITCHYARD_HAVE_CUDA
  return CudaSession::create(executable, weights);
#else
  return absl::FailedPreconditionError("built without the cuda backend");
#endif
}

absl::StatusOr<RunResult>
runOn(Backend backend, const Executable &executable,
      const WeightSource *weights,
      const std::map<std::string, HostTensor> &inputs) {
  absl::StatusOr<std::unique_ptr<Session>> session =
      openSession(backend, executable, weights);
  if (!session.ok())
    return session.status();
  return (*session)->run(inputs);
}

double elementAt(const runtime::HostTensor &tensor, int64_t i) {
  switch (tensor.dtype()) {
  case runtime::DType::F32:
    return tensor.span<float>()[i];
  case runtime::DType::I32:
    return tensor.span<int32_t>()[i];
  case runtime::DType::Bool:
    return static_cast<const uint8_t *>(tensor.data())[i];
  default:
    ADD_FAILURE() << "unexpected dtype " << runtime::dtypeName(tensor.dtype());
    return 0;
  }
}

} // namespace switchyard::testsupport
