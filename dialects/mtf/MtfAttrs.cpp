//===- MtfAttrs.cpp - dimensions, meshes and layout rules -----------------===//
//
// Parsing, printing and verification of `#mtf.dim`, `#mtf.mesh` and
// `#mtf.layout`, including Mesh TensorFlow's `mesh_shape` and `layout`
// string syntax.
//
//===----------------------------------------------------------------------===//

#include "dialects/mtf/MtfDialect.h"

#include "mlir/IR/Builders.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace switchyard::mtf;

#define GET_ATTRDEF_CLASSES
#include "dialects/mtf/MtfAttrs.cpp.inc"

void MtfDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/mtf/MtfAttrs.cpp.inc"
      >();
}

namespace {

/// Whether `name` is an identifier: a letter or `_`, then letters, digits, `_`.
bool isIdentifier(StringRef name) {
  if (name.empty() || !(llvm::isAlpha(name[0]) || name[0] == '_'))
    return false;
  return llvm::all_of(name, [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

/// Splits a Mesh TF spec at `;` and `,`, trimming blanks and empty pieces.
SmallVector<StringRef> splitSpec(StringRef spec) {
  SmallVector<StringRef> pieces;
  SmallVector<StringRef> raw;
  llvm::SplitString(spec, raw, ";,");
  for (StringRef piece : raw)
    if (!piece.trim().empty())
      pieces.push_back(piece.trim());
  return pieces;
}

} // namespace

//===----------------------------------------------------------------------===//
// DimAttr
//===----------------------------------------------------------------------===//

DimAttr DimAttr::parseInline(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  std::string name;
  int64_t size = 0;
  if (parser.parseKeywordOrString(&name) || parser.parseColon() ||
      parser.parseInteger(size))
    return {};
  SmallVector<StringAttr> axes;
  if (succeeded(parser.parseOptionalLBrace())) {
    auto parseAxis = [&]() -> ParseResult {
      std::string axis;
      if (parser.parseKeywordOrString(&axis))
        return failure();
      axes.push_back(parser.getBuilder().getStringAttr(axis));
      return success();
    };
    if (parser.parseCommaSeparatedList(parseAxis) || parser.parseRBrace())
      return {};
  }
  if (name.empty()) {
    parser.emitError(loc, "dimension name must not be empty");
    return {};
  }
  return DimAttr::get(parser.getContext(),
                      parser.getBuilder().getStringAttr(name), size, axes);
}

void DimAttr::printInline(AsmPrinter &printer) const {
  printer.printKeywordOrString(getName().getValue());
  printer << ':' << getSize();
  if (isSplit()) {
    printer << '{';
    llvm::interleaveComma(getAxes(), printer, [&](StringAttr axis) {
      printer.printKeywordOrString(axis.getValue());
    });
    printer << '}';
  }
}

Attribute DimAttr::parse(AsmParser &parser, Type) {
  if (parser.parseLess())
    return {};
  DimAttr dim = parseInline(parser);
  if (!dim || parser.parseGreater())
    return {};
  return dim;
}

void DimAttr::print(AsmPrinter &printer) const {
  printer << '<';
  printInline(printer);
  printer << '>';
}

DimAttr DimAttr::withAxes(ArrayRef<StringAttr> axes) const {
  return DimAttr::get(getContext(), getName(), getSize(), axes);
}

//===----------------------------------------------------------------------===//
// MeshAttr
//===----------------------------------------------------------------------===//

LogicalResult
MeshAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                 ArrayRef<StringAttr> axisNames, ArrayRef<int64_t> axisSizes) {
  if (axisNames.size() != axisSizes.size())
    return emitError() << "mesh has " << axisNames.size() << " axis names but "
                       << axisSizes.size() << " sizes";
  llvm::SmallSet<StringRef, 8> seen;
  for (auto [name, size] : llvm::zip(axisNames, axisSizes)) {
    if (!isIdentifier(name.getValue()))
      return emitError() << "mesh axis name '" << name.getValue()
                         << "' is not an identifier";
    if (!seen.insert(name.getValue()).second)
      return emitError() << "mesh axis '" << name.getValue()
                         << "' is declared twice";
    if (size < 1)
      return emitError() << "mesh axis '" << name.getValue()
                         << "' must have a positive size, got " << size;
  }
  return success();
}

FailureOr<MeshAttr>
MeshAttr::parseSpec(MLIRContext *context, StringRef spec,
                    function_ref<InFlightDiagnostic()> emitError) {
  SmallVector<StringAttr> names;
  SmallVector<int64_t> sizes;
  for (StringRef piece : splitSpec(spec)) {
    auto [name, sizeText] = piece.split(':');
    int64_t size = 0;
    if (!piece.contains(':') || sizeText.trim().getAsInteger(10, size))
      return emitError() << "mesh axis '" << piece
                         << "' must be written 'name:size' (as in \"b:4,e:2\")";
    names.push_back(StringAttr::get(context, name.trim()));
    sizes.push_back(size);
  }
  if (failed(verify(emitError, names, sizes)))
    return failure();
  return MeshAttr::get(context, names, sizes);
}

std::string MeshAttr::getSpec() const {
  std::string spec;
  llvm::raw_string_ostream os(spec);
  llvm::interleave(
      llvm::zip(getAxisNames(), getAxisSizes()), os,
      [&](auto axis) { os << std::get<0>(axis).getValue() << ':' << std::get<1>(axis); },
      ",");
  return spec;
}

std::optional<int64_t> MeshAttr::getAxisSize(StringRef name) const {
  for (auto [axis, size] : llvm::zip(getAxisNames(), getAxisSizes()))
    if (axis.getValue() == name)
      return size;
  return std::nullopt;
}

int64_t MeshAttr::getNumDevices() const {
  int64_t devices = 1;
  for (int64_t size : getAxisSizes())
    devices *= size;
  return devices;
}

Attribute MeshAttr::parse(AsmParser &parser, Type) {
  std::string spec;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess() || parser.parseString(&spec) || parser.parseGreater())
    return {};
  FailureOr<MeshAttr> mesh = parseSpec(parser.getContext(), spec,
                                       [&] { return parser.emitError(loc); });
  return succeeded(mesh) ? *mesh : MeshAttr();
}

void MeshAttr::print(AsmPrinter &printer) const {
  printer << "<\"" << getSpec() << "\">";
}

//===----------------------------------------------------------------------===//
// LayoutAttr
//===----------------------------------------------------------------------===//

LogicalResult
LayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                   ArrayRef<StringAttr> dimNames, ArrayRef<ArrayAttr> dimAxes) {
  if (dimNames.size() != dimAxes.size())
    return emitError() << "layout has " << dimNames.size()
                       << " dimensions but " << dimAxes.size() << " axis lists";
  llvm::SmallSet<StringRef, 8> seenDims;
  for (auto [dim, axes] : llvm::zip(dimNames, dimAxes)) {
    if (!isIdentifier(dim.getValue()))
      return emitError() << "layout dimension name '" << dim.getValue()
                         << "' is not an identifier";
    if (!seenDims.insert(dim.getValue()).second)
      return emitError() << "layout has two rules for dimension '"
                         << dim.getValue() << "'";
    if (axes.empty())
      return emitError() << "layout rule for '" << dim.getValue()
                         << "' names no mesh axis";
    llvm::SmallSet<StringRef, 4> seenAxes;
    for (Attribute axis : axes) {
      auto name = dyn_cast<StringAttr>(axis);
      if (!name || !isIdentifier(name.getValue()))
        return emitError() << "layout rule for '" << dim.getValue()
                           << "' has a mesh axis that is not an identifier";
      if (!seenAxes.insert(name.getValue()).second)
        return emitError() << "layout rule for '" << dim.getValue()
                           << "' names mesh axis '" << name.getValue()
                           << "' twice";
    }
  }
  return success();
}

