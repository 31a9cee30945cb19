// RUN: switchyard-opt %s -split-input-file -verify-diagnostics

// expected-error@+1 {{element type must be f32, bf16, f16, i32 or i1, got 'f64'}}
func.func private @f64_element(!mtf.tensor<[a:2], f64>)

// -----

// expected-error@+1 {{dimension name 'batch' is used twice in one tensor}}
func.func private @duplicate_dim(!mtf.tensor<[batch:2, batch:2], f32>)

// -----

// expected-error@+1 {{dimension 'batch' must have a non-negative size, got -2}}
func.func private @negative_size(!mtf.tensor<[batch:-2], f32>)

// -----

// Sizes whose bytes overflow 64 bits, also where another size is 0 (strides
// would overflow).
// expected-error@+1 {{tensor [batch:1152921504606846976, d:2] is too large to address with 64-bit byte offsets}}
func.func private @too_large(!mtf.tensor<[batch:1152921504606846976, d:2], f32>)

// -----

// expected-error@+1 {{tensor [d:0, batch:1152921504606846976, e:2] is too large to address with 64-bit byte offsets}}
func.func private @too_large_empty(!mtf.tensor<[d:0, batch:1152921504606846976, e:2], f32>)

// -----

// The largest: 4 bytes per element still addressable.
func.func private @largest(!mtf.tensor<[batch:576460752303423487, d:4], f32>)

// -----

// expected-error@+1 {{dimension 'batch' names mesh axis 'b' twice}}
func.func private @axis_twice_in_dim(!mtf.tensor<[batch:8{b, b}], f32>)

// -----

// expected-error@+1 {{mesh axis 'b' splits two dimensions of one tensor: 'batch' and 'experts'}}
func.func private @axis_twice_in_tensor(!mtf.tensor<[batch:8{b}, experts:4{b}], f32>)

// -----

