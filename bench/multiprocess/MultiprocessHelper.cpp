//===- MultiprocessHelper.cpp - helper for bench/multiprocess/run.sh ------===//
//
// Two jobs for the multiprocess benchmark driver, which does the rest with
// `switchyard compile` / `mpirun switchyard run`:
//
//   multiprocess_helper ir TOKENS_PER_SEQUENCE SEQUENCES
//       prints the Switch MoE layer (bench::switchLayerIR) at d_model 768,
//       d_ff 3072, 8 experts, capacity factor 1.25 as mtf/moe IR text;
//   multiprocess_helper memcpy BYTES [REPEATS]
//       copies BYTES between two warm buffers REPEATS times (default 20) and
//       prints the median copy's time in ms and its bytes/s.
//
//===----------------------------------------------------------------------===//

#include "../common/SwitchLayerIR.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  if (argc >= 4 && std::string(argv[1]) == "ir") {
    switchyard::bench::SwitchLayerShape shape{
        /*batch=*/std::atoll(argv[3]), /*length=*/std::atoll(argv[2]),
        /*dModel=*/768, /*dFF=*/3072, /*experts=*/8, /*capacityFactor=*/1.25};
    std::fputs(switchyard::bench::switchLayerIR(shape).c_str(), stdout);
    return 0;
  }
  if (argc >= 3 && std::string(argv[1]) == "memcpy") {
    size_t bytes = std::strtoull(argv[2], nullptr, 10);
    int repeats = argc >= 4 ? std::atoi(argv[3]) : 20;
    std::vector<char> from(bytes, 1), to(bytes, 0);
    std::memcpy(to.data(), from.data(), bytes); // warm up (page faults)
    std::vector<double> seconds;
    for (int i = 0; i < repeats; ++i) {
      from[i % bytes] = static_cast<char>(i);
      auto start = std::chrono::steady_clock::now();
      std::memcpy(to.data(), from.data(), bytes);
      auto stop = std::chrono::steady_clock::now();
      seconds.push_back(std::chrono::duration<double>(stop - start).count());
    }
    // Keep the copies observable.
    volatile char sink = to[bytes / 2];
    (void)sink;
    std::sort(seconds.begin(), seconds.end());
    double median = seconds[seconds.size() / 2];
    std::printf("%.6f ms %.6e B/s\n", median * 1e3, bytes / median);
    return 0;
  }
  std::fprintf(stderr, "usage: %s ir LENGTH SEQUENCES | memcpy BYTES "
                       "[REPEATS]\n", argv[0]);
  return 2;
}
