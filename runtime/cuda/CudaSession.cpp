//===- CudaSession.cpp - Running an executable on a GPU -------------------===//
//
// Each virtual device owns one device allocation laid out as
//   [arena | kept-aside weights | constants | scratch | error flag]
// and a stream with its own cuBLAS handle. run() enqueues every op of every
// device in program order from one host thread; a collective first makes
// each member's stream wait for its peers to reach it, reads the peers'
// operands in place, and makes the peers wait for the readers before they
// go on. Data-dependent failures (a routed slot outside the capacity, a
// gathered id outside the table) set the error flag, which run() reads at
// the end.
//
// In a job of one GPU per process (CudaSessionOptions::job) the process runs
// one device, whose collectives go over NCCL: strided blocks are packed into
// and unpacked from contiguous scratch around the NCCL calls, and run()
// all-gathers the error flags and the outputs so that every process returns
// the same result.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Runtime/CudaRuntime.h"

#include "runtime/cuda/CudaKernels.h"
#include "runtime/cuda/CudaStatus.h"
#include "runtime/cuda/EpilogueGemm.h"
#include "runtime/cuda/Indexing.h"
#include "runtime/exec/Einsum.h"
#include "runtime/exec/HostBinding.h"
#include "runtime/exec/Kernels.h"
#include "runtime/exec/Program.h"
#include "runtime/exec/Strided.h"
#include "switchyard/Runtime/Status.h"
#ifdef SWITCHYARD_HAVE_NCCL
#include "switchyard/Runtime/NcclJob.h"
#endif

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>

namespace switchyard::runtime {

using namespace cuda;

int cudaDeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

namespace {

constexpr int kOpKindCount = static_cast<int>(fb::OpKind::MAX) + 1;
constexpr int64_t kAlignment = 256;

int64_t alignUp(int64_t bytes) {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

ElemType elemTypeOf(DType dtype) {
  switch (dtype) {
  case DType::F16:
    return ElemType::F16;
  case DType::BF16:
    return ElemType::BF16;
  case DType::I32:
  case DType::I64:
    return ElemType::I32;
  case DType::Bool:
    return ElemType::Bool;
  case DType::F32:
    break;
  }
  return ElemType::F32;
}

/// The CUDA library type of a float dtype (f32, bf16 or f16).
cudaDataType_t cudaDataTypeOf(DType dtype) {
  return dtype == DType::F32    ? CUDA_R_32F
         : dtype == DType::BF16 ? CUDA_R_16BF
                                : CUDA_R_16F;
}

/// The dimensions of `type` that `other` lacks.
TensorSpec notIn(const TensorSpec &type, const TensorSpec &other) {
  TensorSpec result;
  result.dtype = type.dtype;
  for (const DimSpec &dim : type.dims)
    if (other.find(dim.name) < 0)
      result.dims.push_back(dim);
  return result;
}

/// Strides that make an indexer offset the index along dimension `name`.
std::vector<int64_t> indexAlong(const TensorSpec &space,
                                const std::string &name) {
  std::vector<int64_t> strides(space.dims.size(), 0);
  strides[space.find(name)] = 1;
  return strides;
}

struct AlongDim {
  int64_t outer = 1, size = 1, inner = 1;
};

AlongDim alongDim(const TensorSpec &type, const std::string &name) {
  AlongDim result;
  const int dim = type.find(name);
  for (int d = 0; d < static_cast<int>(type.dims.size()); ++d)
    (d < dim    ? result.outer
     : d == dim ? result.size
                : result.inner) *= type.dims[d].size;
  return result;
}

/// Scratch bytes the NCCL path of collective op `op` needs: packed blocks
/// to send and received blocks to unpack.
int64_t ncclScratchBytes(const Program &program, const OpSpec &op) {
  if (op.kind < fb::OpKind::AllReduce || op.kind == fb::OpKind::AllSlice)
    return 0;
  return 2 * alignUp(std::max(program.values[op.operands[0]].type.byteSize(),
                              program.values[op.results[0]].type.byteSize()));
}

/// Scratch bytes op `op` needs.
int64_t scratchBytes(const Program &program, const OpSpec &op) {
  auto type = [&](int value) -> const TensorSpec & {
    return program.values[value].type;
  };
  switch (op.kind) {
  case fb::OpKind::Einsum: {
    const EinsumLayout layout(program, op);
    if (!layout.gemm)
      return 0;
    int64_t bytes = alignUp(layout.batch * layout.m * layout.k * 4) +
                    alignUp(layout.batch * layout.k * layout.n * 4) +
                    alignUp(layout.batch * layout.m * layout.n * 4);
    if (type(op.results[0]).dtype != DType::F32)
      for (int value : {op.operands[0], op.operands[1], op.results[0]})
        bytes += alignUp(type(value).numElements() * 4);
    return bytes;
  }
  case fb::OpKind::ZLoss:
    return kAlignment;
  case fb::OpKind::LoadBalancingLoss:
    return 2 * alignUp(type(op.operands[0])
                           .without({op.tokensDim, op.expertsDim})
                           .numElements() *
                       type(op.operands[0])
                           .dims[type(op.operands[0]).find(op.expertsDim)]
                           .size *
                       8);
  default:
    return 0;
  }
}

/// Device buffers of one virtual device.
struct Device {
  std::byte *base = nullptr;
  std::byte *arena = nullptr;
  std::byte *saved = nullptr;
  std::byte *constants = nullptr;
  std::byte *scratch = nullptr;
  int32_t *error = nullptr;
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  /// cuBLASLt and its workspace, where einsums run with their epilogue.
  cublasLtHandle_t blasLt = nullptr;
  void *ltWorkspace = nullptr;
  /// Recorded when the device reaches a collective and when it leaves it.
  cudaEvent_t ready = nullptr, done = nullptr;
  /// Recorded before the first op and after the last (RunStats::deviceTime).
  cudaEvent_t opsStart = nullptr, opsStop = nullptr;
  /// Pinned host staging for run-time inputs and outputs, then (in an NCCL
  /// job) every device's outputs.
  std::byte *staging = nullptr;
  /// In an NCCL job: every device's outputs, all-gathered.
  std::byte *gathered = nullptr;
};

} // namespace

struct CudaSession::State {
  Executable executable;
  const Program *program = nullptr;
  CudaSessionOptions options;
  /// Indexed by mesh device; only those of `local` are set up.
  std::vector<Device> devices;
  /// The mesh devices this process runs: all, or in an NCCL job its rank's.
  std::vector<int64_t> local;
  std::vector<std::unique_ptr<EinsumLayout>> einsums;
  /// By op: the cuBLASLt GEMM of an einsum that applies its epilogue; null
  /// where the epilogue runs after the GEMM (launchUnary).
  std::vector<std::unique_ptr<EpilogueGemm>> epilogueGemms;
  /// (value, offset in the saved region) of weights whose bytes others
  /// reuse; (op, offset in the constants region) of constant ops.
  std::vector<std::pair<int, int64_t>> savedWeights, constants;
  /// Staging offsets of run-time inputs (by input index) and outputs.
  std::vector<int64_t> inputStaging, outputStaging;
  /// Staging offset of the error flags read back: pinned, so that the copy
  /// does not block the host (which must watch an NCCL job's progress).
  int64_t errorStaging = 0;
  /// In an NCCL job: offsets of the all-gathered outputs, in
  /// Device::gathered and after `gatheredStaging` in the staging.
  std::vector<int64_t> gatheredOutputs;
  int64_t gatheredStaging = 0;
  std::array<int64_t, kCollectiveKindCount> collectiveCounts{};

