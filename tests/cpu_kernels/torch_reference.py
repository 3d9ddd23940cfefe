#!/usr/bin/env python3
"""Reference values for the CPU kernel tests (tst_torch_reference.cpp), from torch.nn.functional in float64.

Usage: torch_reference.py DIR. DIR/manifest.json lists cases: {"name", "op", "params", "inputs": {name:
{"shape": [...], "dtype": "float32" | "int64"}}}; each input lies raw in DIR/<case>.<input>.bin. For every
case this writes each output (forward results and gradients, given the upstream gradient input "dy") as
raw float64 to DIR/<case>.ref.<output>.bin. Exits with 77 when torch is missing (the test then skips).
"""
import json
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as error:
    print(f"torch_reference.py: {error}", file=sys.stderr)
    sys.exit(77)


NOT_DIFFERENTIATED = {"dy", "running_mean", "running_var"}


def load(directory, case, name, spec):
    dtype = {"float32": np.float32, "int64": np.int64}[spec["dtype"]]
    data = np.fromfile(os.path.join(directory, f"{case}.{name}.bin"), dtype=dtype).reshape(spec["shape"])
    tensor = torch.from_numpy(data.copy())
    if dtype != np.float32:
        return tensor
    return tensor.to(torch.float64).requires_grad_(name not in NOT_DIFFERENTIATED)


def grads(output, dy, **named):
    output.backward(dy)
    result = {"y": output}
    for name, tensor in named.items():
        if tensor is not None and tensor.requires_grad:
            result[name] = tensor.grad
    return result


def conv2d(t, p):
    y = F.conv2d(t["x"], t["weight"], t.get("bias"), stride=p["stride"], padding=p["padding"],
                 dilation=p["dilation"], groups=p["groups"])
    return grads(y, t["dy"], dx=t["x"], dweight=t["weight"], dbias=t.get("bias"))


def max_pool2d(t, p):
    y, indices = F.max_pool2d(t["x"], p["kernel"], p["stride"], p["padding"], return_indices=True)
    result = grads(y, t["dy"], dx=t["x"])
    result["argmax"] = indices
    return result


def avg_pool2d(t, p):
    y = F.avg_pool2d(t["x"], p["kernel"], p["stride"], p["padding"], count_include_pad=p["count_include_pad"])
    return grads(y, t["dy"], dx=t["x"])


def layer_norm(t, p):
    y = F.layer_norm(t["x"], p["normalized_shape"], t.get("weight"), t.get("bias"), p["eps"])
    return grads(y, t["dy"], dx=t["x"], dweight=t.get("weight"), dbias=t.get("bias"))


def batch_norm(t, p):
    running_mean = t["running_mean"].detach().clone()
    running_var = t["running_var"].detach().clone()
    y = F.batch_norm(t["x"], running_mean, running_var, t.get("weight"), t.get("bias"), p["training"],
                     p["momentum"], p["eps"])
    result = grads(y, t["dy"], dx=t["x"], dweight=t.get("weight"), dbias=t.get("bias"))
    result["running_mean"] = running_mean
    result["running_var"] = running_var
    return result


def embedding(t, p):
    padding = p["padding_idx"] if p["padding_idx"] >= 0 else None
    y = F.embedding(t["indices"], t["weight"], padding_idx=padding)
    return grads(y, t["dy"], dweight=t["weight"])


def attention(t, p):
    # torch 1.13 has no F.scaled_dot_product_attention: this is its definition (is_causal aligned top left).
    q, k, v = t["q"], t["k"], t["v"]
    scores = q @ k.transpose(-2, -1) * p["scale"]
    if p["causal"]:
        visible = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
        scores = scores.masked_fill(~visible, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    result = grads(probs @ v, t["dy"], dq=q, dk=k, dv=v)
    result["probs"] = probs
    return result


OPS = {f.__name__: f for f in (conv2d, max_pool2d, avg_pool2d, layer_norm, batch_norm, embedding, attention)}


def main():
    directory = sys.argv[1]
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    for case in manifest["cases"]:
        tensors = {name: load(directory, case["name"], name, spec) for name, spec in case["inputs"].items()}
        for name, value in OPS[case["op"]](tensors, case["params"]).items():
            value.detach().to(torch.float64).numpy().tofile(os.path.join(directory, f"{case['name']}.ref.{name}.bin"))


if __name__ == "__main__":
    main()
