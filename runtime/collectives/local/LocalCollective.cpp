//===- LocalCollective.cpp - Collectives among threads of one process -----===//
//
// Every operation is a few rendezvous of the group's members. At the first,
// each member publishes its call (buffers and sizes) and all check that the
// calls agree. Between rendezvous each member moves or reduces the data it
// owns straight from its peers' buffers; the last rendezvous keeps every
// buffer alive until all peers are done with it.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Runtime/LocalCollective.h"

#include "runtime/collectives/OpKind.h"
#include "runtime/collectives/Reduce.h"
#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>

namespace switchyard::runtime {

namespace {

/// What one member passed to a collective operation.
struct Call {
  CollectiveOpKind kind = CollectiveOpKind::AllReduce;
  DType dtype = DType::F32;
  ReduceOp op = ReduceOp::Sum;
  BlockLayout in;
  BlockLayout out;
  const std::byte *input = nullptr;
  std::byte *output = nullptr;

  bool agreesWith(const Call &other) const {
    return kind == other.kind && dtype == other.dtype &&
           (!isReduction(kind) || op == other.op) &&
           in.outer == other.in.outer && in.inner == other.in.inner &&
           out.outer == other.out.outer && out.inner == other.out.inner;
  }

  std::string describe() const {
    std::string result = absl::StrCat(
        opName(kind), "(", dtypeName(dtype), ", in {", in.outer, " x ",
        in.inner, "}, out {", out.outer, " x ", out.inner, "}");
    if (isReduction(kind))
      absl::StrAppend(&result, op == ReduceOp::Sum   ? ", sum"
                               : op == ReduceOp::Max ? ", max"
                                                     : ", min");
    return result + ")";
  }
};

/// The rendezvous state of one group of devices.
struct GroupState {
  explicit GroupState(size_t size) : calls(size), present(size) {}

  /// The calls of the members that have arrived at the current rendezvous.
  std::vector<Call> calls;
  std::vector<bool> present;
  size_t arrivals = 0;
  /// The number of completed rendezvous.
  uint64_t generation = 0;
  /// The calls and agreement of the last completed rendezvous.
  std::vector<Call> completed;
  absl::Status completedStatus;
};

/// The devices of a mesh's group, as seen by one member during one call.
struct GroupView {
  std::vector<int> axes;
  std::vector<int64_t> members;
  int64_t index = 0;
  std::chrono::steady_clock::time_point deadline;
  CollectiveOpKind kind;
};

/// The state shared by all endpoints of one mesh.
class LocalMesh {
public:
  LocalMesh(Mesh mesh, absl::Duration timeout)
      : mesh_(std::move(mesh)), timeout_(timeout) {}

  const Mesh &mesh() const { return mesh_; }
  absl::Duration timeout() const { return timeout_; }

  /// Publishes `call` as this member's part of the group's next rendezvous
  /// and waits for the other members. Returns every member's call; with
  /// `checkAgreement`, an error on every member if the calls disagree.
  absl::StatusOr<std::vector<Call>>
  rendezvous(const GroupView &group, const Call &call, bool checkAgreement) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!broken_.ok())
      return aborted(group);
    GroupState &state = groups_
                            .try_emplace({group.axes, group.members.front()},
                                         group.members.size())
                            .first->second;
    const uint64_t generation = state.generation;
    state.calls[group.index] = call;
    state.present[group.index] = true;
    if (++state.arrivals == group.members.size()) {
      state.completed = state.calls;
      state.completedStatus =
          checkAgreement ? agreement(group, state.calls) : absl::OkStatus();
      state.arrivals = 0;
      std::fill(state.present.begin(), state.present.end(), false);
      ++state.generation;
      released_.notify_all();
    } else {
      released_.wait_until(lock, group.deadline, [&] {
        return state.generation != generation || !broken_.ok();
      });
      if (state.generation == generation) {
        if (!broken_.ok())
          return aborted(group);
        broken_ = timedOut(group, state.present);
        released_.notify_all();
        return broken_;
      }
    }
    if (!state.completedStatus.ok())
      return state.completedStatus;
    return state.completed;
  }

private:
  std::string where(const GroupView &group) const {
    return absl::StrCat(opName(group.kind), " on device ",
                        group.members[group.index], " over mesh axes [",
                        absl::StrJoin(group.axes, ", "), "] of mesh ",
                        mesh_.toString());
  }

  /// Requires `mu_`.
  absl::Status aborted(const GroupView &group) const {
    return absl::AbortedError(absl::StrCat(
        where(group),
        ": the mesh's collectives failed earlier: ", broken_.message()));
  }

  absl::Status timedOut(const GroupView &group,
                        const std::vector<bool> &present) const {
    std::vector<int64_t> missing;
    for (size_t i = 0; i < present.size(); ++i)
      if (!present[i])
        missing.push_back(group.members[i]);
    return absl::DeadlineExceededError(absl::StrCat(
        where(group), ": timed out after ", absl::FormatDuration(timeout_),
        " waiting for devices [", absl::StrJoin(missing, ", "), "]"));
  }