// expected-error@+1 {{mesh axis 'b4' must be written 'name:size' (as in "b:4,e:2")}}
module attributes {mtf.mesh = #mtf.mesh<"b4">} {}

// -----

// expected-error@+1 {{mesh axis name '1b' is not an identifier}}
module attributes {mtf.mesh = #mtf.mesh<"1b:4">} {}

// -----

// expected-error@+1 {{mesh axis 'b' is declared twice}}
module attributes {mtf.mesh = #mtf.mesh<"b:2,b:2">} {}

// -----

// expected-error@+1 {{mesh axis 'b' must have a positive size, got 0}}
module attributes {mtf.mesh = #mtf.mesh<"b:0">} {}

// -----

// expected-error@+1 {{layout rule 'b' must be written 'dimension:axis' (as in "batch:b;experts:e")}}
module attributes {mtf.mesh = #mtf.mesh<"b:2">, mtf.layout = #mtf.layout<"b">} {}

// -----

// expected-error@+1 {{layout has two rules for dimension 'batch'}}
module attributes {mtf.mesh = #mtf.mesh<"b:2">, mtf.layout = #mtf.layout<"batch:b;batch:b">} {}

// -----

// expected-error@+1 {{layout rule for 'd_ff' names mesh axis 'm' twice}}
module attributes {mtf.mesh = #mtf.mesh<"m:2">, mtf.layout = #mtf.layout<"d_ff:m,m">} {}

// -----

// expected-error@+1 {{layout dimension name '1x' is not an identifier}}
module attributes {mtf.mesh = #mtf.mesh<"b:2">, mtf.layout = #mtf.layout<"1x:b">} {}

// -----

// expected-error@+1 {{layout rule for 'batch' has a mesh axis that is not an identifier}}
module attributes {mtf.mesh = #mtf.mesh<"b:2">, mtf.layout = #mtf.layout<"batch:">} {}

// -----

// expected-error@+1 {{'mtf.mesh' must be an #mtf.mesh attribute}}
module attributes {mtf.mesh = "b:4"} {}

// -----

// expected-error@+1 {{'mtf.layout' must be an #mtf.layout attribute}}
module attributes {mtf.mesh = #mtf.mesh<"b:4">, mtf.layout = "batch:b"} {}

// -----

// expected-error@+1 {{'mtf.layout' needs an 'mtf.mesh' on the same op}}
module attributes {mtf.layout = #mtf.layout<"batch:b">} {}

// -----

// expected-error@+1 {{layout rule for 'experts' names mesh axis 'e', which mesh "b:4" does not have}}
module attributes {mtf.mesh = #mtf.mesh<"b:4">, mtf.layout = #mtf.layout<"batch:b;experts:e">} {}

// -----

// expected-error@+1 {{unknown mtf attribute 'mtf.meshes'}}
module attributes {mtf.meshes = #mtf.mesh<"b:4">} {}

// -----

module attributes {mtf.mesh = #mtf.mesh<"b:4">} {
  // expected-error@+1 {{dimension 'batch' is split over mesh axis 'e', which mesh "b:4" does not have}}
  func.func private @unknown_axis(!mtf.tensor<[batch:8{e}], f32>)
}

// -----

module attributes {mtf.mesh = #mtf.mesh<"b:4">} {
  // expected-error@+1 {{dimension 'batch' of size 6 cannot be split into 4 equal parts over its mesh axes}}
  func.func private @not_divisible(!mtf.tensor<[batch:6{b}], f32>)
}

// -----

module attributes {mtf.mesh = #mtf.mesh<"b:2,m:2">} {
  func.func @not_divisible_by_op_result() {
    // expected-error@+1 {{dimension 'd_ff' of size 6 cannot be split into 4 equal parts over its mesh axes}}
    %0 = mtf.iota along d_ff : !mtf.tensor<[d_ff:6{b, m}], i32>
    return
  }
}

// -----

func.func @laid_out_without_mesh() {
  // expected-error@+1 {{is laid out but no enclosing op declares an 'mtf.mesh'}}
  %0 = mtf.iota along batch : !mtf.tensor<[batch:8{b}], i32>
  return
}

// -----

// expected-error@+1 {{unknown mtf argument attribute 'mtf.weight'}}
func.func private @unknown_arg_attr(!mtf.tensor<[a:2], f32> {mtf.weight = "w"})

// -----

// expected-error@+1 {{'mtf.param' of argument 0 must be a non-empty checkpoint name string}}
func.func private @empty_param(!mtf.tensor<[a:2], f32> {mtf.param = ""})

// -----

// expected-error@+1 {{argument 0 is a parameter ('w') and must be an !mtf.tensor, got 'tensor<2xf32>'}}
func.func private @param_not_mtf(tensor<2xf32> {mtf.param = "w"})

// -----

func.func @einsum_no_operands() {
  // expected-error@+1 {{expects at least one operand}}
  %0 = mtf.einsum : () -> !mtf.tensor<[], f32>
  return
}

// -----

func.func @einsum_element_types(%a: !mtf.tensor<[i:2], f32>, %b: !mtf.tensor<[i:2], bf16>) {
  // expected-error@+1 {{expects every tensor to have element type 'f32', got 'bf16'}}
  %0 = mtf.einsum %a, %b : (!mtf.tensor<[i:2], f32>, !mtf.tensor<[i:2], bf16>) -> !mtf.tensor<[], f32>
  return
}

// -----

func.func @einsum_sizes(%a: !mtf.tensor<[d_model:16], f32>, %b: !mtf.tensor<[d_model:32], f32>) {
  // expected-error@+1 {{dimension 'd_model' has size 16 in one tensor and 32 in another}}
  %0 = mtf.einsum %a, %b : (!mtf.tensor<[d_model:16], f32>, !mtf.tensor<[d_model:32], f32>) -> !mtf.tensor<[], f32>
  return
}

// -----

func.func @einsum_new_dim(%a: !mtf.tensor<[i:2], f32>) {
  // expected-error@+1 {{result dimension 'j' appears in no operand}}
  %0 = mtf.einsum %a : (!mtf.tensor<[i:2], f32>) -> !mtf.tensor<[i:2, j:3], f32>
  return
}

// -----

func.func @einsum_epilogue_not_activation(%a: !mtf.tensor<[i:2], f32>) {
  // expected-error@+1 {{epilogue must be an activation (relu, gelu, gelu_tanh or silu), got 'exp'}}
  %0 = mtf.einsum %a epilogue exp : (!mtf.tensor<[i:2], f32>) -> !mtf.tensor<[i:2], f32>
  return
}

// -----

func.func @einsum_epilogue_unknown(%a: !mtf.tensor<[i:2], f32>) {
  // expected-error@+1 {{expected string or keyword containing one of the following enum values for attribute 'epilogue'}}
  %0 = mtf.einsum %a epilogue softplus : (!mtf.tensor<[i:2], f32>) -> !mtf.tensor<[i:2], f32>
  return
}

// -----

func.func @unary_on_int(%a: !mtf.tensor<[i:2], i32>) {
  // expected-error@+1 {{'relu' is not defined on element type 'i32'}}
  %0 = mtf.unary relu %a : !mtf.tensor<[i:2], i32>
  return
}

// -----

func.func @binary_element_types(%a: !mtf.tensor<[i:2], f32>, %b: !mtf.tensor<[i:2], f16>) {
  // expected-error@+1 {{expects every tensor to have element type 'f32', got 'f16'}}
  %0 = mtf.binary add %a, %b : (!mtf.tensor<[i:2], f32>, !mtf.tensor<[i:2], f16>) -> !mtf.tensor<[i:2], f32>
  return
}

// -----

func.func @binary_on_bool(%a: !mtf.tensor<[i:2], i1>) {
  // expected-error@+1 {{is not defined on i1 tensors}}
  %0 = mtf.binary add %a, %a : (!mtf.tensor<[i:2], i1>, !mtf.tensor<[i:2], i1>) -> !mtf.tensor<[i:2], i1>
  return
}

// -----

func.func @pow_on_int(%a: !mtf.tensor<[i:2], i32>) {
  // expected-error@+1 {{'pow' needs a floating-point element type}}
  %0 = mtf.binary pow %a, %a : (!mtf.tensor<[i:2], i32>, !mtf.tensor<[i:2], i32>) -> !mtf.tensor<[i:2], i32>
  return
}

// -----

func.func @binary_not_union(%a: !mtf.tensor<[i:2], f32>, %b: !mtf.tensor<[j:3], f32>) {
  // expected-error@+1 {{result dimensions must be the union of the operands' dimensions (i, j), got (i)}}
  %0 = mtf.binary mul %a, %b : (!mtf.tensor<[i:2], f32>, !mtf.tensor<[j:3], f32>) -> !mtf.tensor<[i:2], f32>
  return
}

// -----

func.func @reduce_new_dim(%a: !mtf.tensor<[i:2], f32>) {
  // expected-error@+1 {{input has no dimension 'j'}}
  %0 = mtf.reduce sum %a : !mtf.tensor<[i:2], f32> -> !mtf.tensor<[j:2], f32>
  return
}

// -----

func.func @reduce_mean_int(%a: !mtf.tensor<[i:2], i32>) {
  // expected-error@+1 {{'mean' needs a floating-point element type}}
  %0 = mtf.reduce mean %a : !mtf.tensor<[i:2], i32> -> !mtf.tensor<[], i32>
  return
}

// -----

func.func @reduce_bool(%a: !mtf.tensor<[i:2], i1>) {
  // expected-error@+1 {{is not defined on i1 tensors}}
  %0 = mtf.reduce max %a : !mtf.tensor<[i:2], i1> -> !mtf.tensor<[], i1>
  return
}

// -----

func.func @softmax_missing_dim(%a: !mtf.tensor<[i:2], f32>) {
  // expected-error@+1 {{input has no dimension 'experts'}}
  %0 = mtf.softmax %a along experts : !mtf.tensor<[i:2], f32>
  return
}

// -----

func.func @rms_norm_scale(%x: !mtf.tensor<[b:2, d_model:4], f32>, %w: !mtf.tensor<[b:2], f32>) {
  // expected-error@+1 {{scale must have exactly the dimension 'd_model'}}
  %0 = mtf.rms_norm %x, %w along d_model : !mtf.tensor<[b:2, d_model:4], f32>, !mtf.tensor<[b:2], f32>
  return
}

// -----

func.func @rms_norm_missing_dim(%x: !mtf.tensor<[b:2], f32>, %w: !mtf.tensor<[d_model:4], f32>) {
  // expected-error@+1 {{input has no dimension 'd_model'}}
  %0 = mtf.rms_norm %x, %w along d_model : !mtf.tensor<[b:2], f32>, !mtf.tensor<[d_model:4], f32>
  return
}

// -----

func.func @rms_norm_scale_size(%x: !mtf.tensor<[d_model:4], f32>, %w: !mtf.tensor<[d_model:8], f32>) {
  // expected-error@+1 {{dimension 'd_model' has size 4 in one tensor and 8 in another}}
  %0 = mtf.rms_norm %x, %w along d_model : !mtf.tensor<[d_model:4], f32>, !mtf.tensor<[d_model:8], f32>
  return
}

// -----

func.func @rms_norm_epsilon(%x: !mtf.tensor<[d_model:4], f32>, %w: !mtf.tensor<[d_model:4], f32>) {
  // expected-error@+1 {{epsilon must be non-negative}}
  %0 = mtf.rms_norm %x, %w along d_model {epsilon = -1.0 : f64} : !mtf.tensor<[d_model:4], f32>, !mtf.tensor<[d_model:4], f32>
  return
}

// -----

func.func @cumsum_bool(%a: !mtf.tensor<[i:2], i1>) {
  // expected-error@+1 {{is not defined on i1 tensors}}
  %0 = mtf.cumsum %a along i : !mtf.tensor<[i:2], i1>
  return
}

// -----

func.func @cumsum_missing_dim(%a: !mtf.tensor<[i:2], i32>) {
  // expected-error@+1 {{input has no dimension 'length'}}
  %0 = mtf.cumsum %a along length : !mtf.tensor<[i:2], i32>
  return
}

// -----

func.func @iota_bool() {
  // expected-error@+1 {{cannot produce i1 positions}}
  %0 = mtf.iota along i : !mtf.tensor<[i:2], i1>
  return
}

// -----

func.func @iota_missing_dim() {
  // expected-error@+1 {{result has no dimension 'length'}}
  %0 = mtf.iota along length : !mtf.tensor<[i:2], i32>
  return
}

// -----

func.func @cast_changes_dims(%a: !mtf.tensor<[i:2], f32>) {
  // expected-error@+1 {{must keep the dimensions and their layout}}
  %0 = mtf.cast %a : !mtf.tensor<[i:2], f32> -> !mtf.tensor<[j:2], bf16>
  return
}

// -----

func.func @reshape_count(%a: !mtf.tensor<[i:2, j:3], f32>) {
  // expected-error@+1 {{must keep the number of elements, got 6 and 8}}
  %0 = mtf.reshape %a : !mtf.tensor<[i:2, j:3], f32> -> !mtf.tensor<[k:8], f32>
  return
}

// -----

func.func @reshape_element_type(%a: !mtf.tensor<[i:2], f32>) {
  // expected-error@+1 {{expects every tensor to have element type 'f32', got 'i32'}}
  %0 = mtf.reshape %a : !mtf.tensor<[i:2], f32> -> !mtf.tensor<[k:2], i32>
  return
}

// -----

func.func @gather_missing_dim(%t: !mtf.tensor<[vocab:8, d:4], f32>, %ids: !mtf.tensor<[b:2], i32>) {
  // expected-error@+1 {{table has no dimension 'rows'}}
  %0 = mtf.gather %t[%ids] along rows : (!mtf.tensor<[vocab:8, d:4], f32>, !mtf.tensor<[b:2], i32>) -> !mtf.tensor<[b:2, d:4], f32>
  return
}

// -----

func.func @gather_shared_dim(%t: !mtf.tensor<[vocab:8, b:2], f32>, %ids: !mtf.tensor<[b:2], i32>) {
  // expected-error@+1 {{dimension 'b' is in both the table and the indices}}
  %0 = mtf.gather %t[%ids] along vocab : (!mtf.tensor<[vocab:8, b:2], f32>, !mtf.tensor<[b:2], i32>) -> !mtf.tensor<[b:2], f32>
  return
}

// -----

func.func @gather_result(%t: !mtf.tensor<[vocab:8, d:4], f32>, %ids: !mtf.tensor<[b:2], i32>) {
  // expected-error@+1 {{result dimensions must be the indices' and the table's other dimensions (b, d), got (b)}}
  %0 = mtf.gather %t[%ids] along vocab : (!mtf.tensor<[vocab:8, d:4], f32>, !mtf.tensor<[b:2], i32>) -> !mtf.tensor<[b:2], f32>
  return
}

// -----

func.func @gather_float_indices(%t: !mtf.tensor<[vocab:8, d:4], f32>, %ids: !mtf.tensor<[b:2], f32>) {
  // expected-error@+1 {{operand #1 must be i32 named-dimension tensor}}
  %0 = mtf.gather %t[%ids] along vocab : (!mtf.tensor<[vocab:8, d:4], f32>, !mtf.tensor<[b:2], f32>) -> !mtf.tensor<[b:2, d:4], f32>
  return
}

// -----

func.func @one_hot_rank(%ids: !mtf.tensor<[b:2], i32>) {
  // expected-error@+1 {{result must add exactly one dimension to the indices' dimensions}}
  %0 = mtf.one_hot %ids : !mtf.tensor<[b:2], i32> -> !mtf.tensor<[b:2, e:4, f:2], f32>
  return
}

// -----

func.func @one_hot_lost_dim(%ids: !mtf.tensor<[b:2], i32>) {
  // expected-error@+1 {{result has no dimension 'b'}}
  %0 = mtf.one_hot %ids : !mtf.tensor<[b:2], i32> -> !mtf.tensor<[e:4, f:2], f32>
  return
}

// -----

func.func @constant_shape() {
  // expected-error@+1 {{value of type 'tensor<3xf32>' does not match the global shape and element type of '!mtf.tensor<[heads:2], f32>'}}
  %0 = mtf.constant dense<1.0> : tensor<3xf32> to !mtf.tensor<[heads:2], f32>
  return
}

// -----

// expected-error@+1 {{parameter name 'experts.expert_{experts.wi' has an unclosed '{'}}
func.func private @param_unclosed(!mtf.tensor<[experts:2, d:4], f32> {mtf.param = "experts.expert_{experts.wi"})

// -----

// expected-error@+1 {{parameter name 'expert_{e}.wi' stacks along 'e', which is not a dimension of '!mtf.tensor<[experts:2, d:4], f32>'}}
func.func private @param_unknown_stack_dim(!mtf.tensor<[experts:2, d:4], f32> {mtf.param = "expert_{e}.wi"})

// -----

func.func @relayout_changes_dims(%a: !mtf.tensor<[i:2], f32>) {
  // expected-error@+1 {{may change only the layout, got '!mtf.tensor<[i:2], f32>' and '!mtf.tensor<[j:2], f32>'}}
  %0 = mtf.relayout %a : !mtf.tensor<[i:2], f32> -> !mtf.tensor<[j:2], f32>
  return
}

// -----

func.func @as_tensor_shape(%a: !mtf.tensor<[i:2], f32>) {
  // expected-error@+1 {{types '!mtf.tensor<[i:2], f32>' and 'tensor<3xf32>' differ in shape or element type}}
  %0 = mtf.as_tensor %a : !mtf.tensor<[i:2], f32> -> tensor<3xf32>
  return
}

// -----

module attributes {mtf.mesh = #mtf.mesh<"b:2">} {
  func.func @as_named_laid_out(%a: tensor<2xf32>) {
    // expected-error@+1 {{expects a local tensor without layout, got '!mtf.tensor<[i:2{b}], f32>'}}
    %0 = mtf.as_named %a : tensor<2xf32> -> !mtf.tensor<[i:2{b}], f32>
    return
  }
}

// -----

module attributes {mtf.mesh = #mtf.mesh<"b:4">} {
  // expected-error@+1 {{value of type '!mtf.tensor<[batch:8, d:4], f32>' cannot be the local block of '!mtf.tensor<[batch:8{b}, d:4], f32>', which is '!mtf.tensor<[batch:2, d:4], f32>'}}
  func.func private @global_mismatch(!mtf.tensor<[batch:8, d:4], f32> {mtf.global = !mtf.tensor<[batch:8{b}, d:4], f32>})
}

// -----

// expected-error@+1 {{'mtf.global' must be an !mtf.tensor type}}
func.func private @global_not_a_type(!mtf.tensor<[batch:8], f32> {mtf.global = "batch"})

// -----

// expected-error@+1 {{unknown mtf result attribute 'mtf.param'}}
func.func private @param_on_result() -> (!mtf.tensor<[batch:8], f32> {mtf.param = "w"})

// -----

// expected-error@+1 {{'mtf.name' must be a non-empty string}}
func.func private @empty_name(!mtf.tensor<[batch:8], f32> {mtf.name = ""})

// -----

// expected-error@+1 {{'mtf.name' must be a non-empty string}}
func.func private @name_not_string() -> (!mtf.tensor<[batch:8], f32> {mtf.name = 3 : i32})

// -----

// A program's signature with a laid-out type and no mesh anywhere is
// rejected even though no op uses the argument.
// expected-error@+1 {{'func.func' op signature: type '!mtf.tensor<[batch:8{b}], f32>' is laid out but no enclosing op declares an 'mtf.mesh'}}
func.func @signature_laid_out_without_mesh(%x: !mtf.tensor<[batch:8{b}], f32> {mtf.name = "x"})
    -> !mtf.tensor<[batch:8{b}], f32> {
  return %x : !mtf.tensor<[batch:8{b}], f32>
}

// -----

// The same for a laid-out result.
// expected-error@+1 {{'func.func' op signature: type '!mtf.tensor<[batch:8{b}], f32>' is laid out but no enclosing op declares an 'mtf.mesh'}}
func.func @result_laid_out_without_mesh(%x: !mtf.tensor<[batch:8], f32>)
    -> (!mtf.tensor<[batch:8{b}], f32> {mtf.name = "y"}) {
  %y = mtf.relayout %x : !mtf.tensor<[batch:8], f32> -> !mtf.tensor<[batch:8{b}], f32>
  return %y : !mtf.tensor<[batch:8{b}], f32>
}

// -----

// expected-error@+1 {{'mtf.ignored_index' of argument 0 must be an i32 integer, got -100 : i64}}
func.func private @ignored_index_i64(!mtf.tensor<[rows:4], i32> {mtf.name = "labels", mtf.ignored_index = -100 : i64})

// -----

// expected-error@+1 {{'mtf.ignored_index' of argument 0 must be an i32 integer, got "-100"}}
func.func private @ignored_index_string(!mtf.tensor<[rows:4], i32> {mtf.ignored_index = "-100"})

// -----

// expected-error@+1 {{'mtf.ignored_index' of argument 0 must be on a run-time input, not on a parameter ('mtf.param')}}
func.func private @ignored_index_on_param(!mtf.tensor<[rows:4], i32> {mtf.param = "w", mtf.ignored_index = -100 : i32})

// -----

// expected-error@+1 {{'mtf.ignored_index' of argument 1 must be on an i32 !mtf.tensor, got '!mtf.tensor<[rows:4], f32>'}}
func.func private @ignored_index_on_f32(!mtf.tensor<[rows:4], i32>, !mtf.tensor<[rows:4], f32> {mtf.name = "x", mtf.ignored_index = -100 : i32})

// -----

// expected-error@+1 {{'mtf.ignored_index' of argument 0 must be on an i32 !mtf.tensor, got 'tensor<4xi32>'}}
func.func private @ignored_index_on_builtin(tensor<4xi32> {mtf.ignored_index = -100 : i32})

// -----

// expected-error@+1 {{unknown mtf result attribute 'mtf.ignored_index'}}
func.func private @ignored_index_on_result() -> (!mtf.tensor<[rows:4], i32> {mtf.ignored_index = -100 : i32})
