//===- MoeOps.cpp - Switch routing op verifiers ---------------------------===//

#include "dialects/moe/MoeOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;
using namespace switchyard;
using namespace switchyard::moe;
using mtf::DimAttr;
using mtf::parseDimName;
using mtf::printDimName;
using mtf::NamedTensorType;
using mtf::verifyConsistentSizes;
using mtf::verifyHasDim;

#include "dialects/moe/MoeDialect.cpp.inc"
#include "dialects/moe/MoeEnums.cpp.inc"

void MoeDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/moe/MoeOps.cpp.inc"
      >();
}

namespace {

/// The scalar float32 type of a loss.
NamedTensorType scalarF32(MLIRContext *context) {
  return NamedTensorType::get(context, {}, Float32Type::get(context));
}

/// `type` without the dimensions named in `drop`.
SmallVector<DimAttr> dimsWithout(NamedTensorType type, ArrayRef<StringRef> drop) {
  return llvm::filter_to_vector(type.getDims(), [&](DimAttr dim) {
    return !llvm::is_contained(drop, dim.getName().getValue());
  });
}

/// Emits an error unless `actual` has exactly the dimension names of
/// `expected`, in any order.
LogicalResult verifyDimSet(Operation *op, ArrayRef<DimAttr> expected,
                           NamedTensorType actual, StringRef what) {
  bool same = expected.size() == actual.getRank() &&
              llvm::all_of(expected, [&](DimAttr dim) {
                return actual.hasDim(dim.getName().getValue());
              });
  if (same)
    return success();
  std::string names;
  llvm::raw_string_ostream os(names);
  llvm::interleaveComma(expected, os,
                        [&](DimAttr dim) { os << dim.getName().getValue(); });
  return op->emitOpError() << what << " must have the dimensions (" << names
                           << "), got " << actual;
}

/// Checks that `result` has exactly the dimensions `expected`, sizes that
/// agree with `input`'s, and `input`'s element type.
LogicalResult verifyResult(Operation *op, ArrayRef<DimAttr> expected,
                           NamedTensorType input, NamedTensorType result) {
  if (failed(verifyDimSet(op, expected, result, "result")) ||
      failed(verifyConsistentSizes(op, {input, result})))
    return failure();
  if (result.getElementType() != input.getElementType())
    return op->emitOpError()
           << "result element type " << result.getElementType()
           << " differs from the input's " << input.getElementType();
  return success();
}

/// Checks the expert buffers' `experts` and capacity dimensions, and, when
/// `expert` comes from a `moe.route`, that both ops agree on the token
/// dimension, the number of experts and the capacity.
LogicalResult verifyBuffers(Operation *op, Value expert, StringRef tokensDim,
                            std::optional<StringRef> choicesDim,
                            NamedTensorType buffers, StringRef expertsDim,
                            StringRef capacityDim, StringRef what) {
  if (expertsDim == capacityDim)
    return op->emitOpError()
           << "experts and capacity dimensions must differ, both are '"
           << expertsDim << "'";
  if (failed(verifyHasDim(op, buffers, expertsDim, what)) ||
      failed(verifyHasDim(op, buffers, capacityDim, what)))
    return failure();
  auto route = expert.getDefiningOp<RouteOp>();
  if (!route)
    return success();
  if (route.getTokensDim() != tokensDim)
    return op->emitOpError() << "routes tokens along '" << tokensDim
                             << "' but its 'moe.route' routes along '"
                             << route.getTokensDim() << "'";
  if (route.getChoicesDim() != choicesDim)
    return op->emitOpError()
           << "takes the choices dimension '" << choicesDim.value_or("")
           << "' but its 'moe.route' makes '"
           << route.getChoicesDim().value_or("") << "'";
  int64_t experts = buffers.getDim(expertsDim).getSize();
  if (route.getNumExperts() != experts)
    return op->emitOpError()
           << "has " << experts << " experts but its 'moe.route' has "
           << route.getNumExperts();
  int64_t capacity = buffers.getDim(capacityDim).getSize();
  if (route.getExpertCapacity() != capacity)
    return op->emitOpError()
           << "has expert capacity " << capacity
           << " but its 'moe.route' has " << route.getExpertCapacity();
  return success();
}

/// Checks that every routing dimension (of `expert`) but the choices
/// dimension is in `tokens` with the same size, that the token dimension is
/// among them, and that the choices dimension, if any, is in `expert` only.
LogicalResult verifyRoutingDims(Operation *op, NamedTensorType expert,
                                NamedTensorType tokens, StringRef tokensDim,
                                std::optional<StringRef> choicesDim,
                                StringRef what) {
  if (failed(verifyHasDim(op, expert, tokensDim, "routing decision")))
    return failure();
  if (choicesDim) {
    if (failed(verifyHasDim(op, expert, *choicesDim, "routing decision")))
      return failure();
    if (tokens.hasDim(*choicesDim))
      return op->emitOpError() << what << " must not have the choices "
                               << "dimension '" << *choicesDim << "'";
  }
  for (DimAttr dim : expert.getDims())
    if (dim.getName().getValue() != choicesDim &&
        failed(verifyHasDim(op, tokens, dim.getName().getValue(), what)))
      return failure();
  return verifyConsistentSizes(op, {expert, tokens});
}

/// Checks that all `logits` name `dims` and agree on the experts' count.
LogicalResult verifyLossLogits(Operation *op, ValueRange logits,
                               ArrayRef<StringRef> dims, StringRef expertsDim) {
  if (logits.empty())
    return op->emitOpError() << "expects the logits of at least one layer";
  std::optional<int64_t> experts;
  for (Value value : logits) {
    auto type = cast<NamedTensorType>(value.getType());
    for (StringRef dim : dims)
      if (failed(verifyHasDim(op, type, dim, "logits")))
        return failure();
    int64_t count = type.getDim(expertsDim).getSize();
    if (experts && *experts != count)
      return op->emitOpError()
             << "logits disagree on the number of experts: " << *experts
             << " and " << count;
    experts = count;
  }
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// RouteOp
//===----------------------------------------------------------------------===//

LogicalResult RouteOp::inferReturnTypes(MLIRContext *context,
                                        std::optional<Location>,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  auto logits = dyn_cast<NamedTensorType>(adaptor.getLogits().getType());
  if (!logits)
    return failure();
  // The experts dimension is dropped, or replaced by the choices.
  SmallVector<DimAttr> dims;
  for (DimAttr dim : logits.getDims()) {
    if (dim.getName().getValue() != adaptor.getExpertsDim())
      dims.push_back(dim);
    else if (adaptor.getChoicesDim() && adaptor.getTopK())
      dims.push_back(DimAttr::get(context, adaptor.getChoicesDimAttr(),
                                  static_cast<int64_t>(*adaptor.getTopK()),
                                  {}));
  }
  auto tokens =
      NamedTensorType::get(context, dims, IntegerType::get(context, 32));
  results.assign({tokens, tokens.withElementType(logits.getElementType()),
                  tokens, tokens.withElementType(IntegerType::get(context, 1))});
  return success();
}

bool RouteOp::isCompatibleReturnTypes(TypeRange inferred, TypeRange actual) {
  return inferred.size() == actual.size() &&
         llvm::all_of(llvm::zip(inferred, actual), [](auto pair) {
           auto [expected, type] = pair;
           auto named = dyn_cast<NamedTensorType>(type);
           return named && named.withoutLayout() ==
                               cast<NamedTensorType>(expected).withoutLayout();
         });
}

LogicalResult RouteOp::verify() {
  auto logits = cast<NamedTensorType>(getLogits().getType());
  if (failed(verifyHasDim(*this, logits, getTokensDim(), "logits")) ||
      failed(verifyHasDim(*this, logits, getExpertsDim(), "logits")))
    return failure();
  if (getTokensDim() == getExpertsDim())
    return emitOpError() << "token and experts dimensions must differ, both "
                            "are '"
                         << getTokensDim() << "'";
  if (getNumExperts() < 1)
    return emitOpError() << "needs at least one expert";
  if (getTopK().has_value() != getChoicesDim().has_value())
    return emitOpError() << "expects 'top_k' and 'choices' together";
  if (getTopK() && (getNumChoices() < 1 || getNumChoices() > getNumExperts()))
    return emitOpError() << "top_k must be between 1 and the "
                         << getNumExperts() << " experts, got "
                         << getNumChoices();
  if (getChoicesDim() && logits.hasDim(*getChoicesDim()))
    return emitOpError() << "choices dimension '" << *getChoicesDim()
                         << "' is already a logits dimension";
  if (getNormalize() && !getTopK())
    return emitOpError() << "normalizes gates only with 'top_k'";
  if (getCapacity().has_value() == getCapacityFactor().has_value())
    return emitOpError() << "expects exactly one of 'capacity' and "
                            "'capacity_factor'";
  if (getCapacityAttr() && getCapacityAttr().getInt() < 0)
    return emitOpError() << "capacity must be non-negative, got "
                         << getCapacityAttr().getInt();
  if (getCapacityFactor() && !(getCapacityFactor()->convertToDouble() > 0))
    return emitOpError() << "capacity_factor must be positive, got "
                         << getCapacityFactor()->convertToDouble();
  return success();
}

int64_t RouteOp::getNumExperts() {
  return cast<NamedTensorType>(getLogits().getType())
      .getDim(getExpertsDim())
      .getSize();
}

int64_t RouteOp::getNumChoices() {
  return getTopKAttr() ? getTopKAttr().getInt() : 1;
}

int64_t RouteOp::getExpertCapacity() {
  if (IntegerAttr capacity = getCapacityAttr())
    return capacity.getInt();
  int64_t tokens =
      cast<NamedTensorType>(getLogits().getType()).getDim(getTokensDim()).getSize();
  return static_cast<int64_t>(std::ceil(getCapacityFactor()->convertToDouble() *
                                        getNumChoices() * tokens /
                                        getNumExperts()));
}

//===----------------------------------------------------------------------===//
// DispatchOp, CombineOp
//===----------------------------------------------------------------------===//

LogicalResult DispatchOp::verify() {
  auto input = cast<NamedTensorType>(getInput().getType());
  auto expert = cast<NamedTensorType>(getExpert().getType());
  auto result = cast<NamedTensorType>(getResult().getType());
  if (failed(verifyRoutingDims(*this, expert, input, getTokensDim(),
                               getChoicesDim(), "input")) ||
      failed(verifyBuffers(*this, getExpert(), getTokensDim(), getChoicesDim(),
                           result, getExpertsDim(), getCapacityDim(),
                           "result")))
    return failure();
  SmallVector<DimAttr> expected = dimsWithout(input, {getTokensDim()});
  for (StringRef dim : {getExpertsDim(), getCapacityDim()}) {
    if (input.hasDim(dim))
      return emitOpError() << "input already has a dimension '" << dim << "'";
    expected.push_back(result.getDim(dim));
  }
  return verifyResult(*this, expected, input, result);
}

LogicalResult CombineOp::verify() {
  auto input = cast<NamedTensorType>(getInput().getType());
  auto expert = cast<NamedTensorType>(getExpert().getType());
  auto gate = cast<NamedTensorType>(getGate().getType());
  auto result = cast<NamedTensorType>(getResult().getType());
  if (gate.getDims() != expert.getDims())
    return emitOpError() << "gate must have the dimensions of the routing "
                            "decision "
                         << expert << ", got " << gate;
  if (failed(verifyBuffers(*this, getExpert(), getTokensDim(), getChoicesDim(),
                           input, getExpertsDim(), getCapacityDim(),
                           "input")) ||
      failed(verifyRoutingDims(*this, expert, result, getTokensDim(),
                               getChoicesDim(), "result")))
    return failure();
  if (input.hasDim(getTokensDim()))
    return emitOpError() << "input already has a dimension '"
                         << getTokensDim() << "'";
  SmallVector<DimAttr> expected =
      dimsWithout(input, {getExpertsDim(), getCapacityDim()});
  expected.push_back(result.getDim(getTokensDim()));
  return verifyResult(*this, expected, input, result);
}

//===----------------------------------------------------------------------===//
// ZLossOp, LoadBalancingLossOp
//===----------------------------------------------------------------------===//

LogicalResult ZLossOp::inferReturnTypes(MLIRContext *context,
                                        std::optional<Location>, Adaptor,
                                        SmallVectorImpl<Type> &results) {
  results.push_back(scalarF32(context));
  return success();
}

LogicalResult ZLossOp::verify() {
  return verifyLossLogits(*this, getLogits(), {getExpertsDim()},
                          getExpertsDim());
}

LogicalResult LoadBalancingLossOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location>, Adaptor,
    SmallVectorImpl<Type> &results) {
  results.push_back(scalarF32(context));
  return success();
}

LogicalResult LoadBalancingLossOp::verify() {
  if (getTokensDim() == getExpertsDim())
    return emitOpError() << "token and experts dimensions must differ";
  if (failed(verifyLossLogits(*this, getLogits(),
                              {getTokensDim(), getExpertsDim()},
                              getExpertsDim())))
    return failure();
  // Rows are pooled across layers, so every layer must have the same groups.
  auto first = cast<NamedTensorType>(getLogits().front().getType());
  SmallVector<DimAttr> groups =
      dimsWithout(first, {getTokensDim(), getExpertsDim()});
  for (Value value : getLogits().drop_front()) {
    auto type = cast<NamedTensorType>(value.getType());
    if (dimsWithout(type, {getTokensDim(), getExpertsDim()}) != groups)
      return emitOpError() << "logits of every layer must have the same group "
                              "dimensions, got "
                           << first << " and " << type;
  }
  return success();
}

#define GET_OP_CLASSES
#include "dialects/moe/MoeOps.cpp.inc"
