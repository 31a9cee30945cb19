//===- GemmLibrariesBench.cpp - f32 GEMM throughput per CPU library -------===//
//
// Times single-precision GEMM at the Switch-Base expert FFN's shapes on every
// CPU GEMM library the build found: OpenBLAS (linked, what the runtime uses),
// and BLIS, oneDNN and MKL when CMake found them. Prints GFLOP/s per library,
// shape and thread count (1 and all hardware threads), and each library's
// ratio to the best at that shape. See README.md.
//
// The optional libraries are loaded with dlopen(RTLD_LOCAL | RTLD_DEEPBIND):
// all of them export CBLAS/BLAS symbols (cblas_sgemm, sgemm_) that clash
// with OpenBLAS's, and BLIS's cblas_sgemm calls its own sgemm_, which a plain
// link (or a dlopen without DEEPBIND) would bind to OpenBLAS's. Loading them
// this way keeps each library's calls inside itself, and a library that is
// missing or fails to load is printed as unavailable instead of failing the
// build.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <cblas.h>
#include <dlfcn.h>

namespace {

/// One GEMM of the expert FFN: c[m, n] = a[m, k] . b^T with the weight b
/// stored [n, k] (torch Linear layout), as runtime/exec/Einsum.cpp calls it.
struct Shape {
  const char *name;
  int64_t m, k, n;
  double flops() const { return 2.0 * m * k * n; }
};

/// d_model 768, d_ff 3072. M = 4096 is the whole batch (8 x 512 tokens);
/// M = 640 is one expert's capacity slice (1.25 * 4096 / 8).
const Shape kShapes[] = {
    {"ffn in   M=4096 K=768  N=3072", 4096, 768, 3072},
    {"ffn out  M=4096 K=3072 N=768", 4096, 3072, 768},
    {"ffn in   M=640  K=768  N=3072", 640, 768, 3072},
    {"ffn out  M=640  K=3072 N=768", 640, 3072, 768},
};
constexpr int kNumShapes = sizeof(kShapes) / sizeof(kShapes[0]);

using GemmFn = std::function<void(const Shape &, const float *, const float *,
                                  float *)>;

struct Library {
  std::string name;
  std::string detail;      // version, build, kernel set
  std::string unavailable; // why not measured; empty when available
  /// Null when the library's thread count cannot be set: it is then
  /// measured at all hardware threads only.
  std::function<void(int)> setThreads;
  GemmFn gemm;
};

//===----------------------------------------------------------------------===//
// OpenBLAS: linked, through CBLAS, as the runtime calls it.
//===----------------------------------------------------------------------===//

Library openblas() {
  Library lib;
  lib.name = "OpenBLAS";
  lib.detail = std::string(openblas_get_config()) + " (core " +
               openblas_get_corename() + ")";
  lib.setThreads = [](int t) { openblas_set_num_threads(t); };
  lib.gemm = [](const Shape &s, const float *a, const float *b, float *c) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.m, s.n, s.k, 1.0f,
                a, s.k, b, s.k, 0.0f, c, s.n);
  };
  return lib;
}

//===----------------------------------------------------------------------===//
// Optional libraries, loaded at run time from the paths CMake found.
//===----------------------------------------------------------------------===//

/// CBLAS's enum values (the same in every CBLAS: netlib, BLIS, MKL).
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float *,
                            int, const float *, int, float, float *, int);

/// dlopen(path) isolated from OpenBLAS; sets `lib.unavailable` on failure.
void *load(Library &lib, const char *path) {
  if (path == nullptr || *path == '\0') {
    lib.unavailable = "not found by CMake";
    return nullptr;
  }
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (handle == nullptr)
    lib.unavailable = std::string("cannot load: ") + dlerror();
  return handle;
}

template <typename Fn>
Fn symbol(Library &lib, void *handle, const char *name) {
  if (handle == nullptr)
    return nullptr;
  void *p = dlsym(handle, name);
  if (p == nullptr && lib.unavailable.empty())
    lib.unavailable = std::string("no symbol ") + name;
  return reinterpret_cast<Fn>(p);
}

