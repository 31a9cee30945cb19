//===- Explore.cpp - search over meshes and layout rules ------------------===//
//
// Enumeration, pruning and the cost model of the layout explorer. Every
// candidate goes through compileToExecutable, so the passes' choices (the
// einsum strategy, the reshard plan, the clean-ups) and the buffer plan are
// the ones a real compile makes; only the time is predicted.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Compiler/Explore.h"

#include "switchyard/Compiler/Compile.h"

#include "dialects/moe/MoeOps.h"
#include "dialects/mtf/MtfOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "mlir/Parser/Parser.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <chrono>
#include <map>
#include <numeric>

using namespace mlir;
using namespace switchyard;

//===----------------------------------------------------------------------===//
// Hardware profiles
//===----------------------------------------------------------------------===//

const LinkLevel &HardwareProfile::linkFor(int64_t stride, int64_t size) const {
  // The axis connects devices up to (size - 1) * stride ids apart, inside
  // blocks of size * stride consecutive ids.
  int64_t reach = stride * size;
  for (const LinkLevel &level : links)
    if (reach <= level.span)
      return level;
  return links.back();
}

int64_t HardwareProfile::memoryPerDevice(int64_t devices) const {
  return sharedHost ? memoryBytes / std::max<int64_t>(1, devices)
                    : memoryBytes;
}

static llvm::Error profileError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<HardwareProfile>
switchyard::parseHardwareProfile(const llvm::json::Value &json) {
  const llvm::json::Object *object = json.getAsObject();
  if (!object)
    return profileError("a hardware profile must be a JSON object");
  HardwareProfile profile;
  auto number = [&](StringRef key, double &out) -> llvm::Error {
    std::optional<double> value = object->getNumber(key);
    if (!value || *value <= 0)
      return profileError("hardware profile: '" + key +
                          "' must be a positive number");
    out = *value;
    return llvm::Error::success();
  };
  profile.name = object->getString("name").value_or("").str();
  profile.description = object->getString("description").value_or("").str();
  double memoryBytes = 0;
  if (auto error = number("peak_flops", profile.peakFlops))
    return std::move(error);
  if (auto error = number("memory_bandwidth", profile.memoryBandwidth))
    return std::move(error);
  if (auto error = number("memory_bytes", memoryBytes))
    return std::move(error);
  profile.memoryBytes = static_cast<int64_t>(memoryBytes);
  profile.sharedHost = object->getBoolean("shared_host").value_or(false);
  profile.opOverhead = object->getNumber("op_overhead").value_or(0);
  const llvm::json::Array *links = object->getArray("links");
  if (!links || links->empty())
    return profileError("hardware profile: 'links' must list at least one "
                        "interconnect level");
  for (const llvm::json::Value &entry : *links) {
    const llvm::json::Object *link = entry.getAsObject();
    if (!link)
      return profileError("hardware profile: every link is an object");
    LinkLevel level;
    level.name = link->getString("name").value_or("link").str();
    level.span = link->getInteger("span").value_or(INT64_MAX);
    std::optional<double> bandwidth = link->getNumber("bandwidth");
    std::optional<double> latency = link->getNumber("latency");
    if (!bandwidth || *bandwidth <= 0 || !latency || *latency < 0 ||
        level.span <= 0)
      return profileError("hardware profile: link '" + level.name +
                          "' needs a positive 'bandwidth', a 'latency' "
                          "and a positive 'span'");
    level.bandwidth = *bandwidth;
    level.latency = *latency;
    profile.links.push_back(level);
  }
  return profile;
}

llvm::Expected<HardwareProfile>
switchyard::loadHardwareProfile(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return profileError("cannot read hardware profile '" + path +
                        "': " + buffer.getError().message());
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return profileError("hardware profile '" + path +
                        "': " + llvm::toString(json.takeError()));
  return parseHardwareProfile(*json);
}

//===----------------------------------------------------------------------===//
// Enumeration
//===----------------------------------------------------------------------===//

