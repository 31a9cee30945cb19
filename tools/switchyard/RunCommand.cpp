//===- RunCommand.cpp - switchyard run ------------------------------------===//

#include "Commands.h"

#include "switchyard/Runtime/CpuRuntime.h"
#ifdef SWITCHYARD_HAVE_CUDA
#include "switchyard/Runtime/CudaRuntime.h"
#endif
#ifdef SWITCHYARD_HAVE_MPI
#include "switchyard/Runtime/MpiCollective.h"
#endif
#include "switchyard/Runtime/Npy.h"
#include "switchyard/Runtime/Random.h"
#include "switchyard/Runtime/SafeTensors.h"
#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>

using namespace llvm;
using namespace switchyard::runtime;

namespace switchyard::driver {

cl::SubCommand runCommand(
    "run",
    "Run an executable on the CPU mesh: one thread per device, in-process "
    "collectives. Under mpirun the mesh's devices are split evenly over the "
    "processes (rank r runs devices [r V, (r + 1) V)), which exchange data "
    "over MPI; rank 0 prints and writes the outputs and statistics summed "
    "over the ranks. --launch N starts such a job of N local processes "
    "itself.\n\n"
    "  switchyard run layer.syx --weights model.safetensors \\\n"
    "      --input x=x.npy --output out/ --timing\n"
    "  mpirun -np 4 switchyard run layer.syx --random-weights 1 "
    "--random-inputs 2\n"
    "  switchyard run layer.syx --launch 4 --random-weights 1 "
    "--random-inputs 2\n");

static cl::OptionCategory runCategory("run options");
static cl::opt<std::string> executablePath(cl::Positional, cl::Required,
                                           cl::desc("<model.syx>"),
                                           cl::sub(runCommand),
                                           cl::cat(runCategory));
static cl::opt<std::string> weightsPath(
    "weights",
    cl::desc("Weights: a .safetensors file, a sharded checkpoint's "
             "model.safetensors.index.json, or a directory holding either"),
    cl::value_desc("path"), cl::sub(runCommand), cl::cat(runCategory));
static cl::list<std::string> inputSpecs(
    "input",
    cl::desc("A run-time input as NAME=FILE.npy, or FILE.safetensors for all "
             "inputs named in it; repeat for several"),
    cl::value_desc("NAME=FILE"), cl::sub(runCommand), cl::cat(runCategory));
static cl::opt<std::string> outputPath(
    "output",
    cl::desc("Where to write the outputs: a directory (one NAME.npy each) or "
             "a FILE.safetensors"),
    cl::value_desc("path"), cl::sub(runCommand), cl::cat(runCategory));
static cl::opt<uint64_t> randomWeightsSeed(
    "random-weights",
    cl::desc("Instead of --weights, fill every weight from a normal "
             "distribution with this seed (to try a program without a "
             "checkpoint)"),
    cl::value_desc("seed"), cl::sub(runCommand), cl::cat(runCategory));
static cl::opt<uint64_t> randomInputsSeed(
    "random-inputs",
    cl::desc("Fill every run-time input not given by --input randomly with "
             "this seed (integers uniform in [0, 32))"),
    cl::value_desc("seed"), cl::sub(runCommand), cl::cat(runCategory));
static cl::opt<int> deviceCount(
    "devices",
    cl::desc("Virtual devices to run on; must equal the executable's mesh "
             "size (default: the mesh size)"),
    cl::init(0), cl::sub(runCommand), cl::cat(runCategory));
static cl::opt<std::string> backendName(
    "backend",
    cl::desc("Where the devices run: cpu (threads, the default) or cuda "
             "(virtual devices on one GPU, each with its own stream)"),
    cl::value_desc("cpu|cuda"), cl::init("cpu"), cl::sub(runCommand),
    cl::cat(runCategory));
static cl::opt<int> repeatCount("repeat",
                                cl::desc("Run this many times (for timing)"),
                                cl::init(1), cl::sub(runCommand),
                                cl::cat(runCategory));
static cl::opt<bool> printTiming(
    "timing",
    cl::desc("Print the wall time of each run and the time per op kind"),
    cl::sub(runCommand), cl::cat(runCategory));
static cl::opt<double> timeoutSeconds(
    "collective-timeout",
    cl::desc("Seconds a device waits in a collective before the run fails"),
    cl::init(60), cl::sub(runCommand), cl::cat(runCategory));

static cl::opt<int> launchCount(
    "launch",
    cl::desc("Run this command (without --launch) as N local processes of "
             "one MPI job, started by the mpiexec of the MPI switchyard was "
             "built with; as under mpirun -np N, each runs mesh size / N "
             "devices. Exit status and signals are the launcher's"),
    cl::value_desc("N"), cl::sub(runCommand), cl::cat(runCategory));

absl::StatusOr<HostTensor> narrowToInt32(HostTensor tensor, StringRef name) {
  if (tensor.dtype() == DType::I32)
    return tensor;
  if (tensor.dtype() != DType::I64)
    return absl::InvalidArgumentError(
        (name + " must hold integers, got " +
         std::string(dtypeName(tensor.dtype())))
            .str());
  absl::StatusOr<HostTensor> narrow =
      HostTensor::allocate(DType::I32, tensor.shape());
  if (!narrow.ok())
    return narrow.status();
  auto wide = tensor.span<int64_t>();
  auto out = narrow->span<int32_t>();
  for (size_t i = 0; i < wide.size(); ++i) {
    if (wide[i] < INT32_MIN || wide[i] > INT32_MAX)
      return absl::InvalidArgumentError(
          (name + " holds " + Twine(wide[i]) + ", outside the i32 range")
              .str());
    out[i] = static_cast<int32_t>(wide[i]);
  }
  return narrow;
}

#ifdef SWITCHYARD_HAVE_MPI
/// This process's MPI job, when an MPI launcher started it.
static std::unique_ptr<MpiJob> mpiJob;
#endif

/// Prints `status` as the driver's error and returns the exit code; in an
/// MPI job, ends every process of it instead.
static int fail(const absl::Status &status) {
  errs() << "switchyard run: ";
#ifdef SWITCHYARD_HAVE_MPI
  if (mpiJob)
    errs() << "rank " << mpiJob->rank() << ": ";
#endif
  errs() << status.ToString() << "\n";
#ifdef SWITCHYARD_HAVE_MPI
  if (mpiJob) {
    errs().flush();
    mpiJob->abort(1);
  }
#endif
  return 1;
}

static absl::StatusOr<std::map<std::string, HostTensor>> readInputs() {
  std::map<std::string, HostTensor> inputs;
  for (const std::string &spec : inputSpecs) {
    StringRef text(spec);
    if (text.ends_with(".safetensors") && !text.contains('=')) {
      SY_ASSIGN_OR_RETURN(Checkpoint file, Checkpoint::open(spec));
      for (const std::string &name : file.names()) {
        SY_ASSIGN_OR_RETURN(HostTensor tensor, file.read(name));
        inputs.insert_or_assign(name, std::move(tensor));
      }
      continue;
    }
    auto [name, path] = text.split('=');
    if (name.empty() || path.empty())
      return absl::InvalidArgumentError(absl::StrCat(
          "--input '", spec, "' must be NAME=FILE.npy or FILE.safetensors"));
    SY_ASSIGN_OR_RETURN(HostTensor tensor, readNpy(path.str()));
    // NumPy's default integers are int64; programs take i32 ids.
    if (tensor.dtype() == DType::I64) {
      SY_ASSIGN_OR_RETURN(tensor, narrowToInt32(std::move(tensor), name));
    }
    inputs.insert_or_assign(name.str(), std::move(tensor));
  }
  return inputs;
}

static absl::Status writeOutputs(const RunResult &result) {
  if (StringRef(outputPath).ends_with(".safetensors")) {
    std::vector<std::pair<std::string, const HostTensor *>> tensors;
    for (const auto &[name, tensor] : result.outputs)
      tensors.push_back({name, &tensor});
    return writeSafeTensors(outputPath, tensors);
  }
  if (std::error_code error = sys::fs::create_directories(outputPath))
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot create output directory '", outputPath.getValue(),
        "': ", error.message()));
  for (const auto &[name, tensor] : result.outputs) {
    SmallString<128> path(outputPath);
    sys::path::append(path, name + ".npy");
    SY_RETURN_IF_ERROR(writeNpy(path.str().str(), tensor));
    if (tensor.dtype() == DType::BF16)
      errs() << "switchyard run: note: output '" << name
             << "' is bf16, which .npy lacks: " << path
             << " holds it widened to f32 (the same values); a .safetensors "
                "output keeps bf16\n";
  }
  return absl::OkStatus();
}

