//===- SafeTensors.cpp - Reading and writing safetensors files ------------===//

#include "switchyard/Runtime/SafeTensors.h"

#include "runtime/io/MappedFile.h"
#include "switchyard/Runtime/Status.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; big-endian hosts need a "
              "byte swap on read");

namespace switchyard::runtime {

using json = nlohmann::json;

namespace {

/// Headers larger than this are rejected, as the reference implementation
/// does, before any parsing.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

constexpr std::pair<absl::string_view, DType> kDTypeNames[] = {
    {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16},
    {"I32", DType::I32}, {"I64", DType::I64}, {"BOOL", DType::Bool},
};

absl::string_view safetensorsName(DType dtype) {
  for (const auto &[name, value] : kDTypeNames)
    if (value == dtype)
      return name;
  return "?";
}

absl::Status headerError(const std::string &path, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid safetensors file '", path, "': ", message));
}

absl::Status tensorError(const std::string &path, absl::string_view tensor,
                         absl::string_view message) {
  return headerError(path, absl::StrCat("tensor '", tensor, "': ", message));
}

bool isNonNegativeInteger(const json &value) {
  return value.is_number_unsigned() ||
         (value.is_number_integer() && value.get<int64_t>() >= 0);
}

/// Parses one tensor entry `{"dtype", "shape", "data_offsets"}`.
absl::StatusOr<TensorInfo> parseTensorInfo(const std::string &path,
                                           const std::string &name,
                                           const json &entry) {
  if (!entry.is_object())
    return tensorError(path, name, "entry is not a JSON object");
  TensorInfo info;
  info.name = name;

  auto dtypeIt = entry.find("dtype");
  if (dtypeIt == entry.end() || !dtypeIt->is_string())
    return tensorError(path, name, "missing string field 'dtype'");
  const std::string &dtypeName = dtypeIt->get_ref<const std::string &>();
  auto known =
      std::find_if(std::begin(kDTypeNames), std::end(kDTypeNames),
                   [&](const auto &entry) { return entry.first == dtypeName; });
  if (known == std::end(kDTypeNames))
    return tensorError(
        path, name,
        absl::StrCat("unsupported dtype '", dtypeName,
                     "' (expected F32, F16, BF16, I32, I64 or BOOL)"));
  info.dtype = known->second;

  auto shapeIt = entry.find("shape");
  if (shapeIt == entry.end() || !shapeIt->is_array())
    return tensorError(path, name, "missing array field 'shape'");
  for (const json &dim : *shapeIt) {
    if (!isNonNegativeInteger(dim) ||
        dim.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      return tensorError(path, name,
                         absl::StrCat("shape ", shapeIt->dump(),
                                      " is not a list of non-negative "
                                      "integers"));
    info.shape.push_back(dim.get<int64_t>());
  }

  auto offsetsIt = entry.find("data_offsets");
  if (offsetsIt == entry.end() || !offsetsIt->is_array() ||
      offsetsIt->size() != 2 || !isNonNegativeInteger((*offsetsIt)[0]) ||
      !isNonNegativeInteger((*offsetsIt)[1]))
    return tensorError(
        path, name,
        "'data_offsets' is not a pair of non-negative integers [begin, end]");
  info.begin = (*offsetsIt)[0].get<uint64_t>();
  info.end = (*offsetsIt)[1].get<uint64_t>();
  if (info.begin > info.end)
    return tensorError(path, name,
                       absl::StrCat("data_offsets [", info.begin, ", ",
                                    info.end, "] are reversed"));

  absl::StatusOr<int64_t> count = checkedNumElements(info.shape, info.dtype);
  if (!count.ok())
    return tensorError(path, name, count.status().message());
  uint64_t expected = static_cast<uint64_t>(*count) * dtypeSize(info.dtype);
  if (info.end - info.begin != expected)
    return tensorError(path, name,
                       absl::StrCat("data_offsets [", info.begin, ", ",
                                    info.end, "] span ", info.end - info.begin,
                                    " bytes but ", safetensorsName(info.dtype),
                                    " ", shapeToString(info.shape), " needs ",
                                    expected));
  return info;
}

/// Parses the JSON header, rejecting duplicate keys at the top level.
absl::StatusOr<json> parseHeaderJson(const std::string &path,
                                     absl::string_view text) {
  absl::flat_hash_set<std::string> keys;
  std::string duplicate;
  json::parser_callback_t noteKeys = [&](int depth, json::parse_event_t event,
                                         json &parsed) {
    if (depth == 1 && event == json::parse_event_t::key &&
        !keys.insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  json header;
  try {
    header = json::parse(text.begin(), text.end(), noteKeys);
  } catch (const json::exception &e) {
    return headerError(path, absl::StrCat("header is not JSON: ", e.what()));
  }
  if (!duplicate.empty())
    return headerError(path,
                       absl::StrCat("header names '", duplicate, "' twice"));
  if (!header.is_object())
    return headerError(path, "header is not a JSON object");
  return header;
}

} // namespace

struct SafeTensorsFile::Mapping {
  MappedFile file;
};

SafeTensorsFile::~SafeTensorsFile() = default;

absl::StatusOr<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::open(const std::string &path) {
  SY_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
  absl::Span<const std::byte> bytes = mapped.bytes();
  if (bytes.size() < 8)
    return headerError(path, absl::StrCat("file has ", bytes.size(),
                                          " bytes, too few for the 8-byte "
                                          "header length"));
  uint64_t headerBytes;
  std::memcpy(&headerBytes, bytes.data(), 8);
  if (headerBytes > bytes.size() - 8)
    return headerError(path, absl::StrCat("header length ", headerBytes,
                                          " runs past the end of the file (",
                                          bytes.size(), " bytes)"));
  if (headerBytes > kMaxHeaderBytes)
    return headerError(path, absl::StrCat("header length ", headerBytes,
                                          " exceeds the limit of ",
                                          kMaxHeaderBytes, " bytes"));
  absl::string_view text(reinterpret_cast<const char *>(bytes.data()) + 8,
                         headerBytes);
  SY_ASSIGN_OR_RETURN(json header, parseHeaderJson(path, text));

  auto file = std::unique_ptr<SafeTensorsFile>(new SafeTensorsFile());
  file->path_ = path;
  for (auto &[key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object())
        return headerError(path, "'__metadata__' is not a JSON object");
      for (auto &[metaKey, metaValue] : value.items()) {
        if (!metaValue.is_string())
          return headerError(path, absl::StrCat("'__metadata__' entry '",
                                                metaKey, "' is not a string"));
        file->metadata_[metaKey] = metaValue.get<std::string>();
      }
      continue;
    }
    SY_ASSIGN_OR_RETURN(TensorInfo info, parseTensorInfo(path, key, value));
    file->tensors_.push_back(std::move(info));
  }

  // The byte ranges must tile the data region: sorted by offset, each begins
  // where the previous ended, and the last ends at the end of the file.
  std::stable_sort(file->tensors_.begin(), file->tensors_.end(),
                   [](const TensorInfo &a, const TensorInfo &b) {
                     return std::make_pair(a.begin, a.end) <
                            std::make_pair(b.begin, b.end);
                   });
  const uint64_t dataBytes = bytes.size() - 8 - headerBytes;
  uint64_t expectedBegin = 0;
  const TensorInfo *previous = nullptr;
  for (const TensorInfo &info : file->tensors_) {
    if (info.end > dataBytes)
      return tensorError(path, info.name,
                         absl::StrCat("data_offsets [", info.begin, ", ",
                                      info.end,
                                      "] lie outside the data region of ",
                                      dataBytes, " bytes"));
    if (info.begin < expectedBegin)
      return tensorError(path, info.name,
                         absl::StrCat("data_offsets [", info.begin, ", ",
                                      info.end, "] overlap tensor '",
                                      previous->name, "'"));
    if (info.begin > expectedBegin)
      return tensorError(path, info.name,
                         absl::StrCat("data_offsets [", info.begin, ", ",
                                      info.end, "] leave a gap of ",
                                      info.begin - expectedBegin,
                                      " unused bytes before the tensor"));
    expectedBegin = info.end;
    previous = &info;
  }
  if (expectedBegin != dataBytes)
    return headerError(path, absl::StrCat("the tensors cover ", expectedBegin,
                                          " bytes of a data region of ",
                                          dataBytes, " bytes"));

  for (size_t i = 0; i < file->tensors_.size(); ++i)
    file->byName_[file->tensors_[i].name] = i;
  file->data_ = bytes.data() + 8 + headerBytes;
  file->mapping_ = std::make_unique<Mapping>(Mapping{std::move(mapped)});
  return file;
}

const TensorInfo *SafeTensorsFile::find(absl::string_view name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : &tensors_[it->second];
}

absl::StatusOr<const TensorInfo *>
SafeTensorsFile::lookup(absl::string_view name) const {
  if (const TensorInfo *info = find(name))
    return info;
  return absl::NotFoundError(
      absl::StrCat("no tensor '", name, "' in '", path_, "'"));
}

absl::Status SafeTensorsFile::readSliceInto(absl::string_view name,
                                            absl::Span<const DimRange> slice,
                                            absl::Span<std::byte> dst) const {
  SY_ASSIGN_OR_RETURN(const TensorInfo *info, lookup(name));
  absl::StatusOr<std::vector<int64_t>> shape = sliceShape(info->shape, slice);
  if (!shape.ok())
    return absl::Status(shape.status().code(),
                        absl::StrCat("tensor '", name, "' in '", path_,
                                     "': ", shape.status().message()));
  size_t bytes = dtypeSize(info->dtype);
  for (int64_t dim : *shape)
    bytes *= dim;
  if (dst.size() != bytes)
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", name, "' in '", path_, "': slice of shape ",
                     shapeToString(*shape), " needs ", bytes,
                     " bytes, destination has ", dst.size()));
  copySlice(data_ + info->begin, info->shape, dtypeSize(info->dtype), slice,
            dst.data());
  return absl::OkStatus();
}

absl::StatusOr<HostTensor>
SafeTensorsFile::readSlice(absl::string_view name,
                           absl::Span<const DimRange> slice) const {
  SY_ASSIGN_OR_RETURN(const TensorInfo *info, lookup(name));
  absl::StatusOr<std::vector<int64_t>> shape = sliceShape(info->shape, slice);
  if (!shape.ok())
    return absl::Status(shape.status().code(),
                        absl::StrCat("tensor '", name, "' in '", path_,
                                     "': ", shape.status().message()));
  SY_ASSIGN_OR_RETURN(HostTensor tensor,
                      HostTensor::allocate(info->dtype, *std::move(shape)));
  SY_RETURN_IF_ERROR(readSliceInto(
      name, slice,
      {static_cast<std::byte *>(tensor.data()), tensor.byteSize()}));
  return tensor;
}

absl::StatusOr<HostTensor> SafeTensorsFile::read(absl::string_view name) const {
  SY_ASSIGN_OR_RETURN(const TensorInfo *info, lookup(name));
  std::vector<DimRange> whole;
  for (int64_t dim : info->shape)
    whole.push_back({0, dim});
  return readSlice(name, whole);
}

//===----------------------------------------------------------------------===//
// Checkpoint
//===----------------------------------------------------------------------===//

namespace {

absl::StatusOr<json> readIndexJson(const std::string &path) {
  SY_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
  auto text = reinterpret_cast<const char *>(mapped.bytes().data());
  try {
    return json::parse(text, text + mapped.bytes().size());
  } catch (const json::exception &e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid checkpoint index '", path, "': not JSON: ", e.what()));
  }
}

} // namespace

absl::StatusOr<Checkpoint> Checkpoint::open(const std::string &path) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::string file = path;
  if (fs::is_directory(path, error)) {
    fs::path index = fs::path(path) / "model.safetensors.index.json";
    file = fs::exists(index, error)
               ? index.string()
               : (fs::path(path) / "model.safetensors").string();
  }