GemmFn cblasGemm(CblasSgemm sgemm) {
  return [sgemm](const Shape &s, const float *a, const float *b, float *c) {
    sgemm(kRowMajor, kNoTrans, kTrans, s.m, s.n, s.k, 1.0f, a, s.k, b, s.k,
          0.0f, c, s.n);
  };
}

#ifndef SWITCHYARD_BLIS_LIBRARY
#define SWITCHYARD_BLIS_LIBRARY ""
#endif
#ifndef SWITCHYARD_DNNL_LIBRARY
#define SWITCHYARD_DNNL_LIBRARY ""
#endif
#ifndef SWITCHYARD_DNNL_PYPI_LIBRARY
#define SWITCHYARD_DNNL_PYPI_LIBRARY ""
#endif
#ifndef SWITCHYARD_MKL_LIBRARY
#define SWITCHYARD_MKL_LIBRARY ""
#endif

/// BLIS through its CBLAS layer (the interface the runtime would call).
Library blis() {
  Library lib;
  lib.name = "BLIS";
  void *h = load(lib, SWITCHYARD_BLIS_LIBRARY);
  auto sgemm = symbol<CblasSgemm>(lib, h, "cblas_sgemm");
  auto setThreads =
      symbol<void (*)(int64_t)>(lib, h, "bli_thread_set_num_threads");
  auto version = symbol<const char *(*)()>(lib, h, "bli_info_get_version_str");
  auto archId = symbol<int (*)()>(lib, h, "bli_arch_query_id");
  auto archName = symbol<const char *(*)(int)>(lib, h, "bli_arch_string");
  if (!lib.unavailable.empty())
    return lib;
  lib.detail = std::string(version()) + ", kernels for " + archName(archId()) +
               ", " + SWITCHYARD_BLIS_LIBRARY;
  lib.setThreads = [setThreads](int t) { setThreads(t); };
  lib.gemm = cblasGemm(sgemm);
  return lib;
}

/// oneDNN through dnnl_sgemm (row-major BLAS-like API); OpenMP threads.
Library onednn(const char *name, const char *path) {
  Library lib;
  lib.name = name;
  void *h = load(lib, path);
  using DnnlSgemm = int (*)(char, char, int64_t, int64_t, int64_t, float,
                            const float *, int64_t, const float *, int64_t,
                            float, float *, int64_t);
  struct DnnlVersion {
    int major, minor, patch;
    const char *hash;
    unsigned cpuRuntime, gpuRuntime;
  };
  auto sgemm = symbol<DnnlSgemm>(lib, h, "dnnl_sgemm");
  auto version = symbol<const DnnlVersion *(*)()>(lib, h, "dnnl_version");
  if (!lib.unavailable.empty())
    return lib;
  const DnnlVersion *v = version();
  // DNNL_RUNTIME_OMP (Debian's build) or, for PyPI's build,
  // DNNL_RUNTIME_SYCL on TBB threads. TBB's thread limit is a C++ class
  // (tbb::global_control) with no C entry point: such a build is measured
  // at its default, all hardware threads, only.
  constexpr unsigned kRuntimeOmp = 2;
  lib.detail = std::to_string(v->major) + "." + std::to_string(v->minor) +
               "." + std::to_string(v->patch) +
               (v->cpuRuntime == kRuntimeOmp
                    ? std::string(", OpenMP")
                    : ", CPU runtime " + std::to_string(v->cpuRuntime) +
                          " (not OpenMP: all threads only)") +
               ", " + path;
  if (v->cpuRuntime == kRuntimeOmp) {
    auto setThreads = symbol<void (*)(int)>(lib, h, "omp_set_num_threads");
    if (!lib.unavailable.empty())
      return lib;
    lib.setThreads = [setThreads](int t) { setThreads(t); };
  }
  lib.gemm = [sgemm](const Shape &s, const float *a, const float *b,
                     float *c) {
    sgemm('N', 'T', s.m, s.n, s.k, 1.0f, a, s.k, b, s.k, 0.0f, c, s.n);
  };
  return lib;
}

