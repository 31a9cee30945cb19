//===- PropertyTest.cpp - random programs match their one-device run ------===//
//
// Generates random programs over named dimensions — einsums, reductions,
// elementwise ops, softmax, cumsum, RMS norm, gathers, relayouts between
// random layouts, and a Switch routing block (route with a capacity or a
// capacity factor, the router losses, dispatch, an expert einsum,
// combine) — on random
// meshes of 1 to 8 devices with 1 to 3 axes and random layout rules, and
// checks each against its one-device run with the equivalence harness.
//
// The seed is fixed. A failure prints the program's seed, mesh, rules and
// text; rerun just that program with
//   SWITCHYARD_PROPERTY_SEED=<seed> SWITCHYARD_PROPERTY_COUNT=1 \
//     build/test/Equivalence/PropertyTest
// (the count is the number of programs per shard; there are kShards shards).
//
//===----------------------------------------------------------------------===//

#include "Harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace switchyard::equivalence;

namespace {

/// The shards run as separate ctest tests, so that ctest -j spreads them.
constexpr int kShards = 4;
constexpr uint64_t kDefaultSeed = 20261125;
constexpr int kDefaultCountPerShard = 125;

/// The value of environment variable `name` as a number, or `fallback`.
uint64_t envNumber(const char *name, uint64_t fallback) {
  const char *text = std::getenv(name);
  return text && *text ? std::strtoull(text, nullptr, 10) : fallback;
}

struct Dim {
  std::string name;
  int64_t size;
  /// Mesh axes splitting it, major to minor; empty: whole (or, when the
  /// whole tensor has no axes, whatever the layout rules give).
  std::vector<std::string> axes;
};

/// A value of the program: its SSA name and named type.
struct Value {
  std::string ssa;
  std::vector<Dim> dims;
  std::string element = "f32";

  std::string type() const {
    std::ostringstream os;
    os << "!mtf.tensor<[";
    for (size_t i = 0; i < dims.size(); ++i) {
      os << (i ? ", " : "") << dims[i].name << ":" << dims[i].size;
      if (!dims[i].axes.empty()) {
        os << "{";
        for (size_t k = 0; k < dims[i].axes.size(); ++k)
          os << (k ? ", " : "") << dims[i].axes[k];
        os << "}";
      }
    }
    os << "], " << element << ">";
    return os.str();
  }
  int64_t elements() const {
    int64_t n = 1;
    for (const Dim &d : dims)
      n *= d.size;
    return n;
  }
  bool has(const std::string &name) const {
    return std::any_of(dims.begin(), dims.end(),
                       [&](const Dim &d) { return d.name == name; });
  }
};

/// A random program, its mesh and its layout rules.
struct Program {
  std::string text;
  std::string mesh;
  std::string layout;
};

class Generator {
public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  Program generate() {
    makeMesh();
    makeDims();
    makeRules();
    int steps = uniform(3, 9);
    for (int i = 0; i < steps; ++i)
      step();
    if (chance(0.5))
      moeBlock();
    return finish();
  }

private:
  int uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T> const T &pick(const std::vector<T> &items) {
    return items[uniform(0, int(items.size()) - 1)];
  }
  template <typename T> void shuffle(std::vector<T> &items) {
    std::shuffle(items.begin(), items.end(), rng_);
  }

  /// 1 to 3 axes, x y z, of sizes 1, 2, 4 or 8 with at most 8 devices.
  void makeMesh() {
    int count = uniform(1, 3);
    int64_t devices = 1;
    for (int i = 0; i < count; ++i) {
      std::vector<int64_t> sizes;
      for (int64_t s : {1, 2, 2, 4, 8})
        if (devices * s <= 8)
          sizes.push_back(s);
      int64_t size = pick(sizes);
      devices *= size;
      axes_.push_back({std::string(1, "xyz"[i]), size});
    }
  }

