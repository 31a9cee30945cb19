//===- EpilogueGemm.cpp - cuBLASLt GEMMs with an activation epilogue ------===//

#include "runtime/cuda/EpilogueGemm.h"

#include "runtime/cuda/CudaStatus.h"
#include "switchyard/Runtime/Status.h"

namespace switchyard::runtime::cuda {

std::optional<cublasLtEpilogue_t> cublasLtEpilogueOf(fb::UnaryKind kind) {
  if (kind == fb::UnaryKind::Relu)
    return CUBLASLT_EPILOGUE_RELU;
  return std::nullopt;
}

namespace {

/// Owns a cuBLASLt matmul preference for the length of a heuristic query.
struct Preference {
  cublasLtMatmulPreference_t handle = nullptr;
  ~Preference() {
    if (handle)
      cublasLtMatmulPreferenceDestroy(handle);
  }
};

} // namespace

absl::StatusOr<std::unique_ptr<EpilogueGemm>>
EpilogueGemm::create(cublasLtHandle_t handle, const EinsumLayout &l,
                     cudaDataType_t type, bool allowTf32,
                     cublasLtEpilogue_t epilogue,
                     const std::array<uint32_t, 3> &alignments) {
  std::unique_ptr<EpilogueGemm> gemm(new EpilogueGemm);
  const cublasComputeType_t compute = type == CUDA_R_32F && allowTf32
                                          ? CUBLAS_COMPUTE_32F_FAST_TF32
                                          : CUBLAS_COMPUTE_32F;
  SY_CUBLAS_RETURN_IF_ERROR(
      cublasLtMatmulDescCreate(&gemm->desc_, compute, CUDA_R_32F));
  const cublasOperation_t transposeB =
      l.b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t transposeA =
      l.a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  SY_CUBLAS_RETURN_IF_ERROR(
      cublasLtMatmulDescSetAttribute(gemm->desc_, CUBLASLT_MATMUL_DESC_TRANSA,
                                     &transposeB, sizeof transposeB));
  SY_CUBLAS_RETURN_IF_ERROR(
      cublasLtMatmulDescSetAttribute(gemm->desc_, CUBLASLT_MATMUL_DESC_TRANSB,
                                     &transposeA, sizeof transposeA));
  SY_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulDescSetAttribute(
      gemm->desc_, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue));

  // Each matrix as stored, column-major: rows, columns, leading dimension,
  // batch stride.
  const int64_t shapes[3][4] = {
      {l.b.transposed ? l.k : l.n, l.b.transposed ? l.n : l.k,
       l.b.transposed ? l.k : l.n, l.k * l.n},
      {l.a.transposed ? l.m : l.k, l.a.transposed ? l.k : l.m,
       l.a.transposed ? l.m : l.k, l.m * l.k},
      {l.n, l.m, l.n, l.m * l.n}};
  const int32_t batch = static_cast<int32_t>(l.batch);
  for (int i = 0; i < 3; ++i) {
    SY_CUBLAS_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(
        &gemm->layouts_[i], type, shapes[i][0], shapes[i][1], shapes[i][2]));
    SY_CUBLAS_RETURN_IF_ERROR(cublasLtMatrixLayoutSetAttribute(
        gemm->layouts_[i], CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch,
        sizeof batch));
    SY_CUBLAS_RETURN_IF_ERROR(cublasLtMatrixLayoutSetAttribute(
        gemm->layouts_[i], CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
        &shapes[i][3], sizeof shapes[i][3]));
  }

  Preference preference;
  SY_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceCreate(&preference.handle));
  const size_t workspace = kEpilogueGemmWorkspaceBytes;
  SY_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
      preference.handle, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
      sizeof workspace));
  // cuBLASLt's A and B are the einsum's b and a; C and D are the result.
  const std::pair<cublasLtMatmulPreferenceAttributes_t, uint32_t> minimums[] = {
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, alignments[1]},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, alignments[0]},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, alignments[2]},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, alignments[2]}};
  for (const auto &[attribute, bytes] : minimums)
    SY_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
        preference.handle, attribute, &bytes, sizeof bytes));
  cublasLtMatmulHeuristicResult_t heuristic = {};
  int found = 0;
  const cublasStatus_t query = cublasLtMatmulAlgoGetHeuristic(
      handle, gemm->desc_, gemm->layouts_[0], gemm->layouts_[1],
      gemm->layouts_[2], gemm->layouts_[2], preference.handle, 1, &heuristic,
      &found);
  // NOT_SUPPORTED: cuBLASLt has nothing for this configuration.
  if (query == CUBLAS_STATUS_NOT_SUPPORTED ||
      (query == CUBLAS_STATUS_SUCCESS && found == 0))
    return nullptr;
  SY_CUBLAS_RETURN_IF_ERROR(query);
  gemm->algo_ = heuristic.algo;
  return gemm;
}

EpilogueGemm::~EpilogueGemm() {
  for (cublasLtMatrixLayout_t layout : layouts_)
    if (layout)
      cublasLtMatrixLayoutDestroy(layout);
  if (desc_)
    cublasLtMatmulDescDestroy(desc_);
}

absl::Status EpilogueGemm::run(cublasLtHandle_t handle, const void *a,
                               const void *b, void *c, void *workspace,
                               cudaStream_t stream) const {
  const float one = 1.0f, zero = 0.0f;
  SY_CUBLAS_RETURN_IF_ERROR(
      cublasLtMatmul(handle, desc_, &one, b, layouts_[0], a, layouts_[1], &zero,
                     c, layouts_[2], c, layouts_[2], &algo_, workspace,
                     kEpilogueGemmWorkspaceBytes, stream));
  return absl::OkStatus();
}

} // namespace switchyard::runtime::cuda
