//===- ElementwiseOps.cpp - Element-wise, reduction and indexing kernels --===//
//
// Float element types compute in float (bf16/f16 are widened on load and
// rounded on store); i32 and bool compute in int32_t, where overflow wraps
// and division by zero gives 0.
//
//===----------------------------------------------------------------------===//

#include "runtime/exec/ElementTypes.h"
#include "runtime/exec/Kernels.h"
#include "runtime/exec/Strided.h"
#include "runtime/exec/VectorMath.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace switchyard::runtime {

namespace {

using fb::BinaryKind;
using fb::ReduceKind;
using fb::UnaryKind;

template <typename T> using Storage = typename T::Storage;

float unaryFloat(UnaryKind kind, float x) {
  switch (kind) {
  case UnaryKind::Neg:
    return -x;
  case UnaryKind::Abs:
    return std::fabs(x);
  case UnaryKind::Exp:
    return std::exp(x);
  case UnaryKind::Log:
    return std::log(x);
  case UnaryKind::Sqrt:
    return std::sqrt(x);
  case UnaryKind::Rsqrt:
    return 1.0f / std::sqrt(x);
  case UnaryKind::Square:
    return x * x;
  case UnaryKind::Reciprocal:
    return 1.0f / x;
  case UnaryKind::Tanh:
    return std::tanh(x);
  case UnaryKind::Relu:
    return std::max(x, 0.0f);
  case UnaryKind::Gelu:
    return 0.5f * x * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
  case UnaryKind::GeluTanh: {
    const float scale = std::sqrt(2.0f / static_cast<float>(M_PI));
    return 0.5f * x * (1.0f + std::tanh(scale * (x + 0.044715f * x * x * x)));
  }
  case UnaryKind::Silu:
    return x / (1.0f + std::exp(-x));
  }
  return x;
}

/// Neg, Abs and Square on int32_t, wrapping on overflow.
int32_t unaryInt(UnaryKind kind, int32_t x) {
  const uint32_t u = static_cast<uint32_t>(x);
  switch (kind) {
  case UnaryKind::Neg:
    return static_cast<int32_t>(0u - u);
  case UnaryKind::Abs:
    return x < 0 ? static_cast<int32_t>(0u - u) : x;
  default:
    return static_cast<int32_t>(u * u);
  }
}

float binaryFloat(BinaryKind kind, float a, float b) {
  switch (kind) {
  case BinaryKind::Add:
    return a + b;
  case BinaryKind::Sub:
    return a - b;
  case BinaryKind::Mul:
    return a * b;
  case BinaryKind::Div:
    return a / b;
  case BinaryKind::Max:
    return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
  case BinaryKind::Min:
    return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
  case BinaryKind::Pow:
    return std::pow(a, b);
  }
  return a;
}

int32_t binaryInt(BinaryKind kind, int32_t a, int32_t b) {
  const uint32_t ua = static_cast<uint32_t>(a), ub = static_cast<uint32_t>(b);
  switch (kind) {
  case BinaryKind::Add:
    return static_cast<int32_t>(ua + ub);
  case BinaryKind::Sub:
    return static_cast<int32_t>(ua - ub);
  case BinaryKind::Mul:
    return static_cast<int32_t>(ua * ub);
  case BinaryKind::Div:
    if (b == 0)
      return 0;
    if (b == -1)
      return static_cast<int32_t>(0u - ua);
    return a / b;
  case BinaryKind::Max:
    return std::max(a, b);
  case BinaryKind::Min:
    return std::min(a, b);
  case BinaryKind::Pow:
    break;
  }
  return a;
}

template <typename T> auto applyUnary(UnaryKind kind, typename T::Compute x) {
  if constexpr (std::is_integral_v<typename T::Compute>)
    return unaryInt(kind, x);
  else
    return unaryFloat(kind, x);
}

template <typename T>
auto applyBinary(BinaryKind kind, typename T::Compute a,
                 typename T::Compute b) {
  if constexpr (std::is_integral_v<typename T::Compute>)
    return binaryInt(kind, a, b);
  else
    return binaryFloat(kind, a, b);
}

/// Calls `f(std::integral_constant<UnaryKind, kind>())`: kernels loop with
/// the kind fixed at compile time, so that the switch on it leaves the loop.
template <typename F> void withKind(UnaryKind kind, F &&f) {
  using K = UnaryKind;
  switch (kind) {
  case K::Neg:
    return f(std::integral_constant<K, K::Neg>());
  case K::Abs:
    return f(std::integral_constant<K, K::Abs>());
  case K::Exp:
    return f(std::integral_constant<K, K::Exp>());
  case K::Log:
    return f(std::integral_constant<K, K::Log>());
  case K::Sqrt:
    return f(std::integral_constant<K, K::Sqrt>());
  case K::Rsqrt:
    return f(std::integral_constant<K, K::Rsqrt>());
  case K::Square:
    return f(std::integral_constant<K, K::Square>());
  case K::Reciprocal:
    return f(std::integral_constant<K, K::Reciprocal>());
  case K::Tanh:
    return f(std::integral_constant<K, K::Tanh>());
  case K::Relu:
    return f(std::integral_constant<K, K::Relu>());
  case K::Gelu:
    return f(std::integral_constant<K, K::Gelu>());
  case K::GeluTanh:
    return f(std::integral_constant<K, K::GeluTanh>());
  case K::Silu:
    return f(std::integral_constant<K, K::Silu>());
  }
}

/// As above, for binary kinds.
template <typename F> void withKind(BinaryKind kind, F &&f) {
  using K = BinaryKind;
  switch (kind) {
  case K::Add:
    return f(std::integral_constant<K, K::Add>());
  case K::Sub:
    return f(std::integral_constant<K, K::Sub>());
  case K::Mul:
    return f(std::integral_constant<K, K::Mul>());
  case K::Div:
    return f(std::integral_constant<K, K::Div>());
  case K::Max:
    return f(std::integral_constant<K, K::Max>());
  case K::Min:
    return f(std::integral_constant<K, K::Min>());
  case K::Pow:
    return f(std::integral_constant<K, K::Pow>());
  }
}

/// The sizes around dimension `name` of `type`: elements before it (outer),
/// its size and elements after it (inner).
struct AlongDim {
  int64_t outer = 1, size = 1, inner = 1;
};

AlongDim alongDim(const TensorSpec &type, const std::string &name) {
  AlongDim result;
  const int dim = type.find(name);
  for (int d = 0; d < static_cast<int>(type.dims.size()); ++d) {
    if (d < dim)
      result.outer *= type.dims[d].size;
    else if (d == dim)
      result.size = type.dims[d].size;
    else
      result.inner *= type.dims[d].size;
  }
  return result;
}

void runUnary(const OpSpec &op, DeviceContext &c) {
  const TensorSpec &type = c.type(op.results[0]);
  unaryInto(op.unary, type.dtype, c.data(op.operands[0]), c.data(op.results[0]),
            type.numElements());
}

/// `r = a op b` over `loop` (result, a, b), with the kind `fixed` at compile
/// time and the common runs (all contiguous, or one operand constant along
/// the run) as plain loops the compiler vectorizes.
template <typename T, typename Kind>
void binaryRows(const StridedLoop &loop, Kind fixed, const Storage<T> *a,
                const Storage<T> *b, Storage<T> *r) {
  auto apply = [fixed](auto x, auto y) {
    return T::store(applyBinary<T>(fixed, T::load(x), T::load(y)));
  };
  loop.runRows([&](const int64_t *o, int64_t n, const int64_t *s) {
    Storage<T> *ro = r + o[0];
    const Storage<T> *ao = a + o[1], *bo = b + o[2];
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
      for (int64_t i = 0; i < n; ++i)
        ro[i] = apply(ao[i], bo[i]);
    } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
      const Storage<T> y = *bo;
      for (int64_t i = 0; i < n; ++i)
        ro[i] = apply(ao[i], y);
    } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
      const Storage<T> x = *ao;
      for (int64_t i = 0; i < n; ++i)
        ro[i] = apply(x, bo[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        ro[i * s[0]] = apply(ao[i * s[1]], bo[i * s[2]]);
    }
  });
}

