// Steady-state training steps do not allocate: malloc is interposed in this test binary and
// counted while a window is open (operator new, Eigen's aligned_malloc and libgomp all go
// through malloc/calloc/realloc).
#include "common/rng.h"
#include "models/split-model.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstddef>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define SLSIM_COUNT_ALLOCATIONS 0 // ASan owns malloc; interposing it would break the sanitizer
#else
#define SLSIM_COUNT_ALLOCATIONS 1
#endif

namespace
{
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

[[maybe_unused]] void
Count()
{
    if (g_counting.load(std::memory_order_relaxed))
    {
        g_allocations.fetch_add(1, std::memory_order_relaxed);
    }
}
} // namespace

#if SLSIM_COUNT_ALLOCATIONS
extern "C"
{
    void* __libc_malloc(size_t size);
    void* __libc_calloc(size_t count, size_t size);
    void* __libc_realloc(void* p, size_t size);
}

extern "C" void*
malloc(size_t size)
{
    Count();
    return __libc_malloc(size);
}

extern "C" void*
calloc(size_t count, size_t size)
{
    Count();
    return __libc_calloc(count, size);
}

extern "C" void*
realloc(void* p, size_t size)
{
    Count();
    return __libc_realloc(p, size);
}

#endif

using namespace slsim;

TEST_CASE("Training steps allocate nothing after the first", "[models][alloc]")
{
    struct Case
    {
        const char* name;
        double width;
        const char* cut;
        Shape input;
        int batch;
    };

    if (!SLSIM_COUNT_ALLOCATIONS)
    {
        WARN("allocation counting is off under AddressSanitizer");
        return;
    }
    for (const Case& c : {Case{"vgg11_bn", 0.125, "medium", Shape{3, 32, 32}, 8},
                          Case{"resnet18", 0.125, "shallow", Shape{3, 32, 32}, 8},
                          Case{"lenet5", 1.0, "deep", Shape{1, 28, 28}, 32},
                          Case{"mlp", 1.0, "shallow", Shape{64}, 32}})
    {
        INFO(c.name);
        ModelConfig mc;
        mc.name = c.name;
        mc.width = c.width;
        mc.cut = c.cut;
        mc.input = c.input;
        OptimizerConfig oc;
        SplitModel m = BuildSplitModel(mc, oc, 1);
        Rng rng(1, "data");
        std::vector<float> x(static_cast<size_t>(c.batch) * mc.input.Numel());
        for (float& v : x)
        {
            v = static_cast<float>(rng.Normal());
        }
        std::vector<int32_t> y(static_cast<size_t>(c.batch), 3);
        std::vector<float> g(static_cast<size_t>(c.batch) * mc.classes);
        auto step = [&]() {
            const float* logits
                = m.server->Forward(m.device->Forward(x.data(), c.batch, true), c.batch, true);
            SoftmaxCrossEntropy(logits, y.data(), c.batch, mc.classes, g.data());
            m.device->Backward(m.server->Backward(g.data()));
            m.device->Step();
            m.server->Step();
            m.server->Forward(m.device->Forward(x.data(), c.batch, false), c.batch, false);
        };
        step();
        step();
        g_allocations = 0;
        g_counting = true;
        for (int i = 0; i < 3; ++i)
        {
            step();
        }
        g_counting = false;
        CHECK(g_allocations.load() == 0);
    }
}
