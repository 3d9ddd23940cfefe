#!/usr/bin/env python3
"""PyTorch's side of the checkpoint interoperability test.

Debian ships no python safetensors package, so this script reads and writes the format itself, the way
the reference implementation lays it out: 8 bytes of little-endian header length, a JSON header
({"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}), then the raw little-endian data.

  safetensors_torch.py write OUT.safetensors SIDECAR.json
      Saves the state_dict of a small seeded torch module (Conv2d, BatchNorm2d, Linear) with the linear
      weight as BF16 and its bias as F16, plus tensors of special F16/BF16 values. The sidecar lists every
      tensor's dtype, shape and values as float32 bit patterns (exact, NaN included) for Raven to compare.

  safetensors_torch.py check RAVEN.safetensors REFERENCE.safetensors
      Loads a checkpoint that Raven derived from REFERENCE (every float parameter p became 2*p + 1 in
      float32, "3.weight" stored by Raven as BF16 and "3.bias" as F16, optimizer state exp_avg = p / 2),
      loads the parameters into the same module with load_state_dict(strict=True) and checks every value
      bit for bit against the same arithmetic and rounding done by torch. Exit status 0 means it matched.
"""
import json
import struct
import sys

import torch

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
NAMES = {dtype: name for name, dtype in DTYPES.items()}


def make_module():
    torch.manual_seed(7)
    module = torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, kernel_size=3),   # 0.weight [3, 1, 3, 3], 0.bias [3]
        torch.nn.BatchNorm2d(3),                # 1.weight, 1.bias, 1.running_mean, 1.running_var, 1.num_batches_tracked (I64)
        torch.nn.Flatten(),
        torch.nn.Linear(3 * 4 * 4, 5),          # 3.weight [5, 48], 3.bias [5]
    )
    # One training-mode pass so that the BatchNorm buffers hold something other than their defaults.
    module.train()
    module(torch.randn(4, 1, 6, 6))
    return module


def tensor_bytes(tensor):
    return tensor.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def save(path, tensors, metadata=None):
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name, tensor in tensors.items():  # insertion order: a valid layout different from Raven's
        blob = tensor_bytes(tensor)
        header[name] = {"dtype": NAMES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for blob in blobs:
            out.write(blob)


def load(path):
    with open(path, "rb") as source:
        contents = source.read()
    (length,) = struct.unpack("<Q", contents[:8])
    assert 8 + length <= len(contents), "header length beyond the file"
    header = json.loads(contents[8:8 + length].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    data = contents[8 + length:]
    tensors = {}
    covered = 0
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
        begin, end = info["data_offsets"]
        assert begin == covered, f"{name}: begins at {begin}, previous tensor ended at {covered}"
        covered = end
        dtype = DTYPES[info["dtype"]]
        raw = bytearray(data[begin:end])
        flat = torch.frombuffer(raw, dtype=torch.uint8).view(dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(info["shape"]).clone()
    assert covered == len(data), f"tensors cover {covered} of {len(data)} data bytes"
    return tensors, metadata


def float_bits(tensor):
    return tensor.detach().float().reshape(-1).view(torch.int32).tolist()


def write(out_path, sidecar_path):
    state = make_module().state_dict()
    state["3.weight"] = state["3.weight"].to(torch.bfloat16)
    state["3.bias"] = state["3.bias"].to(torch.float16)
    specials = [float("inf"), float("-inf"), float("nan"), -0.0, 65504.0, 2.0 ** -24, 2.0 ** -14, -1.5, 1e-8]
    state["specials.f16"] = torch.tensor(specials, dtype=torch.float16)
    state["specials.bf16"] = torch.tensor(specials + [3e38], dtype=torch.bfloat16)
    state["empty"] = torch.zeros(0, 4)
    save(out_path, state, {"format": "pt"})
    sidecar = {name: {"dtype": NAMES[t.dtype], "shape": list(t.shape), "bits": float_bits(t)}
               for name, t in state.items()}
    with open(sidecar_path, "w") as out:
        json.dump(sidecar, out)


def check(raven_path, reference_path):
    reference, _ = load(reference_path)
    tensors, metadata = load(raven_path)
    problems = []
    if metadata.get("format") != "raven-checkpoint" or metadata.get("version") != "1":
        problems.append(f"unexpected metadata {metadata}")
    json.loads(metadata["spec"])
    json.loads(metadata["optimizer"])

    prefix = "optimizer.state."
    params = {k: v for k, v in tensors.items() if not k.startswith(prefix)}
    state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    storage = {"3.weight": torch.bfloat16, "3.bias": torch.float16}

    module = make_module()
    expected, expected_state = {}, {}
    for name, ref in module.state_dict().items():
        ref = reference[name]
        if ref.is_floating_point():
            derived = ref.float() * 2 + 1
            expected[name] = derived.to(storage.get(name, torch.float32))
            expected_state[name + ".exp_avg"] = derived * 0.5
        else:
            expected[name] = ref
    for got_all, want_all in ((params, expected), (state, expected_state)):
        if sorted(got_all) != sorted(want_all):
            problems.append(f"names {sorted(got_all)} instead of {sorted(want_all)}")
            continue
        for name, want in want_all.items():
            got = got_all[name]
            if got.dtype != want.dtype or list(got.shape) != list(want.shape):
                problems.append(f"{name}: {got.dtype}{list(got.shape)} instead of {want.dtype}{list(want.shape)}")
            elif float_bits(got) != float_bits(want):
                problems.append(f"{name}: values differ")

    try:
        module.load_state_dict(params, strict=True)  # copy_ widens the BF16/F16 tensors
    except RuntimeError as error:
        problems.append(f"load_state_dict failed: {error}")
    twin = make_module()
    twin.load_state_dict(expected, strict=True)
    module.eval()
    twin.eval()
    x = torch.randn(2, 1, 6, 6, generator=torch.Generator().manual_seed(3))
    if not torch.equal(module(x), twin(x)):
        problems.append("the loaded module computes something else than torch's twin")

    for problem in problems:
        print(problem)
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("write", "check"):
        sys.exit(__doc__)
    sys.exit(write(sys.argv[2], sys.argv[3]) if sys.argv[1] == "write" else check(sys.argv[2], sys.argv[3]))
