//===- CudaKernels.cu - The cuda backend's kernels ------------------------===//
//
// Element-wise kernels use one thread per element in a grid-stride loop, or
// a block per row (SY_ROW_LOOP) where an op reads and writes whole rows;
// softmax and RMS norm one block per row; the route's positions one block
// per group, scanning its tokens in chunks with warp-level matching (choice
// by choice under top-k routing). Enum values (unary, binary, reduce,
// collective reduction) follow the executable schema.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/CudaKernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cfloat>
#include <cmath>
#include <type_traits>

namespace switchyard::runtime::cuda {

namespace {

constexpr int kThreads = 256;

unsigned blocksFor(int64_t count) {
  const int64_t blocks = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1           ? 1
                               : blocks > (1 << 30) ? (1 << 30)
                                                    : blocks);
}

#define SY_GRID_LOOP(i, count)                                                 \
  for (int64_t i =                                                             \
           blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;        \
       i < (count); i += static_cast<int64_t>(gridDim.x) * blockDim.x)

/// Loops over an indexer's tensors, unrolled so that per-tensor arrays stay
/// in registers.
#define SY_FOR_TENSORS(k, ix)                                                  \
  _Pragma("unroll") for (int k = 0; k < kMaxTensors; ++k) if (k < (ix).tensors)

/// Adds dimension `d`'s index `i` to the offsets.
__device__ inline void addOffsets(const Indexer &ix, int d, int64_t i,
                                  int64_t *offsets) {
  SY_FOR_TENSORS(k, ix) offsets[k] += i * ix.strides[k][d];
}

/// The offsets of index `linear` of the indexer's space in its tensors,
/// or of the space of its first `rank` dimensions. Divisions dominate
/// element-wise kernels: the outermost dimension needs none, and a space of
/// fewer than 2^32 elements (nearly every one) takes 32-bit ones.
__device__ inline void offsetsOf(const Indexer &ix, int64_t linear,
                                 int64_t *offsets, int rank = -1) {
  if (rank < 0)
    rank = ix.rank;
  SY_FOR_TENSORS(k, ix) offsets[k] = 0;
  if (rank == 0)
    return;
  if (ix.count <= 0xffffffffll) {
    uint32_t rest = static_cast<uint32_t>(linear);
    for (int d = rank - 1; d > 0; --d) {
      const uint32_t size = static_cast<uint32_t>(ix.shape[d]);
      addOffsets(ix, d, rest % size, offsets);
      rest /= size;
    }
    addOffsets(ix, 0, rest, offsets);
    return;
  }
  for (int d = rank - 1; d > 0; --d) {
    addOffsets(ix, d, linear % ix.shape[d], offsets);
    linear /= ix.shape[d];
  }
  addOffsets(ix, 0, linear, offsets);
}

/// Row-wise kernels give the innermost dimension of the space to a block's
/// threads, `chunk` elements of a row per block: their accesses are
/// contiguous where that dimension is (a token's features, say), and a
/// row's offsets cost one division per dimension instead of every
/// element's. `offsets` holds this thread's element's offsets; `step` how
/// far each tensor moves per element.
#define SY_ROW_LOOP(ix, chunk, offsets, step, ...)                             \
  do {                                                                         \
    const int last = (ix).rank - 1;                                            \
    const int64_t width = (ix).shape[last];                                    \
    const int64_t rows = width > 0 ? (ix).count / width : 0;                   \
    const int64_t pieces = (width + (chunk)-1) / (chunk);                      \
    int64_t step[kMaxTensors];                                                 \
    SY_FOR_TENSORS(k, ix) step[k] = (ix).strides[k][last] * blockDim.x;        \
    for (int64_t piece = blockIdx.x; piece < rows * pieces;                    \
         piece += gridDim.x) {                                                 \
      const int64_t begin = (piece % pieces) * (chunk) + threadIdx.x;          \
      const int64_t end = min(width, (piece % pieces + 1) * (chunk));          \
      int64_t offsets[kMaxTensors];                                            \
      offsetsOf((ix), piece / pieces, offsets, last);                          \
      SY_FOR_TENSORS(k, ix) offsets[k] += (ix).strides[k][last] * begin;       \
      for (int64_t f = begin; f < end; f += blockDim.x) {                      \
        __VA_ARGS__;                                                           \
        SY_FOR_TENSORS(k, ix) offsets[k] += step[k];                           \
      }                                                                        \
    }                                                                          \
  } while (false)

/// The launch shape of a row-wise kernel over `ix` (which it makes of rank
/// 1 at least): a block per chunk of a row, up to a grid that fills the GPU
/// many times over, of as many warps as a row needs, up to kThreads.
struct RowLaunch {
  explicit RowLaunch(const Indexer &space) : ix(space) {
    if (ix.rank == 0) {
      ix.rank = 1;
      ix.shape[0] = 1;
      for (int k = 0; k < ix.tensors; ++k)
        ix.strides[k][0] = 0;
    }
    const int64_t width = ix.shape[ix.rank - 1];
    const int64_t pieces =
        width > 0 ? (ix.count / width) * ((width + chunk - 1) / chunk) : 0;
    blocks = static_cast<unsigned>(pieces < 1       ? 1
                                   : pieces > 65536 ? 65536
                                                    : pieces);
    threads = static_cast<unsigned>(width >= kThreads ? kThreads
                                                      : (width + 31) / 32 * 32);
  }
  Indexer ix;
  /// Elements of a row per block.
  int64_t chunk = 16 * kThreads;
  unsigned blocks, threads;
};

__device__ inline bool isInt(ElemType t) {
  return t == ElemType::I32 || t == ElemType::Bool;
}

__device__ inline float loadF(ElemType t, const void *p, int64_t i) {
  switch (t) {
  case ElemType::F16:
    return __half2float(static_cast<const __half *>(p)[i]);
  case ElemType::BF16:
    return __bfloat162float(static_cast<const __nv_bfloat16 *>(p)[i]);
  case ElemType::I32:
    return static_cast<float>(static_cast<const int32_t *>(p)[i]);
  case ElemType::Bool:
    return static_cast<const uint8_t *>(p)[i] != 0;
  default:
    return static_cast<const float *>(p)[i];
  }
}

/// Stores with the cpu backend's conversions: round to nearest even for
/// floats; integers truncate toward zero, saturating, NaN to 0.
__device__ inline void storeF(ElemType t, void *p, int64_t i, float v) {
  switch (t) {
  case ElemType::F16:
    static_cast<__half *>(p)[i] = __float2half_rn(v);
    return;
  case ElemType::BF16:
    static_cast<__nv_bfloat16 *>(p)[i] = __float2bfloat16_rn(v);
    return;
  case ElemType::I32:
    static_cast<int32_t *>(p)[i] = isnan(v)             ? 0
                                   : v >= 2147483648.0f ? INT32_MAX
                                   : v <= -2147483648.0f
                                       ? INT32_MIN
                                       : static_cast<int32_t>(v);
    return;
  case ElemType::Bool:
    static_cast<uint8_t *>(p)[i] = v != 0.0f;
    return;
  default:
    static_cast<float *>(p)[i] = v;
  }
}

/// Typed conversions for the kernels that know their element types (the
/// same roundings as loadF and storeF).
__device__ inline float toFloat(float v) { return v; }
__device__ inline float toFloat(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ inline float toFloat(__half v) { return __half2float(v); }
template <typename T> __device__ inline T fromFloat(float v);
template <> __device__ inline float fromFloat<float>(float v) { return v; }
template <> __device__ inline __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}
template <> __device__ inline __half fromFloat<__half>(float v) {
  return __float2half_rn(v);
}

/// Calls `f` with a null pointer of the float type `t` names: a kernel
/// launch typed by element.
template <typename F> void withFloatType(ElemType t, F f) {
  switch (t) {
  case ElemType::BF16:
    f(static_cast<__nv_bfloat16 *>(nullptr));
    return;
  case ElemType::F16:
    f(static_cast<__half *>(nullptr));
    return;
  default:
    f(static_cast<float *>(nullptr));
  }
}

bool isFloat(ElemType t) {
  return t == ElemType::F32 || t == ElemType::BF16 || t == ElemType::F16;
}

__device__ inline int32_t loadI(ElemType t, const void *p, int64_t i) {
  return t == ElemType::Bool ? static_cast<const uint8_t *>(p)[i] != 0
                             : static_cast<const int32_t *>(p)[i];
}

__device__ inline void storeI(ElemType t, void *p, int64_t i, int32_t v) {
  if (t == ElemType::Bool)
    static_cast<uint8_t *>(p)[i] = v != 0;
  else
    static_cast<int32_t *>(p)[i] = v;
}

// fb::UnaryKind
enum : int {
  kNeg,
  kAbs,
  kExp,
  kLog,
  kSqrt,
  kRsqrt,
  kSquare,
  kReciprocal,
  kTanh,
  kRelu,
  kGelu,
  kGeluTanh,
  kSilu
};
// fb::BinaryKind
enum : int { kAdd, kSub, kMul, kDiv, kMax, kMin, kPow };
// fb::ReduceKind and fb::CollectiveReduction
enum : int { kReduceSum, kReduceMeanOrAverage, kReduceMax, kReduceMin };

__device__ inline float unaryFloat(int kind, float x) {
  switch (kind) {
  case kNeg:
    return -x;
  case kAbs:
    return fabsf(x);
  case kExp:
    return expf(x);
  case kLog:
    return logf(x);
  case kSqrt:
    return sqrtf(x);
  case kRsqrt:
    return 1.0f / sqrtf(x);
  case kSquare:
    return x * x;
  case kReciprocal:
    return 1.0f / x;
  case kTanh:
    return tanhf(x);
  case kRelu:
    return fmaxf(x, 0.0f);
  case kGelu:
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752440f));
  case kGeluTanh:
    return 0.5f * x *
           (1.0f +
            tanhf(0.79788456080286535588f * (x + 0.044715f * x * x * x)));
  case kSilu:
    return x / (1.0f + expf(-x));
  }
  return x;
}

