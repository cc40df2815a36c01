// The engine's thread pool, and results that do not depend on the thread count (issue 14):
// training steps at 1, 2 and 3 threads give bit-identical weights, activations and gradients.
#include "common/rng.h"
#include "models/split-model.h"
#include "models/thread-pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

using namespace slsim;

TEST_CASE("RunTasks runs every task once, nested calls serially", "[models][threads]")
{
    for (int threads : {1, 2, 3})
    {
        SetPoolThreads(threads);
        REQUIRE(PoolThreads() == threads);
        for (int64_t tasks : {int64_t{1}, int64_t{2}, int64_t{7}, int64_t{100}})
        {
            std::vector<std::atomic<int>> runs(static_cast<size_t>(tasks));
            std::vector<int> inner(static_cast<size_t>(tasks), 0);
            std::atomic<bool> slotsOk{true};
            RunTasks(tasks, [&](int64_t t, int slot) {
                runs[static_cast<size_t>(t)].fetch_add(1);
                if (slot < 0 || slot >= threads || !InPoolTask() || PoolTask() != t)
                {
                    slotsOk = false;
                }
                // a nested call runs on this thread, keeping the outer task's index
                RunTasks(3, [&](int64_t, int innerSlot) {
                    inner[static_cast<size_t>(t)] += 1;
                    if (innerSlot != slot || PoolTask() != t)
                    {
                        slotsOk = false;
                    }
                });
            });
            CHECK_FALSE(InPoolTask());
            CHECK(slotsOk.load());
            for (int64_t t = 0; t < tasks; ++t)
            {
                CHECK(runs[static_cast<size_t>(t)].load() == 1);
                CHECK(inner[static_cast<size_t>(t)] == 3);
            }
        }
        std::vector<int> hit(100000, 0);
        ParallelFor(0, 100000, PARALLEL_MIN_WORK,
                    [&](int64_t i) { hit[static_cast<size_t>(i)]++; });
        for (int h : hit)
        {
            REQUIRE(h == 1);
        }
    }
    SetPoolThreads(1);
}

TEST_CASE("DefaultThreadCount shares the CPUs among concurrent runs", "[models][threads]")
{
    const int all = DefaultThreadCount();
    CHECK(all >= 1);
    setenv("SLSIM_CONCURRENT_RUNS", "2", 1);
    CHECK(DefaultThreadCount() == std::max(1, all / 2));
    setenv("SLSIM_CONCURRENT_RUNS", "junk", 1);
    CHECK(DefaultThreadCount() == all);
    setenv("SLSIM_CONCURRENT_RUNS", "4096", 1);
    CHECK(DefaultThreadCount() == 1);
    unsetenv("SLSIM_CONCURRENT_RUNS");
}

namespace
{

/// Everything a few training steps produce: the cut activations and gradients of every step and
/// the final state of both partitions, as raw bytes.
std::string
Train(const std::string& name, double width, Shape input, const std::string& cut, int batch,
      int threads, const std::string& optimizer)
{
    ModelConfig mc;
    mc.name = name;
    mc.width = width;
    mc.input = std::move(input);
    mc.cut = cut;
    mc.threads = threads;
    OptimizerConfig oc;
    oc.name = optimizer;
    oc.lr = 0.05;
    oc.momentum = 0.9;
    SplitModel m = BuildSplitModel(mc, oc, 7);
    REQUIRE(PoolThreads() == threads);
    Rng rng(2, "data");
    std::vector<float> x(static_cast<size_t>(batch) * mc.input.Numel());
    std::vector<int32_t> y(static_cast<size_t>(batch));
    std::vector<float> g(static_cast<size_t>(batch) * mc.classes);
    std::string bytes;
    auto append = [&](const float* p, size_t n) {
        bytes.append(reinterpret_cast<const char*>(p), n * sizeof(float));
    };
    const size_t cutNumel = m.device->OutputShape().Numel() * static_cast<size_t>(batch);
    for (int step = 0; step < 3; ++step)
    {
        for (float& v : x)
        {
            v = static_cast<float>(rng.Normal());
        }
        for (int32_t& c : y)
        {
            c = static_cast<int32_t>(rng.UniformInt(10));
        }
        const float* act = m.device->Forward(x.data(), batch, true);
        append(act, cutNumel);
        const float* logits = m.server->Forward(act, batch, true);
        SoftmaxCrossEntropy(logits, y.data(), batch, mc.classes, g.data());
        const float* gCut = m.server->Backward(g.data());
        append(gCut, cutNumel);
        m.device->Backward(gCut);
        m.device->Step();
        m.server->Step();
    }
    for (Partition* p : {m.device.get(), m.server.get()})
    {
        std::vector<float> state(p->StateSize());
        p->GetState(state.data());
        append(state.data(), state.size());
    }
    return bytes;
}

} // namespace

TEST_CASE("Training is bit-identical at 1, 2 and 3 threads", "[models][threads]")
{
    struct Case
    {
        const char* name;
        double width;
        Shape input;
        const char* cut;
        int batch;
        const char* optimizer;
    };

    // Conv layers split into groups (resnet18 32x32 at batch 16) or one group whose im2col and
    // GEMM tiles run in parallel (vgg11's late layers, lenet5), tiled Linear GEMMs (vgg11's
    // head), BatchNorm, pooling, residual blocks, SGD and Adam.
    for (const Case& c : {Case{"resnet18", 0.25, Shape{3, 32, 32}, "medium", 16, "sgd"},
                          Case{"vgg11_bn", 0.25, Shape{3, 32, 32}, "shallow", 16, "adam"},
                          Case{"lenet5", 1.0, Shape{1, 28, 28}, "medium", 64, "sgd"}})
    {
        INFO(c.name);
        const std::string one = Train(c.name, c.width, c.input, c.cut, c.batch, 1, c.optimizer);
        for (int threads : {2, 3})
        {
            INFO("threads " << threads);
            const std::string other
                = Train(c.name, c.width, c.input, c.cut, c.batch, threads, c.optimizer);
            REQUIRE(one.size() == other.size());
            CHECK(std::memcmp(one.data(), other.data(), one.size()) == 0);
        }
    }
    SetThreadCount(0);
}
