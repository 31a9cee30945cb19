#!/usr/bin/env python3
"""Make top-2 routing reference data: one NLLB-MoE sparse MLP layer (needs torch + transformers).

For every case below this builds transformers' `NllbMoeSparseMLP` (the top-2
router `NllbMoeTop2Router` and `NllbMoeExperts`, each expert fc1 -> relu -> fc2
with biases) with random weights, runs it in float32 eval mode on random
hidden states and writes, under test/HF/layers/<case>/:

  model.safetensors      the module's state_dict, with its own names
                         (router.classifier.weight, experts.expert_<i>.fc{1,2}.{weight,bias})
  inputs.safetensors     hidden_states [tokens, d_model] f32 (HF's [batch, seq,
                         d_model] flattened: NLLB routes batch*seq tokens as one group)
  expected.safetensors   hidden_states [tokens, d_model] f32   the layer's output
                         expert_index  [tokens, 2] i32         top-1, top-2 expert
                         position      [tokens, 2] i32         HF's locations1/locations2
                         dropped       [tokens, 2] i32         1 iff position >= capacity
                         gate          [tokens, 2] f32         combine weight (0 if dropped)
  layer.mlir             the same layer in the mtf/moe dialects, bound to those names
  README                 what the case exercises and how it was made

Router settings: second_expert_policy="all" (deterministic), no batch-prioritized
routing, normalize_router_prob_before_dropping=False (gates normalized over the
kept choices), router_bias=False, router_dtype float32, moe_token_dropout 0 and
moe_eval_capacity_token_fraction -1 (so in eval the capacity is
config.expert_capacity, or 2*ceil(tokens/experts) when that is None).

The expected output is computed from transformers' own router
(`NllbMoeTop2Router.route_tokens`: its capacity-masked top-1 mask and its
combine weights) and transformers' own expert modules, combined as NLLB-MoE
defines it (fairseq, and transformers 4.x `NllbMoeSparseMLP.forward`):
output[t] = sum over the kept choices j of gate[t, j] * expert_{e(t,j)}(x[t]).
transformers 5.24's `NllbMoeSparseMLP.forward` does not compute that:
`NllbMoeExperts.forward` receives the [tokens, experts] 0/1 top-1 mask as
`router_mask` and one-hot-encodes it as if it held expert indices, so it runs
expert_0 and expert_1 instead of the chosen experts. The script prints how far
the module's own forward is from the reference (and says so if they agree).

The script rejects seeds where, for some token, the top-1 minus top-2 or the
top-2 minus top-3 router probability is below 1e-3 (so an implementation with
another summation order chooses the same experts), and seeds that do not
drop as the case requires. It prints the drop counts of every case.

Run:  python3 tools/hf_reference/make_top2_layer.py [--out test/HF/layers] [--only NAME ...]
The output is deterministic for a given torch/transformers version.
"""

import argparse
import json
import math
import os
import shutil
import sys

import torch
import transformers
from safetensors.torch import save_file
from transformers import NllbMoeConfig
from transformers.models.nllb_moe.modeling_nllb_moe import NllbMoeSparseMLP

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

D_MODEL, D_FF, EXPERTS = 16, 32, 4
MARGIN = 1e-3  # smallest top1-top2 and top2-top3 router probability gap allowed

# batch x seq tokens (flattened to one group), the configured expert_capacity
# (None: NLLB's default 2*ceil(tokens/experts)), and which drops must occur.
CASES = {
    "nllb-top2-e4-drop": dict(
        batch=2, seq=8, capacity=5,
        need=dict(first=True, second=True, both=True),
        readme="16 tokens (HF input [2, 8, 16] flattened), 4 experts, expert_capacity 5: capacity\n"
               "drops first choices, second choices, and both choices of some token (whose output is 0).\n"),
    "nllb-top2-e4-nodrop": dict(
        batch=3, seq=8, capacity=24,
        need=dict(none=True),
        readme="24 tokens (HF input [3, 8, 16] flattened), 4 experts, expert_capacity 24 = tokens:\n"
               "nothing is dropped; every token's output mixes its two experts with gates p1/(p1+p2), p2/(p1+p2).\n"),
    "nllb-top2-e4-default-capacity": dict(
        batch=4, seq=8, capacity=None,
        need=dict(second=True),
        readme="32 tokens (HF input [4, 8, 16] flattened), 4 experts, expert_capacity unset: NLLB's\n"
               "default 2*ceil(32/4) = 16, written as capacity(16) in layer.mlir; second choices are dropped.\n"),
}