  explicit State(Executable e) : executable(std::move(e)) {}
  ~State();

  void *data(int64_t device, int value) const {
    return devices[device].arena + program->values[value].offset;
  }
  const TensorSpec &type(int value) const {
    return program->values[value].type;
  }

  /// Whether einsum op `index` may run as an EpilogueGemm: an epilogue
  /// cuBLASLt has, a GEMM that writes its result in place, in float32 or
  /// in half precision without widening.
  bool takesEpilogueGemm(int index) const;
  /// Makes epilogueGemms, after allocate().
  absl::Status makeEpilogueGemms();
  absl::Status allocate();
  absl::Status runOp(int index, int64_t device);
  absl::Status runEinsum(int index, int64_t device);
  /// A bf16 or f16 einsum whose operands pack by copying: half-precision
  /// operands and result, float32 accumulation (tensor cores).
  absl::Status runHalfGemm(int index, int64_t device);
  absl::Status runElementwise(const OpSpec &op, int64_t device);
  absl::Status runRouting(int index, int64_t device);
  /// Runs collective op `index` on every device.
  absl::Status runCollective(int index);
  /// Copies this device's block of all_slice op `op`.
  absl::Status sliceLocally(const OpSpec &op, int64_t device);
  /// Enqueues the NCCL path of collective op `index` (an NCCL job's).
  absl::Status runNcclCollective(int index);
  /// Enqueues an NCCL job's end of run: the error flags reduced and the
  /// outputs all-gathered.
  absl::Status gatherNcclOutputs();
  /// Waits for the work enqueued on `device`'s stream; in an NCCL job for
  /// at most `timeout` (NcclJob::wait).
  absl::Status finish(int64_t device, absl::Duration timeout);
};

CudaSession::State::~State() {
  for (Device &d : devices) {
    if (d.blas)
      cublasDestroy(d.blas);
    if (d.blasLt)
      cublasLtDestroy(d.blasLt);
    if (d.ltWorkspace)
      cudaFree(d.ltWorkspace);
    if (d.ready)
      cudaEventDestroy(d.ready);
    if (d.done)
      cudaEventDestroy(d.done);
    for (cudaEvent_t event : {d.opsStart, d.opsStop})
      if (event)
        cudaEventDestroy(event);
    if (d.stream)
      cudaStreamDestroy(d.stream);
    if (d.base)
      cudaFree(d.base);
    if (d.staging)
      cudaFreeHost(d.staging);
  }
}

absl::Status CudaSession::State::allocate() {
  const Program &p = *program;
  int64_t savedBytes = 0, constantBytes = 0, scratch = 0, stagingBytes = 0;
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    const BindingSpec &binding = p.inputs[i];
    const int64_t bytes = p.values[binding.value].type.byteSize();
    inputStaging.push_back(stagingBytes);
    if (!binding.isWeight()) {
      stagingBytes += alignUp(bytes);
    } else if (weightBytesReused(p, static_cast<int>(i))) {
      savedWeights.emplace_back(binding.value, savedBytes);
      savedBytes += alignUp(bytes);
    }
  }
  for (const BindingSpec &binding : p.outputs) {
    outputStaging.push_back(stagingBytes);
    stagingBytes += alignUp(p.values[binding.value].type.byteSize());
  }
  errorStaging = stagingBytes;
  stagingBytes += kAlignment;
  const bool nccl = options.job != nullptr;
  int64_t gatheredBytes = 0;
  if (nccl) {
    gatheredStaging = stagingBytes;
    for (const BindingSpec &binding : p.outputs) {
      gatheredOutputs.push_back(gatheredBytes);
      gatheredBytes += alignUp(p.values[binding.value].type.byteSize() *
                               p.mesh.deviceCount());
    }
    stagingBytes += gatheredBytes;
  }
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const OpSpec &op = p.ops[i];
    if (op.kind == fb::OpKind::Constant && !op.constant.empty()) {
      constants.emplace_back(static_cast<int>(i), constantBytes);
      constantBytes += alignUp(op.constant.size());
    }
    scratch = std::max(scratch, scratchBytes(p, op));
    if (nccl)
      scratch = std::max(scratch, ncclScratchBytes(p, op));
  }
  const int64_t arenaBytes = alignUp(p.arenaBytes);
  // The error flag, and in an NCCL job the flags reduced over the job.
  const int64_t flagBytes = kAlignment;
  const int64_t total = arenaBytes + savedBytes + constantBytes + scratch +
                        flagBytes + gatheredBytes;
  bool epilogueGemms = false;
  for (size_t i = 0; i < p.ops.size(); ++i)
    epilogueGemms = epilogueGemms || takesEpilogueGemm(static_cast<int>(i));
  devices.resize(p.mesh.deviceCount());
  for (int64_t device : local) {
    Device &d = devices[device];
    SY_CUDA_RETURN_IF_ERROR(cudaMalloc(&d.base, total));
    d.arena = d.base;
    d.saved = d.arena + arenaBytes;
    d.constants = d.saved + savedBytes;
    d.scratch = d.constants + constantBytes;
    d.error = reinterpret_cast<int32_t *>(d.scratch + scratch);
    d.gathered = d.scratch + scratch + flagBytes;
    SY_CUDA_RETURN_IF_ERROR(
        cudaStreamCreateWithFlags(&d.stream, cudaStreamNonBlocking));
    SY_CUDA_RETURN_IF_ERROR(
        cudaEventCreateWithFlags(&d.ready, cudaEventDisableTiming));
    SY_CUDA_RETURN_IF_ERROR(
        cudaEventCreateWithFlags(&d.done, cudaEventDisableTiming));
    SY_CUDA_RETURN_IF_ERROR(cudaEventCreate(&d.opsStart));
    SY_CUDA_RETURN_IF_ERROR(cudaEventCreate(&d.opsStop));
    SY_CUBLAS_RETURN_IF_ERROR(cublasCreate(&d.blas));
    SY_CUBLAS_RETURN_IF_ERROR(cublasSetStream(d.blas, d.stream));
    SY_CUBLAS_RETURN_IF_ERROR(
        cublasSetMathMode(d.blas, options.allowTf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                    : CUBLAS_PEDANTIC_MATH));
    if (epilogueGemms) {
      SY_CUBLAS_RETURN_IF_ERROR(cublasLtCreate(&d.blasLt));
      SY_CUDA_RETURN_IF_ERROR(
          cudaMalloc(&d.ltWorkspace, kEpilogueGemmWorkspaceBytes));
    }
    SY_CUDA_RETURN_IF_ERROR(
        cudaMallocHost(&d.staging, std::max<int64_t>(stagingBytes, 1)));
    for (const auto &[op, offset] : constants)
      SY_CUDA_RETURN_IF_ERROR(
          cudaMemcpy(d.constants + offset, p.ops[op].constant.data(),
                     p.ops[op].constant.size(), cudaMemcpyHostToDevice));
  }
  return absl::OkStatus();
}

bool CudaSession::State::takesEpilogueGemm(int index) const {
  const OpSpec &op = program->ops[index];
  const EinsumLayout *l = einsums[index].get();
  if (!l || !l->gemm || !op.epilogue || !cublasLtEpilogueOf(*op.epilogue) ||
      !l->c.direct || l->batch == 0 || l->m == 0 || l->n == 0 || l->k == 0)
    return false;
  return type(op.results[0]).dtype == DType::F32 ||
         (!l->a.accumulate && !l->b.accumulate);
}

