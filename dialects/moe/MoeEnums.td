//===- MoeEnums.td - enums of the moe dialect --------------*- tablegen -*-===//
//
// Apart from MoeOps.td so that enum generation sees only these, not the mtf
// dialect's.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_MOE_ENUMS
#define SWITCHYARD_MOE_ENUMS

include "mlir/IR/EnumAttr.td"

def Moe_GateNormalization : I32EnumAttr<"GateNormalization",
    "how the gates of a token's top-k choices are scaled", [
    I32EnumAttrCase<"before_drops", 1>, I32EnumAttrCase<"after_drops", 2>]> {
  let cppNamespace = "::switchyard::moe";
}

#endif // SWITCHYARD_MOE_ENUMS
