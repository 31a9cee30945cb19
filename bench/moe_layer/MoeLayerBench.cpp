//===- MoeLayerBench.cpp - Switch MoE layer forward vs. sgemm -------------===//
//
// Times the Switch MoE feed-forward layer at Switch-Base shapes on 1 and 8
// CPU devices (expert parallel: `experts:b;batch:b`) and, in the same run,
// OpenBLAS sgemm on the expert FFN's GEMM shapes. Prints the layer's
// throughput as a fraction of sgemm's at equal FLOPs, with and without the
// capacity padding, the 8-device time over the 1-device time, and the bytes
// each collective moved. See README.md.
//
//===----------------------------------------------------------------------===//

#include "bench/common/SwitchLayerIR.h"
#include "switchyard/Compiler/Compile.h"
#include "switchyard/Compiler/CompilerContext.h"
#include "switchyard/Runtime/CpuRuntime.h"
#include "switchyard/Runtime/Random.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <cblas.h>

using namespace switchyard;
using namespace switchyard::runtime;

namespace {

/// Switch-Base's MoE layer; 4096 tokens as 8 sequences of 512.
constexpr int64_t kBatch = 8;
constexpr int64_t kLength = 512;
constexpr int64_t kModel = 768;
constexpr int64_t kFF = 3072;
constexpr int64_t kExperts = 8;
constexpr double kCapacityFactor = 1.25;
constexpr int64_t kTokens = kBatch * kLength;
const char *const kLayout = "experts:b;batch:b";

/// The value of `value`, or exits with its error about `what`.
template <typename T> T check(absl::StatusOr<T> value, const char *what) {
  if (!value.ok()) {
    std::fprintf(stderr, "error: %s: %s\n", what,
                 std::string(value.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(value);
}

/// Parses the layer and compiles it for `mesh`; exits on failure.
Executable compileLayer(const bench::SwitchLayerShape &shape,
                        const std::string &mesh) {
  CompilerContext compiler;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      compiler.parse(bench::switchLayerIR(shape), "moe_layer.mlir");
  if (!module) {
    std::fprintf(stderr, "error: cannot parse the generated layer\n");
    std::exit(1);
  }
  mlir::FailureOr<std::string> bytes =
      compileToExecutable(*module, {mesh, kLayout, "", false});
  if (mlir::failed(bytes)) {
    std::fprintf(stderr, "error: cannot compile for mesh %s\n", mesh.c_str());
    std::exit(1);
  }
  return check(Executable::loadBytes(std::move(*bytes), "moe_layer@" + mesh),
               "load");
}

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// "median ms (min-max)" of `values` in seconds.
std::string describe(const std::vector<double> &values) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f ms (min %.2f, max %.2f)",
                median(values) * 1e3,
                *std::min_element(values.begin(), values.end()) * 1e3,
                *std::max_element(values.begin(), values.end()) * 1e3);
  return text;
}

/// Something timed: a layer session or the sgemm reference.
struct Subject {
  /// OpenBLAS threads to set (process-wide) before each call.
  int blasThreads = 0;
  std::function<void()> body;
  std::vector<double> seconds;
};

/// Calls every subject once untimed, then `iterations` times each, in turn,
/// so that load from other processes affects them alike.
void timeInterleaved(std::vector<Subject *> subjects, int iterations) {
  for (int i = -1; i < iterations; ++i)
    for (Subject *subject : subjects) {
      openblas_set_num_threads(subject->blasThreads);
      auto start = std::chrono::steady_clock::now();
      subject->body();
      if (i >= 0)
        subject->seconds.push_back(
            seconds(std::chrono::steady_clock::now() - start));
    }
}

/// One mesh's session and its last run.
struct Layer {
  const char *mesh;
  Executable executable;
  std::unique_ptr<CpuSession> session;
  RunResult last;
  Subject timing;
};

/// A session for `mesh` with the threads it picks by default.
std::unique_ptr<Layer>
makeLayer(const char *mesh, Executable executable,
          const MapWeightSource &weights,
          const std::map<std::string, HostTensor> &inputs) {
  auto layer = std::make_unique<Layer>(Layer{mesh, std::move(executable)});
  layer->session =
      check(CpuSession::create(layer->executable, &weights), "session");
  layer->timing.blasThreads = openblas_get_num_threads();
  layer->timing.body = [l = layer.get(), &inputs] {
    l->last = check(l->session->run(inputs), "run");
  };
  return layer;
}

/// The sgemm reference: the expert FFN's two GEMMs over `rows` rows, as the
/// runtime calls them (weights transposed: wi is [d_ff, d_model], wo
/// [d_model, d_ff]).
struct Gemms {
  int64_t rows;
  std::vector<float> in, wi, inner, wo, out;

  explicit Gemms(int64_t rows)
      : rows(rows), in(rows * kModel, 0.5f), wi(kFF * kModel, 0.25f),
        inner(rows * kFF), wo(kModel * kFF, 0.25f), out(rows * kModel) {}

  void run() {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, kFF, kModel,
                1.0f, in.data(), kModel, wi.data(), kModel, 0.0f, inner.data(),
                kFF);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, kModel, kFF,
                1.0f, inner.data(), kFF, wo.data(), kFF, 0.0f, out.data(),
                kModel);
  }
};

