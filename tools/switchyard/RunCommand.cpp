//===- RunCommand.cpp - switchyard run ------------------------------------===//

#include "Commands.h"
#include "LocalJob.h"

#include "switchyard/Runtime/CpuRuntime.h"
#ifdef SWITCHYARD_HAVE_CUDA
#include "switchyard/Runtime/CudaRuntime.h"
#endif
#ifdef SWITCHYARD_HAVE_NCCL
#include "switchyard/Runtime/NcclJob.h"
#endif
#ifdef SWITCHYARD_HAVE_MPI
#include "switchyard/Runtime/MpiCollective.h"
#endif
#include "switchyard/Runtime/Npy.h"
#include "switchyard/Runtime/Random.h"
#include "switchyard/Runtime/Rendezvous.h"
#include "switchyard/Runtime/SafeTensors.h"
#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <csignal>
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
    "With --backend cuda the devices are virtual devices on one GPU, or, "
    "under mpirun or --launch N, one GPU per process (the mesh must have N "
    "devices; rank r runs device r, on the GPU of its rank on its machine), "
    "exchanging data over NCCL. --launch then starts the processes itself and "
    "serves their rendezvous, without MPI.\n\n"
    "  switchyard run layer.syx --weights model.safetensors \\\n"
    "      --input x=x.npy --output out/ --timing\n"
    "  mpirun -np 4 switchyard run layer.syx --random-weights 1 "
    "--random-inputs 2\n"
    "  switchyard run layer.syx --launch 4 --random-weights 1 "
    "--random-inputs 2\n"
    "  switchyard run layer.syx --backend cuda --launch 8 --random-weights 1 "
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
             "(virtual devices on one GPU, each with its own stream; one GPU "
             "per process under mpirun or --launch)"),
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
    cl::desc("Seconds a device waits in a collective before the run fails "
             "(and, in a job of several processes, a process waits for the "
             "others to join)"),
    cl::init(60), cl::sub(runCommand), cl::cat(runCategory));

static cl::opt<int> launchCount(
    "launch",
    cl::desc("Run this command (without --launch) as N local processes of "
             "one job. --backend cpu: an MPI job, started by the mpiexec of "
             "the MPI switchyard was built with; as under mpirun -np N, each "
             "runs mesh size / N devices; exit status and signals are the "
             "launcher's. --backend cuda: one process per GPU (the mesh must "
             "have N devices), started here, meeting at a rendezvous served "
             "here; when one fails the others are ended"),
    cl::value_desc("N"), cl::sub(runCommand), cl::cat(runCategory));

absl::StatusOr<std::unique_ptr<Session>>
createSession(StringRef backend, const Executable &executable,
              const WeightSource *weights, const SessionOptions &cpuOptions) {
  if (backend == "cpu") {
    absl::StatusOr<std::unique_ptr<CpuSession>> session =
        CpuSession::create(executable, weights, cpuOptions);
    if (!session.ok())
      return session.status();
    return std::unique_ptr<Session>(std::move(*session));
  }
  if (backend != "cuda")
    return absl::InvalidArgumentError(
        ("--backend must be cpu or cuda, got '" + backend + "'").str());
#ifdef SWITCHYARD_HAVE_CUDA
  if (cudaDeviceCount() == 0)
    return absl::FailedPreconditionError("--backend cuda: no CUDA device");
  absl::StatusOr<std::unique_ptr<CudaSession>> session =
      CudaSession::create(executable, weights);
  if (!session.ok())
    return session.status();
  return std::unique_ptr<Session>(std::move(*session));
#else
  return absl::FailedPreconditionError(
      "--backend cuda: switchyard was built without CUDA (configure with "
      "-DSWITCHYARD_ENABLE_CUDA=ON)");
#endif
}

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
/// This process's place when `--launch` started it without MPI.
static std::optional<JobPlace> launchedPlace;

