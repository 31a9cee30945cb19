//===- SafeTensorsTest.cpp - Tests of the safetensors reader and writer ---===//

#include "switchyard/Runtime/SafeTensors.h"

#include "TestUtil.h"

#include <cstring>
#include <numeric>

namespace switchyard::runtime {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

/// A safetensors file with the given raw header text and `dataBytes` bytes.
std::string safetensorsBytes(const std::string &header, size_t dataBytes) {
  uint64_t length = header.size();
  std::string bytes(reinterpret_cast<const char *>(&length), 8);
  return bytes + header + std::string(dataBytes, '\0');
}

HostTensor iotaF32(std::vector<int64_t> shape) {
  HostTensor t = *HostTensor::allocate(DType::F32, std::move(shape));
  std::iota(t.span<float>().begin(), t.span<float>().end(), 0.0f);
  return t;
}

class SafeTensorsTest : public TempDirTest {
protected:
  /// Opens a file with the given header and data size and returns the error.
  absl::Status openError(const std::string &header, size_t dataBytes) {
    std::string file =
        writeFile("bad.safetensors", safetensorsBytes(header, dataBytes));
    absl::StatusOr<std::unique_ptr<SafeTensorsFile>> opened =
        SafeTensorsFile::open(file);
    EXPECT_FALSE(opened.ok());
    return opened.status();
  }
};

TEST_F(SafeTensorsTest, RoundTrip) {
  HostTensor a = iotaF32({2, 3});
  HostTensor b = *HostTensor::allocate(DType::I32, {4});
  b.span<int32_t>()[2] = -7;
  HostTensor c = *HostTensor::allocate(DType::Bool, {3});
  c.span<uint8_t>()[1] = 1;
  HostTensor d = *HostTensor::allocate(DType::BF16, {2});
  static_cast<uint16_t *>(d.data())[0] = 0x3f80;
  HostTensor e = *HostTensor::allocate(DType::I64, {});
  e.span<int64_t>()[0] = 1LL << 40;
  HostTensor f = *HostTensor::allocate(DType::F16, {0, 5});
  std::string file = path("model.safetensors");
  ASSERT_TRUE(
      writeSafeTensors(
          file,
          {{"a", &a}, {"b", &b}, {"c", &c}, {"d", &d}, {"e", &e}, {"f", &f}},
          {{"format", "pt"}})
          .ok());

  absl::StatusOr<std::unique_ptr<SafeTensorsFile>> opened =
      SafeTensorsFile::open(file);
  ASSERT_TRUE(opened.ok()) << opened.status();
  const SafeTensorsFile &st = **opened;
  EXPECT_EQ(st.metadata().at("format"), "pt");
  ASSERT_EQ(st.tensors().size(), 6u);
  EXPECT_EQ(st.tensors()[0].name, "a");
  EXPECT_EQ(st.find("c")->dtype, DType::Bool);
  EXPECT_EQ(st.find("missing"), nullptr);

  absl::StatusOr<HostTensor> ra = st.read("a");
  ASSERT_TRUE(ra.ok());
  EXPECT_THAT(ra->shape(), ElementsAre(2, 3));
  EXPECT_THAT(ra->span<float>(), ElementsAreArray(a.span<float>()));
  EXPECT_THAT(st.read("b")->span<int32_t>(), ElementsAre(0, 0, -7, 0));
  EXPECT_THAT(st.read("c")->span<uint8_t>(), ElementsAre(0, 1, 0));
  EXPECT_EQ(static_cast<const uint16_t *>(st.read("d")->data())[0], 0x3f80);
  absl::StatusOr<HostTensor> re = st.read("e");
  EXPECT_TRUE(re->shape().empty());
  EXPECT_EQ(re->span<int64_t>()[0], 1LL << 40);
  EXPECT_THAT(st.read("f")->shape(), ElementsAre(0, 5));

  absl::StatusOr<HostTensor> missing = st.read("nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(),
              AllOf(HasSubstr("'nope'"), HasSubstr(file)));
}

TEST_F(SafeTensorsTest, WriterRejectsBadNames) {
  HostTensor a = iotaF32({1});
  EXPECT_FALSE(writeSafeTensors(path("x"), {{"a", &a}, {"a", &a}}).ok());
  EXPECT_FALSE(writeSafeTensors(path("x"), {{"", &a}}).ok());
  EXPECT_FALSE(writeSafeTensors(path("x"), {{"__metadata__", &a}}).ok());
  EXPECT_FALSE(writeSafeTensors(path("no/such/dir/x"), {{"a", &a}}).ok());
}

TEST_F(SafeTensorsTest, SliceReads) {
  HostTensor w = iotaF32({4, 5, 6});
  std::string file = path("w.safetensors");
  ASSERT_TRUE(writeSafeTensors(file, {{"w", &w}}).ok());
  std::unique_ptr<SafeTensorsFile> st = *SafeTensorsFile::open(file);

  const std::vector<std::vector<DimRange>> slices = {
      {{0, 4}, {0, 5}, {0, 6}}, {{1, 3}, {0, 5}, {0, 6}},
      {{0, 4}, {2, 4}, {0, 6}}, {{0, 4}, {0, 5}, {3, 6}},
      {{3, 4}, {1, 5}, {2, 3}}, {{0, 4}, {2, 2}, {0, 6}},
  };
  for (const std::vector<DimRange> &slice : slices) {
    absl::StatusOr<HostTensor> part = st->readSlice("w", slice);
    ASSERT_TRUE(part.ok()) << part.status();
    std::vector<float> expected;
    for (int64_t i = slice[0].begin; i < slice[0].end; ++i)
      for (int64_t j = slice[1].begin; j < slice[1].end; ++j)
        for (int64_t k = slice[2].begin; k < slice[2].end; ++k)
          expected.push_back((i * 5 + j) * 6 + k);
    EXPECT_THAT(part->shape(), ElementsAre(slice[0].end - slice[0].begin,
                                           slice[1].end - slice[1].begin,
                                           slice[2].end - slice[2].begin));
    EXPECT_THAT(part->span<float>(), ElementsAreArray(expected));
  }

  std::vector<float> into(2 * 5 * 6);
  EXPECT_TRUE(st->readSliceInto(
                    "w", {{2, 4}, {0, 5}, {0, 6}},
                    absl::MakeSpan(reinterpret_cast<std::byte *>(into.data()),
                                   into.size() * 4))
                  .ok());
  EXPECT_EQ(into[0], 60.0f);
  absl::Status wrongSize = st->readSliceInto(
      "w", {{2, 4}, {0, 5}, {0, 6}},
      absl::MakeSpan(reinterpret_cast<std::byte *>(into.data()), 4));
  EXPECT_THAT(wrongSize.message(), HasSubstr("destination has 4"));

  absl::StatusOr<HostTensor> outside =
      st->readSlice("w", {{0, 5}, {0, 5}, {0, 6}});
  EXPECT_EQ(outside.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(outside.status().message(),
              AllOf(HasSubstr("'w'"), HasSubstr(file), HasSubstr("[0, 5)")));
  EXPECT_FALSE(st->readSlice("w", {{0, 4}}).ok());
}

TEST_F(SafeTensorsTest, MissingFile) {
  absl::StatusOr<std::unique_ptr<SafeTensorsFile>> opened =
      SafeTensorsFile::open(path("absent.safetensors"));
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(opened.status().message(), HasSubstr("absent.safetensors"));
}

TEST_F(SafeTensorsTest, TooShortForHeaderLength) {
  std::string file = writeFile("short.safetensors", "abc");
  EXPECT_THAT(SafeTensorsFile::open(file).status().message(),
              AllOf(HasSubstr(file), HasSubstr("too few")));
}

TEST_F(SafeTensorsTest, HeaderLengthPastEndOfFile) {
  std::string bytes = safetensorsBytes("{}", 0);
  uint64_t length = 1000;
  std::memcpy(bytes.data(), &length, 8);
  std::string file = writeFile("long.safetensors", bytes);
  EXPECT_THAT(SafeTensorsFile::open(file).status().message(),
              AllOf(HasSubstr(file), HasSubstr("header length 1000 runs past "
                                               "the end of the file")));
}

TEST_F(SafeTensorsTest, BadJson) {
  EXPECT_THAT(openError("{\"a\": ", 0).message(),
              AllOf(HasSubstr("bad.safetensors"), HasSubstr("not JSON")));
  EXPECT_THAT(openError("[1, 2]", 0).message(), HasSubstr("not a JSON object"));
}

TEST_F(SafeTensorsTest, DuplicateName) {
  const std::string entry =
      R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  EXPECT_THAT(
      openError("{\"w\":" + entry + ",\"w\":" + entry + "}", 4).message(),
      HasSubstr("names 'w' twice"));
}

TEST_F(SafeTensorsTest, UnknownDType) {
  EXPECT_THAT(
      openError(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8)
          .message(),
      AllOf(HasSubstr("tensor 'w'"), HasSubstr("unsupported dtype 'F64'"),
            HasSubstr("bad.safetensors")));
}

TEST_F(SafeTensorsTest, MissingOrMalformedFields) {
  EXPECT_THAT(
      openError(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", 4).message(),
      AllOf(HasSubstr("tensor 'w'"), HasSubstr("'dtype'")));
  EXPECT_THAT(
      openError(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4)
          .message(),
      HasSubstr("non-negative"));
  EXPECT_THAT(
      openError(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4)
          .message(),
      HasSubstr("'data_offsets'"));
  EXPECT_THAT(
      openError(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4)
          .message(),
      HasSubstr("reversed"));
  EXPECT_THAT(openError(R"({"w":3})", 0).message(),
              HasSubstr("not a JSON object"));
  EXPECT_THAT(openError(R"({"__metadata__":{"k":1}})", 0).message(),
              HasSubstr("'k' is not a string"));
}

TEST_F(SafeTensorsTest, OffsetsOutsideDataRegion) {
  EXPECT_THAT(
      openError(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4)
          .message(),
      AllOf(HasSubstr("tensor 'w'"), HasSubstr("outside the data region")));
}

TEST_F(SafeTensorsTest, SizeMismatch) {
  EXPECT_THAT(
      openError(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})",
                20)
          .message(),
      AllOf(HasSubstr("tensor 'w'"), HasSubstr("span 20 bytes"),
            HasSubstr("needs 24")));
}

TEST_F(SafeTensorsTest, Overlap) {
  EXPECT_THAT(
      openError(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                    "b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                8)
          .message(),
      AllOf(HasSubstr("tensor 'b'"), HasSubstr("overlap tensor 'a'")));
}

TEST_F(SafeTensorsTest, GapAndTrailingBytes) {
  EXPECT_THAT(
      openError(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)
          .message(),
      AllOf(HasSubstr("tensor 'w'"), HasSubstr("gap of 4")));
  EXPECT_THAT(
      openError(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8)
          .message(),
      HasSubstr("cover 4 bytes of a data region of 8"));
}

class CheckpointTest : public TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    a_ = iotaF32({2, 2});
    b_ = iotaF32({3});
    ASSERT_TRUE(writeSafeTensors(path("s1.safetensors"), {{"a", &a_}}).ok());
    ASSERT_TRUE(writeSafeTensors(path("s2.safetensors"), {{"b", &b_}}).ok());
  }
  HostTensor a_, b_;
};