/// FLOPs of the layer's GEMMs when the experts multiply `expertRows` rows.
double layerFlops(int64_t expertRows) {
  return 2.0 * 2 * expertRows * kModel * kFF +
         2.0 * kTokens * kModel * kExperts;
}

void printCollectives(const RunStats &stats) {
  bool any = false;
  for (int k = 0; k < kCollectiveKindCount; ++k) {
    const CollectiveStats &c = stats.collectives[k];
    if (c.count == 0)
      continue;
    any = true;
    const int64_t maxPerDevice =
        c.bytesPerDevice.empty() ? 0
                                 : *std::max_element(c.bytesPerDevice.begin(),
                                                     c.bytesPerDevice.end());
    std::printf(
        "    %-14s x%-2lld %10.2f MiB total, %8.2f MiB max per device\n",
        std::string(collectiveKindName(CollectiveKind(k))).c_str(),
        static_cast<long long>(c.count), c.bytes / 1048576.0,
        maxPerDevice / 1048576.0);
  }
  if (!any)
    std::printf("    (none)\n");
}

/// One profiled run of `layer`: time per op kind, averaged over devices.
void printOpTimes(Layer &layer, const std::map<std::string, HostTensor> &inputs,
                  int64_t devices) {
  openblas_set_num_threads(layer.timing.blasThreads);
  RunOptions options;
  options.profileOps = true;
  RunResult profiled = check(layer.session->run(inputs, options), "run");
  std::vector<OpKindTime> kinds = profiled.stats.opTimes;
  std::sort(
      kinds.begin(), kinds.end(),
      [](const OpKindTime &a, const OpKindTime &b) { return a.time > b.time; });
  std::printf("  op time, summed over devices / devices (one profiled "
              "run):\n");
  for (const OpKindTime &kind : kinds)
    std::printf("    %-14s x%-3lld %9.2f ms\n", kind.kind.c_str(),
                static_cast<long long>(kind.count / devices),
                absl::ToDoubleMilliseconds(kind.time) / devices);
}

