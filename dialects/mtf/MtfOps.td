//===- MtfOps.td - mtf operations --------------------------*- tablegen -*-===//
//
// Ops on tensors with named dimensions. Dimensions are matched by name, never
// by position: an op's result type says which dimensions it keeps.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_MTF_OPS
#define SWITCHYARD_MTF_OPS

include "dialects/mtf/MtfTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Mtf_Op<string mnemonic, list<Trait> traits = []>
    : Op<Mtf_Dialect, mnemonic, !listconcat([Pure, Mtf_MeshConsistent], traits)>;

def Mtf_EinsumOp : Mtf_Op<"einsum"> {
  let summary = "product of tensors, summed over the dimensions the result drops";
  let description = [{
    Multiplies its operands elementwise, matching dimensions by name, and
    sums over every dimension that the result type does not name. Each
    result dimension must appear in some operand.

    ```mlir
    // y[batch, d_ff] = sum over d_model of x[batch, d_model] * w[d_model, d_ff]
    %y = mtf.einsum %x, %w : (!mtf.tensor<[batch:8, d_model:16], f32>,
                              !mtf.tensor<[d_model:16, d_ff:64], f32>)
                             -> !mtf.tensor<[batch:8, d_ff:64], f32>
    ```

    An `epilogue` activation (`relu`, `gelu`, `gelu_tanh`, `silu`) applies
    to the sums, as `mtf.unary` would after the einsum; `sy-fuse-epilogues`
    sets it, so that a runtime computes it where it writes the sums (a GEMM
    epilogue) and no buffer holds the sums alone:

    ```mlir
    %h = mtf.einsum %x, %w epilogue relu : (...) -> !mtf.tensor<[batch:8, d_ff:64], f32>
    ```
  }];
  let arguments = (ins Variadic<Mtf_AnyTensor>:$inputs,
                       OptionalAttr<Mtf_UnaryKind>:$epilogue);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = [{
    $inputs (`epilogue` $epilogue^)? attr-dict `:` functional-type($inputs, $result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Names of the dimensions summed over, in first-appearance order.
    ::llvm::SmallVector<::mlir::StringAttr> getContractedDims();
    /// Whether `kind` may be an epilogue: the activations, which need only
    /// the value they apply to.
    static bool isEpilogueActivation(UnaryKind kind);
  }];
}

def Mtf_UnaryOp : Mtf_Op<"unary", [SameOperandsAndResultType]> {
  let summary = "elementwise function of one tensor";
  let description = [{
    `relu`, `gelu` (exact, erf), `gelu_tanh` (the tanh approximation T5
    calls `gelu_new`), `silu`, `exp`, `log`, `sqrt`, `rsqrt`, `tanh`,
    `square`, `reciprocal`, `neg`, `abs`. Only `neg`, `abs` and `square`
    take i32.

    ```mlir
    %h = mtf.unary relu %x : !mtf.tensor<[batch:8, d_ff:64], f32>
    ```
  }];
  let arguments = (ins Mtf_UnaryKind:$kind, Mtf_AnyTensor:$input);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = "$kind $input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Mtf_BinaryOp : Mtf_Op<"binary"> {
  let summary = "elementwise function of two tensors, broadcast by name";
  let description = [{
    The result has the union of the operands' dimensions (in the order its
    type gives); an operand lacking a dimension is broadcast along it.
    Operands and result share the element type.

    ```mlir
    %s = mtf.binary mul %x, %scale : (!mtf.tensor<[batch:8, d_model:16], f32>,
                                      !mtf.tensor<[d_model:16], f32>)
                                     -> !mtf.tensor<[batch:8, d_model:16], f32>
    ```
  }];
  let arguments = (ins Mtf_BinaryKind:$kind, Mtf_AnyTensor:$lhs,
                       Mtf_AnyTensor:$rhs);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = [{
    $kind $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Mtf_ReduceOp : Mtf_Op<"reduce"> {
  let summary = "reduction over the dimensions the result drops";
  let description = [{
    `sum`, `mean`, `max` or `min` over every input dimension that the result
    does not name. The result keeps the remaining dimensions with their sizes.

    ```mlir
    %m = mtf.reduce mean %x : !mtf.tensor<[batch:8, d_model:16], f32>
                              -> !mtf.tensor<[batch:8], f32>
    ```
  }];
  let arguments = (ins Mtf_ReduceKind:$kind, Mtf_AnyTensor:$input);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = "$kind $input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Names of the dimensions reduced away, in input order.
    ::llvm::SmallVector<::mlir::StringAttr> getReducedDims();
  }];
}

def Mtf_SoftmaxOp : Mtf_Op<"softmax", [SameOperandsAndResultType]> {
  let summary = "softmax along one named dimension";
  let description = [{
    ```mlir
    %p = mtf.softmax %logits along experts : !mtf.tensor<[tokens:64, experts:8], f32>
    ```
  }];
  let arguments = (ins Mtf_FloatTensor:$input, StrAttr:$dim);
  let results = (outs Mtf_FloatTensor:$result);
  let assemblyFormat = "$input `along` custom<DimName>($dim) attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Mtf_RmsNormOp : Mtf_Op<"rms_norm", [AllTypesMatch<["input", "result"]>]> {
  let summary = "T5's RMS layer norm along one dimension";
  let description = [{
    `result = scale * x / sqrt(mean(x^2 along dim) + epsilon)`, the mean in
    float32, no mean subtraction and no bias (T5LayerNorm). `scale` has the
    one dimension `dim`.

    ```mlir
    %n = mtf.rms_norm %x, %w along d_model {epsilon = 1.0e-06 : f64}
           : !mtf.tensor<[batch:8, d_model:16], f32>, !mtf.tensor<[d_model:16], f32>
    ```
  }];
  let arguments = (ins Mtf_FloatTensor:$input, Mtf_FloatTensor:$scale,
                       StrAttr:$dim, DefaultValuedAttr<F64Attr, "1.0e-6">:$epsilon);
  let results = (outs Mtf_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `along` custom<DimName>($dim) attr-dict `:` type($input) `,` type($scale)
  }];
  let hasVerifier = 1;
}

