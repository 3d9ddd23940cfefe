#!/usr/bin/env python3
"""`raven grad` against PyTorch on the shipped examples (issue 9, item 8).

For each example spec: PyTorch builds the equivalent module (tests/nn/torch_models.py), draws its own
initial weights (seeded) and a random batch, and computes the loss and every parameter's gradient; the
same weights and batch go through `raven grad`. Every gradient must agree to a relative error of 1e-4
(max |raven - torch| / max |torch|), and the loss too.

usage: grad_vs_torch.py RAVEN SOURCE_DIR WORK_DIR
"""
import json
import os
import subprocess
import sys

import torch

src = sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "nn"))
import torch_models  # noqa: E402

raven, work = sys.argv[1], sys.argv[3]
torch.manual_seed(0)
worst_overall = 0.0
failures = []

for example, batch in (("mlp", 16), ("cnn", 8), ("transformer", 4)):
    spec_path = os.path.join(src, "examples", example + ".json")
    spec = json.load(open(spec_path))
    model = torch_models.build(spec)
    # Perturb the buffers/weights a little beyond the default init so nothing is trivially zero.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    shape = spec["input"]["shape"]
    if example == "transformer":
        vocab = next(l["num_embeddings"] for l in spec["layers"] if l["kind"] == "embedding")
        x = torch.randint(0, vocab, [batch] + shape).float()
        y = torch.randint(0, vocab, [batch] + shape).float()
    else:
        x = torch.randn([batch] + shape)
        y = torch.randint(0, 10, [batch]).float()
    weights = os.path.join(work, example + ".weights.safetensors")
    inputs = os.path.join(work, example + ".inputs.safetensors")
    torch_models.write_safetensors(weights, dict(model.state_dict()))
    torch_models.write_safetensors(inputs, {"x": x, "y": y})

    ref_path = os.path.join(work, example + ".torch.safetensors")
    torch_models.run(spec_path, weights, inputs, ref_path)
    ref = torch_models.read_safetensors(ref_path)

    out = os.path.join(work, example + ".raven.safetensors")
    subprocess.run([raven, "grad", "--model", spec_path, "--weights", weights, "--inputs", inputs, "--out", out],
                   check=True)
    ours = torch_models.read_safetensors(out)

    def rel(a, b):
        scale = b.abs().max().item()
        return (a - b).abs().max().item() / (scale if scale > 0 else 1.0)

    errors = {"loss": rel(ours["loss"].reshape([]), ref["loss"].reshape([]))}
    for name, _ in model.named_parameters():
        if name not in ours:
            failures.append(f"{example}: raven grad wrote no gradient for {name}")
            continue
        errors[name] = rel(ours[name], ref["grad." + name].reshape(ours[name].shape))
    worst_name = max(errors, key=errors.get)
    worst_overall = max(worst_overall, errors[worst_name])
    print(f"{example}: loss raven {ours['loss'].item():.6f} torch {ref['loss'].item():.6f}; "
          f"{len(errors) - 1} gradients, worst relative error {errors[worst_name]:.2e} ({worst_name})")
    failures += [f"{example}: {n} relative error {e:.2e} > 1e-4" for n, e in errors.items() if e > 1e-4]

if failures:
    print("FAIL:\n  " + "\n  ".join(failures))
    sys.exit(1)
print(f"PASS (worst relative error {worst_overall:.2e})")