absl::Status CudaSession::State::makeEpilogueGemms() {
  const Program &p = *program;
  epilogueGemms.resize(p.ops.size());
  for (size_t i = 0; i < p.ops.size(); ++i) {
    if (!takesEpilogueGemm(static_cast<int>(i)))
      continue;
    const OpSpec &op = p.ops[i];
    const EinsumLayout &l = *einsums[i];
    // Allocations and the scratch (packed operands) are kAlignment-aligned;
    // a value used in place is as aligned as its offset in the arena.
    auto alignment = [&](bool inPlace, int value) {
      const int64_t offset = inPlace ? p.values[value].offset : 0;
      return static_cast<uint32_t>(
          offset == 0 ? kAlignment : std::min(offset & -offset, kAlignment));
    };
    SY_ASSIGN_OR_RETURN(
        epilogueGemms[i],
        EpilogueGemm::create(devices[local.front()].blasLt, l,
                             cudaDataTypeOf(type(op.results[0]).dtype),
                             options.allowTf32,
                             *cublasLtEpilogueOf(*op.epilogue),
                             {alignment(l.a.direct, op.operands[0]),
                              alignment(l.b.direct, op.operands[1]),
                              alignment(true, op.results[0])}));
  }
  return absl::OkStatus();
}

absl::Status CudaSession::State::runEinsum(int index, int64_t device) {
  const OpSpec &op = program->ops[index];
  const EinsumLayout &l = *einsums[index];
  const Device &d = devices[device];
  const TensorSpec &out = type(op.results[0]);
  if (!l.gemm) {
    std::vector<const void *> operands;
    std::vector<std::vector<int64_t>> outerStrides, innerStrides;
    TensorSpec outerSpace, innerSpace;
    for (size_t i = 0; i < l.loopShape.size(); ++i)
      (i < l.resultRank ? outerSpace : innerSpace)
          .dims.push_back({"", l.loopShape[i], {}});
    for (size_t k = 0; k < l.loopStrides.size(); ++k) {
      const std::vector<int64_t> &s = l.loopStrides[k];
      outerStrides.emplace_back(s.begin(), s.begin() + l.resultRank);
      if (k < op.operands.size()) {
        innerStrides.emplace_back(s.begin() + l.resultRank, s.end());
        operands.push_back(data(device, op.operands[k]));
      }
    }
    SY_ASSIGN_OR_RETURN(Indexer outer,
                        makeIndexer(outerSpace.shape(), outerStrides));
    SY_ASSIGN_OR_RETURN(Indexer inner,
                        makeIndexer(innerSpace.shape(), innerStrides));
    launchEinsumLoop(d.stream, elemTypeOf(out.dtype), operands.data(),
                     static_cast<int>(operands.size()),
                     data(device, op.results[0]), outer, inner);
    return absl::OkStatus();
  }

  if (out.dtype != DType::F32 && !l.a.accumulate && !l.b.accumulate)
    return runHalfGemm(index, device);

  // Scratch: packed A, B, C, then (bf16/f16 operands that sum dimensions
  // out while packing) the widened operands and result.
  std::byte *scratch = d.scratch;
  auto take = [&](int64_t elements) {
    float *buffer = reinterpret_cast<float *>(scratch);
    scratch += alignUp(elements * 4);
    return buffer;
  };
  float *packedA = take(l.batch * l.m * l.k);
  float *packedB = take(l.batch * l.k * l.n);
  float *packedC = take(l.batch * l.m * l.n);
  const void *a = data(device, op.operands[0]);
  const void *b = data(device, op.operands[1]);
  void *r = data(device, op.results[0]);
  const bool widen = out.dtype != DType::F32;
  float *wideR = nullptr;
  if (widen) {
    for (const void **operand : {&a, &b}) {
      const int value = operand == &a ? op.operands[0] : op.operands[1];
      float *wide = take(type(value).numElements());
      launchCast(d.stream, elemTypeOf(out.dtype), ElemType::F32, *operand, wide,
                 type(value).numElements());
      *operand = wide;
    }
    wideR = take(out.numElements());
  }
  auto pack = [&](const EinsumPacking &packing, const void *src, float *dst,
                  int64_t elements) -> absl::StatusOr<const float *> {
    if (packing.direct)
      return static_cast<const float *>(src);
    SY_ASSIGN_OR_RETURN(Indexer ix,
                        makeIndexer(packing.shape, packing.strides));
    if (packing.accumulate) {
      SY_CUDA_RETURN_IF_ERROR(
          cudaMemsetAsync(dst, 0, elements * sizeof(float), d.stream));
      launchStridedAccumulate(d.stream, static_cast<const float *>(src), dst,
                              ix);
    } else {
      launchStridedCopy(d.stream, 4, src, dst, ix);
    }
    return dst;
  };
  SY_ASSIGN_OR_RETURN(const float *pa,
                      pack(l.a, a, packedA, l.batch * l.m * l.k));
  SY_ASSIGN_OR_RETURN(const float *pb,
                      pack(l.b, b, packedB, l.batch * l.k * l.n));
  float *result = widen ? wideR : static_cast<float *>(r);
  float *pc = l.c.direct ? result : packedC;
  if (l.k == 0) {
    SY_CUDA_RETURN_IF_ERROR(
        cudaMemsetAsync(pc, 0, l.batch * l.m * l.n * sizeof(float), d.stream));
  } else if (const EpilogueGemm *gemm = epilogueGemms[index].get()) {
    SY_RETURN_IF_ERROR(
        gemm->run(d.blasLt, pa, pb, pc, d.ltWorkspace, d.stream));
  } else if (l.m > 0 && l.n > 0 && l.batch > 0) {
    // Row-major C = A B is column-major C^T = B^T A^T.
    const float one = 1.0f, zero = 0.0f;
    SY_CUBLAS_RETURN_IF_ERROR(cublasSgemmStridedBatched(
        d.blas, l.b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N,
        l.a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N, l.n, l.m, l.k, &one, pb,
        std::max<int64_t>(l.b.transposed ? l.k : l.n, 1), l.k * l.n, pa,
        std::max<int64_t>(l.a.transposed ? l.m : l.k, 1), l.m * l.k, &zero, pc,
        std::max<int64_t>(l.n, 1), l.m * l.n, l.batch));
  }
  if (!l.c.direct) {
    SY_ASSIGN_OR_RETURN(Indexer ix, makeIndexer(l.c.shape, l.c.strides));
    launchStridedCopy(d.stream, 4, pc, result, ix);
  }
  if (widen)
    launchCast(d.stream, ElemType::F32, elemTypeOf(out.dtype), wideR, r,
               out.numElements());
  return absl::OkStatus();
}

