//===- MtfDialect.cpp - mtf dialect registration and attribute checks -----===//

#include "dialects/mtf/MtfDialect.h"
#include "dialects/mtf/MtfOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace switchyard::mtf;

#include "dialects/mtf/MtfDialect.cpp.inc"
#include "dialects/mtf/MtfEnums.cpp.inc"

void MtfDialect::initialize() {
  registerAttributes();
  registerTypes();
  addOperations<
#define GET_OP_LIST
#include "dialects/mtf/MtfOps.cpp.inc"
      >();
}

MeshAttr switchyard::mtf::getEnclosingMesh(Operation *op) {
  for (; op; op = op->getParentOp())
    if (auto mesh = op->getAttrOfType<MeshAttr>(MtfDialect::kMeshAttrName))
      return mesh;
  return {};
}

LogicalResult switchyard::mtf::verifyTypeOnMesh(
    NamedTensorType type, MeshAttr mesh,
    function_ref<InFlightDiagnostic()> emitError) {
  if (!type.isLaidOut())
    return success();
  if (!mesh)
    return emitError() << "type " << type
                       << " is laid out but no enclosing op declares an '"
                       << MtfDialect::kMeshAttrName << "'";
  for (DimAttr dim : type.getDims()) {
    int64_t parts = 1;
    for (StringAttr axis : dim.getAxes()) {
      std::optional<int64_t> size = mesh.getAxisSize(axis.getValue());
      if (!size)
        return emitError() << "dimension '" << dim.getName().getValue()
                           << "' is split over mesh axis '" << axis.getValue()
                           << "', which mesh \"" << mesh.getSpec()
                           << "\" does not have";
      parts *= *size;
    }
    if (dim.getSize() % parts != 0)
      return emitError() << "dimension '" << dim.getName().getValue()
                         << "' of size " << dim.getSize()
                         << " cannot be split into " << parts
                         << " equal parts over its mesh axes";
  }
  return success();
}

