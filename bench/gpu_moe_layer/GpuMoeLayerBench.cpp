//===- GpuMoeLayerBench.cpp - Switch MoE layer on a GPU vs. cuBLAS -------===//
//
// Times the Switch MoE feed-forward layer (RMS norm, router, top-1 route,
// dispatch, relu expert FFN, combine, residual) on the cuda backend, one
// device, at d_model 768 and d_ff 3072 for 8 and 64 experts, 4096 and 16384
// tokens (sequences of 512) and capacity factors 1.0 and 1.25, in float32
// and in bf16 (--precision bf16). In the same run it times cuBLAS in the
// same precision (one strided-batched call per expert GEMM) on the padded
// expert-FFN shapes and prints the layer's throughput as a fraction of
// cuBLAS's at equal FLOPs. The layer's time is its GPU time
// (RunStats::deviceTime, from the first op to the last); its wall time, with
// the inputs' upload from and the outputs' download to host memory (into the
// first run's outputs, RunOptions::outputBuffers), is printed beside it.
//
//===----------------------------------------------------------------------===//

#include "bench/common/SwitchLayerIR.h"
#include "switchyard/Compiler/Compile.h"
#include "switchyard/Compiler/CompilerContext.h"
#include "switchyard/Runtime/CudaRuntime.h"
#include "switchyard/Runtime/Random.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

using namespace switchyard;
using namespace switchyard::runtime;

namespace {

constexpr int64_t kLength = 512;
constexpr int64_t kModel = 768;
constexpr int64_t kFF = 3072;
constexpr int kWarmup = 2;
constexpr int kIterations = 10;

struct Config {
  int64_t experts;
  int64_t tokens;
  double capacityFactor;
  int64_t topK;