/// Prints `status` as the driver's error and returns the exit code; in an
/// MPI job, ends every process of it instead.
static int fail(const absl::Status &status) {
  // One write, so that the lines of several processes do not interleave.
  std::string line = "switchyard run: ";
#ifdef SWITCHYARD_HAVE_MPI
  if (mpiJob)
    absl::StrAppend(&line, "rank ", mpiJob->rank(), ": ");
#endif
  if (launchedPlace)
    absl::StrAppend(&line, "rank ", launchedPlace->rank, ": ");
  absl::StrAppend(&line, status.ToString(), "\n");
  errs() << line;
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

/// This command line without --launch and its value.
static std::vector<std::string> withoutLaunch(int argc, char **argv,
                                              void *anchor) {
  std::vector<std::string> command = {
      sys::fs::getMainExecutable(argv[0], anchor)};
  for (int i = 1; i < argc; ++i) {
    StringRef arg(argv[i]);
    if (arg == "--launch" || arg == "-launch")
      ++i; // and its value
    else if (!arg.starts_with("--launch=") && !arg.starts_with("-launch="))
      command.push_back(arg.str());
  }
  return command;
}

/// `--launch N --backend cuda`: N processes of this command, one GPU each,
/// started and met here (runLocalJob).
static int launchGpuProcesses(int argc, char **argv, const Mesh &mesh) {
  if (std::getenv(kRankVariable))
    return fail(absl::FailedPreconditionError(
        "--launch: this process was itself started by --launch"));
  if (mesh.deviceCount() != launchCount)
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "--launch ", launchCount.getValue(),
        " --backend cuda runs one mesh device per process (one GPU each), "
        "but the executable's mesh has ",
        mesh.deviceCount(),
        " devices; launch that many, or run the mesh as virtual devices on "
        "one GPU without --launch")));
  outs().flush();
  return runLocalJob(
      withoutLaunch(argc, argv, reinterpret_cast<void *>(&launchGpuProcesses)),
      launchCount, absl::Seconds(timeoutSeconds.getValue()));
}

/// `--launch N`: replaces this process (exec) with the MPI launcher running
/// N copies of this command without --launch, so that the launcher's exit
/// status, and its handling of SIGINT and SIGTERM (forwarded to every rank),
/// are the command's own. Returns only on an error.
static int launch(int argc, char **argv) {
#ifdef SWITCHYARD_HAVE_MPI
  if (MpiJob::launched())
    return fail(absl::FailedPreconditionError(
        "--launch: this process was already started by an MPI launcher; give "
        "the number of processes either to the launcher (mpirun -np N) or to "
        "--launch, not both"));
#endif
  if (launchCount < 1)
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "--launch needs at least 1 process, got ", launchCount.getValue())));
  // Refuse a mesh that does not fit N processes here, once, rather than in
  // each of them.
  absl::StatusOr<Executable> executable = Executable::loadFile(executablePath);
  if (!executable.ok())
    return fail(executable.status());
  if (backendName == "cuda")
    return launchGpuProcesses(argc, argv, executable->mesh());
#ifndef SWITCHYARD_HAVE_MPI
  return fail(absl::FailedPreconditionError(
      "--launch: switchyard was built without MPI (install MPI and configure "
      "with -DSWITCHYARD_ENABLE_MPI=ON)"));
#else
  if (absl::StatusOr<int64_t> perProcess =
          MpiJob::devicesPerProcess(executable->mesh(), launchCount);
      !perProcess.ok())
    return fail(perProcess.status());

  std::vector<std::string> command = MpiJob::localLaunchCommand(launchCount);
  for (std::string &arg :
       withoutLaunch(argc, argv, reinterpret_cast<void *>(&launch)))
    command.push_back(std::move(arg));
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

#ifdef SWITCHYARD_HAVE_NCCL
/// Joins the NCCL job of this process's launcher (`--launch`: the
/// rendezvous; mpirun: an MPI broadcast) on the GPU of its rank on this
/// machine.
static absl::StatusOr<std::unique_ptr<NcclJob>>
joinNcclJob(absl::Duration timeout) {
  int rank = 0, size = 1, gpu = 0;
  if (launchedPlace) {
    rank = gpu = launchedPlace->rank;
    size = launchedPlace->size;
  }
#ifdef SWITCHYARD_HAVE_MPI
  if (mpiJob) {
    rank = mpiJob->rank();
    size = mpiJob->size();
    gpu = mpiJob->nodeRank();
  }
#endif
  std::string id;
  if (rank == 0) {
    SY_ASSIGN_OR_RETURN(id, NcclJob::newUniqueId());
  }
  if (launchedPlace) {
    SY_ASSIGN_OR_RETURN(id, rendezvous(*launchedPlace, id, timeout));
  }
#ifdef SWITCHYARD_HAVE_MPI
  if (mpiJob)
    SY_RETURN_IF_ERROR(mpiJob->broadcast(id, timeout));
#endif
  const int gpus = cudaDeviceCount();
  if (gpus == 0)
    return absl::FailedPreconditionError("--backend cuda: no CUDA device");
  if (gpu >= gpus)
    return absl::FailedPreconditionError(absl::StrCat(
        "--backend cuda: this process takes GPU ", gpu,
        " (one process per GPU, as NCCL requires) but this machine has ",
        gpus, "; to run a mesh on fewer GPUs, run it as virtual devices on "
              "one GPU in one process (without --launch or mpirun)"));
  return NcclJob::create(rank, size, id, gpu);
}
#endif

