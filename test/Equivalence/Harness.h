//===- Harness.h - a partitioned program against its one-device run -------===//
//
// The comparison the equivalence suites rest on: compile a module for a mesh
// and layout rules and for the same mesh with every axis of size 1, run the
// partitioned program on a backend and the one-device program on the cpu
// mesh with the same random weights and inputs, and compare the outputs:
// integer and boolean outputs (routing decisions) exactly, f32 within 1e-5
// of the output's largest magnitude, bf16 within one ulp.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_TEST_EQUIVALENCE_HARNESS_H
#define SWITCHYARD_TEST_EQUIVALENCE_HARNESS_H

#include "Backends.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace switchyard::equivalence {

/// What to compile and with which random data.
struct EquivalenceCase {
  /// The module's text, and the name its diagnostics carry.
  std::string source;
  std::string sourceName;
  /// Mesh TF mesh and layout rules; empty: the module's own.
  std::string mesh;
  std::string layout;
  uint64_t weightSeed = 1234;
  uint64_t inputSeed = 5678;
  /// Where the partitioned program runs.
  testsupport::Backend backend = testsupport::Backend::Cpu;
};

/// `mesh` with every axis of size 1: the same program on one device.
std::string unitMesh(const std::string &mesh);

/// Runs `c` partitioned and on one device and compares the outputs. On
/// success `collectives` (when given) receives how many collectives the
/// partitioned run executed; a failure says which step or output differs.
testing::AssertionResult matchesOneDevice(const EquivalenceCase &c,
                                          int64_t *collectives = nullptr);

} // namespace switchyard::equivalence

#endif // SWITCHYARD_TEST_EQUIVALENCE_HARNESS_H
