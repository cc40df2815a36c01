"""The wall-clock story of results/REPRODUCTION.md (issue 19): time, traffic and energy to accuracy
over the paper's WiFi testbed and the heterogeneous edge network, with the downlink gradients
compressed too.

Reads RESULTS_DIR/wallclock/<network>/ (the sweeps scenarios/reproduce/wallclock-<network>.json
that scripts/reproduce runs) and returns the report's section; analysis/reproduction.py calls it.
Every number and statement is computed here from the runs' CSV.
"""
import json
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

import reproduction as rep  # noqa: E402

NETWORKS = {"testbed": "the paper's WiFi testbed (802.11n, 10 stations, MCS 5)",
            "edge": "the heterogeneous edge network"}
# Settings: the uplink method key (reproduction.method_key), "+<downlink key>" when the gradients
# are compressed too.
CONFIGS = ["none", "ms", "quantize", "qu_eq", "ms+ms", "qu_eq+qu_eq"]
LABEL = {"none": "uncompressed", "ms": "MS ↑", "quantize": "QU 3 b ↑ (paper's budget)",
         "qu_eq": "QU 2 b ↑ (equal budget)", "ms+ms": "MS ↑ + MS-sign ↓",
         "qu_eq+qu_eq": "QU 2 b ↑ + QU 2 b ↓"}
# Each downlink-compressed setting against the same uplink codec with fp32 gradients.
UPLINK_ONLY = {"ms+ms": "ms", "qu_eq+qu_eq": "qu_eq"}
STYLE = {"none": ("black", "-"), "ms": ("tab:red", "-"), "quantize": ("tab:blue", ":"),
         "qu_eq": ("tab:cyan", "-."), "ms+ms": ("tab:red", "--"),
         "qu_eq+qu_eq": ("tab:cyan", "--")}
# The target: this fraction of the uncompressed runs' best accuracy (mean over seeds) on the same
# network, as the report's other time tables (reproduction.TARGETS[-1]).
TARGET = rep.TARGETS[-1]


def config_key(codec):
    up = rep.method_key(codec["uplink"])
    down = codec.get("downlink", {"method": "none"})
    return up if down["method"] == "none" else f"{up}+{rep.method_key(down)}"


