//===- ExecutableLoader.cpp - Loading and validating executables ----------===//
//
// Loading checks the file identifier, runs the FlatBuffers verifier, checks
// the format version and then every index, arena range and op signature, so
// that a malformed file is an error here and never a crash later.
//
//===----------------------------------------------------------------------===//

#include "runtime/exec/Program.h"

#include "switchyard/Executable/Format.h"
#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace switchyard::runtime {

std::vector<int64_t> TensorSpec::shape() const {
  std::vector<int64_t> result;
  for (const DimSpec &dim : dims)
    result.push_back(dim.size);
  return result;
}

int TensorSpec::find(const std::string &name) const {
  for (size_t d = 0; d < dims.size(); ++d)
    if (dims[d].name == name)
      return static_cast<int>(d);
  return -1;
}

int64_t TensorSpec::numElements() const {
  int64_t count = 1;
  for (const DimSpec &dim : dims)
    count *= dim.size;
  return count;
}

std::vector<bool> BindingSpec::stackedDims() const {
  std::vector<bool> stacked(global.dims.size());
  for (size_t open = param.find('{'); open != std::string::npos;
       open = param.find('{', open + 1)) {
    const size_t close = param.find('}', open);
    const int dim = global.find(param.substr(open + 1, close - open - 1));
    if (dim >= 0)
      stacked[dim] = true;
  }
  return stacked;
}

std::string
BindingSpec::checkpointName(const std::vector<int64_t> &indices) const {
  std::string name;
  size_t at = 0;
  while (true) {
    const size_t open = param.find('{', at);
    if (open == std::string::npos)
      break;
    const size_t close = param.find('}', open);
    name += param.substr(at, open - at);
    absl::StrAppend(
        &name, indices[global.find(param.substr(open + 1, close - open - 1))]);
    at = close + 1;
  }
  return name + param.substr(at);
}

std::vector<std::pair<std::string, std::vector<int64_t>>>
BindingSpec::checkpointTensors() const {
  const std::vector<bool> stacked = stackedDims();
  std::vector<int64_t> shape;
  for (size_t d = 0; d < global.dims.size(); ++d)
    if (!stacked[d])
      shape.push_back(global.dims[d].size);
  std::vector<std::pair<std::string, std::vector<int64_t>>> tensors;
  // An odometer over the stacked dimensions.
  std::vector<int64_t> index(global.dims.size(), 0);
  while (true) {
    tensors.push_back({checkpointName(index), shape});
    int d = static_cast<int>(global.dims.size()) - 1;
    for (; d >= 0; --d) {
      if (!stacked[d])
        continue;
      if (++index[d] < global.dims[d].size)
        break;
      index[d] = 0;
    }
    if (d < 0)
      return tensors;
  }
}

TensorSpec TensorSpec::without(std::initializer_list<std::string> drop) const {
  TensorSpec result;
  result.dtype = dtype;
  for (const DimSpec &dim : dims)
    if (std::find(drop.begin(), drop.end(), dim.name) == drop.end())
      result.dims.push_back(dim);
  return result;
}

std::string TensorSpec::toString() const {
  std::vector<std::string> parts;
  for (const DimSpec &dim : dims)
    parts.push_back(absl::StrCat(dim.name, ":", dim.size));
  return absl::StrCat("[", absl::StrJoin(parts, ", "), "] ", dtypeName(dtype));
}

std::string opKindName(fb::OpKind kind) {
  static constexpr const char *kNames[] = {
      "einsum",     "unary",         "binary",
      "reduce",     "softmax",       "rms_norm",
      "cast",       "reshape",       "gather",
      "one_hot",    "cumsum",        "constant",
      "iota",       "route",         "dispatch",
      "combine",    "z_loss",        "load_balancing_loss",
      "all_reduce", "all_gather",    "all_slice",
      "all_to_all", "reduce_scatter"};
  const auto index = static_cast<size_t>(kind);
  return index < std::size(kNames) ? kNames[index] : "?";
}

