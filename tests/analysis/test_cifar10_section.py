#!/usr/bin/env python3
"""The report's "CIFAR-10 near convergence" section (analysis/reproduction.py full_run_section and
--only-cifar10) on plan folders written by hand in scripts/reproduce-cifar10's format: 0, 1 and 2
finished points, the 85 % target, "not yet run", no ranking from one seed, a tie inside the noise,
a ranking outside it, the comparison with the paper's differences, the configuration read from
the manifests, and the splice into an existing report (twice gives the same file).

test_cifar10_section.py SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

import pandas as pd

source = sys.argv[1]
sys.path.insert(0, os.path.join(source, "analysis"))
import reproduction  # noqa: E402

reproduction.FAST_FIGURES = True  # the figures' content is not checked here, only that they exist

tmp = tempfile.mkdtemp(prefix="slsim-test-cifar10-section-")
CODECS = {"none": {"method": "none"}, "ms": {"method": "ms", "sparsity": 0.99, "bits": 2},
          "topk": {"method": "topk", "sparsity": 0.95875},
          "qu3": {"method": "quantize", "bits": 3},
          "qu-eq": {"method": "quantize", "budget_bits_per_element": 2.32}}
BASE = {"name": "full", "seed": 1, "dataset": {"name": "cifar10", "augment": True},
        "model": {"name": "vgg19_bn", "width": 0.25, "cut": "shallow"},
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0005,
                      "schedule": "cosine"},
        "training": {"batch_size": 128, "epochs": 30},
        "devices": {"count": 1}, "schedule": {"kind": "sequential"}}
POINTS = [["shallow", m, s] for s in (1, 2) for m in ("none", "ms", "topk", "qu3", "qu-eq")]
POINTS += [["deep", "none", 1], ["deep", "ms", 1]]


def plan_folder(name, finished):
    """A plan of POINTS whose `finished` {id: per-epoch accuracies} have their small files."""
    folder = os.path.join(tmp, name, "cifar10")
    os.makedirs(folder)
    json.dump(BASE, open(os.path.join(tmp, name, "base.json"), "w"))
    json.dump({"base": "../base.json", "set": {"training.epochs": 3, "optimizer.lr": 0.05},
               "methods": {m: CODECS[m] for m in CODECS}, "points": POINTS},
              open(os.path.join(folder, "plan.json"), "w"))
    for pid, accs in finished.items():
        cut, method, seed = pid.rsplit("-s", 1)[0].split("-", 1) + [int(pid.rsplit("-s", 1)[1])]
        d = os.path.join(folder, pid)
        os.makedirs(d)
        sc = json.loads(json.dumps(BASE))
        sc["dataset"].update({"train_subset": 0, "test_subset": 0})
        sc["model"]["cut"] = cut
        sc["codec"] = {"uplink": CODECS[method], "downlink": {"method": "none"}}
        sc["training"]["epochs"] = len(accs)
        sc["devices"]["list"] = [{"gflops": 20}]
        json.dump({"scenario": sc, "derived": {"model_classes": 10}},
                  open(os.path.join(d, "manifest.json"), "w"))
        json.dump({"cut": cut, "method": method, "seed": seed, "wall_s": 3 * 3600.0,
                   "cpu_s": 2.5 * 3600, "cpu_model": "Test CPU", "threads": 2, "sessions": 1},
                  open(os.path.join(d, "point.json"), "w"))
        rows = [[0, 0, 0.1]] + [[e + 1, e + 1, a] for e, a in enumerate(accs)]
        pd.DataFrame(rows, columns=["sim_time_s", "round", "test_accuracy"]).to_csv(
            os.path.join(d, "eval.csv"), index=False)
    return folder


def section(folder):
    curves = reproduction.read_paper(os.path.join(source, "analysis", "paper"))[0]
    figures = os.path.join(os.path.dirname(folder), "figures")
    os.makedirs(figures, exist_ok=True)
    return "\n".join(reproduction.full_run_section(folder, curves, figures, lambda p: p))


def row(text, label, cut="Shallow"):
    """The cells of `label`'s row in the table of `cut`."""
    block = text.split(f"**{cut} cut**")[1]
    line = [ln for ln in block.splitlines() if ln.startswith(f"| {label} |")][0]
    return [c.strip() for c in line.strip("|").split("|")]


# No plan folder: no section. A plan without finished points: every point "not yet run", the
# configuration from the plan (base + set), no ranking, how to continue.
assert reproduction.full_run_section(os.path.join(tmp, "nowhere")) == []
text = section(plan_folder("zero", {}))
assert "**0 of 12 points done.**" in text, text
assert "from the plan; no point has finished" in text and "over 3 epochs" in text, text
assert "vgg19_bn at width 0.25" in text and "random crop + horizontal flip" in text, text
assert "batch 128" in text and "lr 0.05" in text and "cosine schedule" in text, text
assert "1 device (sequential" in text, text
assert "The uncompressed run has not finished yet" in text, text
assert row(text, "MS")[1:4] == ["not yet run"] * 3, row(text, "MS")
assert "No ranking at the shallow cut yet" in text and "Ranking at" not in text, text
assert "The plan has one seed at the deep cut" in text, text
assert "`scripts/reproduce-cifar10 run --commit`" in text and "Points done: none." in text, text
assert "![" not in text  # no figure without a point