FailureOr<LayoutAttr>
LayoutAttr::parseSpec(MLIRContext *context, StringRef spec,
                      function_ref<InFlightDiagnostic()> emitError) {
  SmallVector<StringAttr> dims;
  SmallVector<SmallVector<Attribute>> axes;
  // A piece with a colon starts a rule; a bare piece adds an axis to the
  // rule before it, so "d_ff:m,x" splits d_ff over m and x.
  for (StringRef piece : splitSpec(spec)) {
    if (piece.contains(':')) {
      auto [dim, axis] = piece.split(':');
      dims.push_back(StringAttr::get(context, dim.trim()));
      axes.push_back({StringAttr::get(context, axis.trim())});
    } else if (!axes.empty()) {
      axes.back().push_back(StringAttr::get(context, piece));
    } else {
      return emitError() << "layout rule '" << piece
                         << "' must be written 'dimension:axis' (as in "
                            "\"batch:b;experts:e\")";
    }
  }
  SmallVector<ArrayAttr> axisLists;
  for (ArrayRef<Attribute> list : axes)
    axisLists.push_back(ArrayAttr::get(context, list));
  if (failed(verify(emitError, dims, axisLists)))
    return failure();
  return LayoutAttr::get(context, dims, axisLists);
}

std::string LayoutAttr::getSpec() const {
  std::string spec;
  llvm::raw_string_ostream os(spec);
  llvm::interleave(
      llvm::zip(getDimNames(), getDimAxes()), os,
      [&](auto rule) {
        os << std::get<0>(rule).getValue() << ':';
        llvm::interleave(
            std::get<1>(rule), os,
            [&](Attribute axis) { os << cast<StringAttr>(axis).getValue(); },
            ",");
      },
      ";");
  return spec;
}

SmallVector<StringAttr> LayoutAttr::getAxesFor(StringRef dim) const {
  for (auto [name, axes] : llvm::zip(getDimNames(), getDimAxes()))
    if (name.getValue() == dim)
      return llvm::to_vector(axes.getAsRange<StringAttr>());
  return {};
}

Attribute LayoutAttr::parse(AsmParser &parser, Type) {
  std::string spec;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess() || parser.parseString(&spec) || parser.parseGreater())
    return {};
  FailureOr<LayoutAttr> layout = parseSpec(
      parser.getContext(), spec, [&] { return parser.emitError(loc); });
  return succeeded(layout) ? *layout : LayoutAttr();
}

void LayoutAttr::print(AsmPrinter &printer) const {
  printer << "<\"" << getSpec() << "\">";
}
