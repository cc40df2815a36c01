// MS: the paper's Fig. 1 worked example byte for byte, and the defined edge cases.
#include "common/byte-io.h"
#include "common/error.h"
#include "compression/codec.h"
#include "compression/ms-codec.h"
#include "compression/wire-header.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace slsim;

namespace
{

const std::vector<float> FIG1 = {2.2f, 0.8f, 1.2f, 0.4f, 1.8f, 0.2f, 3.1f, 2.0f,
                                 2.1f, 0.2f, 1.1f, 1.7f, 0.3f, 2.8f, 1.4f, 0.9f};

std::vector<uint32_t>
Codes(const std::vector<uint8_t>& blob, size_t headerSize, uint64_t k, uint64_t n, unsigned b)
{
    std::vector<uint32_t> codes;
    BitReader r(blob.data() + headerSize + 4 * k, PackedBytes(n, b));
    for (uint64_t i = 0; i < n; ++i)
    {
        codes.push_back(r.Get(b));
    }
    return codes;
}

struct RoundTrip
{
    std::vector<uint8_t> blob;
    std::vector<float> y;
    Shape shape;
};

RoundTrip
Run(const CodecConfig& c, const std::vector<float>& x, const Shape& shape)
{
    auto codec = MakeCodec(c);
    Rng rng(1, "codec");
    RoundTrip r;
    codec->Encode(x.data(), shape, r.blob, rng);
    REQUIRE(r.blob.size() == codec->EncodedSize(shape));
    r.shape = codec->Decode(r.blob.data(), r.blob.size(), r.y);
    REQUIRE(r.shape == shape);
    return r;
}

CodecConfig
Ms(double sparsity, int bits)
{
    CodecConfig c;
    c.method = "ms";
    c.sparsity = sparsity;
    c.bits = bits;
    return c;
}

} // namespace

TEST_CASE("ms reproduces the paper's Fig. 1 example byte for byte", "[ms]")
{
    const Shape shape{4, 4};
    const RoundTrip r = Run(Ms(0.75, 2), FIG1, shape);
    // Header 20 bytes + 16 bytes of values + 4 bytes of codes: 20 bytes of payload (64 of fp32).
    REQUIRE(HeaderSize(2) == 20);
    REQUIRE(r.blob.size() == 40);
    const std::vector<uint8_t> expected
        = {0x53, 0x4C, 0x43, 0x31, 0x07, 0x02, 0x00, 0x02, 0x04, 0x00,
           0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, // header
           0xCD, 0xCC, 0x0C, 0x40, 0x66, 0x66, 0x46, 0x40, 0x66, 0x66, // 2.2 3.1 2.1 ...
           0x06, 0x40, 0x33, 0x33, 0x33, 0x40,                         // ... 2.8
           0x67, 0xB2, 0xA3, 0x6C};                                    // codes
    CHECK(r.blob == expected);
    CHECK(Codes(r.blob, 20, 4, 16, 2)
          == std::vector<uint32_t>{3, 1, 2, 1, 2, 0, 3, 2, 3, 0, 2, 2, 0, 3, 2, 1});
    const float l = 2.1f / 3.0f;
    const std::vector<float> recon
        = {2.2f, l, 2 * l, l, 2 * l, 0, 3.1f, 2 * l, 2.1f, 0, 2 * l, 2 * l, 0, 2.8f, 2 * l, l};
    CHECK(r.y == recon);
    CHECK(L2Error(FIG1.data(), r.y.data(), 16) == Approx(std::sqrt(1.05)).epsilon(1e-5));
    CHECK(std::round(L2Error(FIG1.data(), r.y.data(), 16) * 100) / 100 == Approx(1.02));

    // Plain top-4 (zeros elsewhere): L2 error 4.06.
    CodecConfig topk;
    topk.method = "topk";
    topk.sparsity = 0.75;
    const RoundTrip t = Run(topk, FIG1, shape);
    CHECK(L2Error(FIG1.data(), t.y.data(), 16) == Approx(std::sqrt(16.52)).epsilon(1e-5));
    CHECK(std::round(L2Error(FIG1.data(), t.y.data(), 16) * 100) / 100 == Approx(4.06));
}

TEST_CASE("ms floor option gives Algorithm 1's codes", "[ms]")
{
    // T = 3, L = 3: a * L / T = a exactly, so floor and round-half-even are easy to tell apart.
    const std::vector<float> x = {0.5f, 1.5f, 2.5f, 2.9f, 3.0f, 0.99f, 1.0f, 2.0f};
    const Shape shape{8};
    CodecConfig c = Ms(0.875, 2); // k = 1: the 3.0
    const RoundTrip round = Run(c, x, shape);
    const size_t hs = HeaderSize(1);
    CHECK(Codes(round.blob, hs, 1, 8, 2) == std::vector<uint32_t>{0, 2, 2, 2, 3, 1, 1, 2});
    c.floorCodes = true;
    const RoundTrip floor = Run(c, x, shape);
    CHECK(floor.blob[6] == FLAG_FLOOR);
    CHECK(Codes(floor.blob, hs, 1, 8, 2) == std::vector<uint32_t>{0, 1, 2, 2, 3, 0, 1, 2});
    CHECK(floor.y == std::vector<float>{0, 1, 2, 2, 3, 0, 1, 2});
}

