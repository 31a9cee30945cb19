//===- CompilerContext.h - MLIR context for compiler embedders -*- C++ -*-===//
//
// What every embedder of the compiler sets up (the driver's commands, the
// test suites, the benchmarks): an MLIR context with Switchyard's dialects
// whose diagnostics print with their source line (`file:line:col: error:
// ...`, without the op dump) to a stream of the embedder's choice, and the
// source manager that parsed modules' locations refer to.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_COMPILER_COMPILERCONTEXT_H
#define SWITCHYARD_COMPILER_COMPILERCONTEXT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>

namespace switchyard {

class CompilerContext {
public:
  /// Diagnostics go to `os`, which must outlive the context.
  explicit CompilerContext(llvm::raw_ostream &os = llvm::errs(),
                           mlir::MLIRContext::Threading threading =
                               mlir::MLIRContext::Threading::ENABLED);

  mlir::MLIRContext *get() { return &context_; }

  /// Parses a module; null when it does not parse (the error is diagnosed).
  mlir::OwningOpRef<mlir::ModuleOp>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer);
  /// Parses `source`, called `name` in diagnostics.
  mlir::OwningOpRef<mlir::ModuleOp> parse(llvm::StringRef source,
                                          llvm::StringRef name);

private:
  mlir::MLIRContext context_;
  llvm::SourceMgr sourceMgr_;
  mlir::SourceMgrDiagnosticHandler handler_;
};

} // namespace switchyard

#endif // SWITCHYARD_COMPILER_COMPILERCONTEXT_H
