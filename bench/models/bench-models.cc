// Training-throughput benchmark of the engine (not a test): trains a model on random data for a
// fixed number of SGD steps and prints one JSON line with steps/s. scripts/bench-models runs it
// next to the same model in PyTorch.
//
//   bench_models [--model vgg11_bn] [--width 1] [--batch 64] [--steps 20] [--warmup 3]
//                [--threads 2] [--input 3x32x32] [--cut none|shallow|...] [--classes 10]
#include "bench/models/build-isa.h"
#include "common/error.h"
#include "common/rng.h"
#include "models/split-model.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

using namespace slsim;

namespace
{

/// CPU time of all the process's threads: at one thread, the time the OS gave other processes
/// on a shared machine does not count (the wall-clock steps/s does).
double
ProcessCpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

Shape
ParseShape(const std::string& s)
{
    std::vector<int64_t> d;
    size_t at = 0;
    while (at <= s.size())
    {
        const size_t x = s.find('x', at);
        d.push_back(std::stoll(s.substr(at, x == std::string::npos ? std::string::npos : x - at)));
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
    ModelConfig mc;
    mc.name = "vgg11_bn";
    mc.input = Shape{3, 32, 32};
    mc.cut = "none";
    mc.threads = 2;
    int batch = 64;
    int steps = 20;
    int warmup = 3;
    for (int i = 1; i + 1 < argc; i += 2)
    {
        const std::string k = argv[i];
        const std::string v = argv[i + 1];
        if (k == "--model")
            mc.name = v;
        else if (k == "--width")
            mc.width = std::stod(v);
        else if (k == "--batch")
            batch = std::stoi(v);
        else if (k == "--steps")
            steps = std::stoi(v);
        else if (k == "--warmup")
            warmup = std::stoi(v);
        else if (k == "--threads")
            mc.threads = std::stoi(v);
        else if (k == "--input")
            mc.input = ParseShape(v);
        else if (k == "--cut")
            mc.cut = v;
        else if (k == "--classes")
            mc.classes = std::stoi(v);
        else
        {
            std::fprintf(stderr, "bench_models: unknown option %s\n", k.c_str());
            return 2;
        }
    }
    try
    {
        OptimizerConfig oc; // SGD lr 0.1, momentum 0.9, weight decay 5e-4 (the paper's code)
        oc.lr = 0.01;
        const bool split = mc.cut != "none";
        SplitModel sm;
        std::unique_ptr<Partition> whole;
        if (split)
        {
            sm = BuildSplitModel(mc, oc, 1);
        }
        else
        {
            whole = BuildModel(mc, oc, 1);
        }
        Rng rng(1, "bench");
        std::vector<float> x(static_cast<size_t>(batch) * mc.input.Numel());
        for (float& v : x)
        {
            v = static_cast<float>(rng.Normal());
        }
        std::vector<int32_t> y(batch);
        for (int32_t& v : y)
        {
            v = static_cast<int32_t>(rng.UniformInt(static_cast<uint64_t>(mc.classes)));
        }
        std::vector<float> g(static_cast<size_t>(batch) * mc.classes);
        double loss = 0;
        auto step = [&]() {
            if (split)
            {
                const float* logits
                    = sm.server->Forward(sm.device->Forward(x.data(), batch, true), batch, true);
                loss = SoftmaxCrossEntropy(logits, y.data(), batch, mc.classes, g.data()).loss;
                sm.device->Backward(sm.server->Backward(g.data()));
                sm.device->Step();
                sm.server->Step();
            }
            else
            {
                const float* logits = whole->Forward(x.data(), batch, true);
                loss = SoftmaxCrossEntropy(logits, y.data(), batch, mc.classes, g.data()).loss;
                whole->Backward(g.data());
                whole->Step();
            }
        };
        for (int i = 0; i < warmup; ++i)
        {
            step();
        }
        const auto t0 = std::chrono::steady_clock::now();
        const double c0 = ProcessCpuSeconds();
        for (int i = 0; i < steps; ++i)
        {
            step();
        }
        const double s
            = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double cpu = ProcessCpuSeconds() - c0;
        const Flops f
            = split
                  ? Flops{sm.device->FlopsPerSample().forward + sm.server->FlopsPerSample().forward,
                          sm.device->FlopsPerSample().backward
                              + sm.server->FlopsPerSample().backward}
                  : whole->FlopsPerSample();
        std::printf("{\"impl\": \"slsim\", \"model\": \"%s\", \"width\": %g, \"batch\": %d, "
                    "\"threads\": %d, \"steps\": %d, \"seconds\": %.4f, \"steps_per_s\": %.4f, "
                    "\"cpu_seconds\": %.4f, "
                    "\"gflops_per_s\": %.2f, \"last_loss\": %.4f, \"isa\": \"%s\", "
                    "\"blas\": \"none (%s)\"}\n",
                    mc.name.c_str(), mc.width, batch, mc.threads, steps, s, steps / s, cpu,
                    (f.forward + f.backward) * batch * steps / s / 1e9, loss, BuildIsa(),
                    std::string(BuildIsa()) == "avx2" ? "slsim's AVX2 GEMM micro-kernel"
                                                      : "Eigen's GEBP kernels");
    }
    catch (const InputError& e)
    {
        std::fprintf(stderr, "bench_models: %s\n", e.what());
        return 2;
    }
    return 0;
}
