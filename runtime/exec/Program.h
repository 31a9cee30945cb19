//===- Program.h - An executable's program in runtime form ------*- C++ -*-===//
//
// The contents of a validated executable file, copied out of the
// FlatBuffers tables into plain structs that the backends read. Every
// invariant the loader checks (ExecutableLoader.cpp) is listed with the
// field it constrains, so kernels can rely on it.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_EXEC_PROGRAM_H
#define SWITCHYARD_RUNTIME_EXEC_PROGRAM_H

#include "switchyard/Executable/Executable_generated.h"
#include "switchyard/Runtime/Executable.h"
#include "switchyard/Runtime/Mesh.h"

#include "absl/status/status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace switchyard::runtime {

namespace fb = ::switchyard::executable;

/// A value: its local type and the byte offset of its block in the arena.
/// The block lies inside the arena and its dimension names are distinct.
struct ValueSpec {
  TensorSpec type;
  int64_t offset = 0;
};

/// One op, with the fields of the schema's Op table. Operand and result
/// indices are valid, counts and types fit the kind, and no result overlaps
/// an operand or another result in the arena.
struct OpSpec {
  fb::OpKind kind = fb::OpKind::Einsum;
  std::vector<int> operands;
  std::vector<int> results;
  fb::UnaryKind unary = fb::UnaryKind::Neg;
  /// Einsum: the activation applied to its sums, if any.
  std::optional<fb::UnaryKind> epilogue;
  fb::BinaryKind binary = fb::BinaryKind::Add;
  fb::ReduceKind reduce = fb::ReduceKind::Sum;
  fb::CollectiveReduction reduction = fb::CollectiveReduction::Sum;
  std::string dim;
  std::string tokensDim;
  std::string expertsDim;
  std::string capacityDim;
  int64_t capacity = 0;
  /// Route, dispatch, combine: the dimension of a token's top-k choices in
  /// the routing values; empty for top-1.
  std::string choicesDim;
  fb::GateNormalization gateNormalization = fb::GateNormalization::None;
  double epsilon = 0.0;
  bool exclusive = false;
  std::vector<uint8_t> constant;
  /// Valid, distinct mesh axes.
  std::vector<int> gridAxes;
  int64_t axis = 0;
  int64_t concatAxis = 0;
  std::string location;
};

struct Program {
  Mesh mesh = *Mesh::create({});
  std::vector<std::string> axisNames;
  std::vector<ValueSpec> values;
  std::vector<OpSpec> ops;
  /// Each binding's global type has its value's dimension names, dtype and
  /// local sizes times the product of the sizes of its (distinct) axes.
  std::vector<BindingSpec> inputs;
  std::vector<BindingSpec> outputs;
  int64_t arenaBytes = 0;
};

/// "einsum", "all_to_all", ...
std::string opKindName(fb::OpKind kind);

/// "op 3 (einsum at loc)": names an op in messages.
std::string describeOp(const Program &program, int index);

/// Checks the operand and result counts and types of op `index`, whose
/// value indices are valid, for its kind (OpSignatures.cpp).
absl::Status checkOpSignature(const Program &program, int index);

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_EXEC_PROGRAM_H