absl::Status CudaSession::State::runHalfGemm(int index, int64_t device) {
  const OpSpec &op = program->ops[index];
  const EinsumLayout &l = *einsums[index];
  const Device &d = devices[device];
  const TensorSpec &out = type(op.results[0]);
  const cudaDataType_t dataType = cudaDataTypeOf(out.dtype);
  constexpr int kHalf = 2;
  std::byte *scratch = d.scratch;
  auto take = [&](int64_t elements) {
    std::byte *buffer = scratch;
    scratch += alignUp(elements * kHalf);
    return buffer;
  };
  auto pack = [&](const EinsumPacking &packing, const void *src,
                  int64_t elements) -> absl::StatusOr<const void *> {
    if (packing.direct)
      return src;
    std::byte *packed = take(elements);
    SY_ASSIGN_OR_RETURN(Indexer ix,
                        makeIndexer(packing.shape, packing.strides));
    launchStridedCopy(d.stream, kHalf, src, packed, ix);
    return packed;
  };
  SY_ASSIGN_OR_RETURN(const void *pa, pack(l.a, data(device, op.operands[0]),
                                           l.batch * l.m * l.k));
  SY_ASSIGN_OR_RETURN(const void *pb, pack(l.b, data(device, op.operands[1]),
                                           l.batch * l.k * l.n));
  void *r = data(device, op.results[0]);
  void *pc = l.c.direct ? r : take(l.batch * l.m * l.n);
  if (l.k == 0) {
    SY_CUDA_RETURN_IF_ERROR(
        cudaMemsetAsync(pc, 0, l.batch * l.m * l.n * kHalf, d.stream));
  } else if (const EpilogueGemm *gemm = epilogueGemms[index].get()) {
    SY_RETURN_IF_ERROR(
        gemm->run(d.blasLt, pa, pb, pc, d.ltWorkspace, d.stream));
  } else if (l.m > 0 && l.n > 0 && l.batch > 0) {
    // As the float32 path: row-major C = A B is column-major C^T = B^T A^T.
    const float one = 1.0f, zero = 0.0f;
    SY_CUBLAS_RETURN_IF_ERROR(cublasGemmStridedBatchedEx(
        d.blas, l.b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N,
        l.a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N, l.n, l.m, l.k, &one, pb,
        dataType, std::max<int64_t>(l.b.transposed ? l.k : l.n, 1), l.k * l.n,
        pa, dataType, std::max<int64_t>(l.a.transposed ? l.m : l.k, 1),
        l.m * l.k, &zero, pc, dataType, std::max<int64_t>(l.n, 1), l.m * l.n,
        l.batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }
  if (!l.c.direct) {
    SY_ASSIGN_OR_RETURN(Indexer ix, makeIndexer(l.c.shape, l.c.strides));
    launchStridedCopy(d.stream, kHalf, pc, r, ix);
  }
  return absl::OkStatus();
}

absl::Status CudaSession::State::runElementwise(const OpSpec &op,
                                                int64_t device) {
  const Device &d = devices[device];
  cudaStream_t s = d.stream;
  const TensorSpec &out = type(op.results[0]);
  const ElemType t = elemTypeOf(out.dtype);
  void *r = data(device, op.results[0]);
  auto operand = [&](int i) { return data(device, op.operands[i]); };
  switch (op.kind) {
  case fb::OpKind::Unary:
    launchUnary(s, static_cast<int>(op.unary), t, operand(0), r,
                out.numElements());
    break;
  case fb::OpKind::Binary: {
    SY_ASSIGN_OR_RETURN(
        Indexer ix,
        makeIndexer(out.shape(),
                    {rowMajorStrides(out), stridesIn(type(op.operands[0]), out),
                     stridesIn(type(op.operands[1]), out)}));
    launchBinary(s, static_cast<int>(op.binary), t, operand(0), operand(1), r,
                 ix);
    break;
  }
  case fb::OpKind::Reduce: {
    const TensorSpec &in = type(op.operands[0]);
    const TensorSpec reduced = notIn(in, out);
    SY_ASSIGN_OR_RETURN(
        Indexer outer,
        makeIndexer(out.shape(), {rowMajorStrides(out), stridesIn(in, out)}));
    SY_ASSIGN_OR_RETURN(Indexer inner,
                        makeIndexer(reduced.shape(), {stridesIn(in, reduced)}));
    launchReduce(s, static_cast<int>(op.reduce), elemTypeOf(in.dtype),
                 operand(0), r, outer, inner);
    break;
  }
  case fb::OpKind::Softmax:
  case fb::OpKind::RmsNorm:
  case fb::OpKind::Cumsum: {
    const AlongDim a = alongDim(type(op.operands[0]), op.dim);
    if (op.kind == fb::OpKind::Softmax)
      launchSoftmax(s, t, operand(0), r, a.outer, a.size, a.inner);
    else if (op.kind == fb::OpKind::RmsNorm)
      launchRmsNorm(s, t, elemTypeOf(type(op.operands[1]).dtype), operand(0),
                    operand(1), r, a.outer, a.size, a.inner,
                    static_cast<float>(op.epsilon));
    else
      launchCumsum(s, t, op.exclusive, operand(0), r, a.outer, a.size, a.inner);
    break;
  }
  case fb::OpKind::Cast:
    launchCast(s, elemTypeOf(type(op.operands[0]).dtype), t, operand(0), r,
               out.numElements());
    break;
  case fb::OpKind::Reshape:
    SY_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(r, operand(0), out.byteSize(),
                                            cudaMemcpyDeviceToDevice, s));
    break;
  case fb::OpKind::Gather: {
    const TensorSpec &table = type(op.operands[0]);
    const int dim = table.find(op.dim);
    SY_ASSIGN_OR_RETURN(
        Indexer ix,
        makeIndexer(out.shape(),
                    {rowMajorStrides(out), stridesIn(type(op.operands[1]), out),
                     stridesIn(table, out)}));
    launchGather(s, static_cast<int>(dtypeSize(out.dtype)), operand(0),
                 static_cast<const int32_t *>(operand(1)), r, ix,
                 table.dims[dim].size, rowMajorStrides(table)[dim], d.error,
                 static_cast<int32_t>(&op - program->ops.data()) + 1);
    break;
  }
  case fb::OpKind::OneHot: {
    const TensorSpec depth = notIn(out, type(op.operands[0]));
    SY_ASSIGN_OR_RETURN(
        Indexer ix,
        makeIndexer(out.shape(),
                    {rowMajorStrides(out), stridesIn(type(op.operands[0]), out),
                     indexAlong(out, depth.dims[0].name)}));
    launchOneHot(s, t, static_cast<const int32_t *>(operand(0)), r, ix);
    break;
  }
  case fb::OpKind::Iota: {
    SY_ASSIGN_OR_RETURN(Indexer ix,
                        makeIndexer(out.shape(), {rowMajorStrides(out),
                                                  indexAlong(out, op.dim)}));
    launchIota(s, t, r, ix);
    break;
  }
  case fb::OpKind::Constant: {
    if (op.constant.empty())
      break;
    const int index = static_cast<int>(&op - program->ops.data());
    const auto it =
        std::find_if(constants.begin(), constants.end(),
                     [&](const auto &c) { return c.first == index; });
    SY_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(r, d.constants + it->second,
                                            op.constant.size(),
                                            cudaMemcpyDeviceToDevice, s));
    break;
  }
  default:
    return absl::InternalError(
        absl::StrCat(opKindName(op.kind), " is not an element-wise op"));
  }
  return absl::OkStatus();
}

