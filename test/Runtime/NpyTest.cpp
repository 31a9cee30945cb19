//===- NpyTest.cpp - Tests of the .npy reader and writer ------------------===//

#include "switchyard/Runtime/Npy.h"

#include "TestUtil.h"

#include <cstring>

namespace switchyard::runtime {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

/// A version-1.0 .npy file with the given header dict and data.
std::string npyBytes(const std::string &dict, const std::string &data,
                     char major = 1) {
  std::string bytes = std::string("\x93NUMPY") + major + '\0';
  uint32_t length = dict.size();
  bytes.append(reinterpret_cast<const char *>(&length), major == 1 ? 2 : 4);
  return bytes + dict + data;
}

std::string floats(std::initializer_list<float> values) {
  return std::string(reinterpret_cast<const char *>(values.begin()),
                     values.size() * sizeof(float));
}

using NpyTest = TempDirTest;

TEST_F(NpyTest, RoundTrip) {
  HostTensor f = *HostTensor::allocate(DType::F32, {2, 3});
  f.span<float>()[4] = 2.5f;
  HostTensor i = *HostTensor::allocate(DType::I64, {3});
  i.span<int64_t>()[0] = -3;
  HostTensor b = *HostTensor::allocate(DType::Bool, {});
  b.span<uint8_t>()[0] = 1;
  HostTensor e = *HostTensor::allocate(DType::I32, {0, 2});
  for (HostTensor *t : {&f, &i, &b, &e}) {
    std::string file = path("t.npy");
    ASSERT_TRUE(writeNpy(file, *t).ok());
    absl::StatusOr<HostTensor> back = readNpy(file);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->dtype(), t->dtype());
    EXPECT_EQ(back->shape(), t->shape());
    EXPECT_EQ(std::memcmp(back->data(), t->data(), t->byteSize()), 0);
  }
}

TEST_F(NpyTest, WrittenHeaderMatchesNumPy) {
  HostTensor t = *HostTensor::allocate(DType::F32, {3});
  std::string file = path("t.npy");
  ASSERT_TRUE(writeNpy(file, t).ok());
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_EQ(bytes.size(), 128u + 12u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(bytes.substr(10, 57),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }");
  EXPECT_EQ(bytes[127], '\n');
}

TEST_F(NpyTest, ReadsVersion2AndDoubleQuotes) {
  std::string file = writeFile(
      "v2.npy",
      npyBytes(R"({"descr": "<f4", "shape": (2,), "fortran_order": False})",
               floats({1, 2}), 2));
  absl::StatusOr<HostTensor> t = readNpy(file);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->span<float>(), ElementsAre(1, 2));
}

TEST_F(NpyTest, WritesBf16WidenedToF32) {
  HostTensor t = *HostTensor::allocate(DType::BF16, {3});
  auto *bits = static_cast<uint16_t *>(t.data());
  bits[0] = 0x3FC0; // 1.5
  bits[1] = 0xC020; // -2.5
  bits[2] = 0x3C01; // 2^-7 (1 + 2^-7): the lowest mantissa bit set
  ASSERT_TRUE(writeNpy(path("t.npy"), t).ok());
  absl::StatusOr<HostTensor> read = readNpy(path("t.npy"));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->dtype(), DType::F32);
  EXPECT_THAT(read->span<float>(), ElementsAre(1.5f, -2.5f, 0.0078125f * (1 + 0.0078125f)));
}

TEST_F(NpyTest, Malformed) {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (2,), }";
  struct Case {
    std::string bytes;
    std::string message;
  };
  const Case cases[] = {
      {"not numpy", "magic"},
      {"\x93NUMPY", "truncated before the version"},
      {npyBytes(ok, floats({1, 2}), 3), "unsupported version 3"},
      {npyBytes(ok, floats({1})), "truncated data"},
      {npyBytes(ok, floats({1, 2, 3})), "the file has 12"},
      {npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
                floats({1, 2})),
       "Fortran-order"},
      {npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                floats({1, 2})),
       "unsupported dtype '>f4'"},
      {npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
                floats({1, 2})),
       "unsupported dtype '<f8'"},
      {npyBytes("{'descr': '<f4', 'shape': (2,), }", floats({1, 2})),
       "needs the keys"},
      {npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }",
                ""),
       "non-negative integer"},
      {npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), "
                "'extra': 1}",
                floats({1, 2})),
       "unexpected key 'extra'"},
      {npyBytes("{'descr': '<f4', 'fortran_order': False", ""), "expected"},
  };
  for (const Case &c : cases) {
    std::string file = writeFile("bad.npy", c.bytes);
    absl::StatusOr<HostTensor> t = readNpy(file);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument)
        << c.message;
    EXPECT_THAT(t.status().message(),
                AllOf(HasSubstr("bad.npy"), HasSubstr(c.message)));
  }
}

TEST_F(NpyTest, HeaderLengthPastEnd) {
  std::string bytes = npyBytes("{}", "");
  bytes[8] = 100;
  std::string file = writeFile("bad.npy", bytes);
  EXPECT_THAT(readNpy(file).status().message(), HasSubstr("runs past"));
}

} // namespace
} // namespace switchyard::runtime