static void factorise(int64_t rest, SmallVector<int64_t> &prefix,
                      std::vector<SmallVector<int64_t>> &out) {
  if (rest == 1) {
    out.push_back(prefix);
    return;
  }
  for (int64_t factor = 2; factor <= rest; ++factor) {
    if (rest % factor)
      continue;
    prefix.push_back(factor);
    factorise(rest / factor, prefix, out);
    prefix.pop_back();
  }
}

std::vector<SmallVector<int64_t>> switchyard::meshShapes(int64_t devices) {
  std::vector<SmallVector<int64_t>> shapes;
  SmallVector<int64_t> prefix;
  if (devices >= 1)
    factorise(devices, prefix, shapes);
  return shapes;
}

SmallVector<std::string> switchyard::axisNames(size_t count) {
  static const char *names[] = {"x", "y", "z", "w", "u", "v"};
  SmallVector<std::string> result;
  for (size_t i = 0; i < count; ++i)
    result.push_back(i < std::size(names) ? names[i]
                                          : "a" + std::to_string(i));
  return result;
}

/// Adds to `sizes` every size each named dimension has in the model's
/// function signatures and op results.
static void dimensionSizes(ModuleOp model,
                           llvm::StringMap<SmallVector<int64_t>> &sizes) {
  auto record = [&](Type type) {
    auto named = dyn_cast<mtf::NamedTensorType>(type);
    if (!named)
      return;
    for (mtf::DimAttr dim : named.getDims()) {
      SmallVector<int64_t> &list = sizes[dim.getName().getValue()];
      if (!llvm::is_contained(list, dim.getSize()))
        list.push_back(dim.getSize());
    }
  };
  model.walk([&](Operation *op) {
    if (auto function = dyn_cast<func::FuncOp>(op))
      for (Type type : function.getArgumentTypes())
        record(type);
    for (Type type : op->getResultTypes())
      record(type);
  });
}

//===----------------------------------------------------------------------===//
// Cost model
//===----------------------------------------------------------------------===//

namespace {

/// Elements and bytes of a local named tensor.
struct Extent {
  double elements = 0, bytes = 0;
};

Extent extentOf(Type type) {
  auto named = dyn_cast<mtf::NamedTensorType>(type);
  if (!named)
    return {};
  double elements = named.getNumElements();
  unsigned bits = named.getElementType().getIntOrFloatBitWidth();
  return {elements, elements * std::max(1u, bits / 8)};
}

/// FLOPs of one op of the partitioned program (local shapes).
double flopsOf(Operation *op) {
  auto resultElements = [&] {
    return op->getNumResults() ? extentOf(op->getResult(0).getType()).elements
                               : 0.0;
  };
  auto inputElements = [&] {
    return op->getNumOperands()
               ? extentOf(op->getOperand(0).getType()).elements
               : 0.0;
  };
  return llvm::TypeSwitch<Operation *, double>(op)
      .Case([&](mtf::EinsumOp einsum) {
        // One multiply-add per point of the index space that the inputs and
        // the result span, per input after the first.
        llvm::StringMap<int64_t> space;
        auto add = [&](Type type) {
          for (mtf::DimAttr dim : cast<mtf::NamedTensorType>(type).getDims())
            space[dim.getName().getValue()] = dim.getSize();
        };
        for (Value input : einsum.getInputs())
          add(input.getType());
        add(einsum.getResult().getType());
        double points = 1;
        for (const auto &entry : space)
          points *= entry.getValue();
        // An epilogue costs what the activation op it replaced did.
        const double epilogue = einsum.getEpilogue() ? resultElements() : 0;
        return 2 * points *
                   std::max<double>(1, einsum.getInputs().size() - 1) +
               epilogue;
      })
      .Case([&](mtf::SoftmaxOp) { return 5 * resultElements(); })
      .Case([&](mtf::RmsNormOp) { return 4 * resultElements(); })
      .Case([&](moe::RouteOp route) {
        // Softmax, then one argmax pass per choice.
        return (4 + route.getNumChoices()) * inputElements();
      })
      .Case([&](moe::CombineOp combine) {
        int64_t choices = 1;
        if (std::optional<StringRef> dim = combine.getChoicesDim())
          choices = cast<mtf::NamedTensorType>(combine.getExpert().getType())
                        .getDim(*dim)
                        .getSize();
        // A residual costs what the add it replaced did.
        return (2 * choices + (combine.getResidual() ? 1 : 0)) *
               resultElements();
      })
      .Case<mtf::ReduceOp, mtf::CumsumOp>(
          [&](Operation *) { return inputElements(); })
      .Case<mtf::UnaryOp, mtf::BinaryOp, mtf::CastOp>(
          [&](Operation *) { return resultElements(); })
      .Default([](Operation *) { return 0.0; });
}

/// Whether the op only renames a buffer (no memory traffic of its own).
bool isView(Operation *op) {
  return isa<mtf::AsTensorOp, mtf::AsNamedOp, mtf::RelayoutOp,
             mtf::ConstantOp, func::ReturnOp>(op) ||
         op->getDialect()->getNamespace() == "shard";
}

int64_t bytesOfTensor(Type type) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked)
    return 0;
  unsigned bits = ranked.getElementType().getIntOrFloatBitWidth();
  return ranked.getNumElements() * std::max(1u, bits / 8);
}

} // namespace

