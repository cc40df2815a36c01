// Codec throughput on a 256x64x16x16 post-ReLU tensor (the paper's VGG19 shallow cut at batch
// 256), next to a plain memcpy of the same tensor measured in the same run.
//
//   scripts/bench-codecs            (builds build-bench-codecs/ and runs this)
//   bench_codecs [--reps N] [--shape 256x64x16x16] [--clock cpu|wall] [--csv]
//
// --csv prints one line per codec (key,encode_s,decode_s,bytes) for scripts/bench-codecs, which
// runs this alternately with the authors'-style PyTorch code (torch-codecs.py) and prints ratios.
//
// --clock cpu (default) times each call by the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), which
// leaves out the time the thread waits for a core on a shared machine; wall: steady_clock.
// torch-codecs.py takes the same option (time.thread_time / time.perf_counter).
// GB/s = uncompressed fp32 bytes / median time per call. The tensor is ReLU(N(0,1)) from a
// fixed seed. Each case reuses its blob and decoded tensor across calls, as the simulator's
// scratch buffers do (torch-codecs.py's copy-like cases write into tensors allocated once too).
// Prints a table and the MS encode time relative to memcpy's.
#include "compression/codec.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

using namespace slsim;

namespace
{

bool g_cpuClock = true;

double
Now()
{
    if (g_cpuClock)
    {
        timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// Seconds per call over reps calls: the median, and the best call (a shared machine's noise
/// only adds time, so the best call is the other honest statistic; both sides report both).
struct Timing
{
    double median;
    double best;
};

template <typename F>
Timing
TimeCalls(int reps, F&& f)
{
    std::vector<double> t;
    f(); // warm-up: buffers reach their capacity
    for (int r = 0; r < reps; ++r)
    {
        const double a = Now();
        f();
        t.push_back(Now() - a);
    }
    std::sort(t.begin(), t.end());
    return {t[t.size() / 2], t.front()};
}

Shape
ParseShape(const std::string& s)
{
    std::vector<int64_t> d;
    size_t at = 0;
    while (at <= s.size())
    {
        const size_t x = s.find('x', at);
        d.push_back(std::atoll(s.substr(at, x - at).c_str()));
        if (x == std::string::npos)
        {
            break;
        }
        at = x + 1;
    }
    return Shape(d);
}

} // namespace

int
main(int argc, char** argv)
{
    int reps = 15;
    Shape shape{256, 64, 16, 16};
    bool csv = false;
    for (int i = 1; i < argc; ++i)
    {
        if (std::strcmp(argv[i], "--csv") == 0)
        {
            csv = true;
            continue;
        }
        if (i + 1 >= argc)
        {
            break;
        }
        if (std::strcmp(argv[i], "--reps") == 0)
        {
            reps = std::max(1, std::atoi(argv[++i]));
        }
        else if (std::strcmp(argv[i], "--shape") == 0)
        {
            shape = ParseShape(argv[++i]);
        }
        else if (std::strcmp(argv[i], "--clock") == 0)
        {
            g_cpuClock = std::strcmp(argv[++i], "wall") != 0;
        }
    }
    const size_t n = static_cast<size_t>(shape.Numel());
    const double gb = 4.0 * static_cast<double>(n) / 1e9;
    std::vector<float> x(n);
    Rng data(42, "bench");
    for (auto& v : x)
    {
        v = static_cast<float>(std::max(0.0, data.Normal()));
    }
    std::vector<float> copy(n);
    const Timing memcpyT = TimeCalls(reps, [&] { std::memcpy(copy.data(), x.data(), 4 * n); });
    const double memcpyS = memcpyT.median;
    if (csv)
    {
        // key, encode median, decode median, bytes, encode best, decode best
        std::printf("memcpy,%.9g,%.9g,%zu,%.9g,%.9g\n", memcpyS, memcpyS, 4 * n, memcpyT.best,
                    memcpyT.best);
    }
    else
    {
        std::printf("tensor %s (%.1f MB fp32), median of %d calls, %s time\n",
                    shape.ToString().c_str(), gb * 1e3, reps,
                    g_cpuClock ? "thread CPU" : "wall-clock");
        std::printf("%-34s %9s %9s %10s %10s %8s\n", "codec", "bytes", "bits/el", "enc GB/s",
                    "dec GB/s", "rel_l2");
        std::printf("%-34s %9zu %9.3f %10.2f %10.2f %8s\n", "memcpy (reference)", 4 * n, 32.0,
                    gb / memcpyS, gb / memcpyS, "0");
    }

    struct Case
    {
        const char* key; // the same operation's key in torch-codecs.py
        const char* label;
        CodecConfig config;
    };

    std::vector<Case> cases;
    auto add = [&](const char* key, const char* label, const char* method, double sparsity,
                   int bits, const char* index = "auto") {
        CodecConfig c;
        c.method = method;
        c.sparsity = sparsity;
        c.bits = bits;
        c.index = index;
        cases.push_back({key, label, c});
    };
    add("none", "none", "none", 0, 2);
    add("fp16", "fp16", "fp16", 0, 2);
    add("bf16", "bf16", "bf16", 0, 2);
    add("quantize3", "quantize 3 bits (QU)", "quantize", 0, 3);
    add("topk", "topk 4.125% bitmap (SP)", "topk", 0.95875, 2, "bitmap");
    add("randtopk", "randtopk 4.125% a=0.1 (RT)", "randtopk", 0.95875, 2, "bitmap");
    add("ms2", "ms r=0.99 b=2 (MS)", "ms", 0.99, 2);
    add("ms3", "ms r=0.99 b=3", "ms", 0.99, 3);
    CodecConfig signedMs;
    signedMs.method = "ms";
    signedMs.signedValues = true;
    cases.push_back({"ms2signed", "ms r=0.99 b=2 signed", signedMs});
    CodecConfig sq;
    sq.method = "quantize";
    sq.bits = 3;
    sq.stochastic = true;
    cases.push_back({"quantize3stochastic", "quantize 3 bits stochastic", sq});

    double msEncode = 0;
    for (const Case& c : cases)
    {
        auto codec = MakeCodec(c.config);
        Rng rng(1, "codec");
        std::vector<uint8_t> blob;
        std::vector<float> y;
        const Timing encT = TimeCalls(reps, [&] { codec->Encode(x.data(), shape, blob, rng); });
        const Timing decT = TimeCalls(reps, [&] { DecodeAny(blob.data(), blob.size(), y); });
        const double enc = encT.median;
        const double dec = decT.median;
        if (std::string(c.label) == "ms r=0.99 b=2 (MS)")
        {
            msEncode = gb / enc;
        }
        if (csv)
        {
            std::printf("%s,%.9g,%.9g,%zu,%.9g,%.9g\n", c.key, enc, dec, blob.size(), encT.best,
                        decT.best);
            continue;
        }
        std::printf("%-34s %9zu %9.3f %10.2f %10.2f %8.4f\n", c.label, blob.size(),
                    8.0 * static_cast<double>(blob.size()) / static_cast<double>(n), gb / enc,
                    gb / dec, RelativeL2Error(x.data(), y.data(), n));
    }
    if (csv)
    {
        return 0;
    }
    std::printf("ms encode: %.2fx memcpy time (the PyTorch ratios: scripts/bench-codecs)\n",
                (gb / memcpyS) / msEncode);
    return 0;
}
