//===- HFImport.cpp - Hugging Face configs to named-dimension IR ----------===//
//
// The encoder-decoder of SwitchTransformers / T5 as HF-SWITCH-SEMANTICS.md
// describes it: shared embeddings, pre-norm residual sub-layers, attention
// without 1/sqrt(d_kv) scaling plus a relative position bias owned by each
// stack's first block, dense or sparse feed-forward blocks, final norms and
// the LM head.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Compiler/HFImport.h"

#include "dialects/moe/MoeOps.h"
#include "dialects/mtf/MtfOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace switchyard;
using namespace switchyard::mtf;
using llvm::json::Object;

namespace {

/// The parts of a config.json the forward pass depends on.
struct Config {
  bool isSwitch = false;
  int64_t vocab = 0, dModel = 0, dKv = 0, dFF = 0, numHeads = 0;
  int64_t numLayers = 0, numDecoderLayers = 0;
  int64_t numBuckets = 32, maxDistance = 128;
  double epsilon = 1e-6;
  UnaryKind activation = UnaryKind::relu;
  bool gated = false;
  /// The checkpoint tensors of the encoder and decoder embeddings and of the
  /// LM head (§4.1, §4.9), and whether the decoder output is scaled by
  /// d_model^-0.5.
  std::string encoderEmbedding = "shared.weight",
              decoderEmbedding = "shared.weight", head = "shared.weight";
  bool scaleDecoderOutput = true;
  int64_t numExperts = 0, expertCapacity = 0;
  bool routerBias = false, routerBf16 = false;
  /// The router losses' weights in the total loss (§5.6).
  double zLossCoef = 0.001, auxLossCoef = 0.001;
  int64_t encoderSparseStep = 0, decoderSparseStep = 0;