void switchyard::estimateCost(ModuleOp partitioned,
                              const HardwareProfile &hardware,
                              Candidate &candidate) {
  auto mesh = partitioned->getAttrOfType<mtf::MeshAttr>(
      mtf::MtfDialect::kMeshAttrName);
  int64_t devices = mesh ? mesh.getNumDevices() : 1;
  double share = hardware.sharedHost ? static_cast<double>(devices) : 1.0;
  double peak = hardware.peakFlops / share;
  double bandwidth = hardware.memoryBandwidth / share;
  ArrayRef<int64_t> sizes = mesh ? mesh.getAxisSizes() : ArrayRef<int64_t>();
  SmallVector<int64_t> strides(sizes.size(), 1);
  for (int i = static_cast<int>(sizes.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * sizes[i + 1];

  candidate.flops = candidate.memoryTraffic = candidate.computeSeconds = 0;
  candidate.collectives.clear();
  auto collective = [&](StringRef kind, ArrayRef<int16_t> axes, int64_t in,
                        int64_t out) {
    int64_t group = 1;
    double linkBandwidth = INFINITY, latency = 0;
    for (int16_t axis : axes) {
      group *= sizes[axis];
      const LinkLevel &link = hardware.linkFor(strides[axis], sizes[axis]);
      linkBandwidth = std::min(linkBandwidth, link.bandwidth / share);
      latency = std::max(latency, link.latency);
    }
    int64_t sent = 0, steps = group - 1;
    if (kind == "all_reduce") {
      sent = 2 * in * (group - 1) / group;
      steps *= 2;
    } else if (kind == "all_gather") {
      sent = out * (group - 1) / group;
    } else if (kind == "all_slice") {
      steps = 0;
    } else {
      sent = in * (group - 1) / group;
    }
    CollectiveCost &cost = candidate.collectives[kind];
    cost.count += 1;
    cost.bytes += sent;
    if (group > 1)
      cost.seconds += steps * latency + sent / linkBandwidth;
  };

  partitioned.walk([&](Operation *op) {
    llvm::TypeSwitch<Operation *>(op)
        .Case([&](shard::AllReduceOp c) {
          collective("all_reduce", c.getGridAxes(),
                     bytesOfTensor(c.getInput().getType()),
                     bytesOfTensor(c.getResult().getType()));
        })
        .Case([&](shard::AllGatherOp c) {
          collective("all_gather", c.getGridAxes(),
                     bytesOfTensor(c.getInput().getType()),
                     bytesOfTensor(c.getResult().getType()));
        })
        .Case([&](shard::ReduceScatterOp c) {
          collective("reduce_scatter", c.getGridAxes(),
                     bytesOfTensor(c.getInput().getType()),
                     bytesOfTensor(c.getResult().getType()));
        })
        .Case([&](shard::AllToAllOp c) {
          collective("all_to_all", c.getGridAxes(),
                     bytesOfTensor(c.getInput().getType()),
                     bytesOfTensor(c.getResult().getType()));
        })
        .Case([&](shard::AllSliceOp c) {
          collective("all_slice", c.getGridAxes(),
                     bytesOfTensor(c.getInput().getType()),
                     bytesOfTensor(c.getResult().getType()));
        });
    if (isView(op) || isa<ModuleOp, func::FuncOp>(op))
      return;
    double flops = flopsOf(op), traffic = 0;
    for (Value value : op->getOperands())
      traffic += extentOf(value.getType()).bytes;
    for (Value value : op->getResults())
      traffic += extentOf(value.getType()).bytes;
    candidate.flops += flops;
    candidate.memoryTraffic += traffic;
    candidate.computeSeconds += hardware.opOverhead +
                                std::max(flops / peak, traffic / bandwidth);
  });
  candidate.totalSeconds = candidate.computeSeconds;
  for (const auto &entry : candidate.collectives)
    candidate.totalSeconds += entry.getValue().seconds;
}

/// Partitions a copy of `model` into `module` for one candidate. The
/// candidate's mesh and rules replace any the model carries; no rules means
/// every dimension whole.
static FailureOr<func::FuncOp> partitionCandidate(ModuleOp model,
                                                  StringRef mesh,
                                                  StringRef layout,
                                                  OwningOpRef<ModuleOp> &module) {
  module = cast<ModuleOp>(model->clone());
  (*module)->removeAttr(mtf::MtfDialect::kLayoutAttrName);
  CompileOptions options;
  options.mesh = mesh.str();
  options.layout = layout.str();
  options.verify = false;
  return partitionModule(*module, options);
}

FailureOr<std::string>
switchyard::compileCandidate(ModuleOp model, StringRef mesh, StringRef layout,
                             OwningOpRef<ModuleOp> &module,
                             ExecutableStats *stats) {
  FailureOr<func::FuncOp> function =
      partitionCandidate(model, mesh, layout, module);
  if (failed(function))
    return failure();
  return writeExecutable(*module, *function, stats);
}

/// Compiles `model` for the candidate's mesh and layout and adds its costs,
/// times `weight`, to `candidate`. Returns the mesh's device count; fails
/// with the first diagnostic in `candidate.error`.
static FailureOr<int64_t> addPartCost(ModuleOp model, int64_t weight,
                                      const HardwareProfile &hardware,
                                      Candidate &candidate) {
  std::string firstError;
  ScopedDiagnosticHandler quiet(model.getContext(), [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error && firstError.empty())
      firstError = diag.str();
    return success();
  });
  // The buffer plan without serializing the executable: constants would be
  // copied for nothing.
  OwningOpRef<ModuleOp> module;
  FailureOr<func::FuncOp> function =
      partitionCandidate(model, candidate.mesh, candidate.layout, module);
  FailureOr<ExecutableStats> planned = failure();
  if (succeeded(function))
    planned = planExecutable(*module, *function);
  if (failed(planned)) {
    candidate.error = firstError.empty() ? "compilation failed" : firstError;
    return failure();
  }
  Candidate part;
  estimateCost(*module, hardware, part);
  candidate.flops += weight * part.flops;
  candidate.memoryTraffic += weight * part.memoryTraffic;
  candidate.peakBytes += weight * planned->arenaBytes;
  candidate.residentBytes += weight * planned->residentBytes;
  candidate.computeSeconds += weight * part.computeSeconds;
  candidate.totalSeconds += weight * part.totalSeconds;
  for (const auto &entry : part.collectives) {
    CollectiveCost &cost = candidate.collectives[entry.getKey()];
    cost.count += weight * entry.getValue().count;
    cost.bytes += weight * entry.getValue().bytes;
    cost.seconds += weight * entry.getValue().seconds;
  }
  auto mesh =
      (*module)->getAttrOfType<mtf::MeshAttr>(mtf::MtfDialect::kMeshAttrName);
  return mesh ? mesh.getNumDevices() : 1;
}

Candidate switchyard::evaluateCandidate(ArrayRef<ModelPart> parts,
                                        StringRef mesh, StringRef layout,
                                        const HardwareProfile &hardware) {
  Candidate candidate;
  candidate.mesh = mesh.str();
  candidate.layout = layout.str();
  int64_t devices = 1;
  for (const ModelPart &part : parts) {
    FailureOr<int64_t> partDevices =
        addPartCost(*part.module, part.weight, hardware, candidate);
    if (failed(partDevices))
      return candidate;
    devices = *partDevices;
  }
  candidate.compiled = true;
  candidate.fits = candidate.peakBytes <= hardware.memoryPerDevice(devices);
  return candidate;
}

/// Reads a config.json, or the one in a model directory.
static FailureOr<llvm::json::Object> readConfig(MLIRContext *context,
                                                StringRef path,
                                                Location &location) {
  SmallString<256> configPath(path);
  if (llvm::sys::fs::is_directory(configPath))
    llvm::sys::path::append(configPath, "config.json");
  location = FileLineColLoc::get(context, configPath, 1, 1);
  auto file = llvm::MemoryBuffer::getFile(configPath);
  if (!file)
    return emitError(location)
           << "cannot read the config: " << file.getError().message();
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*file)->getBuffer());
  if (!json)
    return emitError(location)
           << "invalid JSON: " << llvm::toString(json.takeError());
  if (!json->getAsObject())
    return emitError(location) << "the config must be a JSON object";
  return std::move(*json->getAsObject());
}

