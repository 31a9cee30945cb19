//===- MtfBase.td - mtf dialect, enums and attributes ------*- tablegen -*-===//
//
// The `mtf` dialect: tensors with named dimensions, device meshes with named
// axes, and layouts that map dimension names to mesh axes, as in Mesh
// TensorFlow.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_MTF_BASE
#define SWITCHYARD_MTF_BASE

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/OpBase.td"

def Mtf_Dialect : Dialect {
  let name = "mtf";
  let cppNamespace = "::switchyard::mtf";
  let summary = "Tensors with named dimensions laid out on a named device mesh";
  let description = [{
    Every tensor names its dimensions (`batch`, `length`, `d_model`, ...).
    Ops refer to dimensions by name: an einsum contracts the dimensions its
    result does not name, a binary op broadcasts by name, a reduction removes
    the dimensions its result does not name. A module may carry a mesh
    (`mtf.mesh = #mtf.mesh<"b:4,e:2">`) and layout rules
    (`mtf.layout = #mtf.layout<"batch:b;experts:e">`); a tensor type may
    record the mesh axes each of its dimensions is split over.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
    void registerTypes();

    /// Module attribute holding the device mesh (`MeshAttr`).
    static constexpr ::llvm::StringLiteral kMeshAttrName = "mtf.mesh";
    /// Module attribute holding the layout rules (`LayoutAttr`).
    static constexpr ::llvm::StringLiteral kLayoutAttrName = "mtf.layout";
    /// Function argument attribute naming the checkpoint weight it binds; a
    /// `{dim}` placeholder stacks the tensors for each index along `dim`.
    static constexpr ::llvm::StringLiteral kParamAttrName = "mtf.param";
    /// Function argument and result attribute: the name an input is given
    /// by, or an output is written under, at run time.
    static constexpr ::llvm::StringLiteral kNameAttrName = "mtf.name";
    /// Function argument attribute of a run-time i32 input (an i32
    /// IntegerAttr): the one value exempt from the run-time check of inputs
    /// that index a gather or a one_hot (Hugging Face's -100 labels).
    static constexpr ::llvm::StringLiteral kIgnoredIndexAttrName =
        "mtf.ignored_index";
    /// Function argument and result attribute of partitioned programs: the
    /// global laid-out type whose per-device block the value holds.
    static constexpr ::llvm::StringLiteral kGlobalAttrName = "mtf.global";
  }];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Mtf_UnaryKind : I32EnumAttr<"UnaryKind", "elementwise unary function", [
    I32EnumAttrCase<"neg", 0>, I32EnumAttrCase<"abs", 1>,
    I32EnumAttrCase<"exp", 2>, I32EnumAttrCase<"log", 3>,
    I32EnumAttrCase<"sqrt", 4>, I32EnumAttrCase<"rsqrt", 5>,
    I32EnumAttrCase<"square", 6>, I32EnumAttrCase<"reciprocal", 7>,
    I32EnumAttrCase<"tanh", 8>, I32EnumAttrCase<"relu", 9>,
    I32EnumAttrCase<"gelu", 10>, I32EnumAttrCase<"gelu_tanh", 11>,
    I32EnumAttrCase<"silu", 12>]> {
  let cppNamespace = "::switchyard::mtf";
}

def Mtf_BinaryKind : I32EnumAttr<"BinaryKind", "elementwise binary function", [
    I32EnumAttrCase<"add", 0>, I32EnumAttrCase<"sub", 1>,
    I32EnumAttrCase<"mul", 2>, I32EnumAttrCase<"div", 3>,
    I32EnumAttrCase<"max", 4>, I32EnumAttrCase<"min", 5>,
    I32EnumAttrCase<"pow", 6>]> {
  let cppNamespace = "::switchyard::mtf";
}

def Mtf_ReduceKind : I32EnumAttr<"ReduceKind", "reduction", [
    I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"mean", 1>,
    I32EnumAttrCase<"max", 2>, I32EnumAttrCase<"min", 3>]> {
  let cppNamespace = "::switchyard::mtf";
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class Mtf_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Mtf_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Mtf_DimAttr : Mtf_Attr<"Dim", "dim"> {
  let summary = "one named dimension: its name, global size and mesh axes";
  let description = [{
    A dimension of an `!mtf.tensor`. `axes` lists the mesh axes the
    dimension is split over, major to minor; empty means replicated.
    Written inside a tensor type as `name:size` or `name:size{a,b}`.
  }];
  let parameters = (ins "::mlir::StringAttr":$name, "int64_t":$size,
                        OptionalArrayRefParameter<"::mlir::StringAttr">:$axes);
  let hasCustomAssemblyFormat = 1;
  let extraClassDeclaration = [{
    /// Parses `name:size` or `name:size{axis, ...}`.
    static DimAttr parseInline(::mlir::AsmParser &parser);
    /// Prints the form `parseInline` reads.
    void printInline(::mlir::AsmPrinter &printer) const;
    /// Whether the dimension is split over at least one mesh axis.
    bool isSplit() const { return !getAxes().empty(); }
    /// The same dimension with other mesh axes.
    DimAttr withAxes(::llvm::ArrayRef<::mlir::StringAttr> axes) const;
  }];
}

def Mtf_MeshAttr : Mtf_Attr<"Mesh", "mesh"> {
  let summary = "a device mesh with named axes, e.g. \"b:4,e:2\"";
  let description = [{
    The devices form a grid; each axis has a name and a size. Devices are
    numbered row-major over the axes in the order written. The textual form
    is Mesh TensorFlow's `mesh_shape` string, with `,` or `;` between axes:

    ```mlir
    module attributes {mtf.mesh = #mtf.mesh<"b:4,e:2">} { ... }
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::StringAttr">:$axisNames,
                        ArrayRefParameter<"int64_t">:$axisSizes);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Parses Mesh TensorFlow's `mesh_shape` syntax ("b:4,e:2").
    static ::mlir::FailureOr<MeshAttr> parseSpec(
        ::mlir::MLIRContext *context, ::llvm::StringRef spec,
        ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError);
    /// The `mesh_shape` string this attribute was parsed from, normalized.
    std::string getSpec() const;
    /// Size of the named axis, or nullopt when the mesh has no such axis.
    std::optional<int64_t> getAxisSize(::llvm::StringRef name) const;
    /// Number of devices: the product of the axis sizes.
    int64_t getNumDevices() const;
  }];
}

def Mtf_LayoutAttr : Mtf_Attr<"Layout", "layout"> {
  let summary = "layout rules mapping dimension names to mesh axes";
  let description = [{
    Mesh TensorFlow's `layout` string: rules separated by `;`, each
    `dimension:axis`; a dimension split over several axes lists them with
    `,` (`d_ff:m,x`). A dimension without a rule is replicated.

    ```mlir
    module attributes {mtf.mesh = #mtf.mesh<"b:4,e:2">,
                       mtf.layout = #mtf.layout<"batch:b;experts:e">} { ... }
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::StringAttr">:$dimNames,
                        ArrayRefParameter<"::mlir::ArrayAttr">:$dimAxes);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Parses Mesh TensorFlow's `layout` syntax ("batch:b;d_ff:m,x").
    static ::mlir::FailureOr<LayoutAttr> parseSpec(
        ::mlir::MLIRContext *context, ::llvm::StringRef spec,
        ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError);
    /// The normalized `layout` string.
    std::string getSpec() const;
    /// The mesh axes the rules give to `dim` (empty when it has no rule).
    ::llvm::SmallVector<::mlir::StringAttr> getAxesFor(::llvm::StringRef dim) const;
  }];
}

#endif // SWITCHYARD_MTF_BASE