absl::Status CudaSession::State::runRouting(int index, int64_t device) {
  const OpSpec &op = program->ops[index];
  const Device &d = devices[device];
  cudaStream_t s = d.stream;
  auto ptr = [&](int value) { return data(device, value); };
  switch (op.kind) {
  case fb::OpKind::Route: {
    const TensorSpec &logits = type(op.operands[0]);
    const TensorSpec groups = logits.without({op.tokensDim, op.expertsDim});
    const int64_t tokens = logits.dims[logits.find(op.tokensDim)].size;
    const int64_t experts = logits.dims[logits.find(op.expertsDim)].size;
    const int64_t choices = choicesOf(type(op.results[0]), op.choicesDim).count;
    // By logits, then the results.
    std::vector<std::vector<int64_t>> strides = {stridesIn(logits, groups)};
    std::vector<int64_t> tokenStrides = {strideOf(logits, op.tokensDim)};
    std::vector<int64_t> choiceStrides = {0};
    for (int result : op.results) {
      strides.push_back(stridesIn(type(result), groups));
      tokenStrides.push_back(strideOf(type(result), op.tokensDim));
      choiceStrides.push_back(choicesOf(type(result), op.choicesDim).stride);
    }
    SY_ASSIGN_OR_RETURN(
        Indexer gates,
        makeIndexer(groups.shape(), {strides[0], strides[1], strides[2]}));
    const int64_t gateChoiceStrides[2] = {choiceStrides[1], choiceStrides[2]};
    const ElemType gateType = elemTypeOf(type(op.results[1]).dtype);
    launchRouteGates(s, elemTypeOf(logits.dtype), gateType, ptr(op.operands[0]),
                     static_cast<int32_t *>(ptr(op.results[0])),
                     ptr(op.results[1]), gates, tokens, tokenStrides.data(),
                     choices, gateChoiceStrides, experts,
                     strideOf(logits, op.expertsDim));
    SY_ASSIGN_OR_RETURN(
        Indexer positions,
        makeIndexer(groups.shape(), {strides[1], strides[3], strides[4]}));
    const int64_t positionStrides[3] = {tokenStrides[1], tokenStrides[3],
                                        tokenStrides[4]};
    const int64_t positionChoiceStrides[3] = {
        choiceStrides[1], choiceStrides[3], choiceStrides[4]};
    SY_CUDA_RETURN_IF_ERROR(launchRoutePositions(
        s, static_cast<const int32_t *>(ptr(op.results[0])),
        static_cast<int32_t *>(ptr(op.results[2])),
        static_cast<uint8_t *>(ptr(op.results[3])), positions, tokens,
        positionStrides, choices, positionChoiceStrides, experts, op.capacity));
    if (op.gateNormalization != fb::GateNormalization::None) {
      SY_ASSIGN_OR_RETURN(
          Indexer normalize,
          makeIndexer(groups.shape(), {strides[2], strides[4]}));
      const int64_t normalizeStrides[2] = {tokenStrides[2], tokenStrides[4]};
      const int64_t normalizeChoiceStrides[2] = {choiceStrides[2],
                                                 choiceStrides[4]};
      launchRouteNormalize(
          s, gateType, ptr(op.results[1]),
          static_cast<const uint8_t *>(ptr(op.results[3])),
          op.gateNormalization == fb::GateNormalization::AfterDrops, normalize,
          tokens, normalizeStrides, choices, normalizeChoiceStrides);
    }
    break;
  }
  case fb::OpKind::Dispatch:
  case fb::OpKind::Combine: {
    const bool dispatch = op.kind == fb::OpKind::Dispatch;
    // The routing values' dimensions but the choices: a token's.
    const TensorSpec routing = type(op.operands[1]).without({op.choicesDim});
    const int tokensSide = dispatch ? op.operands[0] : op.results[0];
    const int slotsSide = dispatch ? op.results[0] : op.operands[0];
    const TensorSpec &tokens = type(tokensSide), &slots = type(slotsSide);
    const TensorSpec features = notIn(tokens, routing);
    // The routing dimensions, then the features.
    TensorSpec space = routing;
    space.dims.insert(space.dims.end(), features.dims.begin(),
                      features.dims.end());
    std::vector<std::vector<int64_t>> strides = {
        stridesIn(type(op.operands[1]), space),
        stridesIn(type(op.operands[2]), space),
        stridesIn(type(op.operands[3]), space), stridesIn(tokens, space),
        stridesIn(slots, space)};
    if (!dispatch)
      strides.push_back(stridesIn(type(op.operands[4]), space));
    const int64_t choices =
        choicesOf(type(op.operands[1]), op.choicesDim).count;
    // Of expert, position, dropped and a combine's gate.
    int64_t choiceStrides[4] = {};
    for (int k = 0; k < (dispatch ? 3 : 4); ++k)
      choiceStrides[k] =
          choicesOf(type(op.operands[k + 1]), op.choicesDim).stride;
    SY_ASSIGN_OR_RETURN(Indexer ix, makeIndexer(space.shape(), strides));
    if (dispatch)
      SY_CUDA_RETURN_IF_ERROR(
          cudaMemsetAsync(ptr(slotsSide), 0, slots.byteSize(), s));
    launchMove(s, dispatch, elemTypeOf(tokens.dtype),
               dispatch ? ElemType::F32
                        : elemTypeOf(type(op.operands[4]).dtype),
               ptr(tokensSide), ptr(slotsSide),
               static_cast<const int32_t *>(ptr(op.operands[1])),
               static_cast<const int32_t *>(ptr(op.operands[2])),
               static_cast<const uint8_t *>(ptr(op.operands[3])),
               dispatch ? nullptr : ptr(op.operands[4]),
               op.operands.size() == 6 ? ptr(op.operands[5]) : nullptr, ix,
               choices, choiceStrides, strideOf(slots, op.expertsDim),
               strideOf(slots, op.capacityDim),
               slots.dims[slots.find(op.expertsDim)].size,
               slots.dims[slots.find(op.capacityDim)].size, d.error, index + 1);
    break;
  }
  case fb::OpKind::ZLoss: {
    auto *sum = reinterpret_cast<double *>(d.scratch);
    SY_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(sum, 0, sizeof(double), s));
    int64_t count = 0;
    for (int operand : op.operands) {
      const TensorSpec &logits = type(operand);
      const TensorSpec positions = logits.without({op.expertsDim});
      SY_ASSIGN_OR_RETURN(
          Indexer ix,
          makeIndexer(positions.shape(), {stridesIn(logits, positions)}));
      launchZLossSum(s, elemTypeOf(logits.dtype), ptr(operand), ix,
                     logits.dims[logits.find(op.expertsDim)].size,
                     strideOf(logits, op.expertsDim), sum);
      count += positions.numElements();
    }
    launchZLossFinish(s, elemTypeOf(type(op.results[0]).dtype),
                      ptr(op.results[0]), sum, count);
    break;
  }
  case fb::OpKind::LoadBalancingLoss: {
    const TensorSpec &first = type(op.operands[0]);
    const TensorSpec groups = first.without({op.tokensDim, op.expertsDim});
    const int64_t experts = first.dims[first.find(op.expertsDim)].size;
    const int64_t cells = groups.numElements() * experts;
    auto *chosen = reinterpret_cast<double *>(d.scratch);
    auto *probSum = reinterpret_cast<double *>(d.scratch + alignUp(cells * 8));
    SY_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(chosen, 0, cells * 8, s));
    SY_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(probSum, 0, cells * 8, s));
    int64_t tokensPerGroup = 0;
    for (int operand : op.operands) {
      const TensorSpec &logits = type(operand);
      const int64_t tokens = logits.dims[logits.find(op.tokensDim)].size;
      tokensPerGroup += tokens;
      SY_ASSIGN_OR_RETURN(
          Indexer ix, makeIndexer(groups.shape(), {stridesIn(logits, groups),
                                                   rowMajorStrides(groups)}));
      launchLoadBalancingSums(s, elemTypeOf(logits.dtype), ptr(operand), ix,
                              tokens, strideOf(logits, op.tokensDim), experts,
                              strideOf(logits, op.expertsDim), chosen, probSum);
    }
    launchLoadBalancingFinish(s, elemTypeOf(type(op.results[0]).dtype),
                              ptr(op.results[0]), chosen, probSum, cells,
                              tokensPerGroup, experts);
    break;
  }
  default:
    return absl::InternalError(
        absl::StrCat(opKindName(op.kind), " is not a routing op"));
  }
  return absl::OkStatus();
}

