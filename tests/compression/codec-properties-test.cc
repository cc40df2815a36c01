// Properties over generated shapes and parameters: EncodedSize == bytes written, round-trip
// error bounds, the selection matches a full sort, and randtopk samples the right distribution.
#include "compression/codec.h"
#include "compression/top-k-select.h"
#include "compression/wire-header.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace slsim;

namespace
{

/// Post-ReLU-like data with exact ties and zeros, or signed data.
std::vector<float>
Generate(Rng& rng, uint64_t n, int kind)
{
    std::vector<float> x(n);
    for (auto& v : x)
    {
        const double g = rng.Normal();
        switch (kind)
        {
        case 0: // ReLU(N(0,1))
            v = static_cast<float>(std::max(0.0, g));
            break;
        case 1: // signed
            v = static_cast<float>(g * 3);
            break;
        default: // few distinct values: many ties
            v = static_cast<float>(rng.UniformInt(4)) * 0.5f;
            break;
        }
    }
    return x;
}

Shape
RandomShape(Rng& rng)
{
    const int rank = static_cast<int>(rng.UniformInt(5));
    std::vector<int64_t> d;
    for (int i = 0; i < rank; ++i)
    {
        d.push_back(static_cast<int64_t>(rng.UniformInt(i == 0 ? 9 : 13)));
    }
    return Shape(d);
}

std::vector<CodecConfig>
Configs(Rng& rng)
{
    std::vector<CodecConfig> cs;
    const double sparsities[] = {0.0, 0.5, 0.9, 0.95875, 0.99, 1.0, rng.Uniform()};
    for (const char* m : {"none", "fp16", "bf16"})
    {
        CodecConfig c;
        c.method = m;
        cs.push_back(c);
    }
    for (int b = 1; b <= 16; ++b)
    {
        CodecConfig c;
        c.method = "quantize";
        c.bits = b;
        c.stochastic = b % 2 == 0;
        cs.push_back(c);
    }
    for (double s : sparsities)
    {
        for (const char* idx : {"auto", "bitmap", "u32"})
        {
            for (const char* m : {"topk", "randtopk"})
            {
                CodecConfig c;
                c.method = m;
                c.sparsity = s;
                c.index = idx;
                c.randtopkA = rng.Uniform();
                cs.push_back(c);
            }
        }
        for (int b = 1; b <= 8; ++b)
        {
            CodecConfig c;
            c.method = "ms";
            c.sparsity = s;
            c.bits = b;
            c.floorCodes = rng.UniformInt(2) == 1;
            c.signedValues = rng.UniformInt(2) == 1;
            cs.push_back(c);
        }
    }
    return cs;
}

/// Checks the reconstruction error bounds each codec promises.
void
CheckBounds(const CodecConfig& c, const std::vector<float>& x, const std::vector<float>& y,
            const std::vector<uint8_t>& blob)
{
    const uint64_t n = x.size();
    if (c.method == "none")
    {
        CHECK(y == x);
        return;
    }
    if (c.method == "fp16" || c.method == "bf16")
    {
        const double rel = c.method == "fp16" ? std::ldexp(1.0, -11) : std::ldexp(1.0, -8);
        for (uint64_t i = 0; i < n; ++i)
        {
            // Absolute slack covers fp16 subnormals (spacing 2^-24).
            CHECK(std::fabs(y[i] - x[i]) <= rel * std::fabs(x[i]) + 3e-8);
        }
        return;
    }
    if (c.method == "quantize")
    {
        if (n == 0)
        {
            return;
        }
        const float lo = *std::min_element(x.begin(), x.end());
        const float hi = *std::max_element(x.begin(), x.end());
        const double L = std::ldexp(1.0, c.bits) - 1;
        const double bound = (static_cast<double>(hi) - lo) / L * (c.stochastic ? 1.0 : 0.5);
        for (uint64_t i = 0; i < n; ++i)
        {
            CHECK(std::fabs(static_cast<double>(y[i]) - x[i])
                  <= bound * (1 + 1e-5) + 4e-7 * (std::fabs(lo) + std::fabs(hi)));
        }
        return;
    }
    const uint64_t k = KeepCount(n, c.sparsity);
    ByteReader reader(blob.data(), blob.size());
    CHECK(ReadHeader(reader).k == k);
    if (c.method == "topk" || c.method == "randtopk")
    {
        // Every element is either sent exactly or zero; exactly k are sent (where x != 0).
        uint64_t exact = 0;
        for (uint64_t i = 0; i < n; ++i)
        {
            CHECK((y[i] == x[i] || y[i] == 0.0f));
            exact += (y[i] == x[i] && x[i] != 0.0f);
        }
        CHECK(exact <= k);
        if (c.method == "topk" && k > 0)
        {
            // Nothing dropped is larger in magnitude than something kept.
            float minKept = INFINITY;
            float maxDropped = 0;
            uint64_t kept = 0;
            for (uint64_t i = 0; i < n; ++i)
            {
                if (y[i] != 0.0f)
                {
                    minKept = std::min(minKept, std::fabs(x[i]));
                    ++kept;
                }
                else
                {
                    maxDropped = std::max(maxDropped, std::fabs(x[i]));
                }
            }
            if (kept == k)
            {
                CHECK(maxDropped <= minKept);
            }
        }
        return;
    }
    // ms: selected values exact; the rest within one quantization step T / L of the truth
    // (half a step for round-half-even below the clamp), and never above T in magnitude.
    if (n == 0 || k == 0)
    {
        for (float v : y)
        {
            CHECK(v == 0.0f);
        }
        return;
    }
    std::vector<float> a(n);
    for (uint64_t i = 0; i < n; ++i)
    {
        a[i] = c.signedValues ? std::fabs(x[i]) : x[i];
    }
    std::vector<float> sorted = a;
    std::sort(sorted.begin(), sorted.end(), std::greater<float>());
    const float T = sorted[k - 1];
    const double L = std::ldexp(1.0, c.bits) - 1;
    for (uint64_t i = 0; i < n; ++i)
    {
        if (y[i] == x[i])
        {
            continue;
        }
        CHECK(a[i] <= T);
        const double truth = c.signedValues ? x[i] : std::max(0.0f, x[i]);
        const double err = std::fabs(static_cast<double>(y[i]) - truth);
        const bool half = !c.floorCodes && a[i] < (L - 0.5) / L * T;
        CHECK(err <= (T > 0 ? T / L * (half ? 0.5 : 1.0) * (1 + 1e-5) : 0.0) + 1e-6);
    }
}

} // namespace

