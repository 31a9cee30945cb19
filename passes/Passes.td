//===- Passes.td - Switchyard passes -----------------------*- tablegen -*-===//

#ifndef SWITCHYARD_PASSES
#define SWITCHYARD_PASSES

include "mlir/Pass/PassBase.td"

def AssignLayouts : Pass<"sy-assign-layouts", "::mlir::ModuleOp"> {
  let summary = "give every named tensor its layout from mesh and layout rules";
  let description = [{
    Takes the mesh and the layout rules from the options (Mesh TF syntax) or,
    when an option is empty, from the module's `mtf.mesh` / `mtf.layout`
    attributes, and records them on the module. Every `!mtf.tensor` in the
    module (function signatures, block arguments, op results) then has each
    dimension that a rule names split over that rule's mesh axes, in rule
    order; a rule whose axes another dimension of the same tensor already
    uses leaves its dimension whole (`explain` emits a remark saying so).
    A rule whose axes do not divide the dimension is an error.

    Input:
    ```mlir
    module attributes {mtf.mesh = #mtf.mesh<"b:4">, mtf.layout = #mtf.layout<"batch:b">} {
      func.func @f(%x: !mtf.tensor<[batch:8, d:4], f32>) ...
    ```
    Output:
    ```mlir
      func.func @f(%x: !mtf.tensor<[batch:8{b}, d:4], f32>) ...
    ```
  }];
  let options = [
    Option<"mesh", "mesh", "std::string", /*default=*/"\"\"",
           "Device mesh, e.g. \"b:4,e:2\" (default: the module's mtf.mesh)">,
    Option<"layout", "layout", "std::string", /*default=*/"\"\"",
           "Layout rules, e.g. \"batch:b;experts:e\" (default: the module's mtf.layout)">,
    Option<"explain", "explain", "bool", /*default=*/"false",
           "Emit a remark for every dimension a conflicting rule leaves whole">,
  ];
  let dependentDialects = ["::switchyard::mtf::MtfDialect"];
}

def Partition : Pass<"sy-partition", "::mlir::ModuleOp"> {
  let summary = "rewrite laid-out programs into the program each device runs";
  let description = [{
    Every value becomes the block its device holds (local sizes, no layout).
    Each op is computed on the layout its result and the op kind allow, and
    its operands are resharded to that layout with upstream `shard`
    collectives between `mtf.as_tensor` / `mtf.as_named`:

    - an einsum that contracts a split dimension, or a reduction over one,
      yields a partial result, resolved by `shard.all_reduce`, or by
      `shard.reduce_scatter` when the consumer splits a dimension over that
      axis;
    - a layout change is a multi-step plan of `all_to_all`, `all_gather`
      and `all_slice` (see docs/partitioning.md);
    - `moe.dispatch` runs where the tokens are and its buffers move to the
      experts by an all-to-all; `moe.combine` moves them back first;
    - the router, softmax, norms and cumulative sums need their reduced
      dimension whole on the device.

    Function arguments and results keep their global laid-out type in an
    `mtf.global` attribute, so the runtime knows which slice of each weight
    and input every device reads. A `shard.grid @mesh` mirrors the mesh.
  }];
  let dependentDialects = ["::switchyard::mtf::MtfDialect",
                           "::mlir::shard::ShardDialect",
                           "::mlir::tensor::TensorDialect"];
}

