//===- PipelineFuzzer.cpp - libFuzzer target: the IR pipeline -------------===//
//
// Structure-aware fuzzing of parse -> verify -> sy-assign-layouts ->
// sy-partition -> sy-cleanup-collectives -> executable writer. The fuzzer's
// bytes choose a mesh (1-8 devices on 1-3 axes), named dimensions and their
// sizes, layout rules, and a small program of einsums, relayouts,
// reductions, element-wise ops, softmax and a Switch MoE block (route,
// dispatch, expert einsums, combine), emitted as MLIR text; sometimes the
// text is corrupted or the choices are inconsistent, so invalid programs are
// generated too. Every input must compile or end in a diagnostic; a program
// that compiles must give an executable the runtime loads.
//
// An input starting with '/' or 'm' (a comment or `module`) is taken as MLIR
// text itself, compiled with the mesh and layout of its module attributes;
// the seed corpus holds such files from examples/ and test/Passes.
//
//===----------------------------------------------------------------------===//

#include "fuzz/FuzzContext.h"
#include "switchyard/Compiler/Compile.h"
#include "switchyard/Runtime/Executable.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr const char *kDimNames[] = {"batch",   "length", "d_model",
                                     "experts", "d_ff",   "heads"};
constexpr int64_t kDimSizes[] = {1, 2, 3, 4, 6, 8, 12, 16};
constexpr int64_t kAxisSizes[] = {1, 2, 2, 4, 4, 8, 3};
constexpr const char *kAxisNames[] = {"x", "y", "z"};

struct Dim {
  std::string name;
  int64_t size = 1;
  /// The explicit layout, e.g. "x" or "x,y"; empty: none.
  std::string axes;
};

/// An SSA value of the generated program and its type.
struct Value {
  std::string name;
  std::vector<Dim> dims;
  std::string dtype = "f32";
};

std::string typeOf(const Value &value) {
  std::string type = "!mtf.tensor<[";
  for (size_t i = 0; i < value.dims.size(); ++i) {
    const Dim &dim = value.dims[i];
    type += (i ? ", " : "") + dim.name + ":" + std::to_string(dim.size);
    if (!dim.axes.empty())
      type += "{" + dim.axes + "}";
  }
  return type + "], " + value.dtype + ">";
}

template <typename T, size_t N>
const T &pick(FuzzedDataProvider &in, const T (&choices)[N]) {
  return choices[in.ConsumeIntegralInRange<size_t>(0, N - 1)];
}

/// A top-k route's gate normalization clause, or none.
constexpr const char *kNormalizations[] = {"", " normalize(before_drops)",
                                           " normalize(after_drops)"};

/// Builds one module's text from the fuzzer's bytes.
class ProgramGenerator {
public:
  explicit ProgramGenerator(FuzzedDataProvider &in) : in_(in) {}

  /// The module text; the mesh and layout go either into the module's
  /// attributes or into `options`.
  std::string generate(switchyard::CompileOptions &options) {
    meshInModule_ = in_.ConsumeIntegralInRange(0, 3) != 0;
    std::string mesh = generateMesh();
    std::string layout = generateLayout();
    for (const char *name : kDimNames)
      sizes_[name] = pick(in_, kDimSizes);

    int argCount = in_.ConsumeIntegralInRange(1, 3);
    for (int i = 0; i < argCount; ++i)
      addArgument(randomDims(/*explicitLayouts=*/rare()));
    int opCount = in_.ConsumeIntegralInRange(1, 8);
    for (int i = 0; i < opCount && in_.remaining_bytes(); ++i)
      generateOp();

    std::vector<const Value *> results = {&values_.back()};
    if (in_.ConsumeBool())
      results.push_back(&anyValue());
    std::string text;
    if (meshInModule_) {
      text = "module attributes {mtf.mesh = #mtf.mesh<\"" + mesh +
             "\">, mtf.layout = #mtf.layout<\"" + layout + "\">} {\n";
    } else {
      text = "module {\n";
      options.mesh = mesh;
      options.layout = layout;
    }
    options.explain = in_.ConsumeBool();
    text += "func.func @main(";
    for (size_t i = 0; i < arguments_.size(); ++i)
      text += (i ? ", " : "") + arguments_[i].name + ": " +
              typeOf(arguments_[i]);
    text += ") -> (";
    for (size_t i = 0; i < results.size(); ++i)
      text += (i ? ", " : "") + typeOf(*results[i]);
    text += ") {\n" + body_ + "return ";
    for (size_t i = 0; i < results.size(); ++i)
      text += (i ? ", " : "") + results[i]->name;
    text += " : ";
    for (size_t i = 0; i < results.size(); ++i)
      text += (i ? ", " : "") + typeOf(*results[i]);
    text += "\n}\n}\n";
    if (rare())
      corrupt(text);
    return text;
  }

private:
  /// True one time in sixteen: the inconsistent or unusual choices.
  bool rare() { return in_.ConsumeIntegralInRange(0, 15) == 0; }

