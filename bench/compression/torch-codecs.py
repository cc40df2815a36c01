#!/usr/bin/python3
"""The codecs of bench_codecs written in PyTorch the way the authors' code does them
(docs: /work/shared/docs/paper-notes.md §2.2 and §4, the [C] client_encode.py /
server_decode.py), timed on the same tensor shape, for scripts/bench-codecs.

  torch-codecs.py measure [--reps N] [--shape AxBxCxD] [--clock cpu|wall]
                                                          one line per codec, like bench_codecs --csv
  torch-codecs.py report SLSIM.csv... -- TORCH.csv...     medians over rounds and the ratios

The reference keeps the authors' wire: torch.topk by value (|x| for the signed MS variant), the
MS codes as a uint8 tensor (the authors' code does not bit-pack: [C] sends float32, [C-old]
uint8), top-k as values + int64 indices, min-max quantization with torch.round to uint8. One
thread (torch.set_num_threads(1)), like bench_codecs.

The copy-like cases (none, fp16, bf16, and the top-k decode) write into outputs allocated once,
as bench_codecs (and the simulator) reuse their blob and tensor buffers: Tensor.copy_ converts
between dtypes, the top-k decode zeroes and scatters into its tensor. (The authors' code
allocates a new tensor per call, x.clone() / x.half() / torch.zeros(n); PyTorch's allocator makes
that cost 0-6 % more on this machine, within the noise.)
"""
import argparse
import math
import os
import statistics
import sys
import time

KEYS = ["none", "fp16", "bf16", "quantize3", "quantize3stochastic", "topk", "randtopk", "ms2",
        "ms3", "ms2signed"]


def codecs(torch, n):
    """key -> (encode(flat) -> message, decode(message) -> flat)."""
    k_sp = int(n * (1 - 0.95875))
    k_ms = int(n * (1 - 0.99))

    def quantize(bits, stochastic):
        def enc(x):
            mn, mx = x.min(), x.max()
            s = (2 ** bits - 1) / (mx - mn)
            y = s * x - mn * s
            y = torch.floor(y + torch.rand_like(y)) if stochastic else torch.round(y)
            return y.to(torch.uint8), mn, s

        def dec(m):
            q, mn, s = m
            return q.float() / s + mn
        return enc, dec

    def topk_enc(x):
        values, indices = torch.topk(x, k_sp)
        return values, indices

    decoded = torch.empty(n)

    def topk_dec(m):
        values, indices = m
        return decoded.zero_().scatter_(0, indices, values)

    def cast(dtype):
        wire = torch.empty(n, dtype=dtype)
        return lambda x: wire.copy_(x), lambda m: decoded.copy_(m)

    def randtopk_enc(x, alpha=0.1):
        # NaiveRandomTopKModifier: k draws without replacement, mass (1 - a)/k on each true
        # top-k index and a/(n - k) on every other one.
        _, top = torch.topk(x, k_sp)
        p = torch.full((n,), alpha / (n - k_sp))
        p[top] = (1 - alpha) / k_sp
        indices = torch.multinomial(p, k_sp, replacement=False)
        return x[indices], indices

    def ms(bits, signed):
        L = 2 ** bits - 1

        def enc(x):
            a = x.abs() if signed else x
            values, indices = torch.topk(a, k_ms)
            T = values[-1]
            q = torch.round(a * L / T)
            q[q == L] = L - 1
            q[indices] = L
            v = x[indices.sort().values]  # the values in ascending index order
            signs = x < 0 if signed else None
            return v, q.to(torch.uint8), signs

        def dec(m):
            v, q, signs = m
            T = v.abs().min() if signed else v.min()
            idx = q == L
            x_hat = q.float() * (T / L)
            if signs is not None:
                x_hat = torch.where(signs, -x_hat, x_hat)
            x_hat[idx] = v
            return x_hat
        return enc, dec

    return {
        "none": cast(torch.float32),
        "fp16": cast(torch.float16),
        "bf16": cast(torch.bfloat16),
        "quantize3": quantize(3, False),
        "quantize3stochastic": quantize(3, True),
        "topk": (topk_enc, topk_dec),
        "randtopk": (randtopk_enc, topk_dec),
        "ms2": ms(2, False),
        "ms3": ms(3, False),
        "ms2signed": ms(2, True),
    }


def time_calls(reps, f, clock=time.thread_time):
    """(median, best) seconds per call, as bench_codecs reports them."""
    f()
    t = []
    for _ in range(reps):
        a = clock()
        f()
        t.append(clock() - a)
    return statistics.median(t), min(t)


