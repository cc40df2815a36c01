#!/usr/bin/env python3
"""Which configuration of a sweep should I use? analysis/plot_sweep.py SWEEP_DIR [--out DIR]
[--target ACC]

Reads SWEEP_DIR/sweep.csv and each point's manifest.json, eval.csv and steps.csv, groups the points
into configurations (same resolved scenario but for the seed; seeds give mean and spread) and
writes into SWEEP_DIR/plots/ (or --out), removing its own stale outputs first:
  table.md              per configuration: uplink bits per element (payload and on the wire),
                        compression ratio, final/best accuracy, time and bytes to the target; and
                        the cheapest configuration reaching the target in time and in bytes
  configurations.csv    the same numbers, machine-readable
  accuracy_vs_bits.png  final and best accuracy vs uplink bits per element, per method
  to_target_vs_bits.png simulated time and uplink bytes to the target vs bits per element
  pareto.png            final accuracy vs simulated time and vs uplink bytes, Pareto front marked
  accuracy_vs_time.png, accuracy_vs_bytes.png   mean curve per configuration
  final_accuracy.png    final accuracy per configuration (mean +- std over seeds)
  codec_error.png       uplink codec error vs bits per element, per method
Target: --target, else the scenario's training.target_accuracy, else 90 % of the best
configuration's best accuracy (the table says which).
"""
import argparse
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.transforms as mtransforms  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labels import (METHOD_LABEL, log_axis, make_labels, method_rank, other_key,  # noqa: E402
                    styles)
from slsim_results import (first_reaching, mean_std, point_dir, read_sweep,  # noqa: E402
                           run_info)

MB = 1e6
OUTPUTS = ("table.md", "configurations.csv", "accuracy_vs_bits.png", "to_target_vs_bits.png",
           "pareto.png", "accuracy_vs_time.png", "accuracy_vs_bytes.png", "final_accuracy.png",
           "codec_error.png")


def fmt(mean, std, digits=3, scale=1.0):
    if mean is None or math.isnan(mean):
        return "–"
    s = f"{mean * scale:.{digits}f}"
    return s + (f" ± {std * scale:.{digits}f}" if std is not None and not math.isnan(std) else "")


def load(sweep_dir):
    """(configs, points): one row per configuration (sweep order) and per point."""
    table, _ = read_sweep(sweep_dir)
    points, skipped = [], []
    for _, r in table.iterrows():
        d = point_dir(sweep_dir, r["point"])
        if not os.path.exists(os.path.join(d, "eval.csv")):
            continue
        info = run_info(d)
        if info["eval"].empty:  # diverged before its first evaluation
            skipped.append(r["point"])
            continue
        info["point"] = r["point"]
        feats = dict(info["features"])
        info["key"] = repr(sorted(feats.items()))
        points.append(info)
    if not points:
        sys.exit(f"plot_sweep: {sweep_dir}: no finished points")
    keys = list(dict.fromkeys(p["key"] for p in points))
    firsts = [next(p for p in points if p["key"] == k) for k in keys]
    labels = make_labels([p["features"] for p in firsts])
    others = other_key([p["features"] for p in firsts])
    configs = pd.DataFrame({"key": keys, "label": labels, "other": others,
                            "method": [p["method"] for p in firsts],
                            "codec": [p["codec"] for p in firsts],
                            "payload_bits": [p["payload_bits"] for p in firsts]})
    order = list(zip(configs["payload_bits"], configs["label"]))
    configs["style"] = styles(list(configs["method"]), order, others)
    for p in points:
        p["label"] = labels[keys.index(p["key"])]
    return configs, points, skipped


def choose_target(a, points):
    if a.target is not None:
        return a.target, "given with --target"
    targets = sorted({p["target"] for p in points if p["target"]})
    if targets:
        note = "the scenario's `training.target_accuracy`"
        if len(targets) > 1:
            note += f" (configurations differ: {targets}; the highest is used)"
        return targets[-1], note
    best = max(float(p["eval"]["test_accuracy"].max()) for p in points)
    return round(0.9 * best, 4), ("fallback: the scenario sets no `training.target_accuracy`; "
                                  "90 % of the best configuration's best accuracy")