# ---------------------------------------------------------------- reading
def read_wallclock(root):
    """One row per finished run of RESULTS_DIR/wallclock/<network>/points/*: its evaluations (t=0
    left out), run totals and energy per device."""
    rows = []
    for net in NETWORKS:
        folder = os.path.join(root, "wallclock", net, "points")
        if not os.path.isdir(folder):
            continue
        for point in sorted(os.listdir(folder)):
            d = os.path.join(folder, point)
            if not os.path.exists(os.path.join(d, "summary.csv")):
                continue
            m = json.load(open(os.path.join(d, "manifest.json")))
            sc = m["scenario"]
            ev = pd.read_csv(os.path.join(d, "eval.csv"))
            ev = ev[ev["steps"] > 0].reset_index(drop=True)
            s = pd.read_csv(os.path.join(d, "summary.csv")).iloc[0]
            devices = len(pd.read_csv(os.path.join(d, "devices.csv")))
            rows.append({
                "network": net, "config": config_key(sc["codec"]), "seed": sc["seed"], "dir": d,
                "eval": ev, "final": float(s["final_accuracy"]), "diverged": int(s["diverged"]),
                "sim_time_s": float(s["sim_time_s"]), "bytes_up": float(s["bytes_up"]),
                "bytes_down": float(s["bytes_down"]), "devices": devices,
                "compute_j": float(s["compute_j"]) / devices,
                "radio_j": float(s["radio_j"]) / devices,
                "comm_s": float(s["mean_comm_s"]),
                "step_s": float(s["mean_comm_s"] + s["mean_device_compute_s"]
                                + s["mean_server_compute_s"] + s["mean_queue_s"]),
                "wall_s": float(s["wall_time_s"]), "n_test": rep.test_size(sc),
                "chance": rep.chance_level(m)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- statistics
def to_target(ev, target):
    """(simulated s, uplink + downlink bytes, the time of the evaluation before it) at the first
    evaluation at or above target; NaNs when never reached. The crossing lies between the two
    evaluations: the earlier one's time bounds the resolution."""
    hit = ev.index[ev["test_accuracy"] >= target - 1e-12]
    if not len(hit):
        return math.nan, math.nan, math.nan
    i = hit[0]
    prev = float(ev["sim_time_s"].iloc[i - 1]) if i > 0 else 0.0
    r = ev.iloc[i]
    return float(r["sim_time_s"]), float(r["cum_bytes_up"] + r["cum_bytes_down"]), prev


class Mean:
    """Mean of per-seed values with its standard error: the seeds' spread (n >= 2) combined with
    an extra per-value variance (the evaluation grid's resolution for times to target)."""

    def __init__(self, values, extra_var=None):
        pairs = [(v, e) for v, e in zip(values, extra_var or [0.0] * len(values))
                 if not math.isnan(v)]
        self.n = len(pairs)
        self.all = self.n == len(values) and self.n > 0
        self.mean = sum(v for v, _ in pairs) / self.n if self.n else math.nan
        sd2 = (sum((v - self.mean) ** 2 for v, _ in pairs) / (self.n - 1) if self.n >= 2
               else math.nan)
        grid = sum(e for _, e in pairs) / self.n if self.n else math.nan
        self.se = (math.sqrt(((sd2 if sd2 == sd2 else 0.0) + grid) / self.n) if self.n
                   else math.nan)
        self.seeds_known = self.n >= 2


def ratio(base, other):
    """base.mean / other.mean with its standard error (first-order propagation) and a verdict:
    +1 other is smaller (faster, fewer bytes), 0 a tie within Z standard errors, -1 larger."""
    if not (base.all and other.all) or other.mean <= 0:
        return math.nan, math.nan, 0
    r = base.mean / other.mean
    rel = math.sqrt((base.se / base.mean) ** 2 + (other.se / other.mean) ** 2)
    se = r * rel
    verdict = 0 if abs(r - 1) <= rep.Z * se else (1 if r > 1 else -1)
    return r, se, verdict


def config_stats(runs, net):
    """Per setting on one network: accuracy (reproduction.Acc), time and traffic to the target,
    whole-run bytes and energy per device, means over seeds."""
    sel = runs[runs.network == net]
    base = sel[sel.config == "none"]
    if not len(base):
        return None, {}
    best = sum(r["eval"]["test_accuracy"].max() for _, r in base.iterrows()) / len(base)
    target = TARGET * best
    out = {}
    for c in CONFIGS:
        s = sel[sel.config == c]
        if not len(s):
            continue
        hits = [to_target(r["eval"], target) for _, r in s.iterrows()]
        # A crossing anywhere between the previous evaluation and this one: uniform, variance
        # width^2 / 12.
        grid = [(t - p) ** 2 / 12 if not math.isnan(t) else 0.0 for t, _, p in hits]
        out[c] = {
            "acc": rep.Acc(list(s["final"]), s.iloc[0]["n_test"], s.iloc[0]["chance"]),
            "time": Mean([t for t, _, _ in hits], grid),
            "bytes": Mean([b for _, b, _ in hits]),
            "run_time": Mean(list(s["sim_time_s"])),
            "up": Mean(list(s["bytes_up"])), "down": Mean(list(s["bytes_down"])),
            "compute_j": Mean(list(s["compute_j"])), "radio_j": Mean(list(s["radio_j"])),
            "energy_j": Mean(list(s["compute_j"] + s["radio_j"])),
            # Energy to the target, pro rata of the run's energy (the radio listens and idles
            # through the whole run, the compute is spread evenly over the rounds).
            "energy_to_target_j": Mean([(r["compute_j"] + r["radio_j"]) * h[0] / r["sim_time_s"]
                                        for (_, r), h in zip(s.iterrows(), hits)]),
            "comm_share": float((s["comm_s"] / s["step_s"]).mean()),
            "seeds": len(s), "diverged": int(s["diverged"].sum())}
    return target, out


# ---------------------------------------------------------------- formatting
def fmt(m, scale=1.0, digits=1):
    if not m.n:
        return "never"
    text = f"{m.mean * scale:.{digits}f}"
    if m.seeds_known or m.se > 0:
        text += f" ± {m.se * scale:.{digits}f}"
    return text if m.all else f"{text} ({m.n} of the seeds)"


def fmt_ratio(r, se, verdict):
    if math.isnan(r):
        return "–"
    return f"{r:.2f}× ± {se:.2f}" + (" (tie)" if verdict == 0 else "")


def table(stats, energy):
    header = ["setting", "final acc. %", "Δ vs uncompressed (points)", "s to target",
              "time speed-up", "MB up+down to target", "traffic ×", "s for the run",
              "run speed-up", "comm share"]
    if energy:
        header += ["J per device (run)", "of which radio", "J per device to target"]
    base = stats["none"]
    rows = []
    for c in CONFIGS:
        if c not in stats:
            continue
        st = stats[c]
        v, d, se = rep.compare_acc(st["acc"], base["acc"])
        delta = "–" if c == "none" else f"{100 * d:+.1f} ± {100 * se:.1f}" + (
            " (tie)" if v == 0 else "")
        row = [LABEL[c], st["acc"].text(), delta, fmt(st["time"], digits=2),
               "–" if c == "none" else fmt_ratio(*ratio(base["time"], st["time"])),
               fmt(st["bytes"], 1e-6), "–" if c == "none" else fmt_ratio(*ratio(base["bytes"],
                                                                                 st["bytes"])),
               fmt(st["run_time"], digits=2),
               "–" if c == "none" else fmt_ratio(*ratio(base["run_time"], st["run_time"])),
               f"{100 * st['comm_share']:.0f} %"]
        if energy:
            row += [fmt(st["energy_j"], digits=2), fmt(st["radio_j"], digits=2),
                    fmt(st["energy_to_target_j"], digits=2)]
        rows.append(row)
    return rep.md_table(header, rows)


def statements(stats, energy):
    """The computed sentences: how much of the uplink saving becomes time to accuracy, what
    compressing the downlink too adds and costs."""
    out = []
    base = stats["none"]
    if base["acc"].at_chance():
        return ["- The uncompressed runs are at chance: no time, traffic or energy statement."]

    def speed(c):
        r, se, v = ratio(base["time"], stats[c]["time"])
        if math.isnan(r):
            return "does not reach the target with every seed"
        if v == 0:
            return f"reaches the target as fast as uncompressed (a tie: {r:.2f}× ± {se:.2f})"
        return (f"reaches the target {r:.2f}× ± {se:.2f} "
                + ("sooner" if v > 0 else "later (a slow-down)"))

    def run_speed(c):
        r, se, v = ratio(base["run_time"], stats[c]["run_time"])
        return (f"the same epochs take {r:.2f}× ± {se:.2f} less simulated time"
                + (" (a tie)" if v == 0 else ""))

    for up in ("ms", "qu_eq"):
        if up not in stats:
            continue
        st = stats[up]
        up_x = base["up"].mean / st["up"].mean
        all_x = (base["up"].mean + base["down"].mean) / (st["up"].mean + st["down"].mean)
        out.append(f"- {LABEL[up]} sends {up_x:.1f}× fewer uplink bytes than uncompressed "
                   f"({all_x:.2f}× fewer bytes in all, the fp32 gradients unchanged): "
                   f"{run_speed(up)}, and it {speed(up)}.")
        both = next((c for c, u in UPLINK_ONLY.items() if u == up and c in stats), None)
        if not both:
            continue
        sb = stats[both]
        all_b = (base["up"].mean + base["down"].mean) / (sb["up"].mean + sb["down"].mean)
        r, se, v = ratio(st["time"], sb["time"])
        gain = ("its gain over the uplink-only run is unknown" if math.isnan(r) else
                (f"a tie with the uplink-only run ({r:.2f}× ± {se:.2f})" if v == 0 else
                 f"{r:.2f}× ± {se:.2f} " + ("sooner" if v > 0 else "later")
                 + " than the uplink-only run"))
        va, d, dse = rep.compare_acc(sb["acc"], st["acc"])
        cost = (f"a tie in final accuracy ({100 * d:+.1f} ± {100 * dse:.1f} points)" if va == 0
                else f"{100 * d:+.1f} ± {100 * dse:.1f} points of final accuracy")
        out.append(f"- With the downlink compressed too ({LABEL[both]}): {all_b:.1f}× fewer "
                   f"bytes in all: {run_speed(both)}, and it {speed(both)}, {gain}; {cost} "
                   f"against {LABEL[up]} alone.")
    if energy:
        for c in ("ms", "ms+ms", "qu_eq", "qu_eq+qu_eq"):
            if c not in stats:
                continue
            r, se, v = ratio(base["energy_j"], stats[c]["energy_j"])
            share = stats[c]["radio_j"].mean / stats[c]["energy_j"].mean
            out.append(f"- Energy per device over the run, {LABEL[c]}: "
                       f"{stats[c]['energy_j'].mean:.2f} J against {base['energy_j'].mean:.2f} J "
                       f"uncompressed ({r:.2f}× ± {se:.2f} less"
                       + (", a tie" if v == 0 else "") + f"; the radio {100 * share:.0f} % "
                       "of it).")
    return out


def plot(runs, path):
    nets = [n for n in NETWORKS if len(runs[runs.network == n])]
    fig, axes = plt.subplots(1, len(nets), figsize=(6.5 * len(nets), 4), squeeze=False)
    for ax, net in zip(axes[0], nets):
        for c in CONFIGS:
            s = runs[(runs.network == net) & (runs.config == c)]
            color, ls = STYLE[c]
            for i, (_, r) in enumerate(s.iterrows()):
                ax.plot(r["eval"]["sim_time_s"], r["eval"]["test_accuracy"], color=color, ls=ls,
                        lw=1.2, label=LABEL[c] if i == 0 else None)
        ax.set_title(NETWORKS[net], fontsize=10)
        ax.set_xlabel("simulated time (s)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test accuracy")
    axes[0][0].legend(fontsize=8)
    rep.save_figure(fig, path, 110)


def runs_table(runs, path):
    """The small per-run results the section is made of (committed with the figures)."""
    cols = ["network", "config", "seed", "final", "diverged", "sim_time_s", "bytes_up",
            "bytes_down", "compute_j", "radio_j", "devices"]
    t = runs[cols].copy()
    t.insert(3, "label", [LABEL[c] for c in t["config"]])
    t.to_csv(path, index=False, float_format="%.6g")


def section(root, figures, rel):
    """The report's wall-clock section, or [] when RESULTS_DIR/wallclock holds no finished run."""
    runs = read_wallclock(root)
    if not len(runs):
        return []
    fig = os.path.join(figures, "wallclock_accuracy_vs_time.png")
    plot(runs, fig)
    runs_table(runs, os.path.join(figures, "wallclock_runs.csv"))
    sc = json.load(open(os.path.join(runs.iloc[0]["dir"], "manifest.json")))["scenario"]
    ds = sc["dataset"]
    out = ["## The wall-clock story: WiFi testbed, edge network, downlink compression", "",
           f"LeNet-5 / Fashion-MNIST at the {sc['model']['cut']} cut, "
           f"{ds['train_subset'] or 'all'} training and {ds['test_subset'] or 'all'} test images, "
           f"{sc['training']['epochs']} epoch(s), over {NETWORKS['testbed']} (sequential "
           "schedule, ns-3's WiFi radio energy model) and "
           f"{NETWORKS['edge']} (SplitFed v2, no energy model), with the current transport "
           "defaults (`scenarios/reproduce/wallclock-*.json`). ↑ uplink activations, ↓ downlink "
           "gradients; every compressed direction at 2.32 bits per element except QU 3 b (the "
           "paper's budget). Target: "
           f"{int(100 * TARGET)} % of the uncompressed runs' best accuracy on that network. "
           "Accuracy ± its standard error (seed spread, never below test-set sampling); times, "
           "bytes and energy mean ± standard error over seeds, times to target also carrying the "
           "evaluation grid's resolution (the crossing lies anywhere since the evaluation "
           f"before); ratios ± first-order propagated error; within {rep.Z:g} standard errors "
           "is a tie. Energy to target is pro rata of the run's energy (the radio listens "
           "through the whole run). Comm share: network share of the step time. "
           f"{len(runs)} runs, {runs['wall_s'].sum() / 60:.1f} min of wall time in all (sum over "
           "runs).", "",
           f"![accuracy vs simulated time]({rel(fig)})", ""]
    for net in NETWORKS:
        target, stats = config_stats(runs, net)
        if not stats:
            continue
        energy = any(s["energy_j"].mean > 0 for s in stats.values())
        seeds = sorted({s["seeds"] for s in stats.values()})
        out += [f"### {NETWORKS[net][0].upper() + NETWORKS[net][1:]}", "",
                f"Target {100 * target:.1f} %; {'/'.join(map(str, seeds))} seed(s) per setting.",
                "", table(stats, energy), ""]
        diverged = [LABEL[c] for c, s in stats.items() if s["diverged"]]
        if diverged:
            out += [f"Diverged (left in, their accuracy as measured): {', '.join(diverged)}.", ""]
        out += statements(stats, energy) + [""]
    return out