  int64_t batch() const { return tokens / kLength; }
  bench::SwitchLayerShape shape() const {
    return {batch(), kLength, kModel, kFF, experts, capacityFactor, topK};
  }
  /// Per sequence (routing groups tokens by `length`).
  int64_t capacity() const { return shape().capacity(); }
};

template <typename T> T check(absl::StatusOr<T> value, const char *what) {
  if (!value.ok()) {
    std::fprintf(stderr, "error: %s: %s\n", what,
                 std::string(value.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(value);
}

void checkCuda(cudaError_t error, const char *what) {
  if (error != cudaSuccess) {
    std::fprintf(stderr, "error: %s: %s\n", what, cudaGetErrorString(error));
    std::exit(1);
  }
}

/// The layer compiled for one device in `precision` (f32 or bf16).
Executable compileLayer(const Config &c, const std::string &precision) {
  CompilerContext compiler;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      compiler.parse(bench::switchLayerIR(c.shape()), "gpu_moe_layer.mlir");
  if (!module) {
    std::fprintf(stderr, "error: cannot parse the generated layer\n");
    std::exit(1);
  }
  CompileOptions options{"b:1", "experts:b;batch:b", "", false};
  options.precision = precision;
  mlir::FailureOr<std::string> bytes = compileToExecutable(*module, options);
  if (mlir::failed(bytes)) {
    std::fprintf(stderr, "error: cannot compile the layer\n");
    std::exit(1);
  }
  return check(Executable::loadBytes(std::move(*bytes), "gpu_moe_layer"),
               "load");
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// The median seconds of cuBLAS on the expert FFN's padded shapes: per
/// expert [slots, d_model] x [d_model, d_ff] and back, one strided-batched
/// call each; float32 without TF32 (sgemm), or bf16 with float32
/// accumulation.
double gemmSeconds(const Config &c, bool bf16) {
  const int64_t slots = c.batch() * c.capacity();
  const int64_t bytes = bf16 ? 2 : 4;
  const cudaDataType_t type = bf16 ? CUDA_R_16BF : CUDA_R_32F;
  void *a, *wi, *h, *wo, *out;
  checkCuda(cudaMalloc(&a, c.experts * slots * kModel * bytes), "malloc");
  checkCuda(cudaMalloc(&wi, c.experts * kModel * kFF * bytes), "malloc");
  checkCuda(cudaMalloc(&h, c.experts * slots * kFF * bytes), "malloc");
  checkCuda(cudaMalloc(&wo, c.experts * kFF * kModel * bytes), "malloc");
  checkCuda(cudaMalloc(&out, c.experts * slots * kModel * bytes), "malloc");
  cudaMemset(a, 0, c.experts * slots * kModel * bytes);
  cudaMemset(wi, 0, c.experts * kModel * kFF * bytes);
  cudaMemset(wo, 0, c.experts * kFF * kModel * bytes);
  cublasHandle_t blas;
  cublasCreate(&blas);
  cublasSetMathMode(blas, CUBLAS_PEDANTIC_MATH);
  const float one = 1.0f, zero = 0.0f;
  auto gemm = [&](int64_t m, int64_t n, int64_t k, const void *left,
                  const void *right, void *result) {
    // Row-major [m, n] = [m, k] x [k, n] is column-major [n, m] = [n, k] x
    // [k, m].
    cublasGemmStridedBatchedEx(blas, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one,
                               right, type, n, k * n, left, type, k, m * k,
                               &zero, result, type, n, m * n, c.experts,
                               CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  };
  auto once = [&] {
    gemm(slots, kFF, kModel, a, wi, h);
    gemm(slots, kModel, kFF, h, wo, out);
  };
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  std::vector<double> times;
  for (int i = 0; i < kWarmup + kIterations; ++i) {
    cudaEventRecord(start);
    once();
    cudaEventRecord(stop);
    checkCuda(cudaEventSynchronize(stop), "gemm");
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    if (i >= kWarmup)
      times.push_back(ms / 1e3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cublasDestroy(blas);
  for (void *p : {a, wi, h, wo, out})
    cudaFree(p);
  return median(times);
}

/// Times the layer of `c` in `precision` and prints its row and its
/// slowest op kinds.
void timeConfig(const Config &c, const std::string &precision) {
  Executable executable = compileLayer(c, precision);
  MapWeightSource weights = check(randomWeights(executable, 1), "weights");
  std::map<std::string, HostTensor> inputs =
      check(randomInputs(executable, 2), "inputs");
  std::unique_ptr<CudaSession> session =
      check(CudaSession::create(executable, &weights), "session");
  std::vector<double> times, walls;
  // Runs after the first write into the first run's outputs, as a
  // caller that runs a layer repeatedly would.
  RunOptions reuse;
  std::optional<RunResult> first;
  for (int i = 0; i < kWarmup + kIterations; ++i) {
    RunResult result = check(session->run(inputs, reuse), "run");
    if (i >= kWarmup) {
      times.push_back(absl::ToDoubleSeconds(result.stats.deviceTime));
      walls.push_back(absl::ToDoubleSeconds(result.stats.wallTime));
    }
    if (!first) {
      first.emplace(std::move(result));
      for (auto &[name, tensor] : first->outputs)
        reuse.outputBuffers[name] = &tensor;
    }
  }
  // The token choices the experts process (the runs route alike).
  int64_t kept = 0;
  for (uint8_t dropped : first->find("dropped")->span<uint8_t>())
    kept += dropped == 0;
  const double layer = median(times), wall = median(walls);
  const double gemm = gemmSeconds(c, precision == "bf16");
  // One more run with every op timed (the host waits for each).
  RunOptions profile;
  profile.profileOps = true;
  std::vector<OpKindTime> ops =
      check(session->run(inputs, profile), "profiled run").stats.opTimes;
  std::printf("%9s %8lld %3lld %7lld %6.2f %9lld %11.3f %11.3f "
              "%11.3f %12.1f%% %13lld\n",
              precision.c_str(), static_cast<long long>(c.experts),
              static_cast<long long>(c.topK), static_cast<long long>(c.tokens),
              c.capacityFactor, static_cast<long long>(c.capacity()),
              layer * 1e3, wall * 1e3, gemm * 1e3, 100.0 * gemm / layer,
              static_cast<long long>(kept));
  std::sort(
      ops.begin(), ops.end(),
      [](const OpKindTime &a, const OpKindTime &b) { return a.time > b.time; });
  double opsMs = 0;
  for (const OpKindTime &op : ops)
    opsMs += absl::ToDoubleMilliseconds(op.time);
  std::printf("%50s profiled ops %.3f ms:", "", opsMs);
  for (size_t k = 0; k < ops.size() && k < 6; ++k)
    std::printf(" %s %.3f", ops[k].kind.c_str(),
                absl::ToDoubleMilliseconds(ops[k].time));
  std::printf("; cuBLASLt epilogue GEMMs %lld\n",
              static_cast<long long>(session->epilogueGemmCount()));
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  // Optional filters: one precision, expert count, token count, capacity
  // factor, experts per token (for a profiler run of one configuration).
  if (argc > 6 || (argc > 1 && argv[1][0] == '-')) {
    std::fprintf(
        stderr,
        "usage: %s [f32|bf16 [EXPERTS [TOKENS [CAPACITY_FACTOR [TOP_K]]]]]\n"
        "Times every configuration, or those the arguments name.\n",
        argv[0]);
    return 2;
  }
  auto selected = [&](int position, const std::string &value) {
    return argc <= position || value == argv[position];
  };
  if (cudaDeviceCount() == 0) {
    std::fprintf(stderr, "error: no CUDA device\n");
    return 1;
  }
  cudaDeviceProp properties;
  checkCuda(cudaGetDeviceProperties(&properties, 0), "device properties");
  std::printf("GPU: %s\n", properties.name);
  std::printf("d_model %lld, d_ff %lld, sequences of %lld tokens; median of "
              "%d runs after %d warm-up runs; f32 without TF32, bf16 with a "
              "float32 router (--precision bf16)\n\n",
              static_cast<long long>(kModel), static_cast<long long>(kFF),
              static_cast<long long>(kLength), kIterations, kWarmup);
  std::printf("%9s %8s %3s %7s %6s %9s %11s %11s %11s %13s %13s\n", "precision",
              "experts", "k", "tokens", "cf", "capacity", "layer ms", "wall ms",
              "cuBLAS ms", "of cuBLAS", "kept choices");
  // Top-2 (normalized after drops) at 8 experts only, to keep the run short.
  for (const std::string precision : {"f32", "bf16"})
    for (int64_t experts : {8, 64})
      for (int64_t topK : {1, 2})
        for (int64_t tokens : {4096, 16384})
          for (double factor : {1.0, 1.25}) {
            char factorText[16];
            std::snprintf(factorText, sizeof factorText, "%g", factor);
            if ((topK > 1 && experts != 8) || !selected(1, precision) ||
                !selected(2, std::to_string(experts)) ||
                !selected(3, std::to_string(tokens)) ||
                !selected(4, factorText) || !selected(5, std::to_string(topK)))
              continue;
            timeConfig({experts, tokens, factor, topK}, precision);
          }
  std::printf(
      "\n'layer ms' is the layer's GPU time, first op to last; 'wall ms' "
      "adds the inputs' upload from host memory and the outputs' download. "
      "'of cuBLAS' is the time cuBLAS takes for the padded expert GEMMs in "
      "the same precision over the layer's GPU time: the layer's throughput "
      "as a fraction of cuBLAS at equal FLOPs. 'profiled ops' is one more "
      "run with the host waiting for every op, then the slowest op kinds; "
      "'cuBLASLt epilogue GEMMs' counts the einsums whose activation ran "
      "inside cuBLASLt (the relu of the first expert GEMM, where cuBLASLt "
      "takes it).\n");
  return 0;
}