/// "mean 0.0123, min -1.2, max 3.4" for float outputs.
static std::string summarize(const HostTensor &tensor) {
  if (tensor.dtype() != DType::F32 || tensor.numElements() == 0)
    return "";
  double sum = 0, lo = INFINITY, hi = -INFINITY;
  for (float value : tensor.span<float>()) {
    sum += value;
    lo = std::min<double>(lo, value);
    hi = std::max<double>(hi, value);
  }
  std::string text;
  raw_string_ostream os(text);
  os << format("mean %.6g, min %.6g, max %.6g", sum / tensor.numElements(),
               lo, hi);
  return text;
}

/// `--launch N`: replaces this process (exec) with the MPI launcher running
/// N copies of this command without --launch, so that the launcher's exit
/// status, and its handling of SIGINT and SIGTERM (forwarded to every rank),
/// are the command's own. Returns only on an error.
static int launch(int argc, char **argv) {
#ifndef SWITCHYARD_HAVE_MPI
  return fail(absl::FailedPreconditionError(
      "--launch: switchyard was built without MPI (install MPI and configure "
      "with -DSWITCHYARD_ENABLE_MPI=ON)"));
#else
  if (MpiJob::launched())
    return fail(absl::FailedPreconditionError(
        "--launch: this process was already started by an MPI launcher; give "
        "the number of processes either to the launcher (mpirun -np N) or to "
        "--launch, not both"));
  if (launchCount < 1)
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "--launch needs at least 1 process, got ", launchCount.getValue())));
  // Refuse a mesh that does not split over N processes here, once, rather
  // than in each of them.
  absl::StatusOr<Executable> executable = Executable::loadFile(executablePath);
  if (!executable.ok())
    return fail(executable.status());
  if (absl::StatusOr<int64_t> perProcess =
          MpiJob::devicesPerProcess(executable->mesh(), launchCount);
      !perProcess.ok())
    return fail(perProcess.status());

  std::vector<std::string> command = MpiJob::localLaunchCommand(launchCount);
  command.push_back(
      sys::fs::getMainExecutable(argv[0], reinterpret_cast<void *>(&launch)));
  for (int i = 1; i < argc; ++i) {
    StringRef arg(argv[i]);
    if (arg == "--launch" || arg == "-launch")
      ++i; // and its value
    else if (!arg.starts_with("--launch=") && !arg.starts_with("-launch="))
      command.push_back(arg.str());
  }
  std::vector<char *> args;
  for (std::string &arg : command)
    args.push_back(arg.data());
  args.push_back(nullptr);
  outs().flush();
  execvp(args[0], args.data());
  return fail(absl::FailedPreconditionError(absl::StrCat(
      "--launch: cannot start '", command[0], "': ", std::strerror(errno))));