  /// Whether block `index` of a stack with sparse step `step` is sparse (§3.2).
  static bool isSparse(int64_t step, int64_t index) {
    return step > 0 && (step == 1 || index % step == 1);
  }
};

/// Maps a Hugging Face activation name (ACT2FN) to an mtf unary kind.
std::optional<UnaryKind> activationOf(StringRef name) {
  return llvm::StringSwitch<std::optional<UnaryKind>>(name)
      .Case("relu", UnaryKind::relu)
      .Case("gelu", UnaryKind::gelu)
      .Cases({"gelu_new", "gelu_pytorch_tanh", "gelu_fast"},
             UnaryKind::gelu_tanh)
      .Cases({"silu", "swish"}, UnaryKind::silu)
      .Default(std::nullopt);
}

FailureOr<Config> parseConfig(const Object &json, Location loc,
                              const HFImportOptions &options) {
  Config config;
  auto fail = [&](const Twine &message) {
    return emitError(loc) << "config.json: " << message;
  };
  std::optional<StringRef> modelType = json.getString("model_type");
  if (!modelType)
    return fail("has no 'model_type'");
  if (*modelType == "switch_transformers")
    config.isSwitch = true;
  else if (*modelType != "t5")
    return fail("model_type '" + *modelType +
                "' is not supported; expected 'switch_transformers' or 't5'");

  auto integer = [&](StringRef key, int64_t fallback,
                     bool required) -> FailureOr<int64_t> {
    std::optional<int64_t> value = json.getInteger(key);
    if (!value) {
      if (required)
        return fail("has no integer '" + key + "'");
      return fallback;
    }
    if (*value < 0)
      return fail("'" + key + "' must not be negative, got " +
                  Twine(*value));
    return *value;
  };
  auto positive = [&](StringRef key, int64_t fallback,
                      bool required) -> FailureOr<int64_t> {
    FailureOr<int64_t> value = integer(key, fallback, required);
    if (succeeded(value) && *value == 0)
      return fail("'" + key + "' must be positive");
    return value;
  };
#define SY_READ(field, read)                                                   \
  if (FailureOr<int64_t> value = read; failed(value))                          \
    return failure();                                                          \
  else                                                                         \
    field = *value;
  SY_READ(config.vocab, positive("vocab_size", 0, true));
  SY_READ(config.dModel, positive("d_model", 0, true));
  SY_READ(config.dKv, positive("d_kv", 0, true));
  SY_READ(config.dFF, positive("d_ff", 0, true));
  SY_READ(config.numHeads, positive("num_heads", 0, true));
  // The attention's inner dimension (§4.3).
  if (!llvm::checkedMul(config.numHeads, config.dKv))
    return fail("'num_heads' x 'd_kv' (" + Twine(config.numHeads) + " x " +
                Twine(config.dKv) + ") does not fit in 64 bits");
  SY_READ(config.numLayers, integer("num_layers", 0, true));
  SY_READ(config.numDecoderLayers,
          integer("num_decoder_layers", config.numLayers, false));
  // Each layer adds ops of its own; the deepest published T5 and Switch
  // stacks have 24. A mistyped depth would otherwise build for minutes.
  constexpr int64_t kMaxLayers = 256;
  for (auto [key, layers] :
       {std::pair<StringRef, int64_t>{"num_layers", config.numLayers},
        {"num_decoder_layers", config.numDecoderLayers}})
    if (layers > kMaxLayers)
      return fail("'" + key + "' must be at most " + Twine(kMaxLayers) +
                  ", got " + Twine(layers));
  SY_READ(config.numBuckets,
          positive("relative_attention_num_buckets", 32, false));
  SY_READ(config.maxDistance,
          positive("relative_attention_max_distance", 128, false));
  // Each direction's buckets split into exact and logarithmic ones (§4.5):
  // fewer than 4, or a largest distance inside the exact ones, would divide
  // by zero there.
  if (config.numBuckets < 4)
    return fail("'relative_attention_num_buckets' must be at least 4, got " +
                Twine(config.numBuckets));
  if (config.maxDistance <= config.numBuckets / 2)
    return fail("'relative_attention_max_distance' (" +
                Twine(config.maxDistance) +
                ") must exceed half of 'relative_attention_num_buckets' (" +
                Twine(config.numBuckets) + ")");
  config.epsilon = json.getNumber("layer_norm_epsilon").value_or(1e-6);

  // Feed-forward activation (§2.1, §2.3).
  std::string activation = "relu";
  if (std::optional<StringRef> act = json.getString("dense_act_fn"))
    activation = act->str();
  if (!config.isSwitch) {
    StringRef proj = json.getString("feed_forward_proj").value_or("relu");
    config.gated = json.getBoolean("is_gated_act")
                       .value_or(proj.starts_with("gated-"));
    if (!json.getString("dense_act_fn"))
      activation = proj.starts_with("gated-") ? proj.drop_front(6).str()
                                              : proj.str();
    if (activation == "gelu" && config.gated)
      activation = "gelu_new";
  }
  std::optional<UnaryKind> kind = activationOf(activation);
  if (!kind)
    return fail("activation '" + activation + "' is not supported");
  config.activation = *kind;

  // LM head and output scale (§4.9).
  // Switch ties its embeddings to `shared` only when tie_word_embeddings is
  // set; T5 always does. The head is `lm_head.weight` when the checkpoint
  // has one (or, unknown the checkpoint, when Switch is untied).
  bool tie = json.getBoolean("tie_word_embeddings").value_or(true);
  if (config.isSwitch && !tie) {
    config.encoderEmbedding = "encoder.embed_tokens.weight";
    config.decoderEmbedding = "decoder.embed_tokens.weight";
  }
  bool separateHead = options.hasWeight ? options.hasWeight("lm_head.weight")
                                        : config.isSwitch && !tie;
  if (separateHead)
    config.head = "lm_head.weight";
  config.scaleDecoderOutput =
      config.isSwitch ? tie
                      : json.getBoolean("scale_decoder_outputs").value_or(tie);

  if (!config.isSwitch)
    return config;
  SY_READ(config.numExperts, positive("num_experts", 8, false));
  SY_READ(config.expertCapacity, integer("expert_capacity", 64, false));
  config.routerBias = json.getBoolean("router_bias").value_or(false);
  for (auto [key, coef] :
       {std::pair<StringRef, double *>{"router_z_loss_coef", &config.zLossCoef},
        {"router_aux_loss_coef", &config.auxLossCoef}}) {
    if (const llvm::json::Value *value = json.get(key);
        value && value->kind() != llvm::json::Value::Null) {
      std::optional<double> number = value->getAsNumber();
      if (!number || !std::isfinite(*number))
        return fail("'" + key + "' must be a finite number");
      *coef = *number;
    }
  }
  StringRef routerDtype = json.getString("router_dtype").value_or("float32");
  if (routerDtype == "bfloat16")
    config.routerBf16 = true;
  else if (routerDtype != "float32")
    return fail("router_dtype '" + routerDtype +
                "' is not supported; expected float32 or bfloat16");
  // A stored step wins over the one derived from the sparse-layer count
  // (§3.1).
  auto step = [&](StringRef stepKey, StringRef countKey, int64_t layers,
                  int64_t defaultCount) -> FailureOr<int64_t> {
    if (json.get(stepKey))
      return integer(stepKey, 0, true);
    FailureOr<int64_t> count = integer(countKey, defaultCount, false);
    if (failed(count))
      return failure();
    return *count > 0 ? layers / *count : layers;
  };
  SY_READ(config.encoderSparseStep,
          step("encoder_sparse_step", "num_sparse_encoder_layers",
               config.numLayers, 3));
  SY_READ(config.decoderSparseStep,
          step("decoder_sparse_step", "num_sparse_decoder_layers",
               config.numDecoderLayers, 3));
#undef SY_READ
  return config;
}

/// The relative position bucket of key `j` for query `i` (§4.5).
int32_t relativeBucket(int64_t i, int64_t j, bool bidirectional,
                       int64_t numBuckets, int64_t maxDistance) {
  int64_t relative = j - i, buckets = numBuckets, offset = 0, distance;
  if (bidirectional) {
    buckets /= 2;
    offset = relative > 0 ? buckets : 0;
    distance = std::abs(relative);
  } else {
    distance = std::max<int64_t>(-relative, 0);
  }
  int64_t maxExact = buckets / 2;
  if (distance < maxExact)
    return offset + distance;
  float scaled = std::log(static_cast<float>(distance) / maxExact) /
                 static_cast<float>(std::log(double(maxDistance) / maxExact)) *
                 static_cast<float>(buckets - maxExact);
  return offset + std::min<int64_t>(buckets - 1,
                                    maxExact + static_cast<int64_t>(scaled));
}

/// A named dimension before it becomes a DimAttr.
struct Dim {
  StringRef name;
  int64_t size;
};

/// Builds `@main` op by op, adding weight arguments on first use.
class ForwardBuilder {
public:
  ForwardBuilder(MLIRContext *context, const Config &config,
                 const HFImportOptions &options, Location loc)
      : context(context), config(config), options(options), loc(loc),
        builder(context), f32(Float32Type::get(context)),
        i32(IntegerType::get(context, 32)) {}