  absl::Status agreement(const GroupView &group,
                         const std::vector<Call> &calls) const {
    for (size_t i = 1; i < calls.size(); ++i)
      if (!calls[i].agreesWith(calls[0]))
        return absl::InvalidArgumentError(absl::StrCat(
            "collective calls over mesh axes [",
            absl::StrJoin(group.axes, ", "), "] disagree: device ",
            group.members[0], " called ", calls[0].describe(), ", device ",
            group.members[i], " called ", calls[i].describe()));
    return absl::OkStatus();
  }

  const Mesh mesh_;
  const absl::Duration timeout_;
  /// Guards everything below. std primitives rather than absl::Mutex, so
  /// that ThreadSanitizer sees the synchronization with any Abseil build.
  std::mutex mu_;
  /// Notified whenever a rendezvous completes or the mesh breaks.
  std::condition_variable released_;
  /// Set for good once a rendezvous times out.
  absl::Status broken_;
  /// Keyed by the axes and the group's first member; a std::map, so that
  /// references stay valid while other groups are added.
  std::map<std::pair<std::vector<int>, int64_t>, GroupState> groups_;
};

/// One block of a buffer split into `blocks` blocks by `layout`.
struct BlockRef {
  BlockLayout layout;
  int64_t blocks;
  int64_t index;

  /// The element offset of element `p` of the block, and how many elements
  /// from there on are contiguous.
  std::pair<int64_t, int64_t> locate(int64_t p) const {
    int64_t row = p / layout.inner, column = p % layout.inner;
    return {(row * blocks + index) * layout.inner + column,
            layout.inner - column};
  }
};

/// Copies the block `from` of `src` to the block `to` of `dst`.
void copyBlock(const std::byte *src, BlockRef from, std::byte *dst, BlockRef to,
               size_t elementSize) {
  const int64_t size = from.layout.blockSize();
  for (int64_t p = 0; p < size;) {
    auto [srcOffset, srcRun] = from.locate(p);
    auto [dstOffset, dstRun] = to.locate(p);
    const int64_t run = std::min(srcRun, dstRun);
    std::memcpy(dst + dstOffset * elementSize, src + srcOffset * elementSize,
                run * elementSize);
    p += run;
  }
}

class LocalCollective final : public Collective {
public:
  LocalCollective(std::shared_ptr<LocalMesh> shared, int64_t device)
      : shared_(std::move(shared)), device_(device) {}

  const Mesh &mesh() const override { return shared_->mesh(); }
  int64_t rank() const override { return device_; }

  absl::Status allReduce(absl::Span<const int> axes, DType dtype,
                         const void *in, void *out, int64_t count,
                         ReduceOp op) override {
    Call call = makeCall(CollectiveOpKind::AllReduce, dtype, in, out, {1, count});
    call.op = op;
    SY_ASSIGN_OR_RETURN(GroupView group, join(axes, call));
    SY_ASSIGN_OR_RETURN(std::vector<Call> calls,
                        shared_->rendezvous(group, call, true));
    // Each member reduces its chunk of the elements into its own output,
    // then copies the other chunks from their owners' outputs.
    const size_t n = calls.size(), elementSize = dtypeSize(dtype);
    auto chunkBegin = [&](size_t i) { return count * int64_t(i) / int64_t(n); };
    const int64_t mine = chunkBegin(group.index);
    std::vector<const std::byte *> inputs;
    for (const Call &c : calls)
      inputs.push_back(c.input + mine * elementSize);
    reduceInOrder(dtype, inputs, call.output + mine * elementSize,
                  chunkBegin(group.index + 1) - mine, op);
    SY_RETURN_IF_ERROR(shared_->rendezvous(group, call, false).status());
    for (size_t i = 0; i < n; ++i) {
      if (int64_t(i) == group.index)
        continue;
      std::memcpy(call.output + chunkBegin(i) * elementSize,
                  calls[i].output + chunkBegin(i) * elementSize,
                  (chunkBegin(i + 1) - chunkBegin(i)) * elementSize);
    }
    return shared_->rendezvous(group, call, false).status();
  }

  absl::Status allGather(absl::Span<const int> axes, DType dtype,
                         const void *in, void *out,
                         BlockLayout outLayout) override {
    Call call = makeCall(CollectiveOpKind::AllGather, dtype, in, out, outLayout);
    call.out = outLayout;
    SY_ASSIGN_OR_RETURN(GroupView group, join(axes, call));
    SY_ASSIGN_OR_RETURN(std::vector<Call> calls,
                        shared_->rendezvous(group, call, true));
    const int64_t n = calls.size();
    for (int64_t i = 0; i < n; ++i)
      copyBlock(calls[i].input, {{1, outLayout.blockSize()}, 1, 0}, call.output,
                {outLayout, n, i}, dtypeSize(dtype));
    return shared_->rendezvous(group, call, false).status();
  }

