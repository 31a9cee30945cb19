//===- MemoryFile.h - fuzz input bytes as a readable path -------*- C++ -*-===//
//
// The runtime's readers open paths (and map them), as users hand them files.
// The fuzz targets feed them through an anonymous in-memory file, so that the
// exact code a user's file meets is what the fuzzer exercises, with no disk
// traffic and nothing left behind.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_FUZZ_MEMORYFILE_H
#define SWITCHYARD_FUZZ_MEMORYFILE_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace switchyard::fuzz {

/// An in-memory file (memfd) holding given bytes, readable by path
/// (`/proc/self/fd/N`) while the object lives.
class MemoryFile {
public:
  MemoryFile(const uint8_t *data, size_t size)
      : fd_(::memfd_create("switchyard-fuzz", MFD_CLOEXEC)) {
    // Not an input bug: the fuzzer cannot go on without its file.
    if (fd_ < 0 || ::write(fd_, data, size) != static_cast<ssize_t>(size)) {
      std::perror("memfd");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  MemoryFile(const MemoryFile &) = delete;
  MemoryFile &operator=(const MemoryFile &) = delete;
  ~MemoryFile() { ::close(fd_); }

  const std::string &path() const { return path_; }

private:
  int fd_;
  std::string path_;
};

} // namespace switchyard::fuzz

#endif // SWITCHYARD_FUZZ_MEMORYFILE_H