/// MKL through libmkl_rt's CBLAS, GNU OpenMP threading layer (the wheel's
/// Intel OpenMP runtime is another package).
Library mkl() {
  Library lib;
  lib.name = "MKL";
  void *h = load(lib, SWITCHYARD_MKL_LIBRARY);
  auto sgemm = symbol<CblasSgemm>(lib, h, "cblas_sgemm");
  auto setLayer = symbol<int (*)(int)>(lib, h, "MKL_Set_Threading_Layer");
  auto setThreads = symbol<void (*)(int)>(lib, h, "MKL_Set_Num_Threads");
  auto version = symbol<void (*)(char *, int)>(lib, h, "MKL_Get_Version_String");
  if (!lib.unavailable.empty())
    return lib;
  constexpr int kThreadingGnu = 3; // MKL_THREADING_GNU, mkl_service.h
  setLayer(kThreadingGnu);
  char text[256] = {};
  version(text, sizeof(text) - 1);
  lib.detail = std::string(text) + ", GNU OpenMP, " + SWITCHYARD_MKL_LIBRARY;
  lib.setThreads = [setThreads](int t) { setThreads(t); };
  lib.gemm = cblasGemm(sgemm);
  return lib;
}

//===----------------------------------------------------------------------===//
// Timing.
//===----------------------------------------------------------------------===//

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double secondsOf(const std::function<void()> &fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

const char *env(const char *name) {
  const char *v = std::getenv(name);
  return v ? v : "(unset)";
}

} // namespace