__device__ inline int32_t unaryInt(int kind, int32_t x) {
  const uint32_t u = static_cast<uint32_t>(x);
  switch (kind) {
  case kNeg:
    return static_cast<int32_t>(0u - u);
  case kAbs:
    return x < 0 ? static_cast<int32_t>(0u - u) : x;
  default:
    return static_cast<int32_t>(u * u);
  }
}

__device__ inline float binaryFloat(int kind, float a, float b) {
  switch (kind) {
  case kAdd:
    return a + b;
  case kSub:
    return a - b;
  case kMul:
    return a * b;
  case kDiv:
    return a / b;
  case kMax:
    return isnan(a) || isnan(b) ? NAN : fmaxf(a, b);
  case kMin:
    return isnan(a) || isnan(b) ? NAN : fminf(a, b);
  case kPow:
    return powf(a, b);
  }
  return a;
}

__device__ inline int32_t binaryInt(int kind, int32_t a, int32_t b) {
  const uint32_t ua = static_cast<uint32_t>(a), ub = static_cast<uint32_t>(b);
  switch (kind) {
  case kAdd:
    return static_cast<int32_t>(ua + ub);
  case kSub:
    return static_cast<int32_t>(ua - ub);
  case kMul:
    return static_cast<int32_t>(ua * ub);
  case kDiv:
    if (b == 0)
      return 0;
    if (b == -1)
      return static_cast<int32_t>(0u - ua);
    return a / b;
  case kMax:
    return max(a, b);
  case kMin:
    return min(a, b);
  }
  return a;
}

/// The sum (or max) of `value` over the block; every thread gets it.
template <typename T, typename Op>
__device__ T blockReduce(T value, Op op, T *shared) {
  for (int offset = 16; offset > 0; offset /= 2)
    value = op(value, __shfl_xor_sync(0xffffffffu, value, offset));
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();
  if (lane == 0)
    shared[warp] = value;
  __syncthreads();
  T result = shared[0];
  for (int w = 1; w < static_cast<int>(blockDim.x / 32); ++w)
    result = op(result, shared[w]);
  return result;
}

struct MaxOp {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
  template <typename T> __device__ T operator()(T a, T b) const {
    return a + b;
  }
};

/// `kLanes` elements of type T, loaded and stored as one access.
template <typename T, int kLanes> struct alignas(sizeof(T) * kLanes) Lanes {
  T v[kLanes];
};

