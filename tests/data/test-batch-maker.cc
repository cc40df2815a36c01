// BatchMaker: normalisation, and augmentation that is exactly "zero-pad, crop, maybe flip".
#include "common/error.h"
#include "models/data/dataset.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>

using namespace slsim;

namespace
{

Dataset
Pattern(int c, int h, int w, size_t n)
{
    Dataset d;
    d.name = "cifar10";
    d.channels = c;
    d.height = h;
    d.width = w;
    for (size_t i = 0; i < n; ++i)
    {
        d.labels.push_back(static_cast<uint8_t>(i % 10));
        for (size_t p = 0; p < d.SampleSize(); ++p)
        {
            // Never 0, so a zero-padded pixel is distinguishable from image content.
            d.pixels.push_back(static_cast<uint8_t>(1 + (i * 13 + p * 5) % 255));
        }
    }
    return d;
}

} // namespace

TEST_CASE("batches are normalised per channel", "[data][batch]")
{
    Dataset d = Pattern(3, 4, 5, 6);
    DatasetConfig cfg;
    cfg.mean = {0.1, 0.5, 0.9};
    cfg.std = {0.2, 0.25, 0.5};
    BatchMaker maker(d, cfg);
    const uint32_t idx[3] = {5, 0, 3};
    std::vector<float> out(3 * 60, -99.0f);
    int32_t labels[3];
    Rng rng(1, "augment");
    maker.Make(idx, 3, false, rng, out.data(), labels);
    CHECK(labels[0] == 5);
    CHECK(labels[1] == 0);
    CHECK(labels[2] == 3);
    for (size_t b = 0; b < 3; ++b)
    {
        for (size_t c = 0; c < 3; ++c)
        {
            for (size_t p = 0; p < 20; ++p)
            {
                const double v = d.Sample(idx[b])[c * 20 + p] / 255.0;
                REQUIRE(out[b * 60 + c * 20 + p]
                        == Approx((v - cfg.mean[c]) / cfg.std[c]).epsilon(1e-6));
            }
        }
    }
}

TEST_CASE("standard normalisation is used when the config leaves it empty", "[data][batch]")
{
    Dataset d = Pattern(3, 32, 32, 1);
    BatchMaker maker(d, DatasetConfig{});
    CHECK(maker.Mean() == std::vector<double>{0.4914, 0.4822, 0.4465});
    CHECK(maker.Std() == std::vector<double>{0.2023, 0.1994, 0.2010});
    DatasetConfig one;
    one.mean = {0.5};
    one.std = {0.5};
    BatchMaker broadcast(d, one);
    CHECK(broadcast.Mean() == std::vector<double>(3, 0.5));

    DatasetConfig bad;
    bad.mean = {0.1, 0.2};
    CHECK_THROWS_AS(BatchMaker(d, bad), InputError);
    bad.mean = {};
    bad.std = {0.2, 0.0, 0.2};
    CHECK_THROWS_AS(BatchMaker(d, bad), InputError);
}

TEST_CASE("augmentation is a zero-padded crop (pad 4) with a fair horizontal flip", "[data][batch]")
{
    const int h = 32, w = 32, pad = 4;
    Dataset d = Pattern(3, h, w, 1);
    DatasetConfig cfg;
    cfg.mean = {0.0};
    cfg.std = {1.0};
    BatchMaker maker(d, cfg);
    const size_t sample = 3 * h * w;
    // All 2 * 9 * 9 candidate outputs, built independently of BatchMaker.
    std::map<std::vector<float>, int> candidates;
    for (int flip = 0; flip < 2; ++flip)
    {
        for (int oy = -pad; oy <= pad; ++oy)
        {
            for (int ox = -pad; ox <= pad; ++ox)
            {
                std::vector<float> img(sample);
                for (int c = 0; c < 3; ++c)
                {
                    for (int y = 0; y < h; ++y)
                    {
                        for (int x = 0; x < w; ++x)
                        {
                            const int cx = flip ? w - 1 - x : x; // column in the crop
                            const int sy = y + oy, sx = cx + ox;
                            const bool in = sy >= 0 && sy < h && sx >= 0 && sx < w;
                            img[static_cast<size_t>((c * h + y) * w + x)]
                                = in ? static_cast<float>(d.Sample(0)[(c * h + sy) * w + sx]
                                                          / 255.0)
                                     : 0.0f;
                        }
                    }
                }
                candidates.emplace(img, flip * 1000 + (oy + pad) * 9 + (ox + pad));
            }
        }
    }
    REQUIRE(candidates.size() == 162);

    Rng rng(3, "augment");
    const int draws = 4000;
    std::vector<uint32_t> idx(1, 0);
    std::vector<float> out(sample);
    int32_t label;
    std::set<int> seen;
    int flips = 0;
    for (int t = 0; t < draws; ++t)
    {
        maker.Make(idx.data(), 1, true, rng, out.data(), &label);
        auto it = candidates.find(out);
        REQUIRE(it != candidates.end());
        seen.insert(it->second);
        flips += it->second >= 1000;
    }
    CHECK(seen.size() == 162); // every offset and both flips occur
    // Binomial(4000, 0.5): sd 31.6; 5 sd bounds.
    CHECK(flips > 2000 - 160);
    CHECK(flips < 2000 + 160);
}

TEST_CASE("augmentation is reproducible from the rng and off when not asked", "[data][batch]")
{
    Dataset d = Pattern(1, 28, 28, 8);
    d.name = "mnist";
    BatchMaker maker(d, DatasetConfig{});
    const uint32_t idx[4] = {7, 1, 1, 2};
    std::vector<float> a(4 * 784), b(4 * 784), plain(4 * 784), plain2(4 * 784);
    int32_t labels[4];
    Rng r1(9, "augment"), r2(9, "augment");
    maker.Make(idx, 4, true, r1, a.data(), labels);
    maker.Make(idx, 4, true, r2, b.data(), labels);
    CHECK(a == b);
    Rng r3(9, "augment");
    maker.Make(idx, 4, false, r3, plain.data(), labels);
    CHECK(plain != a);
    CHECK(r3.NextU64() == Rng(9, "augment").NextU64()); // no draws without augmentation
    maker.Make(idx, 4, false, r3, plain2.data(), labels);
    CHECK(plain == plain2);
}
