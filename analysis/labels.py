"""Configurations of runs, their bits per element, short labels and styles.

Shared by plot_sweep.py and compare.py. A run's configuration is read from its manifest.json (the
resolved scenario slsim ran): the codec of each direction reduced to the settings that matter for
its method, and every other scenario setting. Labels name only what differs between the
configurations being compared ("MS s=0.99 b=2, cut=deep"), never raw JSON.
"""
import json
import math

# Scenario keys that never distinguish configurations (bookkeeping, parallelism, the seed).
IGNORED = ("seed", "name", "description", "$schema", "model.threads", "dataset.path",
           "optimizer.total_epochs", "record_frames")
DIRECTIONS = ("uplink", "downlink", "sync")
METHOD_LABEL = {"none": "fp32", "ms": "MS", "topk": "top-k", "randtopk": "rand-top-k",
                "quantize": "QU", "fp16": "fp16", "bf16": "bf16"}
# Colour family per method (a sequential colour map: darker = more bits per element).
METHOD_CMAP = {"ms": "Reds", "topk": "Greens", "randtopk": "Purples", "quantize": "Blues",
               "none": "Greys", "fp16": "Oranges", "bf16": "YlOrBr"}
METHOD_ORDER = ("none", "fp16", "bf16", "ms", "topk", "randtopk", "quantize")
MARKERS = "osD^v<>pP*Xh"
SHORT_KEY = {"sparsity": "s", "bits": "b", "budget_bits_per_element": "budget",
             "randtopk_a": "a", "index": "index"}


def codec_settings(c):
    """The settings of one direction's codec that change what it sends (by method)."""
    method = c.get("method", "none")
    out = {"method": method}
    budget = float(c.get("budget_bits_per_element", 0) or 0)
    if method in ("none", "fp16", "bf16"):
        return out
    if budget > 0:
        out["budget_bits_per_element"] = budget
    if method == "ms":
        out["bits"] = c.get("bits")
        if budget <= 0:
            out["sparsity"] = c.get("sparsity")
        for flag in ("signed", "floor"):
            if c.get(flag):
                out[flag] = True
    elif method in ("topk", "randtopk"):
        if budget <= 0:
            out["sparsity"] = c.get("sparsity")
        out["index"] = c.get("index", "auto")
        if method == "randtopk":
            out["randtopk_a"] = c.get("randtopk_a")
    elif method == "quantize":
        if budget <= 0:
            out["bits"] = c.get("bits")
        if c.get("stochastic"):
            out["stochastic"] = True
    return out


def payload_bits(c):
    """Bits per element of a codec's payload, headers ignored (compression/codec.h's budget rules:
    quantize b; ms 32 f + b (+1 signed); top-k 32 f + 1 (bitmap), 64 f (u32), the cheaper for
    auto; f = 1 - sparsity)."""
    method = c.get("method", "none")
    budget = float(c.get("budget_bits_per_element", 0) or 0)
    fixed = {"none": 32.0, "fp16": 16.0, "bf16": 16.0}
    if method in fixed:
        return fixed[method]
    if method == "quantize":
        return float(math.floor(budget)) if budget > 0 else float(c.get("bits", 2))
    if budget > 0:
        return budget
    f = 1.0 - float(c.get("sparsity", 0.99))
    if method == "ms":
        return 32 * f + float(c.get("bits", 2)) + (1 if c.get("signed") else 0)
    index = c.get("index", "auto")
    return {"bitmap": 32 * f + 1, "u32": 64 * f}.get(index, min(32 * f + 1, 64 * f))


def flatten(obj, prefix=""):
    out = {}
    for k, v in obj.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, path + "."))
        else:
            out[path] = v
    return out


def features(scenario):
    """Configuration of one run as {key: value}: codec settings per direction, the devices as
    per-quantity summaries, every other resolved scenario setting."""
    sc = json.loads(json.dumps(scenario))  # a copy
    codec = sc.pop("codec", {})
    devices = sc.pop("devices", {})
    feats = {k: v for k, v in flatten(sc).items() if k not in IGNORED}
    for d in DIRECTIONS:
        for k, v in codec_settings(codec.get(d, {})).items():
            feats[f"codec.{d}.{k}"] = v
    lst = devices.get("list") or []
    feats["devices.count"] = devices.get("count", len(lst))
    for q in sorted({q for dev in lst for q in dev}):
        vals = [dev.get(q) for dev in lst]
        # Values drawn per device differ with the seed: a configuration is what the scenario
        # asked for, so they count as one setting (a sweep over their distribution shows up in
        # the point's grid values, which run_info adds).
        feats[f"devices.{q}"] = vals[0] if len(set(map(str, vals))) == 1 else "per device"
    return {k: (json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) else v)
            for k, v in feats.items()}


