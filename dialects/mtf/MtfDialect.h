//===- MtfDialect.h - mtf dialect, attributes and types ---------*- C++ -*-===//
//
// The `mtf` dialect: named-dimension tensors, meshes and layouts.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_DIALECTS_MTF_MTFDIALECT_H
#define SWITCHYARD_DIALECTS_MTF_MTFDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/mtf/MtfDialect.h.inc"
#include "dialects/mtf/MtfEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/mtf/MtfAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/mtf/MtfTypes.h.inc"

namespace switchyard::mtf {

/// The mesh of the module enclosing `op`, or null when it declares none.
MeshAttr getEnclosingMesh(mlir::Operation *op);

/// Checks that every mesh axis named by `type` exists in `mesh` and divides
/// the dimension it splits; `emitError` reports at the caller's location.
mlir::LogicalResult
verifyTypeOnMesh(NamedTensorType type, MeshAttr mesh,
                 llvm::function_ref<mlir::InFlightDiagnostic()> emitError);

} // namespace switchyard::mtf

#endif // SWITCHYARD_DIALECTS_MTF_MTFDIALECT_H
