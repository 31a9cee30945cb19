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
  NamedTensorType type(ArrayRef<Dim> dims, Type element) {
    SmallVector<DimAttr> attrs;
    for (Dim dim : dims)
      attrs.push_back(DimAttr::get(context, builder.getStringAttr(dim.name),
                                   dim.size, {}));
    return NamedTensorType::get(context, attrs, element);
  }
  static NamedTensorType typeOf(Value value) {
    return llvm::cast<NamedTensorType>(value.getType());
  }
  Value argument(Type type, StringRef attrName, StringRef value) {
    Value arg = body->addArgument(type, loc);
    argAttrs.push_back(builder.getDictionaryAttr(
        builder.getNamedAttr(attrName, builder.getStringAttr(value))));
    return arg;
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
    auto result = NamedTensorType::get(context, dims, typeOf(a).getElementType());
    return BinaryOp::create(builder, loc, result, kind, a, b);
  }
  Value unary(UnaryKind kind, Value x) {
    return UnaryOp::create(builder, loc, x.getType(), kind, x);
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
  Value rmsNorm(Value x, StringRef weight) {
    return RmsNormOp::create(builder, loc, x.getType(), x,
                             param(weight, {{"d_model", config.dModel}}),
                             builder.getStringAttr("d_model"),
                             builder.getF64FloatAttr(config.epsilon));
  }

  /// [query, key] additive attention bias: relative positions (per head) and
  /// masks already combined, as HF passes one `position_bias` per stack.
  Value positionBias(StringRef weight, StringRef query, int64_t queries,
                     StringRef key, int64_t keys, bool bidirectional);
  /// Multi-head attention of `queriesIn` over `keysIn` (whose token
  /// dimension is `keyDim`) with additive `bias`.
  Value attention(StringRef prefix, Value queriesIn, StringRef queryDim,
                  Value keysIn, StringRef keyDim, Value bias);
  Value denseFeedForward(StringRef prefix, Value x, StringRef tokenDim);
  /// The sparse MLP; records router logits, choices and drops.
  Value sparseFeedForward(StringRef prefix, Value x, StringRef tokenDim,
                          bool perPosition, SmallVectorImpl<Value> &logits,
                          StringRef stack, int64_t block);
  Value encoder(Value ids, Value mask, SmallVectorImpl<Value> &routerLogits);
  Value decoder(Value ids, Value encoderOut, Value mask,
                SmallVectorImpl<Value> &routerLogits);
  void addLosses(StringRef stack, ArrayRef<Value> logits, StringRef tokenDim);
  void output(Value value, StringRef name) {
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
};

Value ForwardBuilder::positionBias(StringRef weight, StringRef query,
                                   int64_t queries, StringRef key, int64_t keys,
                                   bool bidirectional) {
  SmallVector<int32_t> buckets;
  for (int64_t i = 0; i < queries; ++i)
    for (int64_t j = 0; j < keys; ++j)
      buckets.push_back(relativeBucket(i, j, bidirectional, config.numBuckets,
                                       config.maxDistance));
  auto bucketType = RankedTensorType::get({queries, keys}, i32);
  Value ids = ConstantOp::create(
      builder, loc, type({{query, queries}, {key, keys}}, i32),
      DenseElementsAttr::get(bucketType, ArrayRef(buckets)));
  Value table = param(weight, {{"buckets", config.numBuckets},
                               {"heads", config.numHeads}});
  return GatherOp::create(
      builder, loc,
      type({{query, queries}, {key, keys}, {"heads", config.numHeads}}, f32),
      table, ids, builder.getStringAttr("buckets"));
}

Value ForwardBuilder::attention(StringRef prefix, Value queriesIn,
                                StringRef queryDim, Value keysIn,
                                StringRef keyDim, Value bias) {
  int64_t batch = options.batch;
  int64_t queries = typeOf(queriesIn).getDim(queryDim).getSize();
  int64_t keys = typeOf(keysIn).getDim(keyDim).getSize();
  Dim heads{"heads", config.numHeads}, dKv{"d_kv", config.dKv},
      dModel{"d_model", config.dModel};
  Dim inner{"inner", config.numHeads * config.dKv};
  // Stored [heads * d_kv, d_model] (and [d_model, heads * d_kv] for o);
  // head h owns rows h * d_kv ... (§4.3).
  auto projection = [&](StringRef name) {
    return reshape(param((prefix + "." + name + ".weight").str(),
                         {inner, dModel}),
                   {heads, dKv, dModel});
  };
  Value q = einsum({queriesIn, projection("q")},
                   {{"batch", batch}, {queryDim, queries}, heads, dKv});
  Value k = einsum({keysIn, projection("k")},
                   {{"batch", batch}, {keyDim, keys}, heads, dKv});
  Value v = einsum({keysIn, projection("v")},
                   {{"batch", batch}, {keyDim, keys}, heads, dKv});
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
                                        StringRef tokenDim, bool perPosition,
                                        SmallVectorImpl<Value> &routerLogits,
                                        StringRef stack, int64_t block) {
  int64_t tokens = typeOf(x).getDim(tokenDim).getSize();
  Dim batch{"batch", options.batch}, token{tokenDim, tokens},
      experts{"experts", config.numExperts}, dFF{"d_ff", config.dFF},
      dModel{"d_model", config.dModel},
      capacity{"expert_capacity", config.expertCapacity};
  // Capacity counts along `route` within each group; generation routes
  // every position alone (§6.2) through a unit token dimension.
  StringRef route = tokenDim;
  SmallVector<Dim> groups = {batch};
  Value routed = x;
  if (perPosition) {
    route = "position_token";
    groups.push_back(token);
    routed = reshape(x, {batch, token, {route, 1}, dModel});
  }
  SmallVector<Dim> tokenDims(groups);
  tokenDims.push_back({route, perPosition ? 1 : tokens});

  Value routerIn = routed;
  Value classifier = param((prefix + ".router.classifier.weight").str(),
                           {experts, dModel});
  if (config.routerBf16) {
    routerIn = cast(routerIn, builder.getBF16Type());
    classifier = cast(classifier, builder.getBF16Type());
  }
  SmallVector<Dim> logitDims(tokenDims);
  logitDims.push_back(experts);
  Value logits = einsum({routerIn, classifier}, logitDims);
  if (config.routerBias) {
    Value bias = param((prefix + ".router.classifier.bias").str(), {experts});
    if (config.routerBf16)
      bias = cast(bias, builder.getBF16Type());
    logits = binary(BinaryKind::add, logits, bias);
  }
  auto routing = moe::RouteOp::create(
      builder, loc, logits, builder.getStringAttr(route),
      builder.getStringAttr("experts"), /*top_k=*/IntegerAttr(),
      /*choices_dim=*/StringAttr(),
      builder.getI64IntegerAttr(config.expertCapacity), FloatAttr(),
      /*normalize=*/moe::GateNormalizationAttr());

  SmallVector<Dim> bufferDims = {experts};
  bufferDims.append(groups.begin(), groups.end());
  bufferDims.append({capacity, dModel});
  Value buffers = moe::DispatchOp::create(
      builder, loc, type(bufferDims, f32), routed, routing.getExpert(),
      routing.getPosition(), routing.getDropped(), builder.getStringAttr(route),
      builder.getStringAttr("experts"),
      builder.getStringAttr("expert_capacity"), /*choices_dim=*/StringAttr());
  SmallVector<Dim> hiddenDims(bufferDims);
  hiddenDims.back() = dFF;
  Value hidden = unary(
      config.activation,
      einsum({buffers, param((prefix + ".experts.expert_{experts}.wi.weight").str(),
                             {experts, dFF, dModel})},
             hiddenDims));
  Value out = einsum(
      {hidden, param((prefix + ".experts.expert_{experts}.wo.weight").str(),
                     {experts, dModel, dFF})},
      bufferDims);
  SmallVector<Dim> resultDims(tokenDims);
  resultDims.push_back(dModel);
  Value combined = moe::CombineOp::create(
      builder, loc, type(resultDims, f32), out, routing.getExpert(),
      routing.getPosition(), routing.getDropped(), routing.getGate(),
      /*residual=*/Value(), builder.getStringAttr(route), builder.getStringAttr("experts"),
      builder.getStringAttr("expert_capacity"), /*choices_dim=*/StringAttr());

  // Per block: raw router logits, expert choices and drops, by token.
  auto byToken = [&](Value value, ArrayRef<Dim> trailing) {
    if (!perPosition)
      return value;
    SmallVector<Dim> dims = {batch, token};
    dims.append(trailing.begin(), trailing.end());
    return reshape(value, dims);
  };
  std::string suffix = "." + std::to_string(block);
  Value flatLogits = byToken(logits, {experts});
  output(flatLogits, (stack + "_router_logits" + suffix).str());
  output(byToken(routing.getExpert(), {}), (stack + "_expert_index" + suffix).str());
  output(byToken(routing.getDropped(), {}), (stack + "_dropped" + suffix).str());
  routerLogits.push_back(flatLogits);
  return byToken(combined, {dModel});
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
  // Padded keys get finfo(float32).min added (§4.6).
  Value keyMask = rename(mask, "length", "memory_length");
  Value padding = binary(BinaryKind::mul,
                         binary(BinaryKind::sub, scalar(1.0f), keyMask),
                         scalar(std::numeric_limits<float>::lowest()));
  Value bias = binary(
      BinaryKind::add,
      positionBias("encoder.block.0.layer.0.SelfAttention.relative_attention_"
                   "bias.weight",
                   "length", length, "memory_length", length, true),
      padding);
  for (int64_t i = 0; i < config.numLayers; ++i) {
    std::string prefix = "encoder.block." + std::to_string(i);
    Value normed = rmsNorm(x, prefix + ".layer.0.layer_norm.weight");
    Value memory = rename(normed, "length", "memory_length");
    x = binary(BinaryKind::add, x,
               attention(prefix + ".layer.0.SelfAttention", normed, "length",
                         memory, "memory_length", bias));
    Value ffIn = rmsNorm(x, prefix + ".layer.1.layer_norm.weight");
    Value ff = config.isSwitch && Config::isSparse(config.encoderSparseStep, i)
                   ? sparseFeedForward(prefix + ".layer.1.mlp", ffIn, "length",
                                       false, routerLogits, "encoder", i)
                   : denseFeedForward(prefix + ".layer.1." +
                                          (config.isSwitch ? "mlp" : "DenseReluDense"),
                                      ffIn, "length");
    x = binary(BinaryKind::add, x, ff);
  }
  return rmsNorm(x, "encoder.final_layer_norm.weight");
}

Value ForwardBuilder::decoder(Value ids, Value encoderOut, Value mask,
                              SmallVectorImpl<Value> &routerLogits) {
  int64_t target = options.targetLength, length = options.length;
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
      causalMask);
  // Cross-attention: no position bias, the encoder's padding mask.
  Value crossBias = binary(
      BinaryKind::mul,
      binary(BinaryKind::sub, scalar(1.0f),
             rename(mask, "length", "memory_length")),
      scalar(std::numeric_limits<float>::lowest()));
  Value memory = rename(encoderOut, "length", "memory_length");
  (void)length;
  for (int64_t i = 0; i < config.numDecoderLayers; ++i) {
    std::string prefix = "decoder.block." + std::to_string(i);
    Value normed = rmsNorm(x, prefix + ".layer.0.layer_norm.weight");
    x = binary(BinaryKind::add, x,
               attention(prefix + ".layer.0.SelfAttention", normed,
                         "target_length",
                         rename(normed, "target_length", "target_memory_length"),
                         "target_memory_length", selfBias));
    normed = rmsNorm(x, prefix + ".layer.1.layer_norm.weight");
    x = binary(BinaryKind::add, x,
               attention(prefix + ".layer.1.EncDecAttention", normed,
                         "target_length", memory, "memory_length", crossBias));
    Value ffIn = rmsNorm(x, prefix + ".layer.2.layer_norm.weight");
    Value ff =
        config.isSwitch && Config::isSparse(config.decoderSparseStep, i)
            ? sparseFeedForward(prefix + ".layer.2.mlp", ffIn, "target_length",
                                options.decoderPositionGroups, routerLogits,
                                "decoder", i)
            : denseFeedForward(prefix + ".layer.2." +
                                   (config.isSwitch ? "mlp" : "DenseReluDense"),
                               ffIn, "target_length");
    x = binary(BinaryKind::add, x, ff);
  }
  return rmsNorm(x, "decoder.final_layer_norm.weight");
}

