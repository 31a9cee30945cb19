//===- OpSignatures.cpp - Operand and result types of every op kind -------===//
//
// What each op kind requires of its operands and results, checked once at
// load time. Dimensions are matched by name; a dimension named in two
// tensors must have the same (local) size in both.
//
//===----------------------------------------------------------------------===//

#include "runtime/exec/Program.h"

#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"

#include <set>

namespace switchyard::runtime {

namespace {

/// Checks one op; `fail` formats its errors.
class OpChecker {
public:
  OpChecker(const Program &program, int index)
      : program_(program), op_(program.ops[index]),
        prefix_(describeOp(program, index) + ": ") {}

  absl::Status check();

private:
  absl::Status fail(absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(prefix_, message));
  }
  const TensorSpec &operand(size_t i) const {
    return program_.values[op_.operands[i]].type;
  }
  const TensorSpec &result(size_t i) const {
    return program_.values[op_.results[i]].type;
  }

  absl::Status counts(size_t operands, size_t results) const;
  absl::Status atLeast(size_t operands, size_t results) const;
  absl::Status dtypeIs(const TensorSpec &type, absl::string_view role,
                       std::initializer_list<DType> allowed) const;
  absl::Status sameDtype(const TensorSpec &a, const TensorSpec &b,
                         absl::string_view roles) const;
  /// `a` and `b` have the same dimensions in the same order.
  absl::Status sameDims(const TensorSpec &a, const TensorSpec &b,
                        absl::string_view roles) const;
  /// Every dimension of `sub` (but those in `except`) is in `super` with the
  /// same size.
  absl::Status dimsWithin(const TensorSpec &sub, const TensorSpec &super,
                          absl::string_view roles,
                          const std::set<std::string> &except = {}) const;
  absl::Status hasDim(const TensorSpec &type, const std::string &name,
                      absl::string_view role) const;
  /// The dimension names of `type` minus `except`.
  static std::set<std::string> names(const TensorSpec &type,
                                     const std::set<std::string> &except = {});
  absl::Status noOverlap() const;
  absl::Status checkCollective() const;
  absl::Status checkRouting() const;

