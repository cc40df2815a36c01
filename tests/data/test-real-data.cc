// Facts from docs/datasets.md checked on the real files when scripts/fetch-data has brought them
// into data/; each check says "skipped" (a visible WARN) when its folder is absent.
#include "models/data/dataset.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

using namespace slsim;

namespace
{

/// Config for data/<name> under the source tree, or nullopt-like empty name when absent.
bool
Present(const std::string& name, DatasetConfig& cfg)
{
    cfg.name = name;
    cfg.path = std::string(SLSIM_SOURCE_DIR) + "/data/" + name;
    if (!std::filesystem::is_directory(cfg.path))
    {
        WARN("skipped: data/" << name << " absent (scripts/fetch-data " << name << ")");
        return false;
    }
    return true;
}

std::vector<uint8_t>
First(const Dataset& d, size_t n)
{
    return std::vector<uint8_t>(d.labels.begin(),
                                d.labels.begin() + static_cast<std::ptrdiff_t>(n));
}

/// Per-channel mean and std of the pixels on the [0,1] scale.
void
ChannelStats(const Dataset& d, std::vector<double>& mean, std::vector<double>& sd)
{
    const size_t hw = static_cast<size_t>(d.height * d.width);
    mean.assign(static_cast<size_t>(d.channels), 0.0);
    sd.assign(static_cast<size_t>(d.channels), 0.0);
    for (size_t c = 0; c < static_cast<size_t>(d.channels); ++c)
    {
        // Integer histogram: exact sums, fast.
        std::vector<uint64_t> hist(256);
        for (size_t i = 0; i < d.Size(); ++i)
        {
            const uint8_t* p = d.Sample(i) + c * hw;
            for (size_t k = 0; k < hw; ++k)
            {
                ++hist[p[k]];
            }
        }
        double n = 0, s = 0, s2 = 0;
        for (int v = 0; v < 256; ++v)
        {
            const double x = v / 255.0;
            n += static_cast<double>(hist[static_cast<size_t>(v)]);
            s += static_cast<double>(hist[static_cast<size_t>(v)]) * x;
            s2 += static_cast<double>(hist[static_cast<size_t>(v)]) * x * x;
        }
        mean[c] = s / n;
        sd[c] = std::sqrt(s2 / n - mean[c] * mean[c]);
    }
}

} // namespace

TEST_CASE("real MNIST matches the published facts", "[data][real]")
{
    DatasetConfig cfg;
    if (!Present("mnist", cfg))
    {
        return;
    }
    Dataset train = LoadDataset(cfg, true, 1);
    Dataset test = LoadDataset(cfg, false, 1);
    CHECK(train.Size() == 60000);
    CHECK(test.Size() == 10000);
    CHECK(train.SampleShape() == Shape{1, 28, 28});
    CHECK(First(train, 10) == std::vector<uint8_t>{5, 0, 4, 1, 9, 2, 1, 3, 1, 4});
    std::vector<double> mean, sd;
    ChannelStats(train, mean, sd);
    CHECK(mean[0] == Approx(0.1307).margin(5e-5));
    CHECK(sd[0] == Approx(0.3081).margin(5e-5));
}

TEST_CASE("real Fashion-MNIST matches the published facts", "[data][real]")
{
    DatasetConfig cfg;
    if (!Present("fashion-mnist", cfg))
    {
        return;
    }
    Dataset train = LoadDataset(cfg, true, 1);
    Dataset test = LoadDataset(cfg, false, 1);
    CHECK(train.Size() == 60000);
    CHECK(test.Size() == 10000);
    CHECK(First(train, 10) == std::vector<uint8_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5});
    std::vector<double> mean, sd;
    ChannelStats(train, mean, sd);
    CHECK(mean[0] == Approx(0.2860).margin(5e-5));
    CHECK(sd[0] == Approx(0.3530).margin(5e-5));
}

TEST_CASE("real CIFAR-10 matches the published facts", "[data][real]")
{
    DatasetConfig cfg;
    if (!Present("cifar10", cfg))
    {
        return;
    }
    Dataset train = LoadDataset(cfg, true, 1);
    Dataset test = LoadDataset(cfg, false, 1);
    CHECK(train.Size() == 50000);
    CHECK(test.Size() == 10000);
    CHECK(train.SampleShape() == Shape{3, 32, 32});
    CHECK(First(train, 10) == std::vector<uint8_t>{6, 9, 9, 4, 1, 1, 2, 7, 8, 3});
    CHECK(First(test, 10) == std::vector<uint8_t>{3, 8, 8, 0, 6, 6, 1, 6, 3, 1});
    std::vector<double> mean, sd;
    ChannelStats(train, mean, sd);
    CHECK(mean[0] == Approx(0.4914).margin(5e-5));
    CHECK(mean[1] == Approx(0.4822).margin(5e-5));
    CHECK(mean[2] == Approx(0.4465).margin(5e-5));
    // The pixel std (not the paper's normalisation constants, see StandardNormalisation).
    CHECK(sd[0] == Approx(0.2470).margin(5e-5));
    CHECK(sd[1] == Approx(0.2435).margin(5e-5));
    CHECK(sd[2] == Approx(0.2616).margin(5e-5));
}

TEST_CASE("real sklearn digits: 1797 samples split 1437/360", "[data][real]")
{
    DatasetConfig cfg;
    if (!Present("digits", cfg))
    {
        return;
    }
    Dataset train = LoadDataset(cfg, true, 1);
    Dataset test = LoadDataset(cfg, false, 1);
    CHECK(train.Size() == 1437);
    CHECK(test.Size() == 360);
    CHECK(train.SampleShape() == Shape{1, 8, 8});
    CHECK(First(train, 10) == std::vector<uint8_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    std::vector<double> mean, sd, stdMean, stdSd;
    ChannelStats(train, mean, sd);
    StandardNormalisation("digits", 1, stdMean, stdSd);
    CHECK(mean[0] == Approx(stdMean[0]).margin(5e-5));
    CHECK(sd[0] == Approx(stdSd[0]).margin(5e-5));
}