def aggregate(configs, points, target):
    rows = []
    for _, c in configs.iterrows():
        pts = [p for p in points if p["key"] == c["key"]]
        row = {"configuration": c["label"], "method": c["method"], "codec": c["codec"],
               "seeds": len(pts), "payload_bits": c["payload_bits"]}
        row["wire_bits"], _ = mean_std([p["wire_bits"] for p in pts])
        row["compression_ratio"] = 32.0 / c["payload_bits"] if c["payload_bits"] else math.nan
        row["wire_ratio"] = 32.0 / row["wire_bits"] if row["wire_bits"] else math.nan
        per = {
            "final_accuracy": [float(p["eval"]["test_accuracy"].iloc[-1]) for p in pts],
            "best_accuracy": [float(p["eval"]["test_accuracy"].max()) for p in pts],
            "sim_time_s": [float(p["eval"]["sim_time_s"].iloc[-1]) for p in pts],
            "bytes_up": [float(p["eval"]["cum_bytes_up"].iloc[-1]) for p in pts],
            "bytes_total": [float(p["eval"]["cum_bytes_total"].iloc[-1]) for p in pts],
            "time_to_target_s": [first_reaching(p["eval"], target, "sim_time_s") for p in pts],
            "up_to_target": [first_reaching(p["eval"], target, "cum_bytes_up") for p in pts],
            "total_to_target": [first_reaching(p["eval"], target, "cum_bytes_total")
                                for p in pts],
            "codec_rel_error": [p["codec_rel_error"] for p in pts],
        }
        row["reached"] = sum(not math.isnan(t) for t in per["time_to_target_s"])
        for k, v in per.items():
            row[k], row[k + "_std"] = mean_std(v)
            if k.endswith("to_target") or k == "time_to_target_s":
                if row["reached"] < len(pts):  # not every seed reached it: no mean
                    row[k] = math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def cheapest(agg, column, unit, scale, digits):
    ok = agg[agg[column].notna()].sort_values(column)
    if not len(ok):
        return "no configuration reaches the target with every seed"
    best = ok.iloc[0]
    text = (f"**{best['configuration']}** ({best['payload_bits']:.3g} bits per element, "
            f"compression ×{best['compression_ratio']:.3g}): "
            f"{fmt(best[column], best[column + '_std'], digits, scale)} {unit}")
    if len(ok) > 1:
        nxt = ok.iloc[1]
        spread = math.hypot(*(0 if math.isnan(x) else x
                              for x in (best[column + "_std"], nxt[column + "_std"])))
        gap = nxt[column] - best[column]
        text += (f"; next: {nxt['configuration']} "
                 f"({fmt(nxt[column], nxt[column + '_std'], digits, scale)} {unit})")
        if best["seeds"] < 2:
            text += ", one seed: no spread to judge the gap"
        elif gap <= spread:
            text += ", a tie within the seed spread"
    return text


def write_table(out, agg, target, note, skipped):
    header = ["configuration", "codec (uplink)", "bits/elem payload", "bits/elem wire",
              "compression ×", "final accuracy", "best accuracy", f"time to {target:g} (s)",
              f"uplink MB to {target:g}", f"all MB to {target:g}", "codec rel. error",
              "seeds reaching"]
    md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, r in agg.iterrows():
        md.append("| " + " | ".join([
            r["configuration"], r["codec"], f"{r['payload_bits']:.3g}",
            fmt(r["wire_bits"], None, 2), f"{r['compression_ratio']:.3g}",
            fmt(r["final_accuracy"], r["final_accuracy_std"], 4),
            fmt(r["best_accuracy"], r["best_accuracy_std"], 4),
            fmt(r["time_to_target_s"], r["time_to_target_s_std"], 2),
            fmt(r["up_to_target"], r["up_to_target_std"], 3, 1 / MB),
            fmt(r["total_to_target"], r["total_to_target_std"], 3, 1 / MB),
            fmt(r["codec_rel_error"], r["codec_rel_error_std"], 3),
            f"{r['reached']}/{r['seeds']}"]) + " |")
    text = [f"# Which configuration? Target accuracy {target:g} ({note})", "",
            "- Cheapest in simulated time to the target: "
            + cheapest(agg, "time_to_target_s", "s", 1, 2),
            "- Cheapest in uplink bytes to the target: "
            + cheapest(agg, "up_to_target", "MB", 1 / MB, 3),
            "- Cheapest in all bytes (uplink, downlink, weight sync) to the target: "
            + cheapest(agg, "total_to_target", "MB", 1 / MB, 3), "",
            "Mean ± standard deviation over seeds; a time or traffic to the target only where "
            "every seed reached it ('seeds reaching'). Bits per element of the uplink cut "
            "activations: payload = the codec's own cost (headers ignored), wire = uplink bytes "
            "sent per activation element (headers, labels and framing included); compression = "
            "32 / payload bits." + (f" Left out: {len(skipped)} points with no evaluation "
                                    f"(diverged before the first): {', '.join(skipped)}."
                                    if skipped else ""), ""] + md
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write("\n".join(text) + "\n")


