#!/usr/bin/python3
"""Which BLAS provides libblas.so.3 to this Python (numpy and torch load the same one), and its
SGEMM GFLOP/s on an n x n x n product at the thread count of OPENBLAS_NUM_THREADS: one JSON line.

Used by scripts/bench-models as the machine's FP32 peak (OpenBLAS's SGEMM reaches ~90-95 % of the
FMA units' peak on large squares).
"""
import json
import os
import sys
import time

import numpy as np

from blas_libs import loaded_blas


def blas_library():
    np.ones((8, 8), np.float32) @ np.ones((8, 8), np.float32)  # make sure it is loaded
    return loaded_blas()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    # one BLAS thread runs on this thread: its CPU time leaves out other processes' share
    one = os.environ.get("OPENBLAS_NUM_THREADS") == "1"
    clock = time.thread_time if one else time.perf_counter
    best = float("inf")
    for _ in range(5):
        t0 = clock()
        a @ b
        best = min(best, clock() - t0)
    gflops = round(2 * n ** 3 / best / 1e9, 1)
    print(json.dumps({"blas": blas_library(), "n": n, "sgemm_gflops_per_s": gflops,
                      "clock": "thread cpu" if one else "wall"}))


if __name__ == "__main__":
    main()
