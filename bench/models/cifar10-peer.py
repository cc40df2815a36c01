#!/usr/bin/python3
"""PyTorch peer of a short slsim CIFAR-10 run (issue 19's pilot): the same VGG-BN (torchvision
cfg, PyTorch's default init, as slsim's), data (the first N training / test images of
data/cifar10, the paper's normalisation, optional crop + flip), batch, SGD (momentum, weight
decay, cosine stepped per epoch) and schedule, either vanilla split learning with one device
(`--devices 1`: plain training of the whole model) or SplitFed v2 with K devices (K copies of the
device part, each with its own optimizer and an even IID shard; one shared server part that takes
the devices' steps in turn; FedAvg of the device parts, parameters and BN running statistics, at
each epoch's end).

For SplitFed it also evaluates, after the last epoch, (1) each device's own copy before the
averaging, (2) the averaged model, (3) the averaged model with its BN running statistics
re-estimated on training batches: the three tell apart a broken averaging from the usual cost of
averaging BN models that drifted apart.

  /usr/bin/python3 bench/models/cifar10-peer.py --train 5000 --test 2000 --devices 1 --epochs 2

Prints one JSON line per evaluation (epoch, test accuracy and loss, train loss of the epoch).
Not a test: a reference for results/cifar10/README.md. One thread unless --threads.
"""
import argparse
import copy
import importlib.util
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
_spec = importlib.util.spec_from_file_location("torch_peer", os.path.join(HERE, "torch-peer.py"))
_peer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_peer)

VGG19 = [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512,
         512, 0]
CUT_CONVS = {"shallow": 2, "medium": 8, "deep": 15}
MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)  # the paper's code (models/data)
STD = np.array([0.2023, 0.1994, 0.2010], dtype=np.float32)