LAYER_MLIR = """\
// One NLLB-MoE sparse MLP (transformers' NllbMoeSparseMLP) with top-2 routing:
// router (no bias) -> top-2 route with capacity {C}, gates normalized over the
// kept choices -> dispatch -> per expert fc1 (+bias) -> relu -> fc2 (+bias) ->
// combine (sum of gate * expert output over the kept choices). NLLB routes the
// batch*seq tokens as one group, so the input is [tokens, d_model]. Weights are
// arguments named by the module's state_dict names. Made by
// tools/hf_reference/make_top2_layer.py; no mesh: the test picks one.
module {{
  func.func @nllb_moe_sparse_mlp(
      %x: !mtf.tensor<[tokens:{T}, d_model:{D}], f32> {{mtf.name = "hidden_states"}},
      %router: !mtf.tensor<[experts:{E}, d_model:{D}], f32> {{mtf.param = "router.classifier.weight"}},
      %w1: !mtf.tensor<[experts:{E}, d_ff:{F}, d_model:{D}], f32> {{mtf.param = "experts.expert_{{experts}}.fc1.weight"}},
      %b1: !mtf.tensor<[experts:{E}, d_ff:{F}], f32> {{mtf.param = "experts.expert_{{experts}}.fc1.bias"}},
      %w2: !mtf.tensor<[experts:{E}, d_model:{D}, d_ff:{F}], f32> {{mtf.param = "experts.expert_{{experts}}.fc2.weight"}},
      %b2: !mtf.tensor<[experts:{E}, d_model:{D}], f32> {{mtf.param = "experts.expert_{{experts}}.fc2.bias"}})
      -> (!mtf.tensor<[tokens:{T}, d_model:{D}], f32> {{mtf.name = "hidden_states"}},
          !mtf.tensor<[tokens:{T}, choice:2], i32> {{mtf.name = "expert_index"}},
          !mtf.tensor<[tokens:{T}, choice:2], i32> {{mtf.name = "position"}},
          !mtf.tensor<[tokens:{T}, choice:2], i1> {{mtf.name = "dropped"}},
          !mtf.tensor<[tokens:{T}, choice:2], f32> {{mtf.name = "gate"}}) {{
    %logits = mtf.einsum %x, %router
        : (!mtf.tensor<[tokens:{T}, d_model:{D}], f32>, !mtf.tensor<[experts:{E}, d_model:{D}], f32>)
          -> !mtf.tensor<[tokens:{T}, experts:{E}], f32>
    %expert, %gate, %position, %dropped = moe.route %logits
        tokens(tokens) experts(experts) top_k(2) choices(choice) capacity({C}) normalize(after_drops)
        : !mtf.tensor<[tokens:{T}, experts:{E}], f32>
    %buffers = moe.dispatch %x, %expert, %position, %dropped
        tokens(tokens) experts(experts) capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[tokens:{T}, d_model:{D}], f32>, !mtf.tensor<[tokens:{T}, choice:2], i32>
          -> !mtf.tensor<[experts:{E}, expert_capacity:{C}, d_model:{D}], f32>
    %fc1 = mtf.einsum %buffers, %w1
        : (!mtf.tensor<[experts:{E}, expert_capacity:{C}, d_model:{D}], f32>,
           !mtf.tensor<[experts:{E}, d_ff:{F}, d_model:{D}], f32>)
          -> !mtf.tensor<[experts:{E}, expert_capacity:{C}, d_ff:{F}], f32>
    %fc1b = mtf.binary add %fc1, %b1
        : (!mtf.tensor<[experts:{E}, expert_capacity:{C}, d_ff:{F}], f32>, !mtf.tensor<[experts:{E}, d_ff:{F}], f32>)
          -> !mtf.tensor<[experts:{E}, expert_capacity:{C}, d_ff:{F}], f32>
    %act = mtf.unary relu %fc1b : !mtf.tensor<[experts:{E}, expert_capacity:{C}, d_ff:{F}], f32>
    %fc2 = mtf.einsum %act, %w2
        : (!mtf.tensor<[experts:{E}, expert_capacity:{C}, d_ff:{F}], f32>,
           !mtf.tensor<[experts:{E}, d_model:{D}, d_ff:{F}], f32>)
          -> !mtf.tensor<[experts:{E}, expert_capacity:{C}, d_model:{D}], f32>
    %fc2b = mtf.binary add %fc2, %b2
        : (!mtf.tensor<[experts:{E}, expert_capacity:{C}, d_model:{D}], f32>, !mtf.tensor<[experts:{E}, d_model:{D}], f32>)
          -> !mtf.tensor<[experts:{E}, expert_capacity:{C}, d_model:{D}], f32>
    %y = moe.combine %fc2b, %expert, %position, %dropped, %gate
        tokens(tokens) experts(experts) capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[experts:{E}, expert_capacity:{C}, d_model:{D}], f32>,
          !mtf.tensor<[tokens:{T}, choice:2], i32>, !mtf.tensor<[tokens:{T}, choice:2], f32>
          -> !mtf.tensor<[tokens:{T}, d_model:{D}], f32>
    return %y, %expert, %position, %dropped, %gate
        : !mtf.tensor<[tokens:{T}, d_model:{D}], f32>, !mtf.tensor<[tokens:{T}, choice:2], i32>,
          !mtf.tensor<[tokens:{T}, choice:2], i32>, !mtf.tensor<[tokens:{T}, choice:2], i1>,
          !mtf.tensor<[tokens:{T}, choice:2], f32>
  }}
}}
"""


