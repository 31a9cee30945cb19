//===- CompileCommand.cpp - switchyard compile ----------------------------===//

#include "Commands.h"

#include "switchyard/Compiler/Compile.h"
#include "switchyard/Compiler/CompilerContext.h"
#include "switchyard/Compiler/HFImport.h"
#include "switchyard/Runtime/SafeTensors.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/ToolOutputFile.h"

#include <optional>

using namespace llvm;
using namespace switchyard;

namespace switchyard::driver {

cl::SubCommand compileCommand(
    "compile",
    "Compile a model into an executable for a device mesh.\n\n"
    "  switchyard compile examples/switch_moe_layer.mlir \\\n"
    "      --mesh b:2,e:2 --layout 'batch:b;experts:e' -o layer.syx --stats\n");

static cl::OptionCategory compileCategory("compile options");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.mlir | config.json | model directory>"),
                                      cl::sub(compileCommand),
                                      cl::cat(compileCategory));
static cl::opt<std::string>
    outputPath("o", cl::desc("Executable to write (default: model name + .syx)"),
               cl::value_desc("file"), cl::sub(compileCommand),
               cl::cat(compileCategory));
static cl::opt<std::string>
    meshSpec("mesh",
             cl::desc("Device mesh in Mesh TF syntax, e.g. b:4,e:2 "
                      "(default: the model's mtf.mesh)"),
             cl::value_desc("axes"), cl::sub(compileCommand),
             cl::cat(compileCategory));
static cl::opt<std::string> layoutSpec(
    "layout",
    cl::desc("Layout rules in Mesh TF syntax, e.g. 'batch:b;experts:e' "
             "(default: the model's mtf.layout; none: all replicated)"),
    cl::value_desc("rules"), cl::sub(compileCommand), cl::cat(compileCategory));
static cl::opt<std::string>
    functionName("function", cl::desc("Function to compile (default: the only one)"),
                 cl::value_desc("name"), cl::sub(compileCommand),
                 cl::cat(compileCategory));
static cl::opt<int64_t> batchSize(
    "batch",
    cl::desc("Hugging Face models: sequences per batch (default 1)"),
    cl::init(1), cl::sub(compileCommand), cl::cat(compileCategory));
static cl::opt<int64_t> encoderLength(
    "length", cl::desc("Hugging Face models: encoder sequence length (default 16)"),
    cl::init(16), cl::sub(compileCommand), cl::cat(compileCategory));
static cl::opt<int64_t> decoderLength(
    "target-length",
    cl::desc("Hugging Face models: decoder sequence length (default 16)"),
    cl::init(16), cl::sub(compileCommand), cl::cat(compileCategory));
static cl::opt<std::string> programKind(
    "program",
    cl::desc("Hugging Face models: forward (the default: encoder and decoder "
             "over whole sequences), or one of the two programs of cached "
             "generation: encoder (also each decoder block's cross-attention "
             "keys and values) or decoder-step (one decoder position with a "
             "key/value cache of --target-length positions)"),
    cl::value_desc("kind"), cl::init("forward"), cl::sub(compileCommand),
    cl::cat(compileCategory));
static cl::opt<bool> withLabels(
    "labels",
    cl::desc("Hugging Face models, forward program: also take 'labels' "
             "[batch, target_length] (-100 ignores a position) and return "
             "'loss' (cross-entropy plus the router losses times the config's "
             "router_z_loss_coef and router_aux_loss_coef) and "
             "'cross_entropy'"),
    cl::sub(compileCommand), cl::cat(compileCategory));
static cl::opt<std::string> precision(
    "precision",
    cl::desc("Element type of everything but the router: f32 (as the model "
             "is written), bf16 or f16. The router, its softmax and the "
             "router losses stay float32 (selective precision); weights "
             "convert at load; inputs and outputs keep their types"),
    cl::value_desc("type"), cl::init("f32"), cl::sub(compileCommand),
    cl::cat(compileCategory));
