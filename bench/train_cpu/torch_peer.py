#!/usr/bin/python3
"""The PyTorch peer of raven-bench-train-cpu: the same models, data, batch and optimizer, measured alike.

    torch_peer.py --what mlp|cnn|gemm [--data DIR] [--threads N] [--steps S] [--windows W] [--warmup N] [--smoke]

PyTorch as a user runs it: eager mode, torch.optim.Adam (lr 1e-3), nn.CrossEntropyLoss, batch 128, with
torch.set_num_threads(N). Each step gathers a batch from a seeded permutation of the raw Fashion-MNIST
pixels (kept as float32, as Raven keeps them), normalizes it with the training split's mean and std,
then zero_grad, forward, loss, backward, step. Timing: `warmup` steps, then `windows` windows of `steps`
steps; the best window and the median are reported. gemm: torch.mm of two 2048x2048 matrices, best run.

Which BLAS torch's matrix products use is read from /proc/self/maps after a product (the library that
is really loaded; Debian's torch links libblas.so.3, which the alternatives system points at OpenBLAS
or at the netlib reference). The reference BLAS is about 40 times slower than OpenBLAS: a comparison
against it says nothing, so this script refuses to run there (exit status 3; install libopenblas0).

Prints one line: RESULT {json}, which run.sh reads. One measurement per process, so that the peak
resident set (VmHWM) belongs to it.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--what", required=True, choices=["mlp", "cnn", "gemm"])
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--threads", type=int, default=0, help="0: os.cpu_count()")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--windows", type=int, default=5)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--gemm-size", type=int, default=2048)
    p.add_argument("--smoke", action="store_true", help="a few steps, to check that everything runs")
    a = p.parse_args()
    if a.smoke:
        a.steps, a.windows, a.warmup, a.gemm_size = 3, 2, 1, 256
    return a


def status_mib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def loaded_blas():
    """(description, is_reference) of the BLAS library mapped into this process."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # make sure the BLAS is loaded and used
    paths = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path)
            if name.startswith(("libblas", "libopenblas", "libmkl", "libblis", "libcblas")):
                paths.add(os.path.realpath(path))
    if not paths:
        return "unknown (no BLAS library mapped)", False
    desc = ", ".join(sorted(paths))
    openblas = any("openblas" in p for p in paths)
    reference = not openblas and any(
        os.path.basename(os.path.dirname(p)) == "blas" or "netlib" in p or "refblas" in p for p in paths)
    if openblas:
        core = os.environ.get("OPENBLAS_CORETYPE")
        desc = "OpenBLAS (" + desc + (", OPENBLAS_CORETYPE=" + core if core else "") + ")"
    elif reference:
        desc = "netlib reference BLAS (" + desc + ")"
    return desc, reference


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    _, _, dtype, rank = struct.unpack(">BBBB", data[:4])
    if dtype != 0x08:
        raise SystemExit(f"torch_peer.py: {path}: element type 0x{dtype:02x}, expected unsigned bytes (0x08)")
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def find_file(directory, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise SystemExit(f"torch_peer.py: {stem}[.gz] not found in {directory}")


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def train_gemm_flops_per_sample(model):
    """GEMM FLOPs of one training sample: 3x the forward multiply-adds (x2), less the first layer's input
    gradient, which nothing computes. The count raven-bench-train-cpu uses (bias and ReLU aside)."""
    flops, first, shape = [], None, (1, 1, 28, 28)
    x = torch.zeros(shape)
    for layer in model:
        y = layer(x)
        if isinstance(layer, nn.Linear):
            f = 2.0 * layer.in_features * layer.out_features
        elif isinstance(layer, nn.Conv2d):
            f = 2.0 * y[0].numel() * layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1] / layer.groups
        else:
            f = 0.0
        if f and first is None:
            first = f
        flops.append(f)
        x = y
    return 3.0 * sum(flops) - (first or 0.0)


def run_gemm(a):
    n = a.gemm_size
    g = torch.Generator().manual_seed(7)
    x, y = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    torch.mm(x, y)
    rates = []
    for _ in range(2 if a.smoke else 7):
        t0 = time.perf_counter()
        torch.mm(x, y)
        rates.append(2.0 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    return {"size": n, "gflops": max(rates), "gflops_median": float(np.median(rates)), "gflops_runs": rates}


def run_training(a):
    images = read_idx(find_file(a.data, "train-images-idx3-ubyte"))
    labels = read_idx(find_file(a.data, "train-labels-idx1-ubyte"))
    x_all = torch.from_numpy(images.astype(np.float32)).reshape(-1, 1, 28, 28)  # raw pixels, as Raven keeps them
    y_all = torch.from_numpy(labels.astype(np.int64))
    mean, std = x_all.mean().item(), x_all.std().item()
    n = x_all.shape[0]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(1))

    torch.manual_seed(1)
    model = mlp() if a.what == "mlp" else cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    cursor = 0
    rss_before = status_mib("VmRSS")

    def step():
        nonlocal cursor
        if cursor + a.batch > n:
            cursor = 0
        idx = order[cursor:cursor + a.batch]
        cursor += a.batch
        x = (x_all.index_select(0, idx) - mean) / std
        y = y_all.index_select(0, idx)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    last = 0.0
    for _ in range(a.warmup):
        last = step().item()
    rates = []
    for _ in range(a.windows):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            loss = step()
        last = loss.item()
        rates.append(a.steps * a.batch / (time.perf_counter() - t0))
    return {"model": "fashion-mnist-" + a.what, "batch": a.batch, "steps": a.steps, "samples_per_s": max(rates),
            "samples_per_s_median": float(np.median(rates)), "samples_per_s_runs": rates,
            "train_gemm_flops_per_sample": train_gemm_flops_per_sample(model),
            "parameters": sum(p.numel() for p in model.parameters()), "last_loss": last,
            "rss_before_training_mib": rss_before}


def main():
    a = parse_args()
    torch.set_num_threads(a.threads if a.threads > 0 else (os.cpu_count() or 1))
    blas, reference = loaded_blas()
    if reference:
        print(f"torch_peer.py: PyTorch uses the {blas}: about 3.6 GFLOP/s on these machines, so a comparison "
              "would say nothing.\ntorch_peer.py: install an optimized BLAS (apt-get install libopenblas0) and "
              "check `update-alternatives --display libblas.so.3-x86_64-linux-gnu`.", file=sys.stderr)
        return 3
    result = {"framework": "pytorch " + torch.__version__, "what": a.what, "threads": torch.get_num_threads(),
              "gemm": blas, "mkldnn": torch.backends.mkldnn.is_available(),
              "cpu_capability": torch.backends.cpu.get_cpu_capability()
              if hasattr(torch.backends, "cpu") and hasattr(torch.backends.cpu, "get_cpu_capability") else None}
    result.update(run_gemm(a) if a.what == "gemm" else run_training(a))
    result["peak_rss_mib"] = status_mib("VmHWM")
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