  Checkpoint checkpoint;
  checkpoint.path_ = file;
  if (!absl::EndsWith(file, ".json")) {
    SY_ASSIGN_OR_RETURN(std::unique_ptr<SafeTensorsFile> shard,
                        SafeTensorsFile::open(file));
    for (const TensorInfo &info : shard->tensors())
      checkpoint.shardByName_[info.name] = shard.get();
    checkpoint.shards_.push_back(std::move(shard));
    return checkpoint;
  }

  SY_ASSIGN_OR_RETURN(json index, readIndexJson(file));
  auto indexError = [&](absl::string_view message) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid checkpoint index '", file, "': ", message));
  };
  if (!index.is_object() || !index.contains("weight_map") ||
      !index["weight_map"].is_object())
    return indexError("no 'weight_map' object");
  fs::path directory = fs::path(file).parent_path();
  std::map<std::string, const SafeTensorsFile *> shardByFile;
  for (auto &[name, shardName] : index["weight_map"].items()) {
    if (!shardName.is_string())
      return indexError(
          absl::StrCat("the shard of tensor '", name, "' is not a string"));
    const std::string &relative = shardName.get_ref<const std::string &>();
    auto [it, inserted] = shardByFile.try_emplace(relative, nullptr);
    if (inserted) {
      SY_ASSIGN_OR_RETURN(
          std::unique_ptr<SafeTensorsFile> shard,
          SafeTensorsFile::open((directory / relative).string()));
      it->second = shard.get();
      checkpoint.shards_.push_back(std::move(shard));
    }
    if (!it->second->find(name))
      return indexError(absl::StrCat("tensor '", name, "' is mapped to '",
                                     it->second->path(),
                                     "', which does not hold it"));
    checkpoint.shardByName_[name] = it->second;
  }
  return checkpoint;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> result;
  for (const auto &entry : shardByName_)
    result.push_back(entry.first);
  std::sort(result.begin(), result.end());
  return result;
}