  /// "x:2,y:4": 1-3 axes of at most 8 devices in all (rarely another size,
  /// 0 included, or a repeated axis name).
  std::string generateMesh() {
    int axisCount = in_.ConsumeIntegralInRange(1, 3);
    int64_t devicesLeft = 8;
    std::string mesh;
    for (int i = 0; i < axisCount; ++i) {
      int64_t size = pick(in_, kAxisSizes);
      if (size > devicesLeft)
        size = 1;
      if (rare())
        size = in_.ConsumeIntegralInRange<int64_t>(0, 16);
      devicesLeft = std::max<int64_t>(1, devicesLeft / std::max<int64_t>(size, 1));
      std::string name = rare() ? pick(in_, kAxisNames) : kAxisNames[i];
      axes_.push_back(name);
      mesh += (i ? "," : "") + name + ":" + std::to_string(size);
    }
    return mesh;
  }

  /// One or two mesh axes, e.g. "x" or "y,x", that are not in `used`
  /// (rarely an unknown or a used one), which they are added to; empty when
  /// none is left.
  std::string randomAxes(std::vector<std::string> &used) {
    std::vector<std::string> free;
    for (const std::string &axis : axes_)
      if (std::find(used.begin(), used.end(), axis) == used.end() || rare())
        free.push_back(axis);
    if (rare())
      free.push_back("w");
    std::string axes;
    int count = in_.ConsumeIntegralInRange(0, 3) == 0 ? 2 : 1;
    for (int i = 0; i < count && !free.empty(); ++i) {
      size_t at = in_.ConsumeIntegralInRange<size_t>(0, free.size() - 1);
      axes += (axes.empty() ? "" : ",") + free[at];
      used.push_back(free[at]);
      free.erase(free.begin() + at);
    }
    return axes;
  }

  /// Mesh TF layout rules: "batch:x;experts:y,z".
  std::string generateLayout() {
    std::string layout;
    auto rule = [&](const char *name) {
      std::vector<std::string> used;
      std::string axes = randomAxes(used);
      if (in_.ConsumeBool() && !axes.empty())
        layout += (layout.empty() ? "" : ";") + std::string(name) + ":" + axes;
    };
    for (const char *name : kDimNames)
      rule(name);
    rule("choice"); // top-k routing's choices dimension
    return layout;
  }

  /// A subset of the dimension names (rarely none: a scalar), with their
  /// sizes; some dimensions get an explicit layout.
  std::vector<Dim> randomDims(bool explicitLayouts) {
    std::vector<Dim> dims;
    size_t first = in_.ConsumeIntegralInRange<size_t>(0, 5);
    for (size_t i = 0; i < 6; ++i) {
      const char *name = kDimNames[(first + i) % 6];
      if (in_.ConsumeBool())
        dims.push_back({name, sizes_[name], ""});
    }
    if (dims.empty() && !rare())
      dims.push_back({kDimNames[first], sizes_[kDimNames[first]], ""});
    if (explicitLayouts)
      relayoutDims(dims);
    return dims;
  }

  /// New explicit layouts for `dims`: each mesh axis splits at most one of
  /// them (rarely more). Without the mesh in the module, where a laid-out
  /// type is an error, only rarely any.
  void relayoutDims(std::vector<Dim> &dims) {
    std::vector<std::string> used;
    for (Dim &dim : dims)
      dim.axes = in_.ConsumeBool() && (meshInModule_ || rare())
                     ? randomAxes(used)
                     : "";
  }

  Value &addArgument(std::vector<Dim> dims, std::string dtype = "f32") {
    Value value{"%a" + std::to_string(arguments_.size()), std::move(dims),
                std::move(dtype)};
    arguments_.push_back(value);
    values_.push_back(value);
    return values_.back();
  }

  const Value &addValue(std::vector<Dim> dims, const std::string &op,
                        std::string dtype = "f32") {
    Value value{"%v" + std::to_string(values_.size()), std::move(dims),
                std::move(dtype)};
    body_ += value.name + " = " + op + "\n";
    values_.push_back(value);
    return values_.back();
  }

  const Value &anyValue() {
    return values_[in_.ConsumeIntegralInRange<size_t>(0, values_.size() - 1)];
  }

