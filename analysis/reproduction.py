#!/usr/bin/env python3
"""Writes results/REPRODUCTION.md and its figures from the CSV that scripts/reproduce emitted.

  analysis/reproduction.py RESULTS_DIR [--md FILE] [--figures DIR] [--paper DIR]

RESULTS_DIR (results/reproduce) holds the four sweeps <dataset>-<network>/ (cifar10-wireless,
cifar10-edge, fashion-wireless, fashion-edge) and probe/<base>-<cut>/{errors,bias}.csv. The paper's
numbers come from analysis/paper/ (fig3_curves.csv, fig2_errors.csv, committed with their provenance
in analysis/paper/README.md) or --paper. Every number in the report is computed here from those
files; nothing is typed in.
"""
import argparse
import glob
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

CUTS = ["shallow", "medium", "deep"]
# Two budget conventions side by side: the paper's (MS, SP, RT at 2.32 bits per element, QU at 3
# bits: "quantize") and a truly equal one (QU through its budget mode at 2.32 bits per element,
# which gives 2 bits: "qu_eq"; the others are the same runs in both).
METHODS = ["none", "ms", "topk", "randtopk", "quantize", "qu_eq"]
LABEL = {"none": "uncompressed", "ms": "MS", "topk": "top-k (SP)", "randtopk": "rand top-k (RT)",
         "quantize": "QU 3 b (paper's budget)", "qu_eq": "QU 2 b (equal budget)"}
NAME = {"none": "uncompressed", "ms": "MS", "topk": "SP", "randtopk": "RT", "quantize": "QU3",
        "qu_eq": "QU2"}
PAPER = {"none": "Baseline", "ms": "MS", "topk": "SP", "randtopk": "RT", "quantize": "QU"}
STYLE = {"none": ("black", "-"), "ms": ("tab:red", "-"), "topk": ("tab:green", "--"),
         "randtopk": ("tab:purple", "-."), "quantize": ("tab:blue", ":"),
         "qu_eq": ("tab:cyan", (0, (1, 3)))}
# The methods of each convention's ranking.
CONVENTIONS = {"paper's budgets (QU 3 b)": ["none", "ms", "topk", "randtopk", "quantize"],
               "equal budget (QU 2 b)": ["none", "ms", "topk", "randtopk", "qu_eq"]}
DATASETS = {"cifar10": "VGG19-BN / CIFAR-10", "fashion": "LeNet-5 / Fashion-MNIST"}
NETWORKS = {"wireless": "100 Mbps wireless", "edge": "heterogeneous edge"}
TARGETS = (0.99, 0.95)  # fractions of the uncompressed run's best accuracy at the same cut
# Test-set sizes when a scenario takes the whole test set (the datasets' own test splits: 10,000
# images each for CIFAR-10, Fashion-MNIST and MNIST). The paper evaluates on the whole CIFAR-10
# test set.
TEST_SIZE = {"cifar10": 10000, "fashion-mnist": 10000, "mnist": 10000}
PAPER_TEST_SIZE = TEST_SIZE["cifar10"]
# Two accuracies differ when their difference exceeds this many standard errors (about 95 %).
Z = 2.0


# ---------------------------------------------------------------- reading
def read_runs(root):
    """One row per finished run (point folder) of the four sweeps, with its eval and loss curves."""
    rows = []
    for sweep in sorted(glob.glob(os.path.join(root, "*-*"))):
        name = os.path.basename(sweep)
        dataset, _, network = name.partition("-")
        if dataset not in DATASETS or network not in NETWORKS:
            continue
        listed = os.path.join(sweep, "sweep-points.json")
        ids = ([p["id"] for p in json.load(open(listed))["points"]] if os.path.exists(listed)
               else [os.path.basename(p) for p in glob.glob(os.path.join(sweep, "points", "*"))])
        for point in sorted(os.path.join(sweep, "points", i) for i in ids):
            if not os.path.exists(os.path.join(point, "summary.csv")):
                continue  # not run (yet)
            m = json.load(open(os.path.join(point, "manifest.json")))
            sc = m["scenario"]
            ev = pd.read_csv(os.path.join(point, "eval.csv"))
            # Per-epoch curves: the round ends only (not the t=0 row nor evaluations on a clock,
            # which carry the round under way; the first row of a round number is its end). This
            # holds because scenarios/reproduce/ evaluates every round (eval_every_rounds 1): with
            # a larger period the first row of an unevaluated round would be a clock row.
            ev = ev[ev["round"] > 0].drop_duplicates("round", keep="first").reset_index(drop=True)
            steps = pd.read_csv(os.path.join(point, "steps.csv"),
                                usecols=["sim_time_s", "round", "loss", "batch", "codec_rel_error",
                                         "comm_s", "device_compute_s", "server_compute_s",
                                         "queue_s", "cum_bytes_up", "cum_bytes_down"])
            if ev.empty:  # diverged before the first evaluation: one row, accuracy unknown
                last = steps.iloc[-1] if len(steps) else None
                ev = pd.DataFrame([{
                    "sim_time_s": last["sim_time_s"] if last is not None else 0.0, "round": 1,
                    "steps": len(steps),
                    "cum_bytes_up": last["cum_bytes_up"] if last is not None else 0,
                    "cum_bytes_down": last["cum_bytes_down"] if last is not None else 0,
                    "cum_bytes_sync": 0, "test_accuracy": math.nan, "test_loss": math.nan}])
            w = steps["batch"]
            loss = (steps["loss"] * w).groupby(steps["round"]).sum() / w.groupby(steps["round"]).sum()
            ev["train_loss"] = loss.reindex(ev["round"] - 1).to_numpy()
            events = pd.read_csv(os.path.join(point, "events.csv"))
            div = events[events["event"] == "diverged"]
            rows.append({
                "diverged_epoch": int(div["round"].iloc[0]) + 1 if len(div) else 0,
                "dataset": dataset, "network": network, "cut": sc["model"]["cut"],
                "method": method_key(sc["codec"]["uplink"]), "seed": sc["seed"], "dir": point,
                "chance": chance_level(m),
                "manifest": m, "eval": ev, "codec_rel_error": float(steps["codec_rel_error"].mean()),
                "comm_share": float(steps["comm_s"].sum() / steps[
                    ["comm_s", "device_compute_s", "server_compute_s", "queue_s"]].sum().sum()),
            })
    if not rows:
        sys.exit(f"reproduction: no finished runs under {root}/*-*/points/")
    return pd.DataFrame(rows)


def method_key(codec):
    """The METHODS key of an uplink codec: quantisation through its budget mode is the truly
    equal-budget QU ("qu_eq"), any other quantiser the paper's ("quantize")."""
    if codec["method"] == "quantize" and codec.get("budget_bits_per_element", 0) > 0:
        return "qu_eq"
    return codec["method"]


def chance_level(manifest):
    """1 / classes (guessing), or None for a manifest written before slsim recorded classes."""
    classes = manifest.get("derived", {}).get("model_classes")
    return 1.0 / classes if classes else None


def mean_curve(runs, column):
    """Mean over seeds of `column` per evaluation round (runs of one configuration)."""
    frames = [r["eval"].set_index("round")[column] for _, r in runs.iterrows()]
    return pd.concat(frames, axis=1).mean(axis=1)


def first_at(ev, target, column):
    hit = ev[ev["test_accuracy"] >= target - 1e-12]
    return float(hit[column].iloc[0]) if len(hit) else math.nan


def read_paper(paper_dir):
    curves = pd.read_csv(os.path.join(paper_dir, "fig3_curves.csv"))
    curves = curves.rename(columns={"epoch(1-based)": "epoch"})
    errors = pd.read_csv(os.path.join(paper_dir, "fig2_errors.csv"))
    return curves, errors


_PAPER_INDEX = {}  # id(curves) -> (curves, {(paper method, cut or None, epoch): accuracy})


def paper_acc(curves, method, cut, epoch):
    """The paper's Fig. 3d accuracy (fraction) of `method` at `cut` after `epoch` (the baseline
    has no cut), NaN where the paper has none. Indexed once per curves table: the report asks
    for it about a thousand times."""
    if method not in PAPER:
        return math.nan  # the paper ran no such configuration
    held = _PAPER_INDEX.get(id(curves))
    if held is None or held[0] is not curves:
        acc = curves[curves["panel"] == "d_acc_VGG19_CIFAR10"]
        index = {}
        for m, c, e, v in zip(acc["method"], acc["cut"], acc["epoch"], acc["value"]):
            index.setdefault((m, None if m == PAPER["none"] else c, float(e)), float(v) / 100)
        held = _PAPER_INDEX[id(curves)] = (curves, index)
    return held[1].get((PAPER[method], None if method == "none" else cut, float(epoch)), math.nan)


def paper_multipliers(curves):
    """Table 1 recomputed from the paper's own curves: target 93 %, traffic = epochs x uplink
    volume per epoch (fp32 for the baseline, 2.32 bits/element for MS/SP/RT, 3 for QU)."""
    acc = curves[curves["panel"] == "d_acc_VGG19_CIFAR10"]
    bits = {"none": 32, "ms": 2.32, "topk": 2.32, "randtopk": 2.32, "quantize": 3}

    def epoch_to(method, cut):
        c = acc[acc["method"] == PAPER[method]]
        if method != "none":
            c = c[c["cut"] == cut]
        hit = c[c["value"] >= 93.0]
        return float(hit["epoch"].min()) if len(hit) else math.nan

    base = epoch_to("none", None)
    return {(cut, m): base * 32 / (epoch_to(m, cut) * bits[m])
            for cut in CUTS for m in PAPER if m != "none"}, base