/// y = f(x) element by element over contiguous float tensors, typed (no
/// per-element conversion dispatch), `kLanes` elements per access: up to 16
/// bytes a thread moves at once where x and y are aligned for it.
template <int kLanes, typename In, typename Out, typename F>
__global__ void mapKernel(const In *x, Out *y, int64_t count, F f) {
  const int64_t vectors = count / kLanes;
  SY_GRID_LOOP(i, vectors) {
    const Lanes<In, kLanes> in =
        reinterpret_cast<const Lanes<In, kLanes> *>(x)[i];
    Lanes<Out, kLanes> out;
#pragma unroll
    for (int k = 0; k < kLanes; ++k)
      out.v[k] = fromFloat<Out>(f(toFloat(in.v[k])));
    reinterpret_cast<Lanes<Out, kLanes> *>(y)[i] = out;
  }
  SY_GRID_LOOP(i, count - vectors * kLanes) {
    const int64_t at = vectors * kLanes + i;
    y[at] = fromFloat<Out>(f(toFloat(x[at])));
  }
}

/// r = f(a, b) element by element over contiguous float tensors, as
/// mapKernel.
template <int kLanes, typename T, typename F>
__global__ void zipKernel(const T *a, const T *b, T *r, int64_t count, F f) {
  const int64_t vectors = count / kLanes;
  SY_GRID_LOOP(i, vectors) {
    const Lanes<T, kLanes> left =
        reinterpret_cast<const Lanes<T, kLanes> *>(a)[i];
    const Lanes<T, kLanes> right =
        reinterpret_cast<const Lanes<T, kLanes> *>(b)[i];
    Lanes<T, kLanes> out;
#pragma unroll
    for (int k = 0; k < kLanes; ++k)
      out.v[k] = fromFloat<T>(f(toFloat(left.v[k]), toFloat(right.v[k])));
    reinterpret_cast<Lanes<T, kLanes> *>(r)[i] = out;
  }
  SY_GRID_LOOP(i, count - vectors * kLanes) {
    const int64_t at = vectors * kLanes + i;
    r[at] = fromFloat<T>(f(toFloat(a[at]), toFloat(b[at])));
  }
}

struct UnaryOp {
  int kind;
  __device__ float operator()(float x) const { return unaryFloat(kind, x); }
};
struct IdentityOp {
  __device__ float operator()(float x) const { return x; }
};
struct BinaryOp {
  int kind;
  __device__ float operator()(float a, float b) const {
    return binaryFloat(kind, a, b);
  }
};

/// The integer and bool unary ops (the float ones are mapKernel's).
__global__ void unaryIntKernel(int kind, ElemType t, const void *x, void *y,
                               int64_t count) {
  SY_GRID_LOOP(i, count) { storeI(t, y, i, unaryInt(kind, loadI(t, x, i))); }
}

__global__ void binaryKernel(int kind, ElemType t, const void *a, const void *b,
                             void *r, Indexer ix, int64_t chunk) {
  SY_ROW_LOOP(ix, chunk, o, step, {
    if (isInt(t))
      storeI(t, r, o[0], binaryInt(kind, loadI(t, a, o[1]), loadI(t, b, o[2])));
    else
      storeF(t, r, o[0],
             binaryFloat(kind, loadF(t, a, o[1]), loadF(t, b, o[2])));
  });
}

__global__ void reduceKernel(int kind, ElemType t, const void *in, void *out,
                             Indexer outer, Indexer inner) {
  SY_GRID_LOOP(i, outer.count) {
    int64_t o[2];
    offsetsOf(outer, i, o);
    double acc = kind == kReduceMax   ? -INFINITY
                 : kind == kReduceMin ? INFINITY
                                      : 0.0;
    for (int64_t j = 0; j < inner.count; ++j) {
      int64_t p;
      offsetsOf(inner, j, &p);
      const double v = loadF(t, in, o[1] + p);
      acc = kind == kReduceMax   ? fmax(acc, v)
            : kind == kReduceMin ? fmin(acc, v)
                                 : acc + v;
    }
    if (kind == kReduceMeanOrAverage)
      acc /= static_cast<double>(inner.count);
    storeF(t, out, o[0], static_cast<float>(acc));
  }
}

struct Operands {
  const void *data[kMaxTensors - 1];
};

__global__ void einsumLoopKernel(ElemType t, Operands operands, int count,
                                 void *result, Indexer outer, Indexer inner) {
  SY_GRID_LOOP(i, outer.count) {
    int64_t o[kMaxTensors], p[kMaxTensors];
    offsetsOf(outer, i, o);
    double acc = 0.0;
    for (int64_t j = 0; j < inner.count; ++j) {
      offsetsOf(inner, j, p);
      double product = 1.0;
      for (int k = 0; k < count; ++k)
        product *= loadF(t, operands.data[k], o[k] + p[k]);
      acc += product;
    }
    storeF(t, result, o[count], static_cast<float>(acc));
  }
}

__global__ void softmaxKernel(ElemType t, const void *x, void *y, int64_t size,
                              int64_t inner) {
  __shared__ float shared[32];
  const int64_t row = blockIdx.x;
  const int64_t base = (row / inner) * size * inner + row % inner;
  float max = -INFINITY;
  for (int64_t k = threadIdx.x; k < size; k += blockDim.x)
    max = fmaxf(max, loadF(t, x, base + k * inner));
  max = blockReduce(max, MaxOp{}, shared);
  float sum = 0.0f;
  for (int64_t k = threadIdx.x; k < size; k += blockDim.x)
    sum += expf(loadF(t, x, base + k * inner) - max);
  sum = blockReduce(sum, SumOp{}, shared);
  const float inverse = 1.0f / sum;
  for (int64_t k = threadIdx.x; k < size; k += blockDim.x)
    storeF(t, y, base + k * inner,
           expf(loadF(t, x, base + k * inner) - max) * inverse);
}

__global__ void rmsNormKernel(ElemType t, ElemType scaleType, const void *x,
                              const void *scale, void *y, int64_t size,
                              int64_t inner, float epsilon) {
  __shared__ double shared[32];
  const int64_t row = blockIdx.x;
  const int64_t base = (row / inner) * size * inner + row % inner;
  double squares = 0.0;
  for (int64_t k = threadIdx.x; k < size; k += blockDim.x) {
    const double v = loadF(t, x, base + k * inner);
    squares += v * v;
  }
  squares = blockReduce(squares, SumOp{}, shared);
  const float variance = static_cast<float>(squares / size);
  const float factor = 1.0f / sqrtf(variance + epsilon);
  for (int64_t k = threadIdx.x; k < size; k += blockDim.x) {
    const int64_t at = base + k * inner;
    storeF(t, y, at, loadF(scaleType, scale, k) * (loadF(t, x, at) * factor));
  }
}