def mean_curve(pts, x):
    """Mean over seeds of (x, accuracy) by evaluation index (seeds share evaluation times)."""
    n = min(len(p["eval"]) for p in pts)
    xs = sum(p["eval"][x].iloc[:n].to_numpy(dtype=float) for p in pts) / len(pts)
    ys = sum(p["eval"]["test_accuracy"].iloc[:n].to_numpy(dtype=float) for p in pts) / len(pts)
    return xs, ys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir")
    ap.add_argument("--out", help="output folder (default SWEEP_DIR/plots)")
    ap.add_argument("--target", type=float,
                    help="target accuracy (default: the scenario's training.target_accuracy, "
                         "else 90 %% of the best configuration's best accuracy)")
    a = ap.parse_args()
    if not os.path.exists(os.path.join(a.sweep_dir, "sweep.csv")):
        print(f"plot_sweep: {a.sweep_dir}/sweep.csv: no such file (run slsim sweep first)",
              file=sys.stderr)
        sys.exit(2)
    out = a.out or os.path.join(a.sweep_dir, "plots")
    os.makedirs(out, exist_ok=True)
    for f in OUTPUTS:  # stale results of an earlier run
        if os.path.exists(os.path.join(out, f)):
            os.remove(os.path.join(out, f))
    configs, points, skipped = load(a.sweep_dir)
    target, note = choose_target(a, points)
    agg = aggregate(configs, points, target)
    write_table(out, agg, target, note, skipped)
    agg.to_csv(os.path.join(out, "configurations.csv"), index=False, float_format="%.6g")
    written = ["table.md", "configurations.csv"]
    style = dict(zip(configs["label"], configs["style"]))
    many = len(configs) > 1
    codec_title = (f"uplink codec {configs['codec'].iloc[0]}" if not many
                   or configs["codec"].nunique() == 1 else "uplink codec per configuration")

    def save(fig, fname, legend_ax=None, title="configuration"):
        if legend_ax is not None:
            h, lab = legend_ax.get_legend_handles_labels()
            ncol = 1 if len(lab) <= 16 else 2
            fig.legend(h, lab, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7,
                       ncol=ncol, frameon=False, title=title, title_fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, fname), dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(fname)

    def mark_target(ax, horizontal=True):
        if horizontal:
            ax.axhline(target, color="grey", ls=":", lw=1)
            ax.annotate(f"target {target:g}", (0.005, target), xycoords=("axes fraction", "data"),
                        fontsize=7, color="grey", va="bottom")

    # Curves per configuration.
    for fname, panels in (("accuracy_vs_time.png", [("sim_time_s", "simulated time (s)", 1)]),
                          ("accuracy_vs_bytes.png",
                           [("cum_bytes_up", "cumulative uplink traffic (MB)", MB),
                            ("cum_bytes_total", "cumulative traffic, all directions (MB)", MB)])):
        fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
        for ax, (x, xlabel, scale) in zip(axes[0], panels):
            for _, c in configs.iterrows():
                xs, ys = mean_curve([p for p in points if p["key"] == c["key"]], x)
                colour, marker = c["style"]
                ax.plot(xs / scale, ys, color=colour, marker=marker, ms=4, lw=1.2,
                        label=c["label"])
            mark_target(ax)
            ax.set(xlabel=xlabel, ylabel="test accuracy (mean over seeds)")
            if scale == MB:
                log_axis(ax.xaxis)
            ax.grid(alpha=0.3)
        fig.suptitle(f"{os.path.basename(os.path.abspath(a.sweep_dir))}: {codec_title}",
                     fontsize=10)
        save(fig, fname, legend_ax=axes[0][0])

    # Accuracy, time and bytes to the target vs bits per element: one line per method (per MS
    # code width where it varies, and per other varying setting), through its configurations in
    # order of bits.
    ms_bits = {f["features"].get("codec.uplink.bits") for f in points if f["method"] == "ms"}
    line = [METHOD_LABEL.get(m, m)
            + (f" b={p['features'].get('codec.uplink.bits')}" if m == "ms" and len(ms_bits) > 1
               else "") + (f", {o}" if o else "")
            for m, o, p in zip(configs["method"], configs["other"],
                               [next(q for q in points if q["key"] == k) for k in configs["key"]])]
    table = agg.assign(other=list(configs["other"]), line=line)
    groups = [(sub["method"].iloc[0], name, sub.sort_values("payload_bits"))
              for name, sub in table.groupby("line", sort=False)]
    first = {name: i for i, name in reversed(list(enumerate(line)))}
    groups.sort(key=lambda g: (method_rank(g[0]), first[g[1]]))  # methods, then sweep order
    group_style = dict(zip([g[1] for g in groups], styles(
        [g[0] for g in groups], [g[1] for g in groups],
        [g[2]["other"].iloc[0] for g in groups])))
    if configs["other"].nunique() == 1:  # markers only where another setting varies
        group_style = {k: (c, "o") for k, (c, _) in group_style.items()}

    def bits_axis(ax):
        """Log2 axis of bits per element with a tick at every value the sweep has."""
        bits = sorted(set(agg["payload_bits"]))
        ax.set_xscale("log", base=2)
        ax.set_xlim(bits[0] / 1.15, bits[-1] * 1.15)
        ticks = [bits[0]]
        span = bits[-1] / bits[0] * 1.15 ** 2
        for b in bits[1:]:  # no two labels closer than a tenth of the axis (they would overlap)
            if b / ticks[-1] >= max(1.12, span ** 0.1):
                ticks.append(b)
        if len(ticks) <= 14:
            ax.set_xticks(ticks)
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.3g}"))

    def by_bits(fname, panels, title):
        fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.3), squeeze=False)
        for ax, (col, ylabel, scale, is_acc) in zip(axes[0], panels):
            for i, (_, name, sub) in enumerate(groups):
                colour, marker = group_style[name]
                ok = sub[sub[col].notna()]
                nudge = 1 + 0.015 * (i - (len(groups) - 1) / 2)  # error bars side by side
                ax.errorbar(ok["payload_bits"] * nudge, ok[col] * scale,
                            yerr=ok[col + "_std"].fillna(0) * scale, color=colour, marker=marker,
                            ms=5, capsize=3, lw=1.2, label=name)
                miss = sub[sub[col].isna()]
                if len(miss) and not is_acc:
                    tr = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
                    ax.scatter(miss["payload_bits"], [0.97] * len(miss), transform=tr,
                               marker="x", color=colour, s=30)
            if is_acc:
                mark_target(ax)
            elif agg[col].isna().any() and ax is axes[0][0]:
                ax.scatter([], [], marker="x", color="grey", label="(top edge) not reached\n"
                           "by every seed")
            bits_axis(ax)
            if not agg[col].notna().any():
                ax.text(0.5, 0.5, "no configuration reached the target", ha="center",
                        transform=ax.transAxes, color="grey")
            ax.set(xlabel="uplink bits per element (payload; 32 = uncompressed)", ylabel=ylabel)
            ax.grid(alpha=0.3)
        fig.suptitle(title, fontsize=10)
        save(fig, fname, legend_ax=axes[0][0], title="method")

    by_bits("accuracy_vs_bits.png",
            [("final_accuracy", "final test accuracy", 1, True),
             ("best_accuracy", "best test accuracy", 1, True)],
            "accuracy vs compression (mean ± std over seeds)")
    by_bits("to_target_vs_bits.png",
            [("time_to_target_s", f"simulated time to {target:g} accuracy (s)", 1, False),
             ("up_to_target", f"uplink MB to {target:g} accuracy", 1 / MB, False)],
            f"cost of reaching the target {target:g} vs compression (mean ± std over seeds)")

    # Pareto fronts: final accuracy vs the run's simulated time and uplink bytes.
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for ax, (col, xlabel, scale) in zip(axes, (("sim_time_s", "simulated time of the run (s)", 1),
                                               ("bytes_up", "uplink traffic of the run (MB)",
                                                1 / MB))):
        for _, r in agg.iterrows():
            colour, marker = style[r["configuration"]]
            ax.errorbar(r[col] * scale, r["final_accuracy"],
                        xerr=0 if math.isnan(r[col + "_std"]) else r[col + "_std"] * scale,
                        yerr=0 if math.isnan(r["final_accuracy_std"]) else r["final_accuracy_std"],
                        color=colour, marker=marker, ms=6, capsize=2, lw=1,
                        label=r["configuration"])
        front, best = [], -math.inf
        for _, r in agg.sort_values([col, "final_accuracy"], ascending=[True, False]).iterrows():
            if r["final_accuracy"] > best:
                front.append(r)
                best = r["final_accuracy"]
        ax.step([r[col] * scale for r in front], [r["final_accuracy"] for r in front],
                where="post", color="grey", lw=1, ls="--", zorder=0, label="_front")
        for r in front:
            ax.annotate(r["configuration"], (r[col] * scale, r["final_accuracy"]), fontsize=6,
                        xytext=(4, -8), textcoords="offset points")
        mark_target(ax)
        ax.set(xlabel=xlabel, ylabel="final test accuracy (mean ± std over seeds)")
        if scale != 1:
            log_axis(ax.xaxis)
        ax.grid(alpha=0.3)
    fig.suptitle("Pareto front (dashed; named): no other configuration is both cheaper and "
                 "more accurate", fontsize=10)
    save(fig, "pareto.png", legend_ax=axes[0])

    # Final accuracy per configuration (horizontal bars: long labels stay readable).
    fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(agg) + 1.2)))
    ys = list(range(len(agg)))[::-1]
    ax.barh(ys, agg["final_accuracy"], xerr=agg["final_accuracy_std"].fillna(0), capsize=2,
            color=[style[lab][0] for lab in agg["configuration"]])
    ax.set_yticks(ys)
    ax.set_yticklabels(agg["configuration"], fontsize=7)
    ax.axvline(target, color="grey", ls=":", lw=1)
    ax.set(xlabel=f"final test accuracy (mean ± std over seeds; dotted: target {target:g})")
    ax.grid(alpha=0.3, axis="x")
    save(fig, "final_accuracy.png")

    if agg["codec_rel_error"].notna().any():
        fig, ax = plt.subplots(figsize=(6.5, 4.3))
        for _, name, sub in groups:
            ok = sub[sub["codec_rel_error"].notna() & (sub["codec_rel_error"] > 0)]
            if not len(ok):
                continue
            colour, marker = group_style[name]
            ax.errorbar(ok["payload_bits"], ok["codec_rel_error"],
                        yerr=ok["codec_rel_error_std"].fillna(0), color=colour, marker=marker,
                        capsize=3, label=name)
        bits_axis(ax)
        ax.set_yscale("log")
        ax.set(xlabel="uplink bits per element (payload)",
               ylabel="uplink codec relative L2 error (mean over steps)")
        ax.grid(alpha=0.3)
        save(fig, "codec_error.png", legend_ax=ax, title="method")
    print(f"plot_sweep: {out}/: " + ", ".join(written))


if __name__ == "__main__":
    main()