void runBinary(const OpSpec &op, DeviceContext &c) {
  const TensorSpec &out = c.type(op.results[0]);
  StridedLoop loop(out.shape(), {rowMajorStrides(out),
                                 stridesIn(c.type(op.operands[0]), out),
                                 stridesIn(c.type(op.operands[1]), out)});
  visitDType(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto *a = static_cast<const Storage<T> *>(c.data(op.operands[0]));
    const auto *b = static_cast<const Storage<T> *>(c.data(op.operands[1]));
    auto *r = static_cast<Storage<T> *>(c.data(op.results[0]));
    withKind(op.binary,
             [&](auto fixed) { binaryRows<T>(loop, fixed, a, b, r); });
  });
}

void runReduce(const OpSpec &op, DeviceContext &c) {
  const TensorSpec &in = c.type(op.operands[0]), &out = c.type(op.results[0]);
  const int64_t count = out.numElements();
  const int64_t reduced = count == 0 ? 0 : in.numElements() / count;
  double *acc = Workspace::grow(c.workspace->sums, count);
  const double init =
      op.reduce == ReduceKind::Max   ? -std::numeric_limits<double>::infinity()
      : op.reduce == ReduceKind::Min ? std::numeric_limits<double>::infinity()
                                     : 0.0;
  std::fill(acc, acc + count, init);
  StridedLoop loop(in.shape(), {rowMajorStrides(in), stridesIn(out, in)});
  visitDType(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto *x = static_cast<const Storage<T> *>(c.data(op.operands[0]));
    auto *r = static_cast<Storage<T> *>(c.data(op.results[0]));
    const ReduceKind kind = op.reduce;
    loop.run([&](const int64_t *o) {
      const double v = static_cast<double>(T::load(x[o[0]]));
      double &a = acc[o[1]];
      a = kind == ReduceKind::Max   ? std::max(a, v)
          : kind == ReduceKind::Min ? std::min(a, v)
                                    : a + v;
    });
    for (int64_t i = 0; i < count; ++i) {
      double v = acc[i];
      if (kind == ReduceKind::Mean)
        v /= static_cast<double>(reduced);
      if constexpr (std::is_integral_v<typename T::Compute>)
        r[i] = T::store(convertFloat<T>(static_cast<float>(v)));
      else
        r[i] = T::store(static_cast<float>(v));
    }
  });
}