__global__ void cumsumKernel(ElemType t, bool exclusive, const void *x, void *y,
                             int64_t rows, int64_t size, int64_t inner) {
  SY_GRID_LOOP(row, rows) {
    const int64_t base = (row / inner) * size * inner + row % inner;
    if (isInt(t)) {
      int32_t sum = 0;
      for (int64_t k = 0; k < size; ++k) {
        const int64_t at = base + k * inner;
        const int32_t v = loadI(t, x, at);
        if (exclusive)
          storeI(t, y, at, sum);
        sum = binaryInt(kAdd, sum, v);
        if (!exclusive)
          storeI(t, y, at, sum);
      }
    } else {
      float sum = 0.0f;
      for (int64_t k = 0; k < size; ++k) {
        const int64_t at = base + k * inner;
        const float v = loadF(t, x, at);
        if (exclusive)
          storeF(t, y, at, sum);
        sum += v;
        if (!exclusive)
          storeF(t, y, at, sum);
      }
    }
  }
}

__global__ void castKernel(ElemType from, ElemType to, const void *x, void *y,
                           int64_t count) {
  SY_GRID_LOOP(i, count) {
    if (isInt(from) && isInt(to))
      storeI(to, y, i, loadI(from, x, i));
    else
      storeF(to, y, i, loadF(from, x, i));
  }
}

template <typename T>
__global__ void gatherKernel(const T *table, const int32_t *ids, T *out,
                             Indexer ix, int64_t rows, int64_t rowStride,
                             int32_t *error, int32_t errorCode) {
  SY_GRID_LOOP(i, ix.count) {
    int64_t o[3];
    offsetsOf(ix, i, o);
    const int64_t id = ids[o[1]];
    if (id >= 0 && id < rows) {
      out[o[0]] = table[o[2] + id * rowStride];
    } else {
      out[o[0]] = T{};
      atomicCAS(error, 0, errorCode);
    }
  }
}

__global__ void oneHotKernel(ElemType t, const int32_t *ids, void *out,
                             Indexer ix) {
  SY_GRID_LOOP(i, ix.count) {
    int64_t o[3];
    offsetsOf(ix, i, o);
    storeF(t, out, o[0], ids[o[1]] == o[2] ? 1.0f : 0.0f);
  }
}

__global__ void iotaKernel(ElemType t, void *out, Indexer ix) {
  SY_GRID_LOOP(i, ix.count) {
    int64_t o[2];
    offsetsOf(ix, i, o);
    storeF(t, out, o[0], static_cast<float>(o[1]));
  }
}

template <typename T>
__global__ void stridedCopyKernel(const T *src, T *dst, Indexer ix) {
  SY_GRID_LOOP(i, ix.count) {
    int64_t o[2];
    offsetsOf(ix, i, o);
    dst[o[1]] = src[o[0]];
  }
}

__global__ void stridedAccumulateKernel(const float *src, float *dst,
                                        Indexer ix) {
  SY_GRID_LOOP(i, ix.count) {
    int64_t o[2];
    offsetsOf(ix, i, o);
    atomicAdd(dst + o[1], src[o[0]]);
  }
}

/// `value` rounded to the float type `t` (unchanged for f32).
__device__ inline float roundedTo(ElemType t, float value) {
  if (t == ElemType::BF16)
    return __bfloat162float(__float2bfloat16_rn(value));
  if (t == ElemType::F16)
    return __half2float(__float2half_rn(value));
  return value;
}

/// The strides of one dimension in (up to four of) the tensors a kernel
/// addresses.
struct DimStrides {
  int64_t values[4];
};

/// The first `count` of `strides`, the rest 0.
DimStrides dimStrides(const int64_t *strides, int count) {
  DimStrides result = {};
  for (int k = 0; k < count; ++k)
    result.values[k] = strides[k];
  return result;
}

/// Choice j is the most probable expert below choice j - 1 in the order
/// (probability descending, index ascending), which is the most probable
/// expert not chosen before, the first on ties.
__global__ void routeGatesKernel(ElemType logitsType, ElemType gateType,
                                 const void *logits, int32_t *expert,
                                 void *gate, Indexer groups, int64_t tokens,
                                 DimStrides strides, int64_t choices,
                                 DimStrides choiceStrides, int64_t experts,
                                 int64_t expertStride) {
  SY_GRID_LOOP(i, groups.count * tokens) {
    int64_t o[3];
    offsetsOf(groups, i / tokens, o);
    const int64_t t = i % tokens;
    const int64_t base = o[0] + t * strides.values[0];
    float max = -INFINITY;
    for (int64_t e = 0; e < experts; ++e)
      max = fmaxf(max, loadF(logitsType, logits, base + e * expertStride));
    float sum = 0.0f;
    for (int64_t e = 0; e < experts; ++e)
      sum += expf(loadF(logitsType, logits, base + e * expertStride) - max);
    const float inverse = 1.0f / sum;
    int64_t previous = -1;
    float previousProb = INFINITY;
    for (int64_t j = 0; j < choices; ++j) {
      int64_t best = 0;
      float bestProb = -INFINITY;
      for (int64_t e = 0; e < experts; ++e) {
        const float p = roundedTo(
            gateType,
            expf(loadF(logitsType, logits, base + e * expertStride) - max) *
                inverse);
        const bool below =
            p < previousProb || (p == previousProb && e > previous);
        if (below && p > bestProb) {
          best = e;
          bestProb = p;
        }
      }
      expert[o[1] + t * strides.values[1] + j * choiceStrides.values[0]] =
          static_cast<int32_t>(best);
      storeF(gateType, gate,
             o[2] + t * strides.values[2] + j * choiceStrides.values[1],
             bestProb);
      previous = best;
      previousProb = bestProb;
    }
  }
}

