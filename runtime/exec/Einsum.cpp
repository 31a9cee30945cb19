//===- Einsum.cpp - Einsum by dimension names -----------------------------===//

#include "runtime/exec/Einsum.h"

#include "runtime/exec/ElementTypes.h"
#include "runtime/exec/Strided.h"

#include <algorithm>
#include <cblas.h>

namespace switchyard::runtime {

namespace {

std::vector<std::string> dimNames(const TensorSpec &type) {
  std::vector<std::string> names;
  for (const DimSpec &dim : type.dims)
    names.push_back(dim.name);
  return names;
}

std::vector<std::string>
concat(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> result;
  for (const auto &part : parts)
    result.insert(result.end(), part.begin(), part.end());
  return result;
}

/// A type of the dimensions `names`, with their sizes from `sizes`.
TensorSpec typeOf(const std::vector<std::string> &names,
                  const TensorSpec &sizes) {
  TensorSpec type;
  for (const std::string &name : names)
    type.dims.push_back(sizes.dims[sizes.find(name)]);
  return type;
}

int64_t product(const std::vector<std::string> &names, const TensorSpec &all) {
  int64_t result = 1;
  for (const std::string &name : names)
    result *= all.dims[all.find(name)].size;
  return result;
}

/// Converts `count` elements of `dtype` at `data` to f32 in `out`.
void toFloat(DType dtype, const void *data, int64_t count, float *out) {
  visitDType(dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto *in = static_cast<const typename T::Storage *>(data);
    for (int64_t i = 0; i < count; ++i)
      out[i] = static_cast<float>(T::load(in[i]));
  });
}

/// The rows of the row-major [rows, columns] matrix `a` that are not all
/// zero, into `nonzero`; returns their count.
int64_t nonzeroRows(const float *a, int64_t rows, int64_t columns,
                    int64_t *nonzero) {
  int64_t count = 0;
  for (int64_t i = 0; i < rows; ++i) {
    const float *row = a + i * columns;
    if (std::any_of(row, row + columns, [](float v) { return v != 0.0f; }))
      nonzero[count++] = i;
  }
  return count;
}

} // namespace

EinsumLayout::EinsumLayout(const Program &program, const OpSpec &op) {
  const TensorSpec &r = program.values[op.results[0]].type;
  // Every dimension with its size, result dimensions first.
  TensorSpec all = r;
  for (int operand : op.operands)
    for (const DimSpec &dim : program.values[operand].type.dims)
      if (all.find(dim.name) < 0)
        all.dims.push_back(dim);

  if (op.operands.size() != 2) {
    loopShape = all.shape();
    resultRank = r.dims.size();
    for (int operand : op.operands)
      loopStrides.push_back(stridesIn(program.values[operand].type, all));
    loopStrides.push_back(stridesIn(r, all));
    return;
  }

  gemm = true;
  const TensorSpec &a = program.values[op.operands[0]].type;
  const TensorSpec &b = program.values[op.operands[1]].type;
  std::vector<std::string> batch, m, n, k;
  bool sumA = false, sumB = false;
  for (const DimSpec &dim : r.dims) {
    const bool inA = a.find(dim.name) >= 0, inB = b.find(dim.name) >= 0;
    (inA && inB ? batch : inA ? m : n).push_back(dim.name);
  }
  for (const DimSpec &dim : a.dims) {
    if (r.find(dim.name) >= 0)
      continue;
    if (b.find(dim.name) >= 0)
      k.push_back(dim.name);
    else
      sumA = true;
  }
  for (const DimSpec &dim : b.dims)
    if (r.find(dim.name) < 0 && a.find(dim.name) < 0)
      sumB = true;
  this->batch = product(batch, all);
  this->m = product(m, all);
  this->n = product(n, all);
  this->k = product(k, all);

  // An operand is used in place if it is exactly [batch, rows, columns] or
  // [batch, columns, rows]; otherwise it is packed into the former.
  auto plan = [&](const TensorSpec &type, bool sums,
                  const std::vector<std::string> &rows,
                  const std::vector<std::string> &columns) {
    EinsumPacking packing;
    const std::vector<std::string> names = dimNames(type);
    if (!sums && names == concat({batch, rows, columns}))
      packing.direct = true;
    else if (!sums && names == concat({batch, columns, rows}))
      packing.direct = packing.transposed = true;
    if (packing.direct)
      return packing;
    const TensorSpec packed = typeOf(concat({batch, rows, columns}), all);
    packing.accumulate = sums;
    packing.shape = type.shape();
    packing.strides = {rowMajorStrides(type), stridesIn(packed, type)};
    return packing;
  };
  this->a = plan(a, sumA, m, k);
  this->b = plan(b, sumB, k, n);
  const std::vector<std::string> cNames = concat({batch, m, n});
  if (dimNames(r) == cNames) {
    c.direct = true;
  } else {
    const TensorSpec packed = typeOf(cNames, all);
    c.shape = packed.shape();
    c.strides = {rowMajorStrides(packed), stridesIn(r, packed)};
  }
}