  /// Dimension names with fixed sizes; a few sizes not every axis divides.
  void makeDims() {
    std::vector<std::string> names = {"batch", "length", "d_model",
                                      "d_ff",  "heads",  "vocab"};
    for (const std::string &name : names)
      dims_.push_back(
          {name, pick(std::vector<int64_t>{2, 4, 6, 8, 8, 16}), {}});
  }

  int64_t axisSize(const std::string &axis) const {
    for (auto &[name, size] : axes_)
      if (name == axis)
        return size;
    return 1;
  }

  /// A random ordered set of axes, none in `taken`, whose product divides
  /// `size`; may be empty.
  std::vector<std::string> randomAxes(int64_t size,
                                      std::vector<std::string> &taken) {
    std::vector<std::string> chosen;
    int64_t product = 1;
    std::vector<std::pair<std::string, int64_t>> order = axes_;
    shuffle(order);
    for (auto &[name, axisSize] : order) {
      if (std::find(taken.begin(), taken.end(), name) != taken.end() ||
          size % (product * axisSize) != 0 || !chance(0.45))
        continue;
      chosen.push_back(name);
      taken.push_back(name);
      product *= axisSize;
    }
    return chosen;
  }

  /// Mesh TF layout rules over some dimensions; several rules may share
  /// an axis (the first in rule order keeps it).
  void makeRules() {
    std::vector<Dim> order = dims_;
    shuffle(order);
    std::vector<std::string> rules;
    for (const Dim &d : order) {
      std::vector<std::string> none;
      std::vector<std::string> axes = randomAxes(d.size, none);
      if (axes.empty())
        continue;
      std::string rule = d.name + ":";
      for (size_t i = 0; i < axes.size(); ++i)
        rule += (i ? "," : "") + axes[i];
      rules.push_back(rule);
    }
    for (size_t i = 0; i < rules.size(); ++i)
      layout_ += (i ? ";" : "") + rules[i];
  }

  /// The same dimensions with a random explicit layout.
  std::vector<Dim> relaid(std::vector<Dim> dims) {
    std::vector<std::string> taken;
    for (Dim &d : dims)
      d.axes = randomAxes(d.size, taken);
    return dims;
  }

  std::vector<Dim> randomDims(int lo, int hi) {
    std::vector<Dim> all = dims_;
    shuffle(all);
    all.resize(uniform(lo, hi));
    return all;
  }

  /// A new function argument: a run-time input or a checkpoint weight,
  /// with an explicit layout now and then. Its exp is what the program
  /// uses: every value stays positive, so no sum cancels and the relative
  /// tolerance holds however a sum is split (ops that make negatives, such
  /// as neg and sub, are left out for the same reason).
  Value argument(std::vector<Dim> dims, bool weight = false) {
    if (chance(0.2))
      dims = relaid(dims);
    Value v{"%a" + std::to_string(arguments_.size()), dims};
    weight = weight || chance(0.4);
    arguments_.push_back(v.type() +
                         (weight ? " {mtf.param = \"w" : " {mtf.name = \"in") +
                         std::to_string(arguments_.size()) + "\"}");
    argumentValues_.push_back(v.ssa);
    Value positive{"%p" + v.ssa.substr(2), dims};
    body_ << "    " << positive.ssa << " = mtf.unary exp " << v.ssa << " : "
          << v.type() << "\n";
    return positive;
  }

  /// An existing float value that is not a scalar, or a new argument.
  Value operand() {
    std::vector<Value> floats;
    for (const Value &v : values_)
      if (v.element == "f32" && !v.dims.empty())
        floats.push_back(v);
    if (floats.empty() || chance(0.25))
      return argument(randomDims(1, 3));
    return pick(floats);
  }

  /// Records `v` (an op result) and returns it.
  Value define(std::vector<Dim> dims, const std::string &element = "f32") {
    Value v{"%v" + std::to_string(counter_++), std::move(dims), element};
    values_.push_back(v);
    return v;
  }

  void use(const Value &v) { used_.push_back(v.ssa); }