void runSoftmax(const OpSpec &op, DeviceContext &c) {
  const TensorSpec &type = c.type(op.operands[0]);
  const AlongDim a = alongDim(type, op.dim);
  float *row = Workspace::grow(c.workspace->floats[0], a.size);
  visitDType(type.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<typename T::Compute>) {
      const auto *x = static_cast<const Storage<T> *>(c.data(op.operands[0]));
      auto *y = static_cast<Storage<T> *>(c.data(op.results[0]));
      for (int64_t o = 0; o < a.outer; ++o)
        for (int64_t i = 0; i < a.inner; ++i) {
          const int64_t base = o * a.size * a.inner + i;
          float max = -std::numeric_limits<float>::infinity();
          for (int64_t k = 0; k < a.size; ++k) {
            row[k] = T::load(x[base + k * a.inner]);
            max = std::max(max, row[k]);
          }
          for (int64_t k = 0; k < a.size; ++k)
            row[k] -= max;
          expInPlace(row, a.size);
          float sum = 0.0f;
          for (int64_t k = 0; k < a.size; ++k)
            sum += row[k];
          const float inverse = 1.0f / sum;
          for (int64_t k = 0; k < a.size; ++k)
            y[base + k * a.inner] = T::store(row[k] * inverse);
        }
    }
  });
}

