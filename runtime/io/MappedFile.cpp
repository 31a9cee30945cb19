//===- MappedFile.cpp - A read-only memory-mapped file --------------------===//

#include "runtime/io/MappedFile.h"

#include "absl/strings/str_cat.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace switchyard::runtime {

namespace {
absl::Status errnoError(const std::string &what, const std::string &path) {
  return absl::ErrnoToStatus(errno, absl::StrCat(what, " '", path, "'"));
}
} // namespace

absl::StatusOr<MappedFile> MappedFile::open(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errnoError("cannot open", path);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    absl::Status status = errnoError("cannot stat", path);
    ::close(fd);
    return status;
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not a regular file"));
  }
  size_t size = static_cast<size_t>(info.st_size);
  if (size == 0) {
    ::close(fd);
    return MappedFile(nullptr, 0);
  }
  void *data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  absl::Status status =
      data == MAP_FAILED ? errnoError("cannot map", path) : absl::OkStatus();
  ::close(fd);
  if (!status.ok())
    return status;
  return MappedFile(static_cast<const std::byte *>(data), size);
}

MappedFile::MappedFile(MappedFile &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile &MappedFile::operator=(MappedFile &&other) noexcept {
  if (this != &other) {
    this->~MappedFile();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_)
    ::munmap(const_cast<std::byte *>(data_), size_);
}

} // namespace switchyard::runtime
