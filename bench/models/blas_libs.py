"""Which BLAS libraries this process has mapped (shared by blas-peak.py and torch-peer.py)."""


def loaded_blas():
    """The BLAS libraries mapped into this process, from /proc/self/maps (the one numpy's matmul
    and torch's Linear layers call)."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "blas" in path and ".so" in path:
                libs.add(path)
    return sorted(libs)
