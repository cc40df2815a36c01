#!/usr/bin/env python3
"""analysis/plot_run.py's time breakdown on a run folder written in slsim's format.

test_plot_run.py SOURCE_DIR: writes a 3-device run (eval.csv, steps.csv, summary.csv,
devices.csv with the seven time parts adding up to sim_time_s) and checks that the breakdown reads
every part from devices.csv, that each device's parts and the run bar add up to the simulated time,
that time_breakdown.png is written, and that an older folder (devices.csv without the parts) falls
back to the steps' parts from steps.csv. Evaluations at t=0 and on a clock are placed at
fractional epochs from their steps served (steps.csv's steps per round, else the summary's mean).
The run bar labels only parts of at least BAR_LABEL_MIN_SHARE (small ones touched at 100 devices);
the legend gives every part's share. leakage.png: written from eval.csv's cut_dcor_sq (one line),
from leakage.csv (one line per cut) when there is one, and not at all when nothing was measured.
"""
import os
import subprocess
import sys
import tempfile

import pandas as pd

source = sys.argv[1]
sys.path.insert(0, os.path.join(source, "analysis"))
import plot_run  # noqa: E402

SIM_TIME = 10.0
tmp = tempfile.mkdtemp(prefix="slsim-test-plot-run-")
run = os.path.join(tmp, "run")
os.makedirs(run)
pd.DataFrame({"sim_time_s": [5.0, 10.0], "round": [1, 2], "steps": [6, 12],
              "cum_bytes_up": [100, 200], "cum_bytes_down": [100, 200],
              "cum_bytes_sync": [50, 100], "test_accuracy": [0.5, 0.7],
              "test_loss": [1.0, 0.8]}).to_csv(os.path.join(run, "eval.csv"), index=False)
steps = pd.DataFrame({"sim_time_s": [1.0, 2.0, 3.0], "round": [0, 0, 0], "phase": [1, 1, 1],
                      "step": [1, 1, 1], "device": [0, 1, 2], "batch": [8] * 3,
                      "loss": [1.0] * 3, "batch_accuracy": [0.5] * 3, "bytes_up": [10] * 3,
                      "bytes_down": [10] * 3, "cum_bytes_up": [10, 20, 30],
                      "cum_bytes_down": [10, 20, 30], "device_compute_s": [1.0, 2.0, 0.5],
                      "server_compute_s": [0.5] * 3, "queue_s": [0.0, 0.25, 0.5],
                      "comm_s": [1.0, 1.5, 2.0], "codec_rel_error": [0.1] * 3})
steps.to_csv(os.path.join(run, "steps.csv"), index=False)
pd.DataFrame({"sim_time_s": [SIM_TIME], "wall_time_s": [1.0]}).to_csv(
    os.path.join(run, "summary.csv"), index=False)
dev = steps[["device", "device_compute_s", "server_compute_s", "queue_s", "comm_s"]].copy()
dev["connect_s"] = [0.25, 0.5, 0.25]
dev["sync_s"] = [2.0, 1.0, 3.0]
dev["idle_s"] = SIM_TIME - dev.drop(columns="device").sum(axis=1)
dev.to_csv(os.path.join(run, "devices.csv"), index=False)

per, present, where = plot_run.time_breakdown(run, steps)
assert where == "devices.csv", where
assert present == list(plot_run.PARTS), present
assert ((per.sum(axis=1) - SIM_TIME).abs() < 1e-12).all(), per.sum(axis=1)
assert abs(per.mean().sum() - SIM_TIME) < 1e-12  # the run bar: means add up too
for column, (label, _) in plot_run.PARTS.items():
    assert label and column.endswith("_s")

out = subprocess.run([sys.executable, os.path.join(source, "analysis", "plot_run.py"), run],
                     capture_output=True, text=True)
assert out.returncode == 0, out.stderr
assert os.path.getsize(os.path.join(run, "plots", "time_breakdown.png")) > 0

# The run bar's labels: only parts of at least BAR_LABEL_MIN_SHARE of the run; every share in the
# legend. 100 devices, most of their time idle, the other parts 0-9 % (their labels touched).
many = pd.DataFrame({"device_compute_s": 0.05, "server_compute_s": 0.0005, "queue_s": 0.0,
                     "comm_s": 1.5, "connect_s": 0.3, "sync_s": 0.9}, index=range(100))
many["idle_s"] = SIM_TIME - many.sum(axis=1)
fig = plot_run.plot_time_breakdown(many, list(plot_run.PARTS), "devices.csv", SIM_TIME, "t")
bar_labels = [t.get_text() for t in fig.axes[1].texts]
assert bar_labels == ["15 %", "72 %"], bar_labels  # comm_s and idle_s; 9 % and less: none
legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
assert legend == ["device compute (0.5 %)", "server compute (< 0.1 %)",
                  "queueing for a server worker (0 %)", "communication in steps (15 %)",
                  "connection set-up (3 %)", "synchronisation (START, weights up) (9 %)",
                  "idle (barrier, turn, done) (72 %)"], legend

