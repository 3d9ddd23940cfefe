#!/usr/bin/env python3
"""torch.optim as the reference for Raven's optimizers, schedules and clipping (tests/nn/tst_Optimizers.cpp).

  optim_reference.py step CONFIG_JSON STEPS IN OUT
      IN holds "p.<i>" (initial parameters) and "g.<i>.<k>" (the gradient of parameter i at step k).
      Runs STEPS steps of the optimizer CONFIG_JSON ({"type": "sgd"|"adam"|"adamw", ...} as Raven writes it)
      and writes OUT: "p.<i>" (final parameters) and "state.<i>.<slot>".
  optim_reference.py schedule SCHEDULE_JSON BASE STEPS     -> JSON list of the lr used at each step
  optim_reference.py clip MAX_NORM IN OUT                    -> OUT: "g.<i>" clipped, "total_norm"
  optim_reference.py batch JOBS                              -> runs every job of the JSON file JOBS, a list of
      argument lists as above (one interpreter start for a whole test; a schedule job takes a
      fifth argument, the file its JSON list goes to)
"""
import json
import sys

import torch

from torch_models import read_safetensors, write_safetensors


def optimizer_for(config, params):
    kind = config["type"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=config["lr"], momentum=config["momentum"], dampening=config["dampening"],
                               nesterov=config["nesterov"], weight_decay=config["weight_decay"])
    cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    return cls(params, lr=config["lr"], betas=tuple(config["betas"]), eps=config["eps"],
               weight_decay=config["weight_decay"], foreach=False)


def step(config, steps, src, dst):
    t = read_safetensors(src)
    count = len([k for k in t if k.startswith("p.")])
    params = [torch.nn.Parameter(t[f"p.{i}"].clone()) for i in range(count)]
    opt = optimizer_for(config, params)
    for k in range(steps):
        for i, p in enumerate(params):
            p.grad = t[f"g.{i}.{k}"].clone()
        opt.step()
    out = {f"p.{i}": p.detach() for i, p in enumerate(params)}
    for i, p in enumerate(params):
        for slot, value in opt.state[p].items():
            if slot != "step" and value is not None:
                out[f"state.{i}.{slot}"] = value
    write_safetensors(dst, out)


def schedule(spec, base, steps, out=None):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    kind = spec.get("kind", "constant")
    if kind == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=spec["step_size"], gamma=spec["gamma"])
    elif kind == "cosine":
        w, total = spec["warmup_steps"], spec["total_steps"]
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - w, eta_min=spec["min_lr"])
        if w > 0:
            warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=spec["warmup_start_factor"], end_factor=1.0,
                                                     total_iters=w)
            sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cosine], milestones=[w])
        else:
            sched = cosine
    else:
        sched = None
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched:
            sched.step()
    if out:
        with open(out, "w") as f:
            json.dump(lrs, f)
    else:
        print(json.dumps(lrs))


def clip(max_norm, src, dst):
    t = read_safetensors(src)
    count = len([k for k in t if k.startswith("g.")])
    params = [torch.nn.Parameter(torch.zeros_like(t[f"g.{i}"])) for i in range(count)]
    for i, p in enumerate(params):
        p.grad = t[f"g.{i}"].clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    out = {f"g.{i}": p.grad for i, p in enumerate(params)}
    out["total_norm"] = total.reshape([])
    write_safetensors(dst, out)


def run(args):
    mode = args[0]
    if mode == "step":
        step(json.loads(args[1]), int(args[2]), args[3], args[4])
    elif mode == "schedule":
        schedule(json.loads(args[1]), float(args[2]), int(args[3]), args[4] if len(args) > 4 else None)
    elif mode == "clip":
        clip(float(args[1]), args[2], args[3])
    elif mode == "batch":
        for job in json.load(open(args[1])):
            run(job)
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    run(sys.argv[1:])