def fmt_value(v):
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:g}"
    s = str(v)
    return s if len(s) <= 24 else s[:21] + "..."


def _short(key):
    last = key.split(".")[-1]
    return SHORT_KEY.get(last, last)


def make_labels(feature_list):
    """Short, unique labels for configurations (a list of feature dicts, one per configuration):
    the method of each codec direction that varies, the codec settings that vary among the
    configurations of the same method, then the other settings that vary ("key=value")."""
    keys = sorted({k for f in feature_list for k in f})
    varying = [k for k in keys if len({str(f.get(k)) for f in feature_list}) > 1]
    codec_dirs = [d for d in DIRECTIONS if any(k.startswith(f"codec.{d}.") for k in varying)]
    labels = []
    for f in feature_list:
        parts = []
        for d in codec_dirs:
            method = f.get(f"codec.{d}.method", "none")
            same = [g for g in feature_list if g.get(f"codec.{d}.method", "none") == method]
            text = METHOD_LABEL.get(method, method)
            for k in keys:
                if not k.startswith(f"codec.{d}.") or k.endswith(".method") or k not in f:
                    continue
                if len({str(g.get(k)) for g in same}) > 1 or (
                        k.endswith("budget_bits_per_element") and k in varying):
                    v = f[k]
                    text += (f" {fmt_value(v)}b/e" if k.endswith("budget_bits_per_element")
                             else f" {_short(k)}={fmt_value(v)}")
            parts.append((f"{d[:4]}: " if len(codec_dirs) > 1 else "") + text)
        for k in varying:
            if not k.startswith("codec."):
                parts.append(f"{_short(k)}={fmt_value(f.get(k, '-'))}")
        labels.append(", ".join(parts) or "base")
    # Still equal (should not happen: configurations differ somewhere): number them.
    seen = {}
    for i, lab in enumerate(labels):
        if labels.count(lab) > 1:
            seen[lab] = seen.get(lab, 0) + 1
            labels[i] = f"{lab} #{seen[lab]}"
    return labels


def other_key(feature_list):
    """The varying settings outside the uplink codec, as one string per configuration (used for
    markers: e.g. the cut or the network)."""
    keys = sorted({k for f in feature_list for k in f})
    varying = [k for k in keys if not k.startswith("codec.uplink.")
               and len({str(f.get(k)) for f in feature_list}) > 1]
    return [", ".join(f"{_short(k)}={fmt_value(f.get(k, '-'))}" for k in varying)
            for f in feature_list]


def styles(methods, order, others):
    """(colour, marker) per configuration: the colour family is the uplink method, the shade the
    configuration's rank within its method by `order` (e.g. bits per element: darker = more),
    the marker the other varying settings (e.g. the cut)."""
    import matplotlib

    markers = {o: MARKERS[i % len(MARKERS)] for i, o in enumerate(dict.fromkeys(others))}
    if len(set(methods)) == 1 and len(methods) <= 10:  # one method: distinct colours instead
        tab = matplotlib.colormaps["tab10"]
        return [(tab(i), markers[o]) for i, o in enumerate(others)]
    out = []
    for m, k, o in zip(methods, order, others):
        levels = sorted({kk for mm, kk in zip(methods, order) if mm == m})
        cmap = matplotlib.colormaps[METHOD_CMAP.get(m, "Greys")]
        rank = levels.index(k)
        pos = (rank + 1) / len(levels) if len(levels) > 1 else 1.0
        colour = cmap(0.4 + 0.55 * pos) if m != "none" else "black"
        # Nothing else varies: the marker tells the configurations of one method apart too.
        marker = markers[o] if len(markers) > 1 else MARKERS[rank % len(MARKERS)]
        out.append((colour, marker))
    return out


def method_rank(m):
    return METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER)


def log_axis(axis):
    """Log scale with plain numbers (0.2, 0.3 instead of 2×10^-1); minor labels only at 2, 3 and
    5 times a power of ten, and only where the axis spans less than two decades."""
    import matplotlib

    axis.axes.set_xscale("log") if axis.axis_name == "x" else axis.axes.set_yscale("log")

    def minor(v, _):
        lo, hi = sorted(axis.get_view_interval())
        if v <= 0 or lo <= 0 or hi / lo > 100:
            return ""
        mant = v / 10 ** math.floor(math.log10(v) + 1e-9)
        return f"{v:g}" if any(abs(mant - k) < 1e-6 for k in (2, 3, 5)) else ""

    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(matplotlib.ticker.FuncFormatter(minor))
