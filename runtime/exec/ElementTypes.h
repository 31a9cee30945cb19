//===- ElementTypes.h - Loading and storing elements of any dtype -*- C++
//-*-===//
//
// Kernels compute in float (f32, bf16, f16) or int32_t (i32, bool). An
// element type tag names the storage type and converts to and from the
// compute type; bf16 and f16 round to nearest even.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_EXEC_ELEMENTTYPES_H
#define SWITCHYARD_RUNTIME_EXEC_ELEMENTTYPES_H

#include "switchyard/Runtime/Tensor.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace switchyard::runtime {

inline uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

inline float bitsFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

inline float bf16ToFloat(uint16_t value) {
  return bitsFloat(static_cast<uint32_t>(value) << 16);
}

inline uint16_t floatToBf16(float value) {
  const uint32_t bits = floatBits(value);
  if (std::isnan(value))
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  return static_cast<uint16_t>((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

inline float f16ToFloat(uint16_t value) {
  const uint32_t sign = static_cast<uint32_t>(value & 0x8000) << 16;
  const uint32_t exponent = (value >> 10) & 0x1F;
  const uint32_t mantissa = value & 0x3FF;
  if (exponent == 0x1F)
    return bitsFloat(sign | 0x7F800000 | (mantissa << 13));
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  return bitsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

inline uint16_t floatToF16(float value) {
  const uint32_t bits = floatBits(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t magnitude = bits & 0x7FFFFFFF;
  if (magnitude >= 0x7F800000) // inf or nan
    return sign | 0x7C00 | (magnitude > 0x7F800000 ? 0x200 : 0);
  if (magnitude >= 0x477FF000) // rounds to >= 65520: overflow to inf
    return sign | 0x7C00;
  if (magnitude < 0x38800000) {
    // Subnormal or zero in f16: round |value| * 2^24 to an integer, ties to
    // even (exact in float, whose rint rounds to even).
    const float scaled = std::ldexp(bitsFloat(magnitude), 24);
    return sign | static_cast<uint16_t>(std::nearbyint(scaled));
  }
  const uint32_t rounded = magnitude + 0xFFF + ((magnitude >> 13) & 1);
  return sign | static_cast<uint16_t>((rounded - 0x38000000) >> 13);
}

struct F32Type {
  using Storage = float;
  using Compute = float;
  static float load(float v) { return v; }
  static float store(float v) { return v; }
};
struct BF16Type {
  using Storage = uint16_t;
  using Compute = float;
  static float load(uint16_t v) { return bf16ToFloat(v); }
  static uint16_t store(float v) { return floatToBf16(v); }
};
struct F16Type {
  using Storage = uint16_t;
  using Compute = float;
  static float load(uint16_t v) { return f16ToFloat(v); }
  static uint16_t store(float v) { return floatToF16(v); }
};
struct I32Type {
  using Storage = int32_t;
  using Compute = int32_t;
  static int32_t load(int32_t v) { return v; }
  static int32_t store(int32_t v) { return v; }
};
struct BoolType {
  using Storage = uint8_t;
  using Compute = int32_t;
  static int32_t load(uint8_t v) { return v != 0; }
  static uint8_t store(int32_t v) { return v != 0; }
};

/// Calls `body(Type{})` with the element type tag of `dtype` (i64 is not an
/// executable dtype and is not dispatched).
template <typename F> decltype(auto) visitDType(DType dtype, F &&body) {
  switch (dtype) {
  case DType::BF16:
    return body(BF16Type{});
  case DType::F16:
    return body(F16Type{});
  case DType::I32:
  case DType::I64:
    return body(I32Type{});
  case DType::Bool:
    return body(BoolType{});
  case DType::F32:
    break;
  }
  return body(F32Type{});
}

/// `value` in the compute type of element type T: integers truncate toward
/// zero (saturating, NaN to 0), bool is value != 0.
template <typename T> typename T::Compute convertFloat(float value) {
  using C = typename T::Compute;
  if constexpr (std::is_same_v<T, BoolType>)
    return value != 0.0f;
  else if constexpr (std::is_integral_v<C>) {
    if (std::isnan(value))
      return 0;
    if (value >= 2147483648.0f)
      return INT32_MAX;
    if (value <= -2147483648.0f)
      return INT32_MIN;
    return static_cast<C>(value);
  } else
    return value;
}

/// Element `i` of `data` (of `dtype`) as a float.
inline float loadAsFloat(DType dtype, const void *data, int64_t i) {
  return visitDType(dtype, [&](auto type) -> float {
    using T = decltype(type);
    return static_cast<float>(
        T::load(static_cast<const typename T::Storage *>(data)[i]));
  });
}

/// Stores `value` as element `i` of `data` (of `dtype`), converting.
inline void storeFloat(DType dtype, void *data, int64_t i, float value) {
  visitDType(dtype, [&](auto type) {
    using T = decltype(type);
    static_cast<typename T::Storage *>(data)[i] =
        T::store(convertFloat<T>(value));
  });
}

/// Converts `count` elements of `src` (of `srcType`) to `dstType` into
/// `dst`, as `mtf.cast` does.
inline void convertElements(DType srcType, const void *src, DType dstType,
                            void *dst, int64_t count) {
  visitDType(srcType, [&](auto srcTag) {
    using S = decltype(srcTag);
    visitDType(dstType, [&](auto dstTag) {
      using D = decltype(dstTag);
      const auto *x = static_cast<const typename S::Storage *>(src);
      auto *y = static_cast<typename D::Storage *>(dst);
      for (int64_t i = 0; i < count; ++i) {
        const auto v = S::load(x[i]);
        if constexpr (std::is_floating_point_v<typename D::Compute>)
          y[i] = D::store(static_cast<float>(v));
        else if constexpr (std::is_floating_point_v<typename S::Compute>)
          y[i] = D::store(convertFloat<D>(v));
        else
          y[i] = D::store(v);
      }
    });
  });
}

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_EXEC_ELEMENTTYPES_H
