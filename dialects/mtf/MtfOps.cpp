//===- MtfOps.cpp - mtf op verifiers and helpers --------------------------===//

#include "dialects/mtf/MtfOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetOperations.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace switchyard::mtf;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

ParseResult switchyard::mtf::parseDimName(OpAsmParser &parser,
                                          StringAttr &dim) {
  std::string name;
  if (parser.parseKeywordOrString(&name))
    return failure();
  dim = parser.getBuilder().getStringAttr(name);
  return success();
}

void switchyard::mtf::printDimName(OpAsmPrinter &printer, Operation *,
                                   StringAttr dim) {
  printer.printKeywordOrString(dim.getValue());
}

LogicalResult switchyard::mtf::verifyLayoutsOnMesh(Operation *op) {
  MeshAttr mesh;
  bool meshLooked = false;
  for (Type type : llvm::concat<const Type>(op->getOperandTypes(),
                                            op->getResultTypes())) {
    auto tensor = dyn_cast<NamedTensorType>(type);
    if (!tensor || !tensor.isLaidOut())
      continue;
    if (!meshLooked) {
      mesh = getEnclosingMesh(op);
      meshLooked = true;
    }
    if (failed(verifyTypeOnMesh(tensor, mesh,
                                [&] { return op->emitOpError(); })))
      return failure();
  }
  return success();
}

LogicalResult switchyard::mtf::verifyHasDim(Operation *op, NamedTensorType type,
                                            StringRef dim, StringRef what) {
  if (type.hasDim(dim))
    return success();
  return op->emitOpError() << what << " has no dimension '" << dim << "'";
}

LogicalResult
switchyard::mtf::verifyConsistentSizes(Operation *op,
                                       ArrayRef<NamedTensorType> types) {
  llvm::StringMap<int64_t> sizes;
  for (NamedTensorType type : types)
    for (DimAttr dim : type.getDims()) {
      auto [it, inserted] =
          sizes.try_emplace(dim.getName().getValue(), dim.getSize());
      if (!inserted && it->second != dim.getSize())
        return op->emitOpError()
               << "dimension '" << dim.getName().getValue()
               << "' has size " << it->second << " in one tensor and "
               << dim.getSize() << " in another";
    }
  return success();
}

namespace {

/// Names of the dimensions of `type`.
llvm::SmallSetVector<StringAttr, 8> dimNames(NamedTensorType type) {
  llvm::SmallSetVector<StringAttr, 8> names;
  for (DimAttr dim : type.getDims())
    names.insert(dim.getName());
  return names;
}

/// Joins names for a diagnostic: "batch, d_model".
std::string joinNames(ArrayRef<StringAttr> names) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(names, os,
                        [&](StringAttr name) { os << name.getValue(); });
  return text;
}

/// Emits an error unless every type has `elementType`.
LogicalResult verifySameElementType(Operation *op, Type elementType,
                                    ArrayRef<NamedTensorType> types) {
  for (NamedTensorType type : types)
    if (type.getElementType() != elementType)
      return op->emitOpError()
             << "expects every tensor to have element type " << elementType
             << ", got " << type.getElementType();
  return success();
}

bool isFloat(NamedTensorType type) {
  return isa<FloatType>(type.getElementType());
}

} // namespace

//===----------------------------------------------------------------------===//
// EinsumOp
//===----------------------------------------------------------------------===//

LogicalResult EinsumOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "expects at least one operand";
  auto result = cast<NamedTensorType>(getResult().getType());
  SmallVector<NamedTensorType> types = llvm::map_to_vector(
      getInputs().getTypes(), [](Type type) { return cast<NamedTensorType>(type); });
  types.push_back(result);
  if (failed(verifySameElementType(*this, result.getElementType(), types)) ||
      failed(verifyConsistentSizes(*this, types)))
    return failure();
  for (DimAttr dim : result.getDims())
    if (llvm::none_of(ArrayRef(types).drop_back(), [&](NamedTensorType input) {
          return input.hasDim(dim.getName().getValue());
        }))
      return emitOpError() << "result dimension '" << dim.getName().getValue()
                           << "' appears in no operand";
  if (std::optional<UnaryKind> epilogue = getEpilogue();
      epilogue && !isEpilogueActivation(*epilogue))
    return emitOpError() << "epilogue must be an activation (relu, gelu, "
                            "gelu_tanh or silu), got '"
                         << stringifyUnaryKind(*epilogue) << "'";
  return success();
}

bool EinsumOp::isEpilogueActivation(UnaryKind kind) {
  return kind == UnaryKind::relu || kind == UnaryKind::gelu ||
         kind == UnaryKind::gelu_tanh || kind == UnaryKind::silu;
}

SmallVector<StringAttr> EinsumOp::getContractedDims() {
  auto result = cast<NamedTensorType>(getResult().getType());
  llvm::SmallSetVector<StringAttr, 8> contracted;
  for (Type type : getInputs().getTypes())
    for (DimAttr dim : cast<NamedTensorType>(type).getDims())
      if (!result.hasDim(dim.getName().getValue()))
        contracted.insert(dim.getName());
  return contracted.takeVector();
}

