#!/usr/bin/env python3
"""How far bf16 moves the test models' outputs from float32 (docs/precision.md).

For every model under test/HF/data, compares with transformers' float32
outputs (expected.safetensors):
  - Switchyard compiled with --precision bf16 (selective precision, float32
    router), on one device and on the mesh b:2,e:2,m:2;
  - transformers' own model cast to bfloat16 (model.to(torch.bfloat16)).
Prints the largest difference relative to max(1, largest |expected|) of the
logits, hidden states and router logits, of the losses (router losses,
cross-entropy and total loss with the test labels), and how many expert
choices and drops differ.

Run:  python3 tools/hf_reference/bf16_drift.py [--switchyard build/bin/switchyard]
"""

import argparse
import os
import subprocess
import tempfile

import numpy as np
import torch
from safetensors.numpy import load_file
from transformers import AutoModelForSeq2SeqLM

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(REPO, "test", "HF", "data")
MESHES = [("one device", []),
          ("b:2,e:2,m:2", ["--mesh", "b:2,e:2,m:2", "--layout", "batch:b;experts:e;d_ff:m"])]


def drift(expected, got):
    """(values, losses, discrete mismatches) of `got` against `expected`."""
    values = losses = 0.0
    mismatches = 0
    for name, want in expected.items():
        if name.startswith("greedy") or name not in got:
            continue
        a, b = want.astype(np.float64), got[name].astype(np.float64)
        if want.dtype.kind in "ib":
            mismatches += int((a != b).sum())
            continue
        rel = np.abs(a - b).max() / max(np.abs(a).max(), 1.0)
        if "_loss" in name or name in ("loss", "cross_entropy"):
            losses = max(losses, rel)
        else:
            values = max(values, rel)
    return values, losses, mismatches


def switchyard_bf16(switchyard, model_dir, inputs, mesh_args, work):
    batch, length = inputs["input_ids"].shape
    target = inputs["decoder_input_ids"].shape[1]
    exe, out = os.path.join(work, "m.syx"), os.path.join(work, "out.safetensors")
    subprocess.run([switchyard, "compile", model_dir, "--batch", str(batch), "--length", str(length),
                    "--target-length", str(target), "--labels", "--precision", "bf16", "-o", exe] + mesh_args,
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([switchyard, "run", exe, "--weights", os.path.join(model_dir, "model.safetensors"),
                    "--input", os.path.join(model_dir, "inputs.safetensors"), "--output", out],
                   check=True, stdout=subprocess.DEVNULL)
    return load_file(out)


def transformers_bf16(model_dir, inputs):
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).eval().to(torch.bfloat16)
    ids = {k: torch.from_numpy(v.astype(np.int64)) for k, v in inputs.items()}
    with torch.no_grad():
        out = model(**ids)
    return {"logits": out.logits.float().numpy(),
            "encoder_last_hidden_state": out.encoder_last_hidden_state.float().numpy()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switchyard", default=os.path.join(REPO, "build", "bin", "switchyard"))
    args = parser.parse_args()
    print(f"{'model':30} {'run':22} {'values':>8} {'losses':>8} {'choices/drops differing':>24}")
    with tempfile.TemporaryDirectory() as work:
        for model in sorted(os.listdir(DATA)):
            model_dir = os.path.join(DATA, model)
            if not os.path.isdir(model_dir):
                continue
            expected = load_file(os.path.join(model_dir, "expected.safetensors"))
            inputs = load_file(os.path.join(model_dir, "inputs.safetensors"))
            for mesh, mesh_args in MESHES:
                v, l, m = drift(expected, switchyard_bf16(args.switchyard, model_dir, inputs, mesh_args, work))
                print(f"{model:30} {'switchyard ' + mesh:22} {v:8.2e} {l:8.2e} {m:24d}")
            v, _, _ = drift(expected, transformers_bf16(model_dir, inputs))
            print(f"{model:30} {'transformers bf16':22} {v:8.2e} {'':>8} {'':>24}")


if __name__ == "__main__":
    main()