def measure(args):
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(42)
    shape = [int(d) for d in args.shape.split("x")]
    n = math.prod(shape)
    x = torch.relu(torch.randn(shape)).reshape(-1)
    copy = torch.empty_like(x)
    # cpu: this thread's CPU time (torch runs these on the calling thread at one thread)
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    t, tb = time_calls(args.reps, lambda: copy.copy_(x), clock)
    print(f"memcpy,{t:.9g},{t:.9g},{4 * n},{tb:.9g},{tb:.9g}")
    for key, (enc, dec) in codecs(torch, n).items():
        msg = enc(x)
        te, teb = time_calls(args.reps, lambda: enc(x), clock)
        td, tdb = time_calls(args.reps, lambda: dec(msg), clock)
        parts = msg if isinstance(msg, tuple) else (msg,)
        size = sum(p.numel() * p.element_size() for p in parts if torch.is_tensor(p))
        print(f"{key},{te:.9g},{td:.9g},{size},{teb:.9g},{tdb:.9g}")


def read_rounds(paths):
    """key -> (encode medians, decode medians, encode bests, decode bests), one entry per file
    (one file per round)."""
    out = {}
    for p in paths:
        with open(p) as f:
            for line in f:
                key, enc, dec, _, enc_best, dec_best = line.strip().split(",")
                for lst, v in zip(out.setdefault(key, ([], [], [], [])),
                                  (enc, dec, enc_best, dec_best)):
                    lst.append(float(v))
    return out


def torch_info():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
    import torch
    from blas_libs import loaded_blas
    torch.zeros(64, 64) @ torch.zeros(64, 64)  # maps the BLAS
    isa = "?"
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            isa = line.split(":", 1)[1].strip()
    return torch.__version__, isa, ", ".join(loaded_blas()) or "none mapped"


def report(args):
    split = args.files.index("--")
    ours, theirs = read_rounds(args.files[:split]), read_rounds(args.files[split + 1:])
    rounds = len(args.files[:split])
    med = statistics.median
    mc_ours = med(ours["memcpy"][0])
    mc_theirs = med(theirs["memcpy"][0])
    version, isa, blas = torch_info()
    print(f"PyTorch {version}, one thread, ISA {isa}, BLAS {blas} (codecs call no BLAS)")
    print(f"medians of {rounds} alternating rounds; memcpy of the tensor: slsim {mc_ours * 1e3:.2f}"
          f" ms, torch copy_ {mc_theirs * 1e3:.2f} ms")
    print("x torch = PyTorch time / slsim time (>= 1: slsim faster); x memcpy = slsim time /"
          " memcpy time")
    print(f"{'codec':<22}{'enc ms':>9}{'torch':>9}{'x torch':>9}{'x memcpy':>10}"
          f"{'dec ms':>9}{'torch':>9}{'x torch':>9}{'x memcpy':>10}")
    slower = []
    for key in KEYS:
        if key not in ours or key not in theirs:
            continue
        row = f"{key:<22}"
        for side, op in ((0, "encode"), (1, "decode")):
            a, b = med(ours[key][side]), med(theirs[key][side])
            row += f"{a * 1e3:9.2f}{b * 1e3:9.2f}{b / a:9.2f}{a / mc_ours:10.2f}"
            if b < a:
                slower.append(f"{key} {op}")
        print(row)
    print("slower than PyTorch: " + (", ".join(slower) if slower else "none"))
    # The best call of all rounds on each side: a shared machine's noise (other processes, a VM
    # neighbour's memory traffic) only adds time, so this shows what each side can do.
    best_mc = min(ours["memcpy"][2])
    print(f"best call of all rounds (memcpy: slsim {best_mc * 1e3:.2f} ms): x torch encode /"
          " decode, x memcpy encode")
    for key in KEYS:
        if key in ours and key in theirs:
            a, b = min(ours[key][2]), min(theirs[key][2])
            c, d = min(ours[key][3]), min(theirs[key][3])
            print(f"  {key:<20}{b / a:9.2f}{d / c:9.2f}{a / best_mc:10.2f}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--reps", type=int, default=15)
    m.add_argument("--shape", default="256x64x16x16")
    m.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    r = sub.add_parser("report")
    r.add_argument("files", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    measure(args) if args.cmd == "measure" else report(args)


if __name__ == "__main__":
    main()