void runRmsNorm(const OpSpec &op, DeviceContext &c) {
  const TensorSpec &type = c.type(op.operands[0]);
  const TensorSpec &scaleType = c.type(op.operands[1]);
  const AlongDim a = alongDim(type, op.dim);
  float *weight = Workspace::grow(c.workspace->floats[0], a.size);
  for (int64_t k = 0; k < a.size; ++k)
    weight[k] = loadAsFloat(scaleType.dtype, c.data(op.operands[1]), k);
  const float eps = static_cast<float>(op.epsilon);
  visitDType(type.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<typename T::Compute>) {
      const auto *x = static_cast<const Storage<T> *>(c.data(op.operands[0]));
      auto *y = static_cast<Storage<T> *>(c.data(op.results[0]));
      for (int64_t o = 0; o < a.outer; ++o)
        for (int64_t i = 0; i < a.inner; ++i) {
          const int64_t base = o * a.size * a.inner + i;
          double squares = 0.0;
          for (int64_t k = 0; k < a.size; ++k) {
            const double v = T::load(x[base + k * a.inner]);
            squares += v * v;
          }
          const float variance = static_cast<float>(squares / a.size);
          const float scale = 1.0f / std::sqrt(variance + eps);
          for (int64_t k = 0; k < a.size; ++k) {
            const int64_t at = base + k * a.inner;
            y[at] = T::store(weight[k] * (T::load(x[at]) * scale));
          }
        }
    }
  });
}

void runCast(const OpSpec &op, DeviceContext &c) {
  const TensorSpec &in = c.type(op.operands[0]), &out = c.type(op.results[0]);
  convertElements(in.dtype, c.data(op.operands[0]), out.dtype,
                  c.data(op.results[0]), in.numElements());
}

/// Ids outside the table are an error (the run-time inputs' ids are checked
/// before the run, naming the input; this catches ids the program computes).
absl::Status runGather(const OpSpec &op, DeviceContext &c) {
  const TensorSpec &table = c.type(op.operands[0]);
  const TensorSpec &indices = c.type(op.operands[1]);
  const TensorSpec &out = c.type(op.results[0]);
  const int dim = table.find(op.dim);
  const int64_t rows = table.dims[dim].size;
  const int64_t rowStride = rowMajorStrides(table)[dim];
  const auto *ids = static_cast<const int32_t *>(c.data(op.operands[1]));
  for (int64_t i = 0; i < indices.numElements(); ++i)
    if (ids[i] < 0 || ids[i] >= rows)
      return absl::InvalidArgumentError(absl::StrCat(
          "index ", ids[i], " (element ", i, " of the device's indices) is "
          "outside [0, ", rows, ") along '", op.dim, "'"));
  StridedLoop loop(out.shape(), {rowMajorStrides(out), stridesIn(indices, out),
                                 stridesIn(table, out)});
  visitDType(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto *t = static_cast<const Storage<T> *>(c.data(op.operands[0]));
    auto *r = static_cast<Storage<T> *>(c.data(op.results[0]));
    loop.run([&](const int64_t *o) {
      r[o[0]] = t[o[2] + ids[o[1]] * rowStride];
    });
  });
  return absl::OkStatus();
}

/// Strides that make a StridedLoop offset the index along dimension `name`.
std::vector<int64_t> indexAlong(const TensorSpec &space,
                                const std::string &name) {
  std::vector<int64_t> strides(space.dims.size(), 0);
  strides[space.find(name)] = 1;
  return strides;
}

