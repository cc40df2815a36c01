// Decoders on hostile input: every truncated prefix, every single-byte header corruption,
// trailing bytes and random payload corruption end in a DecodeError or a well-formed tensor,
// never a crash (the libFuzzer targets in fuzz/ explore further under ASan/UBSan).
#include "common/error.h"
#include "compression/codec.h"
#include "compression/wire-header.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace slsim;

namespace
{

std::vector<std::pair<CodecConfig, std::vector<uint8_t>>>
ValidBlobs()
{
    std::vector<std::pair<CodecConfig, std::vector<uint8_t>>> blobs;
    Rng data(1, "data");
    std::vector<float> x(3 * 5 * 7);
    for (auto& v : x)
    {
        v = static_cast<float>(std::max(0.0, data.Normal()));
    }
    std::vector<CodecConfig> cs;
    for (const char* m : {"none", "fp16", "bf16"})
    {
        CodecConfig c;
        c.method = m;
        cs.push_back(c);
    }
    for (int b : {1, 3, 8, 13})
    {
        CodecConfig c;
        c.method = "quantize";
        c.bits = b;
        cs.push_back(c);
    }
    for (const char* m : {"topk", "randtopk"})
    {
        for (const char* idx : {"bitmap", "u32"})
        {
            CodecConfig c;
            c.method = m;
            c.index = idx;
            c.sparsity = 0.8;
            cs.push_back(c);
        }
    }
    for (int b : {1, 2, 3, 5, 8})
    {
        for (bool s : {false, true})
        {
            CodecConfig c;
            c.method = "ms";
            c.bits = b;
            c.sparsity = 0.9;
            c.signedValues = s;
            cs.push_back(c);
        }
    }
    for (const CodecConfig& c : cs)
    {
        std::vector<uint8_t> blob;
        Rng rng(2, "codec");
        MakeCodec(c)->Encode(x.data(), Shape{3, 5, 7}, blob, rng);
        blobs.emplace_back(c, blob);
    }
    return blobs;
}

/// Decodes; returns true on success, false on DecodeError (anything else fails the test).
bool
TryDecode(const std::vector<uint8_t>& blob, std::vector<float>& out)
{
    try
    {
        const Shape shape = DecodeAny(blob.data(), blob.size(), out, 4096);
        CHECK(out.size() == static_cast<size_t>(shape.Numel()));
        return true;
    }
    catch (const DecodeError& e)
    {
        CHECK(std::string(e.what()).rfind("decode: ", 0) == 0);
        return false;
    }
}

} // namespace

TEST_CASE("every truncated prefix of a valid blob is rejected", "[decode]")
{
    for (const auto& [config, blob] : ValidBlobs())
    {
        INFO(config.method << " bits " << config.bits << " index " << config.index);
        std::vector<float> out;
        REQUIRE(TryDecode(blob, out));
        for (size_t len = 0; len < blob.size(); ++len)
        {
            const std::vector<uint8_t> prefix(blob.begin(), blob.begin() + len);
            CHECK_FALSE(TryDecode(prefix, out));
        }
        std::vector<uint8_t> longer = blob;
        longer.push_back(0);
        CHECK_FALSE(TryDecode(longer, out));
        CHECK_THROWS_AS(DecodeAny(nullptr, 0, out), DecodeError);
    }
}

TEST_CASE("corrupted headers are rejected or decode to a well-formed tensor", "[decode]")
{
    uint64_t rejected = 0;
    uint64_t accepted = 0;
    for (const auto& [config, blob] : ValidBlobs())
    {
        INFO(config.method << " bits " << config.bits << " index " << config.index);
        const size_t headerSize = HeaderSize(3);
        for (size_t at = 0; at < headerSize; ++at)
        {
            for (int bit = 0; bit < 8; ++bit)
            {
                std::vector<uint8_t> bad = blob;
                bad[at] = static_cast<uint8_t>(bad[at] ^ (1u << bit));
                std::vector<float> out;
                if (TryDecode(bad, out))
                {
                    // Only fields that do not change the layout can survive: informative flags
                    // (floor, stochastic) and dims with the same product.
                    ++accepted;
                    CHECK((out.size() == 3 * 5 * 7 || config.index == "u32"));
                }
                else
                {
                    ++rejected;
                }
            }
        }
    }
    CHECK(rejected > 10 * accepted);
}

