//===- EpilogueGemm.h - cuBLASLt GEMMs with epilogues -----------*- C++ -*-===//
//
// An einsum whose executable op carries an activation epilogue (the
// compiler's sy-fuse-epilogues) runs, where cuBLASLt has that activation, as
// one cuBLASLt strided-batched GEMM that applies it while writing the
// result, instead of a GEMM followed by the element-wise kernel reading and
// writing the whole result again.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_CUDA_EPILOGUEGEMM_H
#define SWITCHYARD_RUNTIME_CUDA_EPILOGUEGEMM_H

#include "runtime/exec/Einsum.h"
#include "switchyard/Executable/Executable_generated.h"

#include "absl/status/statusor.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include <cublasLt.h>

namespace switchyard::runtime::cuda {

/// cuBLASLt's workspace per stream, as NVIDIA advises for Hopper.
inline constexpr size_t kEpilogueGemmWorkspaceBytes = size_t{32} << 20;

/// The cuBLASLt epilogue that applies exactly `kind`, if there is one: only
/// relu (cuBLASLt's GELU is an approximation it does not name).
std::optional<cublasLtEpilogue_t> cublasLtEpilogueOf(fb::UnaryKind kind);

/// The descriptors and algorithm of one einsum's GEMM with an epilogue, made
/// once per session. The einsum runs on its packed operands and writes its
/// result in place (EinsumLayout::c.direct).
class EpilogueGemm {
public:
  /// The GEMM of `layout` in `type` (CUDA_R_32F, CUDA_R_16BF or CUDA_R_16F,
  /// float32 accumulation, TF32 tensor cores where `allowTf32`), or null
  /// when cuBLASLt has no algorithm for it. `alignments`: the bytes the
  /// packed first operand, second operand and the result are aligned to.
  static absl::StatusOr<std::unique_ptr<EpilogueGemm>>
  create(cublasLtHandle_t handle, const EinsumLayout &layout,
         cudaDataType_t type, bool allowTf32, cublasLtEpilogue_t epilogue,
         const std::array<uint32_t, 3> &alignments);

  EpilogueGemm(const EpilogueGemm &) = delete;
  EpilogueGemm &operator=(const EpilogueGemm &) = delete;
  ~EpilogueGemm();

  /// Enqueues c = epilogue(a b) on `stream`; `workspace` holds
  /// kEpilogueGemmWorkspaceBytes.
  absl::Status run(cublasLtHandle_t handle, const void *a, const void *b,
                   void *c, void *workspace, cudaStream_t stream) const;

private:
  EpilogueGemm() = default;

  cublasLtMatmulDesc_t desc_ = nullptr;
  /// cuBLASLt's first operand (the einsum's second), second (the einsum's
  /// first) and result: row-major C = A B is column-major C^T = B^T A^T.
  std::array<cublasLtMatrixLayout_t, 3> layouts_ = {};
  cublasLtMatmulAlgo_t algo_ = {};
};

} // namespace switchyard::runtime::cuda

#endif // SWITCHYARD_RUNTIME_CUDA_EPILOGUEGEMM_H
