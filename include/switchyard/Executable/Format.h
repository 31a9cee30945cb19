//===- Format.h - the executable format's version ---------------*- C++ -*-===//
//
// Shared by the compiler's writer and the runtime's loader. Bump the version
// on any change to Executable.fbs that changes the meaning of a file.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_EXECUTABLE_FORMAT_H
#define SWITCHYARD_EXECUTABLE_FORMAT_H

#include <cstdint>

namespace switchyard::executable {

/// The version written into and required of every executable file.
inline constexpr uint32_t kFormatVersion = 2;

/// Byte alignment of every value in a device's arena.
inline constexpr int64_t kArenaAlignment = 64;

} // namespace switchyard::executable

#endif // SWITCHYARD_EXECUTABLE_FORMAT_H
