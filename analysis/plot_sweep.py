#!/usr/bin/env python3
"""Plots of an slsim sweep: analysis/plot_sweep.py SWEEP_DIR [--out DIR] [--target ACC]

Reads SWEEP_DIR/sweep.csv and each point's eval.csv/steps.csv, groups points by their grid values
(repetitions averaged), and writes into SWEEP_DIR/plots/ (or --out):
  accuracy_vs_time.png, accuracy_vs_bytes.png   one curve per configuration (mean over seeds)
  final_accuracy.png                            final accuracy per configuration (mean +- std)
  codec_error.png                               mean uplink codec error vs each numeric grid axis
  table.md                                      time-to-accuracy and traffic-to-accuracy table
                                                (the paper's Table 1 analogue), mean over seeds
"""
import argparse
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slsim_results import (add_total_bytes, config_label, first_reaching, point_dir,  # noqa: E402
                           read_sweep)

MB = 1e6


def fmt(mean, std, digits=3):
    if math.isnan(mean):
        return "not reached"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if std and not math.isnan(std) else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir")
    ap.add_argument("--out", help="output folder (default SWEEP_DIR/plots)")
    ap.add_argument("--target", type=float,
                    help="target accuracy for the table (default: 95 %% of the lowest best "
                         "accuracy among configurations, so every one can reach it)")
    a = ap.parse_args()
    table, grid = read_sweep(a.sweep_dir)
    if table.empty:
        sys.exit(f"plot_sweep: {a.sweep_dir}/sweep.csv has no points")
    out = a.out or os.path.join(a.sweep_dir, "plots")
    os.makedirs(out, exist_ok=True)
    table["config"] = [config_label(r, grid) for _, r in table.iterrows()]

    evals, errors = {}, {}
    for _, r in table.iterrows():
        d = point_dir(a.sweep_dir, r["point"])
        evals[r["point"]] = add_total_bytes(pd.read_csv(os.path.join(d, "eval.csv")))
        steps = os.path.join(d, "steps.csv")
        if os.path.exists(steps):
            s = pd.read_csv(steps, usecols=lambda c: c == "codec_rel_error")
            errors[r["point"]] = float(s["codec_rel_error"].mean()) if len(s.columns) else math.nan
    table["codec_rel_error_mean"] = table["point"].map(errors)
    configs = list(dict.fromkeys(table["config"]))  # sweep order

    target = a.target
    if target is None:
        best = table.groupby("config")["best_accuracy"].mean()
        target = round(0.95 * float(best.min()), 4)
    written = []

    def save(fig, fname):
        fig.tight_layout()
        fig.savefig(os.path.join(out, fname), dpi=120)
        plt.close(fig)
        written.append(fname)

    def mean_curve(cfg, x):
        pts = table[table["config"] == cfg]["point"]
        curves = [evals[p].set_index("round")[[x, "test_accuracy"]] for p in pts]
        return sum(curves) / len(curves)

    for x, xlabel, fname, scale in (("sim_time_s", "simulated time (s)", "accuracy_vs_time.png", 1),
                                    ("cum_bytes_total", "cumulative traffic, all directions (MB)",
                                     "accuracy_vs_bytes.png", MB)):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for cfg in configs:
            c = mean_curve(cfg, x)
            ax.plot(c[x] / scale, c["test_accuracy"], marker=".", label=cfg)
        ax.axhline(target, color="grey", ls=":", lw=1)
        ax.set(xlabel=xlabel, ylabel="test accuracy (mean over seeds)")
        if scale == MB:
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        save(fig, fname)

    agg = table.groupby("config", sort=False)["final_accuracy"].agg(["mean", "std"])
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(agg) + 2), 4.5))
    ax.bar(range(len(agg)), agg["mean"], yerr=agg["std"].fillna(0), capsize=3)
    ax.set_xticks(range(len(agg)))
    ax.set_xticklabels(agg.index, rotation=45, ha="right", fontsize=7)
    ax.set(ylabel="final test accuracy")
    save(fig, "final_accuracy.png")

    numeric = [g for g in grid if pd.api.types.is_numeric_dtype(table[g])]
    if numeric and table["codec_rel_error_mean"].notna().any():
        fig, axes = plt.subplots(1, len(numeric), figsize=(5 * len(numeric), 4), squeeze=False)
        for ax, g in zip(axes[0], numeric):
            others = [o for o in grid if o != g]
            groups = (table.groupby(others if len(others) > 1 else others[0], sort=False)
                      if others else [("all", table)])
            for key, sub in groups:
                m = sub.groupby(g)["codec_rel_error_mean"].mean()
                ax.plot(m.index, m.values, marker="o", label=str(key))
            ax.set(xlabel=g, ylabel="uplink codec relative L2 error (mean)")
            ax.grid(alpha=0.3)
            if others:
                ax.legend(fontsize=7, title=", ".join(o.split(".")[-1] for o in others))
        save(fig, "codec_error.png")

    rows = []
    for cfg in configs:
        sub = table[table["config"] == cfg]
        t = [first_reaching(evals[p], target, "sim_time_s") for p in sub["point"]]
        up = [first_reaching(evals[p], target, "cum_bytes_up") / MB for p in sub["point"]]
        tot = [first_reaching(evals[p], target, "cum_bytes_total") / MB for p in sub["point"]]

        def ms(v):
            s = pd.Series(v)
            return (float(s.mean()) if s.notna().all() else math.nan), float(s.std())

        rows.append([cfg, fmt(*ms(list(sub["final_accuracy"])), 4), fmt(*ms(t), 2),
                     fmt(*ms(up), 3), fmt(*ms(tot), 3),
                     fmt(*ms(list(sub["codec_rel_error_mean"])), 3), str(len(sub))])
    header = ["configuration", "final accuracy", f"time to {target:g} (s)",
              f"uplink MB to {target:g}", f"all MB to {target:g}", "codec rel. error", "seeds"]
    md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(f"Target accuracy {target:g}; mean ± std over seeds; 'not reached' if any seed "
                "did not reach it.\n\n" + "\n".join(md) + "\n")
    written.append("table.md")
    print(f"plot_sweep: {out}/: " + ", ".join(written))


if __name__ == "__main__":
    main()
