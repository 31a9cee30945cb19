//===- NpyFuzzer.cpp - libFuzzer target: the .npy reader -------------------===//
//
// Any bytes given as a `.npy` input must load or give an error, never crash.
//
//===----------------------------------------------------------------------===//

#include "fuzz/MemoryFile.h"
#include "switchyard/Runtime/Npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  switchyard::fuzz::MemoryFile file(data, size);
  (void)switchyard::runtime::readNpy(file.path());
  return 0;
}
