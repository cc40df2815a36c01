#!/usr/bin/env python3
"""Several runs on shared axes: analysis/compare.py RUN_DIR... [--out DIR] [--target ACC]

Each RUN_DIR is a run folder (`slsim run --out`, a sweep's points/<id>/) or a whole sweep folder
(all its finished points). Runs with the same configuration but for the seed are averaged (mean
curve, the seeds' range shaded); labels name only what differs between the runs' configurations
(from their manifest.json), e.g. "MS s=0.99 b=2, cut=deep". Writes into --out (default
./compare), removing its own stale outputs first: compare.png (accuracy vs simulated time, vs
uplink bytes, vs all bytes, vs epoch, one legend) and compare.md (final and best accuracy, time
and traffic to the target per configuration).
"""
import argparse
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labels import log_axis, make_labels, other_key, styles  # noqa: E402
from slsim_results import first_reaching, mean_std, run_info  # noqa: E402

MB = 1e6
OUTPUTS = ("compare.png", "compare.md")


def run_dirs(paths):
    """Run folders named on the command line: a folder with eval.csv, or a sweep's points."""
    out = []
    for p in paths:
        if os.path.exists(os.path.join(p, "eval.csv")):
            out.append(p)
        elif os.path.isdir(os.path.join(p, "points")):
            folder = os.path.join(p, "points")
            pts = sorted(os.path.join(folder, d) for d in os.listdir(folder))
            out += [d for d in pts if os.path.exists(os.path.join(d, "eval.csv"))]
        else:
            print(f"compare: {p}: not a run folder (no eval.csv) nor a sweep folder (no points/)",
                  file=sys.stderr)
            sys.exit(2)
    if not out:
        print("compare: no finished runs in " + " ".join(paths), file=sys.stderr)
        sys.exit(2)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", metavar="RUN_DIR")
    ap.add_argument("--out", default="compare", help="output folder (default ./compare)")
    ap.add_argument("--target", type=float,
                    help="target accuracy (default: the runs' training.target_accuracy, else "
                         "90 %% of the best accuracy)")
    a = ap.parse_args()
    runs = []
    for d in run_dirs(a.runs):
        r = run_info(d)
        if r["eval"].empty:  # diverged before its first evaluation
            print(f"compare: {d}/eval.csv has no evaluations: left out", file=sys.stderr)
            continue
        r["key"] = repr(sorted(r["features"].items()))
        runs.append(r)
    if not runs:
        print("compare: no run with evaluations", file=sys.stderr)
        sys.exit(2)
    keys = list(dict.fromkeys(r["key"] for r in runs))
    firsts = [next(r for r in runs if r["key"] == k) for k in keys]
    labels = make_labels([r["features"] for r in firsts])
    if len(keys) == 1:  # one configuration: name it by its codec
        labels = [firsts[0]["codec"]]
    others = other_key([r["features"] for r in firsts])
    style = styles([r["method"] for r in firsts],
                   [(r["payload_bits"], lab) for r, lab in zip(firsts, labels)], others)
    target = a.target
    note = "given with --target"
    if target is None:
        ts = sorted({r["target"] for r in runs if r["target"]})
        target, note = (ts[-1], "the runs' training.target_accuracy") if ts else (None, "")
    if target is None:
        target = round(0.9 * max(float(r["eval"]["test_accuracy"].max()) for r in runs), 4)
        note = "90 % of the best accuracy; the runs set no target"

    os.makedirs(a.out, exist_ok=True)
    for f in OUTPUTS:
        if os.path.exists(os.path.join(a.out, f)):
            os.remove(os.path.join(a.out, f))
    panels = [("sim_time_s", "simulated time (s)", 1, False),
              ("cum_bytes_up", "cumulative uplink traffic (MB)", MB, True),
              ("cum_bytes_total", "cumulative traffic, all directions (MB)", MB, True),
              ("epoch", "epoch (steps served / steps per round)", 1, False)]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for ax, (x, xlabel, scale, logx) in zip(axes.flat, panels):
        for k, lab, (colour, marker) in zip(keys, labels, style):
            group = [r for r in runs if r["key"] == k]
            n = min(len(r["eval"]) for r in group)
            xs = sum(r["eval"][x].iloc[:n].to_numpy(float) for r in group) / len(group) / scale
            ys = [r["eval"]["test_accuracy"].iloc[:n].to_numpy(float) for r in group]
            ax.plot(xs, sum(ys) / len(ys), color=colour, marker=marker, ms=4, lw=1.3,
                    label=lab + (f" ({len(group)} seeds)" if len(group) > 1 else ""))
            if len(group) > 1:
                lo = [min(v) for v in zip(*ys)]
                hi = [max(v) for v in zip(*ys)]
                ax.fill_between(xs, lo, hi, color=colour, alpha=0.15, lw=0)
        ax.axhline(target, color="grey", ls=":", lw=1)
        ax.set(xlabel=xlabel, ylabel="test accuracy")
        if logx:
            log_axis(ax.xaxis)
        if x == "epoch":
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    h, lab = axes[0][0].get_legend_handles_labels()
    h.append(plt.Line2D([], [], color="grey", ls=":"))
    lab.append(f"target {target:g} ({note})")
    fig.legend(h, lab, loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=8, frameon=False,
               ncol=2 if len(lab) > 6 else 1)
    fig.suptitle("mean over seeds; shaded: the seeds' range", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, "compare.png"), dpi=110, bbox_inches="tight")
    plt.close(fig)

    rows = []
    for k, lab in zip(keys, labels):
        group = [r for r in runs if r["key"] == k]

        def ms(values, scale=1.0, digits=3):
            m, sd = mean_std(values)
            if any(math.isnan(v) for v in values):
                return f"not reached ({sum(not math.isnan(v) for v in values)}/{len(values)})"
            return f"{m / scale:.{digits}f}" + (f" ± {sd / scale:.{digits}f}" if sd == sd else "")

        ev = [r["eval"] for r in group]
        rows.append([lab, group[0]["codec"], f"{group[0]['payload_bits']:.3g}", str(len(group)),
                     ms([float(e["test_accuracy"].iloc[-1]) for e in ev], digits=4),
                     ms([float(e["test_accuracy"].max()) for e in ev], digits=4),
                     ms([first_reaching(e, target, "sim_time_s") for e in ev], digits=2),
                     ms([first_reaching(e, target, "cum_bytes_up") for e in ev], MB),
                     ms([first_reaching(e, target, "cum_bytes_total") for e in ev], MB),
                     ", ".join(r["dir"] for r in group)])
    header = ["run", "uplink codec", "bits/elem", "seeds", "final accuracy", "best accuracy",
              f"time to {target:g} (s)", f"uplink MB to {target:g}", f"all MB to {target:g}",
              "folders"]
    md = [f"# Comparison of {len(runs)} runs ({len(keys)} configurations)", "",
          f"Target accuracy {target:g} ({note}); mean ± std over seeds.", "",
          "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    with open(os.path.join(a.out, "compare.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print(f"compare: {len(runs)} runs -> {a.out}/compare.png, {a.out}/compare.md")


if __name__ == "__main__":
    main()