void runOneHot(const OpSpec &op, DeviceContext &c) {
  const TensorSpec &indices = c.type(op.operands[0]);
  const TensorSpec &out = c.type(op.results[0]);
  std::string depth;
  for (const DimSpec &dim : out.dims)
    if (indices.find(dim.name) < 0)
      depth = dim.name;
  StridedLoop loop(out.shape(), {rowMajorStrides(out), stridesIn(indices, out),
                                 indexAlong(out, depth)});
  const auto *ids = static_cast<const int32_t *>(c.data(op.operands[0]));
  visitDType(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    auto *r = static_cast<Storage<T> *>(c.data(op.results[0]));
    const Storage<T> one = T::store(1), zero = T::store(0);
    loop.run(
        [&](const int64_t *o) { r[o[0]] = ids[o[1]] == o[2] ? one : zero; });
  });
}

void runIota(const OpSpec &op, DeviceContext &c) {
  const TensorSpec &out = c.type(op.results[0]);
  StridedLoop loop(out.shape(),
                   {rowMajorStrides(out), indexAlong(out, op.dim)});
  void *r = c.data(op.results[0]);
  loop.run([&](const int64_t *o) {
    storeFloat(out.dtype, r, o[0], static_cast<float>(o[1]));
  });
}

void runCumsum(const OpSpec &op, DeviceContext &c) {
  const TensorSpec &type = c.type(op.operands[0]);
  const AlongDim a = alongDim(type, op.dim);
  visitDType(type.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = typename T::Compute;
    const auto *x = static_cast<const Storage<T> *>(c.data(op.operands[0]));
    auto *y = static_cast<Storage<T> *>(c.data(op.results[0]));
    for (int64_t o = 0; o < a.outer; ++o)
      for (int64_t i = 0; i < a.inner; ++i) {
        const int64_t base = o * a.size * a.inner + i;
        C sum = 0;
        for (int64_t k = 0; k < a.size; ++k) {
          const int64_t at = base + k * a.inner;
          const C v = T::load(x[at]);
          if (op.exclusive) {
            y[at] = T::store(sum);
            sum = applyBinary<T>(BinaryKind::Add, sum, v);
          } else {
            sum = applyBinary<T>(BinaryKind::Add, sum, v);
            y[at] = T::store(sum);
          }
        }
      }
  });
}

} // namespace

void unaryInto(fb::UnaryKind kind, DType dtype, const void *in, void *out,
               int64_t count) {
  visitDType(dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto *from = static_cast<const Storage<T> *>(in);
    auto *to = static_cast<Storage<T> *>(out);
    withKind(kind, [&](auto fixed) {
      for (int64_t i = 0; i < count; ++i)
        to[i] = T::store(applyUnary<T>(fixed, T::load(from[i])));
    });
  });
}

absl::Status runElementwiseOp(const OpSpec &op, DeviceContext &c) {
  switch (op.kind) {
  case fb::OpKind::Unary:
    runUnary(op, c);
    break;
  case fb::OpKind::Binary:
    runBinary(op, c);
    break;
  case fb::OpKind::Reduce:
    runReduce(op, c);
    break;
  case fb::OpKind::Softmax:
    runSoftmax(op, c);
    break;
  case fb::OpKind::RmsNorm:
    runRmsNorm(op, c);
    break;
  case fb::OpKind::Cast:
    runCast(op, c);
    break;
  case fb::OpKind::Reshape:
    std::memcpy(c.data(op.results[0]), c.data(op.operands[0]),
                c.type(op.results[0]).byteSize());
    break;
  case fb::OpKind::Gather:
    return runGather(op, c);
  case fb::OpKind::OneHot:
    runOneHot(op, c);
    break;
  case fb::OpKind::Cumsum:
    runCumsum(op, c);
    break;
  case fb::OpKind::Constant:
    if (!op.constant.empty())
      std::memcpy(c.data(op.results[0]), op.constant.data(),
                  op.constant.size());
    break;
  case fb::OpKind::Iota:
    runIota(op, c);
    break;
  default:
    return absl::InternalError(
        absl::StrCat(opKindName(op.kind), " is not an element-wise op"));
  }
  return absl::OkStatus();
}

} // namespace switchyard::runtime