/// One block of 1024 threads per group, scanning its choices 0 in chunks
/// of tokens, then its choices 1 and so on. Shared memory: per warp and
/// expert the count in the current chunk (then its exclusive prefix), and
/// per expert the running count.
__global__ void routePositionsKernel(const int32_t *expert, int32_t *position,
                                     uint8_t *dropped, Indexer groups,
                                     int64_t tokens, DimStrides strides,
                                     int64_t choices, DimStrides choiceStrides,
                                     int64_t experts, int64_t capacity) {
  extern __shared__ int32_t counts[];
  int32_t *running = counts + 32 * experts;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int warps = blockDim.x / 32;
  int64_t o[3];
  offsetsOf(groups, blockIdx.x, o);
  for (int64_t e = threadIdx.x; e < experts; e += blockDim.x)
    running[e] = 0;
  for (int64_t j = 0; j < choices; ++j) {
    const int64_t at[3] = {o[0] + j * choiceStrides.values[0],
                           o[1] + j * choiceStrides.values[1],
                           o[2] + j * choiceStrides.values[2]};
    for (int64_t chunk = 0; chunk < tokens; chunk += blockDim.x) {
      const int64_t t = chunk + threadIdx.x;
      const int32_t e = t < tokens ? expert[at[0] + t * strides.values[0]] : -1;
      const unsigned same = __match_any_sync(0xffffffffu, e);
      const int rank = __popc(same & ((1u << lane) - 1));
      for (int64_t k = threadIdx.x; k < 32 * experts; k += blockDim.x)
        counts[k] = 0;
      __syncthreads();
      if (e >= 0 && e < experts && rank == 0)
        counts[warp * experts + e] = __popc(same);
      __syncthreads();
      for (int64_t k = threadIdx.x; k < experts; k += blockDim.x) {
        int32_t sum = running[k];
        for (int w = 0; w < warps; ++w) {
          const int32_t count = counts[w * experts + k];
          counts[w * experts + k] = sum;
          sum += count;
        }
        running[k] = sum;
      }
      __syncthreads();
      if (t < tokens) {
        const int32_t slot =
            e >= 0 && e < experts ? counts[warp * experts + e] + rank : 0;
        position[at[1] + t * strides.values[1]] = slot;
        dropped[at[2] + t * strides.values[2]] = slot >= capacity;
      }
      __syncthreads();
    }
  }
}

__global__ void routeNormalizeKernel(ElemType gateType, void *gate,
                                     const uint8_t *dropped, bool afterDrops,
                                     Indexer groups, int64_t tokens,
                                     DimStrides strides, int64_t choices,
                                     DimStrides choiceStrides) {
  SY_GRID_LOOP(i, groups.count * tokens) {
    int64_t o[2];
    offsetsOf(groups, i / tokens, o);
    const int64_t t = i % tokens;
    const int64_t gateAt = o[0] + t * strides.values[0];
    const int64_t droppedAt = o[1] + t * strides.values[1];
    auto kept = [&](int64_t j) {
      return !afterDrops || !dropped[droppedAt + j * choiceStrides.values[1]];
    };
    float sum = 0.0f;
    for (int64_t j = 0; j < choices; ++j)
      if (kept(j))
        sum += loadF(gateType, gate, gateAt + j * choiceStrides.values[0]);
    if (afterDrops)
      sum = fmaxf(sum, FLT_EPSILON);
    for (int64_t j = 0; j < choices; ++j) {
      const int64_t at = gateAt + j * choiceStrides.values[0];
      storeF(gateType, gate, at,
             kept(j) ? loadF(gateType, gate, at) / sum : 0.0f);
    }
  }
}

/// Top-1 routing (!kChoices) moves the one choice at the element's own
/// routing offsets; top-k loops over the token's choices.
template <typename T, bool kChoices>
__global__ void
dispatchKernel(const T *tokens, T *slots, const int32_t *expert,
               const int32_t *position, const uint8_t *dropped, Indexer ix,
               int64_t chunk, int64_t choices, DimStrides choiceStrides,
               int64_t expertStride, int64_t slotStride, int64_t experts,
               int64_t capacity, int32_t *error, int32_t errorCode) {
  SY_ROW_LOOP(ix, chunk, o, step, {
    for (int64_t j = 0; j < (kChoices ? choices : 1); ++j) {
      if (!dropped[o[2] + j * choiceStrides.values[2]]) {
        const int32_t e = expert[o[0] + j * choiceStrides.values[0]],
                      p = position[o[1] + j * choiceStrides.values[1]];
        if (e < 0 || e >= experts || p < 0 || p >= capacity)
          atomicCAS(error, 0, errorCode);
        else
          slots[o[4] + e * expertStride + p * slotStride] = tokens[o[3]];
      }
    }
  });
}

/// `residual` (null for none) has the tokens' type: it shares their
/// offsets. Top-1 (!kChoices) adds its gated slot to the residual; top-k
/// sums the kept choices' gated slots in choice order, then adds the
/// residual, as the cpu backend does.
template <bool kChoices>
__global__ void
combineKernel(ElemType t, ElemType gateType, void *tokens, const void *slots,
              const int32_t *expert, const int32_t *position,
              const uint8_t *dropped, const void *gate, const void *residual,
              Indexer ix, int64_t chunk, int64_t choices,
              DimStrides choiceStrides, int64_t expertStride,
              int64_t slotStride, int64_t experts, int64_t capacity,
              int32_t *error, int32_t errorCode) {
  SY_ROW_LOOP(ix, chunk, o, step, {
    const float base = residual ? loadF(t, residual, o[3]) : 0.0f;
    float sum = kChoices ? 0.0f : base;
    for (int64_t j = 0; j < (kChoices ? choices : 1); ++j) {
      if (!dropped[o[2] + j * choiceStrides.values[2]]) {
        const int32_t e = expert[o[0] + j * choiceStrides.values[0]],
                      p = position[o[1] + j * choiceStrides.values[1]];
        if (e < 0 || e >= experts || p < 0 || p >= capacity)
          atomicCAS(error, 0, errorCode);
        else
          sum += loadF(gateType, gate, o[5] + j * choiceStrides.values[3]) *
                 loadF(t, slots, o[4] + e * expertStride + p * slotStride);
      }
    }
    storeF(t, tokens, o[3], kChoices ? base + sum : sum);
  });
}

