#!/usr/bin/python3
"""PyTorch peer of bench_models: the same model, batch, optimizer and thread count, trained on
random data for a fixed number of steps; prints one JSON line with steps/s.

Run with Debian's python3-torch: /usr/bin/python3 bench/models/torch-peer.py --model vgg11_bn ...
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from blas_libs import loaded_blas


def scaled(c, w):
    return max(1, round(c * w))


def vgg(cfg, in_ch, classes, w):
    layers = []
    c = in_ch
    for v in cfg:
        if v == 0:
            layers.append(nn.MaxPool2d(2, 2))
        else:
            o = scaled(v, w)
            layers += [nn.Conv2d(c, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]
            c = o
    h = scaled(4096, w)
    return nn.Sequential(nn.Sequential(*layers), nn.Flatten(),
                         nn.Sequential(nn.Linear(c, h), nn.ReLU(True), nn.Dropout(0.5),
                                       nn.Linear(h, h), nn.ReLU(True), nn.Dropout(0.5),
                                       nn.Linear(h, classes)))


def lenet5(in_ch, side, classes, w):
    pad = 2 if side < 32 else 0
    c1, c2, f1, f2 = scaled(6, w), scaled(16, w), scaled(120, w), scaled(84, w)
    s = (side + 2 * pad - 4) // 2
    s = (s - 4) // 2
    return nn.Sequential(nn.Conv2d(in_ch, c1, 5, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(c1, c2, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(c2 * s * s, f1), nn.ReLU(), nn.Linear(f1, f2), nn.ReLU(),
                         nn.Linear(f2, classes))


class Block(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.down = None
        if stride != 1 or inp != planes:
            self.down = nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False),
                                      nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.down is None else self.down(x)))


def resnet18(in_ch, classes, w):
    p = [scaled(c, w) for c in (64, 128, 256, 512)]
    layers = [nn.Conv2d(in_ch, p[0], 3, 1, 1, bias=False), nn.BatchNorm2d(p[0]), nn.ReLU()]
    inp = p[0]
    for i in range(4):
        for b in range(2):
            layers.append(Block(inp, p[i], 2 if (i > 0 and b == 0) else 1))
            inp = p[i]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(inp, classes)]
    return nn.Sequential(*layers)


def cpu_isa():
    """The vector ISA torch's own kernels dispatch to (ATen's CPU capability)."""
    for get in (lambda: torch.backends.cpu.get_cpu_capability(),
                lambda: torch._C._get_cpu_capability()):
        try:
            return str(get())
        except Exception:  # not in this torch version
            pass
    # torch 1.13 (Debian 12) has neither call but prints it in its build summary
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip().lower()
    return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="vgg11_bn")
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--input", default="3x32x32")
    ap.add_argument("--classes", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    c, h, w = (int(v) for v in a.input.split("x"))
    cfg11 = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]
    cfg19 = [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0,
             512, 512, 512, 512, 0]
    if a.model == "vgg11_bn":
        model = vgg(cfg11, c, a.classes, a.width)
    elif a.model == "vgg19_bn":
        model = vgg(cfg19, c, a.classes, a.width)
    elif a.model == "lenet5":
        model = lenet5(c, h, a.classes, a.width)
    elif a.model == "resnet18":
        model = resnet18(c, a.classes, a.width)
    else:
        raise SystemExit("torch-peer: unknown model " + a.model)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    torch.manual_seed(1)
    x = torch.randn(a.batch, c, h, w)
    y = torch.randint(0, a.classes, (a.batch,))
    model.train()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    c0 = time.process_time()  # CPU time of all the process's threads
    for _ in range(a.steps):
        loss = step()
    s = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(json.dumps({"impl": "pytorch " + torch.__version__, "model": a.model, "width": a.width,
                      "batch": a.batch, "threads": torch.get_num_threads(), "steps": a.steps,
                      "seconds": round(s, 4), "steps_per_s": round(a.steps / s, 4),
                      "cpu_seconds": round(cpu, 4),
                      "last_loss": round(loss, 4), "blas": loaded_blas(), "isa": cpu_isa()}))


if __name__ == "__main__":
    main()
