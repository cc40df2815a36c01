// Casts and uniform quantization.
#include "compression/codec.h"
#include "compression/dense-codecs.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

using namespace slsim;

namespace
{

uint32_t
BitsOf(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

} // namespace

TEST_CASE("fp16 conversion rounds to nearest even", "[fp16]")
{
    CHECK(FloatToHalf(1.0f) == 0x3c00);
    CHECK(FloatToHalf(-2.0f) == 0xc000);
    CHECK(FloatToHalf(65504.0f) == 0x7bff);
    CHECK(FloatToHalf(65519.0f) == 0x7bff);
    CHECK(FloatToHalf(65520.0f) == 0x7c00); // tie rounds to even = infinity
    CHECK(FloatToHalf(1e10f) == 0x7c00);
    CHECK(FloatToHalf(-INFINITY) == 0xfc00);
    CHECK(FloatToHalf(0.1f) == 0x2e66);
    CHECK(FloatToHalf(std::ldexp(1.0f, -24)) == 0x0001);
    CHECK(FloatToHalf(std::ldexp(1.0f, -25)) == 0x0000);        // tie to even (0)
    CHECK(FloatToHalf(std::ldexp(3.0f, -25)) == 0x0002);        // 1.5 ulp -> 2 (even)
    CHECK(FloatToHalf(1.0f + std::ldexp(1.0f, -11)) == 0x3c00); // tie to even
    CHECK(FloatToHalf(1.0f + std::ldexp(3.0f, -11)) == 0x3c02); // tie to even (up)
    CHECK(FloatToHalf(std::ldexp(1.0f, -14) * 0.99999f)
          == 0x0400); // rounds up to the smallest normal
    CHECK(std::isnan(HalfToFloat(FloatToHalf(NAN))));
    // Every half value survives half -> float -> half.
    for (uint32_t h = 0; h < 65536; ++h)
    {
        const float f = HalfToFloat(static_cast<uint16_t>(h));
        if (std::isnan(f))
        {
            continue;
        }
        REQUIRE(FloatToHalf(f) == h);
    }
    // Against the compiler's own conversion on random floats, where it exists.
#if defined(__FLT16_MAX__)
    Rng rng(1, "fp16");
    for (int i = 0; i < 200000; ++i)
    {
        const uint32_t u = static_cast<uint32_t>(rng.NextU64());
        float f;
        std::memcpy(&f, &u, 4);
        if (std::isnan(f))
        {
            continue;
        }
        const _Float16 h = static_cast<_Float16>(f);
        uint16_t hb;
        std::memcpy(&hb, &h, 2);
        REQUIRE(FloatToHalf(f) == hb);
    }
#endif
}

TEST_CASE("fp16 encode writes FloatToHalf of every element (hardware and portable paths)", "[fp16]")
{
    // Random bit patterns (NaNs, infinities, subnormals included) plus the rounding edges; 8k + 3
    // elements, so that the F16C path (8 at a time, where the CPU has it) and the scalar tail
    // both run.
    Rng rng(3, "fp16-codec");
    std::vector<float> x;
    for (uint32_t u : {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00001u, 0x7f800001u,
                       0xffbfffffu, 0x477ff000u, 0x477fefffu, 0x38800000u, 0x387fffffu, 0x33000000u,
                       0x33000001u, 0x3f801000u, 0x3f803000u})
    {
        float f;
        std::memcpy(&f, &u, 4);
        x.push_back(f);
    }
    while (x.size() < 8 * 1024 + 3)
    {
        const auto u = static_cast<uint32_t>(rng.NextU64());
        float f;
        std::memcpy(&f, &u, 4);
        x.push_back(f);
    }
    const Shape shape{static_cast<int64_t>(x.size())};
    CastCodec codec(CodecId::FP16);
    std::vector<uint8_t> blob;
    codec.Encode(x.data(), shape, blob, rng);
    const size_t at = blob.size() - 2 * x.size();
    for (size_t i = 0; i < x.size(); ++i)
    {
        uint16_t h;
        std::memcpy(&h, blob.data() + at + 2 * i, 2);
        INFO("element " << i);
        REQUIRE(h == FloatToHalf(x[i]));
    }
}

TEST_CASE("bf16 conversion rounds to nearest even", "[bf16]")
{
    CHECK(FloatToBf16(1.0f) == 0x3f80);
    CHECK(BitsOf(Bf16ToFloat(0x3f80)) == BitsOf(1.0f));
    CHECK(FloatToBf16(1.0f + std::ldexp(1.0f, -8)) == 0x3f80); // tie to even
    CHECK(FloatToBf16(1.0f + std::ldexp(3.0f, -8)) == 0x3f82);
    CHECK(FloatToBf16(3.4e38f) == 0x7f80); // overflow to infinity
    CHECK(std::isnan(Bf16ToFloat(FloatToBf16(NAN))));
}

TEST_CASE("quantize: the worked example and the constant tensor", "[quantize]")
{
    CodecConfig c;
    c.method = "quantize";
    c.bits = 2;
    auto codec = MakeCodec(c);
    Rng rng(1, "codec");
    const std::vector<float> x = {0, 1, 2, 3.1f};
    std::vector<uint8_t> blob;
    codec->Encode(x.data(), Shape{4}, blob, rng);
    REQUIRE(blob.size() == 25);
    const std::vector<uint8_t> tail = {0, 0, 0, 0, 0x66, 0x66, 0x46, 0x40, 0xe4};
    CHECK(std::vector<uint8_t>(blob.begin() + 16, blob.end()) == tail);
    std::vector<float> y;
    DecodeAny(blob.data(), blob.size(), y);
    CHECK(y[1] == Approx(3.1f / 3));
    CHECK(y[3] == Approx(3.1f));

    const std::vector<float> same(10, 0.5f);
    codec->Encode(same.data(), Shape{10}, blob, rng);
    DecodeAny(blob.data(), blob.size(), y);
    CHECK(y == same);
}

TEST_CASE("stochastic quantization is unbiased", "[quantize]")
{
    CodecConfig c;
    c.method = "quantize";
    c.bits = 1;
    c.stochastic = true;
    auto codec = MakeCodec(c);
    Rng rng(2, "codec");
    const std::vector<float> x = {0, 0.3f, 0.8f, 1};
    std::vector<double> mean(4, 0);
    std::vector<uint8_t> blob;
    std::vector<float> y;
    const int trials = 20000;
    for (int t = 0; t < trials; ++t)
    {
        codec->Encode(x.data(), Shape{4}, blob, rng);
        DecodeAny(blob.data(), blob.size(), y);
        for (int i = 0; i < 4; ++i)
        {
            mean[i] += y[i];
        }
    }
    for (int i = 0; i < 4; ++i)
    {
        CHECK(mean[i] / trials == Approx(x[i]).margin(0.015)); // sd of the mean ~0.0035
    }
    // The deterministic variant is biased on the same input.
    c.stochastic = false;
    MakeCodec(c)->Encode(x.data(), Shape{4}, blob, rng);
    DecodeAny(blob.data(), blob.size(), y);
    CHECK(y == std::vector<float>{0, 0, 1, 1});
}

namespace
{

/// The straightforward quantize payload (one code at a time, as the codec wrote it before its
/// block packing): min/max by a sequential scan, codes rounded in double, LSB-first bits.
std::vector<uint8_t>
ReferenceQuantizePayload(const std::vector<float>& x, unsigned bits)
{
    float lo = 0;
    float hi = 0;
    for (size_t i = 0; i < x.size(); ++i)
    {
        lo = i == 0 ? x[i] : std::min(lo, x[i]);
        hi = i == 0 ? x[i] : std::max(hi, x[i]);
    }
    std::vector<uint8_t> out(8 + (x.size() * bits + 7) / 8, 0);
    std::memcpy(out.data(), &lo, 4);
    std::memcpy(out.data() + 4, &hi, 4);
    const uint32_t L = (1u << bits) - 1;
    const double range = static_cast<double>(hi) - static_cast<double>(lo);
    const double s = range > 0 ? L / range : 0.0;
    size_t bit = 64;
    for (float v : x)
    {
        const double y = (static_cast<double>(v) - lo) * s;
        const auto c = static_cast<uint32_t>(
            std::min(std::max(std::nearbyint(y), 0.0), static_cast<double>(L)));
        for (unsigned b = 0; b < bits; ++b, ++bit)
        {
            out[bit / 8] = static_cast<uint8_t>(out[bit / 8] | (((c >> b) & 1u) << (bit % 8)));
        }
    }
    return out;
}

} // namespace

TEST_CASE("quantize: block-packed codes equal the one-at-a-time reference", "[quantize]")
{
    Rng rng(5, "test");
    for (unsigned bits = 1; bits <= 16; ++bits)
    {
        CodecConfig c;
        c.method = "quantize";
        c.bits = static_cast<int>(bits);
        auto codec = MakeCodec(c);
        for (size_t n : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{64}, size_t{1003}})
            for (int sign : {0, 1, -1})
            {
                std::vector<float> x(n);
                for (size_t i = 0; i < n; ++i)
                {
                    // post-ReLU-like: many +0.0, some -0.0 (ReLU passes -0.0), ties at .5 steps;
                    // sign 1 (-1): no negative (positive) values, so a zero is the min (max) and
                    // its sign must be that of the first zero
                    const double u = rng.Uniform();
                    const auto v = static_cast<float>(rng.Normal());
                    x[i] = u < 0.4   ? 0.0f
                           : u < 0.5 ? -0.0f
                           : u < 0.6 ? static_cast<float>(rng.UniformInt(8)) * 0.5f
                                     : (sign == 0 ? v : static_cast<float>(sign) * std::fabs(v));
                    x[i] = sign == -1 && x[i] > 0 ? -x[i] : x[i];
                }
                INFO("bits " << bits << " n " << n << " sign " << sign);
                std::vector<uint8_t> blob;
                codec->Encode(x.data(), Shape{static_cast<int64_t>(n)}, blob, rng);
                const std::vector<uint8_t> ref = ReferenceQuantizePayload(x, bits);
                REQUIRE(blob.size() >= ref.size());
                CHECK(std::vector<uint8_t>(blob.end() - static_cast<std::ptrdiff_t>(ref.size()),
                                           blob.end())
                      == ref);
                // and the decoder reads back lo + code * step for every element
                std::vector<float> y;
                DecodeAny(blob.data(), blob.size(), y);
                REQUIRE(y.size() == n);
                float lo;
                float hi;
                std::memcpy(&lo, ref.data(), 4);
                std::memcpy(&hi, ref.data() + 4, 4);
                const float step
                    = static_cast<float>((static_cast<double>(hi) - lo) / ((1u << bits) - 1));
                for (size_t i = 0; i < n; ++i)
                {
                    uint32_t code = 0;
                    for (unsigned b = 0; b < bits; ++b)
                    {
                        const size_t bit = 64 + i * bits + b;
                        code |= static_cast<uint32_t>((ref[bit / 8] >> (bit % 8)) & 1u) << b;
                    }
                    REQUIRE(BitsOf(y[i]) == BitsOf(lo + static_cast<float>(code) * step));
                }
            }
    }
}