def build(case, seed):
    """The module (random nn.Linear init under `seed`) and its [batch, seq, d_model] input."""
    config = NllbMoeConfig(
        d_model=D_MODEL, num_experts=EXPERTS, expert_capacity=case["capacity"] or 64,
        router_bias=False, router_dtype="float32", router_ignore_padding_tokens=False,
        second_expert_policy="all", batch_prioritized_routing=False,
        normalize_router_prob_before_dropping=False, moe_eval_capacity_token_fraction=-1.0,
        moe_token_dropout=0.0, activation_function="relu", activation_dropout=0.0)
    torch.manual_seed(seed)
    module = NllbMoeSparseMLP(config, D_FF).float().eval()
    if case["capacity"] is None:
        # transformers 5.24's config insists on an int; the router's own
        # fallback for None is NLLB's default 2*ceil(tokens/experts).
        module.router.expert_capacity = None
    g = torch.Generator().manual_seed(seed + 1000)
    x = torch.randn(case["batch"], case["seq"], D_MODEL, generator=g)
    return config, module, x


def reference(module, x):
    """Route with HF's router, run HF's experts, combine as NLLB-MoE defines it."""
    tokens = x.reshape(-1, D_MODEL)
    router = module.router
    top1_kept, combine, logits = router(tokens)  # [T,E] capacity-masked top-1 mask, [T,E] weights
    capacity = router.expert_capacity              # what route_tokens used
    probs = torch.softmax(logits, dim=-1, dtype=torch.float32)

    # Recompute the routing the way docs/dialects.md ("Top-k routing") states it
    # and check it against HF's masks and weights.
    T = tokens.shape[0]
    e1 = torch.argmax(probs, dim=-1)
    e2 = torch.argmax(logits.masked_fill(torch.nn.functional.one_hot(e1, EXPERTS).bool(), float("-inf")), dim=-1)
    m1 = torch.nn.functional.one_hot(e1, EXPERTS)
    m2 = torch.nn.functional.one_hot(e2, EXPERTS)
    loc1 = ((torch.cumsum(m1, 0) - 1) * m1).sum(-1)
    loc2 = ((torch.cumsum(m2, 0) - 1 + m1.sum(0, keepdim=True)) * m2).sum(-1)
    drop1, drop2 = loc1 >= capacity, loc2 >= capacity
    p1 = probs.gather(1, e1[:, None])[:, 0]
    p2 = probs.gather(1, e2[:, None])[:, 0]
    k1, k2 = p1 * ~drop1, p2 * ~drop2
    denom = torch.clamp(k1 + k2, min=torch.finfo(torch.float32).eps)
    g1, g2 = k1 / denom, k2 / denom
    assert torch.equal(top1_kept, m1 * ~drop1[:, None]), "top-1 mask differs from HF's"
    mine = torch.zeros(T, EXPERTS)
    mine.scatter_add_(1, e1[:, None], g1[:, None])
    mine.scatter_add_(1, e2[:, None], g2[:, None])
    assert torch.equal(mine, combine), "combine weights differ from HF's"

    # NLLB-MoE's combine: every expert's output on its kept tokens, weighted.
    kept = (m1 * ~drop1[:, None]) + (m2 * ~drop2[:, None])
    out = torch.zeros_like(tokens)
    for e in range(EXPERTS):
        rows = kept[:, e].nonzero()[:, 0]
        if rows.numel():
            y = module.experts[f"expert_{e}"](tokens[rows]) * combine[rows, e, None]
            out.index_add_(0, rows, y)

    top3 = torch.topk(probs, 3, dim=-1).values
    margin = min((top3[:, 0] - top3[:, 1]).min().item(), (top3[:, 1] - top3[:, 2]).min().item())
    routing = dict(
        expert_index=torch.stack([e1, e2], 1).to(torch.int32),
        position=torch.stack([loc1, loc2], 1).to(torch.int32),
        dropped=torch.stack([drop1, drop2], 1).to(torch.int32),
        gate=torch.stack([g1, g2], 1).float())
    return out, routing, capacity, margin