TEST_CASE("ms edge cases", "[ms]")
{
    SECTION("all zeros: T = 0, the lowest-index zeros are sent, everything decodes to 0")
    {
        const std::vector<float> x(100, 0.0f);
        const RoundTrip r = Run(Ms(0.9, 2), x, Shape{100});
        CHECK(r.y == x);
        const auto codes = Codes(r.blob, HeaderSize(1), 10, 100, 2);
        for (size_t i = 0; i < 100; ++i)
        {
            CHECK(codes[i] == (i < 10 ? 3u : 0u));
        }
    }
    SECTION("ties at the threshold go to the lowest indices; the rest get code L - 1")
    {
        const std::vector<float> x = {0.5f, 1, 1, 1, 1, 0.25f, 2};
        const RoundTrip r = Run(Ms(1.0 - 3.0 / 7.0, 2), x, Shape{7}); // k = 3: 2, 1, 1
        const auto codes = Codes(r.blob, HeaderSize(1), 3, 7, 2);
        CHECK(codes == std::vector<uint32_t>{2, 3, 3, 2, 2, 1, 3});
        const float l = 1.0f / 3.0f;
        CHECK(r.y == std::vector<float>{2 * l, 1, 1, 2 * l, 2 * l, l, 2});
    }
    SECTION("k = 0 (sparsity 1): no values, every element decodes to 0")
    {
        const std::vector<float> x = {1, 2, 3, 4, 5};
        const RoundTrip r = Run(Ms(1.0, 3), x, Shape{5});
        CHECK(r.blob.size() == HeaderSize(1) + PackedBytes(5, 3));
        CHECK(r.y == std::vector<float>(5, 0.0f));
    }
    SECTION("k = n (sparsity 0): exact reconstruction")
    {
        const std::vector<float> x = {1, 0, 3, 0.5f, 5};
        const RoundTrip r = Run(Ms(0.0, 2), x, Shape{5});
        CHECK(r.y == x);
    }
    SECTION("threshold 0 with fewer positives than k: positives exact, rest 0")
    {
        const std::vector<float> x = {0, 0, 3, 0, 0, 0};
        const RoundTrip r = Run(Ms(0.5, 2), x, Shape{6}); // k = 3: 3, x[0], x[1]
        CHECK(r.y == x);
        CHECK(Codes(r.blob, HeaderSize(1), 3, 6, 2) == std::vector<uint32_t>{3, 3, 3, 0, 0, 0});
    }
    SECTION("empty tensor: header only, decodes to an empty tensor of the same shape")
    {
        const std::vector<float> x;
        const RoundTrip r = Run(Ms(0.99, 2), x, Shape{0, 64, 16, 16});
        CHECK(r.blob.size() == HeaderSize(4));
        CHECK(r.y.empty());
    }
    SECTION("scalar")
    {
        const std::vector<float> x = {2.5f};
        CHECK(Run(Ms(0.0, 2), x, Shape{}).y == x);
        CHECK(Run(Ms(0.99, 2), x, Shape{}).y == std::vector<float>{0.0f});
    }
    SECTION("negative input to the unsigned variant clamps to code 0")
    {
        const std::vector<float> x = {-1, 4, 2, -3};
        const RoundTrip r = Run(Ms(0.75, 2), x, Shape{4});
        const float l = 4.0f / 3.0f;
        CHECK(r.y == std::vector<float>{0, 4, 2 * l, 0});
    }
    SECTION("signed variant selects by |x| and restores signs")
    {
        const std::vector<float> x = {-1, 4, 2, -3, -0.5f, 0.25f};
        CodecConfig c = Ms(1.0 - 2.0 / 6.0, 2);
        c.signedValues = true;
        const RoundTrip r = Run(c, x, Shape{6}); // k = 2: 4, -3; T = 3, levels 0, 1, 2
        CHECK(r.blob.size() == HeaderSize(1) + 8 + PackedBytes(6, 2) + PackedBytes(6, 1));
        CHECK(r.y == std::vector<float>{-1, 4, 2, -3, -0.0f, 0});
        CHECK(std::signbit(r.y[4]));
    }
    SECTION("non-finite input is an InputError")
    {
        std::vector<float> x = {1, 2, NAN, 4};
        auto codec = MakeCodec(Ms(0.5, 2));
        Rng rng(1, "codec");
        std::vector<uint8_t> blob;
        CHECK_THROWS_AS(codec->Encode(x.data(), Shape{4}, blob, rng), InputError);
        x[2] = INFINITY;
        CHECK_THROWS_AS(codec->Encode(x.data(), Shape{4}, blob, rng), InputError);
        auto k0 = MakeCodec(Ms(1.0, 2));
        CHECK_THROWS_AS(k0->Encode(x.data(), Shape{4}, blob, rng), InputError);
    }
}