namespace {
/// One stack of blocks as periods: `count` repetitions of `period` blocks,
/// then `rest` blocks.
struct StackPeriods {
  int64_t period = 1, count = 0, rest = 0;

  StackPeriods(int64_t blocks, int64_t sparseStep)
      : period(std::max<int64_t>(1, sparseStep)), count(blocks / period),
        rest(blocks % period) {}
  /// Whether copies with one and two periods stand for the stack.
  bool reduced() const { return count >= 3; }
  /// Blocks of a copy with `periods` periods (the whole stack when it is
  /// not reduced).
  int64_t blocks(int64_t periods) const {
    return (reduced() ? periods : count) * period + rest;
  }
};
} // namespace

FailureOr<std::vector<ModelPart>>
switchyard::importHuggingFaceParts(MLIRContext *context, StringRef path,
                                   const HFImportOptions &options, bool exact) {
  Location location = UnknownLoc::get(context);
  FailureOr<llvm::json::Object> config = readConfig(context, path, location);
  if (failed(config))
    return failure();
  FailureOr<HFStacks> stacks = huggingFaceStacks(*config, location);
  if (failed(stacks))
    return failure();
  StackPeriods encoder(stacks->encoderBlocks, stacks->encoderSparseStep);
  StackPeriods decoder(stacks->decoderBlocks, stacks->decoderSparseStep);

  // Blocks per stack of each copy, and its weight. The stacks grow together
  // when they have as many periods, else one at a time.
  struct Copy {
    int64_t encoderBlocks, decoderBlocks, weight;
  };
  SmallVector<Copy> copies;
  if (encoder.reduced() && decoder.reduced() &&
      encoder.count == decoder.count) {
    copies = {{encoder.blocks(1), decoder.blocks(1), 2 - encoder.count},
              {encoder.blocks(2), decoder.blocks(2), encoder.count - 1}};
  } else {
    copies = {{encoder.blocks(1), decoder.blocks(1), 1}};
    if (encoder.reduced()) {
      copies.front().weight -= encoder.count - 1;
      copies.push_back(
          {encoder.blocks(2), decoder.blocks(1), encoder.count - 1});
    }
    if (decoder.reduced()) {
      copies.front().weight -= decoder.count - 1;
      copies.push_back(
          {encoder.blocks(1), decoder.blocks(2), decoder.count - 1});
    }
  }
  int64_t compiledBlocks = 0;
  for (const Copy &copy : copies)
    compiledBlocks += copy.encoderBlocks + copy.decoderBlocks;
  if (exact || compiledBlocks >= stacks->encoderBlocks + stacks->decoderBlocks)
    copies = {{stacks->encoderBlocks, stacks->decoderBlocks, 1}};

  std::vector<ModelPart> parts;
  for (const Copy &copy : copies) {
    // An explicit step keeps the sparse pattern where the step would
    // otherwise follow from the number of sparse layers.
    llvm::json::Object reduced = *config;
    reduced["num_layers"] = copy.encoderBlocks;
    reduced["num_decoder_layers"] = copy.decoderBlocks;
    reduced["encoder_sparse_step"] = stacks->encoderSparseStep;
    reduced["decoder_sparse_step"] = stacks->decoderSparseStep;
    auto module = importHuggingFaceConfig(context, reduced, options, location);
    if (failed(module))
      return failure();
    parts.push_back({std::move(*module), copy.weight});
  }
  return parts;
}