def Mtf_CastOp : Mtf_Op<"cast"> {
  let summary = "element type conversion";
  let description = [{
    Same dimensions, another element type (round to nearest even for floats,
    truncation toward zero for float to integer).

    ```mlir
    %h = mtf.cast %x : !mtf.tensor<[batch:8], f32> -> !mtf.tensor<[batch:8], bf16>
    ```
  }];
  let arguments = (ins Mtf_AnyTensor:$input);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Mtf_ReshapeOp : Mtf_Op<"reshape"> {
  let summary = "rename, split or merge dimensions";
  let description = [{
    Reinterprets the elements, in row-major order of the dimensions as
    listed, under another list of named dimensions with the same number of
    elements. With equal sizes in the same order it is a rename.

    ```mlir
    %k = mtf.reshape %x : !mtf.tensor<[batch:2, length:8], f32>
                          -> !mtf.tensor<[batch:2, memory_length:8], f32>
    %t = mtf.reshape %x : !mtf.tensor<[batch:2, length:8], f32>
                          -> !mtf.tensor<[tokens:16], f32>
    ```
  }];
  let arguments = (ins Mtf_AnyTensor:$input);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Mtf_GatherOp : Mtf_Op<"gather"> {
  let summary = "rows of a table picked by index (embedding lookup)";
  let description = [{
    `result[i..., rest...] = table[dim = indices[i...], rest...]`: the result
    has the index dimensions and the table's other dimensions. An index
    outside `[0, size of dim)` yields zeros.

    ```mlir
    %e = mtf.gather %shared[%ids] along vocab
           : (!mtf.tensor<[vocab:32, d_model:16], f32>, !mtf.tensor<[batch:2, length:8], i32>)
             -> !mtf.tensor<[batch:2, length:8, d_model:16], f32>
    ```
  }];
  let arguments = (ins Mtf_AnyTensor:$table, Mtf_IntTensor:$indices, StrAttr:$dim);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = [{
    $table `[` $indices `]` `along` custom<DimName>($dim) attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Mtf_OneHotOp : Mtf_Op<"one_hot"> {
  let summary = "one-hot encoding along a new dimension";
  let description = [{
    The result has the index dimensions plus one more; element `[i..., k]`
    is 1 where `indices[i...] == k`, else 0.

    ```mlir
    %m = mtf.one_hot %expert : !mtf.tensor<[tokens:64], i32>
                               -> !mtf.tensor<[tokens:64, experts:8], f32>
    ```
  }];
  let arguments = (ins Mtf_IntTensor:$indices);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = "$indices attr-dict `:` type($indices) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The dimension the encoding adds.
    DimAttr getDepthDim();
  }];
}

def Mtf_CumsumOp : Mtf_Op<"cumsum", [SameOperandsAndResultType]> {
  let summary = "cumulative sum along one dimension";
  let description = [{
    Inclusive by default; `exclusive` starts each running sum at 0.

    ```mlir
    %c = mtf.cumsum %m along length exclusive : !mtf.tensor<[length:8, experts:4], i32>
    ```
  }];
  let arguments = (ins Mtf_AnyTensor:$input, StrAttr:$dim, UnitAttr:$exclusive);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = [{
    $input `along` custom<DimName>($dim) (`exclusive` $exclusive^)? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

def Mtf_ConstantOp : Mtf_Op<"constant"> {
  let summary = "a constant tensor";
  let description = [{
    The value is a builtin elements attribute whose shape lists the global
    sizes of the result's dimensions in order (a splat for a uniform value).

    ```mlir
    %half = mtf.constant dense<5.0e-01> : tensor<f32> to !mtf.tensor<[], f32>
    %bias = mtf.constant dense<[1.0, 2.0]> : tensor<2xf32> to !mtf.tensor<[heads:2], f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = "$value attr-dict `to` type($result)";
  let hasVerifier = 1;
}

def Mtf_IotaOp : Mtf_Op<"iota"> {
  let summary = "positions 0, 1, ... along one dimension";
  let description = [{
    Each element is its index along `dim`, broadcast along the others.
    Relative positions are a difference of two iotas.

    ```mlir
    %q = mtf.iota along length : !mtf.tensor<[length:8, memory_length:8], i32>
    ```
  }];
  let arguments = (ins StrAttr:$dim);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = "`along` custom<DimName>($dim) attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Mtf_RelayoutOp : Mtf_Op<"relayout"> {
  let summary = "the same tensor in another layout";
  let description = [{
    A layout constraint: the value is the operand, laid out as the result
    type says. Partitioning turns it into the collectives that move the
    blocks (all-to-all, all-gather, all-slice).

    ```mlir
    %y = mtf.relayout %x : !mtf.tensor<[batch:8{b}, experts:4], f32>
                           -> !mtf.tensor<[experts:4{b}, batch:8], f32>
    ```
  }];
  let arguments = (ins Mtf_AnyTensor:$input);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// SPMD boundary: named tensors to and from builtin tensors
//===----------------------------------------------------------------------===//

def Mtf_AsTensorOp : Mtf_Op<"as_tensor"> {
  let summary = "view a local named tensor as a builtin tensor";
  let description = [{
    Partitioned programs apply the upstream `shard` collectives, which take
    builtin ranked tensors, to local named tensors; `mtf.as_tensor` and
    `mtf.as_named` mark that boundary. Sizes and element type are unchanged;
    the named tensor must not be laid out.

    ```mlir
    %t = mtf.as_tensor %x : !mtf.tensor<[batch:2, d_model:16], f32> -> tensor<2x16xf32>
    ```
  }];
  let arguments = (ins Mtf_AnyTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Mtf_AsNamedOp : Mtf_Op<"as_named"> {
  let summary = "name the dimensions of a builtin tensor";
  let description = [{
    The inverse of `mtf.as_tensor`.

    ```mlir
    %x = mtf.as_named %t : tensor<2x16xf32> -> !mtf.tensor<[batch:2, d_model:16], f32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs Mtf_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // SWITCHYARD_MTF_OPS