TEST_CASE("EncodedSize equals the bytes written and round trips keep their error bounds",
          "[codec][property]")
{
    Rng rng(7, "codec-properties");
    uint64_t cases = 0;
    for (int trial = 0; trial < 40; ++trial)
    {
        const Shape shape = RandomShape(rng);
        const uint64_t n = static_cast<uint64_t>(shape.Numel());
        const std::vector<float> x = Generate(rng, n, trial % 3);
        for (const CodecConfig& c : Configs(rng))
        {
            INFO(c.method << " sparsity " << c.sparsity << " bits " << c.bits << " index "
                          << c.index << " floor " << c.floorCodes << " signed " << c.signedValues
                          << " shape " << shape.ToString() << " kind " << trial % 3);
            auto codec = MakeCodec(c);
            Rng codecRng(trial, "codec");
            std::vector<uint8_t> blob;
            codec->Encode(x.data(), shape, blob, codecRng);
            REQUIRE(blob.size() == codec->EncodedSize(shape));
            std::vector<float> y;
            REQUIRE(DecodeAny(blob.data(), blob.size(), y) == shape);
            REQUIRE(y.size() == n);
            CheckBounds(c, x, y, blob);
            ++cases;
        }
    }
    CHECK(cases > 1000);
}

TEST_CASE("encode reuses the output buffer and is deterministic", "[codec]")
{
    Rng rng(3, "data");
    const std::vector<float> x = Generate(rng, 4096, 0);
    CodecConfig c;
    c.method = "ms";
    auto codec = MakeCodec(c);
    Rng r1(1, "codec");
    std::vector<uint8_t> a;
    std::vector<uint8_t> b;
    codec->Encode(x.data(), Shape{4096}, a, r1);
    const uint8_t* data = a.data();
    codec->Encode(x.data(), Shape{4096}, a, r1);
    CHECK(a.data() == data); // capacity reused
    auto other = MakeCodec(c);
    other->Encode(x.data(), Shape{4096}, b, r1);
    CHECK(a == b);
}

TEST_CASE("radix top-k selection agrees with a full sort", "[select]")
{
    Rng rng(11, "select");
    TopKSelector sel;
    for (int trial = 0; trial < 200; ++trial)
    {
        const uint64_t n = 1 + rng.UniformInt(trial < 100 ? 50 : 5000);
        std::vector<float> x = Generate(rng, n, trial % 3);
        if (trial % 7 == 0)
        {
            x[0] = -0.0f; // -0 and +0 tie
        }
        if (trial % 5 == 0)
        {
            x[n - 1] = 1e-42f; // subnormal
        }
        const uint64_t k = 1 + rng.UniformInt(n);
        for (bool magnitude : {false, true})
        {
            const TopKThreshold a = sel.Select(x.data(), n, k, magnitude, "test");
            const TopKThreshold b = TopKSelector::SelectBySort(x.data(), n, k, magnitude);
            CHECK(a.key == b.key);
            CHECK(a.countAbove == b.countAbove);
            CHECK(a.tiesTotal == b.tiesTotal);
            CHECK(a.tiesTaken == b.tiesTaken);
        }
    }
}

