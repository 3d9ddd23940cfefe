#!/usr/bin/env python3
"""PyTorch on CUDA, measured as raven-bench-vulkan measures the Vulkan backend (bench/vulkan/main.cpp).

    torch_peer.py [--what gemm,elementwise,train] [--smoke] [--seconds S]

Same sizes, same warm-up and timed windows ended by a sync (torch.cuda.synchronize), best window.
  gemm:        a @ b in fp32 with TF32 OFF (torch.backends.cuda.matmul.allow_tf32 = False), TFLOP/s.
  elementwise: add, mul, gelu (erf) out of place, copy (dst.copy_(src)) and torch.optim.Adam's step
               (fused=True where this PyTorch has it, else foreach) on 2^26 floats, GB/s with the same
               byte counts as ours.
  train:       the Fashion-MNIST MLP and CNN at batch 128, eager, Adam(lr=1e-3), cross-entropy; each
               step copies a host batch to the GPU and reads the loss (loss.item()), steps/s.
Prints `DEVICE ...` and `RESULT {json}` lines like the program. Exits 3 when torch has no CUDA device.
"""
import argparse
import json
import math
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--what", default="gemm,elementwise,train")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--shapes", default="", help="MxNxK,... instead of the gemm benchmark's own")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("torch_peer.py: no torch in this Python", file=sys.stderr)
        return 3
    if not torch.cuda.is_available():
        print("torch_peer.py: torch %s has no CUDA device" % torch.__version__, file=sys.stderr)
        return 3
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    seconds = 0.02 if args.smoke else args.seconds
    windows = 1 if args.smoke else 3
    print("DEVICE %s (torch %s, CUDA %s)" % (torch.cuda.get_device_name(0), torch.__version__, torch.version.cuda))
    sys.stdout.flush()

    def result(bench, case, value, unit, **extra):
        row = {"bench": bench, "case": case, "value": value, "unit": unit}
        row.update(extra)
        print("RESULT " + json.dumps(row))
        sys.stdout.flush()

    def time_best(work, warmup=2):
        for _ in range(warmup):
            work()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        work()
        torch.cuda.synchronize()
        once = time.perf_counter() - t0
        reps = int(min(max(seconds / max(once, 1e-6), 1), 1000))
        best = once
        for _ in range(windows):
            t0 = time.perf_counter()
            for _ in range(reps):
                work()
            torch.cuda.synchronize()
            best = min(best, (time.perf_counter() - t0) / reps)
        return best

    what = args.what.split(",")
    gen = torch.Generator(device=dev)
    gen.manual_seed(1)

    if "gemm" in what:
        cases = [(1024, 1024, 1024), (4096, 4096, 4096), (8192, 8192, 8192), (4096, 512, 14336)]
        if args.smoke:
            cases = [(64, 64, 64), (128, 128, 128), (96, 32, 160)]
        if args.shapes:
            cases = [tuple(int(x) for x in shape.split("x")) for shape in args.shapes.split(",")]
        for m, n, k in cases:
            a = torch.rand(m, k, device=dev, generator=gen) * 2 - 1
            b = torch.rand(k, n, device=dev, generator=gen) * 2 - 1
            s = time_best(lambda: a @ b)
            result("gemm", "%dx%dx%d" % (m, n, k), 2.0 * m * n * k / s * 1e-12, "TFLOP/s", ms=s * 1e3)

    if "elementwise" in what:
        n = (1 << 18) if args.smoke else (1 << 26)
        nbytes = 4.0 * n
        a = torch.rand(n, device=dev, generator=gen)
        b = torch.rand(n, device=dev, generator=gen)
        dst = torch.empty_like(a)
        s = time_best(lambda: dst.copy_(a))
        result("elementwise", "copy", 2 * nbytes / s * 1e-9, "GB/s", n=n, note="dst.copy_(src)")
        for name, accesses, work in [
            ("add", 3, lambda: a + b),
            ("mul", 3, lambda: a * b),
            ("gelu", 2, lambda: torch.nn.functional.gelu(a)),
        ]:
            s = time_best(work)
            result("elementwise", name, accesses * nbytes / s * 1e-9, "GB/s", n=n)
        p = torch.nn.Parameter(torch.rand(n, device=dev, generator=gen))
        p.grad = torch.rand(n, device=dev, generator=gen)
        try:
            opt = torch.optim.Adam([p], lr=1e-3, fused=True)
            kind = "fused"
        except (TypeError, RuntimeError):
            opt = torch.optim.Adam([p], lr=1e-3, foreach=True)
            kind = "foreach"
        s = time_best(opt.step)
        result("elementwise", "adam update", 7 * nbytes / s * 1e-9, "GB/s", n=n, note="torch.optim.Adam " + kind)

    if "train" in what:
        import torch.nn as nn
        batch = 16 if args.smoke else 128
        models = {
            "mlp": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                                          nn.Linear(128, 10)), (batch, 784)),
            "cnn": (lambda: nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                          nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10)),
                    (batch, 1, 28, 28)),
        }
        for name, (make, shape) in models.items():
            torch.manual_seed(3)
            model = make().to(dev)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            loss_fn = nn.CrossEntropyLoss()
            inputs = [torch.rand(shape) for _ in range(4)]
            targets = [torch.randint(0, 10, (batch,)) for _ in range(4)]
            state = {"i": 0, "loss": 0.0}

            def step():
                i = state["i"] % len(inputs)
                state["i"] += 1
                x = inputs[i].to(dev)
                y = targets[i].to(dev)
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()
                state["loss"] = loss.item()

            s = time_best(step, warmup=1 if args.smoke else 10)
            if not math.isfinite(state["loss"]):
                print("torch_peer.py: %s loss is %s" % (name, state["loss"]), file=sys.stderr)
                return 1
            result("train", name, 1.0 / s, "steps/s", batch=batch, samples_per_s=batch / s, loss=state["loss"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