int usage(const char *program) {
  std::fprintf(stderr, "usage: %s [--iterations N] [--top-k K]\n", program);
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  int iterations = 7;
  int64_t topK = 1;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    // `--NAME=VALUE` or `--NAME VALUE`.
    auto option = [&](const char *name) -> const char * {
      const size_t length = std::strlen(name);
      if (std::strncmp(arg, name, length) == 0 && arg[length] == '=')
        return arg + length + 1;
      if (std::strcmp(arg, name) == 0 && i + 1 < argc)
        return argv[++i];
      return nullptr;
    };
    if (const char *value = option("--iterations"))
      iterations = std::atoi(value);
    else if (const char *value = option("--top-k"))
      topK = std::atoll(value);
    else
      return usage(argv[0]);
  }
  if (iterations < 1 || topK < 1 || topK > kExperts)
    return usage(argv[0]);
  const bench::SwitchLayerShape shape{kBatch,   kLength,         kModel, kFF,
                                      kExperts, kCapacityFactor, topK};
  // Slots per expert and sequence: ceil(1.25 * K * 512 / 8).
  const int64_t capacity = shape.capacity();

  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf("Switch MoE layer forward: tokens %lld (batch %lld x length "
              "%lld), d_model %lld, d_ff %lld, experts %lld, top-%lld, "
              "capacity factor %g (capacity %lld per sequence), f32\n",
              (long long)kTokens, (long long)kBatch, (long long)kLength,
              (long long)kModel, (long long)kFF, (long long)kExperts,
              (long long)topK, kCapacityFactor, (long long)capacity);
  std::printf("machine: %u hardware threads; OpenBLAS %s (core %s)\n", cores,
              openblas_get_config(), openblas_get_corename());
  std::printf("median of %d iterations after 1 warm-up\n\n", iterations);

  // The same weights and inputs on both meshes: the same routing.
  Executable one = compileLayer(shape, "b:1");
  MapWeightSource weights = check(randomWeights(one, 1), "weights");
  std::map<std::string, HostTensor> inputs =
      check(randomInputs(one, 2), "inputs");
  std::unique_ptr<Layer> layers[2] = {
      makeLayer("b:1", std::move(one), weights, inputs),
      makeLayer("b:8", compileLayer(shape, "b:8"), weights, inputs)};

  // The reference runs on every core, as the 1-device session's GEMMs do.
  Gemms gemms(kTokens);
  Subject reference{static_cast<int>(cores), [&gemms] { gemms.run(); }, {}};
  timeInterleaved({&layers[0]->timing, &layers[1]->timing, &reference},
                  iterations);
  const double gemmSeconds = median(reference.seconds);
  const double gemmRate = 2.0 * 2 * kTokens * kModel * kFF / gemmSeconds;
  std::printf("sgemm reference: [%lld x %lld] x [%lld x %lld]^T then "
              "[%lld x %lld] x [%lld x %lld]^T, %d threads: %s, "
              "%.1f GFLOP/s\n\n",
              (long long)kTokens, (long long)kModel, (long long)kFF,
              (long long)kModel, (long long)kTokens, (long long)kFF,
              (long long)kModel, (long long)kFF, reference.blasThreads,
              describe(reference.seconds).c_str(), gemmRate / 1e9);

  const int64_t paddedRows = kExperts * kBatch * capacity;
  for (const std::unique_ptr<Layer> &layer : layers) {
    const double time = median(layer->timing.seconds);
    int64_t kept = 0;
    for (uint8_t dropped : layer->last.find("dropped")->span<uint8_t>())
      kept += dropped ? 0 : 1;
    const double useful = layerFlops(kept) / time;
    const double padded = layerFlops(paddedRows) / time;
    const int64_t devices = layer->executable.mesh().deviceCount();
    std::printf("mesh %s, layout '%s' (%lld devices, %d OpenBLAS threads "
                "each):\n",
                layer->mesh, kLayout, (long long)devices,
                layer->timing.blasThreads);
    std::printf("  time per forward      %s\n",
                describe(layer->timing.seconds).c_str());
    std::printf("  choices kept          %lld of %lld (expert rows incl. "
                "padding: %lld)\n",
                (long long)kept, (long long)(kTokens * topK),
                (long long)paddedRows);
    std::printf("  layer GFLOP/s         %.1f useful, %.1f counting padding\n",
                useful / 1e9, padded / 1e9);
    std::printf("  fraction of sgemm     %.3f useful, %.3f counting padding\n",
                useful / gemmRate, padded / gemmRate);
    std::printf("  collectives per forward:\n");
    printCollectives(layer->last.stats);
    printOpTimes(*layer, inputs, devices);
    std::printf("\n");
  }
  std::printf("time 8 devices / time 1 device: %.3f\n",
              median(layers[1]->timing.seconds) /
                  median(layers[0]->timing.seconds));
  return 0;
}
