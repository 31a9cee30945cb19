//===- ExecutableWriter.cpp - partitioned IR to an executable -------------===//
//
// Assigns each local tensor of the function a value (views share one), lays
// the values out in a per-device arena by liveness, and serializes the ops
// with FlatBuffers.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Compiler/ExecutableWriter.h"

#include "dialects/moe/MoeOps.h"
#include "dialects/mtf/MtfOps.h"
#include "switchyard/Executable/Executable_generated.h"
#include "switchyard/Executable/Format.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cstring>
#include <numeric>

using namespace mlir;
using namespace switchyard;
namespace exe = switchyard::executable;

namespace {

/// A tensor of the program: its names, local sizes and element type.
struct ValueInfo {
  SmallVector<std::string> dimNames;
  SmallVector<int64_t> sizes;
  Type elementType;
  /// First and last op index that touch it; arguments live throughout.
  int64_t firstUse = 0, lastUse = 0;
  bool resident = false;
  int64_t offset = 0;
  /// The IR value it holds, to name it in statistics.
  Value source;

  int64_t bytes() const {
    int64_t count = 1;
    for (int64_t size : sizes)
      count *= size;
    unsigned bits = elementType.getIntOrFloatBitWidth();
    return count * std::max(1u, bits / 8);
  }
};

/// An op of the program before serialization.
struct OpRecord {
  exe::OpKind kind;
  std::vector<int32_t> operands, results;
  exe::UnaryKind unary = exe::UnaryKind::Neg;
  std::optional<exe::UnaryKind> epilogue;
  exe::BinaryKind binary = exe::BinaryKind::Add;
  exe::ReduceKind reduce = exe::ReduceKind::Sum;
  exe::CollectiveReduction reduction = exe::CollectiveReduction::Sum;
  std::string dim, tokensDim, expertsDim, capacityDim, choicesDim, location;
  exe::GateNormalization gateNormalization = exe::GateNormalization::None;
  int64_t capacity = 0, axis = 0, concatAxis = 0;
  double epsilon = 0;
  bool exclusive = false;
  std::vector<uint8_t> constant;
  std::vector<int32_t> gridAxes;
};

FailureOr<exe::DType> dtypeOf(Type type, Operation *op) {
  if (type.isF32())
    return exe::DType::F32;
  if (type.isBF16())
    return exe::DType::BF16;
  if (type.isF16())
    return exe::DType::F16;
  if (type.isSignlessInteger(32))
    return exe::DType::I32;
  if (type.isSignlessInteger(1))
    return exe::DType::I1;
  return op->emitOpError() << "has element type " << type
                           << ", which executables cannot hold";
}

exe::CollectiveReduction reductionOf(shard::ReductionKind kind) {
  switch (kind) {
  case shard::ReductionKind::Average:
    return exe::CollectiveReduction::Average;
  case shard::ReductionKind::Max:
    return exe::CollectiveReduction::Max;
  case shard::ReductionKind::Min:
    return exe::CollectiveReduction::Min;
  default:
    return exe::CollectiveReduction::Sum;
  }
}

/// Little-endian bytes of every element of `value`, splats expanded; i1 as
/// one byte per element.
std::vector<uint8_t> constantBytes(DenseElementsAttr value) {
  std::vector<uint8_t> bytes;
  Type type = value.getElementType();
  if (type.isInteger(1)) {
    for (bool bit : value.getValues<bool>())
      bytes.push_back(bit);
    return bytes;
  }
  unsigned width = type.getIntOrFloatBitWidth() / 8;
  int64_t count = value.getNumElements();
  ArrayRef<char> raw = value.getRawData();
  bytes.resize(count * width);
  if (!value.isSplat()) {
    std::memcpy(bytes.data(), raw.data(), count * width);
    return bytes;
  }
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(bytes.data() + i * width, raw.data(), width);
  return bytes;
}

class Writer {
public:
  /// Without `serialize`, write() only plans the buffers and fills the
  /// statistics, and returns an empty string.
  Writer(ModuleOp module, func::FuncOp function, bool serialize)
      : module(module), function(function), serialize(serialize) {}