# One point: the uncompressed run at 86 % (the 85 % target holds, reached at epoch 2), its cost,
# its curve; still no ranking, no comparison with the paper.
folder = plan_folder("one", {"shallow-none-s1": [0.6, 0.855, 0.86]})
text = section(folder)
assert "**1 of 12 points done.**" in text and "from the points’ manifests" in text, text
assert "reaches 86.00 % after 3 epochs** (± 0.35 test-set sampling" in text, text
assert "the 85 % target holds (first reached after epoch 2)" in text, text
assert "3.00 h of wall time and 2.50 h of CPU on Test CPU, 2 threads" in text, text
fig = os.path.join(tmp, "one", "figures", "cifar10_full_accuracy_vs_epoch.png")
assert os.path.getsize(fig) > 0 and f"]({fig})" in text, text
assert row(text, "uncompressed")[1:3] == ["86.00", "not yet run"], row(text, "uncompressed")
assert "No ranking at the shallow cut yet" in text and "paper's shallow-cut claims" not in text
assert "Points done: `shallow-none-s1`." in text and "`shallow-ms-s1`" in text, text
assert "about 2.5 CPU h per point" in text, text
below = section(plan_folder("low", {"shallow-none-s1": [0.6, 0.8]}))
assert "**below the 85 % target**" in below, below

# Two points, one seed each: the difference is shown but no claim is made from one seed.
text = section(plan_folder("two", {"shallow-none-s1": [0.86], "shallow-ms-s1": [0.80]}))
cells = row(text, "MS")
assert cells[1] == "80.00" and "one seed: no claim" in cells[4], cells
assert "No ranking at the shallow cut yet" in text, text

# Two seeds each. MS ties with uncompressed (0.1 point apart, inside the noise); top-k is 6
# points behind (a ranking '>'); QU 3 b has one seed only and stays out of the ranking.
acc = {"shallow-none-s1": [0.86], "shallow-none-s2": [0.862], "shallow-ms-s1": [0.859],
       "shallow-ms-s2": [0.861], "shallow-topk-s1": [0.80], "shallow-topk-s2": [0.802],
       "shallow-qu3-s1": [0.70], "deep-none-s1": [0.85], "deep-ms-s1": [0.70]}
text = section(plan_folder("many", acc))
assert "**9 of 12 points done.**" in text, text
assert row(text, "MS")[4].endswith("(tie)"), row(text, "MS")
assert row(text, "top-k (SP)")[4].startswith("-6.00") and "(behind)" in row(text, "top-k (SP)")[4]
assert row(text, "QU 3 b (paper's budget)")[2] == "not yet run"
rank = [ln for ln in text.splitlines() if ln.startswith("- Ranking at the shallow cut")]
assert len(rank) == 1 and " ≈ MS " in rank[0] and " > SP " in rank[0], rank
assert "both budget conventions (no QU with two seeds yet)" in rank[0], rank
assert "QU3" not in rank[0], rank  # one seed: not ranked
# With QU at two seeds the two budget conventions rank different runs: one line each.
acc2 = {m: reproduction.Acc(v, 10000, 0.1) for m, v in
        {"none": [0.86, 0.862], "ms": [0.859, 0.861], "quantize": [0.7, 0.71],
         "qu_eq": [0.75, 0.76]}.items()}
lines = reproduction.ranking_lines("shallow", acc2)
assert len(lines) == 2 and "QU3 70.5" in lines[0] and "QU2 75.5" in lines[1], lines
assert lines[0].startswith("- Ranking at the shallow cut, paper's budgets (QU 3 b): "), lines
# The paper: MS 0.4 behind its baseline (ours a tie: consistent), SP 2.6 behind (ours 6: differs).
assert "- MS: paper -0.4 points vs its baseline, ours -0.10" in text, text
assert "consistent with the paper" in text.split("- MS: paper")[1].splitlines()[0]
assert "**differs from the paper**" in text.split("- top-k (SP): paper")[1].splitlines()[0]
# A cut the plan runs at one seed: differences, no ranking.
assert row(text, "MS", "Deep")[1] == "70.00" and "Ranking at the deep cut" not in text, text

# --only-cifar10 splices the section into an existing report (replacing it: twice is the same
# file) without reading RESULTS_DIR; without --md file it writes the section alone.
md = os.path.join(tmp, "R.md")
open(md, "w").write("# Report\n\nintro\n\n## Other section\n\nbody\n")
cmd = [sys.executable, os.path.join(source, "analysis", "reproduction.py"), "/nonexistent",
       "--only-cifar10", "--md", md, "--figures", os.path.join(tmp, "fig"), "--cifar10", folder]
subprocess.run(cmd, check=True, capture_output=True)
first = open(md).read()
assert first.startswith("# Report\n\nintro\n\n## Other section\n\nbody\n\n<!-- cifar10: begin -->")
assert first.count("## CIFAR-10 near convergence") == 1, first
subprocess.run(cmd, check=True, capture_output=True)
assert open(md).read() == first
alone = os.path.join(tmp, "alone.md")
subprocess.run(cmd[:5] + [alone] + cmd[6:], check=True, capture_output=True)
assert "## CIFAR-10 near convergence" in open(alone).read()
print("ok")
