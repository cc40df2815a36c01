#!/usr/bin/env python3
"""scripts/reproduce-cifar10 on a tiny synthetic plan: list shows every point missing; run keeps
only the small files of each finished point; a finished point is not run again; changing the plan's
settings makes the points stale; a plan on CIFAR-10 without the data is skipped with a WARN.

test_reproduce_cifar10.py SLSIM_BINARY SOURCE_DIR
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

slsim, source = sys.argv[1], sys.argv[2]
script = os.path.join(source, "scripts", "reproduce-cifar10")
tmp = tempfile.mkdtemp(prefix="slsim-test-reproduce-cifar10-")
results = os.path.join(tmp, "results")
work = os.path.join(tmp, "work")
os.makedirs(results)


def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def run(*args, code=0, env=None):
    r = subprocess.run([sys.executable, script, *args, "--work", work, "--slsim", slsim],
                       capture_output=True, text=True, env=env)
    assert r.returncode == code, f"{args}: exit {r.returncode}: {r.stdout} {r.stderr}"
    return r.stdout


# Smallest useful split-learning run: 2 devices, 3 steps each per epoch, an MLP on 96 images.
synthetic = {"train": 96, "test": 48, "classes": 4, "shape": [1, 6, 6]}
base = write(os.path.join(tmp, "base.json"), {
    "description": "ignored by the fingerprint", "name": "tiny-plan", "seed": 5,
    "dataset": {"name": "synthetic", "synthetic": synthetic},
    "model": {"name": "mlp", "hidden": [20, 10], "threads": 1},
    "training": {"batch_size": 16, "epochs": 2},
    "devices": {"count": 2, "uplink_mbps": 50, "downlink_mbps": 50, "delay_ms": 1}})
plan = {"base": "../base.json", "set": {"training.epochs": 2},
        "methods": {"none": {"method": "none"},
                    "qu-eq": {"method": "quantize", "budget_bits_per_element": 2.32}},
        "points": [["shallow", "none", 1], ["deep", "qu-eq", 1], ["shallow", "none", 2]]}
plan_path = write(os.path.join(results, "plan.json"), plan)

out = run("list", "--plan", plan_path)
assert "0 done, 0 stale, 0 running, 0 partial, 3 missing of 3 points" in out, out
assert "deep-qu-eq-s1" in out

# Two of the three points, two at a time.
out = run("run", "--plan", plan_path, "-j", "2", "--max-points", "2")
for pid in ("shallow-none-s1", "deep-qu-eq-s1"):
    d = os.path.join(results, pid)
    assert sorted(os.listdir(d)) == ["eval.csv", "events.csv", "manifest.json", "point.json",
                                     "rounds.csv", "summary.csv"], os.listdir(d)
    info = json.load(open(os.path.join(d, "point.json")))
    assert info["id"] == pid and info["wall_s"] > 0 and info["cpu_s"] >= 0, info
    # The full run stays in the work folder; the kept files are its own.
    assert open(os.path.join(d, "eval.csv")).read() == \
        open(os.path.join(work, pid, "eval.csv")).read()
    rounds = list(csv.DictReader(open(os.path.join(d, "rounds.csv"))))
    steps = list(csv.DictReader(open(os.path.join(work, pid, "steps.csv"))))
    assert [int(r["round"]) for r in rounds] == [0, 1], rounds
    assert sum(int(r["steps"]) for r in rounds) == len(steps)
    assert abs(sum(float(r["bytes_up"]) for r in rounds)
               - sum(float(s["bytes_up"]) for s in steps)) < 1e-6
    loss0 = [float(s["loss"]) * float(s["batch"]) for s in steps if s["round"] == "0"]
    n0 = sum(float(s["batch"]) for s in steps if s["round"] == "0")
    assert abs(float(rounds[0]["train_loss"]) - sum(loss0) / n0) < 1e-12
# The equal-budget quantiser resolves to 2 bits (its budget mode at 2.32 bits per element).
man = json.load(open(os.path.join(results, "deep-qu-eq-s1", "manifest.json")))
assert man["scenario"]["codec"]["uplink"]["bits"] == 2, man["scenario"]["codec"]["uplink"]
assert man["scenario"]["model"]["cut"] == "deep" and man["scenario"]["seed"] == 1

out = run("list", "--plan", plan_path)
assert "2 done, 0 stale, 0 running, 0 partial, 1 missing of 3 points" in out, out
assert "h wall" in out

# Resumes: only the missing point runs (two threads: not part of the settings' fingerprint).
out = run("run", "--plan", plan_path, "--threads", "2")
assert "1 point(s) to run, 1 at a time: shallow-none-s2" in out, out
assert json.load(open(os.path.join(results, "shallow-none-s2", "point.json")))["threads"] == 2
assert "3 done" in run("list", "--plan", plan_path)
first = open(os.path.join(results, "shallow-none-s1", "point.json")).read()

# The report's section on the plan (analysis/reproduction.py): every point done, its accuracy.
sys.path.insert(0, os.path.join(source, "analysis"))
import reproduction  # noqa: E402

text = "\n".join(reproduction.full_run_section(results))
assert "**3 of 3 points done.**" in text and "Missing" not in text, text
for pid in ("shallow-none-s1", "deep-qu-eq-s1", "shallow-none-s2"):
    final = list(csv.DictReader(open(os.path.join(results, pid, "eval.csv"))))[-1]
    row = [ln for ln in text.splitlines() if ln.startswith(f"| {pid} | 2 | ")]
    assert row and f"| {100 * float(final['test_accuracy']):.2f} |" in row[0], (pid, row)

# A description change keeps the points; a settings change makes them stale, and they run again.
b = json.load(open(base))
b["description"] = "changed"
write(base, b)
assert "3 done" in run("list", "--plan", plan_path)
plan["set"]["training.epochs"] = 1
write(plan_path, plan)
out = run("list", "--plan", plan_path)
assert "0 done, 3 stale, 0 running, 0 partial, 0 missing of 3 points" in out, out
out = run("run", "--plan", plan_path, "--only", "shallow-none-s1")
assert "1 point(s) to run" in out, out
assert open(os.path.join(results, "shallow-none-s1", "point.json")).read() != first
rounds = list(csv.DictReader(open(os.path.join(results, "shallow-none-s1", "rounds.csv"))))
assert len(rounds) == 1, rounds

# --stop-after: a point that cannot finish in time stops at an epoch boundary with its run state
# (slsim run --stop-after-wall-s), nothing kept in results; the next run continues it from there.
long_plan = write(os.path.join(tmp, "long", "plan.json") if os.makedirs(os.path.join(tmp, "long"))
                  is None else "", dict(plan, base="../base.json", points=[["shallow", "none", 9]],
                                        set={"training.epochs": 100000}))
started = time.time()
out = run("run", "--plan", long_plan, "--stop-after", "1")
assert "shallow-none-s9 stopped at the start of round " in out and time.time() - started < 30, out
stopped_round = int(out.split("stopped at the start of round ")[1].split(";")[0])
assert stopped_round > 0, out
assert os.listdir(os.path.join(tmp, "long")) == ["plan.json"]
assert os.path.exists(os.path.join(work, "shallow-none-s9.run-state"))
out = run("list", "--plan", long_plan)
assert "1 partial, 0 missing of 1 points" in out, out
assert f"continues from the start of round {stopped_round}" in out, out
out = run("run", "--plan", long_plan, "--stop-after", "1")
assert f"shallow-none-s9 continues from the start of round {stopped_round}" in out, out
later = int(out.split("stopped at the start of round ")[1].split(";")[0])
assert later > stopped_round, out
spent = json.load(open(os.path.join(work, "shallow-none-s9.run-state.time")))
assert spent["sessions"] == 2 and spent["wall_s"] > 0, spent
# Other settings: the state is discarded and the point starts again.
long = json.load(open(long_plan))
long["set"]["training.epochs"] = 3
write(long_plan, long)
assert "1 missing of 1 points" in run("list", "--plan", long_plan)
out = run("run", "--plan", long_plan)
assert "continues from" not in out and "shallow-none-s9 done" in out, out
assert not os.path.exists(os.path.join(work, "shallow-none-s9.run-state"))
assert not os.path.exists(os.path.join(work, "shallow-none-s9.run-state.time"))
assert json.load(open(os.path.join(tmp, "long", "shallow-none-s9", "point.json")))["sessions"] == 1

# Bad plan input: exit 2 and one line naming the file.
bad = write(os.path.join(results, "bad.json"), dict(plan, points=[["shallow", "nope", 1]]))
r = subprocess.run([sys.executable, script, "list", "--plan", bad], capture_output=True, text=True)
assert r.returncode == 2 and "bad.json: points[0]: method 'nope'" in r.stderr, r.stderr
assert len(r.stderr.strip().splitlines()) == 1

# A CIFAR-10 plan without the data (CI): WARN, nothing run, exit 0. The script is copied into a
# clone-like folder without data/ (here data/cifar10 may exist), SLSIM_DATA_DIR points nowhere.
clone = os.path.join(tmp, "clone")
os.makedirs(os.path.join(clone, "scripts"))
with open(script) as f, open(os.path.join(clone, "scripts", "reproduce-cifar10"), "w") as g:
    g.write(f.read())
cifar = write(os.path.join(tmp, "cifar.json"), dict(json.load(open(base)),
                                                    dataset={"name": "cifar10"}))
nodata = os.path.join(tmp, "nodata")
os.makedirs(nodata)
write(os.path.join(nodata, "plan.json"), dict(plan, base="../cifar.json"))
r = subprocess.run([sys.executable, os.path.join(clone, "scripts", "reproduce-cifar10"), "run",
                    "--plan", os.path.join(nodata, "plan.json"), "--work", work, "--slsim", slsim],
                   capture_output=True, text=True,
                   env=dict(os.environ, SLSIM_DATA_DIR=os.path.join(tmp, "empty")))
assert r.returncode == 0 and "WARN: CIFAR-10 not found" in r.stdout, (r.stdout, r.stderr)
assert os.listdir(nodata) == ["plan.json"], os.listdir(nodata)
# --commit in a clone: each finished point is committed alone (its folder, nothing else staged).
subprocess.run(["git", "init", "-q", clone], check=True)
os.makedirs(os.path.join(clone, "results", "cifar10"))
write(os.path.join(clone, "results", "base.json"), json.load(open(base)))
write(os.path.join(clone, "results", "cifar10", "plan.json"), dict(plan, base="../base.json"))
open(os.path.join(clone, "other.txt"), "w").write("not part of a point\n")
git_env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
subprocess.run(["git", "-C", clone, "add", "other.txt"], check=True)
r = subprocess.run([sys.executable, os.path.join(clone, "scripts", "reproduce-cifar10"), "run",
                    "--commit", "--max-points", "2", "--work", work, "--slsim", slsim],
                   capture_output=True, text=True, env=git_env)
assert r.returncode == 0 and "WARN" not in r.stdout, (r.stdout, r.stderr)
log = subprocess.run(["git", "-C", clone, "log", "--name-only", "--format=%s"],
                     capture_output=True, text=True).stdout
assert log.count("results/cifar10: point ") == 2, log
assert "results/cifar10/shallow-none-s1/point.json" in log and "other.txt" not in log, log
assert "results/cifar10/deep-qu-eq-s1/rounds.csv" in log, log
print("ok")