int runRun(int argc, char **argv) {
  if (launchCount.getNumOccurrences())
    return launch(argc, argv);
  absl::StatusOr<std::optional<JobPlace>> place = jobPlaceFromEnvironment();
  if (!place.ok())
    return fail(place.status());
  launchedPlace = *place;
  // A launched process ends with its launcher, so that none is left waiting
  // for peers that nothing will start or end. (One whose launcher ended
  // before this gives up at the rendezvous after --collective-timeout.)
  if (launchedPlace)
    prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (launchedPlace && backendName != "cuda")
    return fail(absl::FailedPreconditionError(absl::StrCat(
        kRankVariable, " is set, as by --launch --backend cuda, but --backend "
        "is ", backendName.getValue(), "; cpu processes run under MPI")));
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
  // A job that --launch started has no MPI to sum its statistics over: they
  // are rank 0's.
  if (launchedPlace) {
    printer = launchedPlace->rank == 0;
    processes = launchedPlace->size;
  }
#ifdef SWITCHYARD_HAVE_NCCL
  // Declared before the session, which uses it, so that it outlives it.
  std::unique_ptr<NcclJob> ncclJob;
#endif
  std::unique_ptr<Session> session;
  if (backendName == "cuda" && processes) {
    // One GPU per process.
#ifdef SWITCHYARD_HAVE_NCCL
    absl::StatusOr<std::unique_ptr<NcclJob>> joined =
        joinNcclJob(absl::Seconds(timeoutSeconds.getValue()));
    if (!joined.ok())
      return fail(joined.status());
    ncclJob = std::move(*joined);
    CudaSessionOptions cudaOptions;
    cudaOptions.job = ncclJob.get();
    absl::StatusOr<std::unique_ptr<CudaSession>> created =
        CudaSession::create(*executable, weights, cudaOptions);
    if (!created.ok())
      return fail(created.status());
    session = std::move(*created);
#else
    return fail(absl::FailedPreconditionError(
        "--backend cuda across processes: switchyard was built without "
        "NCCL (configure with -DSWITCHYARD_ENABLE_NCCL=ON)"));
#endif
  } else {
    absl::StatusOr<std::unique_ptr<Session>> created =
        createSession(backendName, *executable, weights, sessionOptions);
    if (!created.ok())
      return fail(created.status());
    session = std::move(*created);
  }
  RunOptions options;
  options.collectiveTimeout = absl::Seconds(timeoutSeconds.getValue());
  options.profileOps = printTiming;

  std::optional<RunResult> last;
  for (int i = 0; i < std::max(1, repeatCount.getValue()); ++i) {
    // Later runs write into the first run's outputs.
    if (last)
      for (auto &[name, tensor] : last->outputs)
        options.outputBuffers[name] = &tensor;
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
             << (launchedPlace ? " (rank 0)"
                 : processes   ? " (the slowest process)"
                               : "")
             << "\n";
    if (last)
      last->stats = std::move(result->stats);
    else
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
    inProcesses = (" in " + Twine(processes) + (launchedPlace ? "" : " MPI") +
                   " process" + (processes == 1 ? "" : "es"))
                      .str();
  const std::string devicesCounted =
      launchedPlace ? "rank 0's device" : "all devices" + inProcesses;
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
  outs() << "collectives (bytes moved, " << devicesCounted << "):\n";
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
    outs() << "time per op kind (summed over "
           << (launchedPlace ? "rank 0's device" : "devices" + inProcesses)
           << "):\n";
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