int main(int argc, char **argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0); // show progress through a pipe
  int iterations = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--iterations N]\n", argv[0]);
      return 2;
    }
  }
  const int cores =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));

  std::vector<Library> all = {
      openblas(), blis(), onednn("oneDNN", SWITCHYARD_DNNL_LIBRARY),
      onednn("oneDNN-pip", SWITCHYARD_DNNL_PYPI_LIBRARY), mkl()};
  std::vector<Library> libs;
  std::printf("f32 GEMM c = a . b^T (b stored [N, K]) at Switch-Base expert "
              "FFN shapes\n");
  std::printf("machine: %d hardware threads; OPENBLAS_CORETYPE=%s "
              "OPENBLAS_L2_SIZE=%s OMP_NUM_THREADS=%s\n",
              cores, env("OPENBLAS_CORETYPE"), env("OPENBLAS_L2_SIZE"),
              env("OMP_NUM_THREADS"));
  for (Library &lib : all) {
    if (lib.unavailable.empty()) {
      std::printf("  %-10s %s\n", lib.name.c_str(), lib.detail.c_str());
      libs.push_back(std::move(lib));
    } else {
      std::printf("  %-10s unavailable: %s\n", lib.name.c_str(),
                  lib.unavailable.c_str());
    }
  }
  std::printf("median of %d iterations after 1 warm-up; libraries take turns "
              "within each iteration\n",
              iterations);

  // Operands for the largest shape; smaller shapes use the leading part.
  int64_t maxA = 0, maxB = 0, maxC = 0;
  for (const Shape &s : kShapes) {
    maxA = std::max(maxA, s.m * s.k);
    maxB = std::max(maxB, s.n * s.k);
    maxC = std::max(maxC, s.m * s.n);
  }
  std::vector<float> a(maxA), b(maxB), c(maxC);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float &x : a)
    x = dist(rng);
  for (float &x : b)
    x = dist(rng);

  // OpenBLAS's results (1 thread, warm-up) are the reference every other
  // library's warm-up result is checked against.
  std::vector<std::vector<float>> reference(kNumShapes);

  std::vector<int> threadCounts = {1};
  if (cores > 1)
    threadCounts.push_back(cores);
  bool allAgree = true;
  for (int threads : threadCounts) {
    for (Library &lib : libs)
      if (lib.setThreads)
        lib.setThreads(threads);
    auto measured = [&](size_t l) {
      return libs[l].setThreads || threads == cores;
    };
    // seconds[lib][shape][iteration]
    std::vector<std::vector<std::vector<double>>> seconds(
        libs.size(), std::vector<std::vector<double>>(kNumShapes));
    for (int it = -1; it < iterations; ++it) {
      for (size_t l = 0; l < libs.size(); ++l) {
        if (!measured(l))
          continue;
        // Let the previous library's worker threads stop spinning before
        // this one runs: on few cores they would take its cores.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        for (int si = 0; si < kNumShapes; ++si) {
          const Shape &s = kShapes[si];
          const double t =
              secondsOf([&] { libs[l].gemm(s, a.data(), b.data(), c.data()); });
          if (it >= 0) {
            seconds[l][si].push_back(t);
            continue;
          }
          // Warm-up: check the result against OpenBLAS's.
          std::vector<float> &ref = reference[si];
          if (ref.empty()) {
            ref.assign(c.begin(), c.begin() + s.m * s.n);
            continue;
          }
          double worst = 0;
          for (int64_t i = 0; i < s.m * s.n; ++i)
            worst = std::max(worst, static_cast<double>(std::fabs(c[i] - ref[i])));
          // Entries are sums of K products of [-1, 1] values (|c| ~ sqrt(K)).
          if (worst > 1e-3 * std::sqrt(static_cast<double>(s.k))) {
            std::printf("  %s differs from OpenBLAS at %s: max |diff| %g\n",
                        libs[l].name.c_str(), s.name, worst);
            allAgree = false;
          }
        }
      }
    }

    std::printf("\n%d thread%s: GFLOP/s (ratio to the best at that shape)\n",
                threads, threads == 1 ? "" : "s");
    std::printf("  %-30s", "shape");
    for (const Library &lib : libs)
      std::printf(" %16s", lib.name.c_str());
    std::printf("\n");
    auto printRow = [](const std::vector<double> &gflops, double best) {
      for (double g : gflops) {
        if (g > 0)
          std::printf("   %6.1f (%.2f)", g, g / best);
        else
          std::printf(" %16s", "n/a");
      }
    };
    std::vector<double> ffnSeconds[2]; // per M: the two GEMMs' medians summed
    ffnSeconds[0].assign(libs.size(), 0);
    ffnSeconds[1].assign(libs.size(), 0);
    for (int si = 0; si < kNumShapes; ++si) {
      const Shape &s = kShapes[si];
      std::vector<double> gflops(libs.size());
      for (size_t l = 0; l < libs.size(); ++l) {
        if (!measured(l))
          continue;
        const double t = median(seconds[l][si]);
        gflops[l] = s.flops() / t * 1e-9;
        ffnSeconds[si / 2][l] += t;
      }
      const double best = *std::max_element(gflops.begin(), gflops.end());
      std::printf("  %-30s", s.name);
      printRow(gflops, best);
      std::printf("\n");
    }
    for (int half = 0; half < 2; ++half) {
      const Shape &s = kShapes[2 * half];
      const double flops = s.flops() + kShapes[2 * half + 1].flops();
      std::vector<double> gflops(libs.size());
      for (size_t l = 0; l < libs.size(); ++l)
        if (measured(l))
          gflops[l] = flops / ffnSeconds[half][l] * 1e-9;
      const double best = *std::max_element(gflops.begin(), gflops.end());
      char label[64];
      std::snprintf(label, sizeof(label), "both GEMMs M=%lld",
                    static_cast<long long>(s.m));
      std::printf("  %-30s", label);
      printRow(gflops, best);
      std::printf("\n");
    }
    std::printf("  spread (max/min time over iterations, worst shape):");
    for (size_t l = 0; l < libs.size(); ++l) {
      if (!measured(l))
        continue;
      double worst = 1;
      for (int si = 0; si < kNumShapes; ++si) {
        const auto &v = seconds[l][si];
        worst = std::max(worst, *std::max_element(v.begin(), v.end()) /
                                    *std::min_element(v.begin(), v.end()));
      }
      std::printf(" %s %.2f", libs[l].name.c_str(), worst);
    }
    std::printf("\n");
  }
  std::printf("\nresults %s OpenBLAS's\n",
              allAgree ? "of every library agree with"
                       : "of some library DIFFER from");
  return allAgree ? 0 : 1;
}
