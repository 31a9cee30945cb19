//===- MtfOps.h - mtf operations --------------------------------*- C++ -*-===//

#ifndef SWITCHYARD_DIALECTS_MTF_MTFOPS_H
#define SWITCHYARD_DIALECTS_MTF_MTFOPS_H

#include "dialects/mtf/MtfDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace switchyard::mtf {

/// Parses a dimension name written bare (`d_model`) or quoted.
mlir::ParseResult parseDimName(mlir::OpAsmParser &parser, mlir::StringAttr &dim);
/// Prints a dimension name bare where it is a valid identifier.
void printDimName(mlir::OpAsmPrinter &printer, mlir::Operation *op,
                  mlir::StringAttr dim);

/// Checks every operand and result type of `op` against the enclosing
/// module's mesh (see `verifyTypeOnMesh`).
mlir::LogicalResult verifyLayoutsOnMesh(mlir::Operation *op);

/// Emits "<what> has no dimension '<dim>'" unless `type` has `dim`.
mlir::LogicalResult verifyHasDim(mlir::Operation *op, NamedTensorType type,
                                 llvm::StringRef dim, llvm::StringRef what);

/// Checks that dimensions sharing a name have one size across `types`.
mlir::LogicalResult verifyConsistentSizes(mlir::Operation *op,
                                          llvm::ArrayRef<NamedTensorType> types);

namespace OpTrait {
/// Op trait: operand and result layouts are valid on the module's mesh.
template <typename ConcreteType>
class MeshConsistent
    : public mlir::OpTrait::TraitBase<ConcreteType, MeshConsistent> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return verifyLayoutsOnMesh(op);
  }
};
} // namespace OpTrait

} // namespace switchyard::mtf

#define GET_OP_CLASSES
#include "dialects/mtf/MtfOps.h.inc"

#endif // SWITCHYARD_DIALECTS_MTF_MTFOPS_H