absl::StatusOr<const SafeTensorsFile *>
Checkpoint::shardOf(absl::string_view name) const {
  auto it = shardByName_.find(name);
  if (it == shardByName_.end())
    return absl::NotFoundError(
        absl::StrCat("no tensor '", name, "' in checkpoint '", path_, "'"));
  return it->second;
}

const TensorInfo *Checkpoint::find(absl::string_view name) const {
  auto it = shardByName_.find(name);
  return it == shardByName_.end() ? nullptr : it->second->find(name);
}

absl::Status Checkpoint::readSliceInto(absl::string_view name,
                                       absl::Span<const DimRange> slice,
                                       absl::Span<std::byte> dst) const {
  SY_ASSIGN_OR_RETURN(const SafeTensorsFile *shard, shardOf(name));
  return shard->readSliceInto(name, slice, dst);
}

absl::StatusOr<HostTensor>
Checkpoint::readSlice(absl::string_view name,
                      absl::Span<const DimRange> slice) const {
  SY_ASSIGN_OR_RETURN(const SafeTensorsFile *shard, shardOf(name));
  return shard->readSlice(name, slice);
}

absl::StatusOr<HostTensor> Checkpoint::read(absl::string_view name) const {
  SY_ASSIGN_OR_RETURN(const SafeTensorsFile *shard, shardOf(name));
  return shard->read(name);
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

absl::Status writeSafeTensors(
    const std::string &path,
    absl::Span<const std::pair<std::string, const HostTensor *>> tensors,
    const std::map<std::string, std::string> &metadata) {
  json header = json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto &[name, tensor] : tensors) {
    if (name.empty() || name == "__metadata__")
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot write a tensor named '", name, "' to '", path, "'"));
    if (header.contains(name))
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", name, "' is given twice for '", path, "'"));
    header[name] = {{"dtype", safetensorsName(tensor->dtype())},
                    {"shape", tensor->shape()},
                    {"data_offsets", {offset, offset + tensor->byteSize()}}};
    offset += tensor->byteSize();
  }
  std::string text = header.dump();
  // Pad with spaces so that the data region starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint64_t headerBytes = text.size();

  std::FILE *out = std::fopen(path.c_str(), "wb");
  if (!out)
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("cannot create '", path, "'"));
  bool ok = std::fwrite(&headerBytes, 8, 1, out) == 1 &&
            std::fwrite(text.data(), 1, text.size(), out) == text.size();
  for (const auto &entry : tensors) {
    const HostTensor &tensor = *entry.second;
    ok = ok && std::fwrite(tensor.data(), 1, tensor.byteSize(), out) ==
                   tensor.byteSize();
  }
  int savedErrno = errno;
  ok = (std::fclose(out) == 0) && ok;
  if (!ok)
    return absl::ErrnoToStatus(savedErrno ? savedErrno : errno,
                               absl::StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

} // namespace switchyard::runtime