TEST_CASE("ms at the paper's setting costs 2.32 bits per element", "[ms]")
{
    const Shape shape{256, 64, 16, 16};
    auto codec = MakeCodec(Ms(0.99, 2));
    const uint64_t n = 256 * 64 * 16 * 16;
    const uint64_t k = n / 100; // 41943
    CHECK(codec->EncodedSize(shape) == HeaderSize(4) + 4 * k + n / 4);
    CHECK(8.0 * static_cast<double>(codec->EncodedSize(shape)) / n == Approx(2.32).epsilon(1e-4));
}

TEST_CASE("PackCodes writes what a bit-by-bit writer writes, for every width and length", "[ms]")
{
    for (unsigned bits = 1; bits <= 8; ++bits)
    {
        for (size_t count = 0; count <= 41; ++count)
        {
            std::vector<uint8_t> codes((count + 7) / 8 * 8, 0); // zeros up to a multiple of 8
            for (size_t i = 0; i < count; ++i)
            {
                codes[i] = static_cast<uint8_t>((i * 37 + bits * 11 + 5) % (1u << bits));
            }
            const size_t bytes = PackedBytes(count, bits);
            std::vector<uint8_t> expected(bytes + 4, 0);
            BitWriter w(expected.data());
            for (size_t i = 0; i < count; ++i)
            {
                w.Put(codes[i], bits);
            }
            w.Flush();
            std::vector<uint8_t> got(bytes + 4, 0xAB); // dirty; the 4 bytes after must stay
            PackCodes(codes.data(), count, bits, got.data());
            for (size_t j = bytes; j < bytes + 4; ++j)
            {
                expected[j] = 0xAB;
            }
            INFO("bits " << bits << ", count " << count);
            CHECK(got == expected);
        }
    }
}

TEST_CASE("ms fused encoder writes the two-pass encoder's bytes", "[ms]")
{
    // 2^18 + 5 elements: the fused pass (n >= 2^18) with a tail that is not a multiple of 8.
    const Shape shape{5, 52429};
    const uint64_t n = 5 * 52429;
    Rng rng(7, "ms-fused");
    uint64_t finished = 0;
    uint64_t missed = 0;
    for (int kind = 0; kind < 6; ++kind)
    {
        std::vector<float> x(n);
        for (uint64_t i = 0; i < n; ++i)
        {
            const double g = rng.Normal();
            switch (kind)
            {
            case 0: // post-ReLU
                x[i] = static_cast<float>(std::max(0.0, g));
                break;
            case 1: // signed
                x[i] = static_cast<float>(3 * g);
                break;
            case 2: // four distinct values: ties at T
                x[i] = static_cast<float>(rng.UniformInt(4)) * 0.5f;
                break;
            case 3: // mostly negative: T <= 0 for the by-value variant
                x[i] = static_cast<float>(g - 3);
                break;
            case 4:
                // The sample takes 16 of every 32 elements, the last one of the 32 only 1 time
                // in 17: large values there are under-sampled and the bounds miss T.
                x[i] = static_cast<float>(i % 32 == 31 ? 100 + std::fabs(g) : std::max(0.0, g));
                break;
            default: // ascending ramp with -0.0 and +0.0
                x[i] = i % 3 == 0 ? -0.0f : static_cast<float>(i) * 1e-3f;
                break;
            }
        }
        for (double sparsity : {0.99, 0.9, 0.5, 0.999})
        {
            for (int bits = 1; bits <= 4; ++bits)
            {
                for (int variant = 0; variant < 4; ++variant)
                {
                    MsCodec codec(sparsity, bits, (variant & 1) != 0, (variant & 2) != 0);
                    std::vector<uint8_t> fused;
                    std::vector<uint8_t> reference;
                    Rng unused(1, "codec");
                    codec.Encode(x.data(), shape, fused, unused);
                    codec.EncodeTwoPass(x.data(), shape, reference);
                    INFO("kind " << kind << " sparsity " << sparsity << " bits " << bits
                                 << " variant " << variant);
                    REQUIRE(fused == reference);
                }
            }
        }
        for (int variant = 0; variant < 4; ++variant)
        {
            // the counts, summed over a codec per variant at the paper's setting
            MsCodec codec(0.99, 2, (variant & 1) != 0, (variant & 2) != 0);
            std::vector<uint8_t> blob;
            Rng unused(1, "codec");
            codec.Encode(x.data(), shape, blob, unused);
            finished += codec.GetFusedStats().finished;
            missed += codec.GetFusedStats().missed;
        }
    }
#if defined(__AVX2__)
    // Both routes ran: the fused pass finished (post-ReLU, signed, ties) and missed (kind 4).
    CHECK(finished >= 8);
    CHECK(missed >= 1);
#else
    CHECK(finished + missed == 0); // AVX2 builds only
#endif
    // A NaN is refused by the fused pass as by the two-pass encoder.
    std::vector<float> bad(n, 1.0f);
    bad[n - 3] = NAN;
    MsCodec codec(0.99, 2, false, false);
    std::vector<uint8_t> blob;
    Rng unused(1, "codec");
    CHECK_THROWS_AS(codec.Encode(bad.data(), shape, blob, unused), InputError);
}