TEST_CASE("randtopk draws from the categorical distribution without replacement", "[randtopk]")
{
    // Reference: draw positions one at a time with probability proportional to their mass among
    // those not yet drawn. Compare how many true top-k positions end up sent, on average.
    const uint64_t n = 60;
    const uint64_t k = 6;
    const double a = 0.5;
    std::vector<float> x(n);
    for (uint64_t i = 0; i < n; ++i)
    {
        x[i] = static_cast<float>((i * 37) % n) + 1; // distinct; top-6 are the values 55..60
    }
    auto isTop = [&](uint64_t i) { return x[i] > static_cast<float>(n - k); };
    CodecConfig c;
    c.method = "randtopk";
    c.sparsity = 1.0 - static_cast<double>(k) / n;
    c.randtopkA = a;
    auto codec = MakeCodec(c);
    Rng rng(5, "codec");
    Rng ref(6, "reference");
    const int trials = 4000;
    double codecTop = 0;
    double refTop = 0;
    std::vector<double> codecFreq(n, 0);
    std::vector<uint8_t> blob;
    std::vector<float> y;
    for (int t = 0; t < trials; ++t)
    {
        codec->Encode(x.data(), Shape{static_cast<int64_t>(n)}, blob, rng);
        DecodeAny(blob.data(), blob.size(), y);
        for (uint64_t i = 0; i < n; ++i)
        {
            if (y[i] != 0)
            {
                codecTop += isTop(i);
                codecFreq[i] += 1;
            }
        }
        std::vector<double> w(n);
        for (uint64_t i = 0; i < n; ++i)
        {
            w[i] = isTop(i) ? (1 - a) / k : a / (n - k);
        }
        for (uint64_t d = 0; d < k; ++d)
        {
            double total = 0;
            for (double v : w)
            {
                total += v;
            }
            double u = ref.Uniform() * total;
            uint64_t i = 0;
            while (i + 1 < n && (w[i] == 0 || u >= w[i]))
            {
                u -= w[i];
                ++i;
            }
            refTop += isTop(i);
            w[i] = 0;
        }
    }
    codecTop /= trials;
    refTop /= trials;
    // Both estimate the same mean (about 3.5 of 6); the standard error is ~0.02.
    CHECK(codecTop == Approx(refTop).margin(0.1));
    // Within a group, positions are equally likely.
    double minRest = 1e9;
    double maxRest = 0;
    for (uint64_t i = 0; i < n; ++i)
    {
        if (!isTop(i))
        {
            minRest = std::min(minRest, codecFreq[i]);
            maxRest = std::max(maxRest, codecFreq[i]);
        }
    }
    CHECK(maxRest / minRest < 2.0); // ~185 draws each: +-3 sigma is about 1.55
}

TEST_CASE("randtopk with a = 0 is topk, and is seeded", "[randtopk]")
{
    Rng data(9, "data");
    const std::vector<float> x = Generate(data, 1000, 1);
    CodecConfig c;
    c.method = "randtopk";
    c.randtopkA = 0;
    c.sparsity = 0.9;
    CodecConfig t = c;
    t.method = "topk";
    std::vector<uint8_t> a;
    std::vector<uint8_t> b;
    Rng r(1, "codec");
    MakeCodec(c)->Encode(x.data(), Shape{1000}, a, r);
    MakeCodec(t)->Encode(x.data(), Shape{1000}, b, r);
    a[4] = b[4]; // codec id differs
    CHECK(a == b);
    c.randtopkA = 0.1;
    Rng r1(1, "codec");
    Rng r2(1, "codec");
    Rng r3(2, "codec");
    std::vector<uint8_t> c1;
    std::vector<uint8_t> c2;
    std::vector<uint8_t> c3;
    MakeCodec(c)->Encode(x.data(), Shape{1000}, c1, r1);
    MakeCodec(c)->Encode(x.data(), Shape{1000}, c2, r2);
    MakeCodec(c)->Encode(x.data(), Shape{1000}, c3, r3);
    CHECK(c1 == c2);
    CHECK(c1 != c3);
}