  /// `dims` without some of its entries; rarely with a renamed one.
  std::vector<Dim> subset(const std::vector<Dim> &dims) {
    std::vector<Dim> kept;
    for (const Dim &dim : dims)
      if (in_.ConsumeBool())
        kept.push_back(dim);
    if (!kept.empty() && rare())
      kept.back().size += 1;
    return kept;
  }

  /// `a`'s dimensions, then those of `b` that `a` has not.
  static std::vector<Dim> unionOf(const std::vector<Dim> &a,
                                  const std::vector<Dim> &b) {
    std::vector<Dim> result = a;
    for (const Dim &dim : b)
      if (std::none_of(a.begin(), a.end(),
                       [&](const Dim &d) { return d.name == dim.name; }))
        result.push_back(dim);
    return result;
  }

  void generateOp() {
    switch (in_.ConsumeIntegralInRange(0, 7)) {
    case 0: { // einsum: the result keeps some of the operands' dimensions.
      const Value a = anyValue(), b = anyValue();
      std::vector<Dim> result = subset(unionOf(a.dims, b.dims));
      if (rare())
        relayoutDims(result);
      addValue(result, "mtf.einsum " + a.name + ", " + b.name + " : (" +
                           typeOf(a) + ", " + typeOf(b) + ") -> " +
                           typeOf(Value{"", result, "f32"}));
      break;
    }
    case 1: { // relayout to a random layout of the same dimensions.
      const Value a = anyValue();
      std::vector<Dim> result = a.dims;
      relayoutDims(result);
      addValue(result, "mtf.relayout " + a.name + " : " + typeOf(a) + " -> " +
                           typeOf(Value{"", result, a.dtype}),
               a.dtype);
      break;
    }
    case 2: { // reduce some dimensions away.
      const Value a = anyValue();
      std::vector<Dim> result = subset(a.dims);
      const char *kinds[] = {"sum", "max", "mean"};
      addValue(result, "mtf.reduce " + std::string(pick(in_, kinds)) + " " +
                           a.name + " : " + typeOf(a) + " -> " +
                           typeOf(Value{"", result, a.dtype}),
               a.dtype);
      break;
    }
    case 3: { // element-wise unary.
      const Value a = anyValue();
      const char *kinds[] = {"relu", "gelu", "rsqrt", "neg"};
      addValue(a.dims, "mtf.unary " + std::string(pick(in_, kinds)) + " " +
                           a.name + " : " + typeOf(a),
               a.dtype);
      break;
    }
    case 4: { // element-wise binary, broadcasting to the union of dims.
      const Value a = anyValue(), b = anyValue();
      std::vector<Dim> result = unionOf(a.dims, b.dims);
      const char *kinds[] = {"add", "mul", "sub"};
      addValue(result, "mtf.binary " + std::string(pick(in_, kinds)) + " " +
                           a.name + ", " + b.name + " : (" + typeOf(a) +
                           ", " + typeOf(b) + ") -> " +
                           typeOf(Value{"", result, a.dtype}),
               a.dtype);
      break;
    }
    case 5: { // softmax along one dimension.
      const Value a = anyValue();
      std::string along =
          a.dims.empty() || rare()
              ? std::string(pick(in_, kDimNames))
              : a.dims[in_.ConsumeIntegralInRange<size_t>(0, a.dims.size() - 1)]
                    .name;
      addValue(a.dims, "mtf.softmax " + a.name + " along " + along + " : " +
                           typeOf(a),
               a.dtype);
      break;
    }
    case 6: { // a cast to bf16 and back.
      const Value a = anyValue();
      const Value &half =
          addValue(a.dims, "mtf.cast " + a.name + " : " + typeOf(a) + " -> " +
                               typeOf(Value{"", a.dims, "bf16"}),
                   "bf16");
      const Value copy = half;
      addValue(copy.dims, "mtf.cast " + copy.name + " : " + typeOf(copy) +
                              " -> " + typeOf(Value{"", copy.dims, "f32"}));
      break;
    }
    default:
      generateMoe();
    }
  }

  Dim dim(const char *name) { return {name, sizes_[name], ""}; }