def load(files, n):
    raw = b"".join(open(os.path.join(ROOT, "data", "cifar10", f), "rb").read() for f in files)
    a = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)
    if n:
        a = a[:n]
    y = torch.from_numpy(a[:, 0].astype(np.int64))
    x = a[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
    x = (x - MEAN[None, :, None, None]) / STD[None, :, None, None]
    return torch.from_numpy(x), y


def augment(x, gen):
    """Random crop 32 with 4-pixel zero padding (after normalisation, as torchvision's order
    RandomCrop -> ToTensor -> Normalize pads with 0 pixels: a small difference) + h-flip."""
    b = x.shape[0]
    p = F.pad(x, (4, 4, 4, 4))
    out = torch.empty_like(x)
    dx = torch.randint(0, 9, (b,), generator=gen)
    dy = torch.randint(0, 9, (b,), generator=gen)
    flip = torch.rand(b, generator=gen) < 0.5
    for i in range(b):
        c = p[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
        out[i] = torch.flip(c, dims=[2]) if flip[i] else c
    return out


def split(width, cut):
    model = _peer.vgg(VGG19, 3, 10, width)
    feats = list(model[0])
    convs, end = 0, 0
    for i, m in enumerate(feats):
        if isinstance(m, nn.Conv2d):
            convs += 1
        if convs == CUT_CONVS[cut] and isinstance(m, nn.ReLU):
            end = i + 1
            if end < len(feats) and isinstance(feats[end], nn.MaxPool2d):
                end += 1
            break
    device = nn.Sequential(*feats[:end])
    server = nn.Sequential(nn.Sequential(*feats[end:]), model[1], model[2])
    return device, server


def evaluate(device, server, x, y):
    device.eval()
    server.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(y), 256):
            out = server(device(x[s:s + 256]))
            loss += F.cross_entropy(out, y[s:s + 256], reduction="sum").item()
            correct += (out.argmax(1) == y[s:s + 256]).sum().item()
    return correct / len(y), loss / len(y)


def fed_avg(devices, sizes):
    avg = copy.deepcopy(devices[0].state_dict())
    total = float(sum(sizes))
    for k in avg:
        if avg[k].dtype.is_floating_point:
            avg[k] = sum(d.state_dict()[k] * (n / total) for d, n in zip(devices, sizes))
    return avg


def reestimate_bn(device, server, x, batch, steps):
    """BN running statistics recomputed as a cumulative mean over `steps` training batches."""
    for m in list(device.modules()) + list(server.modules()):
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    device.train()
    server.train()
    with torch.no_grad():
        for s in range(steps):
            server(device(x[s * batch:(s + 1) * batch]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=5000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--devices", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--total-epochs", type=int, default=0, help="cosine T_max (0: --epochs)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.0125)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--schedule", default="cosine", choices=["cosine", "constant"])
    ap.add_argument("--width", type=float, default=0.25)
    ap.add_argument("--cut", default="shallow", choices=sorted(CUT_CONVS))
    ap.add_argument("--augment", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    xtr, ytr = load([f"data_batch_{i}.bin" for i in range(1, 6)], a.train)
    xte, yte = load(["test_batch.bin"], a.test)
    device, server = split(a.width, a.cut)
    k = a.devices
    devices = [device] + [copy.deepcopy(device) for _ in range(k - 1)]
    shards = np.array_split(torch.randperm(len(ytr), generator=gen).numpy(), k)
    sizes = [len(s) for s in shards]
    params = lambda m: dict(lr=a.lr, momentum=a.momentum, weight_decay=a.wd)  # noqa: E731
    dopt = [torch.optim.SGD(d.parameters(), **params(d)) for d in devices]
    sopt = torch.optim.SGD(server.parameters(), **params(server))
    tmax = a.total_epochs or a.epochs
    acc, loss = evaluate(devices[0], server, xte, yte)
    print(json.dumps({"epoch": 0, "test_acc": acc, "test_loss": loss}), flush=True)
    start = time.process_time()
    steps = 0
    for epoch in range(a.epochs):
        lr = a.lr * (1 + math.cos(math.pi * epoch / tmax)) / 2 if a.schedule == "cosine" else a.lr
        for o in dopt + [sopt]:
            for g in o.param_groups:
                g["lr"] = lr
        orders = [s[torch.randperm(len(s), generator=gen).numpy()] for s in shards]
        per = [math.ceil(len(o) / a.batch) for o in orders]
        tl, tn = 0.0, 0
        for d in devices:
            d.train()
        server.train()
        for step in range(max(per)):
            for i in range(k):  # the devices' steps in turn at the shared server (SplitFed v2)
                if step >= per[i]:
                    continue
                idx = orders[i][step * a.batch:(step + 1) * a.batch]
                xb = xtr[idx]
                if a.augment:
                    xb = augment(xb, gen)
                dopt[i].zero_grad()
                sopt.zero_grad()
                out = server(devices[i](xb))
                lo = F.cross_entropy(out, ytr[idx])
                lo.backward()
                dopt[i].step()
                sopt.step()
                tl += lo.item() * len(idx)
                tn += len(idx)
                steps += 1
        rec = {"epoch": epoch + 1, "lr": lr, "train_loss": tl / tn, "steps": steps}
        if k > 1:
            last = epoch + 1 == a.epochs
            if last:
                own = [evaluate(d, server, xte, yte) for d in devices]
                rec["own_copy_acc_mean"] = sum(o[0] for o in own) / k
                rec["own_copy_loss_mean"] = sum(o[1] for o in own) / k
            avg = fed_avg(devices, sizes)
            for d in devices:
                d.load_state_dict(avg)
            if last:
                probe = copy.deepcopy(devices[0]), copy.deepcopy(server)
                reestimate_bn(probe[0], probe[1], xtr, a.batch, min(50, len(ytr) // a.batch))
                rec["bn_reestimated_acc"], rec["bn_reestimated_loss"] = evaluate(*probe, xte, yte)
        rec["test_acc"], rec["test_loss"] = evaluate(devices[0], server, xte, yte)
        rec["cpu_s"] = round(time.process_time() - start, 1)
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
