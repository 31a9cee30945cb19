//===- CompilerContext.cpp - an MLIR context for embedding the compiler ---===//

#include "switchyard/Compiler/CompilerContext.h"
#include "switchyard/Compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"

namespace switchyard {

namespace {
mlir::DialectRegistry allDialects() {
  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  return registry;
}
} // namespace

CompilerContext::CompilerContext(llvm::raw_ostream &os,
                                 mlir::MLIRContext::Threading threading)
    : context_(allDialects(), threading), handler_(sourceMgr_, &context_, os) {
  context_.printOpOnDiagnostic(false);
}

mlir::OwningOpRef<mlir::ModuleOp>
CompilerContext::parse(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  sourceMgr_.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  return mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr_, &context_);
}

mlir::OwningOpRef<mlir::ModuleOp> CompilerContext::parse(llvm::StringRef source,
                                                         llvm::StringRef name) {
  return parse(llvm::MemoryBuffer::getMemBufferCopy(source, name));
}

} // namespace switchyard