TEST_CASE("specific malformed payloads are rejected with clear messages", "[decode]")
{
    const auto blobs = ValidBlobs();
    auto find = [&](const std::string& method, const std::string& index, int bits, bool s) {
        for (const auto& [c, b] : blobs)
        {
            if (c.method == method && (index.empty() || c.index == index)
                && (bits == 0 || c.bits == bits) && c.signedValues == s)
            {
                return b;
            }
        }
        FAIL("no blob");
        return std::vector<uint8_t>();
    };
    std::vector<float> out;
    const size_t hs = HeaderSize(3);
    const uint64_t n = 105;
    SECTION("ms: an extra reserved code")
    {
        auto b = find("ms", "", 2, false);
        const uint64_t k = 10;
        // Set the first non-reserved code to 3.
        uint8_t* codes = b.data() + hs + 4 * k;
        for (uint64_t i = 0; i < n; ++i)
        {
            if (((codes[i / 4] >> (2 * (i % 4))) & 3) != 3)
            {
                codes[i / 4] = static_cast<uint8_t>(codes[i / 4] | (3 << (2 * (i % 4))));
                break;
            }
        }
        CHECK_THROWS_WITH(DecodeAny(b.data(), b.size(), out),
                          Catch::Contains("more codes equal to 3 than the k = 10"));
    }
    SECTION("ms: non-finite value")
    {
        auto b = find("ms", "", 2, false);
        b[hs + 3] = 0x7f;
        b[hs + 2] = 0xc0;
        CHECK_THROWS_WITH(DecodeAny(b.data(), b.size(), out), Catch::Contains("not finite"));
    }
    SECTION("ms: non-zero padding")
    {
        auto b = find("ms", "", 3, false); // 105 * 3 = 315 bits: 5 padding bits
        b.back() = static_cast<uint8_t>(b.back() | 0x80);
        CHECK_THROWS_WITH(DecodeAny(b.data(), b.size(), out), Catch::Contains("padding"));
    }
    SECTION("topk: unsorted u32 indices")
    {
        auto b = find("topk", "u32", 0, false);
        const uint64_t k = 21;
        uint8_t* idx = b.data() + hs + 4 * k;
        std::swap(idx[0], idx[4]);
        std::swap(idx[1], idx[5]);
        CHECK_THROWS_WITH(DecodeAny(b.data(), b.size(), out),
                          Catch::Contains("not strictly increasing"));
    }
    SECTION("topk: bitmap with a bit too many")
    {
        auto b = find("topk", "bitmap", 0, false);
        const uint64_t k = 21;
        uint8_t* bm = b.data() + hs + 4 * k;
        for (uint64_t i = 0; i < n; ++i)
        {
            if (!(bm[i / 8] & (1 << (i % 8))))
            {
                bm[i / 8] = static_cast<uint8_t>(bm[i / 8] | (1 << (i % 8)));
                break;
            }
        }
        CHECK_THROWS_WITH(DecodeAny(b.data(), b.size(), out),
                          Catch::Contains("more than k = 21 bits set"));
    }
    SECTION("quantize: min > max")
    {
        auto b = find("quantize", "", 3, false);
        b[hs + 3] = 0x7f; // min becomes huge
        CHECK_THROWS_WITH(DecodeAny(b.data(), b.size(), out), Catch::Contains("min <= max"));
    }
    SECTION("header: huge claimed shape is rejected before allocating")
    {
        std::vector<uint8_t> b = {0x53, 0x4C, 0x43, 0x31, 1,    0,    0, 2, 0xff, 0xff,
                                  0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0,    0};
        CHECK_THROWS_WITH(DecodeAny(b.data(), b.size(), out),
                          Catch::Contains("2^32 or more elements"));
        b = {0x53, 0x4C, 0x43, 0x31, 1, 0, 0, 1, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
        CHECK_THROWS_WITH(DecodeAny(b.data(), b.size(), out),
                          Catch::Contains("payload must be 8589934588 bytes, got 0"));
    }
}

TEST_CASE("a blob claiming a tensor above the limit is rejected before allocating", "[decode]")
{
    // topk with u32 indices and k = 1: 8 bytes of payload whatever n is.
    std::vector<uint8_t> b
        = {0x53, 0x4C, 0x43, 0x31, 5, 0, FLAG_U32_INDEX, 1,    0xff, 0xff, 0xff, 0xff,
           1,    0,    0,    0,    0, 0, 0x80,           0x3f, 7,    0,    0,    0};
    std::vector<float> out;
    CHECK_THROWS_WITH(DecodeAny(b.data(), b.size(), out),
                      Catch::Contains("4294967295 elements exceed the decoder's limit"));
    CHECK(out.capacity() == 0);
    b[8] = 100;
    b[9] = b[10] = b[11] = 0;
    DecodeAny(b.data(), b.size(), out);
    CHECK(out.size() == 100);
    CHECK(out[7] == 1.0f);
}

TEST_CASE("random payload corruption never crashes", "[decode]")
{
    Rng rng(4, "corrupt");
    uint64_t trials = 0;
    for (const auto& [config, blob] : ValidBlobs())
    {
        for (int t = 0; t < 200; ++t)
        {
            std::vector<uint8_t> bad = blob;
            const int flips = 1 + static_cast<int>(rng.UniformInt(4));
            for (int f = 0; f < flips; ++f)
            {
                bad[rng.UniformInt(bad.size())] ^= static_cast<uint8_t>(1 + rng.UniformInt(255));
            }
            std::vector<float> out;
            if (TryDecode(bad, out))
            {
                // A changed shape survives only where the layout does not depend on n (u32).
                CHECK((out.size() == 105 || config.index == "u32"));
            }
            ++trials;
        }
    }
    CHECK(trials > 1000);
}
