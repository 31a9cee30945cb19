//===- FuzzContext.h - the MLIR context of the compiler fuzzers -*- C++ -*-===//

#ifndef SWITCHYARD_FUZZ_FUZZCONTEXT_H
#define SWITCHYARD_FUZZ_FUZZCONTEXT_H

#include "switchyard/Compiler/Registration.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

namespace switchyard::fuzz {

/// One context with every Switchyard dialect loaded, made on first use and
/// kept for the whole run (a context per input would cost more than most
/// inputs); single-threaded, so that a run is deterministic. Diagnostics are
/// swallowed: an input that ends in one is a pass, not a finding.
inline mlir::MLIRContext &fuzzContext() {
  static mlir::MLIRContext *context = [] {
    mlir::DialectRegistry registry;
    registerAllDialects(registry);
    auto *context = new mlir::MLIRContext(registry);
    context->loadAllAvailableDialects();
    context->disableMultithreading();
    context->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
    return context;
  }();
  return *context;
}

} // namespace switchyard::fuzz

#endif // SWITCHYARD_FUZZ_FUZZCONTEXT_H