  /// Result dimensions: a random subset of `from` in random order, without
  /// explicit layouts, at most 4 dimensions and 4096 elements.
  std::vector<Dim> subset(std::vector<Dim> from, int atLeast) {
    shuffle(from);
    std::vector<Dim> result;
    int64_t elements = 1;
    for (Dim d : from) {
      bool wanted = int(result.size()) < atLeast || chance(0.6);
      if (!wanted || result.size() == 4 || elements * d.size > 4096)
        continue;
      d.axes.clear();
      elements *= d.size;
      result.push_back(d);
    }
    return result;
  }

  static std::vector<Dim> unionOf(const Value &a, const Value &b) {
    std::vector<Dim> all = a.dims;
    for (const Dim &d : b.dims)
      if (!a.has(d.name))
        all.push_back(d);
    return all;
  }

  void step() {
    switch (uniform(0, 9)) {
    case 0:
    case 1:
      return einsum();
    case 2:
      return reduce();
    case 3:
    case 4:
      return relayout();
    case 5:
      return elementwise();
    case 6:
      return softmax();
    case 7:
      return cumsumOrNorm();
    default:
      return gather();
    }
  }

  /// A cumulative sum or an RMS norm along one dimension.
  void cumsumOrNorm() {
    Value a = operand();
    const Dim &along = pick(a.dims);
    Value r = define(a.dims);
    use(a);
    if (chance(0.25)) {
      body_ << "    " << r.ssa << " = mtf.cumsum " << a.ssa << " along "
            << along.name << " : " << a.type() << "\n";
      return;
    }
    if (chance(0.33)) {
      // Exclusive, plus the input: its first entries are zeros, which a min
      // would make an all-zero output, so no other op sees it.
      Value sum{"%v" + std::to_string(counter_++), a.dims};
      body_ << "    " << sum.ssa << " = mtf.cumsum " << a.ssa << " along "
            << along.name << " exclusive : " << a.type() << "\n"
            << "    " << r.ssa << " = mtf.binary add " << sum.ssa << ", "
            << a.ssa << " : (" << a.type() << ", " << a.type() << ") -> "
            << a.type() << "\n";
      return;
    }
    Value scale = argument({Dim{along.name, along.size, {}}}, true);
    body_ << "    " << r.ssa << " = mtf.rms_norm " << a.ssa << ", " << scale.ssa
          << " along " << along.name << " : " << a.type() << ", "
          << scale.type() << "\n";
  }

  /// An embedding lookup: run-time ids (checked against the table) into a
  /// weight table along `vocab`.
  void gather() {
    std::vector<Dim> idDims;
    for (const Dim &d : randomDims(1, 2))
      if (d.name != "vocab" && d.name != "d_model")
        idDims.push_back(d);
    if (idDims.empty())
      return;
    Value table = argument({dims_[5], dims_[2]}, true);
    Value ids{"%a" + std::to_string(arguments_.size()), idDims, "i32"};
    arguments_.push_back(ids.type() + " {mtf.name = \"ids" +
                         std::to_string(arguments_.size()) + "\"}");
    argumentValues_.push_back(ids.ssa);
    std::vector<Dim> dims = idDims;
    dims.push_back(dims_[2]);
    for (Dim &d : dims)
      d.axes.clear();
    shuffle(dims);
    Value r = define(dims);
    use(table);
    body_ << "    " << r.ssa << " = mtf.gather " << table.ssa << "[" << ids.ssa
          << "] along vocab : (" << table.type() << ", " << ids.type()
          << ") -> " << r.type() << "\n";
  }