static cl::opt<bool> printStats(
    "stats",
    cl::desc("Print the buffer plan's peak bytes per device, the largest "
             "buffers and the bytes each collective kind sends per device"),
    cl::sub(compileCommand), cl::cat(compileCategory));
static cl::opt<std::string> deviceMemory(
    "device-memory",
    cl::desc("Memory of one device, e.g. 16GiB (suffixes K/KiB, M/MiB, G/GiB, "
             "T/TiB are powers of 1024; KB, MB, GB, TB of 1000): a program "
             "whose buffer plan peaks above it is refused, naming the "
             "largest buffers"),
    cl::value_desc("bytes"), cl::sub(compileCommand), cl::cat(compileCategory));
static cl::opt<bool>
    explainLayouts("explain",
                   cl::desc("Say which dimension each conflicting layout rule "
                            "leaves whole"),
                   cl::sub(compileCommand), cl::cat(compileCategory));
static cl::opt<std::string>
    irOutput("print-ir",
             cl::desc("Also write the partitioned IR to this file (- for stdout)"),
             cl::value_desc("file"), cl::sub(compileCommand),
             cl::cat(compileCategory));

std::function<bool(StringRef)>
checkpointHas(const runtime::Checkpoint &checkpoint) {
  return [&checkpoint](StringRef name) {
    return checkpoint.find(absl::string_view(name.data(), name.size())) !=
           nullptr;
  };
}

std::string formatBytes(int64_t bytes) {
  std::string text;
  raw_string_ostream os(text);
  if (bytes < 1024)
    os << bytes << " B";
  else if (bytes < 1024 * 1024)
    os << format("%.1f KiB", bytes / 1024.0);
  else if (bytes < 1024LL * 1024 * 1024)
    os << format("%.1f MiB", bytes / (1024.0 * 1024));
  else
    os << format("%.2f GiB", bytes / (1024.0 * 1024 * 1024));
  return text;
}

/// "16GiB", "512 MB", "1048576": a byte count with an optional unit.
static Expected<int64_t> parseBytes(StringRef text) {
  StringRef digits = text.trim();
  StringRef unit = digits.drop_while(llvm::isDigit);
  digits = digits.take_front(digits.size() - unit.size());
  unit = unit.trim();
  static const std::pair<StringRef, int64_t> kUnits[] = {
      {"", 1},           {"B", 1},
      {"K", 1LL << 10},  {"KiB", 1LL << 10}, {"KB", 1000},
      {"M", 1LL << 20},  {"MiB", 1LL << 20}, {"MB", 1000000},
      {"G", 1LL << 30},  {"GiB", 1LL << 30}, {"GB", 1000000000},
      {"T", 1LL << 40},  {"TiB", 1LL << 40}, {"TB", 1000000000000}};
  uint64_t count = 0;
  for (auto [name, scale] : kUnits)
    if (unit == name && !digits.getAsInteger(10, count) && count > 0 &&
        count <= uint64_t(INT64_MAX / scale))
      return int64_t(count) * scale;
  return createStringError(
      inconvertibleErrorCode(),
      "--device-memory '" + text +
          "' is not a positive byte count such as 16GiB, 512MB or 1048576");
}

static void printCompileStats(const ExecutableStats &stats, StringRef output,
                              size_t fileBytes) {
  outs() << "executable: " << output << " (" << formatBytes(fileBytes) << ")\n"
         << "ops: " << stats.numOps << ", values: " << stats.numValues << "\n"
         << "peak memory per device: " << formatBytes(stats.arenaBytes)
         << " (weights and inputs " << formatBytes(stats.residentBytes)
         << "; " << formatBytes(stats.unplannedBytes)
         << " without buffer reuse)\n"
         << "largest buffers:\n";
  for (const auto &[description, bytes] : stats.largestValues)
    outs() << "  " << formatBytes(bytes) << "  " << description << "\n";
  outs() << "collectives per device:\n";
  if (stats.collectives.empty())
    outs() << "  none\n";
  SmallVector<StringRef> kinds;
  for (const auto &entry : stats.collectives)
    kinds.push_back(entry.getKey());
  llvm::sort(kinds);
  for (StringRef kind : kinds) {
    auto [count, bytes] = stats.collectives.lookup(kind);
    outs() << "  " << left_justify(kind, 15) << count << " x, "
           << formatBytes(bytes) << " sent\n";
  }
}