void EinsumPlan::runGemm(const float *a, const float *b, float *r,
                         Workspace &workspace) const {
  // Packs (or sums into) a [batch, rows, columns] matrix.
  auto pack = [](const EinsumPacking &packing, const float *src, float *dst,
                 int64_t size) {
    if (packing.accumulate)
      std::fill(dst, dst + size, 0.0f);
    StridedLoop loop(packing.shape, packing.strides);
    if (packing.accumulate)
      loop.run([&](const int64_t *o) { dst[o[1]] += src[o[0]]; });
    else
      loop.run([&](const int64_t *o) { dst[o[1]] = src[o[0]]; });
  };
  const float *pa = a, *pb = b;
  if (!layout_.a.direct) {
    float *packed = Workspace::grow(workspace.floats[0],
                                    layout_.batch * layout_.m * layout_.k);
    pack(layout_.a, a, packed, layout_.batch * layout_.m * layout_.k);
    pa = packed;
  }
  if (!layout_.b.direct) {
    float *packed = Workspace::grow(workspace.floats[1],
                                    layout_.batch * layout_.k * layout_.n);
    pack(layout_.b, b, packed, layout_.batch * layout_.k * layout_.n);
    pb = packed;
  }
  float *pc = layout_.c.direct
                  ? r
                  : Workspace::grow(workspace.floats[2],
                                    layout_.batch * layout_.m * layout_.n);
  const int64_t m = layout_.m, n = layout_.n, k = layout_.k;
  if (k == 0) {
    std::fill(pc, pc + layout_.batch * m * n, 0.0f);
  } else if (m > 0 && n > 0) {
    const CBLAS_TRANSPOSE ta = layout_.a.transposed ? CblasTrans : CblasNoTrans;
    const CBLAS_TRANSPOSE tb = layout_.b.transposed ? CblasTrans : CblasNoTrans;
    const int64_t lda = std::max<int64_t>(layout_.a.transposed ? m : k, 1);
    const int64_t ldb = std::max<int64_t>(layout_.b.transposed ? k : n, 1);
    // [rows, columns] = the rows of A_i times B_i.
    auto gemm = [&](int64_t i, int64_t rows, const float *a, float *c) {
      cblas_sgemm(CblasRowMajor, ta, tb, rows, n, k, 1.0f, a, lda,
                  pb + i * k * n, ldb, 0.0f, c, n);
    };
    int64_t *nonzero =
        layout_.a.transposed ? nullptr : Workspace::grow(workspace.counts, m);
    for (int64_t i = 0; i < layout_.batch; ++i) {
      const float *ai = pa + i * m * k;
      float *ci = pc + i * m * n;
      // Rows of A that are all zero give rows of zeros (B finite), so they
      // are left out of the GEMM where they are an eighth or more of A, as
      // the capacity padding of the experts' buffers is (DESIGN.md,
      // decision 6): the other rows are gathered, multiplied and put back.
      const int64_t rows = nonzero ? nonzeroRows(ai, m, k, nonzero) : m;
      if (8 * (m - rows) < m) {
        gemm(i, m, ai, ci);
        continue;
      }
      float *gathered = Workspace::grow(workspace.floats[6], rows * k);
      float *product = Workspace::grow(workspace.floats[7], rows * n);
      for (int64_t r = 0; r < rows; ++r)
        std::copy_n(ai + nonzero[r] * k, k, gathered + r * k);
      if (rows > 0)
        gemm(i, rows, gathered, product);
      for (int64_t row = 0, r = 0; row < m; ++row) {
        float *out = ci + row * n;
        if (r < rows && nonzero[r] == row)
          std::copy_n(product + r++ * n, n, out);
        else
          std::fill(out, out + n, 0.0f);
      }
    }
  }
  if (!layout_.c.direct) {
    StridedLoop loop(layout_.c.shape, layout_.c.strides);
    loop.run([&](const int64_t *o) { r[o[1]] = pc[o[0]]; });
  }
}

void EinsumPlan::runLoop(const OpSpec &op, DeviceContext &c) const {
  const TensorSpec &out = c.type(op.results[0]);
  const int64_t count = out.numElements();
  double *acc = Workspace::grow(c.workspace->sums, count);
  std::fill(acc, acc + count, 0.0);
  std::vector<const void *> data;
  for (int operand : op.operands)
    data.push_back(c.data(operand));
  const size_t operands = data.size();
  const DType dtype = out.dtype;
  StridedLoop loop(layout_.loopShape, layout_.loopStrides);
  loop.run([&](const int64_t *o) {
    double product = 1.0;
    for (size_t i = 0; i < operands; ++i)
      product *= loadAsFloat(dtype, data[i], o[i]);
    acc[o[operands]] += product;
  });
  void *r = c.data(op.results[0]);
  for (int64_t i = 0; i < count; ++i)
    storeFloat(dtype, r, i, static_cast<float>(acc[i]));
}

absl::Status EinsumPlan::run(const OpSpec &op, DeviceContext &c) const {
  if (!layout_.gemm) {
    runLoop(op, c);
    return absl::OkStatus();
  }
  const TensorSpec &out = c.type(op.results[0]);
  if (out.dtype == DType::F32) {
    runGemm(static_cast<const float *>(c.data(op.operands[0])),
            static_cast<const float *>(c.data(op.operands[1])),
            static_cast<float *>(c.data(op.results[0])), *c.workspace);
    return absl::OkStatus();
  }
  // bf16 and f16 widen to f32 and round the result once.
  Workspace &w = *c.workspace;
  const int64_t aCount = c.type(op.operands[0]).numElements();
  const int64_t bCount = c.type(op.operands[1]).numElements();
  const int64_t rCount = out.numElements();
  float *a = Workspace::grow(w.floats[3], aCount);
  float *b = Workspace::grow(w.floats[4], bCount);
  float *r = Workspace::grow(w.floats[5], rCount);
  toFloat(out.dtype, c.data(op.operands[0]), aCount, a);
  toFloat(out.dtype, c.data(op.operands[1]), bCount, b);
  runGemm(a, b, r, w);
  void *result = c.data(op.results[0]);
  for (int64_t i = 0; i < rCount; ++i)
    storeFloat(out.dtype, result, i, r[i]);
  return absl::OkStatus();
}

} // namespace switchyard::runtime