  void einsum() {
    Value a = operand();
    if (chance(0.2)) {
      // One operand: a transposition or a sum.
      Value r = define(subset(a.dims, 1));
      use(a);
      body_ << "    " << r.ssa << " = mtf.einsum " << a.ssa << " : ("
            << a.type() << ") -> " << r.type() << "\n";
      return;
    }
    Value b;
    if (chance(0.5)) {
      b = operand();
    } else {
      // A weight sharing some of `a`'s dimensions plus new ones.
      std::vector<Dim> dims = subset(a.dims, 1);
      for (const Dim &d : randomDims(1, 2))
        if (!a.has(d.name) && dims.size() < 3)
          dims.push_back(d);
      b = argument(dims, true);
    }
    if (b.ssa == a.ssa)
      b = argument(a.dims);
    Value r = define(subset(unionOf(a, b), 1));
    use(a);
    use(b);
    body_ << "    " << r.ssa << " = mtf.einsum " << a.ssa << ", " << b.ssa
          << " : (" << a.type() << ", " << b.type() << ") -> " << r.type()
          << "\n";
  }

  void reduce() {
    Value a = operand();
    if (a.dims.size() < 2)
      return;
    std::vector<Dim> kept = subset(a.dims, 0);
    if (kept.size() == a.dims.size())
      kept.pop_back();
    Value r = define(kept);
    use(a);
    body_ << "    " << r.ssa << " = mtf.reduce "
          << pick(std::vector<std::string>{"sum", "mean", "max", "min"}) << " "
          << a.ssa << " : " << a.type() << " -> " << r.type() << "\n";
  }

  void relayout() {
    Value a = operand();
    Value r = define(relaid(a.dims));
    use(a);
    body_ << "    " << r.ssa << " = mtf.relayout " << a.ssa << " : " << a.type()
          << " -> " << r.type() << "\n";
  }

  void elementwise() {
    Value a = operand();
    if (chance(0.5)) {
      Value r = define(a.dims);
      use(a);
      body_ << "    " << r.ssa << " = mtf.unary "
            << pick(std::vector<std::string>{"tanh", "sqrt", "silu", "square",
                                             "gelu_tanh"})
            << " " << a.ssa << " : " << a.type() << "\n";
      return;
    }
    // A broadcast: the second operand has some of the first's dimensions.
    Value b = argument(subset(a.dims, 1));
    std::vector<Dim> all = unionOf(a, b);
    for (Dim &d : all)
      d.axes.clear();
    shuffle(all);
    Value r = define(all);
    use(a);
    use(b);
    body_ << "    " << r.ssa << " = mtf.binary "
          << pick(std::vector<std::string>{"add", "mul", "max", "div"}) << " "
          << a.ssa << ", " << b.ssa << " : (" << a.type() << ", " << b.type()
          << ") -> " << r.type() << "\n";
  }

  /// Softmax of tanh of a value: large logits would make it ill-conditioned
  /// (an input's rounding error becomes the output's relative error).
  void softmax() {
    Value a = operand();
    Value bounded = define(a.dims);
    Value r = define(a.dims);
    use(a);
    use(bounded);
    body_ << "    " << bounded.ssa << " = mtf.unary tanh " << a.ssa << " : "
          << a.type() << "\n"
          << "    " << r.ssa << " = mtf.softmax " << bounded.ssa << " along "
          << pick(a.dims).name << " : " << a.type() << "\n";
  }

