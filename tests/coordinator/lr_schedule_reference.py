"""The learning rate of each optimizer step under torch.optim.lr_scheduler, for the schedules a job's
wire::LearningRateSchedule describes (tst_LearningRateSchedule.cpp). Built from the wire's fields
here, independently of Raven's reading of them.

    python3 lr_schedule_reference.py cases.json out.json
cases.json: [{"kind": "step"|"cosine"|"constant", "lr": 0.1, "total_steps": 40, "step_size": 7,
              "gamma": 0.5, "min_lr": 0.0, "cycle_steps": 0, "warmup_steps": 0,
              "warmup_start_factor": 0.0}, ...]
out.json: one list per case, the rate each of the total_steps optimizer steps was taken with.
"""
import json
import sys

import torch


def rates(case):
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=case["lr"])
    total = case["total_steps"]
    warmup = case.get("warmup_steps", 0)
    kind = case["kind"]
    scheduler = None
    if kind == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=case["step_size"], gamma=case["gamma"])
    elif kind == "cosine":
        cycle = case.get("cycle_steps", 0) or max(1, total - warmup)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cycle, eta_min=case.get("min_lr", 0.0))
        if warmup > 0:
            start = case.get("warmup_start_factor", 0.0) or 1.0 / 3.0
            linear = torch.optim.lr_scheduler.LinearLR(opt, start_factor=start, end_factor=1.0, total_iters=warmup)
            scheduler = torch.optim.lr_scheduler.SequentialLR(opt, [linear, cosine], milestones=[warmup])
        else:
            scheduler = cosine
    out = []
    for _ in range(total):
        out.append(opt.param_groups[0]["lr"])
        param.grad = torch.zeros(1)
        opt.step()
        if scheduler is not None:
            scheduler.step()
    return out


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    with open(sys.argv[2], "w") as f:
        json.dump([rates(c) for c in cases], f)


if __name__ == "__main__":
    main()
