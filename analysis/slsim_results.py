"""Reading slsim results (the CSVs of a run folder or a sweep folder) with pandas.

Column reference: results/README.md. Only the emitted CSV files are read, never the simulator.
"""
import json
import math
import os

import numpy as np
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


def add_epochs(ev, steps=None, summary=None):
    """ev with an `epoch` column: the fractional epoch (round) of each evaluation, from its `steps`
    (device steps served so far), so that the t=0 row and the clock rows of a round spread out
    instead of stacking at the round's number (`round` counts rounds completed).

    Each round's length in steps comes from steps.csv (its rows per round; rounds differ when
    devices drop out or the time budget cuts the last one), else the summary's steps / rounds,
    else the epoch is `round`."""
    ev = ev.copy()
    if "steps" in ev and steps is not None and not steps.empty and "round" in steps:
        per_round = steps.groupby("round").size().sort_index()  # steps.csv's rounds start at 0
        xp = np.concatenate([[0.0], per_round.cumsum().to_numpy(float)])
        fp = np.concatenate([[0.0], per_round.index.to_numpy(float) + 1])
        ev["epoch"] = np.interp(ev["steps"].to_numpy(float), xp, fp)
    elif ("steps" in ev and summary is not None and not summary.empty
          and {"steps", "rounds"} <= set(summary) and float(summary["rounds"].iloc[0]) > 0
          and float(summary["steps"].iloc[0]) > 0):
        per = float(summary["steps"].iloc[0]) / float(summary["rounds"].iloc[0])
        ev["epoch"] = ev["steps"].to_numpy(float) / per
    else:
        ev["epoch"] = ev["round"].astype(float)
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


def mean_std(values):
    """(mean, sample std) of the finite values; (nan, nan) if none; std nan for one value."""
    v = [float(x) for x in values if x is not None and not math.isnan(float(x))]
    if not v:
        return math.nan, math.nan
    m = sum(v) / len(v)
    sd = (sum((x - m) ** 2 for x in v) / (len(v) - 1)) ** 0.5 if len(v) > 1 else math.nan
    return m, sd


def scenario_target(manifest):
    """The scenario's training.target_accuracy (0 or absent: None)."""
    t = manifest.get("scenario", {}).get("training", {}).get("target_accuracy", 0) or 0
    return float(t) if t > 0 else None


def codec_name(codec):
    """One-line description of a resolved codec object, e.g. "MS s=0.99 b=2" or "QU 2.32b/e"."""
    from labels import METHOD_LABEL, codec_settings, fmt_value

    st = codec_settings(codec or {})
    text = METHOD_LABEL.get(st.pop("method"), "?")
    for k, v in st.items():
        text += (f" {fmt_value(v)}b/e" if k == "budget_bits_per_element"
                 else f" {dict(sparsity='s', bits='b').get(k, k)}={fmt_value(v)}")
    return text


def run_info(run_dir):
    """What the analysis needs of one run folder: its eval curve (with cum_bytes_total), manifest,
    configuration features, payload and on-the-wire uplink bits per element, mean codec error."""
    from labels import features, payload_bits

    run = read_run(run_dir)
    m = run["manifest"]
    sc = m.get("scenario", {})
    derived = m.get("derived", {})
    up = sc.get("codec", {}).get("uplink", {})
    bits = derived.get("uplink_bits_per_element")
    bits = float(bits) if bits is not None else payload_bits(up)
    elements = 1
    for n in derived.get("cut_shape", []) or []:
        elements *= n
    steps = run["steps"]
    wire = math.nan
    if not steps.empty and {"bytes_up", "batch"} <= set(steps.columns) and elements > 1:
        sent = float(steps["batch"].sum()) * elements
        wire = 8.0 * float(steps["bytes_up"].sum()) / sent if sent else math.nan
    err = (float(steps["codec_rel_error"].mean())
           if not steps.empty and "codec_rel_error" in steps else math.nan)
    ev = run["eval"]
    if not ev.empty:
        ev = add_epochs(add_total_bytes(ev), steps, run["summary"])
    feats = features(sc) if sc else {}
    point = os.path.join(run_dir, "point.json")
    if os.path.exists(point):  # a sweep point: its grid values name device settings exactly
        with open(point) as f:
            for k, v in json.load(f).get("values", {}).items():
                if k.startswith("devices."):
                    feats[k] = v
    return {"dir": run_dir, "manifest": m, "eval": ev, "features": feats,
            "method": up.get("method", "none"), "codec": codec_name(up),
            "payload_bits": bits, "wire_bits": wire, "codec_rel_error": err,
            "seed": sc.get("seed", m.get("seed")), "target": scenario_target(m),
            "test_n": _test_size(sc)}


def _test_size(sc):
    ds = sc.get("dataset", {})
    if ds.get("test_subset"):
        return int(ds["test_subset"])
    if ds.get("name") == "synthetic":
        return int(ds.get("synthetic", {}).get("test", 0)) or None
    return None