__global__ void zLossSumKernel(ElemType t, const void *logits, Indexer ix,
                               int64_t experts, int64_t expertStride,
                               double *sum) {
  SY_GRID_LOOP(i, ix.count) {
    int64_t base;
    offsetsOf(ix, i, &base);
    float max = -INFINITY;
    for (int64_t e = 0; e < experts; ++e)
      max = fmaxf(max, loadF(t, logits, base + e * expertStride));
    float total = 0.0f;
    for (int64_t e = 0; e < experts; ++e)
      total += expf(loadF(t, logits, base + e * expertStride) - max);
    const float logSumExp = max + logf(total);
    atomicAdd(sum, static_cast<double>(logSumExp * logSumExp));
  }
}

__global__ void loadBalancingSumsKernel(ElemType t, const void *logits,
                                        Indexer groups, int64_t tokens,
                                        int64_t tokenStride, int64_t experts,
                                        int64_t expertStride, double *chosen,
                                        double *probSum) {
  SY_GRID_LOOP(i, groups.count * tokens) {
    int64_t o[2];
    offsetsOf(groups, i / tokens, o);
    const int64_t base = o[0] + (i % tokens) * tokenStride;
    int64_t best = 0;
    float bestLogit = loadF(t, logits, base);
    float max = bestLogit;
    for (int64_t e = 1; e < experts; ++e) {
      const float v = loadF(t, logits, base + e * expertStride);
      if (v > bestLogit) {
        best = e;
        bestLogit = v;
      }
      max = fmaxf(max, v);
    }
    atomicAdd(chosen + o[1] * experts + best, 1.0);
    float sum = 0.0f;
    for (int64_t e = 0; e < experts; ++e)
      sum += expf(loadF(t, logits, base + e * expertStride) - max);
    const float inverse = 1.0f / sum;
    for (int64_t e = 0; e < experts; ++e)
      atomicAdd(
          probSum + o[1] * experts + e,
          static_cast<double>(
              expf(loadF(t, logits, base + e * expertStride) - max) * inverse));
  }
}

__global__ void zLossFinishKernel(ElemType t, void *out, const double *sum,
                                  int64_t count) {
  storeF(t, out, 0, count ? static_cast<float>(*sum / count) : 0.0f);
}

__global__ void loadBalancingFinishKernel(ElemType t, void *out,
                                          const double *chosen,
                                          const double *probSum, int64_t cells,
                                          int64_t tokensPerGroup,
                                          int64_t experts) {
  __shared__ double shared[32];
  double total = 0.0;
  const double n = static_cast<double>(tokensPerGroup);
  for (int64_t i = threadIdx.x; i < cells; i += blockDim.x)
    total += (chosen[i] / n) * (probSum[i] / n);
  total = blockReduce(total, SumOp{}, shared);
  if (threadIdx.x == 0)
    storeF(t, out, 0,
           tokensPerGroup && cells
               ? static_cast<float>(total / static_cast<double>(cells) *
                                    static_cast<double>(experts * experts))
               : 0.0f);
}

__global__ void groupReduceKernel(int reduction, ElemType t,
                                  GroupBuffers sources, int count, int64_t base,
                                  void *dst, Indexer ix) {
  SY_GRID_LOOP(i, ix.count) {
    int64_t o[2];
    offsetsOf(ix, i, o);
    const int64_t at = base + o[1];
    if (t == ElemType::I32) {
      int32_t acc = loadI(t, sources.data[0], at);
      for (int j = 1; j < count; ++j) {
        const int32_t v = loadI(t, sources.data[j], at);
        acc = reduction == kReduceMax   ? max(acc, v)
              : reduction == kReduceMin ? min(acc, v)
                                        : binaryInt(kAdd, acc, v);
      }
      if (reduction == kReduceMeanOrAverage)
        acc /= count;
      storeI(t, dst, o[0], acc);
    } else {
      float acc = loadF(t, sources.data[0], at);
      for (int j = 1; j < count; ++j) {
        const float v = loadF(t, sources.data[j], at);
        acc = reduction == kReduceMax   ? fmaxf(acc, v)
              : reduction == kReduceMin ? fminf(acc, v)
                                        : acc + v;
      }
      if (reduction == kReduceMeanOrAverage)
        acc /= static_cast<float>(count);
      storeF(t, dst, o[0], acc);
    }
  }
}

/// Whether every pointer is aligned to `bytes`.
template <typename... P> bool alignedTo(int bytes, const P *...pointers) {
  return ((reinterpret_cast<uintptr_t>(pointers) % bytes == 0) && ...);
}

/// Launches mapKernel with the widest access (up to 16 bytes) that x and y
/// are aligned for.
template <typename In, typename Out, typename F>
void launchMap(cudaStream_t stream, const In *x, Out *y, int64_t count, F f) {
  constexpr int kLanes =
      16 /
      static_cast<int>(sizeof(In) > sizeof(Out) ? sizeof(In) : sizeof(Out));
  if (alignedTo(sizeof(In) * kLanes, x) && alignedTo(sizeof(Out) * kLanes, y))
    mapKernel<kLanes>
        <<<blocksFor(count / kLanes), kThreads, 0, stream>>>(x, y, count, f);
  else
    mapKernel<1><<<blocksFor(count), kThreads, 0, stream>>>(x, y, count, f);
}

/// Launches zipKernel as launchMap does mapKernel.
template <typename T, typename F>
void launchZip(cudaStream_t stream, const T *a, const T *b, T *r, int64_t count,
               F f) {
  constexpr int kLanes = 16 / static_cast<int>(sizeof(T));
  if (alignedTo(16, a, b, r))
    zipKernel<kLanes>
        <<<blocksFor(count / kLanes), kThreads, 0, stream>>>(a, b, r, count, f);
  else
    zipKernel<1><<<blocksFor(count), kThreads, 0, stream>>>(a, b, r, count, f);
}

