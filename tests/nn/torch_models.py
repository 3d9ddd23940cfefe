#!/usr/bin/env python3
"""PyTorch peer of Raven's model specs (docs/model-spec.md) for the nn tests.

Builds, from a spec JSON, the torch module a PyTorch user would write for it: each layer is a
submodule named by its "name" (residual blocks hold their layers as submodules), so state_dict names
are Raven's parameter names.

  torch_models.py describe SPEC...         -> JSON {SPEC: {"parameters": [[name, shape]...], "buffers": [...], "count": n}}
  torch_models.py run SPEC WEIGHTS INPUTS OUT
      WEIGHTS: safetensors with every parameter and buffer; INPUTS: safetensors with "x" and "y".
      Writes OUT: "logits", "loss" and "grad.<parameter>" for every parameter (training mode).
  torch_models.py batch JOBS   runs every "run" job of the JSON file JOBS (a list of [SPEC, WEIGHTS, INPUTS, OUT])
      in one interpreter start.
"""
import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=torch.float32) if e > b else torch.zeros(0)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        b = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def pair(v):
    return tuple(v) if isinstance(v, list) else (v, v)


class PositionalEmbedding(nn.Module):
    def __init__(self, max_length, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(max_length, dim))

    def forward(self, x):
        return x + self.weight[: x.shape[1]]


class Embedding(nn.Embedding):
    def forward(self, x):
        return super().forward(x.long())


class SelfAttention(nn.MultiheadAttention):
    def __init__(self, dim, heads, causal, bias):
        super().__init__(dim, heads, bias=bias, batch_first=True)
        self.causal = causal

    def forward(self, x):
        t = x.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf")), 1) if self.causal else None
        return super().forward(x, x, x, attn_mask=mask, need_weights=False)[0]


class Residual(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.order = [name for name, _ in layers]
        for name, module in layers:
            self.add_module(name, module)

    def forward(self, x):
        h = x
        for name in self.order:
            h = getattr(self, name)(h)
        return x + h


class Sequence(Residual):
    def forward(self, x):
        for name in self.order:
            x = getattr(self, name)(x)
        return x


class Reshape(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape([x.shape[0]] + self.shape)


def build_layers(layers, shape):
    built = []
    for layer in layers:
        kind, f = layer["kind"], layer
        if kind == "linear":
            m = nn.Linear(shape[-1], f["out"], bias=f.get("bias", True))
            shape = shape[:-1] + [f["out"]]
        elif kind in ("relu", "tanh", "sigmoid"):
            m = {"relu": nn.ReLU(), "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid()}[kind]
        elif kind == "gelu":
            m = nn.GELU(approximate=f.get("approximate", "none"))
        elif kind == "softmax":
            m = nn.Softmax(dim=-1)
        elif kind == "flatten":
            m = nn.Flatten()
            shape = [math.prod(shape)]
        elif kind == "reshape":
            m = Reshape(f["shape"])
            shape = list(torch.empty([1] + shape).reshape([1] + f["shape"]).shape[1:])
        elif kind == "dropout":
            m = nn.Dropout(f.get("p", 0.5))
        elif kind == "conv2d":
            k, s, p, d = pair(f["kernel_size"]), pair(f.get("stride", 1)), pair(f.get("padding", 0)), pair(f.get("dilation", 1))
            m = nn.Conv2d(shape[0], f["out_channels"], k, s, p, d, f.get("groups", 1), f.get("bias", True))
            oh = (shape[1] + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
            ow = (shape[2] + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
            shape = [f["out_channels"], oh, ow]
        elif kind in ("max_pool2d", "avg_pool2d"):
            k = pair(f["kernel_size"])
            s, p = pair(f.get("stride", list(k))), pair(f.get("padding", 0))
            m = nn.MaxPool2d(k, s, p) if kind == "max_pool2d" else nn.AvgPool2d(k, s, p, count_include_pad=f.get("count_include_pad", True))
            shape = [shape[0], (shape[1] + 2 * p[0] - k[0]) // s[0] + 1, (shape[2] + 2 * p[1] - k[1]) // s[1] + 1]
        elif kind == "layer_norm":
            m = nn.LayerNorm(shape[-1], eps=f.get("eps", 1e-5), elementwise_affine=f.get("elementwise_affine", True))
        elif kind == "batch_norm":
            cls = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
            m = cls(shape[0], eps=f.get("eps", 1e-5), momentum=f.get("momentum", 0.1), affine=f.get("affine", True))
        elif kind == "embedding":
            m = Embedding(f["num_embeddings"], f["dim"])
            shape = shape + [f["dim"]]
        elif kind == "positional_embedding":
            m = PositionalEmbedding(f["max_length"], shape[-1])
        elif kind == "self_attention":
            m = SelfAttention(shape[-1], f["heads"], f.get("causal", True), f.get("bias", True))
        elif kind == "residual":
            inner, inner_shape = build_layers(f["layers"], shape)
            assert inner_shape == shape
            m = Residual(inner)
        else:
            raise SystemExit("unknown kind " + kind)
        built.append((layer["name"], m))
    return built, shape


def build(spec):
    layers, _ = build_layers(spec["layers"], list(spec["input"]["shape"]))
    return Sequence(layers)


def run(spec_path, weights_path, inputs_path, out_path):
    spec = json.load(open(spec_path))
    model = build(spec)
    weights, inputs = read_safetensors(weights_path), read_safetensors(inputs_path)
    state = model.state_dict()
    for name in state:
        state[name] = weights[name].reshape(state[name].shape).to(state[name].dtype)
    model.load_state_dict(state)
    model.train()
    logits = model(inputs["x"])
    loss_spec = spec.get("loss", {})
    if loss_spec.get("kind", "cross_entropy") == "mse":
        loss = F.mse_loss(logits, inputs["y"])
    else:
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), inputs["y"].reshape(-1).long(),
                               label_smoothing=loss_spec.get("label_smoothing", 0.0))
    loss.backward()
    out = {"logits": logits, "loss": loss.reshape([])}
    for n, p in model.named_parameters():
        out["grad." + n] = p.grad
    write_safetensors(out_path, out)


def main():
    torch.manual_seed(0)
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "describe":
        out = {}
        for path in args:
            model = build(json.load(open(path)))
            out[path] = {
                "parameters": [[n, list(p.shape)] for n, p in model.named_parameters()],
                "buffers": [[n, list(b.shape)] for n, b in model.named_buffers()],
                "count": sum(p.numel() for p in model.parameters()),
            }
        print(json.dumps(out))
    elif mode == "run":
        run(*args[:4])
    elif mode == "batch":
        for job in json.load(open(args[0])):
            run(*job)
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
