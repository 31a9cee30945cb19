//===- ProgramBuilder.h - Small executables for runtime tests ---*- C++ -*-===//
//
// Builds executable files with the FlatBuffers builder: values are placed
// one after the other in the arena (64-byte aligned) unless a test gives an
// offset, ops take their optional fields from an OpFields, and bindings get
// their global type from the local one and the mesh axes of each dimension.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_TEST_RUNTIME_PROGRAMBUILDER_H
#define SWITCHYARD_TEST_RUNTIME_PROGRAMBUILDER_H

#include "switchyard/Executable/Executable_generated.h"
#include "switchyard/Executable/Format.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace switchyard::runtime::testing {

namespace fb = ::switchyard::executable;

struct TestDim {
  std::string name;
  int64_t size = 0;
};

/// The optional fields of an op.
struct OpFields {
  fb::UnaryKind unary = fb::UnaryKind::Neg;
  std::optional<fb::UnaryKind> epilogue;
  fb::BinaryKind binary = fb::BinaryKind::Add;
  fb::ReduceKind reduce = fb::ReduceKind::Sum;
  fb::CollectiveReduction reduction = fb::CollectiveReduction::Sum;
  std::string dim, tokensDim, expertsDim, capacityDim, choicesDim;
  fb::GateNormalization gateNormalization = fb::GateNormalization::None;
  int64_t capacity = 0;
  double epsilon = 0.0;
  bool exclusive = false;
  std::vector<uint8_t> constant;
  std::vector<int> gridAxes;
  int64_t axis = 0, concatAxis = 0;
};

class ProgramBuilder {
public:
  /// A mesh of named axes; none is one device.
  explicit ProgramBuilder(
      std::vector<std::pair<std::string, int64_t>> mesh = {})
      : mesh_(std::move(mesh)) {}

  /// A value of local type `dims` x `dtype`, at the next free aligned
  /// offset or at `offset`.
  int value(std::vector<TestDim> dims, fb::DType dtype = fb::DType::F32,
            std::optional<int64_t> offset = std::nullopt) {
    int64_t bytes = dtype == fb::DType::F32 || dtype == fb::DType::I32 ? 4
                    : dtype == fb::DType::I1                           ? 1
                                                                       : 2;
    for (const TestDim &dim : dims)
      bytes *= dim.size;
    const int64_t at = offset ? *offset : next_;
    next_ = std::max(next_, at + (bytes + 63) / 64 * 64);
    values_.push_back({std::move(dims), dtype, at});
    return static_cast<int>(values_.size()) - 1;
  }

  void op(fb::OpKind kind, std::vector<int> operands, std::vector<int> results,
          OpFields fields = {}) {
    ops_.push_back(
        {kind, std::move(operands), std::move(results), std::move(fields)});
  }

  /// An input bound to `value`; dimension d is split over mesh axes
  /// `axes[d]` (none if `axes` is shorter). A non-empty `param` makes it a
  /// weight.
  void input(std::string name, int value,
             std::vector<std::vector<int>> axes = {}, std::string param = "") {
    inputs_.push_back(
        {std::move(name), value, std::move(axes), std::move(param), {}});
  }
  /// Gives input `name` (added before) the ignored index `value`.
  void ignoredIndex(const std::string &name, int32_t value) {
    for (BindingRecord &r : inputs_)
      if (r.name == name)
        r.ignoredIndex = value;
  }
  void output(std::string name, int value,
              std::vector<std::vector<int>> axes = {}) {
    outputs_.push_back({std::move(name), value, std::move(axes), "", {}});
  }

