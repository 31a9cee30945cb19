//===- SafeTensorsFuzzer.cpp - libFuzzer target: safetensors files ---------===//
//
// Any bytes given as a `.safetensors` checkpoint must open or give an error;
// once a file opens, every tensor it lists must read whole and by slices
// within its shape without touching memory outside the file.
//
//===----------------------------------------------------------------------===//

#include "fuzz/MemoryFile.h"
#include "switchyard/Runtime/SafeTensors.h"

#include <cstdlib>
#include <vector>

using namespace switchyard::runtime;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  switchyard::fuzz::MemoryFile file(data, size);
  absl::StatusOr<std::unique_ptr<SafeTensorsFile>> opened =
      SafeTensorsFile::open(file.path());
  if (!opened.ok())
    return 0;
  for (const TensorInfo &info : (*opened)->tensors()) {
    // A valid header promises that the tensor lies inside the file.
    if (!(*opened)->read(info.name).ok())
      std::abort();
    // The upper half of every dimension.
    std::vector<DimRange> slice;
    for (int64_t dim : info.shape)
      slice.push_back({dim / 2, dim});
    if (!(*opened)->readSlice(info.name, slice).ok())
      std::abort();
  }
  return 0;
}
