//===- Random.h - reproducible random weights and inputs --------*- C++ -*-===//
//
// For trying a compiled program without a checkpoint (`switchyard run
// --random-weights`), for benchmarks and for tests: every weight and input
// an executable binds, filled from a seeded generator.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_RANDOM_H
#define SWITCHYARD_RUNTIME_RANDOM_H

#include "switchyard/Runtime/Executable.h"
#include "switchyard/Runtime/WeightSource.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <map>
#include <random>
#include <string>

namespace switchyard::runtime {

/// Fills `tensor`: floats from normal(0, `stddev`) (f32, bf16, f16), i32
/// uniform in [0, `intBound`), booleans uniform.
[[nodiscard]] absl::Status fillRandom(HostTensor &tensor, std::mt19937_64 &engine,
                                      float stddev = 0.5f, int32_t intBound = 32);

/// Every checkpoint tensor the executable's weights read, filled randomly.
[[nodiscard]] absl::StatusOr<MapWeightSource>
randomWeights(const Executable &executable, uint64_t seed);

/// Every run-time input of the executable, as a random global tensor; ids
/// that index a gather or a one_hot (BindingSpec::indexBound) lie inside its
/// table or depth.
[[nodiscard]] absl::StatusOr<std::map<std::string, HostTensor>>
randomInputs(const Executable &executable, uint64_t seed);

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_RANDOM_H
