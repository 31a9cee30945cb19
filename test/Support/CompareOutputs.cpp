//===- CompareOutputs.cpp - Compare two runs' safetensors outputs ---------===//
//
//   compare-outputs EXPECTED.safetensors ACTUAL.safetensors TOLERANCE
//
// Exits 0 when both files hold the same tensors with the same dtypes and
// shapes, integer and boolean tensors (routing) equal and f32 tensors within
// TOLERANCE x max(1, largest |expected| of the tensor) per element (as the
// parity tests measure: a loss of 34 moves by more than one of 1); otherwise
// prints the first difference of each tensor and exits 1.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Runtime/SafeTensors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace switchyard::runtime;

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: compare-outputs EXPECTED ACTUAL TOLERANCE\n");
    return 2;
  }
  const double tolerance = std::atof(argv[3]);
  absl::StatusOr<Checkpoint> expected = Checkpoint::open(argv[1]);
  absl::StatusOr<Checkpoint> actual = Checkpoint::open(argv[2]);
  for (const auto *file : {&expected, &actual})
    if (!file->ok()) {
      std::fprintf(stderr, "%s\n", file->status().ToString().c_str());
      return 2;
    }
  if (expected->names() != actual->names()) {
    std::fprintf(stderr, "the files hold different tensors\n");
    return 1;
  }
  bool same = true;
  for (const std::string &name : expected->names()) {
    absl::StatusOr<HostTensor> a = expected->read(name);
    absl::StatusOr<HostTensor> b = actual->read(name);
    if (!a.ok() || !b.ok() || a->dtype() != b->dtype() ||
        a->shape() != b->shape()) {
      std::fprintf(stderr, "%s: unreadable or of another dtype or shape\n",
                   name.c_str());
      same = false;
      continue;
    }
    if (a->dtype() != DType::F32) {
      if (std::memcmp(a->data(), b->data(), a->byteSize()) != 0) {
        std::fprintf(stderr, "%s: differs\n", name.c_str());
        same = false;
      }
      continue;
    }
    auto x = a->span<float>(), y = b->span<float>();
    double scale = 1.0;
    for (float value : x)
      scale = std::max(scale, std::fabs(double(value)));
    for (size_t i = 0; i < x.size(); ++i)
      if (!(std::fabs(double(x[i]) - double(y[i])) <= tolerance * scale)) {
        std::fprintf(stderr, "%s: element %zu is %.9g, expected %.9g\n",
                     name.c_str(), i, double(y[i]), double(x[i]));
        same = false;
        break;
      }
  }
  return same ? 0 : 1;
}
