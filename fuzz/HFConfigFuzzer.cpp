//===- HFConfigFuzzer.cpp - libFuzzer target: Hugging Face config.json ----===//
//
// Any text given as a model's config.json must import into a module that
// verifies, or give a diagnostic; never crash.
//
//===----------------------------------------------------------------------===//

#include "fuzz/FuzzContext.h"
#include "switchyard/Compiler/HFImport.h"

#include "mlir/IR/Verifier.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext *context = &switchyard::fuzz::fuzzContext();
  // Small shapes keep each import fast; the config's sizes are the input.
  switchyard::HFImportOptions options;
  options.batch = 2;
  options.length = 4;
  options.targetLength = 3;
  // Every program kind, the forward one with and without labels, picked by
  // the input's size.
  options.program = static_cast<switchyard::HFProgram>(size % 3);
  options.labels =
      options.program == switchyard::HFProgram::Forward && size % 2 == 1;
  auto module = switchyard::importHuggingFaceConfigText(
      context, llvm::StringRef(reinterpret_cast<const char *>(data), size),
      options, mlir::UnknownLoc::get(context));
  // What the importer builds from a config it accepts must verify.
  if (succeeded(module) && failed(mlir::verify(**module)))
    std::abort();
  return 0;
}