  /// The bytes of the executable file.
  std::string build(uint32_t version = executable::kFormatVersion,
                    std::optional<int64_t> arenaBytes = std::nullopt) const {
    flatbuffers::FlatBufferBuilder b;
    std::vector<flatbuffers::Offset<flatbuffers::String>> axisNames;
    std::vector<int64_t> axisSizes;
    for (const auto &[name, size] : mesh_) {
      axisNames.push_back(b.CreateString(name));
      axisSizes.push_back(size);
    }
    auto mesh =
        fb::CreateMesh(b, b.CreateVector(axisNames), b.CreateVector(axisSizes));
    auto type = [&](const std::vector<TestDim> &dims, fb::DType dtype,
                    const std::vector<std::vector<int>> *axes) {
      std::vector<flatbuffers::Offset<fb::Dim>> list;
      for (size_t d = 0; d < dims.size(); ++d) {
        int64_t size = dims[d].size;
        flatbuffers::Offset<flatbuffers::Vector<int32_t>> axisList = 0;
        if (axes && d < axes->size()) {
          for (int axis : (*axes)[d])
            size *= mesh_[axis].second;
          axisList = b.CreateVector((*axes)[d]);
        }
        list.push_back(
            fb::CreateDim(b, b.CreateString(dims[d].name), size, axisList));
      }
      return fb::CreateTensorType(b, b.CreateVector(list), dtype);
    };
    std::vector<flatbuffers::Offset<fb::Value>> values;
    for (const ValueRecord &v : values_)
      values.push_back(
          fb::CreateValue(b, type(v.dims, v.dtype, nullptr), v.offset));
    std::vector<flatbuffers::Offset<fb::Op>> ops;
    for (const OpRecord &o : ops_) {
      const OpFields &f = o.fields;
      auto str = [&](const std::string &s) {
        return s.empty() ? flatbuffers::Offset<flatbuffers::String>()
                         : b.CreateString(s);
      };
      ops.push_back(fb::CreateOp(
          b, o.kind, b.CreateVector(o.operands), b.CreateVector(o.results),
          f.unary, f.binary, f.reduce, f.reduction, str(f.dim),
          str(f.tokensDim), str(f.expertsDim), str(f.capacityDim), f.capacity,
          f.epsilon, f.exclusive,
          f.constant.empty() ? 0 : b.CreateVector(f.constant),
          b.CreateVector(f.gridAxes), f.axis, f.concatAxis,
          b.CreateString("test.mlir:1"),
          f.epilogue ? flatbuffers::Optional<fb::UnaryKind>(*f.epilogue)
                     : flatbuffers::nullopt,
          str(f.choicesDim), f.gateNormalization));
    }
    auto bindings = [&](const std::vector<BindingRecord> &records) {
      std::vector<flatbuffers::Offset<fb::Binding>> list;
      for (const BindingRecord &r : records) {
        // An out-of-range value (a test of the loader) takes value 0's type.
        const ValueRecord &v =
            values_[static_cast<size_t>(r.value) < values_.size() ? r.value
                                                                  : 0];
        list.push_back(fb::CreateBinding(
            b, b.CreateString(r.name), r.value, type(v.dims, v.dtype, &r.axes),
            r.param.empty() ? 0 : b.CreateString(r.param),
            r.ignoredIndex ? flatbuffers::Optional<int32_t>(*r.ignoredIndex)
                           : flatbuffers::nullopt));
      }
      return b.CreateVector(list);
    };
    auto inputs = bindings(inputs_);
    auto outputs = bindings(outputs_);
    auto program = fb::CreateProgram(b, version, mesh, b.CreateVector(values),
                                     b.CreateVector(ops), inputs, outputs,
                                     arenaBytes ? *arenaBytes : next_);
    fb::FinishProgramBuffer(b, program);
    return std::string(reinterpret_cast<const char *>(b.GetBufferPointer()),
                       b.GetSize());
  }

private:
  struct ValueRecord {
    std::vector<TestDim> dims;
    fb::DType dtype;
    int64_t offset;
  };
  struct OpRecord {
    fb::OpKind kind;
    std::vector<int> operands, results;
    OpFields fields;
  };
  struct BindingRecord {
    std::string name;
    int value;
    std::vector<std::vector<int>> axes;
    std::string param;
    std::optional<int32_t> ignoredIndex;
  };

  std::vector<std::pair<std::string, int64_t>> mesh_;
  std::vector<ValueRecord> values_;
  std::vector<OpRecord> ops_;
  std::vector<BindingRecord> inputs_, outputs_;
  int64_t next_ = 0;
};

} // namespace switchyard::runtime::testing

#endif // SWITCHYARD_TEST_RUNTIME_PROGRAMBUILDER_H