//===----------------------------------------------------------------------===//
// Search
//===----------------------------------------------------------------------===//

/// Candidates that fit first, fastest first; then those that do not fit;
/// then the failures.
static bool betterThan(const Candidate &a, const Candidate &b) {
  auto rank = [](const Candidate &c) {
    return !c.compiled ? 2 : c.fits ? 0 : 1;
  };
  if (rank(a) != rank(b))
    return rank(a) < rank(b);
  if (a.totalSeconds != b.totalSeconds)
    return a.totalSeconds < b.totalSeconds;
  return a.peakBytes < b.peakBytes;
}

/// Removes the compiled candidates that cost exactly what one with a strict
/// subset of their rules on the same mesh costs (ExploreResult::redundant);
/// returns how many.
static int64_t dropRedundant(std::vector<Candidate> &candidates) {
  // Candidates of equal mesh and costs share a key.
  auto keyOf = [](const Candidate &c) {
    std::string key;
    llvm::raw_string_ostream os(key);
    os << c.mesh << '|'
       << llvm::format("%a %a %a", c.flops, c.memoryTraffic, c.totalSeconds)
       << ' ' << c.peakBytes << ' ' << c.residentBytes;
    SmallVector<StringRef> kinds;
    for (const auto &entry : c.collectives)
      kinds.push_back(entry.getKey());
    llvm::sort(kinds);
    for (StringRef kind : kinds)
      os << '|' << kind << ' ' << c.collectives.lookup(kind).count << ' '
         << c.collectives.lookup(kind).bytes;
    return key;
  };
  auto strictSubset = [](const Candidate &a, const Candidate &b) {
    return a.rules.size() < b.rules.size() &&
           llvm::all_of(a.rules, [&](const auto &rule) {
             return llvm::is_contained(b.rules, rule);
           });
  };
  std::map<std::string, SmallVector<size_t>> groups;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (candidates[i].compiled)
      groups[keyOf(candidates[i])].push_back(i);
  std::vector<bool> redundant(candidates.size(), false);
  for (const auto &[key, members] : groups)
    for (size_t b : members)
      redundant[b] = llvm::any_of(members, [&](size_t a) {
        return strictSubset(candidates[a], candidates[b]);
      });
  std::vector<Candidate> kept;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (!redundant[i])
      kept.push_back(std::move(candidates[i]));
  const int64_t dropped = candidates.size() - kept.size();
  candidates = std::move(kept);
  return dropped;
}

