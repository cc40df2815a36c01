#!/usr/bin/env python3
"""Plots of one slsim run: analysis/plot_run.py RUN_DIR [--out DIR]

Writes into RUN_DIR/plots/ (or --out): accuracy_vs_time.png, accuracy_vs_bytes.png,
loss_vs_epoch.png, time_breakdown.png (per device: compute, server compute, queueing, comm),
codec_error.png, and summary.md (time and traffic to the target accuracy).
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slsim_results import add_total_bytes, first_reaching, read_run  # noqa: E402

MB = 1e6


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
    name = run["manifest"].get("scenario", {}).get("name", os.path.basename(a.run_dir.rstrip("/")))
    ev = add_total_bytes(run["eval"])
    steps = run["steps"]
    written = []

    def save(fig, fname):
        fig.tight_layout()
        fig.savefig(os.path.join(out, fname), dpi=120)
        plt.close(fig)
        written.append(fname)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ev["sim_time_s"], ev["test_accuracy"], marker="o")
    ax.set(xlabel="simulated time (s)", ylabel="test accuracy", title=f"{name}: accuracy vs time")
    ax.grid(alpha=0.3)
    save(fig, "accuracy_vs_time.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ev["cum_bytes_total"] / MB, ev["test_accuracy"], marker="o", label="all traffic")
    ax.plot(ev["cum_bytes_up"] / MB, ev["test_accuracy"], marker=".", ls="--", label="uplink only")
    ax.set(xlabel="cumulative traffic (MB)", ylabel="test accuracy",
           title=f"{name}: accuracy vs traffic")
    ax.legend()
    ax.grid(alpha=0.3)
    save(fig, "accuracy_vs_bytes.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    if not steps.empty:
        train = steps.groupby("round")["loss"].mean()
        ax.plot(train.index + 1, train.values, marker="o", label="training loss (mean of steps)")
    ax.plot(ev["round"], ev["test_loss"], marker="s", label="test loss")
    ax.set(xlabel="epoch (round)", ylabel="loss", title=f"{name}: loss vs epoch")
    ax.legend()
    ax.grid(alpha=0.3)
    save(fig, "loss_vs_epoch.png")

    parts = ["device_compute_s", "server_compute_s", "queue_s", "comm_s"]
    if not steps.empty and all(p in steps for p in parts):
        per = steps.groupby("device")[parts].sum()
        fig, ax = plt.subplots(figsize=(max(6, 0.12 * len(per) + 3), 4))
        bottom = None
        for p in parts:
            ax.bar(per.index, per[p], bottom=bottom, label=p.replace("_s", ""))
            bottom = per[p] if bottom is None else bottom + per[p]
        ax.set(xlabel="device", ylabel="seconds (sum over steps)",
               title=f"{name}: where each device's time goes")
        ax.legend()
        save(fig, "time_breakdown.png")

    if not steps.empty and "codec_rel_error" in steps:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(range(len(steps)), steps["codec_rel_error"], lw=0.8)
        ax.set(xlabel="step (all devices, in order)", ylabel="relative L2 error of the uplink codec",
               title=f"{name}: codec error")
        ax.grid(alpha=0.3)
        save(fig, "codec_error.png")

    target = a.target
    if target is None:
        target = run["manifest"].get("scenario", {}).get("training", {}).get("target_accuracy", 0)
    if not target:
        target = 0.9 * float(ev["test_accuracy"].max())
    s = run["summary"].iloc[0] if not run["summary"].empty else {}
    lines = [f"# {name}", "", "| metric | value |", "|---|---|"]
    rows = [("final test accuracy", f"{ev['test_accuracy'].iloc[-1]:.4f}"),
            ("best test accuracy", f"{ev['test_accuracy'].max():.4f}"),
            ("simulated time (s)", f"{ev['sim_time_s'].iloc[-1]:.3f}"),
            ("traffic, all (MB)", f"{ev['cum_bytes_total'].iloc[-1] / MB:.3f}"),
            (f"time to {target:.3g} accuracy (s)", f"{first_reaching(ev, target, 'sim_time_s'):.3f}"),
            (f"uplink traffic to {target:.3g} (MB)",
             f"{first_reaching(ev, target, 'cum_bytes_up') / MB:.3f}"),
            (f"all traffic to {target:.3g} (MB)",
             f"{first_reaching(ev, target, 'cum_bytes_total') / MB:.3f}")]
    if len(s):
        rows.append(("wall time (s)", f"{float(s.get('wall_time_s', float('nan'))):.2f}"))
    lines += [f"| {k} | {v} |" for k, v in rows]
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    written.append("summary.md")
    print(f"plot_run: {out}/: " + ", ".join(written))


if __name__ == "__main__":
    main()
