//===- SwitchLayerIR.h - the layer the MoE benchmarks compile ---*- C++ -*-===//
//
// The MoE feed-forward layer that bench/moe_layer (CPU) and
// bench/gpu_moe_layer (CUDA) time, as mtf/moe IR text: RMS norm, f32 router,
// top-1 (or top-k, gates normalized after drops) routing with a capacity
// factor, dispatch, relu expert FFN, combine, residual add. It returns `y`
// and the routing's `dropped` mask (to count the token choices the experts
// process); no router losses.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_BENCH_COMMON_SWITCHLAYERIR_H
#define SWITCHYARD_BENCH_COMMON_SWITCHLAYERIR_H

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>

namespace switchyard::bench {

/// Sizes of one layer; tokens are `batch` sequences of `length`.
struct SwitchLayerShape {
  int64_t batch, length, dModel, dFF, experts;
  double capacityFactor;
  /// Experts per token.
  int64_t topK = 1;

  int64_t tokens() const { return batch * length; }
  /// Slots per expert and sequence (routing groups tokens by `length`; the
  /// factor counts every choice).
  int64_t capacity() const {
    return static_cast<int64_t>(
        std::ceil(capacityFactor * topK * length / experts));
  }
};

/// `!mtf.tensor<[name:size, ...], dtype>`.
inline std::string
namedTensorType(std::initializer_list<std::pair<const char *, int64_t>> dims,
                const char *dtype = "f32") {
  std::string text = "!mtf.tensor<[";
  for (const auto &[name, size] : dims) {
    if (text.back() != '[')
      text += ", ";
    text += std::string(name) + ":" + std::to_string(size);
  }
  return text + "], " + dtype + ">";
}

/// The layer at `s`'s sizes, as `@main`.
inline std::string switchLayerIR(const SwitchLayerShape &s) {
  const int64_t b = s.batch, l = s.length, d = s.dModel, f = s.dFF,
                e = s.experts, c = s.capacity();
  const std::string x =
      namedTensorType({{"batch", b}, {"length", l}, {"d_model", d}});
  // Routing values: per token, or per token and choice.
  auto routing = [&](const char *dtype) {
    return s.topK == 1
               ? namedTensorType({{"batch", b}, {"length", l}}, dtype)
               : namedTensorType(
                     {{"batch", b}, {"length", l}, {"choice", s.topK}}, dtype);
  };
  const std::string tokensI32 = routing("i32");
  const std::string tokensI1 = routing("i1");
  const std::string tokensF32 = routing("f32");
  const std::string topK =
      s.topK == 1 ? ""
                  : " top_k(" + std::to_string(s.topK) + ") choices(choice)";
  const std::string normalize = s.topK == 1 ? "" : " normalize(after_drops)";
  const std::string choices = s.topK == 1 ? "" : " choices(choice)";
  const std::string norm = namedTensorType({{"d_model", d}});
  const std::string router = namedTensorType({{"experts", e}, {"d_model", d}});
  const std::string logits =
      namedTensorType({{"batch", b}, {"length", l}, {"experts", e}});
  const std::string wi =
      namedTensorType({{"experts", e}, {"d_ff", f}, {"d_model", d}});
  const std::string wo =
      namedTensorType({{"experts", e}, {"d_model", d}, {"d_ff", f}});
  const std::string buffers = namedTensorType(
      {{"experts", e}, {"batch", b}, {"expert_capacity", c}, {"d_model", d}});
  const std::string inner = namedTensorType(
      {{"experts", e}, {"batch", b}, {"expert_capacity", c}, {"d_ff", f}});
  char factor[32];
  // "%#g" keeps the point: MLIR reads "1" as an integer, not a float.
  std::snprintf(factor, sizeof factor, "%#g", s.capacityFactor);

  std::string ir;
  auto line = [&ir](const std::string &text) { ir += text + "\n"; };
  line("module {");
  line("  func.func @main(");
  line("      %x: " + x + " {mtf.name = \"x\"},");
  line("      %norm: " + norm + " {mtf.param = \"layer_norm.weight\"},");
  line("      %router: " + router +
       " {mtf.param = \"router.classifier.weight\"},");
  line("      %wi: " + wi +
       " {mtf.param = \"experts.expert_{experts}.wi.weight\"},");
  line("      %wo: " + wo +
       " {mtf.param = \"experts.expert_{experts}.wo.weight\"})");
  line("      -> (" + x + " {mtf.name = \"y\"}, " + tokensI1 +
       " {mtf.name = \"dropped\"}) {");
  line("    %h = mtf.rms_norm %x, %norm along d_model {epsilon = 1.0e-6 : f64}"
       " : " +
       x + ", " + norm);
  line("    %logits = mtf.einsum %h, %router : (" + x + ", " + router +
       ") -> " + logits);
  line("    %expert, %gate, %position, %dropped = moe.route %logits"
       " tokens(length) experts(experts)" +
       topK + " capacity_factor(" + std::string(factor) + ")" + normalize +
       " : " + logits);
  line("    %buffers = moe.dispatch %h, %expert, %position, %dropped"
       " tokens(length) experts(experts) capacity_dim(expert_capacity)" +
       choices + " : " + x + ", " + tokensI32 + " -> " + buffers);
  line("    %inner = mtf.einsum %buffers, %wi : (" + buffers + ", " + wi +
       ") -> " + inner);
  line("    %act = mtf.unary relu %inner : " + inner);
  line("    %out = mtf.einsum %act, %wo : (" + inner + ", " + wo + ") -> " +
       buffers);
  line("    %moe = moe.combine %out, %expert, %position, %dropped, %gate"
       " tokens(length) experts(experts) capacity_dim(expert_capacity)" +
       choices + " : " + buffers + ", " + tokensI32 + ", " + tokensF32 +
       " -> " + x);
  line("    %y = mtf.binary add %x, %moe : (" + x + ", " + x + ") -> " + x);
  line("    return %y, %dropped : " + x + ", " + tokensI1);
  line("  }");
  line("}");
  return ir;
}

} // namespace switchyard::bench

#endif // SWITCHYARD_BENCH_COMMON_SWITCHLAYERIR_H