//===----------------------------------------------------------------------===//
// UnaryOp, BinaryOp, ReduceOp
//===----------------------------------------------------------------------===//

LogicalResult UnaryOp::verify() {
  auto type = cast<NamedTensorType>(getResult().getType());
  if (isFloat(type))
    return success();
  bool integerKind = getKind() == UnaryKind::neg ||
                     getKind() == UnaryKind::abs ||
                     getKind() == UnaryKind::square;
  if (type.getElementType().isSignlessInteger(32) && integerKind)
    return success();
  return emitOpError() << "'" << stringifyUnaryKind(getKind())
                       << "' is not defined on element type "
                       << type.getElementType();
}

LogicalResult BinaryOp::verify() {
  auto lhs = cast<NamedTensorType>(getLhs().getType());
  auto rhs = cast<NamedTensorType>(getRhs().getType());
  auto result = cast<NamedTensorType>(getResult().getType());
  if (failed(verifySameElementType(*this, result.getElementType(), {lhs, rhs})) ||
      failed(verifyConsistentSizes(*this, {lhs, rhs, result})))
    return failure();
  if (result.getElementType().isInteger(1))
    return emitOpError() << "is not defined on i1 tensors";
  if (getKind() == BinaryKind::pow && !isFloat(result))
    return emitOpError() << "'pow' needs a floating-point element type";
  llvm::SmallSetVector<StringAttr, 8> expected = dimNames(lhs);
  expected.insert_range(dimNames(rhs));
  llvm::SmallSetVector<StringAttr, 8> actual = dimNames(result);
  if (!llvm::set_is_subset(expected, actual) ||
      expected.size() != actual.size())
    return emitOpError() << "result dimensions must be the union of the "
                            "operands' dimensions ("
                         << joinNames(expected.getArrayRef()) << "), got ("
                         << joinNames(actual.getArrayRef()) << ")";
  return success();
}

LogicalResult ReduceOp::verify() {
  auto input = cast<NamedTensorType>(getInput().getType());
  auto result = cast<NamedTensorType>(getResult().getType());
  if (failed(verifySameElementType(*this, input.getElementType(), {result})) ||
      failed(verifyConsistentSizes(*this, {input, result})))
    return failure();
  for (DimAttr dim : result.getDims())
    if (failed(verifyHasDim(*this, input, dim.getName().getValue(), "input")))
      return failure();
  if (getKind() == ReduceKind::mean && !isFloat(input))
    return emitOpError() << "'mean' needs a floating-point element type";
  if (input.getElementType().isInteger(1))
    return emitOpError() << "is not defined on i1 tensors";
  return success();
}

SmallVector<StringAttr> ReduceOp::getReducedDims() {
  auto result = cast<NamedTensorType>(getResult().getType());
  SmallVector<StringAttr> reduced;
  for (DimAttr dim : cast<NamedTensorType>(getInput().getType()).getDims())
    if (!result.hasDim(dim.getName().getValue()))
      reduced.push_back(dim.getName());
  return reduced;
}

//===----------------------------------------------------------------------===//
// SoftmaxOp, RmsNormOp, CumsumOp, IotaOp
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::verify() {
  return verifyHasDim(*this, cast<NamedTensorType>(getInput().getType()), getDim(),
                      "input");
}

LogicalResult RmsNormOp::verify() {
  auto input = cast<NamedTensorType>(getInput().getType());
  auto scale = cast<NamedTensorType>(getScale().getType());
  if (failed(verifyHasDim(*this, input, getDim(), "input")))
    return failure();
  if (scale.getRank() != 1 || scale.getDims()[0].getName() != getDimAttr())
    return emitOpError() << "scale must have exactly the dimension '"
                         << getDim() << "', got " << scale;
  if (failed(verifyConsistentSizes(*this, {input, scale})))
    return failure();
  if (getEpsilon().convertToDouble() < 0)
    return emitOpError() << "epsilon must be non-negative";
  return success();
}

LogicalResult CumsumOp::verify() {
  auto input = cast<NamedTensorType>(getInput().getType());
  if (input.getElementType().isInteger(1))
    return emitOpError() << "is not defined on i1 tensors";
  return verifyHasDim(*this, input, getDim(), "input");
}

LogicalResult IotaOp::verify() {
  auto result = cast<NamedTensorType>(getResult().getType());
  if (result.getElementType().isInteger(1))
    return emitOpError() << "cannot produce i1 positions";
  return verifyHasDim(*this, result, getDim(), "result");
}

//===----------------------------------------------------------------------===//
// CastOp, ReshapeOp
//===----------------------------------------------------------------------===//

LogicalResult CastOp::verify() {
  auto input = cast<NamedTensorType>(getInput().getType());
  auto result = cast<NamedTensorType>(getResult().getType());
  if (input.getDims() != result.getDims())
    return emitOpError() << "must keep the dimensions and their layout, got "
                         << input << " and " << result;
  return success();
}

