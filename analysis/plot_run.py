#!/usr/bin/env python3
"""Plots of one slsim run: analysis/plot_run.py RUN_DIR [--out DIR] [--target ACC]

Writes into RUN_DIR/plots/ (or --out), removing its own stale outputs first:
accuracy_vs_time.png, accuracy_vs_bytes.png, loss_vs_epoch.png, time_breakdown.png (per device:
compute, server compute, queueing, communication), codec_error.png, and summary.md (time and
traffic to the target accuracy). Every figure names the run's codecs; accuracy plots mark the
target (--target, else the scenario's training.target_accuracy, else 90 % of the best accuracy).
energy_per_device.png: compute and radio energy per device (devices.csv), when the run has any.
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from matplotlib.ticker import MaxNLocator  # noqa: E402
from slsim_results import add_total_bytes, codec_name, first_reaching, read_run  # noqa: E402

MB = 1e6
OUTPUTS = ("accuracy_vs_time.png", "accuracy_vs_bytes.png", "loss_vs_epoch.png",
           "time_breakdown.png", "codec_error.png", "summary.md")
PARTS = {"device_compute_s": "device compute", "server_compute_s": "server compute",
         "queue_s": "queueing at the server", "comm_s": "communication"}
EXTRA_PARTS = {"sync_s": "weight synchronisation", "idle_s": "idle (waiting for others)"}


def plot_energy(run_dir, out, name):
    """energy_per_device.png: each device's compute and radio energy (devices.csv's compute_j and
    radio_j) as stacked bars, devices whose battery ran out marked. Returns the file name written,
    or None when the run recorded no energy (no profile gave any power)."""
    fname = "energy_per_device.png"
    path = os.path.join(out, fname)
    if os.path.exists(path):  # stale result of an earlier run
        os.remove(path)
    csv = os.path.join(run_dir, "devices.csv")
    if not os.path.exists(csv):
        return None
    dev = pd.read_csv(csv)
    if not {"compute_j", "radio_j"} <= set(dev) or not (dev["compute_j"] + dev["radio_j"]).any():
        return None
    fig, ax = plt.subplots(figsize=(max(6, 0.25 * len(dev) + 3), 4))
    ax.bar(dev["device"], dev["compute_j"], label="compute")
    ax.bar(dev["device"], dev["radio_j"], bottom=dev["compute_j"], label="radio (tx, rx, idle)")
    if "battery_empty_s" in dev:
        empty = dev[dev["battery_empty_s"].notna()]
        if len(empty):
            ax.scatter(empty["device"], empty["compute_j"] + empty["radio_j"], marker="v",
                       color="black", zorder=3, label="battery ran out")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="device", ylabel="energy (J)")
    ax.set_title(f"{name}: energy per device", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return fname


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir")
    ap.add_argument("--out", help="output folder (default RUN_DIR/plots)")
    ap.add_argument("--target", type=float, help="target accuracy (default: the scenario's)")
    a = ap.parse_args()
    run = read_run(a.run_dir)
    if run["eval"].empty:
        sys.exit(f"plot_run: {a.run_dir}: no eval.csv")
    out = a.out or os.path.join(a.run_dir, "plots")
    os.makedirs(out, exist_ok=True)
    for f in OUTPUTS:  # stale results of an earlier run
        if os.path.exists(os.path.join(out, f)):
            os.remove(os.path.join(out, f))
    sc = run["manifest"].get("scenario", {})
    name = sc.get("name", os.path.basename(a.run_dir.rstrip("/")))
    codecs = sc.get("codec", {})
    name += " (up: " + codec_name(codecs.get("uplink", {}))
    if codecs.get("downlink", {}).get("method", "none") != "none":
        name += ", down: " + codec_name(codecs["downlink"])
    name += ")"
    ev = add_total_bytes(run["eval"])
    steps = run["steps"]
    written = []
    target = a.target
    if target is None:
        target = sc.get("training", {}).get("target_accuracy", 0)
    target_note = "given" if a.target is not None else "the scenario's"
    if not target:
        target = 0.9 * float(ev["test_accuracy"].max())
        target_note = "90 % of the best; the scenario sets none"

    def mark_target(ax):
        ax.axhline(target, color="grey", ls=":", lw=1, label=f"target {target:.3g} ({target_note})")

    def save(fig, fname):
        fig.tight_layout()
        fig.savefig(os.path.join(out, fname), dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(fname)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ev["sim_time_s"], ev["test_accuracy"], marker="o", label="test accuracy")
    mark_target(ax)
    ax.set(xlabel="simulated time (s)", ylabel="test accuracy")
    ax.set_title(f"{name}: accuracy vs time", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save(fig, "accuracy_vs_time.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ev["cum_bytes_total"] / MB, ev["test_accuracy"], marker="o", label="all traffic")
    ax.plot(ev["cum_bytes_up"] / MB, ev["test_accuracy"], marker=".", ls="--", label="uplink only")
    mark_target(ax)
    ax.set(xlabel="cumulative traffic (MB)", ylabel="test accuracy")
    ax.set_title(f"{name}: accuracy vs traffic", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save(fig, "accuracy_vs_bytes.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    if not steps.empty:
        train = steps.groupby("round")["loss"].mean()
        ax.plot(train.index + 1, train.values, marker="o", label="training loss (mean of steps)")
    ax.plot(ev["round"], ev["test_loss"], marker="s", label="test loss")
    ax.set(xlabel="epoch (round)", ylabel="loss")
    ax.set_title(f"{name}: loss vs epoch", fontsize=9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save(fig, "loss_vs_epoch.png")

    if not steps.empty and all(p in steps for p in PARTS):
        parts = dict(PARTS, **{k: v for k, v in EXTRA_PARTS.items() if k in steps})
        per = steps.groupby("device")[list(parts)].sum()
        fig, ax = plt.subplots(figsize=(max(6, 0.25 * len(per) + 3), 4))
        bottom = None
        for p, label in parts.items():
            ax.bar(per.index, per[p], bottom=bottom, label=label)
            bottom = per[p] if bottom is None else bottom + per[p]
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel="device", ylabel="seconds (sum over the device's steps)")
        ax.set_title(f"{name}: where each device's time goes", fontsize=9)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        save(fig, "time_breakdown.png")

    if not steps.empty and "codec_rel_error" in steps:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(range(len(steps)), steps["codec_rel_error"], lw=0.8)
        ax.set(xlabel="step (all devices, in order)",
               ylabel="relative L2 error of the uplink codec")
        ax.set_title(f"{name}: codec error", fontsize=9)
        ax.grid(alpha=0.3)
        save(fig, "codec_error.png")

    energy = plot_energy(a.run_dir, out, name)
    if energy:
        written.append(energy)

    def reach(column, scale):
        v = first_reaching(ev, target, column)
        return "not reached" if v != v else f"{v / scale:.3f}"

    s = run["summary"].iloc[0] if not run["summary"].empty else {}
    lines = [f"# {name}", "", f"Target accuracy {target:.3g} ({target_note}).", "",
             "| metric | value |", "|---|---|"]
    rows = [("final test accuracy", f"{ev['test_accuracy'].iloc[-1]:.4f}"),
            ("best test accuracy", f"{ev['test_accuracy'].max():.4f}"),
            ("simulated time (s)", f"{ev['sim_time_s'].iloc[-1]:.3f}"),
            ("traffic, all (MB)", f"{ev['cum_bytes_total'].iloc[-1] / MB:.3f}"),
            (f"time to {target:.3g} accuracy (s)", reach("sim_time_s", 1)),
            (f"uplink traffic to {target:.3g} (MB)", reach("cum_bytes_up", MB)),
            (f"all traffic to {target:.3g} (MB)", reach("cum_bytes_total", MB))]
    if len(s):
        rows.append(("wall time (s)", f"{float(s.get('wall_time_s', float('nan'))):.2f}"))
    lines += [f"| {k} | {v} |" for k, v in rows]
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    written.append("summary.md")
    print(f"plot_run: {out}/: " + ", ".join(written))


if __name__ == "__main__":
    main()
