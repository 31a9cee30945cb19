//===- Commands.h - the switchyard driver's subcommands ---------*- C++ -*-===//

#ifndef SWITCHYARD_TOOLS_SWITCHYARD_COMMANDS_H
#define SWITCHYARD_TOOLS_SWITCHYARD_COMMANDS_H

#include "switchyard/Runtime/CpuRuntime.h"
#include "switchyard/Runtime/SafeTensors.h"
#include "switchyard/Runtime/Tensor.h"

#include "absl/status/statusor.h"
#include "llvm/Support/CommandLine.h"

#include <functional>

namespace switchyard::driver {

extern llvm::cl::SubCommand compileCommand;
extern llvm::cl::SubCommand runCommand;
extern llvm::cl::SubCommand generateCommand;
extern llvm::cl::SubCommand exploreCommand;

/// `switchyard compile`: model to executable. Returns the exit code.
int runCompile();
/// `switchyard run`: executes an executable on the CPU mesh. `argv` is the
/// driver's command line, which --launch runs again in every process.
int runRun(int argc, char **argv);
/// `switchyard generate`: greedy decoding of a Hugging Face model.
int runGenerate();
/// `switchyard explore`: searches meshes and layout rules.
int runExplore();

/// A session of `executable` on `backend` ("cpu", with `cpuOptions`, or
/// "cuda", the mesh as virtual devices on one GPU), every device in this
/// process; an error for another backend, a build without CUDA or no GPU.
absl::StatusOr<std::unique_ptr<runtime::Session>>
createSession(llvm::StringRef backend, const runtime::Executable &executable,
              const runtime::WeightSource *weights,
              const runtime::SessionOptions &cpuOptions = {});

/// An integer input as i32, the type of ids in programs; int64 (NumPy's
/// default) is narrowed, values outside the i32 range are an error.
absl::StatusOr<runtime::HostTensor> narrowToInt32(runtime::HostTensor tensor,
                                                  llvm::StringRef name);

/// Whether `checkpoint` holds a tensor of a given name, for
/// HFImportOptions::hasWeight.
std::function<bool(llvm::StringRef)>
checkpointHas(const runtime::Checkpoint &checkpoint);

/// "1.5 MiB" and the like.
std::string formatBytes(int64_t bytes);

} // namespace switchyard::driver

#endif // SWITCHYARD_TOOLS_SWITCHYARD_COMMANDS_H