TEST_F(CheckpointTest, ShardedIndex) {
  writeFile("model.safetensors.index.json",
            R"({"metadata":{"total_size":28},
                "weight_map":{"a":"s1.safetensors","b":"s2.safetensors"}})");
  absl::StatusOr<Checkpoint> checkpoint = Checkpoint::open(dir_.string());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_THAT(checkpoint->names(), ElementsAre("a", "b"));
  EXPECT_THAT(checkpoint->read("b")->span<float>(), ElementsAre(0, 1, 2));
  EXPECT_THAT(checkpoint->readSlice("a", {{1, 2}, {0, 2}})->span<float>(),
              ElementsAre(2, 3));
  EXPECT_EQ(checkpoint->find("a")->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(checkpoint->find("c"), nullptr);
  EXPECT_EQ(checkpoint->read("c").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CheckpointTest, SingleFile) {
  absl::StatusOr<Checkpoint> checkpoint =
      Checkpoint::open(path("s1.safetensors"));
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_THAT(checkpoint->names(), ElementsAre("a"));
}

TEST_F(CheckpointTest, IndexErrors) {
  std::string index =
      writeFile("wrong.index.json", R"({"weight_map":{"a":"s2.safetensors"}})");
  EXPECT_THAT(Checkpoint::open(index).status().message(),
              AllOf(HasSubstr("tensor 'a'"), HasSubstr("s2.safetensors"),
                    HasSubstr("does not hold it")));
  index = writeFile("missing.index.json",
                    R"({"weight_map":{"a":"s9.safetensors"}})");
  EXPECT_EQ(Checkpoint::open(index).status().code(),
            absl::StatusCode::kNotFound);
  index = writeFile("nomap.index.json", R"({"metadata":{}})");
  EXPECT_THAT(Checkpoint::open(index).status().message(),
              HasSubstr("no 'weight_map'"));
  index = writeFile("broken.index.json", "{");
  EXPECT_THAT(Checkpoint::open(index).status().message(),
              HasSubstr("not JSON"));
}

} // namespace
} // namespace switchyard::runtime