  OwningOpRef<ModuleOp> build();

private:
  /// The tensor type of `dims`. One too large to address is reported once
  /// (build() then fails) and stands in with every size 1, so that building
  /// can go on without overflowing.
  NamedTensorType tensorType(SmallVector<DimAttr> dims, Type element) {
    auto report = [&] {
      return tooLarge ? InFlightDiagnostic()
                      : emitError(loc) << "config.json: ";
    };
    if (failed(NamedTensorType::verify(report, dims, element))) {
      tooLarge = true;
      for (DimAttr &dim : dims)
        dim = DimAttr::get(context, dim.getName(), 1, {});
    }
    return NamedTensorType::get(context, dims, element);
  }
  NamedTensorType type(ArrayRef<Dim> dims, Type element) {
    SmallVector<DimAttr> attrs;
    for (Dim dim : dims)
      attrs.push_back(DimAttr::get(context, builder.getStringAttr(dim.name),
                                   dim.size, {}));
    return tensorType(std::move(attrs), element);
  }
  static NamedTensorType typeOf(Value value) {
    return llvm::cast<NamedTensorType>(value.getType());
  }
  Value argument(Type type, StringRef attrName, const Twine &value) {
    Value arg = body->addArgument(type, loc);
    argAttrs.push_back(builder.getDictionaryAttr(
        builder.getNamedAttr(attrName, builder.getStringAttr(value))));
    return arg;
  }
  void addArgAttr(Value arg, StringRef name, Attribute value) {
    DictionaryAttr &attrs =
        argAttrs[llvm::cast<BlockArgument>(arg).getArgNumber()];
    NamedAttrList list(attrs);
    list.set(name, value);
    attrs = list.getDictionary(context);
  }
  /// The weight called `name` (bound once, however often it is used).
  Value param(StringRef name, ArrayRef<Dim> dims) {
    auto [it, inserted] = params.try_emplace(name);
    if (inserted)
      it->second = argument(type(dims, f32), MtfDialect::kParamAttrName, name);
    return it->second;
  }
  Value einsum(ValueRange inputs, ArrayRef<Dim> dims) {
    Type element = typeOf(inputs.front()).getElementType();
    return EinsumOp::create(builder, loc, type(dims, element), inputs);
  }
  /// `a` op `b`, with `a`'s dimensions first, then those only `b` has.
  Value binary(BinaryKind kind, Value a, Value b) {
    SmallVector<DimAttr> dims(typeOf(a).getDims());
    for (DimAttr dim : typeOf(b).getDims())
      if (!typeOf(a).hasDim(dim.getName()))
        dims.push_back(dim);
    return BinaryOp::create(
        builder, loc, tensorType(dims, typeOf(a).getElementType()), kind, a, b);
  }
  /// `a` op `b` with the result's dimensions in `order`: all those of `a`
  /// and `b`, none else.
  Value binary(BinaryKind kind, Value a, Value b, ArrayRef<StringRef> order) {
    SmallVector<DimAttr> dims;
    for (StringRef name : order)
      dims.push_back(typeOf(a).hasDim(name) ? typeOf(a).getDim(name)
                                            : typeOf(b).getDim(name));
    return BinaryOp::create(
        builder, loc, tensorType(dims, typeOf(a).getElementType()), kind, a, b);
  }
  Value unary(UnaryKind kind, Value x) {
    return UnaryOp::create(builder, loc, x.getType(), kind, x);
  }
  /// `kind` of `x` over every dimension but `kept`.
  Value reduce(ReduceKind kind, Value x, ArrayRef<StringRef> kept) {
    SmallVector<DimAttr> dims;
    for (StringRef name : kept)
      dims.push_back(typeOf(x).getDim(name));
    return ReduceOp::create(
        builder, loc, tensorType(dims, typeOf(x).getElementType()), kind, x);
  }
  Value reshape(Value x, ArrayRef<Dim> dims) {
    return ReshapeOp::create(builder, loc,
                             type(dims, typeOf(x).getElementType()), x);
  }
  Value rename(Value x, StringRef from, StringRef to) {
    SmallVector<Dim> dims;
    for (DimAttr dim : typeOf(x).getDims())
      dims.push_back({dim.getName() == from ? to : dim.getName().getValue(),
                      dim.getSize()});
    return reshape(x, dims);
  }
  Value cast(Value x, Type element) {
    return CastOp::create(builder, loc, typeOf(x).withElementType(element), x);
  }
  Value scalar(float value) {
    auto tensor = RankedTensorType::get({}, f32);
    return ConstantOp::create(builder, loc, type({}, f32),
                              DenseElementsAttr::get(tensor, value));
  }
  /// The attention projection `prefix.name` as [heads, d_kv, d_model]: stored
  /// [heads * d_kv, d_model], head h owns rows h * d_kv ... (§4.3).
  Value projection(StringRef prefix, StringRef name) {
    Dim inner{"inner", config.numHeads * config.dKv},
        dModel{"d_model", config.dModel};
    return reshape(
        param((prefix + "." + name + ".weight").str(), {inner, dModel}),
        {{"heads", config.numHeads}, {"d_kv", config.dKv}, dModel});
  }
  Value rmsNorm(Value x, StringRef weight) {
    return RmsNormOp::create(builder, loc, x.getType(), x,
                             param(weight, {{"d_model", config.dModel}}),
                             builder.getStringAttr("d_model"),
                             builder.getF64FloatAttr(config.epsilon));
  }

