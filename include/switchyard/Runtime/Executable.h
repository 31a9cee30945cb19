//===- Executable.h - A loaded and validated executable ---------*- C++ -*-===//
//
// The runtime's view of an executable file (Executable.fbs): the mesh, the
// values every device holds in its arena, the ops every device runs and the
// bindings of the program's inputs and outputs. Loading validates the whole
// file (identifier, FlatBuffers structure, version, indices, arena ranges,
// operand counts and types of every op), so that running never meets a
// malformed program.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_EXECUTABLE_H
#define SWITCHYARD_RUNTIME_EXECUTABLE_H

#include "switchyard/Runtime/Mesh.h"
#include "switchyard/Runtime/Tensor.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchyard::runtime {

/// One named dimension. In a local type `size` is the device's block; in a
/// global type it is the whole dimension and `axes` lists the mesh axes that
/// split it, major to minor.
struct DimSpec {
  std::string name;
  int64_t size = 0;
  std::vector<int> axes;
};

/// A tensor type with named dimensions, row-major in `dims` order.
struct TensorSpec {
  std::vector<DimSpec> dims;
  DType dtype = DType::F32;

  std::vector<int64_t> shape() const;
  /// The index of the dimension called `name`, or -1.
  int find(const std::string &name) const;
  /// The same type without the dimensions called `drop`.
  TensorSpec without(std::initializer_list<std::string> drop) const;
  int64_t numElements() const;
  int64_t byteSize() const { return numElements() * dtypeSize(dtype); }
  /// "[batch:4, d_model:8] f32".
  std::string toString() const;
};

/// A program input or output.
struct BindingSpec {
  std::string name;
  /// The index of the bound value.
  int value = 0;
  /// The global type, with the mesh axes splitting each dimension.
  TensorSpec global;
  /// The checkpoint tensor name, with `{dim}` placeholders for dimensions
  /// stacked from one tensor per index; empty for run-time inputs.
  std::string param;
  /// A run-time i32 input whose values index the table of a gather or the
  /// depth of a one_hot (directly, or through reshapes and collectives):
  /// the size of the gathered or depth dimension, which every value must
  /// lie below, and its name; the smallest where it indexes several. Found
  /// at load; 0 where the input feeds neither.
  int64_t indexBound = 0;
  std::string indexDim;
  /// Whether the values index a gather (not only one_hots): a gather has no
  /// row for the ignored index, so there it is refused too.
  bool indexesGather = false;
  /// The one value exempt from the index check (mtf.ignored_index; Hugging
  /// Face's -100 labels), which a one_hot encodes as a zero row.
  std::optional<int32_t> ignoredIndex;

  bool isWeight() const { return !param.empty(); }
  /// For each global dimension, whether `param` stacks one checkpoint
  /// tensor per index along it (a `{dim}` placeholder).
  std::vector<bool> stackedDims() const;
  /// The checkpoint tensor holding the stacked indices `indices` (one per
  /// global dimension; entries of other dimensions are ignored).
  std::string checkpointName(const std::vector<int64_t> &indices) const;
  /// Every checkpoint tensor a weight reads: name and shape (the global
  /// dimensions that are not stacked), in index order.
  std::vector<std::pair<std::string, std::vector<int64_t>>>
  checkpointTensors() const;
};

/// The program's contents in runtime form (internal; see runtime/exec).
struct Program;

/// A loaded executable. Cheap to copy (the program is shared and immutable).
class Executable {
public:
  /// Reads and loads the file at `path`.
  [[nodiscard]] static absl::StatusOr<Executable>
  loadFile(const std::string &path);
  /// Loads an executable from its bytes; `origin` names it in errors.
  [[nodiscard]] static absl::StatusOr<Executable>
  loadBytes(std::string bytes, const std::string &origin = "<memory>");

  const Mesh &mesh() const;
  /// The mesh's axis names, in axis order.
  absl::Span<const std::string> axisNames() const;
  /// Program inputs: weights (with a param) and run-time inputs, in order.
  absl::Span<const BindingSpec> inputs() const;
  absl::Span<const BindingSpec> outputs() const;
  /// The local type of value `index` (0 <= index < valueCount()).
  const TensorSpec &valueType(int index) const;
  int valueCount() const;
  int opCount() const;
  /// Bytes of each device's arena.
  int64_t arenaBytes() const;

  /// Internal: the program, for the backends.
  const Program &program() const { return *program_; }

private:
  explicit Executable(std::shared_ptr<const Program> program)
      : program_(std::move(program)) {}

  std::shared_ptr<const Program> program_;
};

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_EXECUTABLE_H
