#!/usr/bin/env python3
"""Plots of one slsim run: analysis/plot_run.py RUN_DIR [--out DIR] [--target ACC]

Writes into RUN_DIR/plots/ (or --out), removing its own stale outputs first:
accuracy_vs_time.png, accuracy_vs_bytes.png, loss_vs_epoch.png, time_breakdown.png (where each
device's simulated time went, from devices.csv: device compute, server compute, queueing at the
server, communication in steps, connection set-up, synchronisation, idle; they add up to the run's
simulated time; plus the run's mean over devices), codec_error.png, and summary.md (time and
traffic to the target accuracy). Every figure names the run's codecs; accuracy plots mark the
target (--target, else the scenario's training.target_accuracy, else 90 % of the best accuracy).
energy_per_device.png: compute and radio energy per device (devices.csv), when the run has any.
leakage.png: the cut-layer leakage cut_dcor_sq over simulated time, one line per distinct cut
(leakage.csv, runs with per-device cuts; else eval.csv's), when the run measured it.
"""
import argparse
import os
import sys

import matplotlib
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from matplotlib.ticker import MaxNLocator  # noqa: E402
from slsim_results import (add_epochs, add_total_bytes, codec_name, first_reaching,  # noqa: E402
                           read_run)

MB = 1e6
OUTPUTS = ("accuracy_vs_time.png", "accuracy_vs_bytes.png", "loss_vs_epoch.png",
           "time_breakdown.png", "codec_error.png", "summary.md")
# devices.csv's time columns (sim/metrics-collector.h defines them), in stacking order
PARTS = {"device_compute_s": ("device compute", "#1f77b4"),
         "server_compute_s": ("server compute", "#ff7f0e"),
         "queue_s": ("queueing for a server worker", "#d62728"),
         "comm_s": ("communication in steps", "#2ca02c"),
         "connect_s": ("connection set-up", "#8c564b"),
         "sync_s": ("synchronisation (START, weights up)", "#9467bd"),
         "idle_s": ("idle (barrier, turn, done)", "#c7c7c7")}
STEP_PARTS = list(PARTS)[:4]


def time_breakdown(run_dir, steps):
    """(per-device table of PARTS columns in seconds, the parts present, where it came from).

    devices.csv when it has the columns; an older run folder: steps.csv's step parts summed."""
    path = os.path.join(run_dir, "devices.csv")
    if os.path.exists(path):
        dev = pd.read_csv(path).set_index("device")
        present = [p for p in PARTS if p in dev]
        if all(p in dev for p in STEP_PARTS):
            return dev[present], present, "devices.csv"
    if not steps.empty and all(p in steps for p in STEP_PARTS):
        return steps.groupby("device")[STEP_PARTS].sum(), STEP_PARTS, "steps.csv (steps only)"
    return None, [], ""


# The run bar names a part's share on the bar only from this share of the run's time on: smaller
# parts leave too little height for a 7-point label (they touched at 100 devices); the legend
# gives every part's share.
BAR_LABEL_MIN_SHARE = 0.10


def plot_time_breakdown(per, present, source, sim_time, title):
    """Stacked bars: one per device and one for the run (mean over devices). The legend gives each
    part's share of the run's simulated time; the run bar repeats the large ones."""
    n = len(per)
    fig, (ax, axr) = plt.subplots(1, 2, sharey=True, figsize=(min(16, max(6, 0.25 * n + 4)), 4.5),
                                  gridspec_kw={"width_ratios": [max(3, min(n, 40)), 1]})
    width = 0.8 if n <= 60 else 1.0
    bottom = pd.Series(0.0, index=per.index)
    mean_bottom = 0.0
    for p in present:
        label, colour = PARTS[p]
        m = float(per[p].mean())
        if sim_time:
            share = m / sim_time
            label += (" (< 0.1 %)" if 0 < share < 0.001 else f" ({100 * share:.1f} %)"
                      if 0 < share < 0.01 else f" ({100 * share:.0f} %)")
        ax.bar(per.index, per[p], bottom=bottom, width=width, color=colour, label=label,
               linewidth=0)
        bottom = bottom + per[p]
        axr.bar([0], [m], bottom=mean_bottom, width=0.6, color=colour)
        if sim_time and m >= BAR_LABEL_MIN_SHARE * sim_time:
            axr.text(0, mean_bottom + m / 2, f"{100 * m / sim_time:.0f} %", ha="center",
                     va="center", fontsize=7)
        mean_bottom += m
    if sim_time:
        for a in (ax, axr):
            a.axhline(sim_time, color="black", ls=":", lw=1)
        ax.text(1.0, sim_time, " run's simulated time", transform=ax.get_yaxis_transform(),
                va="bottom", ha="right", fontsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="device", ylabel="simulated seconds")
    ax.set_title(f"{title}: where each device's time goes (from {source})", fontsize=9)
    axr.set_xticks([0])
    axr.set_xticklabels(["run\n(mean of\ndevices)"], fontsize=8)
    axr.set_xlim(-0.6, 0.6)
    handles, labels = ax.get_legend_handles_labels()
    axr.legend(handles, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.05, 1.0),
               frameon=False, title="(share of the run's time)" if sim_time else None,
               title_fontsize=7)
    return fig


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


def plot_leakage(run_dir, out, name, ev, cut):
    """leakage.png: cut_dcor_sq (the bias-corrected squared distance correlation between the input
    and the cut activations as sent) over simulated time: one line per distinct cut from
    leakage.csv (runs with per-device cuts), else eval.csv's at the model's cut `cut`. Returns the
    file name written, or None when no evaluation measured it (training.leakage_samples 0, or a
    folder from before the column)."""
    fname = "leakage.png"
    path = os.path.join(out, fname)
    if os.path.exists(path):  # stale result of an earlier run
        os.remove(path)
    csv = os.path.join(run_dir, "leakage.csv")
    if os.path.exists(csv):
        leak = pd.read_csv(csv).dropna(subset=["cut_dcor_sq"])
    elif "cut_dcor_sq" in ev:
        leak = ev[["sim_time_s", "cut_dcor_sq"]].dropna().assign(cut=cut)
    else:
        return None
    if leak.empty:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for c, rows in leak.groupby("cut", sort=False):
        ax.plot(rows["sim_time_s"], rows["cut_dcor_sq"], marker="o", label=f"cut {c}")
    ax.set(xlabel="simulated time (s)", ylabel="cut_dcor_sq (input vs cut activations as sent)",
           ylim=(min(0.0, float(leak["cut_dcor_sq"].min())), 1.05))
    ax.set_title(f"{name}: cut-layer leakage", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
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
    steps = run["steps"]
    ev = add_epochs(add_total_bytes(run["eval"]), steps, run["summary"])
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
    ax.plot(ev["epoch"], ev["test_loss"], marker="s", label="test loss")
    ax.set(xlabel="epoch (steps served / steps per round)", ylabel="loss")
    ax.set_title(f"{name}: loss vs epoch", fontsize=9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save(fig, "loss_vs_epoch.png")

    per, present, source = time_breakdown(a.run_dir, steps)
    if per is not None and len(per):
        summary = run["summary"]
        sim_time = float(summary["sim_time_s"].iloc[0]) if "sim_time_s" in summary else None
        save(plot_time_breakdown(per, present, source, sim_time, name), "time_breakdown.png")

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
    leakage = plot_leakage(a.run_dir, out, name, ev, sc.get("model", {}).get("cut", "?"))
    if leakage:
        written.append(leakage)

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