  /// The [query, key] relative position buckets (§4.5), a constant.
  Value bucketTable(StringRef query, int64_t queries, StringRef key,
                    int64_t keys, bool bidirectional);
  /// [query, key, heads] relative position bias (§4.4) of the table `weight`.
  Value positionBias(StringRef weight, StringRef query, int64_t queries,
                     StringRef key, int64_t keys, bool bidirectional);
  /// finfo(float32).min where `mask` ([batch, length]) is 0, along the keys
  /// dimension `memory_length` (§4.6).
  Value paddingBias(Value mask);
  /// Keys and values of `keysIn`, whose token dimension is `keyDim`, for the
  /// attention `prefix`: each [batch, heads, keyDim, d_kv], the layout the
  /// attention's batched GEMMs read in place.
  std::pair<Value, Value> keysAndValues(StringRef prefix, Value keysIn,
                                        StringRef keyDim);
  /// Multi-head attention of `queriesIn` over keys `k` and values `v` (token
  /// dimension `keyDim`) with additive `bias`.
  Value attention(StringRef prefix, Value queriesIn, StringRef queryDim,
                  Value k, Value v, StringRef keyDim, Value bias);
  Value denseFeedForward(StringRef prefix, Value x, StringRef tokenDim);
  /// The sparse MLP; records router logits, choices and drops.
  Value sparseFeedForward(StringRef prefix, Value x, StringRef tokenDim,
                          SmallVectorImpl<Value> &logits, StringRef stack,
                          int64_t block);
  /// `x` plus block `block`'s feed-forward sub-layer (sub-layer `layer` of
  /// the block in `stack`, "encoder" or "decoder"): the dense or sparse MLP
  /// of its RMS norm.
  Value feedForwardLayer(Value x, StringRef stack, int64_t block, int64_t layer,
                         StringRef tokenDim,
                         SmallVectorImpl<Value> &routerLogits);
  Value encoder(Value ids, Value mask, SmallVectorImpl<Value> &routerLogits);
  /// A decoder block's attention keys and values, given the attention's
  /// weight prefix, the block's index and its normed input.
  using BlockKeys = llvm::function_ref<std::pair<Value, Value>(
      StringRef prefix, int64_t block, Value normed)>;
  /// The decoder blocks and final norm over the embedded `x` (tokens along
  /// `target_length`): self-attention over `selfKeys` along `selfKeyDim`,
  /// cross-attention over `crossKeys` along `memory_length`.
  Value decoderBlocks(Value x, Value selfBias, StringRef selfKeyDim,
                      BlockKeys selfKeys, Value crossBias, BlockKeys crossKeys,
                      SmallVectorImpl<Value> &routerLogits);
  /// The decoder over whole sequences (the forward program).
  Value decoder(Value ids, Value encoderOut, Value mask,
                SmallVectorImpl<Value> &routerLogits);
  /// The decoder at one position with a key/value cache (the decoder step).
  Value decoderStep(Value ids, Value position, Value mask,
                    SmallVectorImpl<Value> &routerLogits);
  /// The logits of the decoder output `x` (§4.9).
  Value lmHead(Value x);
  /// The mean over positions whose label is not ignored of -log
  /// softmax(logits)[label] (§5.6); `labels` [batch, target_length].
  Value crossEntropy(Value logits, Value labels);
  /// Adds the stack's router z-loss and load-balancing loss as outputs and
  /// returns them, or nulls without sparse blocks.
  std::pair<Value, Value> addLosses(StringRef stack, ArrayRef<Value> logits,
                                    StringRef tokenDim);
  void output(Value value, const Twine &name) {
    outputs.push_back(value);
    outputNames.push_back(name.str());
  }

