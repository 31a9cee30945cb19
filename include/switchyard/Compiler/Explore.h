//===- Explore.h - search over meshes and layout rules ----------*- C++ -*-===//
//
// The layout explorer: enumerates the mesh shapes of a device count and the
// layout rules over the dimensions that may be split, compiles every
// candidate through the real layout, partition and clean-up passes and the
// executable writer, and predicts its step time from the partitioned
// program and a hardware profile. See docs/explore.md.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_COMPILER_EXPLORE_H
#define SWITCHYARD_COMPILER_EXPLORE_H

#include "switchyard/Compiler/ExecutableWriter.h"
#include "switchyard/Compiler/HFImport.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace switchyard {

/// One level of the interconnect: the devices of a group of `span`
/// consecutive device ids talk over links of this bandwidth and latency.
struct LinkLevel {
  std::string name;
  /// Consecutive devices this level connects (8 for the GPUs of one node);
  /// the last level connects everything.
  int64_t span = 0;
  /// Bytes per second one device sends over the level.
  double bandwidth = 0;
  /// Seconds of each step of a collective (ring algorithms take n - 1).
  double latency = 0;
};

/// What the cost model knows about the hardware, per device.
struct HardwareProfile {
  std::string name;
  std::string description;
  /// FLOP/s of one device for the program's (f32) matrix products.
  double peakFlops = 0;
  /// Bytes per second of one device's memory.
  double memoryBandwidth = 0;
  /// Seconds of fixed cost per op launched (dispatch, kernel launch).
  double opOverhead = 0;
  /// Bytes of memory one device has.
  int64_t memoryBytes = 0;
  /// Whether all devices share one host (the CPU mesh): the peak, the
  /// memory bandwidth and the memory are then divided among them.
  bool sharedHost = false;
  /// Innermost level first.
  llvm::SmallVector<LinkLevel> links;

  /// The level that carries traffic along a mesh axis whose neighbours are
  /// `stride` device ids apart and that has `size` devices.
  const LinkLevel &linkFor(int64_t stride, int64_t size) const;

  /// Bytes of memory each device of a mesh of `devices` has.
  int64_t memoryPerDevice(int64_t devices) const;
};

/// Reads a profile (the format of explore/profiles/*.json).
llvm::Expected<HardwareProfile>
parseHardwareProfile(const llvm::json::Value &json);
llvm::Expected<HardwareProfile> loadHardwareProfile(llvm::StringRef path);

/// Traffic and predicted time of one collective kind, per device.
struct CollectiveCost {
  int64_t count = 0;
  /// Bytes one device sends (the executable writer's ring volumes).
  int64_t bytes = 0;
  double seconds = 0;
};

/// One mesh shape and rule set, and what it costs per device.
struct Candidate {
  /// Mesh TF strings: "x:2,y:4" and "experts:x;batch:x;d_ff:y".
  std::string mesh, layout;
  /// dimension -> mesh axis, in rule order; a dimension on several axes
  /// has a pair per axis.
  llvm::SmallVector<std::pair<std::string, std::string>> rules;
  /// Whether it compiled; the diagnostic otherwise.
  bool compiled = false;
  std::string error;
  /// FLOPs one device executes: 2 per multiply-add of every einsum (expert
  /// products over the full capacity), about one per element elsewhere.
  double flops = 0;
  /// Bytes the ops read and write in memory.
  double memoryTraffic = 0;
  /// The buffer plan's peak (weights and inputs included), and the weights
  /// and inputs alone.
  int64_t peakBytes = 0, residentBytes = 0;
  /// By kind ("all_to_all", ...).
  llvm::StringMap<CollectiveCost> collectives;
  /// Time of the ops: each its launch overhead plus the roofline
  /// max(flops / peak, bytes / bandwidth).
  double computeSeconds = 0;
  /// Compute plus every collective.
  double totalSeconds = 0;
  /// Whether the peak fits in the profile's memory.
  bool fits = false;
};