# ---------------------------------------------------------------- uncertainty
def test_size(scenario):
    ds = scenario["dataset"]
    if ds.get("test_subset"):
        return int(ds["test_subset"])
    if ds.get("name") == "synthetic":
        return int(ds.get("synthetic", {}).get("test", 0)) or None
    return TEST_SIZE.get(ds.get("name"))


class Acc:
    """Mean final accuracy of the runs of one configuration with its standard error: the seeds'
    spread where there are two or more seeds (never below the test-set sampling noise), else the
    test-set sampling noise of one run, sqrt(p (1 - p) / n_test) (binomial). `chance` (1 / classes)
    marks an accuracy not above guessing by more than Z standard errors."""

    def __init__(self, values, n_test, chance=None):
        self.chance = chance
        self.values = [v for v in values if not math.isnan(v)]
        self.n = len(self.values)
        self.mean = sum(self.values) / self.n if self.n else math.nan
        p = self.mean
        binomial = (p * (1 - p) / n_test) ** 0.5 if n_test and self.n else math.nan
        if self.n >= 2:
            sd = (sum((v - p) ** 2 for v in self.values) / (self.n - 1)) ** 0.5
            self.source = "seed spread" if sd >= binomial else "test-set sampling"
            self.se = max(sd, binomial) / self.n ** 0.5
        else:
            self.source = "test-set sampling"
            self.se = binomial

    def at_chance(self):
        return (self.chance is not None and self.n > 0
                and self.mean - self.chance <= Z * (self.se if self.se == self.se else 0))

    def text(self):
        return f"{100 * self.mean:.1f} ± {100 * self.se:.1f}" + (" (chance)" if self.at_chance()
                                                                  else "")


def compare_acc(a, b):
    """(+1 | 0 | -1, difference, its standard error): a ahead, a tie inside Z standard errors of
    the difference, or b ahead."""
    d = a.mean - b.mean
    se = (a.se ** 2 + b.se ** 2) ** 0.5
    if math.isnan(d) or math.isnan(se) or (a.at_chance() and b.at_chance()):
        return 0, d, se  # two accuracies at guessing level are a tie, whatever their digits
    return (0 if abs(d) <= Z * se else (1 if d > 0 else -1)), d, se


def ranking(stats, names):
    """"MS 93.5 ± 0.3 > SP 91.3 ± 0.4 ≈ RT 90.8 ± 0.4": best first; '>' where the two neighbours
    differ by more than Z standard errors of their difference, '≈' (a tie) where not."""
    order = sorted(stats, key=lambda m: stats[m].mean, reverse=True)
    out = f"{names[order[0]]} {stats[order[0]].text()}"
    for prev, m in zip(order, order[1:]):
        out += (" > " if compare_acc(stats[prev], stats[m])[0] else " ≈ ") + \
            f"{names[m]} {stats[m].text()}"
    return out


# ---------------------------------------------------------------- formatting
def pct(x, digits=1):
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.{digits}f}"


def mult(x):
    return "never" if math.isnan(x) else ("INF" if math.isinf(x) else f"{x:.2f}×")


def write_md(path, lines):
    """Writes the report's lines to `path` whole (a temporary sibling renamed over it)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")
    os.replace(tmp, path)


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def mean_std(values, digits=1, scale=100):
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "–"
    m = sum(values) / len(values)
    if len(values) == 1:
        return f"{scale * m:.{digits}f}"
    sd = (sum((v - m) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return f"{scale * m:.{digits}f} ± {scale * sd:.{digits}f}"


# ---------------------------------------------------------------- figures
# --quick: figures drawn at low resolution without the tight layout (a third of the quick report's
# CPU went to laying out and rasterising figures that only show the pipeline runs).
FAST_FIGURES = False


def save_figure(fig, path, dpi):
    """Writes and closes a figure: laid out at `dpi`, or cheaply with FAST_FIGURES."""
    if not FAST_FIGURES:
        fig.tight_layout()
    fig.savefig(path, dpi=40 if FAST_FIGURES else dpi)
    plt.close(fig)


def plot_curves(runs, dataset, networks, x, xlabel, path, logx=False):
    nets = [n for n in networks if len(runs[(runs.dataset == dataset) & (runs.network == n)])]
    fig, axes = plt.subplots(len(nets), 3, figsize=(13, 3.6 * len(nets)), squeeze=False,
                             sharey=True)
    for i, net in enumerate(nets):
        for j, cut in enumerate(CUTS):
            ax = axes[i][j]
            for m in METHODS:
                sel = runs[(runs.dataset == dataset) & (runs.network == net) & (runs.cut == cut)
                           & (runs.method == m)]
                if not len(sel):
                    continue
                xs = mean_curve(sel, x) if x != "round" else sel.iloc[0]["eval"]["round"]
                ys = mean_curve(sel, "test_accuracy")
                color, ls = STYLE[m]
                ax.plot(list(xs), list(ys), color=color, ls=ls, marker="o", ms=3, label=LABEL[m])
            ax.set_title(f"{cut} cut" + (f" — {NETWORKS[net]}" if len(networks) > 1 else ""))
            ax.set_xlabel(xlabel)
            if logx:
                ax.set_xscale("log")
            ax.grid(alpha=0.3)
        axes[i][0].set_ylabel("test accuracy")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(DATASETS[dataset])
    save_figure(fig, path, 110)


def plot_paper_curves(curves, path):
    acc = curves[curves["panel"] == "d_acc_VGG19_CIFAR10"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
    for j, cut in enumerate(CUTS):
        for m in PAPER:
            c = acc[acc["method"] == PAPER[m]]
            if m != "none":
                c = c[c["cut"] == cut]
            color, ls = STYLE[m]
            axes[j].plot(c["epoch"], c["value"] / 100, color=color, ls=ls, label=LABEL[m])
        axes[j].set_title(f"paper: {cut} cut")
        axes[j].set_xlabel("epoch")
        axes[j].grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy")
    axes[0].legend(fontsize=8)
    fig.suptitle("The paper's VGG19-BN / CIFAR-10 curves (Fig. 3d, 200 epochs, full width and data)")
    save_figure(fig, path, 110)


# ---------------------------------------------------------------- probe (errors, bias)
def read_probe(root):
    errors, bias = [], []
    for d in sorted(glob.glob(os.path.join(root, "probe", "*-*"))):
        base, _, cut = os.path.basename(d).rpartition("-")
        dataset = "cifar10" if base.startswith("cifar10") else "fashion"
        for name, acc in (("errors.csv", errors), ("bias.csv", bias)):
            p = os.path.join(d, name)
            if os.path.exists(p):
                t = pd.read_csv(p)
                t["dataset"], t["cut"] = dataset, cut
                acc.append(t)
    cat = (lambda xs: pd.concat(xs, ignore_index=True) if xs else pd.DataFrame())
    return cat(errors), cat(bias)


def ms_rule(row):
    """The MS configuration of the paper's training runs: 2-bit codes where the budget leaves
    room for values (1-bit codes at a 2-bit budget, which makes MS equal to top-k)."""
    return row["bits"] == (2 if row["budget_bits"] > 2 else 1)


ERROR_METHODS = ("ms", "ms_best", "quantize", "topk", "randtopk")
ERROR_LABEL = {"ms": "MS (2-bit codes)", "ms_best": "MS (best code bits)", "quantize": "QU",
               "topk": "SP", "randtopk": "RT"}


def error_means(errors, dataset, cut, epoch):
    """Mean relative L2 error per (budget, method) on the budget grid; "ms" is MS with 2-bit
    codes, "ms_best" the MS code width with the lowest error at that budget (bits column)."""
    e = errors[(errors.dataset == dataset) & (errors.cut == cut) & (errors.measure_epoch == epoch)
               & (errors.budget_set == "grid")]
    if not len(e):
        return pd.DataFrame()
    ms = e[e.method == "ms"].groupby(["budget_bits", "bits"])["rel_l2"].mean().reset_index()
    best = ms.loc[ms.groupby("budget_bits")["rel_l2"].idxmin()].assign(method="ms_best")
    rule = e[(e.method == "ms") & e.apply(ms_rule, axis=1)]
    rest = e[e.method != "ms"]
    g = pd.concat([rule, rest]).groupby(["budget_bits", "method"])["rel_l2"].mean().reset_index()
    g["bits"] = math.nan
    return pd.concat([g, best], ignore_index=True).set_index(["budget_bits", "method"])


def error_table(errors, paper_errors, dataset, cut, epoch):
    """Rows budget 2..7: our mean relative error per method beside the paper's CIFAR-10 numbers."""
    g = error_means(errors, dataset, cut, epoch)
    if not len(g):
        return [], g
    p = paper_errors[paper_errors.dataset == "CIFAR-10"].set_index(["equivalent_QU_bits", "method"])
    rows = []
    for b in sorted({k[0] for k in g.index}):
        row = [f"{b:g}"]
        for m in ERROR_METHODS:
            if (b, m) not in g.index:
                row.append("–")
                continue
            v = f"{g.loc[(b, m), 'rel_l2']:.4f}"
            row.append(v + (f" ({int(g.loc[(b, m), 'bits'])})" if m == "ms_best" else ""))
        for m in ("ms", "quantize", "topk", "randtopk"):
            key = (int(b), PAPER[m])
            row.append(f"{p.loc[key, 'error_l2']:.1f}" if key in p.index else "–")
        rows.append(row)
    return rows, g