LogicalResult RelayoutOp::verify() {
  auto input = cast<NamedTensorType>(getInput().getType());
  auto result = cast<NamedTensorType>(getResult().getType());
  if (input.withoutLayout() != result.withoutLayout())
    return emitOpError() << "may change only the layout, got " << input
                         << " and " << result;
  return success();
}

OpFoldResult RelayoutOp::fold(FoldAdaptor) {
  if (getInput().getType() == getResult().getType())
    return getInput();
  return {};
}

LogicalResult ReshapeOp::verify() {
  auto input = cast<NamedTensorType>(getInput().getType());
  auto result = cast<NamedTensorType>(getResult().getType());
  if (failed(verifySameElementType(*this, input.getElementType(), {result})))
    return failure();
  if (input.getNumElements() != result.getNumElements())
    return emitOpError() << "must keep the number of elements, got "
                         << input.getNumElements() << " and "
                         << result.getNumElements();
  return success();
}

//===----------------------------------------------------------------------===//
// GatherOp, OneHotOp
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::verify() {
  auto table = cast<NamedTensorType>(getTable().getType());
  auto indices = cast<NamedTensorType>(getIndices().getType());
  auto result = cast<NamedTensorType>(getResult().getType());
  if (failed(verifyHasDim(*this, table, getDim(), "table")) ||
      failed(verifySameElementType(*this, table.getElementType(), {result})) ||
      failed(verifyConsistentSizes(*this, {table, indices, result})))
    return failure();
  llvm::SmallSetVector<StringAttr, 8> expected = dimNames(indices);
  for (DimAttr dim : table.getDims()) {
    if (dim.getName() == getDimAttr())
      continue;
    if (!expected.insert(dim.getName()))
      return emitOpError() << "dimension '" << dim.getName().getValue()
                           << "' is in both the table and the indices";
  }
  llvm::SmallSetVector<StringAttr, 8> actual = dimNames(result);
  if (!llvm::set_is_subset(expected, actual) ||
      expected.size() != actual.size())
    return emitOpError() << "result dimensions must be the indices' and the "
                            "table's other dimensions ("
                         << joinNames(expected.getArrayRef()) << "), got ("
                         << joinNames(actual.getArrayRef()) << ")";
  return success();
}

LogicalResult OneHotOp::verify() {
  auto indices = cast<NamedTensorType>(getIndices().getType());
  auto result = cast<NamedTensorType>(getResult().getType());
  if (failed(verifyConsistentSizes(*this, {indices, result})))
    return failure();
  for (DimAttr dim : indices.getDims())
    if (failed(verifyHasDim(*this, result, dim.getName().getValue(), "result")))
      return failure();
  if (result.getRank() != indices.getRank() + 1)
    return emitOpError() << "result must add exactly one dimension to the "
                            "indices' dimensions";
  return success();
}

DimAttr OneHotOp::getDepthDim() {
  auto indices = cast<NamedTensorType>(getIndices().getType());
  for (DimAttr dim : cast<NamedTensorType>(getResult().getType()).getDims())
    if (!indices.hasDim(dim.getName().getValue()))
      return dim;
  llvm_unreachable("verified one-hot has a depth dimension");
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::verify() {
  auto result = cast<NamedTensorType>(getResult().getType());
  auto valueType = dyn_cast<RankedTensorType>(getValue().getType());
  if (!valueType)
    return emitOpError() << "value must be a ranked tensor attribute";
  if (valueType.getShape() != ArrayRef(result.getShape()) ||
      valueType.getElementType() != result.getElementType())
    return emitOpError() << "value of type " << valueType
                         << " does not match the global shape and element "
                            "type of "
                         << result;
  return success();
}

//===----------------------------------------------------------------------===//
// AsTensorOp, AsNamedOp
//===----------------------------------------------------------------------===//

/// Checks that `named` is a plain (not laid out) view of `builtin`.
static LogicalResult verifySameView(Operation *op, NamedTensorType named,
                                    RankedTensorType builtin) {
  if (named.isLaidOut())
    return op->emitOpError() << "expects a local tensor without layout, got "
                             << named;
  if (builtin.getShape() != ArrayRef(named.getShape()) ||
      builtin.getElementType() != named.getElementType())
    return op->emitOpError() << "types " << named << " and " << builtin
                             << " differ in shape or element type";
  return success();
}

LogicalResult AsTensorOp::verify() {
  return verifySameView(*this, cast<NamedTensorType>(getInput().getType()),
                        getResult().getType());
}

LogicalResult AsNamedOp::verify() {
  return verifySameView(*this, cast<NamedTensorType>(getResult().getType()),
                        getInput().getType());
}

OpFoldResult AsTensorOp::fold(FoldAdaptor) {
  if (auto named = getInput().getDefiningOp<AsNamedOp>())
    if (named.getInput().getType() == getResult().getType())
      return named.getInput();
  return {};
}

OpFoldResult AsNamedOp::fold(FoldAdaptor) {
  if (auto view = getInput().getDefiningOp<AsTensorOp>())
    if (view.getInput().getType() == getResult().getType())
      return view.getInput();
  return {};
}

#define GET_OP_CLASSES
#include "dialects/mtf/MtfOps.cpp.inc"