struct ExploreOptions {
  int64_t devices = 1;
  /// Dimensions that may be split, in rule order (the first keeps a
  /// contested axis). Those the model lacks are dropped.
  llvm::SmallVector<std::string> dims = {"experts", "batch", "heads",
                                         "d_ff",    "vocab", "d_model"};
  /// Keep candidates that leave a mesh axis unused (they replicate the
  /// work of a smaller mesh).
  bool keepUnusedAxes = false;
  /// Also list the candidates that ExploreResult::redundant counts.
  bool keepRedundant = false;
  /// Dimensions that may also go on several mesh axes at once
  /// (`d_ff:x,y`); the others go on one axis or none.
  llvm::SmallVector<std::string> multiAxisDims;
  /// Threads that compile candidates; 0: one per hardware thread.
  unsigned threads = 0;
};

/// The outcome of a search.
struct ExploreResult {
  /// Compiled candidates, fastest first among those that fit, then those
  /// that do not fit; candidates that failed to compile last.
  std::vector<Candidate> candidates;
  int64_t meshShapes = 0;
  /// Rule sets enumerated, and those dropped before compiling: an axis that
  /// does not divide its dimension, a rule set equal to another under a
  /// swap of interchangeable axes, or an unused axis.
  int64_t enumerated = 0, pruned = 0;
  /// Compiled candidates left out of `candidates` because one with a strict
  /// subset of their rules on the same mesh costs exactly the same: their
  /// extra rules changed nothing (a rule that never applies, such as d_ff:x
  /// where every d_ff tensor already has experts on x).
  int64_t redundant = 0;
  double seconds = 0;
};

/// Every ordered factorisation of `devices` into factors > 1 (the mesh
/// shapes; one device gives the empty shape).
std::vector<llvm::SmallVector<int64_t>> meshShapes(int64_t devices);

/// Mesh axis names for a shape: x, y, z, w, u, v, then a6, a7, ...
llvm::SmallVector<std::string> axisNames(size_t count);

/// Predicts the cost of one partitioned function on `mesh` (the module's
/// `mtf.mesh`). Fills the flops, traffic, collective and time fields.
void estimateCost(mlir::ModuleOp partitioned, const HardwareProfile &hardware,
                  Candidate &candidate);

/// Compiles a copy of `model` for `mesh` and `layout` (any rules the model
/// carries are dropped) into `module`, returning the executable.
mlir::FailureOr<std::string>
compileCandidate(mlir::ModuleOp model, llvm::StringRef mesh,
                 llvm::StringRef layout,
                 mlir::OwningOpRef<mlir::ModuleOp> &module,
                 ExecutableStats *stats = nullptr);

/// One module the explorer compiles per candidate, and the factor of its
/// costs in the model's: a model costs the weighted sum of its parts.
struct ModelPart {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  int64_t weight = 1;
};

/// Imports a Hugging Face model for the explorer. A stack that repeats its
/// block period (the sparse step, or one block) k >= 3 times is imported as
/// copies with one and with two periods, weighted so that the sum is
/// cost(1) + (k - 1) (cost(2) - cost(1)): exact for the quantities that add
/// up over ops (FLOPs, traffic, op time, collectives), because every period
/// after the first partitions to the same code; the peak is extrapolated
/// the same way (docs/explore.md, section 6). With `exact`, or where
/// copies would compile no fewer blocks, the whole model is the one part.
/// Errors are emitted at the config.
mlir::FailureOr<std::vector<ModelPart>>
importHuggingFaceParts(mlir::MLIRContext *context, llvm::StringRef path,
                       const HFImportOptions &options, bool exact);

/// Compiles the parts (not modified) for one candidate and costs them;
/// errors are recorded in the candidate, not emitted.
Candidate evaluateCandidate(llvm::ArrayRef<ModelPart> parts,
                            llvm::StringRef mesh, llvm::StringRef layout,
                            const HardwareProfile &hardware);

/// The full search. The parts are cloned per candidate and not modified.
ExploreResult explore(llvm::ArrayRef<ModelPart> parts,
                      const HardwareProfile &hardware,
                      const ExploreOptions &options);

/// Spearman's rank correlation of two equally long series.
double rankCorrelation(llvm::ArrayRef<double> a, llvm::ArrayRef<double> b);

/// The candidate as JSON (the `--json` schema of docs/explore.md).
llvm::json::Value toJSON(const Candidate &candidate);

/// A self-contained HTML page comparing `candidates` side by side.
std::string renderHtmlReport(llvm::ArrayRef<Candidate> candidates,
                             const HardwareProfile &hardware,
                             llvm::StringRef model, int64_t devices);

} // namespace switchyard

#endif // SWITCHYARD_COMPILER_EXPLORE_H