  /// Route on input logits (exact, so routing must match exactly), dispatch
  /// the tokens, an optional relayout and expert einsum, then combine.
  void moeBlock() {
    std::vector<Dim> groups;
    for (const Dim &d : dims_)
      if ((d.name == "batch" || d.name == "heads") && chance(0.5))
        groups.push_back(d);
    Dim tokens{"tokens", pick(std::vector<int64_t>{4, 8, 16}), {}};
    Dim experts{"experts", pick(std::vector<int64_t>{1, 2, 4, 8}), {}};
    Dim features{"d_model", dims_[2].size, {}};
    int64_t capacity = uniform(1, int(tokens.size));
    Dim slots{"expert_capacity", capacity, {}};
    auto with = [&](std::vector<Dim> dims) {
      std::vector<Dim> all = groups;
      all.insert(all.end(), dims.begin(), dims.end());
      shuffle(all);
      return all;
    };
    // The rules may name these dimensions too.
    for (const Dim &d : {tokens, experts})
      if (chance(0.5)) {
        std::vector<std::string> none;
        std::vector<std::string> axes = randomAxes(d.size, none);
        if (!axes.empty()) {
          std::string rule = d.name + ":";
          for (size_t i = 0; i < axes.size(); ++i)
            rule += (i ? "," : "") + axes[i];
          layout_ = chance(0.5) || layout_.empty()
                        ? rule + (layout_.empty() ? "" : ";" + layout_)
                        : layout_ + ";" + rule;
        }
      }

    Value logits = argument(with({tokens, experts}));
    if (chance(0.5)) {
      Value r = define(relaid(logits.dims));
      body_ << "    " << r.ssa << " = mtf.relayout " << logits.ssa << " : "
            << logits.type() << " -> " << r.type() << "\n";
      logits = r;
    }
    use(logits);
    // The routing tensors keep the logits' layout (moe.route infers them).
    std::vector<Dim> routed;
    for (const Dim &d : logits.dims)
      if (d.name != "experts")
        routed.push_back(d);
    Value expert = define(routed, "i32");
    Value gate = define(routed, "f32");
    Value position = define(routed, "i32");
    Value dropped = define(routed, "i1");
    body_ << "    " << expert.ssa << ", " << gate.ssa << ", " << position.ssa
          << ", " << dropped.ssa << " = moe.route " << logits.ssa
          << " tokens(tokens) experts(experts) "
          << (chance(0.7)
                  ? "capacity(" + std::to_string(capacity) + ")"
                  : "capacity_factor(" +
                        std::to_string(double(capacity) * double(experts.size) /
                                       double(tokens.size)) +
                        ")")
          << " : " << logits.type() << "\n";
    if (chance(0.5)) {
      Value z = define({}), balance = define({});
      body_ << "    " << z.ssa << " = moe.z_loss " << logits.ssa
            << " experts(experts) : " << logits.type() << "\n"
            << "    " << balance.ssa << " = moe.load_balancing_loss "
            << logits.ssa
            << " tokens(tokens) experts(experts) : " << logits.type() << "\n";
    }

    Value x = argument(with({tokens, features}));
    std::vector<Dim> bufferDims = with({experts, slots, features});
    Value buffers = define(bufferDims);
    use(x);
    use(position);
    body_ << "    " << buffers.ssa << " = moe.dispatch " << x.ssa << ", "
          << expert.ssa << ", " << position.ssa << ", " << dropped.ssa
          << " tokens(tokens) experts(experts) capacity_dim(expert_capacity) : "
          << x.type() << ", " << expert.type() << " -> " << buffers.type()
          << "\n";
    if (chance(0.5)) {
      Value r = define(relaid(buffers.dims));
      body_ << "    " << r.ssa << " = mtf.relayout " << buffers.ssa << " : "
            << buffers.type() << " -> " << r.type() << "\n";
      buffers = r;
    }
    use(buffers);
    if (chance(0.6)) {
      Dim out{"d_ff", dims_[3].size, {}};
      Value w = argument({experts, features, out}, true);
      std::vector<Dim> dims;
      for (const Dim &d : buffers.dims)
        dims.push_back(d.name == "d_model" ? out : Dim{d.name, d.size, {}});
      Value r = define(dims);
      use(w);
      body_ << "    " << r.ssa << " = mtf.einsum " << buffers.ssa << ", "
            << w.ssa << " : (" << buffers.type() << ", " << w.type() << ") -> "
            << r.type() << "\n";
      buffers = r;
      features = out;
    }
    Value combined = define(with({tokens, features}));
    use(buffers);
    body_ << "    " << combined.ssa << " = moe.combine " << buffers.ssa << ", "
          << expert.ssa << ", " << position.ssa << ", " << dropped.ssa << ", "
          << gate.ssa
          << " tokens(tokens) experts(experts) capacity_dim(expert_capacity) : "
          << buffers.type() << ", " << expert.type() << ", " << gate.type()
          << " -> " << combined.type() << "\n";
  }