def run_case(name, case, out_root, seed):
    config, module, x = build(case, seed)
    with torch.no_grad():
        out, routing, capacity, margin = reference(module, x)
        hf_forward = module(x).reshape(-1, D_MODEL)
    if margin < MARGIN:
        return None, f"router margin {margin:.2e}"
    dropped = routing["dropped"].bool()
    counts = dict(first=int(dropped[:, 0].sum()), second=int(dropped[:, 1].sum()),
                  both=int((dropped[:, 0] & dropped[:, 1]).sum()))
    need = case["need"]
    if need.get("none"):
        if any(counts.values()):
            return None, f"drops {counts}"
    for kind in ("first", "second", "both"):
        if need.get(kind) and counts[kind] == 0:
            return None, f"no {kind} drops {counts}"

    T = x.shape[0] * x.shape[1]
    if case["capacity"] is None:
        assert capacity == 2 * math.ceil(T / EXPERTS), capacity
    else:
        assert capacity == case["capacity"], capacity
    hf_diff = (hf_forward - out).abs().max().item()

    d = os.path.join(out_root, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    state = {k: v.detach().float().contiguous() for k, v in module.state_dict().items()}
    save_file(state, os.path.join(d, "model.safetensors"))
    save_file({"hidden_states": x.reshape(T, D_MODEL).contiguous()}, os.path.join(d, "inputs.safetensors"))
    expected = {"hidden_states": out.contiguous()}
    expected.update({k: v.contiguous() for k, v in routing.items()})
    save_file(expected, os.path.join(d, "expected.safetensors"))
    with open(os.path.join(d, "layer.mlir"), "w") as f:
        f.write(LAYER_MLIR.format(T=T, D=D_MODEL, F=D_FF, E=EXPERTS, C=capacity))
    both_tokens = (dropped[:, 0] & dropped[:, 1]).nonzero()[:, 0].tolist()
    with open(os.path.join(d, "README"), "w") as f:
        f.write(case["readme"])
        f.write(
            f"Made by tools/hf_reference/make_top2_layer.py (seed {seed}; transformers {transformers.__version__},\n"
            f"torch {torch.__version__}): NllbMoeSparseMLP(d_model {D_MODEL}, ffn_dim {D_FF}, {EXPERTS} experts), "
            f"top-2, capacity {capacity}.\n"
            f"Drops: {counts['first']} first choices, {counts['second']} second choices, "
            f"{counts['both']} tokens with both dropped{(' (tokens ' + ', '.join(map(str, both_tokens)) + ')') if both_tokens else ''}.\n"
            f"Smallest top1-top2 / top2-top3 router probability gap: {margin:.2e}.\n"
            "expected.hidden_states is HF's router + HF's experts combined as NLLB-MoE defines it\n"
            "(sum over kept choices of gate * expert(x)); see the script's docstring for why not\n"
            f"transformers 5.24's NllbMoeSparseMLP.forward (which differs by up to {hf_diff:.3g} here).\n")
    info = dict(seed=seed, tokens=T, capacity=capacity, dropped=counts, both_dropped_tokens=both_tokens,
                min_router_gap=margin, hf_forward_max_diff=hf_diff)
    return info, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "test", "HF", "layers"))
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    os.makedirs(args.out, exist_ok=True)
    for index, (name, case) in enumerate(CASES.items()):
        if args.only and name not in args.only:
            continue
        for attempt in range(200):
            seed = args.seed + 1000 * index + 17 * attempt  # each case its own weights
            info, why = run_case(name, case, args.out, seed)
            if info is not None:
                break
            print(f"{name}: seed {seed} rejected ({why})", file=sys.stderr)
        else:
            sys.exit(f"{name}: no seed passed the checks")
        print(name, json.dumps(info))
        if info["hf_forward_max_diff"] > 1e-6:
            print(f"    note: transformers' NllbMoeSparseMLP.forward differs from NLLB-MoE's combine by "
                  f"{info['hf_forward_max_diff']:.3g} (NllbMoeExperts one-hot-encodes the top-1 mask; see the docstring)")
        else:
            print("    transformers' NllbMoeSparseMLP.forward agrees with the reference")
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