int runCompile() {
  CompilerContext compiler;

  mlir::OwningOpRef<mlir::ModuleOp> module;
  if (isHuggingFaceModelPath(modelPath)) {
    std::optional<HFProgram> program = parseHFProgram(programKind);
    if (!program) {
      errs() << "switchyard compile: unknown --program '" << programKind
             << "'; expected forward, encoder or decoder-step\n";
      return 1;
    }
    if (withLabels && *program != HFProgram::Forward) {
      errs() << "switchyard compile: --labels needs the forward program\n";
      return 1;
    }
    HFImportOptions importOptions{batchSize, encoderLength, decoderLength,
                                  *program, withLabels};
    // A model directory's checkpoint says whether the head is untied.
    std::optional<runtime::Checkpoint> checkpoint;
    if (sys::fs::is_directory(modelPath))
      if (absl::StatusOr<runtime::Checkpoint> opened =
              runtime::Checkpoint::open(modelPath);
          opened.ok()) {
        checkpoint.emplace(std::move(*opened));
        importOptions.hasWeight = checkpointHas(*checkpoint);
      }
    auto imported = importHuggingFaceModel(compiler.get(), modelPath,
                                           importOptions);
    if (failed(imported))
      return 1;
    module = std::move(*imported);
  } else {
    if (withLabels) {
      errs() << "switchyard compile: --labels applies to Hugging Face models, "
                "not to '"
             << modelPath << "'\n";
      return 1;
    }
    std::string error;
    auto file = mlir::openInputFile(modelPath, &error);
    if (!file) {
      errs() << "switchyard compile: " << error << "\n";
      return 1;
    }
    module = compiler.parse(std::move(file));
    if (!module)
      return 1;
  }

  std::optional<int64_t> memoryLimit;
  if (deviceMemory.getNumOccurrences()) {
    Expected<int64_t> bytes = parseBytes(deviceMemory);
    if (!bytes) {
      errs() << "switchyard compile: " << toString(bytes.takeError()) << "\n";
      return 1;
    }
    memoryLimit = *bytes;
  }

  CompileOptions options{meshSpec, layoutSpec, functionName, explainLayouts};
  options.precision = precision;
  ExecutableStats stats;
  FailureOr<std::string> executable =
      compileToExecutable(*module, options, &stats);
  if (failed(executable))
    return 1;
  if (memoryLimit && stats.arenaBytes > *memoryLimit) {
    mlir::InFlightDiagnostic error = mlir::emitError(module->getLoc());
    error << "the program needs " << formatBytes(stats.arenaBytes)
          << " per device (the buffer plan's peak; weights and inputs "
          << formatBytes(stats.residentBytes) << "), more than --device-memory "
          << formatBytes(*memoryLimit)
          << "; split more dimensions over the mesh or use more devices";
    for (const auto &[description, bytes] : stats.largestValues)
      error.attachNote() << "large buffer: " << formatBytes(bytes) << "  "
                         << description;
    return 1;
  }

  std::string output = outputPath;
  if (output.empty())
    output = sys::path::stem(sys::fs::is_directory(modelPath)
                                 ? StringRef(modelPath).rtrim('/')
                                 : StringRef(modelPath))
                 .str() +
             ".syx";
  std::string error;
  auto out = mlir::openOutputFile(output, &error);
  if (!out) {
    errs() << "switchyard compile: " << error << "\n";
    return 1;
  }
  out->os() << *executable;
  out->keep();
  if (!irOutput.empty()) {
    auto ir = mlir::openOutputFile(irOutput, &error);
    if (!ir) {
      errs() << "switchyard compile: " << error << "\n";
      return 1;
    }
    module->print(ir->os());
    ir->keep();
  }
  if (printStats)
    printCompileStats(stats, output, executable->size());
  return 0;
}

} // namespace switchyard::driver
