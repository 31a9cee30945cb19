//===- switchyard.cpp - the Switchyard driver -----------------------------===//
//
// switchyard compile MODEL --mesh ... --layout ... -o model.syx
// switchyard run model.syx --weights W.safetensors --input NAME=FILE ...
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Switchyard: compile Switch Transformer models for a device mesh and "
      "run them.\n\n"
      "  switchyard compile MODEL.mlir --mesh b:4 --layout 'batch:b' -o m.syx\n"
      "  switchyard run m.syx --weights w.safetensors --input x=x.npy "
      "--output out/\n"
      "  switchyard generate model_dir --input input_ids=ids.npy "
      "--max-new-tokens 8\n"
      "  switchyard explore config.json --devices 8 --hardware h100x8-nvlink\n\n"
      "Run 'switchyard SUBCOMMAND --help' for the options of each.\n");
  if (switchyard::driver::compileCommand)
    return switchyard::driver::runCompile();
  if (switchyard::driver::runCommand)
    return switchyard::driver::runRun(argc, argv);
  if (switchyard::driver::generateCommand)
    return switchyard::driver::runGenerate();
  if (switchyard::driver::exploreCommand)
    return switchyard::driver::runExplore();
  errs() << "switchyard: give a subcommand (compile, run, generate, explore); see "
            "--help\n";
  return 1;
}
