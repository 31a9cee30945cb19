//===- Compile.h - from a model module to an executable ---------*- C++ -*-===//
//
// The compiler's entry point for tools and tests: partition a module for a
// mesh and layout rules (unless it already is), and write the executable.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_COMPILER_COMPILE_H
#define SWITCHYARD_COMPILER_COMPILE_H

#include "switchyard/Compiler/ExecutableWriter.h"

#include <string>

namespace switchyard {

struct CompileOptions {
  /// Mesh TF `mesh_shape` ("b:4,e:2"); empty: the module's `mtf.mesh`, or
  /// one device when it has none.
  std::string mesh;
  /// Mesh TF `layout` ("batch:b;experts:e"); empty: the module's rules.
  std::string layout;
  /// The function to compile; empty: the module's only defined function.
  std::string function;
  /// Emit a remark for every dimension a conflicting rule leaves whole.
  bool explain = false;
  /// Verify the IR after every pass. The explorer, which runs the tested
  /// passes on thousands of candidates, turns it off.
  bool verify = true;
  /// Element type of everything but the router: "f32" (as written), "bf16"
  /// or "f16" (the `sy-selective-precision` pass).
  std::string precision = "f32";
};

/// Partitions `module` in place (when it has no `shard.grid` yet) and
/// returns the function to compile. Errors are emitted as diagnostics on the
/// module's context.
mlir::FailureOr<mlir::func::FuncOp>
partitionModule(mlir::ModuleOp module, const CompileOptions &options);

/// Partitions `module` in place (when it has no `shard.grid` yet) and
/// returns the executable of the chosen function. Errors are emitted as
/// diagnostics on the module's context.
mlir::FailureOr<std::string> compileToExecutable(mlir::ModuleOp module,
                                                 const CompileOptions &options,
                                                 ExecutableStats *stats = nullptr);

} // namespace switchyard

#endif // SWITCHYARD_COMPILER_COMPILE_H