#endif
}

int runRun(int argc, char **argv) {
  if (launchCount.getNumOccurrences())
    return launch(argc, argv);
#ifdef SWITCHYARD_HAVE_MPI
  if (MpiJob::launched()) {
    absl::StatusOr<std::unique_ptr<MpiJob>> job = MpiJob::initialize();
    if (!job.ok())
      return fail(job.status());
    mpiJob = std::move(*job);
  }
#endif
  absl::StatusOr<Executable> executable = Executable::loadFile(executablePath);
  if (!executable.ok())
    return fail(executable.status());
  int64_t meshDevices = executable->mesh().deviceCount();
  if (deviceCount != 0 && deviceCount != meshDevices)
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "the executable's mesh has ", meshDevices, " devices but --devices ",
        deviceCount.getValue(), " were asked for; compile for that mesh")));

  if (!weightsPath.empty() && randomWeightsSeed.getNumOccurrences())
    return fail(absl::InvalidArgumentError(
        "give either --weights or --random-weights, not both"));
  std::optional<Checkpoint> checkpoint;
  std::optional<CheckpointWeightSource> checkpointWeights;
  std::optional<MapWeightSource> generatedWeights;
  const WeightSource *weights = nullptr;
  if (!weightsPath.empty()) {
    absl::StatusOr<Checkpoint> opened = Checkpoint::open(weightsPath);
    if (!opened.ok())
      return fail(opened.status());
    checkpoint.emplace(std::move(*opened));
    weights = &checkpointWeights.emplace(*checkpoint);
  } else if (randomWeightsSeed.getNumOccurrences()) {
    absl::StatusOr<MapWeightSource> generated =
        randomWeights(*executable, randomWeightsSeed);
    if (!generated.ok())
      return fail(generated.status());
    weights = &generatedWeights.emplace(std::move(*generated));
  }
  absl::StatusOr<std::map<std::string, HostTensor>> inputs = readInputs();
  if (!inputs.ok())
    return fail(inputs.status());
  if (randomInputsSeed.getNumOccurrences()) {
    absl::StatusOr<std::map<std::string, HostTensor>> generated =
        randomInputs(*executable, randomInputsSeed);
    if (!generated.ok())
      return fail(generated.status());
    for (auto &[name, tensor] : *generated)
      inputs->try_emplace(name, std::move(tensor));
  }

  SessionOptions sessionOptions;
  bool printer = true;
  // The MPI job's size; 0 without one.
  int processes = 0;
#ifdef SWITCHYARD_HAVE_MPI
  if (mpiJob) {
    absl::StatusOr<std::vector<int64_t>> local =
        mpiJob->localDevices(executable->mesh());
    if (!local.ok())
      return fail(local.status());
    sessionOptions.localDevices = std::move(*local);
    sessionOptions.collectives = [](const Mesh &mesh, absl::Duration timeout) {
      return mpiJob->createCollectives(mesh, timeout);
    };
    printer = mpiJob->rank() == 0;
    processes = mpiJob->size();
  }
