//===- MoeOps.td - Switch routing ops ----------------------*- tablegen -*-===//
//
// The `moe` dialect: top-1 routing with expert capacity, dispatch of tokens
// into per-expert buffers, combine back, and the router losses, with the
// numerics of Hugging Face's SwitchTransformers.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_MOE_OPS
#define SWITCHYARD_MOE_OPS

include "dialects/mtf/MtfTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "dialects/moe/MoeEnums.td"

def Moe_Dialect : Dialect {
  let name = "moe";
  let cppNamespace = "::switchyard::moe";
  let summary = "Switch Transformer routing on named-dimension tensors";
  let description = [{
    Routing is first-class: dispatch is a scatter into
    `[experts, expert_capacity, d_model]` buffers and combine a gather from
    them, never a dense one-hot contraction. The dimensions that are neither
    the token dimension nor the feature dimensions (usually `batch`) are
    *groups*: capacity is counted per group and per expert, and tokens of
    different groups never compete.
  }];
  let dependentDialects = ["::switchyard::mtf::MtfDialect"];
}

class Moe_Op<string mnemonic, list<Trait> traits = []>
    : Op<Moe_Dialect, mnemonic, !listconcat([Pure, Mtf_MeshConsistent], traits)>;

def Moe_RouteOp : Moe_Op<"route", [InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "top-1 or top-k routing with expert capacity";
  let description = [{
    For router logits `[groups..., tokens, experts]`:

    - `gate` = max over experts of softmax(logits) (in the logits' type);
    - `expert` = the index of that maximum probability, the first on ties;
    - `position` = how many earlier tokens of the same group chose the same
      expert (0-based), counted in token order;
    - `dropped` = `position >= C`, the expert capacity.

    `C` is given by `capacity`, or derived from `capacity_factor` as
    `ceil(capacity_factor * tokens / experts)` over the global token
    dimension. A dropped token reaches no expert; its MoE output is zero.
    The results may be laid out differently from the logits.

    ```mlir
    %expert, %gate, %position, %dropped = moe.route %logits
        tokens(length) experts(experts) capacity(4)
        : !mtf.tensor<[batch:2, length:8, experts:4], f32>
    %e2, %g2, %p2, %d2 = moe.route %logits
        tokens(length) experts(experts) top_k(2) choices(choice)
        capacity_factor(1.0) normalize(after_drops)
        : !mtf.tensor<[batch:2, length:8, experts:4], f32>
    ```
  }];
  let arguments = (ins Mtf_FloatTensor:$logits, StrAttr:$tokens_dim,
                       StrAttr:$experts_dim, OptionalAttr<I64Attr>:$top_k,
                       OptionalAttr<StrAttr>:$choices_dim,
                       OptionalAttr<I64Attr>:$capacity,
                       OptionalAttr<F64Attr>:$capacity_factor,
                       OptionalAttr<Moe_GateNormalization>:$normalize);
  let results = (outs Mtf_IntTensor:$expert, Mtf_FloatTensor:$gate,
                      Mtf_IntTensor:$position, Mtf_BoolTensor:$dropped);
  let assemblyFormat = [{
    $logits `tokens` `(` custom<DimName>($tokens_dim) `)`
    `experts` `(` custom<DimName>($experts_dim) `)`
    (`top_k` `(` $top_k^ `)`)?
    (`choices` `(` custom<DimName>($choices_dim)^ `)`)?
    (`capacity` `(` $capacity^ `)`)?
    (`capacity_factor` `(` $capacity_factor^ `)`)?
    (`normalize` `(` $normalize^ `)`)?
    attr-dict `:` type($logits)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of experts: the size of the experts dimension.
    int64_t getNumExperts();
    /// Experts each token chooses: `top_k`, or 1.
    int64_t getNumChoices();
    /// The expert capacity C, given or derived from the capacity factor.
    int64_t getExpertCapacity();
  }];
}

/// Operands that carry a routing decision: expert, position and dropped
/// share their dimensions.
defvar Moe_RoutingTypes = [
  TypesMatchWith<"position has the type of expert", "expert", "position",
                 "$_self">,
  TypesMatchWith<"dropped has the dimensions of expert", "expert", "dropped",
                 "::llvm::cast<::switchyard::mtf::NamedTensorType>($_self)"
                 ".withElementType(::mlir::IntegerType::get($_self.getContext(), 1))">];

def Moe_DispatchOp : Moe_Op<"dispatch", Moe_RoutingTypes> {
  let summary = "scatter tokens into per-expert capacity buffers";
  let description = [{
    `result[groups..., e, c, features...] = input[groups..., t, features...]`
    for the token `t` routed to expert `e` at position `c`; slots no token
    fills are zero, and dropped tokens go nowhere. The result replaces the
    token dimension by the experts and capacity dimensions. With top-k
    routing (`choices(choice)`, the routing operands' extra dimension) a
    token goes to the slot of each of its kept choices.

    Laid out on a mesh with tokens split by batch, the experts' feed-forward
    wants the experts dimension split instead: partitioning turns that into
    one all-to-all over the mesh axis (device grid for "b:4", batch:b before,
    experts:b after):

    ```
      before: device i holds groups [i]      x all experts
      after:  device i holds all groups       x experts [i]
    ```

    ```mlir
    %buffers = moe.dispatch %x, %expert, %position, %dropped
        tokens(length) experts(experts) capacity_dim(expert_capacity)
        : !mtf.tensor<[batch:2, length:8, d_model:16], f32>,
          !mtf.tensor<[batch:2, length:8], i32>
          -> !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>
    ```
  }];
  let arguments = (ins Mtf_FloatTensor:$input, Mtf_IntTensor:$expert,
                       Mtf_IntTensor:$position, Mtf_BoolTensor:$dropped,
                       StrAttr:$tokens_dim, StrAttr:$experts_dim,
                       StrAttr:$capacity_dim,
                       OptionalAttr<StrAttr>:$choices_dim);
  let results = (outs Mtf_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $expert `,` $position `,` $dropped
    `tokens` `(` custom<DimName>($tokens_dim) `)`
    `experts` `(` custom<DimName>($experts_dim) `)`
    `capacity_dim` `(` custom<DimName>($capacity_dim) `)`
    (`choices` `(` custom<DimName>($choices_dim)^ `)`)?
    attr-dict `:` type($input) `,` type($expert) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Moe_CombineOp : Moe_Op<"combine", !listconcat(Moe_RoutingTypes, [
    OptionalTypesMatchWith<"residual has the type of the result", "result",
                           "residual", "$_self">])> {
  let summary = "gather expert outputs back to tokens, scaled by the gate";
  let description = [{
    `result[groups..., t, features...] = gate[t] * input[groups..., e, c,
    features...]` for the token `t` routed to expert `e` at position `c`,
    and exactly zero for a dropped token (its block output is then the
    residual alone). The inverse all-to-all of `moe.dispatch` brings the
    expert outputs back to the devices that hold their tokens.

    With a `residual` (of the result's type), the result is `residual[t] +
    gate[t] * input[...]`, and `residual[t]` for a dropped token: the
    block's residual add, folded in by `sy-fuse-epilogues` so that the
    combined tokens are never stored apart (the sum is formed in float32
    and rounded once).

    With top-k routing (`choices(choice)`) the result sums `gate[t, j] *
    input[...]` over the token's kept choices `j`, in float32, rounded once.

    ```mlir
    %y = moe.combine %out, %expert, %position, %dropped, %gate
        tokens(length) experts(experts) capacity_dim(expert_capacity)
        : !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>,
          !mtf.tensor<[batch:2, length:8], i32>, !mtf.tensor<[batch:2, length:8], f32>
          -> !mtf.tensor<[batch:2, length:8, d_model:16], f32>
    %z = moe.combine %out, %expert, %position, %dropped, %gate residual(%x)
        tokens(length) experts(experts) capacity_dim(expert_capacity)
        : !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>,
          !mtf.tensor<[batch:2, length:8], i32>, !mtf.tensor<[batch:2, length:8], f32>
          -> !mtf.tensor<[batch:2, length:8, d_model:16], f32>
    ```
  }];
  let arguments = (ins Mtf_FloatTensor:$input, Mtf_IntTensor:$expert,
                       Mtf_IntTensor:$position, Mtf_BoolTensor:$dropped,
                       Mtf_FloatTensor:$gate,
                       Optional<Mtf_FloatTensor>:$residual,
                       StrAttr:$tokens_dim, StrAttr:$experts_dim,
                       StrAttr:$capacity_dim,
                       OptionalAttr<StrAttr>:$choices_dim);
  let results = (outs Mtf_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $expert `,` $position `,` $dropped `,` $gate
    (`residual` `(` $residual^ `)`)?
    `tokens` `(` custom<DimName>($tokens_dim) `)`
    `experts` `(` custom<DimName>($experts_dim) `)`
    `capacity_dim` `(` custom<DimName>($capacity_dim) `)`
    (`choices` `(` custom<DimName>($choices_dim)^ `)`)?
    attr-dict `:` type($input) `,` type($expert) `,` type($gate) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Moe_ZLossOp : Moe_Op<"z_loss", [InferTypeOpAdaptor]> {
  let summary = "router z-loss over one or more sparse layers";
  let description = [{
    `mean over all token positions of (logsumexp over experts of logits)^2`,
    pooling every operand (Hugging Face concatenates the sparse layers'
    logits along the sequence). The result is a float32 scalar.

    ```mlir
    %z = moe.z_loss %l0, %l1 experts(experts)
        : !mtf.tensor<[batch:2, length:8, experts:4], f32>,
          !mtf.tensor<[batch:2, length:8, experts:4], f32>
    ```
  }];
  let arguments = (ins Variadic<Mtf_FloatTensor>:$logits, StrAttr:$experts_dim);
  let results = (outs Mtf_FloatTensor:$loss);
  let assemblyFormat = [{
    $logits `experts` `(` custom<DimName>($experts_dim) `)` attr-dict `:` type($logits)
  }];
  let hasVerifier = 1;
}

def Moe_LoadBalancingLossOp : Moe_Op<"load_balancing_loss", [InferTypeOpAdaptor]> {
  let summary = "Switch auxiliary load-balancing loss";
  let description = [{
    With `E` experts, for each group row `g` (the dimensions other than
    tokens and experts) over the token positions of every operand pooled:
    `f[g, e]` = the fraction of positions whose argmax of the raw logits is
    `e` (not capacity-masked), `p[g, e]` = the mean of softmax(logits).
    The loss is `E^2 * mean over g, e of f[g, e] * p[g, e]`, a float32
    scalar, as Hugging Face's `load_balancing_loss_func`.

    ```mlir
    %aux = moe.load_balancing_loss %l0 tokens(length) experts(experts)
        : !mtf.tensor<[batch:2, length:8, experts:4], f32>
    ```
  }];
  let arguments = (ins Variadic<Mtf_FloatTensor>:$logits, StrAttr:$tokens_dim,
                       StrAttr:$experts_dim);
  let results = (outs Mtf_FloatTensor:$loss);
  let assemblyFormat = [{
    $logits `tokens` `(` custom<DimName>($tokens_dim) `)`
    `experts` `(` custom<DimName>($experts_dim) `)` attr-dict `:` type($logits)
  }];
  let hasVerifier = 1;
}

#endif // SWITCHYARD_MOE_OPS