  MLIRContext *context;
  const Config &config;
  const HFImportOptions &options;
  Location loc;
  OpBuilder builder;
  Type f32, i32;
  Block *body = nullptr;
  SmallVector<DictionaryAttr> argAttrs;
  llvm::StringMap<Value> params;
  SmallVector<Value> outputs;
  SmallVector<std::string> outputNames;
  /// Whether some tensor was too large to address (reported).
  bool tooLarge = false;
};

Value ForwardBuilder::bucketTable(StringRef query, int64_t queries,
                                  StringRef key, int64_t keys,
                                  bool bidirectional) {
  SmallVector<int32_t> buckets;
  for (int64_t i = 0; i < queries; ++i)
    for (int64_t j = 0; j < keys; ++j)
      buckets.push_back(relativeBucket(i, j, bidirectional, config.numBuckets,
                                       config.maxDistance));
  auto bucketType = RankedTensorType::get({queries, keys}, i32);
  return ConstantOp::create(
      builder, loc, type({{query, queries}, {key, keys}}, i32),
      DenseElementsAttr::get(bucketType, ArrayRef(buckets)));
}

Value ForwardBuilder::positionBias(StringRef weight, StringRef query,
                                   int64_t queries, StringRef key, int64_t keys,
                                   bool bidirectional) {
  Value table = param(weight, {{"buckets", config.numBuckets},
                               {"heads", config.numHeads}});
  return GatherOp::create(
      builder, loc,
      type({{query, queries}, {key, keys}, {"heads", config.numHeads}}, f32),
      table, bucketTable(query, queries, key, keys, bidirectional),
      builder.getStringAttr("buckets"));
}

Value ForwardBuilder::paddingBias(Value mask) {
  return binary(BinaryKind::mul,
                binary(BinaryKind::sub, scalar(1.0f),
                       rename(mask, "length", "memory_length")),
                scalar(std::numeric_limits<float>::lowest()));
}

std::pair<Value, Value> ForwardBuilder::keysAndValues(StringRef prefix,
                                                      Value keysIn,
                                                      StringRef keyDim) {
  Dim heads{"heads", config.numHeads}, dKv{"d_kv", config.dKv};
  Dim dims[] = {{"batch", options.batch},
                heads,
                {keyDim, typeOf(keysIn).getDim(keyDim).getSize()},
                dKv};
  auto project = [&](StringRef name) {
    return einsum({keysIn, projection(prefix, name)}, dims);
  };
  return {project("k"), project("v")};
}

Value ForwardBuilder::attention(StringRef prefix, Value queriesIn,
                                StringRef queryDim, Value k, Value v,
                                StringRef keyDim, Value bias) {
  int64_t batch = options.batch;
  int64_t queries = typeOf(queriesIn).getDim(queryDim).getSize();
  int64_t keys = typeOf(k).getDim(keyDim).getSize();
  Dim heads{"heads", config.numHeads}, dKv{"d_kv", config.dKv},
      dModel{"d_model", config.dModel};
  Dim inner{"inner", config.numHeads * config.dKv};
  Value q = einsum({queriesIn, projection(prefix, "q")},
                   {{"batch", batch}, {queryDim, queries}, heads, dKv});
  Value scores = einsum(
      {q, k}, {{"batch", batch}, heads, {queryDim, queries}, {keyDim, keys}});
  scores = binary(BinaryKind::add, scores, bias);
  Value probs = SoftmaxOp::create(builder, loc, scores.getType(), scores,
                                  builder.getStringAttr(keyDim));
  Value context = einsum({probs, v},
                         {{"batch", batch}, {queryDim, queries}, heads, dKv});
  Value o = reshape(param((prefix + ".o.weight").str(), {dModel, inner}),
                    {dModel, heads, dKv});
  return einsum({context, o}, {{"batch", batch}, {queryDim, queries}, dModel});
}

Value ForwardBuilder::denseFeedForward(StringRef prefix, Value x,
                                       StringRef tokenDim) {
  int64_t tokens = typeOf(x).getDim(tokenDim).getSize();
  Dim batch{"batch", options.batch}, token{tokenDim, tokens},
      dFF{"d_ff", config.dFF}, dModel{"d_model", config.dModel};
  Value hidden;
  if (config.gated) {
    Value gate = einsum({x, param((prefix + ".wi_0.weight").str(), {dFF, dModel})},
                        {batch, token, dFF});
    Value linear =
        einsum({x, param((prefix + ".wi_1.weight").str(), {dFF, dModel})},
               {batch, token, dFF});
    hidden = binary(BinaryKind::mul, unary(config.activation, gate), linear);
  } else {
    hidden = unary(config.activation,
                   einsum({x, param((prefix + ".wi.weight").str(), {dFF, dModel})},
                          {batch, token, dFF}));
  }
  return einsum({hidden, param((prefix + ".wo.weight").str(), {dModel, dFF})},
                {batch, token, dModel});
}

Value ForwardBuilder::sparseFeedForward(StringRef prefix, Value x,
                                        StringRef tokenDim,
                                        SmallVectorImpl<Value> &routerLogits,
                                        StringRef stack, int64_t block) {
  int64_t tokens = typeOf(x).getDim(tokenDim).getSize();
  Dim batch{"batch", options.batch}, token{tokenDim, tokens},
      experts{"experts", config.numExperts}, dFF{"d_ff", config.dFF},
      dModel{"d_model", config.dModel};
  // Capacity counts along the tokens of each sequence (the decoder step's
  // single token is routed alone, as in cached generation, §6.2). No expert
  // gets more tokens than a sequence has, so slots beyond that would only
  // be padding the experts multiply.
  Dim capacity{"expert_capacity", std::min(config.expertCapacity, tokens)};
  Value routerIn = x;
  Value classifier = param((prefix + ".router.classifier.weight").str(),
                           {experts, dModel});
  if (config.routerBf16) {
    routerIn = cast(routerIn, builder.getBF16Type());
    classifier = cast(classifier, builder.getBF16Type());
  }
  Value logits = einsum({routerIn, classifier}, {batch, token, experts});
  if (config.routerBias) {
    Value bias = param((prefix + ".router.classifier.bias").str(), {experts});
    if (config.routerBf16)
      bias = cast(bias, builder.getBF16Type());
    logits = binary(BinaryKind::add, logits, bias);
  }
  auto routing = moe::RouteOp::create(
      builder, loc, logits, builder.getStringAttr(tokenDim),
      builder.getStringAttr("experts"), /*top_k=*/IntegerAttr(),
      /*choices_dim=*/StringAttr(), builder.getI64IntegerAttr(capacity.size),
      FloatAttr(),
      /*normalize=*/moe::GateNormalizationAttr());

  Dim bufferDims[] = {experts, batch, capacity, dModel};
  Value buffers = moe::DispatchOp::create(
      builder, loc, type(bufferDims, f32), x, routing.getExpert(),
      routing.getPosition(), routing.getDropped(),
      builder.getStringAttr(tokenDim), builder.getStringAttr("experts"),
      builder.getStringAttr("expert_capacity"), /*choices_dim=*/StringAttr());
  Dim hiddenDims[] = {experts, batch, capacity, dFF};
  Value hidden = unary(
      config.activation,
      einsum({buffers, param((prefix + ".experts.expert_{experts}.wi.weight").str(),
                             {experts, dFF, dModel})},
             hiddenDims));
  Value out = einsum(
      {hidden, param((prefix + ".experts.expert_{experts}.wo.weight").str(),
                     {experts, dModel, dFF})},
      bufferDims);
  Value combined = moe::CombineOp::create(
      builder, loc, type({batch, token, dModel}, f32), out, routing.getExpert(),
      routing.getPosition(), routing.getDropped(), routing.getGate(),
      /*residual=*/Value(), builder.getStringAttr(tokenDim),
      builder.getStringAttr("experts"),
      builder.getStringAttr("expert_capacity"), /*choices_dim=*/StringAttr());

  // Per block: raw router logits, expert choices and drops.
  std::string suffix = "." + std::to_string(block);
  output(logits, stack + "_router_logits" + suffix);
  output(routing.getExpert(), stack + "_expert_index" + suffix);
  output(routing.getDropped(), stack + "_dropped" + suffix);
  routerLogits.push_back(logits);
  return combined;
}

Value ForwardBuilder::feedForwardLayer(Value x, StringRef stack, int64_t block,
                                       int64_t layer, StringRef tokenDim,
                                       SmallVectorImpl<Value> &routerLogits) {
  std::string prefix =
      (stack + ".block." + Twine(block) + ".layer." + Twine(layer)).str();
  Value normed = rmsNorm(x, prefix + ".layer_norm.weight");
  int64_t step =
      stack == "encoder" ? config.encoderSparseStep : config.decoderSparseStep;
  Value ff = config.isSwitch && Config::isSparse(step, block)
                 ? sparseFeedForward(prefix + ".mlp", normed, tokenDim,
                                     routerLogits, stack, block)
                 : denseFeedForward(
                       prefix + (config.isSwitch ? ".mlp" : ".DenseReluDense"),
                       normed, tokenDim);
  return binary(BinaryKind::add, x, ff);
}

Value ForwardBuilder::encoder(Value ids, Value mask,
                              SmallVectorImpl<Value> &routerLogits) {
  int64_t length = options.length;
  Dim batch{"batch", options.batch}, dModel{"d_model", config.dModel};
  Value shared =
      param(config.encoderEmbedding, {{"vocab", config.vocab}, dModel});
  Value x = GatherOp::create(builder, loc,
                             type({batch, {"length", length}, dModel}, f32),
                             shared, ids, builder.getStringAttr("vocab"));
  // In the attention scores' order, so that every block adds it in order.
  Value bias = binary(
      BinaryKind::add,
      positionBias("encoder.block.0.layer.0.SelfAttention.relative_attention_"
                   "bias.weight",
                   "length", length, "memory_length", length, true),
      paddingBias(mask), {"batch", "heads", "length", "memory_length"});
  for (int64_t i = 0; i < config.numLayers; ++i) {
    std::string prefix = "encoder.block." + std::to_string(i);
    Value normed = rmsNorm(x, prefix + ".layer.0.layer_norm.weight");
    std::string self = prefix + ".layer.0.SelfAttention";
    auto [k, v] = keysAndValues(self, rename(normed, "length", "memory_length"),
                                "memory_length");
    x = binary(BinaryKind::add, x,
               attention(self, normed, "length", k, v, "memory_length", bias));
    x = feedForwardLayer(x, "encoder", i, 1, "length", routerLogits);
  }
  return rmsNorm(x, "encoder.final_layer_norm.weight");
}

Value ForwardBuilder::decoderBlocks(Value x, Value selfBias,
                                    StringRef selfKeyDim, BlockKeys selfKeys,
                                    Value crossBias, BlockKeys crossKeys,
                                    SmallVectorImpl<Value> &routerLogits) {
  for (int64_t i = 0; i < config.numDecoderLayers; ++i) {
    std::string prefix = "decoder.block." + std::to_string(i);
    Value normed = rmsNorm(x, prefix + ".layer.0.layer_norm.weight");
    std::string self = prefix + ".layer.0.SelfAttention";
    auto [selfK, selfV] = selfKeys(self, i, normed);
    x = binary(BinaryKind::add, x,
               attention(self, normed, "target_length", selfK, selfV,
                         selfKeyDim, selfBias));
    normed = rmsNorm(x, prefix + ".layer.1.layer_norm.weight");
    std::string cross = prefix + ".layer.1.EncDecAttention";
    auto [crossK, crossV] = crossKeys(cross, i, normed);
    x = binary(BinaryKind::add, x,
               attention(cross, normed, "target_length", crossK, crossV,
                         "memory_length", crossBias));
    x = feedForwardLayer(x, "decoder", i, 2, "target_length", routerLogits);
  }
  return rmsNorm(x, "decoder.final_layer_norm.weight");
}

Value ForwardBuilder::decoder(Value ids, Value encoderOut, Value mask,
                              SmallVectorImpl<Value> &routerLogits) {
  int64_t target = options.targetLength;
  Dim batch{"batch", options.batch}, dModel{"d_model", config.dModel};
  Value shared =
      param(config.decoderEmbedding, {{"vocab", config.vocab}, dModel});
  Value x = GatherOp::create(
      builder, loc, type({batch, {"target_length", target}, dModel}, f32),
      shared, ids, builder.getStringAttr("vocab"));
  // Causal self-attention: future keys get finfo(float32).min.
  SmallVector<float> causal;
  for (int64_t i = 0; i < target; ++i)
    for (int64_t j = 0; j < target; ++j)
      causal.push_back(j <= i ? 0.0f : std::numeric_limits<float>::lowest());
  Value causalMask = ConstantOp::create(
      builder, loc,
      type({{"target_length", target}, {"target_memory_length", target}}, f32),
      DenseElementsAttr::get(RankedTensorType::get({target, target}, f32),
                             ArrayRef(causal)));
  Value selfBias = binary(
      BinaryKind::add,
      positionBias("decoder.block.0.layer.0.SelfAttention.relative_attention_"
                   "bias.weight",
                   "target_length", target, "target_memory_length", target,
                   false),
      causalMask, {"heads", "target_length", "target_memory_length"});
  // Cross-attention: no position bias, the encoder's padding mask.
  Value memory = rename(encoderOut, "length", "memory_length");
  return decoderBlocks(
      x, selfBias, "target_memory_length",
      [&](StringRef prefix, int64_t, Value normed) {
        return keysAndValues(
            prefix, rename(normed, "target_length", "target_memory_length"),
            "target_memory_length");
      },
      paddingBias(mask),
      [&](StringRef prefix, int64_t, Value) {
        return keysAndValues(prefix, memory, "memory_length");
      },
      routerLogits);
}

Value ForwardBuilder::decoderStep(Value ids, Value position, Value mask,
                                  SmallVectorImpl<Value> &routerLogits) {
  int64_t positions = options.targetLength;
  Dim batch{"batch", options.batch}, dModel{"d_model", config.dModel},
      heads{"heads", config.numHeads}, dKv{"d_kv", config.dKv},
      cached{"target_memory_length", positions};
  Value shared =
      param(config.decoderEmbedding, {{"vocab", config.vocab}, dModel});
  Value x = GatherOp::create(builder, loc,
                             type({batch, {"target_length", 1}, dModel}, f32),
                             shared, ids, builder.getStringAttr("vocab"));
  // 1 at the position, and 1 at the positions after it.
  Value here = OneHotOp::create(builder, loc, type({cached}, f32), position);
  Value later =
      CumsumOp::create(builder, loc, here.getType(), here,
                       builder.getStringAttr(cached.name), /*exclusive=*/true);
  // This position's row of the relative position bias; later keys (zeros in
  // the cache) get finfo(float32).min.
  Value buckets = GatherOp::create(
      builder, loc, type({cached}, i32),
      bucketTable("target_position", positions, cached.name, positions, false),
      position, builder.getStringAttr("target_position"));
  Value table =
      param("decoder.block.0.layer.0.SelfAttention.relative_attention_bias."
            "weight",
            {{"buckets", config.numBuckets}, heads});
  Value selfBias =
      binary(BinaryKind::add,
             GatherOp::create(builder, loc, type({cached, heads}, f32), table,
                              buckets, builder.getStringAttr("buckets")),
             binary(BinaryKind::mul, later,
                    scalar(std::numeric_limits<float>::lowest())),
             {"heads", cached.name});
  NamedTensorType cacheType = type({batch, heads, cached, dKv}, f32);
  NamedTensorType crossType =
      type({batch, heads, {"memory_length", options.length}, dKv}, f32);
  return decoderBlocks(
      x, selfBias, cached.name,
      [&](StringRef prefix, int64_t block, Value normed) {
        auto [k, v] = keysAndValues(prefix, normed, "target_length");
        // The cache holds zeros at and after the position: adding the new
        // key or value times `here` writes it exactly.
        auto write = [&](Value fresh, StringRef kind) {
          Value past = argument(cacheType, MtfDialect::kNameAttrName,
                                "past_" + kind + "." + Twine(block));
          Value present =
              binary(BinaryKind::add, past,
                     binary(BinaryKind::mul,
                            reshape(fresh, {batch, heads, dKv}), here));
          output(present, "present_" + kind + "." + Twine(block));
          return present;
        };
        Value key = write(k, "key");
        return std::pair(key, write(v, "value"));
      },
      paddingBias(mask),
      [&](StringRef, int64_t block, Value) {
        auto input = [&](StringRef kind) {
          return argument(crossType, MtfDialect::kNameAttrName,
                          "cross_attention_" + kind + "." + Twine(block));
        };
        Value key = input("key");
        return std::pair(key, input("value"));
      },
      routerLogits);
}

Value ForwardBuilder::lmHead(Value x) {
  if (config.scaleDecoderOutput)
    x = binary(BinaryKind::mul, x,
               scalar(static_cast<float>(1.0 / std::sqrt(config.dModel))));
  Value head =
      param(config.head, {{"vocab", config.vocab}, {"d_model", config.dModel}});
  int64_t target = typeOf(x).getDim("target_length").getSize();
  return einsum({x, head}, {{"batch", options.batch},
                            {"target_length", target},
                            {"vocab", config.vocab}});
}

Value ForwardBuilder::crossEntropy(Value logits, Value labels) {
  SmallVector<StringRef> positions = {"batch", "target_length"};
  // log-sum-exp with the largest logit taken out first.
  Value largest = reduce(ReduceKind::max, logits, positions);
  Value sumExp =
      reduce(ReduceKind::sum,
             unary(UnaryKind::exp, binary(BinaryKind::sub, logits, largest)),
             positions);
  Value logSumExp =
      binary(BinaryKind::add, unary(UnaryKind::log, sumExp), largest);
  // An ignored label (-100) is a row of zeros: it picks no logit and is
  // not counted.
  Value picks = OneHotOp::create(builder, loc, logits.getType(), labels);
  Value labelLogit = reduce(ReduceKind::sum,
                            binary(BinaryKind::mul, logits, picks), positions);
  Value counted = reduce(ReduceKind::sum, picks, positions);
  Value negLogLikelihood = binary(
      BinaryKind::mul, binary(BinaryKind::sub, logSumExp, labelLogit), counted);
  return binary(BinaryKind::div, reduce(ReduceKind::sum, negLogLikelihood, {}),
                reduce(ReduceKind::sum, counted, {}));
}

std::pair<Value, Value> ForwardBuilder::addLosses(StringRef stack,
                                                  ArrayRef<Value> logits,
                                                  StringRef tokenDim) {
  if (logits.empty())
    return {};
  Value zLoss = moe::ZLossOp::create(builder, loc, logits,
                                     builder.getStringAttr("experts"));
  Value auxLoss = moe::LoadBalancingLossOp::create(
      builder, loc, logits, builder.getStringAttr(tokenDim),
      builder.getStringAttr("experts"));
  output(zLoss, stack + "_z_loss");
  output(auxLoss, stack + "_aux_loss");
  return {zLoss, auxLoss};
}

OwningOpRef<ModuleOp> ForwardBuilder::build() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  auto function = func::FuncOp::create(builder, loc, "main",
                                       builder.getFunctionType({}, {}));
  body = function.addEntryBlock();
  builder.setInsertionPointToStart(body);

