//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//

#include "switchyard/Runtime/Npy.h"

#include "runtime/io/MappedFile.h"
#include "switchyard/Runtime/Status.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .npy reader and writer assume a little-endian host");

namespace switchyard::runtime {

namespace {

constexpr absl::string_view kMagic = "\x93NUMPY";

constexpr std::pair<absl::string_view, DType> kDescrs[] = {
    {"<f4", DType::F32}, {"<f2", DType::F16},  {"<i4", DType::I32},
    {"<i8", DType::I64}, {"|b1", DType::Bool},
};

/// The parsed header dict.
struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

/// A recursive-descent parser for the header's Python dict literal.
class HeaderParser {
public:
  explicit HeaderParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<NpyHeader> parse() {
    NpyHeader header;
    bool seenDescr = false, seenOrder = false, seenShape = false;
    if (!consume('{'))
      return error("expected '{'");
    while (!consume('}')) {
      SY_ASSIGN_OR_RETURN(std::string key, parseString());
      if (!consume(':'))
        return error("expected ':'");
      if (key == "descr" && !seenDescr) {
        SY_ASSIGN_OR_RETURN(header.descr, parseString());
        seenDescr = true;
      } else if (key == "fortran_order" && !seenOrder) {
        SY_ASSIGN_OR_RETURN(header.fortranOrder, parseBool());
        seenOrder = true;
      } else if (key == "shape" && !seenShape) {
        SY_ASSIGN_OR_RETURN(header.shape, parseShape());
        seenShape = true;
      } else {
        return error(absl::StrCat("unexpected key '", key, "'"));
      }
      if (!consume(',') && !peek('}'))
        return error("expected ',' or '}'");
    }
    skipSpace();
    if (pos_ != text_.size())
      return error("trailing characters after the dict");
    if (!seenDescr || !seenOrder || !seenShape)
      return error("the dict needs the keys 'descr', 'fortran_order' and "
                   "'shape'");
    return header;
  }

private:
  absl::Status error(absl::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat("header dict at offset ", pos_, ": ", message));
  }
  void skipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(text_[pos_]))
      ++pos_;
  }
  bool peek(char c) {
    skipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  bool consume(char c) {
    if (!peek(c))
      return false;
    ++pos_;
    return true;
  }
  bool consumeWord(absl::string_view word) {
    skipSpace();
    if (text_.substr(pos_, word.size()) != word)
      return false;
    pos_ += word.size();
    return true;
  }
  absl::StatusOr<std::string> parseString() {
    skipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      return error("expected a quoted string");
    char quote = text_[pos_++];
    size_t end = text_.find(quote, pos_);
    if (end == absl::string_view::npos)
      return error("unterminated string");
    std::string result(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return result;
  }
  absl::StatusOr<bool> parseBool() {
    if (consumeWord("True"))
      return true;
    if (consumeWord("False"))
      return false;
    return error("expected True or False");
  }
  absl::StatusOr<std::vector<int64_t>> parseShape() {
    std::vector<int64_t> shape;
    if (!consume('('))
      return error("expected a shape tuple");
    while (!consume(')')) {
      skipSpace();
      size_t begin = pos_;
      while (pos_ < text_.size() && absl::ascii_isdigit(text_[pos_]))
        ++pos_;
      int64_t dim;
      if (!absl::SimpleAtoi(text_.substr(begin, pos_ - begin), &dim))
        return error("expected a non-negative integer dimension");
      shape.push_back(dim);
      if (!consume(',') && !peek(')'))
        return error("expected ',' or ')' in the shape");
    }
    return shape;
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

absl::Status npyError(const std::string &path, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid .npy file '", path, "': ", message));
}

} // namespace

absl::StatusOr<HostTensor> readNpy(const std::string &path) {
  SY_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
  absl::string_view bytes(reinterpret_cast<const char *>(mapped.bytes().data()),
                          mapped.bytes().size());
  if (bytes.substr(0, kMagic.size()) != kMagic)
    return npyError(path, "missing the \\x93NUMPY magic string");
  if (bytes.size() < kMagic.size() + 2)
    return npyError(path, "truncated before the version");
  int major = static_cast<unsigned char>(bytes[6]);
  size_t lengthBytes = major == 1 ? 2 : 4;
  if (major != 1 && major != 2)
    return npyError(path, absl::StrCat("unsupported version ", major, ".",
                                       static_cast<int>(bytes[7]),
                                       " (expected 1.0 or 2.0)"));
  size_t prefix = kMagic.size() + 2 + lengthBytes;
  if (bytes.size() < prefix)
    return npyError(path, "truncated before the header length");
  uint32_t headerBytes = 0;
  std::memcpy(&headerBytes, bytes.data() + 8, lengthBytes);
  if (headerBytes > bytes.size() - prefix)
    return npyError(path, absl::StrCat("header length ", headerBytes,
                                       " runs past the end of the file"));

  absl::StatusOr<NpyHeader> header =
      HeaderParser(bytes.substr(prefix, headerBytes)).parse();
  if (!header.ok())
    return npyError(path, header.status().message());
  if (header->fortranOrder)
    return npyError(path, "Fortran-order arrays are not supported");
  std::optional<DType> dtype;
  for (const auto &[descr, value] : kDescrs)
    if (header->descr == descr)
      dtype = value;
  if (!dtype)
    return npyError(path, absl::StrCat("unsupported dtype '", header->descr,
                                       "' (expected <f4, <f2, <i4, <i8 or "
                                       "|b1)"));

  absl::StatusOr<int64_t> count = checkedNumElements(header->shape, *dtype);
  if (!count.ok())
    return npyError(path, count.status().message());
  size_t dataBytes = static_cast<size_t>(*count) * dtypeSize(*dtype);
  size_t available = bytes.size() - prefix - headerBytes;
  if (available != dataBytes)
    return npyError(
        path, absl::StrCat(available < dataBytes ? "truncated data: " : "",
                           "shape ", shapeToString(header->shape), " of ",
                           dtypeName(*dtype), " needs ", dataBytes,
                           " bytes of data, the file has ", available));
  SY_ASSIGN_OR_RETURN(HostTensor tensor,
                      HostTensor::allocate(*dtype, std::move(header->shape)));
  std::memcpy(tensor.data(), bytes.data() + prefix + headerBytes, dataBytes);
  return tensor;
}

absl::Status writeNpy(const std::string &path, const HostTensor &tensor) {
  // NumPy has no bf16: write the values widened to f32, which is exact (a
  // bf16 is the upper half of an f32).
  std::vector<uint32_t> widened;
  const void *data = tensor.data();
  size_t dataBytes = tensor.byteSize();
  DType stored = tensor.dtype();
  if (stored == DType::BF16) {
    const auto *bits = static_cast<const uint16_t *>(tensor.data());
    widened.assign(bits, bits + tensor.numElements());
    for (uint32_t &word : widened)
      word <<= 16;
    data = widened.data();
    dataBytes = widened.size() * sizeof(uint32_t);
    stored = DType::F32;
  }
  absl::string_view descr;
  for (const auto &[name, value] : kDescrs)
    if (value == stored)
      descr = name;
  if (descr.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write '", path, "': ", dtypeName(tensor.dtype()),
                     " has no .npy dtype"));

  const std::vector<int64_t> &shape = tensor.shape();
  std::string dims = absl::StrJoin(shape, ", ");
  if (shape.size() == 1)
    dims += ",";
  std::string dict =
      absl::StrCat("{'descr': '", descr,
                   "', 'fortran_order': False, 'shape': (", dims, "), }");
  // NumPy pads the header with spaces and a newline so that the data starts
  // 64-byte aligned.
  size_t prefix = kMagic.size() + 2 + 2;
  bool version2 = prefix + dict.size() + 1 > 65535;
  if (version2)
    prefix += 2;
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';

  std::string head(kMagic);
  head += static_cast<char>(version2 ? 2 : 1);
  head += '\0';
  uint32_t headerBytes = dict.size();
  head.append(reinterpret_cast<const char *>(&headerBytes), version2 ? 4 : 2);
  head += dict;

  std::FILE *out = std::fopen(path.c_str(), "wb");
  if (!out)
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("cannot create '", path, "'"));
  bool ok = std::fwrite(head.data(), 1, head.size(), out) == head.size() &&
            std::fwrite(data, 1, dataBytes, out) == dataBytes;
  int savedErrno = errno;
  ok = (std::fclose(out) == 0) && ok;
  if (!ok)
    return absl::ErrnoToStatus(savedErrno ? savedErrno : errno,
                               absl::StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

} // namespace switchyard::runtime