/// launchMove's kernels, top-1 (!kChoices) or top-k.
template <bool kChoices>
void launchMoveKernel(cudaStream_t stream, bool dispatch, ElemType type,
                      ElemType gateType, void *tokens, void *slots,
                      const int32_t *expert, const int32_t *position,
                      const uint8_t *dropped, const void *gate,
                      const void *residual, const Indexer &index,
                      int64_t choices, DimStrides choiceStrides,
                      int64_t expertStride, int64_t slotStride, int64_t experts,
                      int64_t capacity, int32_t *error, int32_t errorCode) {
  const RowLaunch rows(index);
  const unsigned blocks = rows.blocks, threads = rows.threads;
  if (!dispatch) {
    combineKernel<kChoices><<<blocks, threads, 0, stream>>>(
        type, gateType, tokens, slots, expert, position, dropped, gate,
        residual, rows.ix, rows.chunk, choices, choiceStrides, expertStride,
        slotStride, experts, capacity, error, errorCode);
    return;
  }
  // Elements are moved as unsigned integers of their size.
  auto launch = [&](auto size) {
    using T = decltype(size);
    dispatchKernel<T, kChoices><<<blocks, threads, 0, stream>>>(
        static_cast<const T *>(tokens), static_cast<T *>(slots), expert,
        position, dropped, rows.ix, rows.chunk, choices, choiceStrides,
        expertStride, slotStride, experts, capacity, error, errorCode);
  };
  switch (type) {
  case ElemType::F32:
  case ElemType::I32:
    launch(uint32_t{});
    break;
  case ElemType::Bool:
    launch(uint8_t{});
    break;
  default:
    launch(uint16_t{});
    break;
  }
}

} // namespace

void launchUnary(cudaStream_t stream, int kind, ElemType type, const void *x,
                 void *y, int64_t count) {
  if (isFloat(type)) {
    withFloatType(type, [&](auto *typed) {
      using T = std::remove_pointer_t<decltype(typed)>;
      launchMap(stream, static_cast<const T *>(x), static_cast<T *>(y), count,
                UnaryOp{kind});
    });
    return;
  }
  unaryIntKernel<<<blocksFor(count), kThreads, 0, stream>>>(kind, type, x, y,
                                                            count);
}

void launchBinary(cudaStream_t stream, int kind, ElemType type, const void *a,
                  const void *b, void *r, const Indexer &index) {
  // Three contiguous float tensors of one shape: the typed, vectorized form.
  bool contiguous = index.rank == 1 && isFloat(type);
  for (int k = 0; k < index.tensors && contiguous; ++k)
    contiguous = index.strides[k][0] == 1;
  if (contiguous) {
    withFloatType(type, [&](auto *typed) {
      using T = std::remove_pointer_t<decltype(typed)>;
      launchZip(stream, static_cast<const T *>(a), static_cast<const T *>(b),
                static_cast<T *>(r), index.count, BinaryOp{kind});
    });
    return;
  }
  const RowLaunch rows(index);
  binaryKernel<<<rows.blocks, rows.threads, 0, stream>>>(kind, type, a, b, r,
                                                         rows.ix, rows.chunk);
}

void launchReduce(cudaStream_t stream, int kind, ElemType type, const void *in,
                  void *out, const Indexer &outer, const Indexer &inner) {
  reduceKernel<<<blocksFor(outer.count), kThreads, 0, stream>>>(
      kind, type, in, out, outer, inner);
}

void launchEinsumLoop(cudaStream_t stream, ElemType type,
                      const void *const *operands, int operandCount,
                      void *result, const Indexer &outer,
                      const Indexer &inner) {
  Operands data;
  for (int k = 0; k < operandCount; ++k)
    data.data[k] = operands[k];
  einsumLoopKernel<<<blocksFor(outer.count), kThreads, 0, stream>>>(
      type, data, operandCount, result, outer, inner);
}

void launchSoftmax(cudaStream_t stream, ElemType type, const void *x, void *y,
                   int64_t outer, int64_t size, int64_t inner) {
  if (outer * inner > 0)
    softmaxKernel<<<static_cast<unsigned>(outer * inner), kThreads, 0,
                    stream>>>(type, x, y, size, inner);
}

void launchRmsNorm(cudaStream_t stream, ElemType type, ElemType scaleType,
                   const void *x, const void *scale, void *y, int64_t outer,
                   int64_t size, int64_t inner, float epsilon) {
  if (outer * inner > 0)
    rmsNormKernel<<<static_cast<unsigned>(outer * inner), kThreads, 0,
                    stream>>>(type, scaleType, x, scale, y, size, inner,
                              epsilon);
}

void launchCumsum(cudaStream_t stream, ElemType type, bool exclusive,
                  const void *x, void *y, int64_t outer, int64_t size,
                  int64_t inner) {
  cumsumKernel<<<blocksFor(outer * inner), kThreads, 0, stream>>>(
      type, exclusive, x, y, outer * inner, size, inner);
}

void launchCast(cudaStream_t stream, ElemType from, ElemType to, const void *x,
                void *y, int64_t count) {
  if (isFloat(from) && isFloat(to)) {
    withFloatType(from, [&](auto *fromTyped) {
      withFloatType(to, [&](auto *toTyped) {
        using From = std::remove_pointer_t<decltype(fromTyped)>;
        using To = std::remove_pointer_t<decltype(toTyped)>;
        launchMap(stream, static_cast<const From *>(x), static_cast<To *>(y),
                  count, IdentityOp{});
      });
    });
    return;
  }
  castKernel<<<blocksFor(count), kThreads, 0, stream>>>(from, to, x, y, count);
}

void launchGather(cudaStream_t stream, int elementSize, const void *table,
                  const int32_t *ids, void *out, const Indexer &index,
                  int64_t rows, int64_t rowStride, int32_t *error,
                  int32_t errorCode) {
  const unsigned blocks = blocksFor(index.count);
  switch (elementSize) {
  case 1:
    gatherKernel<<<blocks, kThreads, 0, stream>>>(
        static_cast<const uint8_t *>(table), ids, static_cast<uint8_t *>(out),
        index, rows, rowStride, error, errorCode);
    break;
  case 2:
    gatherKernel<<<blocks, kThreads, 0, stream>>>(
        static_cast<const uint16_t *>(table), ids, static_cast<uint16_t *>(out),
        index, rows, rowStride, error, errorCode);
    break;
  default:
    gatherKernel<<<blocks, kThreads, 0, stream>>>(
        static_cast<const uint32_t *>(table), ids, static_cast<uint32_t *>(out),
        index, rows, rowStride, error, errorCode);
    break;
  }
}

void launchOneHot(cudaStream_t stream, ElemType type, const int32_t *ids,
                  void *out, const Indexer &index) {
  oneHotKernel<<<blocksFor(index.count), kThreads, 0, stream>>>(type, ids, out,
                                                                index);
}

