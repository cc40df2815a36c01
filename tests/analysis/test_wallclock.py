#!/usr/bin/env python3
"""analysis/wallclock.py (the report's wall-clock section) on run folders written by hand in
slsim's format: times and bytes to the target, speed-ups with their errors and ties, energy per
device, the downlink statements, and reproduction.py --only-wallclock splicing the section into an
existing report (twice gives the same file).

test_wallclock.py SOURCE_DIR
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import pandas as pd

source = sys.argv[1]
sys.path.insert(0, os.path.join(source, "analysis"))
import wallclock  # noqa: E402

tmp = tempfile.mkdtemp(prefix="slsim-test-wallclock-")
root = os.path.join(tmp, "reproduce")

CODECS = {
    "none": {"uplink": {"method": "none"}, "downlink": {"method": "none"}},
    "ms": {"uplink": {"method": "ms", "sparsity": 0.99, "bits": 2},
           "downlink": {"method": "none"}},
    "qu_eq": {"uplink": {"method": "quantize", "budget_bits_per_element": 2.32},
              "downlink": {"method": "none"}},
    "ms+ms": {"uplink": {"method": "ms", "sparsity": 0.99, "bits": 2},
              "downlink": {"method": "ms", "signed": True, "bits": 1,
                           "budget_bits_per_element": 2.32}},
}
# Per setting and seed: evaluation times (s) at 25/50/75/100 % of the run, final accuracies
# per evaluation, whole-run bytes up/down, compute and radio J over all devices.
RUNS = {
    "none": [([10, 20, 30, 40], [0.5, 0.7, 0.8, 0.80], 1000e6, 1000e6, 10.0, 300.0),
             ([10, 20, 30, 40], [0.5, 0.7, 0.8, 0.80], 1000e6, 1000e6, 10.0, 310.0)],
    # Target 0.76 (95 % of 0.80): reached at the third evaluation by both seeds.
    "ms": [([5, 10, 15, 20], [0.5, 0.7, 0.78, 0.79], 73e6, 1000e6, 10.0, 150.0),
           ([5, 10, 15, 20], [0.5, 0.7, 0.78, 0.79], 73e6, 1000e6, 10.0, 160.0)],
    # Seeds far apart: the speed-up is inside the noise (a tie).
    "qu_eq": [([10, 20, 30, 40], [0.5, 0.77, 0.78, 0.80], 63e6, 1000e6, 10.0, 300.0),
              ([10, 20, 30, 40], [0.5, 0.6, 0.7, 0.77], 63e6, 1000e6, 10.0, 300.0)],
    "ms+ms": [([1, 2, 3, 4], [0.5, 0.7, 0.77, 0.70], 73e6, 73e6, 10.0, 30.0),
              ([1, 2, 3, 4], [0.5, 0.7, 0.77, 0.71], 73e6, 73e6, 10.0, 30.0)],
}
DEVICES = 10


def write_point(net, config, seed, times, accs, up, down, compute_j, radio_j):
    d = os.path.join(root, "wallclock", net, "points", f"p-{config}-{seed}")
    os.makedirs(d)
    scenario = {"seed": seed, "codec": CODECS[config],
                "dataset": {"name": "fashion-mnist", "train_subset": 1000, "test_subset": 10000},
                "model": {"cut": "shallow"}, "training": {"epochs": 4}}
    json.dump({"scenario": scenario, "derived": {"model_classes": 10}},
              open(os.path.join(d, "manifest.json"), "w"))
    n = len(times)
    rows = [[0, 0, 0, 0, 0, 0, 0.1, 2.3]]
    rows += [[t, i + 1, 100 * (i + 1), up * (i + 1) / n, down * (i + 1) / n, 0, a, 1.0]
             for i, (t, a) in enumerate(zip(times, accs))]
    pd.DataFrame(rows, columns=["sim_time_s", "round", "steps", "cum_bytes_up", "cum_bytes_down",
                                "cum_bytes_sync", "test_accuracy", "test_loss"]).to_csv(
        os.path.join(d, "eval.csv"), index=False)
    pd.DataFrame([{"final_accuracy": accs[-1], "diverged": 0, "sim_time_s": times[-1],
                   "bytes_up": up, "bytes_down": down, "compute_j": compute_j,
                   "radio_j": radio_j, "wall_time_s": 6.0, "mean_comm_s": 3.0,
                   "mean_device_compute_s": 1.0, "mean_server_compute_s": 0.0, "mean_queue_s": 0.0}]).to_csv(
        os.path.join(d, "summary.csv"), index=False)
    pd.DataFrame({"device": range(DEVICES)}).to_csv(os.path.join(d, "devices.csv"), index=False)


for net in ("testbed", "edge"):
    for config, seeds in RUNS.items():
        for seed, (times, accs, up, down, cj, rj) in enumerate(seeds, start=1):
            write_point(net, config, seed, times, accs, up, down,
                        cj if net == "testbed" else 0.0, rj if net == "testbed" else 0.0)
# An unfinished point (no summary.csv) is not read.
os.makedirs(os.path.join(root, "wallclock", "edge", "points", "p-unfinished"))

runs = wallclock.read_wallclock(root)
assert len(runs) == 16, len(runs)
assert sorted(set(runs["config"])) == ["ms", "ms+ms", "none", "qu_eq"], set(runs["config"])
t = runs[(runs.network == "testbed") & (runs.config == "none") & (runs.seed == 2)].iloc[0]
assert t["radio_j"] == 31.0 and t["compute_j"] == 1.0, t  # per device: summary / 10 devices
assert len(t["eval"]) == 4  # the t=0 row left out

# to_target: the first evaluation at or above the target, and the one before it.
ev = runs[(runs.network == "edge") & (runs.config == "ms")].iloc[0]["eval"]
tt, b, prev = wallclock.to_target(ev, 0.76)
assert (tt, prev) == (15.0, 10.0) and b == 3 * (73e6 + 1000e6) / 4, (tt, b, prev)
assert all(math.isnan(x) for x in wallclock.to_target(ev, 0.9))

target, stats = wallclock.config_stats(runs, "testbed")
assert abs(target - 0.95 * 0.80) < 1e-12, target
# Uncompressed: both seeds at 30 s, the previous evaluation at 20 s: no seed spread, the grid's
# variance 10^2 / 12 per seed: se = sqrt(100 / 12 / 2).
base = stats["none"]["time"]
assert base.mean == 30.0 and abs(base.se - math.sqrt(100 / 12 / 2)) < 1e-12, (base.mean, base.se)
ms = stats["ms"]["time"]
assert ms.mean == 15.0 and abs(ms.se - math.sqrt(25 / 12 / 2)) < 1e-12
r, se, verdict = wallclock.ratio(base, ms)
rel = math.sqrt((base.se / 30) ** 2 + (ms.se / 15) ** 2)
assert r == 2.0 and abs(se - 2 * rel) < 1e-12 and verdict == 1, (r, se, verdict)
# QU 2 b: 20 s and 40 s: the seed spread makes the speed-up a tie.
qu = stats["qu_eq"]["time"]
assert qu.mean == 30.0 and wallclock.ratio(base, qu)[2] == 0
# Energy per device: (1 + 30.5) J uncompressed against (1 + 15.5) J with MS.
assert stats["none"]["energy_j"].mean == 31.5 and stats["ms"]["energy_j"].mean == 16.5
# Pro rata to the target: 31 J x 30 s / 40 s for seed 1.
assert abs(stats["none"]["energy_to_target_j"].mean - (31.0 + 32.0) / 2 * 0.75) < 1e-12
# Accuracy: MS + MS-sign down ends 9 points below MS alone, far outside 10,000 test images' noise.
v, d, dse = wallclock.rep.compare_acc(stats["ms+ms"]["acc"], stats["ms"]["acc"])
assert v == -1 and abs(d - (0.705 - 0.79)) < 1e-12, (v, d)

lines = wallclock.statements(stats, energy=True)
text = "\n".join(lines)
assert "MS ↑ sends 13.7× fewer uplink bytes" in text, text
assert "reaches the target 2.00× ±" in text, text
# Whole runs: 40 s against 20 s for both seeds, no spread.
assert "the same epochs take 2.00× ± 0.00 less simulated time, and it reaches" in text, text
assert "the same epochs take 10.00× ± 0.00 less simulated time" in text, text
assert "reaches the target as fast as uncompressed (a tie: 1.00×" in text, text
assert "With the downlink compressed too (MS ↑ + MS-sign ↓): 13.7× fewer bytes in all" in text
assert "-8.5 ± " in text and "points of final accuracy against MS ↑ alone" in text, text
assert "Energy per device over the run, MS ↑: 16.50 J against 31.50 J" in text, text

# The section: energy columns on the testbed only, ties marked.
figures = os.path.join(tmp, "figures")
os.makedirs(figures)
sec = wallclock.section(root, figures, lambda p: os.path.relpath(p, tmp))
md = "\n".join(sec)
assert os.path.exists(os.path.join(figures, "wallclock_accuracy_vs_time.png"))
runs_csv = pd.read_csv(os.path.join(figures, "wallclock_runs.csv"))
assert len(runs_csv) == 16 and set(runs_csv["network"]) == {"testbed", "edge"}
assert "16 runs, 1.6 min of wall time in all" in md, md
tables = [x for x in sec if x.startswith("| setting")]
assert len(tables) == 2 and "J per device (run)" in tables[0] and "J per device" not in tables[1]
assert ("| QU 2 b ↑ (equal budget) | 78.5 ± 1.5 | -1.5 ± 1.5 (tie) | 30.00 ± 10.21 | "
        "1.00× ± 0.35 (tie) |") in md, md
assert "| MS ↑ + MS-sign ↓ | 70.5 ± 0.5 | -9.5 ± 0.6 | 3.00 ± 0.20 | 10.00× ± 0.96 |" in md, md

# Splicing into an existing report: inserted before the codec-error section, a note on the
# stale rest; a second run gives the same file.
report = os.path.join(tmp, "R.md")
with open(report, "w") as f:
    f.write("# Title\n\nGenerated by ...\n\n## What was run\n\nold\n\n"
            "## Codec error vs budget on real feature maps (Fig. 2 analogue)\n\nold errors\n")
cmd = [sys.executable, os.path.join(source, "analysis", "reproduction.py"), root, "--md", report,
       "--figures", figures, "--only-wallclock"]
subprocess.run(cmd, check=True)
first = open(report).read()
assert first.index("<!-- stale: begin -->") < first.index("## What was run") \
    < first.index("## The wall-clock story") < first.index("## Codec error vs budget"), first
assert "old errors" in first and first.count("## The wall-clock story") == 1
subprocess.run(cmd, check=True)
assert open(report).read() == first, "splicing twice changed the report"
# No wall-clock runs: exit 1 with a message, the report untouched.
r = subprocess.run([sys.executable, os.path.join(source, "analysis", "reproduction.py"),
                    os.path.join(tmp, "empty"), "--md", report, "--figures", figures,
                    "--only-wallclock"], capture_output=True, text=True)
assert r.returncode == 1 and "no finished wall-clock runs" in r.stderr, r
assert open(report).read() == first

shutil.rmtree(tmp)
print("wallclock: all checks passed")
