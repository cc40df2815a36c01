// topk: the index formats and the automatic choice between them.
#include "compression/codec.h"
#include "compression/stream-store.h"
#include "compression/topk-codec.h"
#include "compression/wire-header.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

using namespace slsim;

TEST_CASE("topk worked example and index formats", "[topk]")
{
    const std::vector<float> x = {0.5f, -3, 0, 2};
    CodecConfig c;
    c.method = "topk";
    c.sparsity = 0.5;
    c.index = "bitmap";
    Rng rng(1, "codec");
    std::vector<uint8_t> blob;
    MakeCodec(c)->Encode(x.data(), Shape{4}, blob, rng);
    REQUIRE(blob.size() == 16 + 9);
    CHECK(std::vector<uint8_t>(blob.begin() + 16, blob.end())
          == std::vector<uint8_t>{0, 0, 0x40, 0xc0, 0, 0, 0, 0x40, 0x0a});
    std::vector<float> y;
    DecodeAny(blob.data(), blob.size(), y);
    CHECK(y == std::vector<float>{0, -3, 0, 2});

    c.index = "u32";
    MakeCodec(c)->Encode(x.data(), Shape{4}, blob, rng);
    REQUIRE(blob.size() == 16 + 16);
    CHECK(blob[6] == FLAG_U32_INDEX);
    CHECK(std::vector<uint8_t>(blob.begin() + 24, blob.end())
          == std::vector<uint8_t>{1, 0, 0, 0, 3, 0, 0, 0});
    DecodeAny(blob.data(), blob.size(), y);
    CHECK(y == std::vector<float>{0, -3, 0, 2});
}

TEST_CASE("topk index auto picks the smaller format", "[topk]")
{
    CodecConfig c;
    c.method = "topk";
    const Shape shape{256, 64, 16, 16};
    const uint64_t n = 256 * 64 * 16 * 16;
    c.sparsity = 0.99; // k = n / 100 > n / 32? no: u32 (8k) < bitmap (n/8 + 4k)
    const uint64_t k99 = KeepCount(n, 0.99);
    CHECK(MakeCodec(c)->EncodedSize(shape) == HeaderSize(4) + 8 * k99);
    c.sparsity = 0.95875; // the paper's SP: bitmap, 2.32 bits per element
    const uint64_t k = KeepCount(n, 0.95875);
    CHECK(MakeCodec(c)->EncodedSize(shape) == HeaderSize(4) + 4 * k + n / 8);
    CHECK(8.0 * MakeCodec(c)->EncodedSize(shape) / n == Approx(2.32).epsilon(1e-4));
    // The switch sits at k = n / 32.
    c.sparsity = 1.0 - 1.0 / 32;
    CHECK(MakeCodec(c)->EncodedSize(Shape{3200}) == HeaderSize(1) + 400 + 400);
}

TEST_CASE("topk bitmap decode equals zero-fill and scatter (vector, streamed and scalar paths)",
          "[topk]")
{
    // Random bitmaps with ~4 % of the bits set plus full and empty words, values with -0 and
    // subnormals; sizes in cache and streamed, a partial last word; into aligned and unaligned
    // outputs (the unaligned one takes the unstreamed loop).
    Rng rng(11, "topk-decode");
    for (uint64_t n : {uint64_t{64 * 100 + 37}, uint64_t{STREAM_MIN_BYTES / 4 + 37}})
    {
        INFO("n " << n);
        std::vector<uint8_t> bitmap((n + 7) / 8);
        std::vector<uint64_t> at;
        for (uint64_t i = 0; i < n; ++i)
        {
            const uint64_t word = i / 64;
            const bool set = word % 50 == 1 || (word % 50 != 2 && rng.Uniform() < 0.04);
            if (set)
            {
                bitmap[i / 8] = static_cast<uint8_t>(bitmap[i / 8] | (1u << (i % 8)));
                at.push_back(i);
            }
        }
        const uint64_t k = at.size();
        std::vector<float> values(k);
        for (uint64_t j = 0; j < k; ++j)
        {
            values[j] = j % 7 == 0   ? -0.0f
                        : j % 7 == 1 ? 1e-40f
                                     : static_cast<float>(rng.Uniform() - 0.5) * 100.0f;
        }
        std::vector<float> want(n, 0.0f);
        for (uint64_t j = 0; j < k; ++j)
        {
            want[at[j]] = values[j];
        }
        WireHeader h;
        h.codec = CodecId::TOPK;
        h.shape = Shape{static_cast<int64_t>(n)};
        h.n = n;
        h.k = k;
        std::vector<uint8_t> blob;
        WriteHeader(blob, h);
        const size_t payload = blob.size();
        blob.resize(payload + 4 * k);
        std::memcpy(blob.data() + payload, values.data(), 4 * k);
        blob.insert(blob.end(), bitmap.begin(), bitmap.end());
        std::vector<float> y;
        DecodeAny(blob.data(), blob.size(), y);
        REQUIRE(y.size() == n);
        CHECK(std::memcmp(y.data(), want.data(), 4 * n) == 0);
        std::vector<float> z(n + 1, 1.0f);
        DecodeTopKPayload(h, blob.data() + payload, z.data() + 1);
        CHECK(std::memcmp(z.data() + 1, want.data(), 4 * n) == 0);
        // one bit too many in an early word (found when the values run out), one too few
        uint8_t* bm = blob.data() + payload + 4 * k;
        uint64_t unset = 0;
        while (bm[unset / 8] & (1u << (unset % 8)))
        {
            ++unset;
        }
        bm[unset / 8] = static_cast<uint8_t>(bm[unset / 8] | (1u << (unset % 8)));
        CHECK_THROWS_WITH(DecodeAny(blob.data(), blob.size(), y),
                          Catch::Contains("more than k = " + std::to_string(k) + " bits set"));
        bm[unset / 8] = static_cast<uint8_t>(bm[unset / 8] & ~(1u << (unset % 8)));
        bm[at[0] / 8] = static_cast<uint8_t>(bm[at[0] / 8] & ~(1u << (at[0] % 8)));
        CHECK_THROWS_WITH(DecodeAny(blob.data(), blob.size(), y),
                          Catch::Contains(std::to_string(k - 1) + " bits set, expected k"));
    }
}