# An older run folder: devices.csv without the time parts -> the steps' parts from steps.csv.
dev[["device"]].to_csv(os.path.join(run, "devices.csv"), index=False)
per, present, where = plot_run.time_breakdown(run, steps)
assert present == plot_run.STEP_PARTS and where.startswith("steps.csv"), (present, where)
assert abs(per.loc[1, "comm_s"] - 1.5) < 1e-12

# Evaluations at t=0 and on a step clock (two per round; `round` = rounds completed) spread out
# over fractional epochs instead of stacking at their round; rounds of unequal length (6 steps,
# then 4: a device dropped out) each span one epoch.
import slsim_results  # noqa: E402

ev = pd.DataFrame({"sim_time_s": [0.0, 1.0, 2.0, 3.0, 4.0], "round": [0, 0, 1, 1, 2],
                   "steps": [0, 3, 6, 8, 10], "cum_bytes_up": [0, 10, 20, 30, 40],
                   "cum_bytes_down": [0] * 5, "cum_bytes_sync": [0] * 5,
                   "test_accuracy": [0.1, 0.3, 0.5, 0.6, 0.7],
                   "test_loss": [2.3, 1.5, 1.0, 0.9, 0.8]})
clock_steps = pd.DataFrame({"round": [0] * 6 + [1] * 4, "loss": [1.0] * 10})
got = slsim_results.add_epochs(ev, clock_steps)["epoch"].tolist()
assert got == [0.0, 0.5, 1.0, 1.5, 2.0], got
summary = pd.DataFrame({"steps": [10], "rounds": [2]})  # no steps.csv: the mean round, 5 steps
got = slsim_results.add_epochs(ev, pd.DataFrame(), summary)["epoch"].tolist()
assert got == [0.0, 0.6, 1.2, 1.6, 2.0], got
assert slsim_results.add_epochs(ev)["epoch"].tolist() == [0, 0, 1, 1, 2]  # nothing to go by
run2 = os.path.join(tmp, "clock-run")
os.makedirs(run2)
ev.to_csv(os.path.join(run2, "eval.csv"), index=False)
clock_steps.to_csv(os.path.join(run2, "steps.csv"), index=False)
assert slsim_results.run_info(run2)["eval"]["epoch"].tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
out = subprocess.run([sys.executable, os.path.join(source, "analysis", "plot_run.py"), run2],
                     capture_output=True, text=True)
assert out.returncode == 0, out.stderr
assert os.path.getsize(os.path.join(run2, "plots", "loss_vs_epoch.png")) > 0
out = subprocess.run([sys.executable, os.path.join(source, "analysis", "compare.py"), run2, run,
                      "--out", os.path.join(tmp, "compare")], capture_output=True, text=True)
assert out.returncode == 0, out.stderr

# leakage.png: eval.csv's cut_dcor_sq (one cut), leakage.csv's rows (one line per cut), none when
# the column is empty (training.leakage_samples 0).
run3 = os.path.join(tmp, "leak-run")
os.makedirs(run3)
ev3 = ev.assign(cut_dcor_sq=[0.9, 0.85, 0.8, float("nan"), 0.7])
ev3.to_csv(os.path.join(run3, "eval.csv"), index=False)
clock_steps.to_csv(os.path.join(run3, "steps.csv"), index=False)
leak_png = os.path.join(run3, "plots", "leakage.png")


def plot(folder):
    r = subprocess.run([sys.executable, os.path.join(source, "analysis", "plot_run.py"), folder],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


assert "leakage.png" in plot(run3) and os.path.getsize(leak_png) > 0
fig_ev = plot_run.read_run(run3)["eval"]
import matplotlib.pyplot as plt  # noqa: E402

lines = []
orig = plt.Axes.plot


def spy(self, *args, **kwargs):
    lines.append((list(args[0]), list(args[1]), kwargs.get("label")))
    return orig(self, *args, **kwargs)


plt.Axes.plot = spy
assert plot_run.plot_leakage(run3, tmp, "t", fig_ev, "shallow") == "leakage.png"
assert lines == [([0.0, 1.0, 2.0, 4.0], [0.9, 0.85, 0.8, 0.7], "cut shallow")], lines
pd.DataFrame({"sim_time_s": [0.0, 0.0, 2.0, 2.0], "round": [0, 0, 1, 1],
              "cut": ["block1", "block2", "block1", "block2"],
              "cut_dcor_sq": [0.95, 0.8, 0.9, 0.7]}).to_csv(os.path.join(run3, "leakage.csv"),
                                                          index=False)
lines.clear()
assert plot_run.plot_leakage(run3, tmp, "t", fig_ev, "block1") == "leakage.png"
assert lines == [([0.0, 2.0], [0.95, 0.9], "cut block1"), ([0.0, 2.0], [0.8, 0.7], "cut block2")]
plt.Axes.plot = orig
os.remove(os.path.join(run3, "leakage.csv"))
ev3.assign(cut_dcor_sq=float("nan")).to_csv(os.path.join(run3, "eval.csv"), index=False)
assert "leakage.png" not in plot(run3) and not os.path.exists(leak_png)  # the stale one removed
print("test_plot_run: ok")