/// Compiles and costs every candidate of `candidates` (mesh, layout and rules
/// set) in place, on `threads` threads. The calling thread works on `parts`;
/// each other thread on a copy parsed into a context of its own, so that
/// nothing of MLIR is shared between threads.
static void evaluateAll(ArrayRef<ModelPart> parts,
                        const HardwareProfile &hardware,
                        MutableArrayRef<Candidate> candidates,
                        unsigned threads) {
  std::atomic<size_t> next{0};
  auto work = [&](ArrayRef<ModelPart> model) {
    for (size_t i = next++; i < candidates.size(); i = next++) {
      Candidate &candidate = candidates[i];
      Candidate evaluated =
          evaluateCandidate(model, candidate.mesh, candidate.layout, hardware);
      evaluated.rules = std::move(candidate.rules);
      candidate = std::move(evaluated);
    }
  };
  SmallVector<std::string> texts;
  if (threads > 1)
    for (const ModelPart &part : parts) {
      llvm::raw_string_ostream os(texts.emplace_back());
      (*part.module).print(os);
    }
  const DialectRegistry &registry =
      (*parts.front().module).getContext()->getDialectRegistry();
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < threads; ++t)
    helpers.emplace_back([&] {
      MLIRContext context(registry, MLIRContext::Threading::DISABLED);
      std::vector<ModelPart> copy;
      for (auto [text, part] : llvm::zip(texts, parts)) {
        OwningOpRef<ModuleOp> module =
            parseSourceString<ModuleOp>(text, &context);
        // A copy that does not parse leaves the work to the other threads.
        if (!module)
          return;
        copy.push_back({std::move(module), part.weight});
      }
      work(copy);
    });
  work(parts);
  for (std::thread &helper : helpers)
    helper.join();
}