  Dim batch{"batch", options.batch}, length{"length", options.length};
  auto input = [&](StringRef name, ArrayRef<Dim> dims) {
    return argument(type(dims, i32), MtfDialect::kNameAttrName, name);
  };
  // Outputs come first, then what the stacks recorded on the way.
  auto leading = [&](ArrayRef<std::pair<Value, StringRef>> first) {
    for (auto [index, entry] : llvm::enumerate(first)) {
      outputs.insert(outputs.begin() + index, entry.first);
      outputNames.insert(outputNames.begin() + index, entry.second.str());
    }
  };
  SmallVector<Value> encoderLogits, decoderLogits;
  switch (options.program) {
  case HFProgram::Forward: {
    Value inputIds = input("input_ids", {batch, length});
    Value mask = cast(input("attention_mask", {batch, length}), f32);
    Dim target{"target_length", options.targetLength};
    Value decoderIds = input("decoder_input_ids", {batch, target});
    Value labels;
    if (options.labels) {
      // -100 marks a position without a label (§5.6).
      labels = input("labels", {batch, target});
      addArgAttr(labels, MtfDialect::kIgnoredIndexAttrName,
                 builder.getI32IntegerAttr(-100));
    }
    Value encoderOut = encoder(inputIds, mask, encoderLogits);
    Value logits = lmHead(decoder(decoderIds, encoderOut, mask, decoderLogits));
    leading({{logits, "logits"}, {encoderOut, "encoder_last_hidden_state"}});
    auto [encoderZ, encoderAux] = addLosses("encoder", encoderLogits, "length");
    auto [decoderZ, decoderAux] =
        addLosses("decoder", decoderLogits, "target_length");
    if (labels) {
      // loss = CE + z coef x (z losses) + aux coef x (aux losses), §5.6.
      Value crossEntropyLoss = crossEntropy(logits, labels);
      Value total = crossEntropyLoss;
      for (auto [encoderLoss, decoderLoss, coef] :
           {std::tuple(encoderZ, decoderZ, config.zLossCoef),
            std::tuple(encoderAux, decoderAux, config.auxLossCoef)}) {
        Value sum = encoderLoss && decoderLoss
                        ? binary(BinaryKind::add, encoderLoss, decoderLoss)
                        : (encoderLoss ? encoderLoss : decoderLoss);
        if (sum)
          total = binary(
              BinaryKind::add, total,
              binary(BinaryKind::mul, sum, scalar(static_cast<float>(coef))));
      }
      output(total, "loss");
      output(crossEntropyLoss, "cross_entropy");
    }
    break;
  }
  case HFProgram::Encoder: {
    Value inputIds = input("input_ids", {batch, length});
    Value mask = cast(input("attention_mask", {batch, length}), f32);
    Value encoderOut = encoder(inputIds, mask, encoderLogits);
    leading({{encoderOut, "encoder_last_hidden_state"}});
    addLosses("encoder", encoderLogits, "length");
    Value memory = rename(encoderOut, "length", "memory_length");
    for (int64_t i = 0; i < config.numDecoderLayers; ++i) {
      auto [k, v] = keysAndValues("decoder.block." + std::to_string(i) +
                                      ".layer.1.EncDecAttention",
                                  memory, "memory_length");
      output(k, "cross_attention_key." + Twine(i));
      output(v, "cross_attention_value." + Twine(i));
    }
    break;
  }
  case HFProgram::DecoderStep: {
    Value ids = input("decoder_input_ids", {batch, {"target_length", 1}});
    Value position = input("decoder_position", {});
    Value mask = cast(input("attention_mask", {batch, length}), f32);
    Value logits = lmHead(decoderStep(ids, position, mask, decoderLogits));
    leading({{logits, "logits"}});
    break;
  }
  }