void launchIota(cudaStream_t stream, ElemType type, void *out,
                const Indexer &index) {
  iotaKernel<<<blocksFor(index.count), kThreads, 0, stream>>>(type, out, index);
}

void launchStridedCopy(cudaStream_t stream, int elementSize, const void *src,
                       void *dst, const Indexer &index) {
  const unsigned blocks = blocksFor(index.count);
  switch (elementSize) {
  case 1:
    stridedCopyKernel<<<blocks, kThreads, 0, stream>>>(
        static_cast<const uint8_t *>(src), static_cast<uint8_t *>(dst), index);
    break;
  case 2:
    stridedCopyKernel<<<blocks, kThreads, 0, stream>>>(
        static_cast<const uint16_t *>(src), static_cast<uint16_t *>(dst),
        index);
    break;
  case 8:
    stridedCopyKernel<<<blocks, kThreads, 0, stream>>>(
        static_cast<const uint64_t *>(src), static_cast<uint64_t *>(dst),
        index);
    break;
  default:
    stridedCopyKernel<<<blocks, kThreads, 0, stream>>>(
        static_cast<const uint32_t *>(src), static_cast<uint32_t *>(dst),
        index);
    break;
  }
}

void launchStridedAccumulate(cudaStream_t stream, const float *src, float *dst,
                             const Indexer &index) {
  stridedAccumulateKernel<<<blocksFor(index.count), kThreads, 0, stream>>>(
      src, dst, index);
}

void launchRouteGates(cudaStream_t stream, ElemType logitsType,
                      ElemType gateType, const void *logits, int32_t *expert,
                      void *gate, const Indexer &groups, int64_t tokens,
                      const int64_t tokenStrides[3], int64_t choices,
                      const int64_t choiceStrides[2], int64_t experts,
                      int64_t expertStride) {
  routeGatesKernel<<<blocksFor(groups.count * tokens), kThreads, 0, stream>>>(
      logitsType, gateType, logits, expert, gate, groups, tokens,
      dimStrides(tokenStrides, 3), choices, dimStrides(choiceStrides, 2),
      experts, expertStride);
}

cudaError_t launchRoutePositions(cudaStream_t stream, const int32_t *expert,
                                 int32_t *position, uint8_t *dropped,
                                 const Indexer &groups, int64_t tokens,
                                 const int64_t tokenStrides[3], int64_t choices,
                                 const int64_t choiceStrides[3],
                                 int64_t experts, int64_t capacity) {
  if (groups.count == 0 || tokens == 0)
    return cudaSuccess;
  const size_t shared = (32 * experts + experts) * sizeof(int32_t);
  const cudaError_t error = cudaFuncSetAttribute(
      routePositionsKernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
      static_cast<int>(shared));
  if (error != cudaSuccess)
    return error;
  routePositionsKernel<<<static_cast<unsigned>(groups.count), 1024, shared,
                         stream>>>(
      expert, position, dropped, groups, tokens, dimStrides(tokenStrides, 3),
      choices, dimStrides(choiceStrides, 3), experts, capacity);
  return cudaGetLastError();
}

void launchRouteNormalize(cudaStream_t stream, ElemType gateType, void *gate,
                          const uint8_t *dropped, bool afterDrops,
                          const Indexer &groups, int64_t tokens,
                          const int64_t tokenStrides[2], int64_t choices,
                          const int64_t choiceStrides[2]) {
  routeNormalizeKernel<<<blocksFor(groups.count * tokens), kThreads, 0,
                         stream>>>(gateType, gate, dropped, afterDrops, groups,
                                   tokens, dimStrides(tokenStrides, 2), choices,
                                   dimStrides(choiceStrides, 2));
}

void launchMove(cudaStream_t stream, bool dispatch, ElemType type,
                ElemType gateType, void *tokens, void *slots,
                const int32_t *expert, const int32_t *position,
                const uint8_t *dropped, const void *gate, const void *residual,
                const Indexer &index, int64_t choices,
                const int64_t choiceStrides[4], int64_t expertStride,
                int64_t slotStride, int64_t experts, int64_t capacity,
                int32_t *error, int32_t errorCode) {
  (choices == 1 ? launchMoveKernel<false>
                : launchMoveKernel<true>)(stream, dispatch, type, gateType,
                                          tokens, slots, expert, position,
                                          dropped, gate, residual, index,
                                          choices, dimStrides(choiceStrides, 4),
                                          expertStride, slotStride, experts,
                                          capacity, error, errorCode);
}

void launchZLossSum(cudaStream_t stream, ElemType type, const void *logits,
                    const Indexer &positions, int64_t experts,
                    int64_t expertStride, double *sum) {
  zLossSumKernel<<<blocksFor(positions.count), kThreads, 0, stream>>>(
      type, logits, positions, experts, expertStride, sum);
}

void launchLoadBalancingSums(cudaStream_t stream, ElemType type,
                             const void *logits, const Indexer &groups,
                             int64_t tokens, int64_t tokenStride,
                             int64_t experts, int64_t expertStride,
                             double *chosen, double *probSum) {
  loadBalancingSumsKernel<<<blocksFor(groups.count * tokens), kThreads, 0,
                            stream>>>(type, logits, groups, tokens, tokenStride,
                                      experts, expertStride, chosen, probSum);
}

void launchZLossFinish(cudaStream_t stream, ElemType type, void *out,
                       const double *sum, int64_t count) {
  zLossFinishKernel<<<1, 1, 0, stream>>>(type, out, sum, count);
}

void launchLoadBalancingFinish(cudaStream_t stream, ElemType type, void *out,
                               const double *chosen, const double *probSum,
                               int64_t cells, int64_t tokensPerGroup,
                               int64_t experts) {
  loadBalancingFinishKernel<<<1, kThreads, 0, stream>>>(
      type, out, chosen, probSum, cells, tokensPerGroup, experts);
}

void launchGroupReduce(cudaStream_t stream, int reduction, ElemType type,
                       const GroupBuffers &sources, int count, int64_t base,
                       void *dst, const Indexer &index) {
  groupReduceKernel<<<blocksFor(index.count), kThreads, 0, stream>>>(
      reduction, type, sources, count, base, dst, index);
}

} // namespace switchyard::runtime::cuda