def plot_errors(errors, paper_errors, epoch, path):
    sets = [(d, c) for d in DATASETS for c in CUTS
            if len(errors[(errors.dataset == d) & (errors.cut == c)])]
    cols = min(4, len(sets) + 1)
    rows = -(-(len(sets) + 1) // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.2 * rows), squeeze=False)
    axes = list(grid.flat)
    for ax in axes[len(sets) + 1:]:
        ax.axis("off")
    axes = axes[:len(sets)] + [axes[len(sets)]]
    style = dict(STYLE, ms_best=("tab:orange", "-"))
    for ax, (d, c) in zip(axes, sets):
        g = error_means(errors, d, c, epoch).reset_index()
        for m in ERROR_METHODS:
            s = g[g.method == m].sort_values("budget_bits")
            color, ls = style[m]
            ax.plot(s["budget_bits"], s["rel_l2"], color=color, ls=ls, marker="o", ms=3,
                    label=ERROR_LABEL[m])
        ax.set_yscale("log")
        ax.set_title(f"{'CIFAR-10' if d == 'cifar10' else 'Fashion'} {c}", fontsize=9)
        ax.set_xlabel("budget (bits/element)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("relative L2 error (ours)")
    axes[0].legend(fontsize=7)
    p = paper_errors[paper_errors.dataset == "CIFAR-10"]
    for m in ("quantize", "topk", "ms", "randtopk"):
        s = p[p.method == PAPER[m]].sort_values("equivalent_QU_bits")
        color, ls = STYLE[m]
        axes[-1].plot(s["equivalent_QU_bits"], s["error_l2"], color=color, ls=ls, marker="o", ms=3,
                      label=PAPER[m])
    axes[-1].set_yscale("log")
    axes[-1].set_title("paper Fig. 2, CIFAR-10", fontsize=9)
    axes[-1].set_xlabel("budget (bits/element)")
    axes[-1].set_ylabel("average L2 error (paper)")
    axes[-1].legend(fontsize=7)
    axes[-1].grid(alpha=0.3)
    save_figure(fig, path, 110)


# ---------------------------------------------------------------- report
def planned_runs(root):
    """Points each sweep was asked for (DIR/sweep-points.json), per sweep name."""
    planned = {}
    for f in sorted(glob.glob(os.path.join(root, "*-*", "sweep-points.json"))):
        planned[os.path.basename(os.path.dirname(f))] = len(json.load(open(f))["points"])
    return planned


def settings_section(runs, planned):
    out = ["## What was run", ""]
    done = runs.groupby(runs.dataset + "-" + runs.network).size()
    missing = {k: v - int(done.get(k, 0)) for k, v in planned.items() if v > int(done.get(k, 0))}
    absent = [f"{d}-{n}" for d in DATASETS for n in NETWORKS if f"{d}-{n}" not in planned]
    if missing or absent:
        out += ["**Incomplete: " + ", ".join([f"{k} {v} of {planned[k]} runs missing"
                                              for k, v in missing.items()]
                                             + [f"sweep {k} not run" for k in absent])
                + ".** Re-run `scripts/reproduce` to finish them (finished runs are kept).", ""]
    rows = []
    for d in DATASETS:
        sel = runs[runs.dataset == d]
        if not len(sel):
            continue
        sc = sel.iloc[0]["manifest"]["scenario"]
        shapes = {r["cut"]: "×".join(str(v) for v in r["manifest"]["derived"]["cut_shape"])
                  for _, r in sel.iterrows()}
        ds = sc["dataset"]
        rows.append([DATASETS[d], f"{sc['model']['name']} width {sc['model']['width']:g}",
                     ", ".join(f"{c} {shapes[c]}" for c in CUTS if c in shapes),
                     f"{ds['train_subset'] or 'all'} / {ds['test_subset'] or 'all'}",
                     sc["training"]["epochs"], sc["training"]["batch_size"],
                     f"{sc['optimizer']['name']} lr {sc['optimizer']['lr']:g}, {sc['optimizer']['schedule']}",
                     f"{len(sc['devices']['list'])}, {sc['schedule']['kind']}",
                     len(sel), ", ".join(str(s) for s in sorted(sel.seed.unique()))])
    out.append(md_table(["model / data", "model", "cut shapes (C×H×W)", "train / test images",
                         "epochs", "batch per device", "optimizer", "devices, schedule", "runs",
                         "seeds"], rows))
    wall = sum(r["manifest"]["wall_time_s"] for _, r in runs.iterrows())
    bpe = {}
    for _, r in runs.iterrows():
        bpe[r["method"]] = r["manifest"]["derived"]["uplink_bits_per_element"]
    out += ["", "Uplink bits per element (payload, without the fixed header): "
            + ", ".join(f"{LABEL[m]} {bpe[m]:.3g}" for m in METHODS if m in bpe)
            + f". {len(runs)} training runs took {wall / 60:.1f} min of wall time in all "
            "(sum over runs; `slsim sweep -j 2` runs two at a time).", ""]
    if "qu_eq" in bpe and "ms" in bpe and bpe["qu_eq"] < bpe["ms"]:
        # the budget mode's whole-bit width, computed from the runs' manifests
        out += [f"The equal-budget quantizer is QU's budget mode at {bpe['ms']:.3g} bits per "
                f"element: whole-bit codes, so it takes the widest that fits, "
                f"{bpe['qu_eq']:.3g} bits ({100 * (1 - bpe['qu_eq'] / bpe['ms']):.0f} % fewer "
                "than the others; its scale travels in the header). 'Equal' therefore means "
                "'at most the same budget': the paper's convention (QU at 3 bits, "
                f"{100 * (bpe.get('quantize', 3) / bpe['ms'] - 1):.0f} % more) sits beside it.",
                ""]
    return out


def accuracy_section(runs, curves, dataset):
    sel = runs[runs.dataset == dataset]
    if not len(sel):
        return []
    epochs = int(sel.iloc[0]["manifest"]["scenario"]["training"]["epochs"])
    out = [f"### Final test accuracy (%), {DATASETS[dataset]}", ""]
    header = ["cut", "method", "wireless: final", "best", "Δ final vs uncompressed",
              "edge: final"]
    paper = dataset == "cifar10"
    if paper:
        header += [f"paper @ epoch {epochs}", "paper @ 200", "paper Δ @ 200"]
    rows = []
    n_test = test_size(sel.iloc[0]["manifest"]["scenario"])
    chance = sel.iloc[0]["chance"]
    for cut in CUTS:
        base = sel[(sel.cut == cut) & (sel.method == "none") & (sel.network == "wireless")]
        bacc = Acc([r["eval"]["test_accuracy"].iloc[-1] for _, r in base.iterrows()
                    if not r["diverged_epoch"]], n_test, chance)
        for m in METHODS:
            w = sel[(sel.cut == cut) & (sel.method == m) & (sel.network == "wireless")]
            e = sel[(sel.cut == cut) & (sel.method == m) & (sel.network == "edge")]
            if not len(w):
                continue
            finals = [r["eval"]["test_accuracy"].iloc[-1] for _, r in w.iterrows()
                      if not r["diverged_epoch"]]
            bests = [r["eval"]["test_accuracy"].max() for _, r in w.iterrows()]
            delta = ""
            if finals and bacc.n and m != "none":
                sign, d, se = compare_acc(Acc(finals, n_test, chance), bacc)
                delta = f"{100 * d:+.1f} ± {100 * Z * se:.1f}" + ("" if sign else " (tie)")
            row = [cut, LABEL[m], mean_std(finals) + diverged_note(w), mean_std(bests), delta,
                   mean_std([r["eval"]["test_accuracy"].iloc[-1] for _, r in e.iterrows()
                             if not r["diverged_epoch"]]) + diverged_note(e)]
            if paper:
                p200 = paper_acc(curves, m, cut, 200)
                row += [pct(paper_acc(curves, m, cut, epochs)), pct(p200, 2),
                        "" if m == "none" or m not in PAPER
                        else f"{100 * (p200 - paper_acc(curves, 'none', cut, 200)):+.2f}"]
            rows.append(row)
    out.append(md_table(header, rows))
    if n_test:
        sd = (0.25 / n_test) ** 0.5
        out += ["", f"Final and best: mean ± standard deviation over seeds. Δ: difference of the "
                f"means ± {Z:g} standard errors of the difference; '(tie)' where the difference is "
                f"inside that (the standard error is the seeds' spread where there are seeds, "
                "never "
                f"below the sampling noise of {n_test} test images: up to ±{100 * sd:.1f} points "
                "for one run at 50 % accuracy). The edge-network runs train on the same data in "
                "another arrival order (SplitFed v2 serves requests first come, first served), so "
                "their difference to the wireless runs is run-to-run variation."]
    return out + [""]


def diverged_note(sel):
    """" (diverged in epoch k)" for the runs of `sel` whose training diverged."""
    k = [int(e) for e in sel["diverged_epoch"] if e]
    if not k:
        return ""
    return (f" (diverged in epoch {', '.join(map(str, k))}" +
            (f"; {len(k)} of {len(sel)} runs)" if len(sel) > 1 else ")"))


def traffic_section(runs, curves, dataset):
    sel = runs[(runs.dataset == dataset) & (runs.network == "wireless")]
    if not len(sel):
        return []
    out = [f"### Traffic to accuracy, {DATASETS[dataset]} (Table 1 analogue)", "",
           "Uplink bytes (everything the devices sent up: activations, labels, headers) until the "
           "first evaluation at or above the target; the multiplier is the uncompressed run's bytes "
           "over the method's (mean over seeds); *never* = not reached in the shortened run. Target "
           "= a fraction of the uncompressed run's best accuracy at the same cut."]
    header = ["cut", "method"]
    for t in TARGETS:
        header += [f"MB to {int(100 * t)} %", f"× at {int(100 * t)} %"]
    paper = dataset == "cifar10"
    if paper:
        pm, pbase = paper_multipliers(curves)
        header += ["paper × (93 %)"]
        out[-1] += (f" The paper's column is recomputed from its own curves (target 93 %, reached "
                    f"by its baseline at epoch {pbase:.0f}; traffic = epochs × feature-map volume).")
    out.append("")
    rows = []
    for cut in CUTS:
        base = sel[(sel.cut == cut) & (sel.method == "none")]
        if not len(base):
            continue
        best = sum(r["eval"]["test_accuracy"].max() for _, r in base.iterrows()) / len(base)
        base_bytes = {t: [first_at(r["eval"], t * best, "cum_bytes_up") for _, r in base.iterrows()]
                      for t in TARGETS}
        for m in METHODS:
            s = sel[(sel.cut == cut) & (sel.method == m)]
            if not len(s):
                continue
            row = [cut, LABEL[m]]
            for t in TARGETS:
                b = [first_at(r["eval"], t * best, "cum_bytes_up") for _, r in s.iterrows()]
                reached = [x for x in b if not math.isnan(x)]
                if len(reached) < len(b):
                    row += [f"{len(reached)}/{len(b)} reached" if reached else "never", "never"]
                    continue
                mb = sum(reached) / len(reached)
                bb = [x for x in base_bytes[t] if not math.isnan(x)]
                row += [f"{mb / 1e6:.1f}", mult(sum(bb) / len(bb) / mb) if bb else "–"]
            if paper:
                row.append("" if (cut, m) not in pm else mult(pm[(cut, m)]))
            rows.append(row)
    out.append(md_table(header, rows))
    return out + [""]


def time_section(runs, dataset):
    sel = runs[runs.dataset == dataset]
    if not len(sel):
        return []
    t = TARGETS[-1]
    out = [f"### Simulated wall-clock time, {DATASETS[dataset]}", "",
           f"Seconds of simulated time (ns-3 network + FLOP-based compute) for the whole run and to "
           f"{int(100 * t)} % of the uncompressed run's best accuracy on that network; speed-up = "
           "uncompressed time to target / method's; comm = share of the step time spent on the "
           "network (the rest: device and server compute, server queue).", ""]
    header = ["cut", "method"]
    nets = [n for n in NETWORKS if len(sel[sel.network == n])]
    for n in nets:
        header += [f"{n}: total s", f"{n}: s to {int(100 * t)} %", f"{n}: speed-up",
                   f"{n}: comm"]
    rows = []
    for cut in CUTS:
        for m in METHODS:
            row = [cut, LABEL[m]]
            for n in nets:
                base = sel[(sel.cut == cut) & (sel.method == "none") & (sel.network == n)]
                s = sel[(sel.cut == cut) & (sel.method == m) & (sel.network == n)]
                if not len(s) or not len(base):
                    row += ["–"] * 4
                    continue
                best = sum(r["eval"]["test_accuracy"].max() for _, r in base.iterrows()) / len(base)
                tt = [first_at(r["eval"], t * best, "sim_time_s") for _, r in s.iterrows()]
                bt = [first_at(r["eval"], t * best, "sim_time_s") for _, r in base.iterrows()]
                total = sum(r["eval"]["sim_time_s"].iloc[-1] for _, r in s.iterrows()) / len(s)
                ok = [x for x in tt if not math.isnan(x)]
                okb = [x for x in bt if not math.isnan(x)]
                mean_t = sum(ok) / len(ok) if len(ok) == len(tt) else math.nan
                speed = (sum(okb) / len(okb) / mean_t) if okb and not math.isnan(mean_t) else math.nan
                row += [f"{total:.1f}", "never" if math.isnan(mean_t) else f"{mean_t:.1f}",
                        mult(speed), f"{100 * s['comm_share'].mean():.0f} %"]
            if any(c != "–" for c in row[2:]):
                rows.append(row)
    out.append(md_table(header, rows))
    return out + [""]


def probe_sections(errors, bias, paper_errors, figures, rel):
    out = []
    if len(errors):
        last = errors["measure_epoch"].max()
        plot_errors(errors, paper_errors, last, os.path.join(figures, "codec_error_vs_budget.png"))
        out += ["## Codec error vs budget on real feature maps (Fig. 2 analogue)", "",
                f"Cut-layer activations of the models trained uncompressed for {last} epochs "
                "(training-mode forward on fixed training batches); relative L2 error "
                "‖x − decode(encode(x))‖ / ‖x‖ over the whole batch tensor, mean over batches. "
                "Budget b bits per element: QU b bits; top-k and rand top-k keep (b − 1)/32 with a "
                "bitmap; MS with m-bit codes keeps (b − m)/32, measured for every m: the table shows "
                "m = 2 (the paper's training setting; m = 1 at b = 2, which makes MS equal to "
                "top-k) and the best m. The paper does not say which MS (bits, k) its Fig. 2 used, nor "
                "its model or cut; its numbers are absolute L2 errors, so compare the ordering and "
                "the ratios between methods, not the scale.", "",
                f"![codec error vs budget]({rel(os.path.join(figures, 'codec_error_vs_budget.png'))})",
                ""]
        for d in DATASETS:
            for cut in CUTS:
                rows, g = error_table(errors, paper_errors, d, cut, last)
                if not rows:
                    continue
                hdr = ["budget"] + [ERROR_LABEL[m] for m in ERROR_METHODS]
                if d == "cifar10":
                    hdr += ["paper MS", "paper QU", "paper SP", "paper RT"]
                else:
                    rows = [r[:len(ERROR_METHODS) + 1] for r in rows]
                out += [f"**{DATASETS[d]}, {cut} cut** (ours: relative L2; MS best: code bits in "
                        "brackets" + ("; paper: average L2, CIFAR-10)" if d == "cifar10" else ")"),
                        "", md_table(hdr, rows), ""]
                order = []
                for b in sorted({k[0] for k in g.index}):
                    vals = {ERROR_LABEL[m]: g.loc[(b, m), "rel_l2"]
                            for m in ("ms_best", "quantize", "topk", "randtopk") if (b, m) in g.index}
                    order.append(f"{b:g}: " + " < ".join(sorted(vals, key=vals.get)))
                out += ["Ordering (lowest error first) — " + "; ".join(order) + ".", ""]
    if len(bias):
        out += ["## Gradient bias at the paper's budget (2.32 bits per element)", "",
                "Device-side and server-side parameter gradients of one batch with the cut "
                "activations compressed, against the same batch uncompressed (same BN mode, same "
                "dropout masks); for rand top-k the expectation is estimated over the draws. "
                "cos = mean over draws of cos(ĝ, g) (1 = same direction); bias = ‖E[ĝ] − g‖ / ‖g‖; "
                "error = mean ‖ĝ − g‖ / ‖g‖ (equal to the bias for deterministic codecs); "
                "activation error = relative L2 error of the cut activations. Mean over batches, "
                "after training.", ""]
        last = bias["measure_epoch"].max()
        b = bias[(bias.measure_epoch == last) & bias.budget_set.isin(["equal", "control"])]
        rows = []
        for d in DATASETS:
            for cut in CUTS:
                for m in METHODS:
                    s = b[(b.dataset == d) & (b.cut == cut) & (b.method == m)]
                    if not len(s):
                        continue
                    rows.append([DATASETS[d].split(" / ")[1], cut, LABEL[m],
                                 f"{s.act_rel_l2.mean():.3f}", f"{s.cos_dev.mean():.4f}",
                                 f"{s.rel_bias_dev.mean():.3f}", f"{s.rel_err_dev.mean():.3f}",
                                 f"{s.cos_srv.mean():.4f}", f"{s.rel_bias_srv.mean():.3f}"])
        out += [md_table(["data", "cut", "method", "activation error", "cos device",
                          "bias device", "error device", "cos server", "bias server"], rows), ""]
    return out


def final_acc(sel):
    return sel.assign(final=[r["eval"]["test_accuracy"].iloc[-1] for _, r in sel.iterrows()])


def total_bytes(r):
    ev = r["eval"].iloc[-1]
    return ev["cum_bytes_up"] + ev["cum_bytes_down"] + ev["cum_bytes_sync"]


# (The paper has no equal-budget QU, so "qu_eq" is compared in the rankings, not here.)
PAIRS = [("ms", "none"), ("topk", "none"), ("randtopk", "none"), ("quantize", "none"),
         ("ms", "topk"), ("ms", "randtopk"), ("ms", "quantize")]
VERDICT = {(1, 1): "agrees", (-1, -1): "agrees", (0, 0): "agrees (level in both)",
           (1, 0): "not resolved here (inside the noise)",
           (-1, 0): "not resolved here (inside the noise)",
           (0, 1): "differs: the paper has them level",
           (0, -1): "differs: the paper has them level",
           (1, -1): "contradicts", (-1, 1): "contradicts"}


def paper_claims(runs, curves):
    """One row per (cut, pair of methods): the paper's final (200-epoch) difference and whether it
    is beyond its own noise (one run on 10,000 test images: binomial), our difference with its
    standard error, and the verdict (same sign, a tie here, or the opposite)."""
    sel = runs[(runs.dataset == "cifar10") & (runs.network == "wireless")
               & (runs.diverged_epoch == 0)]
    if not len(sel):
        return [], {}
    n_test = test_size(sel.iloc[0]["manifest"]["scenario"])
    chance = sel.iloc[0]["chance"]
    rows, counts = [], {}
    for cut in CUTS:
        ours = {m: Acc([r["eval"]["test_accuracy"].iloc[-1]
                        for _, r in sel[(sel.cut == cut) & (sel.method == m)].iterrows()], n_test,
                       chance)
                for m in METHODS}
        paper = {m: Acc([paper_acc(curves, m, cut, 200)], PAPER_TEST_SIZE) for m in METHODS}
        for a, b in PAIRS:
            if not ours[a].n or not ours[b].n or math.isnan(paper[a].mean + paper[b].mean):
                continue
            ps, pd_, pse = compare_acc(paper[a], paper[b])
            os_, od, ose = compare_acc(ours[a], ours[b])
            verdict = VERDICT[(ps, os_)]
            counts[verdict.split(" (")[0].split(":")[0]] = counts.get(
                verdict.split(" (")[0].split(":")[0], 0) + 1
            rows.append([cut, f"{LABEL[a]} − {LABEL[b]}",
                         f"{100 * pd_:+.2f} ± {100 * Z * pse:.2f}" + ("" if ps else " (level)"),
                         f"{100 * od:+.1f} ± {100 * Z * ose:.1f}" + ("" if os_ else " (tie)"),
                         f"{ours[a].n}+{ours[b].n}", verdict])
    return rows, counts


def paper_fig2(paper_errors):
    """What the paper's Fig. 2 data say, counted: where MS is lowest, where SP and RT are above
    MS and QU."""
    lowest, sparse, total = 0, 0, 0
    for _, g in paper_errors.groupby(["dataset", "equivalent_QU_bits"]):
        v = dict(zip(g["method"], g["error_l2"]))
        if len(v) == 4:
            total += 1
            lowest += min(v, key=v.get) == "MS"
            sparse += min(v["SP"], v["RT"]) > max(v["MS"], v["QU"])
    return (f"MS lowest at {lowest} of {total} (dataset, budget) points, SP and RT above MS and QU "
            f"at {sparse} of {total}")


def agreement_section(runs, curves, paper_errors, errors, bias, quick):
    out = ["## Where we agree with the paper, and where not", ""]
    if quick:
        out += ["*Quick mode: the comparisons below are computed as for the full runs, but after "
                "one short epoch every method sits near chance, so they only show that the "
                "pipeline works.*", ""]
    rows, counts = paper_claims(runs, curves)
    if rows:
        out += [f"Every statement is computed from the runs: a difference counts where it exceeds "
                f"{Z:g} standard errors of the difference (ours: the seeds' spread where there are "
                "two or more seeds, else the test-set sampling noise sqrt(p (1 − p) / n) of one "
                "run; the paper's: one run on the 10,000 CIFAR-10 test images, binomial, as it "
                "gives no seeds). Inside it, two methods are a tie, never ranked. The paper's "
                "column is its final (200-epoch) accuracy difference from its Fig. 3 curves; ours "
                "is the final accuracy of these runs (wireless network, VGG19-BN / CIFAR-10).", "",
                "Tally: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + ".", "",
                md_table(["cut", "difference (points)", "paper @ 200 epochs", "here", "runs",
                          "verdict"], rows), ""]
    for d in DATASETS:
        sel = final_acc(runs[(runs.dataset == d) & (runs.network == "wireless")
                             & (runs.diverged_epoch == 0)])
        if not len(sel):
            continue
        n_test = test_size(sel.iloc[0]["manifest"]["scenario"])
        chance = sel.iloc[0]["chance"]
        for cut in CUTS:
            stats = {m: Acc(list(sel[(sel.cut == cut) & (sel.method == m)]["final"]), n_test,
                            chance)
                     for m in METHODS}
            stats = {m: a for m, a in stats.items() if a.n}
            if "none" not in stats or len(stats) < 2:
                continue
            # Both budget conventions side by side where the equal-budget QU ran; one line else.
            conventions = ({k: [m for m in v if m in stats] for k, v in CONVENTIONS.items()}
                           if "qu_eq" in stats else {"": list(stats)})
            for conv, members in conventions.items():
                line = (f"- {DATASETS[d]}, {cut} cut" + (f", {conv}" if conv else "")
                        + ", final accuracy (mean ± standard error; '≈' = a tie; '(chance)' = not "
                        "above guessing): " + ranking({m: stats[m] for m in members}, NAME) + ".")
                p = {m: Acc([paper_acc(curves, m, cut, 200)], PAPER_TEST_SIZE)
                     for m in members if m in PAPER}
                if d == "cifar10" and len(p) > 1:
                    line += (" Paper at 200 epochs" + (" (its QU: 3 b)" if "qu_eq" in members
                                                       else "") + ": " + ranking(p, NAME) + ".")
                out.append(line)
    div = runs[runs.diverged_epoch > 0]
    if len(div):
        out.append("- Diverged (non-finite activations or loss; the run stops there and is left "
                   "out of the rankings): " + ", ".join(
                       f"{r['dataset']} {r['network']} {r['cut']} {NAME[r['method']]} seed "
                       f"{r['seed']} in epoch {r['diverged_epoch']}" for _, r in div.iterrows()) + ".")
    # Run-to-run variation: the same configuration trained twice (the edge network's arrival
    # order, or a second seed).
    both = final_acc(runs[(runs.seed == runs.seed.min()) & (runs.diverged_epoch == 0)])
    piv = both.pivot_table(index=["dataset", "cut", "method"], columns="network", values="final")
    if {"wireless", "edge"} <= set(piv.columns):
        diff = (piv["wireless"] - piv["edge"]).abs().dropna()
        if len(diff):
            for d in DATASETS:
                dd = diff[diff.index.get_level_values("dataset") == d]
                if not len(dd):
                    continue
                out.append(f"- Run-to-run variation, {DATASETS[d]}: the same configuration "
                           "trained on the other network (same data and seed, another arrival "
                           f"order at the server) ends a median {100 * dd.median():.1f} points "
                           f"away (mean {100 * dd.mean():.1f}, largest {100 * dd.max():.1f}, "
                           f"{len(dd)} pairs). Differences between methods of that size are not "
                           "resolved by these runs.")
    if len(errors):
        last = errors["measure_epoch"].max()
        wins, total, sparse_worst = 0, 0, 0
        for d in DATASETS:
            for cut in CUTS:
                g = error_means(errors, d, cut, last)
                for b in sorted({k[0] for k in g.index}):
                    vals = {m: g.loc[(b, m), "rel_l2"] for m in ("ms_best", "quantize", "topk",
                                                                 "randtopk") if (b, m) in g.index}
                    if len(vals) == 4:
                        total += 1
                        wins += min(vals, key=vals.get) == "ms_best"
                        sparse_worst += min(vals["topk"], vals["randtopk"]) > max(
                            vals["ms_best"], vals["quantize"])
        if total:
            out.append(f"- Compression error (Fig. 2): MS at its best code width has the lowest "
                       f"error at {wins} of {total} (model, cut, budget) points (the paper's "
                       f"Fig. 2: {paper_fig2(paper_errors)}); top-k and randomized top-k are "
                       f"above both MS and QU at {sparse_worst} of {total}.")
    if len(bias):
        last = bias["measure_epoch"].max()
        b = bias[(bias.measure_epoch == last) & (bias.budget_set == "equal")]
        m = b.groupby("method")[["cos_dev", "rel_bias_dev"]].mean()
        if len(m):
            comp = [k for k in m.index if k != "none"]
            biased = sum(m.loc[k, "rel_bias_dev"] > 1e-6 for k in comp)
            same, cases = 0, 0
            for (d, cut), g in b.groupby(["dataset", "cut"]):
                g = g.groupby("method")[["act_rel_l2", "rel_bias_dev"]].mean()
                if len(g) > 1:
                    cases += 1
                    same += list(g["act_rel_l2"].rank()) == list(g["rel_bias_dev"].rank())
            out.append("- Gradient bias at 2.32 bits (mean over models and cuts): " + "; ".join(
                f"{PAPER[k]} cos {m.loc[k, 'cos_dev']:.3f}, bias {m.loc[k, 'rel_bias_dev']:.2f}"
                for k in ("ms", "quantize", "topk", "randtopk") if k in m.index)
                + f". {biased} of {len(comp)} compressors bias the gradient here (Theorem 1: "
                "every one does); the bias orders the "
                f"methods as their activation error does (Lemma 2's bound) at {same} of {cases} "
                "(model, cut) points.")
    for d in DATASETS:
        for n in NETWORKS:
            sel = runs[(runs.dataset == d) & (runs.network == n) & (runs.diverged_epoch == 0)]
            base = sel[sel.method == "none"]
            ms = sel[sel.method == "ms"]
            if not len(base) or not len(ms):
                continue
            up = base.apply(lambda r: r["eval"]["cum_bytes_up"].iloc[-1], axis=1).mean() / \
                ms.apply(lambda r: r["eval"]["cum_bytes_up"].iloc[-1], axis=1).mean()
            tot = base.apply(total_bytes, axis=1).mean() / ms.apply(total_bytes, axis=1).mean()
            t = base.apply(lambda r: r["eval"]["sim_time_s"].iloc[-1], axis=1).mean() / \
                ms.apply(lambda r: r["eval"]["sim_time_s"].iloc[-1], axis=1).mean()
            out.append(f"- Time ({DATASETS[d]}, {NETWORKS[n]}; the paper reports none): MS sends "
                       f"{up:.1f}× fewer uplink bytes than uncompressed, but only {tot:.1f}× fewer "
                       f"bytes in all, and the same epochs run {t:.2f}× faster in simulated time "
                       "(mean over cuts)" + downlink_note(ms) + ".")
    sel = runs[runs.dataset == "cifar10"]
    if len(sel):
        sc = sel.iloc[0]["manifest"]["scenario"]
        epochs = int(sc["training"]["epochs"])
        out += ["", "Known reasons for the differences: the runs are about "
                f"{runs_scale(runs)} of the paper's training (sample passes), so accuracies sit "
                "where the paper's own curves are in their first epochs: "
                + paper_early_note(curves, epochs) + f". The model is {sc['model']['width']:g} as wide (the cut tensors have that "
                f"fraction of the channels). {len(sc['devices']['list'])} devices train in "
                f"{sc['schedule']['kind']} (device halves averaged once per epoch), which slows "
                "the deeper cuts (more layers averaged), where the paper trained one client; the "
                f"batch is {sc['training']['batch_size']} per device instead of 256.", ""]
    return out


def paper_order(curves, cut, epoch):
    """The paper's five methods at `cut`, best first, at `epoch` (Fig. 3d)."""
    acc = {m: paper_acc(curves, m, cut, epoch) for m in PAPER}
    return sorted(acc, key=acc.get, reverse=True), acc


def paper_early_note(curves, epoch):
    """What the paper's own curves say at our epoch count, computed: how far apart its methods
    are, whether their order is already the final one, and from which epoch on the shallow cut's
    final order holds."""
    spreads, same = [], 0
    for cut in CUTS:
        order, acc = paper_order(curves, cut, epoch)
        spreads.append(100 * (acc[order[0]] - acc[order[-1]]))
        same += order == paper_order(curves, cut, 200)[0]
    final = paper_order(curves, "shallow", 200)[0]
    holds = next((e for e in range(1, 201)
                  if all(paper_order(curves, "shallow", f)[0] == final for f in range(e, 201))),
                 None)
    text = (f"at epoch {epoch} its five methods span {min(spreads):.1f}-{max(spreads):.1f} points "
            f"(per cut) and are in their 200-epoch order at {same} of {len(CUTS)} cuts")
    if holds is not None:
        text += (f"; at the shallow cut its final order ({' > '.join(NAME[m] for m in final)}) "
                 f"holds from epoch {holds} on")
    return text


def downlink_note(sel):
    """Why fewer uplink bytes do not give as much less time, from the runs' own settings."""
    down = {r["manifest"]["scenario"]["codec"]["downlink"]["method"] for _, r in sel.iterrows()}
    if down == {"none"}:
        return (": the gradients come back uncompressed (fp32, as in the paper) and the device "
                "compute does not shrink")
    return f": the downlink gradients are coded with {', '.join(sorted(down))}"


def runs_scale(runs):
    sel = runs[runs.dataset == "cifar10"]
    if not len(sel):
        return "a small fraction"
    sc = sel.iloc[0]["manifest"]["scenario"]
    ours = (sc["dataset"]["train_subset"] or 50000) * sc["training"]["epochs"]
    return f"{100 * ours / (50000 * 200):.1f} %"


# ---------------------------------------------------------------- CIFAR-10 near convergence
CIFAR10_BEGIN, CIFAR10_END = "<!-- cifar10: begin -->", "<!-- cifar10: end -->"
# The plan's method ids (scripts/reproduce-cifar10) of the METHODS keys.
PLAN_METHOD = {"none": "none", "ms": "ms", "topk": "topk", "randtopk": "randtopk",
               "quantize": "qu3", "qu_eq": "qu-eq"}
TARGET_FULL = 0.85  # issue 19: the uncompressed run must reach 85 % on the whole test set


def read_plan_points(folder):
    """The plan of scripts/reproduce-cifar10 (folder/plan.json) and its finished points: one row
    per point folder with point.json (settings, fingerprint, hours), eval.csv and summary."""
    plan = json.load(open(os.path.join(folder, "plan.json")))
    ids = [f"{c}-{m}-s{s}" for c, m, s in plan["points"]]
    rows = []
    for pid in ids:
        info_path = os.path.join(folder, pid, "point.json")
        if not os.path.exists(info_path):
            continue
        info = json.load(open(info_path))
        m = json.load(open(os.path.join(folder, pid, "manifest.json")))
        ev = pd.read_csv(os.path.join(folder, pid, "eval.csv"))
        ev = ev[ev["round"] > 0].drop_duplicates("round", keep="first").reset_index(drop=True)
        best = int(ev["test_accuracy"].idxmax())
        rows.append({"id": pid, "cut": info["cut"], "method": method_key(m["scenario"]["codec"]
                                                                          ["uplink"]),
                     "seed": info["seed"], "final": float(ev["test_accuracy"].iloc[-1]),
                     "best": float(ev["test_accuracy"].iloc[best]),
                     "best_epoch": int(ev["round"].iloc[best]), "epochs": int(ev["round"].max()),
                     "wall_h": info["wall_s"] / 3600, "cpu_h": info["cpu_s"] / 3600,
                     "cpu_model": info.get("cpu_model", ""), "threads": info.get("threads"),
                     "sessions": info.get("sessions", 1), "n_test": test_size(m["scenario"]),
                     "chance": chance_level(m), "scenario": m["scenario"], "eval": ev,
                     "plan_epochs": m["scenario"]["training"]["epochs"]})
    return plan, ids, pd.DataFrame(rows, columns=["id", "cut", "method", "seed", "final", "best",
                                                  "best_epoch", "epochs", "wall_h", "cpu_h",
                                                  "cpu_model", "threads", "sessions", "n_test",
                                                  "chance", "scenario", "eval", "plan_epochs"])


def plan_scenario(folder, plan, done):
    """The settings every point runs with: a finished point's resolved scenario (manifest.json),
    else the plan's base scenario with the plan's `set` applied (what slsim will resolve)."""
    if len(done):
        return done.iloc[0]["scenario"], True
    sc = json.load(open(os.path.join(folder, plan["base"])))
    for key, value in plan.get("set", {}).items():
        node = sc
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return sc, False


def config_line(sc, resolved):
    """The configuration of the plan's points, read from the scenario (nothing typed in)."""
    ds, md, tr, op = sc["dataset"], sc["model"], sc["training"], sc["optimizer"]
    devices = len(sc["devices"]["list"]) if "list" in sc["devices"] else sc["devices"]["count"]
    train = f"{ds['train_subset']:,}" if ds.get("train_subset") else "all 50,000"
    test = (f"{ds['test_subset']:,} test images" if ds.get("test_subset")
            else "the whole test set (10,000 images)")
    source = "from the points’ manifests" if resolved else "from the plan; no point has finished"
    augment = " with random crop + horizontal flip" if ds.get("augment") else " (no augmentation)"
    return (f"Configuration ({source}): "
            f"{md['name']} at width {md['width']:g}, {train} training images"
            f"{augment}, "
            f"{test}; {devices} device{'s' if devices != 1 else ''} "
            f"({sc['schedule']['kind']} split learning), batch {tr['batch_size']}, "
            f"{op['name']} lr {op['lr']:g} (momentum {op.get('momentum', 0):g}, weight decay "
            f"{op.get('weight_decay', 0):g}), {op.get('schedule', 'constant')} schedule over "
            f"{tr['epochs']} epochs. Width, epochs and learning rate were chosen on the "
            "uncompressed run only (`results/cifar10/README.md`); the paper trains the full-width "
            "model for 200 epochs, so its accuracies are higher than these and only the "
            "differences between methods compare.")


def plot_full_curves(done, path):
    """Per-epoch test accuracy of every finished point, one panel per cut (eval.csv)."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
    for j, cut in enumerate(CUTS):
        ax = axes[j]
        sel = done[done.cut == cut]
        for _, r in sel.iterrows():
            color, ls = STYLE[r["method"]]
            ax.plot(r["eval"]["round"], r["eval"]["test_accuracy"], color=color, ls=ls,
                    lw=2 if r["method"] == "none" else 1.2, alpha=1 if r["seed"] == 1 else 0.6,
                    label=f"{LABEL[r['method']]} s{r['seed']}")
        ax.axhline(TARGET_FULL, color="grey", lw=0.8, ls=":",
                   label=f"{100 * TARGET_FULL:.0f} % target")
        ax.set_title(f"{cut} cut" + ("" if len(sel) else " (no point yet)"))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if len(sel):
            ax.legend(fontsize=7)
    axes[0].set_ylabel("test accuracy (10,000 images)")
    fig.suptitle("VGG19-BN / CIFAR-10 near convergence (results/cifar10/)")
    save_figure(fig, path, 90)


def uncompressed_lines(done):
    """(b): the uncompressed runs against the 85 % target, with their cost."""
    none = done[done.method == "none"]
    if not len(none):
        return [f"**The uncompressed run has not finished yet**: the {100 * TARGET_FULL:.0f} % "
                "target is not shown yet.", ""]
    out = []
    for _, r in none.iterrows():
        se = (r["final"] * (1 - r["final"]) / r["n_test"]) ** 0.5
        reached = r["eval"][r["eval"]["test_accuracy"] >= TARGET_FULL - 1e-12]
        verdict = (f"the {100 * TARGET_FULL:.0f} % target holds (first reached after epoch "
                   f"{int(reached['round'].iloc[0])})" if r["final"] >= TARGET_FULL - 1e-12 else
                   f"**below the {100 * TARGET_FULL:.0f} % target**")
        threads = (f", {r['threads']} thread{'s' if r['threads'] != 1 else ''}" if r["threads"]
                   else "")
        out.append(f"**The uncompressed run (`{r['id']}`, {r['cut']} cut) reaches "
                   f"{pct(r['final'], 2)} % after {r['epochs']} "
                   f"epoch{'s' if r['epochs'] != 1 else ''}** (± {100 * se:.2f} "
                   f"test-set sampling; best {pct(r['best'], 2)} % after epoch "
                   f"{r['best_epoch']}): {verdict}. It cost {r['wall_h']:.2f} h of wall time and "
                   f"{r['cpu_h']:.2f} h of CPU on {r['cpu_model'] or 'an unrecorded CPU'}"
                   f"{threads}, in {r['sessions']} session{'s' if r['sessions'] != 1 else ''}.")
        out.append("")
    return out


def cut_table(done, cut, curves, seeds):
    """(c): one row per method at `cut` (every method of the plan, "not yet run" where missing),
    its `seeds` (the plan's at that cut), mean ± standard error, difference to uncompressed, and
    the paper's difference."""
    sel = done[done.cut == cut] if len(done) else done
    seeds = sorted(set(seeds) | set(sel.seed if len(sel) else [])) or [1]
    stats = {m: Acc(list(sel[sel.method == m].sort_values("seed")["final"]),
                    sel.iloc[0]["n_test"], sel.iloc[0]["chance"])
             for m in METHODS if len(sel[sel.method == m])}
    base_paper = paper_acc(curves, "none", cut, 200) if curves is not None else math.nan
    rows = []
    for m in METHODS:
        runs_m = sel[sel.method == m]
        cells = [LABEL[m]]
        for s in seeds:
            v = runs_m[runs_m.seed == s]["final"]
            cells.append(pct(float(v.iloc[0]), 2) if len(v) else "not yet run")
        if m not in stats:
            cells += ["not yet run", "–"]
        else:
            a = stats[m]
            cells.append(f"{100 * a.mean:.2f} ± {100 * a.se:.2f} "
                         f"({a.n} seed{'s' if a.n > 1 else ''}"
                         f", {a.source})")
            if m == "none" or "none" not in stats:
                cells.append("–")
            else:
                res, d, se = compare_acc(a, stats["none"])
                word = "tie" if res == 0 else ("ahead" if res > 0 else "behind")
                if min(a.n, stats["none"].n) < 2:
                    word = "one seed: no claim"
                cells.append(f"{100 * d:+.2f} ± {100 * se:.2f} ({word})")
        pm = paper_acc(curves, m, cut, 200) if curves is not None else math.nan
        cells.append("–" if m == "none" or math.isnan(pm) else f"{100 * (pm - base_paper):+.1f}")
        rows.append(cells)
    header = (["method"] + [f"seed {s} final %" for s in seeds]
              + ["mean ± s.e. %", "vs uncompressed (points)", "paper: vs its baseline (200 ep.)"])
    return md_table(header, rows), stats


def ranking_lines(cut, stats):
    """Rankings per budget convention, from the methods with two seeds or more only."""
    ranked = {m: a for m, a in stats.items() if a.n >= 2}
    groups = {}  # the ranked methods -> the conventions that rank exactly them
    for conv, members in CONVENTIONS.items():
        members = tuple(m for m in members if m in ranked)
        if len(members) >= 2:
            groups.setdefault(members, []).append(conv)
    out = []
    for members, convs in groups.items():
        conv = (convs[0] if len(convs) == 1 else
                "both budget conventions (no QU with two seeds yet)")
        out.append(f"- Ranking at the {cut} cut, {conv}: "
                   + ranking({m: ranked[m] for m in members}, NAME) + ".")
    if not out:
        out.append(f"- No ranking at the {cut} cut yet: a ranking needs two methods with two seeds "
                   f"each (now {len(ranked)} with two seeds, {len(stats)} with one or more).")
    return out


def paper_claim_lines(stats, curves):
    """The paper's shallow-cut differences (each method vs its baseline after 200 epochs) against
    ours, where both methods have two seeds: consistent when ours is within Z standard errors."""
    if curves is None or "none" not in stats or stats["none"].n < 2:
        return []
    base = paper_acc(curves, "none", "shallow", 200)
    out = []
    for m in ("ms", "topk", "randtopk", "quantize"):
        if m not in stats or stats[m].n < 2:
            continue
        _, d, se = compare_acc(stats[m], stats["none"])
        p = paper_acc(curves, m, "shallow", 200) - base
        ok = abs(d - p) <= Z * se
        out.append(f"- {LABEL[m]}: paper {100 * p:+.1f} points vs its baseline, ours "
                   f"{100 * d:+.2f} ± {100 * se:.2f}: "
                   + ("consistent with the paper" if ok else "**differs from the paper**")
                   + f" (|difference| {'≤' if ok else '>'} {Z:g} standard errors).")
    if out:
        out.insert(0, "The paper's shallow-cut claims against these runs (methods with two seeds):")
    return out + ([""] if out else [])


def plan_name(folder):
    """The plan folder relative to the repository (results/cifar10)."""
    return os.path.relpath(os.path.abspath(folder),
                           os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def full_run_section(folder, curves=None, figures=None, rel=None):
    """The points of the resumable CIFAR-10 plan (results/cifar10): the configuration, the
    uncompressed run against the 85 % target with its curve and cost, the table and ranking of
    each cut with ties from the seed spread and the test-set sampling noise, which points exist and
    how to continue. Between markers, so that --only-cifar10 can replace it."""
    if not os.path.exists(os.path.join(folder, "plan.json")):
        return []
    plan, ids, done = read_plan_points(folder)
    name = plan_name(folder)
    sc, resolved = plan_scenario(folder, plan, done)
    out = [CIFAR10_BEGIN, "## CIFAR-10 near convergence (the resumable plan)", "",
           f"`scripts/reproduce-cifar10` runs the points of `{name}/plan.json` (the paper's "
           "methods at the three cuts, 2 seeds at the shallow cut, QU under both budget "
           "conventions) and commits each finished point's small results there; this section is "
           f"read from those committed files. **{len(done)} of {len(ids)} points done.**", "",
           config_line(sc, resolved), ""]
    out += uncompressed_lines(done)
    if len(done) and figures is not None:
        path = os.path.join(figures, "cifar10_full_accuracy_vs_epoch.png")
        plot_full_curves(done, path)
        out += [f"![CIFAR-10 near convergence: test accuracy per epoch]"
                f"({rel(path) if rel else path})", ""]
    if len(done):
        out += [md_table(["point", "epochs", "final %", "best %", "hours (wall)", "hours (CPU)",
                          "CPU"],
                         [[r["id"], r["epochs"], pct(r["final"], 2), pct(r["best"], 2),
                           f"{r['wall_h']:.2f}", f"{r['cpu_h']:.2f}", r["cpu_model"]]
                          for _, r in done.iterrows()]), ""]
    n_test = int(done.iloc[0]["n_test"]) if len(done) else TEST_SIZE["cifar10"]
    p = float(done["final"].max()) if len(done) else 0.9
    out += ["Each cut's final accuracies, every method of the plan (a missing point is \"not yet "
            "run\"). A method's standard error is its seeds' spread over √seeds, never below the "
            f"test-set sampling noise √(p(1−p)/{n_test:,}) (binomial; ±"
            f"{100 * (p * (1 - p) / n_test) ** 0.5:.2f} points at {100 * p:.0f} %); two "
            f"accuracies tie when they differ by at most {Z:g} standard errors of the difference. "
            "No ranking and no comparison with the paper is claimed from one seed: the "
            "run-to-run spread is then unknown.", ""]
    for cut in CUTS:
        seeds = sorted({s for c, _, s in plan["points"] if c == cut})
        table, stats = cut_table(done, cut, curves, seeds)
        out += [f"**{cut.capitalize()} cut**", "", table, ""]
        if len(seeds) < 2:
            out += [f"- The plan has one seed at the {cut} cut: its differences are shown, no "
                    "ranking is claimed.", ""]
        else:
            out += ranking_lines(cut, stats) + [""]
        if cut == "shallow":
            out += paper_claim_lines(stats, curves)
    done_ids = set(done["id"]) if len(done) else set()
    missing = [i for i in ids if i not in done_ids]
    out += ["Points done: " + (", ".join(f"`{i}`" for i in ids if i in done_ids) or "none")
            + ". " + ("Missing (not yet run): " + ", ".join(f"`{i}`" for i in missing) + "."
                      if missing else "None missing.")]
    if missing:
        cpu = (f" (about {done['cpu_h'].mean():.1f} CPU h per point as measured so far)"
               if len(done) else "")
        out += ["", "To continue (on any machine with the data; finished points are kept): "
                f"`scripts/reproduce-cifar10 run --commit` runs the missing points in plan order"
                f"{cpu} and commits each finished point under `{name}/`; `-j N` runs N at a "
                "time, `--shard R/K` splits the plan across K machines, "
                "`scripts/reproduce-cifar10 list` shows the state."]
    return out + [CIFAR10_END, ""]


def splice_cifar10(a, curves):
    """--only-cifar10: replace (or append) the CIFAR-10 near-convergence section of --md, or write
    a file with that section alone when --md does not exist. The section reads only the committed
    plan folder, so the rest of the report is left as it is."""
    md_dir = os.path.dirname(os.path.abspath(a.md))
    os.makedirs(a.figures, exist_ok=True)
    sec = full_run_section(a.cifar10, curves, a.figures,
                           lambda p: os.path.relpath(os.path.abspath(p), md_dir))
    if not sec:
        sys.exit(f"reproduction: {a.cifar10}/plan.json: no CIFAR-10 plan")
    if os.path.exists(a.md):
        lines = open(a.md).read().rstrip("\n").split("\n")
        if STALE_BEGIN in lines:  # a report spliced before: its banner names this section too
            lines, first = cut_block(lines, STALE_BEGIN, STALE_END)
            lines = lines[:first] + stale_note(a.root) + lines[first:]
        lines, at = cut_block(lines, CIFAR10_BEGIN, CIFAR10_END)
        if at is None:
            heads = [i for i, x in enumerate(lines)
                     if x.startswith("## CIFAR-10 near convergence")]  # an unmarked older one
            if heads:
                nxt = [i for i, x in enumerate(lines) if x.startswith("## ") and i > heads[0]]
                lines = lines[:heads[0]] + lines[nxt[0] if nxt else len(lines):]
            at = heads[0] if heads else len(lines) + 1
            if not heads:
                lines.append("")
    else:
        lines, at = ["# Reproduction: CIFAR-10 near convergence", "",
                     "Generated by `analysis/reproduction.py --only-cifar10` from the committed "
                     f"points under `{plan_name(a.cifar10)}/`.", ""], 4
    lines = lines[:at] + sec + lines[at:]
    write_md(a.md, lines)
    print(f"reproduction: CIFAR-10 near-convergence section -> {a.md}, figures in {a.figures}/")


# ---------------------------------------------------------------- the wall-clock story
WALLCLOCK_BEGIN, WALLCLOCK_END = "<!-- wallclock: begin -->", "<!-- wallclock: end -->"
STALE_BEGIN, STALE_END = "<!-- stale: begin -->", "<!-- stale: end -->"


def wallclock_lines(root, figures, rel):
    """analysis/wallclock.py's section between markers (so that --only-wallclock can replace it),
    or nothing when RESULTS_DIR/wallclock has no finished run."""
    import wallclock  # here: wallclock imports this module's helpers
    # Run as a script, this file is __main__ and wallclock's `reproduction` a second copy.
    wallclock.rep.FAST_FIGURES = FAST_FIGURES
    sec = wallclock.section(root, figures, rel)
    return [WALLCLOCK_BEGIN] + sec + [WALLCLOCK_END, ""] if sec else []


def cut_block(lines, begin, end):
    """lines without the block from begin to end (markers included) and the index it was at."""
    if begin not in lines or end not in lines:
        return lines, None
    i, j = lines.index(begin), lines.index(end)
    while j + 1 < len(lines) and not lines[j + 1].strip():
        j += 1  # the block's trailing blank lines
    return lines[:i] + lines[j + 1:], i


def stale_note(root):
    """The banner of a report whose sections were regenerated one at a time (--only-wallclock,
    --only-cifar10) over an older full report."""
    return [STALE_BEGIN,
            "> **Only the wall-clock section (\"The wall-clock story\", from the runs under "
            f"`{root}/wallclock`, `--only-wallclock`) and the CIFAR-10 near-convergence section "
            "(from the committed points, `--only-cifar10`) were regenerated separately.** Every "
            "other section comes from an earlier full `scripts/reproduce`, whose runs are not "
            "here, and may predate the current simulator; re-run `scripts/reproduce` to refresh "
            "them.", STALE_END, ""]


def splice_wallclock(a):
    """--only-wallclock: replace (or insert, before the codec-error section) the wall-clock section
    of an existing report and say above it that the rest of the report is older."""
    if not os.path.exists(a.md):
        sys.exit(f"reproduction: {a.md}: no report to update (run without --only-wallclock)")
    md_dir = os.path.dirname(os.path.abspath(a.md))
    os.makedirs(a.figures, exist_ok=True)
    sec = wallclock_lines(a.root, a.figures,
                          lambda p: os.path.relpath(os.path.abspath(p), md_dir))
    if not sec:
        sys.exit(f"reproduction: no finished wall-clock runs under {a.root}/wallclock/")
    lines = open(a.md).read().rstrip("\n").split("\n")
    lines, _ = cut_block(lines, STALE_BEGIN, STALE_END)
    lines, at = cut_block(lines, WALLCLOCK_BEGIN, WALLCLOCK_END)
    if at is None:
        heads = [i for i, x in enumerate(lines) if x.startswith("## Codec error vs budget")]
        at = heads[0] if heads else len(lines)
    lines = lines[:at] + sec + lines[at:]
    # The note goes after the title and the generated-by paragraph.
    first = next((i for i, x in enumerate(lines) if x.startswith("## ")), len(lines))
    lines = lines[:first] + stale_note(a.root) + lines[first:]
    write_md(a.md, lines)
    print(f"reproduction: wall-clock section -> {a.md}, figures in {a.figures}/")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="results/reproduce")
    ap.add_argument("--md", default="results/REPRODUCTION.md")
    ap.add_argument("--figures", default="results/figures")
    ap.add_argument("--paper", default=os.path.join(here, "paper"),
                    help="folder of the paper's fig3_curves.csv and fig2_errors.csv "
                         "(default: analysis/paper, committed)")
    ap.add_argument("--quick", action="store_true",
                    help="the runs are scripts/reproduce --quick's: the report says in a banner "
                         "that its numbers only check the pipeline")
    ap.add_argument("--cifar10", default=os.path.join(here, "..", "results", "cifar10"),
                    help="the resumable CIFAR-10 plan's folder (scripts/reproduce-cifar10; "
                         "default results/cifar10): its finished points get their own section")
    ap.add_argument("--only-wallclock", action="store_true",
                    help="regenerate only the wall-clock section (RESULTS_DIR/wallclock) inside "
                         "the existing --md file, which then says that its other sections are "
                         "older")
    ap.add_argument("--only-cifar10", action="store_true",
                    help="regenerate only the CIFAR-10 near-convergence section (from --cifar10, "
                         "committed) inside the --md file, or write it alone to a new --md file; "
                         "RESULTS_DIR is not read")
    a = ap.parse_args()
    global FAST_FIGURES
    FAST_FIGURES = a.quick
    if a.only_wallclock:
        splice_wallclock(a)
        return
    if not os.path.isdir(a.paper):
        sys.exit(f"reproduction: {a.paper}: the paper's CSV folder is missing (use --paper)")
    if a.only_cifar10:
        splice_cifar10(a, read_paper(a.paper)[0])
        return
    runs = read_runs(a.root)
    curves, paper_errors = read_paper(a.paper)
    errors, bias = read_probe(a.root)
    os.makedirs(a.figures, exist_ok=True)
    md_dir = os.path.dirname(os.path.abspath(a.md))

    def rel(p):
        return os.path.relpath(os.path.abspath(p), md_dir)

    lines = ["# Reproduction: mask-encoded sparsification against its baselines, on real data and "
             "over simulated networks", "",
             f"Generated by `analysis/reproduction.py` from the CSV under `{a.root}` (written by "
             "`scripts/reproduce`); the paper's numbers are read from `analysis/paper/` "
             "(Fig. 3 and Fig. 2 read from the PDF's vector paths; provenance in its README). "
             "Do not edit by hand: re-run `scripts/reproduce`.", ""]
    if a.quick:
        sc = runs.iloc[0]["manifest"]["scenario"]
        ds = sc["dataset"]
        lines[0] += " (quick pipeline check)"
        lines += [f"> **Quick mode (`scripts/reproduce --quick`): these numbers only check that "
                  "the pipeline runs.** Every run is cut to "
                  f"{sc['training']['epochs']} epoch(s) on {ds['train_subset'] or 'all'} training "
                  f"and {ds['test_subset'] or 'all'} test images, so accuracies sit near chance "
                  "and "
                  "no comparison below says anything about the methods or the paper. The full "
                  "report is `results/REPRODUCTION.md` (`scripts/reproduce`).", ""]
    lines += settings_section(runs, planned_runs(a.root))
    plot_paper_curves(curves, os.path.join(a.figures, "paper_vgg19_cifar10_accuracy.png"))
    for d in DATASETS:
        if not len(runs[runs.dataset == d]):
            continue
        f = {k: os.path.join(a.figures, f"{d}_accuracy_vs_{k}.png") for k in ("epoch", "bytes", "time")}
        plot_curves(runs, d, ["wireless"], "round", "epoch", f["epoch"])
        plot_curves(runs, d, ["wireless"], "cum_bytes_up", "cumulative uplink bytes", f["bytes"],
                    logx=True)
        plot_curves(runs, d, list(NETWORKS), "sim_time_s", "simulated time (s)", f["time"])
        lines += [f"## {DATASETS[d]}", "",
                  f"![accuracy vs epoch]({rel(f['epoch'])})", "",
                  f"![accuracy vs uplink bytes]({rel(f['bytes'])})", "",
                  f"![accuracy vs simulated time]({rel(f['time'])})", ""]
        if d == "cifar10":
            lines += ["The paper's curves for comparison (200 epochs, full width, all 50000 images):",
                      "", f"![paper curves]({rel(os.path.join(a.figures, 'paper_vgg19_cifar10_accuracy.png'))})",
                      ""]
        lines += accuracy_section(runs, curves, d)
        lines += traffic_section(runs, curves, d)
        lines += time_section(runs, d)
    lines += wallclock_lines(a.root, a.figures, rel)
    lines += probe_sections(errors, bias, paper_errors, a.figures, rel)
    lines += agreement_section(runs, curves, paper_errors, errors, bias, a.quick)
    # Read from the committed points (results/cifar10), not from RESULTS_DIR: the same in the
    # quick report, where it checks that the section renders.
    sec = full_run_section(a.cifar10, curves, a.figures, rel)
    if a.quick and sec:
        sec[3:3] = ["*Not from the quick runs: read from the committed points, as in the full "
                    "report (the quick report checks that the section renders).*", ""]
    lines += sec
    table = runs.drop(columns=["eval", "manifest"]).assign(
        final_accuracy=[r["eval"]["test_accuracy"].iloc[-1] for _, r in runs.iterrows()],
        best_accuracy=[r["eval"]["test_accuracy"].max() for _, r in runs.iterrows()],
        bytes_up=[r["eval"]["cum_bytes_up"].iloc[-1] for _, r in runs.iterrows()],
        sim_time_s=[r["eval"]["sim_time_s"].iloc[-1] for _, r in runs.iterrows()])
    table["dir"] = [os.path.relpath(p, a.root) for p in table["dir"]]
    table.to_csv(os.path.join(a.figures, "runs.csv"), index=False, float_format="%.6g")
    write_md(a.md, lines)
    print(f"reproduction: {len(runs)} runs -> {a.md}, figures in {a.figures}/")


if __name__ == "__main__":
    main()
