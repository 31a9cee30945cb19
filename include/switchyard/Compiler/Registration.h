//===- Registration.h - dialects and passes of the compiler -----*- C++ -*-===//
//
// Entry points for the tools: everything switchyard-opt and the driver load.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_COMPILER_REGISTRATION_H
#define SWITCHYARD_COMPILER_REGISTRATION_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace switchyard {

/// Adds the mtf and moe dialects and the upstream dialects Switchyard
/// programs use (func, arith, tensor, shard).
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers every Switchyard pass and pipeline with the global registry.
void registerAllPasses();

} // namespace switchyard

#endif // SWITCHYARD_COMPILER_REGISTRATION_H
