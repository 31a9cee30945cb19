//===- MtfTypes.cpp - the named-dimension tensor type ---------------------===//

#include "dialects/mtf/MtfDialect.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;
using namespace switchyard::mtf;

#define GET_TYPEDEF_CLASSES
#include "dialects/mtf/MtfTypes.cpp.inc"

void MtfDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/mtf/MtfTypes.cpp.inc"
      >();
}

Type NamedTensorType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<DimAttr> dims;
  auto parseDim = [&]() -> ParseResult {
    DimAttr dim = DimAttr::parseInline(parser);
    if (!dim)
      return failure();
    dims.push_back(dim);
    return success();
  };
  Type elementType;
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, parseDim) ||
      parser.parseComma() || parser.parseType(elementType) ||
      parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); },
                    parser.getContext(), dims, elementType);
}

void NamedTensorType::print(AsmPrinter &printer) const {
  printer << "<[";
  llvm::interleaveComma(getDims(), printer,
                        [&](DimAttr dim) { dim.printInline(printer); });
  printer << "], " << getElementType() << '>';
}

LogicalResult NamedTensorType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<DimAttr> dims, Type elementType) {
  if (!elementType.isF32() && !elementType.isBF16() && !elementType.isF16() &&
      !elementType.isSignlessInteger(32) && !elementType.isSignlessInteger(1))
    return emitError() << "element type must be f32, bf16, f16, i32 or i1, got "
                       << elementType;
  llvm::StringMap<StringRef> axisOwner;
  for (auto [index, dim] : llvm::enumerate(dims)) {
    StringRef name = dim.getName().getValue();
    // A named copy: C++17 lambdas cannot capture structured bindings.
    StringAttr dimName = dim.getName();
    if (llvm::any_of(dims.take_front(index), [&](DimAttr other) {
          return other.getName() == dimName;
        }))
      return emitError() << "dimension name '" << name
                         << "' is used twice in one tensor";
    if (dim.getSize() < 0)
      return emitError() << "dimension '" << name
                         << "' must have a non-negative size, got "
                         << dim.getSize();
    for (StringAttr axis : dim.getAxes()) {
      auto [it, inserted] = axisOwner.try_emplace(axis.getValue(), name);
      if (!inserted) {
        if (it->second == name)
          return emitError() << "dimension '" << name << "' names mesh axis '"
                             << axis.getValue() << "' twice";
        return emitError() << "mesh axis '" << axis.getValue()
                           << "' splits two dimensions of one tensor: '"
                           << it->second << "' and '" << name << "'";
      }
    }
  }
  // Every size, stride and byte offset computed from the type must fit in
  // 64 bits, also those of an empty tensor's other dimensions.
  constexpr int64_t kMaxElements = std::numeric_limits<int64_t>::max() / 4;
  int64_t count = 1;
  for (DimAttr dim : dims) {
    if (dim.getSize() == 0)
      continue;
    if (count > kMaxElements / dim.getSize()) {
      InFlightDiagnostic diag = emitError() << "tensor [";
      llvm::interleaveComma(dims, diag, [&](DimAttr each) {
        diag << each.getName().getValue() << ':' << each.getSize();
      });
      return diag << "] is too large to address with 64-bit byte offsets";
    }
    count *= dim.getSize();
  }
  return success();
}

std::optional<unsigned> NamedTensorType::findDim(StringRef name) const {
  for (auto [index, dim] : llvm::enumerate(getDims()))
    if (dim.getName().getValue() == name)
      return index;
  return std::nullopt;
}

DimAttr NamedTensorType::getDim(StringRef name) const {
  std::optional<unsigned> index = findDim(name);
  assert(index && "no such dimension");
  return getDims()[*index];
}

SmallVector<int64_t> NamedTensorType::getShape() const {
  return llvm::map_to_vector(getDims(),
                             [](DimAttr dim) { return dim.getSize(); });
}

int64_t NamedTensorType::getNumElements() const {
  int64_t count = 1;
  for (DimAttr dim : getDims())
    count *= dim.getSize();
  return count;
}

bool NamedTensorType::isLaidOut() const {
  return llvm::any_of(getDims(), [](DimAttr dim) { return dim.isSplit(); });
}

NamedTensorType NamedTensorType::withoutLayout() const {
  return get(getContext(), llvm::map_to_vector(getDims(), [](DimAttr dim) {
               return dim.withAxes({});
             }),
             getElementType());
}

NamedTensorType NamedTensorType::withElementType(Type elementType) const {
  return get(getContext(), getDims(), elementType);
}

NamedTensorType NamedTensorType::getLocalType(MeshAttr mesh) const {
  SmallVector<DimAttr> dims;
  for (DimAttr dim : getDims()) {
    int64_t size = dim.getSize();
    for (StringAttr axis : dim.getAxes())
      size /= *mesh.getAxisSize(axis.getValue());
    dims.push_back(DimAttr::get(getContext(), dim.getName(), size, {}));
  }
  return get(getContext(), dims, getElementType());
}