  /// Returns every value no op used, and a few that were.
  Program finish() {
    std::vector<Value> results;
    for (const Value &v : values_)
      if (std::find(used_.begin(), used_.end(), v.ssa) == used_.end() ||
          chance(0.15))
        results.push_back(v);
    std::ostringstream os;
    os << "module attributes {mtf.mesh = #mtf.mesh<\"" << meshSpec()
       << "\">} {\n  func.func @main(";
    for (size_t i = 0; i < arguments_.size(); ++i)
      os << (i ? ",\n      " : "") << argumentValues_[i] << ": "
         << arguments_[i];
    os << ")\n      -> (";
    for (size_t i = 0; i < results.size(); ++i)
      os << (i ? ", " : "") << results[i].type() << " {mtf.name = \"out" << i
         << "\"}";
    os << ") {\n" << body_.str() << "    return";
    for (size_t i = 0; i < results.size(); ++i)
      os << (i ? ", " : " ") << results[i].ssa;
    os << " : ";
    for (size_t i = 0; i < results.size(); ++i)
      os << (i ? ", " : "") << results[i].type();
    os << "\n  }\n}\n";
    return {os.str(), meshSpec(), layout_};
  }

  std::string meshSpec() const {
    std::string spec;
    for (size_t i = 0; i < axes_.size(); ++i)
      spec += (i ? "," : "") + axes_[i].first + ":" +
              std::to_string(axes_[i].second);
    return spec;
  }

  std::mt19937_64 rng_;
  std::vector<std::pair<std::string, int64_t>> axes_;
  std::vector<Dim> dims_;
  std::string layout_;
  std::vector<std::string> arguments_;
  std::vector<std::string> argumentValues_;
  std::vector<Value> values_;
  std::vector<std::string> used_;
  std::ostringstream body_;
  int counter_ = 0;
};

using switchyard::testsupport::Backend;

/// A shard of the programs, run partitioned on a backend.
class Property : public testing::TestWithParam<std::tuple<int, Backend>> {};

TEST_P(Property, RandomProgramsMatchOneDevice) {
  const auto [shard, backend] = GetParam();
  SKIP_UNLESS_AVAILABLE(backend);
  uint64_t base = envNumber("SWITCHYARD_PROPERTY_SEED", kDefaultSeed);
  uint64_t count =
      envNumber("SWITCHYARD_PROPERTY_COUNT", kDefaultCountPerShard);
  uint64_t moved = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t seed = base + shard * count + i;
    Program program = Generator(seed).generate();
    std::string name = "program-" + std::to_string(seed) + ".mlir";
    // Printed first, so that a crash still names its program; a single
    // program is printed whole.
    std::cerr << "program " << seed << ": mesh '" << program.mesh
              << "', layout '" << program.layout << "'\n"
              << (count == 1 ? program.text : "");
    int64_t collectives = 0;
    EXPECT_TRUE(matchesOneDevice(
        {program.text, name, "", program.layout, seed, seed + 1, backend},
        &collectives))
        << "seed " << seed << ", mesh '" << program.mesh << "', layout '"
        << program.layout << "'; rerun with SWITCHYARD_PROPERTY_SEED=" << seed
        << " SWITCHYARD_PROPERTY_COUNT=1 and --gtest_filter="
        << "'*Property*/0_" << switchyard::testsupport::backendName(backend)
        << "'\n"
        << program.text;
    moved += collectives > 0;
  }
  // Guards the generator: most programs must exercise the collectives.
  std::cerr << moved << " of " << count << " programs moved data\n";
  if (count >= 20) {
    EXPECT_GE(moved * 2, count) << "too few programs moved data";
  }
}

/// "<shard>_<backend>".
std::string
shardName(const testing::TestParamInfo<std::tuple<int, Backend>> &info) {
  return std::to_string(std::get<0>(info.param)) + "_" +
         switchyard::testsupport::backendName(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(
    Shards, Property,
    testing::Combine(
        testing::Range(0, kShards),
        testing::ValuesIn(switchyard::testsupport::builtBackends())),
    shardName);

} // namespace