  absl::Status reduceScatter(absl::Span<const int> axes, DType dtype,
                             const void *in, BlockLayout inLayout, void *out,
                             ReduceOp op) override {
    Call call = makeCall(CollectiveOpKind::ReduceScatter, dtype, in, out, inLayout);
    call.op = op;
    SY_ASSIGN_OR_RETURN(GroupView group, join(axes, call));
    SY_ASSIGN_OR_RETURN(std::vector<Call> calls,
                        shared_->rendezvous(group, call, true));
    const int64_t n = calls.size();
    const size_t elementSize = dtypeSize(dtype);
    std::vector<const std::byte *> inputs(n);
    for (int64_t row = 0; row < inLayout.outer; ++row) {
      const int64_t offset = (row * n + group.index) * inLayout.inner;
      for (int64_t i = 0; i < n; ++i)
        inputs[i] = calls[i].input + offset * elementSize;
      reduceInOrder(dtype, inputs,
                    call.output + row * inLayout.inner * elementSize,
                    inLayout.inner, op);
    }
    return shared_->rendezvous(group, call, false).status();
  }

  absl::Status allToAll(absl::Span<const int> axes, DType dtype, const void *in,
                        BlockLayout inLayout, void *out,
                        BlockLayout outLayout) override {
    Call call = makeCall(CollectiveOpKind::AllToAll, dtype, in, out, inLayout);
    call.out = outLayout;
    if (inLayout.blockSize() != outLayout.blockSize())
      return absl::InvalidArgumentError(
          absl::StrCat("all_to_all on device ", device_, ": input blocks of ",
                       inLayout.blockSize(), " elements but output blocks of ",
                       outLayout.blockSize()));
    SY_ASSIGN_OR_RETURN(GroupView group, join(axes, call));
    SY_ASSIGN_OR_RETURN(std::vector<Call> calls,
                        shared_->rendezvous(group, call, true));
    const int64_t n = calls.size();
    for (int64_t i = 0; i < n; ++i)
      copyBlock(calls[i].input, {inLayout, n, group.index}, call.output,
                {outLayout, n, i}, dtypeSize(dtype));
    return shared_->rendezvous(group, call, false).status();
  }

private:
  static Call makeCall(CollectiveOpKind kind, DType dtype, const void *in, void *out,
                       BlockLayout layout) {
    Call call;
    call.kind = kind;
    call.dtype = dtype;
    call.in = layout;
    call.input = static_cast<const std::byte *>(in);
    call.output = static_cast<std::byte *>(out);
    return call;
  }

  /// Checks the arguments of `call` and finds this device's group.
  absl::StatusOr<GroupView> join(absl::Span<const int> axes,
                                 const Call &call) const {
    auto error = [&](absl::string_view message) {
      return absl::InvalidArgumentError(absl::StrCat(
          opName(call.kind), " on device ", device_, ": ", message));
    };
    if (absl::Status status = mesh().checkAxes(axes); !status.ok())
      return error(status.message());
    if (isReduction(call.kind) && call.dtype != DType::F32 &&
        call.dtype != DType::I32 && call.dtype != DType::I64)
      return error(absl::StrCat("cannot reduce ", dtypeName(call.dtype),
                                " (supported: f32, i32, i64)"));
    GroupView group;
    group.axes.assign(axes.begin(), axes.end());
    group.members = mesh().group(device_, axes);
    group.index = mesh().groupRank(device_, axes);
    group.deadline = std::chrono::steady_clock::now() +
                     absl::ToChronoNanoseconds(shared_->timeout());
    group.kind = call.kind;
    const int64_t n = group.members.size();
    for (const BlockLayout &layout : {call.in, call.out}) {
      int64_t size;
      if (layout.outer < 0 || layout.inner < 0 ||
          __builtin_mul_overflow(layout.outer, layout.inner, &size) ||
          __builtin_mul_overflow(size, n, &size))
        return error(absl::StrCat("invalid buffer layout {", layout.outer,
                                  " x ", layout.inner, "}"));
    }
    if ((call.in.blockSize() > 0 && !call.input) ||
        ((call.in.blockSize() > 0 || call.out.blockSize() > 0) && !call.output))
      return error("null buffer");
    return group;
  }

  std::shared_ptr<LocalMesh> shared_;
  int64_t device_;
};

} // namespace

absl::StatusOr<std::vector<std::unique_ptr<Collective>>>
createLocalCollectives(const Mesh &mesh, LocalCollectiveOptions options) {
  if (options.timeout <= absl::ZeroDuration())
    return absl::InvalidArgumentError(
        "the collective timeout must be positive");
  auto shared = std::make_shared<LocalMesh>(mesh, options.timeout);
  std::vector<std::unique_ptr<Collective>> endpoints;
  for (int64_t device = 0; device < mesh.deviceCount(); ++device)
    endpoints.push_back(std::make_unique<LocalCollective>(shared, device));
  return endpoints;
}

} // namespace switchyard::runtime