def CleanupCollectives : Pass<"sy-cleanup-collectives", "::mlir::ModuleOp"> {
  let summary = "simplify the collectives of partitioned programs";
  let description = [{
    - drops mesh axes of size 1 from collectives, and collectives left with
      no axis;
    - merges two collectives of one kind in a row on the same tensor
      dimension (all_gather, all_slice, all_reduce with one reduction);
    - turns an all_reduce followed by an all_slice over the same axes into
      a reduce_scatter;
    - removes an all_gather followed by the all_slice that undoes it;
    - folds the views `mtf.as_named(mtf.as_tensor(x))` and
      `mtf.as_tensor(mtf.as_named(t))`, and identity `mtf.relayout`s, so
      collectives of consecutive reshards meet and merge; erases ops left
      without uses.
  }];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

def FuseEpilogues : Pass<"sy-fuse-epilogues", "::mlir::ModuleOp"> {
  let summary = "fold activations into einsums and residual adds into "
                "combines";
  let description = [{
    An `mtf.unary` activation (relu, gelu, gelu_tanh, silu) whose operand is
    an `mtf.einsum` without an epilogue and with no other use becomes that
    einsum's `epilogue`. A runtime then applies it where it writes the sums
    (a GEMM epilogue), and the buffer plan needs no value for the sums alone
    (for an expert FFN, the `[experts, capacity, d_ff]` pre-activation).

    Runs on partitioned programs: an einsum whose sums are partial there
    (a contracted dimension split over the mesh) feeds an all_reduce or
    reduce_scatter, not the activation, so only complete sums are fused.

    ```mlir
    %h = mtf.einsum %x, %wi : (...) -> !mtf.tensor<[b:8, f:64], f32>
    %a = mtf.unary relu %h : !mtf.tensor<[b:8, f:64], f32>
    // becomes
    %a = mtf.einsum %x, %wi epilogue relu : (...) -> !mtf.tensor<[b:8, f:64], f32>
    ```

    Likewise an `mtf.binary add` of a `moe.combine` (with no other use) and
    a residual of the same type becomes that combine's `residual`, and the
    combine moves to where the add was: the combined tokens are then never
    stored apart from the block's output.

    ```mlir
    %m = moe.combine %out, %e, %p, %d, %g tokens(t) ... -> !mtf.tensor<[t:8, d:4], f32>
    %y = mtf.binary add %x, %m : (...) -> !mtf.tensor<[t:8, d:4], f32>
    // becomes
    %y = moe.combine %out, %e, %p, %d, %g residual(%x) tokens(t) ... -> !mtf.tensor<[t:8, d:4], f32>
    ```
  }];
}

def SelectivePrecision : Pass<"sy-selective-precision", "::mlir::ModuleOp"> {
  let summary = "compute in bf16 (or f16) except the router, as Switch trains";
  let description = [{
    The Switch Transformer's selective precision: every float32 tensor of
    the model becomes `precision` (bf16 or f16), except the router's, which
    stay float32: `moe.route`, `moe.z_loss`, `moe.load_balancing_loss` and
    every op whose results only they use (the router's projection, its
    weight and bias, a relayout of its input). The router's input is cast
    up to float32 where it leaves the rest of the model, and the gate is
    cast down where `moe.combine` uses it.

    Weights (`mtf.param` arguments) change their type, so the runtime
    converts float32 checkpoints once, at load; other arguments and the
    results keep their types, with a cast after the entry and before the
    return. Constants are rounded to the new type, saturating to its
    largest finite value (a float32 `-3.4e38` mask stays finite, like
    `torch.finfo(bfloat16).min`).

    Runs before layout assignment, on the global program.

    ```mlir
    %h = mtf.einsum %x, %w : (!mtf.tensor<[b:8, d:16], f32>, !mtf.tensor<[d:16, f:64], f32>)
                            -> !mtf.tensor<[b:8, f:64], f32>
    // with precision=bf16, %w: !mtf.tensor<[d:16, f:64], bf16> and
    %x16 = mtf.cast %x : !mtf.tensor<[b:8, d:16], f32> -> !mtf.tensor<[b:8, d:16], bf16>
    %h = mtf.einsum %x16, %w : (..., bf16>, ..., bf16>) -> !mtf.tensor<[b:8, f:64], bf16>
    ```
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"bf16\"",
           "Element type of everything but the router: bf16, f16, or f32 (no change)">,
  ];
  let dependentDialects = ["::switchyard::mtf::MtfDialect"];
}

#endif // SWITCHYARD_PASSES