  const Program &program_;
  const OpSpec &op_;
  std::string prefix_;
};

absl::Status OpChecker::counts(size_t operands, size_t results) const {
  if (op_.operands.size() != operands || op_.results.size() != results)
    return fail(absl::StrCat("expects ", operands, " operands and ", results,
                             " results, got ", op_.operands.size(), " and ",
                             op_.results.size()));
  return absl::OkStatus();
}

absl::Status OpChecker::atLeast(size_t operands, size_t results) const {
  if (op_.operands.size() < operands || op_.results.size() != results)
    return fail(absl::StrCat("expects at least ", operands, " operands and ",
                             results, " results, got ", op_.operands.size(),
                             " and ", op_.results.size()));
  return absl::OkStatus();
}

absl::Status OpChecker::dtypeIs(const TensorSpec &type, absl::string_view role,
                                std::initializer_list<DType> allowed) const {
  for (DType dtype : allowed)
    if (type.dtype == dtype)
      return absl::OkStatus();
  std::string names;
  for (DType dtype : allowed)
    absl::StrAppend(&names, names.empty() ? "" : ", ", dtypeName(dtype));
  return fail(
      absl::StrCat(role, " has type ", type.toString(), ", expected ", names));
}

absl::Status OpChecker::sameDtype(const TensorSpec &a, const TensorSpec &b,
                                  absl::string_view roles) const {
  if (a.dtype != b.dtype)
    return fail(absl::StrCat(roles, " have different element types: ",
                             a.toString(), " and ", b.toString()));
  return absl::OkStatus();
}

absl::Status OpChecker::sameDims(const TensorSpec &a, const TensorSpec &b,
                                 absl::string_view roles) const {
  bool same = a.dims.size() == b.dims.size();
  for (size_t d = 0; same && d < a.dims.size(); ++d)
    same = a.dims[d].name == b.dims[d].name && a.dims[d].size == b.dims[d].size;
  if (!same)
    return fail(absl::StrCat(roles, " must have the same dimensions, got ",
                             a.toString(), " and ", b.toString()));
  return absl::OkStatus();
}

absl::Status OpChecker::dimsWithin(const TensorSpec &sub,
                                   const TensorSpec &super,
                                   absl::string_view roles,
                                   const std::set<std::string> &except) const {
  for (const DimSpec &dim : sub.dims) {
    if (except.count(dim.name))
      continue;
    int d = super.find(dim.name);
    if (d < 0 || super.dims[d].size != dim.size)
      return fail(absl::StrCat(roles, ": dimension '", dim.name, "' of ",
                               sub.toString(), " is not in ", super.toString(),
                               " with the same size"));
  }
  return absl::OkStatus();
}

absl::Status OpChecker::hasDim(const TensorSpec &type, const std::string &name,
                               absl::string_view role) const {
  if (name.empty() || type.find(name) < 0)
    return fail(absl::StrCat(role, " ", type.toString(), " has no dimension '",
                             name, "'"));
  return absl::OkStatus();
}

std::set<std::string> OpChecker::names(const TensorSpec &type,
                                       const std::set<std::string> &except) {
  std::set<std::string> result;
  for (const DimSpec &dim : type.dims)
    if (!except.count(dim.name))
      result.insert(dim.name);
  return result;
}

absl::Status OpChecker::noOverlap() const {
  auto range = [&](int value) {
    const ValueSpec &v = program_.values[value];
    return std::pair{v.offset, v.offset + v.type.byteSize()};
  };
  for (size_t r = 0; r < op_.results.size(); ++r) {
    // Not a structured binding: C++17 lambdas cannot capture those.
    const std::pair<int64_t, int64_t> result = range(op_.results[r]);
    const int64_t begin = result.first, end = result.second;
    if (begin == end)
      continue;
    auto overlaps = [&](int other) {
      auto [b, e] = range(other);
      return b < e && b < end && begin < e;
    };
    for (int operand : op_.operands)
      if (overlaps(operand))
        return fail(absl::StrCat("result value ", op_.results[r],
                                 " overlaps operand value ", operand,
                                 " in the arena"));
    for (size_t s = r + 1; s < op_.results.size(); ++s)
      if (overlaps(op_.results[s]))
        return fail(absl::StrCat("result values ", op_.results[r], " and ",
                                 op_.results[s], " overlap in the arena"));
  }
  return absl::OkStatus();
}

absl::Status OpChecker::checkCollective() const {
  SY_RETURN_IF_ERROR(counts(1, 1));
  if (absl::Status status = program_.mesh.checkAxes(op_.gridAxes); !status.ok())
    return fail(status.message());
  const TensorSpec &in = operand(0), &out = result(0);
  SY_RETURN_IF_ERROR(sameDtype(in, out, "operand and result"));
  if (op_.kind == fb::OpKind::AllReduce ||
      op_.kind == fb::OpKind::ReduceScatter)
    SY_RETURN_IF_ERROR(dtypeIs(
        in, "operand", {DType::F32, DType::BF16, DType::F16, DType::I32}));
  const int64_t n = program_.mesh.groupSize(op_.gridAxes);
  const int64_t rank = in.dims.size();
  std::vector<int64_t> expected = in.shape();
  auto axisOk = [&](int64_t axis, absl::string_view what) -> absl::Status {
    if (axis < 0 || axis >= rank)
      return fail(absl::StrCat(what, " ", axis, " is not a dimension of ",
                               in.toString()));
    return absl::OkStatus();
  };
  auto divide = [&](int64_t axis) -> absl::Status {
    if (expected[axis] % n != 0)
      return fail(absl::StrCat("dimension ", axis, " of ", in.toString(),
                               " does not split into ", n, " blocks"));
    expected[axis] /= n;
    return absl::OkStatus();
  };
  switch (op_.kind) {
  case fb::OpKind::AllReduce:
    break;
  case fb::OpKind::AllGather:
    SY_RETURN_IF_ERROR(axisOk(op_.axis, "axis"));
    expected[op_.axis] *= n;
    break;
  case fb::OpKind::AllSlice:
  case fb::OpKind::ReduceScatter:
    SY_RETURN_IF_ERROR(axisOk(op_.axis, "axis"));
    SY_RETURN_IF_ERROR(divide(op_.axis));
    break;
  case fb::OpKind::AllToAll:
    SY_RETURN_IF_ERROR(axisOk(op_.axis, "axis"));
    SY_RETURN_IF_ERROR(axisOk(op_.concatAxis, "concat_axis"));
    SY_RETURN_IF_ERROR(divide(op_.axis));
    expected[op_.concatAxis] *= n;
    break;
  default:
    break;
  }
  bool same = out.dims.size() == in.dims.size();
  for (size_t d = 0; same && d < in.dims.size(); ++d)
    same =
        out.dims[d].name == in.dims[d].name && out.dims[d].size == expected[d];
  if (!same)
    return fail(absl::StrCat("result ", out.toString(), " does not fit ",
                             "operand ", in.toString(), " over a group of ", n,
                             " devices"));
  return absl::OkStatus();
}

absl::Status OpChecker::checkRouting() const {
  switch (op_.kind) {
  case fb::OpKind::Route: {
    SY_RETURN_IF_ERROR(counts(1, 4));
    const TensorSpec &logits = operand(0);
    SY_RETURN_IF_ERROR(
        dtypeIs(logits, "logits", {DType::F32, DType::BF16, DType::F16}));
    SY_RETURN_IF_ERROR(hasDim(logits, op_.tokensDim, "logits"));
    SY_RETURN_IF_ERROR(hasDim(logits, op_.expertsDim, "logits"));
    const int64_t experts = logits.dims[logits.find(op_.expertsDim)].size;
    if (experts < 1)
      return fail("logits need at least one expert");
    if (op_.capacity < 0)
      return fail(absl::StrCat("negative capacity ", op_.capacity));
    if (op_.gateNormalization > fb::GateNormalization::MAX)
      return fail("unknown gate normalization");
    // Top-k: the choices dimension takes the experts' place in the results.
    const bool topK = !op_.choicesDim.empty();
    if (!topK && op_.gateNormalization != fb::GateNormalization::None)
      return fail("gate normalization needs a choices dimension");
    if (topK && logits.find(op_.choicesDim) >= 0)
      return fail(absl::StrCat("choices dimension '", op_.choicesDim,
                               "' must not be a dimension of the logits ",
                               logits.toString()));
    std::set<std::string> routed = names(logits, {op_.expertsDim});
    if (topK)
      routed.insert(op_.choicesDim);
    const std::initializer_list<DType> kinds[] = {
        {DType::I32},
        {DType::F32, DType::BF16, DType::F16},
        {DType::I32},
        {DType::Bool}};
    const char *roles[] = {"expert", "gate", "position", "dropped"};
    for (size_t r = 0; r < 4; ++r) {
      SY_RETURN_IF_ERROR(dtypeIs(result(r), roles[r], kinds[r]));
      SY_RETURN_IF_ERROR(
          dimsWithin(result(r), logits, roles[r], {op_.choicesDim}));
      if (names(result(r)) != routed)
        return fail(absl::StrCat(
            roles[r], " ", result(r).toString(),
            " must have the dimensions of the logits ", logits.toString(),
            topK ? absl::StrCat(" with '", op_.choicesDim, "' for experts")
                 : " but experts"));
    }
    if (!topK)
      return absl::OkStatus();
    const int64_t k = result(0).dims[result(0).find(op_.choicesDim)].size;
    if (k < 1 || k > experts)
      return fail(absl::StrCat("choices dimension '", op_.choicesDim, "' has ",
                               k, " choices, expected 1 to ", experts,
                               " (the experts)"));
    for (size_t r = 1; r < 4; ++r)
      SY_RETURN_IF_ERROR(dimsWithin(result(r), result(0), "routing results"));
    return absl::OkStatus();
  }
  case fb::OpKind::Dispatch:
  case fb::OpKind::Combine: {
    const bool dispatch = op_.kind == fb::OpKind::Dispatch;
    // A combine's sixth operand is its residual.
    const size_t routingOperands = dispatch ? 4 : 5;
    const bool residual = !dispatch && op_.operands.size() == 6;
    SY_RETURN_IF_ERROR(counts(residual ? 6 : routingOperands, 1));
    const TensorSpec &data = operand(0), &out = result(0);
    SY_RETURN_IF_ERROR(sameDtype(data, out, "data operand and result"));
    if (residual) {
      SY_RETURN_IF_ERROR(sameDtype(operand(5), out, "residual and result"));
      SY_RETURN_IF_ERROR(sameDims(operand(5), out, "residual and result"));
    }
    const TensorSpec &expert = operand(1);
    SY_RETURN_IF_ERROR(dtypeIs(expert, "expert", {DType::I32}));
    SY_RETURN_IF_ERROR(dtypeIs(operand(2), "position", {DType::I32}));
    SY_RETURN_IF_ERROR(dtypeIs(operand(3), "dropped", {DType::Bool}));
    if (!dispatch)
      SY_RETURN_IF_ERROR(
          dtypeIs(operand(4), "gate", {DType::F32, DType::BF16, DType::F16}));
    SY_RETURN_IF_ERROR(hasDim(expert, op_.tokensDim, "expert"));
    // Top-k: the routing operands also have the choices dimension.
    const bool topK = !op_.choicesDim.empty();
    if (topK) {
      if (op_.choicesDim == op_.tokensDim)
        return fail("the choices and tokens dimensions must differ");
      SY_RETURN_IF_ERROR(hasDim(expert, op_.choicesDim, "expert"));
    }
    const std::set<std::string> routed = names(expert);
    for (size_t i = 2; i < routingOperands; ++i) {
      SY_RETURN_IF_ERROR(dimsWithin(operand(i), expert, "routing operands"));
      if (names(operand(i)) != routed)
        return fail("the routing operands must have the same dimensions");
    }
    // Tokens side: [groups..., tokens, features...]; slots side: [groups...,
    // experts, capacity, features...].
    const TensorSpec &tokens = dispatch ? data : out;
    const TensorSpec &slots = dispatch ? out : data;
    SY_RETURN_IF_ERROR(hasDim(slots, op_.expertsDim, "slots"));
    SY_RETURN_IF_ERROR(hasDim(slots, op_.capacityDim, "slots"));
    if (op_.expertsDim == op_.capacityDim || tokens.find(op_.expertsDim) >= 0 ||
        tokens.find(op_.capacityDim) >= 0 || slots.find(op_.tokensDim) >= 0)
      return fail("the tokens, experts and capacity dimensions must be "
                  "distinct and on their own side");
    if (topK &&
        (tokens.find(op_.choicesDim) >= 0 || slots.find(op_.choicesDim) >= 0))
      return fail(absl::StrCat("choices dimension '", op_.choicesDim,
                               "' must be in the routing operands only, not "
                               "in ",
                               tokens.toString(), " or ", slots.toString()));
    SY_RETURN_IF_ERROR(
        dimsWithin(expert, tokens, "routing operands", {op_.choicesDim}));
    SY_RETURN_IF_ERROR(
        dimsWithin(tokens, slots, "tokens and slots", {op_.tokensDim}));
    SY_RETURN_IF_ERROR(dimsWithin(slots, tokens, "slots and tokens",
                                  {op_.expertsDim, op_.capacityDim}));
    return absl::OkStatus();
  }
  case fb::OpKind::ZLoss:
  case fb::OpKind::LoadBalancingLoss: {
    SY_RETURN_IF_ERROR(atLeast(1, 1));
    const TensorSpec &out = result(0);
    if (!out.dims.empty())
      return fail(absl::StrCat("result ", out.toString(), " must be a scalar"));
    SY_RETURN_IF_ERROR(
        dtypeIs(out, "result", {DType::F32, DType::BF16, DType::F16}));
    const bool balance = op_.kind == fb::OpKind::LoadBalancingLoss;
    for (size_t i = 0; i < op_.operands.size(); ++i) {
      const TensorSpec &logits = operand(i);
      SY_RETURN_IF_ERROR(
          dtypeIs(logits, "logits", {DType::F32, DType::BF16, DType::F16}));
      SY_RETURN_IF_ERROR(hasDim(logits, op_.expertsDim, "logits"));
      const int64_t experts = logits.dims[logits.find(op_.expertsDim)].size;
      if (experts < 1)
        return fail("logits need at least one expert");
      if (experts != operand(0).dims[operand(0).find(op_.expertsDim)].size)
        return fail("the logits have different numbers of experts");
      if (balance) {
        SY_RETURN_IF_ERROR(hasDim(logits, op_.tokensDim, "logits"));
        const std::set<std::string> skip = {op_.tokensDim, op_.expertsDim};
        SY_RETURN_IF_ERROR(
            dimsWithin(logits, operand(0), "logits operands", skip));
        if (names(logits, skip) != names(operand(0), skip))
          return fail("the logits operands must have the same group "
                      "dimensions");
      }
    }
    return absl::OkStatus();
  }
  default:
    return absl::OkStatus();
  }
}

absl::Status OpChecker::check() {
  const auto floats = {DType::F32, DType::BF16, DType::F16};
  const auto numbers = {DType::F32, DType::BF16, DType::F16, DType::I32};
  switch (op_.kind) {
  case fb::OpKind::Einsum: {
    SY_RETURN_IF_ERROR(atLeast(1, 1));
    const TensorSpec &out = result(0);
    SY_RETURN_IF_ERROR(dtypeIs(out, "result", floats));
    TensorSpec all;
    for (size_t i = 0; i < op_.operands.size(); ++i) {
      SY_RETURN_IF_ERROR(sameDtype(operand(i), out, "operands and result"));
      SY_RETURN_IF_ERROR(dimsWithin(operand(i), all, "operands",
                                    names(operand(i), names(all))));
      for (const DimSpec &dim : operand(i).dims)
        if (all.find(dim.name) < 0)
          all.dims.push_back(dim);
    }
    SY_RETURN_IF_ERROR(dimsWithin(out, all, "result and operands"));
    if (op_.epilogue && *op_.epilogue != fb::UnaryKind::Relu &&
        *op_.epilogue != fb::UnaryKind::Gelu &&
        *op_.epilogue != fb::UnaryKind::GeluTanh &&
        *op_.epilogue != fb::UnaryKind::Silu)
      return fail("an epilogue must be relu, gelu, gelu_tanh or silu");
    break;
  }
  case fb::OpKind::Unary: {
    SY_RETURN_IF_ERROR(counts(1, 1));
    SY_RETURN_IF_ERROR(sameDims(operand(0), result(0), "operand and result"));
    SY_RETURN_IF_ERROR(sameDtype(operand(0), result(0), "operand and result"));
    if (op_.unary > fb::UnaryKind::MAX)
      return fail("unknown unary function");
    const bool integer = op_.unary == fb::UnaryKind::Neg ||
                         op_.unary == fb::UnaryKind::Abs ||
                         op_.unary == fb::UnaryKind::Square;
    SY_RETURN_IF_ERROR(
        dtypeIs(operand(0), "operand", integer ? numbers : floats));
    break;
  }
  case fb::OpKind::Binary: {
    SY_RETURN_IF_ERROR(counts(2, 1));
    if (op_.binary > fb::BinaryKind::MAX)
      return fail("unknown binary function");
    const TensorSpec &out = result(0);
    SY_RETURN_IF_ERROR(dtypeIs(
        out, "result", op_.binary == fb::BinaryKind::Pow ? floats : numbers));
    TensorSpec both;
    for (size_t i = 0; i < 2; ++i) {
      SY_RETURN_IF_ERROR(sameDtype(operand(i), out, "operands and result"));
      SY_RETURN_IF_ERROR(dimsWithin(operand(i), out, "operands and result"));
      for (const DimSpec &dim : operand(i).dims)
        both.dims.push_back(dim);
    }
    SY_RETURN_IF_ERROR(dimsWithin(out, both, "result and operands"));
    break;
  }
  case fb::OpKind::Reduce:
    SY_RETURN_IF_ERROR(counts(1, 1));
    if (op_.reduce > fb::ReduceKind::MAX)
      return fail("unknown reduction");
    SY_RETURN_IF_ERROR(sameDtype(operand(0), result(0), "operand and result"));
    SY_RETURN_IF_ERROR(dtypeIs(operand(0), "operand", numbers));
    SY_RETURN_IF_ERROR(dimsWithin(result(0), operand(0), "result and operand"));
    break;
  case fb::OpKind::Softmax:
  case fb::OpKind::Cumsum:
    SY_RETURN_IF_ERROR(counts(1, 1));
    SY_RETURN_IF_ERROR(sameDims(operand(0), result(0), "operand and result"));
    SY_RETURN_IF_ERROR(sameDtype(operand(0), result(0), "operand and result"));
    SY_RETURN_IF_ERROR(
        dtypeIs(operand(0), "operand",
                op_.kind == fb::OpKind::Softmax ? floats : numbers));
    SY_RETURN_IF_ERROR(hasDim(operand(0), op_.dim, "operand"));
    break;
  case fb::OpKind::RmsNorm: {
    SY_RETURN_IF_ERROR(counts(2, 1));
    SY_RETURN_IF_ERROR(sameDims(operand(0), result(0), "operand and result"));
    SY_RETURN_IF_ERROR(sameDtype(operand(0), result(0), "operand and result"));
    SY_RETURN_IF_ERROR(dtypeIs(operand(0), "operand", floats));
    SY_RETURN_IF_ERROR(dtypeIs(operand(1), "scale", floats));
    SY_RETURN_IF_ERROR(hasDim(operand(0), op_.dim, "operand"));
    const TensorSpec &scale = operand(1);
    if (scale.dims.size() != 1 || scale.dims[0].name != op_.dim)
      return fail(absl::StrCat("scale ", scale.toString(),
                               " must have the one dimension '", op_.dim, "'"));
    SY_RETURN_IF_ERROR(dimsWithin(scale, operand(0), "scale and operand"));
    break;
  }
  case fb::OpKind::Cast:
    SY_RETURN_IF_ERROR(counts(1, 1));
    SY_RETURN_IF_ERROR(sameDims(operand(0), result(0), "operand and result"));
    break;
  case fb::OpKind::Reshape:
    SY_RETURN_IF_ERROR(counts(1, 1));
    SY_RETURN_IF_ERROR(sameDtype(operand(0), result(0), "operand and result"));
    if (operand(0).numElements() != result(0).numElements())
      return fail(absl::StrCat("cannot reshape ", operand(0).toString(), " to ",
                               result(0).toString()));
    break;
  case fb::OpKind::Gather: {
    SY_RETURN_IF_ERROR(counts(2, 1));
    const TensorSpec &table = operand(0), &indices = operand(1),
                     &out = result(0);
    SY_RETURN_IF_ERROR(sameDtype(table, out, "table and result"));
    SY_RETURN_IF_ERROR(dtypeIs(indices, "indices", {DType::I32}));
    SY_RETURN_IF_ERROR(hasDim(table, op_.dim, "table"));
    if (indices.find(op_.dim) >= 0 || out.find(op_.dim) >= 0)
      return fail(absl::StrCat("the gathered dimension '", op_.dim,
                               "' must not be in the indices or result"));
    SY_RETURN_IF_ERROR(dimsWithin(indices, out, "indices and result"));
    SY_RETURN_IF_ERROR(dimsWithin(table, out, "table and result", {op_.dim}));
    TensorSpec both = indices;
    for (const DimSpec &dim : table.dims)
      both.dims.push_back(dim);
    SY_RETURN_IF_ERROR(dimsWithin(out, both, "result and operands"));
    break;
  }
  case fb::OpKind::OneHot: {
    SY_RETURN_IF_ERROR(counts(1, 1));
    SY_RETURN_IF_ERROR(dtypeIs(operand(0), "indices", {DType::I32}));
    SY_RETURN_IF_ERROR(dimsWithin(operand(0), result(0), "indices and result"));
    if (result(0).dims.size() != operand(0).dims.size() + 1)
      return fail(absl::StrCat("result ", result(0).toString(),
                               " must have the dimensions of the indices ",
                               operand(0).toString(), " and one more"));
    break;
  }
  case fb::OpKind::Constant:
    SY_RETURN_IF_ERROR(counts(0, 1));
    if (static_cast<int64_t>(op_.constant.size()) != result(0).byteSize())
      return fail(absl::StrCat("constant has ", op_.constant.size(),
                               " bytes but result ", result(0).toString(),
                               " needs ", result(0).byteSize()));
    break;
  case fb::OpKind::Iota:
    SY_RETURN_IF_ERROR(counts(0, 1));
    SY_RETURN_IF_ERROR(hasDim(result(0), op_.dim, "result"));
    break;
  case fb::OpKind::Route:
  case fb::OpKind::Dispatch:
  case fb::OpKind::Combine:
  case fb::OpKind::ZLoss:
  case fb::OpKind::LoadBalancingLoss:
    SY_RETURN_IF_ERROR(checkRouting());
    break;
  case fb::OpKind::AllReduce:
  case fb::OpKind::AllGather:
  case fb::OpKind::AllSlice:
  case fb::OpKind::AllToAll:
  case fb::OpKind::ReduceScatter:
    if (op_.kind == fb::OpKind::AllReduce ||
        op_.kind == fb::OpKind::ReduceScatter)
      if (op_.reduction > fb::CollectiveReduction::MAX)
        return fail("unknown reduction");
    SY_RETURN_IF_ERROR(checkCollective());
    break;
  }
  return noOverlap();
}

} // namespace

absl::Status checkOpSignature(const Program &program, int index) {
  return OpChecker(program, index).check();
}

} // namespace switchyard::runtime
