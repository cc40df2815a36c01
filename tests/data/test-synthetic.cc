// The built-in synthetic dataset: deterministic, balanced, learnable but not trivial.
#include "common/error.h"
#include "models/data/dataset.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace slsim;

namespace
{

/// Accuracy on `test` of the nearest class mean (Euclidean) fitted on `train`.
double
NearestMeanAccuracy(const Dataset& train, const Dataset& test)
{
    const size_t s = train.SampleSize();
    std::vector<std::vector<double>> means(static_cast<size_t>(train.classes),
                                           std::vector<double>(s));
    std::vector<size_t> counts(static_cast<size_t>(train.classes));
    for (size_t i = 0; i < train.Size(); ++i)
    {
        ++counts[train.labels[i]];
        for (size_t p = 0; p < s; ++p)
        {
            means[train.labels[i]][p] += train.Sample(i)[p];
        }
    }
    for (size_t k = 0; k < means.size(); ++k)
    {
        for (double& v : means[k])
        {
            v /= static_cast<double>(counts[k]);
        }
    }
    size_t correct = 0;
    for (size_t i = 0; i < test.Size(); ++i)
    {
        size_t best = 0;
        double bestDist = 1e300;
        for (size_t k = 0; k < means.size(); ++k)
        {
            double dist = 0;
            for (size_t p = 0; p < s; ++p)
            {
                const double diff = test.Sample(i)[p] - means[k][p];
                dist += diff * diff;
            }
            if (dist < bestDist)
            {
                bestDist = dist;
                best = k;
            }
        }
        correct += best == test.labels[i];
    }
    return static_cast<double>(correct) / static_cast<double>(test.Size());
}

} // namespace

TEST_CASE("synthetic data is deterministic in the seed and shaped as configured",
          "[data][synthetic]")
{
    DatasetConfig cfg;
    Dataset a = LoadDataset(cfg, true, 42);
    Dataset b = LoadDataset(cfg, true, 42);
    Dataset c = LoadDataset(cfg, true, 43);
    Dataset t = LoadDataset(cfg, false, 42);
    CHECK(a.name == "synthetic");
    CHECK(a.Size() == 2000);
    CHECK(t.Size() == 500);
    CHECK(a.SampleShape() == Shape{1, 8, 8});
    CHECK(a.pixels.size() == 2000 * 64);
    CHECK(a.pixels == b.pixels);
    CHECK(a.labels == b.labels);
    CHECK(a.pixels != c.pixels);
    CHECK(std::vector<uint8_t>(a.pixels.begin(), a.pixels.begin() + 500 * 64) != t.pixels);
    std::vector<size_t> hist(10);
    for (uint8_t l : a.labels)
    {
        REQUIRE(l < 10);
        ++hist[l];
    }
    for (size_t h : hist)
    {
        CHECK(h == 200); // balanced
    }

    cfg.syntheticShape = Shape{3, 16, 12};
    cfg.syntheticClasses = 4;
    cfg.syntheticTrain = 40;
    cfg.trainSubset = 10;
    Dataset rgb = LoadDataset(cfg, true, 1);
    CHECK(rgb.SampleShape() == Shape{3, 16, 12});
    CHECK(rgb.classes == 4);
    CHECK(rgb.Size() == 10);
    CHECK(rgb.pixels.size() == 10 * 3 * 16 * 12);
}

TEST_CASE("synthetic pixel statistics match the standard normalisation", "[data][synthetic]")
{
    Dataset d = LoadDataset(DatasetConfig{}, true, 5);
    double sum = 0, sum2 = 0;
    for (uint8_t v : d.pixels)
    {
        sum += v / 255.0;
        sum2 += (v / 255.0) * (v / 255.0);
    }
    const double n = static_cast<double>(d.pixels.size());
    const double mean = sum / n;
    const double sd = std::sqrt(sum2 / n - mean * mean);
    std::vector<double> m, s;
    StandardNormalisation("synthetic", 1, m, s);
    CHECK(mean == Approx(m[0]).margin(0.03));
    CHECK(sd == Approx(s[0]).margin(0.03));
}

TEST_CASE("synthetic classes are learnable but not trivially separable", "[data][synthetic]")
{
    for (uint64_t seed : {1, 2, 3})
    {
        DatasetConfig cfg;
        Dataset train = LoadDataset(cfg, true, seed);
        Dataset test = LoadDataset(cfg, false, seed);
        const double acc = NearestMeanAccuracy(train, test);
        INFO("seed " << seed << " nearest-class-mean accuracy " << acc);
        CHECK(acc > 0.35); // far above chance (0.1): there is signal to learn
        CHECK(acc < 0.8);  // but a template match does not solve it (an MLP reaches ~92%)
    }
}

TEST_CASE("bad synthetic configurations are InputErrors", "[data][synthetic]")
{
    DatasetConfig cfg;
    cfg.syntheticShape = Shape{8, 8};
    CHECK_THROWS_AS(LoadDataset(cfg, true, 1), InputError);
    cfg.syntheticShape = Shape{1, 0, 8};
    CHECK_THROWS_AS(LoadDataset(cfg, true, 1), InputError);
    cfg = DatasetConfig{};
    cfg.syntheticClasses = 1;
    CHECK_THROWS_AS(LoadDataset(cfg, true, 1), InputError);
    cfg = DatasetConfig{};
    cfg.syntheticTest = 0;
    CHECK_THROWS_AS(LoadDataset(cfg, false, 1), InputError);
}
