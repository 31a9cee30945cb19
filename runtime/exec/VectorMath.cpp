//===- VectorMath.cpp - Vectorized math functions on float arrays ---------===//

#include "runtime/exec/VectorMath.h"

#include <cmath>

#if SWITCHYARD_HAVE_LIBMVEC
#include <immintrin.h>

/// libmvec's expf for eight floats (the x86-64 vector ABI's AVX2 variant);
/// declared for AVX2 so that clang passes __m256 in a register.
extern "C" __attribute__((target("avx2,fma"))) __m256 _ZGVdN8v_expf(__m256);
#endif

namespace switchyard::runtime {

namespace {

void expScalar(float *x, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    x[i] = std::exp(x[i]);
}

#if SWITCHYARD_HAVE_LIBMVEC
__attribute__((target("avx2,fma"))) void expAvx2(float *x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(x + i, _ZGVdN8v_expf(_mm256_loadu_ps(x + i)));
  expScalar(x + i, n - i);
}

const bool kHasAvx2 =
    __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif

} // namespace

void expInPlace(float *x, int64_t n) {
#if SWITCHYARD_HAVE_LIBMVEC
  if (kHasAvx2)
    return expAvx2(x, n);
#endif
  expScalar(x, n);
}

} // namespace switchyard::runtime