LogicalResult MtfDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name == kMeshAttrName) {
    if (!isa<MeshAttr>(attribute.getValue()))
      return op->emitError() << "'" << kMeshAttrName
                             << "' must be an #mtf.mesh attribute";
    // Ops check their own types; function signatures are checked here.
    auto mesh = cast<MeshAttr>(attribute.getValue());
    WalkResult walk = op->walk([&](FunctionOpInterface function) {
      auto emit = [&] { return function.emitOpError(); };
      for (Type type : llvm::concat<const Type>(function.getArgumentTypes(),
                                                function.getResultTypes()))
        if (auto tensor = dyn_cast<NamedTensorType>(type);
            tensor && failed(verifyTypeOnMesh(tensor, mesh, emit)))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    return failure(walk.wasInterrupted());
  }
  if (name == kLayoutAttrName) {
    auto layout = dyn_cast<LayoutAttr>(attribute.getValue());
    if (!layout)
      return op->emitError() << "'" << kLayoutAttrName
                             << "' must be an #mtf.layout attribute";
    auto mesh = op->getAttrOfType<MeshAttr>(kMeshAttrName);
    if (!mesh)
      return op->emitError() << "'" << kLayoutAttrName << "' needs an '"
                             << kMeshAttrName << "' on the same op";
    for (auto [dim, axes] :
         llvm::zip(layout.getDimNames(), layout.getDimAxes()))
      for (auto axis : axes.getAsRange<StringAttr>())
        if (!mesh.getAxisSize(axis.getValue()))
          return op->emitError()
                 << "layout rule for '" << dim.getValue()
                 << "' names mesh axis '" << axis.getValue()
                 << "', which mesh \"" << mesh.getSpec() << "\" does not have";
    return success();
  }
  return op->emitError() << "unknown mtf attribute '" << name << "'";
}

/// Checks an `mtf.global` attribute on a value of type `localType`.
static LogicalResult verifyGlobalAttr(Operation *op, Type localType,
                                      Attribute attribute) {
  auto typeAttr = dyn_cast<TypeAttr>(attribute);
  auto global = typeAttr ? dyn_cast<NamedTensorType>(typeAttr.getValue())
                         : NamedTensorType();
  if (!global)
    return op->emitError() << "'" << MtfDialect::kGlobalAttrName
                           << "' must be an !mtf.tensor type";
  MeshAttr mesh = getEnclosingMesh(op);
  if (failed(verifyTypeOnMesh(global, mesh, [&] { return op->emitError(); })))
    return failure();
  NamedTensorType local = mesh ? global.getLocalType(mesh) : global;
  if (local != localType)
    return op->emitError() << "value of type " << localType
                           << " cannot be the local block of " << global
                           << ", which is " << local;
  return success();
}

/// Checks an `mtf.param` attribute on a value of type `type`.
static LogicalResult verifyParamAttr(Operation *op, unsigned argIndex,
                                     Type type, Attribute attribute) {
  auto checkpointName = dyn_cast<StringAttr>(attribute);
  if (!checkpointName || checkpointName.getValue().empty())
    return op->emitError() << "'" << MtfDialect::kParamAttrName
                           << "' of argument " << argIndex
                           << " must be a non-empty checkpoint name string";
  auto tensor = dyn_cast<NamedTensorType>(type);
  if (!tensor)
    return op->emitError() << "argument " << argIndex << " is a parameter ('"
                           << checkpointName.getValue()
                           << "') and must be an !mtf.tensor, got " << type;
  // A `{dim}` placeholder stacks one checkpoint tensor per index of `dim`.
  StringRef rest = checkpointName.getValue();
  while (!rest.empty()) {
    size_t open = rest.find('{');
    if (open == StringRef::npos)
      break;
    size_t close = rest.find('}', open);
    if (close == StringRef::npos)
      return op->emitError() << "parameter name '" << checkpointName.getValue()
                             << "' has an unclosed '{'";
    StringRef dim = rest.slice(open + 1, close);
    if (!tensor.hasDim(dim))
      return op->emitError() << "parameter name '" << checkpointName.getValue()
                             << "' stacks along '" << dim
                             << "', which is not a dimension of " << type;
    rest = rest.drop_front(close + 1);
  }
  return success();
}

/// Checks an `mtf.name` attribute.
static LogicalResult verifyNameAttr(Operation *op, Attribute attribute) {
  auto name = dyn_cast<StringAttr>(attribute);
  if (!name || name.getValue().empty())
    return op->emitError() << "'" << MtfDialect::kNameAttrName
                           << "' must be a non-empty string";
  return success();
}

/// Checks an `mtf.ignored_index` attribute on argument `argIndex` of `op`,
/// of type `type`: an i32 integer on a run-time i32 input of a function.
static LogicalResult verifyIgnoredIndexAttr(Operation *op, unsigned argIndex,
                                            Type type, Attribute attribute) {
  auto value = dyn_cast<IntegerAttr>(attribute);
  if (!value || !value.getType().isSignlessInteger(32))
    return op->emitError() << "'" << MtfDialect::kIgnoredIndexAttrName
                           << "' of argument " << argIndex
                           << " must be an i32 integer, got " << attribute;
  auto function = dyn_cast<FunctionOpInterface>(op);
  if (!function)
    return op->emitError() << "'" << MtfDialect::kIgnoredIndexAttrName
                           << "' may only be on a function argument";
  if (function.getArgAttr(argIndex, MtfDialect::kParamAttrName))
    return op->emitError() << "'" << MtfDialect::kIgnoredIndexAttrName
                           << "' of argument " << argIndex
                           << " must be on a run-time input, not on a "
                              "parameter ('"
                           << MtfDialect::kParamAttrName << "')";
  auto tensor = dyn_cast<NamedTensorType>(type);
  if (!tensor || !tensor.getElementType().isSignlessInteger(32))
    return op->emitError() << "'" << MtfDialect::kIgnoredIndexAttrName
                           << "' of argument " << argIndex
                           << " must be on an i32 !mtf.tensor, got " << type;
  return success();
}

/// Checks that `type`, of an argument or result of a function that carries
/// an `mtf` attribute (a program's entry: mtf.name, mtf.param, mtf.global),
/// has a mesh if it is laid out. Under a mesh the `mtf.mesh` attribute's
/// verifier checks the signature; without one, nothing else would until an
/// op used the argument. Only the attribute's own type: checking the whole
/// signature for every attribute made verifying a program of N arguments
/// take N^2 steps.
static LogicalResult verifySignatureTypeHasMesh(Operation *op, Type type) {
  auto function = dyn_cast<FunctionOpInterface>(op);
  auto tensor = dyn_cast<NamedTensorType>(type);
  if (!function || !tensor || getEnclosingMesh(op))
    return success();
  return verifyTypeOnMesh(
      tensor, {}, [&] { return function.emitOpError() << "signature: "; });
}

LogicalResult MtfDialect::verifyRegionArgAttribute(Operation *op,
                                                   unsigned regionIndex,
                                                   unsigned argIndex,
                                                   NamedAttribute attribute) {
  Type type;
  if (auto function = dyn_cast<FunctionOpInterface>(op))
    type = function.getArgumentTypes()[argIndex];
  else
    type = op->getRegion(regionIndex).getArgument(argIndex).getType();
  if (failed(verifySignatureTypeHasMesh(op, type)))
    return failure();
  if (attribute.getName() == kParamAttrName)
    return verifyParamAttr(op, argIndex, type, attribute.getValue());
  if (attribute.getName() == kGlobalAttrName)
    return verifyGlobalAttr(op, type, attribute.getValue());
  if (attribute.getName() == kNameAttrName)
    return verifyNameAttr(op, attribute.getValue());
  if (attribute.getName() == kIgnoredIndexAttrName)
    return verifyIgnoredIndexAttr(op, argIndex, type, attribute.getValue());
  return op->emitError() << "unknown mtf argument attribute '"
                         << attribute.getName().getValue() << "'";
}

LogicalResult MtfDialect::verifyRegionResultAttribute(Operation *op,
                                                      unsigned regionIndex,
                                                      unsigned resultIndex,
                                                      NamedAttribute attribute) {
  auto function = dyn_cast<FunctionOpInterface>(op);
  if (function && failed(verifySignatureTypeHasMesh(
                      op, function.getResultTypes()[resultIndex])))
    return failure();
  if (attribute.getName() == kNameAttrName)
    return verifyNameAttr(op, attribute.getValue());
  if (attribute.getName() != kGlobalAttrName || !function)
    return op->emitError() << "unknown mtf result attribute '"
                           << attribute.getName().getValue() << "'";
  return verifyGlobalAttr(op, function.getResultTypes()[resultIndex],
                          attribute.getValue());
}