ExploreResult switchyard::explore(ArrayRef<ModelPart> parts,
                                  const HardwareProfile &hardware,
                                  const ExploreOptions &options) {
  auto start = std::chrono::steady_clock::now();
  ExploreResult result;
  llvm::StringMap<SmallVector<int64_t>> sizes;
  for (const ModelPart &part : parts)
    dimensionSizes(*part.module, sizes);
  SmallVector<std::string> dims;
  for (const std::string &dim : options.dims)
    if (sizes.count(dim))
      dims.push_back(dim);

  std::vector<SmallVector<int64_t>> shapes = meshShapes(options.devices);
  result.meshShapes = shapes.size();
  for (const SmallVector<int64_t> &shape : shapes) {
    size_t rank = shape.size();
    SmallVector<std::string> names = axisNames(rank);
    std::string mesh;
    for (size_t i = 0; i < rank; ++i)
      mesh += (i ? "," : "") + names[i] + ":" + std::to_string(shape[i]);
    // Axes of one size on one link level are interchangeable: a rule set
    // and its image under swapping them cost the same.
    SmallVector<int64_t> strides(rank, 1), linkClass(rank);
    for (int i = static_cast<int>(rank) - 2; i >= 0; --i)
      strides[i] = strides[i + 1] * shape[i + 1];
    for (size_t i = 0; i < rank; ++i)
      linkClass[i] = &hardware.linkFor(strides[i], shape[i]) -
                     hardware.links.data();

    // choice[d] picks the axes of dimension d: for a dimension on at most
    // one axis, 0 keeps it whole and k puts it on axis k - 1; for one that
    // may take several, bit i of choice[d] puts it on axis i (in mesh
    // order, major to minor).
    SmallVector<size_t> choices, choice(dims.size(), 0);
    SmallVector<bool> multi;
    SmallVector<SmallVector<size_t>> axesOf(dims.size());
    for (const std::string &dim : dims) {
      multi.push_back(llvm::is_contained(options.multiAxisDims, dim));
      choices.push_back(multi.back() ? size_t(1) << rank : rank + 1);
    }
    while (true) {
      ++result.enumerated;
      bool keep = true;
      SmallVector<bool> used(rank, false);
      for (size_t d = 0; d < dims.size() && keep; ++d) {
        axesOf[d].clear();
        if (!multi[d] && choice[d])
          axesOf[d].push_back(choice[d] - 1);
        else if (multi[d])
          for (size_t axis = 0; axis < rank; ++axis)
            if (choice[d] >> axis & 1)
              axesOf[d].push_back(axis);
        int64_t split = 1;
        for (size_t axis : axesOf[d]) {
          split *= shape[axis];
          // Canonical form: among interchangeable axes, first use in order.
          if (!used[axis])
            for (size_t other = 0; other < axis; ++other)
              keep &= !(shape[other] == shape[axis] &&
                        linkClass[other] == linkClass[axis] && !used[other]);
          used[axis] = true;
        }
        for (int64_t size : sizes[dims[d]])
          keep &= size % split == 0;
      }
      if (!options.keepUnusedAxes)
        keep &= llvm::all_of(used, [](bool u) { return u; });
      if (keep) {
        std::string layout;
        SmallVector<std::pair<std::string, std::string>> rules;
        for (size_t d = 0; d < dims.size(); ++d) {
          if (axesOf[d].empty())
            continue;
          layout += (layout.empty() ? "" : ";") + dims[d] + ":";
          for (auto [index, axis] : llvm::enumerate(axesOf[d])) {
            rules.push_back({dims[d], names[axis]});
            layout += (index ? "," : "") + names[axis];
          }
        }
        Candidate candidate;
        candidate.mesh = mesh;
        candidate.layout = std::move(layout);
        candidate.rules = std::move(rules);
        result.candidates.push_back(std::move(candidate));
      } else {
        ++result.pruned;
      }
      // Next choice vector, the last dimension fastest.
      size_t d = dims.size();
      while (d > 0 && choice[d - 1] + 1 == choices[d - 1]) {
        choice[d - 1] = 0;
        --d;
      }
      if (d == 0)
        break;
      ++choice[d - 1];
    }
  }
  evaluateAll(parts, hardware, result.candidates,
              options.threads ? options.threads
                              : std::max(1u, std::thread::hardware_concurrency()));
  if (!options.keepRedundant)
    result.redundant = dropRedundant(result.candidates);
  llvm::stable_sort(result.candidates, betterThan);
  result.seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  return result;
}