absl::Status CudaSession::State::runCollective(int index) {
  const OpSpec &op = program->ops[index];
  const Mesh &mesh = program->mesh;
  const TensorSpec &in = type(op.operands[0]), &out = type(op.results[0]);
  const int64_t count = mesh.deviceCount();
  const int axis = static_cast<int>(op.axis);
  const size_t elementSize = dtypeSize(in.dtype);
  const bool local = op.kind == fb::OpKind::AllSlice;
  // Records `event` on every device's stream and makes each member's stream
  // wait for its peers' records.
  auto waitForPeers = [&](cudaEvent_t Device::*event) -> absl::Status {
    for (Device &d : devices)
      SY_CUDA_RETURN_IF_ERROR(cudaEventRecord(d.*event, d.stream));
    for (int64_t device = 0; device < count; ++device)
      for (int64_t peer : mesh.group(device, op.gridAxes))
        if (peer != device)
          SY_CUDA_RETURN_IF_ERROR(cudaStreamWaitEvent(devices[device].stream,
                                                      devices[peer].*event, 0));
    return absl::OkStatus();
  };
  // Every member waits for its peers to reach the collective.
  if (!local)
    SY_RETURN_IF_ERROR(waitForPeers(&Device::ready));
  for (int64_t device = 0; device < count; ++device) {
    const std::vector<int64_t> group = mesh.group(device, op.gridAxes);
    const int64_t n = group.size();
    const int64_t rank = mesh.groupRank(device, op.gridAxes);
    if (n > kMaxGroup)
      return absl::UnimplementedError(absl::StrCat(
          "a collective group of ", n, " devices, over ", kMaxGroup));
    cudaStream_t s = devices[device].stream;
    auto *dst = static_cast<std::byte *>(data(device, op.results[0]));
    auto source = [&](int64_t member) {
      return static_cast<const std::byte *>(
          data(group[member], op.operands[0]));
    };
    switch (op.kind) {
    case fb::OpKind::AllReduce:
    case fb::OpKind::ReduceScatter: {
      GroupBuffers sources;
      for (int64_t j = 0; j < n; ++j)
        sources.data[j] = source(j);
      std::vector<int64_t> shape = in.shape(), srcStrides = rowMajor(shape);
      int64_t base = 0;
      if (op.kind == fb::OpKind::ReduceScatter) {
        std::tie(srcStrides, base) = blockAlong(shape, axis, n, rank);
        shape = blockShape(shape, axis, n);
      }
      SY_ASSIGN_OR_RETURN(Indexer ix,
                          makeIndexer(shape, {rowMajor(shape), srcStrides}));
      launchGroupReduce(s, static_cast<int>(op.reduction), elemTypeOf(in.dtype),
                        sources, static_cast<int>(n), base, dst, ix);
      break;
    }
    case fb::OpKind::AllGather:
      for (int64_t j = 0; j < n; ++j) {
        const auto [dstStrides, offset] = blockAlong(out.shape(), axis, n, j);
        SY_ASSIGN_OR_RETURN(
            Indexer ix,
            makeIndexer(in.shape(), {rowMajor(in.shape()), dstStrides}));
        launchStridedCopy(s, static_cast<int>(elementSize), source(j),
                          dst + offset * elementSize, ix);
      }
      break;
    case fb::OpKind::AllSlice:
      SY_RETURN_IF_ERROR(sliceLocally(op, device));
      break;
    case fb::OpKind::AllToAll: {
      const int concat = static_cast<int>(op.concatAxis);
      const std::vector<int64_t> shape = blockShape(in.shape(), axis, n);
      for (int64_t j = 0; j < n; ++j) {
        const auto [srcStrides, srcOffset] =
            blockAlong(in.shape(), axis, n, rank);
        const auto [dstStrides, dstOffset] =
            blockAlong(out.shape(), concat, n, j);
        SY_ASSIGN_OR_RETURN(Indexer ix,
                            makeIndexer(shape, {srcStrides, dstStrides}));
        launchStridedCopy(s, static_cast<int>(elementSize),
                          source(j) + srcOffset * elementSize,
                          dst + dstOffset * elementSize, ix);
      }
      break;
    }
    default:
      return absl::InternalError(
          absl::StrCat(opKindName(op.kind), " is not a collective"));
    }
  }
  // The peers wait for every reader of their operands before going on.
  if (!local)
    SY_RETURN_IF_ERROR(waitForPeers(&Device::done));
  return absl::OkStatus();
}

absl::Status CudaSession::State::sliceLocally(const OpSpec &op,
                                              int64_t device) {
  const TensorSpec &in = type(op.operands[0]);
  const int axis = static_cast<int>(op.axis);
  const int64_t n = program->mesh.groupSize(op.gridAxes);
  const int64_t rank = program->mesh.groupRank(device, op.gridAxes);
  const size_t elementSize = dtypeSize(in.dtype);
  const auto [srcStrides, offset] = blockAlong(in.shape(), axis, n, rank);
  const std::vector<int64_t> shape = blockShape(in.shape(), axis, n);
  SY_ASSIGN_OR_RETURN(Indexer ix,
                      makeIndexer(shape, {srcStrides, rowMajor(shape)}));
  launchStridedCopy(
      devices[device].stream, static_cast<int>(elementSize),
      static_cast<const std::byte *>(data(device, op.operands[0])) +
          offset * elementSize,
      data(device, op.results[0]), ix);
  return absl::OkStatus();
}

#ifdef SWITCHYARD_HAVE_NCCL
absl::Status CudaSession::State::runNcclCollective(int index) {
  const OpSpec &op = program->ops[index];
  const int64_t device = local.front();
  if (op.kind == fb::OpKind::AllSlice)
    return sliceLocally(op, device);
  NcclJob &job = *options.job;
  const Device &d = devices[device];
  const TensorSpec &in = type(op.operands[0]), &out = type(op.results[0]);
  const int elementSize = static_cast<int>(dtypeSize(in.dtype));
  const void *src = data(device, op.operands[0]);
  void *dst = data(device, op.results[0]);
  SY_ASSIGN_OR_RETURN(NcclGroup group, job.group(program->mesh, op.gridAxes));
  const int64_t n = group.size;
  // Packed blocks to send, then received blocks to unpack.
  std::byte *packed = d.scratch;
  std::byte *received =
      d.scratch + alignUp(std::max(in.byteSize(), out.byteSize()));
  // The blocks of `value`, laid out by `layout`, in one piece each (as they
  // already are where the layout has one row).
  auto blocksOf = [&](const void *value,
                      BlockLayout layout) -> absl::StatusOr<const void *> {
    if (layout.outer == 1)
      return value;
    SY_ASSIGN_OR_RETURN(Indexer ix, blocksIndexer(layout, n, true));
    launchStridedCopy(d.stream, elementSize, value, packed, ix);
    return packed;
  };
  // Where blocks bound for `dst`, laid out by `layout`, are received.
  auto receiveInto = [&](BlockLayout layout) -> void * {
    return layout.outer == 1 ? dst : received;
  };
  // Puts the blocks received for `dst` in place.
  auto unpack = [&](BlockLayout layout) -> absl::Status {
    if (layout.outer == 1)
      return absl::OkStatus();
    SY_ASSIGN_OR_RETURN(Indexer ix, blocksIndexer(layout, n, false));
    launchStridedCopy(d.stream, elementSize, received, dst, ix);
    return absl::OkStatus();
  };
  const int axis = static_cast<int>(op.axis);
  const bool average = op.reduction == fb::CollectiveReduction::Average;
  const ReduceOp reduce = reduceOpOf(op.reduction);
  switch (op.kind) {
  case fb::OpKind::AllReduce:
    return job.allReduce(group, in.dtype, src, dst, in.numElements(), reduce,
                         average, d.stream);
  case fb::OpKind::ReduceScatter: {
    SY_ASSIGN_OR_RETURN(BlockLayout split,
                        blockLayoutAlong(in.shape(), axis, n));
    SY_ASSIGN_OR_RETURN(const void *blocks, blocksOf(src, split));
    return job.reduceScatter(group, in.dtype, blocks, dst, out.numElements(),
                             reduce, average, d.stream);
  }
  case fb::OpKind::AllGather: {
    SY_ASSIGN_OR_RETURN(BlockLayout joined,
                        blockLayoutAlong(out.shape(), axis, n));
    SY_RETURN_IF_ERROR(job.allGather(group, src, receiveInto(joined),
                                     in.byteSize(), d.stream));
    return unpack(joined);
  }
  case fb::OpKind::AllToAll: {
    SY_ASSIGN_OR_RETURN(BlockLayout split,
                        blockLayoutAlong(in.shape(), axis, n));
    SY_ASSIGN_OR_RETURN(
        BlockLayout joined,
        blockLayoutAlong(out.shape(), static_cast<int>(op.concatAxis), n));
    SY_ASSIGN_OR_RETURN(const void *blocks, blocksOf(src, split));
    SY_RETURN_IF_ERROR(job.allToAll(group, blocks, receiveInto(joined),
                                    in.byteSize() / n, d.stream));
    return unpack(joined);
  }
  default:
    return absl::InternalError(
        absl::StrCat(opKindName(op.kind), " is not a collective"));
  }
}