  func::ReturnOp::create(builder, loc, outputs);
  function.setType(builder.getFunctionType(body->getArgumentTypes(),
                                           ValueRange(outputs).getTypes()));
  // At once: setting them one by one would build an array per argument.
  function.setAllArgAttrs(argAttrs);
  for (auto [index, name] : llvm::enumerate(outputNames))
    function.setResultAttr(index, MtfDialect::kNameAttrName,
                           builder.getStringAttr(name));
  if (tooLarge)
    return nullptr;
  return module;
}

} // namespace

FailureOr<OwningOpRef<ModuleOp>>
switchyard::importHuggingFaceConfig(MLIRContext *context, const Object &json,
                                    const HFImportOptions &options,
                                    Location location) {
  context->loadDialect<MtfDialect, moe::MoeDialect, func::FuncDialect>();
  FailureOr<Config> config = parseConfig(json, location, options);
  if (failed(config))
    return failure();
  if (options.batch < 1 || options.length < 1 || options.targetLength < 1)
    return emitError(location)
           << "batch and sequence lengths must be positive";
  OwningOpRef<ModuleOp> module =
      ForwardBuilder(context, *config, options, location).build();
  if (!module || failed(mlir::verify(*module)))
    return failure();
  return module;
}

std::optional<HFProgram> switchyard::parseHFProgram(StringRef name) {
  return llvm::StringSwitch<std::optional<HFProgram>>(name)
      .Case("forward", HFProgram::Forward)
      .Case("encoder", HFProgram::Encoder)
      .Case("decoder-step", HFProgram::DecoderStep)
      .Default(std::nullopt);
}

