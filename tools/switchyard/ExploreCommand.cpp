//===- ExploreCommand.cpp - switchyard explore ----------------------------===//

#include "Commands.h"

#include "switchyard/Compiler/CompilerContext.h"
#include "switchyard/Compiler/Explore.h"
#include "switchyard/Compiler/HFImport.h"
#include "switchyard/Runtime/CpuRuntime.h"
#include "switchyard/Runtime/Random.h"

#include "absl/time/time.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cmath>

using namespace llvm;
using namespace switchyard;

namespace switchyard::driver {

cl::SubCommand exploreCommand(
    "explore",
    "Search mesh shapes and layout rules for a device count and rank them by "
    "a predicted step time.\n\n"
    "  switchyard explore bench/explore/switch-base-8.json --devices 8 \\\n"
    "      --hardware h100x8-nvlink --tokens 32768 --html report.html\n");

static cl::OptionCategory exploreCategory("explore options");
static cl::opt<std::string>
    modelPath(cl::Positional, cl::Required,
              cl::desc("<model.mlir | config.json | model directory>"),
              cl::sub(exploreCommand), cl::cat(exploreCategory));
static cl::opt<int64_t> deviceCount("devices", cl::Required,
                                    cl::desc("Devices of the mesh"),
                                    cl::sub(exploreCommand),
                                    cl::cat(exploreCategory));
static cl::opt<std::string> hardwareName(
    "hardware",
    cl::desc("Hardware profile: a name in explore/profiles (cpu-2core, "
             "h100x8-nvlink) or a .json file (default cpu-2core)"),
    cl::init("cpu-2core"), cl::value_desc("profile"), cl::sub(exploreCommand),
    cl::cat(exploreCategory));
static cl::opt<int64_t> tokenCount(
    "tokens",
    cl::desc("Hugging Face models: encoder tokens per step; the batch is "
             "tokens / length (default: one sequence per device)"),
    cl::sub(exploreCommand), cl::cat(exploreCategory));
static cl::opt<int64_t> encoderLength(
    "length", cl::desc("Hugging Face models: encoder sequence length"),
    cl::init(16), cl::sub(exploreCommand), cl::cat(exploreCategory));
static cl::opt<int64_t> decoderLength(
    "target-length", cl::desc("Hugging Face models: decoder sequence length"),
    cl::init(16), cl::sub(exploreCommand), cl::cat(exploreCategory));
static cl::list<std::string> splitDims(
    "dims",
    cl::desc("Dimensions that may be split, in rule order (default "
             "experts,batch,heads,d_ff,vocab,d_model)"),
    cl::CommaSeparated, cl::sub(exploreCommand), cl::cat(exploreCategory));
static cl::list<std::string> multiAxisDims(
    "multi-axis",
    cl::desc("Dimensions that may also be split over several mesh axes at "
             "once, e.g. batch,experts (d_ff:x,y)"),
    cl::CommaSeparated, cl::sub(exploreCommand), cl::cat(exploreCategory));
static cl::opt<bool> keepUnusedAxes(
    "keep-unused-axes",
    cl::desc("Also try rule sets that leave a mesh axis unused"),
    cl::sub(exploreCommand), cl::cat(exploreCategory));
static cl::opt<bool> keepRedundant(
    "keep-redundant",
    cl::desc("Also list candidates that cost exactly what one with fewer "
             "rules on the same mesh costs (their extra rules never apply)"),
    cl::sub(exploreCommand), cl::cat(exploreCategory));
static cl::opt<bool> exactModel(
    "exact",
    cl::desc("Hugging Face models: compile the whole model for every "
             "candidate instead of copies with one and two block periods "
             "per stack, extrapolated"),
    cl::sub(exploreCommand), cl::cat(exploreCategory));
static cl::opt<unsigned> threadCount(
    "threads",
    cl::desc("Threads that compile candidates (default: one per hardware "
             "thread)"),
    cl::init(0), cl::sub(exploreCommand), cl::cat(exploreCategory));
static cl::opt<int> tableRows("top",
                              cl::desc("Candidates to list (default 10)"),
                              cl::init(10), cl::sub(exploreCommand),
                              cl::cat(exploreCategory));
static cl::opt<bool> printJson("json",
                               cl::desc("Print every candidate as JSON"),
                               cl::sub(exploreCommand),
                               cl::cat(exploreCategory));
static cl::opt<std::string>
    htmlPath("html", cl::desc("Write a report of the top candidates"),
             cl::value_desc("file"), cl::sub(exploreCommand),
             cl::cat(exploreCategory));
static cl::opt<int> htmlCards("html-top",
                              cl::desc("Candidates the report shows (default 4)"),
                              cl::init(4), cl::sub(exploreCommand),
                              cl::cat(exploreCategory));
static cl::opt<int> measureCount(
    "measure",
    cl::desc("Run the top K candidates on the CPU mesh and compare measured "
             "with predicted time"),
    cl::init(0), cl::value_desc("K"), cl::sub(exploreCommand),
    cl::cat(exploreCategory));
static cl::opt<int> measureRepeats(
    "repeat", cl::desc("--measure: timed runs per candidate (median; default 3)"),
    cl::init(3), cl::sub(exploreCommand), cl::cat(exploreCategory));

static int fail(const Twine &message) {
  errs() << "switchyard explore: " << message << "\n";
  return 1;
}

/// A profile name resolves to explore/profiles/NAME.json in the source tree.
static Expected<HardwareProfile> resolveProfile(StringRef name) {
  if (name.ends_with(".json") || sys::fs::exists(name))
    return loadHardwareProfile(name);
  SmallString<256> path(SWITCHYARD_PROFILES_DIR);
  sys::path::append(path, name + ".json");
  if (!sys::fs::exists(path))
    return createStringError(inconvertibleErrorCode(),
                             "unknown hardware profile '" + name +
                                 "' (no file " + path + ")");
  return loadHardwareProfile(path);
}

static std::string formatSeconds(double seconds) {
  std::string text;
  raw_string_ostream os(text);
  if (seconds < 1e-3)
    os << format("%.1f us", seconds * 1e6);
  else if (seconds < 1)
    os << format("%.2f ms", seconds * 1e3);
  else
    os << format("%.2f s", seconds);
  return text;
}

static void printTable(ArrayRef<Candidate> candidates, size_t rows) {
  static const char *kinds[] = {"all_reduce", "all_gather", "reduce_scatter",
                                "all_to_all"};
  outs() << format("%-4s %-14s %-44s %10s %10s %10s", "rank", "mesh", "rules",
                   "time", "compute", "GFLOP");
  for (const char *kind : kinds)
    outs() << format(" %14s", kind);
  outs() << format(" %10s\n", "memory");
  for (size_t i = 0; i < std::min(rows, candidates.size()); ++i) {
    const Candidate &c = candidates[i];
    if (!c.compiled) {
      outs() << format("%-4zu %-14s %-44s ", i + 1, c.mesh.c_str(),
                       c.layout.c_str())
             << "failed: " << c.error << "\n";
      continue;
    }
    outs() << format("%-4zu %-14s %-44s %10s %10s %10.3f", i + 1,
                     c.mesh.c_str(),
                     c.layout.empty() ? "(replicated)" : c.layout.c_str(),
                     formatSeconds(c.totalSeconds).c_str(),
                     formatSeconds(c.computeSeconds).c_str(), c.flops / 1e9);
    for (const char *kind : kinds)
      outs() << format(" %14s",
                       c.collectives.count(kind)
                           ? formatBytes(c.collectives.lookup(kind).bytes).c_str()
                           : "-");
    outs() << format(" %10s", formatBytes(c.peakBytes).c_str())
           << (c.fits ? "" : " DOES NOT FIT") << "\n";
  }
}

/// Median wall time of `repeats` runs of one candidate on the CPU mesh.
static Expected<double> measure(mlir::ModuleOp model, const Candidate &c,
                                int repeats) {
  auto error = [](const Twine &message) {
    return createStringError(inconvertibleErrorCode(), message);
  };
  mlir::OwningOpRef<mlir::ModuleOp> module;
  FailureOr<std::string> bytes =
      compileCandidate(model, c.mesh, c.layout, module);
  if (failed(bytes))
    return error("cannot compile");
  using namespace runtime;
  absl::StatusOr<Executable> executable = Executable::loadBytes(*bytes);
  if (!executable.ok())
    return error(executable.status().ToString());
  absl::StatusOr<MapWeightSource> weights = randomWeights(*executable, 1);
  if (!weights.ok())
    return error(weights.status().ToString());
  absl::StatusOr<std::map<std::string, HostTensor>> inputs =
      randomInputs(*executable, 2);
  if (!inputs.ok())
    return error(inputs.status().ToString());
  absl::StatusOr<std::unique_ptr<CpuSession>> session =
      CpuSession::create(*executable, &*weights);
  if (!session.ok())
    return error(session.status().ToString());
  std::vector<double> times;
  for (int i = 0; i <= std::max(1, repeats); ++i) {
    absl::StatusOr<RunResult> result = (*session)->run(*inputs);
    if (!result.ok())
      return error(result.status().ToString());
    if (i > 0) // The first run warms the arenas up.
      times.push_back(absl::ToDoubleSeconds(result->stats.wallTime));
  }
  llvm::sort(times);
  return times[times.size() / 2];
}

int runExplore() {
  if (deviceCount <= 0)
    return fail("--devices must be a positive number, not " +
                Twine(deviceCount.getValue()));
  Expected<HardwareProfile> hardware = resolveProfile(hardwareName);
  if (!hardware)
    return fail(toString(hardware.takeError()));

  // Candidates are compiled one after another; the passes' thread pool
  // would only spin on this module's single function.
  CompilerContext compiler(errs(), mlir::MLIRContext::Threading::DISABLED);
  // What the search compiles, and the whole model that --measure runs.
  std::vector<ModelPart> parts;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  if (isHuggingFaceModelPath(modelPath)) {
    int64_t batch = deviceCount;
    if (tokenCount.getNumOccurrences()) {
      if (tokenCount <= 0 || tokenCount % encoderLength)
        return fail("--tokens " + Twine(tokenCount.getValue()) +
                    " must be a positive multiple of --length " +
                    Twine(encoderLength.getValue()));
      batch = tokenCount / encoderLength;
    }
    HFImportOptions shapes{batch, encoderLength, decoderLength};
    auto imported =
        importHuggingFaceParts(compiler.get(), modelPath, shapes, exactModel);
    if (failed(imported))
      return 1;
    parts = std::move(*imported);
    if (measureCount > 0 && parts.size() > 1) {
      auto whole = importHuggingFaceModel(compiler.get(), modelPath, shapes);
      if (failed(whole))
        return 1;
      module = std::move(*whole);
    }
  } else {
    std::string error;
    auto file = mlir::openInputFile(modelPath, &error);
    if (!file)
      return fail(error);
    auto parsed = compiler.parse(std::move(file));
    if (!parsed)
      return 1;
    parts.push_back({std::move(parsed), 1});
  }
  mlir::ModuleOp whole = module ? *module : *parts.front().module;

  ExploreOptions options;
  options.devices = deviceCount;
  options.keepUnusedAxes = keepUnusedAxes;
  options.keepRedundant = keepRedundant;
  options.multiAxisDims.assign(multiAxisDims.begin(), multiAxisDims.end());
  options.threads = threadCount;
  if (!splitDims.empty())
    options.dims.assign(splitDims.begin(), splitDims.end());
  ExploreResult result = explore(parts, *hardware, options);
  size_t compiled = llvm::count_if(
      result.candidates, [](const Candidate &c) { return c.compiled; });
  size_t fitting = llvm::count_if(result.candidates,
                                  [](const Candidate &c) { return c.fits; });

  if (printJson) {
    json::Array list;
    for (const Candidate &c : result.candidates)
      list.push_back(toJSON(c));
    json::Object root{{"model", modelPath.getValue()},
                      {"devices", deviceCount.getValue()},
                      {"hardware", hardware->name},
                      {"mesh_shapes", result.meshShapes},
                      {"enumerated", result.enumerated},
                      {"pruned", result.pruned},
                      {"redundant", result.redundant},
                      {"compiled", static_cast<int64_t>(compiled)},
                      {"seconds", result.seconds},
                      {"extrapolated", parts.size() > 1},
                      {"candidates", std::move(list)}};
    outs() << formatv("{0:2}", json::Value(std::move(root))) << "\n";
  } else {
    outs() << "explored " << result.meshShapes << " mesh shape"
           << (result.meshShapes == 1 ? "" : "s") << ", "
           << result.enumerated << " rule sets: " << result.pruned
           << " pruned, " << result.candidates.size() + result.redundant
           << " compiled (" << compiled + result.redundant << " ok) in "
           << format("%.2f s, %.1f candidates/s", result.seconds,
                     (result.candidates.size() + result.redundant) /
                         std::max(result.seconds, 1e-9))
           << "\n" << result.redundant
           << " left out: equal in cost to one with fewer rules; "
           << result.candidates.size() << " listed, " << fitting
           << " fit in memory"
           << "\nhardware: " << hardware->name << "\n";
    if (parts.size() > 1)
      outs() << "model: extrapolated from " << parts.size()
             << " copies with one and two block periods per stack "
                "(--exact compiles the whole model)\n";
    printTable(result.candidates, tableRows);
  }

  if (!htmlPath.empty()) {
    std::vector<Candidate> top;
    for (const Candidate &c : result.candidates)
      if (c.compiled && static_cast<int>(top.size()) < htmlCards)
        top.push_back(c);
    std::string error;
    auto out = mlir::openOutputFile(htmlPath, &error);
    if (!out)
      return fail(error);
    out->os() << renderHtmlReport(top, *hardware,
                                  sys::path::filename(modelPath), deviceCount);
    out->keep();
  }

  if (measureCount > 0) {
    SmallVector<double> predicted, measured;
    outs() << "measured on the CPU mesh (median of " << measureRepeats
           << " runs):\n"
           << format("%-4s %-14s %-44s %12s %12s\n", "rank", "mesh", "rules",
                     "predicted", "measured");
    for (size_t i = 0;
         i < result.candidates.size() && predicted.size() <
                                             static_cast<size_t>(measureCount);
         ++i) {
      const Candidate &c = result.candidates[i];
      if (!c.compiled)
        continue;
      Expected<double> seconds = measure(whole, c, measureRepeats);
      if (!seconds)
        return fail("measuring " + c.mesh + " " + c.layout + ": " +
                    toString(seconds.takeError()));
      predicted.push_back(c.totalSeconds);
      measured.push_back(*seconds);
      outs() << format("%-4zu %-14s %-44s %12s %12s\n", i + 1, c.mesh.c_str(),
                       c.layout.empty() ? "(replicated)" : c.layout.c_str(),
                       formatSeconds(c.totalSeconds).c_str(),
                       formatSeconds(*seconds).c_str());
    }
    double rho = rankCorrelation(predicted, measured);
    outs() << "rank correlation (Spearman) of predicted and measured: "
           << (std::isnan(rho) ? std::string("n/a")
                               : formatv("{0:F2}", rho).str())
           << "\n";
  }
  return 0;
}

} // namespace switchyard::driver