std::string describeOp(const Program &program, int index) {
  const OpSpec &op = program.ops[index];
  std::string result = absl::StrCat("op ", index, " (", opKindName(op.kind));
  if (!op.location.empty())
    absl::StrAppend(&result, " at ", op.location);
  return result + ")";
}

namespace {

/// Collects the checks of one file and formats their errors.
class Loader {
public:
  explicit Loader(std::string origin) : origin_(std::move(origin)) {}

  absl::StatusOr<std::shared_ptr<Program>> load(const std::string &bytes);

private:
  absl::Status error(absl::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid executable '", origin_, "': ", message));
  }

  absl::StatusOr<DType> dtypeOf(fb::DType dtype, absl::string_view what) const;
  absl::StatusOr<TensorSpec> tensorType(const fb::TensorType *type,
                                        absl::string_view what,
                                        bool global) const;
  absl::Status loadValues(const fb::Program &root);
  absl::Status loadOps(const fb::Program &root);
  absl::StatusOr<BindingSpec> loadBinding(const fb::Binding *binding,
                                          absl::string_view what) const;

  std::string origin_;
  std::shared_ptr<Program> program_;
};

/// Sets BindingSpec::indexBound, indexDim and indexesGather of every
/// run-time input whose values reach the indices of a gather (the bound: the
/// gathered dimension) or of a one_hot (its depth, the result dimension the
/// indices lack) unchanged: through reshapes and collectives, which only
/// move them. The smallest bound wins.
void markIndexInputs(Program &program) {
  std::vector<int> producer(program.values.size(), -1);
  for (size_t i = 0; i < program.ops.size(); ++i)
    for (int result : program.ops[i].results)
      producer[result] = static_cast<int>(i);
  for (const OpSpec &op : program.ops) {
    int value = 0;
    DimSpec bound;
    if (op.kind == fb::OpKind::Gather) {
      value = op.operands[1];
      const TensorSpec &table = program.values[op.operands[0]].type;
      bound = table.dims[table.find(op.dim)];
    } else if (op.kind == fb::OpKind::OneHot) {
      value = op.operands[0];
      const TensorSpec &indices = program.values[value].type;
      for (const DimSpec &dim : program.values[op.results[0]].type.dims)
        if (indices.find(dim.name) < 0)
          bound = dim;
    } else {
      continue;
    }
    if (bound.size == 0) // An empty table or depth: nothing to bound.
      continue;
    while (producer[value] >= 0) {
      const OpSpec &source = program.ops[producer[value]];
      if (source.kind != fb::OpKind::Reshape &&
          source.kind != fb::OpKind::AllGather &&
          source.kind != fb::OpKind::AllSlice &&
          source.kind != fb::OpKind::AllToAll)
        break;
      value = source.operands[0];
    }
    for (BindingSpec &binding : program.inputs) {
      if (binding.isWeight() || binding.value != value)
        continue;
      if (binding.indexBound == 0 || bound.size < binding.indexBound) {
        binding.indexBound = bound.size;
        binding.indexDim = bound.name;
      }
      if (op.kind == fb::OpKind::Gather)
        binding.indexesGather = true;
    }
  }
}

std::string strOr(const flatbuffers::String *s) {
  return s ? s->str() : std::string();
}

absl::StatusOr<DType> Loader::dtypeOf(fb::DType dtype,
                                      absl::string_view what) const {
  switch (dtype) {
  case fb::DType::F32:
    return DType::F32;
  case fb::DType::BF16:
    return DType::BF16;
  case fb::DType::F16:
    return DType::F16;
  case fb::DType::I32:
    return DType::I32;
  case fb::DType::I1:
    return DType::Bool;
  }
  return error(absl::StrCat(what, ": unknown dtype ", static_cast<int>(dtype)));
}

absl::StatusOr<TensorSpec> Loader::tensorType(const fb::TensorType *type,
                                              absl::string_view what,
                                              bool global) const {
  if (!type)
    return error(absl::StrCat(what, " has no type"));
  TensorSpec spec;
  SY_ASSIGN_OR_RETURN(spec.dtype, dtypeOf(type->dtype(), what));
  std::set<std::string> names;
  if (type->dims()) {
    for (const fb::Dim *dim : *type->dims()) {
      DimSpec d;
      d.name = strOr(dim->name());
      d.size = dim->size();
      if (d.name.empty())
        return error(absl::StrCat(what, " has an unnamed dimension"));
      if (!names.insert(d.name).second)
        return error(
            absl::StrCat(what, " names dimension '", d.name, "' twice"));
      if (d.size < 0)
        return error(absl::StrCat(what, ": dimension '", d.name,
                                  "' has negative size ", d.size));
      if (dim->axes()) {
        if (!global)
          return error(absl::StrCat(what, ": a local type names mesh axes"));
        d.axes.assign(dim->axes()->begin(), dim->axes()->end());
      }
      spec.dims.push_back(std::move(d));
    }
  }
  if (!checkedNumElements(spec.shape(), spec.dtype).ok())
    return error(
        absl::StrCat(what, ": type ", spec.toString(), " is too large"));
  return spec;
}

absl::Status Loader::loadValues(const fb::Program &root) {
  if (!root.values())
    return absl::OkStatus();
  for (flatbuffers::uoffset_t i = 0; i < root.values()->size(); ++i) {
    const fb::Value *value = root.values()->Get(i);
    const std::string what = absl::StrCat("value ", i);
    ValueSpec spec;
    SY_ASSIGN_OR_RETURN(spec.type, tensorType(value->type(), what, false));
    spec.offset = value->offset();
    const int64_t bytes = spec.type.byteSize();
    if (spec.offset < 0 || spec.offset > program_->arenaBytes ||
        bytes > program_->arenaBytes - spec.offset)
      return error(absl::StrCat(what, " at offset ", spec.offset, " of ", bytes,
                                " bytes lies outside the arena of ",
                                program_->arenaBytes, " bytes"));
    if (spec.offset % executable::kArenaAlignment != 0)
      return error(absl::StrCat(what, " at offset ", spec.offset,
                                " is not aligned to ",
                                executable::kArenaAlignment, " bytes"));
    program_->values.push_back(std::move(spec));
  }
  return absl::OkStatus();
}

absl::Status Loader::loadOps(const fb::Program &root) {
  if (!root.ops())
    return absl::OkStatus();
  const int valueCount = static_cast<int>(program_->values.size());
  for (flatbuffers::uoffset_t i = 0; i < root.ops()->size(); ++i) {
    const fb::Op *op = root.ops()->Get(i);
    OpSpec spec;
    spec.kind = op->kind();
    if (spec.kind > fb::OpKind::MAX)
      return error(absl::StrCat("op ", i, " has unknown kind ",
                                static_cast<int>(spec.kind)));
    auto indices = [&](const flatbuffers::Vector<int32_t> *list,
                       std::vector<int> &out,
                       absl::string_view role) -> absl::Status {
      if (!list)
        return absl::OkStatus();
      for (int32_t index : *list) {
        if (index < 0 || index >= valueCount)
          return error(absl::StrCat("op ", i, " (", opKindName(spec.kind),
                                    "): ", role, " ", index,
                                    " is not a value index (the program has ",
                                    valueCount, " values)"));
        out.push_back(index);
      }
      return absl::OkStatus();
    };
    SY_RETURN_IF_ERROR(indices(op->operands(), spec.operands, "operand"));
    SY_RETURN_IF_ERROR(indices(op->results(), spec.results, "result"));
    spec.unary = op->unary();
    if (flatbuffers::Optional<fb::UnaryKind> epilogue = op->epilogue())
      spec.epilogue = *epilogue;
    spec.binary = op->binary();
    spec.reduce = op->reduce();
    spec.reduction = op->reduction();
    spec.dim = strOr(op->dim());
    spec.tokensDim = strOr(op->tokens_dim());
    spec.expertsDim = strOr(op->experts_dim());
    spec.capacityDim = strOr(op->capacity_dim());
    spec.capacity = op->capacity();
    spec.choicesDim = strOr(op->choices_dim());
    spec.gateNormalization = op->gate_normalization();
    spec.epsilon = op->epsilon();
    spec.exclusive = op->exclusive();
    if (op->constant())
      spec.constant.assign(op->constant()->begin(), op->constant()->end());
    if (op->grid_axes())
      spec.gridAxes.assign(op->grid_axes()->begin(), op->grid_axes()->end());
    spec.axis = op->axis();
    spec.concatAxis = op->concat_axis();
    spec.location = strOr(op->location());
    program_->ops.push_back(std::move(spec));
    if (absl::Status status = checkOpSignature(*program_, static_cast<int>(i));
        !status.ok())
      return error(status.message());
  }
  return absl::OkStatus();
}

absl::StatusOr<BindingSpec> Loader::loadBinding(const fb::Binding *binding,
                                                absl::string_view what) const {
  BindingSpec spec;
  spec.name = strOr(binding->name());
  spec.param = strOr(binding->param());
  spec.value = binding->value();
  const std::string where = absl::StrCat(what, " '", spec.name, "'");
  if (spec.name.empty())
    return error(absl::StrCat(what, " has no name"));
  if (spec.value < 0 || spec.value >= static_cast<int>(program_->values.size()))
    return error(
        absl::StrCat(where, ": value ", spec.value, " is not a value index"));
  SY_ASSIGN_OR_RETURN(spec.global,
                      tensorType(binding->global_type(), where, true));
  const TensorSpec &local = program_->values[spec.value].type;
  auto mismatch = [&](absl::string_view detail) {
    return error(absl::StrCat(where, ": global type ", spec.global.toString(),
                              " does not fit local type ", local.toString(),
                              ": ", detail));
  };
  if (spec.global.dtype != local.dtype)
    return mismatch("dtypes differ");
  if (spec.global.dims.size() != local.dims.size())
    return mismatch("ranks differ");
  std::vector<bool> used(program_->mesh.axisCount());
  for (size_t d = 0; d < local.dims.size(); ++d) {
    const DimSpec &g = spec.global.dims[d];
    if (g.name != local.dims[d].name)
      return mismatch(absl::StrCat("dimension ", d, " names differ"));
    int64_t parts = 1;
    for (int axis : g.axes) {
      if (axis < 0 || axis >= program_->mesh.axisCount())
        return mismatch(absl::StrCat("mesh axis ", axis, " does not exist"));
      if (used[axis])
        return mismatch(absl::StrCat("mesh axis ", axis, " is used twice"));
      used[axis] = true;
      parts *= program_->mesh.axisSizes()[axis];
    }
    if (g.size != local.dims[d].size * parts)
      return mismatch(absl::StrCat("dimension '", g.name, "' of ", g.size,
                                   " is not ", parts, " blocks of ",
                                   local.dims[d].size));
  }
  if (flatbuffers::Optional<int32_t> ignored = binding->ignored_index()) {
    if (what != "input" || spec.isWeight() || spec.global.dtype != DType::I32)
      return error(absl::StrCat(where, ": an ignored index (", *ignored,
                                ") belongs only to a run-time i32 input"));
    spec.ignoredIndex = *ignored;
  }
  if (spec.isWeight()) {
    // Every {placeholder} must name a dimension.
    for (size_t open = spec.param.find('{'); open != std::string::npos;
         open = spec.param.find('{', open + 1)) {
      const size_t close = spec.param.find('}', open);
      if (close == std::string::npos)
        return error(absl::StrCat(where, ": param '", spec.param,
                                  "' has an unclosed '{'"));
      const std::string dim = spec.param.substr(open + 1, close - open - 1);
      if (spec.global.find(dim) < 0)
        return error(absl::StrCat(where, ": param '", spec.param, "' names '{",
                                  dim, "}', which is not a dimension of ",
                                  spec.global.toString()));
    }
  }
  return spec;
}

absl::StatusOr<std::shared_ptr<Program>>
Loader::load(const std::string &bytes) {
  if (bytes.size() < 8 || !fb::ProgramBufferHasIdentifier(bytes.data()))
    return error(absl::StrCat("not a Switchyard executable (expected file "
                              "identifier '",
                              fb::ProgramIdentifier(), "')"));
  flatbuffers::Verifier verifier(
      reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  if (!fb::VerifyProgramBuffer(verifier))
    return error("the FlatBuffers verifier rejects the file (truncated or "
                 "corrupt)");
  const fb::Program &root = *fb::GetProgram(bytes.data());
  if (root.version() != executable::kFormatVersion)
    return error(absl::StrCat("format version ", root.version(),
                              " is not supported (expected ",
                              executable::kFormatVersion, ")"));
  program_ = std::make_shared<Program>();

  std::vector<int64_t> sizes;
  if (const fb::Mesh *mesh = root.mesh()) {
    const size_t names = mesh->axis_names() ? mesh->axis_names()->size() : 0;
    const size_t count = mesh->axis_sizes() ? mesh->axis_sizes()->size() : 0;
    if (names != count)
      return error(absl::StrCat("the mesh has ", names, " axis names but ",
                                count, " axis sizes"));
    // The FlatBuffers verifier checks a vector's length prefix, not that
    // 8-byte elements are 8-byte aligned; a writer always aligns them.
    if (count > 0 && reinterpret_cast<uintptr_t>(mesh->axis_sizes()->data()) %
                             alignof(int64_t) !=
                         0)
      return error("the mesh's axis sizes are misaligned (corrupt file)");
    std::set<std::string> seen;
    for (size_t a = 0; a < count; ++a) {
      std::string name = mesh->axis_names()->Get(a)->str();
      if (!seen.insert(name).second)
        return error(absl::StrCat("mesh axis '", name, "' is named twice"));
      program_->axisNames.push_back(std::move(name));
      sizes.push_back(mesh->axis_sizes()->Get(a));
    }
  }
  absl::StatusOr<Mesh> mesh = Mesh::create(sizes);
  if (!mesh.ok())
    return error(mesh.status().message());
  program_->mesh = *std::move(mesh);

  program_->arenaBytes = root.arena_bytes();
  if (program_->arenaBytes < 0)
    return error(absl::StrCat("negative arena size ", program_->arenaBytes));
  SY_RETURN_IF_ERROR(loadValues(root));
  SY_RETURN_IF_ERROR(loadOps(root));

  for (auto [list, out, what] :
       {std::tuple{root.inputs(), &program_->inputs, "input"},
        std::tuple{root.outputs(), &program_->outputs, "output"}}) {
    if (!list)
      continue;
    std::set<std::string> names;
    for (const fb::Binding *binding : *list) {
      SY_ASSIGN_OR_RETURN(BindingSpec spec, loadBinding(binding, what));
      if (!names.insert(spec.name).second)
        return error(absl::StrCat(what, " '", spec.name, "' is bound twice"));
      out->push_back(std::move(spec));
    }
  }
  markIndexInputs(*program_);
  return program_;
}

} // namespace

absl::StatusOr<Executable> Executable::loadBytes(std::string bytes,
                                                 const std::string &origin) {
  Loader loader(origin);
  SY_ASSIGN_OR_RETURN(std::shared_ptr<Program> program, loader.load(bytes));
  return Executable(std::move(program));
}

absl::StatusOr<Executable> Executable::loadFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(
        absl::StrCat("cannot open executable '", path, "'"));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad())
    return absl::DataLossError(
        absl::StrCat("cannot read executable '", path, "'"));
  return loadBytes(std::move(bytes).str(), path);
}

const Mesh &Executable::mesh() const { return program_->mesh; }
absl::Span<const std::string> Executable::axisNames() const {
  return program_->axisNames;
}
absl::Span<const BindingSpec> Executable::inputs() const {
  return program_->inputs;
}
absl::Span<const BindingSpec> Executable::outputs() const {
  return program_->outputs;
}
const TensorSpec &Executable::valueType(int index) const {
  return program_->values[index].type;
}
int Executable::valueCount() const {
  return static_cast<int>(program_->values.size());
}
int Executable::opCount() const {
  return static_cast<int>(program_->ops.size());
}
int64_t Executable::arenaBytes() const { return program_->arenaBytes; }

} // namespace switchyard::runtime