absl::Status CudaSession::State::gatherNcclOutputs() {
  NcclJob &job = *options.job;
  const int64_t device = local.front();
  Device &d = devices[device];
  // The reduced flag: any device's failure fails the run everywhere.
  SY_RETURN_IF_ERROR(job.allReduce(job.world(), DType::I32, d.error,
                                   d.error + 1, 1, ReduceOp::Max, false,
                                   d.stream));
  for (size_t i = 0; i < program->outputs.size(); ++i) {
    const int value = program->outputs[i].value;
    const int64_t bytes = type(value).byteSize();
    SY_RETURN_IF_ERROR(job.allGather(job.world(), data(device, value),
                                     d.gathered + gatheredOutputs[i], bytes,
                                     d.stream));
    SY_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
        d.staging + gatheredStaging + gatheredOutputs[i],
        d.gathered + gatheredOutputs[i], bytes * program->mesh.deviceCount(),
        cudaMemcpyDeviceToHost, d.stream));
  }
  return absl::OkStatus();
}
#else
absl::Status CudaSession::State::runNcclCollective(int) {
  return absl::FailedPreconditionError("switchyard was built without NCCL");
}
absl::Status CudaSession::State::gatherNcclOutputs() {
  return absl::FailedPreconditionError("switchyard was built without NCCL");
}
#endif

absl::Status CudaSession::State::finish(int64_t device,
                                        absl::Duration timeout) {
#ifdef SWITCHYARD_HAVE_NCCL
  if (options.job)
    return options.job->wait(devices[device].stream, timeout);
#endif
  return cudaStatus(cudaStreamSynchronize(devices[device].stream), __FILE__,
                    __LINE__);
}

absl::Status CudaSession::State::runOp(int index, int64_t device) {
  const OpSpec &op = program->ops[index];
  switch (op.kind) {
  case fb::OpKind::Einsum: {
    SY_RETURN_IF_ERROR(runEinsum(index, device));
    // The epilogue in place, after the GEMM, unless cuBLASLt applied it.
    if (op.epilogue && !epilogueGemms[index]) {
      const TensorSpec &out = type(op.results[0]);
      void *sums = data(device, op.results[0]);
      launchUnary(devices[device].stream, static_cast<int>(*op.epilogue),
                  elemTypeOf(out.dtype), sums, sums, out.numElements());
    }
    return absl::OkStatus();
  }
  case fb::OpKind::Route:
  case fb::OpKind::Dispatch:
  case fb::OpKind::Combine:
  case fb::OpKind::ZLoss:
  case fb::OpKind::LoadBalancingLoss:
    return runRouting(index, device);
  default:
    return runElementwise(op, device);
  }
}