#endif
  std::unique_ptr<Session> session;
  if (backendName == "cuda") {
#ifdef SWITCHYARD_HAVE_MPI
    if (mpiJob)
      return fail(absl::FailedPreconditionError(
          "--backend cuda does not split its mesh over MPI processes (each "
          "would run all of it); run it without an MPI launcher or --launch, "
          "or use --backend cpu"));
#endif
#ifdef SWITCHYARD_HAVE_CUDA
    if (cudaDeviceCount() == 0)
      return fail(absl::FailedPreconditionError(
          "--backend cuda: no CUDA device"));
    absl::StatusOr<std::unique_ptr<CudaSession>> created =
        CudaSession::create(*executable, weights);
    if (!created.ok())
      return fail(created.status());
    session = std::move(*created);
#else
    return fail(absl::FailedPreconditionError(
        "--backend cuda: switchyard was built without CUDA (configure with "
        "-DSWITCHYARD_ENABLE_CUDA=ON)"));
#endif
  } else if (backendName == "cpu") {
    absl::StatusOr<std::unique_ptr<CpuSession>> created =
        CpuSession::create(*executable, weights, sessionOptions);
    if (!created.ok())
      return fail(created.status());
    session = std::move(*created);
  } else {
    return fail(absl::InvalidArgumentError(
        "--backend must be cpu or cuda, got '" + backendName + "'"));
  }
  RunOptions options;
  options.collectiveTimeout = absl::Seconds(timeoutSeconds.getValue());
  options.profileOps = printTiming;

  std::optional<RunResult> last;
  for (int i = 0; i < std::max(1, repeatCount.getValue()); ++i) {
    absl::StatusOr<RunResult> result = session->run(*inputs, options);
    if (!result.ok())
      return fail(result.status());
#ifdef SWITCHYARD_HAVE_MPI
    if (mpiJob)
      if (absl::Status status =
              mpiJob->sumStats(result->stats, options.collectiveTimeout);
          !status.ok())
        return fail(status);
#endif
    if (printTiming && printer)
      outs() << "run " << i + 1 << ": "
             << format("%.3f ms",
                       absl::ToDoubleMilliseconds(result->stats.wallTime))
             << (processes ? " (the slowest process)" : "") << "\n";
    last.emplace(std::move(*result));
  }

  if (!printer) {
#ifdef SWITCHYARD_HAVE_MPI
    mpiJob.reset();
#endif
    return 0;
  }
  outs() << "ran on " << meshDevices
         << (backendName == "cuda" ? " CUDA" : " CPU") << " device"
         << (meshDevices == 1 ? "" : "s");
  // Under MPI the statistics are summed over the processes (sumStats).
  std::string inProcesses;
  if (processes)
    inProcesses = (" in " + Twine(processes) + " MPI process" +
                   (processes == 1 ? "" : "es"))
                      .str();
  outs() << inProcesses << "\n"
         << "outputs:\n";
  for (const auto &[name, tensor] : last->outputs) {
    outs() << "  " << name << " [";
    llvm::interleaveComma(tensor.shape(), outs());
    outs() << "] " << std::string(dtypeName(tensor.dtype()));
    std::string summary = summarize(tensor);
    if (!summary.empty())
      outs() << "  " << summary;
    outs() << "\n";
  }
  outs() << "collectives (bytes moved, all devices" << inProcesses << "):\n";
  bool any = false;
  for (int kind = 0; kind < kCollectiveKindCount; ++kind) {
    const CollectiveStats &stats = last->stats.collectives[kind];
    if (stats.count == 0)
      continue;
    any = true;
    outs() << "  "
           << left_justify(std::string(collectiveKindName(
                               static_cast<CollectiveKind>(kind))),
                           15)
           << stats.count << " op(s), " << formatBytes(stats.bytes) << "\n";
  }
  if (!any)
    outs() << "  none\n";
  if (printTiming && !last->stats.opTimes.empty()) {
    outs() << "time per op kind (summed over devices" << inProcesses << "):\n";
    for (const OpKindTime &op : last->stats.opTimes)
      outs() << "  " << left_justify(op.kind, 21) << op.count << " x, "
             << format("%.3f ms", absl::ToDoubleMilliseconds(op.time)) << "\n";
  }
  if (!outputPath.empty())
    if (absl::Status status = writeOutputs(*last); !status.ok())
      return fail(status);
#ifdef SWITCHYARD_HAVE_MPI
  mpiJob.reset();
#endif
  return 0;
}

} // namespace switchyard::driver