double switchyard::rankCorrelation(ArrayRef<double> a, ArrayRef<double> b) {
  auto ranks = [](ArrayRef<double> values) {
    SmallVector<size_t> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    llvm::stable_sort(order,
                      [&](size_t i, size_t j) { return values[i] < values[j]; });
    SmallVector<double> rank(values.size());
    for (size_t i = 0; i < order.size();) {
      size_t j = i;
      while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]])
        ++j;
      for (size_t k = i; k <= j; ++k)
        rank[order[k]] = (i + j) / 2.0;
      i = j + 1;
    }
    return rank;
  };
  SmallVector<double> ra = ranks(a), rb = ranks(b);
  size_t n = ra.size();
  if (n < 2)
    return NAN;
  double meanA = std::accumulate(ra.begin(), ra.end(), 0.0) / n;
  double meanB = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
  double cov = 0, varA = 0, varB = 0;
  for (size_t i = 0; i < n; ++i) {
    cov += (ra[i] - meanA) * (rb[i] - meanB);
    varA += (ra[i] - meanA) * (ra[i] - meanA);
    varB += (rb[i] - meanB) * (rb[i] - meanB);
  }
  if (varA == 0 || varB == 0)
    return NAN;
  return cov / std::sqrt(varA * varB);
}

llvm::json::Value switchyard::toJSON(const Candidate &candidate) {
  llvm::json::Object collectives;
  for (const auto &entry : candidate.collectives)
    collectives[entry.getKey()] =
        llvm::json::Object{{"count", entry.getValue().count},
                           {"bytes", entry.getValue().bytes},
                           {"seconds", entry.getValue().seconds}};
  llvm::json::Object object{{"mesh", candidate.mesh},
                            {"layout", candidate.layout},
                            {"compiled", candidate.compiled}};
  if (!candidate.compiled) {
    object["error"] = candidate.error;
    return object;
  }
  object["fits"] = candidate.fits;
  object["flops"] = candidate.flops;
  object["memory_traffic_bytes"] = candidate.memoryTraffic;
  object["peak_bytes"] = candidate.peakBytes;
  object["resident_bytes"] = candidate.residentBytes;
  object["compute_seconds"] = candidate.computeSeconds;
  object["predicted_seconds"] = candidate.totalSeconds;
  object["collectives"] = std::move(collectives);
  return object;
}
