//===- HFImport.h - Hugging Face configs to named-dimension IR --*- C++ -*-===//
//
// Builds the encoder-decoder forward pass of a Hugging Face
// `switch_transformers` or `t5` config in the mtf and moe dialects, with
// every weight an argument named by its checkpoint name. The numerics
// follow ../shared/HF-SWITCH-SEMANTICS.md.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_COMPILER_HFIMPORT_H
#define SWITCHYARD_COMPILER_HFIMPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/JSON.h"

#include <functional>
#include <optional>

namespace switchyard {

/// Which program to build from a config. Greedy generation with a key/value
/// cache runs two: the encoder once, then the decoder step once per new
/// token (switchyard::runtime::generate).
enum class HFProgram {
  /// The forward pass over whole sequences, as Hugging Face's forward.
  Forward,
  /// The encoder, plus every decoder block's cross-attention keys and values
  /// of its output (`cross_attention_key.N`, `cross_attention_value.N`).
  Encoder,
  /// One decoder position: the token `decoder_input_ids` [batch, 1] at
  /// `decoder_position` (a scalar in [0, targetLength)), the encoder's
  /// cross-attention keys and values, and per block a self-attention cache
  /// `past_key.N`/`past_value.N` [batch, heads, targetLength, d_kv] (zeros
  /// where not yet written). Returns the position's logits and the caches
  /// with the position written (`present_key.N`, `present_value.N`). Each
  /// token is its own routing group, as in Hugging Face's cached generation
  /// (HF-SWITCH-SEMANTICS §6.2).
  DecoderStep,
};

/// The static shapes of one compiled program.
struct HFImportOptions {
  int64_t batch = 1;
  /// Encoder sequence length.
  int64_t length = 8;
  /// Decoder sequence length (for the decoder step: the positions its cache
  /// holds).
  int64_t targetLength = 8;
  HFProgram program = HFProgram::Forward;
  /// Forward program only: also take `labels` [batch, target_length] (-100
  /// ignores a position) and return `loss` and `cross_entropy`.
  bool labels = false;
  /// Whether the checkpoint holds a tensor of this name; decides whether the
  /// LM head is its own `lm_head.weight` (HF-SWITCH-SEMANTICS §4.9). Unset:
  /// from the config alone.
  std::function<bool(llvm::StringRef)> hasWeight;
};

/// Parses a program name as `compile --program` takes it: forward, encoder
/// or decoder-step.
std::optional<HFProgram> parseHFProgram(llvm::StringRef name);

/// Builds `options.program` as `@main`. The forward program takes
/// `input_ids`, `attention_mask`, `decoder_input_ids` and the weights and
/// returns logits, the encoder's last hidden state, and for every sparse
/// block its router logits, expert choices and dropped mask, then the
/// router z-loss and load-balancing loss of each stack that has sparse
/// blocks. With `options.labels` it also takes `labels` and returns `loss`
/// (the cross-entropy plus the router losses weighted by the config's
/// coefficients, HF-SWITCH-SEMANTICS §5.6) and `cross_entropy` alone. The
/// generation programs return the parts of these their stack computes (no
/// losses in the decoder step). `location` names the config in diagnostics.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
importHuggingFaceConfig(mlir::MLIRContext *context,
                        const llvm::json::Object &config,
                        const HFImportOptions &options,
                        mlir::Location location);

/// As above, from the text of a config.json; errors (bad JSON, not an
/// object) are emitted at `location`.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
importHuggingFaceConfigText(mlir::MLIRContext *context, llvm::StringRef text,
                            const HFImportOptions &options,
                            mlir::Location location);

/// As importHuggingFaceConfig, from `path`: a config.json or a model
/// directory holding one. Errors (unreadable file, bad JSON) are emitted at
/// `path`.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
importHuggingFaceModel(mlir::MLIRContext *context, llvm::StringRef path,
                       const HFImportOptions &options);

/// The block structure of a config's two stacks, as the importer reads it:
/// blocks per stack and sparse step (0: every block dense; block i of a
/// stack with step s > 1 is sparse when i % s == 1, every block when s == 1).
struct HFStacks {
  int64_t encoderBlocks = 0, decoderBlocks = 0;
  int64_t encoderSparseStep = 0, decoderSparseStep = 0;
};

/// Reads the stacks of `config`; errors are emitted at `location`.
mlir::FailureOr<HFStacks> huggingFaceStacks(const llvm::json::Object &config,
                                            mlir::Location location);

/// Whether `path` names a Hugging Face model (a .json file or a directory)
/// rather than an MLIR file.
bool isHuggingFaceModelPath(llvm::StringRef path);

} // namespace switchyard

#endif // SWITCHYARD_COMPILER_HFIMPORT_H