void ForwardBuilder::addLosses(StringRef stack, ArrayRef<Value> logits,
                               StringRef tokenDim) {
  if (logits.empty())
    return;
  output(moe::ZLossOp::create(builder, loc, logits,
                              builder.getStringAttr("experts")),
         (stack + "_z_loss").str());
  output(moe::LoadBalancingLossOp::create(builder, loc, logits,
                                          builder.getStringAttr(tokenDim),
                                          builder.getStringAttr("experts")),
         (stack + "_aux_loss").str());
}

OwningOpRef<ModuleOp> ForwardBuilder::build() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  auto function = func::FuncOp::create(builder, loc, "main",
                                       builder.getFunctionType({}, {}));
  body = function.addEntryBlock();
  builder.setInsertionPointToStart(body);

  Dim batch{"batch", options.batch};
  Value inputIds = argument(type({batch, {"length", options.length}}, i32),
                            MtfDialect::kNameAttrName, "input_ids");
  Value attentionMask =
      cast(argument(type({batch, {"length", options.length}}, i32),
                    MtfDialect::kNameAttrName, "attention_mask"),
           f32);
  Value decoderIds =
      argument(type({batch, {"target_length", options.targetLength}}, i32),
               MtfDialect::kNameAttrName, "decoder_input_ids");

  SmallVector<Value> encoderLogits, decoderLogits;
  Value encoderOut = encoder(inputIds, attentionMask, encoderLogits);
  Value decoderOut = decoder(decoderIds, encoderOut, attentionMask, decoderLogits);
  if (config.scaleDecoderOutput)
    decoderOut = binary(BinaryKind::mul, decoderOut,
                        scalar(static_cast<float>(1.0 / std::sqrt(config.dModel))));
  Value head = param(config.head,
                     {{"vocab", config.vocab}, {"d_model", config.dModel}});
  Value logits = einsum({decoderOut, head},
                        {batch, {"target_length", options.targetLength},
                         {"vocab", config.vocab}});
  outputs.insert(outputs.begin(), {logits, encoderOut});
  outputNames.insert(outputNames.begin(),
                     {"logits", "encoder_last_hidden_state"});
  addLosses("encoder", encoderLogits, "length");
  addLosses("decoder", decoderLogits,
            options.decoderPositionGroups ? "target_length" : "target_length");

  func::ReturnOp::create(builder, loc, outputs);
  function.setType(builder.getFunctionType(body->getArgumentTypes(),
                                           ValueRange(outputs).getTypes()));
  // At once: setting them one by one would build an array per argument.
  function.setAllArgAttrs(argAttrs);
  for (auto [index, name] : llvm::enumerate(outputNames))
    function.setResultAttr(index, MtfDialect::kNameAttrName,
                           builder.getStringAttr(name));
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
  if (failed(mlir::verify(*module)))
    return failure();
  return module;
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
