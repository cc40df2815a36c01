// Partitioners: every sample exactly once, the skew each kind promises, and Gamma sampling.
#include "common/error.h"
#include "models/data/dataset.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

using namespace slsim;

namespace
{

Dataset
Labelled(size_t n, int classes)
{
    Dataset d;
    d.name = "synthetic";
    d.classes = classes;
    Rng rng(11, "labels");
    for (size_t i = 0; i < n; ++i)
    {
        d.labels.push_back(static_cast<uint8_t>(rng.UniformInt(static_cast<uint64_t>(classes))));
    }
    d.pixels.assign(n, 0);
    return d;
}

void
RequireExactCover(const std::vector<std::vector<uint32_t>>& parts, size_t n, int devices)
{
    REQUIRE(parts.size() == static_cast<size_t>(devices));
    std::vector<int> seen(n);
    for (const auto& part : parts)
    {
        REQUIRE(std::is_sorted(part.begin(), part.end()));
        for (uint32_t i : part)
        {
            REQUIRE(i < n);
            ++seen[i];
        }
    }
    for (size_t i = 0; i < n; ++i)
    {
        REQUIRE(seen[i] == 1);
    }
}

/// Mean over devices of the share of the device's most common label.
double
MeanTopLabelShare(const std::vector<std::vector<size_t>>& hist)
{
    double total = 0;
    for (const auto& h : hist)
    {
        size_t sum = 0;
        for (size_t c : h)
        {
            sum += c;
        }
        total += sum ? static_cast<double>(*std::max_element(h.begin(), h.end())) / sum : 0.0;
    }
    return total / static_cast<double>(hist.size());
}

} // namespace

TEST_CASE("IID split: even sizes, every sample once, label mix close to global",
          "[data][partition]")
{
    Dataset d = Labelled(10007, 10);
    Rng rng(1, "partition");
    auto parts = PartitionDataset(d, 10, PartitionConfig{}, rng);
    RequireExactCover(parts, d.Size(), 10);
    for (const auto& p : parts)
    {
        CHECK((p.size() == 1000 || p.size() == 1001));
    }
    auto hist = LabelHistograms(d, parts);
    REQUIRE(hist.size() == 10);
    for (const auto& h : hist)
    {
        REQUIRE(h.size() == 10);
    }
    CHECK(MeanTopLabelShare(hist) < 0.16); // ~0.1 each plus sampling noise
    Rng again(1, "partition");
    CHECK(PartitionDataset(d, 10, PartitionConfig{}, again) == parts);
}

TEST_CASE("Dirichlet split: exact cover, skew grows as alpha shrinks", "[data][partition]")
{
    Dataset d = Labelled(6000, 10);
    double previous = 1.0;
    for (double alpha : {0.05, 0.5, 100.0})
    {
        Rng rng(2, "partition");
        PartitionConfig cfg;
        cfg.kind = PartitionKind::DIRICHLET;
        cfg.alpha = alpha;
        auto parts = PartitionDataset(d, 10, cfg, rng);
        RequireExactCover(parts, d.Size(), 10);
        for (const auto& p : parts)
        {
            CHECK(!p.empty());
        }
        auto hist = LabelHistograms(d, parts);
        const double share = MeanTopLabelShare(hist);
        INFO("alpha " << alpha << " mean top-label share " << share);
        CHECK(share < previous);
        previous = share;
        if (alpha == 0.05)
        {
            CHECK(share > 0.6);
        }
        if (alpha == 100.0)
        {
            CHECK(share < 0.2);
        }
    }
}

TEST_CASE("shard split: exact cover, few labels per device", "[data][partition]")
{
    Dataset d = Labelled(5000, 10);
    Rng rng(3, "partition");
    PartitionConfig cfg;
    cfg.kind = PartitionKind::SHARDS;
    cfg.shardsPerDevice = 2;
    auto parts = PartitionDataset(d, 10, cfg, rng);
    RequireExactCover(parts, d.Size(), 10);
    for (const auto& h : LabelHistograms(d, parts))
    {
        // 2 shards of 250 label-sorted samples: each spans at most 2 labels.
        CHECK(std::count_if(h.begin(), h.end(), [](size_t c) { return c > 0; }) <= 4);
    }
    for (const auto& p : parts)
    {
        CHECK(p.size() == 500);
    }
}

TEST_CASE("partition input errors", "[data][partition]")
{
    Dataset d = Labelled(20, 10);
    Rng rng(4, "partition");
    CHECK_THROWS_AS(PartitionDataset(d, 0, PartitionConfig{}, rng), InputError);
    CHECK_THROWS_AS(PartitionDataset(d, 21, PartitionConfig{}, rng), InputError);
    PartitionConfig cfg;
    cfg.kind = PartitionKind::DIRICHLET;
    cfg.alpha = 0.0;
    CHECK_THROWS_AS(PartitionDataset(d, 2, cfg, rng), InputError);
    cfg.kind = PartitionKind::SHARDS;
    cfg.shardsPerDevice = 3;
    CHECK_THROWS_AS(PartitionDataset(d, 10, cfg, rng), InputError);
    CHECK(ParsePartitionKind("dirichlet") == PartitionKind::DIRICHLET);
    CHECK_THROWS_AS(ParsePartitionKind("noniid"), InputError);
    // One device per sample still works.
    auto parts = PartitionDataset(d, 20, PartitionConfig{}, rng);
    RequireExactCover(parts, 20, 20);
}

TEST_CASE("Gamma sampler has the right mean and variance", "[data][partition]")
{
    for (double shape : {0.1, 0.5, 1.0, 2.5, 9.0})
    {
        Rng rng(5, "gamma");
        const int n = 40000;
        double sum = 0, sum2 = 0;
        for (int i = 0; i < n; ++i)
        {
            const double x = SampleGamma(shape, rng);
            REQUIRE(x >= 0.0);
            sum += x;
            sum2 += x * x;
        }
        const double mean = sum / n;
        const double var = sum2 / n - mean * mean;
        INFO("shape " << shape << " mean " << mean << " var " << var);
        // Gamma(k, 1): mean k, variance k. Standard error of the mean sqrt(k/n); 5 se margin.
        CHECK(std::abs(mean - shape) < 5 * std::sqrt(shape / n));
        CHECK(var == Approx(shape).epsilon(0.08));
    }
}
