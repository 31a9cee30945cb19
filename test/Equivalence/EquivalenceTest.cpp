//===- EquivalenceTest.cpp - partitioned programs match one device --------===//
//
// Each hand-written model on meshes of 2 to 8 devices under several layout
// rules, on every backend built, against the same program on one device
// (Harness.h).
//
//===----------------------------------------------------------------------===//

#include "Harness.h"

#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

using namespace switchyard::equivalence;
using switchyard::testsupport::Backend;

namespace {

struct Case {
  const char *model;
  const char *mesh;
  const char *layout;
  Backend backend = Backend::Cpu;
};

std::ostream &operator<<(std::ostream &os, const Case &c) {
  return os << c.model << " on " << (*c.mesh ? c.mesh : "its mesh") << " with '"
            << c.layout << "', "
            << switchyard::testsupport::backendName(c.backend);
}

/// Each case on every backend built.
std::vector<Case> onEveryBackend(std::vector<Case> cases) {
  std::vector<Case> all;
  for (Backend backend : switchyard::testsupport::builtBackends())
    for (Case c : cases) {
      c.backend = backend;
      all.push_back(c);
    }
  return all;
}

/// "<index>_<backend>".
std::string caseName(const testing::TestParamInfo<Case> &info) {
  return std::to_string(info.index) + "_" +
         switchyard::testsupport::backendName(info.param.backend);
}

class Equivalence : public testing::TestWithParam<Case> {};

TEST_P(Equivalence, MatchesOneDevice) {
  const Case &c = GetParam();
  SKIP_UNLESS_AVAILABLE(c.backend);
  std::string path = std::string(SWITCHYARD_SOURCE_DIR) +
                     "/test/Equivalence/models/" + c.model;
  auto file = llvm::MemoryBuffer::getFile(path);
  ASSERT_TRUE(file) << "cannot read " << path;
  int64_t collectives = 0;
  ASSERT_TRUE(matchesOneDevice({(*file)->getBuffer().str(), path, c.mesh,
                                c.layout, 1234, 5678, c.backend},
                               &collectives));
  EXPECT_GT(collectives, 0) << "the partitioned program moved no data";
}

INSTANTIATE_TEST_SUITE_P(
    Einsum, Equivalence,
    testing::ValuesIn(onEveryBackend(
        {Case{"einsum.mlir", "b:2", "batch:b"},
         Case{"einsum.mlir", "m:4", "d_ff:m"},
         Case{"einsum.mlir", "b:8", "d_model:b"},
         Case{"einsum.mlir", "b:2,m:4", "batch:b;d_ff:m"},
         Case{"einsum.mlir", "x:2,y:2,z:2", "batch:x;d_ff:y,z"},
         Case{"einsum.mlir", "x:2,y:2", "d_model:x;d_ff:y"},
         Case{"contraction.mlir", "m:4", "k:m;batch:m"},
         Case{"contraction.mlir", "x:2,y:2", "k:x,y;batch:x,y"},
         Case{"contraction.mlir", "b:2,m:2", "batch:b;k:m;n:m"}})),
    caseName);

INSTANTIATE_TEST_SUITE_P(WholeDims, Equivalence,
                         testing::ValuesIn(onEveryBackend(
                             {Case{"norms.mlir", "l:2", "length:l"},
                              Case{"norms.mlir", "d:4", "d_model:d"},
                              Case{"norms.mlir", "v:2,b:2", "vocab:v;batch:b"},
                              Case{"norms.mlir", "b:8", "batch:b"}})),
                         caseName);

INSTANTIATE_TEST_SUITE_P(Reshard, Equivalence,
                         testing::ValuesIn(onEveryBackend({Case{"reshard.mlir",
                                                                "", ""}})),
                         caseName);

INSTANTIATE_TEST_SUITE_P(SwitchLayer, Equivalence,
                         testing::ValuesIn(onEveryBackend(
                             {Case{"moe.mlir", "b:2", "experts:b;batch:b"},
                              Case{"moe.mlir", "b:4", "experts:b;batch:b"},
                              Case{"moe.mlir", "b:8", "experts:b;batch:b"},
                              Case{"moe.mlir", "b:4", "batch:b;experts:b"},
                              Case{"moe.mlir", "e:4", "experts:e"},
                              Case{"moe.mlir", "b:2,e:2", "batch:b;experts:e"},
                              Case{"moe.mlir", "b:2,m:2", "batch:b;d_ff:m"},
                              Case{"moe.mlir", "b:2,e:2,m:2",
                                   "batch:b;experts:e;d_ff:m"},
                              Case{"moe.mlir", "l:2", "length:l"}})),
                         caseName);

INSTANTIATE_TEST_SUITE_P(
    Top2Layer, Equivalence,
    testing::ValuesIn(
        onEveryBackend({Case{"moe_top2.mlir", "b:4", "experts:b;batch:b"},
                        Case{"moe_top2.mlir", "b:2,e:2", "batch:b;experts:e"},
                        Case{"moe_top2.mlir", "b:2,m:2", "batch:b;d_ff:m"},
                        Case{"moe_top2.mlir", "l:2", "length:l"},
                        Case{"moe_top2.mlir", "c:2", "choice:c;d_model:c"}})),
    caseName);

} // namespace
