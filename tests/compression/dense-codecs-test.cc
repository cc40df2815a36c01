// Casts and uniform quantization.
#include "compression/codec.h"
#include "compression/dense-codecs.h"
#include "compression/stream-store.h"

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

/// Random float bit patterns (NaNs, infinities, subnormals included) after the given ones, n in
/// all.
std::vector<float>
RandomBits(std::vector<uint32_t> first, size_t n, Rng& rng)
{
    while (first.size() < n)
    {
        first.push_back(static_cast<uint32_t>(rng.NextU64()));
    }
    std::vector<float> x(n);
    std::memcpy(x.data(), first.data(), 4 * n);
    return x;
}

/// Sizes that run the in-cache loops and, above STREAM_MIN_BYTES of input plus output, the
/// streamed ones (6 bytes per element for a half cast); odd tails for the scalar remainders.
const std::vector<size_t> CAST_SIZES = {8 * 1024 + 3, STREAM_MIN_BYTES / 6 + 5};

/// A blob of codec id for shape {n} with the given payload (the decoders accept any halves,
/// signalling NaNs included, which no encoder writes).
std::vector<uint8_t>
CastBlob(CodecId id, uint64_t n, const std::vector<uint8_t>& payload)
{
    WireHeader h;
    h.codec = id;
    h.shape = Shape{static_cast<int64_t>(n)};
    h.n = n;
    std::vector<uint8_t> blob;
    WriteHeader(blob, h);
    blob.insert(blob.end(), payload.begin(), payload.end());
    return blob;
}

/// The first i where the bits of got[i] and want(i) differ, or n.
template <typename F>
size_t
FirstMismatch(const float* got, size_t n, F&& want)
{
    for (size_t i = 0; i < n; ++i)
    {
        if (BitsOf(got[i]) != BitsOf(want(i)))
        {
            return i;
        }
    }
    return n;
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

TEST_CASE("fp16 and bf16 encode write the scalar conversion of every element (all paths)",
          "[fp16][bf16]")
{
    // Random bit patterns plus the rounding edges; the sizes run the hardware/AVX2 loops (8 or
    // 16 at a time) in cache and streamed, and the scalar tails.
    Rng rng(3, "fp16-codec");
    for (size_t n : CAST_SIZES)
    {
        const std::vector<float> x = RandomBits(
            {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00001u, 0x7f800001u,
             0xffbfffffu, 0x477ff000u, 0x477fefffu, 0x38800000u, 0x387fffffu, 0x33000000u,
             0x33000001u, 0x3f801000u, 0x3f803000u, 0x3f808000u, 0x3f818000u, 0x3f817fffu,
             0x7f7fffffu, 0xff7f8000u, 0x00008000u, 0x80018000u, 0xffffffffu, 0x7fff8000u},
            n, rng);
        const Shape shape{static_cast<int64_t>(n)};
        std::vector<uint8_t> blob;
        for (CodecId id : {CodecId::FP16, CodecId::BF16})
        {
            CastCodec(id).Encode(x.data(), shape, blob, rng);
            const size_t at = blob.size() - 2 * n;
            for (size_t i = 0; i < n; ++i)
            {
                uint16_t h;
                std::memcpy(&h, blob.data() + at + 2 * i, 2);
                // bf16, written out: quiet NaN with the top payload bits, else the high half
                // rounded to nearest even
                const uint32_t u = BitsOf(x[i]);
                const uint32_t bf16 = (u & 0x7fffffffu) > 0x7f800000u
                                          ? (u >> 16) | 0x40u
                                          : (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
                const uint16_t want
                    = id == CodecId::FP16 ? FloatToHalf(x[i]) : static_cast<uint16_t>(bf16);
                if (h != want)
                {
                    INFO(CodecIdName(id) << " n " << n << " element " << i);
                    REQUIRE(h == want);
                }
            }
            std::vector<float> y;
            DecodeAny(blob.data(), blob.size(), y); // the round trip: quiet NaNs, exact else
            REQUIRE(y.size() == n);
        }
    }
}

TEST_CASE("fp16 and bf16 decode give the scalar conversion of every half (all paths)",
          "[fp16][bf16]")
{
    // All 2^16 halves, repeated, signalling NaNs included (F16C's vcvtph2ps quiets them and the
    // decoder undoes that); in cache and streamed, into aligned and unaligned outputs.
    for (size_t n : CAST_SIZES)
    {
        std::vector<uint8_t> payload(2 * n);
        for (size_t i = 0; i < n; ++i)
        {
            const auto h = static_cast<uint16_t>(i * 40503u + 7); // odd multiplier: all values
            std::memcpy(payload.data() + 2 * i, &h, 2);
        }
        const auto half = [&](size_t i) {
            uint16_t h;
            std::memcpy(&h, payload.data() + 2 * i, 2);
            return h;
        };
        for (CodecId id : {CodecId::FP16, CodecId::BF16})
        {
            INFO(CodecIdName(id) << " n " << n);
            const auto want = [&](size_t i) {
                return id == CodecId::FP16 ? HalfToFloat(half(i)) : Bf16ToFloat(half(i));
            };
            const std::vector<uint8_t> blob = CastBlob(id, n, payload);
            std::vector<float> y;
            DecodeAny(blob.data(), blob.size(), y);
            REQUIRE(y.size() == n);
            CHECK(FirstMismatch(y.data(), n, want) == n);
            WireHeader h;
            h.codec = id;
            h.shape = Shape{static_cast<int64_t>(n)};
            h.n = n;
            std::vector<float> z(n + 3);
            DecodeCastPayload(h, payload.data(), z.data() + 1); // 4 bytes off the alignment
            CHECK(FirstMismatch(z.data() + 1, n, want) == n);
        }
    }
}

TEST_CASE("none encode and decode copy the floats bit for bit (in cache and streamed)", "[none]")
{
    Rng rng(5, "none-codec");
    for (size_t n : {size_t{1000}, STREAM_MIN_BYTES / 8 + 7})
    {
        const std::vector<float> x = RandomBits({}, n, rng);
        std::vector<uint8_t> blob;
        CastCodec(CodecId::NONE).Encode(x.data(), Shape{static_cast<int64_t>(n)}, blob, rng);
        REQUIRE(blob.size() == HeaderSize(1) + 4 * n);
        CHECK(std::memcmp(blob.data() + HeaderSize(1), x.data(), 4 * n) == 0);
        std::vector<float> y;
        DecodeAny(blob.data(), blob.size(), y);
        REQUIRE(y.size() == n);
        CHECK(std::memcmp(y.data(), x.data(), 4 * n) == 0);
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
