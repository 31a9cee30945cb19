//===- MtfTypes.td - mtf tensor type -----------------------*- tablegen -*-===//

#ifndef SWITCHYARD_MTF_TYPES
#define SWITCHYARD_MTF_TYPES

include "dialects/mtf/MtfBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

def Mtf_TensorType : TypeDef<Mtf_Dialect, "NamedTensor"> {
  let mnemonic = "tensor";
  let summary = "a tensor whose dimensions have names";
  let description = [{
    An ordered list of named dimensions and an element type (f32, bf16,
    f16, i32 or i1). Names are unique within a tensor. A dimension may be
    split over mesh axes (`batch:8{b}`): the tensor is then *laid out*, each
    device holding the block of the dimension its mesh coordinate selects.
    A mesh axis splits at most one dimension of a tensor.

    ```mlir
    !mtf.tensor<[batch:8{b}, length:16, d_model:32], f32>
    !mtf.tensor<[], f32>    // a scalar
    ```
  }];
  let parameters = (ins ArrayRefParameter<"DimAttr">:$dims,
                        "::mlir::Type":$elementType);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Index of the dimension called `name`, or nullopt.
    std::optional<unsigned> findDim(::llvm::StringRef name) const;
    /// Whether the tensor has a dimension called `name`.
    bool hasDim(::llvm::StringRef name) const {
      return findDim(name).has_value();
    }
    /// The dimension called `name`; it must exist.
    DimAttr getDim(::llvm::StringRef name) const;
    /// Number of dimensions.
    unsigned getRank() const { return getDims().size(); }
    /// The global sizes, in dimension order.
    ::llvm::SmallVector<int64_t> getShape() const;
    /// Number of elements of the global tensor.
    int64_t getNumElements() const;
    /// Whether some dimension is split over a mesh axis.
    bool isLaidOut() const;
    /// The same tensor with every dimension replicated.
    NamedTensorType withoutLayout() const;
    /// The block of this tensor that one device holds on `mesh`: every
    /// split dimension divided by the product of its axes' sizes, and no
    /// layout.
    NamedTensorType getLocalType(MeshAttr mesh) const;
    /// The same dimensions with another element type.
    NamedTensorType withElementType(::mlir::Type elementType) const;
  }];
}

/// Element types an `!mtf.tensor` may hold.
def Mtf_ElementType : AnyTypeOf<[F32, BF16, F16, I32, I1]>;

// The constraints keep the generic C++ type `::mlir::Type` so that op
// assembly prints the full `!mtf.tensor<...>` rather than its stripped form.
class Mtf_TensorOf<list<Type> allowed, string desc>
    : Type<And<[CPred<"::llvm::isa<::switchyard::mtf::NamedTensorType>($_self)">,
                SubstLeaves<"$_self",
                  "::llvm::cast<::switchyard::mtf::NamedTensorType>($_self).getElementType()",
                  AnyTypeOf<allowed>.predicate>]>,
           desc>;

def Mtf_AnyTensor : Type<CPred<"::llvm::isa<::switchyard::mtf::NamedTensorType>($_self)">,
    "named-dimension tensor">;
def Mtf_FloatTensor : Mtf_TensorOf<[F32, BF16, F16], "floating-point named-dimension tensor">;
def Mtf_IntTensor : Mtf_TensorOf<[I32], "i32 named-dimension tensor">;
def Mtf_BoolTensor : Mtf_TensorOf<[I1], "i1 named-dimension tensor">;

/// Checks the layouts of an op's operand and result types against the mesh
/// of the enclosing module: known axes that divide the dimensions they split.
def Mtf_MeshConsistent : NativeOpTrait<"MeshConsistent"> {
  let cppNamespace = "::switchyard::mtf::OpTrait";
}

#endif // SWITCHYARD_MTF_TYPES
