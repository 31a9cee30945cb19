//===- MoeOps.h - the moe dialect and its routing ops -----------*- C++ -*-===//

#ifndef SWITCHYARD_DIALECTS_MOE_MOEOPS_H
#define SWITCHYARD_DIALECTS_MOE_MOEOPS_H

#include "dialects/mtf/MtfOps.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

#include "dialects/moe/MoeDialect.h.inc"
#include "dialects/moe/MoeEnums.h.inc"

#define GET_OP_CLASSES
#include "dialects/moe/MoeOps.h.inc"

#endif // SWITCHYARD_DIALECTS_MOE_MOEOPS_H
