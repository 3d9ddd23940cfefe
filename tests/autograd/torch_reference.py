#!/usr/bin/env python3
"""Recompute Raven's op cases with PyTorch (float64) and report the relative error of each.

Usage: torch_reference.py DIR
DIR holds manifest.json (written by test_autograd_torch) and the raw little-endian float32 files it
names. For every case the expression `torch` is evaluated over x = [inputs as float64 tensors with
requires_grad], the output is compared with Raven's, then backward(upstream) gives every input's
gradient, compared with Raven's. The error of a tensor is max|raven - torch| / max(max|torch|, 1e-30)
(relative to the tensor's scale, so elements near zero do not dominate). Expressions may also call
attention(q, k, v, causal, scale), defined below.
Prints one JSON object {case: {"output": err, "grads": [err, ...]}} on stdout.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F  # noqa: F401  (used by the expressions)


def attention(q, k, v, causal=False, scale=0.0):
    """softmax(scale q k^T + mask) v in float64, Raven's scaledDotProductAttention (PyTorch 1.13 has no
    F.scaled_dot_product_attention). The causal mask is aligned at the top left: query i sees keys 0..i."""
    scale = scale if scale > 0 else q.shape[-1] ** -0.5
    scores = torch.matmul(q, k.transpose(-2, -1)) * scale
    if causal:
        hidden = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).triu(1)
        scores = scores.masked_fill(hidden, float("-inf"))
    return torch.matmul(torch.softmax(scores, dim=-1), v)


def load(directory, entry):
    data = np.fromfile(os.path.join(directory, entry["file"]), dtype="<f4")
    return torch.from_numpy(data.astype(np.float64)).reshape(entry["shape"])


def relative_error(raven, reference):
    scale = max(reference.abs().max().item() if reference.numel() else 0.0, 1e-30)
    if raven.shape != reference.shape:
        return float("inf")
    if reference.numel() == 0:
        return 0.0
    return (raven - reference).abs().max().item() / scale


def main():
    directory = sys.argv[1]
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    results = {}
    for case in manifest["cases"]:
        x = [load(directory, e).requires_grad_(True) for e in case["inputs"]]
        out = eval(case["torch"], {"torch": torch, "F": F, "x": x, "attention": attention})  # expressions come from our own test
        out.backward(load(directory, case["upstream"]))
        grads = []
        for tensor, entry in zip(x, case["grads"]):
            reference = tensor.grad if tensor.grad is not None else torch.zeros_like(tensor)
            grads.append(relative_error(load(directory, entry), reference))
        results[case["name"]] = {
            "output": relative_error(load(directory, case["output"]), out.detach()),
            "grads": grads,
        }
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
