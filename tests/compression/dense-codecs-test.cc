// Casts and uniform quantization.
#include "compression/codec.h"
#include "compression/dense-codecs.h"

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
    CHECK(FloatToHalf(std::ldexp(1.0f, -25)) == 0x0000);         // tie to even (0)
    CHECK(FloatToHalf(std::ldexp(3.0f, -25)) == 0x0002);         // 1.5 ulp -> 2 (even)
    CHECK(FloatToHalf(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // tie to even
    CHECK(FloatToHalf(1.0f + std::ldexp(3.0f, -11)) == 0x3c02);  // tie to even (up)
    CHECK(FloatToHalf(std::ldexp(1.0f, -14) * 0.99999f) == 0x0400); // rounds up to the smallest normal
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