CudaSession::CudaSession(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
CudaSession::~CudaSession() = default;

const Executable &CudaSession::executable() const { return state_->executable; }

absl::StatusOr<std::unique_ptr<CudaSession>>
CudaSession::create(const Executable &executable, const WeightSource *weights,
                    const CudaSessionOptions &options) {
  if (cudaDeviceCount() == 0)
    return absl::FailedPreconditionError("no CUDA device");
  auto state = std::make_unique<State>(executable);
  const Program &program = executable.program();
  state->program = &program;
  state->options = options;
  if (options.job) {
#ifdef SWITCHYARD_HAVE_NCCL
    if (program.mesh.deviceCount() != options.job->size())
      return absl::InvalidArgumentError(absl::StrCat(
          "the cuda backend runs one mesh device per process: the mesh has ",
          program.mesh.deviceCount(), " devices, the job ", options.job->size(),
          " processes"));
    state->options.gpu = options.job->gpu();
    state->local = {options.job->rank()};
#else
    return absl::FailedPreconditionError("switchyard was built without NCCL");
#endif
  } else {
    for (int64_t device = 0; device < program.mesh.deviceCount(); ++device)
      state->local.push_back(device);
  }
  SY_CUDA_RETURN_IF_ERROR(cudaSetDevice(state->options.gpu));
  SY_ASSIGN_OR_RETURN(std::vector<int> weightInputs,
                      weightInputs(program, weights));
  for (const OpSpec &op : program.ops) {
    state->einsums.push_back(op.kind == fb::OpKind::Einsum
                                 ? std::make_unique<EinsumLayout>(program, op)
                                 : nullptr);
    if (op.kind == fb::OpKind::Einsum && op.operands.size() >= kMaxTensors)
      return absl::UnimplementedError(
          absl::StrCat("the cuda backend runs einsums of at most ",
                       kMaxTensors - 1, " operands"));
  }
  state->collectiveCounts = countCollectives(program);
  SY_RETURN_IF_ERROR(state->allocate());
  SY_RETURN_IF_ERROR(state->makeEpilogueGemms());
#ifdef SWITCHYARD_HAVE_NCCL
  // Split the communicators now, in program order on every process.
  if (options.job)
    for (const OpSpec &op : program.ops)
      if (op.kind >= fb::OpKind::AllReduce && op.kind != fb::OpKind::AllSlice)
        SY_RETURN_IF_ERROR(
            options.job->group(program.mesh, op.gridAxes).status());
#endif

  std::vector<std::byte> block;
  for (int64_t device : state->local) {
    const Device &d = state->devices[device];
    for (int input : weightInputs) {
      const BindingSpec &binding = program.inputs[input];
      block.resize(program.values[binding.value].type.byteSize());
      SY_RETURN_IF_ERROR(
          readWeightBlock(program, *weights, binding, device, block.data()));
      SY_CUDA_RETURN_IF_ERROR(cudaMemcpy(state->data(device, binding.value),
                                         block.data(), block.size(),
                                         cudaMemcpyHostToDevice));
    }
    for (const auto &[value, offset] : state->savedWeights)
      SY_CUDA_RETURN_IF_ERROR(
          cudaMemcpy(d.saved + offset, state->data(device, value),
                     state->type(value).byteSize(), cudaMemcpyDeviceToDevice));
  }
  return std::unique_ptr<CudaSession>(new CudaSession(std::move(state)));
}

int64_t CudaSession::epilogueGemmCount() const {
  const auto &gemms = state_->epilogueGemms;
  return std::count_if(gemms.begin(), gemms.end(),
                       [](const auto &gemm) { return gemm != nullptr; });
}

absl::StatusOr<RunResult>
CudaSession::run(const std::map<std::string, HostTensor> &inputs,
                 const RunOptions &options) {
  State &st = *state_;
  const Program &program = *st.program;
  const int64_t devices = program.mesh.deviceCount();
  const std::vector<int64_t> &local = st.local;
  SY_RETURN_IF_ERROR(checkRunInputs(program, inputs));
  SY_RETURN_IF_ERROR(checkOutputBuffers(program, options.outputBuffers));
  SY_CUDA_RETURN_IF_ERROR(cudaSetDevice(st.options.gpu));
  const auto start = absl::Now();

  for (int64_t device : local) {
    Device &d = st.devices[device];
    SY_CUDA_RETURN_IF_ERROR(
        cudaMemsetAsync(d.error, 0, sizeof(int32_t), d.stream));
    for (const auto &[value, offset] : st.savedWeights)
      SY_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
          st.data(device, value), d.saved + offset, st.type(value).byteSize(),
          cudaMemcpyDeviceToDevice, d.stream));
    for (size_t i = 0; i < program.inputs.size(); ++i) {
      const BindingSpec &binding = program.inputs[i];
      if (binding.isWeight())
        continue;
      std::byte *staged = d.staging + st.inputStaging[i];
      sliceRunInput(program, binding, device, inputs, staged);
      SY_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
          st.data(device, binding.value), staged,
          st.type(binding.value).byteSize(), cudaMemcpyHostToDevice, d.stream));
    }
  }

  for (int64_t device : local) {
    Device &d = st.devices[device];
    SY_CUDA_RETURN_IF_ERROR(cudaEventRecord(d.opsStart, d.stream));
    // So that the first op's time leaves the uploads out.
    if (options.profileOps)
      SY_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(d.stream));
  }
  std::vector<OpKindTime> times(kOpKindCount);
  std::vector<std::array<int64_t, kCollectiveKindCount>> bytes(devices);
  for (size_t i = 0; i < program.ops.size(); ++i) {
    const OpSpec &op = program.ops[i];
    const auto opStart = std::chrono::steady_clock::now();
    absl::Status status;
    if (op.kind >= fb::OpKind::AllReduce) {
      status = st.options.job ? st.runNcclCollective(static_cast<int>(i))
                              : st.runCollective(static_cast<int>(i));
      const int kind = static_cast<int>(collectiveKindOf(op.kind));
      const int64_t sent = collectiveBytes(program, op);
      for (int64_t device : local)
        bytes[device][kind] += sent;
    } else {
      for (size_t l = 0; l < local.size() && status.ok(); ++l)
        status = st.runOp(static_cast<int>(i), local[l]);
    }
    if (status.ok())
      status = cudaStatus(cudaGetLastError(), __FILE__, __LINE__);
    if (!status.ok())
      return absl::Status(status.code(), absl::StrCat(describeOp(program, i),
                                                      ": ", status.message()));
    if (options.profileOps) {
      for (int64_t device : local)
        SY_RETURN_IF_ERROR(st.finish(device, options.collectiveTimeout));
      OpKindTime &time = times[static_cast<int>(op.kind)];
      time.count += static_cast<int64_t>(local.size());
      time.time += absl::FromChrono(std::chrono::steady_clock::now() - opStart);
    }
  }

  for (int64_t device : local) {
    Device &d = st.devices[device];
    SY_CUDA_RETURN_IF_ERROR(cudaEventRecord(d.opsStop, d.stream));
    if (st.options.job) {
      SY_RETURN_IF_ERROR(st.gatherNcclOutputs());
      continue;
    }
    for (size_t i = 0; i < program.outputs.size(); ++i) {
      const BindingSpec &binding = program.outputs[i];
      if (suppliesOutput(program, binding, device))
        SY_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
            d.staging + st.outputStaging[i], st.data(device, binding.value),
            st.type(binding.value).byteSize(), cudaMemcpyDeviceToHost,
            d.stream));
    }
  }
  for (int64_t device : local) {
    Device &d = st.devices[device];
    // This device's flag, then (in an NCCL job) the job's.
    auto *error = reinterpret_cast<int32_t *>(d.staging + st.errorStaging);
    error[1] = 0;
    SY_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
        error, d.error, st.options.job ? 2 * sizeof(int32_t) : sizeof(int32_t),
        cudaMemcpyDeviceToHost, d.stream));
    SY_RETURN_IF_ERROR(st.finish(device, options.collectiveTimeout));
    if (error[0] == 0 && error[1] != 0)
      return absl::OutOfRangeError(
          absl::StrCat("device ", device,
                       ": a device of another process "
                       "failed (that process says how)"));
    if (error[0] != 0)
      return absl::OutOfRangeError(absl::StrCat(
          "device ", device, ": ", describeOp(program, error[0] - 1),
          program.ops[error[0] - 1].kind == fb::OpKind::Gather
              ? ": an index outside the table"
              : ": a kept token has an expert or position outside the slots"));
  }

  // From the earliest start to the latest stop, relative to the first
  // device's.
  float first = 0, last = 0;
  const Device &reference = st.devices[local.front()];
  for (int64_t device : local) {
    const Device &d = st.devices[device];
    float start = 0, stop = 0;
    SY_CUDA_RETURN_IF_ERROR(
        cudaEventElapsedTime(&start, reference.opsStart, d.opsStart));
    SY_CUDA_RETURN_IF_ERROR(
        cudaEventElapsedTime(&stop, reference.opsStart, d.opsStop));
    first = std::min(first, start);
    last = std::max(last, stop);
  }

  RunResult result;
  result.stats.deviceTime = absl::Microseconds(1e3 * (last - first));
  // Where the outputs' blocks are in the pinned staging.
  auto staged = [&](int64_t device, int value) {
    for (size_t i = 0; i < program.outputs.size(); ++i) {
      if (program.outputs[i].value != value)
        continue;
      if (!st.options.job)
        return static_cast<const std::byte *>(st.devices[device].staging +
                                              st.outputStaging[i]);
      // Every device's block, all-gathered in device order.
      return static_cast<const std::byte *>(
          st.devices[local.front()].staging + st.gatheredStaging +
          st.gatheredOutputs[i] + device * st.type(value).byteSize());
    }
    return static_cast<const std::byte *>(nullptr);
  };
  SY_ASSIGN_OR_RETURN(result.outputs,
                      assembleOutputs(program, staged, options.outputBuffers));
  RunStats &stats = result.stats;
  fillCollectiveStats(st.collectiveCounts, bytes, stats);
  if (options.profileOps)
    for (int k = 0; k < kOpKindCount; ++k)
      if (times[k].count > 0) {
        times[k].kind = opKindName(static_cast<fb::OpKind>(k));
        stats.opTimes.push_back(std::move(times[k]));
      }
  stats.wallTime = absl::Now() - start;
  return result;
}

absl::StatusOr<RunResult>
runOnCuda(const Executable &executable, const WeightSource *weights,
          const std::map<std::string, HostTensor> &inputs,
          const RunOptions &options) {
  SY_ASSIGN_OR_RETURN(std::unique_ptr<CudaSession> session,
                      CudaSession::create(executable, weights));
  return session->run(inputs, options);
}

} // namespace switchyard::runtime