  /// A Switch MoE block on new arguments: router einsum, route (top-1, or
  /// top-k with a choices dimension, rarely an invalid k) with a capacity,
  /// dispatch, the expert einsums, combine.
  void generateMoe() {
    const Value x =
        addArgument({dim("batch"), dim("length"), dim("d_model")});
    const Value router = addArgument({dim("experts"), dim("d_model")});
    const Value wi = addArgument({dim("experts"), dim("d_ff"), dim("d_model")});
    const Value wo = addArgument({dim("experts"), dim("d_model"), dim("d_ff")});
    std::vector<Dim> tokens = {dim("batch"), dim("length")};
    const Value logits = addValue(
        {dim("batch"), dim("length"), dim("experts")},
        "mtf.einsum " + x.name + ", " + router.name + " : (" + typeOf(x) +
            ", " + typeOf(router) + ") -> " +
            typeOf(Value{"", {dim("batch"), dim("length"), dim("experts")}}));
    int64_t capacity = in_.ConsumeIntegralInRange<int64_t>(rare() ? 0 : 1, 4);
    std::string topK, choices;
    if (in_.ConsumeBool()) {
      const int64_t experts = sizes_["experts"];
      const int64_t k =
          rare() ? in_.ConsumeIntegralInRange<int64_t>(0, experts + 1)
                 : in_.ConsumeIntegralInRange<int64_t>(1, experts);
      topK = " top_k(" + std::to_string(k) + ") choices(choice)" +
             pick(in_, kNormalizations);
      choices = " choices(choice)";
      tokens.push_back({"choice", k, ""});
    }
    // route's four results: expert, gate, position, dropped.
    std::string route = "%r" + std::to_string(values_.size());
    body_ += route + ":4 = moe.route " + logits.name +
             " tokens(length) experts(experts)" + topK + " capacity(" +
             std::to_string(capacity) + ") : " + typeOf(logits) + "\n";
    Value tokenType{"", tokens, "i32"};
    Value gateType{"", tokens, "f32"};
    std::vector<Dim> buffers = {dim("experts"), dim("batch"),
                                {"expert_capacity", capacity, ""},
                                dim("d_model")};
    if (in_.ConsumeBool())
      std::swap(buffers[0], buffers[1]);
    std::string routed = route + "#0, " + route + "#2, " + route + "#3";
    const Value dispatched = addValue(
        buffers, "moe.dispatch " + x.name + ", " + routed +
                     " tokens(length) experts(experts) "
                     "capacity_dim(expert_capacity)" +
                     choices + " : " + typeOf(x) + ", " + typeOf(tokenType) +
                     " -> " + typeOf(Value{"", buffers}));
    std::vector<Dim> hidden = buffers;
    hidden.back() = dim("d_ff");
    const Value inner = addValue(
        hidden, "mtf.einsum " + dispatched.name + ", " + wi.name + " : (" +
                    typeOf(dispatched) + ", " + typeOf(wi) + ") -> " +
                    typeOf(Value{"", hidden}));
    const Value outer = addValue(
        buffers, "mtf.einsum " + inner.name + ", " + wo.name + " : (" +
                     typeOf(inner) + ", " + typeOf(wo) + ") -> " +
                     typeOf(Value{"", buffers}));
    addValue(x.dims,
             "moe.combine " + outer.name + ", " + routed + ", " + route +
                 "#1 tokens(length) experts(experts) "
                 "capacity_dim(expert_capacity)" +
                 choices + " : " + typeOf(outer) + ", " + typeOf(tokenType) +
                 ", " + typeOf(gateType) + " -> " + typeOf(x));
  }

  /// Deletes or replaces one character, or cuts the text short.
  void corrupt(std::string &text) {
    size_t at = in_.ConsumeIntegralInRange<size_t>(0, text.size() - 1);
    switch (in_.ConsumeIntegralInRange(0, 2)) {
    case 0:
      text.erase(at, 1);
      break;
    case 1:
      text[at] = in_.ConsumeIntegral<char>();
      break;
    default:
      text.resize(at);
    }
  }

  FuzzedDataProvider &in_;
  /// Whether the mesh and layout go into the module's attributes rather
  /// than the compile options.
  bool meshInModule_ = true;
  std::vector<std::string> axes_;
  std::map<std::string, int64_t> sizes_;
  std::vector<Value> arguments_;
  std::vector<Value> values_;
  std::string body_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  mlir::MLIRContext &ctx = switchyard::fuzz::fuzzContext();
  switchyard::CompileOptions options;
  std::string text;
  if (data[0] == '/' || data[0] == 'm') {
    text.assign(reinterpret_cast<const char *>(data), size);
  } else {
    FuzzedDataProvider in(data, size);
    text = ProgramGenerator(in).generate(options);
  }
  if (std::getenv("SWITCHYARD_FUZZ_PRINT"))
    llvm::errs() << text << "\n";

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, &ctx);
  if (!module || failed(mlir::verify(*module)))
    return 0;
  mlir::FailureOr<std::string> executable =
      switchyard::compileToExecutable(*module, options);
  // What the compiler writes, the runtime must load.
  if (succeeded(executable) &&
      !switchyard::runtime::Executable::loadBytes(*executable).ok())
    std::abort();
  return 0;
}