FailureOr<HFStacks> switchyard::huggingFaceStacks(const Object &json,
                                                 Location location) {
  FailureOr<Config> config = parseConfig(json, location, HFImportOptions());
  if (failed(config))
    return failure();
  bool sparse = config->isSwitch;
  return HFStacks{config->numLayers, config->numDecoderLayers,
                  sparse ? config->encoderSparseStep : 0,
                  sparse ? config->decoderSparseStep : 0};
}

bool switchyard::isHuggingFaceModelPath(StringRef path) {
  return path.ends_with(".json") || llvm::sys::fs::is_directory(path);
}

FailureOr<OwningOpRef<ModuleOp>>
switchyard::importHuggingFaceModel(MLIRContext *context, StringRef path,
                                   const HFImportOptions &options) {
  SmallString<256> configPath(path);
  if (llvm::sys::fs::is_directory(configPath))
    llvm::sys::path::append(configPath, "config.json");
  Location location = FileLineColLoc::get(context, configPath, 1, 1);
  auto file = llvm::MemoryBuffer::getFile(configPath);
  if (!file)
    return emitError(location) << "cannot read the config: "
                               << file.getError().message();
  return importHuggingFaceConfigText(context, (*file)->getBuffer(), options,
                                     location);
}

FailureOr<OwningOpRef<ModuleOp>>
switchyard::importHuggingFaceConfigText(MLIRContext *context, StringRef text,
                                        const HFImportOptions &options,
                                        Location location) {
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(text);
  if (!json)
    return emitError(location) << "invalid JSON: "
                               << llvm::toString(json.takeError());
  if (!json->getAsObject())
    return emitError(location) << "the config must be a JSON object";
  return importHuggingFaceConfig(context, *json->getAsObject(), options,
                                 location);
}