  FailureOr<std::string> write(ExecutableStats *stats);

private:
  /// The value index of `value`, following views to the tensor they show.
  int32_t indexOf(Value value) { return valueIndex.lookup(resolve(value)); }
  Value resolve(Value value);
  /// "weight 'name'", "input 'name'" or "mtf.einsum at file.mlir:12:5".
  void describeOrigin(Value value, raw_ostream &os);
  LogicalResult addValue(Value value, ArrayRef<std::string> names);
  /// Names of the dimensions of a builtin tensor on the path of a reshard,
  /// taken from the named tensor it views.
  FailureOr<SmallVector<std::string>> namesOf(Value value, Operation *user);
  FailureOr<OpRecord> lower(Operation *op);
  /// Assigns every value its arena offset; returns the arena's bytes.
  int64_t planBuffers();
  void countCollective(const OpRecord &record, ExecutableStats *stats);
  void fillStats(int64_t arena, ExecutableStats *stats);

  ModuleOp module;
  func::FuncOp function;
  bool serialize;
  mtf::MeshAttr mesh;
  DenseMap<Value, int32_t> valueIndex;
  DenseMap<Value, Value> viewOf;
  std::vector<ValueInfo> values;
  std::vector<OpRecord> ops;
};

Value Writer::resolve(Value value) {
  while (Value base = viewOf.lookup(value))
    value = base;
  return value;
}

LogicalResult Writer::addValue(Value value, ArrayRef<std::string> names) {
  auto shaped = dyn_cast<ShapedType>(value.getType());
  ValueInfo info;
  if (auto named = dyn_cast<mtf::NamedTensorType>(value.getType())) {
    for (mtf::DimAttr dim : named.getDims()) {
      info.dimNames.push_back(dim.getName().str());
      info.sizes.push_back(dim.getSize());
    }
    info.elementType = named.getElementType();
  } else if (shaped && shaped.hasStaticShape()) {
    info.dimNames.assign(names.begin(), names.end());
    info.sizes.assign(shaped.getShape().begin(), shaped.getShape().end());
    info.elementType = shaped.getElementType();
  } else {
    return emitError(value.getLoc()) << "value of type " << value.getType()
                                     << " cannot be held by an executable";
  }
  info.source = value;
  valueIndex[value] = values.size();
  values.push_back(std::move(info));
  return success();
}

FailureOr<SmallVector<std::string>> Writer::namesOf(Value value,
                                                    Operation *user) {
  Value base = resolve(value);
  auto it = valueIndex.find(base);
  if (it == valueIndex.end())
    return user->emitOpError() << "uses a value with no known dimensions";
  return values[it->second].dimNames;
}

FailureOr<OpRecord> Writer::lower(Operation *op) {
  OpRecord record;
  auto gridAxes = [](ArrayRef<int16_t> axes) {
    return std::vector<int32_t>(axes.begin(), axes.end());
  };
  LogicalResult lowered =
      TypeSwitch<Operation *, LogicalResult>(op)
          .Case([&](mtf::EinsumOp einsum) {
            record.kind = exe::OpKind::Einsum;
            if (std::optional<mtf::UnaryKind> epilogue = einsum.getEpilogue())
              record.epilogue = static_cast<exe::UnaryKind>(*epilogue);
            return success();
          })
          .Case([&](mtf::UnaryOp unary) {
            record.kind = exe::OpKind::Unary;
            record.unary = static_cast<exe::UnaryKind>(unary.getKind());
            return success();
          })
          .Case([&](mtf::BinaryOp binary) {
            record.kind = exe::OpKind::Binary;
            record.binary = static_cast<exe::BinaryKind>(binary.getKind());
            return success();
          })
          .Case([&](mtf::ReduceOp reduce) {
            record.kind = exe::OpKind::Reduce;
            record.reduce = static_cast<exe::ReduceKind>(reduce.getKind());
            return success();
          })
          .Case([&](mtf::SoftmaxOp softmax) {
            record.kind = exe::OpKind::Softmax;
            record.dim = softmax.getDim().str();
            return success();
          })
          .Case([&](mtf::RmsNormOp norm) {
            record.kind = exe::OpKind::RmsNorm;
            record.dim = norm.getDim().str();
            record.epsilon = norm.getEpsilon().convertToDouble();
            return success();
          })
          .Case([&](mtf::CastOp) {
            record.kind = exe::OpKind::Cast;
            return success();
          })
          .Case([&](mtf::ReshapeOp) {
            record.kind = exe::OpKind::Reshape;
            return success();
          })
          .Case([&](mtf::GatherOp gather) {
            record.kind = exe::OpKind::Gather;
            record.dim = gather.getDim().str();
            return success();
          })
          .Case([&](mtf::OneHotOp) {
            record.kind = exe::OpKind::OneHot;
            return success();
          })
          .Case([&](mtf::CumsumOp cumsum) {
            record.kind = exe::OpKind::Cumsum;
            record.dim = cumsum.getDim().str();
            record.exclusive = cumsum.getExclusive();
            return success();
          })
          .Case([&](mtf::ConstantOp constant) -> LogicalResult {
            auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
            if (!dense)
              return op->emitOpError() << "needs a dense value to be lowered";
            record.kind = exe::OpKind::Constant;
            if (serialize)
              record.constant = constantBytes(dense);
            return success();
          })
          .Case([&](mtf::IotaOp iota) {
            record.kind = exe::OpKind::Iota;
            record.dim = iota.getDim().str();
            return success();
          })
          .Case([&](moe::RouteOp route) {
            record.kind = exe::OpKind::Route;
            record.tokensDim = route.getTokensDim().str();
            record.expertsDim = route.getExpertsDim().str();
            record.capacity = route.getExpertCapacity();
            record.choicesDim = route.getChoicesDim().value_or("").str();
            if (std::optional<moe::GateNormalization> normalize =
                    route.getNormalize())
              record.gateNormalization =
                  *normalize == moe::GateNormalization::before_drops
                      ? exe::GateNormalization::BeforeDrops
                      : exe::GateNormalization::AfterDrops;
            return success();
          })
          .Case<moe::DispatchOp, moe::CombineOp>([&](auto typed) {
            record.kind = std::is_same_v<decltype(typed), moe::DispatchOp>
                              ? exe::OpKind::Dispatch
                              : exe::OpKind::Combine;
            record.tokensDim = typed.getTokensDim().str();
            record.expertsDim = typed.getExpertsDim().str();
            record.capacityDim = typed.getCapacityDim().str();
            record.choicesDim = typed.getChoicesDim().value_or("").str();
            return success();
          })
          .Case([&](moe::ZLossOp loss) {
            record.kind = exe::OpKind::ZLoss;
            record.expertsDim = loss.getExpertsDim().str();
            return success();
          })
          .Case([&](moe::LoadBalancingLossOp loss) {
            record.kind = exe::OpKind::LoadBalancingLoss;
            record.tokensDim = loss.getTokensDim().str();
            record.expertsDim = loss.getExpertsDim().str();
            return success();
          })
          .Case([&](shard::AllReduceOp reduce) {
            record.kind = exe::OpKind::AllReduce;
            record.reduction = reductionOf(reduce.getReduction());
            record.gridAxes = gridAxes(reduce.getGridAxes());
            return success();
          })
          .Case([&](shard::ReduceScatterOp scatter) {
            record.kind = exe::OpKind::ReduceScatter;
            record.reduction = reductionOf(scatter.getReduction());
            record.gridAxes = gridAxes(scatter.getGridAxes());
            record.axis = scatter.getScatterAxis().getSExtValue();
            return success();
          })
          .Case([&](shard::AllGatherOp gather) {
            record.kind = exe::OpKind::AllGather;
            record.gridAxes = gridAxes(gather.getGridAxes());
            record.axis = gather.getGatherAxis().getSExtValue();
            return success();
          })
          .Case([&](shard::AllSliceOp slice) {
            record.kind = exe::OpKind::AllSlice;
            record.gridAxes = gridAxes(slice.getGridAxes());
            record.axis = slice.getSliceAxis().getSExtValue();
            return success();
          })
          .Case([&](shard::AllToAllOp allToAll) {
            record.kind = exe::OpKind::AllToAll;
            record.gridAxes = gridAxes(allToAll.getGridAxes());
            record.axis = allToAll.getSplitAxis().getSExtValue();
            record.concatAxis = allToAll.getConcatAxis().getSExtValue();
            return success();
          })
          .Default([&](Operation *op) {
            return op->emitOpError()
                   << "cannot be lowered to an executable; compile a module "
                      "partitioned by the switchyard-partition pipeline";
          });
  if (failed(lowered))
    return failure();
  // Only the file records locations; printing them is a good part of the
  // time planExecutable takes.
  if (serialize) {
    llvm::raw_string_ostream os(record.location);
    op->getLoc().print(os);
  }
  return record;
}

int64_t Writer::planBuffers() {
  // Largest first, each at the lowest offset free during its lifetime.
  auto align = [](int64_t bytes) {
    return (bytes + exe::kArenaAlignment - 1) / exe::kArenaAlignment *
           exe::kArenaAlignment;
  };
  SmallVector<int64_t> sizes;
  for (const ValueInfo &value : values)
    sizes.push_back(align(value.bytes()));
  SmallVector<int32_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::stable_sort(order,
                    [&](int32_t a, int32_t b) { return sizes[a] > sizes[b]; });
  // The values placed so far, by (offset, end).
  SmallVector<std::pair<int64_t, int64_t>> placedExtents;
  SmallVector<int32_t> placed;
  int64_t arena = 0;
  for (int32_t index : order) {
    ValueInfo &value = values[index];
    int64_t offset = 0;
    for (auto [position, other] : llvm::enumerate(placed)) {
      const ValueInfo &o = values[other];
      if (o.firstUse > value.lastUse || value.firstUse > o.lastUse)
        continue;
      auto [begin, end] = placedExtents[position];
      if (offset + sizes[index] <= begin)
        break;
      offset = std::max(offset, end);
    }
    value.offset = offset;
    arena = std::max(arena, offset + sizes[index]);
    std::pair<int64_t, int64_t> extent = {offset, offset + sizes[index]};
    size_t at = llvm::upper_bound(placedExtents, extent) - placedExtents.begin();
    placedExtents.insert(placedExtents.begin() + at, extent);
    placed.insert(placed.begin() + at, index);
  }
  return arena;
}

void Writer::countCollective(const OpRecord &record, ExecutableStats *stats) {
  StringRef name;
  switch (record.kind) {
  case exe::OpKind::AllReduce:
    name = "all_reduce";
    break;
  case exe::OpKind::ReduceScatter:
    name = "reduce_scatter";
    break;
  case exe::OpKind::AllGather:
    name = "all_gather";
    break;
  case exe::OpKind::AllSlice:
    name = "all_slice";
    break;
  case exe::OpKind::AllToAll:
    name = "all_to_all";
    break;
  default:
    return;
  }
  int64_t group = 1;
  for (int32_t axis : record.gridAxes)
    group *= mesh.getAxisSizes()[axis];
  int64_t in = values[record.operands[0]].bytes();
  int64_t out = values[record.results[0]].bytes();
  int64_t sent = 0;
  if (record.kind == exe::OpKind::AllReduce)
    sent = 2 * in * (group - 1) / group;
  else if (record.kind == exe::OpKind::AllGather)
    sent = out * (group - 1) / group;
  else if (record.kind != exe::OpKind::AllSlice)
    sent = in * (group - 1) / group;
  auto &entry = stats->collectives[name];
  entry.first += 1;
  entry.second += sent;
}

void Writer::describeOrigin(Value value, raw_ostream &os) {
  if (auto argument = dyn_cast<BlockArgument>(value)) {
    unsigned number = argument.getArgNumber();
    if (auto param = function.getArgAttrOfType<StringAttr>(
            number, mtf::MtfDialect::kParamAttrName))
      os << "weight '" << param.getValue() << "'";
    else if (auto name = function.getArgAttrOfType<StringAttr>(
                 number, mtf::MtfDialect::kNameAttrName))
      os << "input '" << name.getValue() << "'";
    else
      os << "argument " << number;
    return;
  }
  Operation *op = value.getDefiningOp();
  os << op->getName() << " at ";
  if (auto file = op->getLoc()->findInstanceOf<FileLineColLoc>())
    os << llvm::sys::path::filename(file.getFilename().getValue()) << ':'
       << file.getLine() << ':' << file.getColumn();
  else
    op->getLoc().print(os);
}

void Writer::fillStats(int64_t arena, ExecutableStats *stats) {
  stats->numOps = ops.size();
  stats->numValues = values.size();
  stats->arenaBytes = arena;
  for (const ValueInfo &value : values) {
    stats->unplannedBytes += value.bytes();
    if (value.resident)
      stats->residentBytes += value.bytes();
  }
  for (const OpRecord &record : ops)
    countCollective(record, stats);
  SmallVector<int32_t> bySize(values.size());
  std::iota(bySize.begin(), bySize.end(), 0);
  llvm::stable_sort(bySize, [&](int32_t a, int32_t b) {
    return values[a].bytes() > values[b].bytes();
  });
  for (int32_t index : ArrayRef(bySize).take_front(5)) {
    std::string description;
    llvm::raw_string_ostream os(description);
    describeOrigin(values[index].source, os);
    os << " [";
    llvm::interleaveComma(
        llvm::zip(values[index].dimNames, values[index].sizes), os,
        [&](auto dim) { os << std::get<0>(dim) << ':' << std::get<1>(dim); });
    os << "] " << values[index].elementType;
    stats->largestValues.push_back({description, values[index].bytes()});
  }
}

FailureOr<std::string> Writer::write(ExecutableStats *stats) {
  mesh = module->getAttrOfType<mtf::MeshAttr>(mtf::MtfDialect::kMeshAttrName);
  if (!mesh)
    return module.emitError() << "an executable needs the module's '"
                              << mtf::MtfDialect::kMeshAttrName << "'";
  if (!function.getBody().hasOneBlock())
    return function.emitOpError() << "must have a single block";
  Block &body = function.getBody().front();

  for (BlockArgument argument : body.getArguments()) {
    if (failed(addValue(argument, {})))
      return failure();
    values.back().resident = true;
  }
  int64_t opIndex = 0;
  func::ReturnOp ret;
  for (Operation &op : body) {
    ++opIndex;
    if ((ret = dyn_cast<func::ReturnOp>(op)))
      break;
    // Views and identity relayouts name an existing value.
    if (isa<mtf::AsTensorOp, mtf::AsNamedOp, mtf::RelayoutOp>(op)) {
      if (op.getOperand(0).getType() != op.getResult(0).getType() &&
          isa<mtf::RelayoutOp>(op))
        return op.emitOpError() << "changes a layout; partition the module first";
      viewOf[op.getResult(0)] = op.getOperand(0);
      continue;
    }
    FailureOr<OpRecord> record = lower(&op);
    if (failed(record))
      return failure();
    for (Value operand : op.getOperands()) {
      Value base = resolve(operand);
      auto it = valueIndex.find(base);
      if (it == valueIndex.end())
        return op.emitOpError() << "uses a value the executable does not hold";
      record->operands.push_back(it->second);
      values[it->second].lastUse = opIndex;
    }
    for (Value result : op.getResults()) {
      // Collectives keep the dimension names of their operand.
      SmallVector<std::string> names;
      if (isa<RankedTensorType>(result.getType())) {
        FailureOr<SmallVector<std::string>> known =
            namesOf(op.getOperand(0), &op);
        if (failed(known))
          return failure();
        names = *known;
      }
      if (failed(addValue(result, names)))
        return failure();
      values.back().firstUse = values.back().lastUse = opIndex;
      record->results.push_back(values.size() - 1);
    }
    ops.push_back(std::move(*record));
  }
  if (!ret)
    return function.emitOpError() << "has no return";
  int64_t end = opIndex + 1;
  for (ValueInfo &value : values)
    if (value.resident)
      value.lastUse = end;
  for (Value operand : ret.getOperands())
    values[indexOf(operand)].lastUse = end;

  int64_t arena = planBuffers();
  if (stats)
    fillStats(arena, stats);
  if (!serialize)
    return std::string();

  flatbuffers::FlatBufferBuilder builder;
  auto typeOf = [&](const ValueInfo &value,
                    mtf::NamedTensorType global) -> FailureOr<flatbuffers::Offset<exe::TensorType>> {
    FailureOr<exe::DType> dtype = dtypeOf(value.elementType, function);
    if (failed(dtype))
      return failure();
    std::vector<flatbuffers::Offset<exe::Dim>> dims;
    if (global) {
      for (mtf::DimAttr dim : global.getDims()) {
        std::vector<int32_t> axes;
        for (StringAttr axis : dim.getAxes())
          axes.push_back(llvm::find(mesh.getAxisNames(), axis) -
                         mesh.getAxisNames().begin());
        dims.push_back(exe::CreateDimDirect(builder, dim.getName().str().c_str(),
                                            dim.getSize(), &axes));
      }
    } else {
      for (auto [name, size] : llvm::zip(value.dimNames, value.sizes))
        dims.push_back(exe::CreateDimDirect(builder, name.c_str(), size));
    }
    return exe::CreateTensorTypeDirect(builder, &dims, *dtype);
  };

  std::vector<flatbuffers::Offset<exe::Value>> valueTables;
  for (const ValueInfo &value : values) {
    auto type = typeOf(value, {});
    if (failed(type))
      return failure();
    valueTables.push_back(exe::CreateValue(builder, *type, value.offset));
  }
  std::vector<flatbuffers::Offset<exe::Op>> opTables;
  for (const OpRecord &r : ops)
    opTables.push_back(exe::CreateOpDirect(
        builder, r.kind, &r.operands, &r.results, r.unary, r.binary, r.reduce,
        r.reduction, r.dim.empty() ? nullptr : r.dim.c_str(),
        r.tokensDim.empty() ? nullptr : r.tokensDim.c_str(),
        r.expertsDim.empty() ? nullptr : r.expertsDim.c_str(),
        r.capacityDim.empty() ? nullptr : r.capacityDim.c_str(), r.capacity,
        r.epsilon, r.exclusive, r.constant.empty() ? nullptr : &r.constant,
        r.gridAxes.empty() ? nullptr : &r.gridAxes, r.axis, r.concatAxis,
        r.location.c_str(),
        r.epilogue ? flatbuffers::Optional<exe::UnaryKind>(*r.epilogue)
                   : flatbuffers::nullopt,
        r.choicesDim.empty() ? nullptr : r.choicesDim.c_str(),
        r.gateNormalization));

  auto binding = [&](Value value, DictionaryAttr attrs, std::string fallback)
      -> FailureOr<flatbuffers::Offset<exe::Binding>> {
    auto getString = [&](StringRef name) -> std::string {
      if (!attrs)
        return "";
      auto attr = attrs.getAs<StringAttr>(name);
      return attr ? attr.str() : "";
    };
    std::string name = getString(mtf::MtfDialect::kNameAttrName);
    if (name.empty())
      name = fallback;
    mtf::NamedTensorType global;
    if (attrs)
      if (auto typeAttr =
              attrs.getAs<TypeAttr>(mtf::MtfDialect::kGlobalAttrName))
        global = dyn_cast<mtf::NamedTensorType>(typeAttr.getValue());
    int32_t index = indexOf(value);
    if (!global)
      global = dyn_cast<mtf::NamedTensorType>(value.getType());
    auto type = typeOf(values[index], global);
    if (failed(type))
      return failure();
    std::string param = getString(mtf::MtfDialect::kParamAttrName);
    flatbuffers::Optional<int32_t> ignoredIndex = flatbuffers::nullopt;
    if (attrs)
      if (auto ignored =
              attrs.getAs<IntegerAttr>(mtf::MtfDialect::kIgnoredIndexAttrName))
        ignoredIndex = static_cast<int32_t>(ignored.getInt());
    return exe::CreateBindingDirect(builder, name.c_str(), index, *type,
                                    param.empty() ? nullptr : param.c_str(),
                                    ignoredIndex);
  };
  std::vector<flatbuffers::Offset<exe::Binding>> inputs, outputs;
  for (BlockArgument argument : body.getArguments()) {
    auto b = binding(argument, function.getArgAttrDict(argument.getArgNumber()),
                     "arg" + std::to_string(argument.getArgNumber()));
    if (failed(b))
      return failure();
    inputs.push_back(*b);
  }
  for (auto [index, operand] : llvm::enumerate(ret.getOperands())) {
    auto b = binding(operand, function.getResultAttrDict(index),
                     "result" + std::to_string(index));
    if (failed(b))
      return failure();
    outputs.push_back(*b);
  }
  std::vector<flatbuffers::Offset<flatbuffers::String>> axisNames;
  for (StringAttr axis : mesh.getAxisNames())
    axisNames.push_back(builder.CreateString(axis.str()));
  std::vector<int64_t> axisSizes(mesh.getAxisSizes().begin(),
                                 mesh.getAxisSizes().end());
  auto meshTable = exe::CreateMeshDirect(builder, &axisNames, &axisSizes);
  auto program = exe::CreateProgramDirect(builder, exe::kFormatVersion,
                                          meshTable, &valueTables, &opTables,
                                          &inputs, &outputs, arena);
  exe::FinishProgramBuffer(builder, program);

  return std::string(reinterpret_cast<const char *>(builder.GetBufferPointer()),
                     builder.GetSize());
}

} // namespace

FailureOr<std::string> switchyard::writeExecutable(ModuleOp module,
                                                   func::FuncOp function,
                                                   ExecutableStats *stats) {
  return Writer(module, function, /*serialize=*/true).write(stats);
}

FailureOr<ExecutableStats> switchyard::planExecutable(ModuleOp module,
                                                     func::FuncOp function) {
  ExecutableStats stats;
  if (failed(Writer(module, function, /*serialize=*/false).write(&stats)))
    return failure();
  return stats;
}
