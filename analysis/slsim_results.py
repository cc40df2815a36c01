"""Reading slsim results (the CSVs of a run folder or a sweep folder) with pandas.

Column reference: results/README.md. Only the emitted CSV files are read, never the simulator.
"""
import json
import os

import pandas as pd

WALL_COLUMNS = ("wall_time_s", "training_wall_s", "ns3_wall_s")


def read_run(run_dir):
    """Returns dict of DataFrames: steps, eval, summary, events (absent files -> empty frames)."""
    out = {}
    for name in ("steps", "eval", "summary", "events"):
        path = os.path.join(run_dir, name + ".csv")
        out[name] = pd.read_csv(path) if os.path.exists(path) else pd.DataFrame()
    manifest = os.path.join(run_dir, "manifest.json")
    out["manifest"] = json.load(open(manifest)) if os.path.exists(manifest) else {}
    return out


def add_total_bytes(ev):
    """Cumulative bytes over all directions (uplink + downlink + weight sync)."""
    ev = ev.copy()
    cols = [c for c in ("cum_bytes_up", "cum_bytes_down", "cum_bytes_sync") if c in ev]
    ev["cum_bytes_total"] = ev[cols].sum(axis=1)
    return ev


def first_reaching(ev, target, column):
    """Value of `column` at the first evaluation with test_accuracy >= target (NaN if never)."""
    hit = ev[ev["test_accuracy"] >= target]
    return float(hit[column].iloc[0]) if len(hit) else float("nan")


def read_sweep(sweep_dir):
    """Returns (table, grid_columns): sweep.csv (one row per point) and the grid's column names."""
    table = pd.read_csv(os.path.join(sweep_dir, "sweep.csv"))
    cols = list(table.columns)
    grid = cols[cols.index("point") + 1:cols.index("repetition")]
    return table, grid


def point_dir(sweep_dir, point):
    return os.path.join(sweep_dir, "points", point)


def config_label(row, grid):
    return ", ".join(f"{c.split('.')[-1]}={row[c]}" for c in grid) or "base"
