#!/usr/bin/env python3
"""analysis/report.py: one self-contained HTML file for a run and for a sweep.

test_report.py SLSIM SOURCE_DIR: runs a tiny scenario and a 2-point sweep with slsim, builds each
report and checks that every figure of plots/ is embedded as a base64 PNG that decodes to the file,
that the tables became HTML tables, that nothing is loaded from elsewhere, and that a folder that
is neither is refused (exit 2).
"""
import base64
import json
import os
import re
import subprocess
import sys
import tempfile

slsim, source = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="slsim-test-report-")
report = os.path.join(source, "analysis", "report.py")
scenario = {"name": "tiny", "seed": 3,
            "dataset": {"name": "synthetic",
                        "synthetic": {"train": 240, "test": 100, "classes": 4, "shape": [1, 6, 6]}},
            "model": {"name": "mlp", "hidden": [16], "cut": "shallow", "threads": 1},
            "training": {"batch_size": 20, "epochs": 2, "target_accuracy": 0.3},
            "codec": {"uplink": {"method": "ms", "sparsity": 0.9, "bits": 2}},
            "devices": {"count": 2}}


def run(*args, code=0):
    r = subprocess.run(list(args), capture_output=True, text=True)
    assert r.returncode == code, f"{args}: exit {r.returncode}: {r.stdout}{r.stderr}"
    return r


def check(folder, table_marker):
    run(sys.executable, report, folder)
    page = open(os.path.join(folder, "report.html")).read()
    assert page.startswith("<!DOCTYPE html>"), page[:100]
    pngs = sorted(p for p in os.listdir(os.path.join(folder, "plots")) if p.endswith(".png"))
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(pngs) >= 4 and len(embedded) == len(pngs), (pngs, len(embedded))
    for name, data in zip(pngs, embedded):
        assert base64.b64decode(data) == open(os.path.join(folder, "plots", name), "rb").read()
    assert len(re.findall(r'src="', page)) == len(pngs)  # nothing else loaded
    assert "<table>" in page and "<th>" in page, page[:2000]
    assert table_marker in page, table_marker


path = os.path.join(tmp, "tiny.json")
json.dump(scenario, open(path, "w"))
run_dir = os.path.join(tmp, "run")
run(slsim, "run", path, "--out", run_dir, "--quiet")
check(run_dir, "tiny")
sweep = os.path.join(tmp, "sweep.json")
json.dump({"base": "tiny.json", "grid": {"codec.uplink.sparsity": [0.9, 0.99]}}, open(sweep, "w"))
sweep_dir = os.path.join(tmp, "sweep")
run(slsim, "sweep", sweep, "--out", sweep_dir, "-j", "2")
check(sweep_dir, "Cheapest in simulated time")
r = run(sys.executable, report, tmp, code=2)
assert "neither a run folder" in r.stderr, r.stderr
print("test_report: ok")
subprocess.run(["rm", "-rf", tmp])
