// GEMM micro-benchmark (not a test): slsim's Gemm (models/gemm.h) against the SGEMM of a BLAS
// loaded at run time (dlopen: no link dependency), on the shapes the zoo's convolutions and
// linear layers multiply, one thread each, alternating the two sides rep by rep. Prints one JSON
// line per shape with both GFLOP/s (best of the reps) and the ratio slsim / BLAS. At one thread
// the time is the thread's CPU time, so that a shared machine's other processes count less.
//
//   bench_gemm BLAS_LIBRARY [--reps 7] [--min-ms 40] [--threads 1] [MxNxK[t] ...]
// A trailing t on a shape multiplies with A stored transposed (the weight-gradient form).
// scripts/bench-models --gemm runs it with Debian's OpenBLAS.
#include "bench/models/build-isa.h"
#include "models/gemm.h"
#include "models/thread-pool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <dlfcn.h>
#include <string>
#include <vector>

using namespace slsim;

namespace
{

// Fortran BLAS SGEMM (column-major): C = alpha op(A) op(B) + beta C
using SgemmFn = void (*)(const char*, const char*, const int*, const int*, const int*, const float*,
                         const float*, const int*, const float*, const int*, const float*, float*,
                         const int*);

struct GemmShape
{
    int m, n, k;
    bool transA;
    const char* what;
};

// (m, n, k) of the products the zoo runs at 3x32x32, batch 64 (models/conv2d.cc): forward
// Y (P x O) = Cols (P x CKK) W^T, weight gradient dW (O x CKK) = G^T Cols, per sample at 32x32 and
// 16x16, per group of samples (stacked rows) at 8x8 and below; then linear layers and a square.
const GemmShape DEFAULT_SHAPES[] = {
    {1024, 16, 144, false, "vgg w0.25 conv 32x32 16->16 forward"},
    {16, 144, 1024, true, "vgg w0.25 conv 32x32 16->16 weight grad"},
    {256, 32, 288, false, "vgg w0.25 conv 16x16 32->32 forward"},
    {1024, 64, 64, false, "vgg w0.25 conv 8x8 64->64 forward (16 samples)"},
    {512, 128, 1152, false, "vgg w0.25 conv 4x4 128->128 forward (32 samples)"},
    {1024, 64, 27, false, "vgg w1 conv 32x32 3->64 forward"},
    {1024, 64, 576, false, "vgg w1 conv 32x32 64->64 forward"},
    {256, 128, 576, false, "vgg w1 conv 16x16 64->128 forward"},
    {512, 256, 1152, false, "vgg w1 conv 8x8 128->256 forward (8 samples)"},
    {256, 512, 4608, false, "vgg w1 conv 4x4 512->512 forward (16 samples)"},
    {64, 2304, 256, true, "vgg w1 conv 8x8 256 weight grad"},
    {512, 64, 512, false, "linear 512->512, batch 64"},
    {1024, 1024, 1024, false, "square 1024"},
};

/// Seconds on this thread's CPU clock (1 thread: both sides run on the calling thread, and time
/// the OS gives other processes on a shared machine does not count) or of wall-clock time.
double
Now(bool cpu)
{
    if (cpu)
    {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

int
main(int argc, char** argv)
{
    if (argc < 2)
    {
        std::fprintf(stderr, "usage: bench_gemm BLAS_LIBRARY [--reps N] [--min-ms MS] "
                             "[--threads T] [MxNxK[t] ...]\n");
        return 2;
    }
    void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    auto* sgemm = lib ? reinterpret_cast<SgemmFn>(dlsym(lib, "sgemm_")) : nullptr;
    if (!sgemm)
    {
        std::fprintf(stderr, "bench_gemm: no sgemm_ in %s (%s)\n", argv[1], dlerror());
        return 2;
    }
    int reps = 7;
    double minMs = 40;
    int threads = 1;
    std::vector<GemmShape> shapes;
    for (int i = 2; i < argc; ++i)
    {
        const std::string a = argv[i];
        if (a == "--reps" && i + 1 < argc)
            reps = std::atoi(argv[++i]);
        else if (a == "--min-ms" && i + 1 < argc)
            minMs = std::atof(argv[++i]);
        else if (a == "--threads" && i + 1 < argc)
            threads = std::atoi(argv[++i]);
        else
        {
            GemmShape s{0, 0, 0, false, "command line"};
            char t = 0;
            if (std::sscanf(a.c_str(), "%dx%dx%d%c", &s.m, &s.n, &s.k, &t) < 3 || s.m <= 0
                || s.n <= 0 || s.k <= 0)
            {
                std::fprintf(stderr, "bench_gemm: bad shape %s\n", a.c_str());
                return 2;
            }
            s.transA = t == 't';
            shapes.push_back(s);
        }
    }
    if (shapes.empty())
    {
        shapes.assign(std::begin(DEFAULT_SHAPES), std::end(DEFAULT_SHAPES));
    }
    SetPoolThreads(threads);
    const bool cpuClock = threads == 1;
    for (const GemmShape& s : shapes)
    {
        const int lda = s.transA ? s.k : s.m;
        std::vector<float> a(static_cast<size_t>(s.m) * s.k);
        std::vector<float> b(static_cast<size_t>(s.k) * s.n);
        std::vector<float> c(static_cast<size_t>(s.m) * s.n);
        uint32_t state = 12345;
        auto next = [&state] {
            state = state * 1664525u + 1013904223u;
            return static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
        };
        std::generate(a.begin(), a.end(), next);
        std::generate(b.begin(), b.end(), next);
        const double flops = 2.0 * s.m * s.n * s.k;
        // calls per timed rep: at least minMs of work at ~50 GFLOP/s
        const int calls = std::max(1, static_cast<int>(minMs * 1e-3 * 50e9 / flops));
        auto ours = [&] {
            Gemm(s.transA, false, s.m, s.n, s.k, a.data(), lda, b.data(), s.k, c.data(), s.m,
                 false);
        };
        const float one = 1.0f;
        const float zero = 0.0f;
        const char ta = s.transA ? 'T' : 'N';
        const char tb = 'N';
        auto theirs = [&] {
            sgemm(&ta, &tb, &s.m, &s.n, &s.k, &one, a.data(), &lda, b.data(), &s.k, &zero, c.data(),
                  &s.m);
        };
        ours();
        theirs();
        double bestOurs = 1e30;
        double bestTheirs = 1e30;
        for (int r = 0; r < reps; ++r)
        {
            double t0 = Now(cpuClock);
            for (int i = 0; i < calls; ++i)
            {
                ours();
            }
            bestOurs = std::min(bestOurs, (Now(cpuClock) - t0) / calls);
            t0 = Now(cpuClock);
            for (int i = 0; i < calls; ++i)
            {
                theirs();
            }
            bestTheirs = std::min(bestTheirs, (Now(cpuClock) - t0) / calls);
        }
        std::printf("{\"m\": %d, \"n\": %d, \"k\": %d, \"trans_a\": %s, \"shape\": \"%s\", "
                    "\"slsim_gflops_per_s\": %.1f, \"blas_gflops_per_s\": %.1f, \"ratio\": %.3f, "
                    "\"isa\": \"%s\", \"clock\": \"%s\"}\n",
                    s.m, s.n, s.k, s.transA ? "true" : "false", s.what, flops / bestOurs / 1e9,
                    flops / bestTheirs / 1e9, bestTheirs / bestOurs, BuildIsa(),
                    cpuClock ? "thread cpu" : "wall");
        std::fflush(stdout);
    }
    dlclose(lib);
    return 0;
}
