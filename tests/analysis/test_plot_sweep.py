#!/usr/bin/env python3
"""analysis/plot_sweep.py and analysis/compare.py on a small synthetic mixed sweep.

test_plot_sweep.py SOURCE_DIR: writes a sweep folder in the format `slsim sweep` writes (sweep.csv,
sweep-points.json, points/<id>/{manifest.json, point.json, eval.csv, steps.csv, summary.csv,
events.csv}) for an MS grid (sparsity 0.9 and 0.99 at 2-bit codes: 5.2 and 2.32 bits per element),
top-k and quantization at each of those budgets and the uncompressed baseline, 2 seeds each, with
accuracy curves chosen so that the cheapest configuration is known: MS s=0.99 in time, QU at 2.32
(2 bits) in uplink bytes; top-k 5.2 is fastest with one seed but misses the target with the other.
Checks the table, the default target (the scenario's), every figure, stale outputs removed, and
compare.py's legend and table.
test_plot_sweep.py SOURCE_DIR SLSIM: also runs a real mixed sweep (an MS grid and top-k and
quantization at each of its budgets through `baselines_at_budget`, 2 seeds) and checks that the
table names the configuration that reaches the target first, computed here from the points'
eval.csv, and that every figure is produced.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import pandas as pd

source = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="slsim-test-plot-sweep-")
sweep = os.path.join(tmp, "sweep")
PY = sys.executable
ELEMENTS = 128  # cut_shape [128]
BATCH, DEVICES, ROUNDS = 32, 2, 5
TARGET = 0.8
DOWN = 4 * BATCH * ELEMENTS + 40  # fp32 gradients per step
SYNC = 50000  # weight averaging per round

# (uplink codec, payload bits, seconds per round, accuracy per round for seed 1 and seed 2)
CONFIGS = [
    ({"method": "none"}, 32.0, 2.0,
     ([0.7, 0.85, 0.86, 0.87, 0.88], [0.72, 0.84, 0.85, 0.86, 0.87])),
    ({"method": "ms", "sparsity": 0.9, "bits": 2}, 5.2, 1.6,
     ([0.6, 0.81, 0.82, 0.84, 0.85], [0.62, 0.8, 0.83, 0.84, 0.84])),
    ({"method": "ms", "sparsity": 0.99, "bits": 2}, 2.32, 1.0,
     ([0.5, 0.7, 0.8, 0.82, 0.83], [0.52, 0.74, 0.81, 0.82, 0.84])),
    ({"method": "topk", "budget_bits_per_element": 5.2, "index": "bitmap"}, 5.2, 0.9,
     ([0.81, 0.82, 0.83, 0.83, 0.84], [0.5, 0.6, 0.7, 0.75, 0.78])),
    ({"method": "topk", "budget_bits_per_element": 2.32, "index": "bitmap"}, 2.32, 0.95,
     ([0.4, 0.5, 0.6, 0.65, 0.7], [0.42, 0.5, 0.61, 0.66, 0.69])),
    ({"method": "quantize", "budget_bits_per_element": 5.2}, 5.0, 1.2,
     ([0.6, 0.75, 0.8, 0.83, 0.84], [0.6, 0.76, 0.81, 0.82, 0.84])),
    ({"method": "quantize", "budget_bits_per_element": 2.32}, 2.0, 1.1,
     ([0.55, 0.7, 0.8, 0.81, 0.82], [0.5, 0.72, 0.82, 0.83, 0.83])),
]
SUMMARY = ["final_accuracy", "best_accuracy", "final_loss", "time_to_target_s",
           "bytes_up_to_target", "bytes_up", "bytes_down", "bytes_sync", "sim_time_s", "steps",
           "rounds", "dropouts", "wall_time_s", "training_wall_s", "ns3_wall_s", "diverged"]


def codec(c):
    full = {"method": "none", "sparsity": 0.99, "bits": 2, "index": "auto", "randtopk_a": 0.1,
            "floor": False, "signed": False, "stochastic": False, "budget_bits_per_element": 0.0}
    full.update(c)
    return full


def scenario(up, seed):
    return {
        "name": "mixed", "seed": seed,
        "dataset": {"name": "synthetic", "path": "", "mean": [0.5], "std": [0.25],
                    "augment": False, "train_subset": 0, "test_subset": 0,
                    "subset_random": False,
                    "synthetic": {"train": 1200, "test": 300, "classes": 10, "shape": [1, 8, 8]}},
        "partition": {"kind": "iid", "alpha": 0.5, "shards_per_device": 2},
        "model": {"name": "mlp", "width": 1.0, "cut": "shallow", "hidden": [128, 64],
                  "threads": 1},
        "training": {"batch_size": BATCH, "epochs": ROUNDS, "time_budget_s": 0.0,
                     "eval_every_rounds": 1, "compress_eval": True,
                     "target_accuracy": TARGET, "eval_batch": 256},
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0005,
                      "nesterov": False, "schedule": "constant", "step_epochs": 30,
                      "gamma": 0.1, "total_epochs": ROUNDS},
        "codec": {"uplink": codec(up), "downlink": codec({}), "sync": codec({})},
        "network": {"bottleneck_mbps": 100.0, "bottleneck_delay_ms": 1.0,
                    "server_gflops": 1000.0, "server_workers": 1},
        "devices": {"count": DEVICES, "list": [{"uplink_mbps": 10.0, "downlink_mbps": 10.0,
                                                "delay_ms": 5.0, "loss": 0.0, "gflops": 5.0}]
                    * DEVICES},
        "schedule": {"kind": "splitfed_v2", "sync_every_steps": 0},
        "faults": {"timeout_s": 30.0, "outages": []}, "record_frames": False}


def up_bytes(bits):
    return math.ceil(BATCH * ELEMENTS * bits / 8) + 40  # payload + a header


rows, listed, expected = [], [], {}
index = 0
for ci, (up, bits, per_round, accs) in enumerate(CONFIGS):
    for rep, acc in enumerate(accs):
        seed = 1 + rep
        pid = f"p{index:04d}-{ci:04x}{rep:04x}"
        d = os.path.join(sweep, "points", pid)
        os.makedirs(d)
        sc = scenario(up, seed)
        steps, ev = [], []
        cum_up = cum_down = cum_sync = 0
        t = 0.0
        for r in range(ROUNDS):
            for dev in range(DEVICES):
                t0 = t + per_round * (dev + 1) / DEVICES
                cum_up += up_bytes(bits)
                cum_down += DOWN
                steps.append([t0, r, 1, r + 1, dev, BATCH, 1.0 - acc[r], acc[r], up_bytes(bits),
                              DOWN, cum_up, cum_down, 0.01, 0.001, 0.0, per_round / 2 - 0.011,
                              0.0 if up["method"] == "none" else 1.0 / bits])
            t += per_round
            cum_sync += SYNC
            ev.append([t, r + 1, (r + 1) * DEVICES, cum_up, cum_down, cum_sync, acc[r],
                       1.0 - acc[r]])
        cols = ["sim_time_s", "round", "phase", "step", "device", "batch", "loss",
                "batch_accuracy", "bytes_up", "bytes_down", "cum_bytes_up", "cum_bytes_down",
                "device_compute_s", "server_compute_s", "queue_s", "comm_s", "codec_rel_error"]
        pd.DataFrame(steps, columns=cols).to_csv(os.path.join(d, "steps.csv"), index=False)
        pd.DataFrame(ev, columns=["sim_time_s", "round", "steps", "cum_bytes_up",
                                  "cum_bytes_down", "cum_bytes_sync", "test_accuracy",
                                  "test_loss"]).to_csv(os.path.join(d, "eval.csv"), index=False)
        hit = next((e for e in ev if e[6] >= TARGET), None)
        summary = [acc[-1], max(acc), 1 - acc[-1], hit[0] if hit else -1, hit[3] if hit else -1,
                   cum_up, cum_down, cum_sync, t, ROUNDS * DEVICES, ROUNDS, 0, 0.1, 0.05, 0.05, 0]
        pd.DataFrame([summary], columns=SUMMARY).to_csv(os.path.join(d, "summary.csv"),
                                                       index=False)
        with open(os.path.join(d, "events.csv"), "w") as f:
            f.write("sim_time_s,device,event,round\n")
        manifest = {"slsim_version": "0.1.0", "scenario_file": "scenario.json", "overrides": [],
                    "seed": seed, "started_utc": "2026-11-29T00:00:00Z", "wall_time_s": 0.1,
                    "summary": dict(zip(SUMMARY, summary)),
                    "derived": {"devices": DEVICES, "model_input": [1, 8, 8],
                                "model_classes": 10, "cut_shape": [ELEMENTS],
                                "uplink_bits_per_element": bits,
                                "downlink_bits_per_element": 32.0},
                    "scenario": sc}
        json.dump(manifest, open(os.path.join(d, "manifest.json"), "w"))
        value = json.dumps(up, separators=(",", ":"))
        json.dump({"id": pid, "index": index, "repetition": rep, "seed": seed,
                   "values": {"codec.uplink": value}}, open(os.path.join(d, "point.json"), "w"))
        listed.append({"id": pid, "values": {"codec.uplink": value}, "repetition": rep,
                       "seed": seed})
        rows.append([pid, value, rep, seed] + summary)
        index += 1
# A third fp32 seed that diverged before its first evaluation: header-only eval.csv.
d0 = os.path.join(sweep, "points", rows[0][0])
dead = os.path.join(sweep, "points", f"p{index:04d}-dead0002")
subprocess.run(["cp", "-r", d0, dead], check=True)
with open(os.path.join(dead, "eval.csv")) as f:
    header = f.readline()
with open(os.path.join(dead, "eval.csv"), "w") as f:
    f.write(header)
m = json.load(open(os.path.join(dead, "manifest.json")))
m["seed"] = m["scenario"]["seed"] = 3
json.dump(m, open(os.path.join(dead, "manifest.json"), "w"))
rows.append([os.path.basename(dead), rows[0][1], 2, 3] + rows[0][4:-1] + [1])
pd.DataFrame(rows, columns=["point", "codec.uplink", "repetition", "seed"] + SUMMARY).to_csv(
    os.path.join(sweep, "sweep.csv"), index=False)
json.dump({"sweep_file": "mixed.json", "overrides": [], "points": listed},
          open(os.path.join(sweep, "sweep-points.json"), "w"))


def run(*args, code=0):
    r = subprocess.run([PY] + list(args), capture_output=True, text=True)
    assert r.returncode == code, f"{args}: exit {r.returncode}: {r.stdout}{r.stderr}"
    return r


plots = os.path.join(sweep, "plots")
os.makedirs(plots)
with open(os.path.join(plots, "pareto.png"), "w") as f:
    f.write("stale")
run(os.path.join(source, "analysis", "plot_sweep.py"), sweep)
table = open(os.path.join(plots, "table.md")).read()
assert table.startswith("# Which configuration? Target accuracy 0.8 (the scenario's "), table[:200]
lines = table.splitlines()
time_line = next(ln for ln in lines if ln.startswith("- Cheapest in simulated time"))
up_line = next(ln for ln in lines if ln.startswith("- Cheapest in uplink bytes"))
# MS s=0.99: 3 rounds x 1.0 s = 3.0 s; top-k 5.2 is at 0.9 s with seed 1 but never with seed 2.
assert "**MS s=0.99** (2.32 bits per element, compression ×13.8): 3.00 ± 0.00 s" in time_line, \
    time_line
# QU 2 bits: 3 rounds x 2 x up_bytes(2) = 6,480 bytes, fewer than MS s=0.99's 3 rounds.
qu = 3 * DEVICES * up_bytes(2.0) / 1e6
assert f"**QU 2.32b/e** (2 bits per element, compression ×16): {qu:.3f} ± 0.000 MB" in up_line, \
    up_line
# The runner-up in time (MS s=0.9: 2 rounds x 1.6 s) is named, with no tie (zero spread).
assert "next: MS s=0.9 (3.20 ± 0.00 s)" in time_line, time_line

conf = pd.read_csv(os.path.join(plots, "configurations.csv")).set_index("configuration")
assert list(conf.index) == ["fp32", "MS s=0.9", "MS s=0.99", "top-k 5.2b/e", "top-k 2.32b/e",
                            "QU 5.2b/e", "QU 2.32b/e"], list(conf.index)
assert conf.loc["MS s=0.99", "payload_bits"] == 2.32
wire = 8 * up_bytes(2.32) / (BATCH * ELEMENTS)
assert abs(conf.loc["MS s=0.99", "wire_bits"] - wire) < 1e-4, conf.loc["MS s=0.99", "wire_bits"]
assert abs(conf.loc["QU 2.32b/e", "compression_ratio"] - 16) < 1e-9
assert conf.loc["top-k 5.2b/e", "reached"] == 1 and math.isnan(conf.loc["top-k 5.2b/e",
                                                                        "time_to_target_s"])
assert "| top-k 5.2b/e | top-k 5.2b/e index=bitmap | 5.2 |" in table
assert "| 1/2 |" in table
assert f"Left out: 1 points with no evaluation (diverged before the first): {rows[-1][0]}." \
    in table

figures = ["accuracy_vs_bits.png", "to_target_vs_bits.png", "pareto.png", "accuracy_vs_time.png",
           "accuracy_vs_bytes.png", "final_accuracy.png", "codec_error.png"]
for f in figures:
    assert open(os.path.join(plots, f), "rb").read(8) == b"\x89PNG\r\n\x1a\n", f

# --target overrides; a re-run without codec errors leaves no stale codec_error.png behind.
for p in rows:
    s = os.path.join(sweep, "points", p[0], "steps.csv")
    pd.read_csv(s).drop(columns=["codec_rel_error"]).to_csv(s, index=False)
run(os.path.join(source, "analysis", "plot_sweep.py"), sweep, "--target", "0.85")
assert not os.path.exists(os.path.join(plots, "codec_error.png")), "stale codec_error.png"
table = open(os.path.join(plots, "table.md")).read()
assert table.startswith("# Which configuration? Target accuracy 0.85 (given with --target)")
assert "- Cheapest in simulated time to the target: **fp32**" in table  # the only one at 0.85
run(os.path.join(source, "analysis", "plot_sweep.py"), os.path.join(tmp, "nothing"), code=2)

# compare.py: two configurations (2 seeds of MS s=0.99, 1 run of QU 2.32) and a whole sweep.
pts = os.path.join(sweep, "points")
ms = [os.path.join(pts, rows[i][0]) for i in (4, 5)]
quant = os.path.join(pts, rows[12][0])
out = os.path.join(tmp, "cmp")
run(os.path.join(source, "analysis", "compare.py"), *ms, quant, "--out", out)
md = open(os.path.join(out, "compare.md")).read()
assert "# Comparison of 3 runs (2 configurations)" in md, md
assert "| MS | MS b=2 s=0.99 | 2.32 | 2 | 0.8350 ± 0.0071 |" in md, md  # only MS: "MS"
assert "| QU 2.32b/e | QU 2.32b/e | 2 | 1 | 0.8200 | 0.8200 | 3.30 |" in md, md
assert open(os.path.join(out, "compare.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
run(os.path.join(source, "analysis", "compare.py"), sweep, "--out", out, "--target", "0.5")
assert "# Comparison of 14 runs (7 configurations)" in open(os.path.join(out, "compare.md")).read()
r = run(os.path.join(source, "analysis", "compare.py"), tmp, code=2)
assert "not a run folder" in r.stderr, r.stderr


def real_sweep(slsim):
    """A mixed sweep run by slsim: the cheapest configuration in time recomputed from eval.csv."""
    base = {"name": "mixed", "seed": 1,
            "dataset": {"name": "synthetic",
                        "synthetic": {"train": 480, "test": 200, "classes": 4, "shape": [1, 8, 8]}},
            "model": {"name": "mlp", "hidden": [64], "cut": "shallow", "threads": 1},
            "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9},
            "training": {"batch_size": 24, "epochs": 2, "eval_every_steps": 4},
            "schedule": {"kind": "splitfed_v2", "sync_every_steps": 2},
            "codec": {"uplink": {"method": "ms", "bits": 2}},
            "devices": {"count": 2, "uplink_mbps": 2, "downlink_mbps": 20, "delay_ms": 5,
                        "gflops": 5}}
    spec = {"base": base, "grid": {"codec.uplink.sparsity": [0.9, 0.99]},
            "baselines_at_budget": ["topk", "quantize"], "repetitions": 2}
    path = os.path.join(tmp, "mixed.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    out = os.path.join(tmp, "mixed")
    r = subprocess.run([slsim, "sweep", path, "--out", out, "-j", "2"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(os.path.join(out, "sweep.csv"), dtype=str, keep_default_na=False)
    assert len(table) == 12, table
    assert list(table["baseline"]) == ["", "", "topk", "topk", "quantize", "quantize"] * 2
    assert list(table["budget_bits_per_element"]) == ["5.2"] * 6 + ["2.32"] * 6
    # Per configuration (the uplink codec), every seed's first time at or above the target.
    curves = {}
    for point in table["point"]:
        d = os.path.join(out, "points", point)
        up = json.load(open(os.path.join(d, "manifest.json")))["scenario"]["codec"]["uplink"]
        ev = pd.read_csv(os.path.join(d, "eval.csv"))
        assert ev["steps"].iloc[0] == 0 and ev["sim_time_s"].iloc[0] == 0  # the t=0 row
        curves.setdefault(json.dumps(up, sort_keys=True), []).append(ev)
    assert len(curves) == 6
    worst_best = sorted(min(e["test_accuracy"].max() for e in evs) for evs in curves.values())
    target = worst_best[-3]  # at least 3 configurations reach it with both seeds

    def first(ev):
        hit = ev[ev["test_accuracy"] >= target]
        return float(hit["sim_time_s"].iloc[0]) if len(hit) else math.nan

    times = {k: sum(first(e) for e in evs) / len(evs) for k, evs in curves.items()}
    reached = {k: t for k, t in times.items() if not math.isnan(t)}
    fastest = min(reached.values())
    expected = [k for k, t in reached.items() if t == fastest]
    run(os.path.join(source, "analysis", "plot_sweep.py"), out, "--target", str(target))
    plots = os.path.join(out, "plots")
    md = open(os.path.join(plots, "table.md")).read()
    line = next(ln for ln in md.splitlines() if ln.startswith("- Cheapest in simulated time"))
    label = line.split("**")[1]
    conf = pd.read_csv(os.path.join(plots, "configurations.csv")).set_index("configuration")
    assert len(conf) == 6, conf
    from slsim_results import codec_name
    names = [codec_name(json.loads(k)) for k in expected]
    assert conf.loc[label, "codec"] in names, (line, expected)
    assert abs(conf.loc[label, "time_to_target_s"] - fastest) < 1e-5, (line, fastest)  # 6 digits
    for f in OUTPUTS:
        assert os.path.getsize(os.path.join(plots, f)) > 0, f


if len(sys.argv) > 2:
    sys.path.insert(0, os.path.join(source, "analysis"))
    from plot_sweep import OUTPUTS
    real_sweep(sys.argv[2])
print("test_plot_sweep: ok")
subprocess.run(["rm", "-rf", tmp])
